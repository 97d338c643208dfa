'use strict'
// Hostile input: garbage in every configuration field of every provider, and timeouts too large
// for a Node timer. Nothing panics, every failure is a clear error with a code, and nothing waits
// for a real network: endpoints point at a server on 127.0.0.1 that refuses every request at once
// (403, which is not retried).

const { describe, it, before, after, mock } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const { freshRoot, localProvider } = require('./helpers/local')
const { collect } = require('./helpers/util')

const GARBAGE = [{}, [], true, 42, -1, NaN, '', ' ', 'not a url', 'http://', '://x', 'ftp://x', 'http://[::1', 'a\u0000b', 'http://a b', 'x'.repeat(5000), '%zz', 'http://127.0.0.1:99999', 'https://', 'file:///etc', 'ü', '\n']

// A server that refuses every request; its address replaces ENDPOINT in the configurations.
const ENDPOINT = 'http://endpoint.invalid'
let refuser
before(async () => {
  refuser = http.createServer((req, res) => {
    req.resume()
    res.writeHead(403).end()
  })
  await new Promise((r) => refuser.listen(0, '127.0.0.1', r))
})
after(() => refuser?.close())

// Each provider with a configuration that works (but for the closed port), and the fields whose
// garbage would make it talk to a real cloud host instead (only checked without network calls).
const PROVIDERS = {
  S3CompatibleProvider: {
    config: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-key-1', region: 'us-east-1', bucket: 'b', endpoint: ENDPOINT, forcePathStyle: true, cdnUrl: 'https://cdn.example', publicBaseUrl: 'https://pub.example', defaultACL: 'private', serverSideEncryption: 'AES256' },
    cloudHost: ['endpoint'],
  },
  GCPStorageProvider: { config: { projectId: 'p', bucket: 'b', apiEndpoint: ENDPOINT, cdnUrl: 'https://cdn.example', keyFilename: '' }, cloudHost: ['apiEndpoint'] },
  AzureStorageProvider: {
    config: { accountName: 'acct', accountKey: Buffer.from('a key of sixteen').toString('base64'), containerName: 'c', endpoint: ENDPOINT, cdnUrl: 'https://cdn.example', sasToken: '', connectionString: '' },
    cloudHost: ['endpoint', 'accountName', 'connectionString'],
  },
  CrunchyConeProvider: { config: { apiUrl: ENDPOINT, apiKey: 'sk_test_12345678', projectId: 'p', timeout: 5000 }, cloudHost: ['apiUrl'] },
}

describe('hardening: garbage configuration', () => {
  it('never panics, and every failure is an error with a code and no internals', { timeout: 300_000 }, async () => {
    // In a child process, so that a panic's report on stderr (or an abort) is seen.
    const script = `
      const lib = require(${JSON.stringify(path.join(__dirname, '..'))})
      const providers = ${JSON.stringify(PROVIDERS).replaceAll(ENDPOINT, `http://127.0.0.1:${refuser.address().port}`)}
      const garbage = ${JSON.stringify(GARBAGE)}
      const failures = []
      ;(async () => {
        for (const [cls, { config, cloudHost }] of Object.entries(providers)) {
          for (const field of Object.keys(config)) {
            for (const value of garbage) {
              const where = cls + '.' + field + '=' + JSON.stringify(value).slice(0, 20)
              let p
              try { p = new lib[cls]({ ...config, [field]: value }) } catch (e) { failures.push({ where, call: 'constructor', code: e.code, message: e.message }); continue }
              const calls = { url: () => p.getFileUrl('a.txt') }
              if (!cloudHost.includes(field)) Object.assign(calls, {
                exists: () => p.fileExists('a.txt'),
                list: () => p.listFiles(),
                upload: () => p.uploadFile({ external_id: 'x', key: 'a.txt', buffer: Buffer.from('x') }),
                stream: () => p.getFileStream('a.txt', { timeout: 5000 }),
              })
              for (const [call, fn] of Object.entries(calls)) {
                try { await fn() } catch (e) { failures.push({ where, call, code: e.code, message: e.message, isError: e instanceof Error }) }
              }
            }
          }
        }
        console.log(JSON.stringify(failures))
      })()
    `
    const child = spawn(process.execPath, ['-e', script])
    const r = { stdout: '', stderr: '' }
    child.stdout.on('data', (d) => (r.stdout += d))
    child.stderr.on('data', (d) => (r.stderr += d))
    r.status = await new Promise((resolve) => child.on('exit', resolve))
    assert.equal(r.status, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /panicked|RUST_BACKTRACE/, 'a panic reached the process')
    const failures = JSON.parse(r.stdout)
    assert.ok(failures.length > 200, `only ${failures.length} failures: the garbage did not reach the providers`)
    for (const f of failures) {
      const where = `${f.where} ${f.call}: ${f.code} ${f.message}`
      assert.ok(f.code, `no code: ${where}`)
      assert.doesNotMatch(f.message, /panic|napi|GenericFailure|rust type|Failed to convert/i, where)
    }
    // Malformed URLs are refused as such, naming the field.
    const urlField = { S3CompatibleProvider: 'endpoint', GCPStorageProvider: 'apiEndpoint', AzureStorageProvider: 'endpoint', CrunchyConeProvider: 'apiUrl' }
    for (const [cls, field] of Object.entries(urlField)) {
      for (const value of ['ftp://x', 'http://[::1', 'http://127.0.0.1:99999', 'http://a b']) {
        const f = failures.find((x) => x.where === `${cls}.${field}=${JSON.stringify(value).slice(0, 20)}` && x.call === 'url')
        assert.ok(f, `${cls}.${field}=${value} was accepted`)
        assert.equal(f.code, 'InvalidInput', f.message)
        assert.match(f.message, new RegExp(`Invalid \\w+ ${field}`), f.message)
      }
    }
  })

  it('isAvailable() is true without any request, however the provider is configured', async () => {
    let requests = 0
    const count = () => requests++
    refuser.on('request', count)
    const at = `http://127.0.0.1:${refuser.address().port}`
    const lib = require('..')
    try {
      for (const [cls, { config }] of Object.entries(PROVIDERS)) {
        for (const p of [new lib[cls](JSON.parse(JSON.stringify(config).replaceAll(ENDPOINT, at))), new lib[cls]({})]) {
          const answer = p.isAvailable()
          assert.ok(answer instanceof Promise, cls)
          assert.equal(await answer, true, cls)
        }
      }
    } finally {
      refuser.off('request', count)
    }
    assert.equal(requests, 0, 'isAvailable asked the network')
  })

  it('LocalStorage: a root path that cannot be a directory fails each call clearly, and construction never throws', async () => {
    const parent = freshRoot('garbage-root')
    fs.writeFileSync(path.join(parent, 'file'), 'x')
    for (const root of [path.join(parent, 'file', 'sub'), path.join(parent, 'file')]) {
      const provider = localProvider(root)
      await assert.rejects(provider.listFiles(), { code: 'Provider', message: /Failed to create storage directory/ })
      await assert.rejects(provider.uploadFile({ external_id: 'x', key: 'a.txt', buffer: Buffer.from('x') }), { code: 'Provider' })
    }
  })
})

describe('hardening: timeouts too large for a timer', () => {
  it('work as long timeouts, without a TimeoutOverflowWarning', async () => {
    const root = freshRoot('big-timeout')
    const provider = localProvider(root)
    await provider.uploadFile({ external_id: 't', key: 't.bin', buffer: Buffer.from('timeout') })
    const warnings = []
    const onWarning = (w) => warnings.push(w.name)
    process.on('warning', onWarning)
    try {
      for (const timeout of [2 ** 31 - 1, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        const s = await provider.getFileStream('t.bin', { timeout })
        assert.equal((await collect(s.stream)).toString(), 'timeout', String(timeout))
      }
      await new Promise((r) => setImmediate(r))
    } finally {
      process.off('warning', onWarning)
    }
    assert.deepEqual(warnings, [])
    await assert.rejects(provider.getFileStream('t.bin', { timeout: 2 ** 53 }), { name: 'StorageError', code: 'InvalidInput', message: /Invalid timeout/ })
  })

  it('fire after the whole delay, in steps of the longest timer', () => {
    const { after } = require('../lib/stream')
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      let fired = 0
      after(2 ** 31 - 1 + 2 ** 31 + 5, () => fired++)
      mock.timers.tick(2 ** 31 - 1)
      mock.timers.tick(2 ** 31 - 1)
      assert.equal(fired, 0)
      mock.timers.tick(5)
      assert.equal(fired, 0)
      mock.timers.tick(1)
      assert.equal(fired, 1)
      const cancel = after(2 ** 32, () => fired++)
      mock.timers.tick(2 ** 31 - 1)
      cancel()
      mock.timers.tick(2 ** 32)
      assert.equal(fired, 1)
    } finally {
      mock.timers.reset()
    }
  })
})
