// @ts-check
'use strict'
// The provider classes' one implementation: every method of the original's StorageProvider over a
// native store, the one-source rule of uploads, and feeding an upload from a buffer, a file path or
// a stream.

const fs = require('node:fs')
const path = require('node:path')
const { call, fromNative, storageError } = require('./errors')
const { toBuffer, toFileInfo, toListOptions, toListResult, visibilityResult, visibilityStatus } = require('./convert')
const { fileStream } = require('./stream')

/** The original's rule: exactly one of filePath, stream, buffer (counted by truthiness). */
function checkSource(options = {}) {
  const { filePath, stream, buffer } = options
  if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
    throw new Error('Exactly one of filePath, stream, or buffer must be provided')
  }
  checkUploadOptions(options)
}

/**
 * Checks the options every upload takes besides its source: `signal` and `onProgress`.
 * @param {{ signal?: AbortSignal, onProgress?: Function }} options
 */
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
 * (removing what it wrote) and throws the failure in the backend's words, or the signal's reason.
 * `onProgress({ loaded, total })` follows every write (`total`: `size`, where it is known).
 * Resolves with the original's `StorageUploadResult`.
 */
async function sendUpload(upload, options, size) {
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
    let loaded = 0
    const write = async (chunk) => {
      signal?.throwIfAborted()
      await race(upload.write(chunk))
      loaded += chunk.length
      onProgress?.({ loaded, total: size })
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
    throw storageError(upload.failure(cause.message), cause.code)
  } finally {
    stopAbort()
  }
  const { lastModified, ...result } = toFileInfo(r)
  if (result.etag === undefined) delete result.etag
  return result
}

/** `listFiles` (or `searchFiles` with `search`) through the native store's `list`. */
async function listThrough(store, options, search) {
  const startedAt = Date.now()
  try {
    return toListResult(await call(() => store.list(toListOptions(options), search)), startedAt)
  } catch (e) {
    throw storageError(`Failed to ${search ? 'search' : 'list'} files: ${e.message}`, e.code)
  }
}

async function fileSize(filePath) {
  try {
    return (await fs.promises.stat(filePath)).size
  } catch (e) {
    throw storageError(`Failed to upload file: Failed to open ${filePath}: ${e.message}`, 'Io')
  }
}

/** How the native store names what a method addresses (`Target` in src/provider.rs). */
const KEY = 'key'
const EXTERNAL_ID = 'externalId'

/** @typedef {import('../native').Store} Store */

const native = Symbol('native')
const searchQuery = Symbol('searchQuery')

/**
 * Every method of the original's `StorageProvider`, once, over a native store (`Store` in
 * src/binding.rs). Each provider class only maps its configuration onto the store's factory.
 * `options.searchQuery`: what `searchFiles` reports as `query` when none was given.
 */
class NativeProvider {
  /**
   * @param {Store} store
   * @param {{ searchQuery?: string }} [options]
   */
  constructor(store, options = {}) {
    /** @type {Store} */
    this[native] = store
    /** @type {string | undefined} */
    this[searchQuery] = options.searchQuery
    // Typed above, hidden here: neither shows when a provider is logged or copied.
    for (const p of [native, searchQuery]) Object.defineProperty(this, p, { enumerable: false, writable: false })
  }

  async uploadFile(options) {
    checkSource(options)
    const { buffer, filePath } = options
    // The size where it is known: some backends declare it up front, and it sizes the parts.
    const size = buffer ? toBuffer(buffer).length : filePath ? await fileSize(filePath) : options.size
    const upload = await call(() =>
      this[native].beginUpload({
        external_id: options.external_id,
        key: options.key,
        filename: options.filename,
        contentType: options.contentType,
        public: options.public,
        metadata: options.metadata,
        bucket: options.bucket,
        size,
      }),
    )
    return sendUpload(upload, options, size)
  }

  async deleteFile(key) {
    await call(() => this[native].delete(KEY, key))
  }

  async deleteFileByExternalId(externalId) {
    await call(() => this[native].delete(EXTERNAL_ID, String(externalId)))
  }

  async getFileUrl(key, expiresIn, options) {
    return call(() => this[native].url(KEY, key, expiresIn, options?.disposition))
  }

  async getFileUrlByExternalId(externalId, expiresIn, options) {
    return call(() => this[native].url(EXTERNAL_ID, String(externalId), expiresIn, options?.disposition))
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
    return { ...result, query: options.query ?? this[searchQuery], searchFields: options.searchFields }
  }

  async setFileVisibility(key, visibility) {
    const [result] = await this.setMultipleFileVisibility([key], visibility)
    return result
  }

  async setFileVisibilityByExternalId(externalId, visibility) {
    const [result] = await setVisibility(this, EXTERNAL_ID, [String(externalId)], visibility)
    return result
  }

  async setMultipleFileVisibility(keys, visibility) {
    return setVisibility(this, KEY, keys, visibility)
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this[native].getVisibility(KEY, key)))
  }

  async getFileVisibilityByExternalId(externalId) {
    return visibilityStatus(await call(() => this[native].getVisibility(EXTERNAL_ID, String(externalId))))
  }

  async getFileStream(key, options = {}) {
    return stream(this, KEY, key, options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    return stream(this, EXTERNAL_ID, String(externalId), options)
  }

  async isAvailable() {
    return true
  }
}

/**
 * `setFileVisibility` of each target in turn (`by`: what `ids` are); all are checked first.
 * @param {NativeProvider} provider
 * @param {import('../native').By} by
 * @param {string[]} ids
 * @param {string} visibility
 */
async function setVisibility(provider, by, ids, visibility) {
  return (await call(() => provider[native].setVisibility(by, ids, visibility))).map(visibilityResult)
}

/**
 * @param {NativeProvider} provider
 * @param {import('../native').By} by
 * @param {string} id
 */
function stream(provider, by, id, options) {
  const store = provider[native]
  // The store's default timeout applies unless the call gives its own (0 turns it off).
  const timeout = options.timeout ?? (store.streamTimeout || undefined)
  const includeMetadata = options.includeMetadata !== false
  return fileStream((range) => store.stream(by, id, range, includeMetadata), { ...options, timeout })
}

module.exports = { NativeProvider, setVisibility }
