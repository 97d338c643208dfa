//! The byte-stream handle every provider's `getFileStream` goes through.
//!
//! A provider supplies an [`Opener`]: the lookup (stat, signed URL, …), blocking or async, that
//! yields [`Opened`], the metadata plus a [`Body`] positioned at the first byte to deliver.
//! [`NativeStream`] runs the opener under cancellation, then JS pulls the bytes with
//! `read(buffer)`: JS allocates each buffer (so V8 manages and collects it like any `Buffer`). A
//! file is read straight into it on the libuv thread pool, as `fs.createReadStream` does, with no
//! copy in between; an HTTP body's frames are copied into it. The handle counts bytes: a body that
//! ends before every promised byte fails the read, so a stream never ends cleanly short.
//! `cancel()` releases the file or connection at once, or as soon as a read in flight returns.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi::{Env, Task};
use napi_derive::napi;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::range::Resolved;

/// The bytes of an opened object, from the first byte to deliver on.
pub enum Body {
    /// A blocking reader (a file): read straight into the caller's buffer on the libuv pool.
    Blocking(Box<dyn Read + Send>),
    /// An async source (an HTTP body): frames are copied into the caller's buffer.
    Async(BoxStream<'static, Result<Bytes>>),
}

/// How a provider finds and opens an object: an async lookup (HTTP), or blocking work (files) that
/// runs on the libuv pool like the reads that follow it.
pub enum Opener {
    Async(BoxFuture<'static, Result<Opened>>),
    Blocking(Box<dyn FnOnce() -> Result<Opened> + Send>),
}

/// What a provider hands back once the object is found.
pub struct Opened {
    pub range: Resolved,
    pub content_type: String,
    pub last_modified_ms: Option<f64>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    /// Provider-specific fields for the result's `providerSpecific`.
    pub extra: Option<serde_json::Value>,
    pub body: Body,
}

/// Drops the first `n` bytes of an async body (for servers that answer a range with the whole
/// object).
pub fn skip(body: BoxStream<'static, Result<Bytes>>, n: u64) -> BoxStream<'static, Result<Bytes>> {
    let mut left = n;
    body.filter_map(move |item| {
        let out = match item {
            Ok(mut bytes) if left > 0 => {
                let cut = left.min(bytes.len() as u64);
                left -= cut;
                bytes.advance(cut as usize);
                (!bytes.is_empty()).then_some(Ok(bytes))
            }
            other => Some(other),
        };
        std::future::ready(out)
    })
    .boxed()
}

/// Metadata of an opened stream, as plain values (JS turns them into `Date`s and the result object).
#[napi(object)]
pub struct StreamInfo {
    pub content_type: String,
    /// Bytes in this response.
    pub content_length: f64,
    pub total: f64,
    pub start: f64,
    pub end: f64,
    pub partial: bool,
    pub last_modified_ms: Option<f64>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub extra: Option<serde_json::Value>,
}

/// An open body and how much of it is still owed.
struct Reader {
    body: Body,
    /// Bytes of an async frame not yet handed out.
    pending: Bytes,
    expected: u64,
    remaining: u64,
}

impl Reader {
    /// Accounts for `filled` bytes and decides the read's outcome. The body is released (the slot
    /// emptied) once it is finished, failed or cancelled.
    fn settle(
        slot: &mut Option<Reader>,
        filled: usize,
        ended: bool,
        failure: Option<Error>,
        token: &CancellationToken,
    ) -> Result<u32> {
        let r = slot.as_mut().expect("settled while open");
        r.remaining -= filled as u64;
        let outcome = match failure {
            _ if token.is_cancelled() => Err(Error::Aborted),
            Some(e) => Err(e),
            None if ended && r.remaining > 0 => {
                Err(Error::Truncated { expected: r.expected, received: r.expected - r.remaining })
            }
            None => Ok(filled as u32),
        };
        if outcome.is_err() || r.remaining == 0 {
            *slot = None;
        }
        outcome
    }
}

fn not_open(token: &CancellationToken) -> Error {
    if token.is_cancelled() {
        Error::Aborted
    } else {
        Error::InvalidInput("The stream is not open, or already finished".into())
    }
}

/// `None` before `open()` and again once the body is finished, failed or cancelled.
type Slot = Arc<tokio::sync::Mutex<Option<Reader>>>;

/// A native byte stream: `open()`, then `read(buffer)` until every byte of `contentLength` has
/// arrived; `cancel()` at any time.
#[napi]
pub struct NativeStream {
    opener: Mutex<Option<Opener>>,
    reader: Slot,
    /// Set by `open()`: which way `read()` fills buffers.
    is_async: Arc<AtomicBool>,
    token: CancellationToken,
}

impl NativeStream {
    pub fn new(opener: Opener) -> Self {
        NativeStream {
            opener: Mutex::new(Some(opener)),
            reader: Arc::default(),
            is_async: Arc::default(),
            token: CancellationToken::new(),
        }
    }
}

/// One `read(buffer)`, run on the libuv thread pool.
pub struct ReadInto {
    reader: Slot,
    token: CancellationToken,
    buffer: Buffer,
}

impl ReadInto {
    fn fill(&mut self) -> Result<u32> {
        let mut slot = self.reader.blocking_lock();
        let Some(Reader { body: Body::Blocking(body), remaining, .. }) = slot.as_mut() else {
            return Err(not_open(&self.token));
        };
        let want = (self.buffer.len() as u64).min(*remaining) as usize;
        let buf = &mut self.buffer[..want];
        let (mut filled, mut ended, mut failure) = (0, false, None);
        while filled < want {
            match body.read(&mut buf[filled..]) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(Error::io("Failed to read file", e));
                    break;
                }
            }
        }
        Reader::settle(&mut slot, filled, ended, failure, &self.token)
    }
}

/// Copies into `buffer` what an async body already has (bytes left from the last frame, frames
/// that are ready), without waiting. `None` when nothing is ready: the caller waits for a frame.
/// Otherwise the bytes copied, whether the body ended, and its failure if it failed.
fn fill_ready(r: &mut Reader, buffer: &mut [u8]) -> Option<(usize, bool, Option<Error>)> {
    let Body::Async(body) = &mut r.body else { unreachable!("an async body") };
    let want = (buffer.len() as u64).min(r.remaining) as usize;
    let mut filled = 0;
    while filled < want {
        if r.pending.is_empty() {
            match body.next().now_or_never() {
                Some(Some(Ok(bytes))) => r.pending = bytes,
                Some(Some(Err(e))) => return Some((filled, false, Some(e))),
                Some(None) => return Some((filled, true, None)),
                None if filled == 0 => return None,
                None => break,
            }
            continue;
        }
        let n = r.pending.len().min(want - filled);
        buffer[filled..filled + n].copy_from_slice(&r.pending[..n]);
        r.pending.advance(n);
        filled += n;
    }
    Some((filled, false, None))
}

/// One `read(buffer)` from an async body: copies what the source has, waiting only while nothing
/// has been copied yet, so a slow network gives smaller chunks rather than later ones.
async fn fill_async(reader: Slot, token: CancellationToken, mut buffer: Buffer) -> Result<u32> {
    let mut slot = reader.lock().await;
    loop {
        let Some(r @ Reader { body: Body::Async(_), .. }) = slot.as_mut() else {
            return Err(not_open(&token));
        };
        if let Some((filled, ended, failure)) = fill_ready(r, &mut buffer) {
            return Reader::settle(&mut slot, filled, ended, failure, &token);
        }
        let Body::Async(body) = &mut r.body else { unreachable!("an async body") };
        let next = tokio::select! {
            biased;
            _ = token.cancelled() => return Reader::settle(&mut slot, 0, false, None, &token),
            item = body.next() => item,
        };
        match next {
            Some(Ok(bytes)) => r.pending = bytes,
            Some(Err(e)) => return Reader::settle(&mut slot, 0, false, Some(e), &token),
            None => return Reader::settle(&mut slot, 0, true, None, &token),
        }
    }
}

/// A read served at once from what an async body already has (`None`: wait for the network, or
/// another read holds the body). Runs on the JS thread inside the runtime's context.
fn read_now(reader: &Slot, token: &CancellationToken, buffer: &mut [u8]) -> Option<Result<u32>> {
    let mut slot = reader.try_lock().ok()?;
    let r = slot.as_mut().filter(|r| matches!(r.body, Body::Async(_)))?;
    let (filled, ended, failure) = napi::bindgen_prelude::within_runtime_if_available(|| fill_ready(r, buffer))?;
    Some(Reader::settle(&mut slot, filled, ended, failure, token))
}

impl Task for ReadInto {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> napi::Result<u32> {
        Ok(self.fill()?)
    }

    fn resolve(&mut self, _env: Env, n: u32) -> napi::Result<u32> {
        Ok(n)
    }
}

/// Makes an opened body readable (`first`: bytes already taken from it) and returns its metadata.
/// A `cancel()` that raced the open wins: the body is dropped here, so nothing stays open waiting
/// for GC.
fn install(
    slot: &mut Option<Reader>,
    is_async: &AtomicBool,
    token: &CancellationToken,
    opened: Opened,
    first: Bytes,
) -> Result<StreamInfo> {
    if token.is_cancelled() {
        return Err(Error::Aborted);
    }
    let range = opened.range;
    is_async.store(matches!(opened.body, Body::Async(_)), Ordering::Release);
    *slot = Some(Reader { body: opened.body, pending: first, expected: range.length, remaining: range.length });
    Ok(StreamInfo {
        content_type: opened.content_type,
        content_length: range.length as f64,
        total: range.total as f64,
        start: range.start as f64,
        end: range.end() as f64,
        partial: range.partial,
        last_modified_ms: opened.last_modified_ms,
        etag: opened.etag,
        cache_control: opened.cache_control,
        extra: opened.extra,
    })
}

/// Waits for an HTTP body's first frame before the stream is handed out, so the first `read()` is
/// served at once on the JS thread (a response's first bytes usually follow its headers closely;
/// this saves the consumer a round trip through the runtime). A body that fails or ends at once is
/// left as one that does so on the first read.
async fn first_frame(opened: &mut Opened, token: &CancellationToken) -> Result<Bytes> {
    let Body::Async(body) = &mut opened.body else { return Ok(Bytes::new()) };
    if opened.range.length == 0 {
        return Ok(Bytes::new());
    }
    let first = tokio::select! {
        biased;
        _ = token.cancelled() => return Err(Error::Aborted),
        item = body.next() => item,
    };
    match first {
        Some(Ok(bytes)) => Ok(bytes),
        other => {
            *body = futures::stream::iter(other).boxed();
            Ok(Bytes::new())
        }
    }
}

/// A blocking `open()`, run on the libuv thread pool.
pub struct OpenTask {
    open: Option<Box<dyn FnOnce() -> Result<Opened> + Send>>,
    reader: Slot,
    is_async: Arc<AtomicBool>,
    token: CancellationToken,
}

impl Task for OpenTask {
    type Output = StreamInfo;
    type JsValue = StreamInfo;

    fn compute(&mut self) -> napi::Result<StreamInfo> {
        let open = self.open.take().ok_or_else(|| Error::InvalidInput("The stream was already opened".into()))?;
        if self.token.is_cancelled() {
            return Err(Error::Aborted.into());
        }
        let opened = open()?;
        let mut slot = self.reader.blocking_lock();
        Ok(install(&mut slot, &self.is_async, &self.token, opened, Bytes::new())?)
    }

    fn resolve(&mut self, _env: Env, info: StreamInfo) -> napi::Result<StreamInfo> {
        Ok(info)
    }
}

#[napi]
impl NativeStream {
    /// Finds the object. Resolves with its metadata; rejects if `cancel()` comes first.
    #[napi(ts_return_type = "Promise<StreamInfo>")]
    pub fn open<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, StreamInfo>> {
        let opener = self.opener.lock().unwrap().take();
        let opener = opener.ok_or_else(|| Error::InvalidInput("The stream was already opened".into()))?;
        let (reader, is_async, token) = (self.reader.clone(), self.is_async.clone(), self.token.clone());
        match opener {
            Opener::Async(fut) => env.spawn_future(async move {
                let opened = tokio::select! {
                    biased;
                    _ = token.cancelled() => Err(Error::Aborted),
                    opened = fut => opened,
                }?;
                let mut opened = opened;
                let first = first_frame(&mut opened, &token).await?;
                let mut slot = reader.lock().await;
                Ok(install(&mut slot, &is_async, &token, opened, first)?)
            }),
            Opener::Blocking(open) => {
                let task = OpenTask { open: Some(open), reader, is_async, token };
                Ok(env.spawn(task)?.promise_object())
            }
        }
    }

    /// Reads the next bytes into `buffer` (up to its length): how many, at once when an HTTP body
    /// already has bytes, else a promise of it. Fails if the source ends before every promised
    /// byte. Gives 0 only when nothing is left to read.
    #[napi(ts_return_type = "number | Promise<number>")]
    pub fn read<'env>(&self, env: &'env Env, mut buffer: Buffer) -> napi::Result<Either<u32, PromiseRaw<'env, u32>>> {
        let (reader, token) = (self.reader.clone(), self.token.clone());
        if self.is_async.load(Ordering::Acquire) {
            if let Some(n) = read_now(&reader, &token, &mut buffer) {
                return Ok(Either::A(n?));
            }
            Ok(Either::B(env.spawn_future(async move { Ok(fill_async(reader, token, buffer).await?) })?))
        } else {
            Ok(Either::B(env.spawn(ReadInto { reader, token, buffer })?.promise_object()))
        }
    }

    /// Stops everything; safe to call any number of times, before, during or after reading.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
        self.opener.lock().unwrap().take();
        match self.reader.try_lock() {
            Ok(mut slot) => *slot = None,
            // A read or open in flight holds the body: release it as soon as that one lets go.
            Err(_) => {
                let reader = self.reader.clone();
                napi::bindgen_prelude::spawn(async move {
                    *reader.lock().await = None;
                });
            }
        }
    }
}
