'use strict'
// The original's `./storage` subpath: the module-level provider (initializeStorageProvider /
// setStorageProvider / getStorageProvider) and the helpers that call it, against a real local
// store; importable by name from CommonJS and ESM.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
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
      assert.equal(await storage.getFileUrlByExternalId('h-1', 60, { disposition: 'inline' }), '/u/docs/a.txt')
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

  it('reports every provider type available (none needs an SDK)', async () => {
    const types = ['localstorage', 'crunchycone', 'aws', 's3', 'digitalocean', 'wasabi', 'backblaze', 'r2', 's3-custom', 'gcp', 'azure']
    assert.deepEqual(await storage.getAvailableStorageProviders(), types)
    for (const t of types) assert.equal(await storage.isStorageProviderAvailable(t), true, t)
    assert.equal(await storage.isStorageProviderAvailable('ftp'), false)
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
