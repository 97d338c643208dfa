//! S3 and the S3-compatible services (spec §3.4), on `object_store`'s AmazonS3 client.
//!
//! external_id lives where the original keeps it, in the object's user metadata
//! (`x-amz-meta-external_id`), so buckets are shared both ways. S3 cannot query metadata, so every
//! upload also writes a small index object under [`INDEX`] naming the key of its external id: a
//! lookup reads it and checks the object's metadata (two requests). Objects without one (written
//! by the original) are found by the original's scan, after which an index object is written for
//! them too.

mod config;
mod raw;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use napi_derive::napi;
use object_store::aws::AmazonS3;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{Attribute, Attributes, GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt, PutPayload};
use percent_encoding::utf8_percent_encode;
use serde_json::json;

use self::config::{S3Config, Settings};
use self::upload::S3Upload;
use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult, Metadata};
use crate::range::{RangeRequest, Requested, Resolved};
use crate::stream::{Body, NativeStream, Opened, Opener};
use crate::visibility::{parse_visibility, visibility_name, VisibilityResult, VisibilityStatus};

/// Where this library keeps its own objects (left out of listings, refused as keys).
const INDEX_ROOT: &str = ".crunchycone-storage/";
/// The external-id index objects.
const INDEX: &str = ".crunchycone-storage/external-ids";
/// Metadata entries the original recognises as the external id; the first is what it writes.
const EXTERNAL_ID_KEYS: [&str; 2] = ["external_id", "external-id"];
/// Objects examined at once when a listing or a scan needs each one's metadata.
const HEADS_IN_FLIGHT: usize = 16;
/// S3's longest presigned URL lifetime (7 days).
const MAX_EXPIRY_SECS: f64 = 604_800.0;

/// The bucket and its clients, shared by the store and its uploads.
pub struct Bucket {
    settings: Settings,
    /// Small requests: HEAD, delete, index objects.
    store: AmazonS3,
    /// Streamed reads, without a time limit: the consumer sets their pace.
    reader: AmazonS3,
    /// Uploads, with the configured default ACL.
    writer: AmazonS3,
    /// Raw requests (ACLs, listings).
    http: reqwest::Client,
}

/// An object's metadata, as a HEAD (or the headers of a GET) reports it.
struct Head {
    meta: object_store::ObjectMeta,
    attributes: Attributes,
}

impl Head {
    fn of(r: &GetResult) -> Head {
        Head { meta: r.meta.clone(), attributes: r.attributes.clone() }
    }

    fn external_id(&self) -> Option<&str> {
        self.attributes.iter().find_map(|(k, v)| match k {
            Attribute::Metadata(name) if EXTERNAL_ID_KEYS.contains(&name.as_ref()) => Some(v.as_ref()),
            _ => None,
        })
    }

    fn attribute(&self, which: &Attribute) -> Option<String> {
        self.attributes.get(which).map(|v| v.to_string())
    }
}

/// What `*ByExternalId` and plain methods address.
enum Target {
    Key(String),
    ExternalId(String),
}

impl Target {
    fn new(value: String, by_external_id: bool) -> Target {
        if by_external_id {
            Target::ExternalId(value)
        } else {
            Target::Key(value)
        }
    }

    fn not_found(&self) -> String {
        match self {
            Target::Key(k) => format!("File with key {k} not found"),
            Target::ExternalId(id) => format!("File with external_id {id} not found"),
        }
    }
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

/// The index object of an external id: one path segment, percent-encoded (`None` for ids that
/// cannot name one, such as the empty id).
fn index_path(external_id: &str) -> Option<Path> {
    // `.` is escaped too, so no id becomes a `.` or `..` segment.
    const NAME: &percent_encoding::AsciiSet = &config::SEGMENT.add(b'.');
    let name = utf8_percent_encode(external_id, NAME);
    Path::parse(format!("{INDEX}/{name}")).ok().filter(|p| p.parts().count() == 3)
}

/// An `object_store` failure in the crate's terms, the message after `context: `. object_store
/// copies S3's error document into its message whole; only its Code and Message are kept (for a
/// signature error the document echoes the access key id and what was signed).
fn storage_error(context: &str, e: object_store::Error) -> Error {
    let text = crate::error::with_causes(&e);
    let message = match text.find("<?xml").or_else(|| text.find("<Error>")) {
        Some(i) => {
            let head = text[..i].trim_end().trim_end_matches(':');
            format!("{context}: {head}: {}", raw::summary(&text[i..]).unwrap_or_default())
        }
        None => format!("{context}: {}", text.trim_end_matches([':', ' '])),
    };
    match e {
        object_store::Error::NotFound { .. } => Error::NotFound(message),
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            Error::Unauthorized(message)
        }
        _ => Error::Provider(message),
    }
}

impl Bucket {
    fn new(c: &S3Config) -> Result<Bucket> {
        let settings = Settings::new(c)?;
        let store = settings.store(Some(config::SMALL_REQUEST), None)?;
        let reader = settings.store(None, None)?;
        let writer = settings.store(Some(config::UPLOAD_REQUEST), settings.default_acl.as_deref())?;
        let http = reqwest::Client::builder()
            .connect_timeout(config::CONNECT)
            .timeout(config::SMALL_REQUEST)
            .build()
            .map_err(|e| Error::Provider(format!("Failed to create the HTTP client: {e}")))?;
        Ok(Bucket { settings, store, reader, writer, http })
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
            url: self.settings.public_url(key),
            size: h.meta.size as f64,
            content_type: h
                .attribute(&Attribute::ContentType)
                .unwrap_or_else(|| crate::content_type::DEFAULT.to_string()),
            last_modified_ms: Some(h.meta.last_modified.timestamp_millis() as f64),
            etag: h.meta.e_tag.clone(),
            metadata: Some(metadata),
            visibility: None,
            public_url: None,
        }
    }

    /// HEAD `key`; `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<Head>> {
        let options = GetOptions { head: true, ..Default::default() };
        match self.store.get_opts(&path(key)?, options).await {
            Ok(r) => Ok(Some(Head::of(&r))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error("Failed to read object metadata", e)),
        }
    }

    /// The key an index object names for `external_id`, unverified. An entry that is missing,
    /// refused (credentials limited to some prefixes) or not a key is a miss; a failing service is
    /// an error, not a reason to scan the bucket.
    async fn indexed_key(&self, external_id: &str) -> Result<Option<String>> {
        let Some(index) = index_path(external_id) else { return Ok(None) };
        let context = "Failed to read the external id index";
        let bytes = match self.store.get(&index).await {
            Ok(r) => r.bytes().await.map_err(|e| storage_error(context, e))?,
            Err(object_store::Error::NotFound { .. } | object_store::Error::PermissionDenied { .. }) => {
                return Ok(None)
            }
            Err(e) => return Err(storage_error(context, e)),
        };
        Ok(String::from_utf8(bytes.to_vec()).ok().filter(|key| path(key).is_ok()))
    }

    /// Points the index at `key` for `external_id`. The index only speeds lookups up (a missing
    /// or stale entry falls back to the scan), so failing to write it fails nothing.
    async fn index(&self, external_id: &str, key: &str) {
        if let Some(index) = index_path(external_id) {
            let _ = self.store.put(&index, PutPayload::from(Bytes::copy_from_slice(key.as_bytes()))).await;
        }
    }

    /// The stored objects whose keys start with `prefix`, in key order after `after`, with each
    /// one's metadata. Objects that cannot be read (deleted since the listing, refused, keys no
    /// method could address) are left out, as the original's scan skipped them.
    fn records(self: &Arc<Self>, prefix: Option<&str>, after: Option<&str>) -> BoxStream<'static, Result<FileRecord>> {
        enum Next {
            First(Option<String>),
            Token(String),
            Done,
        }
        let bucket = self.clone();
        let prefix = prefix.unwrap_or("").to_string();
        let keys = futures::stream::try_unfold(Next::First(after.map(str::to_string)), move |next| {
            let (bucket, prefix) = (bucket.clone(), prefix.clone());
            async move {
                let page = match &next {
                    Next::First(after) => {
                        raw::list(&bucket.http, &bucket.settings, &prefix, after.as_deref(), None).await?
                    }
                    Next::Token(t) => raw::list(&bucket.http, &bucket.settings, &prefix, None, Some(t)).await?,
                    Next::Done => return Ok(None),
                };
                let next = page.next.map_or(Next::Done, Next::Token);
                Ok(Some((futures::stream::iter(page.keys.into_iter().map(Ok)), next)))
            }
        });
        let bucket = self.clone();
        keys.try_flatten()
            .try_filter(|key: &String| std::future::ready(!key.starts_with(INDEX_ROOT)))
            .map_ok(move |key| {
                let bucket = bucket.clone();
                async move {
                    match bucket.head(&key).await {
                        Ok(head) => Ok(head.map(|h| bucket.record(&key, &h))),
                        Err(Error::NotFound(_) | Error::InvalidKey { .. } | Error::Unauthorized(_)) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .try_buffered(HEADS_IN_FLIGHT)
            .try_filter_map(|r| std::future::ready(Ok(r)))
            .boxed()
    }

    /// The object with `external_id`: through the index, else by scanning the bucket. The empty id
    /// names nothing (objects without an external id must not match it).
    async fn find(self: &Arc<Self>, external_id: &str) -> Result<Option<FileRecord>> {
        if external_id.is_empty() {
            return Ok(None);
        }
        let indexed = self.indexed_key(external_id).await?;
        if let Some(key) = &indexed {
            if let Some(h) = self.head(key).await? {
                if h.external_id() == Some(external_id) {
                    return Ok(Some(self.record(key, &h)));
                }
            }
        }
        let found = self.scan(external_id).await?;
        match &found {
            Some(r) => self.index(external_id, &r.key).await,
            None if indexed.is_some() => {
                if let Some(index) = index_path(external_id) {
                    let _ = self.store.delete(&index).await;
                }
            }
            None => {}
        }
        Ok(found)
    }

    /// The original's lookup: every object's metadata, in key order, until one matches.
    async fn scan(self: &Arc<Self>, external_id: &str) -> Result<Option<FileRecord>> {
        let mut records = self.records(None, None);
        while let Some(r) = records.try_next().await? {
            if r.external_id == external_id {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The key a target names (`None` when no object has the external id), and whether the lookup
    /// already saw the object exist.
    async fn locate(self: &Arc<Self>, target: &Target) -> Result<Option<(String, bool)>> {
        match target {
            Target::Key(k) => {
                path(k)?;
                Ok(Some((k.clone(), false)))
            }
            Target::ExternalId(id) => Ok(self.find(id).await?.map(|r| (r.key, true))),
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

    async fn delete(self: &Arc<Self>, target: Target) -> Result<()> {
        let located = self.locate(&target).await?;
        let (key, _) = located.ok_or_else(|| Error::NotFound(target.not_found()))?;
        self.store.delete(&path(&key)?).await.map_err(|e| storage_error("Failed to delete file", e))?;
        if let Target::ExternalId(id) = &target {
            if let Some(index) = index_path(id) {
                let _ = self.store.delete(&index).await;
            }
        }
        Ok(())
    }

    /// A presigned GET URL (`response-content-disposition` when asked), without an existence check.
    async fn url(
        self: &Arc<Self>,
        target: Target,
        expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> Result<String> {
        let secs = expires_in.unwrap_or(3600.0);
        if !((1.0..=MAX_EXPIRY_SECS).contains(&secs) && secs.fract() == 0.0) {
            return Err(Error::InvalidInput(format!(
                "Invalid expiresIn {secs}: expected a whole number of seconds from 1 to {MAX_EXPIRY_SECS}"
            )));
        }
        let located = self.locate(&target).await?;
        let (key, _) = located.ok_or_else(|| Error::NotFound(target.not_found()))?;
        let mut options = SignedUrlOptions::default();
        if let Some(d) = disposition.filter(|d| !d.is_empty()) {
            let d = if d == "inline" { "inline" } else { "attachment" };
            options.extra_query.push(("response-content-disposition".into(), d.into()));
        }
        let url = self
            .store
            .signed_url_opts(http::Method::GET, &path(&key)?, Duration::from_secs(secs as u64), &options)
            .await
            .map_err(|e| Error::Provider(format!("Failed to generate file URL: {e}")))?;
        Ok(url.to_string())
    }

    async fn set_visibility(self: &Arc<Self>, target: &Target, public: bool) -> VisibilityResult {
        let requested = visibility_name(public).to_string();
        let result = |success: bool, actual: bool, message: String| VisibilityResult {
            success,
            requested_visibility: requested.clone(),
            actual_visibility: visibility_name(actual).to_string(),
            public_url: None,
            message: Some(message),
            provider_specific: None,
        };
        let failed = |e: Error| result(false, false, format!("Failed to change file visibility: {e}"));
        let key = match self.existing(target).await {
            Ok(Some(key)) => key,
            Ok(None) => return result(false, false, target.not_found()),
            Err(e) => return failed(e),
        };
        let canned = if public { "public-read" } else { "private" };
        let reply = match raw::acl(&self.http, &self.settings, &key, Some(canned)).await {
            Ok(reply) => reply,
            Err(e) => return failed(e),
        };
        if reply.ok() && public {
            VisibilityResult {
                public_url: Some(self.settings.public_url(&key)),
                provider_specific: Some(json!({ "aclApplied": true })),
                ..result(true, true, "File is now publicly accessible via direct URL.".into())
            }
        } else if reply.ok() {
            result(true, false, "File is now private and requires authentication.".into())
        } else if reply.code() == "InvalidRequest" || reply.describe().contains("ACL") {
            result(
                false,
                false,
                "ACLs are disabled on this bucket. Use bucket policies for access control instead.".into(),
            )
        } else {
            failed(Error::Provider(reply.describe()))
        }
    }

    async fn get_visibility(self: &Arc<Self>, target: &Target) -> Result<VisibilityStatus> {
        let fail = |e: Error| e.prefixed("Failed to check file visibility");
        let key = self.existing(target).await.map_err(fail)?.ok_or_else(|| match target {
            // As in the original, only the by-key miss is reported wrapped.
            Target::Key(_) => fail(Error::NotFound(target.not_found())),
            Target::ExternalId(_) => Error::NotFound(target.not_found()),
        })?;
        let reply = raw::acl(&self.http, &self.settings, &key, None).await.map_err(fail)?;
        let status = |public: bool, can_change: bool, message: &str| VisibilityStatus {
            visibility: visibility_name(public).to_string(),
            public_url: public.then(|| self.settings.public_url(&key)),
            can_make_public: can_change,
            can_make_private: can_change,
            supports_temporary_access: true,
            message: Some(message.to_string()),
        };
        Ok(if reply.ok() && reply.grants_public_read() {
            status(true, true, "File is publicly accessible via direct URL.")
        } else if !reply.ok() && reply.code() == "InvalidRequest" {
            status(false, false, "ACLs are disabled on this bucket. File visibility managed by bucket policies.")
        } else {
            status(false, true, "File is private. Use setFileVisibility to make it public or generate signed URLs for temporary access.")
        })
    }

    /// GET `key` (or the requested part of it). A range past the end is reported with the size.
    async fn get(&self, key: &str, req: Option<Requested>) -> Result<Option<GetResult>> {
        let range = req.map(|r| match r.end {
            Some(end) => GetRange::Bounded(r.start..end + 1),
            None => GetRange::Offset(r.start),
        });
        match self.reader.get_opts(&path(key)?, GetOptions { range, ..Default::default() }).await {
            Ok(r) => Ok(Some(r)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            // S3 answers 416 to a range past the end: say so in the shared words.
            Err(e) => match (req, self.head(key).await) {
                (Some(r), Ok(Some(h))) if r.start >= h.meta.size => Err(r.resolve(h.meta.size).unwrap_err()),
                _ => Err(storage_error("Failed to create file stream", e)),
            },
        }
    }

    /// Opens a target for streaming. By external id, the object's GET itself confirms the index
    /// entry (its headers carry the metadata), so a hit costs two requests.
    async fn open(self: Arc<Self>, target: Target, req: Option<Requested>) -> Result<Opened> {
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
                    None => match self.find(id).await? {
                        Some(found) => (found.key.clone(), self.get(&found.key, req).await?),
                        None => (String::new(), None),
                    },
                }
            }
        };
        let r = got.ok_or_else(|| Error::NotFound(target.not_found()))?;
        let head = Head::of(&r);
        let range = Resolved {
            start: r.range.start,
            length: r.range.end - r.range.start,
            total: r.meta.size,
            partial: req.is_some(),
        };
        let record = self.record(&key, &head);
        let body = r.into_stream().map_err(|e| storage_error("Failed to read file stream", e)).boxed();
        Ok(Opened {
            range,
            content_type: record.content_type,
            last_modified_ms: record.last_modified_ms,
            etag: record.etag,
            cache_control: head.attribute(&Attribute::CacheControl),
            extra: Some(json!({ "bucket": self.settings.bucket, "key": key })),
            body: Body::Async(body),
        })
    }

    /// One page of a listing. Unsorted listings page in S3's key order, examining only what the
    /// page needs (the continuation token is the last key returned); sorted ones read everything,
    /// then sort and page by offset.
    async fn list(self: &Arc<Self>, o: ListOptions, search: bool) -> Result<ListResult> {
        let prefix = if search { None } else { o.prefix.as_deref() };
        if o.sort_by.is_some() {
            listing::validate(&o)?;
            let all: Vec<FileRecord> = self.records(prefix, None).try_collect().await?;
            return listing::query(all, &o, search);
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
}

/// The native half of `S3CompatibleProvider`. A bad configuration is reported by every call, as
/// the original reports it on first use.
#[napi]
pub struct S3Store {
    bucket: std::result::Result<Arc<Bucket>, String>,
}

impl S3Store {
    fn bucket(&self) -> Result<Arc<Bucket>> {
        self.bucket.clone().map_err(Error::InvalidInput)
    }
}

#[napi]
impl S3Store {
    #[napi(constructor)]
    pub fn new(config: S3Config) -> Self {
        S3Store { bucket: Bucket::new(&config).map(Arc::new).map_err(|e| e.to_string()) }
    }

    /// The bucket uploads go to (the original's `options.bucket` may only name this one).
    #[napi(getter)]
    pub fn bucket_name(&self) -> Option<String> {
        self.bucket.as_ref().ok().map(|b| b.settings.bucket.clone())
    }

    #[napi]
    pub async fn begin_upload(&self, options: crate::upload::UploadOptions) -> napi::Result<S3Upload> {
        Ok(upload::begin(self.bucket()?, options).map_err(|e| e.prefixed("Failed to upload file"))?)
    }

    #[napi]
    pub async fn delete(&self, id: String, by_external_id: bool) -> napi::Result<()> {
        Ok(self.bucket()?.delete(Target::new(id, by_external_id)).await?)
    }

    #[napi]
    pub async fn url(
        &self,
        id: String,
        by_external_id: bool,
        expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> napi::Result<String> {
        Ok(self.bucket()?.url(Target::new(id, by_external_id), expires_in, disposition).await?)
    }

    /// Whether `key` exists. Only "not found" answers false; other failures are reported.
    #[napi]
    pub async fn exists(&self, key: String) -> napi::Result<bool> {
        let bucket = self.bucket()?;
        let head = bucket.head(&key).await.map_err(|e| e.prefixed("Failed to check file existence"))?;
        Ok(head.is_some())
    }

    #[napi]
    pub async fn find(&self, external_id: String) -> napi::Result<Option<FileRecord>> {
        Ok(self.bucket()?.find(&external_id).await.map_err(|e| e.prefixed("Failed to find file"))?)
    }

    #[napi]
    pub async fn list(&self, options: ListOptions, search: bool) -> napi::Result<ListResult> {
        Ok(self.bucket()?.list(options, search).await?)
    }

    /// Sets each key's (or external id's) ACL in turn; every key is checked before any changes.
    #[napi]
    pub async fn set_visibility(
        &self,
        ids: Vec<String>,
        by_external_id: bool,
        visibility: String,
    ) -> napi::Result<Vec<VisibilityResult>> {
        let public = parse_visibility(&visibility)?;
        let bucket = self.bucket()?;
        if !by_external_id {
            for key in &ids {
                path(key)?;
            }
        }
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            results.push(bucket.set_visibility(&Target::new(id, by_external_id), public).await);
        }
        Ok(results)
    }

    #[napi]
    pub async fn get_visibility(&self, id: String, by_external_id: bool) -> napi::Result<VisibilityStatus> {
        Ok(self.bucket()?.get_visibility(&Target::new(id, by_external_id)).await?)
    }

    /// A stream handle; checks the range now, all I/O happens in `open()`.
    #[napi]
    pub fn stream(
        &self,
        id: String,
        by_external_id: bool,
        start: Option<f64>,
        end: Option<f64>,
    ) -> napi::Result<NativeStream> {
        let bucket = self.bucket()?;
        let req = RangeRequest { start, end }.check()?;
        let target = Target::new(id, by_external_id);
        if let Target::Key(key) = &target {
            path(key)?;
        }
        Ok(NativeStream::new(Opener::Async(Box::pin(bucket.open(target, req)))))
    }
}
