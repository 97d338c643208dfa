'use strict'
// Case 3 (S3) and the S3 half of case 4: getFileStream against moto (started here, on 127.0.0.1)
// versus what a Node user would write with the AWS SDK, `GetObjectCommand`, on the same object.

const { Readable } = require('node:stream')
const { spawnSync } = require('node:child_process')
const emulators = require('../scripts/emulators')

const MiB = 1 << 20
const BUCKET = 'bench-bucket'
const CREDS = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' }

async function consume(stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.byteLength
  return n
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

async function s3Cases({ rounds, interleave, median, quick }) {
  const { S3CompatibleProvider } = require('..')
  const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3')
  const server = await emulators.moto(BUCKET)
  let sdk
  try {
    const size = (quick ? 64 : 256) * MiB
    const provider = new S3CompatibleProvider({ ...CREDS, region: 'us-east-1', bucket: BUCKET, endpoint: server.endpoint })
    sdk = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: CREDS })
    const key = 'bench/object.bin'
    await provider.uploadFile({ external_id: 'bench-s3', key, stream: generated(size) })

    const expect = (want) => (n) => {
      if (n !== want) throw new Error(`read ${n} of ${want} bytes`)
    }
    const ours = async (range) => consume((await provider.getFileStream(key, range ?? {})).stream)
    const theirs = async (range) => {
      const r = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }))
      return consume(r.Body)
    }
    const full = await interleave(
      { ours: async () => expect(size)(await ours()), 'AWS SDK GetObjectCommand': async () => expect(size)(await theirs()) },
      rounds,
    )
    // moto bounds both clients' throughput (it copies the whole object on every request), so the
    // client's own cost is measured too: CPU time of this process (all threads) per full read.
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
    const RANGES = 64
    const rangeAt = (i) => {
      const start = Math.floor((i * (size - MiB)) / RANGES)
      return { start, end: start + MiB - 1 }
    }
    const concurrent = (read) => async () => {
      const sizes = await Promise.all(Array.from({ length: RANGES }, (_, i) => read(rangeAt(i))))
      sizes.forEach(expect(MiB))
    }
    const ranges = await interleave({ ours: concurrent(ours), 'AWS SDK GetObjectCommand': concurrent(theirs) }, Math.max(2, rounds - 2))

    // Time to first byte, on the big object and on a 4 KiB one (where moto's per-request copy is
    // small, so the clients' own overhead shows).
    const small = 'bench/small.bin'
    await provider.uploadFile({ external_id: 'bench-s3-small', key: small, buffer: Buffer.alloc(4096, 1) })
    const first = async (open) => {
      const t = process.hrtime.bigint()
      for await (const _ of await open()) break
      return Number(process.hrtime.bigint() - t) / 1e6
    }
    const ttfb = async (k) => {
      const times = { ours: [], sdk: [] }
      for (let i = 0; i < (quick ? 30 : 100); i++) {
        times.ours.push(await first(async () => (await provider.getFileStream(k, { start: 0, end: 0 })).stream))
        times.sdk.push(await first(async () => (await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: k, Range: 'bytes=0-0' }))).Body))
      }
      return { ours: median(times.ours), sdk: median(times.sdk) }
    }
    const big = await ttfb(key)
    const tiny = await ttfb(small)
    // The server's own floor: curl's time to first byte on a presigned URL of the small object.
    const url = await provider.getFileUrl(small)
    const curl = median(
      Array.from({ length: quick ? 10 : 30 }, () => {
        const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-r', '0-0', '-w', '%{time_starttransfer}', url], { encoding: 'utf8' })
        return Number(r.stdout) * 1000
      }),
    )
    const sdkName = 'AWS SDK GetObjectCommand'
    return [
      {
        title: `Case 3 (S3, moto): ${size / MiB} MiB full read (MiB/s) and ${RANGES} concurrent 1 MiB ranges (s)`,
        unit: 'MiB/s or s',
        values: {
          'full read, ours (MiB/s)': size / MiB / full.ours,
          'full read, AWS SDK (MiB/s)': size / MiB / full[sdkName],
          'full read, ours: client CPU (s)': cpuOurs,
          'full read, AWS SDK: client CPU (s)': cpuTheirs,
          [`${RANGES} ranges, ours (s)`]: ranges.ours,
          [`${RANGES} ranges, AWS SDK (s)`]: ranges[sdkName],
        },
        targets: [
          { name: 'S3 full read vs AWS SDK', ratio: full[sdkName] / full.ours, target: 1 },
          { name: 'S3 full read, client CPU: AWS SDK / ours', ratio: cpuTheirs / cpuOurs },
          { name: `S3 ${RANGES} concurrent ranges vs AWS SDK`, ratio: ranges[sdkName] / ranges.ours, target: 1.5 },
        ],
      },
      {
        title: `Case 4 (S3): time to first byte of a 1-byte range (ms, lower is better), of the ${size / MiB} MiB object and of a 4 KiB one`,
        unit: 'ms',
        values: {
          [`${size / MiB} MiB object, ours`]: big.ours,
          [`${size / MiB} MiB object, AWS SDK`]: big.sdk,
          '4 KiB object, ours': tiny.ours,
          '4 KiB object, AWS SDK': tiny.sdk,
          '4 KiB object, curl (the server alone)': curl,
        },
        targets: [
          { name: 'S3 TTFB vs AWS SDK (ours / baseline)', ratio: big.ours / big.sdk, maxRatio: 0.7 },
          { name: 'S3 TTFB, 4 KiB object (ours / baseline)', ratio: tiny.ours / tiny.sdk, maxRatio: 0.7 },
        ],
      },
    ]
  } finally {
    sdk?.destroy?.()
    await server.stop()
  }
}

module.exports = { s3Cases }
