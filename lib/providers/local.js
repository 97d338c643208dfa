'use strict'
// LocalStorageProvider: the original's class and method dispatch over the native LocalStore
// (src/providers/local). Environment variables are read from process.env at construction.

const path = require('node:path')
const { LocalStore } = require('../native')
const { call, storageError } = require('../errors')
const { checkSource, beginUpload, sendUpload, NativeProvider, native } = require('../provider')
const { visibilityResult, visibilityStatus } = require('../convert')
const { fileStream } = require('../stream')

const notFoundById = (id) => storageError(`File with external_id "${id}" not found`, 'NotFound')

class LocalStorageProvider extends NativeProvider {

  constructor() {
    const basePath = process.env.CRUNCHYCONE_LOCALSTORAGE_PATH
    if (!basePath) {
      throw new Error('CRUNCHYCONE_LOCALSTORAGE_PATH environment variable is required but not configured')
    }
    let baseUrl = process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL || '/localstorage'
    if (baseUrl.endsWith('/')) baseUrl = baseUrl.slice(0, -1)
    super(new LocalStore(path.resolve(basePath), baseUrl))
  }

  async uploadFile(options) {
    checkSource(options)
    const upload = await beginUpload(this[native], options)
    return sendUpload(upload, options, (cause) => `Failed to upload file: ${cause}`)
  }

  async deleteFile(key) {
    await call(() => this[native].delete(key))
  }

  async deleteFileByExternalId(externalId) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    await this.deleteFile(file.key)
  }

  async getFileUrl(key, _expiresIn, _options) {
    return call(() => this[native].url(key))
  }

  async getFileUrlByExternalId(externalId, expiresIn, options) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    return this.getFileUrl(file.key, expiresIn, options)
  }

  async setMultipleFileVisibility(keys, visibility) {
    const results = await call(() => this[native].setVisibility(keys, visibility))
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
    return visibilityStatus(await call(() => this[native].getVisibility(key)))
  }

  async getFileVisibilityByExternalId(externalId) {
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw storageError(`File with external_id ${externalId} not found`, 'NotFound')
    return this.getFileVisibility(file.key)
  }

  async getFileStream(key, options = {}) {
    const includeMetadata = options.includeMetadata !== false
    return fileStream((range) => this[native].stream(key, range, includeMetadata), options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    options.signal?.throwIfAborted()
    const file = await this.findFileByExternalId(externalId)
    if (!file) throw notFoundById(externalId)
    return this.getFileStream(file.key, options)
  }
}

module.exports = { LocalStorageProvider }
