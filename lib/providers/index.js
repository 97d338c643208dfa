'use strict'
// Every provider class. The original's live in modules of their own (its ./storage/providers/*
// subpaths re-export them); a backend of this package's own adds its class here: its configuration
// mapped onto its native factory, as in those modules, and its name in the exports.
module.exports = {
  ...require('./local'),
  ...require('./crunchycone'),
  ...require('./s3'),
  ...require('./gcp'),
  ...require('./azure'),
}
