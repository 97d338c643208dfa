//! The contract every backend implements: one set of methods over a [`Target`], so a new backend
//! is one type implementing [`Provider`] (and [`Upload`](crate::upload::Upload) for its uploads),
//! one factory in `binding.rs`, and one line in `lib/`. The napi class over it is in `binding.rs`;
//! this module, like every provider, knows nothing of napi or of any concrete backend.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::listing::{FileRecord, ListOptions, ListResult};
use crate::parts::Parallel;
use crate::range::Requested;
use crate::stream::Opener;
use crate::upload::{Upload, UploadOptions};
use crate::visibility::{VisibilityResult, VisibilityStatus};

/// What a method addresses: a key, the `*ByExternalId` methods' external id, or the file id a
/// backend gives its records (CrunchyCone's `updateFileVisibilityById`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Key(String),
    ExternalId(String),
    FileId(String),
}

impl Target {
    /// The original's words for a target that names nothing.
    pub fn not_found(&self) -> String {
        match self {
            Target::Key(k) => format!("File with key {k} not found"),
            Target::ExternalId(id) => format!("File with external_id {id} not found"),
            Target::FileId(id) => format!("File with ID {id} not found"),
        }
    }
}

/// The error for a file id given to a backend without them.
pub fn no_file_ids() -> Error {
    Error::InvalidInput("This provider has no file ids".into())
}

/// One storage backend. Every method is called from the napi class in `binding.rs` with a handle
/// of its own (`Arc<Self>`), so what it returns may outlive the call (streams, uploads).
///
/// Errors carry the original's messages; a method that the original reports as a result rather
/// than a rejection (`setFileVisibility`) returns a failed result instead of an `Err`.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Refuses, before any request, a key no upload could have written.
    fn check_key(&self, key: &str) -> Result<()> {
        crate::keys::validate(key).map(|_| ())
    }

    /// Whether the backend gives its files ids of its own ([`Target::FileId`]); the methods of one
    /// that does not are never called with one.
    fn has_file_ids(&self) -> bool {
        false
    }

    /// Whether `key` exists. Only "not found" answers false; other failures are errors.
    async fn exists(self: Arc<Self>, key: String) -> Result<bool>;

    /// The file with `external_id`, if any.
    async fn find(self: Arc<Self>, external_id: String) -> Result<Option<FileRecord>>;

    /// One page of `listFiles`, or of `searchFiles` when `search`.
    async fn list(self: Arc<Self>, options: ListOptions, search: bool) -> Result<ListResult>;

    async fn delete(self: Arc<Self>, target: Target) -> Result<()>;

    /// `getFileUrl`: `expires_in` seconds where the backend signs URLs, and the disposition asked
    /// for (`inline` or `attachment`).
    async fn url(
        self: Arc<Self>,
        target: Target,
        expires_in: Option<f64>,
        disposition: Option<String>,
    ) -> Result<String>;

    async fn set_visibility(self: Arc<Self>, target: Target, public: bool) -> Result<VisibilityResult>;

    async fn get_visibility(self: Arc<Self>, target: Target) -> Result<VisibilityStatus>;

    /// What opens a stream of the target (all I/O happens when the stream opens). The key has
    /// passed [`check_key`](Provider::check_key) and the range its own checks. Backends that
    /// stream over HTTP split a large read into parts fetched at once as `parallel` says
    /// ([`crate::parts`]); files ignore it.
    fn open(
        self: Arc<Self>,
        target: Target,
        range: Option<Requested>,
        include_metadata: bool,
        parallel: Option<Parallel>,
    ) -> Opener;

    async fn begin_upload(self: Arc<Self>, options: UploadOptions) -> Result<Box<dyn Upload>>;

    /// The bucket uploads go to, where the backend has one (`uploadFile`'s `bucket` may only name
    /// it).
    fn bucket(&self) -> Option<&str> {
        None
    }

    /// The default `timeout` of a stream, in ms (0: none).
    fn stream_timeout_ms(&self) -> u32 {
        0
    }
}
