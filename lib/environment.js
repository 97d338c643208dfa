'use strict'
// Providers configured from CRUNCHYCONE_* environment variables, as the original's
// initializeStorageProvider reads them (lib/config.js), and as the command-line tool does.

const { invalid } = require('./errors')
const { LocalStorageProvider } = require('./providers/local')
const { CrunchyConeProvider } = require('./providers/crunchycone')
const s3 = require('./providers/s3')
const { GCPStorageProvider } = require('./providers/gcp')
const { AzureStorageProvider } = require('./providers/azure')

/** The named variables' values; throws the original's error naming every missing one. */
function required(names) {
  const missing = names.filter((n) => !process.env[n])
  if (missing.length) throw invalid(`Missing required environment variables for storage provider: ${missing.join(', ')}`)
  return names.map((n) => process.env[n])
}

const optional = (name) => process.env[name] || undefined

/** A whole number from the variable `name`, or undefined when it is not set. */
function wholeNumber(name) {
  const v = optional(name)
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v.trim())) throw invalid(`Invalid ${name} ${JSON.stringify(v)}: expected a whole number`)
  return Number(v)
}

/**
 * This library's transfer settings for every HTTP provider (the original has none):
 * CRUNCHYCONE_STORAGE_PARALLEL=false (or off, 0; true, on and 1 leave them on) turns parallel
 * reads off; the _PARALLEL_* variables tune them; CRUNCHYCONE_STORAGE_PARTS_IN_FLIGHT is the
 * uploads' default.
 */
function transfer() {
  const raw = optional('CRUNCHYCONE_STORAGE_PARALLEL')
  const switched = raw?.trim().toLowerCase()
  if (switched !== undefined && !['true', 'on', '1', 'false', 'off', '0'].includes(switched)) {
    throw invalid(`Invalid CRUNCHYCONE_STORAGE_PARALLEL ${JSON.stringify(raw)}: expected true or false`)
  }
  const off = ['false', 'off', '0'].includes(switched)
  const settings = {
    connections: wholeNumber('CRUNCHYCONE_STORAGE_PARALLEL_CONNECTIONS'),
    partSize: wholeNumber('CRUNCHYCONE_STORAGE_PARALLEL_PART_SIZE'),
    threshold: wholeNumber('CRUNCHYCONE_STORAGE_PARALLEL_THRESHOLD'),
    singleWithinMs: wholeNumber('CRUNCHYCONE_STORAGE_PARALLEL_SINGLE_WITHIN_MS'),
  }
  return { parallel: off ? false : settings, partsInFlight: wholeNumber('CRUNCHYCONE_STORAGE_PARTS_IN_FLIGHT') }
}

/** For each provider type: a function building it from the environment. */
const FROM_ENV = {
  localstorage() {
    // As the original: defaults are written to the environment the provider reads.
    process.env.CRUNCHYCONE_LOCALSTORAGE_PATH ||= './uploads'
    process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL ||= '/uploads'
    return new LocalStorageProvider()
  },
  aws() {
    const [accessKeyId, secretAccessKey, region, bucket] = required([
      'CRUNCHYCONE_AWS_ACCESS_KEY_ID',
      'CRUNCHYCONE_AWS_SECRET_ACCESS_KEY',
      'CRUNCHYCONE_AWS_REGION',
      'CRUNCHYCONE_S3_BUCKET',
    ])
    return new s3.AWSS3Provider({ ...transfer(), accessKeyId, secretAccessKey, region, bucket, cloudFrontDomain: optional('CRUNCHYCONE_CLOUDFRONT_DOMAIN') })
  },
  digitalocean() {
    const [accessKeyId, secretAccessKey, region, bucket] = required([
      'CRUNCHYCONE_DIGITALOCEAN_SPACES_KEY',
      'CRUNCHYCONE_DIGITALOCEAN_SPACES_SECRET',
      'CRUNCHYCONE_DIGITALOCEAN_SPACES_REGION',
      'CRUNCHYCONE_DIGITALOCEAN_SPACES_BUCKET',
    ])
    return new s3.DigitalOceanSpacesProvider({ ...transfer(), accessKeyId, secretAccessKey, region, bucket, cdnEndpoint: optional('CRUNCHYCONE_DIGITALOCEAN_CDN_ENDPOINT') })
  },
  wasabi() {
    const [accessKeyId, secretAccessKey, region, bucket] = required([
      'CRUNCHYCONE_WASABI_ACCESS_KEY',
      'CRUNCHYCONE_WASABI_SECRET_KEY',
      'CRUNCHYCONE_WASABI_REGION',
      'CRUNCHYCONE_WASABI_BUCKET',
    ])
    return new s3.WasabiProvider({ ...transfer(), accessKeyId, secretAccessKey, region, bucket })
  },
  backblaze() {
    const [keyId, applicationKey, region, bucket] = required([
      'CRUNCHYCONE_BACKBLAZE_KEY_ID',
      'CRUNCHYCONE_BACKBLAZE_APPLICATION_KEY',
      'CRUNCHYCONE_BACKBLAZE_REGION',
      'CRUNCHYCONE_BACKBLAZE_BUCKET',
    ])
    return new s3.BackblazeB2Provider({ ...transfer(), keyId, applicationKey, region, bucket })
  },
  r2() {
    const [accessKeyId, secretAccessKey, accountId, bucket] = required([
      'CRUNCHYCONE_R2_ACCESS_KEY_ID',
      'CRUNCHYCONE_R2_SECRET_ACCESS_KEY',
      'CRUNCHYCONE_R2_ACCOUNT_ID',
      'CRUNCHYCONE_R2_BUCKET',
    ])
    return new s3.CloudflareR2Provider({ ...transfer(), accessKeyId, secretAccessKey, accountId, bucket, publicDomain: optional('CRUNCHYCONE_R2_PUBLIC_DOMAIN') })
  },
  's3-custom'() {
    const [accessKeyId, secretAccessKey, region, bucket] = required([
      'CRUNCHYCONE_S3_ACCESS_KEY_ID',
      'CRUNCHYCONE_S3_SECRET_ACCESS_KEY',
      'CRUNCHYCONE_S3_REGION',
      'CRUNCHYCONE_S3_BUCKET',
    ])
    return new s3.S3CompatibleProvider({
      ...transfer(),
      accessKeyId,
      secretAccessKey,
      region,
      bucket,
      endpoint: optional('CRUNCHYCONE_S3_ENDPOINT'),
      forcePathStyle: process.env.CRUNCHYCONE_S3_FORCE_PATH_STYLE === 'true',
      publicBaseUrl: optional('CRUNCHYCONE_S3_PUBLIC_BASE_URL'),
      cdnUrl: optional('CRUNCHYCONE_S3_CDN_URL'),
      useSSL: process.env.CRUNCHYCONE_S3_USE_SSL !== 'false',
      signatureVersion: process.env.CRUNCHYCONE_S3_SIGNATURE_VERSION || 'v4',
      defaultACL: optional('CRUNCHYCONE_S3_DEFAULT_ACL'),
      serverSideEncryption: optional('CRUNCHYCONE_S3_SERVER_SIDE_ENCRYPTION'),
    })
  },
  crunchycone() {
    const [apiUrl, apiKey, projectId] = required(['CRUNCHYCONE_API_URL', 'CRUNCHYCONE_API_KEY', 'CRUNCHYCONE_PROJECT_ID'])
    const timeout = process.env.CRUNCHYCONE_TIMEOUT ? parseInt(process.env.CRUNCHYCONE_TIMEOUT, 10) : undefined
    return new CrunchyConeProvider({ ...transfer(), apiUrl, apiKey, projectId, timeout: Number.isNaN(timeout) ? undefined : timeout })
  },
  // The original read no variables for these and stored files on local disk instead (a defect);
  // these names are this library's (README, "Configuration from the environment").
  gcp() {
    const [projectId, bucket] = required(['CRUNCHYCONE_GCP_PROJECT_ID', 'CRUNCHYCONE_GCP_BUCKET'])
    return new GCPStorageProvider({
      ...transfer(),
      projectId,
      bucket,
      keyFilename: optional('CRUNCHYCONE_GCP_KEY_FILE'),
      cdnUrl: optional('CRUNCHYCONE_GCP_CDN_URL'),
    })
  },
  azure() {
    const connectionString = optional('CRUNCHYCONE_AZURE_STORAGE_CONNECTION_STRING')
    const accountKey = optional('CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_KEY')
    const sasToken = optional('CRUNCHYCONE_AZURE_STORAGE_SAS_TOKEN')
    // A connection string names the account; otherwise the account and one credential are needed.
    const names = ['CRUNCHYCONE_AZURE_STORAGE_CONTAINER']
    if (!connectionString) names.unshift('CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_NAME')
    if (!connectionString && !accountKey && !sasToken) names.push('CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_KEY')
    required(names)
    return new AzureStorageProvider({
      ...transfer(),
      accountName: optional('CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_NAME'),
      accountKey,
      sasToken,
      connectionString,
      containerName: optional('CRUNCHYCONE_AZURE_STORAGE_CONTAINER'),
      cdnUrl: optional('CRUNCHYCONE_AZURE_CDN_URL'),
    })
  },
}
FROM_ENV.s3 = FROM_ENV.aws

/**
 * The provider named by CRUNCHYCONE_STORAGE_PROVIDER (default `localstorage`), configured from
 * the environment.
 */
function providerFromEnvironment() {
  const raw = process.env.CRUNCHYCONE_STORAGE_PROVIDER || 'localstorage'
  const type = raw.toLowerCase()
  let build = Object.hasOwn(FROM_ENV, type) ? FROM_ENV[type] : undefined
  if (!build) {
    console.warn(`Unknown storage provider: ${raw}. Falling back to localstorage.`)
    build = FROM_ENV.localstorage
  }
  return build()
}

module.exports = { providerFromEnvironment }
