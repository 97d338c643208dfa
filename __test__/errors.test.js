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
          assert.equal(e.status, undefined, `${call}: no service answered`)
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
          assert.equal(e.status, 404, call)
          assert.equal(e.provider, provider.constructor.name, call)
          if (call === 'getFileStream') assert.equal(e.key, 'k.bin')
          assert.doesNotMatch(e.message, new RegExp(`${SECRET}|Signature|Authorization`, 'i'), call)
          return true
        })
      }
    })
  }
})

// Refusals, on every provider whose test server checks credentials (fake-gcs-server checks none;
// GCS's 401 and 403 are told apart by status alone, see src/error.rs's tests): a key the service
// does not accept is `Unauthorized`, a key without the permission `Forbidden`, each with the status
// the service answered (S3 and Azure answer a bad key with 403, and say which in the error code).
describe('credentials the service refuses or that lack the permission', () => {
  const emulators = require('../scripts/emulators')
  const { startCrunchyConeServer } = require('./servers/crunchycone')
  const servers = {}
  before(async () => {
    ;[servers.s3, servers.azure, servers.crunchycone] = await Promise.all([
      emulators.motoWithCredentials('auth-bucket'),
      emulators.azurite('auth-container'),
      startCrunchyConeServer({ apiKey: 'the-right-key', projectId: 'p' }),
    ])
  })
  const { after } = require('node:test')
  after(() => Promise.all([servers.s3.stop(), servers.azure.stop(), servers.crunchycone.close()]))

  const s3 = (credentials) => new S3CompatibleProvider({ ...credentials, region: 'us-east-1', bucket: 'auth-bucket', endpoint: servers.s3.endpoint, forcePathStyle: true })
  const azure = (credentials) => new AzureStorageProvider({ accountName: servers.azure.accountName, containerName: 'auth-container', endpoint: servers.azure.endpoint, ...credentials })
  /** A container SAS that may read and list, not write. */
  const readOnlySas = () => {
    const { generateBlobSASQueryParameters, ContainerSASPermissions, StorageSharedKeyCredential } = require('@azure/storage-blob')
    const credential = new StorageSharedKeyCredential(servers.azure.accountName, servers.azure.accountKey)
    const permissions = ContainerSASPermissions.parse('rl')
    return generateBlobSASQueryParameters({ containerName: 'auth-container', permissions, expiresOn: new Date(Date.now() + 3600e3) }, credential).toString()
  }
  const crunchycone = (apiKey, projectId = 'p') => new CrunchyConeProvider({ apiUrl: servers.crunchycone.url, apiKey, projectId })

  const reads = {
    listFiles: (p) => p.listFiles(),
    getFileStream: (p) => p.getFileStream('k.bin'),
    // A HEAD: its 403 has no body to tell a bad key from a missing permission.
    fileExists: (p) => p.fileExists('k.bin'),
    uploadFile: (p) => p.uploadFile({ external_id: 'x', key: 'k.bin', buffer: Buffer.from('bytes') }),
  }
  const writes = {
    uploadFile: reads.uploadFile,
    deleteFile: (p) => p.deleteFile('k.bin'),
  }
  const cases = [
    { name: 's3: a wrong secret', make: () => s3({ accessKeyId: servers.s3.reader.accessKeyId, secretAccessKey: SECRET }), calls: reads, expect: ['Unauthorized', 403, 401] },
    { name: 's3: an unknown key id', make: () => s3({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SECRET }), calls: reads, expect: ['Unauthorized', 403, 401] },
    { name: 's3: a read-only user writing', make: () => s3(servers.s3.reader), calls: writes, expect: ['Forbidden', 403, 403] },
    { name: 'azure: a wrong account key', make: () => azure({ accountKey: AZURE_KEY }), calls: reads, expect: ['Unauthorized', 403, 401] },
    { name: 'azure: a read-only SAS writing', make: () => azure({ sasToken: readOnlySas() }), calls: writes, expect: ['Forbidden', 403, 403] },
    { name: 'crunchycone: a wrong API key', make: () => crunchycone(SECRET), calls: { ...reads, searchFiles: (p) => p.searchFiles({ query: 'a' }), findFileByExternalId: (p) => p.findFileByExternalId('x') }, expect: ['Unauthorized', 401, 401] },
    { name: 'crunchycone: a project the key may not use', make: () => crunchycone('the-right-key', 'someone-else'), calls: { uploadFile: reads.uploadFile }, expect: ['Forbidden', 403, 403] },
  ]
  for (const { name, make, calls, expect } of cases) {
    it(`${name} is ${expect[0]} (status ${expect[1]}), without the secret`, async () => {
      const provider = make()
      for (const [call, run] of Object.entries(calls)) {
        await assert.rejects(run(provider), (e) => {
          assert.ok(e instanceof StorageError, `${call}: ${e?.stack}`)
          assert.deepEqual([e.code, e.status, e.statusCode], expect, `${call}: ${e.message}`)
          assert.equal(e.provider, provider.constructor.name, call)
          assert.doesNotMatch(e.message, new RegExp(`${SECRET}|${AZURE_KEY}|sig=|napi|rust`, 'i'), call)
          return true
        })
      }
    })
  }

  it('s3: the read-only user still reads and lists (the refusals above are the permission, not the server)', async () => {
    const result = await s3(servers.s3.reader).listFiles()
    assert.deepEqual(result.files, [])
    await assert.rejects(s3(servers.s3.reader).getFileStream('k.bin'), (e) => e.code === 'NotFound' && e.status === 404)
  })
})
