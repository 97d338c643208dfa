//! One module per backend family.

pub mod azure;
pub mod bucket;
pub mod crunchycone;
pub mod gcs;
pub mod local;
pub mod s3;
