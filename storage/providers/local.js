'use strict'
// crunchycone-lib's `storage/providers/local` subpath.
const { LocalStorageProvider } = require('../../lib/providers/local')

module.exports = { LocalStorageProvider }
