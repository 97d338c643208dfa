// @ts-check
'use strict'
// AzureStorageProvider over the native store (src/providers/{bucket,azure}).
// No Azure SDK is needed. As in the original, the constructor never throws: a bad configuration
// is reported by the first call.

const { Store } = require('../native')
const { NativeProvider } = require('../provider')
const { configOf, transferOf } = require('../options')

const AZURE_CONFIG = {
  accountName: 'string',
  accountKey: 'string',
  sasToken: 'string',
  connectionString: 'string',
  containerName: 'string',
  cdnUrl: 'string',
  endpoint: 'string',
}

class AzureStorageProvider extends NativeProvider {
  constructor(config = {}) {
    super(Store.azure(configOf('Azure', config, AZURE_CONFIG)), transferOf('Azure', config))
  }
}

module.exports = { AzureStorageProvider }
