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

impl UploadOptions {
    /// The key to store under: the one given, else the original's generated shape.
    pub fn key_at(&self, now_ms: i64) -> String {
        match &self.key {
            Some(k) => k.clone(),
            None => crate::keys::generate(&self.external_id, self.filename.as_deref(), now_ms),
        }
    }

    /// The content type given, else the one the file name (or, without one, the key) implies.
    pub fn content_type_for(&self, key: &str) -> String {
        let name = self.filename.as_deref().unwrap_or(key);
        self.content_type.clone().unwrap_or_else(|| crate::content_type::from_name(name).to_string())
    }
}
