'use strict'
// No secret in any error, for every network provider: a server (or a proxy in front of one) that
// answers every request with an error whose body echoes the request's headers, its URL and the
// credentials themselves, in each service's error format.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')
const util = require('node:util')
const lib = require('..')

const T = { timeout: 120_000 }
let server
let seen = [] // every Authorization / X-API-Key value and query the server received
let extra = [] // secrets the "proxy" echoes as well

// Each format as the service writes its errors; the echo goes in the message.
const FORMATS = {
  s3: (echo) => ['application/xml', `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>${echo}</Message><RequestId>1</RequestId></Error>`],
  azure: (echo) => ['application/xml', `<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>${echo}</Message><AuthenticationErrorDetail>${echo}</AuthenticationErrorDetail></Error>`],
  gcs: (echo) => ['application/json', JSON.stringify({ error: { code: 403, message: echo, errors: [{ message: echo }] } })],
  crunchycone: (echo) => ['application/json', JSON.stringify({ error: echo, message: echo, details: { echo } })],
}

before(async () => {
  server = http.createServer((req, res) => {
    const format = req.url.split('/')[1]
    for (const h of ['authorization', 'x-api-key']) if (req.headers[h]) seen.push(req.headers[h])
    // Signatures and credentials in the query (presigned URLs, SAS tokens).
    for (const [name, value] of new URL(req.url, 'http://x').searchParams) {
      if (/^(sig|signature|x-amz-(signature|credential|security-token)|x-goog-(signature|credential))$/i.test(name)) seen.push(value)
    }
    const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\n')
    const echo = `request ${req.method} http://${req.headers.host}${req.url}\n${headers}\nsecrets: ${extra.join(' ')}`
    const [type, body] = (FORMATS[format] ?? FORMATS.s3)(echo.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    req.resume()
    req.on('end', () => {
      res.writeHead(403, { 'content-type': type, 'x-echo-authorization': String(req.headers.authorization ?? '') })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
})
after(() => server?.close())

const base = () => `http://127.0.0.1:${server.address().port}`

/** Every text a caller could log from an error. */
const texts = (e) => [e.message, e.stack, String(e), util.inspect(e), JSON.stringify(e)]

async function attack(provider, secrets) {
  extra = secrets
  seen = []
  const errors = []
  const calls = [
    () => provider.fileExists('dir/a.txt'),
    () => provider.listFiles({ prefix: 'dir/' }),
    () => provider.uploadFile({ external_id: 'red', key: 'dir/a.txt', buffer: Buffer.from('x') }),
    () => provider.getFileStream('dir/a.txt'),
    () => provider.getFileStreamByExternalId('red'),
    () => provider.findFileByExternalId('red'),
    () => provider.deleteFile('dir/a.txt'),
    () => provider.setFileVisibility('dir/a.txt', 'public'),
    () => provider.getFileVisibility('dir/a.txt'),
  ]
  for (const call of calls) {
    try {
      const r = await call()
      if (r && r.success === false) errors.push(new Error(r.message)) // visibility results carry messages
    } catch (e) {
      errors.push(e)
    }
  }
  assert.ok(errors.length >= 5, `only ${errors.length} calls failed`)
  assert.ok(seen.length > 0, 'the server saw no credentials: the test proves nothing')
  const forbidden = [...new Set([...secrets, ...seen])].filter((s) => s.length >= 8)
  for (const e of errors) {
    for (const text of texts(e)) {
      for (const secret of forbidden) assert.ok(!text.includes(secret), `${JSON.stringify(secret)} in: ${text}`)
    }
  }
  return errors
}

describe('no secret in errors, from a server that echoes them', () => {
  it('S3', T, async () => {
    const secrets = ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY']
    const provider = new lib.S3CompatibleProvider({ accessKeyId: secrets[0], secretAccessKey: secrets[1], region: 'us-east-1', bucket: 'b', endpoint: `${base()}/s3`, forcePathStyle: true })
    const errors = await attack(provider, secrets)
    assert.ok(errors.some((e) => /AccessDenied/.test(e.message)), 'the server text got through')
  })

  it('Azure, with an account key and with a SAS token', T, async () => {
    const accountKey = crypto.randomBytes(64).toString('base64')
    await attack(new lib.AzureStorageProvider({ accountName: 'acct', accountKey, containerName: 'c', endpoint: `${base()}/azure` }), [accountKey])
    const sasToken = `sv=2024-01-01&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=${encodeURIComponent(crypto.randomBytes(32).toString('base64'))}`
    await attack(new lib.AzureStorageProvider({ accountName: 'acct', sasToken, containerName: 'c', endpoint: `${base()}/azure` }), [decodeURIComponent(sasToken.split('sig=')[1])])
  })

  it('GCS, with a service account key', T, async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    const credentials = { client_email: 'tester@test-project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) }
    const provider = new lib.GCPStorageProvider({ projectId: 'p', bucket: 'b', apiEndpoint: `${base()}/gcs`, credentials })
    await attack(provider, [credentials.private_key.split('\n')[1]])
  })

  it('CrunchyCone', T, async () => {
    const apiKey = `sk_live_${crypto.randomBytes(16).toString('hex')}`
    const provider = new lib.CrunchyConeProvider({ apiUrl: `${base()}/crunchycone`, apiKey, projectId: 'proj', timeout: 5000 })
    await attack(provider, [apiKey])
  })
})
