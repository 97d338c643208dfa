// @ts-check
'use strict'
// Builds the caller's stream (Node `Readable` or Web `ReadableStream`) around a native stream
// handle (src/stream.rs: open / read(buffer) / cancel), and wires AbortSignal, timeout and
// cleanup(). JS allocates every chunk and the native side reads straight into it, so chunks are
// ordinary Buffers that V8 collects as promptly as fs.createReadStream's.

const { Readable } = require('node:stream')
const { fromNative, invalid, storageError } = require('./errors')

/** @typedef {import('../native').NativeStream} NativeStream */

const MiB = 1 << 20
const CHUNK = MiB
const MIN_CHUNK = 64 * 1024
// The read-ahead budget all open streams share (READ_AHEAD_BUDGET in src/http.rs, where a quarter
// goes to the HTTP clients' read buffers). Each stream holds one chunk read ahead and one its
// consumer has not let go yet, each a quarter of its share: with many concurrent streams each
// reads in smaller chunks, so the buffered bytes stay bounded (one stream still gets 1 MiB).
const BUDGET = 32 * MiB
let openStreams = 0

function chunkSize(left) {
  const share = Math.floor(BUDGET / (4 * Math.max(openStreams, 1)))
  return Math.min(left, CHUNK, Math.max(MIN_CHUNK, share))
}

/** The option the schema in lib/options.js cannot check: `responseType`'s value. */
function checkStreamOptions({ responseType = 'node' }) {
  if (responseType !== 'node' && responseType !== 'web') {
    throw invalid(`Invalid responseType ${JSON.stringify(responseType)}: expected "node" or "web"`)
  }
}

// Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer delay fires after 1 ms with a
// warning. A longer timeout waits in steps.
const MAX_TIMER = 2 ** 31 - 1

/** Calls `fn` after `ms` (any size); returns what cancels it. */
function after(ms, fn) {
  let timer
  const arm = (left) => {
    timer = setTimeout(() => (left > MAX_TIMER ? arm(left - MAX_TIMER) : fn()), Math.min(left, MAX_TIMER))
  }
  arm(ms)
  return () => clearTimeout(timer)
}

// A native call that makes no progress within `ms` cancels the handle and fails with the
// original's message. Only a pending call is timed, so a slow consumer never trips it.
/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number | undefined} ms
 * @param {NativeStream} handle
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms, handle) {
  if (!ms) return promise
  let cancel
  const expired = new Promise((_, reject) => {
    cancel = after(ms, () => {
      handle.cancel()
      reject(storageError(`File stream request timeout after ${ms}ms`, 'Timeout'))
    })
  })
  return Promise.race([promise, expired]).finally(() => cancel())
}

// A lease is one open handle counted against the read-ahead budget. It is ended by the stream
// finishing, failing, being cancelled or cleaned up, or, for a result dropped unread, by GC.
function endLease(lease) {
  lease.handle.cancel()
  if (lease.counted) openStreams--
  lease.counted = false
}
const dropped = new FinalizationRegistry(endLease)

// `link` ties the native handle to the caller's signal: `link.onAbort` is what an abort does at the
// current stage (reject the open, error the stream), `link.release()` ends the lease and drops
// the one listener, so a long-lived signal does not collect listeners.
/** @param {NativeStream} handle @param {AbortSignal | undefined} signal */
function linkSignal(handle, signal) {
  const lease = { handle, counted: false }
  const link = {
    onAbort: null,
    // Called once the handle is open and `stream` is built.
    count(stream) {
      openStreams++
      lease.counted = true
      dropped.register(stream, lease, lease)
    },
    release() {
      signal?.removeEventListener('abort', abort)
      dropped.unregister(lease)
      endLease(lease)
    },
    failure(e) {
      return signal?.aborted ? signal.reason : fromNative(e)
    },
  }
  function abort() {
    link.release()
    link.onAbort?.(signal.reason)
  }
  signal?.addEventListener('abort', abort, { once: true })
  return link
}

/** @param {NativeStream} handle @param {number} length @param {number | undefined} timeout */
function toNode(handle, link, length, timeout) {
  let left = length
  let reading = false
  // A read that fills its buffer hands the buffer on. One that fills less (a network body hands
  // over what has arrived) hands on a copy of what it got and keeps the buffer for the next read,
  // as fs.ReadStream does: memory allocated follows the bytes delivered, not the number of reads,
  // and every chunk owns its ArrayBuffer (a consumer may transfer it).
  let spare = null
  const stream = new Readable({
    // One chunk read ahead of the consumer, whatever its size.
    highWaterMark: 1,
    read() {
      if (reading) return
      if (left === 0) {
        link.release()
        this.push(null)
        return
      }
      reading = true
      const size = chunkSize(left)
      const buffer = spare?.length === size ? spare : Buffer.allocUnsafeSlow(size)
      spare = null
      const done = (n) => {
        reading = false
        left -= n
        if (n === buffer.length) {
          this.push(buffer)
        } else {
          spare = buffer
          const chunk = Buffer.allocUnsafeSlow(n)
          buffer.copy(chunk, 0, 0, n)
          this.push(chunk)
        }
        if (left === 0) {
          link.release()
          this.push(null)
        }
      }
      const failed = (e) => {
        reading = false
        this.destroy(link.failure(e))
      }
      // A number when the bytes were already there, else a promise.
      let n
      try {
        n = handle.read(buffer)
      } catch (e) {
        return failed(e)
      }
      if (typeof n === 'number') done(n)
      else withTimeout(n, timeout, handle).then(done, failed)
    },
    destroy(err, callback) {
      link.release()
      callback(err)
    },
  })
  link.onAbort = (reason) => stream.destroy(reason)
  return stream
}

/** A Uint8Array of its own ArrayBuffer, not zero-filled (every byte is read into before use). */
function uninitialized(size) {
  const b = Buffer.allocUnsafeSlow(size)
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

/** @param {NativeStream} handle @param {number} length @param {number | undefined} timeout */
function toWeb(handle, link, length, timeout) {
  let left = length
  // As in toNode: without a reader's own buffer (BYOB), a read that fills less than the buffer
  // enqueues a copy of what it got and keeps the buffer for the next read.
  let spare = null
  return new ReadableStream({
    type: 'bytes',
    start(controller) {
      link.onAbort = (reason) => controller.error(reason)
      if (left === 0) {
        link.release()
        controller.close()
      }
    },
    async pull(controller) {
      const request = controller.byobRequest
      const size = chunkSize(left)
      const view = request?.view ?? (spare?.length === size ? spare : uninitialized(size))
      spare = null
      let n
      try {
        const target = Buffer.from(view.buffer, view.byteOffset, Math.min(view.byteLength, chunkSize(left)))
        n = handle.read(target) // a number when the bytes were already there, else a promise
        if (typeof n !== 'number') n = await withTimeout(n, timeout, handle)
      } catch (e) {
        link.release()
        throw link.failure(e)
      }
      left -= n
      if (request) request.respond(n)
      else if (n === view.length) controller.enqueue(view) // hands the buffer over
      else {
        spare = view
        controller.enqueue(view.slice(0, n))
      }
      if (left === 0) {
        link.release()
        controller.close()
      }
    },
    cancel() {
      link.release()
    },
  })
}

/**
 * Opens `handle` and returns the original's `FileStreamResult`.
 * `options`: the caller's FileStreamOptions (checked with checkStreamOptions); `providerSpecific`:
 * extra fields for the result.
 * @param {NativeStream} handle
 */
async function openFileStream(handle, options = {}, providerSpecific = {}) {
  const { signal, responseType = 'node', timeout } = options
  if (signal?.aborted) {
    handle.cancel()
    throw signal.reason
  }
  const link = linkSignal(handle, signal)
  let info
  try {
    info = await new Promise((resolve, reject) => {
      link.onAbort = reject
      withTimeout(handle.open(), timeout, handle).then(resolve, reject)
    })
  } catch (e) {
    link.release()
    throw link.failure(e)
  }

  const build = responseType === 'web' ? toWeb : toNode
  const stream = build(handle, link, info.contentLength, timeout)
  link.count(stream)
  return {
    stream,
    contentType: info.contentType,
    contentLength: info.contentLength,
    lastModified: info.lastModifiedMs == null ? undefined : new Date(info.lastModifiedMs),
    etag: info.etag ?? undefined,
    acceptsRanges: true,
    isPartialContent: info.partial,
    range: info.partial ? { start: info.start, end: info.end, total: info.total } : undefined,
    streamType: responseType,
    providerSpecific: {
      ...(info.cacheControl ? { cacheControl: info.cacheControl } : {}),
      ...(info.extra ?? {}),
      ...providerSpecific,
    },
    // Releases the file or connection at once. A Node stream is destroyed (a reader sees a premature
    // close); a Web stream still being read errors with an AbortError.
    async cleanup() {
      link.release()
      if (stream instanceof Readable) stream.destroy()
      else link.onAbort?.(new DOMException('The stream was released by cleanup()', 'AbortError'))
    },
  }
}

/**
 * The original's `getFileStream`: checks the options, makes the native handle with
 * `create({ start, end, suffix })` (which checks key and range) and opens it.
 * @param {(range: import('../native').RangeRequest) => NativeStream} create
 */
async function fileStream(create, options = {}) {
  checkStreamOptions(options)
  options.signal?.throwIfAborted()
  let handle
  try {
    handle = create({ start: options.start, end: options.end, suffix: options.suffix })
  } catch (e) {
    throw fromNative(e)
  }
  return openFileStream(handle, options)
}

module.exports = { fileStream, after }
