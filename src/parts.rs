//! Parallel ranged reads: one stream fed by several connections at once.
//!
//! One connection to an object store carries some 50–100 MB/s, whatever the machine's bandwidth;
//! a large read goes faster split into consecutive parts fetched at once. The first response's body
//! is the first part (so the time to first byte is that of a single request), its ETag pins every
//! other part (`If-Match`, and the ETag each part's answer carries is checked too, for servers
//! that ignore the header), and parts are delivered in order.
//!
//! Parts are for connections that the network holds back. A read stays on its first connection
//! while that connection keeps up with the consumer: only once the consumer has waited
//! `single_within` in all (30 ms) for the first part's bytes are the other parts requested. Time
//! the consumer spends elsewhere does not count, so a fast connection read by a slow consumer
//! stays alone. A connection that is not capped the way one to a remote store is gains nothing
//! from parts, and they cost the server work (a server that reads the whole object for every
//! range, as moto does, serves a 256 MiB read 12 times slower in parts).
//!
//! Memory is bounded: a stream holds at most `connections` parts at once (the one being delivered,
//! and those fetched or being fetched ahead of it), each at most `part_size` bytes, so
//! `connections × part_size` at worst; a part is only requested when the consumer finishing one
//! makes room, so a slow consumer stops new requests. Dropping the stream aborts every request at
//! once. A process-wide semaphore caps the part requests in flight across every stream, so many
//! concurrent streams do not multiply the connections.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use napi_derive::napi;

use crate::error::{Error, Result};

/// How a large read is split; `None` where it is turned off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parallel {
    /// Bytes per part.
    pub part_size: u64,
    /// Connections (part requests) one stream uses at once, the first response's among them.
    pub connections: usize,
    /// Reads of at most this many bytes use one connection.
    pub threshold: u64,
    /// A read stays on one connection unless the consumer waits this long in all for its first
    /// part's bytes (zero: parts are requested at once).
    pub single_within: Duration,
}

/// Measured through the benchmark's emulated network (40 MB/s per connection, 20 ms round trip):
/// throughput follows the connections (4, 8, 16 gave about 140, 260, 470 MB/s) while 4, 8 and
/// 16 MiB parts were within 15% of each other; 8 × 8 MiB weighs speed against memory. Smaller
/// reads stay on one connection (no extra requests). 30 ms of waiting is far below the 200 ms that
/// 8 MiB take on a 40 MB/s connection, and above what they take on loopback (about 13 ms from moto).
pub const DEFAULT: Parallel =
    Parallel { part_size: 8 << 20, connections: 8, threshold: 16 << 20, single_within: Duration::from_millis(30) };

/// The process-wide cap on part requests in flight (64 until `setParallelConnectionLimit`).
static LIMIT: AtomicUsize = AtomicUsize::new(64);

/// The semaphore every stream's part requests share; sized on first use.
fn permits() -> &'static Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| Arc::new(Semaphore::new(LIMIT.load(Ordering::Relaxed))))
}

/// Sets the process-wide cap on the part requests of parallel reads in flight (at least 1).
/// Raising it adds permits at once; lowering it takes effect as requests in flight finish.
#[napi(js_name = "setParallelConnectionLimit")]
#[cfg_attr(test, allow(dead_code))] // only JS calls it
pub fn set_parallel_connection_limit(limit: u32) -> napi::Result<()> {
    if limit == 0 {
        return Err(Error::InvalidInput("Invalid connection limit 0: expected at least 1".into()).into());
    }
    let (limit, before) = (limit as usize, LIMIT.swap(limit as usize, Ordering::Relaxed));
    let semaphore = permits();
    if limit > before {
        semaphore.add_permits(limit - before);
    } else {
        semaphore.forget_permits(before - limit);
    }
    Ok(())
}

/// One part's answer: the ETag it carries (checked against the first's) and its body.
pub struct Part {
    pub etag: Option<String>,
    pub body: BoxStream<'static, Result<Bytes>>,
}

/// Fetches bytes `[start, end)` of the object, asking for the ETag given (`If-Match`).
pub type Fetch = Arc<dyn Fn(Range<u64>, String) -> BoxFuture<'static, Result<Part>> + Send + Sync>;

/// How many times a part is asked for before its failure fails the stream.
const ATTEMPTS: usize = 3;

/// The stream of bytes `range` of an object whose first response (`first`, pinned to `etag`)
/// covers all of them: `first` itself when the read is small, else its first part followed by the
/// others fetched in parallel (with the fetcher `fetch` makes, only then).
pub fn body(
    first: BoxStream<'static, Result<Bytes>>,
    range: Range<u64>,
    etag: Option<&str>,
    settings: Option<Parallel>,
    fetch: impl FnOnce() -> Fetch,
) -> BoxStream<'static, Result<Bytes>> {
    let (Some(p), Some(etag)) = (settings, etag) else { return first };
    if range.end - range.start <= p.threshold.max(p.part_size) || p.connections < 2 {
        return first;
    }
    let first_end = range.start + p.part_size;
    let state = Reader {
        first: Some(first),
        first_left: p.part_size,
        next: first_end,
        end: range.end,
        delivered: 0,
        total: range.end - range.start,
        settings: p,
        etag: etag.to_string(),
        fetch: fetch(),
        pending: VecDeque::new(),
        current: VecDeque::new(),
        holding: false,
        deciding: !p.single_within.is_zero(),
        patience: p.single_within,
        runtime: tokio::runtime::Handle::current(),
    };
    futures::stream::unfold(state, |mut s| async move {
        let item = s.next_chunk().await?;
        if item.is_err() {
            // The stream fails once: stop every request now, not when the consumer drops it.
            s.pending.clear();
            s.end = s.next;
        }
        Some((item, s))
    })
    .boxed()
}

/// A part being fetched on its own task; dropping it aborts the task (and its request).
struct Pending(JoinHandle<Result<Vec<Bytes>>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Reader {
    first: Option<BoxStream<'static, Result<Bytes>>>,
    first_left: u64,
    /// Where the next part to request starts, and where the read ends.
    next: u64,
    end: u64,
    delivered: u64,
    total: u64,
    settings: Parallel,
    etag: String,
    fetch: Fetch,
    pending: VecDeque<Pending>,
    /// The part being delivered.
    current: VecDeque<Bytes>,
    /// Whether a part taken from `pending` is still awaited or being delivered: it counts against
    /// `connections` until its last byte is handed out.
    holding: bool,
    /// While the first response may still keep the read to itself: no part is requested until the
    /// consumer has spent `patience` (what is left of `single_within`) waiting for its bytes.
    deciding: bool,
    patience: Duration,
    runtime: tokio::runtime::Handle,
}

impl Reader {
    fn truncated(&self) -> Error {
        Error::Truncated { expected: self.total, received: self.delivered }
    }

    /// Requests parts until the stream holds `connections`: the first response while it is read,
    /// the part being delivered, and those in flight or fetched and waiting.
    fn fill(&mut self) {
        let held = usize::from(self.first.is_some()) + usize::from(self.holding);
        let room = self.settings.connections.saturating_sub(held);
        while self.pending.len() < room && self.next < self.end {
            let part = self.next..(self.next + self.settings.part_size).min(self.end);
            self.next = part.end;
            let (fetch, etag) = (self.fetch.clone(), self.etag.clone());
            self.pending.push_back(Pending(self.runtime.spawn(fetch_part(fetch, part, etag))));
        }
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes>> {
        loop {
            if let Some(b) = self.current.pop_front() {
                self.delivered += b.len() as u64;
                return Some(Ok(b));
            }
            self.holding = false;
            if self.first.is_some() {
                let next = if self.deciding {
                    // Only the time this call waits counts: the consumer asked, and no byte was there.
                    let asked = Instant::now();
                    let first = self.first.as_mut().expect("checked above");
                    match tokio::time::timeout(self.patience, first.next()).await {
                        Ok(next) => {
                            self.patience = self.patience.saturating_sub(asked.elapsed());
                            next
                        }
                        Err(_) => {
                            // Too slow for one connection: parts from now on.
                            self.deciding = false;
                            continue;
                        }
                    }
                } else {
                    self.fill();
                    self.first.as_mut().expect("checked above").next().await
                };
                match next {
                    Some(Ok(b)) if self.deciding && b.len() as u64 >= self.first_left => {
                        // The whole first part in time: the rest of the read stays on this
                        // connection, which the first response already carries.
                        self.deciding = false;
                        self.first_left = u64::MAX;
                        self.next = self.end;
                        self.delivered += b.len() as u64;
                        return Some(Ok(b));
                    }
                    Some(Ok(mut b)) => {
                        if b.len() as u64 >= self.first_left {
                            // The first response carries the whole read: only its first part is
                            // taken, and the connection is let go.
                            b.truncate(self.first_left as usize);
                            self.first = None;
                        }
                        self.first_left -= b.len() as u64;
                        self.delivered += b.len() as u64;
                        return Some(Ok(b));
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None if self.delivered == self.total => return None,
                    None => return Some(Err(self.truncated())),
                }
            }
            let mut part = self.pending.pop_front()?;
            self.holding = true;
            self.fill();
            match (&mut part.0).await {
                Ok(Ok(chunks)) => self.current = chunks.into(),
                Ok(Err(e)) if matches!(e.kind(), Error::Truncated { .. }) => return Some(Err(self.truncated())),
                Ok(Err(e)) => return Some(Err(e)),
                Err(e) => return Some(Err(Error::Provider(format!("Failed to read file stream: a part failed: {e}")))),
            }
        }
    }
}

/// Fetches one part whole (within the process-wide cap), retrying from where it stopped.
async fn fetch_part(fetch: Fetch, part: Range<u64>, etag: String) -> Result<Vec<Bytes>> {
    let _permit = permits().clone().acquire_owned().await.map_err(|_| Error::Aborted)?;
    let mut chunks = Vec::new();
    let mut at = part.start;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match read_from(&fetch, at..part.end, &etag, &mut chunks).await {
            Ok(read) if at + read == part.end => return Ok(chunks),
            Ok(read) => {
                at += read;
                last = Some(Error::Truncated { expected: part.end - part.start, received: at - part.start });
            }
            Err((e, _)) if matches!(e.kind(), Error::Conflict(_)) => return Err(e),
            Err((e, read)) => {
                at += read;
                last = Some(e);
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Reads `range` into `chunks`: the bytes read, or the failure and the bytes read before it.
async fn read_from(fetch: &Fetch, range: Range<u64>, etag: &str, chunks: &mut Vec<Bytes>) -> Result<u64, (Error, u64)> {
    let want = range.end - range.start;
    let Part { etag: answered, mut body } = fetch(range, etag.to_string()).await.map_err(|e| (e, 0))?;
    if answered.as_deref().is_some_and(|a| a != etag) {
        return Err((changed(), 0));
    }
    let mut read = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| (e, read))?;
        if read + chunk.len() as u64 > want {
            return Err((Error::Truncated { expected: want, received: read + chunk.len() as u64 }, read));
        }
        read += chunk.len() as u64;
        chunks.push(chunk);
    }
    Ok(read)
}

/// The error for an object replaced during a parallel read.
pub fn changed() -> Error {
    Error::Conflict("Failed to read file stream: the file changed while it was being read".into())
}

/// A stream's parallel-read settings from JS (`parallel` in a provider's configuration or a call's
/// options, merged by `lib/options.js`); fields left out take the defaults.
#[napi(object)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ParallelOptions {
    pub part_size: Option<f64>,
    pub connections: Option<f64>,
    pub threshold: Option<f64>,
    pub single_within_ms: Option<f64>,
}

impl ParallelOptions {
    /// The settings, each checked: a part of at least 64 KiB, 1 to 64 connections (1 turns the
    /// parallel path off), a threshold of 0 or more bytes, 0 to 60,000 ms for `singleWithinMs`.
    pub fn check(self) -> Result<Parallel> {
        let bytes = |name: &str, v: Option<f64>, min: f64, default: u64| match v {
            None => Ok(default),
            Some(v) if v.fract() == 0.0 && v >= min && v <= 2f64.powi(53) => Ok(v as u64),
            Some(v) => Err(Error::InvalidInput(format!(
                "Invalid parallel.{name} {v}: expected a whole number of bytes, at least {min}"
            ))),
        };
        let connections = match self.connections {
            None => DEFAULT.connections,
            Some(n) => crate::config::count(n, 1..=64)
                .ok_or_else(|| Error::InvalidInput(format!("Invalid parallel.connections {n}: expected 1 to 64")))?,
        };
        Ok(Parallel {
            part_size: bytes("partSize", self.part_size, 65536.0, DEFAULT.part_size)?,
            connections,
            threshold: bytes("threshold", self.threshold, 0.0, DEFAULT.threshold)?,
            single_within: match self.single_within_ms {
                None => DEFAULT.single_within,
                Some(ms) if ms.fract() == 0.0 && (0.0..=60_000.0).contains(&ms) => Duration::from_millis(ms as u64),
                Some(ms) => {
                    return Err(Error::InvalidInput(format!(
                        "Invalid parallel.singleWithinMs {ms}: expected a whole number of milliseconds, 0 to 60000"
                    )))
                }
            },
        })
    }
}
