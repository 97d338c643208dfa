'use strict'
// crunchycone-lib's `./storage/sync` subpath.
module.exports = require('../lib/sync')
