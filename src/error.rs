//! The one error type of the crate. Every failure has a stable `code` that the JS layer exposes as
//! `error.code`, and a message that matches the original library where it had one. Messages never
//! carry secrets: providers build them from keys, ids and statuses only.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// A file, key or external id that does not exist. The message is the original's.
    NotFound(String),
    /// The bucket (or container) the provider is configured with does not exist.
    BucketNotFound(String),
    /// A key or external id that is empty, absolute, escapes the root or holds forbidden characters.
    InvalidKey { key: String, reason: &'static str },
    /// A byte range that cannot be served.
    InvalidRange(String),
    /// Any other bad argument, rejected before I/O.
    InvalidInput(String),
    /// The caller cancelled the operation.
    Aborted,
    /// The backend did not answer in time.
    Timeout(String),
    /// The backend refused the credentials: missing, unknown, expired or wrongly signed (HTTP 401,
    /// or a 403 whose error code says so, as S3 and Azure answer a bad key).
    Unauthorized(String),
    /// The credentials are good but lack the permission (HTTP 403).
    Forbidden(String),
    /// The source ended before delivering every promised byte, or delivered more.
    Truncated { expected: u64, received: u64 },
    /// An I/O failure, with what was being done.
    Io { context: String, source: std::io::Error },
    /// The service could not be reached (connection refused, name not resolved, no route): a retry
    /// may succeed.
    Unavailable(String),
    /// The object changed under a request pinned to its version (HTTP 412).
    Conflict(String),
    /// A failure reported by the backend, already worded for the caller.
    Provider(String),
    /// One of the errors above, with the HTTP status the service answered (`error.status` in JS).
    /// Match on [`Error::kind`] to see through it.
    Status { status: u16, error: Box<Error> },
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "NotFound",
            Error::BucketNotFound(_) => "BucketNotFound",
            Error::InvalidKey { .. } => "InvalidKey",
            Error::InvalidRange(_) => "InvalidRange",
            Error::InvalidInput(_) => "InvalidInput",
            Error::Aborted => "Aborted",
            Error::Timeout(_) => "Timeout",
            Error::Unauthorized(_) => "Unauthorized",
            Error::Forbidden(_) => "Forbidden",
            Error::Truncated { .. } => "Truncated",
            Error::Io { .. } => "Io",
            Error::Unavailable(_) => "Unavailable",
            Error::Conflict(_) => "Conflict",
            Error::Provider(_) => "Provider",
            Error::Status { error, .. } => error.code(),
        }
    }

    /// The error itself, without the HTTP status it may carry.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Status { error, .. } => error,
            e => e,
        }
    }

    /// Whether the file (not the bucket) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind(), Error::NotFound(_))
    }

    /// The HTTP status the service answered, when one did.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The same error, carrying `status` (when there is one) instead of any status it had.
    pub fn with_status(self, status: Option<u16>) -> Self {
        let error = match self {
            Error::Status { error, .. } => *error,
            e => e,
        };
        match status {
            Some(status) => Error::Status { status, error: Box::new(error) },
            None => error,
        }
    }

    /// What an HTTP error status means, for a service whose answer is worded in `message` (which
    /// holds the service's own error code, where it sent one).
    pub fn from_status(status: u16, message: String) -> Self {
        let error = match status {
            404 => Error::NotFound(message),
            412 => Error::Conflict(message),
            416 => Error::InvalidRange(message),
            401 => Error::Unauthorized(message),
            403 if BAD_CREDENTIALS.iter().any(|c| message.contains(c)) => Error::Unauthorized(message),
            403 => Error::Forbidden(message),
            _ => Error::Provider(message),
        };
        error.with_status(Some(status))
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    /// The same error, its message prefixed (`Failed to …: <message>`), its code kept.
    pub fn prefixed(self, prefix: &str) -> Self {
        let p = |m: String| format!("{prefix}: {m}");
        match self {
            Error::NotFound(m) => Error::NotFound(p(m)),
            Error::BucketNotFound(m) => Error::BucketNotFound(p(m)),
            Error::InvalidRange(m) => Error::InvalidRange(p(m)),
            Error::InvalidInput(m) => Error::InvalidInput(p(m)),
            Error::Timeout(m) => Error::Timeout(p(m)),
            Error::Unauthorized(m) => Error::Unauthorized(p(m)),
            Error::Forbidden(m) => Error::Forbidden(p(m)),
            Error::Provider(m) => Error::Provider(p(m)),
            Error::Unavailable(m) => Error::Unavailable(p(m)),
            Error::Conflict(m) => Error::Conflict(p(m)),
            Error::Status { status, error } => Error::Status { status, error: Box::new(error.prefixed(prefix)) },
            Error::Io { context, source } => Error::Io { context: p(context), source },
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(m)
            | Error::BucketNotFound(m)
            | Error::InvalidRange(m)
            | Error::InvalidInput(m)
            | Error::Timeout(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::Provider(m)
            | Error::Unavailable(m)
            | Error::Conflict(m) => f.write_str(m),
            Error::Status { error, .. } => error.fmt(f),
            Error::InvalidKey { key, reason } => write!(f, "Invalid key {key:?}: {reason}"),
            Error::Aborted => f.write_str("The operation was aborted"),
            Error::Truncated { expected, received } => write!(
                f,
                "Stream ended after {received} of {expected} bytes: the source changed or the connection was lost"
            ),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {}

/// The error codes S3 and Azure put in a 403 that refuses the credentials themselves (an unknown
/// key, a wrong secret, an expired token), as opposed to a permission the credentials lack.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AuthenticationFailed",
    "InvalidAuthenticationInfo",
    // Azure's words for a wrong signature, whatever the code (Azurite says AuthorizationFailure).
    "Server failed to authenticate the request",
];

/// Whether a request failed before any answer because the service could not be reached: the
/// connection refused, the name not resolved, no route (a failure mid-answer is not this).
pub fn unreachable(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<reqwest::Error>().is_some_and(|r| r.is_connect())
            || c.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|h| h.is_connect())
            || c.downcast_ref::<std::io::Error>().is_some_and(|io| {
                use std::io::ErrorKind::*;
                matches!(io.kind(), ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable)
            })
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A request that got no answer, worded `{what}: {cause}`: `Unavailable` when the service could
/// not be reached, else `Provider`.
pub fn request_failed(what: &str, e: &(dyn std::error::Error + 'static)) -> Error {
    let message = format!("{what}: {}", with_causes(e));
    if unreachable(e) {
        Error::Unavailable(message)
    } else {
        Error::Provider(message)
    }
}

/// An error's message followed by those of its causes that add something ("error sending request:
/// connection refused"), for errors whose top line alone does not say what went wrong.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = c.source();
    }
    message
}

/// napi's async bridge only carries its own `Status`, so the code (and the HTTP status, if any)
/// travels as a `[Code] ` or `[Code 403] ` prefix of the message; `lib/errors.js` strips it and sets
/// `error.code` and `error.status`. This is the only place that writes it, and the one place every
/// message passes on its way out: secrets are removed here.
impl From<Error> for napi::Error {
    fn from(e: Error) -> Self {
        let status = e.status().map(|s| format!(" {s}")).unwrap_or_default();
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("[{}{status}] {}", e.code(), crate::redact::redact(&e.to_string())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, message: &str) -> (&'static str, Option<u16>) {
        let e = Error::from_status(status, message.to_string());
        (e.code(), e.status())
    }

    #[test]
    fn statuses_map_to_codes_and_are_kept() {
        assert_eq!(answer(404, "NoSuchKey"), ("NotFound", Some(404)));
        assert_eq!(answer(412, "PreconditionFailed"), ("Conflict", Some(412)));
        assert_eq!(answer(416, "InvalidRange"), ("InvalidRange", Some(416)));
        assert_eq!(answer(401, "401: Invalid Credentials"), ("Unauthorized", Some(401)));
        assert_eq!(answer(500, "InternalError"), ("Provider", Some(500)));
        assert_eq!(answer(503, "SlowDown"), ("Provider", Some(503)));
    }

    #[test]
    fn a_403_is_unauthorized_only_when_its_code_says_the_credentials_are_bad() {
        assert_eq!(answer(403, "SignatureDoesNotMatch: The request signature…"), ("Unauthorized", Some(403)));
        assert_eq!(answer(403, "InvalidAccessKeyId: The AWS Access Key Id…"), ("Unauthorized", Some(403)));
        assert_eq!(answer(403, "AuthenticationFailed: Server failed to authenticate"), ("Unauthorized", Some(403)));
        assert_eq!(answer(403, "AccessDenied: Access Denied"), ("Forbidden", Some(403)));
        assert_eq!(answer(403, "AuthorizationPermissionMismatch"), ("Forbidden", Some(403)));
        // GCS says 403 only for a permission (a bad token is 401); a bare 403 is a permission too.
        assert_eq!(answer(403, "HTTP 403"), ("Forbidden", Some(403)));
    }

    #[test]
    fn the_status_survives_a_prefix_and_travels_to_js_in_the_prefix() {
        let e = Error::from_status(403, "AccessDenied".into()).prefixed("Failed to upload file");
        assert_eq!(e.to_string(), "Failed to upload file: AccessDenied");
        assert!(matches!(e.kind(), Error::Forbidden(_)));
        assert_eq!(napi::Error::from(e).reason, "[Forbidden 403] Failed to upload file: AccessDenied");
        let plain = napi::Error::from(Error::NotFound("File with key k not found".into()));
        assert_eq!(plain.reason, "[NotFound] File with key k not found");
    }
}
