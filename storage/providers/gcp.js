'use strict'
// crunchycone-lib's `storage/providers/gcp` subpath.
module.exports = require('../../lib/providers/gcp')
