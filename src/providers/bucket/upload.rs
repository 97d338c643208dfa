//! Uploads from any source, in constant memory: bytes gather into parts of one size (8 MiB, or
//! what fits a known size into the service's most parts; R2 requires equal parts); an object that
//! fits in one part is sent with a single PUT, a larger one as a multipart upload (S3 and GCS
//! multipart, Azure blocks) with at most `partsInFlight` parts ([`PARTS_IN_FLIGHT`] unless given)
//! on the wire while the next one fills. A failed or aborted multipart upload is aborted, which removes its parts.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{Attribute, Attributes, MultipartUpload, ObjectStore, PutMultipartOptions, PutOptions, PutPayload};
use tokio::task::JoinSet;

use super::{path, storage_error, Bucket};
use crate::error::{Error, Result};
use crate::listing::FileRecord;
use crate::provider::Target;
use crate::upload::{Upload, UploadOptions};

/// Bytes per part (S3 and GCS want at least 5 MiB for all but the last).
const PART_SIZE: usize = 8 * 1024 * 1024;

/// The size of each part for an upload of `size` bytes (when known): 8 MiB, or more when the
/// service's `max_parts` parts of 8 MiB would not hold it.
fn part_size(size: Option<u64>, max_parts: u64) -> usize {
    size.map_or(PART_SIZE, |s| PART_SIZE.max(s.div_ceil(max_parts) as usize))
}

/// Parts on the wire at once unless `partsInFlight` says otherwise. Two keep an upload's peak
/// memory under 64 MiB (each 8 MiB part is held by the upload and the HTTP client while it is
/// sent); on a network where one connection carries far less than the store takes, more go
/// faster (see the README's figures).
const PARTS_IN_FLIGHT: usize = 2;

/// An upload in progress (see [`Upload`]).
pub struct BucketUpload {
    bucket: Arc<Bucket>,
    options: UploadOptions,
    path: Path,
    content_type: String,
    attributes: Attributes,
    /// Bytes not yet sent, and how many.
    pending: VecDeque<Bytes>,
    pending_len: usize,
    part_size: usize,
    multipart: Option<Box<dyn MultipartUpload>>,
    /// Parts on the wire, each its own task so it moves while the next one fills.
    parts: JoinSet<object_store::Result<()>>,
    parts_sent: u64,
    max_parts: u64,
    parts_in_flight: usize,
    sent: u64,
}

/// Checks the options and prepares the upload; nothing is sent until the first part fills.
pub fn begin(bucket: Arc<Bucket>, options: UploadOptions) -> Result<BucketUpload> {
    // Objects always go to the configured bucket, where every other method looks for them.
    if let Some(asked) = options.bucket.as_deref().filter(|b| !b.is_empty() && *b != bucket.service.bucket()) {
        return Err(Error::InvalidInput(format!(
            "bucket \"{asked}\" is not this provider's bucket \"{}\"",
            bucket.service.bucket()
        )));
    }
    if let Some(s) = options.size {
        if !(s.is_finite() && s >= 0.0 && s.fract() == 0.0) {
            return Err(Error::InvalidInput(format!("Invalid size {s}: expected a non-negative integer")));
        }
    }
    let parts_in_flight = match options.parts_in_flight {
        None => PARTS_IN_FLIGHT,
        Some(n) => crate::config::count(n, 1..=64)
            .ok_or_else(|| Error::InvalidInput(format!("Invalid partsInFlight {n}: expected 1 to 64")))?,
    };
    let key = options.key_at(chrono::Utc::now().timestamp_millis());
    let path = path(&key)?;
    let content_type = options.content_type_for(&key);
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.clone().into());
    // The caller's metadata, then external_id, which wins (as in the original).
    for (name, value) in options.metadata.iter().flatten() {
        if name != "external_id" {
            bucket.service.check_metadata(name, value)?;
            attributes.insert(Attribute::Metadata(name.clone().into()), value.clone().into());
        }
    }
    if options.external_id.is_empty() {
        return Err(Error::InvalidInput("external_id must not be empty".into()));
    }
    bucket.service.check_metadata("external_id", &options.external_id)?;
    attributes.insert(Attribute::Metadata("external_id".into()), options.external_id.clone().into());
    let max_parts = bucket.service.max_parts();
    let part_size = part_size(options.size.map(|s| s as u64), max_parts);
    Ok(BucketUpload {
        bucket,
        options,
        path,
        content_type,
        attributes,
        pending: VecDeque::new(),
        pending_len: 0,
        part_size,
        multipart: None,
        parts: JoinSet::new(),
        parts_sent: 0,
        max_parts,
        parts_in_flight,
        sent: 0,
    })
}

fn mismatch(expected: u64, got: u64) -> Error {
    Error::InvalidInput(format!("Content-Length mismatch: expected {expected}, got {got}"))
}

impl BucketUpload {
    fn expected(&self) -> Option<u64> {
        self.options.size.map(|s| s as u64)
    }

    async fn push(&mut self, bytes: Bytes) -> Result<()> {
        self.sent += bytes.len() as u64;
        if let Some(expected) = self.expected().filter(|&e| self.sent > e) {
            return Err(mismatch(expected, self.sent));
        }
        self.pending_len += bytes.len();
        self.pending.push_back(bytes);
        // A part is sent once more than a part's worth is pending, so an object of exactly one
        // part still goes in a single PUT.
        while self.pending_len > self.part_size {
            if self.parts_sent == self.max_parts {
                return Err(Error::InvalidInput(format!(
                    "An upload holds at most {} parts of {} bytes; give size for larger streams",
                    self.max_parts, self.part_size
                )));
            }
            self.send_part(self.part_size).await?;
        }
        Ok(())
    }

    /// Takes the first `n` pending bytes (splitting a chunk if needed).
    fn take(&mut self, n: usize) -> PutPayload {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            let first = self.pending.front_mut().expect("n bytes are pending");
            if first.len() <= left {
                left -= first.len();
                out.extend(self.pending.pop_front());
            } else {
                out.push(first.split_to(left));
                left = 0;
            }
        }
        self.pending_len -= n;
        out.into_iter().collect()
    }

    /// Sends the first `n` pending bytes as the next part, starting the multipart upload on the
    /// first, and waits while too many parts are on the wire.
    async fn send_part(&mut self, n: usize) -> Result<()> {
        if self.multipart.is_none() {
            let options = PutMultipartOptions { attributes: self.attributes.clone(), ..Default::default() };
            let upload = self.bucket.clients.writer.put_multipart_opts(&self.path, options).await;
            self.multipart = Some(upload.map_err(|e| storage_error("Failed to start the multipart upload", e))?);
        }
        let payload = self.take(n);
        self.parts.spawn(self.multipart.as_mut().expect("started").put_part(payload));
        self.parts_sent += 1;
        while self.parts.len() >= self.parts_in_flight {
            self.next_part().await?;
        }
        Ok(())
    }

    async fn next_part(&mut self) -> Result<()> {
        match self.parts.join_next().await {
            Some(Ok(r)) => r.map_err(|e| storage_error("Failed to upload a part", e)),
            Some(Err(e)) => Err(Error::Provider(format!("Failed to upload a part: {e}"))),
            None => Ok(()),
        }
    }

    async fn complete(&mut self) -> Result<FileRecord> {
        if let Some(expected) = self.expected().filter(|&e| self.sent != e) {
            return Err(mismatch(expected, self.sent));
        }
        let put = if self.multipart.is_none() {
            let payload = self.take(self.pending_len);
            let options = PutOptions { attributes: self.attributes.clone(), ..Default::default() };
            self.bucket
                .clients
                .writer
                .put_opts(&self.path, payload, options)
                .await
                .map_err(|e| storage_error("Failed to store the object", e))?
        } else {
            if self.pending_len > 0 {
                self.send_part(self.pending_len).await?;
            }
            while !self.parts.is_empty() {
                self.next_part().await?;
            }
            let upload = self.multipart.as_mut().expect("started");
            let put =
                upload.complete().await.map_err(|e| storage_error("Failed to complete the multipart upload", e))?;
            self.multipart = None;
            put
        };
        let key = self.path.to_string();
        self.bucket.index(&self.options.external_id, &key).await;
        // `public: true` is applied after the upload, so a bucket that refuses ACLs still gets the
        // file; the result then says it is private.
        let service = &self.bucket.service;
        let (visibility, public_url) = if service.uploads_public() {
            ("public".to_string(), Some(service.public_url(&key)))
        } else if self.options.public == Some(true) {
            let r = self.bucket.change_visibility(&Target::Key(key.clone()), true).await;
            (r.actual_visibility, r.public_url.and_then(|u| u.as_str().map(str::to_string)))
        } else {
            ("private".to_string(), None)
        };
        Ok(FileRecord {
            external_id: self.options.external_id.clone(),
            url: service.public_url(&key),
            public_url,
            key,
            size: self.sent as f64,
            content_type: self.content_type.clone(),
            last_modified_ms: None,
            etag: put.e_tag,
            metadata: self.options.metadata.clone(),
            visibility: Some(visibility),
        })
    }

    /// Stops the parts in flight and aborts the multipart upload, which removes its parts.
    async fn discard(mut self) {
        self.parts.shutdown().await;
        if let Some(mut upload) = self.multipart.take() {
            let _ = upload.abort().await;
        }
    }
}

#[async_trait::async_trait]
impl Upload for BucketUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.push(chunk).await
    }

    /// Completes the upload; on failure what was sent is discarded.
    async fn finish(mut self: Box<Self>) -> Result<FileRecord> {
        match self.complete().await {
            Ok(r) => Ok(r),
            Err(e) => {
                let e = self.bucket.upgrade(e);
                self.discard().await;
                Err(e)
            }
        }
    }

    async fn abort(self: Box<Self>) {
        self.discard().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_fit_the_service_limit() {
        const GIB: u64 = 1 << 30;
        assert_eq!(part_size(None, 10_000), PART_SIZE);
        assert_eq!(part_size(Some(10 * GIB), 10_000), PART_SIZE);
        // 10,000 parts of 8 MiB hold 78.1 GiB; beyond, parts grow so that 10,000 still do.
        for size in [78 * GIB, 79 * GIB, 100 * GIB, 5 * 1024 * GIB, 10_000 * PART_SIZE as u64 + 1] {
            let part = part_size(Some(size), 10_000) as u64;
            assert!(size.div_ceil(part) <= 10_000, "{size}: {part}");
            assert!(part >= PART_SIZE as u64);
        }
        assert_eq!(part_size(Some(10_000 * PART_SIZE as u64 + 1), 10_000), PART_SIZE + 1);
        // Azure allows 50,000 blocks.
        assert_eq!(part_size(Some(100 * GIB), 50_000), PART_SIZE);
    }
}
