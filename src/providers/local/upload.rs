//! Uploads to local storage: the content goes to a temporary file next to its destination and is
//! renamed into place only when complete, so a failed upload never damages an existing file and a
//! reader never sees half a file. Memory use is one chunk, whatever the size.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use super::sidecar::{self, Sidecar, SUFFIX};
use super::{blocking, Store};
use crate::error::{Error, Result};
use crate::listing::FileRecord;
pub use crate::upload::UploadOptions;

/// A temporary name in the destination's directory. It starts with a dot and does not end in
/// `.json`, so listings never mistake it for a file or a sidecar.
fn temp_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("upload");
    dest.with_file_name(format!(".{name}.{:016x}.ccs-part", rand::random::<u64>()))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub(super) struct Upload {
    store: Arc<Store>,
    options: UploadOptions,
    key: String,
    paths: super::Paths,
    tmp: PathBuf,
    file: Option<File>,
    size: u64,
}

impl Upload {
    /// Checks the key, creates the parent directory and the temporary file.
    pub fn begin(store: Arc<Store>, options: UploadOptions) -> Result<Self> {
        store.ready()?;
        let now = Utc::now().timestamp_millis();
        let key = options.key_at(now);
        let paths = store.paths(&key)?;
        // The original keeps metadata in `<key>.json`, so `doc.json` and the sidecar of `doc` are one
        // path. `path()` refuses a key that is another file's metadata; refuse too a key whose
        // metadata would overwrite another file.
        let metadata_key = format!("{key}{SUFFIX}");
        let metadata_own = store.root.join(format!("{metadata_key}{SUFFIX}"));
        if super::catalog::read_sidecar(&metadata_own, &metadata_key).is_some() {
            return Err(Error::InvalidKey { key, reason: "its metadata file would overwrite another file" });
        }
        let parent = paths.file.parent().expect("a validated key has a parent").to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| Error::io("Failed to create directory", e))?;
        let tmp = temp_path(&paths.file);
        let file = File::create_new(&tmp).map_err(|e| Error::io("Failed to create file", e))?;
        Ok(Upload { store, options, key, paths, tmp, file: Some(file), size: 0 })
    }

    fn file(&mut self) -> Result<&mut File> {
        self.file.as_mut().ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file()?.write_all(bytes).map_err(|e| Error::io("Failed to write file", e))?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    pub fn copy_from(&mut self, source: &Path) -> Result<()> {
        let mut src = File::open(source).map_err(|e| Error::io(format!("Failed to open {}", source.display()), e))?;
        let n = io::copy(&mut src, self.file()?).map_err(|e| Error::io("Failed to copy file", e))?;
        self.size += n;
        Ok(())
    }

    /// Moves the content into place, then writes the sidecar.
    pub fn finish(mut self) -> Result<FileRecord> {
        self.file()?.sync_data().map_err(|e| Error::io("Failed to write file", e))?;
        let o = &self.options;
        let content_type = match &o.content_type {
            Some(ct) => ct.clone(),
            None => crate::content_type::from_name(o.filename.as_deref().unwrap_or(&self.key)).to_string(),
        };
        let url = self.store.url(&self.key);
        let s = Sidecar::new(sidecar::New {
            external_id: &o.external_id,
            key: &self.key,
            filename: o.filename.as_deref(),
            content_type: &content_type,
            size: self.size,
            last_modified: Utc::now(),
            url: &url,
            public: o.public.unwrap_or(false),
            metadata: o.metadata.as_ref(),
        });
        // Both new files are complete before either replaces anything: a failure up to here leaves
        // the previous file and its metadata as they were.
        let sidecar_tmp = temp_path(&self.paths.meta);
        let staged = fs::write(&sidecar_tmp, s.to_bytes())
            .and_then(|()| fs::rename(&self.tmp, &self.paths.file))
            .and_then(|()| {
                // In place: nothing temporary is left for Drop to remove.
                self.file = None;
                fs::rename(&sidecar_tmp, &self.paths.meta)
            });
        if let Err(e) = staged {
            let _ = fs::remove_file(&sidecar_tmp);
            return Err(Error::io("Failed to move file into place", e));
        }
        self.store.catalog.note(&o.external_id, &self.key);
        let mut record = s.record();
        record.metadata = o.metadata.clone();
        record.last_modified_ms = None;
        Ok(record)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A native upload in progress: `write()` chunks or `copyFrom()` a path, then `finish()`;
/// `abort()` (or garbage collection) removes the partial file.
#[napi]
pub struct NativeUpload {
    inner: Arc<Mutex<Option<Upload>>>,
}

impl From<Upload> for NativeUpload {
    fn from(u: Upload) -> Self {
        NativeUpload { inner: Arc::new(Mutex::new(Some(u))) }
    }
}

impl NativeUpload {
    async fn with<T: Send + 'static>(&self, f: impl FnOnce(&mut Upload) -> Result<T> + Send + 'static) -> Result<T> {
        let inner = self.inner.clone();
        blocking(move || {
            let mut guard = inner.lock().unwrap();
            let upload = guard.as_mut().ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?;
            f(upload)
        })
        .await
    }
}

#[napi]
impl NativeUpload {
    #[napi]
    pub async fn write(&self, chunk: Buffer) -> napi::Result<()> {
        Ok(self.with(move |u| u.write(&chunk)).await?)
    }

    #[napi]
    pub async fn copy_from(&self, path: String) -> napi::Result<()> {
        Ok(self.with(move |u| u.copy_from(Path::new(&path))).await?)
    }

    #[napi]
    pub async fn finish(&self) -> napi::Result<FileRecord> {
        let inner = self.inner.clone();
        Ok(blocking(move || {
            let upload = inner.lock().unwrap().take();
            upload.ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?.finish()
        })
        .await?)
    }

    #[napi]
    pub fn abort(&self) {
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        }
    }
}
