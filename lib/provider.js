'use strict'
// What every provider class does the same way around its native store: the one-source rule,
// feeding an upload from a buffer, a file path or a stream, and listing.

const path = require('node:path')
const { call, fromNative, storageError } = require('./errors')
const { toBuffer, toFileInfo, toListOptions, toListResult } = require('./convert')

/** The original's rule: exactly one of filePath, stream, buffer (counted by truthiness). */
function checkSource({ filePath, stream, buffer } = {}) {
  if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
    throw new Error('Exactly one of filePath, stream, or buffer must be provided')
  }
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

/**
 * Sends the source into a native upload and finishes it; on failure aborts it (removing what it
 * wrote) and throws `describe(cause)`. Resolves with the original's `StorageUploadResult`.
 */
async function sendUpload(upload, { buffer, filePath, stream }, describe) {
  let r
  try {
    if (buffer) await upload.write(toBuffer(buffer))
    else if (filePath) await upload.copyFrom(path.resolve(filePath))
    else for await (const chunk of stream) await upload.write(toBuffer(chunk))
    r = await upload.finish()
  } catch (e) {
    await upload.abort()
    const cause = fromNative(e)
    throw storageError(describe(cause.message), cause.code)
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
