'use strict'
// S3CompatibleProvider and the five services built on it (spec §1.4, §1.5): the original's classes
// and config mapping over the native BucketStore (src/providers/{bucket,s3}). No AWS SDK is needed.

const { BucketStore } = require('../native')
const { call } = require('../errors')
const { checkSource, beginUpload, sendUpload, NativeProvider, native } = require('../provider')
const { visibilityResult, visibilityStatus } = require('../convert')
const { fileStream } = require('../stream')

class S3CompatibleProvider extends NativeProvider {
  constructor(config = {}) {
    super(BucketStore.s3({ ...config }))
  }

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
    return fileStream(() => this[native].stream(key, false, options.start, options.end), options)
  }

  async getFileStreamByExternalId(externalId, options = {}) {
    return fileStream(() => this[native].stream(String(externalId), true, options.start, options.end), options)
  }
}

// The derived services: each maps its config onto S3Config as the original does (spec §1.5).
const common = { useSSL: true, signatureVersion: 'v4', defaultACL: 'private' }

class AWSS3Provider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { accessKeyId, secretAccessKey, region, bucket, cloudFrontDomain } = config
    super({
      ...common,
      accessKeyId,
      secretAccessKey,
      region,
      bucket,
      forcePathStyle: false,
      cdnUrl: cloudFrontDomain ? `https://${cloudFrontDomain}` : undefined,
      serverSideEncryption: 'AES256',
    })
  }
}

class DigitalOceanSpacesProvider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { accessKeyId, secretAccessKey, region, bucket, cdnEndpoint } = config
    super({
      ...common,
      accessKeyId,
      secretAccessKey,
      region: 'us-east-1', // Spaces signs with us-east-1; the real region is in the endpoint.
      bucket,
      endpoint: `https://${region}.digitaloceanspaces.com`,
      forcePathStyle: false,
      cdnUrl: cdnEndpoint,
    })
  }
}

class WasabiProvider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { accessKeyId, secretAccessKey, region, bucket } = config
    super({ ...common, accessKeyId, secretAccessKey, region, bucket, endpoint: `https://s3.${region}.wasabisys.com`, forcePathStyle: true })
  }
}

class BackblazeB2Provider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { keyId, applicationKey, region, bucket } = config
    super({
      ...common,
      accessKeyId: keyId,
      secretAccessKey: applicationKey,
      region,
      bucket,
      endpoint: `https://s3.${region}.backblazeb2.com`,
      forcePathStyle: true,
    })
  }
}

class CloudflareR2Provider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { accessKeyId, secretAccessKey, accountId, bucket, publicDomain } = config
    super({
      ...common,
      accessKeyId,
      secretAccessKey,
      region: 'auto',
      bucket,
      endpoint: `https://${accountId}.r2.cloudflarestorage.com`,
      forcePathStyle: true,
      // Without a public domain, public URLs are the bucket's own address: the original's
      // `https://{bucket}.{accountId}.r2.dev` is not an address R2 serves.
      publicBaseUrl: publicDomain ? `https://${publicDomain}` : undefined,
    })
  }
}

module.exports = {
  S3CompatibleProvider,
  AWSS3Provider,
  DigitalOceanSpacesProvider,
  WasabiProvider,
  BackblazeB2Provider,
  CloudflareR2Provider,
}
