//! The byte-stream handle every provider's `getFileStream` goes through.
//!
//! A provider supplies an [`Opener`]: a future that does the lookup (stat, HEAD, signed URL, …) and
//! yields [`Opened`], the metadata plus an async body of chunks. [`NativeStream`] runs it under the
//! caller's timeout and cancellation, then pumps the body into a small bounded channel (read-ahead),
//! and JS pulls chunks with `next()`. The handle counts bytes: a body that ends short, or runs long,
//! ends the stream with an error, never with a clean end.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::range::Resolved;

/// About 1 MiB per chunk: each JS↔Rust crossing costs tens of µs, so small chunks are slow.
pub const CHUNK_SIZE: usize = 1 << 20;
/// Chunks read ahead of the consumer; bounds memory per stream to about this many MiB.
const READ_AHEAD: usize = 2;

pub type Body = BoxStream<'static, Result<Vec<u8>>>;
pub type Opener = BoxFuture<'static, Result<Opened>>;

/// What a provider hands back once the object is found.
pub struct Opened {
    pub range: Resolved,
    pub content_type: String,
    pub last_modified_ms: Option<f64>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub body: Body,
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
}

enum State {
    /// Created, not yet opened.
    Idle(Opener),
    /// Opening, or open and being read.
    Reading {
        rx: mpsc::Receiver<Result<Vec<u8>>>,
        expected: u64,
        received: u64,
    },
    /// Ended, failed or cancelled: nothing left to release.
    Done,
}

/// A native byte stream: `open()`, then `next()` until it returns `null`; `cancel()` at any time
/// releases the file handle or connection at once.
#[napi]
pub struct NativeStream {
    state: tokio::sync::Mutex<State>,
    token: CancellationToken,
    timeout: Option<u32>,
}

impl NativeStream {
    /// `timeout_ms` is the caller's `timeout` option, checked here; 0 or absent means none.
    pub fn new(opener: Opener, timeout_ms: Option<f64>) -> Result<Self> {
        let timeout = match timeout_ms {
            None => None,
            Some(t) if t.is_finite() && t >= 0.0 && t.fract() == 0.0 && t <= u32::MAX as f64 => {
                Some(t as u32).filter(|t| *t > 0)
            }
            Some(t) => {
                return Err(Error::InvalidInput(format!(
                    "timeout must be a non-negative integer of milliseconds, got {t}"
                )))
            }
        };
        Ok(NativeStream {
            state: tokio::sync::Mutex::new(State::Idle(opener)),
            token: CancellationToken::new(),
            timeout,
        })
    }
}

/// Runs `fut` unless the token fires or `timeout` passes with no result.
async fn guarded<T>(
    token: &CancellationToken,
    timeout: Option<u32>,
    fut: impl std::future::Future<Output = T>,
) -> Result<T> {
    let timed = async {
        match timeout {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms.into()), fut)
                .await
                .map_err(|_| Error::Timeout(ms)),
            None => Ok(fut.await),
        }
    };
    tokio::select! {
        biased;
        _ = token.cancelled() => Err(Error::Aborted),
        r = timed => r,
    }
}

/// Moves the body into the channel. The timeout covers only the wait for the source, never the
/// wait for room in the channel, so a slow consumer cannot trip it.
async fn pump(
    mut body: Body,
    tx: mpsc::Sender<Result<Vec<u8>>>,
    token: CancellationToken,
    timeout: Option<u32>,
) {
    loop {
        let item = match guarded(&token, timeout, body.next()).await {
            Err(Error::Aborted) => return,
            Err(e) => Some(Err(e)),
            Ok(item) => item,
        };
        let Some(item) = item else { return };
        let failed = item.is_err();
        tokio::select! {
            _ = token.cancelled() => return,
            sent = tx.send(item) => if sent.is_err() || failed { return },
        }
    }
}

#[napi]
impl NativeStream {
    /// Finds the object and starts reading ahead. Resolves with its metadata.
    #[napi]
    pub async fn open(&self) -> napi::Result<StreamInfo> {
        let mut state = self.state.lock().await;
        let State::Idle(_) = &*state else {
            return Err(
                Error::InvalidInput("The stream was already opened or cancelled".into()).into(),
            );
        };
        let State::Idle(opener) = std::mem::replace(&mut *state, State::Done) else {
            unreachable!()
        };
        let opened = guarded(&self.token, self.timeout, opener).await??;
        let Opened {
            range,
            content_type,
            last_modified_ms,
            etag,
            cache_control,
            body,
        } = opened;
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        tokio::spawn(pump(body, tx, self.token.clone(), self.timeout));
        *state = State::Reading {
            rx,
            expected: range.length,
            received: 0,
        };
        Ok(StreamInfo {
            content_type,
            content_length: range.length as f64,
            total: range.total as f64,
            start: range.start as f64,
            end: range.end() as f64,
            partial: range.partial,
            last_modified_ms,
            etag,
            cache_control,
        })
    }

    /// The next chunk, or `null` once every promised byte was delivered.
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<Buffer>> {
        let mut state = self.state.lock().await;
        let State::Reading {
            rx,
            expected,
            received,
        } = &mut *state
        else {
            return match &*state {
                State::Idle(_) => Err(Error::InvalidInput("The stream is not open".into()).into()),
                _ if self.token.is_cancelled() => Err(Error::Aborted.into()),
                _ => Ok(None),
            };
        };
        let item = guarded(&self.token, None, rx.recv()).await;
        let outcome = match item {
            Err(e) | Ok(Some(Err(e))) => Err(e),
            Ok(Some(Ok(chunk))) => {
                *received += chunk.len() as u64;
                if *received > *expected {
                    Err(Error::Truncated {
                        expected: *expected,
                        received: *received,
                    })
                } else {
                    return Ok(Some(chunk.into()));
                }
            }
            Ok(None) if *received == *expected => {
                *state = State::Done;
                return Ok(None);
            }
            Ok(None) => Err(Error::Truncated {
                expected: *expected,
                received: *received,
            }),
        };
        // Failed: drop the receiver and stop the pump now.
        *state = State::Done;
        self.token.cancel();
        outcome.map_err(Into::into)
    }

    /// Stops everything at once; safe to call any number of times, before, during or after reading.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
        if let Ok(mut state) = self.state.try_lock() {
            *state = State::Done;
        }
    }
}
