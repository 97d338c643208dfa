'use strict'
// initializeStorageProvider and the module-level provider it sets: the provider and
// its configuration chosen from CRUNCHYCONE_* environment variables, as the original reads them.

const { invalid } = require('./errors')
const { providerFromEnvironment } = require('./environment')

let provider = null

function setStorageProvider(p) {
  provider = p
}

function getStorageProvider() {
  if (!provider) throw invalid('Storage provider not initialized. Call initializeStorageProvider() first.')
  return provider
}

/** Sets the provider the environment names. On a configuration error the current one is kept. */
function initializeStorageProvider() {
  setStorageProvider(providerFromEnvironment())
}

// The original's module-level helpers: each calls the current provider. The URL helpers
// also pass `FileUrlOptions` on (the original's dropped them).
const current = () => getStorageProvider()
const uploadFile = async (options) => current().uploadFile(options)
const deleteFile = async (key) => current().deleteFile(key)
const deleteFileByExternalId = async (externalId) => current().deleteFileByExternalId(externalId)
const getFileUrl = async (key, expiresIn, options) => current().getFileUrl(key, expiresIn, options)
const getFileUrlByExternalId = async (externalId, expiresIn, options) =>
  current().getFileUrlByExternalId(externalId, expiresIn, options)
const fileExists = async (key) => current().fileExists(key)
const fileExistsByExternalId = async (externalId) => current().fileExistsByExternalId(externalId)
const findFileByExternalId = async (externalId) => current().findFileByExternalId(externalId)
const listFiles = async (options) => current().listFiles(options)
const searchFiles = async (options) => current().searchFiles(options)

/** Every provider type the original names, in its order; all are built in (no SDK to install). */
const PROVIDER_TYPES = ['localstorage', 'crunchycone', 'aws', 's3', 'digitalocean', 'wasabi', 'backblaze', 'r2', 's3-custom', 'gcp', 'azure']
const isStorageProviderAvailable = async (type) => PROVIDER_TYPES.includes(type)
const getAvailableStorageProviders = async () => [...PROVIDER_TYPES]

module.exports = {
  initializeStorageProvider,
  setStorageProvider,
  getStorageProvider,
  uploadFile,
  deleteFile,
  deleteFileByExternalId,
  getFileUrl,
  getFileUrlByExternalId,
  fileExists,
  fileExistsByExternalId,
  findFileByExternalId,
  listFiles,
  searchFiles,
  isStorageProviderAvailable,
  getAvailableStorageProviders,
}
