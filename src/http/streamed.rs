//! The client for bodies streamed into JS (hyper with a fixed read buffer), shared by the
//! CrunchyCone streams and `object_store`'s readers, and the read-ahead budget it keeps to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;

use super::CONNECT;

/// The read-ahead budget every open stream shares: a quarter of it for the HTTP clients' read
/// buffers below the streams, the rest for the chunks JS holds (`lib/stream.js` splits its share
/// the same way), so memory follows the budget however many streams are open.
pub const READ_AHEAD_BUDGET: usize = 32 << 20;

/// The read buffer sizes on offer: hyper's own default grows each connection's buffer to 400 KiB,
/// which a few hundred concurrent streams turn into hundreds of MiB. One stream alone reads with
/// the largest (fewer, larger reads: loopback reads ran ~10 % faster with 512 than with 64 KiB).
const READ_BUFFERS: [usize; 4] = [64 << 10, 128 << 10, 256 << 10, 512 << 10];

/// Network bodies open now (see `Counted`).
static OPEN_BODIES: AtomicUsize = AtomicUsize::new(0);

/// The client that fetches bodies streamed into JS: HTTP/1.1 with a fixed read buffer, TLS with
/// the platform's trust store (as reqwest's), connections pooled across every provider.
pub type StreamClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<bytes::Bytes>,
>;

fn build_client(read_buffer: usize) -> Option<StreamClient> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_platform_verifier()
        .ok()?
        .with_no_client_auth();
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(CONNECT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Some(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http1_read_buf_exact_size(read_buffer)
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https),
    )
}

/// The stream client whose read buffer fits the budget's share of the open streams (the caller's
/// counted among them), or `None` when requests to `url` must go through a proxy (the
/// environment's `HTTPS_PROXY` and the like), which only reqwest handles.
pub fn stream_client(url: &http::Uri) -> Option<&'static StreamClient> {
    use std::sync::OnceLock;
    static PROXIES: OnceLock<hyper_util::client::proxy::matcher::Matcher> = OnceLock::new();
    static CLIENTS: [OnceLock<Option<StreamClient>>; READ_BUFFERS.len()] =
        [const { OnceLock::new() }; READ_BUFFERS.len()];
    if PROXIES.get_or_init(hyper_util::client::proxy::matcher::Matcher::from_env).intercept(url).is_some() {
        return None;
    }
    let share = READ_AHEAD_BUDGET / 4 / OPEN_BODIES.load(Ordering::Relaxed).max(1);
    let tier = READ_BUFFERS.iter().rposition(|&size| size <= share).unwrap_or(0);
    CLIENTS[tier].get_or_init(|| build_client(READ_BUFFERS[tier])).as_ref()
}

/// One stream counted as open (for the budget) from its request until its body is dropped.
struct Open;

impl Open {
    fn new() -> Self {
        OPEN_BODIES.fetch_add(1, Ordering::Relaxed);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN_BODIES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A body and its place in the count.
struct Counted<S>(S, Open);

impl<S: futures::Stream + Unpin> futures::Stream for Counted<S> {
    type Item = S::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        std::pin::Pin::new(&mut self.0).poll_next(cx)
    }
}

/// The error of a streamed body: whatever the HTTP client failed with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A GET whose body streams: its status and headers, and its body as a stream of frames.
pub struct Streamed {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: futures::stream::BoxStream<'static, Result<bytes::Bytes, BoxError>>,
}

/// GETs `url` with `headers`: through the stream client, or through `fallback` (reqwest) when a
/// proxy is configured for it.
pub async fn get_streamed(
    fallback: &reqwest::Client,
    url: &str,
    headers: http::HeaderMap,
) -> Result<Streamed, BoxError> {
    use futures::{StreamExt, TryStreamExt};
    use http_body_util::BodyExt;
    let uri: http::Uri = url.parse()?;
    let open = Open::new();
    let Some(client) = stream_client(&uri) else {
        let resp = fallback.get(url).headers(headers).send().await?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        return Ok(Streamed { status, headers, body: resp.bytes_stream().map_err(BoxError::from).boxed() });
    };
    let mut req = http::Request::get(uri).body(http_body_util::Empty::new())?;
    *req.headers_mut() = headers;
    let resp = client.request(req).await?;
    let (parts, body) = resp.into_parts();
    let body = Counted(body.into_data_stream().map_err(BoxError::from), open);
    Ok(Streamed { status: parts.status, headers: parts.headers, body: body.boxed() })
}

impl<B: http_body::Body + Unpin> http_body::Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        std::pin::Pin::new(&mut self.0).poll_frame(cx)
    }
}

/// `object_store`'s client for streamed reads (S3, GCS, Azure): body-less GETs go through the stream
/// client, everything else (and everything behind a proxy) through reqwest, as by default.
#[derive(Debug, Default)]
pub struct StreamConnector;

impl object_store::client::HttpConnector for StreamConnector {
    fn connect(&self, options: &object_store::ClientOptions) -> object_store::Result<object_store::client::HttpClient> {
        let fallback = object_store::client::ReqwestConnector::default().connect(options)?;
        Ok(object_store::client::HttpClient::new(StreamService { fallback }))
    }
}

#[derive(Debug)]
struct StreamService {
    fallback: object_store::client::HttpClient,
}

#[async_trait::async_trait]
impl object_store::client::HttpService for StreamService {
    async fn call(
        &self,
        req: object_store::client::HttpRequest,
    ) -> Result<object_store::client::HttpResponse, object_store::client::HttpError> {
        use http_body_util::BodyExt;
        use object_store::client::{HttpError, HttpErrorKind, HttpResponse, HttpResponseBody};
        let streamable = req.method() == http::Method::GET && req.body().is_empty();
        let open = Open::new();
        let Some(client) = streamable.then(|| stream_client(req.uri())).flatten() else {
            drop(open);
            return self.fallback.execute(req).await;
        };
        let (parts, _) = req.into_parts();
        let resp =
            client.request(http::Request::from_parts(parts, http_body_util::Empty::new())).await.map_err(|e| {
                let kind = if e.is_connect() { HttpErrorKind::Connect } else { HttpErrorKind::Request };
                HttpError::new(kind, e)
            })?;
        let (parts, body) = resp.into_parts();
        // A body cut off mid-way is `Interrupted`, which object_store resumes from the next byte.
        let body = Counted(body.map_err(|e| HttpError::new(HttpErrorKind::Interrupted, e)), open);
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}
