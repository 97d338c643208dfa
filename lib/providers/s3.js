// @ts-check
'use strict'
// S3CompatibleProvider and the five services built on it: the original's classes
// and config mapping over the native store (src/providers/{bucket,s3}). No AWS SDK is needed.

const { Store } = require('../native')
const { NativeProvider } = require('../provider')
const { configOf, transferOf } = require('../options')

// `signatureVersion` and `s3BucketEndpoint` are accepted and ignored, as the original's client did.
const S3_CONFIG = {
  accessKeyId: 'string',
  secretAccessKey: 'string',
  region: 'string',
  endpoint: 'string',
  forcePathStyle: 'boolean',
  bucket: 'string',
  publicBaseUrl: 'string',
  cdnUrl: 'string',
  useSSL: 'boolean',
  defaultACL: 'string',
  serverSideEncryption: 'string',
}

class S3CompatibleProvider extends NativeProvider {
  constructor(config = {}) {
    super(Store.s3(configOf('S3', config, S3_CONFIG)), transferOf('S3', config))
  }
}

// The derived services: each maps its config onto S3Config as the original does, with this
// library's transfer settings as given.
/** @param {import('../types').TransferConfig} config */
const transfer = ({ parallel, partsInFlight }) => ({ parallel, partsInFlight })
const common = { useSSL: true, signatureVersion: 'v4', defaultACL: 'private' }

class AWSS3Provider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { accessKeyId, secretAccessKey, region, bucket, cloudFrontDomain } = config
    super({
      ...common,
      ...transfer(config),
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
      ...transfer(config),
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
    super({ ...common, ...transfer(config), accessKeyId, secretAccessKey, region, bucket, endpoint: `https://s3.${region}.wasabisys.com`, forcePathStyle: true })
  }
}

class BackblazeB2Provider extends S3CompatibleProvider {
  constructor(config = {}) {
    const { keyId, applicationKey, region, bucket } = config
    super({
      ...common,
      ...transfer(config),
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
      ...transfer(config),
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
