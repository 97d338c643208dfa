//! One module per backend family.

pub mod local;
