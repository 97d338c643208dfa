//! File visibility results, shared by every provider (`FileVisibilityResult`,
//! `FileVisibilityStatus`).

use napi_derive::napi;

use crate::error::{Error, Result};

pub fn visibility_name(public: bool) -> &'static str {
    if public {
        "public"
    } else {
        "private"
    }
}

pub fn parse_visibility(v: &str) -> Result<bool> {
    match v {
        "public" => Ok(true),
        "private" => Ok(false),
        _ => Err(Error::InvalidInput(format!("Invalid visibility {v:?}: expected \"public\" or \"private\""))),
    }
}

#[napi(object)]
pub struct VisibilityResult {
    pub success: bool,
    pub requested_visibility: String,
    pub actual_visibility: String,
    pub public_url: Option<String>,
    pub message: Option<String>,
    pub provider_specific: Option<serde_json::Value>,
}

#[napi(object)]
pub struct VisibilityStatus {
    pub visibility: String,
    pub public_url: Option<String>,
    pub can_make_public: bool,
    pub can_make_private: bool,
    pub supports_temporary_access: bool,
    pub message: Option<String>,
}
