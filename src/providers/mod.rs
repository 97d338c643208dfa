//! One module per backend family.

pub mod crunchycone;
pub mod local;
pub mod s3;
