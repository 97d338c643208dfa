//! What `uploadFile` is asked to store, as every provider receives it from JS (the source itself
//! is streamed separately).

use napi_derive::napi;

use crate::listing::Metadata;

#[napi(object, object_to_js = false)]
pub struct UploadOptions {
    #[napi(js_name = "external_id")]
    pub external_id: String,
    pub key: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub public: Option<bool>,
    pub metadata: Option<Metadata>,
    /// Bytes to expect, when known (needed by backends that must declare the length up front).
    pub size: Option<f64>,
}
