//! `S3Config` (the original's S3 options) and what follows from it: the bucket's address, the
//! public URL of a key, and the `object_store` clients.
//!
//! One address rule serves signing, raw requests and public URLs, so they never disagree (the
//! original signed path-style but built virtual-hosted URLs, a defect fixed here).

use std::sync::Arc;
use std::time::Duration;

use napi_derive::napi;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};

use crate::config::{self, optional_url, required};
use crate::error::{Error, Result};
use crate::http::encode_key;
use crate::providers::bucket::{client_options, retry};

/// The original's `S3Config`, as the JS classes pass it (the derived classes map theirs onto it).
#[napi(object, object_to_js = false)]
pub struct S3Config {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub force_path_style: Option<bool>,
    pub bucket: Option<String>,
    pub public_base_url: Option<String>,
    pub cdn_url: Option<String>,
    #[napi(js_name = "useSSL")]
    pub use_ssl: Option<bool>,
    #[napi(js_name = "defaultACL")]
    pub default_acl: Option<String>,
    pub server_side_encryption: Option<String>,
}

/// A checked configuration.
pub struct Settings {
    pub bucket: String,
    pub region: String,
    /// Where the bucket's objects live, without a trailing `/`:
    /// `https://s3.{region}.amazonaws.com/{bucket}`, `{endpoint}/{bucket}`, `https://{bucket}.{host}`.
    pub bucket_url: String,
    /// The base of public URLs: the CDN, else `publicBaseUrl`, else the bucket's address.
    pub public_base: String,
    pub credential: Arc<AwsCredential>,
    /// The canned ACL for new objects, unless it is `private` (the default S3 applies anyway, and
    /// the only one a bucket with ACLs disabled accepts: not sending it keeps uploads working there).
    pub default_acl: Option<String>,
    pub server_side_encryption: Option<String>,
}

impl Settings {
    pub fn new(c: &S3Config) -> Result<Settings> {
        let bucket = required(&c.bucket, "S3", "bucket")?;
        config::name(&bucket, "S3", "bucket")?;
        let region = required(&c.region, "S3", "region")?;
        config::name(&region, "S3", "region")?;
        let key_id = required(&c.access_key_id, "S3", "accessKeyId")?;
        let secret_key = required(&c.secret_access_key, "S3", "secretAccessKey")?;
        config::secret(&key_id, "S3", "accessKeyId")?;
        config::secret(&secret_key, "S3", "secretAccessKey")?;
        let credential = Arc::new(AwsCredential { key_id, secret_key, token: None });
        // The original's client signs path-style unless told otherwise. Like the AWS SDKs, fall back
        // to path-style where a virtual host cannot work: a bucket name that is not a DNS label
        // (dots break TLS wildcard certificates too), or an endpoint that is an IP address.
        let dns_label = bucket.len() <= 63
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !bucket.starts_with('-')
            && !bucket.ends_with('-');
        let path_style = c.force_path_style.unwrap_or(true) || !dns_label;
        let bucket_url = match config::optional(&c.endpoint) {
            Some(endpoint) => {
                let endpoint = if endpoint.contains("://") {
                    endpoint
                } else {
                    let scheme = if c.use_ssl == Some(false) { "http" } else { "https" };
                    format!("{scheme}://{endpoint}")
                };
                let endpoint = config::url(&endpoint, "S3", "endpoint")?;
                let host = endpoint.split_once("://").map_or("", |(_, rest)| rest);
                let host = host.split(['/', ':']).next().unwrap_or("");
                let ip = host.parse::<std::net::Ipv4Addr>().is_ok() || host.starts_with('[');
                if path_style || ip {
                    format!("{endpoint}/{bucket}")
                } else {
                    let (scheme, host) = endpoint.split_once("://").expect("has a scheme");
                    format!("{scheme}://{bucket}.{host}")
                }
            }
            None if path_style => format!("https://s3.{region}.amazonaws.com/{bucket}"),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
        };
        let cdn = optional_url(&c.cdn_url, "S3", "cdnUrl")?;
        let public_base =
            cdn.or(optional_url(&c.public_base_url, "S3", "publicBaseUrl")?).unwrap_or(bucket_url.clone());
        let checked_header = |v: &Option<String>, field| -> Result<Option<String>> {
            config::optional(v).map(|v| config::header(&v, "S3", field).map(str::to_string)).transpose()
        };
        Ok(Settings {
            bucket,
            region,
            bucket_url,
            public_base,
            credential,
            default_acl: checked_header(&c.default_acl, "defaultACL")?.filter(|a| a != "private"),
            server_side_encryption: checked_header(&c.server_side_encryption, "serverSideEncryption")?,
        })
    }

    /// The URL of `key` without credentials (works for public objects).
    pub fn public_url(&self, key: &str) -> String {
        format!("{}/{}", self.public_base, encode_key(key))
    }

    /// The address of `key` at the bucket, for raw requests.
    pub fn object_url(&self, key: &str) -> String {
        format!("{}/{}", self.bucket_url, encode_key(key))
    }

    /// An `object_store` client for the bucket, each request limited to `timeout` (`None`: no
    /// limit, for reads whose pace the consumer sets). `acl` is sent as `x-amz-acl` on every
    /// request of this client, so only the upload client gets one.
    pub fn store(&self, timeout: Option<Duration>, acl: Option<&str>) -> Result<AmazonS3> {
        let mut options = client_options(&self.bucket_url, timeout);
        if let Some(acl) = acl {
            let mut headers = http::HeaderMap::new();
            let value =
                http::HeaderValue::from_str(acl).map_err(|_| Error::InvalidInput(format!("Invalid S3 ACL {acl:?}")))?;
            headers.insert("x-amz-acl", value);
            options = options.with_default_headers(headers);
        }
        let mut builder = AmazonS3Builder::new()
            // The bucket's address is given whole (path-style included), so object_store
            // appends keys to it as is.
            .with_endpoint(&self.bucket_url)
            .with_virtual_hosted_style_request(true)
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_access_key_id(&self.credential.key_id)
            .with_secret_access_key(&self.credential.secret_key)
            .with_client_options(options)
            .with_retry(retry());
        // Reads stream into JS: their HTTP client holds only the read-ahead budget's share.
        if timeout.is_none() {
            builder = builder.with_http_connector(crate::http::StreamConnector);
        }
        if let Some(sse) = &self.server_side_encryption {
            let key: AmazonS3ConfigKey = "aws_server_side_encryption".parse().expect("a known key");
            builder = builder.with_config(key, sse);
        }
        builder.build().map_err(|e| Error::InvalidInput(format!("Invalid S3 configuration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: Option<&str>, path_style: Option<bool>) -> S3Config {
        S3Config {
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("secret".into()),
            region: Some("eu-west-1".into()),
            endpoint: endpoint.map(Into::into),
            force_path_style: path_style,
            bucket: Some("bkt".into()),
            public_base_url: None,
            cdn_url: None,
            use_ssl: None,
            default_acl: Some("private".into()),
            server_side_encryption: None,
        }
    }

    #[test]
    fn one_address_rule() {
        let url = |e, p| Settings::new(&config(e, p)).unwrap().public_url("dir/a b+c.txt");
        assert_eq!(url(None, None), "https://s3.eu-west-1.amazonaws.com/bkt/dir/a%20b%2Bc.txt");
        assert_eq!(url(None, Some(false)), "https://bkt.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc.txt");
        assert_eq!(url(Some("http://127.0.0.1:9000/"), None), "http://127.0.0.1:9000/bkt/dir/a%20b%2Bc.txt");
        assert_eq!(
            url(Some("https://nyc3.digitaloceanspaces.com"), Some(false)),
            "https://bkt.nyc3.digitaloceanspaces.com/dir/a%20b%2Bc.txt"
        );
        let mut c = config(Some("minio.local:9000"), None);
        c.use_ssl = Some(false);
        c.cdn_url = Some("https://cdn.example.com/".into());
        let s = Settings::new(&c).unwrap();
        assert_eq!(s.object_url("k"), "http://minio.local:9000/bkt/k");
        assert_eq!(s.public_url("k"), "https://cdn.example.com/k");
        assert_eq!(s.default_acl, None);
    }

    #[test]
    fn falls_back_to_path_style_where_virtual_hosts_cannot_work() {
        let url = |e, bucket: &str| {
            let mut c = config(e, Some(false));
            c.bucket = Some(bucket.into());
            Settings::new(&c).unwrap().object_url("k")
        };
        assert_eq!(url(Some("http://127.0.0.1:9000"), "bkt"), "http://127.0.0.1:9000/bkt/k");
        assert_eq!(url(None, "my.dotted.bucket"), "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
        assert_eq!(url(Some("https://minio.example.com"), "Upper"), "https://minio.example.com/Upper/k");
        assert_eq!(url(Some("https://minio.example.com"), "fine-name"), "https://fine-name.minio.example.com/k");
    }

    #[test]
    fn refuses_missing_settings() {
        let mut c = config(None, None);
        c.secret_access_key = Some(" ".into());
        let e = Settings::new(&c).err().unwrap();
        assert_eq!(e.to_string(), "S3 configuration is missing secretAccessKey");
    }
}
