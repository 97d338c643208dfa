//! Requests `object_store` has no API for (object ACLs, listings), made with reqwest and signed
//! with `object_store`'s own SigV4 authorizer.

use bytes::Bytes;
use object_store::aws::AwsAuthorizer;
use object_store::client::HttpRequestBody;
use reqwest::Url;

use super::config::Settings;
use crate::error::{Error, Result};
use crate::http::SMALL_REQUEST;
use crate::xml::{element, summary};

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

    /// The refusal as an error (see [`Error::from_status`]).
    pub fn error(&self, context: &str) -> Error {
        Error::from_status(self.status, format!("{context}: {}", self.describe()))
    }
}

/// Sends a signed, body-less request.
pub async fn send(
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
    let failed = |e: reqwest::Error| crate::error::request_failed("S3 request failed", &e.without_url());
    let reply = crate::http::send(&method, SMALL_REQUEST, build).await.map_err(failed)?;
    Ok(Reply { status: reply.status.as_u16(), body: reply.body })
}
