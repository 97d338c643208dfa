//! What `uploadFile` is asked to store, as every provider receives it from JS, and the [`Upload`]
//! that the source is then streamed into.

use bytes::Bytes;
use futures::StreamExt;
use napi_derive::napi;

use crate::error::{Error, Result};
use crate::listing::{FileRecord, Metadata};

#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct UploadOptions {
    #[napi(js_name = "external_id")]
    pub external_id: String,
    pub key: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub public: Option<bool>,
    #[napi(ts_type = "Record<string, string>")]
    pub metadata: Option<Metadata>,
    /// Bytes to expect, when known (needed by backends that must declare the length up front).
    pub size: Option<f64>,
    /// The bucket asked for (backends with a bucket refuse any other).
    pub bucket: Option<String>,
    /// Multipart uploads: how many parts may be on the wire at once (1 to 64).
    pub parts_in_flight: Option<f64>,
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

/// An upload in progress, as every backend's uploads work: chunks are written in order (or a
/// local file copied in), then `finish` stores the file, or `abort` discards what was written.
#[async_trait::async_trait]
pub trait Upload: Send + 'static {
    async fn write(&mut self, chunk: Bytes) -> Result<()>;

    /// Streams the file at `path` into the upload.
    async fn copy_from(&mut self, path: &str) -> Result<()> {
        let file = tokio::fs::File::open(path).await.map_err(|e| Error::io(format!("Failed to open {path}"), e))?;
        let mut frames = tokio_util::io::ReaderStream::with_capacity(file, self.copy_frame());
        while let Some(frame) = frames.next().await {
            self.write(frame.map_err(|e| Error::io("Failed to read file", e))?).await?;
        }
        Ok(())
    }

    /// The size of the reads `copy_from` writes in.
    fn copy_frame(&self) -> usize {
        1 << 20
    }

    /// Stores the file; on failure what was written is discarded.
    async fn finish(self: Box<Self>) -> Result<FileRecord>;

    /// Discards what was written.
    async fn abort(self: Box<Self>);

    /// How a failure of this upload reads: the words before its cause and after it (the
    /// original's differ by backend).
    fn failure_words(&self) -> (String, String) {
        ("Failed to upload file: ".into(), String::new())
    }
}
