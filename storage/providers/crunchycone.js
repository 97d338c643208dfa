'use strict'
// crunchycone-lib's `storage/providers/crunchycone` subpath.
module.exports = require('../../lib/providers/crunchycone')
