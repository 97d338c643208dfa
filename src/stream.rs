//! The byte-stream handle every provider's `getFileStream` goes through.
//!
//! A provider supplies an [`Opener`]: a future that does the lookup (stat, HEAD, signed URL, …) and
//! yields [`Opened`], the metadata plus a [`Body`] positioned at the first byte to deliver.
//! [`NativeStream`] runs the opener under cancellation, then JS pulls the bytes with
//! `read(buffer)`: JS allocates each buffer (so V8 manages and collects it like any `Buffer`) and the
//! body is read straight into it on the libuv thread pool, as `fs.createReadStream` does, with no
//! copy in between. The handle counts bytes: a body that ends before every promised byte fails the
//! read, so a stream never ends cleanly short. `cancel()` releases the file at once, or as soon as
//! a read in flight returns.

use std::io::{ErrorKind, Read};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::range::Resolved;

/// The bytes of an opened object, from the first byte to deliver on.
pub type Body = Box<dyn Read + Send>;
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

/// An open body and how much of it is still owed.
struct Reader {
    body: Body,
    expected: u64,
    remaining: u64,
}

/// `None` before `open()` and again once the body is finished, failed or cancelled.
type Slot = Arc<Mutex<Option<Reader>>>;

/// A native byte stream: `open()`, then `read(buffer)` until every byte of `contentLength` has
/// arrived; `cancel()` at any time.
#[napi]
pub struct NativeStream {
    opener: Mutex<Option<Opener>>,
    reader: Slot,
    token: CancellationToken,
}

impl NativeStream {
    pub fn new(opener: Opener) -> Self {
        NativeStream {
            opener: Mutex::new(Some(opener)),
            reader: Arc::default(),
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
        let mut slot = self.reader.lock().unwrap();
        let Some(r) = slot.as_mut() else {
            return Err(if self.token.is_cancelled() {
                Error::Aborted
            } else {
                Error::InvalidInput("The stream is not open, or already finished".into())
            });
        };
        let want = (self.buffer.len() as u64).min(r.remaining) as usize;
        let buf = &mut self.buffer[..want];
        let mut filled = 0;
        while filled < want {
            match r.body.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    *slot = None;
                    return Err(Error::io("Failed to read file", e));
                }
            }
        }
        r.remaining -= filled as u64;
        let outcome = if self.token.is_cancelled() {
            Err(Error::Aborted)
        } else if filled < want {
            Err(Error::Truncated {
                expected: r.expected,
                received: r.expected - r.remaining,
            })
        } else {
            Ok(filled as u32)
        };
        // Release the file as soon as it is finished, failed or cancelled.
        if outcome.is_err() || r.remaining == 0 {
            *slot = None;
        }
        outcome
    }
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

#[napi]
impl NativeStream {
    /// Finds the object. Resolves with its metadata; rejects if `cancel()` comes first.
    #[napi]
    pub async fn open(&self) -> napi::Result<StreamInfo> {
        let opener = self.opener.lock().unwrap().take();
        let opener =
            opener.ok_or_else(|| Error::InvalidInput("The stream was already opened".into()))?;
        let opened = tokio::select! {
            biased;
            _ = self.token.cancelled() => Err(Error::Aborted),
            opened = opener => opened,
        }?;
        let info = StreamInfo {
            content_type: opened.content_type,
            content_length: opened.range.length as f64,
            total: opened.range.total as f64,
            start: opened.range.start as f64,
            end: opened.range.end() as f64,
            partial: opened.range.partial,
            last_modified_ms: opened.last_modified_ms,
            etag: opened.etag,
            cache_control: opened.cache_control,
        };
        let mut slot = self.reader.lock().unwrap();
        // A cancel() that raced the open wins: nothing stays open waiting for GC.
        if self.token.is_cancelled() {
            return Err(Error::Aborted.into());
        }
        *slot = Some(Reader {
            body: opened.body,
            expected: opened.range.length,
            remaining: opened.range.length,
        });
        Ok(info)
    }

    /// Reads the next bytes into `buffer` (up to its length); resolves with how many. Fails if the
    /// source ends before every promised byte. Resolves 0 only when nothing is left to read.
    #[napi]
    pub fn read(&self, buffer: Buffer) -> AsyncTask<ReadInto> {
        AsyncTask::new(ReadInto {
            reader: self.reader.clone(),
            token: self.token.clone(),
            buffer,
        })
    }

    /// Stops everything; safe to call any number of times, before, during or after reading.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
        self.opener.lock().unwrap().take();
        // A read in flight holds the lock; it sees the token and releases the body itself.
        if let Ok(mut slot) = self.reader.try_lock() {
            *slot = None;
        }
    }
}
