'use strict'
// GCPStorageProvider against fake-gcs-server (a GCS server on 127.0.0.1). fake-gcs-server lacks
// parts of the XML API the client uses (plain PUTs, multipart uploads); helpers/gcsproxy.js adds
// them in front of it, and the fault proxy (helpers/faultproxy.js) in front of that stalls reads on
// demand. fake-gcs-server checks no signatures, so signed URLs are verified here against the
// public key. The shared conformance suite, then the GCS specifics.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { Storage } = require('@google-cloud/storage')
const { conformance } = require('./conformance')
const { startFaultProxy } = require('./helpers/faultproxy')
const { startGcsProxy } = require('./helpers/gcsproxy')
const { pattern, collect, uniqueId, withEnv, keysByPages, presignedStringToSign } = require('./helpers/util')
const emulators = require('../scripts/emulators')
const lib = require('..')
const { GCPStorageProvider } = lib

const MiB = 1024 * 1024
let server // fake-gcs-server
let shim // the missing XML API
let faults // stalls
let sdk // @google-cloud/storage, as another client of the same server

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const credentials = {
  client_email: 'tester@test-project.iam.gserviceaccount.com',
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
}

before(async () => {
  server = await emulators.fakeGcs('unused')
  shim = await startGcsProxy(server.endpoint)
  faults = await startFaultProxy(shim.endpoint)
  sdk = new Storage({ apiEndpoint: server.endpoint, projectId: 'test' })
})
after(async () => {
  await faults?.close()
  await shim?.close()
  await server?.stop()
})

/** A new, empty bucket. */
async function freshBucket() {
  const name = `b-${crypto.randomBytes(6).toString('hex')}`
  const r = await fetch(`${server.endpoint}/storage/v1/b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
  assert.equal(r.status, 200)
  return name
}
const providerFor = (bucket, extra = {}) => new GCPStorageProvider({ projectId: 'test', bucket, apiEndpoint: faults.endpoint, ...extra })

/**
 * Checks a GOOG4-RSA-SHA256 signed URL against `key` (fake-gcs-server does not). The signed host is
 * always storage.googleapis.com (object_store signs for GCS itself, whatever the endpoint).
 */
function signatureValid(url, key) {
  const { toSign, signature } = presignedStringToSign(url, 'Goog', 'storage.googleapis.com')
  return crypto.verify('sha256', Buffer.from(toSign), key, Buffer.from(signature, 'hex'))
}

conformance({
  name: 'gcs',
  messages: {
    uploadFailed: (cause) => `Failed to upload file: ${cause}`,
    streamNotFound: (key) => `File with key ${key} not found`,
    notFoundById: (id) => `File with external_id ${id} not found`,
  },
  findHasVisibility: false,
  async create() {
    return providerFor(await freshBucket(), { credentials })
  },
  async stalledKey(provider) {
    const r = await provider.uploadFile({ external_id: uniqueId(), key: `stall/${uniqueId()}.bin`, buffer: Buffer.alloc(1000, 1) })
    faults.set({ body: { mode: 'stall' } })
    return { key: r.key, release: () => faults.set({}) }
  },
})

describe('gcs: configuration and signed URLs', () => {
  it('signs V4 URLs with the service account key, with the disposition asked for', async () => {
    const bucket = await freshBucket()
    const p = new GCPStorageProvider({ projectId: 'test', bucket, apiEndpoint: server.endpoint, credentials })
    const data = pattern(50_000, 5)
    // Written through the shim; signed for fake-gcs-server itself.
    await providerFor(bucket).uploadFile({ external_id: uniqueId(), buffer: data, key: 'dir/a b+c.bin' })
    const url = new URL(await p.getFileUrl('dir/a b+c.bin', 600, { disposition: 'attachment' }))
    assert.equal(`${url.origin}${url.pathname}`, `${server.endpoint}/${bucket}/dir/a%20b%2Bc.bin`)
    assert.equal(url.searchParams.get('X-Goog-Expires'), '600')
    assert.equal(url.searchParams.get('response-content-disposition'), 'attachment')
    assert.match(url.searchParams.get('X-Goog-Credential'), /^tester@test-project\.iam\.gserviceaccount\.com\/\d{8}\//)
    assert.ok(signatureValid(url.href, publicKey))
    assert.ok(!signatureValid(url.href.replace('a%20b', 'a%20c'), publicKey))
    assert.ok(!url.href.includes('PRIVATE KEY'))
    const res = await fetch(url)
    assert.equal(res.status, 200)
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data))
    await assert.rejects(p.getFileUrl('k', 604801), /Invalid expiresIn 604801: expected a whole number of seconds from 1 to 604800/)
  })

  it('signs keys with ?, #, % and + for the object they name', async () => {
    const bucket = await freshBucket()
    const p = new GCPStorageProvider({ projectId: 'test', bucket, apiEndpoint: server.endpoint, credentials })
    const writer = providerFor(bucket)
    for (const [i, key] of ['odd/a?b.txt', 'odd/a#b.txt', 'odd/100%.txt', 'odd/a+b c.txt'].entries()) {
      await writer.uploadFile({ external_id: `odd-${i}`, buffer: Buffer.from(key), key })
      const url = await p.getFileUrl(key)
      assert.ok(signatureValid(url, publicKey), key)
      const res = await fetch(url)
      assert.equal(res.status, 200, key)
      assert.equal(await res.text(), key)
    }
    await writer.uploadFile({ external_id: 'odd-plain', buffer: Buffer.from('plain'), key: 'odd/a' })
    assert.equal(await (await fetch(await p.getFileUrl('odd/a?b.txt'))).text(), 'odd/a?b.txt')
  })

  it('takes credentials as the SDK does: keyFilename over credentials, then GOOGLE_APPLICATION_CREDENTIALS', async () => {
    // Three service accounts, told apart by the signer named in the URL's credential.
    const account = (name) => ({ type: 'service_account', project_id: 'p', private_key_id: `${name}-key`, client_email: `${name}@p.iam.gserviceaccount.com`, private_key: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) })
    const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'ccs-gcs-keys-'))
    const file = (name) => {
      const f = require('node:path').join(dir, `${name}.json`)
      require('node:fs').writeFileSync(f, JSON.stringify(account(name)))
      return f
    }
    const [fromFile, fromEnv] = [file('from-file'), file('from-env')]
    const signer = async (p) => new URL(await p.getFileUrl('k.txt')).searchParams.get('X-Goog-Credential').split('/')[0]
    const bucket = await freshBucket()
    assert.equal(await signer(providerFor(bucket, { keyFilename: fromFile, credentials: account('inline') })), 'from-file@p.iam.gserviceaccount.com')
    assert.equal(await signer(providerFor(bucket, { credentials: account('inline') })), 'inline@p.iam.gserviceaccount.com')
    await withEnv({ GOOGLE_APPLICATION_CREDENTIALS: fromEnv }, async () => {
      assert.equal(await signer(providerFor(bucket)), 'from-env@p.iam.gserviceaccount.com')
      assert.equal(await signer(providerFor(bucket, { credentials: account('inline') })), 'inline@p.iam.gserviceaccount.com')
    })
  })

  it('refuses to sign without a key, without asking the network', async () => {
    const p = providerFor(await freshBucket())
    await assert.rejects(p.getFileUrl('k.txt'), {
      message: 'Failed to generate file URL: Signed URLs need a service account key: give credentials or keyFilename',
    })
  })

  it('never throws in the constructor; the first call reports what is missing', async () => {
    const p = new GCPStorageProvider({ projectId: 'p' })
    await assert.rejects(p.fileExists('k'), { message: 'GCS configuration is missing bucket' })
    const q = new GCPStorageProvider({ projectId: 'p', bucket: 'b', credentials: { client_email: 'x' } })
    await assert.rejects(q.fileExists('k'), { message: 'GCS credentials are missing private_key' })
  })

  it('builds public and CDN URLs, URL-encoding keys', async () => {
    const plain = new GCPStorageProvider({ projectId: 'p', bucket: 'bkt', credentials })
    const url = new URL(await plain.getFileUrl('dir/a b.txt'))
    assert.equal(`${url.origin}${url.pathname}`, 'https://storage.googleapis.com/bkt/dir/a%20b.txt')
    assert.equal(url.searchParams.get('X-Goog-Expires'), '3600')
    assert.ok(signatureValid(url.href, publicKey))
    const bucket = await freshBucket()
    const cdn = providerFor(bucket, { cdnUrl: 'https://cdn.example.com/' })
    const r = await cdn.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'a b.txt' })
    assert.equal(r.url, 'https://cdn.example.com/a%20b.txt')
  })

  it('follows STORAGE_EMULATOR_HOST and the environment of initializeStorageProvider', async () => {
    const bucket = await freshBucket()
    await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: 'gcp', CRUNCHYCONE_GCP_BUCKET: bucket }, async () => {
      assert.throws(() => lib.initializeStorageProvider(), {
        message: 'Missing required environment variables for storage provider: CRUNCHYCONE_GCP_PROJECT_ID',
      })
    })
    const vars = { CRUNCHYCONE_STORAGE_PROVIDER: 'GCP', CRUNCHYCONE_GCP_PROJECT_ID: 'test', CRUNCHYCONE_GCP_BUCKET: bucket, STORAGE_EMULATOR_HOST: shim.endpoint }
    await withEnv(vars, async () => {
      lib.initializeStorageProvider()
      const p = lib.getStorageProvider()
      assert.ok(p instanceof GCPStorageProvider)
      await p.uploadFile({ external_id: 'env-1', buffer: Buffer.from('via env'), key: 'env.txt' })
      assert.equal((await collect((await p.getFileStreamByExternalId('env-1')).stream)).toString(), 'via env')
    })
  })

  it('is importable from the original subpath', () => {
    assert.equal(require('../storage/providers/gcp').GCPStorageProvider, GCPStorageProvider)
  })
})

describe('gcs: objects shared with other clients', () => {
  let bucket, provider
  before(async () => {
    bucket = await freshBucket()
    provider = providerFor(bucket)
  })

  it('finds an object the original (@google-cloud/storage) wrote, and writes what it reads', async () => {
    const file = sdk.bucket(bucket).file('from-sdk/report.pdf')
    await file.save(Buffer.from('%PDF'), { resumable: false, metadata: { contentType: 'application/pdf', metadata: { external_id: 'sdk-1', owner: 'bob' } } })
    const found = await provider.findFileByExternalId('sdk-1')
    assert.equal(found.key, 'from-sdk/report.pdf')
    assert.equal(found.contentType, 'application/pdf')
    assert.deepEqual(found.metadata, { owner: 'bob' })
    assert.equal(found.size, 4)

    const r = await provider.uploadFile({ external_id: 'ours-1', buffer: Buffer.from('{}'), filename: 'x.json', metadata: { team: 'a' } })
    const [meta] = await sdk.bucket(bucket).file(r.key).getMetadata()
    assert.equal(meta.contentType, 'application/json')
    assert.deepEqual(meta.metadata, { external_id: 'ours-1', team: 'a' })
    const [bytes] = await sdk.bucket(bucket).file(r.key).download()
    assert.equal(bytes.toString(), '{}')
  })

  it('lists and scans past object names no method can address, with metadata from the listing', async () => {
    const b = await freshBucket()
    const p = providerFor(b)
    await sdk.bucket(b).file('legacy//double.txt').save('odd', { resumable: false, metadata: { metadata: { external_id: 'odd-1' } } })
    await p.uploadFile({ external_id: 'fine-1', buffer: Buffer.from('fine'), key: 'legacy/fine.txt', metadata: { team: 'a' }, filename: 'f.txt' })
    const { files } = await p.listFiles()
    assert.deepEqual(files.map((f) => f.key), ['legacy/fine.txt'])
    assert.equal(files[0].external_id, 'fine-1')
    assert.equal(files[0].contentType, 'text/plain')
    assert.deepEqual(files[0].metadata, { team: 'a' })
    assert.equal(files[0].size, 4)
    assert.equal(await p.findFileByExternalId('odd-1'), null)
  })

  it('pages over a thousand objects in key order with continuationToken', async () => {
    const b = await freshBucket()
    const p = providerFor(b)
    const names = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`)
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => sdk.bucket(b).file(n).save('x', { resumable: false, metadata: { metadata: { external_id: n } } })))
    }
    assert.deepEqual((await keysByPages(p, { prefix: 'many/', limit: 400 })).keys, names)
    assert.equal((await p.findFileByExternalId('many/1099.txt')).key, 'many/1099.txt')
  })

  it('reads metadata names lower-cased, as a HEAD reports them', async () => {
    const b = await freshBucket()
    const p = providerFor(b)
    await sdk.bucket(b).file('m/one.txt').save('1', { resumable: false, metadata: { metadata: { external_id: 'meta-1', Owner: 'Al' } } })
    assert.deepEqual((await p.listFiles({ prefix: 'm/' })).files[0].metadata, { owner: 'Al' })
    assert.deepEqual((await p.findFileByExternalId('meta-1')).metadata, { owner: 'Al' }) // by the scan
    assert.deepEqual((await p.findFileByExternalId('meta-1')).metadata, { owner: 'Al' }) // by the index and a HEAD
  })

  it('keeps visibility in the allUsers ACL entry, as the original does', async () => {
    const r = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('p'), key: 'acl.txt', public: true })
    assert.equal(r.visibility, 'public')
    assert.equal(r.publicUrl, `${faults.endpoint}/${bucket}/acl.txt`)
    const [acl] = await sdk.bucket(bucket).file('acl.txt').acl.get()
    assert.ok(acl.some((e) => e.entity === 'allUsers' && e.role === 'READER'))
    await provider.setFileVisibility('acl.txt', 'private')
    const [after] = await sdk.bucket(bucket).file('acl.txt').acl.get()
    // (fake-gcs-server lists an emptied ACL as null.)
    assert.ok(!(Array.isArray(after) ? after : []).some((e) => e.entity === 'allUsers'))
  })

  it('uploads a stream larger than a part as a multipart upload, byte-exact', async () => {
    const data = pattern(20 * MiB + 5, 9)
    const mark = faults.requests.length
    const r = await provider.uploadFile({ external_id: uniqueId(), stream: Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]), key: 'parts/20.bin' })
    assert.equal(r.size, data.length)
    assert.ok((await collect((await provider.getFileStream(r.key, { responseType: 'web' })).stream)).equals(data))
    // What the library sent: one initiation, three parts of at most 8 MiB, one completion.
    const sent = faults.requests.slice(mark).filter((q) => decodeURIComponent(q.url).includes('/parts/20.bin?'))
    assert.equal(sent.filter((q) => q.method === 'POST' && /[?&]uploads\b/.test(q.url)).length, 1)
    assert.deepEqual(sent.filter((q) => q.method === 'PUT' && /[?&]partNumber=/.test(q.url)).map((q) => /partNumber=(\d+)/.exec(q.url)[1]).sort(), ['1', '2', '3'])
    assert.equal(sent.filter((q) => q.method === 'POST' && /[?&]uploadId=/.test(q.url)).length, 1)
  })

  it('aborts the multipart upload when completing it fails, leaving no parts', async () => {
    const mark = faults.requests.length
    faults.set({ failComplete: true })
    try {
      await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: pattern(9 * MiB, 4), key: 'parts/fails.bin' }), { message: /^Failed to upload file: Failed to complete the multipart upload/ })
    } finally {
      faults.set({})
    }
    assert.ok(faults.requests.slice(mark).some((q) => q.method === 'DELETE' && /[?&]uploadId=/.test(q.url)), 'no abort was sent')
    assert.equal(await provider.fileExists('parts/fails.bin'), false)
    const [left] = await sdk.bucket(bucket).getFiles({ prefix: '.parts/' })
    assert.deepEqual(left.map((f) => f.name), [])
  })

  it('refuses metadata GCS cannot carry in headers, before writing anything', async () => {
    await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'm.txt', metadata: { 'a b': 'x' } }), {
      message: 'Failed to upload file: Invalid metadata name "a b": GCS allows letters, digits and -_.',
    })
    await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'm.txt', metadata: { a: 'é' } }), /GCS allows printable ASCII only/)
    assert.equal(await provider.fileExists('m.txt'), false)
  })

  it('deletes a missing key quietly, and reports a missing external id', async () => {
    await provider.deleteFile('never/there.txt')
    const id = uniqueId('missing')
    await assert.rejects(provider.deleteFileByExternalId(id), { message: `File with external_id ${id} not found` })
  })
})
