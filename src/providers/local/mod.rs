//! LocalStorageProvider: files under a root directory, each with a `<key>.json` sidecar in the
//! original's format. The JS class (`lib/providers/local.js`) adapts this to the original API.

mod catalog;
mod sidecar;
mod upload;

use std::fs;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::sync::Arc;

use napi_derive::napi;

use crate::error::{Error, Result};
use crate::listing::{self, FileRecord, ListOptions, ListResult};
use crate::range::{self, RangeRequest, Requested};
use crate::stream::{Body, NativeStream, Opened, Opener};
use crate::visibility::{parse_visibility, visibility_name, VisibilityResult, VisibilityStatus};
use catalog::{read_sidecar, Catalog};
pub use upload::{NativeUpload, UploadOptions};

/// Runs blocking file-system work off the JS thread and off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Provider(format!("Internal error: {e}")))?
}

/// Where a key's content and metadata live under the root.
struct Paths {
    file: PathBuf,
    meta: PathBuf,
}

pub(crate) struct Store {
    root: PathBuf,
    base_url: String,
    catalog: Catalog,
}

impl Store {
    /// The storage root exists (the original creates it in its constructor).
    fn ready(&self) -> Result<()> {
        fs::create_dir_all(&self.root)
            .map_err(|e| Error::Provider(format!("Failed to create storage directory at {}: {e}", self.root.display())))
    }

    /// The file of `key` under the root. Beyond the key rules, refuses a path that passes through a
    /// symbolic link (it could lead outside the root) and a path that holds another file's metadata.
    fn path(&self, key: &str) -> Result<PathBuf> {
        let key = crate::keys::validate(key)?;
        let refuse = |reason| Error::InvalidKey { key: key.to_string(), reason };
        let mut at = self.root.clone();
        for segment in key.split('/') {
            at.push(segment);
            match fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return Err(refuse("keys must not pass through symbolic links")),
                Ok(_) => {}
                Err(_) => break, // the rest does not exist yet
            }
        }
        let path = self.root.join(key);
        if let Some(owner) = key.strip_suffix(sidecar::SUFFIX) {
            if read_sidecar(&path, owner).is_some() {
                return Err(refuse("this path holds the metadata of another file"));
            }
        }
        Ok(path)
    }

    /// The content file of `key` and its metadata file, both checked once (see `path`).
    fn paths(&self, key: &str) -> Result<Paths> {
        let file = self.path(key)?;
        let mut meta = file.clone().into_os_string();
        meta.push(sidecar::SUFFIX);
        let meta = PathBuf::from(meta);
        if fs::symlink_metadata(&meta).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::InvalidKey { key: key.to_string(), reason: "its metadata file is a symbolic link" });
        }
        Ok(Paths { file, meta })
    }

    fn url(&self, key: &str) -> String {
        format!("{}/{}", self.base_url, key)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let paths = self.paths(key)?;
        let genuine = read_sidecar(&paths.meta, key).is_some();
        match fs::remove_file(&paths.file) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Provider(format!("Failed to delete file: {e}"))),
        }
        // Only a real sidecar of `key` goes: `key.json` may be another file's content.
        if genuine {
            let _ = fs::remove_file(&paths.meta);
        }
        Ok(())
    }

    fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.path(key)?.exists())
    }

    /// Finds the file of an external id: the index's candidates first, verified on disk; a walk if
    /// none checks out. A sidecar whose content file is gone is deleted, as the original does.
    fn find(&self, id: &str) -> Result<Option<FileRecord>> {
        self.ready()?;
        let (mut keys, mut walked) = self.catalog.candidates(id);
        loop {
            for key in keys {
                let Ok(paths) = self.paths(&key) else { continue };
                let Some(s) = read_sidecar(&paths.meta, &key).filter(|s| s.external_id() == id) else {
                    continue;
                };
                if paths.file.exists() {
                    return Ok(Some(s.record()));
                }
                let _ = fs::remove_file(&paths.meta);
            }
            if walked {
                break;
            }
            self.catalog.refresh();
            (keys, walked) = (self.catalog.candidates(id).0, true);
        }
        Ok(None)
    }

    fn list(&self, o: &ListOptions, search: bool) -> Result<ListResult> {
        listing::validate(o)?;
        self.ready()?;
        let mut files = Vec::new();
        for entry in self.catalog.refresh() {
            if entry.content_exists {
                files.push(entry.sidecar.record());
            } else if let Ok(paths) = self.paths(entry.sidecar.key()) {
                let _ = fs::remove_file(paths.meta);
            }
        }
        listing::query(files, o, search)
    }

    fn set_visibility(&self, key: &str, public: bool) -> Result<VisibilityResult> {
        let failed = |message: String| VisibilityResult::new(public, false, false, message);
        let Paths { file, meta } = self.paths(key)?;
        if !file.exists() {
            return Ok(failed(format!("File with key {key} not found")));
        }
        let Some(mut s) = read_sidecar(&meta, key) else {
            return Ok(failed("Failed to update file visibility metadata: no valid metadata file".into()));
        };
        let url = self.url(key);
        s.set_visibility(public.then_some(url.as_str()));
        if let Err(e) = upload::write_atomically(&meta, &s.to_bytes()) {
            return Ok(failed(format!("Failed to update file visibility metadata: {e}")));
        }
        let message = if public {
            "File marked as public. Access controlled by web server endpoint routing."
        } else {
            "File marked as private. Access requires authentication through web server."
        };
        Ok(VisibilityResult {
            public_url: public.then_some(url),
            provider_specific: Some(serde_json::json!({ "diskStorage": true, "webServerControlled": true })),
            ..VisibilityResult::new(public, true, public, message)
        })
    }

    fn get_visibility(&self, key: &str) -> Result<VisibilityStatus> {
        let paths = self.paths(key)?;
        if !paths.file.exists() {
            return Err(Error::NotFound(format!("File with key {key} not found")));
        }
        let parsed = fs::read(&paths.meta).ok().and_then(|b| sidecar::Sidecar::parse(&b));
        let (public, message) = match &parsed {
            Some(s) if s.is_public() => {
                (true, "File marked as public in metadata. Access controlled by web server endpoint.")
            }
            Some(_) => (false, "File is private. Web server will require authentication to access."),
            None => (false, "File is private. No visibility metadata found - web server will require authentication."),
        };
        Ok(VisibilityStatus {
            visibility: visibility_name(public).into(),
            public_url: public.then(|| self.url(key)),
            can_make_public: true,
            can_make_private: true,
            supports_temporary_access: false,
            message: Some(message.into()),
        })
    }

    /// Stats the file, resolves the range and positions a reader at its start.
    fn open(&self, key: &str, req: Option<Requested>, include_metadata: bool) -> Result<Opened> {
        let paths = self.paths(key)?;
        let not_found = || Error::NotFound(format!("File not found: {key}"));
        // O_NONBLOCK: opening a FIFO or device must not wait; only regular files are served.
        let mut file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&paths.file)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => not_found(),
                _ => Error::io(format!("Failed to open file {key}"), e),
            })?;
        let meta = file.metadata().map_err(|e| Error::io(format!("Failed to stat file {key}"), e))?;
        if !meta.is_file() {
            return Err(not_found());
        }
        let range = range::resolve(req, meta.len())?;
        let sidecar = if include_metadata { read_sidecar(&paths.meta, key) } else { None };
        let mtime_ms = meta.mtime() as f64 * 1000.0 + (meta.mtime_nsec() / 1_000_000) as f64;
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

/// The native half of `LocalStorageProvider`.
#[napi]
pub struct LocalStore {
    store: Arc<Store>,
}

#[napi]
impl LocalStore {
    /// `root` must be absolute (JS resolves it). Creating the root is retried by every operation,
    /// so a constructor never fails or crashes the process because of the file system.
    #[napi(constructor)]
    pub fn new(root: String, base_url: String) -> Self {
        let root = PathBuf::from(root);
        let store = Store { catalog: Catalog::new(root.clone()), root, base_url };
        let _ = store.ready();
        LocalStore { store: Arc::new(store) }
    }

    #[napi]
    pub async fn begin_upload(&self, options: UploadOptions) -> napi::Result<NativeUpload> {
        let store = self.store.clone();
        Ok(blocking(move || upload::Upload::begin(store, options)).await?.into())
    }

    #[napi]
    pub async fn delete(&self, key: String) -> napi::Result<()> {
        let store = self.store.clone();
        Ok(blocking(move || store.delete(&key)).await?)
    }

    #[napi]
    pub fn url(&self, key: String) -> napi::Result<String> {
        crate::keys::validate(&key)?;
        Ok(self.store.url(&key))
    }

    #[napi]
    pub async fn exists(&self, key: String) -> napi::Result<bool> {
        let store = self.store.clone();
        Ok(blocking(move || store.exists(&key)).await?)
    }

    #[napi]
    pub async fn find(&self, external_id: String) -> napi::Result<Option<FileRecord>> {
        let store = self.store.clone();
        Ok(blocking(move || store.find(&external_id)).await?)
    }

    #[napi]
    pub async fn list(&self, options: ListOptions, search: bool) -> napi::Result<ListResult> {
        let store = self.store.clone();
        Ok(blocking(move || store.list(&options, search)).await?)
    }

    #[napi]
    pub async fn set_visibility(&self, keys: Vec<String>, visibility: String) -> napi::Result<Vec<VisibilityResult>> {
        let public = parse_visibility(&visibility)?;
        // All keys are checked before any file changes.
        for key in &keys {
            crate::keys::validate(key)?;
        }
        let store = self.store.clone();
        Ok(blocking(move || keys.iter().map(|k| store.set_visibility(k, public)).collect()).await?)
    }

    #[napi]
    pub async fn get_visibility(&self, key: String) -> napi::Result<VisibilityStatus> {
        let store = self.store.clone();
        Ok(blocking(move || store.get_visibility(&key)).await?)
    }

    /// A stream handle for `key`. Checks the key and range now; all I/O happens in `open()`.
    #[napi]
    pub fn stream(
        &self,
        key: String,
        start: Option<f64>,
        end: Option<f64>,
        include_metadata: bool,
    ) -> napi::Result<NativeStream> {
        crate::keys::validate(&key)?;
        let req = RangeRequest { start, end }.check()?;
        let store = self.store.clone();
        let opener = Opener::Blocking(Box::new(move || store.open(&key, req, include_metadata)));
        Ok(NativeStream::new(opener))
    }
}
