'use strict'
// Benchmark cases over HTTP: the CrunchyCone provider against the local API server (run in its own
// process, so it does not share the benchmark's JS thread), versus what the original library does
// (`fetch` the record, `fetch` a signed URL, `fetch` the bytes, `Readable.fromWeb`), and curl.

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { Readable } = require('node:stream')
const { cpuSeconds } = require('./clouds')

const API_KEY = 'bench-key'
const PROJECT = 'bench'

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** nginx (Debian's nginx-light) serving `dir`: the fast file server behind the signed URLs. */
async function startNginx(dir, locations = '') {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p))
  if (!nginx) return null
  const port = await freePort()
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-nginx-'))
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${run}/${t};`).join(' ')
  fs.writeFileSync(
    path.join(run, 'nginx.conf'),
    `daemon off; worker_processes 1; pid ${run}/nginx.pid; error_log ${run}/error.log;
     events { worker_connections 1024; }
     http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; ${temp}
       default_type application/octet-stream;
       server { listen 127.0.0.1:${port}; root ${dir}; location / { } ${locations} } }`,
  )
  const child = spawn(nginx, ['-c', path.join(run, 'nginx.conf'), '-p', run], { stdio: 'ignore' })
  for (let i = 0; i < 50; i++) {
    if (await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.end(); r(true) }).on('error', () => r(false)))) break
    await new Promise((r) => setTimeout(r, 50))
  }
  // The one worker serves the requests (the master only starts it): its CPU is nginx's.
  const children = () => fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim()
  for (let i = 0; i < 50 && !children(); i++) await new Promise((r) => setTimeout(r, 20))
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    workerPid: Number(children()),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => {
        fs.rmSync(run, { recursive: true, force: true })
        resolve()
      })
      child.kill('SIGTERM')
    }),
  }
}

/**
 * The CrunchyCone test server in its own process, its files in `dir` served by nginx at
 * `fileServerUrl` when given (else by an nginx started here, when installed, else by itself).
 */
async function startApiServer({ dir, fileServerUrl } = {}) {
  const script = path.join(__dirname, '..', '__test__', 'servers', 'crunchycone.js')
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-api-'))
  fs.chmodSync(dir, 0o755) // nginx's workers run as another user
  const files = fileServerUrl ? null : await startNginx(dir)
  fileServerUrl ??= files?.url
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', API_KEY, PROJECT_ID: PROJECT, STORAGE_DIR: dir, ...(fileServerUrl ? { FILE_SERVER_URL: fileServerUrl } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`API server exited with ${code}`)))
    child.stdout.on('data', (d) => {
      const m = /on (http:\S+)/.exec(String(d))
      if (m) resolve(m[1])
    })
  })
  return {
    url,
    fileServer: fileServerUrl ? 'nginx' : 'the API server (Node)',
    nginxPid: files?.workerPid,
    stop: async () => {
      await new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
      await files?.stop()
    },
  }
}

/** The original's getFileStreamByExternalId: three requests, then `Readable.fromWeb`. */
async function originalStream(api, externalId, range) {
  const headers = { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' }
  const record = await (await fetch(`${api}/api/v1/storage/files/by-external-id/${encodeURIComponent(externalId)}`, { headers })).json()
  const signed = await (
    await fetch(`${api}/api/v1/storage/files/${record.data.file_id}/download?returnSignedUrl=true`, { method: 'GET', headers: { 'X-API-Key': API_KEY } })
  ).json()
  const res = await fetch(signed.data.signedUrl, { headers: range ? { Range: `bytes=${range.start}-${range.end}` } : {} })
  return Readable.fromWeb(res.body)
}

async function consume(stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.byteLength
  return n
}

/** Case 2 (throughput) and the CrunchyCone half of case 4 (time to first byte). */
async function httpCases({ file, size, rounds, interleave, median, quick }) {
  const { CrunchyConeProvider } = require('..')
  const server = await startApiServer()
  try {
    const provider = new CrunchyConeProvider({ apiUrl: server.url, apiKey: API_KEY, projectId: PROJECT })
    const id = 'bench-big'
    await provider.uploadFile({ external_id: id, key: 'bench/big.bin', filePath: file })
    const signedUrl = await provider.getFileUrlByExternalId(id)
    const expect = (want) => (n) => {
      if (n !== want) throw new Error(`read ${n} of ${want} bytes`)
    }
    const MiB = 1 << 20
    const candidates = {
      ours: async () => expect(size)(await consume((await provider.getFileStreamByExternalId(id)).stream)),
      'ours, parallel: false': async () => expect(size)(await consume((await provider.getFileStreamByExternalId(id, { parallel: false })).stream)),
      'fetch + Readable.fromWeb (original)': async () => expect(size)(await consume(await originalStream(server.url, id))),
      'curl -o /dev/null': async () => {
        const r = spawnSync('curl', ['-sf', '-o', '/dev/null', signedUrl])
        if (r.status !== 0) throw new Error(`curl exited with ${r.status}`)
      },
    }
    const full = await interleave(candidates, rounds)
    // What limits it on 2 cores: one more read of each, with the CPU-seconds per second of this
    // process (and its children: curl) and of nginx.
    const shares = {}
    for (const [name, fn] of Object.entries(candidates)) {
      const before = { client: cpuSeconds(process.pid, true), nginx: server.nginxPid ? cpuSeconds(server.nginxPid) : 0 }
      const t = process.hrtime.bigint()
      await fn()
      const secs = Number(process.hrtime.bigint() - t) / 1e9
      shares[`full read, ${name}: client CPU / wall`] = (cpuSeconds(process.pid, true) - before.client) / secs
      if (server.nginxPid) shares[`full read, ${name}: nginx CPU / wall`] = (cpuSeconds(server.nginxPid) - before.nginx) / secs
    }
    const RANGES = quick ? 200 : 1000
    const RANGE = 64 * 1024
    const rangeAt = (i) => {
      const start = (i * 7 * RANGE) % (size - RANGE)
      return { start, end: start + RANGE - 1 }
    }
    const ranges = await interleave(
      {
        ours: async () => {
          for (let i = 0; i < RANGES; i++) expect(RANGE)(await consume((await provider.getFileStreamByExternalId(id, rangeAt(i))).stream))
        },
        'fetch + Readable.fromWeb (original)': async () => {
          for (let i = 0; i < RANGES; i++) expect(RANGE)(await consume(await originalStream(server.url, id, rangeAt(i))))
        },
      },
      Math.max(2, rounds - 2),
    )
    // Time to first byte of a 1-byte range.
    const ttfb = { ours: [], 'fetch + Readable.fromWeb (original)': [] }
    const first = async (open) => {
      const t = process.hrtime.bigint()
      const stream = await open()
      for await (const _ of stream) break
      return Number(process.hrtime.bigint() - t) / 1e6
    }
    for (let i = 0; i < (quick ? 50 : 200); i++) {
      ttfb.ours.push(await first(async () => (await provider.getFileStreamByExternalId(id, { start: 0, end: 0 })).stream))
      ttfb['fetch + Readable.fromWeb (original)'].push(await first(() => originalStream(server.url, id, { start: 0, end: 0 })))
    }
    const mibs = (secs) => Object.fromEntries(Object.entries(secs).map(([k, s]) => [k, size / MiB / s]))
    const fullMibs = mibs(full)
    const ms = Object.fromEntries(Object.entries(ttfb).map(([k, v]) => [k, median(v)]))
    return [
      {
        title: `Case 2: CrunchyCone signed-URL download (local API server, bytes from ${server.fileServer}), ${size / MiB} MiB full read (MiB/s) and ${RANGES} sequential 64 KiB ranges (s)`,
        unit: 'MiB/s or s',
        values: {
          'full read, ours (MiB/s)': fullMibs.ours,
          'full read, ours, parallel: false (MiB/s)': fullMibs['ours, parallel: false'],
          'full read, fetch + Readable.fromWeb (MiB/s)': fullMibs['fetch + Readable.fromWeb (original)'],
          'full read, curl (MiB/s)': fullMibs['curl -o /dev/null'],
          ...shares,
          [`${RANGES} ranges, ours (s)`]: ranges.ours,
          [`${RANGES} ranges, fetch + Readable.fromWeb (s)`]: ranges['fetch + Readable.fromWeb (original)'],
        },
        targets: [
          { name: 'full read vs fetch + Readable.fromWeb', ratio: fullMibs.ours / fullMibs['fetch + Readable.fromWeb (original)'], target: 2 },
          { name: 'full read vs curl', ratio: fullMibs.ours / fullMibs['curl -o /dev/null'], target: 0.95 },
          { name: 'full read, parallel: false, vs curl', ratio: fullMibs['ours, parallel: false'] / fullMibs['curl -o /dev/null'] },
          { name: `${RANGES} ranges vs fetch + Readable.fromWeb`, ratio: ranges['fetch + Readable.fromWeb (original)'] / ranges.ours, target: 2 },
        ],
      },
      {
        title: 'Case 4 (CrunchyCone): time to first byte of a 1-byte range (ms, lower is better)',
        unit: 'ms',
        values: ms,
        targets: [{ name: 'CrunchyCone TTFB vs the original flow (ours / baseline)', ratio: ms.ours / ms['fetch + Readable.fromWeb (original)'], maxRatio: 0.7 }],
      },
    ]
  } finally {
    await server.stop()
  }
}

module.exports = { httpCases, startApiServer, startNginx, originalStream, API_KEY, PROJECT }
