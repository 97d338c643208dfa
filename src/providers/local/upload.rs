//! Uploads to local storage: the content goes to a temporary file next to its destination (see
//! `temp`) and is renamed into place only when complete, so a failed upload never damages an
//! existing file and a reader never sees half a file. Memory use is one chunk, whatever the size.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;

use super::catalog::read_sidecar;
use super::confined::{lock, Place};
use super::sidecar::{self, Sidecar, SUFFIX};
use super::temp::Temp;
use super::{blocking, meta_name, Store};
use crate::error::{Error, Result};
use crate::listing::FileRecord;
use crate::upload::{Upload, UploadOptions};

pub(super) struct LocalUpload {
    store: Arc<Store>,
    options: UploadOptions,
    key: String,
    place: Place,
    /// The content being written; `None` once finished.
    temp: Option<Temp>,
    size: u64,
}

impl LocalUpload {
    /// Checks the key, creates the parent directory and the temporary file.
    pub fn begin(store: Arc<Store>, options: UploadOptions) -> Result<Self> {
        let now = Utc::now().timestamp_millis();
        let key = options.key_at(now);
        let place = store
            .place(&key, true)?
            .ok_or_else(|| Error::io("Failed to create directory", io::ErrorKind::NotFound.into()))?;
        // The original keeps metadata in `<key>.json`, so `doc.json` and the sidecar of `doc` are one
        // path. `place()` refuses a key that is another file's metadata; refuse too a key whose
        // metadata would overwrite another file.
        let metadata_key = format!("{key}{SUFFIX}");
        if read_sidecar(&place.dir, &meta_name(&meta_name(&place.name)), &metadata_key).is_some() {
            return Err(Error::InvalidKey { key, reason: "its metadata file would overwrite another file" });
        }
        store.sweeper.sweep(&place.dir);
        let temp = Temp::create(&place.dir, &place.name).map_err(|e| Error::io("Failed to create file", e))?;
        Ok(LocalUpload { store, options, key, place, temp: Some(temp), size: 0 })
    }

    fn file(&mut self) -> Result<&mut File> {
        match &mut self.temp {
            Some(t) => Ok(&mut t.file),
            None => Err(Error::InvalidInput("The upload is already finished".into())),
        }
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

    /// Moves the content and then the sidecar into place, both under the directory's exclusive lock,
    /// so that concurrent uploads and deletes of the key (in any process) never mix one upload's
    /// content with another's metadata.
    pub fn finish(mut self) -> Result<FileRecord> {
        self.file()?.sync_data().map_err(|e| Error::io("Failed to write file", e))?;
        let o = &self.options;
        let content_type = match &o.content_type {
            Some(ct) => ct.clone(),
            None => crate::content_type::from_name(o.filename.as_deref().unwrap_or(&self.key)).to_string(),
        };
        let url = self.store.url_of(&self.key);
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
        let (dir, name) = (&self.place.dir, &self.place.name);
        let meta = meta_name(name);
        let staged = Temp::create(dir, &meta).and_then(|mut t| t.file.write_all(&s.to_bytes()).map(|()| t));
        let moved = staged.and_then(|sidecar| {
            let _lock = lock(dir, true)?;
            self.temp.take().expect("checked by file()").commit(name)?;
            sidecar.commit(&meta)
        });
        moved.map_err(|e| Error::io("Failed to move file into place", e))?;
        self.store.catalog.note(&o.external_id, &self.key);
        let mut record = s.record();
        record.metadata = o.metadata.clone();
        record.last_modified_ms = None;
        Ok(record)
    }
}

/// The [`Upload`] of a local file: each step of [`LocalUpload`] runs on a blocking thread, which
/// takes the upload and hands it back (an upload whose step failed is dropped, which removes its
/// partial file).
pub(super) struct Blocking(Option<LocalUpload>);

impl Blocking {
    pub fn new(upload: LocalUpload) -> Self {
        Blocking(Some(upload))
    }

    async fn step(&mut self, f: impl FnOnce(&mut LocalUpload) -> Result<()> + Send + 'static) -> Result<()> {
        let mut upload = self.0.take().ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?;
        self.0 = Some(
            blocking(move || {
                f(&mut upload)?;
                Ok(upload)
            })
            .await?,
        );
        Ok(())
    }
}

#[async_trait::async_trait]
impl Upload for Blocking {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.step(move |u| u.write(&chunk)).await
    }

    async fn copy_from(&mut self, path: &str) -> Result<()> {
        let path = path.to_string();
        self.step(move |u| u.copy_from(Path::new(&path))).await
    }

    async fn finish(mut self: Box<Self>) -> Result<FileRecord> {
        let upload = self.0.take().ok_or_else(|| Error::InvalidInput("The upload is already finished".into()))?;
        blocking(move || upload.finish()).await
    }

    /// Removes the partial file.
    async fn abort(mut self: Box<Self>) {
        if let Some(upload) = self.0.take() {
            let _ = blocking(move || {
                drop(upload);
                Ok(())
            })
            .await;
        }
    }
}
