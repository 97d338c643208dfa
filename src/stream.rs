//! The byte-stream handle every provider's `getFileStream` goes through.
//!
//! A provider supplies an [`Opener`]: a future that does the lookup (stat, HEAD, signed URL, …) and
//! yields [`Opened`], the metadata plus [`Chunks`], a bounded channel that a producer fills ahead
//! of the consumer ([`from_reader`] for blocking files). [`NativeStream`] runs the opener under the
//! caller's timeout and cancellation, and JS pulls chunks with `tryNext()` (already read ahead, no
//! trip through the runtime) or `next()`. The handle counts bytes: a body that ends short, or runs
//! long, ends the stream with an error, never with a clean end. Dropping the channel's receiver
//! stops the producer, which releases the file or connection.

use std::io::Read;
use std::time::Duration;

use futures::future::BoxFuture;
use napi_derive::napi;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::range::Resolved;

/// About 1 MiB per chunk: each JS↔Rust crossing costs tens of µs, so small chunks are slow.
pub const CHUNK_SIZE: usize = 1 << 20;
/// Chunks read ahead of the consumer; bounds memory per stream to about this many MiB.
const READ_AHEAD: usize = 2;

/// The body of an opened object: chunks in order, then the channel closes (or an error).
pub type Chunks = mpsc::Receiver<Result<Vec<u8>>>;
pub type Opener = BoxFuture<'static, Result<Opened>>;

/// What a provider hands back once the object is found.
pub struct Opened {
    pub range: Resolved,
    pub content_type: String,
    pub last_modified_ms: Option<f64>,
    pub etag: Option<String>,
    pub cache_control: Option<String>,
    pub body: Chunks,
}

/// Reads up to `len` bytes from a blocking reader on a blocking thread, each chunk into a fresh
/// buffer that becomes the JS chunk without a copy. The thread stops (and drops the reader) as soon
/// as the receiver is gone; a short source ends the channel early, which the handle reports.
pub fn from_reader(reader: impl Read + Send + 'static, len: u64) -> Chunks {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader.take(len);
        loop {
            let want = reader.limit().min(CHUNK_SIZE as u64) as usize;
            let mut chunk = Vec::with_capacity(want);
            let item = match (&mut reader).take(want as u64).read_to_end(&mut chunk) {
                Ok(0) => return,
                Ok(_) => Ok(chunk),
                Err(e) => Err(Error::io("Failed to read file", e)),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    rx
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
    /// Open and being read.
    Reading {
        body: Chunks,
        expected: u64,
        received: u64,
        /// An item `try_next()` took but could not hand out (an error, or too many bytes).
        held: Option<Result<Vec<u8>>>,
    },
    /// Every byte delivered.
    Ended,
    /// Failed or cancelled: nothing left to release.
    Done,
}

/// A native byte stream: `open()`, then `tryNext()` / `next()` until `next()` returns `null`;
/// `cancel()` at any time releases the file handle or connection at once.
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

impl NativeStream {
    /// `cancel()` only takes the state when it is free; one that came while `open()` or `next()`
    /// held it is honoured here, before they let go, so nothing stays open waiting for GC.
    fn release_if_cancelled(&self, state: &mut State) -> Result<()> {
        if self.token.is_cancelled() {
            *state = State::Done;
            return Err(Error::Aborted);
        }
        Ok(())
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
        let Opened {
            range,
            content_type,
            last_modified_ms,
            etag,
            cache_control,
            body,
        } = guarded(&self.token, self.timeout, opener).await??;
        *state = State::Reading {
            body,
            expected: range.length,
            received: 0,
            held: None,
        };
        self.release_if_cancelled(&mut state)?;
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

    /// A chunk that is already read ahead, without a trip through the async runtime; `null` when
    /// none is ready (then `next()` waits for one, and tells the end from an error).
    #[napi(ts_return_type = "Buffer | null")]
    pub fn try_next(&self) -> Option<Chunk> {
        let mut state = self.state.try_lock().ok()?;
        let State::Reading {
            body,
            expected,
            received,
            held: held @ None,
        } = &mut *state
        else {
            return None;
        };
        match body.try_recv() {
            Ok(Ok(chunk)) if *received + chunk.len() as u64 <= *expected => {
                *received += chunk.len() as u64;
                Some(Chunk(chunk))
            }
            // Anything but a good chunk: keep it for `next()`, which reports the failure.
            Ok(item) => {
                *held = Some(item);
                None
            }
            Err(_) => None,
        }
    }

    /// The next chunk, or `null` once every promised byte was delivered. The timeout covers only
    /// the wait for the source while the consumer is waiting too, so a slow consumer never trips it.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub async fn next(&self) -> napi::Result<Option<Chunk>> {
        let mut state = self.state.lock().await;
        let State::Reading {
            body,
            expected,
            received,
            held,
        } = &mut *state
        else {
            return match &*state {
                State::Idle(_) => Err(Error::InvalidInput("The stream is not open".into()).into()),
                State::Ended => Ok(None),
                _ => Err(Error::Aborted.into()),
            };
        };
        let item = match held.take() {
            Some(item) => Ok(Some(item)),
            None => guarded(&self.token, self.timeout, body.recv()).await,
        };
        let failure = match item {
            Err(e) | Ok(Some(Err(e))) => e,
            Ok(Some(Ok(chunk))) => {
                *received += chunk.len() as u64;
                if *received <= *expected {
                    self.release_if_cancelled(&mut state)?;
                    return Ok(Some(Chunk(chunk)));
                }
                Error::Truncated {
                    expected: *expected,
                    received: *received,
                }
            }
            Ok(None) if *received == *expected => {
                *state = State::Ended;
                return Ok(None);
            }
            Ok(None) => Error::Truncated {
                expected: *expected,
                received: *received,
            },
        };
        // Failed: drop the receiver, which stops the producer, now.
        *state = State::Done;
        self.token.cancel();
        Err(failure.into())
    }

    /// Stops everything at once; safe to call any number of times, before, during or after reading.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
        if let Ok(mut state) = self.state.try_lock() {
            if !matches!(*state, State::Ended) {
                *state = State::Done;
            }
        }
    }
}
