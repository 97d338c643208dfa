//! Uploads through the CrunchyCone API: a descriptor record, then the bytes streamed
//! to its presigned URL as JS writes them (constant memory, any source), then completion. An
//! upload that fails after the descriptor exists deletes it, so no half record is left behind.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::Api;
use crate::error::{Error, Result};
use crate::listing::FileRecord;
use crate::upload::{Upload, UploadOptions};

type Frame = std::result::Result<Bytes, std::io::Error>;

#[derive(Deserialize)]
struct Descriptor {
    file_id: String,
    upload_url: String,
}

/// An upload in progress (see [`Upload`]); aborting it removes the record.
pub struct CrunchyConeUpload {
    api: Arc<Api>,
    options: UploadOptions,
    /// The key the file is stored under (given or generated).
    file_path: String,
    file_id: String,
    expected: u64,
    sent: u64,
    tx: Option<mpsc::Sender<Frame>>,
    put: JoinHandle<Result<()>>,
}

fn mismatch(expected: u64, got: u64) -> Error {
    Error::InvalidInput(format!("Content-Length mismatch: expected {expected}, got {got}"))
}

/// Creates the descriptor and starts the PUT, whose body is fed by `write()`.
pub async fn begin(api: Arc<Api>, options: UploadOptions) -> Result<CrunchyConeUpload> {
    let size = match options.size {
        Some(s) if s.is_finite() && s >= 0.0 && s.fract() == 0.0 => s as u64,
        Some(s) => return Err(Error::InvalidInput(format!("Invalid size {s}: expected a non-negative integer"))),
        None => return Err(Error::InvalidInput("File size must be provided when uploading from stream".into())),
    };
    let file_path = options.key_at(chrono::Utc::now().timestamp_millis());
    crate::keys::validate(&file_path)?;
    let content_type = options.content_type_for(&file_path);
    // The original's descriptor, fields in its order.
    let body = json!({
        "project_id": api.cfg.project_id,
        "file_path": file_path,
        "original_filename": options.filename.as_deref().unwrap_or("untitled"),
        "content_type": content_type,
        "file_size": size,
        "external_id": options.external_id,
        "visibility": if options.public == Some(true) { "public" } else { "private" },
        "metadata": options.metadata.clone().map_or(json!({}), |m| json!(m)),
    });
    let reply = api.call(Method::POST, "/api/v1/storage/files", Some(body)).await?;
    let d: Descriptor = serde_json::from_value(reply.get("data").cloned().unwrap_or(Value::Null))
        .map_err(|e| Error::Provider(format!("Unexpected CrunchyCone API response for the upload descriptor: {e}")))?;
    let (tx, rx) = mpsc::channel::<Frame>(4);
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    let put_api = api.clone();
    let put = tokio::spawn(async move {
        let resp = put_api
            .http
            .put(&d.upload_url)
            .header(CONTENT_TYPE, content_type)
            .header(CONTENT_LENGTH, size)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|e| put_api.transport_error("Upload to presigned URL failed", e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        Err(Error::Provider(format!(
            "Upload to presigned URL failed: Status: {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )))
    });
    Ok(CrunchyConeUpload { api, options, file_path, file_id: d.file_id, expected: size, sent: 0, tx: Some(tx), put })
}

impl CrunchyConeUpload {
    async fn send(&mut self, bytes: Bytes) -> Result<()> {
        // Nothing to send; an empty file's PUT (Content-Length: 0) may be over already.
        if bytes.is_empty() {
            return Ok(());
        }
        self.sent += bytes.len() as u64;
        if self.sent > self.expected {
            return Err(mismatch(self.expected, self.sent));
        }
        let tx = self.tx.as_ref().expect("open until finish");
        // The upload is timed by progress: a chunk the server does not take within `timeout` fails
        // it, however long the whole transfer takes.
        match tokio::time::timeout(self.api.timeout(), tx.send(Ok(bytes))).await {
            Ok(Ok(())) => Ok(()),
            Err(_) => Err(self.stalled()),
            // The PUT ended early: its error says why.
            Ok(Err(_)) => Err(match (&mut self.put).await {
                Ok(Err(e)) => e,
                _ => Error::Provider("Upload to presigned URL failed: the connection closed".into()),
            }),
        }
    }

    fn stalled(&self) -> Error {
        Error::Timeout(format!("Upload to presigned URL made no progress for {}ms", self.api.cfg.timeout_ms))
    }

    async fn complete(mut self) -> Result<FileRecord> {
        self.tx = None;
        if self.sent != self.expected {
            return Err(mismatch(self.expected, self.sent));
        }
        let answer = tokio::time::timeout(self.api.timeout(), &mut self.put).await.map_err(|_| self.stalled())?;
        answer.map_err(|e| Error::Provider(format!("Upload task failed: {e}")))??;
        let path = format!("/api/v1/storage/files/{}/complete", self.file_id);
        self.api.call(Method::POST, &path, Some(json!({ "actual_file_size": self.sent }))).await?;
        let meta = self.api.record(&self.file_id).await?;
        let url = self.api.signed_url(&self.file_id, None, false).await?;
        let mut record = meta.record(&self.api.cfg.api_url);
        record.external_id = self.options.external_id.clone();
        record.url = url;
        Ok(record)
    }

    /// Stops the transfer and deletes the record (best effort: the API may refuse).
    async fn discard(self) {
        self.put.abort();
        let path = format!("/api/v1/storage/files/{}", self.file_id);
        let _ = self.api.call(Method::DELETE, &path, None).await;
    }
}

#[async_trait::async_trait]
impl Upload for CrunchyConeUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.send(chunk).await
    }

    fn copy_frame(&self) -> usize {
        256 * 1024
    }

    /// Completes the upload; on failure the record is deleted.
    async fn finish(self: Box<Self>) -> Result<FileRecord> {
        let (api, file_id) = (self.api.clone(), self.file_id.clone());
        match self.complete().await {
            Ok(r) => Ok(r),
            Err(e) => {
                let _ = api.call(Method::DELETE, &format!("/api/v1/storage/files/{file_id}"), None).await;
                Err(e)
            }
        }
    }

    async fn abort(self: Box<Self>) {
        self.discard().await;
    }

    /// The original's words: the file's name (or external id), and where it was going.
    fn failure_words(&self) -> (String, String) {
        let o = &self.options;
        let name = o.filename.as_deref().filter(|f| !f.is_empty());
        let name = name.or(Some(o.external_id.as_str()).filter(|id| !id.is_empty())).unwrap_or("unknown");
        (
            format!("Upload failed for file \"{name}\": "),
            format!(" (external_id: {}, file_path: {})", o.external_id, self.file_path),
        )
    }
}
