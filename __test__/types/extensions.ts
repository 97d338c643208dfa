// This package's additions to the original API: HTTP serving, suffix ranges, upload progress and
// cancellation.
import { createServer } from 'node:http'
import { LocalStorageProvider, serveFile, createFileHandler, toResponse } from 'crunchycone-storage'
import type { ServeOptions, UploadProgress, FileStreamOptions } from 'crunchycone-storage'

async function main(signal: AbortSignal): Promise<void> {
  const provider = new LocalStorageProvider()
  const options: ServeOptions = { disposition: 'attachment', cacheControl: 'private, max-age=60', onError: (e) => console.error(e.code) }
  createServer(createFileHandler(provider, { ...options, key: (req) => decodeURIComponent(req.url ?? '/').slice(1) })).listen(8080)
  createServer((req, res) => void serveFile(provider, 'a.txt', req, res, { byExternalId: false, timeout: 5000 }))
  const response: Response = await toResponse(provider, 'a.txt', new Request('http://x/a.txt'), { etag: false })
  const tail: FileStreamOptions = { suffix: 500 }
  const last = await provider.getFileStream('a.txt', tail)
  await provider.uploadFile({
    external_id: 'x',
    buffer: Buffer.from('x'),
    signal,
    onProgress: ({ loaded, total }: UploadProgress) => console.log(loaded, total ?? '?'),
  })
  console.log(response.status, last.range?.start)
}

void main(new AbortController().signal)
