'use strict'
// The original's sync (`./storage/sync`) between real stores: two local stores, and a local store
// and S3 (moto), with files streamed across.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { freshRoot, localProvider } = require('./helpers/local')
const { Transform } = require('node:stream')
const { pattern, collect } = require('./helpers/util')
const { startFaultProxy } = require('./helpers/faultproxy')
const emulators = require('../scripts/emulators')
const { syncStorageProviders, verifySyncedFile, getSyncStatus } = require('crunchycone-storage/storage/sync')
const { S3CompatibleProvider } = require('..')

const MiB = 1024 * 1024
const read = async (provider, id) => collect((await provider.getFileStreamByExternalId(id)).stream)

async function seeded() {
  const source = localProvider(freshRoot('sync-src'))
  await source.uploadFile({ external_id: 's-1', buffer: Buffer.from('one'), key: 'docs/one.txt', metadata: { team: 'a' } })
  await source.uploadFile({ external_id: 's-2', buffer: pattern(300_000, 2), key: 'img/two.bin', public: true })
  await source.uploadFile({ external_id: 's-3', buffer: Buffer.from('three'), key: 'docs/three.txt' })
  return source
}

describe('sync between two local stores', () => {
  it('copies every file with its metadata and visibility, reporting progress', async () => {
    const source = await seeded()
    const destination = localProvider(freshRoot('sync-dst'))
    const phases = []
    const events = []
    const completed = []
    const r = await syncStorageProviders({
      source,
      destination,
      direction: 'one-way',
      batchSize: 2,
      onProgress: (p) => {
        phases.push(p.phase)
        events.push(p)
      },
      onFileComplete: (f) => completed.push(f.external_id),
    })
    assert.equal(r.success, true)
    assert.deepEqual({ ...r.summary, durationMs: 0 }, { scanned: 3, copied: 3, skipped: 0, deleted: 0, errors: 0, durationMs: 0 })
    assert.deepEqual([...new Set(phases)], ['scanning', 'syncing', 'complete'])
    assert.deepEqual(events.at(-1), { phase: 'complete', totalFiles: 3, processedFiles: 3, copiedFiles: 3, skippedFiles: 0, deletedFiles: 0, errors: 0 })
    assert.deepEqual(events.filter((e) => e.phase === 'syncing').map((e) => e.processedFiles), [0, 2, 3])
    assert.deepEqual(completed.sort(), ['s-1', 's-2', 's-3'])
    assert.deepEqual(await read(destination, 's-2'), pattern(300_000, 2))
    const copied = await destination.findFileByExternalId('s-1')
    assert.equal(copied.key, 'docs/one.txt')
    assert.equal(copied.metadata.team, 'a')
    assert.equal(copied.metadata._synced_from, 'LocalStorageProvider')
    assert.equal(copied.metadata._original_key, 'docs/one.txt')
    assert.equal((await destination.getFileVisibilityByExternalId('s-2')).visibility, 'public')
    assert.deepEqual(await verifySyncedFile('s-1', source, destination), { matched: true, differences: [] })
    assert.deepEqual(await verifySyncedFile('nope', source, destination), { matched: false, differences: ['File not found in one or both providers'] })
  })

  it('follows the conflict rule, and sees a source that changed after the copy', async () => {
    const source = await seeded()
    const destination = localProvider(freshRoot('sync-dst'))
    await syncStorageProviders({ source, destination, direction: 'one-way' })
    const again = await syncStorageProviders({ source, destination, direction: 'one-way' })
    assert.deepEqual([again.summary.copied, again.summary.skipped], [0, 3])
    assert.equal(again.details[0].reason, 'File exists in destination and conflict resolution says skip')
    let status = await getSyncStatus(source, destination)
    assert.deepEqual([status.inBoth, status.conflicts], [3, 0], 'a copy is not a conflict')
    await new Promise((r) => setTimeout(r, 5))
    await source.uploadFile({ external_id: 's-1', buffer: Buffer.from('ONE!'), key: 'docs/one.txt' })
    status = await getSyncStatus(source, destination)
    assert.deepEqual(status.conflictDetails.map((c) => [c.external_id, c.sourceSize, c.destSize]), [['s-1', 4, 3]])
    const newest = await syncStorageProviders({ source, destination, direction: 'one-way', conflictResolution: 'newest-wins' })
    assert.deepEqual([newest.summary.copied, newest.summary.skipped], [1, 2])
    assert.equal((await read(destination, 's-1')).toString(), 'ONE!')
    const largest = await syncStorageProviders({ source, destination, direction: 'one-way', conflictResolution: 'largest-wins' })
    assert.equal(largest.summary.copied, 0)
    assert.equal(largest.details[0].reason, 'File exists in destination and conflict resolution says skip', "the original's words")
    const overwrite = await syncStorageProviders({ source, destination, direction: 'one-way', conflictResolution: 'overwrite', filter: { prefix: 'docs/' } })
    assert.deepEqual([overwrite.summary.scanned, overwrite.summary.copied], [2, 2])
  })

  it('deletes orphans (counting them in a dry run), or copies them back two-way', async () => {
    const source = await seeded()
    const destination = localProvider(freshRoot('sync-dst'))
    await destination.uploadFile({ external_id: 'd-1', buffer: Buffer.from('only here'), key: 'extra/d.txt' })
    const dry = await syncStorageProviders({ source, destination, direction: 'one-way', deleteOrphaned: true, dryRun: true })
    assert.deepEqual([dry.summary.copied, dry.summary.deleted], [3, 1])
    assert.equal(await destination.fileExists('docs/one.txt'), false, 'a dry run copies nothing')
    assert.equal(await destination.fileExistsByExternalId('d-1'), true, 'a dry run deletes nothing')
    const twoWay = await syncStorageProviders({ source, destination, direction: 'two-way' })
    assert.deepEqual([twoWay.summary.copied, twoWay.summary.deleted], [4, 0])
    assert.equal((await read(source, 'd-1')).toString(), 'only here')
    const third = localProvider(freshRoot('sync-3'))
    await third.uploadFile({ external_id: 'orphan', buffer: Buffer.from('x'), key: 'o.txt' })
    const cleaned = await syncStorageProviders({ source, destination: third, direction: 'one-way', deleteOrphaned: true })
    assert.equal(cleaned.summary.deleted, 1)
    assert.equal(await third.fileExistsByExternalId('orphan'), false)
  })

  it('copies only what the filter selects', async () => {
    const source = await seeded()
    const cases = [
      [{ prefix: 'docs/' }, ['s-1', 's-3']],
      [{ externalIds: ['s-2', 's-3'] }, ['s-2', 's-3']],
      [{ contentTypePrefix: 'text/' }, ['s-1', 's-3']],
      [{ minSize: 4 }, ['s-2', 's-3']],
      [{ maxSize: 3 }, ['s-1']],
    ]
    for (const [filter, ids] of cases) {
      const destination = localProvider(freshRoot('sync-filter'))
      const r = await syncStorageProviders({ source, destination, direction: 'one-way', filter })
      assert.deepEqual(r.details.map((d) => d.external_id).sort(), ids, JSON.stringify(filter))
      assert.deepEqual((await destination.listFiles({})).files.map((f) => f.external_id).sort(), ids, JSON.stringify(filter))
    }
  })

  it('counts two-way skips, and an onError that throws stops nothing', async () => {
    const source = await seeded()
    const destination = localProvider(freshRoot('sync-dst'))
    await syncStorageProviders({ source, destination, direction: 'one-way' })
    await destination.uploadFile({ external_id: 'd-9', buffer: Buffer.from('dest only'), key: 'd/9.txt' })
    const again = await syncStorageProviders({ source, destination, direction: 'two-way' })
    assert.deepEqual([again.summary.copied, again.summary.skipped], [1, 3])
    const dead = new S3CompatibleProvider({ accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1', bucket: 'b', endpoint: 'http://127.0.0.1:9' })
    let calls = 0
    const r = await syncStorageProviders({ source, destination: dead, direction: 'one-way', onError: () => { calls++; throw new Error('handler broke') } })
    // (The two-way sync brought d-9 back to the source: four files.)
    assert.deepEqual([r.success, r.summary.errors, calls], [false, 4, 4])
  })

  it('reports a failing destination per file, and says the sync failed', async () => {
    const source = await seeded()
    const dead = new S3CompatibleProvider({ accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1', bucket: 'b', endpoint: 'http://127.0.0.1:9' })
    const errors = []
    const r = await syncStorageProviders({ source, destination: dead, direction: 'one-way', onError: (e) => errors.push(e) })
    assert.equal(r.success, false)
    assert.equal(r.summary.errors, 3)
    assert.deepEqual(errors.map((e) => e.phase), ['copy', 'copy', 'copy'])
    assert.deepEqual(r.details.map((d) => [d.action, typeof d.error]), Array(3).fill(['error', 'string']))
  })
})

describe('sync with other providers', () => {
  /** A provider of `files` listed `per` at a time, by token (`tokens`) or by offset. */
  function pagedProvider(files, per, { tokens = true, stuck = false } = {}) {
    return {
      async listFiles({ continuationToken, offset = 0 }) {
        const start = stuck ? 0 : continuationToken ? Number(continuationToken.slice(1)) : offset
        const page = files.slice(start, start + per)
        const hasMore = start + per < files.length
        return { files: page, hasMore, ...(hasMore && tokens ? { continuationToken: `t${start + per}` } : {}) }
      },
    }
  }
  const files = Array.from({ length: 25 }, (_, i) => ({ external_id: `p-${i}`, key: `k/${i}`, size: 1 }))

  it('lists sources that page by token or by offset, and refuses one that does not advance', async () => {
    const destination = localProvider(freshRoot('sync-paged'))
    for (const tokens of [true, false]) {
      const status = await getSyncStatus(pagedProvider(files, 10, { tokens }), destination)
      assert.equal(status.sourceFiles, 25, `tokens: ${tokens}`)
      assert.equal(status.sourceOnly, 25)
    }
    await assert.rejects(getSyncStatus(pagedProvider(files, 10, { stuck: true }), destination), { message: 'Failed to list files: the listing did not advance' })
    await assert.rejects(syncStorageProviders({ source: pagedProvider(files, 10, { stuck: true }), destination, direction: 'one-way', deleteOrphaned: true }), /did not advance/)
  })

  it('downloads from getFileUrlByExternalId where a source has no streams', async () => {
    const data = pattern(200_000, 9)
    const server = http.createServer((req, res) => res.end(req.url === '/f/1' ? data : 'wrong'))
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const source = {
        ...pagedProvider([{ external_id: 'u-1', key: 'via/url.bin', size: data.length, contentType: 'application/octet-stream' }], 10),
        getFileUrlByExternalId: async () => `http://127.0.0.1:${server.address().port}/f/1`,
        getFileVisibilityByExternalId: async () => ({ visibility: 'private' }),
      }
      const destination = localProvider(freshRoot('sync-url'))
      const r = await syncStorageProviders({ source, destination, direction: 'one-way' })
      assert.deepEqual([r.success, r.summary.copied], [true, 1])
      assert.deepEqual(await read(destination, 'u-1'), data)
    } finally {
      server.close()
    }
  })

  it('copies an empty file from a URL that answers 204 without a body', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = 204
      res.end()
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const source = {
        ...pagedProvider([{ external_id: 'e-1', key: 'via/empty.bin', size: 0, contentType: 'application/octet-stream' }], 10),
        getFileUrlByExternalId: async () => `http://127.0.0.1:${server.address().port}/empty`,
        getFileVisibilityByExternalId: async () => ({ visibility: 'private' }),
      }
      const destination = localProvider(freshRoot('sync-204'))
      const r = await syncStorageProviders({ source, destination, direction: 'one-way' })
      assert.deepEqual([r.success, r.summary.copied], [true, 1])
      assert.deepEqual(await read(destination, 'e-1'), Buffer.alloc(0))
      assert.equal((await destination.findFileByExternalId('e-1')).size, 0)
    } finally {
      server.close()
    }
  })
})

describe('sync from a local store to S3 (moto)', () => {
  let server
  before(async () => {
    server = await emulators.moto('sync-bucket')
  })
  after(() => server?.stop())

  it('streams files across providers, byte-exact, larger ones in parts', async () => {
    const proxy = await startFaultProxy(server.endpoint)
    try {
      const source = localProvider(freshRoot('sync-s3'))
      const big = pattern(40 * MiB + 7, 4) // 6 parts of 8 MiB
      await source.uploadFile({ external_id: 'big', buffer: big, key: 'big/file.bin', metadata: { kind: 'big' } })
      await source.uploadFile({ external_id: 'small', buffer: Buffer.from('small'), key: 'small.txt' })
      // How much of the big file the sync has read when its first part reaches the server: a
      // streamed copy has read about one part, a buffered one all of it.
      let taken = 0
      let takenAtFirstPart
      const open = source.getFileStreamByExternalId.bind(source)
      source.getFileStreamByExternalId = async (id, o) => {
        const r = await open(id, o)
        if (id === 'big') r.stream = r.stream.pipe(new Transform({ transform: (c, _, cb) => cb(null, ((taken += c.length), c)) }))
        return r
      }
      const isPart = (req) => req.method === 'PUT' && /[?&]partNumber=/.test(req.url)
      proxy.set({ failing: { times: Infinity, match: (req) => (takenAtFirstPart === undefined && isPart(req) && (takenAtFirstPart = taken), false) } })
      const destination = new S3CompatibleProvider({ accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1', bucket: 'sync-bucket', endpoint: proxy.endpoint })
      const r = await syncStorageProviders({ source, destination, direction: 'one-way' })
      assert.deepEqual([r.success, r.summary.copied], [true, 2])
      assert.deepEqual(await read(destination, 'big'), big)
      assert.equal((await read(destination, 'small')).toString(), 'small')
      assert.equal(proxy.requests.filter(isPart).length, 6)
      assert.ok(takenAtFirstPart < 24 * MiB, `${takenAtFirstPart} bytes read before the first part was sent`)
      const found = await destination.findFileByExternalId('big')
      assert.deepEqual([found.key, found.metadata.kind, found.metadata._original_size], ['big/file.bin', 'big', String(big.length)])
      assert.deepEqual((await verifySyncedFile('small', source, destination)).differences, [])
    } finally {
      await proxy.close()
    }
  })
})
