'use strict'
// Errors a service can act on, provoked on every provider with real sockets: a service that cannot
// be reached is `Unavailable` (retryable, statusCode 503), named with where it was going and why,
// never with a secret. Wrong-type options and missing files are checked by the conformance suite.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { closedPort } = require('./helpers/util')
const { StorageError, S3CompatibleProvider, GCPStorageProvider, AzureStorageProvider, CrunchyConeProvider } = require('..')

const SECRET = 'unreachable-secret-0123456789'
// devstoreaccount1's published key is not a secret; any base64 key signs.
const AZURE_KEY = Buffer.from(SECRET).toString('base64')

describe('a service that cannot be reached', () => {
  let port
  before(async () => {
    port = await closedPort()
  })

  const providers = {
    s3: () => new S3CompatibleProvider({ accessKeyId: 'AKIDTEST', secretAccessKey: SECRET, region: 'us-east-1', bucket: 'b', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }),
    gcs: () => new GCPStorageProvider({ projectId: 'p', bucket: 'b', apiEndpoint: `http://127.0.0.1:${port}` }),
    azure: () => new AzureStorageProvider({ accountName: 'devstoreaccount1', accountKey: AZURE_KEY, containerName: 'c', endpoint: `http://127.0.0.1:${port}/devstoreaccount1` }),
    crunchycone: () => new CrunchyConeProvider({ apiUrl: `http://127.0.0.1:${port}`, apiKey: SECRET, projectId: 'p', timeout: 5000 }),
  }

  for (const [name, make] of Object.entries(providers)) {
    it(`${name}: every kind of call is Unavailable, naming the reason, without secrets`, async () => {
      const provider = make()
      const calls = {
        listFiles: () => provider.listFiles(),
        getFileStream: () => provider.getFileStream('k.bin'),
        findFileByExternalId: () => provider.findFileByExternalId('x'),
        uploadFile: () => provider.uploadFile({ external_id: 'x', key: 'k.bin', buffer: Buffer.from('bytes') }),
      }
      for (const [call, run] of Object.entries(calls)) {
        await assert.rejects(run(), (e) => {
          assert.ok(e instanceof StorageError, `${call}: ${e?.stack}`)
          assert.equal(e.code, 'Unavailable', `${call}: ${e.message}`)
          assert.equal(e.statusCode, 503, call)
          assert.equal(e.provider, provider.constructor.name, call)
          assert.match(e.message, /refused|connect/i, call)
          assert.doesNotMatch(e.message, new RegExp(`${SECRET}|${AZURE_KEY}|Signature|Authorization`, 'i'), call)
          return true
        })
      }
    })
  }

  it('crunchycone: the message says where the request was going', async () => {
    await assert.rejects(providers.crunchycone().findFileByExternalId('x'), (e) => e.message.includes(`http://127.0.0.1:${port}/api/v1/`))
  })
})

describe('a bucket or container that does not exist', () => {
  const emulators = require('../scripts/emulators')
  const servers = {}
  before(async () => {
    ;[servers.s3, servers.azure, servers.gcs] = await Promise.all([emulators.moto('present-bucket'), emulators.azurite('present-container'), emulators.fakeGcs('present-bucket')])
  })
  const { after } = require('node:test')
  after(() => Object.values(servers).forEach((s) => s.stop()))

  const providers = {
    s3: () => new S3CompatibleProvider({ accessKeyId: 'AKIDTEST', secretAccessKey: SECRET, region: 'us-east-1', bucket: 'missing-bucket', endpoint: servers.s3.endpoint, forcePathStyle: true }),
    azure: () => new AzureStorageProvider({ accountName: servers.azure.accountName, accountKey: servers.azure.accountKey, containerName: 'missing-container', endpoint: servers.azure.endpoint }),
    gcs: () => new GCPStorageProvider({ projectId: 'p', bucket: 'missing-bucket', apiEndpoint: servers.gcs.endpoint }),
  }
  // fake-gcs-server answers a read or a write in a missing bucket as it answers a missing object
  // (a bare 404); GCS itself says which, and so does its listing.
  const calls = {
    listFiles: (p) => p.listFiles(),
    findFileByExternalId: (p) => p.findFileByExternalId('x'),
    getFileStream: (p) => p.getFileStream('k.bin'),
    uploadFile: (p) => p.uploadFile({ external_id: 'x', key: 'k.bin', buffer: Buffer.from('bytes') }),
  }
  const gcsTells = ['listFiles', 'findFileByExternalId']

  for (const [name, make] of Object.entries(providers)) {
    it(`${name}: is BucketNotFound (404), not a missing file`, async () => {
      const provider = make()
      for (const [call, run] of Object.entries(calls)) {
        if (name === 'gcs' && !gcsTells.includes(call)) continue
        await assert.rejects(run(provider), (e) => {
          assert.ok(e instanceof StorageError, `${call}: ${e?.stack}`)
          assert.equal(e.code, 'BucketNotFound', `${call}: ${e.message}`)
          assert.equal(e.statusCode, 404, call)
          assert.equal(e.provider, provider.constructor.name, call)
          if (call === 'getFileStream') assert.equal(e.key, 'k.bin')
          assert.doesNotMatch(e.message, new RegExp(`${SECRET}|Signature|Authorization`, 'i'), call)
          return true
        })
      }
    })
  }
})

describe('credentials the service refuses', () => {
  it('crunchycone: every kind of call is Unauthorized (401), without the key', async () => {
    const { startCrunchyConeServer } = require('./servers/crunchycone')
    const server = await startCrunchyConeServer({ apiKey: 'the-right-key', projectId: 'p' })
    try {
      const provider = new CrunchyConeProvider({ apiUrl: server.url, apiKey: SECRET, projectId: 'p' })
      const calls = {
        listFiles: () => provider.listFiles(),
        searchFiles: () => provider.searchFiles({ query: 'a' }),
        uploadFile: () => provider.uploadFile({ external_id: 'x', buffer: Buffer.from('x') }),
        findFileByExternalId: () => provider.findFileByExternalId('x'),
        getFileStream: () => provider.getFileStream('k.bin'),
      }
      for (const [call, run] of Object.entries(calls)) {
        await assert.rejects(run(), (e) => {
          assert.ok(e instanceof StorageError, call)
          assert.deepEqual([e.code, e.statusCode], ['Unauthorized', 401], `${call}: ${e.message}`)
          assert.doesNotMatch(e.message, new RegExp(SECRET), call)
          return true
        })
      }
    } finally {
      await server.close()
    }
  })
})
