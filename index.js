'use strict'
// crunchycone-storage: the storage providers of crunchycone-lib, native.
const { LocalStorageProvider } = require('./lib/providers/local')
const { CrunchyConeProvider } = require('./lib/providers/crunchycone')

module.exports = { LocalStorageProvider, CrunchyConeProvider }
