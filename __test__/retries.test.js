'use strict'
// The requests the library makes itself (listings, ACLs, lookups, the CrunchyCone API) are retried
// as object_store retries its own: transient failures (503, a reset connection) of idempotent
// requests up to three more times, nothing else. A fault proxy in front of each real server fails
// chosen requests and records every request it sees.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { startFaultProxy } = require('./helpers/faultproxy')
const { startGcsProxy } = require('./helpers/gcsproxy')
const { startCrunchyConeServer } = require('./servers/crunchycone')
const emulators = require('../scripts/emulators')
const lib = require('..')

const T = { timeout: 120_000 }
const stops = []
after(() => Promise.all(stops.map((s) => s())))

/** Each provider behind a fault proxy, and how its listing requests look. */
const SETUPS = {
  async s3() {
    const server = await emulators.moto('unused')
    const proxy = await startFaultProxy(server.endpoint)
    stops.push(() => proxy.close(), () => server.stop())
    const bucket = `b-${crypto.randomBytes(6).toString('hex')}`
    await fetch(`${server.endpoint}/${bucket}`, { method: 'PUT' })
    const provider = new lib.S3CompatibleProvider({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-0123456789', region: 'us-east-1', bucket, endpoint: proxy.endpoint })
    return { proxy, provider, listing: (req) => req.url.includes('list-type=2'), acl: (req) => /[?&]acl/.test(req.url) && req.method === 'GET' }
  },
  async gcs() {
    const server = await emulators.fakeGcs('unused')
    const shim = await startGcsProxy(server.endpoint)
    const proxy = await startFaultProxy(shim.endpoint)
    stops.push(() => proxy.close(), () => shim.close(), () => server.stop())
    const bucket = `b-${crypto.randomBytes(6).toString('hex')}`
    await fetch(`${server.endpoint}/storage/v1/b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: bucket }) })
    const provider = new lib.GCPStorageProvider({ projectId: 'test', bucket, apiEndpoint: proxy.endpoint })
    return { proxy, provider, listing: (req) => req.method === 'GET' && /\/storage\/v1\/b\/[^/]+\/o\?/.test(req.url), acl: (req) => req.method === 'GET' && /\/acl/.test(req.url) }
  },
  async azure() {
    const server = await emulators.azurite('unused')
    const proxy = await startFaultProxy(server.endpoint.replace(/\/devstoreaccount1$/, ''))
    stops.push(() => proxy.close(), () => server.stop())
    const container = `c-${crypto.randomBytes(6).toString('hex')}`
    const provider = new lib.AzureStorageProvider({ connectionString: server.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.endpoint}/devstoreaccount1`), containerName: container })
    const { BlobServiceClient } = require('@azure/storage-blob')
    await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(container).create()
    return { proxy, provider, listing: (req) => req.url.includes('comp=list') }
  },
  async crunchycone() {
    const server = await startCrunchyConeServer({ apiKey: 'sk_test_retries_0123', projectId: 'proj_1' })
    const proxy = await startFaultProxy(server.url)
    stops.push(() => proxy.close(), () => server.close())
    const provider = new lib.CrunchyConeProvider({ apiUrl: proxy.endpoint, apiKey: 'sk_test_retries_0123', projectId: 'proj_1', timeout: 30_000 })
    return { proxy, provider, listing: (req) => req.method === 'GET' && req.url.startsWith('/api/v1/storage/files?'), create: (req) => req.method === 'POST' && req.url === '/api/v1/storage/files' }
  },
}

const s3OrGcs = (name) => name === 's3' || name === 'gcs' // visibility through ACL requests of our own

for (const [name, setup] of Object.entries(SETUPS)) {
  describe(`retries: ${name}`, () => {
    let s
    before(async () => {
      s = await setup()
      await s.provider.uploadFile({ external_id: `retry-${name}`, key: 'r/one.txt', buffer: Buffer.from('one') })
    })
    const attempts = (match) => s.proxy.log.filter((line) => match({ method: line.split(' ')[0], url: line.slice(line.indexOf(' ') + 1) })).length

    for (const status of [503, 'reset']) {
      it(`a listing survives two ${status === 'reset' ? 'reset connections' : '503s'}, with three requests`, T, async () => {
        s.proxy.log = []
        s.proxy.set({ failing: { match: s.listing, times: 2, status } })
        const { files } = await s.provider.listFiles({ prefix: 'r/' })
        assert.deepEqual(files.map((f) => f.key), ['r/one.txt'])
        assert.equal(attempts(s.listing), 3)
        s.proxy.set({})
      })
    }

    it('a listing that keeps failing fails after three retries, with the status', T, async () => {
      s.proxy.log = []
      s.proxy.set({ failing: { match: s.listing, times: 100, status: 503 } })
      await assert.rejects(s.provider.listFiles({ prefix: 'r/' }), (e) => {
        assert.match(e.message, /^Failed to list files: .*503/)
        return true
      })
      assert.equal(attempts(s.listing), 4)
      s.proxy.set({})
    })

    if (name === 's3' || name === 'azure') {
      // (The clouds' listings are this package's own requests; CrunchyCone's limit is its `timeout`.)
      it('a listing never answered fails at the 30 s limit for small requests, not later', T, async () => {
        s.proxy.log = []
        s.proxy.set({ failing: { match: s.listing, times: 100, status: 'stall' } })
        const started = performance.now()
        await assert.rejects(s.provider.listFiles({ prefix: 'r/' }), (e) => {
          assert.match(e.message, /^Failed to list files: /)
          assert.ok(e.code, e.stack)
          return true
        })
        const waited = performance.now() - started
        assert.ok(waited >= 29_500 && waited < 45_000, `${waited} ms`)
        // The limit is for the whole call: a timed-out attempt leaves no time for another.
        assert.equal(attempts(s.listing), 1)
        s.proxy.set({})
      })
    }

    it('a 4xx answer is not retried', T, async () => {
      s.proxy.log = []
      s.proxy.set({ failing: { match: s.listing, times: 100, status: 400 } })
      await assert.rejects(s.provider.listFiles({ prefix: 'r/' }))
      assert.equal(attempts(s.listing), 1)
      s.proxy.set({})
    })

    if (s3OrGcs(name)) {
      it('an ACL read survives a 503', T, async () => {
        s.proxy.log = []
        s.proxy.set({ failing: { match: s.acl, times: 1, status: 503 } })
        assert.equal((await s.provider.getFileVisibility('r/one.txt')).visibility, 'private')
        assert.equal(attempts(s.acl), 2)
        s.proxy.set({})
      })
    }

    if (name === 'crunchycone') {
      it('a request that is not idempotent (creating the upload) is sent once', T, async () => {
        s.proxy.log = []
        s.proxy.set({ failing: { match: s.create, times: 1, status: 503 } })
        await assert.rejects(s.provider.uploadFile({ external_id: 'once', key: 'r/once.txt', buffer: Buffer.from('x') }))
        assert.equal(attempts(s.create), 1)
        s.proxy.set({})
      })
    }
  })
}
