'use strict'
// Builds the caller's stream (Node `Readable` or Web `ReadableStream`) around a native stream
// handle (src/stream.rs: open / next / cancel), and wires AbortSignal and cleanup().

const { Readable } = require('node:stream')
const { fromNative } = require('./errors')

const CHUNK = 1 << 20

function checkResponseType(responseType) {
  if (responseType !== 'node' && responseType !== 'web') {
    throw new TypeError(`Invalid responseType ${JSON.stringify(responseType)}: expected "node" or "web"`)
  }
}

// `link` ties the native handle to the caller's signal: `link.onAbort` is what an abort does at the
// current stage (reject the open, error the stream), `link.release()` cancels the handle and drops
// the one listener, so a long-lived signal does not collect listeners.
function linkSignal(handle, signal) {
  const link = {
    onAbort: null,
    release() {
      signal?.removeEventListener('abort', abort)
      handle.cancel()
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

// A chunk read ahead is taken synchronously; only when none is ready does JS wait on the runtime.
function nextChunk(handle) {
  return handle.tryNext() ?? handle.next()
}

function toWeb(handle, link) {
  return new ReadableStream({
    type: 'bytes',
    start(controller) {
      link.onAbort = (reason) => controller.error(reason)
    },
    async pull(controller) {
      let chunk
      try {
        chunk = await nextChunk(handle)
      } catch (e) {
        link.release()
        throw link.failure(e)
      }
      if (chunk) {
        controller.enqueue(chunk)
      } else {
        link.release()
        controller.close()
        controller.byobRequest?.respond(0)
      }
    },
    cancel() {
      link.release()
    },
  })
}

function toNode(handle, link) {
  let reading = false
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (reading) return
      const ready = handle.tryNext()
      if (ready) {
        this.push(ready)
        return
      }
      reading = true
      handle.next().then(
        (chunk) => {
          reading = false
          if (!chunk) link.release()
          this.push(chunk)
        },
        (e) => {
          reading = false
          this.destroy(link.failure(e))
        },
      )
    },
    destroy(err, callback) {
      link.release()
      callback(err)
    },
  })
  link.onAbort = (reason) => stream.destroy(reason)
  return stream
}

/**
 * Opens `handle` and returns the original's `FileStreamResult`.
 * `options`: the caller's FileStreamOptions; `providerSpecific`: extra fields for the result.
 */
async function openFileStream(handle, options = {}, providerSpecific = {}) {
  const { signal, responseType = 'node' } = options
  if (signal?.aborted) {
    handle.cancel()
    throw signal.reason
  }
  const link = linkSignal(handle, signal)
  let info
  try {
    info = await new Promise((resolve, reject) => {
      link.onAbort = reject
      handle.open().then(resolve, reject)
    })
  } catch (e) {
    link.release()
    throw link.failure(e)
  }

  const stream = responseType === 'web' ? toWeb(handle, link) : toNode(handle, link)
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
    providerSpecific: { ...(info.cacheControl ? { cacheControl: info.cacheControl } : {}), ...providerSpecific },
    async cleanup() {
      link.release()
      if (responseType === 'node') stream.destroy()
    },
  }
}

module.exports = { openFileStream, checkResponseType }
