'use strict'
// The original's `./storage` subpath: the module-level provider (initializeStorageProvider /
// setStorageProvider / getStorageProvider) and the helpers that call it, against a real local
// store; importable by name from CommonJS and ESM.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { freshRoot } = require('./helpers/local')
const { collect, withEnv } = require('./helpers/util')
const storage = require('crunchycone-storage/storage')

describe('storage: the module-level provider and its helpers', () => {
  it('delegates every helper to the provider initializeStorageProvider chose', async () => {
    const root = freshRoot('helpers')
    await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: 'localstorage', CRUNCHYCONE_LOCALSTORAGE_PATH: root, CRUNCHYCONE_LOCALSTORAGE_BASE_URL: '/u' }, async () => {
      await assert.rejects(storage.fileExists('x'), { message: 'Storage provider not initialized. Call initializeStorageProvider() first.' })
      storage.initializeStorageProvider()
      const r = await storage.uploadFile({ external_id: 'h-1', buffer: Buffer.from('hello'), key: 'docs/a.txt', metadata: { team: 'x' } })
      assert.equal(r.key, 'docs/a.txt')
      assert.equal(await storage.fileExists('docs/a.txt'), true)
      assert.equal(await storage.fileExistsByExternalId('h-1'), true)
      assert.equal((await storage.findFileByExternalId('h-1')).size, 5)
      assert.equal(await storage.getFileUrl('docs/a.txt'), '/u/docs/a.txt')
      assert.equal(await storage.getFileUrlByExternalId('h-1', 60, { disposition: 'inline' }), '/u/docs/a.txt')
      assert.deepEqual((await storage.listFiles({ prefix: 'docs/' })).files.map((f) => f.key), ['docs/a.txt'])
      assert.deepEqual((await storage.searchFiles({ query: 'a.txt' })).files.map((f) => f.external_id), ['h-1'])
      const provider = storage.getStorageProvider()
      assert.equal((await collect((await provider.getFileStream('docs/a.txt')).stream)).toString(), 'hello')
      await storage.deleteFileByExternalId('h-1')
      assert.equal(await storage.fileExists('docs/a.txt'), false)
      await storage.uploadFile({ external_id: 'h-2', buffer: Buffer.from('x'), key: 'docs/b.txt' })
      await storage.deleteFile('docs/b.txt')
      assert.equal(await storage.findFileByExternalId('h-2'), null)
    })
  })

  it('reports every provider type available (none needs an SDK)', async () => {
    const types = ['localstorage', 'crunchycone', 'aws', 's3', 'digitalocean', 'wasabi', 'backblaze', 'r2', 's3-custom', 'gcp', 'azure']
    assert.deepEqual(await storage.getAvailableStorageProviders(), types)
    for (const t of types) assert.equal(await storage.isStorageProviderAvailable(t), true, t)
    assert.equal(await storage.isStorageProviderAvailable('ftp'), false)
  })

  it('is the same module from ./storage, ./services/storage, the root and ESM', () => {
    assert.equal(require('crunchycone-storage/services/storage'), storage)
    assert.equal(require('crunchycone-storage').uploadFile, storage.uploadFile)
    const script = `import { uploadFile, initializeStorageProvider } from 'crunchycone-storage/storage'
      import * as root from 'crunchycone-storage'
      console.log(typeof uploadFile, typeof initializeStorageProvider, root.uploadFile === uploadFile)`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, encoding: 'utf8' })
    assert.equal(out.trim(), 'function function true')
  })
})
