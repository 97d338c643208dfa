'use strict'
// crunchycone-lib's `storage/providers/azure` subpath.
module.exports = require('../../lib/providers/azure')
