'use strict'
// crunchycone-lib's `storage/providers/local` subpath.
module.exports = require('../../lib/providers/local')
