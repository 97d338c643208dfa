'use strict'
// GCPStorageProvider (spec §1.4, §3.5) over the native BucketStore (src/providers/{bucket,gcs}).
// No Google SDK is needed. As in the original, the constructor never throws: a bad configuration
// is reported by the first call. Like @google-cloud/storage, `STORAGE_EMULATOR_HOST` points it at
// an emulator and `GOOGLE_APPLICATION_CREDENTIALS` names a key file when the config gives none.

const { BucketStore } = require('../native')
const { BucketProvider } = require('./bucket')

class GCPStorageProvider extends BucketProvider {
  constructor(config = {}) {
    const env = process.env
    const keyFilename = config.keyFilename ?? (config.credentials ? undefined : env.GOOGLE_APPLICATION_CREDENTIALS)
    super(BucketStore.gcs({ ...config, keyFilename, apiEndpoint: config.apiEndpoint ?? env.STORAGE_EMULATOR_HOST }))
  }
}

module.exports = { GCPStorageProvider }
