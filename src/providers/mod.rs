//! One module per backend family.

// First: the object stores add their factories to its `BucketStore`, and napi-derive must have
// seen the struct before any `#[napi] impl` of it.
pub mod bucket;

pub mod azure;
pub mod crunchycone;
pub mod gcs;
pub mod local;
pub mod s3;
