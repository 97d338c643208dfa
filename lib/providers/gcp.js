// @ts-check
'use strict'
// GCPStorageProvider over the native store (src/providers/{bucket,gcs}).
// No Google SDK is needed. As in the original, the constructor never throws: a bad configuration
// is reported by the first call. Like @google-cloud/storage, `STORAGE_EMULATOR_HOST` points it at
// an emulator and `GOOGLE_APPLICATION_CREDENTIALS` names a key file when the config gives none.

const { Store } = require('../native')
const { NativeProvider } = require('../provider')
const { configOf, transferOf } = require('../options')

const GCS_CONFIG = { projectId: 'string', keyFilename: 'string', credentials: 'object', bucket: 'string', cdnUrl: 'string', apiEndpoint: 'string' }

class GCPStorageProvider extends NativeProvider {
  constructor(config = {}) {
    const c = configOf('GCS', config, GCS_CONFIG)
    const env = process.env
    c.keyFilename ??= c.credentials ? undefined : env.GOOGLE_APPLICATION_CREDENTIALS
    c.apiEndpoint ??= env.STORAGE_EMULATOR_HOST
    super(Store.gcs(c), transferOf('GCS', config))
  }
}

module.exports = { GCPStorageProvider }
