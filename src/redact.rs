//! Secrets never reach an error message, whatever a server or a library puts in its text.
//!
//! Every credential a provider is configured with is registered here when its configuration is
//! checked (`config::secret`), and every error leaving the crate passes through [`redact`] (in
//! `error.rs`, the one place errors become JS errors). Besides the registered values, it removes
//! what is secret by its shape: `Authorization` and `X-API-Key` header values, bearer and
//! shared-key tokens, signature and credential parameters, AWS access key ids, and the query of
//! every URL (where presigned signatures and SAS tokens live).

use std::collections::BTreeSet;
use std::sync::RwLock;

const REDACTED: &str = "[redacted]";

static SECRETS: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());

/// A value shorter than this cannot be told apart from ordinary words, and would garble every
/// message it occurs in; such a value is too short to be a real secret anyway.
const MIN_SECRET: usize = 8;

/// Remembers a secret, so that no error message ever shows it.
pub fn register(secret: &str) {
    if secret.len() >= MIN_SECRET {
        let known = SECRETS.read().unwrap().contains(secret);
        if !known {
            SECRETS.write().unwrap().insert(secret.to_string());
        }
    }
}

/// Where a marker's value ends.
#[derive(Clone, Copy)]
enum Until {
    /// A header value: the end of the line or of the quoted or XML text around it.
    Line,
    /// A token or parameter value.
    Token,
}

/// Markers (lower case) whose following value is secret.
const MARKERS: &[(&str, Until)] = &[
    ("authorization", Until::Line),
    ("x-api-key", Until::Line),
    ("x-amz-security-token", Until::Token),
    ("bearer ", Until::Token),
    ("sharedkey ", Until::Token),
    ("signature=", Until::Token),
    ("credential=", Until::Token),
    ("sig=", Until::Token),
    ("accountkey=", Until::Token),
    ("sharedaccesssignature=", Until::Token),
    ("private_key", Until::Line),
];

fn ends_token(b: u8) -> bool {
    b.is_ascii_whitespace() || b",;&\"'<>)]}".contains(&b)
}

fn ends_line(b: u8) -> bool {
    b"\r\n\"'<".contains(&b)
}

/// The byte ranges of `text` to hide.
fn secret_ranges(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    for secret in SECRETS.read().unwrap().iter() {
        ranges.extend(text.match_indices(secret.as_str()).map(|(i, s)| (i, i + s.len())));
    }
    for (marker, until) in MARKERS {
        for (i, _) in lower.match_indices(marker) {
            let mut start = i + marker.len();
            // A name alone (`authorization header is malformed`) is no header dump: its value
            // follows a separator.
            let named = marker.ends_with(['=', ' ']);
            if !named && !bytes.get(start).is_some_and(|b| b":=\"'>".contains(b)) {
                continue;
            }
            // Skip what separates a header name from its value: `: `, `=`, `">`, `":"`.
            while start < bytes.len() && b" \t:=\"'>".contains(&bytes[start]) {
                start += 1;
            }
            let stop = |b: u8| match until {
                Until::Line => ends_line(b),
                Until::Token => ends_token(b),
            };
            let end = bytes[start..].iter().position(|&b| stop(b)).map_or(bytes.len(), |n| start + n);
            if end > start {
                ranges.push((start, end));
            }
        }
    }
    // AWS access key ids: AKIA/ASIA and 16 more capitals or digits.
    for prefix in ["AKIA", "ASIA"] {
        for (i, _) in text.match_indices(prefix) {
            let id = &bytes[i..(i + 20).min(bytes.len())];
            if id.len() == 20 && id[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                ranges.push((i, i + 20));
            }
        }
    }
    // URL queries.
    for scheme in ["http://", "https://"] {
        for (i, _) in lower.match_indices(scheme) {
            let end = bytes[i..].iter().position(|&b| b.is_ascii_whitespace() || b"\"'<>".contains(&b));
            let end = end.map_or(bytes.len(), |n| i + n);
            if let Some(q) = text[i..end].find('?') {
                ranges.push((i + q + 1, end));
            }
        }
    }
    ranges
}

/// `text` with every secret in it replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let mut ranges = secret_ranges(text);
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        if start >= at {
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets() {
        register("sk_live_0123456789");
        register("short");
        assert_eq!(redact("key sk_live_0123456789 used"), "key [redacted] used");
        assert_eq!(redact("a short word"), "a short word");
    }

    #[test]
    fn secrets_by_shape() {
        let cases = [
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=x/2026/us-east-1/s3/aws4_request, Signature=ab12\nnext",
                "Authorization: [redacted]\nnext",
            ),
            ("<Authorization>SharedKey acct:c2VjcmV0</Authorization>", "<Authorization>[redacted]</Authorization>"),
            ("{\"authorization\":\"Bearer ya29.token\"}", "{\"authorization\":\"[redacted]\"}"),
            ("denied for Bearer ya29.abc, retry", "denied for Bearer [redacted], retry"),
            ("key AKIAIOSFODNN7EXAMPLE is unknown", "key [redacted] is unknown"),
            ("see https://h/b/k?X-Amz-Signature=ab&X-Amz-Credential=c done", "see https://h/b/k?[redacted] done"),
            ("at \"http://y/z?a=b\" done", "at \"http://y/z?[redacted]\" done"),
            ("AccountKey=c2VjcmV0;EndpointSuffix=x", "AccountKey=[redacted];EndpointSuffix=x"),
            ("X-API-Key: sk_abc\r\n", "X-API-Key: [redacted]\r\n"),
            ("nothing secret here", "nothing secret here"),
            (
                "AuthorizationHeaderMalformed: the authorization header is malformed",
                "AuthorizationHeaderMalformed: the authorization header is malformed",
            ),
            ("GCS credentials are missing private_key", "GCS credentials are missing private_key"),
            ("ünïcode Signature=ab ü", "ünïcode Signature=[redacted] ü"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }
}
