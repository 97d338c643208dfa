'use strict'
// CrunchyConeProvider: the original's class over the native CrunchyConeStore
// (src/providers/crunchycone). Configuration comes from the config object, then process.env (read
// at construction), then crunchycone.toml.

const fs = require('node:fs')
const path = require('node:path')
const { CrunchyConeStore } = require('../native')
const { call, fromNative } = require('../errors')
const { toFileInfo, toListResult, toListOptions, toBuffer, visibilityResult, visibilityStatus } = require('../convert')
const { openFileStream, checkStreamOptions } = require('../stream')

class CrunchyConeProvider {
  #native
  #userId

  constructor(config = {}) {
    this.#userId = config.userId
    this.#native = new CrunchyConeStore({
      apiUrl: config.apiUrl,
      apiKey: config.apiKey,
      projectId: config.projectId,
      timeout: config.timeout,
      envApiUrl: process.env.CRUNCHYCONE_API_URL,
      envApiKey: process.env.CRUNCHYCONE_API_KEY,
      envProjectId: process.env.CRUNCHYCONE_PROJECT_ID,
      cwd: process.cwd(),
    })
  }

  setUserId(userId) {
    this.#userId = userId
  }

  async uploadFile(options) {
    const { filePath, stream, buffer } = options ?? {}
    if ([filePath, stream, buffer].filter(Boolean).length !== 1) {
      throw new Error('Exactly one of filePath, stream, or buffer must be provided')
    }
    let size = options.size
    if (buffer) size = buffer.length
    else if (filePath) size = (await fs.promises.stat(filePath)).size
    const upload = await call(() =>
      this.#native.beginUpload({
        external_id: options.external_id,
        key: options.key,
        filename: options.filename,
        contentType: options.contentType,
        public: options.public,
        metadata: options.metadata,
        size,
      }),
    )
    let r
    try {
      if (buffer) await upload.write(toBuffer(buffer))
      else if (filePath) await upload.copyFrom(path.resolve(filePath))
      else for await (const chunk of stream) await upload.write(toBuffer(chunk))
      r = await upload.finish()
    } catch (e) {
      await upload.abort()
      const name = options.filename || options.external_id || 'unknown'
      throw new Error(
        `Upload failed for file "${name}": ${fromNative(e).message} (external_id: ${options.external_id}, file_path: ${upload.filePath})`,
      )
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
    await call(() => this.#native.delete(key, false))
  }

  async deleteFileByExternalId(externalId) {
    await call(() => this.#native.delete(externalId, true))
  }

  async getFileUrl(key, _expiresIn, options) {
    return call(() => this.#native.url(key, false, options?.disposition))
  }

  async getFileUrlByExternalId(externalId, _expiresIn, options) {
    return call(() => this.#native.url(externalId, true, options?.disposition))
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
      return { ...result, query: options.query ?? '', searchFields: options.searchFields }
    } catch (e) {
      throw new Error(`Failed to search files: ${e.message}`)
    }
  }

  async isAvailable() {
    return true
  }

  async setFileVisibility(key, visibility) {
    return visibilityResult(await call(() => this.#native.setVisibility(key, false, visibility)))
  }

  async setFileVisibilityByExternalId(externalId, visibility) {
    return visibilityResult(await call(() => this.#native.setVisibility(externalId, true, visibility)))
  }

  async setMultipleFileVisibility(keys, visibility) {
    const results = []
    for (const key of keys) results.push(await this.setFileVisibility(key, visibility))
    return results
  }

  async updateFileVisibilityById(fileId, visibility) {
    return visibilityResult(await call(() => this.#native.setVisibilityByFileId(fileId, visibility)))
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this.#native.getVisibility(key, false)))
  }

  async getFileVisibilityByExternalId(externalId) {
    return visibilityStatus(await call(() => this.#native.getVisibility(externalId, true)))
  }

  async getFileStream(key, options = {}) {
    return this.#stream(key, false, options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    return this.#stream(externalId, true, options)
  }

  async #stream(id, byExternalId, options) {
    checkStreamOptions(options)
    options.signal?.throwIfAborted()
    let handle
    try {
      handle = this.#native.stream(id, byExternalId, options.start, options.end)
    } catch (e) {
      throw fromNative(e)
    }
    return openFileStream(handle, options)
  }
}

module.exports = { CrunchyConeProvider }
