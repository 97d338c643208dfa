//! The provider for object stores: S3 and the S3-compatibles, Google Cloud Storage and Azure Blob
//! share everything here, on `object_store`'s clients. What differs per service
//! (addresses, listings, signed URLs, visibility, metadata rules) is a [`Service`], in
//! `providers/{s3,gcs,azure}`.
//!
//! external_id lives where the original keeps it, in the object's user metadata
//! (`x-amz-meta-external_id`, `x-goog-meta-external_id`, `x-ms-meta-external_id`), so buckets are
//! shared both ways. Object stores cannot query metadata, so every upload also writes a small index
//! object under [`INDEX`] naming the key of its external id: a lookup reads it and checks the
//! object's metadata (two requests). Objects without one (written by the original) are found by the
//! original's scan, after which an index object is written for them too.

mod upload;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use napi_derive::napi;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;

pub use self::upload::BucketUpload;
use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult, Metadata};
use crate::range::{RangeRequest, Requested, Resolved};
use crate::stream::{Body, NativeStream, Opened, Opener};
use crate::visibility::{parse_visibility, VisibilityResult, VisibilityStatus};

/// Where this library keeps its own objects (left out of listings, refused as keys).
const INDEX_ROOT: &str = ".crunchycone-storage/";
/// The external-id index objects.
const INDEX: &str = ".crunchycone-storage/external-ids";
/// Metadata entries the original recognises as the external id; the first is what it writes.
const EXTERNAL_ID_KEYS: [&str; 2] = ["external_id", "external-id"];
/// Objects examined at once when a listing or a scan needs each one's metadata.
const HEADS_IN_FLIGHT: usize = 16;

/// How long to wait for a connection.
pub const CONNECT: Duration = Duration::from_secs(10);
/// The longest a small request (HEAD, listing page, ACL, index object) may take.
pub const SMALL_REQUEST: Duration = Duration::from_secs(30);
/// The longest one upload request (at most one part) may take: a part of 8 MiB must move at
/// 14 KB/s or better.
pub const UPLOAD_REQUEST: Duration = Duration::from_secs(600);

/// Everything but the unreserved characters is escaped in a key segment (what the signatures of
/// all three services expect).
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A key as a URL path: each segment percent-encoded, `/` kept.
pub fn encode_key(key: &str) -> String {
    key.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect::<Vec<_>>().join("/")
}

/// `name=value&…`, each value percent-encoded as [`SEGMENT`] says (`%20` for a space, as the SDKs
/// send it: a form-encoded `+` is ambiguous).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, SEGMENT))).collect::<Vec<_>>().join("&")
}

/// The client options every service's clients share: each request limited to `timeout` (`None`:
/// no limit, for reads whose pace the consumer sets), plain HTTP only for `http://` addresses.
pub fn client_options(url: &str, timeout: Option<Duration>) -> ClientOptions {
    let options = ClientOptions::new().with_allow_http(url.starts_with("http://")).with_connect_timeout(CONNECT);
    match timeout {
        Some(t) => options.with_timeout(t),
        None => options.with_timeout_disabled(),
    }
}

/// A client for the raw requests a service makes itself (listings, ACLs), with the limits of
/// small requests.
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT)
        .timeout(SMALL_REQUEST)
        .build()
        .map_err(|e| Error::Provider(format!("Failed to create the HTTP client: {e}")))
}

/// A refusal in the crate's terms: 401 and 403 are `Unauthorized`, the rest `Provider`.
pub fn refused(status: u16, message: String) -> Error {
    match status {
        401 | 403 => Error::Unauthorized(message),
        _ => Error::Provider(message),
    }
}

/// A paged listing as one stream: `fetch(None)` gives the first page, `fetch(Some(token))` the
/// page a token names; each page comes with the next page's token, if any. A service that hands
/// back the token it was given, or only empty pages, fails the listing instead of looping.
pub fn pages<F, Fut>(fetch: F) -> BoxStream<'static, Result<Listed>>
where
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(Vec<Listed>, Option<String>)>> + Send + 'static,
{
    /// Empty pages in a row accepted before giving up (services may return a few).
    const EMPTY_PAGES: u32 = 100;
    let stuck = || Error::Provider("Failed to list objects: the listing did not advance".into());
    futures::stream::try_unfold(Some((None, 0)), move |state: Option<(Option<String>, u32)>| {
        let page = state.map(|(token, empty)| (token.clone(), empty, fetch(token)));
        async move {
            let Some((token, empty, page)) = page else { return Ok(None) };
            let (listed, next) = page.await?;
            let empty = if listed.is_empty() { empty + 1 } else { 0 };
            if next.is_some() && (next == token || empty >= EMPTY_PAGES) {
                return Err(stuck());
            }
            Ok(Some((futures::stream::iter(listed.into_iter().map(Ok)), next.map(|t| (Some(t), empty)))))
        }
    })
    .try_flatten()
    .boxed()
}

/// Three quick retries (which also resume a body cut off mid-stream, however late), so a failing
/// service is reported within seconds, not the default three minutes.
pub fn retry() -> RetryConfig {
    RetryConfig { max_retries: 3, retry_timeout: Duration::from_secs(86_400), ..Default::default() }
}

/// What a service does its own way. Everything else is [`Bucket`]'s.
pub trait Service: Send + Sync + 'static {
    /// The bucket (or container) name.
    fn bucket(&self) -> &str;

    /// The URL of `key` without credentials (works for public objects, or through a CDN).
    fn public_url(&self, key: &str) -> String;

    /// The stored objects whose keys start with `prefix`, in key order, from `after` on when given
    /// (keys up to `after` are dropped by the caller, so a service that cannot start there may list
    /// from the start), with their metadata where the listing carries it. Every key as stored, even
    /// ones no method can address (object_store's listings fail whole pages on those).
    fn list(self: Arc<Self>, prefix: String, after: Option<String>) -> BoxStream<'static, Result<Listed>>;

    /// The longest lifetime of a signed URL, in seconds.
    fn max_expiry(&self) -> u64;

    /// A URL that reads `key` until `expires` from now, asking for `disposition` when given.
    fn sign<'a>(
        &'a self,
        key: &'a Path,
        expires: Duration,
        disposition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String>>;

    /// Makes an existing object public or private; an `Err` is reported as a failed result.
    fn set_visibility<'a>(&'a self, key: &'a str, public: bool) -> BoxFuture<'a, Result<VisibilityResult>>;

    /// The visibility of an existing object.
    fn get_visibility<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<VisibilityStatus>>;

    /// Refuses a metadata entry the service cannot store as given.
    fn check_metadata(&self, name: &str, value: &str) -> Result<()>;

    /// The most parts one multipart upload may have.
    fn max_parts(&self) -> u64;

    /// Whether new objects are public without asking (S3's `defaultACL: 'public-read'`).
    fn uploads_public(&self) -> bool {
        false
    }

    /// Whether the service answers suffix ranges (`bytes=-n`) itself.
    fn suffix_ranges(&self) -> bool {
        true
    }
}

/// A service's `object_store` clients, all for the same bucket.
pub struct Clients {
    /// Small requests: HEAD, delete, index objects.
    pub store: Arc<dyn ObjectStore>,
    /// Streamed reads, without a time limit: the consumer sets their pace.
    pub reader: Arc<dyn ObjectStore>,
    /// Uploads.
    pub writer: Arc<dyn ObjectStore>,
}

/// A bucket of one service, shared by the store and its uploads.
pub struct Bucket {
    service: Arc<dyn Service>,
    clients: Clients,
}

/// An object's metadata, as a HEAD, the headers of a GET, or a listing that carries metadata
/// (Azure, GCS) reports it.
pub struct Head {
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub e_tag: Option<String>,
    /// Content type, cache control and user metadata.
    pub attributes: Attributes,
}

/// One object of a listing: its key, and its metadata when the listing carries it.
pub struct Listed {
    pub key: String,
    pub head: Option<Head>,
}

impl Head {
    fn of(r: &GetResult) -> Head {
        Head {
            size: r.meta.size,
            last_modified: r.meta.last_modified,
            e_tag: r.meta.e_tag.clone(),
            attributes: r.attributes.clone(),
        }
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
    const NAME: &AsciiSet = &SEGMENT.add(b'.');
    let name = utf8_percent_encode(external_id, NAME);
    Path::parse(format!("{INDEX}/{name}")).ok().filter(|p| p.parts().count() == 3)
}

/// An `object_store` failure in the crate's terms, the message after `context: `. object_store
/// copies the service's error document into its message whole; only its Code and Message are kept
/// (for a signature error the document echoes the key id and what was signed).
pub fn storage_error(context: &str, e: object_store::Error) -> Error {
    let text = crate::error::with_causes(&e);
    let message = match text.find("<?xml").or_else(|| text.find("<Error>")) {
        Some(i) => {
            let head = text[..i].trim_end().trim_end_matches(':');
            format!("{context}: {head}: {}", crate::xml::summary(&text[i..]).unwrap_or_default())
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

/// Metadata travels in HTTP headers (`x-amz-meta-*`, `x-goog-meta-*`, `x-ms-meta-*`): names must
/// be tokens and values visible ASCII.
pub fn check_header_metadata(service: &str, name: &str, value: &str) -> Result<()> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(Error::InvalidInput(format!(
            "Invalid metadata name {name:?}: {service} allows letters, digits and -_."
        )));
    }
    if !value.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
        return Err(Error::InvalidInput(format!(
            "Invalid metadata value for {name:?}: {service} allows printable ASCII only"
        )));
    }
    Ok(())
}

/// A GET URL signed by `object_store`'s signer (S3, GCS), asking for `disposition` with the
/// `response-content-disposition` parameter both services take.
pub async fn signed_get(
    signer: &dyn Signer,
    key: &Path,
    expires: Duration,
    disposition: Option<&str>,
) -> Result<String> {
    let mut options = SignedUrlOptions::default();
    if let Some(d) = disposition {
        options.extra_query.push(("response-content-disposition".into(), d.into()));
    }
    let url = signer.signed_url_opts(http::Method::GET, key, expires, &options).await;
    Ok(url.map_err(|e| Error::Provider(crate::error::with_causes(&e)))?.to_string())
}

impl Bucket {
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
        match self.clients.store.get_opts(&path(key)?, options).await {
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
        let bytes = match self.clients.store.get(&index).await {
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
            let _ = self.clients.store.put(&index, PutPayload::from(Bytes::copy_from_slice(key.as_bytes()))).await;
        }
    }

    async fn unindex(&self, external_id: &str) {
        if let Some(index) = index_path(external_id) {
            let _ = self.clients.store.delete(&index).await;
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
                        Err(Error::NotFound(_) | Error::Unauthorized(_)) => Ok(None),
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
            None if indexed.is_some() => self.unindex(external_id).await,
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

    /// Deletes a key (a missing one is no error, as on S3 and local disk) or the object of an
    /// external id (which must exist).
    async fn delete(self: &Arc<Self>, target: Target) -> Result<()> {
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
        self: &Arc<Self>,
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

    async fn set_visibility(self: &Arc<Self>, target: &Target, public: bool) -> VisibilityResult {
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

    async fn get_visibility(self: &Arc<Self>, target: &Target) -> Result<VisibilityStatus> {
        let fail = |e: Error| e.prefixed("Failed to check file visibility");
        let key = self.existing(target).await.map_err(fail)?.ok_or_else(|| match target {
            // As in the original, only the by-key miss is reported wrapped.
            Target::Key(_) => fail(Error::NotFound(target.not_found())),
            Target::ExternalId(_) => Error::NotFound(target.not_found()),
        })?;
        self.service.get_visibility(&key).await.map_err(fail)
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
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            // The services answer 416 to a range past the end: say so in the shared words.
            Err(e) => match (req, self.head(key).await) {
                (Some(r), Ok(Some(h))) => {
                    Err(r.resolve(h.size).err().unwrap_or_else(|| storage_error("Failed to create file stream", e)))
                }
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
            extra: Some(json!({ "bucket": self.service.bucket(), "key": key })),
            body: Body::Async(body),
        })
    }

    /// One page of a listing. Unsorted listings page in key order, examining only what the page
    /// needs (the continuation token is the last key returned); sorted ones read everything, then
    /// sort and page by offset.
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

/// The native half of the S3, GCS and Azure provider classes, made by each service's factory
/// (`BucketStore.s3(config)`, …). A bad configuration is reported by every call, as the original
/// reports it on first use.
#[napi]
pub struct BucketStore {
    bucket: std::result::Result<Arc<Bucket>, String>,
}

impl BucketStore {
    /// A store for a service, or for the error its configuration gave.
    pub fn connect(service: Result<(Arc<dyn Service>, Clients)>) -> BucketStore {
        let bucket = service.map(|(service, clients)| Arc::new(Bucket { service, clients }));
        BucketStore { bucket: bucket.map_err(|e| e.to_string()) }
    }

    fn bucket(&self) -> Result<Arc<Bucket>> {
        self.bucket.clone().map_err(Error::InvalidInput)
    }
}

#[napi]
impl BucketStore {
    // The factories (`BucketStore.s3`, `.gcs`, `.azure`) live with their services: this module
    // names no concrete service.

    /// The bucket uploads go to (the original's `options.bucket` may only name this one).
    #[napi(getter)]
    pub fn bucket_name(&self) -> Option<String> {
        self.bucket.as_ref().ok().map(|b| b.service.bucket().to_string())
    }

    #[napi]
    pub async fn begin_upload(&self, options: crate::upload::UploadOptions) -> napi::Result<BucketUpload> {
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

    /// Sets each key's (or external id's) visibility in turn; every key is checked before any
    /// changes.
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
    pub fn stream(&self, id: String, by_external_id: bool, range: RangeRequest) -> napi::Result<NativeStream> {
        let bucket = self.bucket()?;
        let req = range.check()?;
        let target = Target::new(id, by_external_id);
        if let Target::Key(key) = &target {
            path(key)?;
        }
        Ok(NativeStream::new(Opener::Async(Box::pin(bucket.open(target, req)))))
    }
}
