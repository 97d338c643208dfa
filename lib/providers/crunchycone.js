'use strict'
// CrunchyConeProvider: the original's class over the native CrunchyConeStore
// (src/providers/crunchycone). Configuration comes from the config object, then process.env (read
// at construction), then crunchycone.toml.

const fs = require('node:fs')
const { CrunchyConeStore } = require('../native')
const { call } = require('../errors')
const { checkSource, beginUpload, sendUpload, listThrough, NativeProvider, native } = require('../provider')
const { visibilityResult, visibilityStatus } = require('../convert')
const { fileStream } = require('../stream')
const { configOf } = require('../options')

const CRUNCHYCONE_CONFIG = { apiUrl: 'string', apiKey: 'string', projectId: 'string', timeout: 'number', userId: 'string' }

class CrunchyConeProvider extends NativeProvider {
  #userId

  constructor(options = {}) {
    const config = configOf('CrunchyCone', options, CRUNCHYCONE_CONFIG)
    super(
      new CrunchyConeStore({
        apiUrl: config.apiUrl,
        apiKey: config.apiKey,
        projectId: config.projectId,
        timeout: config.timeout,
        envApiUrl: process.env.CRUNCHYCONE_API_URL,
        envApiKey: process.env.CRUNCHYCONE_API_KEY,
        envProjectId: process.env.CRUNCHYCONE_PROJECT_ID,
        cwd: process.cwd(),
      }),
    )
    this.#userId = config.userId
  }

  setUserId(userId) {
    this.#userId = userId
  }

  async uploadFile(options) {
    checkSource(options)
    const { buffer, filePath } = options
    // The presigned PUT declares its length: known for buffers and files, given for streams.
    const size = buffer ? buffer.length : filePath ? (await fs.promises.stat(filePath)).size : options.size
    const upload = await beginUpload(this[native], options, size)
    const name = options.filename || options.external_id || 'unknown'
    return sendUpload(
      upload,
      options,
      (cause) => `Upload failed for file "${name}": ${cause} (external_id: ${options.external_id}, file_path: ${upload.filePath})`,
    )
  }

  async deleteFile(key) {
    await call(() => this[native].delete(key, false))
  }

  async deleteFileByExternalId(externalId) {
    await call(() => this[native].delete(externalId, true))
  }

  async getFileUrl(key, _expiresIn, options) {
    return call(() => this[native].url(key, false, options?.disposition))
  }

  async getFileUrlByExternalId(externalId, _expiresIn, options) {
    return call(() => this[native].url(externalId, true, options?.disposition))
  }

  async searchFiles(options = {}) {
    const result = await listThrough(this[native], options, true)
    return { ...result, query: options.query ?? '', searchFields: options.searchFields }
  }

  async setFileVisibility(key, visibility) {
    return visibilityResult(await call(() => this[native].setVisibility(key, false, visibility)))
  }

  async setFileVisibilityByExternalId(externalId, visibility) {
    return visibilityResult(await call(() => this[native].setVisibility(externalId, true, visibility)))
  }

  async setMultipleFileVisibility(keys, visibility) {
    const results = []
    for (const key of keys) results.push(await this.setFileVisibility(key, visibility))
    return results
  }

  async updateFileVisibilityById(fileId, visibility) {
    return visibilityResult(await call(() => this[native].setVisibilityByFileId(fileId, visibility)))
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this[native].getVisibility(key, false)))
  }

  async getFileVisibilityByExternalId(externalId) {
    return visibilityStatus(await call(() => this[native].getVisibility(externalId, true)))
  }

  async getFileStream(key, options = {}) {
    return this.#stream(key, false, options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    return this.#stream(externalId, true, options)
  }

  #stream(id, byExternalId, options) {
    // The config's timeout applies to streams unless the call gives its own (0 turns it off).
    const timeout = options.timeout ?? this[native].streamTimeout()
    return fileStream((range) => this[native].stream(id, byExternalId, range), { ...options, timeout })
  }
}

module.exports = { CrunchyConeProvider }
