//! `AzureStorageConfig` (the original's Azure options) and what follows from it: the account, its
//! credential, the container's address and the `object_store` clients.

use std::time::Duration;

use napi_derive::napi;
use object_store::azure::{AzureConfigKey, MicrosoftAzure, MicrosoftAzureBuilder};

use crate::config::{self, optional_url, required};
use crate::error::{Error, Result};
use crate::providers::bucket::{client_options, retry};

/// The original's `AzureStorageConfig`, plus `endpoint` (the blob service's address, for Azurite
/// and clouds outside `core.windows.net`; a connection string's `BlobEndpoint` does the same).
#[napi(object, object_to_js = false)]
pub struct AzureConfig {
    pub account_name: Option<String>,
    pub account_key: Option<String>,
    pub sas_token: Option<String>,
    pub connection_string: Option<String>,
    pub container_name: Option<String>,
    pub cdn_url: Option<String>,
    pub endpoint: Option<String>,
}

/// Azurite's well-known development account (`UseDevelopmentStorage=true`).
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How requests are signed.
pub enum Credential {
    /// The account key, as given (base64) and decoded; it also signs SAS URLs and listings.
    Key { base64: String, secret: Vec<u8> },
    /// A SAS token given by the user, sent with every request; it cannot sign new URLs.
    Sas(String),
}

/// A SAS token credential (a query string: printable ASCII), without a leading `?`.
fn sas(token: &str) -> Result<Credential> {
    let token = config::secret(token, "Azure", "sasToken")?.trim_start_matches('?');
    // The signature may be quoted on its own, percent-encoded or not.
    for sig in token.split('&').filter_map(|p| p.strip_prefix("sig=")) {
        crate::redact::register(sig);
        crate::redact::register(&percent_encoding::percent_decode_str(sig).decode_utf8_lossy());
    }
    Ok(Credential::Sas(token.to_string()))
}

/// An account key credential; the key must be base64.
fn key(base64: &str) -> Result<Credential> {
    use base64::Engine;
    config::secret(base64, "Azure", "accountKey")?;
    let secret = base64::engine::general_purpose::STANDARD.decode(base64);
    let secret = secret.map_err(|_| Error::InvalidInput("Invalid Azure account key: expected base64".into()))?;
    Ok(Credential::Key { base64: base64.to_string(), secret })
}

/// A checked configuration.
pub struct Settings {
    pub account: String,
    pub container: String,
    pub credential: Credential,
    /// The blob service, without a trailing `/`: `https://{account}.blob.core.windows.net`, or
    /// the endpoint given (Azurite: `http://127.0.0.1:10000/devstoreaccount1`).
    pub account_url: String,
    /// The base of public URLs: the CDN, else the container's address.
    pub public_base: String,
}

/// The `Name=value` pairs of a connection string (names are case-insensitive).
fn connection_string(s: &str) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        s.split(';').find_map(|part| {
            let (k, v) = part.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(name) && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    }
}

impl Settings {
    pub fn new(c: &AzureConfig) -> Result<Settings> {
        let container = required(&c.container_name, "Azure", "containerName")?;
        config::name(&container, "Azure", "containerName")?;
        let given = config::optional;
        // The original's precedence: connection string, then account key, then SAS token.
        let (account, credential, account_url) = if let Some(cs) = given(&c.connection_string) {
            let get = connection_string(&cs);
            if get("UseDevelopmentStorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                let url = "http://127.0.0.1:10000/devstoreaccount1".to_string();
                (DEV_ACCOUNT.to_string(), key(DEV_KEY)?, url)
            } else {
                let endpoint = get("BlobEndpoint").map(|e| config::url(&e, "Azure", "connection string BlobEndpoint"));
                let endpoint = endpoint.transpose()?;
                // A SAS connection string may name the account only in its endpoint: the host's
                // first label, or the first path segment after an IP address (Azurite).
                let from_endpoint = endpoint.as_deref().and_then(|e| {
                    let rest = e.split_once("://")?.1;
                    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
                    let ip = host.parse::<std::net::IpAddr>().is_ok() || host == "localhost";
                    let name = if ip { path.split('/').next() } else { host.split('.').next() };
                    name.filter(|n| !n.is_empty()).map(str::to_string)
                });
                let account = get("AccountName")
                    .or_else(|| given(&c.account_name))
                    .or(from_endpoint)
                    .ok_or_else(|| Error::InvalidInput("Azure connection string is missing AccountName".into()))?;
                let credential = match (get("AccountKey"), get("SharedAccessSignature")) {
                    (Some(k), _) => key(&k)?,
                    (None, Some(token)) => sas(&token)?,
                    (None, None) => {
                        return Err(Error::InvalidInput(
                            "Azure connection string has neither AccountKey nor SharedAccessSignature".into(),
                        ))
                    }
                };
                config::name(&account, "Azure", "accountName")?;
                let url = match endpoint {
                    Some(url) => url,
                    None => {
                        let protocol = get("DefaultEndpointsProtocol").unwrap_or("https".into());
                        let suffix = get("EndpointSuffix").unwrap_or("core.windows.net".into());
                        config::url(&format!("{protocol}://{account}.blob.{suffix}"), "Azure", "connection string")?
                    }
                };
                (account, credential, url)
            }
        } else {
            let credential = match (given(&c.account_key), given(&c.sas_token)) {
                (Some(k), _) => key(&k)?,
                (None, Some(token)) => sas(&token)?,
                (None, None) => {
                    return Err(Error::InvalidInput(
                        "Azure Storage requires either connectionString, accountKey, or sasToken".into(),
                    ))
                }
            };
            let account = required(&c.account_name, "Azure", "accountName")?;
            config::name(&account, "Azure", "accountName")?;
            let url = format!("https://{account}.blob.core.windows.net");
            (account, credential, url)
        };
        // An endpoint given in the config wins over the default address.
        let account_url = optional_url(&c.endpoint, "Azure", "endpoint")?.unwrap_or(account_url);
        let public_base =
            optional_url(&c.cdn_url, "Azure", "cdnUrl")?.unwrap_or_else(|| format!("{account_url}/{container}"));
        Ok(Settings { account, container, credential, account_url, public_base })
    }

    /// An `object_store` client for the container, each request limited to `timeout` (`None`: no
    /// limit).
    pub fn store(&self, timeout: Option<Duration>) -> Result<MicrosoftAzure> {
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&self.account)
            .with_container_name(&self.container)
            .with_endpoint(self.account_url.clone())
            .with_client_options(client_options(&self.account_url, timeout))
            .with_retry(retry());
        // Reads stream into JS: their HTTP client holds only the read-ahead budget's share.
        if timeout.is_none() {
            builder = builder.with_http_connector(crate::http::StreamConnector);
        }
        let builder = match &self.credential {
            Credential::Key { base64, .. } => builder.with_access_key(base64),
            Credential::Sas(sas) => builder.with_config(AzureConfigKey::SasKey, sas),
        };
        builder.build().map_err(|e| Error::InvalidInput(format!("Invalid Azure configuration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AzureConfig {
        AzureConfig {
            account_name: Some("acct".into()),
            account_key: None,
            sas_token: None,
            connection_string: None,
            container_name: Some("files".into()),
            cdn_url: None,
            endpoint: None,
        }
    }

    #[test]
    fn reads_connection_strings() {
        let mut c = config();
        c.connection_string =
            Some("DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5;EndpointSuffix=example.net".into());
        let s = Settings::new(&c).unwrap();
        assert_eq!((s.account.as_str(), s.account_url.as_str()), ("dev", "http://dev.blob.example.net"));
        assert!(
            matches!(s.credential, Credential::Key { ref base64, ref secret } if base64 == "a2V5" && secret == b"key")
        );
        c.connection_string =
            Some("BlobEndpoint=https://other.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=x".into());
        let s = Settings::new(&c).unwrap();
        assert_eq!((s.account.as_str(), s.public_base.as_str()), ("acct", "https://other.blob.core.windows.net/files"));
        assert!(matches!(s.credential, Credential::Sas(ref q) if q == "sv=1&sig=x"));
        c.account_name = None;
        c.connection_string =
            Some("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=?sv=1".into());
        let s = Settings::new(&c).unwrap();
        assert_eq!(s.account, "devstoreaccount1");
        assert!(matches!(s.credential, Credential::Sas(ref q) if q == "sv=1"));
        c.connection_string = Some("UseDevelopmentStorage=true".into());
        assert_eq!(Settings::new(&c).unwrap().account_url, "http://127.0.0.1:10000/devstoreaccount1");
    }

    #[test]
    fn needs_a_credential_and_a_container() {
        let e = Settings::new(&config()).err().unwrap();
        assert_eq!(e.to_string(), "Azure Storage requires either connectionString, accountKey, or sasToken");
        let mut c = config();
        c.sas_token = Some("?sv=1&sig=x".into());
        c.cdn_url = Some("https://cdn.example.com/".into());
        let s = Settings::new(&c).unwrap();
        assert!(matches!(s.credential, Credential::Sas(ref q) if q == "sv=1&sig=x"));
        assert_eq!(s.public_base, "https://cdn.example.com");
        c.container_name = None;
        assert_eq!(Settings::new(&c).err().unwrap().to_string(), "Azure configuration is missing containerName");
    }
}
