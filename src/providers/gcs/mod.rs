//! Google Cloud Storage: what it does its own way, on `object_store`'s
//! GoogleCloudStorage client. The provider itself is [`crate::providers::bucket`].
//!
//! Listings and visibility go through the JSON API, with the same token as every other request:
//! object_store has no ACL API, and its listing fails whole pages on names it cannot represent
//! (such as `a//b`) and drops the metadata the JSON listing returns with each object (which saves a
//! HEAD per object). Visibility is the object's ACL entry for `allUsers`.

mod config;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::FutureExt;
use object_store::gcp::GoogleCloudStorage;
use object_store::path::Path;
use object_store::{Attribute, Attributes};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

pub use self::config::GcsConfig;
use self::config::Settings;
use crate::error::{Error, Result};
use crate::http::{encode_key, pages, query_string, SMALL_REQUEST, UPLOAD_REQUEST};
use crate::providers::bucket::{signed_get, Clients, Head, Listed, Service};
use crate::visibility::{VisibilityResult, VisibilityStatus};

/// GCS's longest signed URL lifetime (7 days, V4 signing).
const MAX_EXPIRY_SECS: u64 = 604_800;

struct Gcs {
    settings: Settings,
    /// Small requests; also signs URLs and lends its token to the ACL requests.
    store: Arc<GoogleCloudStorage>,
    http: reqwest::Client,
}

/// The service and its clients for a configuration.
pub fn connect(c: &GcsConfig) -> Result<(Arc<dyn Service>, Clients)> {
    let settings = Settings::new(c)?;
    let store = Arc::new(settings.store(Some(SMALL_REQUEST))?);
    let clients = Clients {
        store: store.clone(),
        reader: Arc::new(settings.store(None)?),
        writer: Arc::new(settings.store(Some(UPLOAD_REQUEST))?),
    };
    let http = crate::http::client()?;
    Ok((Arc::new(Gcs { settings, store, http }), clients))
}

impl Gcs {
    /// A JSON API request about the bucket's objects (`path` after `/o`): the status and the JSON
    /// body.
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let s = &self.settings;
        let url = format!("{}/storage/v1/b/{}/o{path}", s.base, s.bucket);
        let token = self.store.credentials().get_credential().await;
        let token = token.map_err(|e| Error::Unauthorized(format!("Failed to get a GCS token: {e}")))?;
        let body = body.map(|b| b.to_string());
        let build = || {
            let mut req = self.http.request(method.clone(), &url);
            if !token.bearer.is_empty() {
                req = req.bearer_auth(&token.bearer);
            }
            match &body {
                Some(body) => req.header("content-type", "application/json").body(body.clone()),
                None => req,
            }
        };
        let failed = |e: reqwest::Error| crate::error::request_failed("GCS request failed", &e.without_url());
        let reply = crate::http::send(&method, SMALL_REQUEST, build).await.map_err(failed)?;
        Ok((reply.status.as_u16(), serde_json::from_str(&reply.body).unwrap_or(Value::Null)))
    }

    /// A request about `key`'s ACL (`suffix` after `/acl`).
    async fn acl(&self, method: reqwest::Method, key: &str, suffix: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let object = utf8_percent_encode(key, NON_ALPHANUMERIC);
        self.api(method, &format!("/{object}/acl{suffix}"), body).await
    }

    /// One page of the JSON listing (objects.list) and the token of the next.
    async fn page(
        &self,
        prefix: &str,
        after: Option<&str>,
        token: Option<&str>,
    ) -> Result<(Vec<Listed>, Option<String>)> {
        let mut query = vec![
            ("maxResults", "1000"),
            ("fields", "items(name,size,updated,md5Hash,etag,contentType,cacheControl,metadata),nextPageToken"),
        ];
        if !prefix.is_empty() {
            query.push(("prefix", prefix));
        }
        match (token, after) {
            (Some(t), _) => query.push(("pageToken", t)),
            (None, Some(a)) => query.push(("startOffset", a)),
            (None, None) => {}
        }
        let (status, body) = self.api(reqwest::Method::GET, &format!("?{}", query_string(&query)), None).await?;
        if !(200..300).contains(&status) {
            let message = format!("Failed to list objects: {}", describe(status, &body));
            // Listing a bucket's objects is not found only when the bucket is not.
            return Err(match status {
                404 => Error::BucketNotFound(message).with_status(Some(404)),
                _ => Error::from_status(status, message),
            });
        }
        let items = body["items"].as_array().map(Vec::as_slice).unwrap_or_default();
        let listed = items.iter().filter_map(object).collect();
        Ok((listed, body["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string)))
    }
}

/// An object of the JSON listing, with its metadata. The ETag is the XML API's (the MD5 in hex)
/// where there is an MD5, so it matches what a HEAD reports; composite objects keep the JSON one.
fn object(item: &Value) -> Option<Listed> {
    let text = |field: &str| item[field].as_str().filter(|v| !v.is_empty());
    let mut attributes = Attributes::new();
    if let Some(t) = text("contentType") {
        attributes.insert(Attribute::ContentType, t.to_string().into());
    }
    if let Some(c) = text("cacheControl") {
        attributes.insert(Attribute::CacheControl, c.to_string().into());
    }
    // Names lower-cased, as HTTP headers (a HEAD) report them.
    for (name, value) in item["metadata"].as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default().to_string();
        attributes.insert(Attribute::Metadata(name.to_lowercase().into()), value.into());
    }
    let md5 = text("md5Hash").and_then(|m| BASE64.decode(m).ok());
    let e_tag = match md5 {
        Some(md5) => Some(format!("\"{}\"", md5.iter().map(|b| format!("{b:02x}")).collect::<String>())),
        None => text("etag").map(|e| format!("\"{e}\"")),
    };
    let head = Head {
        size: text("size")?.parse().ok()?,
        last_modified: chrono::DateTime::parse_from_rfc3339(text("updated")?).ok()?.to_utc(),
        e_tag,
        attributes,
    };
    Some(Listed { key: text("name")?.to_string(), head: Some(head) })
}

/// The message of a JSON API error (`{"error": {"message": …}}`), or the status.
fn describe(status: u16, body: &Value) -> String {
    match body.pointer("/error/message").and_then(Value::as_str) {
        Some(m) => format!("{status}: {m}"),
        None => format!("HTTP {status}"),
    }
}

/// Whether the bucket refused ACLs because it uses uniform bucket-level access.
fn uniform_access(status: u16, body: &Value) -> bool {
    status == 400 && describe(status, body).to_ascii_lowercase().contains("uniform bucket-level access")
}

impl Service for Gcs {
    fn bucket(&self) -> &str {
        &self.settings.bucket
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{}", self.settings.public_base, encode_key(key))
    }

    fn list(self: Arc<Self>, prefix: String, after: Option<String>) -> BoxStream<'static, Result<Listed>> {
        pages(move |token| {
            let (gcs, prefix, after) = (self.clone(), prefix.clone(), after.clone());
            async move { gcs.page(&prefix, after.as_deref(), token.as_deref()).await }
        })
    }

    fn max_expiry(&self) -> u64 {
        MAX_EXPIRY_SECS
    }

    fn sign<'a>(
        &'a self,
        key: &'a Path,
        expires: Duration,
        disposition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String>> {
        async move {
            if !self.settings.can_sign() {
                return Err(Error::InvalidInput(
                    "Signed URLs need a service account key: give credentials or keyFilename".into(),
                ));
            }
            // object_store puts the key into the URL as it is, where `?`, `#` and `%` would change
            // which object the URL names: sign the percent-encoded key.
            let encoded = Path::parse(encode_key(key.as_ref())).map_err(|e| Error::InvalidInput(e.to_string()))?;
            signed_get(self.store.as_ref(), &encoded, expires, disposition).await
        }
        .boxed()
    }

    fn set_visibility<'a>(&'a self, key: &'a str, public: bool) -> BoxFuture<'a, Result<VisibilityResult>> {
        async move {
            let (status, body) = if public {
                let entry = json!({ "entity": "allUsers", "role": "READER" });
                self.acl(reqwest::Method::POST, key, "", Some(entry)).await?
            } else {
                self.acl(reqwest::Method::DELETE, key, "/allUsers", None).await?
            };
            Ok(match status {
                200..=299 if public => VisibilityResult {
                    public_url: Some(self.public_url(key).into()),
                    provider_specific: Some(json!({ "aclApplied": true })),
                    ..VisibilityResult::new(true, true, true, "File is now publicly accessible via direct URL.")
                },
                // Private already when there was no entry to remove.
                200..=299 | 404 if !public => {
                    VisibilityResult::new(false, true, false, "File is now private and requires authentication.")
                }
                _ if uniform_access(status, &body) => VisibilityResult::new(
                    public,
                    false,
                    false,
                    "ACLs are disabled on this bucket (uniform bucket-level access). Use IAM for access control instead.",
                ),
                _ => return Err(Error::from_status(status, describe(status, &body))),
            })
        }
        .boxed()
    }

    fn get_visibility<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<VisibilityStatus>> {
        async move {
            let (status, body) = self.acl(reqwest::Method::GET, key, "", None).await?;
            let public = (200..300).contains(&status)
                && body["items"].as_array().is_some_and(|items| {
                    items.iter().any(|e| e["entity"] == "allUsers" && (e["role"] == "READER" || e["role"] == "OWNER"))
                });
            let uniform = uniform_access(status, &body);
            if !(200..300).contains(&status) && !uniform {
                return Err(Error::from_status(status, describe(status, &body)));
            }
            let message = if public {
                "File is publicly accessible via direct URL."
            } else if uniform {
                "ACLs are disabled on this bucket (uniform bucket-level access). File visibility managed by IAM."
            } else {
                "File is private. Use setFileVisibility to make it public or generate signed URLs for temporary access."
            };
            Ok(VisibilityStatus {
                visibility: crate::visibility::visibility_name(public).to_string(),
                public_url: public.then(|| self.public_url(key)),
                can_make_public: !uniform,
                can_make_private: !uniform,
                supports_temporary_access: true,
                message: Some(message.into()),
            })
        }
        .boxed()
    }

    fn check_metadata(&self, name: &str, value: &str) -> Result<()> {
        crate::providers::bucket::check_header_metadata("GCS", name, value)
    }

    /// What GCS says of a missing bucket.
    fn missing_bucket(&self, error: &str) -> bool {
        error.contains("The specified bucket does not exist")
    }

    fn max_parts(&self) -> u64 {
        10_000
    }
}
