'use strict'
// `npm run bench [-- --quick]`: this library against the Node baselines a user would otherwise
// write, interleaved in one run, reported as medians and ratios (ours / baseline).
// Writes bench/results.json, bench/RESULTS.md and bench/chart.svg.
//
// Cases: 1 local 1 GiB read, 2 CrunchyCone over HTTP, 3 S3 / Azure / GCS against their local
// servers, 4 time to first byte (local, CrunchyCone, each cloud), 5 memory, 6 lookup by id.
// 7 through an emulated wide-area network (bench/wan.js; needs nginx).
// `--only S3,Azure` runs case 3 and 4 for those clouds alone (for profiling); `--wan` runs case 7
// alone (`WAN_ONLY=S3,upload` narrows it); both print their results and leave the files alone.
// `--report` writes RESULTS.md and the chart again from results.json (after editing NOTES.md).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable } = require('node:stream')
const { spawnSync } = require('node:child_process')
const { writeChart } = require('./chart')
const { httpCases } = require('./http')
const { cloudCases, SERVICES } = require('./clouds')
const { wanCases } = require('./wan')

const quick = process.argv.includes('--quick')
const MiB = 1 << 20
const FILE_SIZE = (quick ? 256 : 1024) * MiB
const ROUNDS = quick ? 3 : 5
const STORE_FILES = 10_000
const DATA = path.join(__dirname, 'data')

// ---------------------------------------------------------------------------------------------
// Data

function ensureBigFile() {
  const file = path.join(DATA, 'store', 'big', `${FILE_SIZE / MiB}mib.bin`)
  if (fs.existsSync(file) && fs.statSync(file).size === FILE_SIZE) return file
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const block = require('node:crypto').randomBytes(MiB)
  const fd = fs.openSync(file, 'w')
  for (let i = 0; i < FILE_SIZE / MiB; i++) {
    block[0] = i & 0xff
    fs.writeSync(fd, block)
  }
  fs.closeSync(fd)
  return file
}

/** A local store of 10,000 files in the original's format (as crunchycone-lib writes it). */
function ensureStore() {
  const root = path.join(DATA, 'store10k')
  const marker = path.join(root, '.complete')
  if (fs.existsSync(marker)) return root
  fs.rmSync(root, { recursive: true, force: true })
  const stamp = new Date().toISOString()
  for (let i = 0; i < STORE_FILES; i++) {
    const key = `files/d${i % 50}/ext_${i}-1700000000000.txt`
    const file = path.join(root, key)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, `file ${i}`)
    const record = { external_id: `ext_${i}`, key, filename: `f${i}.txt`, contentType: 'text/plain', size: String(i).length + 5, lastModified: stamp, url: `/uploads/${key}`, visibility: 'private' }
    fs.writeFileSync(`${file}.json`, JSON.stringify(record, null, 2))
  }
  fs.writeFileSync(marker, '')
  return root
}

function provider(root) {
  process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = root
  const { LocalStorageProvider } = require('..')
  return new LocalStorageProvider()
}

// ---------------------------------------------------------------------------------------------
// Measurement

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function consume(stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.byteLength
  return n
}

/** Runs each candidate `rounds` times, interleaved, after one unmeasured warm-up round, and
 * returns median seconds per candidate. */
async function interleave(candidates, rounds) {
  const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]))
  for (const fn of Object.values(candidates)) await fn()
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(candidates)) {
      const t = process.hrtime.bigint()
      await fn()
      times[name].push(Number(process.hrtime.bigint() - t) / 1e9)
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
}

// ---------------------------------------------------------------------------------------------
// Case 1: local file, full read

async function case1(file) {
  const root = path.join(DATA, 'store')
  const key = path.relative(root, file)
  const p = provider(root)
  const expect = (n) => {
    if (n !== FILE_SIZE) throw new Error(`read ${n} of ${FILE_SIZE} bytes`)
  }
  const candidates = {
    'ours web': async () => expect(await consume((await p.getFileStream(key, { responseType: 'web' })).stream)),
    'ours node': async () => expect(await consume((await p.getFileStream(key, { responseType: 'node' })).stream)),
    'Readable.toWeb(fs.createReadStream)': async () => expect(await consume(Readable.toWeb(fs.createReadStream(file)))),
    'fs.createReadStream (default)': async () => expect(await consume(fs.createReadStream(file))),
    'fs.createReadStream (1 MiB)': async () => expect(await consume(fs.createReadStream(file, { highWaterMark: MiB }))),
    'machine limit (dd bs=1M)': async () => {
      const r = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M'], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(r.stderr)
    },
  }
  const secs = await interleave(candidates, ROUNDS)
  const mibs = Object.fromEntries(Object.entries(secs).map(([k, s]) => [k, FILE_SIZE / MiB / s]))
  const ratio = (a, b) => mibs[a] / mibs[b]
  return {
    title: `Case 1: local file, ${FILE_SIZE / MiB} MiB, page-cached, full read (MiB/s, higher is better)`,
    unit: 'MiB/s',
    values: mibs,
    targets: [
      { name: 'web vs Readable.toWeb(fs.createReadStream)', ratio: ratio('ours web', 'Readable.toWeb(fs.createReadStream)'), target: 3 },
      { name: 'node vs fs.createReadStream (default)', ratio: ratio('ours node', 'fs.createReadStream (default)'), target: 2 },
      { name: 'node vs fs.createReadStream (1 MiB)', ratio: ratio('ours node', 'fs.createReadStream (1 MiB)'), target: 0.9 },
      { name: 'node vs machine limit', ratio: ratio('ours node', 'machine limit (dd bs=1M)'), target: 0.5 },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// Case 4 (local): time to first byte of a 1-byte range

async function case4Local(file) {
  const root = path.join(DATA, 'store')
  const key = path.relative(root, file)
  const p = provider(root)
  const first = async (open) => {
    const t = process.hrtime.bigint()
    for await (const _ of await open()) break
    return Number(process.hrtime.bigint() - t) / 1e6
  }
  // What the original's getFileStream does: stat, read the metadata file, Readable.toWeb.
  const original = async () => {
    await fs.promises.stat(file)
    try {
      JSON.parse(await fs.promises.readFile(`${file}.json`, 'utf8'))
    } catch {}
    return Readable.toWeb(fs.createReadStream(file))
  }
  const samples = { ours: [], 'fs.createReadStream': [], 'original getFileStream (stat + metadata + toWeb)': [] }
  for (let i = 0; i < (quick ? 100 : 500); i++) {
    samples.ours.push(await first(async () => (await p.getFileStream(key, { start: 0, end: 0 })).stream))
    samples['fs.createReadStream'].push(await first(async () => fs.createReadStream(file, { start: 0, end: 0 })))
    samples['original getFileStream (stat + metadata + toWeb)'].push(await first(original))
  }
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
  return {
    title: 'Case 4 (local): time to first byte of a 1-byte range (ms, lower is better)',
    unit: 'ms',
    values: ms,
    targets: [
      { name: 'local TTFB vs fs.createReadStream (ours / baseline)', ratio: ms.ours / ms['fs.createReadStream'], maxRatio: 0.7 },
      { name: 'local TTFB vs the original getFileStream', ratio: ms.ours / ms['original getFileStream (stat + metadata + toWeb)'], maxRatio: 0.7 },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// Case 5: memory (each measurement in a fresh process)

const MEMORY_CHILD = `
const fs = require('node:fs'), path = require('node:path'), { Readable } = require('node:stream')
const [which, file, root, concurrency, perStream] = process.argv.slice(1)
process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = root
const { LocalStorageProvider } = require(${JSON.stringify(path.join(__dirname, '..'))})
const p = new LocalStorageProvider()
const key = path.relative(root, file)
const open = async (start, end) => {
  if (which === 'ours node') return (await p.getFileStream(key, { start, end })).stream
  if (which === 'ours web') return (await p.getFileStream(key, { start, end, responseType: 'web' })).stream
  if (which === 'Readable.toWeb(fs.createReadStream)') return Readable.toWeb(fs.createReadStream(file, { start, end }))
  return fs.createReadStream(file, { start, end })
}
;(async () => {
  // Warm up as a running service is warm (runtime threads started, heaps grown), then measure.
  for await (const _ of await open(0, Math.min(256 * 1048576, fs.statSync(file).size) - 1));
  global.gc()
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
  await Promise.all(Array.from({ length: Number(concurrency) }, async (_, i) => {
    const room = fs.statSync(file).size - Number(perStream)
    const start = room > 0 ? (i * Number(perStream)) % room : 0
    for await (const _ of await open(start, start + Number(perStream) - 1)) peak = Math.max(peak, process.memoryUsage().rss)
  }))
  clearInterval(timer)
  console.log(JSON.stringify({ growthMiB: (peak - base) / 1048576 }))
})()
`

function case5(file) {
  const root = path.join(DATA, 'store')
  const who = ['ours node', 'ours web', 'fs.createReadStream (default)', 'Readable.toWeb(fs.createReadStream)']
  const run = (which, concurrency, perStream) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', MEMORY_CHILD, which, file, root, String(concurrency), String(perStream)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(r.stderr)
    return JSON.parse(r.stdout).growthMiB
  }
  const single = Object.fromEntries(who.map((w) => [w, run(w, 1, FILE_SIZE)]))
  const perStream = (quick ? 4 : 16) * MiB
  const many = Object.fromEntries(who.map((w) => [w, run(w, 64, perStream)]))
  return {
    title: `Case 5: peak RSS growth (MiB, lower is better): one ${FILE_SIZE / MiB} MiB stream / 64 concurrent ${perStream / MiB} MiB streams`,
    unit: 'MiB',
    values: Object.fromEntries(who.flatMap((w) => [[`${w} (1 stream)`, single[w]], [`${w} (64 streams)`, many[w]]])),
    targets: [
      { name: 'ours node, one stream (MiB, ≤ 64)', value: single['ours node'], max: 64 },
      { name: 'ours web, one stream (MiB, ≤ 64)', value: single['ours web'], max: 64 },
      { name: 'ours node, 64 streams (MiB, ≤ 256)', value: many['ours node'], max: 256 },
      { name: 'ours web, 64 streams (MiB, ≤ 256)', value: many['ours web'], max: 256 },
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// Case 6: lookup by external id on 10,000 files

/** What the original does for every lookup: read and parse every sidecar, then access() the file. */
async function originalFind(root, id) {
  const fsp = fs.promises
  async function walk(dir) {
    const out = []
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name)
      if (e.isDirectory()) out.push(...(await walk(full)))
      else if (e.name.endsWith('.json') && !e.name.startsWith('.')) out.push(full)
    }
    return out
  }
  for (const file of await walk(root)) {
    try {
      const meta = JSON.parse(await fsp.readFile(file, 'utf8'))
      if (meta.external_id === id) {
        await fsp.access(path.join(root, meta.key))
        return meta
      }
    } catch {}
  }
  return null
}

async function case6() {
  const root = ensureStore()
  const p = provider(root)
  await p.findFileByExternalId('warm-up') // builds the index once, as a long-lived service would
  const present = `ext_${STORE_FILES - 7}`
  const reps = quick ? 20 : 100
  const timeEach = async (fn, n) => {
    const t = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await fn()
    return Number(process.hrtime.bigint() - t) / 1e6 / n
  }
  const values = {}
  for (let round = 0; round < ROUNDS; round++) {
    const sample = {
      'ours, present id': await timeEach(async () => { if (!(await p.findFileByExternalId(present))) throw new Error('not found') }, reps),
      'ours, absent id': await timeEach(() => p.findFileByExternalId('absent'), Math.max(3, reps / 10)),
      'full scan (original), present id': await timeEach(() => originalFind(root, present), 1),
      'full scan (original), absent id': await timeEach(() => originalFind(root, 'absent'), 1),
    }
    for (const [k, v] of Object.entries(sample)) (values[k] ??= []).push(v)
  }
  const ms = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, median(v)]))
  return {
    title: `Case 6: findFileByExternalId on a local store of ${STORE_FILES} files (ms per lookup, lower is better)`,
    unit: 'ms',
    values: ms,
    targets: [
      { name: 'present id: speed-up over the full scan', ratio: ms['full scan (original), present id'] / ms['ours, present id'], target: 50 },
      { name: 'absent id: speed-up over the full scan', ratio: ms['full scan (original), absent id'] / ms['ours, absent id'] },
    ],
  }
}

// ---------------------------------------------------------------------------------------------

function report(results, machine) {
  if (!machine) {
    machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, platform: `${os.platform()} ${os.release()}`, quick, date: new Date().toISOString() }
    fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify({ machine, results }, null, 2))
  }
  const lines = [`# Benchmark results`, '', `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}. ${machine.quick ? 'Quick run.' : 'Full run.'} ${machine.date}`, '', '![chart](chart.svg)', '']
  for (const r of results) {
    lines.push(`## ${r.title}`, '', `| candidate | ${r.unit} |`, '|---|---|')
    // Three significant digits for small values (CPU seconds, shares), one decimal for the rest.
    for (const [k, v] of Object.entries(r.values)) lines.push(`| ${k} | ${Math.abs(v) < 100 ? v.toPrecision(3) : v.toFixed(1)} |`)
    lines.push('', '| target | measured | goal | met |', '|---|---|---|---|')
    for (const t of r.targets) {
      if ('maxRatio' in t) lines.push(`| ${t.name} | ${t.ratio.toFixed(2)}x | ≤ ${t.maxRatio}x | ${t.ratio <= t.maxRatio ? 'yes' : '**no**'} |`)
      else if ('max' in t) lines.push(`| ${t.name} | ${t.value.toFixed(1)} | ≤ ${t.max} | ${t.value <= t.max ? 'yes' : '**no**'} |`)
      else lines.push(`| ${t.name} | ${t.ratio.toFixed(2)}x | ${t.target ? `≥ ${t.target}x` : '—'} | ${t.target ? (t.ratio >= t.target ? 'yes' : '**no**') : '—'} |`)
    }
    lines.push('')
  }
  const notes = path.join(__dirname, 'NOTES.md')
  if (fs.existsSync(notes)) lines.push(fs.readFileSync(notes, 'utf8'))
  fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), lines.join('\n'))
  writeChart(path.join(__dirname, 'chart.svg'), results)
  console.log(lines.join('\n'))
}

;(async () => {
  if (process.argv.includes('--report')) {
    // RESULTS.md and the chart again from results.json, with the current NOTES.md; nothing is run.
    const { machine, results } = JSON.parse(fs.readFileSync(path.join(__dirname, 'results.json'), 'utf8'))
    return report(results, machine)
  }
  const started = Date.now()
  const wanOnly = process.argv.includes('--wan')
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : wanOnly ? [] : null
  const results = []
  const file = only && !wanOnly ? null : ensureBigFile()
  if (!only) results.push(await case1(file), ...(await httpCases({ file, size: FILE_SIZE, rounds: ROUNDS, interleave, median, quick })))
  for (const service of only ?? SERVICES) results.push(...(await cloudCases(service, { rounds: ROUNDS, interleave, median, quick })))
  if (!only) results.push(await case4Local(file), case5(file), await case6())
  if (!only || wanOnly) results.push(...(await wanCases({ file, size: FILE_SIZE, median, quick })))
  if (only) console.log(JSON.stringify(results, null, 2)) // a partial run leaves the results files alone
  else report(results)
  console.log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`)
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
