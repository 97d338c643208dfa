'use strict'
// crunchycone-storage: the storage providers of crunchycone-lib, native.
const { LocalStorageProvider } = require('./lib/providers/local')
const { CrunchyConeProvider } = require('./lib/providers/crunchycone')
const s3 = require('./lib/providers/s3')
const { AzureStorageProvider } = require('./lib/providers/azure')
const { GCPStorageProvider } = require('./lib/providers/gcp')
const config = require('./lib/config')
const utils = require('./lib/utils')
const sync = require('./lib/sync')
const { serveFile, createFileHandler, toResponse } = require('./lib/serve')

module.exports = { LocalStorageProvider, CrunchyConeProvider, ...s3, GCPStorageProvider, AzureStorageProvider, ...config, ...utils, ...sync, serveFile, createFileHandler, toResponse }
