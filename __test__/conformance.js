'use strict'
// The provider conformance suite: one scenario list that every provider runs through an adapter.
//
// adapter = {
//   name,
//   create(): Promise<StorageProvider>     a provider on a fresh, empty store
//   messages: { uploadFailed(cause), streamNotFound(key), notFoundById(id) }   the provider's own wording
//   findHasVisibility?: false   when find/list do not report visibility (S3: it costs a request each)
//   temporaryPublic?: true      when "public" is a signed URL that expires (Azure), not a state
//   stalledKey?(provider): Promise<{ key, release() }>   a key whose body never arrives (timeout tests)
//   streamsNeedSize?: true      when a stream upload needs `size` (CrunchyCone's presigned PUT)
//   readUrl?(url): Promise<Buffer>   the bytes a file URL gives, where fetch cannot get them (local)
// }

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pattern, collect, sleep, uniqueId, nodeStreamOf, webStreamOf, keysByPages } = require('./helpers/util')

const MiB = 1024 * 1024

function conformance(adapter) {
  describe(`${adapter.name}: StorageProvider conformance`, () => {
    let provider
    const size = 3 * MiB + 123 // several native chunks, and a short last one
    const data = pattern(size, 7)
    let big // { key, external_id }

    before(async () => {
      provider = await adapter.create()
      const id = uniqueId()
      const r = await provider.uploadFile({ external_id: id, buffer: data, key: 'big/data.bin' })
      big = { key: r.key, external_id: id }
    })

    const stream = (key, options) => provider.getFileStream(key, options)

    describe('upload, find, exists, delete', () => {
      it('uploads a buffer and finds it by external id', async () => {
        const id = uniqueId()
        const r = await provider.uploadFile({
          external_id: id,
          buffer: Buffer.from('hello'),
          filename: 'hello.txt',
          metadata: { owner: 'alice' },
        })
        assert.equal(r.external_id, id)
        assert.match(r.key, new RegExp(`^files/${id}-\\d+\\.txt$`))
        assert.equal(r.size, 5)
        assert.equal(r.contentType, 'text/plain')
        assert.equal(r.visibility, 'private')
        assert.deepEqual(r.metadata, { owner: 'alice' })
        const found = await provider.findFileByExternalId(id)
        assert.equal(found.key, r.key)
        assert.equal(found.size, 5)
        assert.equal(found.contentType, 'text/plain')
        assert.ok(found.lastModified instanceof Date)
        assert.ok(Math.abs(found.lastModified.getTime() - Date.now()) < 60_000)
        assert.deepEqual(found.metadata, { owner: 'alice' })
        assert.equal(await provider.fileExists(r.key), true)
        assert.equal(await provider.fileExistsByExternalId(id), true)
      })

      it('uploads from a file path, a Node stream and a Web stream', async () => {
        const body = pattern(200_000, 3)
        const tmp = path.join(os.tmpdir(), `ccs-src-${process.pid}-${Date.now()}`)
        fs.writeFileSync(tmp, body)
        try {
          // `size` is what a Web or Node stream upload must declare for backends that need the length.
          for (const source of [{ filePath: tmp }, { stream: nodeStreamOf(body, 7000), size: body.length }, { stream: webStreamOf(body, 9000), size: body.length }]) {
            const r = await provider.uploadFile({ external_id: uniqueId(), filename: 'x.bin', ...source })
            assert.equal(r.size, body.length)
            const s = await stream(r.key)
            assert.ok((await collect(s.stream)).equals(body))
          }
        } finally {
          fs.rmSync(tmp, { force: true })
        }
      })

      it('requires exactly one source', async () => {
        const msg = { message: 'Exactly one of filePath, stream, or buffer must be provided' }
        await assert.rejects(provider.uploadFile({ external_id: uniqueId() }), msg)
        await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('a'), filePath: '/x' }), msg)
      })

      it('a failing source stream fails the upload and leaves nothing behind', async () => {
        const id = uniqueId()
        const failing = new (require('node:stream').Readable)({
          read() {
            this.destroy(new Error('source broke'))
          },
        })
        await assert.rejects(provider.uploadFile({ external_id: id, stream: failing, size: 1000, key: 'broken/one.bin' }), {
          message: adapter.messages.uploadFailed('source broke'),
        })
        assert.equal(await provider.fileExists('broken/one.bin'), false)
        assert.equal(await provider.findFileByExternalId(id), null)
      })

      it('reports progress for buffers, files and streams', async () => {
        const body = pattern(9 * MiB + 5, 3)
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-progress-')), 'body.bin')
        fs.writeFileSync(file, body)
        const sources = { buffer: { buffer: body }, filePath: { filePath: file }, stream: { stream: nodeStreamOf(body, MiB), size: body.length } }
        for (const [name, source] of Object.entries(sources)) {
          const seen = []
          const r = await provider.uploadFile({ external_id: uniqueId(), key: `progress/${name}.bin`, ...source, onProgress: (p) => seen.push(p) })
          assert.equal(r.size, body.length)
          assert.ok(seen.length >= 2, `${name}: ${seen.length} progress calls`)
          assert.ok(seen.every((p, i) => p.total === body.length && p.loaded > (seen[i - 1]?.loaded ?? 0)), `${name}: ${JSON.stringify(seen)}`)
          assert.equal(seen.at(-1).loaded, body.length)
          assert.ok((await collect((await provider.getFileStream(r.key)).stream)).equals(body), name)
        }
        // A stream of unknown size reports no total (where streams need no size).
        const seen = []
        const unsized = provider.uploadFile({ external_id: uniqueId(), key: 'progress/unsized.bin', stream: webStreamOf(body.subarray(0, 3 * MiB), MiB), onProgress: (p) => seen.push(p) })
        if (adapter.streamsNeedSize) return assert.rejects(unsized, { message: 'File size must be provided when uploading from stream' })
        await unsized
        assert.deepEqual(seen, [1, 2, 3].map((n) => ({ loaded: n * MiB, total: undefined })))
      })

      it('an aborted upload rejects with the signal\'s reason and leaves nothing behind', async () => {
        const id = uniqueId()
        const controller = new AbortController()
        let sent = 0
        // Two chunks, then a source that waits: the abort comes in the middle of the upload.
        const source = new (require('node:stream').Readable)({
          read() {
            if (sent++ < 2) this.push(Buffer.alloc(MiB, 9))
            else setTimeout(() => controller.abort(), 20)
          },
        })
        const upload = provider.uploadFile({ external_id: id, key: 'aborted/one.bin', stream: source, size: 8 * MiB, signal: controller.signal })
        await assert.rejects(upload, (e) => e === controller.signal.reason)
        assert.equal(await provider.fileExists('aborted/one.bin'), false)
        assert.equal(await provider.findFileByExternalId(id), null)

        // A source that never yields: the abort stops it (destroyed), and the call rejects at once.
        const silent = new (require('node:stream').Readable)({ read() {} })
        const late = new AbortController()
        const hung = provider.uploadFile({ external_id: uniqueId(), key: 'aborted/hung.bin', stream: silent, size: 10, signal: late.signal })
        setTimeout(() => late.abort(), 50)
        await assert.rejects(hung, (e) => e === late.signal.reason)
        assert.equal(silent.destroyed, true)
        // Aborted while the upload is being started.
        const early = new AbortController()
        const starting = provider.uploadFile({ external_id: uniqueId(), key: 'aborted/early.bin', stream: new (require('node:stream').Readable)({ read() {} }), size: 10, signal: early.signal })
        early.abort()
        await assert.rejects(starting, (e) => e === early.signal.reason)
        assert.equal(await provider.fileExists('aborted/early.bin'), false)

        const already = AbortSignal.abort()
        await assert.rejects(provider.uploadFile({ external_id: uniqueId(), key: 'aborted/two.bin', buffer: Buffer.from('x'), signal: already }), (e) => e === already.reason)
        assert.equal(await provider.fileExists('aborted/two.bin'), false)
        await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), signal: {} }), { name: 'StorageError', code: 'InvalidInput', message: 'Invalid signal: expected an AbortSignal, got an object' })
        await assert.rejects(provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('x'), onProgress: 5 }), { name: 'StorageError', code: 'InvalidInput', message: 'Invalid onProgress: expected a function, got number 5' })
      })

      it('deletes by key and by external id', async () => {
        const id = uniqueId()
        const r = await provider.uploadFile({ external_id: id, buffer: Buffer.from('bye') })
        await provider.deleteFileByExternalId(id)
        assert.equal(await provider.fileExists(r.key), false)
        assert.equal(await provider.findFileByExternalId(id), null)
        const r2 = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('bye') })
        await provider.deleteFile(r2.key)
        assert.equal(await provider.fileExists(r2.key), false)
      })

      it('reports missing files', async () => {
        const id = uniqueId('missing')
        assert.equal(await provider.findFileByExternalId(id), null)
        assert.equal(await provider.fileExistsByExternalId(id), false)
        assert.equal(await provider.fileExists('no/such/key'), false)
        const notFound = { message: adapter.messages.notFoundById(id) }
        await assert.rejects(provider.deleteFileByExternalId(id), notFound)
        await assert.rejects(provider.getFileUrlByExternalId(id), notFound)
        await assert.rejects(provider.getFileStreamByExternalId(id), notFound)
        await assert.rejects(provider.getFileVisibilityByExternalId(id), {
          message: `File with external_id ${id} not found`,
        })
        await assert.rejects(stream('no/such/key'), { message: adapter.messages.streamNotFound('no/such/key'), code: 'NotFound' })
      })

      it('gives URLs by key and by external id that serve the file', async () => {
        const read = adapter.readUrl ?? (async (url) => {
          const r = await fetch(url)
          assert.equal(r.status, 200, url)
          return Buffer.from(await r.arrayBuffer())
        })
        const byKey = await provider.getFileUrl(big.key)
        const byId = await provider.getFileUrlByExternalId(big.external_id)
        assert.ok((await read(byKey)).equals(data), byKey)
        assert.ok((await read(byId)).equals(data), byId)
        // The same object; a signed query may differ (it carries the signing time).
        assert.equal(byId.split('?')[0], byKey.split('?')[0])
      })
    })

    describe('list and search', () => {
      let prefix
      before(async () => {
        prefix = `list-${uniqueId('p')}/`
        const files = [
          ['a.txt', 'aaaa', { tag: 'x' }],
          ['b.png', 'bb', { tag: 'y' }],
          ['c.txt', 'c', undefined],
          ['d.json', '{"d":1}', { tag: 'x', extra: '1' }],
          ['sub/e.txt', 'eeeee', undefined],
        ]
        for (const [name, body, metadata] of files) {
          await provider.uploadFile({ external_id: `${prefix}${name}`.replace(/\//g, '_'), key: prefix + name, buffer: Buffer.from(body), metadata })
        }
      })
      const keys = (r) => r.files.map((f) => f.key.slice(prefix.length))

      it('filters by prefix, pattern, type, size and metadata', async () => {
        const all = await provider.listFiles({ prefix, sortBy: 'key' })
        assert.deepEqual(keys(all), ['a.txt', 'b.png', 'c.txt', 'd.json', 'sub/e.txt'])
        assert.equal(all.totalCount, 5)
        assert.equal(all.hasMore, false)
        assert.deepEqual(keys(await provider.listFiles({ prefix, keyPattern: '*.TXT', sortBy: 'key' })), ['a.txt', 'c.txt', 'sub/e.txt'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, contentType: 'image/png' })), ['b.png'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, contentTypePrefix: 'text/', minSize: 4, sortBy: 'key' })), ['a.txt', 'sub/e.txt'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, maxSize: 2, sortBy: 'size' })), ['c.txt', 'b.png'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, metadata: { tag: 'x' }, sortBy: 'key' })), ['a.txt', 'd.json'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, hasMetadata: ['extra'] })), ['d.json'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, filename: 'E.T', sortBy: 'key' })), ['sub/e.txt'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, filenamePattern: '?.png' })), ['b.png'])
        assert.deepEqual(keys(await provider.listFiles({ prefix, externalIds: [`${prefix}c.txt`.replace(/\//g, '_')] })), ['c.txt'])
        const future = new Date(Date.now() + 3600_000)
        assert.equal((await provider.listFiles({ prefix, modifiedAfter: future })).files.length, 0)
        assert.equal((await provider.listFiles({ prefix, modifiedBefore: future })).files.length, 5)
      })

      it('sorts and pages', async () => {
        const page1 = await provider.listFiles({ prefix, sortBy: 'size', sortOrder: 'desc', limit: 2 })
        assert.deepEqual(keys(page1), ['d.json', 'sub/e.txt'])
        assert.equal(page1.hasMore, true)
        assert.equal(page1.nextOffset, 2)
        const page2 = await provider.listFiles({ prefix, sortBy: 'size', sortOrder: 'desc', limit: 2, offset: 2 })
        assert.deepEqual(keys(page2), ['a.txt', 'b.png'])
        const page3 = await provider.listFiles({ prefix, sortBy: 'size', sortOrder: 'desc', limit: 2, continuationToken: page2.continuationToken })
        assert.deepEqual(keys(page3), ['c.txt'])
        assert.equal(page3.hasMore, false)
        const bare = await provider.listFiles({ prefix, includeUrls: false, includeMetadata: false, limit: 1 })
        assert.equal(bare.files[0].url, '')
        assert.equal(bare.files[0].metadata, undefined)
      })

      it('sorts keys as the original did: by code unit, or with localeCompare on local storage', async () => {
        // A prefix of its own: the other listing tests count what is under theirs.
        const mixed = `sort-${uniqueId('p')}/`
        for (const name of ['apple.txt', 'Zeta.txt']) {
          await provider.uploadFile({ external_id: `${mixed}${name}`.replace(/\//g, '_'), key: mixed + name, buffer: Buffer.from(name) })
        }
        const sorted = (await provider.listFiles({ prefix: mixed, sortBy: 'key' })).files.map((f) => f.key.slice(mixed.length))
        assert.deepEqual(sorted, adapter.name === 'local' ? ['apple.txt', 'Zeta.txt'] : ['Zeta.txt', 'apple.txt'])
      })

      it('pages with continuationToken, in key order, without sortBy', async () => {
        const { keys: seen, sizes } = await keysByPages(provider, { prefix, limit: 2 }, 5)
        assert.deepEqual(seen.map((k) => k.slice(prefix.length)), ['a.txt', 'b.png', 'c.txt', 'd.json', 'sub/e.txt'])
        assert.deepEqual(sizes, [2, 2, 1])
      })

      it('searches', async () => {
        const r = await provider.searchFiles({ query: 'TAG":"Y', externalIdPrefix: prefix.replace(/\//g, '_') })
        assert.deepEqual(keys(r), ['b.png'])
        assert.equal(r.query, 'TAG":"Y')
        const exact = await provider.searchFiles({ query: 'c.txt', searchFields: ['filename'], exactMatch: true, externalIdPrefix: prefix.replace(/\//g, '_') })
        assert.deepEqual(keys(exact), ['c.txt'])
        const cs = await provider.searchFiles({ query: 'A.TXT', caseSensitive: true, externalIdPrefix: prefix.replace(/\//g, '_') })
        assert.equal(cs.files.length, 0)
      })

      it('refuses bad paging with a clear error', async () => {
        await assert.rejects(provider.listFiles({ limit: -1 }), /limit must be a non-negative integer/)
      })
    })

    describe('visibility', () => {
      it('round-trips public and private', async () => {
        const id = uniqueId()
        const r = await provider.uploadFile({ external_id: id, buffer: Buffer.from('v') })
        assert.equal((await provider.getFileVisibility(r.key)).visibility, 'private')
        const pub = await provider.setFileVisibility(r.key, 'public')
        assert.equal(pub.success, true)
        if (adapter.temporaryPublic) {
          assert.equal(pub.actualVisibility, 'temporary-public')
          assert.ok(pub.publicUrlExpiresAt instanceof Date && pub.publicUrlExpiresAt > new Date())
          const res = await fetch(pub.publicUrl)
          assert.equal(res.status, 200)
          assert.equal(await res.text(), 'v')
          // The object itself stays private: the URL is what is public.
          assert.equal((await provider.getFileVisibilityByExternalId(id)).visibility, 'private')
        } else {
          assert.equal(pub.actualVisibility, 'public')
          assert.equal((await provider.getFileVisibility(r.key)).visibility, 'public')
          assert.equal((await provider.getFileVisibilityByExternalId(id)).visibility, 'public')
          if (adapter.findHasVisibility !== false) assert.equal((await provider.findFileByExternalId(id)).visibility, 'public')
        }
        const priv = await provider.setFileVisibilityByExternalId(id, 'private')
        assert.equal(priv.actualVisibility, 'private')
        assert.equal((await provider.getFileVisibility(r.key)).visibility, 'private')
      })

      it('sets many at once', async () => {
        const a = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('a') })
        const b = await provider.uploadFile({ external_id: uniqueId(), buffer: Buffer.from('b') })
        const results = await provider.setMultipleFileVisibility([a.key, b.key, 'missing/key'], 'public')
        assert.deepEqual(results.map((r) => r.success), [true, true, false])
        if (adapter.temporaryPublic) assert.equal((await fetch(results[1].publicUrl)).status, 200)
        else assert.equal((await provider.getFileVisibility(b.key)).visibility, 'public')
      })

      it('reports missing files', async () => {
        const r = await provider.setFileVisibility('missing/key', 'public')
        assert.equal(r.success, false)
        assert.equal(r.message, 'File with key missing/key not found')
        const id = uniqueId('missing')
        const r2 = await provider.setFileVisibilityByExternalId(id, 'public')
        assert.equal(r2.success, false)
        assert.equal(r2.message, `File with external_id ${id} not found`)
        await assert.rejects(provider.getFileVisibility('missing/key'), { message: /File with key missing\/key not found$/ })
      })
    })

    describe('getFileStream', () => {
      it('node: every chunk owns its memory (a consumer may transfer it)', async () => {
        const parts = []
        for await (const chunk of (await stream(big.key)).stream) {
          // Transferring detaches the chunk's ArrayBuffer; no other chunk may share it.
          const moved = structuredClone(chunk, { transfer: [chunk.buffer] })
          parts.push(Buffer.from(moved.buffer, moved.byteOffset, moved.byteLength))
        }
        assert.deepEqual(Buffer.concat(parts), data)
      })

      for (const responseType of ['node', 'web']) {
        it(`${responseType}: full read, byte-exact, with metadata`, async () => {
          const s = await stream(big.key, { responseType })
          assert.equal(s.streamType, responseType)
          assert.equal(s.isPartialContent, false)
          assert.equal(s.range, undefined)
          assert.equal(s.contentLength, size)
          assert.equal(s.acceptsRanges, true)
          assert.equal(typeof s.contentType, 'string')
          assert.ok(s.lastModified instanceof Date)
          assert.equal(typeof s.etag, 'string')
          assert.equal(typeof s.cleanup, 'function')
          if (responseType === 'web') assert.ok(s.stream instanceof ReadableStream)
          else assert.equal(typeof s.stream.pipe, 'function')
          assert.ok((await collect(s.stream)).equals(data))
          await s.cleanup()
          await s.cleanup()
        })

        const ranges = [
          ['first byte', { start: 0, end: 0 }, 0, 0],
          ['last byte', { start: size - 1, end: size - 1 }, size - 1, size - 1],
          ['single byte in the middle', { start: 1_500_000, end: 1_500_000 }, 1_500_000, 1_500_000],
          ['open-ended', { start: size - 1000 }, size - 1000, size - 1],
          ['end only', { end: 99 }, 0, 99],
          ['end past the size', { start: 10, end: size + 5000 }, 10, size - 1],
          ['across chunks', { start: MiB - 3, end: 2 * MiB + 3 }, MiB - 3, 2 * MiB + 3],
          ['suffix (the last 500 bytes)', { suffix: 500 }, size - 500, size - 1],
          ['suffix of one byte', { suffix: 1 }, size - 1, size - 1],
          ['suffix larger than the file', { suffix: size + 10 }, 0, size - 1],
        ]
        for (const [name, opts, start, end] of ranges) {
          it(`${responseType}: range ${name}`, async () => {
            const s = await stream(big.key, { ...opts, responseType })
            assert.equal(s.isPartialContent, true)
            assert.deepEqual(s.range, { start, end, total: size })
            assert.equal(s.contentLength, end - start + 1)
            assert.ok((await collect(s.stream)).equals(data.subarray(start, end + 1)))
          })
        }
      }

      it('refuses invalid ranges before reading', async () => {
        const invalid = [{ start: -1 }, { start: 1.5 }, { end: -3 }, { start: 5, end: 4 }, { start: size }, { start: size + 10, end: size + 20 }, { start: Number.NaN }]
        const suffixes = [{ suffix: 0 }, { suffix: -1 }, { suffix: 2.5 }, { suffix: 10, start: 0 }, { suffix: 10, end: 20 }]
        for (const opts of [...invalid, ...suffixes]) {
          await assert.rejects(stream(big.key, opts), { code: 'InvalidRange', message: /^Invalid range/ }, JSON.stringify(opts))
        }
      })

      it('refuses an unknown responseType', async () => {
        await assert.rejects(stream(big.key, { responseType: 'bytes' }), { name: 'StorageError', code: 'InvalidInput', message: /Invalid responseType/ })
      })

      // Every option is checked at the boundary: a StorageError naming the option and the value,
      // never a message from napi's converters, and nothing is written.
      it('refuses options of the wrong type with InvalidInput, naming them', async () => {
        const { StorageError } = require('crunchycone-storage')
        const cases = [
          ['getFileStream start', () => provider.getFileStream(big.key, { start: '3' }), /^Invalid start: expected a number, got the string "3"$/],
          ['getFileStream end', () => provider.getFileStream(big.key, { end: true }), /^Invalid end: /],
          ['getFileStream suffix', () => provider.getFileStream(big.key, { suffix: 3n }), /^Invalid suffix: /],
          ['getFileStream start {}', () => provider.getFileStream(big.key, { start: {} }), /^Invalid start: .*an object$/],
          ['getFileStream signal', () => provider.getFileStream(big.key, { signal: {} }), /^Invalid signal: expected an AbortSignal/],
          ['getFileStream options', () => provider.getFileStream(big.key, 'web'), /^Invalid options: /],
          ['getFileStreamByExternalId timeout', () => provider.getFileStreamByExternalId('x', { timeout: '5' }), /^Invalid timeout: /],
          ['uploadFile size', () => provider.uploadFile({ external_id: uniqueId(), key: 'typed/a.bin', stream: nodeStreamOf(Buffer.from('x')), size: '100000' }), /^Invalid size: /],
          ['uploadFile metadata', () => provider.uploadFile({ external_id: uniqueId(), key: 'typed/b.bin', buffer: Buffer.from('x'), metadata: { n: 1 } }), /^Invalid metadata: /],
          ['uploadFile public', () => provider.uploadFile({ external_id: uniqueId(), key: 'typed/c.bin', buffer: Buffer.from('x'), public: 'yes' }), /^Invalid public: /],
          ['listFiles limit', () => provider.listFiles({ limit: '10' }), /Invalid limit: /],
          ['searchFiles searchFields', () => provider.searchFiles({ query: 'a', searchFields: 'key' }), /Invalid searchFields: /],
          ['getFileUrl expiresIn', () => provider.getFileUrl(big.key, '60'), /^Invalid expiresIn: /],
          ['setFileVisibility visibility', () => provider.setFileVisibility(big.key, 1), /^Invalid visibility: /],
          ['setMultipleFileVisibility keys', () => provider.setMultipleFileVisibility(big.key, 'public'), /^Invalid keys: /],
        ]
        for (const [name, run, message] of cases) {
          await assert.rejects(run(), (e) => {
            assert.ok(e instanceof StorageError, `${name}: ${e}`)
            assert.equal(e.code, 'InvalidInput', name)
            assert.equal(e.statusCode, 400, name)
            assert.match(e.message, message, name)
            assert.doesNotMatch(e.message, /napi|rust|f64|u32|Failed to convert/i, name)
            return true
          })
        }
        for (const [name, run] of [['key', () => provider.getFileStream(42)], ['key', () => provider.fileExists(null)], ['key', () => provider.deleteFile({})]]) {
          await assert.rejects(run(), (e) => e instanceof StorageError && e.code === 'InvalidKey' && /^Invalid key: expected a string/.test(e.message), name)
        }
        assert.equal((await provider.listFiles({ prefix: 'typed/' })).files.length, 0, 'nothing was written')
        // No options at all is no options.
        const s = await provider.getFileStream(big.key, null)
        await s.cleanup()
        assert.equal((await provider.listFiles(null)).hasMore !== undefined, true)
      })

      it('reports a missing file as NotFound, a StorageError with status 404', async () => {
        const { StorageError } = require('crunchycone-storage')
        await assert.rejects(provider.getFileStream('missing/none.bin'), (e) => e.key === 'missing/none.bin')
        for (const run of [() => provider.getFileStream('missing/none.bin'), () => provider.getFileStreamByExternalId(uniqueId())]) {
          await assert.rejects(run(), (e) => e instanceof StorageError && e.code === 'NotFound' && e.statusCode === 404 && e.provider === provider.constructor.name)
        }
      })

      it('streams by external id', async () => {
        const s = await provider.getFileStreamByExternalId(big.external_id, { start: 5, end: 9 })
        assert.ok((await collect(s.stream)).equals(data.subarray(5, 10)))
        const tail = await provider.getFileStreamByExternalId(big.external_id, { suffix: 7 })
        assert.deepEqual(tail.range, { start: size - 7, end: size - 1, total: size })
        assert.ok((await collect(tail.stream)).equals(data.subarray(size - 7)))
      })

      it('refuses a suffix of an empty file, as HTTP does', async () => {
        const empty = await provider.uploadFile({ external_id: uniqueId(), key: `empty/${uniqueId()}.bin`, buffer: Buffer.alloc(0) })
        await assert.rejects(stream(empty.key, { suffix: 5 }), { code: 'InvalidRange', message: /^Invalid range/ })
        assert.equal((await collect((await stream(empty.key)).stream)).length, 0)
      })

      it("rejects at once with an already-aborted signal, with the signal's reason itself", async () => {
        const reason = new Error('caller gave up')
        const c = new AbortController()
        c.abort(reason)
        await assert.rejects(stream(big.key, { signal: c.signal }), (e) => e === reason)
        await assert.rejects(provider.getFileStreamByExternalId(big.external_id, { signal: c.signal }), (e) => e === reason)
        const plain = AbortSignal.abort()
        await assert.rejects(stream(big.key, { signal: plain }), (e) => e === plain.reason && e.name === 'AbortError')
      })

      it("rejects the call when aborted while opening, with the signal's reason", async () => {
        const controller = new AbortController()
        const p = stream(big.key, { signal: controller.signal })
        controller.abort()
        await assert.rejects(p, (e) => e === controller.signal.reason && e.name === 'AbortError')
      })

      for (const responseType of ['node', 'web']) {
        it(`${responseType}: aborting mid-stream errors the stream with AbortError`, async () => {
          const controller = new AbortController()
          const s = await stream(big.key, { signal: controller.signal, responseType })
          let received = 0
          await assert.rejects(
            (async () => {
              for await (const chunk of s.stream) {
                received += chunk.byteLength
                controller.abort()
              }
            })(),
            { name: 'AbortError' },
          )
          assert.ok(received > 0 && received < size)
          await s.cleanup()
        })

        it(`${responseType}: aborting after the end changes nothing`, async () => {
          const controller = new AbortController()
          const s = await stream(big.key, { signal: controller.signal, responseType, start: 0, end: 9 })
          assert.ok((await collect(s.stream)).equals(data.subarray(0, 10)))
          controller.abort()
          await s.cleanup()
          // Still a complete, cleanly ended stream: nothing errored it after the fact.
          if (responseType === 'node') {
            assert.equal(s.stream.readableEnded, true)
            assert.equal(s.stream.errored, null)
          } else {
            assert.deepEqual(await s.stream.getReader().read(), { done: true, value: undefined })
          }
        })

        it(`${responseType}: a slow consumer never trips the timeout`, async () => {
          // The consumer holds off for twice the timeout once, and a little after every chunk.
          const s = await stream(big.key, { timeout: 1000, responseType })
          const parts = []
          for await (const chunk of s.stream) {
            parts.push(Buffer.from(chunk))
            await sleep(parts.length === 1 ? 2000 : 5)
          }
          assert.ok(Buffer.concat(parts).equals(data))
        })

        it(`${responseType}: cleanup releases a stream read partly or not at all`, async () => {
          const unread = await stream(big.key, { responseType })
          await unread.cleanup()
          await unread.cleanup()
          const partly = await stream(big.key, { responseType })
          if (responseType === 'web') {
            const reader = partly.stream.getReader()
            assert.ok((await reader.read()).value.byteLength > 0)
            await partly.cleanup()
            await assert.rejects(reader.read(), { name: 'AbortError' })
          } else {
            const closed = new Promise((r) => partly.stream.once('close', r))
            await new Promise((r) => partly.stream.once('data', r))
            await partly.cleanup()
            await closed
            assert.equal(partly.stream.destroyed, true)
          }
          await partly.cleanup()
        })
      }

      if (adapter.stalledKey) {
        it('times out when the source sends nothing', async () => {
          const stalled = await adapter.stalledKey(provider)
          try {
            await assert.rejects(stream(stalled.key, { timeout: 200 }), { code: 'Timeout', message: 'File stream request timeout after 200ms' })
          } finally {
            await stalled.release()
          }
        })
      }
    })
  })
}

module.exports = { conformance }
