//! One module per backend family, each implementing [`crate::provider::Provider`]. The object
//! stores (S3, GCS, Azure) are services of the shared [`bucket`] provider; no module here imports
//! a sibling except those services importing `bucket`.

pub mod azure;
pub mod bucket;
pub mod crunchycone;
pub mod gcs;
pub mod local;
pub mod s3;
