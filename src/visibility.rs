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
    /// A URL, or `null` where the original passed a server's `null` through (CrunchyCone).
    #[napi(ts_type = "string | null")]
    pub public_url: Option<serde_json::Value>,
    /// When `public_url` stops working (Azure's SAS URLs), in epoch ms.
    pub public_url_expires_at_ms: Option<f64>,
    pub message: Option<String>,
    pub provider_specific: Option<serde_json::Value>,
}

impl VisibilityResult {
    /// A result without a public URL or provider details. Its message may quote a server's error, so
    /// it is redacted as errors are.
    pub fn new(requested_public: bool, success: bool, actual_public: bool, message: impl Into<String>) -> Self {
        VisibilityResult {
            success,
            requested_visibility: visibility_name(requested_public).to_string(),
            actual_visibility: visibility_name(actual_public).to_string(),
            public_url: None,
            public_url_expires_at_ms: None,
            message: Some(crate::redact::redact(&message.into())),
            provider_specific: None,
        }
    }
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
