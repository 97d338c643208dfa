'use strict'
// crunchycone-lib's `./storage` subpath (also `./services/storage`): the module-level provider and
// its helpers (spec §2.1, §2.2). Not here yet: the validation and key utilities, and sync.
module.exports = require('../lib/config')
