//! What a service (S3, GCS, Azure, …) gives the bucket provider: the [`Service`] trait for what it
//! does its own way, its `object_store` [`Clients`], and the helpers services build them with.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::{Attribute, Attributes, ClientOptions, GetResult, ObjectStore, RetryConfig};

use crate::error::{Error, Result};
use crate::http::CONNECT;
use crate::visibility::{VisibilityResult, VisibilityStatus};

/// Metadata entries the original recognises as the external id; the first is what it writes.
pub const EXTERNAL_ID_KEYS: [&str; 2] = ["external_id", "external-id"];

/// The client options every service's clients share: each request limited to `timeout` (`None`:
/// no limit, for reads whose pace the consumer sets), plain HTTP only for `http://` addresses.
pub fn client_options(url: &str, timeout: Option<Duration>) -> ClientOptions {
    let options = ClientOptions::new().with_allow_http(url.starts_with("http://")).with_connect_timeout(CONNECT);
    match timeout {
        Some(t) => options.with_timeout(t),
        None => options.with_timeout_disabled(),
    }
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

    /// Whether an error's text says the bucket itself is missing (S3's `NoSuchBucket`, Azure's
    /// `ContainerNotFound`): such failures are `BucketNotFound`, not a missing file.
    fn missing_bucket(&self, _error: &str) -> bool {
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
    pub fn of(r: &GetResult) -> Head {
        Head {
            size: r.meta.size,
            last_modified: r.meta.last_modified,
            e_tag: r.meta.e_tag.clone(),
            attributes: r.attributes.clone(),
        }
    }

    pub fn external_id(&self) -> Option<&str> {
        self.attributes.iter().find_map(|(k, v)| match k {
            Attribute::Metadata(name) if EXTERNAL_ID_KEYS.contains(&name.as_ref()) => Some(v.as_ref()),
            _ => None,
        })
    }

    pub fn attribute(&self, which: &Attribute) -> Option<String> {
        self.attributes.get(which).map(|v| v.to_string())
    }
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
    if crate::error::unreachable(&e) {
        return Error::Unavailable(message);
    }
    match answered(&e, &text) {
        Some(status) => Error::from_status(status, message),
        None => Error::Provider(message),
    }
}

/// The HTTP status of the answer behind an `object_store` failure, if a service answered: the
/// variant says it for the statuses object_store names, the text (object_store's words; its error
/// type is not public) for the rest: `non-2xx status code: 503 …`, or a bulk delete's failure for
/// one key (the whole answer is a 200), `(code: 403)` from Azure, `(code: AccessDenied)` from S3.
fn answered(e: &object_store::Error, text: &str) -> Option<u16> {
    use object_store::Error::*;
    match e {
        NotFound { .. } => Some(404),
        Precondition { .. } => Some(412),
        NotModified { .. } => Some(304),
        AlreadyExists { .. } => Some(409),
        PermissionDenied { .. } => Some(403),
        Unauthenticated { .. } => Some(401),
        _ => {
            let after = |marker: &str| text.find(marker).map(|i| &text[i + marker.len()..]);
            if let Some(status) = after("status code: ") {
                return status.get(..3)?.parse().ok();
            }
            match after("(code: ")?.split(')').next()? {
                "AccessDenied" => Some(403),
                code => code.parse().ok(),
            }
        }
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
