'use strict'
// crunchycone-lib's `storage/providers/s3` subpath, with the five derived classes the original
// left unexported.
module.exports = require('../../lib/providers/s3')
