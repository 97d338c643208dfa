// @ts-check
'use strict'
// LocalStorageProvider: files under CRUNCHYCONE_LOCALSTORAGE_PATH (read from process.env at
// construction), over the native store (src/providers/local).

const path = require('node:path')
const { Store } = require('../native')
const { invalid } = require('../errors')
const { NativeProvider } = require('../provider')

class LocalStorageProvider extends NativeProvider {
  constructor() {
    const basePath = process.env.CRUNCHYCONE_LOCALSTORAGE_PATH
    if (!basePath) {
      throw invalid('CRUNCHYCONE_LOCALSTORAGE_PATH environment variable is required but not configured')
    }
    let baseUrl = process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL || '/localstorage'
    if (baseUrl.endsWith('/')) baseUrl = baseUrl.slice(0, -1)
    super(Store.local(path.resolve(basePath), baseUrl))
  }
}

module.exports = { LocalStorageProvider }
