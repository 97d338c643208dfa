'use strict'
// LocalStorageProvider: the shared conformance suite, plus what only local storage has: the
// environment, the on-disk format shared with the original library, traversal, and the index.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { conformance } = require('./conformance')
const { freshRoot, localProvider, originalSidecar, writeAsOriginal, fifo } = require('./helpers/local')
const os = require('node:os')
const { pattern, collect, uniqueId } = require('./helpers/util')

let root
conformance({
  name: 'local',
  messages: {
    uploadFailed: (cause) => `Failed to upload file: ${cause}`,
    streamNotFound: (key) => `File not found: ${key}`,
    notFoundById: (id) => `File with external_id \"${id}\" not found`,
  },
  async create() {
    root = freshRoot()
    return localProvider(root)
  },
  // LocalStorage URLs are paths under the application's base URL (/files here), for it to serve.
  readUrl: async (url) => fs.readFileSync(path.join(root, decodeURIComponent(url.replace(/^\/files\//, '')))),
})

describe('local: construction from the environment', () => {
  const run = (code, env) =>
    spawnSync(process.execPath, ['-e', code], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', cwd: path.join(__dirname, '..') })

  it('requires CRUNCHYCONE_LOCALSTORAGE_PATH', () => {
    const r = run(`
      const { LocalStorageProvider } = require('.')
      try { new LocalStorageProvider() } catch (e) { console.log(e.message) }`)
    assert.equal(r.stdout.trim(), 'CRUNCHYCONE_LOCALSTORAGE_PATH environment variable is required but not configured')
  })

  it('defaults the base URL and strips one trailing slash, reading process.env at call time', async () => {
    const rootA = freshRoot('env')
    const r = run(`
      const { LocalStorageProvider } = require('.')
      process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(rootA)}
      const a = new LocalStorageProvider()
      process.env.CRUNCHYCONE_LOCALSTORAGE_BASE_URL = 'https://cdn.example/u/'
      const b = new LocalStorageProvider()
      Promise.all([a.getFileUrl('k/x.txt'), b.getFileUrl('k/x.txt')]).then((u) => console.log(u.join(' ')))`)
    assert.equal(r.stdout.trim(), '/localstorage/k/x.txt https://cdn.example/u/k/x.txt')
  })

  it('never crashes the process when the root cannot be created, and reports it on use', () => {
    const blocker = path.join(freshRoot('notdir'), 'file')
    fs.writeFileSync(blocker, 'x')
    const r = run(
      `
      const { LocalStorageProvider } = require('.')
      const p = new LocalStorageProvider()
      p.listFiles().catch((e) => console.log(e.message))`,
      { CRUNCHYCONE_LOCALSTORAGE_PATH: path.join(blocker, 'sub') },
    )
    assert.equal(r.status, 0)
    assert.match(r.stdout, /^Failed to list files: Failed to create storage directory at .*sub: Not a directory/)
  })

  it('is importable from the original subpath, as CommonJS and ESM', () => {
    const cjs = run(`console.log(typeof require('crunchycone-storage/storage/providers/local').LocalStorageProvider)`)
    assert.equal(cjs.stdout.trim(), 'function', cjs.stderr)
    const esm = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { LocalStorageProvider } from 'crunchycone-storage/storage/providers/local'; import * as root from 'crunchycone-storage'; console.log(typeof LocalStorageProvider, LocalStorageProvider === root.LocalStorageProvider)`],
      { encoding: 'utf8', cwd: path.join(__dirname, '..') },
    )
    assert.equal(esm.stdout.trim(), 'function true', esm.stderr)
  })
})

describe('local: the on-disk format shared with the original', () => {
  let dir, provider
  before(() => {
    dir = freshRoot('compat')
    provider = localProvider(dir, '/uploads')
  })

  it('reads a store written by the original', async () => {
    const body = Buffer.from('original bytes')
    writeAsOriginal(dir, {
      external_id: 'orig-1',
      key: 'files/orig-1-1700000000000.txt',
      filename: 'notes.txt',
      contentType: 'text/plain',
      lastModified: '2023-11-14T22:13:20.000Z',
      url: '/uploads/files/orig-1-1700000000000.txt',
      visibility: 'public',
      metadata: { project: 'p1' },
    }, body)
    const found = await provider.findFileByExternalId('orig-1')
    assert.deepEqual({ ...found }, {
      external_id: 'orig-1',
      key: 'files/orig-1-1700000000000.txt',
      url: '/uploads/files/orig-1-1700000000000.txt',
      size: body.length,
      contentType: 'text/plain',
      lastModified: new Date('2023-11-14T22:13:20.000Z'),
      etag: undefined,
      metadata: { project: 'p1' },
      visibility: 'public',
      publicUrl: '/uploads/files/orig-1-1700000000000.txt',
    })
    const s = await provider.getFileStreamByExternalId('orig-1')
    assert.equal(s.contentType, 'text/plain')
    assert.deepEqual(s.lastModified, new Date('2023-11-14T22:13:20.000Z'))
    assert.ok((await collect(s.stream)).equals(body))
    assert.equal((await provider.getFileVisibility('files/orig-1-1700000000000.txt')).visibility, 'public')
  })

  it('writes sidecars byte for byte as the original does', async () => {
    const r = await provider.uploadFile({
      external_id: 'ours-1',
      key: 'docs/ü "quoted".pdf',
      filename: 'report.pdf',
      buffer: Buffer.from('%PDF'),
      metadata: { a: '1', b: 'line\nbreak' },
    })
    const text = fs.readFileSync(path.join(dir, 'docs/ü "quoted".pdf.json'), 'utf8')
    // The expected text is built from known values; only the time comes from the file, checked first.
    const stampOf = (t) => {
      const [, stamp] = /^ {2}"lastModified": "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)",$/m.exec(t) ?? []
      assert.ok(stamp && Math.abs(Date.parse(stamp) - Date.now()) < 600_000, t)
      return stamp
    }
    const expected = { external_id: 'ours-1', key: 'docs/ü "quoted".pdf', filename: 'report.pdf', contentType: 'application/pdf', size: 4, url: '/uploads/docs/ü "quoted".pdf', visibility: 'private', metadata: { a: '1', b: 'line\nbreak' } }
    assert.equal(text, originalSidecar({ ...expected, lastModified: stampOf(text) }))
    const parsed = JSON.parse(text)
    assert.deepEqual(Object.keys(parsed), ['external_id', 'key', 'filename', 'contentType', 'size', 'lastModified', 'url', 'visibility', 'metadata'])
    assert.equal(parsed.lastModified, new Date(parsed.lastModified).toISOString())
    assert.deepEqual({ ...parsed, lastModified: undefined }, {
      external_id: 'ours-1',
      key: 'docs/ü "quoted".pdf',
      filename: 'report.pdf',
      contentType: 'application/pdf',
      size: 4,
      lastModified: undefined,
      url: '/uploads/docs/ü "quoted".pdf',
      visibility: 'private',
      metadata: { a: '1', b: 'line\nbreak' },
    })
    assert.equal(r.url, parsed.url)
    // Optional fields are left out, as JSON.stringify leaves out undefined.
    await provider.uploadFile({ external_id: 'ours-2', key: 'bare.bin', buffer: Buffer.from('x') })
    const bare = fs.readFileSync(path.join(dir, 'bare.bin.json'), 'utf8')
    assert.deepEqual(Object.keys(JSON.parse(bare)), ['external_id', 'key', 'contentType', 'size', 'lastModified', 'url', 'visibility'])
    assert.equal(bare, originalSidecar({ external_id: 'ours-2', key: 'bare.bin', contentType: 'application/octet-stream', size: 1, lastModified: stampOf(bare), url: '/uploads/bare.bin', visibility: 'private' }))
  })

  it('rewrites visibility as the original does, keeping the format', async () => {
    await provider.uploadFile({ external_id: 'vis-1', key: 'v/a.txt', buffer: Buffer.from('a'), metadata: { m: '1' } })
    const file = path.join(dir, 'v/a.txt.json')
    const before = fs.readFileSync(file, 'utf8')
    await provider.setFileVisibility('v/a.txt', 'public')
    // The original assigns the two fields on the parsed record and writes it back.
    assert.equal(fs.readFileSync(file, 'utf8'), JSON.stringify({ ...JSON.parse(before), visibility: 'public', publicUrl: '/uploads/v/a.txt' }, null, 2))
    await provider.setFileVisibility('v/a.txt', 'private')
    assert.equal(fs.readFileSync(file, 'utf8'), before)
  })

  it('infers content types like the original: filename first, else the key', async () => {
    const a = await provider.uploadFile({ external_id: uniqueId(), key: 'ct/x.bin', filename: 'photo.JPG', buffer: Buffer.from('x') })
    assert.equal(a.contentType, 'image/jpeg')
    const b = await provider.uploadFile({ external_id: uniqueId(), key: 'ct/y.mp3', buffer: Buffer.from('x') })
    assert.equal(b.contentType, 'audio/mpeg')
    const c = await provider.uploadFile({ external_id: uniqueId(), key: 'ct/z.weird', buffer: Buffer.from('x'), contentType: 'x/custom' })
    assert.equal(c.contentType, 'x/custom')
  })

  it('deletes orphaned sidecars when listing, but never a user JSON file', async () => {
    const d = freshRoot('orphans')
    const p = localProvider(d)
    writeAsOriginal(d, { external_id: 'gone', key: 'o/gone.txt', contentType: 'text/plain', lastModified: new Date().toISOString(), url: '/u', visibility: 'private' }, Buffer.from('x'))
    fs.rmSync(path.join(d, 'o/gone.txt'))
    // A user's own JSON file that happens to look like metadata of a missing file.
    fs.writeFileSync(path.join(d, 'o/data.json'), JSON.stringify({ external_id: 'u', key: 'o/elsewhere' }))
    fs.writeFileSync(path.join(d, 'o/broken.json'), '{not json')
    const r = await p.listFiles()
    assert.equal(r.files.length, 0)
    assert.equal(fs.existsSync(path.join(d, 'o/gone.txt.json')), false)
    assert.equal(fs.existsSync(path.join(d, 'o/data.json')), true)
    assert.equal(fs.existsSync(path.join(d, 'o/broken.json')), true)
  })

  it('refuses keys whose metadata path collides with another file', async () => {
    await provider.uploadFile({ external_id: 'doc', key: 'c/doc', buffer: Buffer.from('doc') })
    await assert.rejects(provider.uploadFile({ external_id: 'doc-json', key: 'c/doc.json', buffer: Buffer.from('{}') }), {
      code: 'InvalidKey',
      message: /holds the metadata of another file/,
    })
    assert.equal((await provider.findFileByExternalId('doc')).key, 'c/doc')
    await provider.uploadFile({ external_id: 'data', key: 'c/data.json', buffer: Buffer.from('{"a":1}') })
    await assert.rejects(provider.uploadFile({ external_id: 'data2', key: 'c/data', buffer: Buffer.from('x') }), { code: 'InvalidKey' })
    assert.equal((await provider.findFileByExternalId('data')).key, 'c/data.json')
  })

  it('lists files whose name starts with a dot', async () => {
    await provider.uploadFile({ external_id: 'dot', key: 'h/.hidden', buffer: Buffer.from('h') })
    assert.deepEqual((await provider.listFiles({ prefix: 'h/' })).files.map((f) => f.key), ['h/.hidden'])
    assert.equal((await provider.findFileByExternalId('dot')).key, 'h/.hidden')
  })

  it('a failed overwrite leaves the existing file intact', async () => {
    await provider.uploadFile({ external_id: 'keep', key: 'k/keep.txt', buffer: Buffer.from('original') })
    const failing = new (require('node:stream').Readable)({
      read() {
        this.push('partial')
        this.destroy(new Error('boom'))
      },
    })
    await assert.rejects(provider.uploadFile({ external_id: 'keep2', key: 'k/keep.txt', stream: failing }), /Failed to upload file: boom/)
    assert.equal(fs.readFileSync(path.join(dir, 'k/keep.txt'), 'utf8'), 'original')
    assert.equal((await provider.findFileByExternalId('keep')).key, 'k/keep.txt')
    assert.deepEqual(fs.readdirSync(path.join(dir, 'k')).sort(), ['keep.txt', 'keep.txt.json'])
  })

  it('errors a stream whose file shrinks while it is read, never ending cleanly', async () => {
    const body = pattern(12 * 1024 * 1024, 9)
    await provider.uploadFile({ external_id: uniqueId(), key: 'shrink/big.bin', buffer: body })
    const s = await provider.getFileStream('shrink/big.bin')
    fs.truncateSync(path.join(dir, 'shrink/big.bin'), 0)
    await assert.rejects(collect(s.stream), { code: 'Truncated', message: /Stream ended after \d+ of 12582912 bytes/ })
  })
})

describe('local: keys that would escape the storage root', () => {
  let dir, provider, outside
  before(() => {
    const parent = freshRoot('trav')
    dir = path.join(parent, 'root')
    fs.mkdirSync(dir)
    outside = path.join(parent, 'secret.txt')
    fs.writeFileSync(outside, 'secret')
    fs.writeFileSync(`${outside}.json`, originalSidecar({ external_id: 's', key: '../secret.txt', contentType: 'text/plain', size: 6, lastModified: new Date().toISOString(), url: '/x', visibility: 'private' }))
    provider = localProvider(dir)
  })
  const bad = ['../secret.txt', 'a/../../secret.txt', '/etc/passwd', 'a\0b', 'a\\..\\secret.txt', '', 'a//b', './a']

  it('refuses them everywhere with a clear error, touching nothing', async () => {
    const before = fs.readdirSync(path.dirname(dir)).sort()
    for (const key of bad) {
      const invalid = { code: 'InvalidKey', message: /^Invalid key/ }
      await assert.rejects(provider.uploadFile({ external_id: uniqueId(), key, buffer: Buffer.from('pwned') }), invalid, key)
      await assert.rejects(provider.getFileStream(key), invalid, key)
      await assert.rejects(provider.deleteFile(key), invalid, key)
      await assert.rejects(provider.fileExists(key), invalid, key)
      await assert.rejects(provider.getFileUrl(key), invalid, key)
      await assert.rejects(provider.getFileVisibility(key), invalid, key)
      await assert.rejects(provider.setFileVisibility(key, 'public'), invalid, key)
    }
    assert.equal(fs.readFileSync(outside, 'utf8'), 'secret')
    assert.match(fs.readFileSync(`${outside}.json`, 'utf8'), /"visibility": "private"/)
    assert.deepEqual(fs.readdirSync(path.dirname(dir)).sort(), before)
    assert.deepEqual(fs.readdirSync(dir), [])
  })

  it('refuses external ids that would generate an escaping key', async () => {
    await assert.rejects(provider.uploadFile({ external_id: '../../evil', filename: 'x.txt', buffer: Buffer.from('x') }), { code: 'InvalidKey' })
    assert.deepEqual(fs.readdirSync(dir), [])
  })

  it('refuses invalid visibility values', async () => {
    await assert.rejects(provider.setFileVisibility('x', 'world'), /Invalid visibility "world"/)
  })
})

describe('local: lookups by external id with another process writing', () => {
  it('sees files added, changed and deleted behind its back', async () => {
    const dir = freshRoot('index')
    const provider = localProvider(dir)
    const stamp = new Date().toISOString()
    for (let i = 0; i < 200; i++) {
      writeAsOriginal(dir, { external_id: `id-${i}`, key: `d${i % 7}/f${i}.txt`, contentType: 'text/plain', lastModified: stamp, url: `/f/${i}`, visibility: 'private' }, Buffer.from(`body ${i}`))
    }
    assert.equal((await provider.findFileByExternalId('id-150')).key, 'd3/f150.txt')
    // Added by another process after the index was built.
    writeAsOriginal(dir, { external_id: 'late', key: 'new/dir/late.txt', contentType: 'text/plain', lastModified: stamp, url: '/l', visibility: 'private' }, Buffer.from('late'))
    assert.equal((await provider.findFileByExternalId('late')).key, 'new/dir/late.txt')
    // Deleted by another process.
    fs.rmSync(path.join(dir, 'd3/f150.txt'))
    fs.rmSync(path.join(dir, 'd3/f150.txt.json'))
    assert.equal(await provider.findFileByExternalId('id-150'), null)
    // Sidecar rewritten in place with another external id.
    const side = path.join(dir, 'd1/f1.txt.json')
    fs.writeFileSync(side, fs.readFileSync(side, 'utf8').replace('"id-1"', '"renamed"'))
    assert.equal(await provider.findFileByExternalId('id-1'), null)
    assert.equal((await provider.findFileByExternalId('renamed')).key, 'd1/f1.txt')
    // Content removed but sidecar left: not found, and the orphan sidecar is cleaned up.
    fs.rmSync(path.join(dir, 'd2/f2.txt'))
    assert.equal(await provider.findFileByExternalId('id-2'), null)
    assert.equal(fs.existsSync(path.join(dir, 'd2/f2.txt.json')), false)
    // And a second provider (another process's view) agrees.
    const other = localProvider(dir)
    assert.equal((await other.findFileByExternalId('late')).size, 4)
    assert.equal((await provider.listFiles({ limit: 1000 })).totalCount, 199)
  })
})

describe('local: review fixes', () => {
  let dir, provider, outside
  before(() => {
    const parent = freshRoot('links')
    dir = path.join(parent, 'root')
    outside = path.join(parent, 'outside')
    fs.mkdirSync(dir)
    fs.mkdirSync(outside)
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET')
    fs.symlinkSync(outside, path.join(dir, 'link'))
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'file-link.txt'))
    provider = localProvider(dir)
  })

  it('refuses paths through symbolic links, reading, writing and deleting nothing outside', async () => {
    const invalid = { code: 'InvalidKey', message: /symbolic links/ }
    await assert.rejects(provider.getFileStream('link/secret.txt'), invalid)
    await assert.rejects(provider.uploadFile({ external_id: uniqueId(), key: 'link/written.txt', buffer: Buffer.from('x') }), invalid)
    await assert.rejects(provider.uploadFile({ external_id: uniqueId(), key: 'link/new/deep.txt', buffer: Buffer.from('x') }), invalid)
    await assert.rejects(provider.deleteFile('link/secret.txt'), invalid)
    await assert.rejects(provider.getFileStream('file-link.txt'), invalid)
    assert.deepEqual(fs.readdirSync(outside), ['secret.txt'])
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'TOP SECRET')
  })

  it('lists, searches and looks up nothing through links', async () => {
    // The outside directory holds a valid file and sidecar: followed links would show them.
    fs.writeFileSync(path.join(outside, 'secret.txt.json'), JSON.stringify({ external_id: 'outside-id', key: 'secret.txt', contentType: 'text/plain', size: 10, lastModified: new Date().toISOString(), url: '/files/secret.txt', visibility: 'private' }, null, 2))
    await provider.uploadFile({ external_id: 'inside-id', key: 'in/secret-inside.txt', buffer: Buffer.from('inside') })
    const keys = (await provider.listFiles({ limit: 1000 })).files.map((f) => f.key)
    assert.ok(keys.includes('in/secret-inside.txt'), String(keys))
    assert.deepEqual(keys.filter((k) => k.startsWith('link/') || k === 'file-link.txt'), [])
    assert.deepEqual((await provider.searchFiles({ query: 'secret' })).files.map((f) => f.key), ['in/secret-inside.txt'])
    assert.equal(await provider.findFileByExternalId('outside-id'), null)
    fs.rmSync(path.join(outside, 'secret.txt.json'))
  })

  it('never serves, deletes or rewrites a metadata file through key methods', async () => {
    await provider.uploadFile({ external_id: 'meta-doc', key: 'm/doc', buffer: Buffer.from('doc') })
    const refused = { code: 'InvalidKey', message: /metadata of another file/ }
    await assert.rejects(provider.getFileStream('m/doc.json'), refused)
    await assert.rejects(provider.deleteFile('m/doc.json'), refused)
    await assert.rejects(provider.fileExists('m/doc.json'), refused)
    assert.equal((await provider.findFileByExternalId('meta-doc')).key, 'm/doc')
    // A user's own JSON content is not mistaken for metadata by setFileVisibility.
    await provider.uploadFile({ external_id: 'meta-user', key: 'm/user.bin', buffer: Buffer.from('u') })
    fs.writeFileSync(path.join(dir, 'm/user.bin.json'), '{"mine": true}')
    const r = await provider.setFileVisibility('m/user.bin', 'public')
    assert.equal(r.success, false)
    assert.equal(fs.readFileSync(path.join(dir, 'm/user.bin.json'), 'utf8'), '{"mine": true}')
  })

  it('refuses FIFOs at once, without tying up the thread pool', async () => {
    const { key } = fifo(dir, 'pipes/stalled')
    for (let i = 0; i < 6; i++) {
      await assert.rejects(provider.getFileStream(key, { timeout: 5000 }), { code: 'NotFound' })
    }
    assert.equal(await fs.promises.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'TOP SECRET')
  })

  it('checks every key of a batch before changing any', async () => {
    await provider.uploadFile({ external_id: 'batch', key: 'b/1.txt', buffer: Buffer.from('1') })
    await assert.rejects(provider.setMultipleFileVisibility(['b/1.txt', '../bad'], 'public'), { code: 'InvalidKey' })
    assert.equal((await provider.getFileVisibility('b/1.txt')).visibility, 'private')
  })

  it('pages without sortBy in a stable order, losing no file', async () => {
    const d = freshRoot('paging')
    const p = localProvider(d)
    for (let i = 0; i < 30; i++) await p.uploadFile({ external_id: `p${i}`, key: `p/f${i}.txt`, buffer: Buffer.from('x') })
    const seen = []
    for (let offset = 0; offset < 30; offset += 10) seen.push(...(await p.listFiles({ limit: 10, offset })).files.map((f) => f.key))
    assert.equal(new Set(seen).size, 30)
    assert.deepEqual((await p.listFiles({ limit: 30 })).files.map((f) => f.key), seen)
  })
})
