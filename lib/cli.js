'use strict'
// The `crunchycone-storage` command: each command is one provider call, with a progress bar on
// stderr for long transfers (when stderr is a terminal), `--json` for scripts, and exit codes
// that tell "not found" from other failures.

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { pipeline } = require('node:stream/promises')
const { Transform } = require('node:stream')
const crypto = require('node:crypto')
const { providerFromEnvironment } = require('./environment')
const { createFileHandler } = require('./serve')
const { syncStorageProviders } = require('./sync')
const { generateExternalId } = require('./utils')
const { version } = require('../package.json')

const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, interrupted: 130 }

class UsageError extends Error {}

const PROVIDERS = `Providers: the CRUNCHYCONE_* environment variables choose and configure the provider, as
initializeStorageProvider() does (CRUNCHYCONE_STORAGE_PROVIDER = localstorage, crunchycone, aws,
s3-custom, digitalocean, wasabi, backblaze, r2, gcp or azure); with none set, LocalStorage in
./uploads. --provider SPEC chooses another:
  local:DIR   LocalStorage with its root at DIR
  env         the provider of the plain CRUNCHYCONE_* variables (the default)
  NAME        the provider of the NAME_CRUNCHYCONE_* variables, prefix stripped: for example
              BACKUP_CRUNCHYCONE_STORAGE_PROVIDER=s3-custom BACKUP_CRUNCHYCONE_S3_BUCKET=... is "backup"`

const COMMANDS = {
  put: {
    usage: 'put <file> [--key KEY] [--external-id ID] [--public] [--content-type TYPE]',
    about: 'Upload a file. The external id defaults to a new random one, the key to the provider\'s choice.',
    options: { key: { type: 'string' }, 'external-id': { type: 'string' }, public: { type: 'boolean' }, 'content-type': { type: 'string' } },
    args: 1,
    run: put,
  },
  get: {
    usage: 'get <key> [-o FILE] [--range A-B|A-|-N]\n       get --external-id <id> [-o FILE] [--range ...]',
    about: 'Download a file to FILE (written whole or not at all) or to standard output.',
    options: { output: { type: 'string', short: 'o' }, range: { type: 'string' }, 'external-id': { type: 'string' } },
    args: [0, 1],
    run: get,
  },
  ls: {
    usage: 'ls [--prefix PREFIX] [--limit N]',
    about: 'List files (size, last modified, key).',
    options: { prefix: { type: 'string' }, limit: { type: 'string' } },
    args: 0,
    run: ls,
  },
  search: {
    usage: 'search <query> [--limit N]',
    about: 'Search keys, file names and metadata.',
    options: { limit: { type: 'string' } },
    args: 1,
    run: search,
  },
  url: {
    usage: 'url <key> [--expires SECONDS] [--inline]',
    about: 'Print a URL for the file (signed where the provider signs, for --expires seconds).',
    options: { expires: { type: 'string' }, inline: { type: 'boolean' } },
    args: 1,
    run: url,
  },
  rm: {
    usage: 'rm <key>',
    about: 'Delete a file and its metadata.',
    options: {},
    args: 1,
    run: rm,
  },
  visibility: {
    usage: 'visibility <key> [public|private]',
    about: 'Print the file\'s visibility, or set it.',
    options: {},
    args: [1, 2],
    run: visibility,
  },
  sync: {
    usage: 'sync <from> <to> [--two-way] [--delete-orphaned] [--dry-run] [--prefix PREFIX] [--conflict skip|overwrite|newest-wins|largest-wins]',
    about: 'Copy files between two providers by external id (syncStorageProviders). <from> and <to> are\nprovider specs, as for --provider.',
    options: {
      'two-way': { type: 'boolean' },
      'delete-orphaned': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      prefix: { type: 'string' },
      conflict: { type: 'string' },
    },
    args: 2,
    run: sync,
  },
  serve: {
    usage: 'serve [--port PORT] [--host HOST]',
    about: 'Serve the files over HTTP (GET and HEAD /<key>, with ranges and conditional requests).\nDefaults: port 8080, host 127.0.0.1.',
    options: { port: { type: 'string' }, host: { type: 'string' } },
    args: 0,
    run: serve,
  },
}

const COMMON = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, provider: { type: 'string' } }

function helpText(name) {
  if (name) {
    const c = COMMANDS[name]
    return `Usage: crunchycone-storage ${c.usage} [--json] [--provider SPEC]\n\n${c.about}\n\n${PROVIDERS}\n`
  }
  const list = Object.values(COMMANDS)
    .map((c) => `  ${c.usage.split('\n')[0]}`)
    .join('\n')
  return `Usage: crunchycone-storage <command> [options]

Commands:
${list}

Every command takes --json (machine-readable output on stdout), --provider SPEC and --help.
Exit codes: 0 done, 1 failed, 2 bad usage, 3 not found, 130 interrupted (what it wrote is removed).

${PROVIDERS}
`
}

// ---- providers -------------------------------------------------------------------------------

/** The provider a spec names (see PROVIDERS). */
function providerOf(spec = 'env') {
  if (spec.startsWith('local:')) {
    const dir = spec.slice('local:'.length)
    if (!dir) throw new UsageError('local: needs a directory, as in local:./uploads')
    return withEnvironment({ CRUNCHYCONE_STORAGE_PROVIDER: 'localstorage', CRUNCHYCONE_LOCALSTORAGE_PATH: dir })
  }
  if (spec === 'env') return withEnvironment(undefined)
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(spec)) throw new UsageError(`Unknown provider spec "${spec}": use local:DIR, env, or a NAME of NAME_CRUNCHYCONE_* variables`)
  const prefix = `${spec.toUpperCase()}_`
  const vars = {}
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith(`${prefix}CRUNCHYCONE_`)) vars[k.slice(prefix.length)] = v
  if (!vars.CRUNCHYCONE_STORAGE_PROVIDER) throw new UsageError(`Provider "${spec}" is not configured: set ${prefix}CRUNCHYCONE_STORAGE_PROVIDER and its variables`)
  return withEnvironment(vars)
}

/**
 * The provider the environment configures, with its CRUNCHYCONE_* variables replaced by `vars`
 * while it is built (constructors read them synchronously); `undefined` keeps them. With none set,
 * LocalStorage in ./uploads.
 */
function withEnvironment(vars) {
  const saved = { ...process.env }
  try {
    if (vars) {
      for (const k of Object.keys(process.env)) if (k.startsWith('CRUNCHYCONE_')) delete process.env[k]
      Object.assign(process.env, vars)
    }
    return providerFromEnvironment()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

// ---- output ----------------------------------------------------------------------------------

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
function bytes(n) {
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`
}
const seconds = (s) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s) % 60).padStart(2, '0')}s` : `${Math.ceil(s)}s`)

/**
 * A progress bar on `stream` (stderr) when it is a terminal, redrawn at most every 100 ms: bytes,
 * rate and ETA. `update(loaded)`, then `done()`. A no-op elsewhere.
 */
function progressBar(total, stream = process.stderr) {
  if (!stream.isTTY) return { update() {}, done() {} }
  const started = Date.now()
  let last = 0
  let loaded = 0
  const draw = () => {
    const elapsed = (Date.now() - started) / 1000
    const rate = elapsed > 0 ? loaded / elapsed : 0
    let line = `${bytes(loaded)}`
    if (total) {
      const width = 24
      const filled = Math.min(width, Math.round((loaded / total) * width))
      const eta = rate > 0 ? seconds((total - loaded) / rate) : '?'
      line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor((loaded / total) * 100)).padStart(3)}%  ${bytes(loaded)} / ${bytes(total)}  ${bytes(Math.round(rate))}/s  ETA ${eta}`
    } else {
      line += `  ${bytes(Math.round(rate))}/s`
    }
    stream.write(`\r${line}\x1b[K`)
  }
  let ended = false
  return {
    update(n) {
      loaded = n
      if (Date.now() - last >= 100) {
        last = Date.now()
        draw()
      }
    },
    /** Draws the last frame (`complete`) or leaves the line as it is, and ends it. */
    done(complete = true) {
      if (ended) return
      ended = true
      if (complete) draw()
      if (complete || last) stream.write('\n')
    },
  }
}

/** Text from storage (keys, messages) made safe for a terminal or a log: no control characters. */
const printable = (text) => String(text).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

/** Prints `value` as JSON with --json, else `text(value)`. */
function print(values, value, text) {
  process.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : `${text(value)}\n`)
}

function integer(name, value, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}, got "${value}"`)
  return n
}

/** `--range A-B`, `A-` or `-N` as FileStreamOptions. */
function rangeOf(value) {
  if (value === undefined) return {}
  const m = /^(\d*)-(\d*)$/.exec(value)
  const bad = () => new UsageError(`--range must be A-B (A <= B), A- or -N, got "${value}"`)
  if (!m || (m[1] === '' && m[2] === '')) throw bad()
  const [start, end] = [m[1], m[2]].map((d) => (d === '' ? undefined : integer('range', d)))
  if (start === undefined) return { suffix: end }
  if (end !== undefined && end < start) throw bad()
  return end === undefined ? { start } : { start, end }
}

/** Aborted by Ctrl-C (or SIGTERM), so a transfer stops and removes what it wrote. */
function interruption() {
  const controller = new AbortController()
  const stop = () => controller.abort(Object.assign(new Error('Interrupted'), { code: 'Interrupted' }))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return { signal: controller.signal, release: () => (process.off('SIGINT', stop), process.off('SIGTERM', stop)) }
}

const notFound = (message) => Object.assign(new Error(message), { code: 'NotFound' })

/** For the commands whose provider call would not say so itself: a missing key is "not found". */
async function mustExist(provider, key) {
  if (!(await provider.fileExists(key))) throw notFound(`File not found: ${key}`)
}

// ---- commands --------------------------------------------------------------------------------

async function put(provider, [file], values) {
  let size
  try {
    size = (await fs.promises.stat(file)).size
  } catch (e) {
    throw e.code === 'ENOENT' ? notFound(`No such file: ${file}`) : e
  }
  const bar = progressBar(size)
  const { signal, release } = interruption()
  try {
    const result = await provider.uploadFile({
      filePath: file,
      external_id: values['external-id'] ?? generateExternalId(),
      key: values.key,
      filename: path.basename(file),
      contentType: values['content-type'],
      public: values.public,
      signal,
      // Only for the bar: without one, the native copy is faster.
      onProgress: process.stderr.isTTY ? ({ loaded }) => bar.update(loaded) : undefined,
    })
    bar.done()
    print(values, result, (r) => `uploaded ${printable(r.key)} (${bytes(r.size)}, ${printable(r.contentType)}) external_id ${printable(r.external_id)}`)
  } finally {
    bar.done(false)
    release()
  }
}

async function get(provider, [key], values) {
  const byId = values['external-id']
  if ((key === undefined) === (byId === undefined)) throw new UsageError('get takes a key or --external-id ID, one of them')
  if (values.json && !values.output) throw new UsageError('get --json needs -o FILE (the file\'s bytes would go to standard output)')
  const { signal, release } = interruption()
  const options = { ...rangeOf(values.range), signal }
  let s
  let bar = { update() {}, done() {} }
  try {
    s = byId === undefined ? await provider.getFileStream(key, options) : await provider.getFileStreamByExternalId(byId, options)
    bar = progressBar(s.contentLength)
    let loaded = 0
    const count = new Transform({
      transform(chunk, _, done) {
        loaded += chunk.length
        bar.update(loaded)
        done(null, chunk)
      },
    })
    if (values.output) await download(s.stream, count, path.resolve(values.output))
    else {
      try {
        await pipeline(s.stream, count, process.stdout)
      } catch (e) {
        // A reader that stopped early (`| head`) is not a failure.
        if (e.code !== 'EPIPE') throw e
      }
    }
    bar.done()
    if (values.output) {
      const info = { key: key ?? byId, file: values.output, bytes: loaded, contentType: s.contentType, etag: s.etag, lastModified: s.lastModified, range: s.range }
      print(values, info, (i) => `saved ${printable(i.file)} (${bytes(i.bytes)}${i.range ? `, bytes ${i.range.start}-${i.range.end} of ${i.range.total}` : ''})`)
    }
  } finally {
    bar.done(false)
    release()
    await s?.cleanup()
  }
}

/**
 * Writes `stream` through `count` to `target`: a regular file (or a new one) is written beside it
 * and renamed over it, so a failed download leaves nothing; through a link, beside what it points
 * at; a device or pipe (`/dev/null`) is written to directly.
 */
async function download(stream, count, target) {
  let real = target
  try {
    real = await fs.promises.realpath(target)
    if (!(await fs.promises.stat(real)).isFile()) return await pipeline(stream, count, fs.createWriteStream(real))
  } catch (e) {
    if (e.code !== 'ENOENT') throw e
  }
  const part = path.join(path.dirname(real), `.${path.basename(real)}.${crypto.randomBytes(6).toString('hex')}.part`)
  try {
    await pipeline(stream, count, fs.createWriteStream(part, { flags: 'wx' }))
    await fs.promises.rename(part, real)
  } catch (e) {
    await fs.promises.rm(part, { force: true })
    if (e.code === 'ENOENT') throw new Error(`Cannot write ${target}: no such directory`)
    throw e
  }
}

const listing = (r) =>
  r.files.length === 0
    ? '(no files)'
    : r.files.map((f) => `${bytes(f.size).padStart(10)}  ${f.lastModified ? f.lastModified.toISOString() : '-'.padEnd(24)}  ${printable(f.key)}`).join('\n') + (r.hasMore ? '\n(more: use --limit)' : '')

async function ls(provider, _, values) {
  print(values, await provider.listFiles({ prefix: values.prefix, limit: integer('limit', values.limit) }), listing)
}

async function search(provider, [query], values) {
  print(values, await provider.searchFiles({ query, limit: integer('limit', values.limit) }), listing)
}

async function url(provider, [key], values) {
  await mustExist(provider, key)
  const link = await provider.getFileUrl(key, integer('expires', values.expires), values.inline ? { disposition: 'inline' } : undefined)
  print(values, { key, url: link }, (r) => r.url)
}

async function rm(provider, [key], values) {
  await mustExist(provider, key)
  await provider.deleteFile(key)
  print(values, { key, deleted: true }, () => `deleted ${key}`)
}

async function visibility(provider, [key, value], values) {
  if (value === undefined) {
    const v = await provider.getFileVisibility(key)
    return print(values, v, (r) => r.visibility)
  }
  if (value !== 'public' && value !== 'private') throw new UsageError(`visibility must be public or private, got "${value}"`)
  await mustExist(provider, key)
  const r = await provider.setFileVisibility(key, value)
  if (!r.success) throw new Error(r.message ?? `Failed to make ${key} ${value}`)
  print(values, r, () => `${key} is now ${value}`)
}

async function sync(_, [from, to], values) {
  const conflicts = ['skip', 'overwrite', 'newest-wins', 'largest-wins']
  if (values.conflict !== undefined && !conflicts.includes(values.conflict)) throw new UsageError(`--conflict must be one of ${conflicts.join(', ')}`)
  const source = providerOf(from)
  const destination = providerOf(to)
  const tty = process.stderr.isTTY
  const result = await syncStorageProviders({
    source,
    destination,
    direction: values['two-way'] ? 'two-way' : 'one-way',
    deleteOrphaned: values['delete-orphaned'],
    dryRun: values['dry-run'],
    conflictResolution: values.conflict,
    filter: values.prefix === undefined ? undefined : { prefix: values.prefix },
    onProgress: (p) => tty && process.stderr.write(`\r${p.phase}: ${p.processedFiles}/${p.totalFiles} files, ${p.copiedFiles} copied, ${p.errors} errors\x1b[K`),
  })
  if (tty) process.stderr.write('\n')
  const { summary } = result
  print(values, result, () => `${summary.scanned} scanned, ${summary.copied} copied, ${summary.skipped} skipped, ${summary.deleted} deleted, ${summary.errors} errors`)
  if (!result.success) {
    for (const d of result.details.filter((x) => x.action === 'error')) process.stderr.write(`crunchycone-storage: ${d.key}: ${d.error}\n`)
    return EXIT.failed
  }
}

async function serve(provider, _, values) {
  const port = integer('port', values.port, 65535) ?? 8080
  const host = values.host ?? '127.0.0.1'
  const onError = (e) => e.code !== 'NotFound' && e.code !== 'InvalidKey' && process.stderr.write(`crunchycone-storage: ${printable(e.message)}\n`)
  const server = http.createServer(createFileHandler(provider, { onError }))
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  print(values, { url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/` }, (a) => `serving on ${a.url} (Ctrl-C to stop)`)
  await new Promise((resolve) => {
    const stop = () => server.close(resolve)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

// ---- main ------------------------------------------------------------------------------------

/** Runs the command line `argv`; resolves with the exit code. */
async function main(argv) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && COMMANDS[rest[0]] ? rest[0] : undefined
    process.stdout.write(helpText(topic))
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version}\n`)
    return EXIT.ok
  }
  const command = COMMANDS[name]
  try {
    if (!command) throw new UsageError(`unknown command "${name}" (see crunchycone-storage --help)`)
    // `--range -500` (a suffix) reads as an option to parseArgs: join it to its flag.
    const args = rest.map((a, i) => (rest[i - 1] === '--range' && /^-\d+$/.test(a) ? `--range=${a}` : a)).filter((a, i) => !(a === '--range' && /^-\d+$/.test(rest[i + 1] ?? '')))
    let parsed
    try {
      parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true })
    } catch (e) {
      throw new UsageError(e.message)
    }
    const { values, positionals } = parsed
    if (values.help) {
      process.stdout.write(helpText(name))
      return EXIT.ok
    }
    const [min, max] = Array.isArray(command.args) ? command.args : [command.args, command.args]
    if (positionals.length < min || positionals.length > max) throw new UsageError(`usage: crunchycone-storage ${command.usage}`)
    const provider = name === 'sync' ? undefined : providerOf(values.provider)
    return (await command.run(provider, positionals, values)) ?? EXIT.ok
  } catch (e) {
    process.stderr.write(`crunchycone-storage: ${printable(String(e?.message ?? e).split('\n')[0])}\n`)
    if (e instanceof UsageError) return EXIT.usage
    if (e?.code === 'Interrupted') return EXIT.interrupted
    return e?.code === 'NotFound' ? EXIT.notFound : EXIT.failed
  }
}

module.exports = { main }
