//! LocalStorageProvider: files under a root directory, each with a `<key>.json` sidecar in the
//! original's format.

mod catalog;
mod confined;
mod sidecar;
mod temp;
mod upload;

use std::io::{self, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use cap_std::fs::Dir;

use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult};
use crate::parts::Parallel;
use crate::provider::{Provider, Target};
use crate::range::{self, Requested};
use crate::stream::{Body, Opened, Opener};
use crate::upload::{Upload, UploadOptions};
use crate::visibility::{visibility_name, VisibilityResult, VisibilityStatus};
use catalog::{read_sidecar, Catalog};
use confined::{kind, lock, Place, Root};
use temp::{Sweeper, Temp};

/// Runs blocking file-system work off the JS thread and off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Provider(format!("Internal error: {e}")))?
}

/// The name of the sidecar of the file `name`.
fn meta_name(name: &str) -> String {
    format!("{name}{}", sidecar::SUFFIX)
}

/// Writes `bytes` to `name` in `dir` through a temporary file and a rename.
fn write_atomically(dir: &Dir, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut temp = Temp::create(dir, name)?;
    temp.file.write_all(bytes)?;
    temp.commit(name)
}

pub(crate) struct Store {
    root: Root,
    base_url: String,
    catalog: Catalog,
    sweeper: Sweeper,
}

impl Store {
    /// Where `key` lives (see `Root::locate`). Beyond the key rules, refuses a key that is a link
    /// and a key whose file holds another file's metadata.
    fn place(&self, key: &str, create: bool) -> Result<Option<Place>> {
        let key = crate::keys::validate(key)?;
        let refuse = |reason| Error::InvalidKey { key: key.to_string(), reason };
        let Some(place) = self.root.locate(key, create)? else { return Ok(None) };
        if kind(&place.dir, &place.name).is_some_and(|t| t.is_symlink()) {
            return Err(refuse("keys must not pass through symbolic links"));
        }
        if let Some(owner) = key.strip_suffix(sidecar::SUFFIX) {
            if read_sidecar(&place.dir, &place.name, owner).is_some() {
                return Err(refuse("this path holds the metadata of another file"));
            }
        }
        Ok(Some(place))
    }

    fn url_of(&self, key: &str) -> String {
        format!("{}/{}", self.base_url, key)
    }

    fn remove(&self, key: &str) -> Result<()> {
        let Some(p) = self.place(key, false)? else { return Ok(()) };
        let failed = |e: io::Error| Error::Provider(format!("Failed to delete file: {e}"));
        let _lock = lock(&p.dir, true).map_err(failed)?;
        let meta = meta_name(&p.name);
        // Only a real sidecar of `key` goes: `key.json` may be another file's content.
        let genuine = read_sidecar(&p.dir, &meta, key).is_some();
        confined::remove(&p.dir, &p.name).map_err(failed)?;
        if genuine {
            let _ = confined::remove(&p.dir, &meta);
        }
        Ok(())
    }

    /// Whether `key` is a file `getFileStream` would serve: a regular file.
    fn is_file(&self, key: &str) -> Result<bool> {
        Ok(self.place(key, false)?.is_some_and(|p| kind(&p.dir, &p.name).is_some_and(|t| t.is_file())))
    }

    /// Deletes the sidecar of `key` if its content file is (still) gone, as the original does.
    fn remove_orphan(&self, key: &str) {
        let Ok(Some(p)) = self.place(key, false) else { return };
        let Ok(_lock) = lock(&p.dir, true) else { return };
        if !kind(&p.dir, &p.name).is_some_and(|t| t.is_file()) {
            let _ = confined::remove(&p.dir, &meta_name(&p.name));
        }
    }

    /// Finds the file of an external id: the index's candidates first, verified on disk; a walk if
    /// none checks out. A sidecar whose content file is gone is deleted, as the original does.
    fn lookup(&self, id: &str) -> Result<Option<FileRecord>> {
        let root = self.root.open()?;
        let (mut keys, mut walked) = self.catalog.candidates(&root, id);
        loop {
            for key in keys {
                let Ok(Some(p)) = self.place(&key, false) else { continue };
                let Some(s) = read_sidecar(&p.dir, &meta_name(&p.name), &key).filter(|s| s.external_id() == id) else {
                    continue;
                };
                if kind(&p.dir, &p.name).is_some_and(|t| t.is_file()) {
                    return Ok(Some(s.record()));
                }
                self.remove_orphan(&key);
            }
            if walked {
                break;
            }
            self.catalog.refresh(&root);
            (keys, walked) = (self.catalog.candidates(&root, id).0, true);
        }
        Ok(None)
    }

    fn query(&self, o: &ListOptions, search: bool) -> Result<ListResult> {
        listing::validate(o)?;
        let root = self.root.open()?;
        let mut files = Vec::new();
        for entry in self.catalog.refresh(&root) {
            if entry.content_exists {
                files.push(entry.sidecar.record());
            } else {
                self.remove_orphan(entry.sidecar.key());
            }
        }
        listing::query(files, o, search, listing::Collation::Locale)
    }

    fn mark(&self, key: &str, public: bool) -> Result<VisibilityResult> {
        let failed = |message: String| VisibilityResult::new(public, false, false, message);
        let not_found = || failed(format!("File with key {key} not found"));
        let Some(p) = self.place(key, false)? else { return Ok(not_found()) };
        let _lock = match lock(&p.dir, true) {
            Ok(l) => l,
            Err(e) => return Ok(failed(format!("Failed to update file visibility metadata: {e}"))),
        };
        if !kind(&p.dir, &p.name).is_some_and(|t| t.is_file()) {
            return Ok(not_found());
        }
        let meta = meta_name(&p.name);
        let Some(mut s) = read_sidecar(&p.dir, &meta, key) else {
            return Ok(failed("Failed to update file visibility metadata: no valid metadata file".into()));
        };
        let url = self.url_of(key);
        s.set_visibility(public.then_some(url.as_str()));
        if let Err(e) = write_atomically(&p.dir, &meta, &s.to_bytes()) {
            return Ok(failed(format!("Failed to update file visibility metadata: {e}")));
        }
        let message = if public {
            "File marked as public. Access controlled by web server endpoint routing."
        } else {
            "File marked as private. Access requires authentication through web server."
        };
        Ok(VisibilityResult {
            public_url: public.then_some(url.into()),
            provider_specific: Some(serde_json::json!({ "diskStorage": true, "webServerControlled": true })),
            ..VisibilityResult::new(public, true, public, message)
        })
    }

    fn visibility(&self, key: &str) -> Result<VisibilityStatus> {
        let not_found = || Error::NotFound(format!("File with key {key} not found"));
        let p = self.place(key, false)?.ok_or_else(not_found)?;
        if !kind(&p.dir, &p.name).is_some_and(|t| t.is_file()) {
            return Err(not_found());
        }
        let parsed = confined::read(&p.dir, &meta_name(&p.name)).and_then(|b| sidecar::Sidecar::parse(&b));
        let (public, message) = match &parsed {
            Some(s) if s.is_public() => {
                (true, "File marked as public in metadata. Access controlled by web server endpoint.")
            }
            Some(_) => (false, "File is private. Web server will require authentication to access."),
            None => (false, "File is private. No visibility metadata found - web server will require authentication."),
        };
        Ok(VisibilityStatus {
            visibility: visibility_name(public).into(),
            public_url: public.then(|| self.url_of(key)),
            can_make_public: true,
            can_make_private: true,
            supports_temporary_access: false,
            message: Some(message.into()),
        })
    }

    /// Opens the file (a regular file only), resolves the range and positions a reader at its start.
    /// The file and its sidecar are read under the directory's shared lock, so they come from the
    /// same upload.
    fn open_file(&self, key: &str, req: Option<Requested>, include_metadata: bool) -> Result<Opened> {
        let not_found = || Error::NotFound(format!("File not found: {key}"));
        let p = self.place(key, false)?.ok_or_else(not_found)?;
        let failed = |e| Error::io(format!("Failed to open file {key}"), e);
        let lock = lock(&p.dir, false).map_err(failed)?;
        let (mut file, meta) = confined::open_regular(&p.dir, &p.name).map_err(failed)?.ok_or_else(not_found)?;
        let range = range::resolve(req, meta.len())?;
        let sidecar = if include_metadata { read_sidecar(&p.dir, &meta_name(&p.name), key) } else { None };
        drop(lock);
        let mtime_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_millis() as f64);
        file.seek(SeekFrom::Start(range.start)).map_err(|e| Error::io(format!("Failed to read file {key}"), e))?;
        Ok(Opened {
            range,
            content_type: sidecar
                .as_ref()
                .and_then(|s| s.content_type().map(str::to_string))
                .unwrap_or_else(|| crate::content_type::from_name(key).into()),
            last_modified_ms: sidecar.as_ref().and_then(|s| s.last_modified_ms()).or(Some(mtime_ms)),
            etag: Some(
                sidecar
                    .as_ref()
                    .and_then(|s| s.etag().map(str::to_string))
                    .unwrap_or_else(|| format!("W/\"{:x}-{:x}\"", meta.len(), mtime_ms as u64)),
            ),
            cache_control: None,
            extra: None,
            body: Body::Blocking(Box::new(file)),
        })
    }
}

/// The provider for files under `root` (absolute), with URLs under `base_url`. Creating the root
/// is retried by every operation, so this never fails or crashes the process because of the file
/// system. It removes the temporary files that writers which died left behind (see `temp`).
pub fn connect(root: String, base_url: String) -> Arc<dyn Provider> {
    let store =
        Store { root: Root::new(PathBuf::from(root)), base_url, catalog: Catalog::default(), sweeper: Sweeper::new() };
    if let Ok(dir) = store.root.open() {
        temp::sweep_tree(&dir);
    }
    Arc::new(store)
}

/// The original's words for an external id that names no file (quoted by some methods).
fn no_file(id: &str, quoted: bool) -> Error {
    Error::NotFound(if quoted {
        format!("File with external_id \"{id}\" not found")
    } else {
        format!("File with external_id {id} not found")
    })
}

impl Store {
    /// The key a target names; by external id, found as the original finds it.
    fn key_of(&self, target: &Target, quoted: bool) -> Result<String> {
        match target {
            Target::Key(key) => Ok(key.clone()),
            Target::ExternalId(id) => self.lookup(id)?.map(|r| r.key).ok_or_else(|| no_file(id, quoted)),
            Target::FileId(_) => Err(crate::provider::no_file_ids()),
        }
    }
}

/// Every method runs its file-system work on a blocking thread, off the JS thread and the async
/// workers.
#[async_trait]
impl Provider for Store {
    async fn exists(self: Arc<Self>, key: String) -> Result<bool> {
        blocking(move || self.is_file(&key)).await
    }

    async fn find(self: Arc<Self>, external_id: String) -> Result<Option<FileRecord>> {
        blocking(move || self.lookup(&external_id)).await
    }

    async fn list(self: Arc<Self>, options: ListOptions, search: bool) -> Result<ListResult> {
        blocking(move || self.query(&options, search)).await
    }

    async fn delete(self: Arc<Self>, target: Target) -> Result<()> {
        blocking(move || self.remove(&self.key_of(&target, true)?)).await
    }

    async fn url(self: Arc<Self>, target: Target, _expires_in: Option<f64>, _: Option<String>) -> Result<String> {
        match target {
            Target::Key(key) => Ok(self.url_of(&key)),
            _ => blocking(move || Ok(self.url_of(&self.key_of(&target, true)?))).await,
        }
    }

    async fn set_visibility(self: Arc<Self>, target: Target, public: bool) -> Result<VisibilityResult> {
        blocking(move || match self.key_of(&target, false) {
            Ok(key) => self.mark(&key, public),
            Err(Error::NotFound(message)) => Ok(VisibilityResult::new(public, false, false, message)),
            Err(e) => Err(e),
        })
        .await
    }

    async fn get_visibility(self: Arc<Self>, target: Target) -> Result<VisibilityStatus> {
        blocking(move || self.visibility(&self.key_of(&target, false)?)).await
    }

    fn open(
        self: Arc<Self>,
        target: Target,
        range: Option<Requested>,
        include_metadata: bool,
        _parallel: Option<Parallel>,
    ) -> Opener {
        Opener::Blocking(Box::new(move || self.open_file(&self.key_of(&target, true)?, range, include_metadata)))
    }

    async fn begin_upload(self: Arc<Self>, options: UploadOptions) -> Result<Box<dyn Upload>> {
        let upload = blocking(move || upload::LocalUpload::begin(self, options)).await?;
        Ok(Box::new(upload::Blocking::new(upload)))
    }
}
