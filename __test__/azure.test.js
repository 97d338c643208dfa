'use strict'
// AzureStorageProvider against Azurite (a real Azure Blob server on 127.0.0.1, which checks
// SharedKey and SAS signatures), reached through the fault proxy (helpers/faultproxy.js) for the
// stall tests. The shared conformance suite, then the Azure specifics: configuration forms,
// objects shared with the Azure SDK, SAS URLs, metadata rules, block uploads, and failures.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { BlobServiceClient, generateAccountSASQueryParameters, AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential } = require('@azure/storage-blob')
const { conformance } = require('./conformance')
const { startFaultProxy } = require('./helpers/faultproxy')
const { pattern, collect, uniqueId, withEnv, keysByPages, peakRss, resetPeakRss } = require('./helpers/util')
const emulators = require('../scripts/emulators')
const lib = require('..')
const { AzureStorageProvider } = lib

const MiB = 1024 * 1024
let server // Azurite
let proxy
let service // the Azure SDK, as another client of the same account

before(async () => {
  server = await emulators.azurite('unused')
  proxy = await startFaultProxy(server.endpoint.replace(/\/devstoreaccount1$/, ''))
  service = BlobServiceClient.fromConnectionString(server.connectionString)
})
after(async () => {
  await proxy?.close()
  await server?.stop()
})

/** A new, empty container. */
async function freshContainer() {
  const name = `c-${crypto.randomBytes(6).toString('hex')}`
  await service.getContainerClient(name).create()
  return name
}
const keyConfig = (containerName, endpoint = server.endpoint) => ({
  accountName: server.accountName,
  accountKey: server.accountKey,
  containerName,
  endpoint,
})
const providerFor = (container) => new AzureStorageProvider(keyConfig(container, `${proxy.endpoint}/devstoreaccount1`))

conformance({
  name: 'azure',
  messages: {
    uploadFailed: (cause) => `Failed to upload file: ${cause}`,
    streamNotFound: (key) => `File with key ${key} not found`,
    notFoundById: (id) => `File with external_id ${id} not found`,
  },
  findHasVisibility: false,
  temporaryPublic: true,
  async create() {
    return providerFor(await freshContainer())
  },
  async stalledKey(provider) {
    const r = await provider.uploadFile({ external_id: uniqueId(), key: `stall/${uniqueId()}.bin`, buffer: Buffer.alloc(1000, 1) })
    proxy.set({ body: { mode: 'stall' } })
    return { key: r.key, release: () => proxy.set({}) }
  },
})

describe('azure: configuration', () => {
  it('accepts a connection string, an account key, or a SAS token', async () => {
    const container = await freshContainer()
    const byString = new AzureStorageProvider({ connectionString: server.connectionString, containerName: container })
    const r = await byString.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('via connection string'), key: 'cs.txt' })
    // The connection string's account key signs URLs too.
    assert.equal(await (await fetch(await byString.getFileUrl(r.key))).text(), 'via connection string')
    const byKey = new AzureStorageProvider(keyConfig(container))
    assert.equal(await collect((await byKey.getFileStream(r.key)).stream).then(String), 'via connection string')
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rwdlc'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      new StorageSharedKeyCredential(server.accountName, server.accountKey),
    ).toString()
    const bySas = new AzureStorageProvider({ accountName: server.accountName, sasToken: `?${sas}`, containerName: container, endpoint: server.endpoint })
    const s = await bySas.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('via SAS'), key: 'sas.txt' })
    assert.equal(await collect((await byKey.getFileStream(s.key)).stream).then(String), 'via SAS')
    assert.equal((await bySas.findFileByExternalId(s.external_id)).key, 'sas.txt')
    assert.deepEqual((await bySas.listFiles({ sortBy: 'key' })).files.map((f) => f.key), ['cs.txt', 'sas.txt'])
    // A SAS token cannot sign new URLs; the configured one is never handed out.
    await assert.rejects(bySas.getFileUrl('sas.txt'), {
      message: 'Failed to generate file URL: Failed to generate SAS token: Account key required for SAS token generation',
    })
    const pub = await bySas.setFileVisibility('sas.txt', 'public')
    assert.equal(pub.success, false)
    assert.equal(pub.message, 'Failed to generate SAS token: Account key required for SAS token generation')
    // Nothing can be made public without a key to sign with, and the status says so.
    const status = await bySas.getFileVisibility('sas.txt')
    assert.equal(status.canMakePublic, false)
    assert.equal(status.visibility, 'private')
    assert.equal((await byKey.getFileVisibility('sas.txt')).canMakePublic, true)
  })

  it('never throws in the constructor; the first call reports what is missing', async () => {
    const p = new AzureStorageProvider({ accountName: 'acct', containerName: 'c' })
    await assert.rejects(p.fileExists('k'), { message: 'Azure Storage requires either connectionString, accountKey, or sasToken' })
    const q = new AzureStorageProvider({ connectionString: server.connectionString })
    await assert.rejects(q.fileExists('k'), { message: 'Azure configuration is missing containerName' })
  })

  it('builds blob and CDN URLs, URL-encoding keys', async () => {
    const plain = new AzureStorageProvider({ accountName: 'acct', accountKey: server.accountKey, containerName: 'files' })
    const url = new URL(await plain.getFileUrl('dir/a b.txt', 600, { disposition: 'inline' }))
    assert.equal(`${url.origin}${url.pathname}`, 'https://acct.blob.core.windows.net/files/dir/a%20b.txt')
    assert.equal(url.searchParams.get('sp'), 'r')
    assert.equal(url.searchParams.get('rscd'), 'inline')
    assert.ok(!url.href.includes(server.accountKey) && !url.href.includes(encodeURIComponent(server.accountKey)))
    await assert.rejects(plain.getFileUrl('k', 0), /Invalid expiresIn 0: expected a whole number of seconds from 1 to 31536000/)
    const container = await freshContainer()
    const cdn = new AzureStorageProvider({ ...keyConfig(container), cdnUrl: 'https://cdn.example.com/' })
    const r = await cdn.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'a b.txt' })
    assert.equal(r.url, 'https://cdn.example.com/a%20b.txt')
  })

  it('is importable from the original subpath', () => {
    assert.equal(require('../storage/providers/azure').AzureStorageProvider, AzureStorageProvider)
  })

  it('is configured from the environment by initializeStorageProvider', async () => {
    const container = await freshContainer()
    await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: 'azure' }, async () => {
      assert.throws(() => lib.initializeStorageProvider(), {
        message:
          'Missing required environment variables for storage provider: CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_NAME, CRUNCHYCONE_AZURE_STORAGE_CONTAINER, CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_KEY',
      })
    })
    const vars = { CRUNCHYCONE_STORAGE_PROVIDER: 'Azure', CRUNCHYCONE_AZURE_STORAGE_CONNECTION_STRING: server.connectionString, CRUNCHYCONE_AZURE_STORAGE_CONTAINER: container }
    await withEnv(vars, async () => {
      lib.initializeStorageProvider()
      const p = lib.getStorageProvider()
      assert.ok(p instanceof AzureStorageProvider)
      await p.uploadFile({ external_id: 'env-1', buffer: Buffer.from('via env'), key: 'env.txt' })
      assert.equal((await collect((await p.getFileStreamByExternalId('env-1')).stream)).toString(), 'via env')
    })
  })
})

describe('azure: objects shared with other clients', () => {
  let container, provider
  before(async () => {
    container = await freshContainer()
    provider = new AzureStorageProvider(keyConfig(container))
  })

  it('finds a blob the original (the Azure SDK) wrote, and writes what it reads', async () => {
    const blob = service.getContainerClient(container).getBlockBlobClient('from-sdk/report.pdf')
    await blob.upload(Buffer.from('%PDF'), 4, { metadata: { external_id: 'sdk-1', owner: 'bob' }, blobHTTPHeaders: { blobContentType: 'application/pdf' } })
    const found = await provider.findFileByExternalId('sdk-1')
    assert.equal(found.key, 'from-sdk/report.pdf')
    assert.equal(found.contentType, 'application/pdf')
    assert.deepEqual(found.metadata, { owner: 'bob' })
    assert.equal(found.size, 4)

    const r = await provider.uploadFile({ external_id: 'ours-1', buffer: Buffer.from('{}'), filename: 'x.json', metadata: { team: 'a' } })
    const props = await service.getContainerClient(container).getBlobClient(r.key).getProperties()
    assert.equal(props.contentType, 'application/json')
    assert.deepEqual(props.metadata, { external_id: 'ours-1', team: 'a' })
  })

  it('lists and scans past blob names no method can address, with metadata from the listing', async () => {
    const c = await freshContainer()
    const p = new AzureStorageProvider(keyConfig(c))
    const blobs = service.getContainerClient(c)
    await blobs.getBlockBlobClient('legacy//double.txt').upload('odd', 3, { metadata: { external_id: 'odd-1' } })
    await p.uploadFile({ external_id: 'fine-1', buffer: Buffer.from('fine'), key: 'legacy/fine.txt', metadata: { team: 'a' }, filename: 'f.txt' })
    const [listed] = (await p.listFiles()).files
    assert.deepEqual((await p.listFiles()).files.map((f) => f.key), ['legacy/fine.txt'])
    assert.equal(listed.external_id, 'fine-1')
    assert.equal(listed.contentType, 'text/plain')
    assert.deepEqual(listed.metadata, { team: 'a' })
    assert.equal(listed.size, 4)
    assert.equal(listed.etag, (await p.findFileByExternalId('fine-1')).etag)
    assert.equal(await p.findFileByExternalId('odd-1'), null)
  })

  it('reads metadata whatever its names (lower-cased, as a HEAD reports them)', async () => {
    const c = await freshContainer()
    const p = new AzureStorageProvider(keyConfig(c))
    const metadata = { external_id: 'meta-1', NextMarker: 'zzz', Blob: 'b', Metadata: 'm', Owner: 'Al &amp; <b>' }
    await service.getContainerClient(c).getBlockBlobClient('m/one.txt').upload('1', 1, { metadata })
    await service.getContainerClient(c).getBlockBlobClient('m/two.txt').upload('2', 1, { metadata: { external_id: 'meta-2' } })
    const expected = { nextmarker: 'zzz', blob: 'b', metadata: 'm', owner: 'Al &amp; <b>' }
    const { files } = await p.listFiles({ prefix: 'm/' })
    assert.deepEqual(files.map((f) => [f.key, f.external_id]), [['m/one.txt', 'meta-1'], ['m/two.txt', 'meta-2']])
    assert.deepEqual(files[0].metadata, expected)
    assert.deepEqual((await p.findFileByExternalId('meta-1')).metadata, expected) // by the scan
    assert.deepEqual((await p.findFileByExternalId('meta-1')).metadata, expected) // by the index and a HEAD
  })

  it('makes an upload with public: true readable through its SAS URL', async () => {
    const r = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('shared'), key: 'pub/one.txt', public: true })
    assert.equal(r.visibility, 'temporary-public')
    assert.ok(r.publicUrl.includes('sig='))
    assert.equal(await (await fetch(r.publicUrl)).text(), 'shared')
    assert.equal(new URL(r.publicUrl).searchParams.get('st'), null, 'no start time (clock skew)')
  })

  it('pages thousands of blobs in key order with continuationToken', async () => {
    const c = await freshContainer()
    const p = new AzureStorageProvider(keyConfig(c))
    const names = Array.from({ length: 1200 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`)
    const blobs = service.getContainerClient(c)
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => blobs.getBlockBlobClient(n).upload('x', 1, { metadata: { external_id: n } })))
    }
    assert.deepEqual((await keysByPages(p, { prefix: 'many/', limit: 500 })).keys, names)
    // A service that refuses startFrom (API 2026-02-06) is asked once, then listed from the start.
    const proxied = new AzureStorageProvider(keyConfig(c, `${proxy.endpoint}/devstoreaccount1`))
    const refusedBefore = proxy.refused
    proxy.set({ refuseQuery: 'startFrom' })
    try {
      assert.deepEqual((await keysByPages(proxied, { prefix: 'many/', limit: 500 })).keys, names)
      assert.equal(proxy.refused - refusedBefore, 1)
    } finally {
      proxy.set({})
    }
    assert.equal((await p.findFileByExternalId('many/1199.txt')).key, 'many/1199.txt')
  })

  it('hands out SAS URLs that Azurite accepts, with the disposition asked for', async () => {
    const data = pattern(100_000, 3)
    const r = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'dir/a b+c.bin' })
    const url = await provider.getFileUrl(r.key, 60, { disposition: 'attachment' })
    const res = await fetch(url)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-disposition'), 'attachment')
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data))
    // (Azurite answers suffix ranges with a broken header, so a bounded one.)
    const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } })
    assert.equal(ranged.status, 206)
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(10, 20)))
    // Azurite checks the signature: a changed one, or another blob, is refused.
    const u = new URL(url)
    u.searchParams.set('sig', Buffer.alloc(32, 1).toString('base64'))
    assert.equal((await fetch(u)).status, 403)
    const other = new URL(url)
    other.pathname = other.pathname.replace('a%20b%2Bc.bin', 'other.bin')
    assert.equal((await fetch(other)).status, 403)
    // Without a SAS, the blob is private.
    assert.equal((await fetch(url.split('?')[0])).status, 403)
  })

  it('refuses metadata names Azure cannot store, before writing anything', async () => {
    const id = uniqueId()
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), key: 'm.txt', metadata: { 'x-owner': 'a' } }), {
      message: 'Failed to upload file: Invalid metadata name "x-owner": Azure allows letters, digits and _, not starting with a digit',
    })
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), key: 'm.txt', metadata: { '1st': 'a' } }), /Invalid metadata name "1st"/)
    assert.equal(await provider.fileExists('m.txt'), false)
  })

  it('uploads a stream larger than a block as blocks, byte-exact', async () => {
    const data = pattern(20 * MiB + 5, 9)
    const r = await provider.uploadFile({ external_id: uniqueId(), stream: Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]), key: 'blocks/20.bin' })
    assert.equal(r.size, data.length)
    const blocks = await service.getContainerClient(container).getBlockBlobClient('blocks/20.bin').getBlockList('committed')
    assert.equal(blocks.committedBlocks.length, 3)
    assert.ok((await collect((await provider.getFileStream(r.key, { responseType: 'web' })).stream)).equals(data))
  })

  it('uploads 256 MiB from a stream in flat memory', async () => {
    const chunk = pattern(MiB, 5)
    let made = 0
    const source = new Readable({ read() { this.push(made++ < 256 ? chunk : null) } })
    global.gc?.()
    resetPeakRss()
    const base = peakRss()
    const r = await provider.uploadFile({ external_id: uniqueId(), stream: source, key: 'blocks/128.bin' })
    const growth = (peakRss() - base) / MiB
    assert.equal(r.size, 256 * MiB)
    console.log(`peak RSS growth: ${growth.toFixed(1)} MiB`)
    // Measured 34-51 MiB (blocks of 8 MiB, two on the wire, one filling); a buffered upload is 256+.
    assert.ok(growth < 64, `peak RSS grew by ${growth.toFixed(1)} MiB during a 256 MiB upload`)
    const tail = await provider.getFileStream(r.key, { suffix: MiB })
    assert.ok((await collect(tail.stream)).equals(chunk))
  })

  it('deletes a missing key quietly, and reports a missing external id', async () => {
    await provider.deleteFile('never/there.txt')
    const id = uniqueId('missing')
    await assert.rejects(provider.deleteFileByExternalId(id), { message: `File with external_id ${id} not found` })
  })

  it('keeps the account key and signatures out of errors', async () => {
    const wrong = new AzureStorageProvider({ ...keyConfig(container), accountKey: Buffer.alloc(64, 7).toString('base64') })
    const err = await wrong.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'k.txt' }).catch((e) => e)
    assert.match(err.message, /^Failed to upload file: .*403/s)
    for (const secret of [server.accountKey, Buffer.alloc(64, 7).toString('base64'), 'SharedKey', 'sig=']) {
      assert.ok(!err.message.includes(secret), `error mentions ${secret}`)
    }
  })
})
