//! The provider for object stores: S3 and the S3-compatibles, Google Cloud Storage and Azure Blob
//! share everything here, on `object_store`'s clients. What differs per service (addresses,
//! listings, signed URLs, visibility, metadata rules) is a [`Service`] (`service.rs`), implemented
//! in `providers/{s3,gcs,azure}`; this module names none of them. The external-id index is in
//! `index.rs`, uploads in `upload.rs`.

mod index;
#[cfg(test)]
mod memory;
mod service;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{Attribute, GetOptions, GetRange, GetResult, ObjectStoreExt};
use serde_json::json;

use self::index::INDEX_ROOT;
use self::service::EXTERNAL_ID_KEYS;
pub use self::service::{
    check_header_metadata, client_options, retry, signed_get, storage_error, Clients, Head, Listed, Service,
};
use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult, Metadata};
use crate::parts::{self, Parallel};
use crate::provider::{Provider, Target};
use crate::range::{Requested, Resolved};
use crate::stream::{Body, Opened, Opener};
use crate::upload::{Upload, UploadOptions};
use crate::visibility::{VisibilityResult, VisibilityStatus};

/// Objects examined at once when a listing or a scan needs each one's metadata.
const HEADS_IN_FLIGHT: usize = 16;

/// A bucket of one service: the provider of the S3, GCS and Azure classes, shared by its uploads.
pub struct Bucket {
    service: Arc<dyn Service>,
    clients: Clients,
}

/// A key as an `object_store` path, after the shared key rules.
fn path(key: &str) -> Result<Path> {
    crate::keys::validate(key)?;
    if key.starts_with(INDEX_ROOT) {
        return Err(Error::InvalidKey {
            key: key.to_string(),
            reason: "keys under .crunchycone-storage/ are reserved",
        });
    }
    Path::parse(key)
        .map_err(|_| Error::InvalidKey { key: key.to_string(), reason: "keys must not contain control characters" })
}

/// The error for a target with no object: a key's is the service's 404 (to a GET or HEAD), an
/// external id's the index's answer.
fn missing(target: &Target) -> Error {
    Error::NotFound(target.not_found()).with_status(matches!(target, Target::Key(_)).then_some(404))
}

/// A GET's body, its failures in the crate's terms.
fn read_body(r: GetResult) -> BoxStream<'static, Result<bytes::Bytes>> {
    r.into_stream().map_err(|e| storage_error("Failed to read file stream", e)).boxed()
}

impl Bucket {
    /// `e` as `BucketNotFound` when it says the bucket itself is missing.
    fn upgrade(&self, e: Error) -> Error {
        let text = e.to_string();
        match e.kind() {
            Error::NotFound(_) | Error::Provider(_) if self.service.missing_bucket(&text) => {
                Error::BucketNotFound(text).with_status(e.status())
            }
            _ => e,
        }
    }

    /// The provider for a service's bucket (what each service's `connect` gives).
    pub fn provider((service, clients): (Arc<dyn Service>, Clients)) -> Arc<dyn Provider> {
        Arc::new(Bucket { service, clients })
    }

    fn record(&self, key: &str, h: &Head) -> FileRecord {
        let metadata: Metadata = h
            .attributes
            .iter()
            .filter_map(|(k, v)| match k {
                Attribute::Metadata(name) if !EXTERNAL_ID_KEYS.contains(&name.as_ref()) => {
                    Some((name.to_string(), v.to_string()))
                }
                _ => None,
            })
            .collect();
        FileRecord {
            external_id: h.external_id().unwrap_or_default().to_string(),
            key: key.to_string(),
            url: self.service.public_url(key),
            size: h.size as f64,
            content_type: h
                .attribute(&Attribute::ContentType)
                .unwrap_or_else(|| crate::content_type::DEFAULT.to_string()),
            last_modified_ms: Some(h.last_modified.timestamp_millis() as f64),
            etag: h.e_tag.clone(),
            metadata: Some(metadata),
            visibility: None,
            public_url: None,
        }
    }

    /// HEAD `key`; `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<Head>> {
        let options = GetOptions { head: true, ..Default::default() };
        let path = path(key)?;
        match self.clients.store.get_opts(&path, options).await {
            Ok(r) => Ok(Some(Head::of(&r))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e @ object_store::Error::PermissionDenied { .. }) => {
                // A HEAD's 403 has no body to say whether the credentials or the permission is
                // wrong: a GET of one byte is refused with the service's error code.
                let one = GetOptions { range: Some(GetRange::Bounded(0..1)), ..Default::default() };
                let e = match self.clients.store.get_opts(&path, one).await {
                    Err(g @ object_store::Error::PermissionDenied { .. }) => g,
                    _ => e,
                };
                Err(storage_error("Failed to read object metadata", e))
            }
            Err(e) => Err(storage_error("Failed to read object metadata", e)),
        }
    }

    /// The stored objects whose keys start with `prefix`, in key order after `after`, with each
    /// one's metadata (a HEAD each where the listing has none). Objects that cannot be read
    /// (deleted since the listing, refused) and keys no method could address are left out, as the
    /// original's scan skipped them.
    fn records(self: &Arc<Self>, prefix: Option<&str>, after: Option<&str>) -> BoxStream<'static, Result<FileRecord>> {
        let after = after.map(str::to_string);
        let listed = self.service.clone().list(prefix.unwrap_or("").to_string(), after.clone());
        let bucket = self.clone();
        let wanted = move |l: &Listed| {
            after.as_ref().is_none_or(|a| l.key > *a) && !l.key.starts_with(INDEX_ROOT) && path(&l.key).is_ok()
        };
        listed
            .try_filter(move |l| std::future::ready(wanted(l)))
            .map_ok(move |Listed { key, head }| {
                let bucket = bucket.clone();
                async move {
                    let head = match head {
                        Some(h) => Ok(Some(h)),
                        None => bucket.head(&key).await,
                    };
                    match head {
                        Ok(head) => Ok(head.map(|h| bucket.record(&key, &h))),
                        Err(e)
                            if matches!(
                                e.kind(),
                                Error::NotFound(_) | Error::Unauthorized(_) | Error::Forbidden(_)
                            ) =>
                        {
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    }
                }
            })
            .try_buffered(HEADS_IN_FLIGHT)
            .try_filter_map(|r| std::future::ready(Ok(r)))
            .boxed()
    }

    /// The key a target names (`None` when no object has the external id), and whether the lookup
    /// already saw the object exist.
    async fn locate(self: &Arc<Self>, target: &Target) -> Result<Option<(String, bool)>> {
        match target {
            Target::Key(k) => {
                path(k)?;
                Ok(Some((k.clone(), false)))
            }
            Target::ExternalId(id) => Ok(self.lookup(id).await?.map(|r| (r.key, true))),
            Target::FileId(_) => Ok(None),
        }
    }

    /// The key of an object that exists; `None` when there is none.
    async fn existing(self: &Arc<Self>, target: &Target) -> Result<Option<String>> {
        match self.locate(target).await? {
            Some((key, true)) => Ok(Some(key)),
            Some((key, false)) => Ok(self.head(&key).await?.map(|_| key)),
            None => Ok(None),
        }
    }

    /// GET `key` (or the requested part of it). A range past the end is reported with the size.
    async fn get(&self, key: &str, req: Option<Requested>) -> Result<Option<GetResult>> {
        let req = match req {
            // A service that cannot be asked for the last bytes is asked for their span.
            Some(suffix @ Requested::Suffix(_)) if !self.service.suffix_ranges() => match self.head(key).await? {
                Some(h) => Some(Requested::Span { start: suffix.resolve(h.size)?.start, end: None }),
                None => return Ok(None),
            },
            req => req,
        };
        let range = req.map(|r| match r {
            Requested::Span { start, end: Some(end) } => GetRange::Bounded(start..end + 1),
            Requested::Span { start, end: None } => GetRange::Offset(start),
            Requested::Suffix(n) => GetRange::Suffix(n),
        });
        match self.clients.reader.get_opts(&path(key)?, GetOptions { range, ..Default::default() }).await {
            Ok(r) => Ok(Some(r)),
            Err(e @ object_store::Error::NotFound { .. }) => {
                match self.upgrade(storage_error("Failed to create file stream", e)) {
                    e if e.is_not_found() => Ok(None),
                    e => Err(e),
                }
            }
            // The services answer 416 to a range past the end: say so in the shared words.
            Err(e) => match (req, self.head(key).await) {
                (Some(r), Ok(Some(h))) => {
                    Err(r.resolve(h.size).err().unwrap_or_else(|| storage_error("Failed to create file stream", e)))
                }
                _ => Err(storage_error("Failed to create file stream", e)),
            },
        }
    }

    /// How the parts of a parallel read of `key` are fetched: ranged GETs pinned to the first
    /// response's ETag (a 412 is `Conflict`).
    fn part_fetcher(&self, key: String) -> parts::Fetch {
        let reader = self.clients.reader.clone();
        Arc::new(move |span: std::ops::Range<u64>, etag: String| {
            let (reader, key) = (reader.clone(), key.clone());
            Box::pin(async move {
                let options =
                    GetOptions { range: Some(GetRange::Bounded(span)), if_match: Some(etag), ..Default::default() };
                let r = reader.get_opts(&path(&key)?, options).await.map_err(|e| match e {
                    object_store::Error::Precondition { .. } => parts::changed(),
                    e => storage_error("Failed to read file stream", e),
                })?;
                Ok(parts::Part { etag: r.meta.e_tag.clone(), body: read_body(r) })
            })
        })
    }

    /// One page of a listing. Unsorted listings page in key order, examining only what the page
    /// needs (the continuation token is the last key returned); sorted ones read everything, then
    /// sort and page by offset.
    async fn list_page(self: &Arc<Self>, o: ListOptions, search: bool) -> Result<ListResult> {
        let prefix = if search { None } else { o.prefix.as_deref() };
        if o.sort_by.is_some() {
            listing::validate(&o)?;
            let all: Vec<FileRecord> = self.records(prefix, None).try_collect().await?;
            return listing::query(all, &o, search, listing::Collation::CodeUnit);
        }
        listing::validate_paging(&o)?;
        let limit = listing::page_limit(&o)?;
        let token = o.continuation_token.as_deref().filter(|t| !t.is_empty());
        let offset = if token.is_some() { 0 } else { o.offset.unwrap_or(0.0) as usize };
        let mut records = self.records(prefix, token);
        let (mut files, mut skipped, mut has_more) = (Vec::new(), 0, false);
        while let Some(r) = records.try_next().await? {
            if !listing::matches(&r, &o, search) {
                continue;
            }
            if skipped < offset {
                skipped += 1;
            } else if files.len() == limit {
                has_more = true;
                break;
            } else {
                files.push(r);
            }
        }
        let next_token = has_more.then(|| files.last().map(|f: &FileRecord| f.key.clone())).flatten();
        Ok(ListResult {
            files: files.into_iter().map(|f| listing::shape(f, &o)).collect(),
            total_count: None,
            has_more,
            next_offset: (has_more && token.is_none()).then_some((offset + limit) as f64),
            continuation_token: next_token,
        })
    }

    /// Makes an object public or private; a failure is reported in the result.
    async fn change_visibility(self: &Arc<Self>, target: &Target, public: bool) -> VisibilityResult {
        let failed = |message: String| VisibilityResult::new(public, false, false, message);
        match self.existing(target).await {
            Ok(Some(key)) => match self.service.set_visibility(&key, public).await {
                Ok(result) => result,
                Err(e) => failed(format!("Failed to change file visibility: {e}")),
            },
            Ok(None) => failed(target.not_found()),
            Err(e) => failed(format!("Failed to change file visibility: {e}")),
        }
    }

    /// Opens a target for streaming. By external id, the object's GET itself confirms the index
    /// entry (its headers carry the metadata), so a hit costs two requests.
    async fn open_target(
        self: Arc<Self>,
        target: Target,
        req: Option<Requested>,
        parallel: Option<Parallel>,
    ) -> Result<Opened> {
        let (key, got) = match &target {
            Target::Key(key) => (key.clone(), self.get(key, req).await?),
            Target::ExternalId(id) => {
                let mut hit = None;
                if let Some(key) = self.indexed_key(id).await? {
                    match self.get(&key, req).await {
                        Ok(Some(r)) if Head::of(&r).external_id() == Some(id.as_str()) => hit = Some((key, r)),
                        // A stale entry: gone, another object, or one too small for the range.
                        Ok(_) | Err(Error::InvalidRange(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                match hit {
                    Some((key, r)) => (key, Some(r)),
                    None => match self.lookup(id).await? {
                        Some(found) => (found.key.clone(), self.get(&found.key, req).await?),
                        None => (String::new(), None),
                    },
                }
            }
            Target::FileId(_) => (String::new(), None),
        };
        let r = got.ok_or_else(|| missing(&target))?;
        let head = Head::of(&r);
        let range = Resolved {
            start: r.range.start,
            length: r.range.end - r.range.start,
            total: r.meta.size,
            partial: req.is_some(),
        };
        let record = self.record(&key, &head);
        let span = r.range.clone();
        let fetcher = || self.part_fetcher(key.clone());
        let body = parts::body(read_body(r), span, head.e_tag.as_deref(), parallel, fetcher);
        Ok(Opened {
            range,
            content_type: record.content_type,
            last_modified_ms: record.last_modified_ms,
            etag: record.etag,
            cache_control: head.attribute(&Attribute::CacheControl),
            extra: Some(json!({ "bucket": self.service.bucket(), "key": key })),
            body: Body::Async(body),
        })
    }
}

#[async_trait]
impl Provider for Bucket {
    fn check_key(&self, key: &str) -> Result<()> {
        path(key).map(|_| ())
    }

    async fn exists(self: Arc<Self>, key: String) -> Result<bool> {
        let head = self.head(&key).await.map_err(|e| e.prefixed("Failed to check file existence"))?;
        Ok(head.is_some())
    }

    async fn find(self: Arc<Self>, external_id: String) -> Result<Option<FileRecord>> {
        self.lookup(&external_id).await.map_err(|e| self.upgrade(e.prefixed("Failed to find file")))
    }

    async fn list(self: Arc<Self>, o: ListOptions, search: bool) -> Result<ListResult> {
        self.list_page(o, search).await.map_err(|e| self.upgrade(e))
    }

    /// Deletes a key (a missing one is no error, as on S3 and local disk) or the object of an
    /// external id (which must exist).
    async fn delete(self: Arc<Self>, target: Target) -> Result<()> {
        let located = self.locate(&target).await?;
        let (key, _) = located.ok_or_else(|| Error::NotFound(target.not_found()))?;
        match self.clients.store.delete(&path(&key)?).await {
            // Azure and GCS report a missing object; S3 does not.
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(storage_error("Failed to delete file", e)),
        }
        if let Target::ExternalId(id) = &target {
            self.unindex(id).await;
        }
        Ok(())
    }

    /// A signed GET URL (asking for a disposition when given), without an existence check.
    async fn url(
        self: Arc<Self>,
        target: Target,
        expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> Result<String> {
        let secs = expires_in.unwrap_or(3600.0);
        let max = self.service.max_expiry();
        if !((1.0..=max as f64).contains(&secs) && secs.fract() == 0.0) {
            return Err(Error::InvalidInput(format!(
                "Invalid expiresIn {secs}: expected a whole number of seconds from 1 to {max}"
            )));
        }
        let located = self.locate(&target).await?;
        let (key, _) = located.ok_or_else(|| Error::NotFound(target.not_found()))?;
        let disposition =
            disposition.filter(|d| !d.is_empty()).map(|d| if d == "inline" { "inline" } else { "attachment" });
        self.service
            .sign(&path(&key)?, Duration::from_secs(secs as u64), disposition)
            .await
            .map_err(|e| e.prefixed("Failed to generate file URL"))
    }

    async fn set_visibility(self: Arc<Self>, target: Target, public: bool) -> Result<VisibilityResult> {
        Ok(self.change_visibility(&target, public).await)
    }

    async fn get_visibility(self: Arc<Self>, target: Target) -> Result<VisibilityStatus> {
        let fail = |e: Error| e.prefixed("Failed to check file visibility");
        let key = self.existing(&target).await.map_err(fail)?.ok_or_else(|| match target {
            // As in the original, only the by-key miss is reported wrapped.
            Target::Key(_) => fail(missing(&target)),
            _ => Error::NotFound(target.not_found()),
        })?;
        self.service.get_visibility(&key).await.map_err(fail)
    }

    fn open(
        self: Arc<Self>,
        target: Target,
        range: Option<Requested>,
        _include_metadata: bool,
        parallel: Option<Parallel>,
    ) -> Opener {
        Opener::Async(Box::pin(async move {
            self.clone().open_target(target, range, parallel).await.map_err(|e| self.upgrade(e))
        }))
    }

    async fn begin_upload(self: Arc<Self>, options: UploadOptions) -> Result<Box<dyn Upload>> {
        let upload = upload::begin(self, options).map_err(|e| e.prefixed("Failed to upload file"))?;
        Ok(Box::new(upload))
    }

    fn bucket(&self) -> Option<&str> {
        Some(self.service.bucket())
    }
}
