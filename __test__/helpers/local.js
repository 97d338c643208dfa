'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

/** A fresh storage root, and a LocalStorageProvider on it (env read at construction). */
function freshRoot(label = 'local') {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ccs-${label}-`))
}

function localProvider(root, baseUrl = '/files') {
  const { LocalStorageProvider } = require('../..')
  const saved = { p: process.env.CRUNCHYCONE_LOCALSTORAGE_PATH, u: process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL }
  process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = root
  process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL = baseUrl
  try {
    return new LocalStorageProvider()
  } finally {
    for (const [k, v] of [['CRUNCHYCONE_LOCALSTORAGE_PATH', saved.p], ['CRUNCHYCONE_LOCALSTORAGE_BASE_URL', saved.u]]) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** The sidecar the original library writes: JSON.stringify(record, null, 2), fields in its order. */
function originalSidecar({ external_id, key, filename, contentType, size, lastModified, url, visibility, metadata }) {
  const record = { external_id, key, filename, contentType, size, lastModified, url, visibility, metadata }
  return JSON.stringify(record, null, 2)
}

/** Writes a file the way the original library's uploadFile does (content, then sidecar). */
function writeAsOriginal(root, fields, body) {
  const file = path.join(root, fields.key)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, body)
  fs.writeFileSync(`${file}.json`, originalSidecar({ size: body.length, ...fields }))
}

/** A FIFO in the store: opening it for reading blocks until a writer comes, i.e. a stalled source. */
function fifo(root, key) {
  const file = path.join(root, key)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  execFileSync('mkfifo', [file])
  return {
    key,
    async release() {
      // Opening the write end unblocks the reader still waiting in the blocking pool.
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
      fs.closeSync(fd)
      fs.rmSync(file, { force: true })
    },
  }
}

module.exports = { freshRoot, localProvider, originalSidecar, writeAsOriginal, fifo }
