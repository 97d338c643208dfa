'use strict'
// The original's `./storage` subpath: the module-level provider (initializeStorageProvider /
// setStorageProvider / getStorageProvider) and the helpers that call it, against a real local
// store; importable by name from CommonJS and ESM.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const path = require('node:path')
const { freshRoot } = require('./helpers/local')
const { collect, withEnv } = require('./helpers/util')
const storage = require('crunchycone-storage/storage')

describe('storage: the module-level provider and its helpers', () => {
  it('delegates every helper to the provider initializeStorageProvider chose', async () => {
    const root = freshRoot('helpers')
    await withEnv({ CRUNCHYCONE_STORAGE_PROVIDER: 'localstorage', CRUNCHYCONE_LOCALSTORAGE_PATH: root, CRUNCHYCONE_LOCALSTORAGE_BASE_URL: '/u' }, async () => {
      await assert.rejects(storage.fileExists('x'), { message: 'Storage provider not initialized. Call initializeStorageProvider() first.' })
      storage.initializeStorageProvider()
      const r = await storage.uploadFile({ external_id: 'h-1', buffer: Buffer.from('hello'), key: 'docs/a.txt', metadata: { team: 'x' } })
      assert.equal(r.key, 'docs/a.txt')
      assert.equal(await storage.fileExists('docs/a.txt'), true)
      assert.equal(await storage.fileExistsByExternalId('h-1'), true)
      assert.equal((await storage.findFileByExternalId('h-1')).size, 5)
      assert.equal(await storage.getFileUrl('docs/a.txt'), '/u/docs/a.txt')
      assert.equal(await storage.getFileUrlByExternalId('h-1'), '/u/docs/a.txt')
      assert.deepEqual((await storage.listFiles({ prefix: 'docs/' })).files.map((f) => f.key), ['docs/a.txt'])
      assert.deepEqual((await storage.searchFiles({ query: 'a.txt' })).files.map((f) => f.external_id), ['h-1'])
      const provider = storage.getStorageProvider()
      assert.equal((await collect((await provider.getFileStream('docs/a.txt')).stream)).toString(), 'hello')
      await storage.deleteFileByExternalId('h-1')
      assert.equal(await storage.fileExists('docs/a.txt'), false)
      await storage.uploadFile({ external_id: 'h-2', buffer: Buffer.from('x'), key: 'docs/b.txt' })
      await storage.deleteFile('docs/b.txt')
      assert.equal(await storage.findFileByExternalId('h-2'), null)
    })
  })

  it('reports every provider type available, and builds each without any SDK', () => {
    const AWS = { CRUNCHYCONE_AWS_ACCESS_KEY_ID: 'K', CRUNCHYCONE_AWS_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_AWS_REGION: 'eu-west-1', CRUNCHYCONE_S3_BUCKET: 'b' }
    const ENV = {
      localstorage: ['LocalStorageProvider', { CRUNCHYCONE_LOCALSTORAGE_PATH: freshRoot('types') }],
      crunchycone: ['CrunchyConeProvider', { CRUNCHYCONE_API_URL: 'http://127.0.0.1:9', CRUNCHYCONE_API_KEY: 'k', CRUNCHYCONE_PROJECT_ID: 'p' }],
      aws: ['AWSS3Provider', AWS],
      s3: ['AWSS3Provider', AWS],
      digitalocean: ['DigitalOceanSpacesProvider', { CRUNCHYCONE_DIGITALOCEAN_SPACES_KEY: 'K', CRUNCHYCONE_DIGITALOCEAN_SPACES_SECRET: 'S', CRUNCHYCONE_DIGITALOCEAN_SPACES_REGION: 'ams3', CRUNCHYCONE_DIGITALOCEAN_SPACES_BUCKET: 'b' }],
      wasabi: ['WasabiProvider', { CRUNCHYCONE_WASABI_ACCESS_KEY: 'K', CRUNCHYCONE_WASABI_SECRET_KEY: 'S', CRUNCHYCONE_WASABI_REGION: 'eu-central-1', CRUNCHYCONE_WASABI_BUCKET: 'b' }],
      backblaze: ['BackblazeB2Provider', { CRUNCHYCONE_BACKBLAZE_KEY_ID: 'K', CRUNCHYCONE_BACKBLAZE_APPLICATION_KEY: 'S', CRUNCHYCONE_BACKBLAZE_REGION: 'us-west-004', CRUNCHYCONE_BACKBLAZE_BUCKET: 'b' }],
      r2: ['CloudflareR2Provider', { CRUNCHYCONE_R2_ACCESS_KEY_ID: 'K', CRUNCHYCONE_R2_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_R2_ACCOUNT_ID: 'a', CRUNCHYCONE_R2_BUCKET: 'b' }],
      's3-custom': ['S3CompatibleProvider', { CRUNCHYCONE_S3_ACCESS_KEY_ID: 'K', CRUNCHYCONE_S3_SECRET_ACCESS_KEY: 'S', CRUNCHYCONE_S3_REGION: 'us-east-1', CRUNCHYCONE_S3_BUCKET: 'b' }],
      gcp: ['GCPStorageProvider', { CRUNCHYCONE_GCP_PROJECT_ID: 'p', CRUNCHYCONE_GCP_BUCKET: 'b' }],
      azure: ['AzureStorageProvider', { CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_NAME: 'a', CRUNCHYCONE_AZURE_STORAGE_ACCOUNT_KEY: Buffer.from('a key of sixteen').toString('base64'), CRUNCHYCONE_AZURE_STORAGE_CONTAINER: 'c' }],
    }
    // In a child where loading any cloud SDK fails: each type the package reports is built from
    // its variables, as the class the original builds.
    const script = `
      const Module = require('node:module'), resolve = Module._resolveFilename
      Module._resolveFilename = function (id, ...rest) {
        if (/^@(aws-sdk|google-cloud|azure)\\//.test(id)) throw new Error('SDK loaded: ' + id)
        return resolve.call(this, id, ...rest)
      }
      const lib = require(${JSON.stringify(path.join(__dirname, '..'))})
      const ENV = ${JSON.stringify(ENV)}
      ;(async () => {
        const out = { types: await lib.getAvailableStorageProviders(), built: {}, ftp: await lib.isStorageProviderAvailable('ftp') }
        for (const t of out.types) {
          for (const k of Object.keys(process.env)) if (k.startsWith('CRUNCHYCONE_')) delete process.env[k]
          Object.assign(process.env, { CRUNCHYCONE_STORAGE_PROVIDER: t }, ENV[t]?.[1])
          lib.initializeStorageProvider()
          const p = lib.getStorageProvider()
          out.built[t] = [p.constructor === lib[ENV[t]?.[0]], await lib.isStorageProviderAvailable(t)]
        }
        console.log(JSON.stringify(out))
      })().catch((e) => { console.error(e.stack); process.exit(1) })`
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /Unknown storage provider/) // no type fell back to local storage
    const out = JSON.parse(r.stdout)
    assert.deepEqual([...out.types].sort(), Object.keys(ENV).sort())
    for (const t of out.types) assert.deepEqual(out.built[t], [true, true], t)
    assert.equal(out.ftp, false)
  })

  it('falls back to LocalStorage, with a warning, for an unknown provider name', () => {
    const script = `
      const lib = require(${JSON.stringify(path.join(__dirname, '..'))})
      process.env.CRUNCHYCONE_STORAGE_PROVIDER = 'FTP'
      process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(freshRoot('fallback'))}
      lib.initializeStorageProvider()
      console.log(lib.getStorageProvider().constructor === lib.LocalStorageProvider)`
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    assert.equal(r.stdout, 'true\n', r.stderr)
    assert.equal(r.stderr, 'Unknown storage provider: FTP. Falling back to localstorage.\n')
  })

  it('passes expiresIn and FileUrlOptions through to the provider', async () => {
    const calls = []
    storage.setStorageProvider({
      getFileUrl: async (...a) => (calls.push(['key', ...a]), 'u1'),
      getFileUrlByExternalId: async (...a) => (calls.push(['id', ...a]), 'u2'),
    })
    try {
      assert.equal(await storage.getFileUrl('k', 60, { disposition: 'inline' }), 'u1')
      assert.equal(await storage.getFileUrlByExternalId('e', 120, { disposition: 'attachment' }), 'u2')
      assert.deepEqual(calls, [['key', 'k', 60, { disposition: 'inline' }], ['id', 'e', 120, { disposition: 'attachment' }]])
      // A real provider that uses them: S3 signs offline.
      const lib = require('..')
      storage.setStorageProvider(new lib.S3CompatibleProvider({ accessKeyId: 'AKID', secretAccessKey: 'S', region: 'us-east-1', bucket: 'b', endpoint: 'http://127.0.0.1:9' }))
      const u = new URL(await storage.getFileUrl('a.txt', 60, { disposition: 'inline' }))
      assert.deepEqual([u.searchParams.get('X-Amz-Expires'), u.searchParams.get('response-content-disposition')], ['60', 'inline'])
    } finally {
      storage.setStorageProvider(null)
    }
  })

  it('is the same module from ./storage, ./services/storage, the root and ESM', () => {
    assert.equal(require('crunchycone-storage/services/storage'), storage)
    assert.equal(require('crunchycone-storage').uploadFile, storage.uploadFile)
    // Every CommonJS name is exported to ESM too, for each entry.
    const script = `import * as storage from 'crunchycone-storage/storage'
      import * as sync from 'crunchycone-storage/storage/sync'
      import * as root from 'crunchycone-storage'
      const names = (m) => Object.keys(m).filter((k) => k !== 'default').sort()
      console.log(JSON.stringify([names(storage), names(sync), names(root)]))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, encoding: 'utf8' })
    const cjs = [storage, require('crunchycone-storage/storage/sync'), require('crunchycone-storage')].map((m) => Object.keys(m).sort())
    assert.deepEqual(JSON.parse(out), cjs)
    assert.equal(cjs[0].length, 43, "the original's 43 names")
  })
})

describe('storage: validation and key utilities', () => {
  it('validates files in the original order, with its messages', () => {
    const v = (file, options) => storage.validateFile(file, options)
    assert.deepEqual(v({ name: 'a.txt', size: 5, type: 'text/plain' }), { valid: true })
    assert.deepEqual(v({ name: 'a.txt', size: 1, type: 'text/plain' }, { minSize: 1536 }), {
      valid: false,
      error: 'File size (1 Bytes) is below minimum allowed size (1.5 KB)',
    })
    assert.equal(v({ name: 'a.txt', size: 11 * 1024 * 1024, type: 'text/plain' }).error, 'File size (11 MB) exceeds maximum allowed size (10 MB)')
    assert.equal(v({ name: 'a.txt', size: 1, type: 'text/plain' }, { allowedTypes: ['image/png', 'image/gif'] }).error, 'File type "text/plain" is not allowed. Allowed types: image/png, image/gif')
    assert.equal(v({ name: 'a.TXT', size: 1, type: 'text/plain' }, { allowedExtensions: ['png'] }).error, 'File extension "txt" is not allowed. Allowed extensions: png')
    assert.equal(v({ name: 'setup.EXE', size: 1, type: 'text/plain' }).error, 'File extension ".exe" is potentially dangerous and not allowed')
    assert.equal(v({ name: 'a.bin', size: 1, type: 'application/octet-stream' }).error, 'MIME type "application/octet-stream" is potentially dangerous and not allowed')
    assert.equal(v({ name: 'invoice.exe.pdf', size: 1, type: 'application/pdf' }).error, 'Files with double extensions are not allowed for security reasons')
    for (const name of ['.env', 'shell.PHP', 'x/.htaccess']) {
      assert.equal(v({ name, size: 1, type: 'text/plain' }).error, 'Filename matches a suspicious pattern and is not allowed', name)
    }
    // Served from the storage's own web path, these would run in the browser.
    for (const name of ['page.html', 'logo.svg']) assert.match(v({ name, size: 1, type: 'text/html' }).error, /potentially dangerous/)
    assert.deepEqual(v({ name: 'logo.svg.png', size: 1, type: 'image/png' }), { valid: true }, 'only as the last extension')
    assert.deepEqual(v({ name: 'setup.exe', size: 1, type: 'x' }, { blockDangerousFiles: false }), { valid: true })
    const presets = storage.getCommonValidationOptions()
    assert.deepEqual(Object.keys(presets), ['images', 'documents', 'videos', 'audio', 'strict', 'permissive'])
    assert.equal(presets.images.maxSize, 5 * 1024 * 1024)
    assert.equal(v({ name: 'p.gif', size: 10, type: 'image/gif' }, presets.images).valid, true)
  })

  it('formats sizes and extensions as the original, at every size', () => {
    const f = storage.formatBytes
    assert.deepEqual([f(0), f(1024), f(1536), f(1234567, 1), f(1536, -1)], ['0 Bytes', '1 KB', '1.5 KB', '1.2 MB', '2 KB'])
    assert.deepEqual([f(0.5), f(2 * 1024 ** 5), f(-2048)], ['0.5 Bytes', '2048 TB', '-2 KB'])
    assert.deepEqual(['.bashrc', 'A.PNG', 'dir.x/file', 'a.b.c'].map(storage.getFileExtension), ['', 'png', '', 'c'])
  })

  it('builds, parses and derives keys', () => {
    assert.equal(storage.sanitizeFilename('..My File (1)!!.txt'), 'My_File_1_.txt')
    const key = storage.generateUploadKey('u1', 'report-final.pdf')
    assert.match(key, /^uploads\/u1\/\d{13}-[0-9a-f]{16}-report-final\.pdf$/)
    const parsed = storage.parseStorageKey(key)
    assert.deepEqual({ ...parsed, timestamp: typeof parsed.timestamp, randomId: parsed.randomId.length }, {
      prefix: 'uploads',
      userId: 'u1',
      timestamp: 'number',
      randomId: 16,
      filename: 'report-final.pdf',
      extension: 'pdf',
    })
    const meta = storage.extractMetadataFromKey(key)
    assert.deepEqual(Object.keys(meta), ['userId', 'uploadTimestamp', 'originalFilename', 'fileExtension'])
    assert.ok(Object.values(meta).every((v) => typeof v === 'string'), 'usable as upload metadata')
    assert.deepEqual(storage.extractMetadataFromKey('a.txt'), { originalFilename: 'a.txt', fileExtension: 'txt' })
    assert.deepEqual(storage.parseStorageKey('a/b.txt'), { filename: 'b.txt', extension: 'txt' })
    // The user id and extension are sanitized too (the original put them in the key as given).
    assert.match(storage.generateUploadKey('../../etc', 'x.p/../hp'), /^uploads\/etc\/\d{13}-[0-9a-f]{16}-hp$/)
    assert.match(storage.generateUploadKey('a b', 'my file.P;NG'), /^uploads\/a_b\/\d{13}-[0-9a-f]{16}-my_file\.PNG$/)
    assert.match(storage.generateExternalId(), /^ext_\d{13}_[0-9a-f]{24}$/)
    assert.match(storage.generateKeyFromExternalId('e1', 'a.PNG'), /^files\/e1-\d{13}\.PNG$/)
    assert.match(storage.generateRandomKey('png', 'tmp'), /^tmp\/\d{13}-[0-9a-f]{24}\.png$/)
    assert.match(storage.generateRandomKey(''), /^uploads\/\d{13}-[0-9a-f]{24}$/)
    assert.match(storage.generateRandomKey('tar.gz'), /^uploads\/\d{13}-[0-9a-f]{24}\.tar\.gz$/)
    assert.match(storage.generateRandomKey('.png'), /^uploads\/\d{13}-[0-9a-f]{24}\.png$/)
    assert.throws(() => storage.generateUploadKey('../..', 'a.txt'), /Invalid userId/)
    assert.match(storage.generatePresignedKey('a/b.txt'), /^upload\/\d{13}-[0-9a-f]{8}\/a\/b\.txt$/)
    assert.deepEqual([storage.createThumbnailKey('a/b.png'), storage.createThumbnailKey('noext', 'small'), storage.createThumbnailKey('d.x/noext')], ['a/b_thumb.png', 'noext_small', 'd.x/noext_thumb'])
    assert.match(storage.createBackupKey('a/b.png'), /^backups\/a\/b_backup_\d{13}\.png$/)
    assert.match(storage.createBackupKey('noext'), /^backups\/noext_backup_\d{13}$/)
    assert.equal(storage.createDirectoryPath('u', 'images', new Date(2026, 0, 5)), 'uploads/images/u/2026/01')
  })

  it('classifies content types', () => {
    const c = storage.getFileTypeCategory
    assert.deepEqual(['image/png', 'video/mp4', 'audio/mpeg', 'text/csv', 'application/pdf', 'application/vnd.ms-excel.spreadsheet', 'application/zip', 'x/y'].map(c), ['image', 'video', 'audio', 'text', 'document', 'document', 'archive', 'other'])
    assert.equal(storage.isImageFile('image/webp') && storage.isVideoFile('video/x') && storage.isAudioFile('audio/x'), true)
    assert.equal(storage.isDocumentFile('application/vnd.openxmlformats-officedocument.wordprocessingml.document'), true)
    assert.equal(storage.isDocumentFile('image/png'), false)
    assert.equal(storage.validateFileSize(10, 10) && !storage.validateFileSize(11, 10), true)
    assert.equal(storage.validateFileType('a/b', ['a/b']) && !storage.validateFileType('a/c', ['a/b']), true)
  })

  it('wraps errors as StorageError', () => {
    const cause = new Error('boom')
    const e = (() => {
      try {
        storage.handleStorageError(cause, 'Upload')
      } catch (err) {
        return err
      }
    })()
    assert.ok(e instanceof storage.StorageError && e instanceof Error)
    assert.deepEqual([e.name, e.message, e.code, e.statusCode, e.originalError], ['StorageError', 'Upload failed: boom', 'STORAGE_OPERATION_FAILED', 500, cause])
    assert.throws(() => storage.handleStorageError(e, 'Other'), (thrown) => thrown === e)
    assert.throws(() => storage.handleStorageError('x', 'List'), { message: 'List failed: Unknown error', code: 'STORAGE_UNKNOWN_ERROR' })
  })
})
