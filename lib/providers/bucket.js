'use strict'
// What the S3, GCS and Azure provider classes share: every method, over a native BucketStore
// (src/providers/bucket). Each class only builds its store from the original's config.

const { call } = require('../errors')
const { checkSource, beginUpload, sendUpload, NativeProvider, native } = require('../provider')
const { visibilityResult, visibilityStatus } = require('../convert')
const { fileStream } = require('../stream')

class BucketProvider extends NativeProvider {
  async uploadFile(options) {
    checkSource(options)
    // Objects always go to the configured bucket, where every other method looks for them.
    const bucket = this[native].bucketName
    if (options.bucket && bucket && options.bucket !== bucket) {
      throw new Error(`Failed to upload file: bucket "${options.bucket}" is not this provider's bucket "${bucket}"`)
    }
    // A buffer is one write of known length; `size` only checks streams and files.
    const upload = await beginUpload(this[native], options, options.buffer ? undefined : options.size)
    return sendUpload(upload, options, (cause) => `Failed to upload file: ${cause}`)
  }

  async deleteFile(key) {
    await call(() => this[native].delete(key, false))
  }

  async deleteFileByExternalId(externalId) {
    await call(() => this[native].delete(String(externalId), true))
  }

  async getFileUrl(key, expiresIn, options) {
    return call(() => this[native].url(key, false, expiresIn, options?.disposition))
  }

  async getFileUrlByExternalId(externalId, expiresIn, options) {
    return call(() => this[native].url(String(externalId), true, expiresIn, options?.disposition))
  }

  async setMultipleFileVisibility(keys, visibility) {
    return (await call(() => this[native].setVisibility(keys, false, visibility))).map(visibilityResult)
  }

  async setFileVisibilityByExternalId(externalId, visibility) {
    const [result] = await call(() => this[native].setVisibility([String(externalId)], true, visibility))
    return visibilityResult(result)
  }

  async getFileVisibility(key) {
    return visibilityStatus(await call(() => this[native].getVisibility(key, false)))
  }

  async getFileVisibilityByExternalId(externalId) {
    return visibilityStatus(await call(() => this[native].getVisibility(String(externalId), true)))
  }

  async getFileStream(key, options = {}) {
    return fileStream((range) => this[native].stream(key, false, range), options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    return fileStream((range) => this[native].stream(String(externalId), true, range), options)
  }
}

module.exports = { BucketProvider }
