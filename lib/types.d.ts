/// <reference types="node" />
// Public types of crunchycone-storage: the original crunchycone-lib storage interface, unchanged,
// so code written against the original compiles as it is.

export interface StorageUploadOptions {
  filePath?: string
  stream?: ReadableStream | NodeJS.ReadableStream
  buffer?: Buffer
  external_id: string
  key?: string
  filename?: string
  contentType?: string
  size?: number
  bucket?: string
  public?: boolean
  metadata?: Record<string, string>
  /**
   * S3, GCS and Azure multipart uploads: how many 8 MiB parts may be on the wire at once, 1 to 64
   * (default: the provider configuration's `partsInFlight`, else 2; each part in flight adds about 16–24 MiB
   * to an upload's peak memory). CrunchyCone uploads are one PUT and local writes one file, so they ignore it.
   */
  partsInFlight?: number
  /** Aborting fails the upload with `signal.reason` and removes what it wrote, as a failure does. */
  signal?: AbortSignal
  /** Called after every write: bytes sent so far, and the source's size when it is known. */
  onProgress?: (progress: UploadProgress) => void
}

export interface UploadProgress {
  loaded: number
  /** The buffer's or the file's size, or `size` for a stream; undefined when unknown. */
  total?: number
}

export interface StorageUploadResult {
  external_id: string
  key: string
  url: string
  size: number
  contentType: string
  etag?: string
  metadata?: Record<string, string>
  visibility: 'public' | 'private' | 'temporary-public'
  publicUrl?: string
  publicUrlExpiresAt?: Date
}

export interface StorageFileInfo {
  external_id: string
  key: string
  url: string
  size: number
  contentType: string
  lastModified?: Date
  etag?: string
  metadata?: Record<string, string>
  visibility?: 'public' | 'private' | 'temporary-public'
  publicUrl?: string
  publicUrlExpiresAt?: Date
}

export interface S3Config extends TransferConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  endpoint?: string
  forcePathStyle?: boolean
  bucket: string
  publicBaseUrl?: string
  cdnUrl?: string
  useSSL?: boolean
  signatureVersion?: string
  s3BucketEndpoint?: boolean
  defaultACL?: string
  serverSideEncryption?: string
}

export interface FileValidationOptions {
  maxSize?: number
  minSize?: number
  allowedTypes?: string[]
  allowedExtensions?: string[]
  blockDangerousFiles?: boolean
}

export interface FileValidationResult {
  valid: boolean
  error?: string
}

export type StorageProviderType =
  | 'localstorage'
  | 'aws'
  | 's3'
  | 'digitalocean'
  | 'wasabi'
  | 'backblaze'
  | 'r2'
  | 's3-custom'
  | 'gcp'
  | 'azure'
  | 'crunchycone'

export interface ListFilesOptions {
  /** Default 100, at most 1000. */
  limit?: number
  offset?: number
  continuationToken?: string
  prefix?: string
  /** Glob: `*` any run, `?` one character; case-insensitive. */
  keyPattern?: string
  externalIdPrefix?: string
  externalIdPattern?: string
  externalIds?: string[]
  contentType?: string
  contentTypePrefix?: string
  filename?: string
  filenamePattern?: string
  minSize?: number
  maxSize?: number
  createdAfter?: Date
  createdBefore?: Date
  modifiedAfter?: Date
  modifiedBefore?: Date
  metadata?: Record<string, string>
  hasMetadata?: string[]
  sortBy?: 'key' | 'external_id' | 'filename' | 'size' | 'lastModified' | 'contentType'
  sortOrder?: 'asc' | 'desc'
  includeMetadata?: boolean
  includeUrls?: boolean
}

export interface ListFilesResult {
  files: StorageFileInfo[]
  totalCount?: number
  hasMore: boolean
  continuationToken?: string
  nextOffset?: number
  truncated?: boolean
  searchTime?: number
}

export interface SearchFilesOptions extends Omit<ListFilesOptions, 'prefix' | 'keyPattern'> {
  query?: string
  searchFields?: ('external_id' | 'filename' | 'metadata' | 'contentType' | 'key')[]
  caseSensitive?: boolean
  exactMatch?: boolean
  includeDeleted?: boolean
  onlyPublic?: boolean
  onlyPrivate?: boolean
}

export interface SearchFilesResult extends ListFilesResult {
  query?: string
  searchFields?: string[]
  relevanceScoring?: boolean
}

export interface StorageFileInfoExtended extends StorageFileInfo {
  isPublic?: boolean
  bucket?: string
  storageClass?: string
  tags?: Record<string, string>
  relevanceScore?: number
  matchedFields?: string[]
}

export interface FileVisibilityResult {
  success: boolean
  requestedVisibility: 'public' | 'private'
  actualVisibility: 'public' | 'private' | 'temporary-public'
  publicUrl?: string
  publicUrlExpiresAt?: Date
  message?: string
  providerSpecific?: {
    sasToken?: string
    aclApplied?: boolean
    expirationExtensible?: boolean
    [key: string]: any
  }
}

export interface FileVisibilityStatus {
  visibility: 'public' | 'private' | 'temporary-public'
  publicUrl?: string
  publicUrlExpiresAt?: Date
  canMakePublic: boolean
  canMakePrivate: boolean
  supportsTemporaryAccess: boolean
  message?: string
}

export interface FileStreamOptions {
  /** First byte offset (inclusive). */
  start?: number
  /** Last byte offset (inclusive, as in HTTP Range). */
  end?: number
  /**
   * The last `suffix` bytes (all of them when the file is smaller), as HTTP's `bytes=-n`; not with
   * `start` or `end`. One request where the backend takes suffix ranges (S3, GCS, CrunchyCone).
   */
  suffix?: number
  /** Default 'node'. */
  responseType?: 'node' | 'web'
  signal?: AbortSignal
  /** Milliseconds without a first byte, or without progress, before the stream fails. */
  timeout?: number
  /** Default true. */
  includeMetadata?: boolean
  /**
   * Parallel ranged reads for this stream (S3 family, GCS, Azure, CrunchyCone; LocalStorage reads
   * files and ignores it): `false` turns them off, an object changes the provider's settings
   * field by field. See {@link ParallelReads}.
   */
  parallel?: boolean | ParallelReads
}

/**
 * How a large read is split into consecutive parts fetched over several connections at once and
 * delivered in order as one stream. Every part is pinned to the first response's ETag: an object
 * replaced mid-read fails the stream with `Conflict`. Memory per stream stays within
 * `connections × partSize`. A process-wide cap (`setParallelConnectionLimit`, default 64)
 * bounds the part requests of every stream together.
 */
export interface ParallelReads {
  /** Bytes per part (at least 65536). Default 8 MiB. */
  partSize?: number
  /** Connections one stream uses at once, the first response's among them (1 to 64; 1 turns it off). Default 8. */
  connections?: number
  /** Reads of at most this many bytes use one connection. Default 16 MiB. */
  threshold?: number
  /**
   * A read stays on its first connection until the consumer has waited this many milliseconds in
   * all for the first part's bytes (a connection that keeps up is not held back by the network,
   * and parts would only cost the server work); 0 splits every read over the threshold at once.
   * Default 30.
   */
  singleWithinMs?: number
}

/** The `parallel` setting of every provider configuration whose streams come over HTTP. */
export interface ParallelReadsConfig {
  /** Parallel ranged reads of this provider's streams (on by default; `false` turns them off, settings tune them). */
  parallel?: boolean | ParallelReads
}

/** A provider's transfer settings: its streams' parallel reads and its uploads' parts in flight. */
export interface TransferConfig extends ParallelReadsConfig {
  /** The default of `StorageUploadOptions.partsInFlight` for this provider's uploads (1 to 64). */
  partsInFlight?: number
}

export interface FileStreamResult {
  stream: NodeJS.ReadableStream | ReadableStream
  contentType: string
  /** Bytes in this response. */
  contentLength?: number
  lastModified?: Date
  etag?: string
  acceptsRanges?: boolean
  isPartialContent: boolean
  range?: {
    start: number
    end: number
    total: number
  }
  streamType: 'node' | 'web'
  providerSpecific?: {
    signedUrl?: string
    cacheControl?: string
    [key: string]: any
  }
  cleanup?: () => Promise<void>
}

/**
 * What this package's `getFileStream` gives: the original's `FileStreamResult` with `stream` typed
 * by `responseType`, and `contentLength` and `cleanup` always there (code written against the
 * original's type still compiles: these are assignable to it).
 */
export interface TypedFileStreamResult<S extends FileStreamResult['stream'], T extends 'node' | 'web'> extends FileStreamResult {
  stream: S
  streamType: T
  contentLength: number
  cleanup: () => Promise<void>
}
/** `responseType: 'node'` (the default): a Node `Readable`. */
export type NodeFileStreamResult = TypedFileStreamResult<import('node:stream').Readable, 'node'>
/** `responseType: 'web'`: a Web `ReadableStream` of bytes. */
export type WebFileStreamResult = TypedFileStreamResult<ReadableStream<Uint8Array>, 'web'>
/** The result of a range request (`start`, `end` or `suffix` given): `range` is always there. */
export type RangedFileStreamResult<R extends FileStreamResult> = R & {
  isPartialContent: true
  range: { start: number; end: number; total: number }
}
/** Options that ask for a range. */
export type FileStreamRange = { start: number } | { end: number } | { suffix: number }

/** The stream methods of this package's providers, each result typed by its options. */
export interface FileStreamMethods {
  getFileStream(key: string, options: FileStreamOptions & { responseType: 'web' } & FileStreamRange): Promise<RangedFileStreamResult<WebFileStreamResult>>
  getFileStream(key: string, options: FileStreamOptions & { responseType: 'web' }): Promise<WebFileStreamResult>
  getFileStream(key: string, options: FileStreamOptions & { responseType?: 'node' } & FileStreamRange): Promise<RangedFileStreamResult<NodeFileStreamResult>>
  getFileStream(key: string, options?: FileStreamOptions & { responseType?: 'node' }): Promise<NodeFileStreamResult>
  getFileStream(key: string, options?: FileStreamOptions): Promise<NodeFileStreamResult | WebFileStreamResult>
  getFileStreamByExternalId(externalId: string, options: FileStreamOptions & { responseType: 'web' } & FileStreamRange): Promise<RangedFileStreamResult<WebFileStreamResult>>
  getFileStreamByExternalId(externalId: string, options: FileStreamOptions & { responseType: 'web' }): Promise<WebFileStreamResult>
  getFileStreamByExternalId(externalId: string, options: FileStreamOptions & { responseType?: 'node' } & FileStreamRange): Promise<RangedFileStreamResult<NodeFileStreamResult>>
  getFileStreamByExternalId(externalId: string, options?: FileStreamOptions & { responseType?: 'node' }): Promise<NodeFileStreamResult>
  getFileStreamByExternalId(externalId: string, options?: FileStreamOptions): Promise<NodeFileStreamResult | WebFileStreamResult>
}

/** Every provider class of this package: the whole `StorageProvider`, streams typed. */
export interface ProviderMethods extends Omit<Required<StorageProvider>, 'getFileStream' | 'getFileStreamByExternalId'>, FileStreamMethods {}

export interface FileUrlOptions {
  /** Default 'attachment'. */
  disposition?: 'attachment' | 'inline'
}

export interface StorageProvider {
  uploadFile(options: StorageUploadOptions): Promise<StorageUploadResult>
  deleteFile(key: string): Promise<void>
  deleteFileByExternalId(externalId: string): Promise<void>
  getFileUrl(key: string, expiresIn?: number, options?: FileUrlOptions): Promise<string>
  getFileUrlByExternalId(externalId: string, expiresIn?: number, options?: FileUrlOptions): Promise<string>
  fileExists(key: string): Promise<boolean>
  fileExistsByExternalId(externalId: string): Promise<boolean>
  findFileByExternalId(externalId: string): Promise<StorageFileInfo | null>
  listFiles(options?: ListFilesOptions): Promise<ListFilesResult>
  searchFiles(options: SearchFilesOptions): Promise<SearchFilesResult>
  isAvailable(): Promise<boolean>
  setFileVisibility(key: string, visibility: 'public' | 'private'): Promise<FileVisibilityResult>
  setFileVisibilityByExternalId(externalId: string, visibility: 'public' | 'private'): Promise<FileVisibilityResult>
  getFileVisibility(key: string): Promise<FileVisibilityStatus>
  getFileVisibilityByExternalId(externalId: string): Promise<FileVisibilityStatus>
  setMultipleFileVisibility?(keys: string[], visibility: 'public' | 'private'): Promise<FileVisibilityResult[]>
  getFileStream?(key: string, options?: FileStreamOptions): Promise<FileStreamResult>
  getFileStreamByExternalId?(externalId: string, options?: FileStreamOptions): Promise<FileStreamResult>
}
