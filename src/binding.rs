//! The napi classes over the provider contract ([`crate::provider`]): `Store`, with one factory
//! per backend, and `NativeUpload`. This is the only module that names every backend; the JS
//! provider classes (`lib/provider.js`) call these and nothing else.

use std::sync::Arc;

use bytes::Bytes;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::listing::{FileRecord, ListOptions, ListResult};
use crate::parts::ParallelOptions;
use crate::provider::{Provider, Target};
use crate::providers::{azure, bucket, crunchycone, gcs, local, s3};
use crate::range::RangeRequest;
use crate::stream::NativeStream;
use crate::upload::{Upload, UploadOptions};
use crate::visibility::{parse_visibility, VisibilityResult, VisibilityStatus};

/// What a method's `id` is (a [`Target`] from JS).
#[napi(string_enum = "camelCase")]
#[derive(Clone, Copy)]
pub enum By {
    Key,
    ExternalId,
    FileId,
}

/// The native half of every provider class. A bad configuration is reported by every call (as
/// the original reports it on first use), never by the factory.
#[napi]
pub struct Store {
    provider: std::result::Result<Arc<dyn Provider>, String>,
}

impl Store {
    fn new(provider: Result<Arc<dyn Provider>>) -> Store {
        Store { provider: provider.map_err(|e| e.to_string()) }
    }

    fn provider(&self) -> Result<Arc<dyn Provider>> {
        self.provider.clone().map_err(Error::InvalidInput)
    }

    /// The provider and the target, checked.
    fn target(&self, by: By, id: String) -> Result<(Arc<dyn Provider>, Target)> {
        let provider = self.provider()?;
        let target = match by {
            By::Key => Target::Key(id),
            By::ExternalId => Target::ExternalId(id),
            By::FileId => Target::FileId(id),
        };
        match &target {
            Target::Key(key) => provider.check_key(key)?,
            Target::FileId(_) if !provider.has_file_ids() => return Err(crate::provider::no_file_ids()),
            _ => {}
        }
        Ok((provider, target))
    }
}

#[napi]
impl Store {
    /// `LocalStorageProvider`: files under `root` (absolute; JS resolves it), URLs under
    /// `base_url`.
    #[napi(factory)]
    pub fn local(root: String, base_url: String) -> Store {
        Store::new(Ok(local::connect(root, base_url)))
    }

    /// `S3CompatibleProvider` and the five services built on it.
    #[napi(factory)]
    pub fn s3(config: s3::S3Config) -> Store {
        Store::new(s3::connect(&config).map(bucket::Bucket::provider))
    }

    /// `GCPStorageProvider`.
    #[napi(factory)]
    pub fn gcs(config: gcs::GcsConfig) -> Store {
        Store::new(gcs::connect(&config).map(bucket::Bucket::provider))
    }

    /// `AzureStorageProvider`.
    #[napi(factory)]
    pub fn azure(config: azure::AzureConfig) -> Store {
        Store::new(azure::connect(&config).map(bucket::Bucket::provider))
    }

    /// `CrunchyConeProvider`, its configuration resolved now.
    #[napi(factory)]
    pub fn crunchycone(input: crunchycone::ConfigInput) -> Store {
        Store::new(crunchycone::connect(&input))
    }

    /// The bucket uploads go to, where the backend has one.
    #[napi(getter)]
    pub fn bucket_name(&self) -> Option<String> {
        self.provider.as_ref().ok().and_then(|p| p.bucket().map(str::to_string))
    }

    /// The default `timeout` of a stream in ms (0: none, also while the configuration is invalid).
    #[napi(getter)]
    pub fn stream_timeout(&self) -> u32 {
        self.provider.as_ref().map_or(0, |p| p.stream_timeout_ms())
    }

    #[napi]
    pub async fn begin_upload(&self, options: UploadOptions) -> napi::Result<NativeUpload> {
        let upload = self.provider()?.begin_upload(options).await?;
        let words = upload.failure_words();
        Ok(NativeUpload { upload: Mutex::new(Some(upload)), words })
    }

    #[napi]
    pub async fn exists(&self, key: String) -> napi::Result<bool> {
        Ok(self.provider()?.exists(key).await?)
    }

    #[napi]
    pub async fn find(&self, external_id: String) -> napi::Result<Option<FileRecord>> {
        Ok(self.provider()?.find(external_id).await?)
    }

    #[napi]
    pub async fn list(&self, options: ListOptions, search: bool) -> napi::Result<ListResult> {
        Ok(self.provider()?.list(options, search).await?)
    }

    #[napi]
    pub async fn delete(&self, by: By, id: String) -> napi::Result<()> {
        let (provider, target) = self.target(by, id)?;
        Ok(provider.delete(target).await?)
    }

    #[napi]
    pub async fn url(
        &self,
        by: By,
        id: String,
        expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> napi::Result<String> {
        let (provider, target) = self.target(by, id)?;
        Ok(provider.url(target, expires_in, disposition).await?)
    }

    /// Sets each target's visibility in turn; every target is checked before any changes.
    #[napi]
    pub async fn set_visibility(
        &self,
        by: By,
        ids: Vec<String>,
        visibility: String,
    ) -> napi::Result<Vec<VisibilityResult>> {
        let public = parse_visibility(&visibility)?;
        let targets = ids.into_iter().map(|id| self.target(by, id)).collect::<Result<Vec<_>>>()?;
        let mut results = Vec::with_capacity(targets.len());
        for (provider, target) in targets {
            results.push(provider.set_visibility(target, public).await?);
        }
        Ok(results)
    }

    #[napi]
    pub async fn get_visibility(&self, by: By, id: String) -> napi::Result<VisibilityStatus> {
        let (provider, target) = self.target(by, id)?;
        Ok(provider.get_visibility(target).await?)
    }

    /// A stream handle; checks the target and the range now, all I/O happens in `open()`.
    #[napi]
    pub fn stream(
        &self,
        by: By,
        id: String,
        range: RangeRequest,
        include_metadata: bool,
        parallel: Option<ParallelOptions>,
    ) -> napi::Result<NativeStream> {
        let (provider, target) = self.target(by, id)?;
        let range = range.check()?;
        let parallel = parallel.map(ParallelOptions::check).transpose()?;
        Ok(NativeStream::new(provider.open(target, range, include_metadata, parallel)))
    }
}

/// An upload in progress: `write()` chunks or `copyFrom()` a path, then `finish()`; `abort()`
/// discards what was written.
#[napi]
pub struct NativeUpload {
    upload: Mutex<Option<Box<dyn Upload>>>,
    /// How a failure reads: `{0}{cause}{1}`.
    words: (String, String),
}

fn finished() -> Error {
    Error::InvalidInput("The upload is already finished".into())
}

#[napi]
impl NativeUpload {
    #[napi]
    pub async fn write(&self, chunk: Buffer) -> napi::Result<()> {
        let mut upload = self.upload.lock().await;
        Ok(upload.as_mut().ok_or_else(finished)?.write(Bytes::from_owner(chunk)).await?)
    }

    #[napi]
    pub async fn copy_from(&self, path: String) -> napi::Result<()> {
        let mut upload = self.upload.lock().await;
        Ok(upload.as_mut().ok_or_else(finished)?.copy_from(&path).await?)
    }

    #[napi]
    pub async fn finish(&self) -> napi::Result<FileRecord> {
        let upload = self.upload.lock().await.take().ok_or_else(finished)?;
        Ok(upload.finish().await?)
    }

    /// Discards what was written, once a write in flight has finished (it holds the upload).
    #[napi]
    pub async fn abort(&self) {
        if let Some(upload) = self.upload.lock().await.take() {
            upload.abort().await;
        }
    }

    /// The message of a failure with `cause`, in the backend's words.
    #[napi]
    pub fn failure(&self, cause: String) -> String {
        format!("{}{cause}{}", self.words.0, self.words.1)
    }
}
