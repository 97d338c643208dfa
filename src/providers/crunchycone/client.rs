//! The CrunchyCone REST calls (the storage endpoints under `/api/v1/storage/files`): one pooled
//! HTTP client, the `X-API-Key` header, the original's error shape without secrets, paging, and a
//! cache of signed download URLs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::Config;
use crate::error::{Error, Result};
use crate::listing::{FileRecord, Metadata};

const PAGE: u32 = 100;
/// Paging stops here whatever the server says (ten million records).
const MAX_RECORDS: u32 = 10_000_000;
/// Signed URLs are reused until this long before they expire.
const SIGNED_URL_MARGIN: Duration = Duration::from_secs(30);

/// `encodeURIComponent`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A server file record (`CrunchyConeFileMetadata`), with the fields the provider uses (a missing
/// optional field reads as `None`).
#[derive(Deserialize, Clone, Debug)]
pub struct FileMeta {
    pub file_id: String,
    pub external_id: Option<String>,
    pub storage_key: Option<String>,
    pub file_path: Option<String>,
    pub content_type: Option<String>,
    pub actual_file_size: Option<f64>,
    pub upload_status: Option<String>,
    pub visibility: Option<String>,
    pub public_url: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub uploaded_at: Option<String>,
    pub updated_at: Option<String>,
}

impl FileMeta {
    pub fn key(&self) -> &str {
        self.storage_key.as_deref().or(self.file_path.as_deref()).unwrap_or(&self.file_id)
    }

    pub fn size(&self) -> u64 {
        self.actual_file_size.unwrap_or(0.0).max(0.0) as u64
    }

    pub fn is_public(&self) -> bool {
        self.visibility.as_deref() == Some("public")
    }

    pub fn last_modified_ms(&self) -> Option<f64> {
        let t = self.uploaded_at.as_deref().or(self.updated_at.as_deref())?;
        Some(chrono::DateTime::parse_from_rfc3339(t).ok()?.timestamp_millis() as f64)
    }

    /// The original's record → `StorageFileInfo` conversion.
    pub fn record(&self, api_url: &str) -> FileRecord {
        let metadata: Option<Metadata> = self.metadata.as_ref().map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
        });
        FileRecord {
            external_id: self.external_id.clone().unwrap_or_else(|| self.file_id.clone()),
            key: self.key().to_string(),
            url: format!("{api_url}/api/v1/storage/files/{}/download", self.file_id),
            size: self.size() as f64,
            content_type: self.content_type.clone().unwrap_or_else(|| crate::content_type::DEFAULT.into()),
            last_modified_ms: self.last_modified_ms(),
            etag: None,
            metadata,
            visibility: Some(self.visibility.clone().unwrap_or_else(|| "private".into())),
            public_url: if self.is_public() { self.public_url.clone() } else { None },
        }
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    files: Vec<FileMeta>,
    #[serde(default)]
    has_more: bool,
    total_count: Option<u64>,
}

pub struct Api {
    pub http: reqwest::Client,
    pub cfg: Config,
    signed: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl Api {
    pub fn new(cfg: Config) -> Result<Self> {
        let timeout = Duration::from_millis(cfg.timeout_ms.into());
        // API calls get a whole-request timeout each; transfers (uploads, downloads) are timed by
        // their progress instead, so the client itself only bounds connecting.
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| Error::Provider(format!("Failed to create HTTP client: {e}")))?;
        Ok(Api { http, cfg, signed: Mutex::default() })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.api_url, path)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms.into())
    }

    fn timeout_error(&self) -> Error {
        Error::Timeout(format!("Request timeout after {}ms", self.cfg.timeout_ms))
    }

    /// A failed transfer, worded without the URL's query.
    pub fn transport_error(&self, what: &str, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return self.timeout_error();
        }
        // Where it was going (without the query, which may hold a signature) and why it failed.
        let to = e.url().map(|u| format!(" ({}{})", u.origin().ascii_serialization(), u.path())).unwrap_or_default();
        crate::error::request_failed(&format!("{what}{to}"), &e.without_url())
    }

    /// A failed stream (see `http::get_streamed`); URL queries in it are redacted on the way out.
    pub fn stream_error(&self, what: &str, e: &(dyn std::error::Error + 'static)) -> Error {
        crate::error::request_failed(what, e)
    }

    /// The original's `CrunchyCone API error (<status> <text>) | URL | Method | Error | Message`.
    fn api_error(&self, status: StatusCode, url: &str, method: &Method, body: &str) -> Error {
        let mut parts = vec![
            format!("CrunchyCone API error ({} {})", status.as_u16(), status.canonical_reason().unwrap_or("")),
            format!("URL: {url}"),
            format!("Method: {method}"),
        ];
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(o)) => {
                let error = o.get("error").and_then(Value::as_str);
                if let Some(e) = error {
                    parts.push(format!("Error: {e}"));
                }
                if let Some(m) = o.get("message").and_then(Value::as_str).filter(|m| Some(*m) != error) {
                    parts.push(format!("Message: {m}"));
                }
                if let Some(d) = o.get("details") {
                    parts.push(format!("Details: {d}"));
                }
            }
            _ if !body.trim().is_empty() => {
                parts.push(format!("Response: {}", body.chars().take(500).collect::<String>()))
            }
            _ => {}
        }
        let message = parts.join(" | ");
        Error::from_status(status.as_u16(), message)
    }

    /// One API request (retried as `http::send` says, all within the configured timeout); resolves
    /// with the JSON body (`{}` for 204).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = self.url(path);
        let body = body.map(|b| b.to_string());
        let build = || {
            let req = self.http.request(method.clone(), &url).header("X-API-Key", &self.cfg.api_key);
            match &body {
                Some(body) => req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone()),
                None => req,
            }
        };
        let reply = crate::http::send(&method, self.timeout(), build).await;
        let crate::http::Reply { status, body: text } =
            reply.map_err(|e| self.transport_error("CrunchyCone API request failed", e))?;
        if !status.is_success() {
            return Err(self.api_error(status, &url, &method, &text));
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_str(&text).map_err(|_| {
            Error::Provider(format!("CrunchyCone API returned invalid JSON | URL: {url} | Method: {method}"))
        })
    }

    fn data<T: for<'de> Deserialize<'de>>(v: Value, path: &str) -> Result<T> {
        let data = v.get("data").cloned().unwrap_or(Value::Null);
        serde_json::from_value(data)
            .map_err(|e| Error::Provider(format!("Unexpected CrunchyCone API response for {path}: {e}")))
    }

    pub async fn record(&self, file_id: &str) -> Result<FileMeta> {
        let path = format!("/api/v1/storage/files/{file_id}");
        Self::data(self.call(Method::GET, &path, None).await?, &path)
    }

    pub async fn by_external_id(&self, id: &str) -> Result<FileMeta> {
        let path = format!("/api/v1/storage/files/by-external-id/{}", encode(id));
        Self::data(self.call(Method::GET, &path, None).await?, &path)
    }

    /// One page of records matching the server-side filters.
    async fn page(&self, offset: u32, path_prefix: Option<&str>, external_id: Option<&str>) -> Result<Page> {
        let mut path =
            format!("/api/v1/storage/files?project_id={}&limit={PAGE}&offset={offset}", encode(&self.cfg.project_id));
        if let Some(p) = path_prefix.filter(|p| !p.is_empty()) {
            path.push_str(&format!("&path_prefix={}", encode(p)));
        }
        if let Some(e) = external_id.filter(|e| !e.is_empty()) {
            path.push_str(&format!("&external_id={}", encode(e)));
        }
        Self::data(self.call(Method::GET, &path, None).await?, &path)
    }

    /// Every record matching the server-side filters, following the pages.
    pub async fn list_all(&self, path_prefix: Option<&str>, external_id: Option<&str>) -> Result<Vec<FileMeta>> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.page(offset, path_prefix, external_id).await?;
            let n = page.files.len() as u32;
            out.extend(page.files);
            // A server that ignored `offset` would say `has_more` forever: trust its count too.
            let counted = page.total_count.is_some_and(|t| out.len() as u64 >= t);
            if !page.has_more || n == 0 || counted || offset > MAX_RECORDS {
                return Ok(out);
            }
            offset += n;
        }
    }

    /// The record stored under `key` (its storage key, else its proposed path), on any page. The
    /// listing is narrowed by `path_prefix`. Only a server that stores files under keys other than
    /// their proposed paths (seen on the first unfiltered page) may apply `path_prefix` to the other
    /// field, so only then does a miss fall back to the full listing.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<FileMeta>> {
        let pick = |candidates: &[FileMeta]| {
            let by_storage = candidates.iter().position(|f| f.storage_key.as_deref() == Some(key));
            let by_path = || candidates.iter().position(|f| f.file_path.as_deref() == Some(key));
            by_storage.or_else(by_path).map(|i| candidates[i].clone())
        };
        if let Some(found) = pick(&self.list_all(Some(key), None).await?) {
            return Ok(Some(found));
        }
        let first = self.page(0, None, None).await?;
        if let Some(found) = pick(&first.files) {
            return Ok(Some(found));
        }
        let distinct_keys = first.files.iter().any(|f| f.storage_key.is_some() && f.storage_key != f.file_path);
        if !first.has_more || !distinct_keys {
            return Ok(None);
        }
        Ok(pick(&self.list_all(None, None).await?))
    }

    /// A signed download URL, reused while it is valid. `fresh` skips the cache (after a 403).
    pub async fn signed_url(&self, file_id: &str, disposition: Option<&str>, fresh: bool) -> Result<String> {
        let cache_key = (file_id.to_string(), disposition.unwrap_or("").to_string());
        if !fresh {
            if let Some((url, until)) = self.signed.lock().unwrap().get(&cache_key) {
                if Instant::now() < *until {
                    return Ok(url.clone());
                }
            }
        }
        let mut path = format!("/api/v1/storage/files/{file_id}/download?returnSignedUrl=true");
        if let Some(d) = disposition {
            path.push_str(&format!("&disposition={d}"));
        }
        let v = self.call(Method::GET, &path, None).await?;
        let holder = v.get("data").filter(|d| d.is_object()).unwrap_or(&v);
        let url = ["signedUrl", "returnUrl"]
            .iter()
            .find_map(|k| holder.get(*k).and_then(Value::as_str))
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::Provider("No valid signed URL found in API response".into()))?
            .to_string();
        if let Some(until) = expiry(holder, &url) {
            let mut cache = self.signed.lock().unwrap();
            let now = Instant::now();
            cache.retain(|_, (_, until)| *until > now);
            cache.insert(cache_key, (url.clone(), until));
        }
        Ok(url)
    }

    pub fn forget_signed_url(&self, file_id: &str) {
        self.signed.lock().unwrap().retain(|(id, _), _| id != file_id);
    }
}

/// When a signed URL stops being usable (less a margin): the response's `expiresAt` /
/// `expires_at`, else the URL's own `X-Amz-Date` + `X-Amz-Expires` or `expires` (epoch seconds).
fn expiry(holder: &Value, url: &str) -> Option<Instant> {
    let now = SystemTime::now();
    let at = ["expiresAt", "expires_at"]
        .iter()
        .find_map(|k| holder.get(*k).and_then(Value::as_str))
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| SystemTime::UNIX_EPOCH + Duration::from_millis(t.timestamp_millis().max(0) as u64))
        .or_else(|| {
            let query = url.split_once('?')?.1;
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
            };
            if let (Some(date), Some(secs)) = (param("X-Amz-Date"), param("X-Amz-Expires")) {
                let t = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok()?.and_utc();
                return Some(
                    SystemTime::UNIX_EPOCH + Duration::from_secs(t.timestamp() as u64 + secs.parse::<u64>().ok()?),
                );
            }
            param("expires")
                .and_then(|e| e.parse::<u64>().ok())
                .map(|e| SystemTime::UNIX_EPOCH + Duration::from_secs(e))
        })?;
    let left = at.duration_since(now).ok()?.checked_sub(SIGNED_URL_MARGIN)?;
    Some(Instant::now() + left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode("a b/c?d=é!*'()"), "a%20b%2Fc%3Fd%3D%C3%A9!*'()");
    }

    #[test]
    fn signed_url_expiry() {
        let far =
            (SystemTime::now() + Duration::from_secs(600)).duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert!(expiry(&Value::Null, &format!("http://h/f?expires={far}&signature=x")).is_some());
        assert!(expiry(&Value::Null, "http://h/f?expires=10").is_none());
        assert!(expiry(&Value::Null, "http://h/f").is_none());
    }
}
