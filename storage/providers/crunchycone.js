'use strict'
// crunchycone-lib's `storage/providers/crunchycone` subpath.
const { CrunchyConeProvider } = require('../../lib/providers/crunchycone')

module.exports = { CrunchyConeProvider }
