'use strict'
// crunchycone-lib's `./auth` subpath.
module.exports = require('../lib/auth')
