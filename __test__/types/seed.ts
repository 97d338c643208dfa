// The streaming interface's own usage examples, as published with it, each unchanged inside a
// function that declares what it assumes (a provider, an Express-like `app`, a controller). They
// must compile under --strict without casts beyond those the examples already have.
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type { ServerResponse } from 'node:http'
import { CrunchyConeProvider } from 'crunchycone-storage/storage/providers/crunchycone'
import type { CrunchyConeConfig } from 'crunchycone-storage/storage/providers/crunchycone'
import type { FileStreamResult } from 'crunchycone-storage'

declare const config: CrunchyConeConfig
declare const app: { get(path: string, handler: (req: { params: { id: string } }, res: ServerResponse) => Promise<void>): void }
declare const controller: AbortController
declare function processStream(stream: FileStreamResult['stream']): Promise<void>

export async function basicStreaming() {
  const provider = new CrunchyConeProvider(config);

  // Check if streaming is supported
  if (provider.getFileStream) {
    const streamResult = await provider.getFileStream('my-file.pdf');
    
    // Stream to local file
    const writeStream = createWriteStream('./output.pdf');
    await pipeline(streamResult.stream as NodeJS.ReadableStream, writeStream);
    
    // Always cleanup
    await streamResult.cleanup?.();
  }
}

export async function rangeRequests(provider: CrunchyConeProvider) {
  // Download first 1MB of a large file
  const streamResult = await provider.getFileStream('large-video.mp4', {
    start: 0,
    end: 1024 * 1024 - 1,
  });

  console.log(`Streaming ${streamResult.range?.end - streamResult.range?.start + 1} bytes`);
}

export function httpResponseStreaming(provider: CrunchyConeProvider) {
  app.get('/files/:id', async (req, res) => {
    const streamResult = await provider.getFileStreamByExternalId(req.params.id);
    
    // Set appropriate headers
    res.setHeader('Content-Type', streamResult.contentType);
    res.setHeader('Content-Length', streamResult.contentLength);
    
    // Stream directly to HTTP response
    (streamResult.stream as NodeJS.ReadableStream).pipe(res);
  });
}

export async function progressTracking(provider: CrunchyConeProvider) {
  const streamResult = await provider.getFileStream('large-file.bin');
  let downloadedBytes = 0;

  const progressTracker = new Transform({
    transform(chunk, encoding, callback) {
      downloadedBytes += chunk.length;
      const percentage = Math.round((downloadedBytes / streamResult.contentLength!) * 100);
      console.log(`Progress: ${percentage}%`);
      callback(null, chunk);
    }
  });

  await pipeline(
    streamResult.stream as NodeJS.ReadableStream,
    progressTracker,
    createWriteStream('./output.file')
  );
}

export async function concurrentStreaming(provider: CrunchyConeProvider) {
  const fileIds = ['file1', 'file2', 'file3'];
  const streams = await Promise.all(
    fileIds.map(id => provider.getFileStreamByExternalId!(id))
  );

  try {
    await Promise.all(streams.map((stream, index) => 
      pipeline(
        stream.stream as NodeJS.ReadableStream,
        createWriteStream(`./output-${index}.file`)
      )
    ));
  } finally {
    // Cleanup all streams
    await Promise.all(streams.map(s => s.cleanup?.()).filter(Boolean));
  }
}

export async function safeStreaming(provider: CrunchyConeProvider) {
  let streamResult: FileStreamResult | null = null;
  
  try {
    streamResult = await provider.getFileStream('file.dat', {
      timeout: 30000,
      signal: controller.signal,
    });
    
    await processStream(streamResult.stream);
    
  } catch (error) {
    console.error('Streaming failed:', error);
    throw error;
  } finally {
    // Always cleanup
    await streamResult?.cleanup?.();
  }
}

// What the typed results add: no casts at all.
export async function withoutCasts(provider: CrunchyConeProvider, res: ServerResponse) {
  const node = await provider.getFileStream('a.bin')
  res.setHeader('Content-Length', node.contentLength)
  node.stream.pipe(res)
  const web = await provider.getFileStream('a.bin', { responseType: 'web' })
  const reader: ReadableStreamDefaultReader<Uint8Array> = web.stream.getReader()
  // @ts-expect-error a Web stream has no pipe()
  web.stream.pipe(res)
  const ranged = await provider.getFileStreamByExternalId('id', { suffix: 100, responseType: 'web' })
  const bytes: number = ranged.range.end - ranged.range.start + 1
  await node.cleanup()
  return [reader, bytes]
}
