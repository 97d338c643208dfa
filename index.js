'use strict'
// crunchycone-storage: the storage providers of crunchycone-lib, native. Each module's exports are
// listed once, in its own module.exports; the ESM entry points re-export these (Node reads the names
// from the require() spreads below), so no list is written twice.
module.exports = {
  ...require('./lib/providers'),
  ...require('./lib/config'),
  ...require('./lib/utils'),
  ...require('./lib/sync'),
  ...require('./lib/serve'),
  // The original's root entry re-exports its auth helpers too.
  ...require('./lib/auth'),
}
