//! `GCPStorageConfig` (the original's GCS options) and what follows from it: the bucket, the
//! credentials and the `object_store` clients.

use std::time::Duration;

use napi_derive::napi;
use object_store::gcp::{GoogleCloudStorage, GoogleCloudStorageBuilder};

use crate::config::{self, optional_url, required};
use crate::error::{Error, Result};
use crate::providers::bucket::{client_options, retry};

/// Where GCS lives unless `apiEndpoint` says otherwise.
pub const GOOGLE: &str = "https://storage.googleapis.com";

/// The original's `GCPStorageConfig`, plus `apiEndpoint` (the `@google-cloud/storage` option,
/// for emulators; the JS class fills it from `STORAGE_EMULATOR_HOST` as that SDK does).
#[napi(object, object_to_js = false)]
pub struct GcsConfig {
    pub project_id: Option<String>,
    pub key_filename: Option<String>,
    /// A service account key, as the JSON object Google hands out.
    pub credentials: Option<serde_json::Value>,
    pub bucket: Option<String>,
    pub cdn_url: Option<String>,
    pub api_endpoint: Option<String>,
}

/// How requests are authorised.
enum Credentials {
    /// A service account key (JSON text); it also signs URLs, without a network call.
    Key(String),
    /// A credentials file (service account or authorized user).
    File(String),
    /// An emulator without credentials: no tokens, no signing.
    None,
    /// Application default credentials (the well-known file, else the metadata server).
    Default,
}

/// A checked configuration.
pub struct Settings {
    pub bucket: String,
    /// The API's address, without a trailing `/`.
    pub base: String,
    /// The base of public URLs: the CDN, else `{base}/{bucket}`.
    pub public_base: String,
    credentials: Credentials,
}

impl Settings {
    pub fn new(c: &GcsConfig) -> Result<Settings> {
        let bucket = required(&c.bucket, "GCS", "bucket")?;
        config::name(&bucket, "GCS", "bucket")?;
        let endpoint =
            config::optional(&c.api_endpoint).map(|e| if e.contains("://") { e } else { format!("http://{e}") });
        let endpoint = endpoint.map(|e| config::url(&e, "GCS", "apiEndpoint")).transpose()?;
        let credentials = match (&c.credentials, c.key_filename.as_deref().filter(|f| !f.is_empty())) {
            // keyFilename wins over credentials, as in the original.
            (_, Some(file)) => Credentials::File(file.to_string()),
            (Some(serde_json::Value::Object(key)), None) => {
                let mut key = key.clone();
                // Keys handed to @google-cloud/storage often carry only the email and the key.
                key.entry("private_key_id").or_insert_with(|| "".into());
                for field in ["client_email", "private_key"] {
                    if !key.get(field).is_some_and(|v| v.is_string()) {
                        return Err(Error::InvalidInput(format!("GCS credentials are missing {field}")));
                    }
                }
                // The key never travels, but no message may show it either (see `redact`).
                for line in key["private_key"].as_str().unwrap_or_default().lines().filter(|l| !l.starts_with("-----"))
                {
                    crate::redact::register(line.trim());
                }
                Credentials::Key(serde_json::Value::Object(key).to_string())
            }
            (Some(serde_json::Value::Null) | None, None) if endpoint.is_some() => Credentials::None,
            (Some(serde_json::Value::Null) | None, None) => Credentials::Default,
            (Some(_), None) => return Err(Error::InvalidInput("GCS credentials must be an object".into())),
        };
        let base = endpoint.unwrap_or_else(|| GOOGLE.to_string());
        let public_base = optional_url(&c.cdn_url, "GCS", "cdnUrl")?.unwrap_or_else(|| format!("{base}/{bucket}"));
        Ok(Settings { bucket, base, public_base, credentials })
    }

    /// Whether URLs can be signed: an emulator without credentials has no key, and object_store
    /// would ask Google's IAM API to sign instead.
    pub fn can_sign(&self) -> bool {
        !matches!(self.credentials, Credentials::None)
    }

    /// An `object_store` client for the bucket, each request limited to `timeout` (`None`: no
    /// limit).
    pub fn store(&self, timeout: Option<Duration>) -> Result<GoogleCloudStorage> {
        let mut builder = GoogleCloudStorageBuilder::new()
            .with_bucket_name(&self.bucket)
            .with_base_url(&self.base)
            .with_client_options(client_options(&self.base, timeout))
            .with_retry(retry());
        // Reads stream into JS: their HTTP client holds only the read-ahead budget's share.
        if timeout.is_none() {
            builder = builder.with_http_connector(crate::http::StreamConnector);
        }
        let builder = match &self.credentials {
            Credentials::Key(json) => builder.with_service_account_key(json),
            Credentials::File(path) => builder.with_application_credentials(path),
            Credentials::None => builder.with_service_account_key(
                r#"{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}"#,
            ),
            Credentials::Default => builder,
        };
        builder.build().map_err(|e| Error::InvalidInput(format!("Invalid GCS configuration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GcsConfig {
        GcsConfig {
            project_id: Some("p".into()),
            key_filename: None,
            credentials: None,
            bucket: Some("bkt".into()),
            cdn_url: None,
            api_endpoint: None,
        }
    }

    #[test]
    fn addresses() {
        let s = Settings::new(&config()).unwrap();
        assert_eq!((s.base.as_str(), s.public_base.as_str()), (GOOGLE, "https://storage.googleapis.com/bkt"));
        assert!(matches!(s.credentials, Credentials::Default));
        let mut c = config();
        c.api_endpoint = Some("127.0.0.1:4443/".into());
        c.cdn_url = Some("https://cdn.example.com/".into());
        let s = Settings::new(&c).unwrap();
        assert_eq!((s.base.as_str(), s.public_base.as_str()), ("http://127.0.0.1:4443", "https://cdn.example.com"));
        assert!(matches!(s.credentials, Credentials::None));
    }

    #[test]
    fn checks_credentials() {
        let mut c = config();
        c.credentials = Some(serde_json::json!({ "client_email": "a@b" }));
        assert_eq!(Settings::new(&c).err().unwrap().to_string(), "GCS credentials are missing private_key");
        c.bucket = None;
        assert_eq!(Settings::new(&c).err().unwrap().to_string(), "GCS configuration is missing bucket");
    }
}
