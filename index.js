'use strict'
// crunchycone-storage: the storage providers of crunchycone-lib, native.
const { LocalStorageProvider } = require('./lib/providers/local')

module.exports = { LocalStorageProvider }
