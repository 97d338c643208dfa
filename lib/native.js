'use strict'
// The generated napi loader (native.js at the package root, written by `napi build`).
module.exports = require('../native.js')
