//! The requests the crate makes itself (S3 listings and ACLs, the GCS JSON API, Azure listings, the
//! CrunchyCone API), sent with the retry policy `object_store` uses for its own: a request that
//! failed for a reason that may pass (the connection refused, reset or cut off, or an answer of 429
//! or 5xx) is sent again, up to [`MAX_RETRIES`] times, after an exponential backoff, and only when
//! sending it twice cannot do harm (idempotent methods), all within the call's time limit.

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 3;
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// A whole answer: its status and body.
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

/// Whether sending `method` twice has the effect of sending it once.
fn idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
}

fn transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Sends the request `build()` makes (built anew for each attempt) and reads its body, within
/// `limit` in all. Transient failures of idempotent requests are retried; the last answer or error
/// is returned as it is.
pub async fn send(method: &Method, limit: Duration, build: impl Fn() -> RequestBuilder) -> reqwest::Result<Reply> {
    let deadline = Instant::now() + limit;
    let retries = if idempotent(method) { MAX_RETRIES } else { 0 };
    let mut backoff = INITIAL_BACKOFF;
    let mut attempt = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let result: reqwest::Result<Reply> = async {
            let resp = build().timeout(left).send().await?;
            let status = resp.status();
            Ok(Reply { status, body: resp.text().await? })
        }
        .await;
        let transient = match &result {
            Ok(reply) => transient_status(reply.status),
            Err(e) => !e.is_builder() && !e.is_redirect() && !e.is_status(),
        };
        // Half the backoff plus a random half of it, as object_store does, so clients that failed
        // together do not all come back at once.
        let wait = backoff / 2 + backoff.mul_f64(rand::random::<f64>() / 2.0);
        if !transient || attempt >= retries || Instant::now() + wait >= deadline {
            return result;
        }
        tokio::time::sleep(wait).await;
        attempt += 1;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
