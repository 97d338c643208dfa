'use strict'
// CrunchyConeProvider against the local CrunchyCone API server (__test__/servers/crunchycone.js):
// the shared conformance suite, then the API specifics: configuration, errors and secrets,
// signed-URL caching, paging, faults in the middle of a body, and large uploads in constant memory.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync, execFile } = require('node:child_process')
const { conformance } = require('./conformance')
const { startCrunchyConeServer } = require('./servers/crunchycone')
const { pattern, collect, uniqueId, nodeStreamOf, webStreamOf, peakRss, resetPeakRss } = require('./helpers/util')
const { CrunchyConeProvider } = require('..')

const MiB = 1024 * 1024
const API_KEY = 'sk_test_4f3c2b1a0secret'
const servers = []
after(() => Promise.all(servers.map((s) => s.close())))

async function freshServer() {
  const server = await startCrunchyConeServer({ apiKey: API_KEY, projectId: 'proj_1' })
  servers.push(server)
  return server
}
const providerFor = (server, extra = {}) =>
  new CrunchyConeProvider({ apiUrl: server.url, apiKey: API_KEY, projectId: 'proj_1', ...extra })
const faults = (server, f) => fetch(`${server.url}/__faults`, { method: 'POST', body: JSON.stringify(f) })

let shared
conformance({
  name: 'crunchycone',
  streamsNeedSize: true,
  messages: {
    uploadFailed: (cause) => new RegExp(`^Upload failed for file ".+": ${cause} \\(external_id: .+, file_path: .+\\)$`),
    streamNotFound: (key) => `File with key ${key} not found`,
    notFoundById: (id) => `File with external_id \"${id}\" not found`,
  },
  async create() {
    shared = await freshServer()
    return providerFor(shared)
  },
  async stalledKey(provider) {
    const r = await provider.uploadFile({ external_id: uniqueId(), key: `stall/${uniqueId()}.bin`, buffer: Buffer.alloc(1000, 1) })
    await faults(shared, { mode: 'stall', afterBytes: 0 })
    return { key: r.key, release: () => faults(shared, {}) }
  },
})

describe('crunchycone: configuration', () => {
  // Asynchronous: the API server runs in this process and must keep answering.
  const run = (code, env, cwd) =>
    new Promise((resolve) => {
      const options = { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', cwd: cwd ?? path.join(__dirname, '..') }
      execFile(process.execPath, ['-e', code], options, (error, stdout, stderr) => resolve({ status: error ? error.code : 0, stdout, stderr }))
    })

  it('reads CRUNCHYCONE_API_KEY / _API_URL / _PROJECT_ID from process.env', async () => {
    const server = await freshServer()
    const r = await run(
      `const { CrunchyConeProvider } = require(${JSON.stringify(path.join(__dirname, '..'))})
       const p = new CrunchyConeProvider()
       p.listFiles().then((r) => console.log('ok', r.totalCount), (e) => console.log('error', e.message))`,
      { CRUNCHYCONE_API_KEY: ` ${API_KEY} `, CRUNCHYCONE_API_URL: `${server.url}/`, CRUNCHYCONE_PROJECT_ID: 'proj_1' },
    )
    assert.equal(r.stdout.trim(), 'ok 0', r.stderr)
  })

  it('takes the project id from crunchycone.toml, and reports a missing one on use without crashing', async () => {
    const server = await freshServer()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-toml-'))
    fs.writeFileSync(path.join(dir, 'package.json'), '{}')
    const code = `const { CrunchyConeProvider } = require(${JSON.stringify(path.join(__dirname, '..'))})
       new CrunchyConeProvider({ apiUrl: '${server.url}', apiKey: '${API_KEY}' }).listFiles()
         .then((r) => console.log('ok', r.totalCount), (e) => console.log('error', e.message))`
    const missing = await run(code, {}, dir)
    assert.equal(missing.status, 0)
    assert.equal(
      missing.stdout.trim(),
      'error Failed to list files: CrunchyCone project ID is required. Set CRUNCHYCONE_PROJECT_ID environment variable or pass projectId in config.',
    )
    fs.writeFileSync(path.join(dir, 'crunchycone.toml'), '# project settings\nenvironment = "dev"\n[project]\nid = "proj_1"\n')
    assert.equal((await run(code, {}, dir)).stdout.trim(), 'ok 0')
  })

  it('reports a missing API key with the original message', async () => {
    const p = new CrunchyConeProvider({ apiUrl: 'http://127.0.0.1:9', projectId: 'p' })
    const saved = process.env.CRUNCHYCONE_API_KEY
    delete process.env.CRUNCHYCONE_API_KEY
    try {
      await assert.rejects(p.findFileByExternalId('x'), { name: 'StorageError', code: 'InvalidInput', message: /^CrunchyCone API key not found in environment variable CRUNCHYCONE_API_KEY/ })
    } finally {
      if (saved !== undefined) process.env.CRUNCHYCONE_API_KEY = saved
    }
  })

  it('is importable from the original subpath', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { CrunchyConeProvider } from 'crunchycone-storage/storage/providers/crunchycone'; console.log(typeof CrunchyConeProvider, typeof new CrunchyConeProvider({ apiKey: 'k', projectId: 'p' }).setUserId)`],
      { encoding: 'utf8', cwd: path.join(__dirname, '..') },
    )
    assert.equal(r.stdout.trim(), 'function function', r.stderr)
  })
})

describe('crunchycone: API errors never carry secrets', () => {
  let server, provider
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
  })

  it('a wrong API key is refused with the original error shape, without the key', async () => {
    const wrong = providerFor(server, { apiKey: 'sk_wrong_key_123' })
    const err = await wrong.findFileByExternalId('x').catch((e) => e)
    assert.equal(err.code, 'Unauthorized')
    assert.equal(
      err.message,
      `CrunchyCone API error (401 Unauthorized) | URL: ${server.url}/api/v1/storage/files/by-external-id/x | Method: GET | Error: Unauthorized | Message: Invalid or missing API key`,
    )
    assert.ok(!err.message.includes('sk_wrong_key_123'))
    // fileExists no longer reads a refused request as "absent".
    await assert.rejects(wrong.fileExists('k'), { code: 'Unauthorized' })
  })

  it('failed streams and uploads name neither the key nor signed URLs', async () => {
    const r = await provider.uploadFile({ external_id: uniqueId(), key: 'secret/a.bin', buffer: Buffer.alloc(100, 2) })
    const messages = []
    await faults(server, { mode: 'error', status: 503 })
    messages.push((await provider.getFileStream(r.key).catch((e) => e)).message)
    await faults(server, {})
    messages.push((await provider.uploadFile({ external_id: uniqueId(), stream: nodeStreamOf(Buffer.alloc(10)), size: 99 }).catch((e) => e)).message)
    messages.push((await provider.getFileStream('secret/a.bin', { start: 500 }).catch((e) => e)).message)
    assert.equal(messages[0], 'Failed to create file stream: Failed to stream file: 503 Service Unavailable')
    assert.match(messages[1], /Content-Length mismatch: expected 99, got 10/)
    for (const m of messages) {
      assert.ok(!m.includes(API_KEY), m)
      assert.ok(!/signature=|token=/.test(m), m)
    }
  })
})

describe('crunchycone: lookups and paging', () => {
  let server, provider
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
    // 250 completed records, more than two pages of the server's 100.
    for (let i = 0; i < 250; i++) {
      await provider.uploadFile({ external_id: `bulk-${String(i).padStart(3, '0')}`, key: `bulk/f${String(i).padStart(3, '0')}.txt`, buffer: Buffer.from(`file ${i}`) })
    }
  })

  it('finds a key beyond the first page', async () => {
    // A key is looked up by a listing filtered by path prefix: 120 keys that share the prefix come
    // first, so the one asked for is on the server's second page.
    for (let i = 0; i < 120; i++) await provider.uploadFile({ external_id: `deep-${i}`, key: `deep/x.txt.${i}`, buffer: Buffer.from(`n${i}`) })
    await provider.uploadFile({ external_id: 'deep-target', key: 'deep/x.txt', buffer: Buffer.from('target') })
    await fetch(`${server.url}/__reset`, { method: 'POST' })
    assert.equal(await provider.fileExists('deep/x.txt'), true)
    assert.equal(server.stats.listRequests, 2, 'the second page was read')
    assert.equal((await collect((await provider.getFileStream('deep/x.txt')).stream)).toString(), 'target')
    await provider.setFileVisibility('deep/x.txt', 'public')
    assert.equal((await provider.getFileVisibility('deep/x.txt')).visibility, 'public')
  })

  it('lists across server pages with full pages and right counts', async () => {
    const r = await provider.listFiles({ prefix: 'bulk/', limit: 120, offset: 100, sortBy: 'key', sortOrder: 'desc' })
    assert.equal(r.totalCount, 250)
    assert.equal(r.files.length, 120)
    assert.equal(r.files[0].key, 'bulk/f149.txt')
    assert.equal(r.hasMore, true)
    const filtered = await provider.listFiles({ prefix: 'bulk/', filenamePattern: 'f2?0.txt' })
    assert.deepEqual(filtered.files.map((f) => f.key).sort(), ['bulk/f200.txt', 'bulk/f210.txt', 'bulk/f220.txt', 'bulk/f230.txt', 'bulk/f240.txt'])
    const search = await provider.searchFiles({ query: 'BULK-24', searchFields: ['external_id'] })
    assert.equal(search.totalCount, 10)
  })

  it('reuses signed URLs within their validity', async () => {
    await fetch(`${server.url}/__reset`, { method: 'POST' })
    const fresh = providerFor(server) // an empty URL cache
    for (let i = 0; i < 5; i++) await collect((await fresh.getFileStreamByExternalId('bulk-007')).stream)
    const stats = await (await fetch(`${server.url}/__stats`)).json()
    assert.equal(stats.downloads, 5)
    assert.equal(stats.signedUrlRequests, 1)
  })

  it('asks for a new signed URL when the cached one is about to expire', async () => {
    // URLs valid for 20 s: within the 30 s margin at once, so none is reused.
    const short = await startCrunchyConeServer({ apiKey: API_KEY, projectId: 'proj_1', signedUrlSeconds: 20 })
    servers.push(short)
    const p = providerFor(short)
    await p.uploadFile({ external_id: 'exp-1', key: 'exp/a.txt', buffer: Buffer.from('expiring') })
    await fetch(`${short.url}/__reset`, { method: 'POST' })
    for (let i = 0; i < 3; i++) assert.equal((await collect((await p.getFileStreamByExternalId('exp-1')).stream)).toString(), 'expiring')
    assert.deepEqual([short.stats.signedUrlRequests, short.stats.downloads], [3, 3])
  })

  it('gives signed URLs with a disposition, and public URLs for public files', async () => {
    const url = await provider.getFileUrl('bulk/f001.txt', 600, { disposition: 'inline' })
    const res = await fetch(url)
    assert.equal(await res.text(), 'file 1')
    assert.match(res.headers.get('content-disposition'), /^inline/)
    const attachment = await fetch(await provider.getFileUrlByExternalId('bulk-001'))
    assert.match(attachment.headers.get('content-disposition'), /^attachment/)
    await provider.setFileVisibilityByExternalId('bulk-002', 'public')
    const publicUrl = await provider.getFileUrl('bulk/f002.txt')
    assert.equal(publicUrl, `${server.url}/public/file_3`)
    assert.equal(await (await fetch(publicUrl)).text(), 'file 2')
    const byId = await provider.updateFileVisibilityById('file_3', 'private')
    assert.equal(byId.success, true)
    assert.equal((await fetch(publicUrl)).status, 403)
    const missing = await provider.updateFileVisibilityById('file_9999', 'public')
    assert.equal(missing.message, 'File with ID file_9999 not found')
  })
})

describe('crunchycone: faults in the middle of a body', () => {
  let server, provider, key
  const body = pattern(3 * MiB, 5)
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
    key = (await provider.uploadFile({ external_id: uniqueId(), key: 'faults/f.bin', buffer: body })).key
  })
  after(() => faults(server, {}))

  for (const responseType of ['node', 'web']) {
    it(`${responseType}: a dropped connection errors the stream, never a clean end`, async () => {
      await faults(server, { mode: 'drop', afterBytes: 100_000 })
      const s = await provider.getFileStream(key, { responseType })
      await assert.rejects(collect(s.stream), (e) => e.code === 'Provider' || e.code === 'Truncated')
    })

    it(`${responseType}: a stalled body times out`, async () => {
      await faults(server, { mode: 'stall', afterBytes: 100_000 })
      const s = await provider.getFileStream(key, { responseType, timeout: 3000 })
      await assert.rejects(collect(s.stream), { code: 'Timeout', message: 'File stream request timeout after 3000ms' })
    })

    it(`${responseType}: aborting a stalled body is an abort, not a timeout`, async () => {
      await faults(server, { mode: 'stall', afterBytes: 100_000 })
      const controller = new AbortController()
      const s = await provider.getFileStream(key, { responseType, timeout: 5000, signal: controller.signal })
      setTimeout(() => controller.abort(), 100)
      await assert.rejects(collect(s.stream), { name: 'AbortError' })
    })
  }

  it('a slow body is complete and byte-exact', async () => {
    await faults(server, { mode: 'slow', afterBytes: 0, delayMs: 1 })
    const s = await provider.getFileStream(key, { start: 1000, end: 300_000, timeout: 2000 })
    assert.ok((await collect(s.stream)).equals(body.subarray(1000, 300_001)))
  })

  it('a server that ignores Range still yields exactly the range', async () => {
    await faults(server, { ignoreRange: true })
    const s = await provider.getFileStream(key, { start: MiB + 5, end: 2 * MiB })
    assert.deepEqual(s.range, { start: MiB + 5, end: 2 * MiB, total: body.length })
    assert.ok((await collect(s.stream)).equals(body.subarray(MiB + 5, 2 * MiB + 1)))
  })

  it('metadata comes from the response', async () => {
    await faults(server, {})
    const s = await provider.getFileStream(key, { start: 0, end: 9 })
    assert.equal(s.contentType, 'application/octet-stream')
    assert.match(s.etag, /^"[0-9a-f]{32}"$/)
    assert.equal(s.providerSpecific.cacheControl, 'private, max-age=300')
    assert.equal(s.providerSpecific.fileId, 'file_1')
    assert.ok(s.lastModified instanceof Date)
    await s.cleanup()
  })
})

describe('crunchycone: large uploads in constant memory', () => {
  let server, provider
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
  })

  for (const kind of ['node', 'web']) {
    it(`uploads a 64 MiB ${kind} stream with flat memory`, async () => {
      const size = 64 * MiB
      const chunk = pattern(MiB, 3)
      let sent = 0
      const generate = () => {
        if (sent >= size) return null
        sent += chunk.length
        return chunk
      }
      const stream =
        kind === 'node'
          ? new (require('node:stream').Readable)({ read() { this.push(generate()) } })
          : new ReadableStream({ pull(c) { const b = generate(); if (b) c.enqueue(new Uint8Array(b)); else c.close() } })
      global.gc?.()
      resetPeakRss()
      const base = peakRss()
      const r = await provider.uploadFile({ external_id: uniqueId(), key: `big/${kind}.bin`, stream, size, filename: 'big.bin' })
      const growth = peakRss() - base
      assert.equal(r.size, size)
      // (The API server runs in this process too, writing what it receives to disk.)
      assert.ok(growth < 48 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
      const s = await provider.getFileStream(r.key, { start: size - MiB, end: size - 1 })
      assert.ok((await collect(s.stream)).equals(chunk))
    })
  }

  it('a web stream upload of unknown size asks for the size', async () => {
    await assert.rejects(provider.uploadFile({ external_id: uniqueId(), stream: webStreamOf(Buffer.from('x')) }), {
      message: 'File size must be provided when uploading from stream',
    })
  })
})

describe("crunchycone: the server's answers, as the provider reports them", () => {
  it("maps the server's 206 / 416 and a refused API key to the provider's results", async () => {
    const server = await freshServer()
    const provider = providerFor(server)
    await provider.uploadFile({ external_id: 'srv', key: 'srv/a.txt', buffer: Buffer.from('0123456789') })
    const part = await provider.getFileStream('srv/a.txt', { start: 2, end: 5 })
    assert.deepEqual([part.isPartialContent, part.range, part.contentLength], [true, { start: 2, end: 5, total: 10 }, 4])
    assert.equal((await collect(part.stream)).toString(), '2345')
    const tail = await provider.getFileStream('srv/a.txt', { suffix: 3 })
    assert.deepEqual(tail.range, { start: 7, end: 9, total: 10 })
    assert.equal((await collect(tail.stream)).toString(), '789')
    // With no size in the record the provider cannot refuse the range itself: the server's 416 decides.
    const record = [...server.files.values()].find((r) => r.storage_key === 'srv/a.txt')
    record.actual_file_size = 0
    await assert.rejects(provider.getFileStream('srv/a.txt', { start: 10 }), { code: 'InvalidRange', message: 'Invalid range: the storage refused it as not satisfiable' })
    record.actual_file_size = 10
    await assert.rejects(providerFor(server, { apiKey: 'sk_wrong_key_0000' }).getFileStream('srv/a.txt'), { code: 'Unauthorized' })
  })
})

describe('crunchycone: review fixes', () => {
  let server, provider
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
  })
  after(() => faults(server, {}))

  it('redacts an API key and signed URLs that a server echoes into its errors', async () => {
    await faults(server, { apiError: true })
    const err = await provider.findFileByExternalId('x').catch((e) => e)
    await faults(server, {})
    assert.match(err.message, /^CrunchyCone API error \(500 Internal Server Error\) \| URL: .* \| Method: GET \| Error: Internal/)
    assert.ok(!err.message.includes(API_KEY), err.message)
    assert.ok(err.message.includes('key [redacted] failed at'), err.message)
    assert.ok(err.message.includes('/x?[redacted]'), err.message)
    assert.ok(!/abc123|token=t/.test(err.message), err.message)
  })

  it('a storage failure during the upload leaves no record behind', async () => {
    await faults(server, { putError: true })
    const err = await provider.uploadFile({ external_id: 'put-fails', key: 'pf/a.bin', buffer: Buffer.alloc(1000) }).catch((e) => e)
    await faults(server, {})
    assert.match(err.message, /^Upload failed for file "put-fails": Upload to presigned URL failed: Status: 500 Internal Server Error/)
    assert.equal([...server.files.values()].some((r) => r.external_id === 'put-fails'), false)
    assert.equal(await provider.findFileByExternalId('put-fails'), null)
  })

  it('an upload slower than the timeout succeeds while it makes progress', async () => {
    const slow = providerFor(server, { timeout: 400 })
    await faults(server, { slowPut: true })
    const body = pattern(1536 * 1024, 11)
    const r = await slow.uploadFile({ external_id: uniqueId(), key: 'slow/up.bin', stream: nodeStreamOf(body, 16 * 1024), size: body.length })
    await faults(server, {})
    assert.equal(r.size, body.length)
    assert.ok((await collect((await provider.getFileStream('slow/up.bin')).stream)).equals(body))
  })

  it("a stalled body times out after the config's timeout, or the call's own", async () => {
    const key = (await provider.uploadFile({ external_id: uniqueId(), key: 'stall/t.bin', buffer: pattern(400_000, 2) })).key
    const short = providerFor(server, { timeout: 2000 })
    await faults(server, { mode: 'stall', afterBytes: 100_000 })
    const a = await short.getFileStream(key)
    await assert.rejects(collect(a.stream), { code: 'Timeout', message: 'File stream request timeout after 2000ms' })
    const b = await short.getFileStream(key, { timeout: 3000 })
    await assert.rejects(collect(b.stream), { code: 'Timeout', message: 'File stream request timeout after 3000ms' })
    await faults(server, {})
  })

  it('refreshes a signed URL the storage no longer accepts', async () => {
    const key = (await provider.uploadFile({ external_id: uniqueId(), key: 'rot/a.txt', buffer: Buffer.from('rotated') })).key
    assert.equal((await collect((await provider.getFileStream(key)).stream)).toString(), 'rotated')
    await fetch(`${server.url}/__rotate`, { method: 'POST' })
    await fetch(`${server.url}/__reset`, { method: 'POST' })
    assert.equal((await collect((await provider.getFileStream(key)).stream)).toString(), 'rotated')
    assert.equal((await (await fetch(`${server.url}/__stats`)).json()).signedUrlRequests, 1)
  })

  it('a stream promises what the response carries, not what the record says', async () => {
    const key = (await provider.uploadFile({ external_id: uniqueId(), key: 'rec/a.txt', buffer: Buffer.from('hello world') })).key
    const record = [...server.files.values()].find((r) => r.storage_key === key)
    record.actual_file_size = 0 // a record out of step with the stored bytes
    const s = await provider.getFileStream(key, { start: 0 })
    assert.equal((await collect(s.stream)).toString(), 'hello world')
    assert.deepEqual(s.range, { start: 0, end: 10, total: 11 })
    record.actual_file_size = 11
  })

  it('finds keys on a server whose storage keys differ from the proposed paths', async () => {
    const other = await startCrunchyConeServer({ apiKey: API_KEY, projectId: 'proj_1', storageKeyPrefix: 'projects/proj_1/' })
    servers.push(other)
    const p = providerFor(other)
    const r = await p.uploadFile({ external_id: 'sk', key: 'docs/a.txt', buffer: Buffer.from('stored') })
    assert.equal(r.key, 'projects/proj_1/docs/a.txt')
    assert.equal(await p.fileExists(r.key), true)
    assert.equal(await p.fileExists('docs/a.txt'), true)
    assert.equal((await collect((await p.getFileStream(r.key)).stream)).toString(), 'stored')
    // Beyond the first page, the lookup falls back to the full listing.
    for (let i = 0; i < 105; i++) await p.uploadFile({ external_id: `sk-${i}`, key: `more/f${i}.txt`, buffer: Buffer.from(`${i}`) })
    assert.equal(await p.fileExists('projects/proj_1/more/f104.txt'), true)
  })

  it('a missing key costs two list requests where storage keys are the proposed paths', async () => {
    await fetch(`${server.url}/__reset`, { method: 'POST' })
    assert.equal(await provider.fileExists('no/such/file.txt'), false)
    assert.equal((await (await fetch(`${server.url}/__stats`)).json()).listRequests, 2)
  })
})

describe('crunchycone: as the original lists and reports', () => {
  let server, provider
  before(async () => {
    server = await freshServer()
    provider = providerFor(server)
    // Uploaded out of order, so the server's order (insertion) is not the key order.
    for (const key of ['path/to/b.txt', 'Path/Zeta.txt', 'path/to/a.txt', 'apple.txt']) {
      await provider.uploadFile({ external_id: `o-${key}`, key, buffer: Buffer.from(key) })
    }
  })

  it('lists and searches in key order by default, comparing keys by code unit', async () => {
    const code = ['Path/Zeta.txt', 'apple.txt', 'path/to/a.txt', 'path/to/b.txt']
    assert.deepEqual((await provider.listFiles()).files.map((f) => f.key), code)
    assert.deepEqual((await provider.listFiles({ sortBy: 'key' })).files.map((f) => f.key), code)
    assert.deepEqual((await provider.listFiles({ sortBy: 'key', sortOrder: 'desc' })).files.map((f) => f.key), [...code].reverse())
    assert.deepEqual((await provider.searchFiles({ query: 'o-' , searchFields: ['external_id'] })).files.map((f) => f.key), code)
  })

  it("passes the API's null publicUrl through when a file is made private", async () => {
    const pub = await provider.setFileVisibility('apple.txt', 'public')
    assert.match(pub.publicUrl, /\/public\//)
    const priv = await provider.setFileVisibility('apple.txt', 'private')
    assert.equal(priv.success, true)
    assert.ok('publicUrl' in priv)
    assert.equal(priv.publicUrl, null)
  })
})
