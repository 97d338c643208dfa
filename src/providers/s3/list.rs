//! ListObjectsV2, made by hand: it returns every key as S3 stores it, where `object_store`'s
//! listing fails whole pages on keys it cannot represent (such as `a//b`, which other clients may
//! have written).

use percent_encoding::percent_decode_str;
use reqwest::Url;

use super::config::Settings;
use super::signed::send;
use crate::error::{Error, Result};
use crate::http::query_string;
use crate::xml::{element, unescape};

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
