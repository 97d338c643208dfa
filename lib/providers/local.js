'use strict'
// LocalStorageProvider: the original's class and method dispatch over the native LocalStore
// (src/providers/local). Environment variables are read from process.env at construction.

const path = require('node:path')
const { LocalStore } = require('../native')
const { call, fromNative, storageError } = require('../errors')
const { toFileInfo, toListResult, toListOptions, toBuffer, visibilityResult, visibilityStatus } = require('../convert')
const { openFileStream, checkStreamOptions } = require('../stream')

const notFoundById = (id) => storageError(`File with external_id "${id}" not found`, 'NotFound')

class LocalStorageProvider {
  #native

  constructor() {
    const basePath = process.env.CRUNCHYCONE_LOCALSTORAGE_PATH
    if (!basePath) {
      throw new Error('CRUNCHYCONE_LOCALSTORAGE_PATH environment variable is required but not configured')
    }
    let baseUrl = process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL || '/localstorage'
    if (baseUrl.endsWith('/')) baseUrl = baseUrl.slice(0, -1)
    this.#native = new LocalStore(path.resolve(basePath), baseUrl)
  }

  async uploadFile(options) {
    const { filePath, stream, buffer } = options ?? {}
    if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
      throw new Error('Exactly one of filePath, stream, or buffer must be provided')
    }
    const upload = await call(() =>
      this.#native.beginUpload({
        external_id: options.external_id,
        key: options.key,
        filename: options.filename,
        contentType: options.contentType,
        public: options.public,
        metadata: options.metadata,
      }),
    )
    let r
    try {
      if (buffer) await upload.write(toBuffer(buffer))
      else if (filePath) await upload.copyFrom(path.resolve(filePath))
      else for await (const chunk of stream) await upload.write(toBuffer(chunk))
      r = await upload.finish()
    } catch (e) {
      upload.abort()
      throw new Error(`Failed to upload file: ${fromNative(e).message}`)
    }
    return {
      external_id: r.external_id,
      key: r.key,
      url: r.url,
      size: r.size,
      contentType: r.contentType,
      metadata: r.metadata ?? undefined,
      visibility: r.visibility,
      publicUrl: r.publicUrl ?? undefined,
    }
  }

  async deleteFile(key) {
    await call(() => this.#native.delete(key))
  }

  async deleteFileByExternalId(externalId) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    await this.deleteFile(file.key)
  }

  async getFileUrl(key, _expiresIn, _options) {
    return call(() => this.#native.url(key))
  }

  async getFileUrlByExternalId(externalId, expiresIn, options) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    return this.getFileUrl(file.key, expiresIn, options)
  }

  async fileExists(key) {
    return call(() => this.#native.exists(key))
  }

  async fileExistsByExternalId(externalId) {
    return (await this.findFileByExternalId(externalId)) !== null
  }

  async findFileByExternalId(externalId) {
    const record = await call(() => this.#native.find(String(externalId)))
    return record ? toFileInfo(record) : null
  }

  async listFiles(options = {}) {
    const startedAt = Date.now()
    try {
      return toListResult(await call(() => this.#native.list(toListOptions(options), false)), startedAt)
    } catch (e) {
      throw new Error(`Failed to list files: ${e.message}`)
    }
  }

  async searchFiles(options = {}) {
    const startedAt = Date.now()
    try {
      const result = toListResult(await call(() => this.#native.list(toListOptions(options), true)), startedAt)
      return { ...result, query: options.query, searchFields: options.searchFields }
    } catch (e) {
      throw new Error(`Failed to search files: ${e.message}`)
    }
  }

  async isAvailable() {
    return true
  }

  async setFileVisibility(key, visibility) {
    const [result] = await this.setMultipleFileVisibility([key], visibility)
    return result
  }

  async setMultipleFileVisibility(keys, visibility) {
    const results = await call(() => this.#native.setVisibility(keys, visibility))
    return results.map(visibilityResult)
  }

  async setFileVisibilityByExternalId(externalId, visibility) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) {
      return {
        success: false,
        requestedVisibility: visibility,
        actualVisibility: 'private',
        message: `File with external_id ${externalId} not found`,
      }
    }
    return this.setFileVisibility(file.key, visibility)
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this.#native.getVisibility(key)))
  }

  async getFileVisibilityByExternalId(externalId) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw storageError(`File with external_id ${externalId} not found`, 'NotFound')
    return this.getFileVisibility(file.key)
  }

  async getFileStream(key, options = {}) {
    checkStreamOptions(options)
    options.signal?.throwIfAborted()
    let handle
    try {
      handle = this.#native.stream(key, options.start, options.end, options.includeMetadata !== false)
    } catch (e) {
      throw fromNative(e)
    }
    return openFileStream(handle, options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    options.signal?.throwIfAborted()
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    return this.getFileStream(file.key, options)
  }
}

module.exports = { LocalStorageProvider }
