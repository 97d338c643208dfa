// @ts-check
'use strict'
// The provider classes' one implementation: every method of the original's StorageProvider over a
// native store, the one-source rule of uploads, and feeding an upload from a buffer, a file path or
// a stream.

const fs = require('node:fs')
const path = require('node:path')
const { call, fromNative, invalid, reworded, storageError } = require('./errors')
const { toBuffer, toFileInfo, toListOptions, toListResult, visibilityResult, visibilityStatus } = require('./convert')
const { fileStream } = require('./stream')
const { StorageError } = require('./utils')
const { checkOptions, checkString, describe, parallelOf, STREAM_OPTIONS, UPLOAD_OPTIONS, LIST_OPTIONS, URL_OPTIONS } = require('./options')

/**
 * An upload's options, checked: their types, then the original's rule, exactly one of filePath,
 * stream, buffer (counted by truthiness).
 */
function checkUpload(options) {
  const checked = checkOptions(options, UPLOAD_OPTIONS)
  const { filePath, stream, buffer } = checked
  if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
    throw invalid('Exactly one of filePath, stream, or buffer must be provided')
  }
  checked.signal?.throwIfAborted()
  return checked
}

/** `expiresIn` (seconds) where a backend signs URLs: a number, when given. */
function checkExpiry(expiresIn) {
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || Number.isNaN(expiresIn))) {
    throw invalid(`Invalid expiresIn: expected a number of seconds, got ${describe(expiresIn)}`)
  }
  return expiresIn
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
    throw reworded(cause, upload.failure(cause.message))
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
    return toListResult(await call(() => store.list(toListOptions(checkOptions(options, LIST_OPTIONS)), search)), startedAt)
  } catch (e) {
    throw reworded(e, `Failed to ${search ? 'search' : 'list'} files: ${e.message}`)
  }
}

async function fileSize(filePath) {
  try {
    return (await fs.promises.stat(filePath)).size
  } catch (e) {
    throw storageError(`Failed to upload file: Failed to open ${filePath}: ${e.message}`, e.code === 'ENOENT' ? 'NotFound' : 'Io', e)
  }
}

/** A key argument: a string (the native side checks the rest). */
const checkKey = (key) => checkString('key', key, 'InvalidKey')

/** How the native store names what a method addresses (`Target` in src/provider.rs). */
const KEY = 'key'
const EXTERNAL_ID = 'externalId'

/** @typedef {import('../native').Store} Store */

const native = Symbol('native')
const searchQuery = Symbol('searchQuery')
const parallel = Symbol('parallel')
const partsInFlight = Symbol('partsInFlight')

/**
 * Every method of the original's `StorageProvider`, once, over a native store (`Store` in
 * src/binding.rs). Each provider class only maps its configuration onto the store's factory.
 * `options.searchQuery`: what `searchFiles` reports as `query` when none was given.
 */
class NativeProvider {
  /**
   * @param {Store} store
   * @param {{ searchQuery?: string } & import('./types').TransferConfig} [options]
   */
  constructor(store, options = {}) {
    /** @type {Store} */
    this[native] = store
    /** @type {string | undefined} */
    this[searchQuery] = options.searchQuery
    /** @type {import('./types').ParallelReadsConfig['parallel']} */
    this[parallel] = options.parallel
    /** @type {number | undefined} */
    this[partsInFlight] = options.partsInFlight
    // Typed above, hidden here: none shows when a provider is logged or copied.
    for (const p of [native, searchQuery, parallel, partsInFlight]) Object.defineProperty(this, p, { enumerable: false, writable: false })
  }

  async uploadFile(options) {
    options = checkUpload(options)
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
        partsInFlight: options.partsInFlight ?? this[partsInFlight],
      }),
    )
    return sendUpload(upload, options, size)
  }

  async deleteFile(key) {
    await call(() => this[native].delete(KEY, checkKey(key)))
  }

  async deleteFileByExternalId(externalId) {
    await call(() => this[native].delete(EXTERNAL_ID, String(externalId)))
  }

  async getFileUrl(key, expiresIn, options) {
    const { disposition } = checkOptions(options, URL_OPTIONS)
    return call(() => this[native].url(KEY, checkKey(key), checkExpiry(expiresIn), disposition))
  }

  async getFileUrlByExternalId(externalId, expiresIn, options) {
    const { disposition } = checkOptions(options, URL_OPTIONS)
    return call(() => this[native].url(EXTERNAL_ID, String(externalId), checkExpiry(expiresIn), disposition))
  }

  async fileExists(key) {
    return call(() => this[native].exists(checkKey(key)))
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
    return { ...result, query: options?.query ?? this[searchQuery], searchFields: options?.searchFields }
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
    if (!Array.isArray(keys)) throw invalid(`Invalid keys: expected an array of keys, got ${describe(keys)}`)
    return setVisibility(this, KEY, keys.map(checkKey), visibility)
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this[native].getVisibility(KEY, checkKey(key))))
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

// Every method's failure says where it happened: `provider` (the class's name) and, for methods
// that name a file, `key` (the key or external id asked for). A caller's abort reason is left as
// it is.
const NAMED = /(ByExternalId|^deleteFile|^getFileUrl|^fileExists|^getFileVisibility|^setFileVisibility|^getFileStream)/
for (const name of Object.getOwnPropertyNames(NativeProvider.prototype)) {
  const method = NativeProvider.prototype[name]
  if (name === 'constructor' || typeof method !== 'function') continue
  Object.defineProperty(NativeProvider.prototype, name, {
    ...Object.getOwnPropertyDescriptor(NativeProvider.prototype, name),
    value: async function (...args) {
      try {
        return await method.apply(this, args)
      } catch (e) {
        if (e instanceof StorageError) {
          e.provider ??= this.constructor.name
          if (NAMED.test(name) && typeof args[0] === 'string') e.key ??= args[0]
        }
        throw e
      }
    },
  })
}

/**
 * `setFileVisibility` of each target in turn (`by`: what `ids` are); all are checked first.
 * @param {NativeProvider} provider
 * @param {import('../native').By} by
 * @param {string[]} ids
 * @param {string} visibility
 */
async function setVisibility(provider, by, ids, visibility) {
  checkString('visibility', visibility)
  return (await call(() => provider[native].setVisibility(by, ids, visibility))).map(visibilityResult)
}

/**
 * @param {NativeProvider} provider
 * @param {import('../native').By} by
 * @param {string} id
 */
function stream(provider, by, id, options) {
  options = checkOptions(options, STREAM_OPTIONS)
  if (by === KEY) checkKey(id)
  const store = provider[native]
  // The store's default timeout applies unless the call gives its own (0 turns it off).
  const timeout = options.timeout ?? (store.streamTimeout || undefined)
  const includeMetadata = options.includeMetadata !== false
  const settings = parallelOf(provider[parallel], options.parallel)
  return fileStream((range) => store.stream(by, id, range, includeMetadata, settings), { ...options, timeout })
}

module.exports = { NativeProvider, setVisibility }
