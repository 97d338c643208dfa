//! CrunchyConeProvider: files kept by the CrunchyCone storage API. Records and URLs come from the
//! REST API (`client.rs`); bytes move between JS and the presigned upload / signed download URLs
//! in constant memory. The JS class (`lib/providers/crunchycone.js`) adapts this to the original API.

mod client;
mod config;
mod upload;

use std::sync::Arc;

use futures::StreamExt;
use napi_derive::napi;
use reqwest::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED, RANGE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult};
use crate::range::{self, RangeRequest, Requested};
use crate::stream::{self, Body, NativeStream, Opened, Opener};
use crate::visibility::{parse_visibility, VisibilityResult, VisibilityStatus};
use client::{encode, Api, FileMeta};
pub use config::ConfigInput;
pub use upload::CrunchyConeUpload;

fn not_found_by_id(id: &str) -> Error {
    Error::NotFound(format!("File with external_id \"{id}\" not found"))
}

/// Maps a by-external-id lookup's 404 to `not_found`, keeping every other error.
fn or_not_found<T>(r: Result<T>, not_found: impl FnOnce() -> Error) -> Result<T> {
    match r {
        Err(Error::NotFound(_)) => Err(not_found()),
        other => other,
    }
}

/// A file named by key, by external id, or by the server's file id.
#[derive(Clone)]
enum Target {
    Key(String),
    ExternalId(String),
    FileId(String),
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
    async fn open(self: Arc<Self>, target: Target, req: Option<Requested>) -> Result<Opened> {
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
                    return Err(Error::Provider(format!(
                        "Failed to create file stream: Failed to stream file: {} {}",
                        s.as_u16(),
                        s.canonical_reason().unwrap_or("")
                    )))
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
        let etag = header(ETAG).or_else(|| Some(meta.file_id.clone()));
        let cache_control = header(CACHE_CONTROL);
        let api = self.clone();
        let body =
            resp.body.map(move |chunk| chunk.map_err(|e| api.stream_error("Failed to read file stream", &*e))).boxed();
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

    /// PATCHes the visibility at the first of `paths` that exists (the API has moved over time;
    /// only a 404 / 405 moves on to the next).
    async fn patch_visibility(&self, paths: &[String], public: bool) -> Result<(Value, String)> {
        let body = json!({ "visibility": if public { "public" } else { "private" } });
        let mut last = None;
        for path in paths {
            match self.call(Method::PATCH, path, Some(body.clone())).await {
                Ok(v) => return Ok((v, path.clone())),
                Err(e @ Error::NotFound(_)) => last = Some(e),
                Err(e @ Error::Api { status: 405, .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one endpoint"))
    }

    async fn set_visibility(&self, target: &Target, public: bool) -> Result<VisibilityResult> {
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
                    public_url: file.and_then(|f| f.get("public_url")).and_then(Value::as_str).map(str::to_string),
                    provider_specific: Some(json!({
                        id_field.0: id_field.1,
                        "updatedViaAPI": true,
                        "successfulEndpoint": endpoint,
                    })),
                    ..VisibilityResult::new(public, success, success && public, message)
                })
            }
            Err(Error::NotFound(_)) => Ok(failed(not_found, None)),
            Err(e) => {
                let msg = e.to_string();
                Ok(failed(format!("Failed to set file visibility: {msg}"), Some(json!({ "errorDetails": msg }))))
            }
        }
    }

    async fn get_visibility(&self, target: &Target) -> Result<VisibilityStatus> {
        const FAILED: &str = "Failed to get file visibility";
        let meta = match target {
            Target::Key(key) => self
                .find_by_key(key)
                .await
                .map_err(|e| e.prefixed(FAILED))?
                .ok_or_else(|| Error::NotFound(format!("{FAILED}: File with key {key} not found")))?,
            Target::ExternalId(id) => match self.by_external_id(id).await {
                Err(Error::NotFound(_)) => {
                    return Err(Error::NotFound(format!("File with external_id {id} not found")))
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

/// The native half of `CrunchyConeProvider`. Configuration is resolved at construction; a bad one
/// is reported by every call (as the original reports it when a method awaits it).
#[napi]
pub struct CrunchyConeStore {
    api: std::result::Result<Arc<Api>, String>,
}

impl CrunchyConeStore {
    fn api(&self) -> Result<Arc<Api>> {
        self.api.clone().map_err(Error::InvalidInput)
    }
}

/// A key is checked as uploads check it: one no upload could have written is refused, not looked up.
fn target(value: String, by_external_id: bool) -> Result<Target> {
    if by_external_id {
        Ok(Target::ExternalId(value))
    } else {
        crate::keys::validate(&value)?;
        Ok(Target::Key(value))
    }
}

#[napi]
impl CrunchyConeStore {
    #[napi(constructor)]
    pub fn new(input: ConfigInput) -> Self {
        let api = config::resolve(&input).and_then(Api::new).map(Arc::new).map_err(|e| e.to_string());
        CrunchyConeStore { api }
    }

    /// The default `timeout` of a stream (the config's), or 0 while the configuration is invalid.
    #[napi]
    pub fn stream_timeout(&self) -> u32 {
        self.api.as_ref().map_or(0, |api| api.cfg.timeout_ms)
    }

    #[napi]
    pub async fn begin_upload(&self, options: crate::upload::UploadOptions) -> napi::Result<CrunchyConeUpload> {
        Ok(upload::begin(self.api()?, options).await?)
    }

    #[napi]
    pub async fn delete(&self, key: String, by_external_id: bool) -> napi::Result<()> {
        let api = self.api()?;
        if by_external_id {
            let path = format!("/api/v1/storage/files/by-external-id/{}", encode(&key));
            or_not_found(api.call(Method::DELETE, &path, None).await, || not_found_by_id(&key))?;
            return Ok(());
        }
        let meta = api
            .find_by_key(&key)
            .await?
            .ok_or_else(|| Error::NotFound(format!("File with storage key {key} not found")))?;
        api.call(Method::DELETE, &format!("/api/v1/storage/files/{}", meta.file_id), None).await?;
        Ok(())
    }

    #[napi]
    pub async fn url(&self, key: String, by_external_id: bool, disposition: Option<String>) -> napi::Result<String> {
        Ok(self.api()?.file_url(&target(key, by_external_id)?, disposition).await?)
    }

    /// Whether a completed upload exists under `key`. Only "not found" answers false: network,
    /// auth and server errors are reported, not taken for absence.
    #[napi]
    pub async fn exists(&self, key: String) -> napi::Result<bool> {
        let meta = self.api()?.find_by_key(&key).await?;
        Ok(meta.is_some_and(|m| m.upload_status.as_deref() == Some("completed")))
    }

    #[napi]
    pub async fn find(&self, external_id: String) -> napi::Result<Option<FileRecord>> {
        let api = self.api()?;
        match api.by_external_id(&external_id).await {
            Ok(meta) => Ok(Some(meta.record(&api.cfg.api_url))),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every matching record (server-side prefix filters, all pages), then the shared filters,
    /// sorting and paging, so pages are full and counts are right.
    #[napi]
    pub async fn list(&self, options: ListOptions, search: bool) -> napi::Result<ListResult> {
        listing::validate(&options)?;
        let api = self.api()?;
        let prefix = if search { None } else { options.prefix.as_deref() };
        let metas = api.list_all(prefix, options.external_id_prefix.as_deref()).await?;
        let records = metas.iter().map(|m| m.record(&api.cfg.api_url)).collect();
        Ok(listing::query(records, &options, search)?)
    }

    #[napi]
    pub async fn set_visibility(
        &self,
        key: String,
        by_external_id: bool,
        visibility: String,
    ) -> napi::Result<VisibilityResult> {
        let public = parse_visibility(&visibility)?;
        Ok(self.api()?.set_visibility(&target(key, by_external_id)?, public).await?)
    }

    /// `updateFileVisibilityById`: the id-based endpoints, without a lookup.
    #[napi]
    pub async fn set_visibility_by_file_id(
        &self,
        file_id: String,
        visibility: String,
    ) -> napi::Result<VisibilityResult> {
        let public = parse_visibility(&visibility)?;
        Ok(self.api()?.set_visibility(&Target::FileId(file_id), public).await?)
    }

    #[napi]
    pub async fn get_visibility(&self, key: String, by_external_id: bool) -> napi::Result<VisibilityStatus> {
        Ok(self.api()?.get_visibility(&target(key, by_external_id)?).await?)
    }

    /// A stream handle; checks the range now, all I/O happens in `open()`.
    #[napi]
    pub fn stream(&self, key: String, by_external_id: bool, range: RangeRequest) -> napi::Result<NativeStream> {
        let api = self.api()?;
        let req = range.check()?;
        let open = api.open(target(key, by_external_id)?, req);
        Ok(NativeStream::new(Opener::Async(Box::pin(open))))
    }
}
