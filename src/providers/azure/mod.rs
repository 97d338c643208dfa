//! Azure Blob Storage: what it does its own way, on `object_store`'s MicrosoftAzure
//! client. The provider itself is [`crate::providers::bucket`].
//!
//! Azure has no per-blob public access: as in the original, "public" is a read-only SAS URL valid
//! for a year (`temporary-public`). SAS URLs are signed here with the account key, because
//! object_store's signer cannot ask for a Content-Disposition.

mod config;
mod list;

pub use self::config::AzureConfig;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::FutureExt;
use object_store::path::Path;
use serde_json::json;

use self::config::{Credential, Settings};
use crate::error::{Error, Result};
use crate::http::{encode_key, query_string, SMALL_REQUEST, UPLOAD_REQUEST};
use crate::providers::bucket::{Clients, Listed, Service};
use crate::visibility::{VisibilityResult, VisibilityStatus};

/// How long "public" lasts: the original's one-year SAS.
const PUBLIC_SECS: u64 = 365 * 24 * 3600;
/// The SAS version signed (its string-to-sign has the 16 fields below).
const SAS_VERSION: &str = "2021-08-06";

struct Azure {
    settings: Arc<Settings>,
    /// Listings (see [`list`]).
    http: reqwest::Client,
    /// Set once the service refused `startFrom`.
    no_start_from: Arc<std::sync::atomic::AtomicBool>,
}

/// The service and its clients for a configuration.
pub fn connect(c: &AzureConfig) -> Result<(Arc<dyn Service>, Clients)> {
    let settings = Settings::new(c)?;
    let clients = Clients {
        store: Arc::new(settings.store(Some(SMALL_REQUEST))?),
        reader: Arc::new(settings.store(None)?),
        writer: Arc::new(settings.store(Some(UPLOAD_REQUEST))?),
    };
    let http = crate::http::client()?;
    let azure = Azure { settings: Arc::new(settings), http, no_start_from: Arc::default() };
    Ok((Arc::new(azure), clients))
}

/// HMAC-SHA256 of `text` with the account key, in base64: SAS URLs and SharedKey requests.
fn sign(secret: &[u8], text: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    BASE64.encode(aws_lc_rs::hmac::sign(&key, text.as_bytes()).as_ref())
}

impl Azure {
    /// A service SAS URL that reads `key` until `expiry` (Content-Disposition `disposition`).
    fn sas_url(&self, key: &str, expiry: DateTime<Utc>, disposition: Option<&str>) -> Result<(String, String)> {
        let Credential::Key { secret, .. } = &self.settings.credential else {
            return Err(Error::InvalidInput(
                "Failed to generate SAS token: Account key required for SAS token generation".into(),
            ));
        };
        let s = &self.settings;
        let se = expiry.to_rfc3339_opts(SecondsFormat::Secs, true);
        let resource = format!("/blob/{}/{}/{}", s.account, s.container, key);
        let rscd = disposition.unwrap_or("");
        // sp, st, se, resource, si, sip, spr, sv, sr, snapshot, ses, rscc, rscd, rsce, rscl, rsct
        let fields = ["r", "", &se, &resource, "", "", "", SAS_VERSION, "b", "", "", "", rscd, "", "", ""];
        let signature = sign(secret, &fields.join("\n"));
        let mut query = vec![("sv", SAS_VERSION), ("se", &se), ("sr", "b"), ("sp", "r")];
        if !rscd.is_empty() {
            query.push(("rscd", rscd));
        }
        query.push(("sig", &signature));
        let token = query_string(&query);
        Ok((format!("{}/{}/{}?{token}", s.account_url, s.container, encode_key(key)), token))
    }
}

impl Service for Azure {
    fn bucket(&self) -> &str {
        &self.settings.container
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{}", self.settings.public_base, encode_key(key))
    }

    fn list(self: Arc<Self>, prefix: String, after: Option<String>) -> BoxStream<'static, Result<Listed>> {
        list::blobs(self.http.clone(), self.settings.clone(), self.no_start_from.clone(), prefix, after)
    }

    fn max_expiry(&self) -> u64 {
        PUBLIC_SECS
    }

    fn sign<'a>(
        &'a self,
        key: &'a Path,
        expires: Duration,
        disposition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String>> {
        let signed = self.sas_url(key.as_ref(), Utc::now() + expires, disposition).map(|(url, _)| url);
        futures::future::ready(signed).boxed()
    }

    fn set_visibility<'a>(&'a self, key: &'a str, public: bool) -> BoxFuture<'a, Result<VisibilityResult>> {
        let result = if !public {
            // Azure cannot revoke a SAS URL already handed out; it stays valid until it expires.
            VisibilityResult::new(
                false,
                true,
                false,
                "File is private. Access requires authentication or valid SAS token.",
            )
        } else {
            let expiry = Utc::now() + Duration::from_secs(PUBLIC_SECS);
            match self.sas_url(key, expiry, None) {
                Ok((url, token)) => VisibilityResult {
                    actual_visibility: "temporary-public".into(),
                    public_url: Some(url.into()),
                    public_url_expires_at_ms: Some(expiry.timestamp_millis() as f64),
                    provider_specific: Some(json!({ "sasToken": token, "expirationExtensible": true })),
                    ..VisibilityResult::new(
                        true,
                        true,
                        true,
                        "Azure Blob Storage uses SAS tokens for public access. Token valid for 1 year and can be regenerated.",
                    )
                },
                Err(e) => VisibilityResult::new(true, false, false, e.to_string()),
            }
        };
        futures::future::ready(Ok(result)).boxed()
    }

    fn get_visibility<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<VisibilityStatus>> {
        let can_sign = matches!(self.settings.credential, Credential::Key { .. });
        futures::future::ready(Ok(VisibilityStatus {
            visibility: "private".into(),
            public_url: None,
            can_make_public: can_sign,
            can_make_private: true,
            supports_temporary_access: can_sign,
            message: Some(
                "Azure Blob Storage requires SAS tokens for public access. Use setFileVisibility to generate temporary public URLs."
                    .into(),
            ),
        }))
        .boxed()
    }

    /// Azure metadata names are C# identifiers; values travel in HTTP headers.
    fn check_metadata(&self, name: &str, value: &str) -> Result<()> {
        let identifier = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(Error::InvalidInput(format!(
                "Invalid metadata name {name:?}: Azure allows letters, digits and _, not starting with a digit"
            )));
        }
        crate::providers::bucket::check_header_metadata("Azure", name, value)
    }

    /// Azure's `ContainerNotFound`.
    fn missing_bucket(&self, error: &str) -> bool {
        error.contains("ContainerNotFound")
    }

    fn max_parts(&self) -> u64 {
        50_000
    }

    /// Get Blob takes no suffix ranges (object_store refuses to send one).
    fn suffix_ranges(&self) -> bool {
        false
    }
}
