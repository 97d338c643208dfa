'use strict'
// Jest runs each test file in its own vm context, with its own Date and Error. Values the package
// hands out must come from the caller's realm, or `instanceof` fails there. This loads the JS layer
// into a fresh context the way Jest does (native addon and Node built-ins shared) and checks.

const { it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const { freshRoot } = require('./helpers/local')

function loadInNewRealm(entry) {
  const context = vm.createContext({
    process, Buffer, console, setTimeout, clearTimeout, setImmediate, queueMicrotask,
    ReadableStream, AbortController, AbortSignal, URL,
  })
  const cache = new Map()
  const load = (file) => {
    if (cache.has(file)) return cache.get(file).exports
    const module = { exports: {} }
    cache.set(file, module)
    const code = fs.readFileSync(file, 'utf8')
    const fn = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, context, { filename: file })
    const localRequire = (id) => {
      if (!id.startsWith('.')) return require(id)
      let target = require.resolve(path.resolve(path.dirname(file), id))
      // The native addon's loader is shared, as Jest shares native addons.
      if (target === path.join(__dirname, '..', 'lib', 'native.js')) return require(target)
      return load(target)
    }
    fn.call(module.exports, module.exports, localRequire, module, file, path.dirname(file))
    return module.exports
  }
  const realm = { Date: vm.runInContext('Date', context), Error: vm.runInContext('Error', context) }
  return { lib: load(require.resolve(entry)), realm }
}

it("Dates and Errors are created in the caller's realm", async () => {
  const { lib, realm } = loadInNewRealm('..')
  const root = freshRoot('realm')
  process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = root
  try {
    const provider = new lib.LocalStorageProvider()
    await provider.uploadFile({ external_id: 'realm', key: 'r.txt', buffer: Buffer.from('r') })
    const found = await provider.findFileByExternalId('realm')
    assert.ok(found.lastModified instanceof realm.Date)
    assert.equal(found.lastModified instanceof Date, false, 'the test would not tell realms apart')
    const s = await provider.getFileStream('r.txt')
    assert.ok(s.lastModified instanceof realm.Date)
    s.stream.destroy()
    const listed = await provider.listFiles()
    assert.ok(listed.files[0].lastModified instanceof realm.Date)
    for (const [key, options] of [['missing'], ['../x'], ['r.txt', { start: 9 }]]) {
      const err = await provider.getFileStream(key, options).catch((e) => e)
      assert.ok(err instanceof realm.Error, err.message)
    }
  } finally {
    delete process.env.CRUNCHYCONE_LOCALSTORAGE_PATH
  }
})
