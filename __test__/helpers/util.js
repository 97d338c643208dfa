'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const { Readable } = require('node:stream')
const { spawn } = require('node:child_process')

/** Deterministic pseudo-random bytes, so a wrong offset shows up as wrong content. */
function pattern(size, seed = 1) {
  const out = Buffer.alloc(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Reads a Node or Web stream to a Buffer. */
async function collect(stream) {
  const parts = []
  for await (const chunk of stream) parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  return Buffer.concat(parts)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const uniqueId = (prefix = 'ext') => `${prefix}_${crypto.randomBytes(8).toString('hex')}`

/** A Node stream that yields `buffer` in pieces of `size`. */
function nodeStreamOf(buffer, size = 64 * 1024) {
  let offset = 0
  return new Readable({
    read() {
      if (offset >= buffer.length) return this.push(null)
      this.push(buffer.subarray(offset, offset + size))
      offset += size
    },
  })
}

/** A Web stream that yields `buffer` in pieces of `size`. */
function webStreamOf(buffer, size = 64 * 1024) {
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= buffer.length) return controller.close()
      controller.enqueue(new Uint8Array(buffer.subarray(offset, offset + size)))
      offset += size
    },
  })
}

/**
 * Runs `fn` with exactly these CRUNCHYCONE_* variables (and any others given) set, then restores
 * the environment and clears the module-level provider.
 */
async function withEnv(vars, fn) {
  const saved = { ...process.env }
  for (const k of Object.keys(process.env)) if (k.startsWith('CRUNCHYCONE_')) delete process.env[k]
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
    require('../..').setStorageProvider(null)
  }
}

/**
 * Every key `provider.listFiles(options)` gives, page by page with `continuationToken` (at most
 * `maxPages` pages); checks that each page with more after it has a token, and how full it is.
 */
async function keysByPages(provider, options, maxPages = 1000) {
  const keys = []
  const sizes = []
  let token
  for (let i = 0; i < maxPages; i++) {
    const page = await provider.listFiles({ ...options, continuationToken: token })
    keys.push(...page.files.map((f) => f.key))
    sizes.push(page.files.length)
    if (!page.hasMore) return { keys, sizes }
    if (!page.continuationToken) throw new Error('a page with more after it has no continuationToken')
    token = page.continuationToken
  }
  throw new Error(`more than ${maxPages} pages`)
}

/**
 * What a V4 presigned GET URL signs: AWS SigV4 (`X-Amz-*` parameters) and GCS V4 (`X-Goog-*`) share
 * the scheme. `host` is the signed host (GCS signs for storage.googleapis.com, whatever the
 * endpoint). Gives the string to sign, the credential scope (date, region, service, terminator) and
 * the URL's signature, for a verifier of the vendor's algorithm.
 */
function presignedStringToSign(url, vendor, host = new URL(url).host) {
  const u = new URL(url)
  const param = (name) => u.searchParams.get(`X-${vendor}-${name}`)
  const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const query = [...u.searchParams]
    .filter(([k]) => k !== `X-${vendor}-Signature`)
    .map(([k, v]) => [enc(k), enc(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const canonical = ['GET', u.pathname, query, `host:${host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n')
  const scope = param('Credential').split('/').slice(1)
  const digest = crypto.createHash('sha256').update(canonical).digest('hex')
  return { toSign: [param('Algorithm'), param('Date'), scope.join('/'), digest].join('\n'), scope, signature: param('Signature') }
}

/**
 * The process's peak RSS since `resetPeakRss()` (the kernel's VmHWM: no sampling, so no peak is
 * missed). Linux only.
 */
const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
/** Restarts the kernel's peak RSS from the current RSS. */
const resetPeakRss = () => fs.writeFileSync('/proc/self/clear_refs', '5')

/**
 * Runs `script` in a Node child process (with `nodeArgs`) without blocking this one, whose servers
 * may be the ones the child talks to; resolves with the JSON it printed, rejects with its stderr.
 */
function runScript(script, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`child exited with ${code}: ${stderr}`))))
  })
}

/** A port on 127.0.0.1 that nothing listens on: bound, then closed. */
async function closedPort() {
  const server = require('node:net').createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

module.exports = { closedPort, runScript, peakRss, resetPeakRss, pattern, collect, sleep, uniqueId, nodeStreamOf, webStreamOf, withEnv, keysByPages, presignedStringToSign }
