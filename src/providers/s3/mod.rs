//! S3 and the S3-compatible services: what they do their own way, on `object_store`'s
//! AmazonS3 client. The provider itself is [`crate::providers::bucket`].
//!
//! Object ACLs (`acl.rs`) and listings (`list.rs`) are requests of this crate's own (`signed.rs`):
//! object_store has no ACL API, and its listing fails whole pages on keys it cannot represent
//! (such as `a//b`, which other clients may write).

mod acl;
mod config;
mod list;
mod signed;

pub use self::config::S3Config;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::FutureExt;
use object_store::aws::AmazonS3;
use object_store::path::Path;
use serde_json::json;

use self::config::Settings;
use crate::error::{Error, Result};
use crate::http::{pages, SMALL_REQUEST, UPLOAD_REQUEST};
use crate::providers::bucket::{check_header_metadata, signed_get, Clients, Listed, Service};
use crate::visibility::{visibility_name, VisibilityResult, VisibilityStatus};

/// S3's longest presigned URL lifetime (7 days).
const MAX_EXPIRY_SECS: u64 = 604_800;

struct S3 {
    settings: Settings,
    /// Signs URLs (the small-request client).
    signer: Arc<AmazonS3>,
    /// Raw requests (ACLs, listings).
    http: reqwest::Client,
}

/// The service and its clients for a configuration.
pub fn connect(c: &S3Config) -> Result<(Arc<dyn Service>, Clients)> {
    let settings = Settings::new(c)?;
    let store = Arc::new(settings.store(Some(SMALL_REQUEST), None)?);
    let clients = Clients {
        store: store.clone(),
        reader: Arc::new(settings.store(None, None)?),
        writer: Arc::new(settings.store(Some(UPLOAD_REQUEST), settings.default_acl.as_deref())?),
    };
    let http = crate::http::client()?;
    Ok((Arc::new(S3 { settings, signer: store, http }), clients))
}

impl Service for S3 {
    fn bucket(&self) -> &str {
        &self.settings.bucket
    }

    fn public_url(&self, key: &str) -> String {
        self.settings.public_url(key)
    }

    fn list(self: Arc<Self>, prefix: String, after: Option<String>) -> BoxStream<'static, Result<Listed>> {
        pages(move |token| {
            let (s3, prefix, after) = (self.clone(), prefix.clone(), after.clone());
            async move {
                let after = after.as_deref().filter(|_| token.is_none());
                let page = list::list(&s3.http, &s3.settings, &prefix, after, token.as_deref()).await?;
                // S3 listings carry no user metadata: each object gets a HEAD.
                Ok((page.keys.into_iter().map(|key| Listed { key, head: None }).collect(), page.next))
            }
        })
    }

    fn max_expiry(&self) -> u64 {
        MAX_EXPIRY_SECS
    }

    fn sign<'a>(
        &'a self,
        key: &'a Path,
        expires: Duration,
        disposition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String>> {
        signed_get(self.signer.as_ref(), key, expires, disposition).boxed()
    }

    fn set_visibility<'a>(&'a self, key: &'a str, public: bool) -> BoxFuture<'a, Result<VisibilityResult>> {
        async move {
            let canned = if public { "public-read" } else { "private" };
            let reply = acl::acl(&self.http, &self.settings, key, Some(canned)).await?;
            Ok(if reply.ok() && public {
                VisibilityResult {
                    public_url: Some(self.settings.public_url(key).into()),
                    provider_specific: Some(json!({ "aclApplied": true })),
                    ..VisibilityResult::new(true, true, true, "File is now publicly accessible via direct URL.")
                }
            } else if reply.ok() {
                VisibilityResult::new(false, true, false, "File is now private and requires authentication.")
            } else if reply.code() == "InvalidRequest" || reply.describe().contains("ACL") {
                VisibilityResult::new(
                    public,
                    false,
                    false,
                    "ACLs are disabled on this bucket. Use bucket policies for access control instead.",
                )
            } else {
                return Err(Error::Provider(reply.describe()));
            })
        }
        .boxed()
    }

    fn get_visibility<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<VisibilityStatus>> {
        async move {
            let reply = acl::acl(&self.http, &self.settings, key, None).await?;
            let status = |public: bool, can_change: bool, message: &str| VisibilityStatus {
                visibility: visibility_name(public).to_string(),
                public_url: public.then(|| self.settings.public_url(key)),
                can_make_public: can_change,
                can_make_private: can_change,
                supports_temporary_access: true,
                message: Some(message.to_string()),
            };
            Ok(if reply.ok() && reply.grants_public_read() {
                status(true, true, "File is publicly accessible via direct URL.")
            } else if !reply.ok() && reply.code() == "InvalidRequest" {
                status(false, false, "ACLs are disabled on this bucket. File visibility managed by bucket policies.")
            } else {
                status(false, true, "File is private. Use setFileVisibility to make it public or generate signed URLs for temporary access.")
            })
        }
        .boxed()
    }

    fn check_metadata(&self, name: &str, value: &str) -> Result<()> {
        check_header_metadata("S3", name, value)
    }

    /// S3's `NoSuchBucket` (an error document's code).
    fn missing_bucket(&self, error: &str) -> bool {
        error.contains("NoSuchBucket")
    }

    fn max_parts(&self) -> u64 {
        10_000
    }

    fn uploads_public(&self) -> bool {
        matches!(self.settings.default_acl.as_deref(), Some("public-read" | "public-read-write"))
    }
}
