'use strict'
// Case 7: the object stores and CrunchyCone through an emulated wide-area network
// (examples/wan.rs: every TCP connection paced to RATE each way, with RTT of latency and a
// handshake), the bytes served by nginx so the server is not the limit: S3 (path-style GETs),
// GCS (XML-API GETs for this library, JSON-API media GETs for the SDK, rewritten to the same
// file), Azure (blob GETs) and CrunchyCone (the test API server, its signed URLs served by
// nginx), each against its SDK (the original's fetch flow for CrunchyCone) and `curl` of the
// same URL. Uploads go to moto (S3) through the same network, against lib-storage's Upload.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const emulators = require('../scripts/emulators')
const { startNginx, startApiServer, originalStream, API_KEY, PROJECT } = require('./http')
const { consume, cpuSeconds, generated } = require('./clouds')

const MiB = 1 << 20
const MB = 1e6
const RATE = 40 * MB
const RTT_MS = 20
const CREDS = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' }
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const ROOT = path.join(__dirname, '..')

/** The emulator's binary, built when missing. */
function wanBinary() {
  const bin = path.join(ROOT, 'target', 'release', 'examples', 'wan')
  const r = spawnSync('cargo', ['build', '--release', '--quiet', '--example', 'wan'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('could not build examples/wan.rs')
  return bin
}

/** One emulator process in front of `upstreams` (URLs): their emulated URLs, its pid, stop(). */
async function startWan(rate, rttMs, upstreams) {
  const child = spawn(wanBinary(), [String(rate), String(rttMs), ...upstreams.map((u) => new URL(u).host)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`wan exited with ${code}`)))
    child.stdout.on('data', (d) => {
      out += d
      if (out.split('\n').length > upstreams.length) resolve()
    })
  })
  const listen = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')))
  return {
    pid: child.pid,
    urls: upstreams.map((u) => `http://${listen[new URL(u).host]}${new URL(u).pathname.replace(/\/$/, '')}`),
    stop: () => new Promise((r) => child.once('exit', r).kill()),
  }
}

function curl(url, range) {
  return new Promise((resolve, reject) => {
    const args = ['-sf', '-o', '/dev/null', ...(range ? ['-r', `${range.start}-${range.end}`] : []), url]
    spawn('curl', args, { stdio: 'ignore' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited with ${code}: ${url}`))))
  })
}

const seconds = async (fn) => {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

/** The four services against nginx's files through `net` (the emulated URL of nginx). */
async function services({ lib, net, api, apiNet, size }) {
  const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3')
  const { Storage } = require('@google-cloud/storage')
  const { BlobServiceClient, StorageSharedKeyCredential, newPipeline } = require('@azure/storage-blob')
  const s3 = new S3Client({ region: 'us-east-1', endpoint: net, forcePathStyle: true, credentials: CREDS })
  const gcs = new Storage({ apiEndpoint: net, projectId: 'bench' }).bucket('gcs-bucket')
  const azure = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=${net}/devstoreaccount1;`
  // nginx answers `Range`, not Azure's `x-ms-range` (which is all the SDK sends).
  const pipeline = newPipeline(new StorageSharedKeyCredential('devstoreaccount1', AZURITE_KEY))
  pipeline.factories.unshift({
    create: (next) => ({
      sendRequest(req) {
        const range = req.headers.get('x-ms-range')
        if (range) req.headers.set('range', range)
        return next.sendRequest(req)
      },
    }),
  })
  const blobs = new BlobServiceClient(`${net}/devstoreaccount1`, pipeline)
  const container = blobs.getContainerClient('bench')
  const cc = new lib.CrunchyConeProvider({ apiUrl: api.url, apiKey: API_KEY, projectId: PROJECT })
  await cc.uploadFile({ external_id: 'wan-big', key: 'wan/big.bin', stream: generated(size), size })
  const ccUrl = await cc.getFileUrlByExternalId('wan-big')
  const range = (r) => r && `bytes=${r.start}-${r.end}`
  // Each service's provider class and configuration, also handed to a child process (oneStream).
  const made = (cls, config) => ({ made: { cls, config }, provider: (parallel) => new lib[cls]({ ...config, parallel }) })
  return {
    S3: {
      ...made('S3CompatibleProvider', { ...CREDS, region: 'us-east-1', bucket: 'bench-bucket', endpoint: net, forcePathStyle: true }),
      key: 'big.bin',
      sdk: { name: 'AWS SDK GetObjectCommand', read: async (r) => (await s3.send(new GetObjectCommand({ Bucket: 'bench-bucket', Key: 'big.bin', Range: range(r) }))).Body },
      url: `${net}/bench-bucket/big.bin`,
    },
    GCS: {
      ...made('GCPStorageProvider', { projectId: 'bench', bucket: 'gcs-bucket', apiEndpoint: net }),
      key: 'big.bin',
      sdk: { name: 'GCS SDK createReadStream', read: async (r) => gcs.file('big.bin').createReadStream({ validation: false, ...(r ?? {}) }) },
      url: `${net}/gcs-bucket/big.bin`,
    },
    Azure: {
      ...made('AzureStorageProvider', { connectionString: azure, containerName: 'bench' }),
      key: 'big.bin',
      sdk: {
        name: 'Azure SDK download',
        read: async (r) => (await (r ? container.getBlobClient('big.bin').download(r.start, r.end - r.start + 1) : container.getBlobClient('big.bin').download())).readableStreamBody,
      },
      url: `${net}/devstoreaccount1/bench/big.bin`,
    },
    CrunchyCone: {
      ...made('CrunchyConeProvider', { apiUrl: apiNet, apiKey: API_KEY, projectId: PROJECT }),
      id: 'wan-big',
      sdk: { name: 'fetch + Readable.fromWeb (the original)', read: (r) => originalStream(apiNet, 'wan-big', r) },
      url: ccUrl,
    },
    stop: () => s3.destroy(),
  }
}

/** Progress on stderr, as each row set is measured (a full run takes minutes). */
const log = (r) => console.error(`${r.title}\n${Object.entries(r.values).map(([k, v]) => `  ${k}: ${v.toFixed(2)}`).join('\n')}`)

/** Case 7: the rows for every service, the emulator's own figures and the upload. */
async function wanCases({ file, size, median, quick }) {
  const lib = require('..')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-wan-'))
  fs.chmodSync(root, 0o755)
  for (const dir of ['bench-bucket', 'gcs-bucket', 'devstoreaccount1/bench', 'cc']) fs.mkdirSync(path.join(root, dir), { recursive: true, mode: 0o755 })
  for (const dir of ['bench-bucket', 'gcs-bucket', 'devstoreaccount1/bench']) fs.copyFileSync(file, path.join(root, dir, 'big.bin'))
  const stops = [() => fs.rmSync(root, { recursive: true, force: true })]
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop()
  }
  try {
    // The GCS SDK's JSON-API media GETs, and Azure's x-ms-range, served from the same files.
    const nginx = await startNginx(root, 'location ~ ^/(download/)?storage/v1/b/([^/]+)/o/(.+)$ { rewrite ^/(download/)?storage/v1/b/([^/]+)/o/(.+)$ /$2/$3 break; }')
    if (!nginx) throw new Error('case 7 needs nginx (apt-get install nginx-light)')
    stops.push(nginx.stop)
    const wan = await startWan(RATE, RTT_MS, [nginx.url])
    stops.push(wan.stop)
    const [net] = wan.urls
    const api = await startApiServer({ dir: path.join(root, 'cc'), fileServerUrl: `${net}/cc` })
    stops.push(api.stop)
    const apiWan = await startWan(RATE, RTT_MS, [api.url])
    stops.push(apiWan.stop)
    const all = await services({ lib, net, api, apiNet: apiWan.urls[0], size })
    stops.push(all.stop)

    const results = [await capacity(nginx.url, wan, size)]
    const only = process.env.WAN_ONLY?.split(',')
    for (const name of ['S3', 'GCS', 'Azure', 'CrunchyCone'].filter((n) => !only || only.includes(n))) {
      results.push(await serviceCase(name, all[name], { size, median, quick, pids: { nginx: nginx.workerPid, emulator: wan.pid } }))
      log(results.at(-1))
    }
    if (!only || only.includes('tuning')) log(results[results.push(await tuning(all.S3, size)) - 1])
    if (!only || only.includes('upload')) log(results[results.push(await upload(lib, quick ? 256 * MiB : 1024 * MiB)) - 1])
    return results
  } finally {
    await stopAll()
  }
}

/** What the emulator carries: one and 8 connections, paced and unpaced (the cap is not its limit). */
async function capacity(nginxUrl, wan, size) {
  const open = await startWan(0, 0, [nginxUrl])
  try {
    const url = (base) => `${base}/bench-bucket/big.bin`
    const slice = Math.min(64 * MiB, size / 8)
    const values = {}
    const parallel = (base, n) => Promise.all(Array.from({ length: n }, (_, i) => curl(url(base), { start: i * slice, end: (i + 1) * slice - 1 })))
    values['paced, 1 connection (MB/s)'] = slice / MB / (await seconds(() => curl(url(wan.urls[0]), { start: 0, end: slice - 1 })))
    values['paced, 8 connections (MB/s)'] = (8 * slice) / MB / (await seconds(() => parallel(wan.urls[0], 8)))
    values['unpaced, 1 connection (MB/s)'] = size / MB / (await seconds(() => curl(url(open.urls[0]))))
    values['unpaced, 8 connections (MB/s)'] = (8 * slice) / MB / (await seconds(() => parallel(open.urls[0], 8)))
    return {
      title: `Case 7 (the emulated network): ${RATE / MB} MB/s per connection each way, ${RTT_MS} ms round trip; what curl gets through it (MB/s)`,
      unit: 'MB/s',
      values,
      targets: [
        { name: '8 paced connections vs one', ratio: values['paced, 8 connections (MB/s)'] / values['paced, 1 connection (MB/s)'] },
        { name: 'unpaced vs the cap (one connection)', ratio: values['unpaced, 1 connection (MB/s)'] / (RATE / MB) },
      ],
    }
  } finally {
    await open.stop()
  }
}

/**
 * The peak RSS growth of one full read, measured by the kernel (VmHWM, reset through clear_refs)
 * in a fresh process after a 1-byte read: the first full read there, which also pays the process's
 * one-time costs (the allocator's arenas for the runtime's threads), and a second one.
 */
function oneStream(s, size) {
  const script = `
    const fs = require('node:fs')
    const lib = require(${JSON.stringify(ROOT)})
    const { cls, config, key, id } = JSON.parse(process.env.ONE_STREAM)
    const p = new lib[cls](config)
    const kib = (field) => parseInt(fs.readFileSync('/proc/self/status', 'utf8').split(field + ':')[1], 10)
    const read = async (r) => {
      let n = 0
      for await (const c of (await (id ? p.getFileStreamByExternalId(id, r) : p.getFileStream(key, r))).stream) n += c.length
      return n
    }
    ;(async () => {
      await read({ start: 0, end: 0 })
      const growth = []
      for (let i = 0; i < 2; i++) {
        fs.writeFileSync('/proc/self/clear_refs', '5')
        const base = kib('VmRSS')
        if ((await read({})) !== ${size}) throw new Error('short read')
        growth.push((kib('VmHWM') - base) / 1024)
      }
      console.log(JSON.stringify(growth))
    })()`
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ONE_STREAM: JSON.stringify({ ...s.made, key: s.key, id: s.id }) }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`one-stream measurement failed: ${r.stderr}`)
  const [first, second] = JSON.parse(r.stdout)
  return { 'full read, ours, peak RSS growth, first read in a process (MiB)': first, 'full read, ours, peak RSS growth, second read (MiB)': second }
}

/** Full, ranged, first-byte and concurrent reads of one service, ours against its SDK and curl. */
async function serviceCase(name, s, { size, median, quick, pids }) {
  const p = s.provider(undefined)
  const open = (r) => (s.id ? p.getFileStreamByExternalId(s.id, r ?? {}) : p.getFileStream(s.key, r ?? {}))
  const ours = async (r) => consume((await open(r)).stream)
  const theirs = async (r) => consume(await s.sdk.read(r))
  const expect = (want) => (n) => {
    if (n !== want) throw new Error(`${name}: read ${n} of ${want} bytes`)
  }
  const values = {}
  const mbs = (bytes, secs) => bytes / MB / secs
  await ours({ start: 0, end: 0 }) // connections and signed URL warm, as in a running service
  await theirs({ start: 0, end: 0 })

  // Full read; ours also with its CPU share of nginx and the emulator.
  const before = { nginx: cpuSeconds(pids.nginx), emulator: cpuSeconds(pids.emulator), client: cpuSeconds(process.pid) }
  const oursFull = await seconds(async () => expect(size)(await ours()))
  values['full read, ours (MB/s)'] = mbs(size, oursFull)
  values['full read, nginx CPU / wall'] = (cpuSeconds(pids.nginx) - before.nginx) / oursFull
  values['full read, emulator CPU / wall'] = (cpuSeconds(pids.emulator) - before.emulator) / oursFull
  values['full read, client CPU / wall'] = (cpuSeconds(process.pid) - before.client) / oursFull
  Object.assign(values, oneStream(s, size))
  values[`full read, ${s.sdk.name} (MB/s)`] = mbs(size, await seconds(async () => expect(size)(await theirs())))
  values['full read, curl (MB/s)'] = mbs(size, await seconds(() => curl(s.url)))

  const mid = { start: Math.floor(size / 2), end: Math.floor(size / 2) + 64 * MiB - 1 }
  const ranged = { ours: [], sdk: [], curl: [] }
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    ranged.ours.push(await seconds(async () => expect(64 * MiB)(await ours(mid))))
    ranged.sdk.push(await seconds(async () => expect(64 * MiB)(await theirs(mid))))
    ranged.curl.push(await seconds(() => curl(s.url, mid)))
  }
  values['64 MiB from the middle, ours (MB/s)'] = mbs(64 * MiB, median(ranged.ours))
  values[`64 MiB from the middle, ${s.sdk.name} (MB/s)`] = mbs(64 * MiB, median(ranged.sdk))
  values['64 MiB from the middle, curl (MB/s)'] = mbs(64 * MiB, median(ranged.curl))

  const first = async (read) => {
    const t = process.hrtime.bigint()
    const stream = await read()
    for await (const _ of stream) break
    stream.destroy?.()
    return Number(process.hrtime.bigint() - t) / 1e6
  }
  const ttfb = { ours: [], sdk: [] }
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    ttfb.ours.push(await first(async () => (await open({ start: 0, end: 0 })).stream))
    ttfb.sdk.push(await first(() => s.sdk.read({ start: 0, end: 0 })))
  }
  values['first byte of a 1-byte range, ours (ms)'] = median(ttfb.ours)
  values[`first byte of a 1-byte range, ${s.sdk.name} (ms)`] = median(ttfb.sdk)

  const STREAMS = 16
  const at = (i) => ({ start: (i * 64 * MiB) % (size - 64 * MiB), end: ((i * 64 * MiB) % (size - 64 * MiB)) + 64 * MiB - 1 })
  const concurrent = (read) => seconds(() => Promise.all(Array.from({ length: STREAMS }, async (_, i) => expect(64 * MiB)(await read(at(i))))))
  // The machine is shared by client, emulator and nginx: each one's CPU share shows which is the limit.
  const shares = async (label, read) => {
    const [emulator, client] = [cpuSeconds(pids.emulator), cpuSeconds(process.pid)]
    const secs = await concurrent(read)
    values[`${STREAMS} concurrent 64 MiB reads, ${label} (MB/s)`] = mbs(STREAMS * 64 * MiB, secs)
    values[`${STREAMS} concurrent 64 MiB reads, ${label}, client CPU / wall`] = (cpuSeconds(process.pid) - client) / secs
    values[`${STREAMS} concurrent 64 MiB reads, ${label}, emulator CPU / wall`] = (cpuSeconds(pids.emulator) - emulator) / secs
  }
  await shares('ours', ours)
  await shares(s.sdk.name, theirs)

  const full = values['full read, ours (MB/s)']
  const parts = 8 // the default connections per stream
  return {
    title: `Case 7 (${name} through the emulated network, bytes from nginx): ${size / MiB} MiB full read, 64 MiB ranged read, 1-byte first byte, ${STREAMS} concurrent reads`,
    unit: 'MB/s, ms, MiB or CPU share',
    values,
    targets: [
      { name: `${name} full read vs ${s.sdk.name}`, ratio: full / values[`full read, ${s.sdk.name} (MB/s)`], target: 6 },
      { name: `${name} full read vs curl`, ratio: full / values['full read, curl (MB/s)'], target: 6 },
      { name: `${name} full read vs the capacity of the ${parts} connections used`, ratio: full / ((parts * RATE) / MB), target: 0.8 },
      { name: `${name} 64 MiB ranged read vs ${s.sdk.name}`, ratio: values['64 MiB from the middle, ours (MB/s)'] / values[`64 MiB from the middle, ${s.sdk.name} (MB/s)`] },
      { name: `${name} first byte vs ${s.sdk.name} (ours / theirs)`, ratio: values['first byte of a 1-byte range, ours (ms)'] / values[`first byte of a 1-byte range, ${s.sdk.name} (ms)`], maxRatio: 1.1 },
      { name: `${name} ${STREAMS} concurrent reads vs ${s.sdk.name}`, ratio: values[`${STREAMS} concurrent 64 MiB reads, ours (MB/s)`] / values[`${STREAMS} concurrent 64 MiB reads, ${s.sdk.name} (MB/s)`] },
      { name: `${name} peak RSS growth of one stream, first read in a process (MiB, ≤ ${parts} parts × 8 MiB + 16)`, value: values['full read, ours, peak RSS growth, first read in a process (MiB)'], max: parts * 8 + 16 },
    ],
  }
}

/** The measurements behind the defaults: one S3 read of 256 MiB with each part size and connection count. */
async function tuning(s3, size) {
  const bytes = Math.min(size, 256 * MiB)
  const values = {}
  for (const connections of [4, 8, 16]) {
    for (const partMiB of [4, 8, 16]) {
      const p = s3.provider({ connections, partSize: partMiB * MiB, threshold: 0 })
      const secs = await seconds(async () => consume((await p.getFileStream(s3.key, { start: 0, end: bytes - 1 })).stream))
      values[`${connections} connections, ${partMiB} MiB parts (MB/s)`] = bytes / MB / secs
    }
  }
  values['one connection (parallel: false) (MB/s)'] = bytes / MB / (await seconds(async () => consume((await s3.provider(false).getFileStream(s3.key, { start: 0, end: bytes - 1 })).stream)))
  return { title: `Case 7 (tuning): S3, ${bytes / MiB} MiB read through the emulated network by part size and connections (MB/s)`, unit: 'MB/s', values, targets: [] }
}

/** A multipart upload to moto through the emulated network: ours against lib-storage's Upload. */
async function upload(lib, size) {
  const { S3Client } = require('@aws-sdk/client-s3')
  const { Upload } = require('@aws-sdk/lib-storage')
  const moto = await emulators.moto('wan-upload')
  const wan = await startWan(RATE, RTT_MS, [moto.endpoint])
  try {
    const endpoint = wan.urls[0]
    const values = {}
    const ours = new lib.S3CompatibleProvider({ ...CREDS, region: 'us-east-1', bucket: 'wan-upload', endpoint, forcePathStyle: true })
    for (const partsInFlight of [undefined, 8]) {
      const label = partsInFlight ? `ours, partsInFlight ${partsInFlight}` : 'ours uploadFile'
      const before = cpuSeconds(moto.pid)
      const secs = await seconds(() => ours.uploadFile({ external_id: 'up', key: 'up/ours.bin', stream: generated(size), size, partsInFlight }))
      values[`${label} (MB/s)`] = size / MB / secs
      values[`${label}, moto CPU / wall`] = (cpuSeconds(moto.pid) - before) / secs
    }
    const sdk = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDS })
    values["lib-storage Upload, its defaults (MB/s)"] = size / MB / (await seconds(() => new Upload({ client: sdk, params: { Bucket: 'wan-upload', Key: 'up/sdk.bin', Body: generated(size) } }).done()))
    sdk.destroy()
    return {
      title: `Case 7 (upload): ${size / MiB} MiB to moto (S3) through the emulated network (MB/s)`,
      unit: 'MB/s',
      values,
      targets: [
        { name: 'upload vs lib-storage Upload', ratio: values['ours uploadFile (MB/s)'] / values["lib-storage Upload, its defaults (MB/s)"], target: 2 },
        { name: 'upload, partsInFlight 8, vs lib-storage Upload', ratio: values['ours, partsInFlight 8 (MB/s)'] / values["lib-storage Upload, its defaults (MB/s)"], target: 2 },
      ],
    }
  } finally {
    await wan.stop()
    await moto.stop()
  }
}

module.exports = { wanCases }
