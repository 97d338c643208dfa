'use strict'
// S3CompatibleProvider and its derived classes against moto (a real S3 server on 127.0.0.1,
// started here through scripts/emulators.js), reached through a proxy (helpers/faultproxy.js) that can
// stall, cut connections and refuse ACLs on demand. The shared conformance suite, then the S3
// specifics: the original's metadata and URL shapes, presigned URLs, ACLs, multipart uploads,
// key-order paging, and failures.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { conformance } = require('./conformance')
const { startFaultProxy } = require('./helpers/faultproxy')
const { pattern, collect, uniqueId, webStreamOf, withEnv, presignedStringToSign, peakRss, resetPeakRss } = require('./helpers/util')
const emulators = require('../scripts/emulators')
const lib = require('..')
const { S3CompatibleProvider } = lib

const MiB = 1024 * 1024
const SECRET = 'moto-secret-key-0123456789'
let server // moto
let proxy

before(async () => {
  server = await emulators.moto('unused')
  proxy = await startFaultProxy(server.endpoint)
})
after(async () => {
  await proxy?.close()
  await server?.stop()
})

/** A new, empty bucket on moto. */
async function freshBucket() {
  const name = `b-${crypto.randomBytes(6).toString('hex')}`
  const r = await fetch(`${server.endpoint}/${name}`, { method: 'PUT' })
  assert.equal(r.status, 200)
  return name
}
const providerFor = (bucket, extra = {}) =>
  new S3CompatibleProvider({ accessKeyId: 'AKIDTEST', secretAccessKey: SECRET, region: 'us-east-1', bucket, endpoint: proxy.endpoint, ...extra })
/**
 * A request straight to moto, as another S3 client would send it. moto checks who asks (private
 * objects refuse anonymous requests) but not signatures, so any SigV4 header will do.
 */
const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00'
const raw = (bucket, key, init = {}) =>
  fetch(`${server.endpoint}/${bucket}/${key}`, { ...init, headers: { authorization: AUTH, ...init.headers } })
const anonymousGet = (bucket, key) => fetch(`${server.endpoint}/${bucket}/${key}`)

/**
 * Checks a presigned GET URL's SigV4 signature independently of the library (moto does not check
 * signatures). Verified below against AWS's documented example.
 */
function presignedSignatureValid(url, secret) {
  const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest()
  const { toSign, scope, signature } = presignedStringToSign(url, 'Amz')
  const key = scope.reduce((k, part) => hmac(k, part), `AWS4${secret}`)
  return hmac(key, toSign).toString('hex') === signature
}

conformance({
  name: 's3',
  messages: {
    uploadFailed: (cause) => `Failed to upload file: ${cause}`,
    streamNotFound: (key) => `File with key ${key} not found`,
    notFoundById: (id) => `File with external_id ${id} not found`,
  },
  findHasVisibility: false,
  async create() {
    return providerFor(await freshBucket())
  },
  async stalledKey(provider) {
    const r = await provider.uploadFile({ external_id: uniqueId(), key: `stall/${uniqueId()}.bin`, buffer: Buffer.alloc(1000, 1) })
    proxy.set({ body: { mode: 'stall' } })
    return { key: r.key, release: () => proxy.set({}) }
  },
})

describe('s3: configuration and URL shapes', () => {
  const creds = { accessKeyId: 'AKID', secretAccessKey: SECRET }
  const signed = async (provider) => new URL(await provider.getFileUrl('dir/a b.txt', 600, { disposition: 'inline' }))

  it("checks signatures with an independent SigV4 verifier (AWS's documented example)", () => {
    const example =
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404'
    assert.equal(presignedSignatureValid(example, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), true)
    assert.equal(presignedSignatureValid(example.replace('test.txt', 'test2.txt'), 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), false)
  })

  it('signs the URL shape of each service, with its signing region', async () => {
    const cases = [
      [new lib.AWSS3Provider({ ...creds, region: 'eu-west-1', bucket: 'bkt' }), 'https://bkt.s3.eu-west-1.amazonaws.com/dir/a%20b.txt', 'eu-west-1'],
      [new lib.DigitalOceanSpacesProvider({ ...creds, region: 'nyc3', bucket: 'bkt' }), 'https://bkt.nyc3.digitaloceanspaces.com/dir/a%20b.txt', 'us-east-1'],
      [new lib.WasabiProvider({ ...creds, region: 'us-east-2', bucket: 'bkt' }), 'https://s3.us-east-2.wasabisys.com/bkt/dir/a%20b.txt', 'us-east-2'],
      [new lib.BackblazeB2Provider({ keyId: 'AKID', applicationKey: SECRET, region: 'us-west-000', bucket: 'bkt' }), 'https://s3.us-west-000.backblazeb2.com/bkt/dir/a%20b.txt', 'us-west-000'],
      [new lib.CloudflareR2Provider({ ...creds, accountId: 'acct', bucket: 'bkt' }), 'https://acct.r2.cloudflarestorage.com/bkt/dir/a%20b.txt', 'auto'],
      [new S3CompatibleProvider({ ...creds, region: 'eu-west-1', bucket: 'bkt' }), 'https://s3.eu-west-1.amazonaws.com/bkt/dir/a%20b.txt', 'eu-west-1'],
      [new S3CompatibleProvider({ ...creds, region: 'us-east-1', bucket: 'bkt', endpoint: 'http://localhost:9000' }), 'http://localhost:9000/bkt/dir/a%20b.txt', 'us-east-1'],
    ]
    for (const [provider, address, region] of cases) {
      const url = await signed(provider)
      assert.equal(`${url.origin}${url.pathname}`, address)
      assert.match(url.searchParams.get('X-Amz-Credential'), new RegExp(`^AKID/\\d{8}/${region}/s3/aws4_request$`))
      assert.equal(url.searchParams.get('X-Amz-Expires'), '600')
      assert.equal(url.searchParams.get('response-content-disposition'), 'inline')
      assert.ok(presignedSignatureValid(url.href, SECRET), `${address}: signature`)
      assert.ok(!presignedSignatureValid(url.href, `${SECRET}x`))
      assert.ok(!url.href.includes(SECRET))
    }
  })

  it('is importable from the original subpath, derived classes included', () => {
    const sub = require('../storage/providers/s3')
    for (const name of ['S3CompatibleProvider', 'AWSS3Provider', 'DigitalOceanSpacesProvider', 'WasabiProvider', 'BackblazeB2Provider', 'CloudflareR2Provider']) {
      assert.equal(sub[name], lib[name], name)
    }
    assert.ok(new lib.AWSS3Provider({ ...creds, region: 'x', bucket: 'y' }) instanceof S3CompatibleProvider)
  })

  it('reports a bad configuration on use, not at construction', async () => {
    const provider = new S3CompatibleProvider({ accessKeyId: 'AKID', region: 'us-east-1', bucket: 'b' })
    await assert.rejects(provider.fileExists('k'), { code: 'InvalidInput', message: 'S3 configuration is missing secretAccessKey' })
    await assert.rejects(provider.getFileUrl('k'), { message: 'S3 configuration is missing secretAccessKey' })
  })

  it('refuses bad expiries before signing', async () => {
    const provider = new S3CompatibleProvider({ ...creds, region: 'us-east-1', bucket: 'bkt' })
    for (const bad of [0, -5, 1.5, 604801]) {
      await assert.rejects(provider.getFileUrl('k', bad), { code: 'InvalidInput', message: new RegExp(`^Invalid expiresIn ${bad}`) })
    }
    assert.match(await provider.getFileUrl('k'), /X-Amz-Expires=3600/)
  })
})

describe('s3: against moto', () => {
  let bucket
  let provider
  before(async () => {
    bucket = await freshBucket()
    provider = providerFor(bucket)
  })

  it("keeps external_id where the original does, and reads the original's objects", async () => {
    const id = uniqueId()
    const r = await provider.uploadFile({ external_id: id, buffer: Buffer.from('ours'), key: 'interop/ours.txt', metadata: { owner: 'bob' } })
    const head = await raw(bucket, r.key, { method: 'HEAD' })
    assert.equal(head.headers.get('x-amz-meta-external_id'), id)
    assert.equal(head.headers.get('x-amz-meta-owner'), 'bob')
    assert.equal(head.headers.get('content-type'), 'text/plain')

    // Written as the original's SDK call does it: no index entry, metadata only.
    for (const [name, metaKey] of [['theirs-a', 'external_id'], ['theirs-b', 'external-id']]) {
      const theirId = uniqueId()
      const put = await raw(bucket, `interop/${name}.bin`, {
        method: 'PUT',
        body: 'their bytes',
        headers: { [`x-amz-meta-${metaKey}`]: theirId, 'content-type': 'application/x-theirs', 'cache-control': 'max-age=60' },
      })
      assert.equal(put.status, 200)
      const found = await provider.findFileByExternalId(theirId)
      assert.equal(found.key, `interop/${name}.bin`)
      assert.equal(found.size, 11)
      assert.equal(found.contentType, 'application/x-theirs')
      // The scan left an index entry, so the next lookup is direct.
      const index = await raw(bucket, `.crunchycone-storage/external-ids/${theirId}`)
      assert.equal(await index.text(), `interop/${name}.bin`)
      const s = await provider.getFileStreamByExternalId(theirId)
      assert.equal((await collect(s.stream)).toString(), 'their bytes')
      assert.equal(s.providerSpecific.cacheControl, 'max-age=60')
    }
    // Index objects never show up as files.
    const listed = (await provider.listFiles({ prefix: '' })).files.map((f) => f.key)
    for (const name of ['theirs-a', 'theirs-b']) assert.ok(listed.includes(`interop/${name}.bin`), String(listed))
    assert.deepEqual(listed.filter((k) => k.startsWith('.crunchycone-storage')), [])
  })

  it('finds by external id from its index entry, without listing the bucket', async () => {
    const id = uniqueId()
    const { key } = await provider.uploadFile({ external_id: id, buffer: Buffer.from('indexed'), key: 'indexed/one.txt' })
    const mark = proxy.requests.length
    assert.equal((await provider.findFileByExternalId(id)).key, key)
    assert.equal((await collect((await provider.getFileStreamByExternalId(id)).stream)).toString(), 'indexed')
    const sent = proxy.requests.slice(mark).map((q) => `${q.method} ${decodeURIComponent(q.url).replace(/^\/[^/]+/, '')}`)
    assert.deepEqual(sent.filter((q) => q.includes('list-type')), [], 'no listing')
    // Each lookup: the index entry, then the object it names (whose metadata confirms the id).
    assert.deepEqual(sent, [`GET /.crunchycone-storage/external-ids/${id}`, `HEAD /${key}`, `GET /.crunchycone-storage/external-ids/${id}`, `GET /${key}`])
  })

  it('finds by external id through a stale index entry', async () => {
    const id = uniqueId()
    await provider.uploadFile({ external_id: id, buffer: Buffer.from('one'), key: 'stale/one.txt' })
    // Someone else moves the object: the index still names the old key.
    await raw(bucket, 'stale/one.txt', { method: 'DELETE' })
    await raw(bucket, 'stale/two.txt', { method: 'PUT', body: 'two', headers: { 'x-amz-meta-external_id': id } })
    assert.equal((await provider.findFileByExternalId(id)).key, 'stale/two.txt')
    assert.equal((await collect((await provider.getFileStreamByExternalId(id)).stream)).toString(), 'two')
    await raw(bucket, 'stale/two.txt', { method: 'DELETE' })
    assert.equal(await provider.findFileByExternalId(id), null)
  })

  it('streams byte-exact ranges: bounded, open-ended, end-only, tail', async () => {
    const size = 1 * MiB + 17
    const data = pattern(size, 3)
    const { key, etag } = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'ranges/data.bin' })
    const cases = [
      [{ start: 100, end: 199 }, 100, 199],
      [{ start: size - 10 }, size - 10, size - 1],
      [{ end: 9 }, 0, 9],
      [{ start: 5, end: size + 100 }, 5, size - 1],
      [{ start: size - 1, end: size - 1 }, size - 1, size - 1],
    ]
    for (const [range, start, end] of cases) {
      for (const responseType of ['node', 'web']) {
        const s = await provider.getFileStream(key, { ...range, responseType })
        assert.deepEqual(await collect(s.stream), data.subarray(start, end + 1), JSON.stringify(range))
        assert.deepEqual(s.range, { start, end, total: size })
        assert.equal(s.isPartialContent, true)
        assert.equal(s.contentLength, end - start + 1)
        assert.equal(s.etag, etag)
        assert.equal(s.acceptsRanges, true)
        assert.ok(s.lastModified instanceof Date)
      }
    }
    await assert.rejects(provider.getFileStream(key, { start: size }), {
      code: 'InvalidRange',
      message: `Invalid range: start (${size}) is beyond the end of the file (${size} bytes)`,
    })
  })

  it('gives presigned URLs that a plain HTTP client can fetch, with and without disposition', async () => {
    const data = pattern(5000, 9)
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'urls/a b+c.bin' })
    const plain = await fetch(await provider.getFileUrl(key))
    assert.equal(plain.status, 200)
    assert.equal(plain.headers.get('content-disposition'), null)
    assert.deepEqual(Buffer.from(await plain.arrayBuffer()), data)
    for (const disposition of ['inline', 'attachment']) {
      const r = await fetch(await provider.getFileUrl(key, 60, { disposition }))
      assert.equal(r.headers.get('content-disposition'), disposition)
      assert.equal((await r.arrayBuffer()).byteLength, 5000)
    }
    for (const tricky of ['urls/a b+c.bin', "urls/ünï cødé/!'()*.bin", 'urls/%41%2F.bin']) {
      assert.ok(presignedSignatureValid(await provider.getFileUrl(tricky, 60, { disposition: 'attachment' }), SECRET), tricky)
    }
    const suffix = await fetch(await provider.getFileUrl(key), { headers: { Range: 'bytes=-7' } })
    assert.equal(suffix.status, 206)
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), data.subarray(5000 - 7))
  })

  it('sets and reads ACL visibility; anonymous reads follow it', async () => {
    const a = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('a'), key: 'acl/a.txt' })
    const b = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('b'), key: 'acl/b.txt' })
    const anonymous = async (key) => (await anonymousGet(bucket, key)).status
    assert.equal(await anonymous(a.key), 403)
    assert.deepEqual(await provider.getFileVisibility(a.key), {
      visibility: 'private',
      canMakePublic: true,
      canMakePrivate: true,
      supportsTemporaryAccess: true,
      message: 'File is private. Use setFileVisibility to make it public or generate signed URLs for temporary access.',
    })

    const results = await provider.setMultipleFileVisibility([a.key, b.key], 'public')
    assert.deepEqual(results[0], {
      success: true,
      requestedVisibility: 'public',
      actualVisibility: 'public',
      publicUrl: `${proxy.endpoint}/${bucket}/acl/a.txt`,
      message: 'File is now publicly accessible via direct URL.',
      providerSpecific: { aclApplied: true },
    })
    assert.equal(results[1].success, true)
    assert.equal(await anonymous(a.key), 200)
    assert.equal(await anonymous(b.key), 200)
    const status = await provider.getFileVisibilityByExternalId(a.external_id)
    assert.equal(status.visibility, 'public')
    assert.equal(status.publicUrl, `${proxy.endpoint}/${bucket}/acl/a.txt`)
    assert.equal(status.message, 'File is publicly accessible via direct URL.')

    assert.deepEqual(await provider.setFileVisibilityByExternalId(a.external_id, 'private'), {
      success: true,
      requestedVisibility: 'private',
      actualVisibility: 'private',
      message: 'File is now private and requires authentication.',
    })
    assert.equal(await anonymous(a.key), 403)
    assert.equal((await provider.getFileVisibility(a.key)).visibility, 'private')

    // `public: true` on upload really makes the object public (the original only claimed it).
    const p = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('p'), key: 'acl/p.txt', public: true })
    assert.equal(p.visibility, 'public')
    assert.equal(p.publicUrl, `${proxy.endpoint}/${bucket}/acl/p.txt`)
    assert.equal(await anonymous(p.key), 200)
    assert.equal(await (await fetch(p.publicUrl)).text(), 'p')
  })

  it('honours defaultACL and serverSideEncryption from the config', async () => {
    const p = providerFor(bucket, { defaultACL: 'public-read', serverSideEncryption: 'AES256' })
    const r = await p.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('shared'), key: 'acl/default-public.txt' })
    assert.equal(await (await anonymousGet(bucket, r.key)).text(), 'shared')
    assert.equal((await raw(bucket, r.key, { method: 'HEAD' })).headers.get('x-amz-server-side-encryption'), 'AES256')
    const big = await p.uploadFile({ external_id: uniqueId(), buffer: pattern(9 * MiB, 8), key: 'acl/default-public.bin' })
    assert.equal((await anonymousGet(bucket, big.key)).status, 200, 'multipart uploads get the ACL too')
    // 'private' is the default S3 applies anyway, so it is not sent (buckets without ACLs accept it).
    proxy.set({ aclDisabled: true })
    try {
      const q = providerFor(bucket, { defaultACL: 'private' })
      assert.equal((await q.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('q'), key: 'acl/no-acl.txt' })).visibility, 'private')
    } finally {
      proxy.set({})
    }
  })

  it('reports visibility not-found and bad-input cases with the original messages', async () => {
    assert.deepEqual(await provider.setFileVisibility('acl/missing.txt', 'public'), {
      success: false,
      requestedVisibility: 'public',
      actualVisibility: 'private',
      message: 'File with key acl/missing.txt not found',
    })
    assert.equal((await provider.setFileVisibilityByExternalId('no-such-id', 'public')).message, 'File with external_id no-such-id not found')
    await assert.rejects(provider.getFileVisibility('acl/missing.txt'), {
      code: 'NotFound',
      message: 'Failed to check file visibility: File with key acl/missing.txt not found',
    })
    await assert.rejects(provider.setFileVisibility('acl/a.txt', 'world'), { code: 'InvalidInput' })
    // Every key is checked before any ACL changes.
    const c = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('c'), key: 'acl/c.txt' })
    await assert.rejects(provider.setMultipleFileVisibility([c.key, '../escape'], 'public'), { code: 'InvalidKey' })
    assert.equal((await provider.getFileVisibility(c.key)).visibility, 'private')
  })

  it('reports buckets with ACLs disabled as the original does', async () => {
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), key: 'acl/disabled.txt' })
    proxy.set({ aclDisabled: true })
    try {
      const r = await provider.setFileVisibility(key, 'public')
      assert.deepEqual(r, {
        success: false,
        requestedVisibility: 'public',
        actualVisibility: 'private',
        message: 'ACLs are disabled on this bucket. Use bucket policies for access control instead.',
      })
      const s = await provider.getFileVisibility(key)
      assert.equal(s.visibility, 'private')
      assert.equal(s.canMakePublic, true) // 'AccessControlListNotSupported' is not 'InvalidRequest'
      // `public: true` is an ACL applied after the upload: the file is stored, and reported private.
      const p = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('p'), key: 'acl/disabled-public.txt', public: true })
      assert.equal(p.visibility, 'private')
      assert.equal(p.publicUrl, undefined)
      assert.equal(await provider.fileExists(p.key), true)
    } finally {
      proxy.set({})
    }
  })

  it('uploads a 256 MiB stream of unknown length as multipart, in flat memory', async () => {
    const total = 256 * MiB
    // A few chunks reused over and over, so the source itself allocates nothing as it goes.
    const chunks = Array.from({ length: 4 }, (_, i) => pattern(MiB, i + 1))
    const hash = crypto.createHash('sha256')
    let made = 0
    const source = new Readable({
      read() {
        if (made >= total) return this.push(null)
        const chunk = chunks[(made / MiB) % chunks.length]
        hash.update(chunk)
        made += chunk.length
        this.push(chunk)
      },
    })
    global.gc?.()
    resetPeakRss()
    const before = peakRss()
    const r = await provider.uploadFile({ external_id: uniqueId(), stream: source, key: 'multipart/256.bin' })
    const growth = (peakRss() - before) / MiB
    assert.ok(growth < 48, `RSS grew ${growth.toFixed(1)} MiB during a 256 MiB upload`)
    assert.equal(r.size, total)
    assert.match(r.etag, /-32"$/, 'a multipart ETag of 32 parts of 8 MiB')
    const back = crypto.createHash('sha256')
    for await (const chunk of (await provider.getFileStream(r.key)).stream) back.update(chunk)
    assert.equal(back.digest('hex'), hash.digest('hex'))
    // No multipart upload is left open.
    const uploads = await (await raw(bucket, '?uploads')).text()
    assert.ok(!uploads.includes('<Upload>'), uploads)
    await provider.deleteFile(r.key)
  })

  it('sends exactly one part in a single PUT, and splits larger writes into parts', async () => {
    const one = await provider.uploadFile({ external_id: uniqueId(), buffer: pattern(8 * MiB, 2), key: 'multipart/8.bin' })
    assert.doesNotMatch(one.etag, /-\d+"$/)
    const data = pattern(20 * MiB + 5, 3)
    const split = await provider.uploadFile({ external_id: uniqueId(), stream: Readable.from([data]), key: 'multipart/20.bin' })
    assert.match(split.etag, /-3"$/)
    assert.deepEqual(await collect((await provider.getFileStream(split.key)).stream), data)
  })

  it('aborts the multipart upload when completing it fails', async () => {
    proxy.set({ failComplete: true })
    try {
      await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: pattern(9 * MiB, 4), key: 'multipart/fails.bin' }), {
        message: /^Failed to upload file: Failed to complete the multipart upload: .*InvalidPart/s,
      })
    } finally {
      proxy.set({})
    }
    assert.equal(await provider.fileExists('multipart/fails.bin'), false)
    const uploads = await (await raw(bucket, '?uploads')).text()
    assert.ok(!uploads.includes('<Upload>'), uploads)
  })

  it('aborts a failed multipart upload and stores nothing', async () => {
    const id = uniqueId()
    const source = Readable.from((function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(MiB, i)
    })())
    await assert.rejects(provider.uploadFile({ external_id: id, stream: source, size: 10 * MiB, key: 'multipart/short.bin' }), {
      message: `Failed to upload file: Content-Length mismatch: expected ${10 * MiB}, got ${10 * MiB + MiB}`,
    })
    assert.equal(await provider.fileExists('multipart/short.bin'), false)
    const uploads = await (await raw(bucket, '?uploads')).text()
    assert.ok(!uploads.includes('<Upload>'), uploads)
  })

  it('refuses bad uploads before writing anything', async () => {
    const id = uniqueId()
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), metadata: { 'bad name': 'v' } }), {
      message: /^Failed to upload file: Invalid metadata name "bad name"/,
    })
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), metadata: { k: 'caf\u00e9' } }), {
      message: /^Failed to upload file: Invalid metadata value for "k"/,
    })
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), bucket: 'other' }), {
      message: `Failed to upload file: bucket "other" is not this provider's bucket "${bucket}"`,
    })
    await assert.rejects(provider.uploadFile({ external_id: id, buffer: Buffer.from('x'), key: '../x' }), { code: 'InvalidKey' })
    assert.equal(await provider.findFileByExternalId(id), null)
  })

  it('an empty external id names nothing', async () => {
    await raw(bucket, 'foreign/no-id.txt', { method: 'PUT', body: 'no external id here' })
    assert.equal(await provider.findFileByExternalId(''), null)
    assert.equal(await provider.fileExistsByExternalId(''), false)
    await assert.rejects(provider.deleteFileByExternalId(''), { code: 'NotFound' })
    assert.equal((await raw(bucket, 'foreign/no-id.txt', { method: 'HEAD' })).status, 200)
    await assert.rejects(provider.uploadFile({ external_id: '', buffer: Buffer.from('x') }), {
      message: 'Failed to upload file: external_id must not be empty',
    })
  })

  it("lists and scans past keys no method can address, and refuses this library's own prefix", async () => {
    const b = await freshBucket()
    const p = providerFor(b)
    const odd = await raw(b, 'legacy//double.txt', { method: 'PUT', body: 'odd', headers: { 'x-amz-meta-external_id': 'odd-1' } })
    assert.equal(odd.status, 200)
    await p.uploadFile({ external_id: 'fine-1', buffer: Buffer.from('fine'), key: 'legacy/fine.txt' })
    assert.deepEqual((await p.listFiles()).files.map((f) => f.key), ['legacy/fine.txt'])
    assert.equal(await p.findFileByExternalId('odd-1'), null)
    assert.equal((await p.findFileByExternalId('fine-1')).key, 'legacy/fine.txt')
    await assert.rejects(p.uploadFile({ external_id: 'x', buffer: Buffer.from('x'), key: '.crunchycone-storage/external-ids/fine-1' }), {
      code: 'InvalidKey',
    })
  })

  it('falls back from an index entry whose object changed, whatever the range', async () => {
    const a = uniqueId()
    await provider.uploadFile({ external_id: a, buffer: pattern(100, 1), key: 'moved/a.bin' })
    // Another client replaces the object with a smaller one of another id; A now lives elsewhere.
    await raw(bucket, 'moved/a.bin', { method: 'PUT', body: 'tiny', headers: { 'x-amz-meta-external_id': 'someone-else' } })
    await assert.rejects(provider.getFileStreamByExternalId(a, { start: 50 }), { code: 'NotFound', message: `File with external_id ${a} not found` })
    await raw(bucket, 'moved/b.bin', { method: 'PUT', body: pattern(100, 1), headers: { 'x-amz-meta-external_id': a } })
    const s = await provider.getFileStreamByExternalId(a, { start: 50 })
    assert.deepEqual(await collect(s.stream), pattern(100, 1).subarray(50))
  })

  it('fails a listing that does not advance, instead of looping', async () => {
    const p = providerFor(await freshBucket())
    proxy.set({ stuckListing: true })
    try {
      await assert.rejects(p.listFiles(), { message: 'Failed to list files: Failed to list objects: the listing did not advance' })
      await assert.rejects(p.findFileByExternalId('anything'), /the listing did not advance/)
    } finally {
      proxy.set({})
    }
  })

  it('lists 2,500 objects across pages with continuationToken', async () => {
    const b = await freshBucket()
    const p = providerFor(b)
    const keys = Array.from({ length: 2500 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`)
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key, j) =>
          raw(b, key, { method: 'PUT', body: 'x'.repeat((i + j) % 7), headers: { 'x-amz-meta-external_id': `id-${i + j}`, 'content-type': 'text/plain' } }),
        ),
      )
    }
    const seen = []
    let token
    const pages = []
    do {
      const page = await p.listFiles({ limit: 1000, continuationToken: token })
      pages.push(page.files.length)
      seen.push(...page.files.map((f) => f.key))
      assert.equal(page.totalCount, undefined)
      token = page.continuationToken
      assert.equal(page.hasMore, token !== undefined)
    } while (token)
    assert.deepEqual(pages, [1000, 1000, 500])
    assert.deepEqual(seen, keys)

    // Filters apply before paging; sorted listings count the whole set.
    const small = await p.listFiles({ prefix: 'many/00', maxSize: 0, limit: 5 })
    assert.deepEqual(small.files.map((f) => f.key), ['many/0000.txt', 'many/0007.txt', 'many/0014.txt', 'many/0021.txt', 'many/0028.txt'])
    assert.equal(small.hasMore, true)
    const next = await p.listFiles({ prefix: 'many/00', maxSize: 0, limit: 5, continuationToken: small.continuationToken })
    assert.equal(next.files[0].key, 'many/0035.txt')
    const sorted = await p.listFiles({ prefix: 'many/24', sortBy: 'size', sortOrder: 'desc', limit: 10, offset: 5 })
    assert.equal(sorted.totalCount, 100)
    assert.equal(sorted.nextOffset, 15)
    assert.deepEqual(sorted.files.map((f) => f.size), Array(10).fill(6))
    const found = await p.searchFiles({ query: 'id-2499', searchFields: ['external_id'] })
    assert.deepEqual(found.files.map((f) => f.key), ['many/2499.txt'])
    assert.equal((await p.findFileByExternalId('id-1234')).key, 'many/1234.txt')
  })

  it('resumes a connection lost mid-stream, byte-exact', async () => {
    const data = pattern(2 * MiB, 5)
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'faults/drop.bin' })
    proxy.set({ body: { mode: 'cut', after: 300 * 1024, times: 1 } })
    try {
      assert.deepEqual(await collect((await provider.getFileStream(key)).stream), data)
    } finally {
      proxy.set({})
    }
  })

  it('fails, never ends short, when the connection keeps dropping', async () => {
    const data = pattern(2 * MiB, 7)
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'faults/drops.bin' })
    for (const responseType of ['node', 'web']) {
      // More drops than the client retries: the stream must error, whatever it delivered.
      proxy.set({ body: { mode: 'cut', after: 300 * 1024 } })
      try {
        const s = await provider.getFileStream(key, { responseType })
        await assert.rejects(collect(s.stream), { message: /Failed to read file stream/ })
      } finally {
        proxy.set({})
      }
    }
  })

  it('times out and aborts mid-stream', async () => {
    const data = pattern(2 * MiB, 6)
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: data, key: 'faults/stall.bin' })
    proxy.set({ body: { mode: 'stall', after: 256 * 1024 } })
    try {
      const s = await provider.getFileStream(key, { timeout: 3000 })
      await assert.rejects(collect(s.stream), { code: 'Timeout', message: 'File stream request timeout after 3000ms' })
      const controller = new AbortController()
      const t = await provider.getFileStream(key, { signal: controller.signal, responseType: 'web' })
      const reader = t.stream.getReader()
      assert.ok((await reader.read()).value.length > 0)
      setTimeout(() => controller.abort(), 50)
      await assert.rejects(collect({ [Symbol.asyncIterator]: () => ({ next: () => reader.read() }) }), { name: 'AbortError' })
    } finally {
      proxy.set({})
    }
  })

  it('answers not-found cases with the original messages', async () => {
    await assert.rejects(provider.getFileStream('nope/x.bin'), { code: 'NotFound', message: 'File with key nope/x.bin not found' })
    await assert.rejects(provider.getFileStreamByExternalId('nope'), { code: 'NotFound', message: 'File with external_id nope not found' })
    await assert.rejects(provider.deleteFileByExternalId('nope'), { code: 'NotFound', message: 'File with external_id nope not found' })
    await assert.rejects(provider.getFileUrlByExternalId('nope'), { code: 'NotFound', message: 'File with external_id nope not found' })
    assert.equal(await provider.fileExists('nope/x.bin'), false)
    await provider.deleteFile('nope/x.bin') // S3 semantics: deleting nothing succeeds
    // Signed URLs are not existence checks (as in the original).
    assert.match(await provider.getFileUrl('nope/x.bin'), /X-Amz-Signature=/)
  })

  it('keeps credentials and signatures out of errors', async () => {
    const p = providerFor('no-such-bucket')
    const errors = [
      await p.uploadFile({ external_id: 'x', buffer: Buffer.from('x') }).catch((e) => e),
      await p.getFileStream('k').catch((e) => e),
      await p.listFiles().catch((e) => e),
      await p.getFileVisibility('k').catch((e) => e),
      await p.findFileByExternalId('x').catch((e) => e),
    ]
    for (const e of errors) {
      assert.ok(e instanceof Error, String(e))
      assert.doesNotMatch(e.message, new RegExp(`${SECRET}|Authorization|X-Amz-Signature|X-Amz-Credential|AKIDTEST`, 'i'))
    }
    assert.match(errors[0].message, /^Failed to upload file: .*NoSuchBucket/s)
    assert.match(errors[2].message, /^Failed to list files: Failed to list objects: NoSuchBucket/)

    // A server refusing the signature echoes the key id and what was signed: none of it is kept.
    const { key } = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('s'), key: 'sig/a.txt' })
    proxy.set({ badSignature: true })
    try {
      const refused = [
        await provider.uploadFile({ external_id: 'x', buffer: Buffer.from('x') }).catch((e) => e),
        await provider.uploadFile({ external_id: 'y', buffer: pattern(9 * MiB, 1) }).catch((e) => e),
        await provider.getFileStream(key).catch((e) => e),
        await provider.deleteFile(key).catch((e) => e),
        await provider.fileExists(key).catch((e) => e),
        await provider.listFiles().catch((e) => e),
        await provider.getFileVisibility(key).catch((e) => e),
      ]
      for (const e of refused) {
        assert.ok(e instanceof Error, String(e))
        assert.doesNotMatch(e.message, /AKIDTEST|StringToSign|SignatureProvided|CanonicalRequest|abababab/, e.message)
      }
      assert.match(refused[0].message, /^Failed to upload file: .*SignatureDoesNotMatch: The request signature we calculated/s)
      assert.match(refused[5].message, /SignatureDoesNotMatch/)
      assert.equal(refused[4].code, 'Unauthorized')
    } finally {
      proxy.set({})
    }
  })

  it('uses path-style requests where a virtual host cannot work (an IP endpoint)', async () => {
    const p = providerFor(bucket, { forcePathStyle: false })
    const r = await p.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('ip'), key: 'style/ip.txt' })
    assert.equal(r.url, `${proxy.endpoint}/${bucket}/style/ip.txt`)
    assert.equal((await collect((await p.getFileStream(r.key)).stream)).toString(), 'ip')
  })
})

describe('s3: configuration from the environment (initializeStorageProvider)', () => {
  const address = async (p) => {
    const u = new URL(await p.getFileUrl('k.txt'))
    return `${u.origin}${u.pathname} ${u.searchParams.get('X-Amz-Credential').split('/').slice(0, 3).join('/')}`
  }

  it("builds each S3 service from its variables, with the original's names", async () => {
    const cases = [
      ['aws', { CRUNCHYCONE_AWS_ACCESS_KEY_ID: 'K', CRUNCHYCONE_AWS_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_AWS_REGION: 'eu-west-1', CRUNCHYCONE_S3_BUCKET: 'bkt' }, lib.AWSS3Provider, 'https://bkt.s3.eu-west-1.amazonaws.com/k.txt K/20'],
      ['S3', { CRUNCHYCONE_AWS_ACCESS_KEY_ID: 'K', CRUNCHYCONE_AWS_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_AWS_REGION: 'eu-west-1', CRUNCHYCONE_S3_BUCKET: 'bkt' }, lib.AWSS3Provider, 'https://bkt.s3.eu-west-1.amazonaws.com/k.txt K/20'],
      ['digitalocean', { CRUNCHYCONE_DIGITALOCEAN_SPACES_KEY: 'K', CRUNCHYCONE_DIGITALOCEAN_SPACES_SECRET: 'S', CRUNCHYCONE_DIGITALOCEAN_SPACES_REGION: 'ams3', CRUNCHYCONE_DIGITALOCEAN_SPACES_BUCKET: 'bkt' }, lib.DigitalOceanSpacesProvider, 'https://bkt.ams3.digitaloceanspaces.com/k.txt K/20'],
      ['wasabi', { CRUNCHYCONE_WASABI_ACCESS_KEY: 'K', CRUNCHYCONE_WASABI_SECRET_KEY: 'S', CRUNCHYCONE_WASABI_REGION: 'eu-central-1', CRUNCHYCONE_WASABI_BUCKET: 'bkt' }, lib.WasabiProvider, 'https://s3.eu-central-1.wasabisys.com/bkt/k.txt K/20'],
      ['backblaze', { CRUNCHYCONE_BACKBLAZE_KEY_ID: 'K', CRUNCHYCONE_BACKBLAZE_APPLICATION_KEY: 'S', CRUNCHYCONE_BACKBLAZE_REGION: 'us-west-004', CRUNCHYCONE_BACKBLAZE_BUCKET: 'bkt' }, lib.BackblazeB2Provider, 'https://s3.us-west-004.backblazeb2.com/bkt/k.txt K/20'],
      ['r2', { CRUNCHYCONE_R2_ACCESS_KEY_ID: 'K', CRUNCHYCONE_R2_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_R2_ACCOUNT_ID: 'acct', CRUNCHYCONE_R2_BUCKET: 'bkt' }, lib.CloudflareR2Provider, 'https://acct.r2.cloudflarestorage.com/bkt/k.txt K/20'],
    ]
    for (const [type, vars, cls, expected] of cases) {
      await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: type, ...vars }, async () => {
        lib.initializeStorageProvider()
        const p = lib.getStorageProvider()
        assert.ok(p instanceof cls, type)
        assert.ok((await address(p)).startsWith(expected), `${type}: ${await address(p)}`)
      })
    }
  })

  it('names every missing variable and keeps the current provider', async () => {
    await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: 'wasabi', CRUNCHYCONE_WASABI_REGION: 'x' }, async () => {
      const before = providerFor('kept')
      lib.setStorageProvider(before)
      assert.throws(() => lib.initializeStorageProvider(), {
        message: 'Missing required environment variables for storage provider: CRUNCHYCONE_WASABI_ACCESS_KEY, CRUNCHYCONE_WASABI_SECRET_KEY, CRUNCHYCONE_WASABI_BUCKET',
      })
      assert.equal(lib.getStorageProvider(), before)
      lib.setStorageProvider(null)
      assert.throws(() => lib.getStorageProvider(), { message: 'Storage provider not initialized. Call initializeStorageProvider() first.' })
    })
  })

  it('s3-custom reaches any S3-compatible server (here moto, path style over http)', async () => {
    const b = await freshBucket()
    const vars = {
      CRUNCHYCONE_STORAGE_PROVIDER: 's3-custom',
      CRUNCHYCONE_S3_ACCESS_KEY_ID: 'K',
      CRUNCHYCONE_S3_SECRET_ACCESS_KEY: SECRET,
      CRUNCHYCONE_S3_REGION: 'us-east-1',
      CRUNCHYCONE_S3_BUCKET: b,
      CRUNCHYCONE_S3_ENDPOINT: server.endpoint.replace('http://', ''),
      CRUNCHYCONE_S3_USE_SSL: 'false',
      CRUNCHYCONE_S3_FORCE_PATH_STYLE: 'true',
      CRUNCHYCONE_S3_CDN_URL: 'https://cdn.example.com',
    }
    await withEnv(vars, async () => {
      lib.initializeStorageProvider()
      const p = lib.getStorageProvider()
      const r = await p.uploadFile({ external_id: 'env-1', buffer: Buffer.from('via env'), filename: 'e.txt' })
      assert.equal(r.url, `https://cdn.example.com/${r.key}`)
      assert.equal((await collect((await p.getFileStreamByExternalId('env-1')).stream)).toString(), 'via env')
      assert.ok((await address(p)).startsWith(`${server.endpoint}/${b}/k.txt K/20`))
    })
  })
})
