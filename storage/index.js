'use strict'
// crunchycone-lib's `./storage` subpath (also `./services/storage`): the module-level provider and
// its helpers, the validation and key utilities, and sync.
module.exports = { ...require('../lib/config'), ...require('../lib/utils'), ...require('../lib/sync') }
