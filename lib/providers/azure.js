'use strict'
// AzureStorageProvider over the native BucketStore (src/providers/{bucket,azure}).
// No Azure SDK is needed. As in the original, the constructor never throws: a bad configuration
// is reported by the first call.

const { BucketStore } = require('../native')
const { BucketProvider } = require('./bucket')
const { configOf } = require('../options')

const AZURE_CONFIG = {
  accountName: 'string',
  accountKey: 'string',
  sasToken: 'string',
  connectionString: 'string',
  containerName: 'string',
  cdnUrl: 'string',
  endpoint: 'string',
}

class AzureStorageProvider extends BucketProvider {
  constructor(config = {}) {
    super(BucketStore.azure(configOf('Azure', config, AZURE_CONFIG)))
  }
}

module.exports = { AzureStorageProvider }
