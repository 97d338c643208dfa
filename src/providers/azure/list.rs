//! List Blobs, made here rather than through object_store: its listing fails whole pages on blob
//! names it cannot represent (such as `a//b`, which other clients may write), and drops the
//! metadata Azure returns with each blob (`include=metadata`), which saves a HEAD per blob.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{Attribute, Attributes};
use percent_encoding::utf8_percent_encode;

use super::config::{Credential, Settings};
use crate::error::{with_causes, Error, Result};
use crate::providers::bucket::{Head, Listed, SEGMENT};
use crate::xml::{element, summary, unescape};

/// The API version requests ask for (`startFrom` needs 2023-11-03).
const VERSION: &str = "2023-11-03";

/// One page: the blobs in name order, and the marker of the next page.
struct Page {
    blobs: Vec<Listed>,
    next: Option<String>,
}

/// Signs a request with the account key (SharedKey): the string to sign is the verb, eleven
/// empty standard headers (a GET has none), the `x-ms-` headers and the resource with its query.
fn shared_key(s: &Settings, key: &str, path: &str, query: &[(&str, &str)], date: &str) -> Result<String> {
    let mut params: Vec<(String, &str)> = query.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect();
    params.sort();
    let resource = params.iter().fold(format!("/{}{path}", s.account), |r, (k, v)| format!("{r}\n{k}:{v}"));
    let to_sign = format!("GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n{resource}");
    let secret = BASE64.decode(key).map_err(|_| Error::InvalidInput("Invalid Azure account key".into()))?;
    let mac =
        aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret), to_sign.as_bytes());
    Ok(format!("SharedKey {}:{}", s.account, BASE64.encode(mac.as_ref())))
}

async fn page(
    http: &reqwest::Client,
    s: &Settings,
    prefix: &str,
    after: Option<&str>,
    marker: Option<&str>,
) -> Result<Page> {
    let mut query = vec![("restype", "container"), ("comp", "list"), ("include", "metadata"), ("maxresults", "5000")];
    if !prefix.is_empty() {
        query.push(("prefix", prefix));
    }
    match (marker, after) {
        (Some(m), _) => query.push(("marker", m)),
        (None, Some(a)) => query.push(("startFrom", a)),
        (None, None) => {}
    }
    let encoded: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, SEGMENT))).collect();
    let url = format!("{}/{}?{}", s.account_url, s.container, encoded.join("&"));
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let req = match &s.credential {
        Credential::Key(key) => {
            let path = reqwest::Url::parse(&url).map(|u| u.path().to_string()).unwrap_or_default();
            http.get(&url).header("authorization", shared_key(s, key, &path, &query, &date)?)
        }
        Credential::Sas(sas) => http.get(format!("{url}&{sas}")),
    };
    let req = req.header("x-ms-date", &date).header("x-ms-version", VERSION);
    let failed =
        |e: reqwest::Error| Error::Provider(format!("Failed to list objects: {}", with_causes(&e.without_url())));
    let resp = req.send().await.map_err(failed)?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(failed)?;
    if !(200..300).contains(&status) {
        let message = format!("Failed to list objects: {}", summary(&body).unwrap_or_else(|| format!("HTTP {status}")));
        return Err(if matches!(status, 401 | 403) { Error::Unauthorized(message) } else { Error::Provider(message) });
    }
    let blobs = body.split("<Blob>").skip(1).filter_map(blob).filter(|b| after.is_none_or(|a| b.key.as_str() > a));
    let next = element(&body, "NextMarker").filter(|m| !m.is_empty()).map(unescape);
    Ok(Page { blobs: blobs.collect(), next })
}

/// One `<Blob>` of a listing; `None` for what cannot be read (names Azure had to encode).
fn blob(xml: &str) -> Option<Listed> {
    let key = unescape(element(xml, "Name")?);
    let properties = element(xml, "Properties")?;
    let property = |name| element(properties, name).filter(|v| !v.is_empty()).map(unescape);
    let mut attributes = Attributes::new();
    if let Some(t) = property("Content-Type") {
        attributes.insert(Attribute::ContentType, t.into());
    }
    if let Some(c) = property("Cache-Control") {
        attributes.insert(Attribute::CacheControl, c.into());
    }
    // <Metadata><name>value</name>…</Metadata>
    let mut rest = element(xml, "Metadata").unwrap_or("");
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>')? + open;
        let name = &rest[open + 1..close];
        if let Some(empty) = name.strip_suffix('/') {
            attributes.insert(Attribute::Metadata(empty.trim().to_string().into()), "".into());
            rest = &rest[close + 1..];
            continue;
        }
        let end = rest[close..].find(&format!("</{name}>"))? + close;
        attributes.insert(Attribute::Metadata(name.to_string().into()), unescape(&rest[close + 1..end]).into());
        rest = &rest[end + name.len() + 3..];
    }
    let last_modified = chrono::DateTime::parse_from_rfc2822(&property("Last-Modified")?).ok()?.to_utc();
    let e_tag = property("Etag").map(|e| if e.starts_with('"') { e } else { format!("\"{e}\"") });
    let size = property("Content-Length")?.parse().ok()?;
    Some(Listed { key, head: Some(Head { size, last_modified, e_tag, attributes }) })
}

/// Every blob under `prefix` after `after`, page by page.
pub fn blobs(
    http: reqwest::Client,
    settings: Arc<Settings>,
    prefix: String,
    after: Option<String>,
) -> BoxStream<'static, Result<Listed>> {
    futures::stream::try_unfold(Some(None), move |marker: Option<Option<String>>| {
        let (http, settings, prefix, after) = (http.clone(), settings.clone(), prefix.clone(), after.clone());
        async move {
            let Some(marker) = marker else { return Ok(None) };
            let p = page(&http, &settings, &prefix, after.as_deref(), marker.as_deref()).await?;
            let next = p.next.map(Some);
            Ok(Some((futures::stream::iter(p.blobs.into_iter().map(Ok)), next)))
        }
    })
    .try_flatten()
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blobs_with_their_metadata() {
        let xml = "<Blob><Name>a//b &amp; c.txt</Name><Properties><Last-Modified>Fri, 27 Nov 2026 07:25:51 GMT</Last-Modified>\
            <Etag>0x1FAE</Etag><Content-Length>11</Content-Length><Content-Type>text/plain</Content-Type><Cache-Control />\
            </Properties><Metadata><external_id>x1</external_id><blank /><owner>a &lt;b&gt;</owner></Metadata></Blob>";
        let b = blob(xml).unwrap();
        let h = b.head.unwrap();
        assert_eq!((b.key.as_str(), h.size, h.e_tag.as_deref()), ("a//b & c.txt", 11, Some("\"0x1FAE\"")));
        assert_eq!(h.last_modified.timestamp(), 1795764351);
        assert_eq!(h.attributes.get(&Attribute::ContentType).unwrap().as_ref(), "text/plain");
        assert_eq!(h.attributes.get(&Attribute::CacheControl), None);
        assert_eq!(h.attributes.get(&Attribute::Metadata("owner".into())).unwrap().as_ref(), "a <b>");
        assert_eq!(h.attributes.get(&Attribute::Metadata("external_id".into())).unwrap().as_ref(), "x1");
        assert_eq!(h.attributes.get(&Attribute::Metadata("blank".into())).unwrap().as_ref(), "");
        assert!(blob("<Blob><Name Encoded=\"true\">%00</Name></Blob>").is_none());
    }
}
