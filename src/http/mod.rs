//! The HTTP pieces every remote backend shares, and depends on (never the reverse): the time
//! limits, the client for small requests and its retry policy ([`send`]), URL encoding, how a
//! refusal maps to an error, paged listings as one stream, and the client for bodies streamed into
//! JS ([`streamed`]).

mod paging;
mod send;
pub mod streamed;
mod url;

use std::time::Duration;

pub use paging::pages;
pub use send::{send, Reply};
pub use streamed::{get_streamed, BoxError, StreamConnector};
pub use url::{encode_key, query_string, SEGMENT};

use crate::error::{Error, Result};

/// How long to wait for a connection.
pub const CONNECT: Duration = Duration::from_secs(10);
/// The longest a small request (HEAD, listing page, ACL, index object, API call) may take.
pub const SMALL_REQUEST: Duration = Duration::from_secs(30);
/// The longest one upload request (at most one part) may take: a part of 8 MiB must move at
/// 14 KB/s or better.
pub const UPLOAD_REQUEST: Duration = Duration::from_secs(600);

/// A client for the small requests a backend makes itself (listings, ACLs, API calls).
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT)
        .timeout(SMALL_REQUEST)
        .build()
        .map_err(|e| Error::Provider(format!("Failed to create the HTTP client: {e}")))
}
