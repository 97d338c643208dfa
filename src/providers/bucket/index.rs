//! The external-id index. external_id lives where the original keeps it, in the object's user
//! metadata (`x-amz-meta-external_id`, `x-goog-meta-external_id`, `x-ms-meta-external_id`), so
//! buckets are shared both ways. Object stores cannot query metadata, so every upload also writes a
//! small index object under [`INDEX`] naming the key of its external id: a lookup reads it and
//! checks the object's metadata (two requests). Objects without one (written by the original) are
//! found by the original's scan, after which an index object is written for them too.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use percent_encoding::{utf8_percent_encode, AsciiSet};

use super::service::storage_error;
use super::{path, Bucket};
use crate::error::Result;
use crate::http::SEGMENT;
use crate::listing::FileRecord;

/// Where this library keeps its own objects (left out of listings, refused as keys).
pub const INDEX_ROOT: &str = ".crunchycone-storage/";
/// The index objects.
const INDEX: &str = ".crunchycone-storage/external-ids";

/// The index object of an external id: one path segment, percent-encoded (`None` for ids that
/// cannot name one, such as the empty id).
fn index_path(external_id: &str) -> Option<Path> {
    // `.` is escaped too, so no id becomes a `.` or `..` segment.
    const NAME: &AsciiSet = &SEGMENT.add(b'.');
    let name = utf8_percent_encode(external_id, NAME);
    Path::parse(format!("{INDEX}/{name}")).ok().filter(|p| p.parts().count() == 3)
}

impl Bucket {
    /// The key an index object names for `external_id`, unverified. An entry that is missing,
    /// refused (credentials limited to some prefixes) or not a key is a miss; a failing service is
    /// an error, not a reason to scan the bucket.
    pub(super) async fn indexed_key(&self, external_id: &str) -> Result<Option<String>> {
        let Some(index) = index_path(external_id) else { return Ok(None) };
        let context = "Failed to read the external id index";
        let bytes = match self.clients.store.get(&index).await {
            Ok(r) => r.bytes().await.map_err(|e| storage_error(context, e))?,
            Err(object_store::Error::NotFound { .. } | object_store::Error::PermissionDenied { .. }) => {
                return Ok(None)
            }
            Err(e) => return Err(storage_error(context, e)),
        };
        Ok(String::from_utf8(bytes.to_vec()).ok().filter(|key| path(key).is_ok()))
    }

    /// Points the index at `key` for `external_id`. The index only speeds lookups up (a missing
    /// or stale entry falls back to the scan), so failing to write it fails nothing.
    pub(super) async fn index(&self, external_id: &str, key: &str) {
        if let Some(index) = index_path(external_id) {
            let _ = self.clients.store.put(&index, PutPayload::from(Bytes::copy_from_slice(key.as_bytes()))).await;
        }
    }

    pub(super) async fn unindex(&self, external_id: &str) {
        if let Some(index) = index_path(external_id) {
            let _ = self.clients.store.delete(&index).await;
        }
    }

    /// The object with `external_id`: through the index, else by scanning the bucket. The empty id
    /// names nothing (objects without an external id must not match it).
    pub(super) async fn lookup(self: &Arc<Self>, external_id: &str) -> Result<Option<FileRecord>> {
        if external_id.is_empty() {
            return Ok(None);
        }
        let indexed = self.indexed_key(external_id).await?;
        if let Some(key) = &indexed {
            if let Some(h) = self.head(key).await? {
                if h.external_id() == Some(external_id) {
                    return Ok(Some(self.record(key, &h)));
                }
            }
        }
        let found = self.scan(external_id).await?;
        match &found {
            Some(r) => self.index(external_id, &r.key).await,
            None if indexed.is_some() => self.unindex(external_id).await,
            None => {}
        }
        Ok(found)
    }

    /// The original's lookup: every object's metadata, in key order, until one matches.
    async fn scan(self: &Arc<Self>, external_id: &str) -> Result<Option<FileRecord>> {
        let mut records = self.records(None, None);
        while let Some(r) = records.try_next().await? {
            if r.external_id == external_id {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }
}
