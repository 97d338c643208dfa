//! Configuration values, checked before they reach a client: present where required, URLs that
//! are absolute `http(s)` addresses, names that can stand in a URL or a header as they are. A bad
//! value is an `InvalidInput` error naming the field (and the value, unless it is a secret), never
//! a panic in an HTTP or signing library further down.

use crate::error::{Error, Result};

/// A value that must be present and not blank.
pub fn required(value: &Option<String>, service: &str, name: &str) -> Result<String> {
    optional(value).ok_or_else(|| Error::InvalidInput(format!("{service} configuration is missing {name}")))
}

/// A count given as a JS number: `Some` when it is whole and within `range`. (A napi `u32` would
/// take 2^32 + 8 as 8 and 8.9 as 8, past any range check.)
pub fn count(value: f64, range: std::ops::RangeInclusive<u32>) -> Option<usize> {
    let (min, max) = (f64::from(*range.start()), f64::from(*range.end()));
    (value.fract() == 0.0 && (min..=max).contains(&value)).then_some(value as usize)
}

/// An optional value, blank counting as absent, trimmed.
pub fn optional(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn invalid(service: &str, field: &str, shown: Option<&str>, reason: &str) -> Error {
    match shown {
        Some(v) => Error::InvalidInput(format!("Invalid {service} {field} {v:?}: {reason}")),
        None => Error::InvalidInput(format!("Invalid {service} {field}: {reason}")),
    }
}

/// An absolute `http://` or `https://` URL with a host, returned without a trailing `/`. A URL
/// that carries a password is never repeated in an error.
pub fn url(value: &str, service: &str, field: &str) -> Result<String> {
    let shown = (!value.contains('@')).then_some(value);
    let bad = |reason| Err(invalid(service, field, shown, reason));
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("URLs must not contain spaces or control characters");
    }
    match url::Url::parse(value) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => bad("expected an http:// or https:// URL"),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => bad("the URL has no host"),
        Ok(_) => Ok(value.trim_end_matches('/').to_string()),
        Err(e) => bad(&format!("expected an http:// or https:// URL ({e})")),
    }
}

/// An optional URL (`url`'s rules), blank counting as absent.
pub fn optional_url(value: &Option<String>, service: &str, field: &str) -> Result<Option<String>> {
    optional(value).map(|v| url(&v, service, field)).transpose()
}

/// A name that goes into URLs and headers unescaped (bucket, container, account, region, project
/// id): letters, digits and `-._~$` only.
pub fn name<'a>(value: &'a str, service: &str, field: &str) -> Result<&'a str> {
    if value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~$".contains(&b)) {
        Ok(value)
    } else {
        Err(invalid(service, field, Some(value), "only letters, digits and -._~$ are allowed"))
    }
}

/// A value sent in a header (an ACL, an encryption mode): printable ASCII without spaces.
pub fn header<'a>(value: &'a str, service: &str, field: &str) -> Result<&'a str> {
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(value)
    } else {
        Err(invalid(service, field, Some(value), "only printable ASCII without spaces is allowed"))
    }
}

/// A credential (key id, secret, token): printable ASCII without spaces. Never repeated in an error,
/// and registered so that no error message shows it (see `redact`).
pub fn secret<'a>(value: &'a str, service: &str, field: &str) -> Result<&'a str> {
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        crate::redact::register(value);
        Ok(value)
    } else {
        Err(invalid(service, field, None, "only printable ASCII without spaces is allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(url("http://127.0.0.1:9000/", "S3", "endpoint").unwrap(), "http://127.0.0.1:9000");
        assert_eq!(url("https://[::1]:1/x", "S3", "endpoint").unwrap(), "https://[::1]:1/x");
        for bad in [
            "not a url",
            "ftp://x",
            "http://",
            "://x",
            "http://[::1",
            "http://127.0.0.1:99999",
            "http://a b",
            "a\0b",
            "file:///etc",
        ] {
            let e = url(bad, "S3", "endpoint").unwrap_err();
            assert_eq!(e.code(), "InvalidInput", "{bad:?}");
            assert!(e.to_string().starts_with("Invalid S3 endpoint"), "{e}");
        }
        let e = url("http://user:hunter2@ho st", "S3", "endpoint").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn names_headers_and_secrets() {
        assert!(name("my-bucket.v2", "S3", "bucket").is_ok());
        for bad in ["a b", "a/b", "a\0b", "ü", "a?b", "a%b"] {
            assert!(name(bad, "S3", "bucket").is_err(), "{bad:?}");
        }
        assert!(header("aws:kms", "S3", "serverSideEncryption").is_ok());
        let e = secret("sk\nlive", "S3", "secretAccessKey").unwrap_err().to_string();
        assert_eq!(e, "Invalid S3 secretAccessKey: only printable ASCII without spaces is allowed");
    }
}
