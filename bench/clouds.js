'use strict'
// Case 3 and the cloud half of case 4: getFileStream against each object store's local server
// (started here, on 127.0.0.1) versus what a Node user would write with that cloud's SDK on the
// same object: S3 (moto) vs `@aws-sdk/client-s3` GetObjectCommand, Azure (Azurite) vs
// `@azure/storage-blob` download, GCS (fake-gcs-server) vs `@google-cloud/storage`
// createReadStream, each used with its defaults.

const fs = require('node:fs')
const { Readable } = require('node:stream')
const http = require('node:http')
const emulators = require('../scripts/emulators')

const MiB = 1 << 20
const BUCKET = 'bench-bucket'
const CREDS = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' }

async function consume(stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.byteLength
  return n
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms);
 * `children`: with those of its children it has waited for (curl run by spawnSync).
 */
function cpuSeconds(pid, children = false) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return fields.slice(11, children ? 15 : 13).reduce((sum, f) => sum + Number(f), 0) / 100
}

/** `size` bytes of a repeating pattern, generated as they are read. */
function generated(size) {
  const block = Buffer.alloc(MiB)
  for (let i = 0; i < MiB; i++) block[i] = (i * 31) & 0xff
  let left = size
  return new Readable({
    read() {
      if (left <= 0) return this.push(null)
      const n = Math.min(left, MiB)
      left -= n
      this.push(block.subarray(0, n))
    },
  })
}

/**
 * Each service: starts its server, stores `objects` ({ key: size }) and resolves with
 * `{ provider, baseline: { name, read(key, range?) → stream }, floorUrl(key), stop() }`.
 */
const SERVICES = {
  async S3(objects) {
    const lib = require('..')
    const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3')
    const server = await emulators.moto(BUCKET)
    const provider = new lib.S3CompatibleProvider({ ...CREDS, region: 'us-east-1', bucket: BUCKET, endpoint: server.endpoint })
    for (const [key, size] of Object.entries(objects)) await provider.uploadFile({ external_id: key, key, stream: generated(size) })
    const sdk = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: CREDS })
    const read = async (key, range) =>
      (await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range && `bytes=${range.start}-${range.end}` }))).Body
    return {
      server: 'moto',
      pid: server.pid,
      provider,
      baseline: { name: 'AWS SDK GetObjectCommand', read },
      floorUrl: (key) => provider.getFileUrl(key),
      stop: async () => {
        sdk.destroy()
        await server.stop()
      },
    }
  },

  async Azure(objects) {
    const lib = require('..')
    const { BlobServiceClient } = require('@azure/storage-blob')
    const server = await emulators.azurite(BUCKET)
    const provider = new lib.AzureStorageProvider({ connectionString: server.connectionString, containerName: BUCKET })
    for (const [key, size] of Object.entries(objects)) await provider.uploadFile({ external_id: key, key, stream: generated(size) })
    const container = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(BUCKET)
    const read = async (key, range) => {
      const blob = container.getBlobClient(key)
      const r = range ? await blob.download(range.start, range.end - range.start + 1) : await blob.download()
      return r.readableStreamBody
    }
    return {
      server: 'Azurite',
      pid: server.pid,
      provider,
      baseline: { name: 'Azure SDK download', read },
      floorUrl: (key) => provider.getFileUrl(key),
      stop: () => server.stop(),
    }
  },

  async GCS(objects) {
    const lib = require('..')
    const { Storage } = require('@google-cloud/storage')
    const { startGcsProxy } = require('../__test__/helpers/gcsproxy')
    const server = await emulators.fakeGcs(BUCKET)
    // fake-gcs-server takes the XML API's uploads only through the test shim; reads go to it directly.
    const shim = await startGcsProxy(server.endpoint)
    try {
      const writer = new lib.GCPStorageProvider({ projectId: 'bench', bucket: BUCKET, apiEndpoint: shim.endpoint })
      for (const [key, size] of Object.entries(objects)) await writer.uploadFile({ external_id: key, key, stream: generated(size) })
    } finally {
      await shim.close()
    }
    const provider = new lib.GCPStorageProvider({ projectId: 'bench', bucket: BUCKET, apiEndpoint: server.endpoint })
    const bucket = new Storage({ apiEndpoint: server.endpoint, projectId: 'bench' }).bucket(BUCKET)
    const read = async (key, range) => bucket.file(key).createReadStream(range ?? {})
    return {
      server: 'fake-gcs-server',
      pid: server.pid,
      provider,
      baseline: { name: 'GCS SDK createReadStream', read },
      // fake-gcs-server serves objects without credentials.
      floorUrl: async (key) => `${server.endpoint}/${BUCKET}/${key}`,
      stop: () => server.stop(),
    }
  },
}

/** Case 3 and the case 4 rows of one service. */
async function cloudCases(service, { rounds, interleave, median, quick }) {
  const size = (quick ? 64 : 256) * MiB
  const key = 'bench/object.bin'
  const small = 'bench/small.bin'
  const s = await SERVICES[service]({ [key]: size, [small]: 4096 })
  try {
    const { provider, baseline } = s
    const expect = (want) => (n) => {
      if (n !== want) throw new Error(`${service}: read ${n} of ${want} bytes`)
    }
    const ours = async (range) => consume((await provider.getFileStream(key, range ?? {})).stream)
    const theirs = async (range) => consume(await baseline.read(key, range))
    const full = await interleave(
      { ours: async () => expect(size)(await ours()), [baseline.name]: async () => expect(size)(await theirs()) },
      rounds,
    )
    // A local server can bound both clients' throughput, so the client's own cost is measured
    // too: CPU time of this process (all threads) per full read.
    const cpu = async (read) => {
      const samples = []
      for (let i = 0; i < rounds; i++) {
        const before = process.cpuUsage()
        expect(size)(await read())
        const used = process.cpuUsage(before)
        samples.push((used.user + used.system) / 1e6)
      }
      return median(samples)
    }
    const cpuOurs = await cpu(() => ours())
    const cpuTheirs = await cpu(() => theirs())
    // Whether the server bounds a case: its CPU time over the wall time of one more run each
    // (1.0 = one core busy the whole time; moto and Azurite serve requests on one thread).
    const serverShare = async (run) => {
      const [cpu, t] = [cpuSeconds(s.pid), process.hrtime.bigint()]
      await run()
      return (cpuSeconds(s.pid) - cpu) / (Number(process.hrtime.bigint() - t) / 1e9)
    }
    const fullShareOurs = await serverShare(ours)
    const fullShareTheirs = await serverShare(theirs)
    const RANGES = 64
    const rangeAt = (i) => {
      const start = Math.floor((i * (size - MiB)) / RANGES)
      return { start, end: start + MiB - 1 }
    }
    const concurrent = (read) => async () => {
      const sizes = await Promise.all(Array.from({ length: RANGES }, (_, i) => read(rangeAt(i))))
      sizes.forEach(expect(MiB))
    }
    // Short rounds are noisy: take more of them where one is cheap (not on moto, where it takes ~9 s).
    const probe = process.hrtime.bigint()
    await concurrent(ours)()
    const rangeRounds = Number(process.hrtime.bigint() - probe) < 1e9 ? 9 : Math.max(2, rounds - 2)
    const ranges = await interleave({ ours: concurrent(ours), [baseline.name]: concurrent(theirs) }, rangeRounds)
    const shareOurs = await serverShare(concurrent(ours))
    const shareTheirs = await serverShare(concurrent(theirs))

    // Time to first byte, on the big object and on a 4 KiB one (where a server's per-request cost
    // is small, so the clients' own overhead shows).
    const first = async (open) => {
      const t = process.hrtime.bigint()
      for await (const _ of await open()) break
      return Number(process.hrtime.bigint() - t) / 1e6
    }
    const ttfb = async (k) => {
      const times = { ours: [], sdk: [] }
      for (let i = 0; i < (quick ? 30 : 100); i++) {
        times.ours.push(await first(async () => (await provider.getFileStream(k, { start: 0, end: 0 })).stream))
        times.sdk.push(await first(() => baseline.read(k, { start: 0, end: 0 })))
      }
      return { ours: median(times.ours), sdk: median(times.sdk) }
    }
    const big = await ttfb(key)
    const tiny = await ttfb(small)
    // The server's own floor: the least a client can do, one ranged GET of a (signed) URL on a
    // kept-alive connection with Node's http, to the first byte.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const bare = (url) =>
      new Promise((resolve, reject) => {
        const t = process.hrtime.bigint()
        http
          .get(url, { agent, headers: { range: 'bytes=0-0' } }, (res) => {
            res.once('data', () => resolve(Number(process.hrtime.bigint() - t) / 1e6))
            res.resume()
          })
          .on('error', reject)
      })
    const floor = async (k) => {
      const url = await s.floorUrl(k)
      const times = []
      for (let i = 0; i < (quick ? 30 : 100); i++) times.push(await bare(url))
      return median(times)
    }
    const floorBig = await floor(key)
    const floorTiny = await floor(small)
    agent.destroy()
    const sdk = baseline.name
    return [
      {
        title: `Case 3 (${service}, ${s.server}): ${size / MiB} MiB full read (MiB/s) and ${RANGES} concurrent 1 MiB ranges (s)`,
        unit: 'MiB/s or s',
        values: {
          'full read, ours (MiB/s)': size / MiB / full.ours,
          [`full read, ${sdk} (MiB/s)`]: size / MiB / full[sdk],
          'full read, ours: client CPU (s)': cpuOurs,
          [`full read, ${sdk}: client CPU (s)`]: cpuTheirs,
          [`full read, ours: ${s.server} CPU / wall`]: fullShareOurs,
          [`full read, ${sdk}: ${s.server} CPU / wall`]: fullShareTheirs,
          [`${RANGES} ranges, ours (s)`]: ranges.ours,
          [`${RANGES} ranges, ${sdk} (s)`]: ranges[sdk],
          [`${RANGES} ranges, ours: ${s.server} CPU / wall`]: shareOurs,
          [`${RANGES} ranges, ${sdk}: ${s.server} CPU / wall`]: shareTheirs,
        },
        targets: [
          { name: `${service} full read vs ${sdk}`, ratio: full[sdk] / full.ours, target: 1 },
          { name: `${service} full read, client CPU: ${sdk} / ours`, ratio: cpuTheirs / cpuOurs },
          { name: `${service} ${RANGES} concurrent ranges vs ${sdk}`, ratio: ranges[sdk] / ranges.ours, target: 1.5 },
        ],
      },
      {
        title: `Case 4 (${service}): time to first byte of a 1-byte range (ms, lower is better), of the ${size / MiB} MiB object and of a 4 KiB one`,
        unit: 'ms',
        values: {
          [`${size / MiB} MiB object, ours`]: big.ours,
          [`${size / MiB} MiB object, ${sdk}`]: big.sdk,
          [`${size / MiB} MiB object, bare keep-alive GET (the server's floor)`]: floorBig,
          '4 KiB object, ours': tiny.ours,
          [`4 KiB object, ${sdk}`]: tiny.sdk,
          "4 KiB object, bare keep-alive GET (the server's floor)": floorTiny,
        },
        targets: [
          { name: `${service} TTFB vs ${sdk} (ours / baseline)`, ratio: big.ours / big.sdk, maxRatio: 0.7 },
          { name: `${service} TTFB, 4 KiB object (ours / baseline)`, ratio: tiny.ours / tiny.sdk, maxRatio: 0.7 },
        ],
      },
    ]
  } finally {
    await s.stop()
  }
}

module.exports = { cloudCases, SERVICES: Object.keys(SERVICES), consume, cpuSeconds, generated }
