//! A service kept in memory, as `object_store`'s `InMemory` is a store kept in memory: the objects
//! in an `InMemory`, visibility in a set, listings paged two keys at a time. With it the bucket
//! provider's own logic (the external-id index, listings and paging, the visibility flow, uploads,
//! ranged reads) is tested without an emulator; the services' own code is tested against theirs.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use super::{check_header_metadata, Clients, Head, Listed, Service};
use crate::error::Result;
use crate::http::pages;
use crate::visibility::{visibility_name, VisibilityResult, VisibilityStatus};

/// Keys per listing page: small, so a few objects make several pages.
const PAGE: usize = 2;

pub struct Memory {
    objects: Arc<InMemory>,
    public: Mutex<HashSet<String>>,
}

/// A fresh, empty bucket: its service, and clients over the same objects.
pub fn bucket() -> (Arc<Memory>, Clients) {
    let objects = Arc::new(InMemory::new());
    let clients = Clients { store: objects.clone(), reader: objects.clone(), writer: objects.clone() };
    (Arc::new(Memory { objects, public: Mutex::default() }), clients)
}

impl Memory {
    /// Every key with its metadata, in key order.
    async fn all(&self) -> Result<Vec<Listed>> {
        let metas: Vec<_> = self.objects.list(None).try_collect().await.expect("in-memory listing");
        let mut listed = Vec::new();
        for m in metas {
            let r = self.objects.get(&m.location).await.expect("listed object");
            listed.push(Listed { key: m.location.to_string(), head: Some(Head::of(&r)) });
        }
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }
}

impl Service for Memory {
    fn bucket(&self) -> &str {
        "memory"
    }

    fn public_url(&self, key: &str) -> String {
        format!("memory://memory/{key}")
    }

    /// Pages of [`PAGE`] keys; a page's token is the index of the next key.
    fn list(self: Arc<Self>, prefix: String, _after: Option<String>) -> BoxStream<'static, Result<Listed>> {
        pages(move |token: Option<String>| {
            let (me, prefix) = (self.clone(), prefix.clone());
            async move {
                let keys: Vec<Listed> = me.all().await?.into_iter().filter(|l| l.key.starts_with(&prefix)).collect();
                let from = token.map_or(0, |t| t.parse::<usize>().expect("a token of ours"));
                let next = (from + PAGE < keys.len()).then(|| (from + PAGE).to_string());
                Ok((keys.into_iter().skip(from).take(PAGE).collect(), next))
            }
        })
    }

    fn max_expiry(&self) -> u64 {
        604_800
    }

    fn sign<'a>(
        &'a self,
        key: &'a Path,
        expires: Duration,
        disposition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String>> {
        let url =
            format!("memory://signed/{key}?expires={}&disposition={}", expires.as_secs(), disposition.unwrap_or(""));
        async move { Ok(url) }.boxed()
    }

    fn set_visibility<'a>(&'a self, key: &'a str, public: bool) -> BoxFuture<'a, Result<VisibilityResult>> {
        let mut set = self.public.lock().unwrap();
        if public {
            set.insert(key.to_string());
        } else {
            set.remove(key);
        }
        let result = VisibilityResult {
            public_url: public.then(|| self.public_url(key).into()),
            ..VisibilityResult::new(public, true, public, "changed")
        };
        async move { Ok(result) }.boxed()
    }

    fn get_visibility<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<VisibilityStatus>> {
        let public = self.public.lock().unwrap().contains(key);
        let status = VisibilityStatus {
            visibility: visibility_name(public).into(),
            public_url: public.then(|| self.public_url(key)),
            can_make_public: true,
            can_make_private: true,
            supports_temporary_access: true,
            message: None,
        };
        async move { Ok(status) }.boxed()
    }

    fn check_metadata(&self, name: &str, value: &str) -> Result<()> {
        check_header_metadata("Memory", name, value)
    }

    fn max_parts(&self) -> u64 {
        10_000
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use object_store::{Attribute, Attributes, PutOptions, PutPayload};

    use super::*;
    use crate::error::Error;
    use crate::listing::{FileRecord, ListOptions};
    use crate::provider::{Provider, Target};
    use crate::providers::bucket::Bucket;
    use crate::range::Requested;
    use crate::stream::{Body, Opener};
    use crate::upload::UploadOptions;

    struct Fixture {
        service: Arc<Memory>,
        provider: Arc<dyn Provider>,
    }

    fn fixture() -> Fixture {
        let (service, clients) = bucket();
        Fixture { provider: Bucket::provider((service.clone(), clients)), service }
    }

    impl Fixture {
        async fn upload(&self, key: &str, external_id: &str, body: &[u8], public: bool) -> FileRecord {
            let options = UploadOptions {
                external_id: external_id.into(),
                key: Some(key.into()),
                public: Some(public),
                ..Default::default()
            };
            let mut upload = self.provider.clone().begin_upload(options).await.unwrap();
            upload.write(Bytes::copy_from_slice(body)).await.unwrap();
            upload.finish().await.unwrap()
        }

        /// An object as the original writes it: external_id in its metadata, no index entry.
        async fn put_foreign(&self, key: &str, external_id: &str) {
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::Metadata("external_id".into()), external_id.to_string().into());
            let options = PutOptions { attributes, ..Default::default() };
            self.service.objects.put_opts(&Path::from(key), PutPayload::from_static(b"x"), options).await.unwrap();
        }

        async fn index_entry(&self, external_id: &str) -> Option<String> {
            let path = Path::from(format!(".crunchycone-storage/external-ids/{external_id}"));
            let r = self.service.objects.get(&path).await.ok()?;
            Some(String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap())
        }

        async fn find(&self, external_id: &str) -> Option<String> {
            self.provider.clone().find(external_id.into()).await.unwrap().map(|r| r.key)
        }

        async fn keys(&self, options: ListOptions) -> (Vec<String>, Option<String>) {
            let page = self.provider.clone().list(options, false).await.unwrap();
            (page.files.into_iter().map(|f| f.key).collect(), page.continuation_token)
        }

        async fn read(&self, target: Target, range: Option<Requested>) -> (u64, u64, Vec<u8>) {
            let Opener::Async(open) = self.provider.clone().open(target, range, true, None) else { panic!("async") };
            let opened = open.await.unwrap();
            let Body::Async(body) = opened.body else { panic!("an async body") };
            let bytes: Vec<Bytes> = body.try_collect().await.unwrap();
            (opened.range.start, opened.range.total, bytes.concat())
        }
    }

    #[tokio::test]
    async fn an_upload_is_indexed_and_found_by_its_external_id() {
        let f = fixture();
        let record = f.upload("docs/a.txt", "id-a", b"hello", false).await;
        assert_eq!((record.key.as_str(), record.size, record.external_id.as_str()), ("docs/a.txt", 5.0, "id-a"));
        assert_eq!(f.index_entry("id-a").await.as_deref(), Some("docs/a.txt"));
        assert_eq!(f.find("id-a").await.as_deref(), Some("docs/a.txt"));
        assert_eq!(f.find("id-b").await, None);
        // The empty id names nothing, even though objects without an id exist.
        f.put_foreign("docs/none.txt", "").await;
        assert_eq!(f.find("").await, None);
    }

    #[tokio::test]
    async fn objects_without_an_index_entry_are_found_by_the_scan_and_then_indexed() {
        let f = fixture();
        for (key, id) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")] {
            f.put_foreign(key, id).await;
        }
        assert_eq!(f.index_entry("4").await, None);
        assert_eq!(f.find("4").await.as_deref(), Some("d"), "the scan reads past the first pages");
        assert_eq!(f.index_entry("4").await.as_deref(), Some("d"));
    }

    #[tokio::test]
    async fn a_stale_index_entry_is_corrected_or_removed() {
        let f = fixture();
        f.upload("old", "moved", b"1", false).await;
        f.service.objects.delete(&Path::from("old")).await.unwrap();
        f.put_foreign("new", "moved").await;
        assert_eq!(f.find("moved").await.as_deref(), Some("new"));
        assert_eq!(f.index_entry("moved").await.as_deref(), Some("new"));

        f.upload("gone", "vanished", b"1", false).await;
        f.service.objects.delete(&Path::from("gone")).await.unwrap();
        assert_eq!(f.find("vanished").await, None);
        assert_eq!(f.index_entry("vanished").await, None, "an entry naming nothing is removed");
    }

    #[tokio::test]
    async fn listings_page_in_key_order_without_the_index() {
        let f = fixture();
        for key in ["e", "a", "c", "b", "d"] {
            f.upload(key, &format!("id-{key}"), key.as_bytes(), false).await;
        }
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let options = ListOptions { limit: Some(2.0), continuation_token: token.clone(), ..Default::default() };
            let (keys, next) = f.keys(options).await;
            assert!(keys.len() <= 2);
            seen.extend(keys);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        let sorted = ListOptions { sort_by: Some("key".into()), sort_order: Some("desc".into()), ..Default::default() };
        assert_eq!(f.keys(sorted).await.0, ["e", "d", "c", "b", "a"]);
        let prefixed = ListOptions { prefix: Some("c".into()), ..Default::default() };
        assert_eq!(f.keys(prefixed).await.0, ["c"]);
    }

    #[tokio::test]
    async fn visibility_is_set_at_upload_and_changed_by_key_or_external_id() {
        let f = fixture();
        let record = f.upload("pic.png", "pic", b"png", true).await;
        assert_eq!(record.visibility.as_deref(), Some("public"));
        assert_eq!(record.public_url.as_deref(), Some("memory://memory/pic.png"));
        let status = f.provider.clone().get_visibility(Target::ExternalId("pic".into())).await.unwrap();
        assert_eq!(status.visibility, "public");
        let r = f.provider.clone().set_visibility(Target::Key("pic.png".into()), false).await.unwrap();
        assert!(r.success);
        assert_eq!(
            f.provider.clone().get_visibility(Target::Key("pic.png".into())).await.unwrap().visibility,
            "private"
        );
        let missing = f.provider.clone().set_visibility(Target::ExternalId("nope".into()), true).await.unwrap();
        assert_eq!(
            (missing.success, missing.message.as_deref()),
            (false, Some("File with external_id nope not found"))
        );
        let err = f.provider.clone().get_visibility(Target::Key("nope".into())).await.err().expect("not found");
        assert_eq!(err.to_string(), "Failed to check file visibility: File with key nope not found");
    }

    #[tokio::test]
    async fn deleting_by_external_id_removes_the_object_and_its_entry() {
        let f = fixture();
        f.upload("x", "del", b"1", false).await;
        f.provider.clone().delete(Target::ExternalId("del".into())).await.unwrap();
        assert!(!f.provider.clone().exists("x".into()).await.unwrap());
        assert_eq!(f.index_entry("del").await, None);
        let err = f.provider.clone().delete(Target::ExternalId("del".into())).await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        // A missing key is no error, as on S3 and local disk.
        f.provider.clone().delete(Target::Key("x".into())).await.unwrap();
    }

    #[tokio::test]
    async fn reads_by_key_or_external_id_honour_ranges() {
        let f = fixture();
        f.upload("r.bin", "r", b"0123456789", false).await;
        assert_eq!(f.read(Target::Key("r.bin".into()), None).await, (0, 10, b"0123456789".to_vec()));
        let span = Some(Requested::Span { start: 2, end: Some(4) });
        assert_eq!(f.read(Target::ExternalId("r".into()), span).await, (2, 10, b"234".to_vec()));
        assert_eq!(f.read(Target::Key("r.bin".into()), Some(Requested::Suffix(3))).await, (7, 10, b"789".to_vec()));
    }

    #[tokio::test]
    async fn reserved_keys_and_other_buckets_are_refused() {
        let f = fixture();
        let err = f.provider.check_key(".crunchycone-storage/external-ids/x").unwrap_err();
        assert!(matches!(err, Error::InvalidKey { .. }), "{err}");
        let options = UploadOptions { external_id: "1".into(), bucket: Some("other".into()), ..Default::default() };
        let err = f.provider.clone().begin_upload(options).await.err().expect("refused");
        assert_eq!(err.to_string(), "Failed to upload file: bucket \"other\" is not this provider's bucket \"memory\"");
        assert_eq!(f.keys(ListOptions::default()).await.0, Vec::<String>::new(), "nothing was written");
    }
}
