//! Uploads to S3 from any source, in constant memory: bytes gather into parts of [`PART_SIZE`];
//! an object that fits in one part is sent with a single PUT, a larger one as a multipart upload
//! with at most [`PARTS_IN_FLIGHT`] parts on the wire. Aborting a multipart upload removes its
//! parts.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, MultipartUpload, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, UploadPart,
};

use super::{path, storage_error, Bucket};
use crate::error::{Error, Result};
use crate::listing::FileRecord;
use crate::upload::UploadOptions;

/// Bytes per part (S3 wants at least 5 MiB for all but the last).
const PART_SIZE: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

struct State {
    bucket: Arc<Bucket>,
    options: UploadOptions,
    path: Path,
    content_type: String,
    attributes: Attributes,
    /// Bytes not yet sent, and how many.
    pending: Vec<Bytes>,
    pending_len: usize,
    multipart: Option<Box<dyn MultipartUpload>>,
    parts: FuturesUnordered<UploadPart>,
    sent: u64,
}

/// An upload in progress: `write()` chunks or `copyFrom()` a path, then `finish()`; `abort()`
/// discards what was sent.
#[napi]
pub struct S3Upload {
    state: tokio::sync::Mutex<Option<State>>,
}

/// S3 carries metadata in HTTP headers: names must be tokens and values visible ASCII.
fn check_metadata(name: &str, value: &str) -> Result<()> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(Error::InvalidInput(format!("Invalid metadata name {name:?}: S3 allows letters, digits and -_.")));
    }
    if !value.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
        return Err(Error::InvalidInput(format!(
            "Invalid metadata value for {name:?}: S3 allows printable ASCII only"
        )));
    }
    Ok(())
}

/// Checks the options and prepares the upload; nothing is sent until the first part fills.
pub fn begin(bucket: Arc<Bucket>, options: UploadOptions) -> Result<S3Upload> {
    if let Some(s) = options.size {
        if !(s.is_finite() && s >= 0.0 && s.fract() == 0.0) {
            return Err(Error::InvalidInput(format!("Invalid size {s}: expected a non-negative integer")));
        }
    }
    let key = match &options.key {
        Some(k) => k.clone(),
        None => crate::keys::generate(
            &options.external_id,
            options.filename.as_deref(),
            chrono::Utc::now().timestamp_millis(),
        ),
    };
    let path = path(&key)?;
    let content_type = options
        .content_type
        .clone()
        .unwrap_or_else(|| crate::content_type::from_name(options.filename.as_deref().unwrap_or(&key)).to_string());
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.clone().into());
    // The caller's metadata, then external_id, which wins (as in the original).
    for (name, value) in options.metadata.iter().flatten() {
        if name != "external_id" {
            check_metadata(name, value)?;
            attributes.insert(Attribute::Metadata(name.clone().into()), value.clone().into());
        }
    }
    check_metadata("external_id", &options.external_id)?;
    attributes.insert(Attribute::Metadata("external_id".into()), options.external_id.clone().into());
    Ok(S3Upload {
        state: tokio::sync::Mutex::new(Some(State {
            bucket,
            options,
            path,
            content_type,
            attributes,
            pending: Vec::new(),
            pending_len: 0,
            multipart: None,
            parts: FuturesUnordered::new(),
            sent: 0,
        })),
    })
}

fn mismatch(expected: u64, got: u64) -> Error {
    Error::InvalidInput(format!("Content-Length mismatch: expected {expected}, got {got}"))
}

impl State {
    fn writer(&self) -> &object_store::aws::AmazonS3 {
        if self.options.public == Some(true) {
            &self.bucket.public_writer
        } else {
            &self.bucket.writer
        }
    }

    fn expected(&self) -> Option<u64> {
        self.options.size.map(|s| s as u64)
    }

    async fn write(&mut self, bytes: Bytes) -> Result<()> {
        self.sent += bytes.len() as u64;
        if let Some(expected) = self.expected().filter(|&e| self.sent > e) {
            return Err(mismatch(expected, self.sent));
        }
        self.pending_len += bytes.len();
        self.pending.push(bytes);
        if self.pending_len >= PART_SIZE {
            self.send_part().await?;
        }
        Ok(())
    }

    /// Sends what is pending as the next part, starting the multipart upload on the first.
    async fn send_part(&mut self) -> Result<()> {
        if self.multipart.is_none() {
            let options = PutMultipartOptions { attributes: self.attributes.clone(), ..Default::default() };
            let upload = self.writer().put_multipart_opts(&self.path, options).await;
            self.multipart = Some(upload.map_err(|e| storage_error("Failed to start the multipart upload", e))?);
        }
        let payload: PutPayload = self.pending.drain(..).collect();
        self.pending_len = 0;
        self.parts.push(self.multipart.as_mut().expect("started").put_part(payload));
        while self.parts.len() >= PARTS_IN_FLIGHT {
            self.next_part().await?;
        }
        Ok(())
    }

    async fn next_part(&mut self) -> Result<()> {
        match self.parts.next().await {
            Some(r) => r.map_err(|e| storage_error("Failed to upload a part", e)),
            None => Ok(()),
        }
    }

    async fn finish(&mut self) -> Result<FileRecord> {
        if let Some(expected) = self.expected().filter(|&e| self.sent != e) {
            return Err(mismatch(expected, self.sent));
        }
        let put = if self.multipart.is_none() {
            let payload: PutPayload = self.pending.drain(..).collect();
            let options = PutOptions { attributes: self.attributes.clone(), ..Default::default() };
            self.writer().put_opts(&self.path, payload, options).await.map_err(|e| storage_error("S3 PUT failed", e))?
        } else {
            if self.pending_len > 0 {
                self.send_part().await?;
            }
            while !self.parts.is_empty() {
                self.next_part().await?;
            }
            let upload = self.multipart.as_mut().expect("started");
            let put = upload.complete().await.map_err(|e| storage_error("Failed to complete the multipart upload", e));
            self.multipart = None;
            put?
        };
        let key = self.path.to_string();
        self.bucket.index(&self.options.external_id, &key).await;
        let public = self.options.public == Some(true);
        Ok(FileRecord {
            external_id: self.options.external_id.clone(),
            url: self.bucket.settings.public_url(&key),
            public_url: public.then(|| self.bucket.settings.public_url(&key)),
            key,
            size: self.sent as f64,
            content_type: self.content_type.clone(),
            last_modified_ms: None,
            etag: put.e_tag,
            metadata: self.options.metadata.clone(),
            visibility: Some(crate::visibility::visibility_name(public).to_string()),
        })
    }

    /// Stops the parts in flight and removes the multipart upload's parts.
    async fn discard(mut self) {
        self.parts.clear();
        if let Some(mut upload) = self.multipart.take() {
            let _ = upload.abort().await;
        }
    }
}

impl S3Upload {
    async fn with_state<T>(&self, f: impl AsyncFnOnce(&mut State) -> Result<T>) -> napi::Result<T> {
        let mut guard = self.state.lock().await;
        let state = guard.as_mut().ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?;
        Ok(f(state).await?)
    }
}

#[napi]
impl S3Upload {
    #[napi]
    pub async fn write(&self, chunk: Buffer) -> napi::Result<()> {
        self.with_state(async |s| s.write(Bytes::from_owner(chunk)).await).await
    }

    /// Streams a local file into the upload.
    #[napi]
    pub async fn copy_from(&self, path: String) -> napi::Result<()> {
        self.with_state(async |s| {
            let file =
                tokio::fs::File::open(&path).await.map_err(|e| Error::io(format!("Failed to open {path}"), e))?;
            let mut frames = tokio_util::io::ReaderStream::with_capacity(file, 1024 * 1024);
            while let Some(frame) = frames.next().await {
                s.write(frame.map_err(|e| Error::io("Failed to read file", e))?).await?;
            }
            Ok(())
        })
        .await
    }

    /// Completes the upload; on failure what was sent is discarded.
    #[napi]
    pub async fn finish(&self) -> napi::Result<FileRecord> {
        let state = self.state.lock().await.take();
        let mut state = state.ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?;
        match state.finish().await {
            Ok(r) => Ok(r),
            Err(e) => {
                state.discard().await;
                Err(e.into())
            }
        }
    }

    #[napi]
    pub async fn abort(&self) {
        if let Some(state) = self.state.lock().await.take() {
            state.discard().await;
        }
    }
}
