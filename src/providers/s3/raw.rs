//! Requests `object_store` has no API for, made with reqwest and signed with `object_store`'s own
//! SigV4 authorizer: object ACLs (PutObjectAcl / GetObjectAcl), and a listing that returns every
//! key as S3 stores it (object_store's listing fails whole pages on keys it cannot represent, such
//! as `a//b`, which other clients may have written).

use bytes::Bytes;
use object_store::aws::AwsAuthorizer;
use object_store::client::HttpRequestBody;
use percent_encoding::percent_decode_str;
use reqwest::Url;

use super::config::Settings;
use crate::error::{with_causes, Error, Result};
use crate::providers::bucket::{query_string, SMALL_REQUEST};
use crate::xml::{element, summary, unescape};

/// What S3 answered: the status and the body (an S3 error document when it refused).
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `<Code>` of an S3 error document.
    pub fn code(&self) -> &str {
        element(&self.body, "Code").unwrap_or("")
    }

    /// A one-line description: `Code: Message`, or the status.
    pub fn describe(&self) -> String {
        summary(&self.body).unwrap_or_else(|| format!("HTTP {}", self.status))
    }

    /// The refusal as an error: 401/403 are `Unauthorized`, the rest `Provider`.
    fn error(&self, context: &str) -> Error {
        let message = format!("{context}: {}", self.describe());
        match self.status {
            401 | 403 => Error::Unauthorized(message),
            _ => Error::Provider(message),
        }
    }

    /// Whether the ACL grants READ (or full control) to everyone, or to every AWS user (both count
    /// as public, as in the original).
    pub fn grants_public_read(&self) -> bool {
        self.body.split("<Grant>").skip(1).any(|grant| {
            let uri = element(grant, "URI").unwrap_or("");
            let everyone =
                uri.ends_with("/groups/global/AllUsers") || uri.ends_with("/groups/global/AuthenticatedUsers");
            everyone && matches!(element(grant, "Permission"), Some("READ" | "FULL_CONTROL"))
        })
    }
}

/// Sends a signed, body-less request.
async fn send(
    http: &reqwest::Client,
    s: &Settings,
    method: http::Method,
    url: Url,
    acl: Option<&str>,
) -> Result<Reply> {
    let mut req = http::Request::builder().method(method.clone()).uri(url.as_str());
    if let Some(acl) = acl {
        req = req.header("x-amz-acl", acl);
    }
    let mut req = req
        .body(HttpRequestBody::from(Bytes::new()))
        .map_err(|e| Error::InvalidInput(format!("Invalid S3 request: {e}")))?;
    AwsAuthorizer::new(&s.credential, "s3", &s.region)
        .try_authorize(&mut req, None)
        .map_err(|e| Error::Provider(format!("Failed to sign the S3 request: {e}")))?;
    let build = || {
        let mut send = http.request(method.clone(), url.clone());
        for (name, value) in req.headers() {
            send = send.header(name, value);
        }
        send
    };
    let failed = |e: reqwest::Error| Error::Provider(format!("S3 request failed: {}", with_causes(&e.without_url())));
    let reply = crate::http::send(&method, SMALL_REQUEST, build).await.map_err(failed)?;
    Ok(Reply { status: reply.status.as_u16(), body: reply.body })
}

/// `PUT ?acl` with a canned ACL (`canned = Some`), or `GET ?acl`.
pub async fn acl(http: &reqwest::Client, s: &Settings, key: &str, canned: Option<&str>) -> Result<Reply> {
    let url = Url::parse(&format!("{}?acl", s.object_url(key)))
        .map_err(|e| Error::InvalidInput(format!("Invalid S3 address for key {key:?}: {e}")))?;
    let method = if canned.is_some() { http::Method::PUT } else { http::Method::GET };
    send(http, s, method, url, canned).await
}

/// One page of ListObjectsV2: keys in S3's order, and where the next page starts.
pub struct Page {
    pub keys: Vec<String>,
    pub next: Option<String>,
}

/// ListObjectsV2 for keys starting with `prefix`, after `start_after` (first page) or from
/// `token` (later pages).
pub async fn list(
    http: &reqwest::Client,
    s: &Settings,
    prefix: &str,
    start_after: Option<&str>,
    token: Option<&str>,
) -> Result<Page> {
    let mut query = vec![("list-type", "2"), ("encoding-type", "url")];
    if !prefix.is_empty() {
        query.push(("prefix", prefix));
    }
    match (token, start_after) {
        (Some(t), _) => query.push(("continuation-token", t)),
        (None, Some(a)) => query.push(("start-after", a)),
        (None, None) => {}
    }
    let url = Url::parse(&format!("{}?{}", s.bucket_url, query_string(&query)))
        .map_err(|e| Error::InvalidInput(format!("Invalid S3 address: {e}")))?;
    let reply = send(http, s, http::Method::GET, url, None).await?;
    if !reply.ok() {
        return Err(reply.error("Failed to list objects"));
    }
    // Keys arrive percent-encoded (`+` for a space) when the server honoured encoding-type=url,
    // as XML text otherwise.
    let url_encoded = element(&reply.body, "EncodingType") == Some("url");
    let keys = reply
        .body
        .split("<Contents>")
        .skip(1)
        .filter_map(|c| element(c, "Key"))
        .map(|k| match url_encoded {
            true => percent_decode_str(&k.replace('+', " ")).decode_utf8_lossy().into_owned(),
            false => unescape(k),
        })
        .collect();
    let next = match element(&reply.body, "IsTruncated") {
        Some("true") => Some(element(&reply.body, "NextContinuationToken").map(unescape).ok_or_else(|| {
            Error::Provider("Failed to list objects: a truncated page without a continuation token".into())
        })?),
        _ => None,
    };
    Ok(Page { keys, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_grants_and_errors() {
        let acl = |body: &str| Reply { status: 200, body: body.into() };
        let public = "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>o</ID></Grantee>\
            <Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee xsi:type=\"Group\">\
            <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>\
            </Grant></AccessControlList></AccessControlPolicy>";
        assert!(acl(public).grants_public_read());
        assert!(!acl(&public.replace("AllUsers", "LogDelivery")).grants_public_read());
        assert!(!acl(&public.replace("<Permission>READ", "<Permission>WRITE")).grants_public_read());
        let err = Reply { status: 400, body: "<Error><Code>InvalidRequest</Code><Message>no</Message></Error>".into() };
        assert_eq!((err.code(), err.describe().as_str(), err.ok()), ("InvalidRequest", "InvalidRequest: no", false));
        let leaky = "<Error><Code>SignatureDoesNotMatch</Code><Message>a &amp; b</Message>\
            <AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><StringToSign>x</StringToSign></Error>";
        assert_eq!(summary(leaky).unwrap(), "SignatureDoesNotMatch: a & b");
        assert_eq!(unescape("&lt;k&gt; &#x41;&#66; &bogus; &"), "<k> AB &bogus; &");
    }
}
