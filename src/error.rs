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
    /// The backend refused the credentials (HTTP 401 / 403).
    Unauthorized(String),
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
    /// An HTTP error status from an API not covered by the variants above.
    Api { status: u16, message: String },
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
            Error::Truncated { .. } => "Truncated",
            Error::Io { .. } => "Io",
            Error::Unavailable(_) => "Unavailable",
            Error::Conflict(_) => "Conflict",
            Error::Provider(_) | Error::Api { .. } => "Provider",
        }
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
            Error::Provider(m) => Error::Provider(p(m)),
            Error::Unavailable(m) => Error::Unavailable(p(m)),
            Error::Conflict(m) => Error::Conflict(p(m)),
            Error::Api { status, message } => Error::Api { status, message: p(message) },
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
            | Error::Provider(m)
            | Error::Unavailable(m)
            | Error::Conflict(m)
            | Error::Api { message: m, .. } => f.write_str(m),
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

/// napi's async bridge only carries its own `Status`, so the code travels as a `[Code] ` prefix of the
/// message; `lib/errors.js` strips it and sets `error.code`. This is the only place that writes it,
/// and the one place every message passes on its way out: secrets are removed here.
impl From<Error> for napi::Error {
    fn from(e: Error) -> Self {
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("[{}] {}", e.code(), crate::redact::redact(&e.to_string())),
        )
    }
}
