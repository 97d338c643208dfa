/// <reference types="node" />
// HTTP serving (lib/serve.js).
import type { FileStreamOptions, StorageProvider } from './types'

/** Options of `serveFile`, `createFileHandler` and `toResponse`. */
export interface ServeOptions {
  /** The key is an external id (`getFileStreamByExternalId`). */
  byExternalId?: boolean
  /** `Cache-Control`: a value, or `false` for none. Default: the object's own, when it has one. */
  cacheControl?: string | false
  /** Sends `Content-Disposition` of this type, with `filename` (default: the key's last segment). */
  disposition?: 'inline' | 'attachment'
  filename?: string
  /** Default true: send `ETag` / `Last-Modified`. */
  etag?: boolean
  lastModified?: boolean
  /** Extra response headers (CORS, for example), on every answer. */
  headers?: Record<string, string>
  /**
   * `Content-Security-Policy`: a value, or `false` for none. Default: `sandbox; default-src 'none'`
   * for types a browser would run as a page (HTML, XHTML, SVG, XML), none for others.
   */
  contentSecurityPolicy?: string | false
  /** The stream's `timeout` (FileStreamOptions). */
  timeout?: number
  /** The stream's `parallel` (FileStreamOptions): over the provider's own setting. */
  parallel?: FileStreamOptions['parallel']
  /** Called with the error behind a 4xx/5xx answer (the answer itself says only its status). */
  onError?: (error: Error & { code?: string }) => void
}

export interface FileHandlerOptions extends ServeOptions {
  /** The key for a request; default: the request path (relative to the mount), percent-decoded. */
  key?: (req: import('node:http').IncomingMessage) => string
}

/**
 * Answers a Node request with `key` from `provider`: ranges (206 / 416), conditional requests
 * (304 / 412), If-Range, HEAD, validators; 404 for a missing key, 400 for an invalid one. A client
 * that disconnects cancels the provider stream at once.
 */
export declare function serveFile(
  provider: StorageProvider,
  key: string,
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  options?: ServeOptions,
): Promise<void>
/** A Node request handler (`http.createServer(handler)`, `app.use('/files', handler)`). */
export declare function createFileHandler(
  provider: StorageProvider,
  options?: FileHandlerOptions,
): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>
/** The same answers as a Web `Response`, for fetch-style servers. */
export declare function toResponse(provider: StorageProvider, key: string, request: Request, options?: ServeOptions): Promise<Response>
