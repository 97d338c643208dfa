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

const native = require('../native')
const { invalid } = require('../errors')
const { describe } = require('../options')

/**
 * Sets the process-wide cap on the part requests of parallel reads in flight, across every stream
 * of every provider (default 64), so many concurrent streams do not multiply the connections.
 */
module.exports.setParallelConnectionLimit = function setParallelConnectionLimit(limit) {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 4096) {
    throw invalid(`Invalid connection limit: expected an integer from 1 to 4096, got ${describe(limit)}`)
  }
  native.setParallelConnectionLimit(limit)
}
