//! Object ACLs (PutObjectAcl / GetObjectAcl), which `object_store` has no API for: raw requests,
//! SigV4-signed with `object_store`'s own authorizer.

use bytes::Bytes;
use object_store::aws::AwsAuthorizer;
use object_store::client::HttpRequestBody;

use super::config::Settings;
use crate::error::{Error, Result};

/// What S3 answered: the status, and its error `Code` / `Message` when it refused.
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
        match (element(&self.body, "Code"), element(&self.body, "Message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_string(),
            _ => format!("HTTP {}", self.status),
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

/// The text of the first `<name>…</name>` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len])
}

/// `PUT ?acl` with a canned ACL (`canned = Some`), or `GET ?acl`.
pub async fn request(http: &reqwest::Client, s: &Settings, key: &str, canned: Option<&str>) -> Result<Reply> {
    let url = format!("{}?acl", s.object_url(key));
    let method = if canned.is_some() { http::Method::PUT } else { http::Method::GET };
    let mut req = http::Request::builder().method(method.clone()).uri(&url);
    if let Some(acl) = canned {
        req = req.header("x-amz-acl", acl);
    }
    let mut req = req
        .body(HttpRequestBody::from(Bytes::new()))
        .map_err(|e| Error::InvalidInput(format!("Invalid S3 request for key {key:?}: {e}")))?;
    AwsAuthorizer::new(&s.credential, "s3", &s.region)
        .try_authorize(&mut req, None)
        .map_err(|e| Error::Provider(format!("Failed to sign the S3 request: {e}")))?;
    let mut send = http.request(method, &url);
    for (name, value) in req.headers() {
        send = send.header(name, value);
    }
    let resp = send.send().await.map_err(|e| Error::Provider(format!("S3 request failed: {}", e.without_url())))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| Error::Provider(format!("S3 request failed: {}", e.without_url())))?;
    Ok(Reply { status, body })
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
    }
}
