//! Keys and query parameters in URLs, encoded as the services' signatures expect.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters is escaped in a key segment (what the signatures of
/// S3, GCS and Azure expect).
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A key as a URL path: each segment percent-encoded, `/` kept.
pub fn encode_key(key: &str) -> String {
    key.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect::<Vec<_>>().join("/")
}

/// `name=value&…`, each value percent-encoded as [`SEGMENT`] says (`%20` for a space, as the SDKs
/// send it: a form-encoded `+` is ambiguous).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, SEGMENT))).collect::<Vec<_>>().join("&")
}
