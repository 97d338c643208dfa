'use strict'
// crunchycone-lib's `./storage` subpath (also `./services/storage`): the module-level provider and
// its helpers (spec §2.1, §2.2), the validation and key utilities (§2.3, §2.4) and sync (§2.5).
module.exports = { ...require('../lib/config'), ...require('../lib/utils'), ...require('../lib/sync') }
