//! Object ACLs (PutObjectAcl / GetObjectAcl), which `object_store` has no API for: how the S3
//! family makes one object public or private, and tells which it is.

use reqwest::Url;

use super::config::Settings;
use super::signed::{send, Reply};
use crate::error::{Error, Result};
use crate::xml::element;

/// `PUT ?acl` with a canned ACL (`canned = Some`), or `GET ?acl`.
pub async fn acl(http: &reqwest::Client, s: &Settings, key: &str, canned: Option<&str>) -> Result<Reply> {
    let url = Url::parse(&format!("{}?acl", s.object_url(key)))
        .map_err(|e| Error::InvalidInput(format!("Invalid S3 address for key {key:?}: {e}")))?;
    let method = if canned.is_some() { http::Method::PUT } else { http::Method::GET };
    send(http, s, method, url, canned).await
}

impl Reply {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{summary, unescape};

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
