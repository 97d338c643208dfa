//! List Blobs, made here rather than through object_store: its listing fails whole pages on blob
//! names it cannot represent (such as `a//b`, which other clients may write), and drops the
//! metadata Azure returns with each blob (`include=metadata`), which saves a HEAD per blob.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::stream::BoxStream;
use object_store::{Attribute, Attributes};
use quick_xml::events::Event;

use super::config::{Credential, Settings};
use crate::error::{Error, Result};
use crate::http::{pages, query_string, SMALL_REQUEST};
use crate::providers::bucket::{Head, Listed};
use crate::xml::{summary, unescape};

/// The API version of listings.
const VERSION: &str = "2023-11-03";
/// The first version that takes `startFrom` (listing from a name on): asked for only then. A
/// service that refuses it (older Azure Stack, Azurite without `--skipApiVersionCheck`) is
/// listed from the start instead, and not asked again.
const START_FROM_VERSION: &str = "2026-02-06";
/// What a service answers when it does not know that version or parameter.
const REFUSALS: [&str; 3] = ["InvalidHeaderValue", "InvalidQueryParameterValue", "UnsupportedQueryParameter"];

/// Signs a request with the account key (SharedKey): the string to sign is the verb, eleven
/// empty standard headers (a GET has none), the `x-ms-` headers and the resource with its query.
fn shared_key(s: &Settings, secret: &[u8], path: &str, query: &[(&str, &str)], date: &str, version: &str) -> String {
    let mut params: Vec<(String, &str)> = query.iter().map(|(k, v)| (k.to_ascii_lowercase(), *v)).collect();
    params.sort();
    let resource = params.iter().fold(format!("/{}{path}", s.account), |r, (k, v)| format!("{r}\n{k}:{v}"));
    let to_sign = format!("GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}");
    format!("SharedKey {}:{}", s.account, super::sign(secret, &to_sign))
}

/// One page: the blobs in name order (from `after` on, where the service can start there) and the
/// marker of the next page.
async fn page(
    http: &reqwest::Client,
    s: &Settings,
    prefix: &str,
    after: Option<&str>,
    marker: Option<&str>,
    no_start_from: &AtomicBool,
) -> Result<(Vec<Listed>, Option<String>)> {
    let start_from = after.filter(|_| marker.is_none() && !no_start_from.load(Ordering::Relaxed));
    let (status, body) = match start_from {
        Some(from) => match request(http, s, prefix, marker, Some(from)).await? {
            (400, body) if REFUSALS.iter().any(|c| crate::xml::element(&body, "Code") == Some(*c)) => {
                no_start_from.store(true, Ordering::Relaxed);
                request(http, s, prefix, marker, None).await?
            }
            answer => answer,
        },
        None => request(http, s, prefix, marker, None).await?,
    };
    if !(200..300).contains(&status) {
        let why = summary(&body).unwrap_or_else(|| format!("HTTP {status}"));
        return Err(Error::from_status(status, format!("Failed to list objects: {why}")));
    }
    parse(&body)
}

/// Sends one List Blobs request: the status and the body.
async fn request(
    http: &reqwest::Client,
    s: &Settings,
    prefix: &str,
    marker: Option<&str>,
    start_from: Option<&str>,
) -> Result<(u16, String)> {
    let mut query = vec![("restype", "container"), ("comp", "list"), ("include", "metadata"), ("maxresults", "5000")];
    let version = if start_from.is_some() { START_FROM_VERSION } else { VERSION };
    for (name, value) in
        [("prefix", Some(prefix).filter(|p| !p.is_empty())), ("marker", marker), ("startFrom", start_from)]
    {
        if let Some(v) = value {
            query.push((name, v));
        }
    }
    let url = format!("{}/{}?{}", s.account_url, s.container, query_string(&query));
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let authorization = match &s.credential {
        Credential::Key { secret, .. } => {
            let path = reqwest::Url::parse(&url).map(|u| u.path().to_string()).unwrap_or_default();
            Some(shared_key(s, secret, &path, &query, &date, version))
        }
        Credential::Sas(_) => None,
    };
    let url = match &s.credential {
        Credential::Sas(sas) => format!("{url}&{sas}"),
        Credential::Key { .. } => url,
    };
    let build = || {
        let req = http.get(&url).header("x-ms-date", &date).header("x-ms-version", version);
        match &authorization {
            Some(a) => req.header("authorization", a),
            None => req,
        }
    };
    let failed = |e: reqwest::Error| crate::error::request_failed("Failed to list objects", &e.without_url());
    let reply = crate::http::send(&reqwest::Method::GET, SMALL_REQUEST, build).await.map_err(failed)?;
    Ok((reply.status.as_u16(), reply.body))
}

/// A blob as the listing describes it.
#[derive(Default)]
struct Blob {
    name: String,
    /// Azure encodes names that XML cannot carry; those are left out.
    encoded: bool,
    properties: Vec<(String, String)>,
    metadata: Vec<(String, String)>,
}

impl Blob {
    fn listed(self) -> Option<Listed> {
        let property =
            |name: &str| self.properties.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone());
        let mut attributes = Attributes::new();
        if let Some(t) = property("Content-Type") {
            attributes.insert(Attribute::ContentType, t.into());
        }
        if let Some(c) = property("Cache-Control") {
            attributes.insert(Attribute::CacheControl, c.into());
        }
        let last_modified = property("Last-Modified").and_then(|d| chrono::DateTime::parse_from_rfc2822(&d).ok());
        let size = property("Content-Length").and_then(|n| n.parse().ok());
        let e_tag = property("Etag").map(|e| if e.starts_with('"') { e } else { format!("\"{e}\"") });
        for (name, value) in self.metadata {
            attributes.insert(Attribute::Metadata(name.into()), value.into());
        }
        // Without a size or date the blob is still listed; its metadata then comes from a HEAD.
        let head = match (size, last_modified) {
            (Some(size), Some(date)) => Some(Head { size, last_modified: date.to_utc(), e_tag, attributes }),
            _ => None,
        };
        (!self.encoded).then_some(Listed { key: self.name, head })
    }
}

/// Reads a List Blobs answer by element path, so metadata names (which Azure makes element names,
/// and may be `Blob` or `NextMarker`) cannot be mistaken for the listing's own elements. Metadata
/// names are lower-cased, as HTTP headers (a HEAD) report them.
fn parse(xml: &str) -> Result<(Vec<Listed>, Option<String>)> {
    let unreadable =
        |e: &dyn std::fmt::Display| Error::Provider(format!("Failed to list objects: unreadable answer: {e}"));
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut path, mut text) = (Vec::<String>::new(), String::new());
    let (mut blobs, mut next, mut blob) = (Vec::new(), None, Blob::default());
    let mut root_seen = false;
    loop {
        match reader.read_event().map_err(|e| unreadable(&e))? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let at_blob = path.iter().map(String::as_str).eq(["EnumerationResults", "Blobs", "Blob"]);
                if name == "Name" && at_blob {
                    let encoded = e.try_get_attribute("Encoded").map_err(|e| unreadable(&e))?;
                    blob.encoded |= encoded.is_some_and(|a| a.value.as_ref() == b"true");
                }
                root_seen |= path.is_empty() && name == "EnumerationResults";
                path.push(name);
                text.clear();
            }
            Event::Empty(e)
                if path.iter().map(String::as_str).eq(["EnumerationResults", "Blobs", "Blob", "Metadata"]) =>
            {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_lowercase();
                blob.metadata.push((name, String::new()));
            }
            // Text comes without its entity references, which arrive as events of their own.
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| unreadable(&e))?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| unreadable(&e))?;
                text.push_str(&unescape(&format!("&{name};")));
            }
            Event::CData(c) => text.push_str(&c.decode().map_err(|e| unreadable(&e))?),
            Event::End(_) => {
                let value = std::mem::take(&mut text);
                let at: Vec<&str> = path.iter().map(String::as_str).collect();
                match at.as_slice() {
                    ["EnumerationResults", "NextMarker"] => next = Some(value).filter(|m| !m.is_empty()),
                    ["EnumerationResults", "Blobs", "Blob", "Name"] => blob.name = value,
                    ["EnumerationResults", "Blobs", "Blob", "Properties", p] => {
                        blob.properties.push((p.to_string(), value))
                    }
                    ["EnumerationResults", "Blobs", "Blob", "Metadata", m] => {
                        blob.metadata.push((m.to_lowercase(), value))
                    }
                    ["EnumerationResults", "Blobs", "Blob"] => blobs.extend(std::mem::take(&mut blob).listed()),
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            // A reply cut short, or not a listing at all, is an error, not an empty page.
            Event::Eof if root_seen && path.is_empty() => return Ok((blobs, next)),
            Event::Eof => return Err(unreadable(&"not a complete List Blobs answer")),
            _ => {}
        }
    }
}

/// Every blob under `prefix` after `after`, page by page.
pub fn blobs(
    http: reqwest::Client,
    settings: Arc<Settings>,
    no_start_from: Arc<AtomicBool>,
    prefix: String,
    after: Option<String>,
) -> BoxStream<'static, Result<Listed>> {
    pages(move |marker| {
        let (http, settings, prefix, after) = (http.clone(), settings.clone(), prefix.clone(), after.clone());
        let no_start_from = no_start_from.clone();
        async move { page(&http, &settings, &prefix, after.as_deref(), marker.as_deref(), &no_start_from).await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blobs_with_their_metadata_whatever_its_names() {
        let xml = "<?xml version=\"1.0\"?><EnumerationResults><Blobs><Blob><Name>a//b &amp; c.txt</Name><Properties>\
            <Last-Modified>Fri, 27 Nov 2026 07:25:51 GMT</Last-Modified><Etag>0x1FAE</Etag><Content-Length>11</Content-Length>\
            <Content-Type>text/plain</Content-Type><Cache-Control /></Properties><Metadata><external_id>x1</external_id>\
            <blank /><Owner>a &lt;b&gt;</Owner><NextMarker>zzz</NextMarker><Blob>b</Blob><Name>n</Name></Metadata></Blob>\
            <Blob><Name Encoded=\"true\">%00</Name><Properties><Last-Modified>Fri, 27 Nov 2026 07:25:51 GMT</Last-Modified>\
            <Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker /></EnumerationResults>";
        let (blobs, next) = parse(xml).unwrap();
        assert_eq!((blobs.len(), next), (1, None));
        let b = &blobs[0];
        let h = b.head.as_ref().unwrap();
        assert_eq!((b.key.as_str(), h.size, h.e_tag.as_deref()), ("a//b & c.txt", 11, Some("\"0x1FAE\"")));
        assert_eq!(h.last_modified.timestamp(), 1795764351);
        assert_eq!(h.attributes.get(&Attribute::ContentType).unwrap().as_ref(), "text/plain");
        assert_eq!(h.attributes.get(&Attribute::CacheControl), None);
        let meta = |n: &str| h.attributes.get(&Attribute::Metadata(n.to_string().into())).map(|v| v.to_string());
        assert_eq!(meta("owner").as_deref(), Some("a <b>"));
        assert_eq!(meta("external_id").as_deref(), Some("x1"));
        assert_eq!(meta("blank").as_deref(), Some(""));
        assert_eq!(
            (meta("nextmarker").as_deref(), meta("blob").as_deref(), meta("name").as_deref()),
            (Some("zzz"), Some("b"), Some("n"))
        );
        let (_, next) =
            parse("<EnumerationResults><Blobs /><NextMarker>2!72!abc</NextMarker></EnumerationResults>").unwrap();
        assert_eq!(next.as_deref(), Some("2!72!abc"));
        let cdata =
            "<EnumerationResults><Blobs><Blob><Name><![CDATA[x&amp;y]]> z</Name></Blob></Blobs></EnumerationResults>";
        let (blobs, _) = parse(cdata).unwrap();
        assert_eq!(
            (blobs[0].key.as_str(), blobs[0].head.is_none()),
            ("x&amp;y z", true),
            "CDATA is literal; no size: HEAD"
        );
        assert!(parse("<html><body>Sign in</body></html>").is_err());
        assert!(parse("<EnumerationResults><Blobs><Blob><Name>a</Name></Blob><Blob><Na").is_err());
    }
}
