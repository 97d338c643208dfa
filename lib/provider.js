'use strict'
// What every provider class does the same way around its native store: the one-source rule,
// feeding an upload from a buffer, a file path or a stream, and listing.

const fs = require('node:fs')
const path = require('node:path')
const { call, fromNative, storageError } = require('./errors')
const { toBuffer, toFileInfo, toListOptions, toListResult } = require('./convert')

/** The original's rule: exactly one of filePath, stream, buffer (counted by truthiness). */
function checkSource(options = {}) {
  const { filePath, stream, buffer } = options
  if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
    throw new Error('Exactly one of filePath, stream, or buffer must be provided')
  }
  checkUploadOptions(options)
}

/** Starts a native upload for the original's `StorageUploadOptions` (`size` where the backend needs it). */
function beginUpload(store, options, size) {
  return call(() =>
    store.beginUpload({
      external_id: options.external_id,
      key: options.key,
      filename: options.filename,
      contentType: options.contentType,
      public: options.public,
      metadata: options.metadata,
      size,
    }),
  )
}

/** Checks the options every upload takes besides its source: `signal` and `onProgress`. */
function checkUploadOptions({ signal, onProgress } = {}) {
  if (signal !== undefined && typeof signal?.throwIfAborted !== 'function') {
    throw new TypeError('Invalid signal: expected an AbortSignal')
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError('Invalid onProgress: expected a function')
  }
  signal?.throwIfAborted()
}

// With progress or a signal, a buffer goes in pieces of this size, so both are heard mid-way.
const PIECE = 4 << 20

/** Reads a Node or Web stream chunk by chunk: `next()`, and `stop(reason)` that ends it at once. */
function chunksOf(source) {
  if (typeof source.getReader === 'function') {
    const reader = source.getReader()
    return { next: () => reader.read(), stop: (reason) => reader.cancel(reason).catch(() => {}) }
  }
  const it = source[Symbol.asyncIterator]()
  return {
    next: () => it.next(),
    // destroy() settles a pending read; return() would wait behind it.
    stop: (reason) => (typeof source.destroy === 'function' ? source.destroy(reason) : it.return?.().catch(() => {})),
  }
}

/**
 * Sends the source into a native upload and finishes it; on failure or abort it aborts the upload
 * (removing what it wrote) and throws `describe(cause)`, or the signal's reason. `onProgress({
 * loaded, total })` follows every write (`total`: the source's size where it is known). Resolves
 * with the original's `StorageUploadResult`.
 */
async function sendUpload(upload, options, describe) {
  const { buffer, filePath, stream, signal, onProgress } = options
  const watched = signal !== undefined || onProgress !== undefined
  let stopAbort = () => {}
  let r
  try {
    // An abort interrupts whatever the upload waits for: a write, or the source's next chunk.
    const aborted = signal && new Promise((_, reject) => {
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      stopAbort = () => signal.removeEventListener('abort', onAbort)
      // Aborted while the upload was being started: no event will come.
      if (signal.aborted) onAbort()
    })
    aborted?.catch(() => {})
    const race = (p) => (aborted ? Promise.race([p, aborted]) : p)
    const bytes = buffer && toBuffer(buffer)
    const total = bytes ? bytes.length : filePath && watched ? (await fs.promises.stat(filePath)).size : options.size
    let loaded = 0
    const write = async (chunk) => {
      signal?.throwIfAborted()
      await race(upload.write(chunk))
      loaded += chunk.length
      onProgress?.({ loaded, total })
    }
    if (bytes && !watched) await upload.write(bytes)
    else if (bytes) for (let i = 0; i < bytes.length || i === 0; i += PIECE) await write(bytes.subarray(i, i + PIECE))
    // The native copy is fastest; with progress or a signal the file goes through here.
    else if (filePath && !watched) await upload.copyFrom(path.resolve(filePath))
    else {
      const source = filePath ? fs.createReadStream(filePath, { highWaterMark: 1 << 20 }) : stream
      const chunks = chunksOf(source)
      let done = false
      try {
        for (let next = await race(chunks.next()); !next.done; next = await race(chunks.next())) await write(toBuffer(next.value))
        done = true
      } finally {
        // On failure or abort the source is stopped at once, even one waiting for data.
        if (!done) chunks.stop(signal?.aborted ? signal.reason : undefined)
      }
    }
    signal?.throwIfAborted()
    r = await upload.finish()
  } catch (e) {
    await upload.abort()
    // After an abort, whatever failed failed because of it.
    if (signal?.aborted) throw signal.reason
    const cause = fromNative(e)
    throw storageError(describe(cause.message), cause.code)
  } finally {
    stopAbort()
  }
  const { lastModified, ...result } = toFileInfo(r)
  if (result.etag === undefined) delete result.etag
  return result
}

/** `listFiles` (or `searchFiles` with `search`) through the native store's `list`. */
async function listThrough(native, options, search) {
  const startedAt = Date.now()
  try {
    return toListResult(await call(() => native.list(toListOptions(options), search)), startedAt)
  } catch (e) {
    throw storageError(`Failed to ${search ? 'search' : 'list'} files: ${e.message}`, e.code)
  }
}

/**
 * The methods that every provider class answers the same way from its native store (`this[native]`:
 * `exists(key)`, `find(externalId)`, `list(options, search)`); `setFileVisibility` goes through the
 * class's `setMultipleFileVisibility`.
 */
const native = Symbol('native')

class NativeProvider {
  constructor(store) {
    Object.defineProperty(this, native, { value: store })
  }

  async fileExists(key) {
    return call(() => this[native].exists(key))
  }

  async fileExistsByExternalId(externalId) {
    return (await this.findFileByExternalId(externalId)) !== null
  }

  async findFileByExternalId(externalId) {
    const record = await call(() => this[native].find(String(externalId)))
    return record ? toFileInfo(record) : null
  }

  async listFiles(options = {}) {
    return listThrough(this[native], options, false)
  }

  async searchFiles(options = {}) {
    const result = await listThrough(this[native], options, true)
    return { ...result, query: options.query, searchFields: options.searchFields }
  }

  async setFileVisibility(key, visibility) {
    const [result] = await this.setMultipleFileVisibility([key], visibility)
    return result
  }

  async isAvailable() {
    return true
  }
}

module.exports = { checkSource, beginUpload, sendUpload, listThrough, NativeProvider, native }
