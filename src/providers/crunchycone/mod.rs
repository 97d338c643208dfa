//! CrunchyConeProvider: files kept by the CrunchyCone storage API. Records and URLs come from the
//! REST API (`client.rs`); bytes move between JS and the presigned upload / signed download URLs
//! in constant memory.

mod client;
mod config;
mod upload;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use reqwest::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_MATCH, LAST_MODIFIED, RANGE,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::http::BoxError;
use crate::listing::{self, FileRecord, ListOptions, ListResult};
use crate::parts::{self, Parallel};
use crate::provider::{Provider, Target};
use crate::range::{self, Requested};
use crate::stream::{self, Body, Opened, Opener};
use crate::upload::{Upload, UploadOptions};
use crate::visibility::{VisibilityResult, VisibilityStatus};
use client::{encode, Api, FileMeta};
pub use config::ConfigInput;

fn not_found_by_id(id: &str) -> Error {
    Error::NotFound(format!("File with external_id \"{id}\" not found"))
}

/// Maps a by-external-id lookup's 404 to `not_found`, keeping every other error.
fn or_not_found<T>(r: Result<T>, not_found: impl FnOnce() -> Error) -> Result<T> {
    match r {
        Err(e) if e.is_not_found() => Err(not_found().with_status(e.status())),
        other => other,
    }
}

impl Api {
    async fn locate(&self, target: &Target) -> Result<FileMeta> {
        match target {
            Target::Key(key) => {
                self.find_by_key(key).await?.ok_or_else(|| Error::NotFound(format!("File with key {key} not found")))
            }
            Target::ExternalId(id) => or_not_found(self.by_external_id(id).await, || not_found_by_id(id)),
            Target::FileId(id) => self.record(id).await,
        }
    }

    /// Looks the file up, resolves the range against its size, then GETs the bytes from a
    /// (cached) signed URL, refreshing the URL once if the storage refuses it.
    async fn open_file(
        self: Arc<Self>,
        target: Target,
        req: Option<Requested>,
        parallel: Option<Parallel>,
    ) -> Result<Opened> {
        let meta = self.locate(&target).await?;
        // A range the record already shows to be out of bounds fails before any request (a record
        // without a size, or with 0, may be out of step: the response decides then).
        if let (Some(req), true) = (req, meta.size() > 0) {
            req.resolve(meta.size())?;
        }
        let mut fresh = false;
        let (url, resp) = loop {
            let url = self.signed_url(&meta.file_id, None, fresh).await?;
            let mut headers = http::HeaderMap::new();
            if let Some(r) = req {
                headers.insert(RANGE, r.header().parse().expect("a range is a valid header value"));
            }
            let resp = crate::http::get_streamed(&self.http, &url, headers)
                .await
                .map_err(|e| self.stream_error("Failed to create file stream", &*e))?;
            match resp.status {
                StatusCode::OK | StatusCode::PARTIAL_CONTENT => break (url, resp),
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED if !fresh => {
                    self.forget_signed_url(&meta.file_id);
                    fresh = true;
                }
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    return Err(Error::InvalidRange("Invalid range: the storage refused it as not satisfiable".into()))
                }
                s => {
                    let message = format!(
                        "Failed to create file stream: Failed to stream file: {} {}",
                        s.as_u16(),
                        s.canonical_reason().unwrap_or("")
                    );
                    return Err(Error::from_status(s.as_u16(), message));
                }
            }
        };
        let header = |name| resp.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        // The bytes promised are what this response says, not what the record says.
        let length = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let (range, skip) = if resp.status == StatusCode::PARTIAL_CONTENT {
            let range = header(CONTENT_RANGE)
                .and_then(|h| range::parse_content_range(&h))
                .filter(|r| req.is_some_and(|q| q.answered_by(r)))
                .ok_or_else(|| Error::Provider("Failed to stream file: the storage answered another range".into()))?;
            (range, 0)
        } else {
            // The whole object (a server may ignore `Range`): resolve and skip to the start ourselves.
            let total = length.unwrap_or(meta.size());
            let range = range::resolve(req, total)?;
            (range, range.start)
        };
        let last_modified_ms = header(LAST_MODIFIED)
            .and_then(|h| chrono::DateTime::parse_from_rfc2822(&h).ok())
            .map(|t| t.timestamp_millis() as f64)
            .or_else(|| meta.last_modified_ms());
        let content_type = header(CONTENT_TYPE)
            .or_else(|| meta.content_type.clone())
            .unwrap_or_else(|| crate::content_type::DEFAULT.into());
        let pin = header(ETAG);
        let etag = pin.clone().or_else(|| Some(meta.file_id.clone()));
        let cache_control = header(CACHE_CONTROL);
        let body = self.read_body(resp.body);
        // Parts only from a server that serves ranges: one that answered a range, or says it would
        // (a 200 without `Accept-Ranges: bytes` may come from one that ignores them).
        let ranges = resp.status == StatusCode::PARTIAL_CONTENT
            || header(ACCEPT_RANGES).is_some_and(|v| v.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")));
        let parallel = parallel.filter(|_| skip == 0 && ranges);
        let span = range.start..range.start + range.length;
        let body =
            parts::body(body, span, pin.as_deref(), parallel, || self.clone().part_fetcher(url.clone(), range.total));
        Ok(Opened {
            range,
            content_type,
            last_modified_ms,
            etag,
            cache_control,
            extra: Some(json!({ "signedUrl": url, "fileId": meta.file_id, "externalId": meta.external_id })),
            body: Body::Async(if skip > 0 { stream::skip(body, skip) } else { body }),
        })
    }

    /// A signed URL's body, its failures in the crate's terms.
    fn read_body(
        self: &Arc<Self>,
        body: BoxStream<'static, Result<Bytes, BoxError>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        let api = self.clone();
        body.map(move |chunk| chunk.map_err(|e| api.stream_error("Failed to read file stream", &*e))).boxed()
    }

    /// How the parts of a parallel read are fetched: ranged GETs of the signed `url`, pinned to the
    /// first response's ETag. The object is `total` bytes long: an answer for another span or
    /// another length (another version, from a server that ignores `If-Match`) is refused.
    fn part_fetcher(self: Arc<Self>, url: String, total: u64) -> parts::Fetch {
        Arc::new(move |span: std::ops::Range<u64>, etag: String| {
            let (api, url) = (self.clone(), url.clone());
            Box::pin(async move {
                let mut headers = http::HeaderMap::new();
                let range = format!("bytes={}-{}", span.start, span.end - 1);
                headers.insert(RANGE, range.parse().expect("a range is a valid header value"));
                headers.insert(IF_MATCH, etag.parse().map_err(|_| parts::changed())?);
                let resp = crate::http::get_streamed(&api.http, &url, headers)
                    .await
                    .map_err(|e| api.stream_error("Failed to read file stream", &*e))?;
                let answered = |name| resp.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                match resp.status {
                    StatusCode::PARTIAL_CONTENT => {
                        match answered(CONTENT_RANGE).and_then(|h| range::parse_content_range(&h)) {
                            Some(r) if r.total != total => return Err(parts::changed()),
                            Some(r) if r.start == span.start && r.length == span.end - span.start => {}
                            _ => {
                                return Err(Error::Provider(
                                    "Failed to read file stream: a part was answered with another range".into(),
                                ))
                            }
                        }
                    }
                    StatusCode::PRECONDITION_FAILED => return Err(parts::changed()),
                    s => {
                        let message = format!("Failed to read file stream: a part was answered {}", s.as_u16());
                        return Err(Error::from_status(s.as_u16(), message));
                    }
                }
                Ok(parts::Part { etag: answered(ETAG), body: api.read_body(resp.body) })
            })
        })
    }

    /// PATCHes the visibility at the first of `paths` that exists (the API has moved over time;
    /// only a 404 / 405 moves on to the next).
    async fn patch_visibility(&self, paths: &[String], public: bool) -> Result<(Value, String)> {
        let body = json!({ "visibility": if public { "public" } else { "private" } });
        let mut last = None;
        for path in paths {
            match self.call(Method::PATCH, path, Some(body.clone())).await {
                Ok(v) => return Ok((v, path.clone())),
                Err(e) if e.is_not_found() || e.status() == Some(405) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one endpoint"))
    }

    async fn change_visibility(&self, target: &Target, public: bool) -> Result<VisibilityResult> {
        let failed = |message: String, extra: Option<Value>| VisibilityResult {
            provider_specific: extra,
            ..VisibilityResult::new(public, false, false, message)
        };
        let project = encode(&self.cfg.project_id);
        let by_file_id = |id: &str| {
            let paths = vec![
                format!("/api/v1/storage/files/{id}/visibility"),
                format!("/api/v1/users/me/projects/{project}/files/{id}/visibility"),
                format!("/api/v1/files/{id}/visibility"),
            ];
            (paths, ("fileId", id.to_string()), format!("File with ID {id} not found"))
        };
        let (paths, id_field, not_found) = match target {
            Target::Key(key) => match self.find_by_key(key).await {
                Ok(Some(meta)) => {
                    let (paths, field, _) = by_file_id(&meta.file_id);
                    (paths, field, format!("File with key {key} not found"))
                }
                Ok(None) => return Ok(failed(format!("File with key {key} not found"), None)),
                Err(e) => {
                    let msg = e.to_string();
                    return Ok(failed(
                        format!("Failed to set file visibility: {msg}"),
                        Some(json!({ "errorDetails": msg })),
                    ));
                }
            },
            Target::FileId(id) => by_file_id(id),
            Target::ExternalId(external) => {
                let e = encode(external);
                let paths = vec![
                    format!("/api/v1/storage/files/by-external-id/{e}/visibility"),
                    format!("/api/v1/users/me/projects/{project}/files/external/{e}/visibility"),
                    format!("/api/v1/files/by-external-id/{e}/visibility"),
                ];
                (paths, ("externalId", external.clone()), format!("File with external_id {external} not found"))
            }
        };
        match self.patch_visibility(&paths, public).await {
            Ok((v, endpoint)) => {
                let file = v.pointer("/data/file");
                let success = v.get("success").and_then(Value::as_bool).unwrap_or(file.is_some());
                let message =
                    v.get("message").and_then(Value::as_str).unwrap_or("File visibility updated successfully");
                Ok(VisibilityResult {
                    // The API's value as it is, `null` included (the original passes it through).
                    public_url: file
                        .and_then(|f| f.get("public_url"))
                        .filter(|u| u.is_string() || u.is_null())
                        .cloned(),
                    provider_specific: Some(json!({
                        id_field.0: id_field.1,
                        "updatedViaAPI": true,
                        "successfulEndpoint": endpoint,
                    })),
                    ..VisibilityResult::new(public, success, success && public, message)
                })
            }
            Err(e) if e.is_not_found() => Ok(failed(not_found, None)),
            Err(e) => {
                let msg = e.to_string();
                Ok(failed(format!("Failed to set file visibility: {msg}"), Some(json!({ "errorDetails": msg }))))
            }
        }
    }

    async fn visibility_of(&self, target: &Target) -> Result<VisibilityStatus> {
        const FAILED: &str = "Failed to get file visibility";
        let meta = match target {
            Target::Key(key) => self
                .find_by_key(key)
                .await
                .map_err(|e| e.prefixed(FAILED))?
                .ok_or_else(|| Error::NotFound(format!("{FAILED}: File with key {key} not found")))?,
            Target::ExternalId(id) => match self.by_external_id(id).await {
                Err(e) if e.is_not_found() => {
                    return Err(Error::NotFound(format!("File with external_id {id} not found")).with_status(e.status()))
                }
                other => other.map_err(|e| e.prefixed(FAILED))?,
            },
            Target::FileId(_) => self.locate(target).await.map_err(|e| e.prefixed(FAILED))?,
        };
        let public = meta.is_public();
        let message = match (public, &meta.public_url) {
            (true, Some(_)) => "File is public and has a public URL",
            (true, None) => "File is public and can be accessed via signed URLs",
            _ => "File is private and requires authentication. Access via signed URLs.",
        };
        Ok(VisibilityStatus {
            visibility: if public { "public" } else { "private" }.into(),
            public_url: if public { meta.public_url.clone() } else { None },
            can_make_public: true,
            can_make_private: true,
            supports_temporary_access: true,
            message: Some(message.into()),
        })
    }

    /// The file's public URL when it has one, else a signed URL with the disposition.
    async fn file_url(&self, target: &Target, disposition: Option<String>) -> Result<String> {
        let meta = match target {
            Target::Key(key) => self
                .find_by_key(key)
                .await?
                .ok_or_else(|| Error::NotFound(format!("File with storage key {key} not found")))?,
            _ => self.locate(target).await?,
        };
        if meta.is_public() {
            if let Some(url) = &meta.public_url {
                return Ok(url.clone());
            }
        }
        let disposition = if disposition.as_deref() == Some("inline") { "inline" } else { "attachment" };
        // Handed to a caller who may keep it: always a fresh one, never the tail of a cached one.
        self.signed_url(&meta.file_id, Some(disposition), true).await
    }
}

/// The provider for a configuration (from the config object, the environment and
/// `crunchycone.toml`, resolved now).
pub fn connect(input: &ConfigInput) -> Result<Arc<dyn Provider>> {
    Ok(Arc::new(Api::new(config::resolve(input)?)?))
}

#[async_trait]
impl Provider for Api {
    /// The API's `file_id`s (`updateFileVisibilityById`).
    fn has_file_ids(&self) -> bool {
        true
    }

    /// Whether a completed upload exists under `key`. Only "not found" answers false: network,
    /// auth and server errors are reported, not taken for absence.
    async fn exists(self: Arc<Self>, key: String) -> Result<bool> {
        let meta = self.find_by_key(&key).await?;
        Ok(meta.is_some_and(|m| m.upload_status.as_deref() == Some("completed")))
    }

    async fn find(self: Arc<Self>, external_id: String) -> Result<Option<FileRecord>> {
        match self.by_external_id(&external_id).await {
            Ok(meta) => Ok(Some(meta.record(&self.cfg.api_url))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every matching record (server-side prefix filters, all pages), then the shared filters,
    /// sorting and paging, so pages are full and counts are right.
    async fn list(self: Arc<Self>, options: ListOptions, search: bool) -> Result<ListResult> {
        listing::validate(&options)?;
        let prefix = if search { None } else { options.prefix.as_deref() };
        let metas = self.list_all(prefix, options.external_id_prefix.as_deref()).await?;
        let records = metas.iter().map(|m| m.record(&self.cfg.api_url)).collect();
        listing::query(records, &options, search, listing::Collation::CodeUnit)
    }

    async fn delete(self: Arc<Self>, target: Target) -> Result<()> {
        let path = match &target {
            Target::ExternalId(id) => {
                let path = format!("/api/v1/storage/files/by-external-id/{}", encode(id));
                return or_not_found(self.call(Method::DELETE, &path, None).await, || not_found_by_id(id)).map(|_| ());
            }
            Target::Key(key) => {
                let meta = self.find_by_key(key).await?;
                let meta = meta.ok_or_else(|| Error::NotFound(format!("File with storage key {key} not found")))?;
                format!("/api/v1/storage/files/{}", meta.file_id)
            }
            Target::FileId(id) => format!("/api/v1/storage/files/{id}"),
        };
        self.call(Method::DELETE, &path, None).await.map(|_| ())
    }

    async fn url(
        self: Arc<Self>,
        target: Target,
        _expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> Result<String> {
        self.file_url(&target, disposition).await
    }

    async fn set_visibility(self: Arc<Self>, target: Target, public: bool) -> Result<VisibilityResult> {
        self.change_visibility(&target, public).await
    }

    async fn get_visibility(self: Arc<Self>, target: Target) -> Result<VisibilityStatus> {
        self.visibility_of(&target).await
    }

    fn open(
        self: Arc<Self>,
        target: Target,
        range: Option<Requested>,
        _include_metadata: bool,
        parallel: Option<Parallel>,
    ) -> Opener {
        Opener::Async(Box::pin(self.open_file(target, range, parallel)))
    }

    async fn begin_upload(self: Arc<Self>, options: UploadOptions) -> Result<Box<dyn Upload>> {
        Ok(Box::new(upload::begin(self, options).await?))
    }

    fn stream_timeout_ms(&self) -> u32 {
        self.cfg.timeout_ms
    }
}
