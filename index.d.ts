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

export interface S3Config {
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

/** Files on disk under `CRUNCHYCONE_LOCALSTORAGE_PATH`, each with a `<key>.json` metadata file. */
export interface LocalStorageProvider extends Required<StorageProvider> {}
export declare class LocalStorageProvider {
  constructor()
}

export interface CrunchyConeConfig {
  apiUrl: string
  apiKey: string
  projectId: string
  userId?: string
  timeout?: number
}

export interface CrunchyConeFileDescriptor {
  file_id: string
  upload_url: string
  expires_at: string
}

export interface CrunchyConeFileMetadata {
  file_id: string
  user_id: string
  project_id: string
  file_path: string
  original_filename: string
  content_type: string
  expected_file_size: number
  actual_file_size: number
  storage_key: string
  upload_status: 'pending' | 'uploading' | 'completed' | 'failed'
  visibility: 'public' | 'private'
  public_url?: string | null
  external_id?: string
  metadata: Record<string, string>
  created_at: string
  updated_at: string
  uploaded_at?: string
}

/**
 * Files kept by the CrunchyCone storage API. Configuration: the config object, then
 * `CRUNCHYCONE_API_KEY` / `CRUNCHYCONE_API_URL` / `CRUNCHYCONE_PROJECT_ID`, then `crunchycone.toml`.
 */
export interface CrunchyConeProvider extends Required<StorageProvider> {}
export declare class CrunchyConeProvider {
  constructor(config?: Partial<CrunchyConeConfig>)
  setUserId(userId: string): void
  updateFileVisibilityById(fileId: string, visibility: 'public' | 'private'): Promise<FileVisibilityResult>
}

/**
 * Any S3-compatible bucket. Without `forcePathStyle: false` requests and URLs are path-style
 * (`{endpoint}/{bucket}/{key}`), as the original's client signs them.
 */
export interface S3CompatibleProvider extends Required<StorageProvider> {}
export declare class S3CompatibleProvider {
  constructor(config: S3Config)
}

export interface AWSS3Config {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
  cloudFrontDomain?: string
}
export declare class AWSS3Provider extends S3CompatibleProvider {
  constructor(config: AWSS3Config)
}

export interface DigitalOceanSpacesConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
  cdnEndpoint?: string
}
export declare class DigitalOceanSpacesProvider extends S3CompatibleProvider {
  constructor(config: DigitalOceanSpacesConfig)
}

export interface WasabiConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
}
export declare class WasabiProvider extends S3CompatibleProvider {
  constructor(config: WasabiConfig)
}

export interface BackblazeB2Config {
  keyId: string
  applicationKey: string
  region: string
  bucket: string
}
export declare class BackblazeB2Provider extends S3CompatibleProvider {
  constructor(config: BackblazeB2Config)
}

export interface CloudflareR2Config {
  accessKeyId: string
  secretAccessKey: string
  accountId: string
  bucket: string
  publicDomain?: string
}
export declare class CloudflareR2Provider extends S3CompatibleProvider {
  constructor(config: CloudflareR2Config)
}

export interface GCPStorageConfig {
  projectId: string
  /** A service account key file (or authorized-user credentials); wins over `credentials`. */
  keyFilename?: string
  /** A service account key, as the JSON object Google hands out. */
  credentials?: any
  bucket: string
  cdnUrl?: string
  /** The API address, for emulators (default `STORAGE_EMULATOR_HOST`, else Google). */
  apiEndpoint?: string
}

/**
 * A Google Cloud Storage bucket. Visibility is the objects' `allUsers` ACL entry; signed URLs need a
 * service account key (`credentials` or `keyFilename`) or credentials that may call IAM signBlob.
 */
export interface GCPStorageProvider extends Required<StorageProvider> {}
export declare class GCPStorageProvider {
  constructor(config: GCPStorageConfig)
}

export interface AzureStorageConfig {
  accountName: string
  accountKey?: string
  sasToken?: string
  connectionString?: string
  containerName: string
  cdnUrl?: string
  /** The blob service address (Azurite, sovereign clouds); default `https://{accountName}.blob.core.windows.net`. */
  endpoint?: string
}

/**
 * An Azure Blob Storage container. "public" is a read-only SAS URL valid for a year
 * (`temporary-public`), which needs the account key.
 */
export interface AzureStorageProvider extends Required<StorageProvider> {}
export declare class AzureStorageProvider {
  constructor(config: AzureStorageConfig)
}

/**
 * Sets the module-level provider from `CRUNCHYCONE_STORAGE_PROVIDER` and the `CRUNCHYCONE_*`
 * variables of that provider (README, "Configuration from the environment"). Throws
 * `Missing required environment variables for storage provider: …` and keeps the current provider
 * when any is missing.
 */
export declare function initializeStorageProvider(): void
export declare function setStorageProvider(provider: StorageProvider | null): void
/** Throws `Storage provider not initialized. Call initializeStorageProvider() first.` when unset. */
export declare function getStorageProvider(): StorageProvider

/** The original's module-level helpers: each calls the provider `getStorageProvider()` returns. */
export declare function uploadFile(options: StorageUploadOptions): Promise<StorageUploadResult>
export declare function deleteFile(key: string): Promise<void>
export declare function deleteFileByExternalId(externalId: string): Promise<void>
export declare function getFileUrl(key: string, expiresIn?: number, options?: FileUrlOptions): Promise<string>
export declare function getFileUrlByExternalId(externalId: string, expiresIn?: number, options?: FileUrlOptions): Promise<string>
export declare function fileExists(key: string): Promise<boolean>
export declare function fileExistsByExternalId(externalId: string): Promise<boolean>
export declare function findFileByExternalId(externalId: string): Promise<StorageFileInfo | null>
export declare function listFiles(options?: ListFilesOptions): Promise<ListFilesResult>
export declare function searchFiles(options: SearchFilesOptions): Promise<SearchFilesResult>
/** True for every provider type: all are built in, no SDK to install. */
export declare function isStorageProviderAvailable(type: StorageProviderType): Promise<boolean>
export declare function getAvailableStorageProviders(): Promise<StorageProviderType[]>

// The original's validation and key utilities (README, "The ./storage subpath").
export declare function validateFile(file: { name: string; size: number; type: string }, options?: FileValidationOptions): FileValidationResult
export declare function getFileExtension(filename: string): string
export declare function formatBytes(bytes: number, decimals?: number): string
export declare function checkFileSecurityRisk(filename: string, mimeType: string): { safe: boolean; reason?: string }
export declare function getCommonValidationOptions(): Record<string, FileValidationOptions>
export declare class StorageError extends Error {
  constructor(message: string, code: string, statusCode?: number, originalError?: Error)
  code: string
  statusCode: number
  originalError?: Error
}
export declare function generateUploadKey(userId: string, filename: string, prefix?: string): string
export declare function generateExternalId(): string
export declare function generateKeyFromExternalId(externalId: string, filename?: string, prefix?: string): string
export declare function generateRandomKey(extension: string, prefix?: string): string
export declare function sanitizeFilename(filename: string): string
export declare function generatePresignedKey(key: string, operation?: string): string
export declare function parseStorageKey(key: string): {
  prefix?: string
  userId?: string
  timestamp?: number
  randomId?: string
  filename: string
  extension: string
}
export declare function getFileTypeCategory(contentType: string): 'image' | 'video' | 'audio' | 'text' | 'document' | 'archive' | 'other'
export declare function createDirectoryPath(userId: string, category: string, date?: Date): string
export declare function isImageFile(contentType: string): boolean
export declare function isVideoFile(contentType: string): boolean
export declare function isAudioFile(contentType: string): boolean
export declare function isDocumentFile(contentType: string): boolean
export declare function validateFileSize(size: number, maxSize: number): boolean
export declare function validateFileType(contentType: string, allowedTypes: string[]): boolean
export declare function createThumbnailKey(key: string, size?: string): string
export declare function createBackupKey(key: string): string
export declare function extractMetadataFromKey(key: string): Record<string, string>
export declare function handleStorageError(error: unknown, operation: string): never

// The original's sync (`./storage/sync`, also in `./storage`).
export interface SyncOptions {
  source: StorageProvider
  destination: StorageProvider
  filter?: { prefix?: string; externalIds?: string[]; contentType?: string; contentTypePrefix?: string; minSize?: number; maxSize?: number }
  direction: 'one-way' | 'two-way'
  conflictResolution?: 'skip' | 'overwrite' | 'newest-wins' | 'largest-wins'
  dryRun?: boolean
  deleteOrphaned?: boolean
  batchSize?: number
  /** Accepted and ignored (README, "Compatibility notes"). */
  preserveTimestamps?: boolean
  onProgress?: (progress: SyncProgress) => void
  onError?: (error: SyncError) => void
  onFileComplete?: (result: SyncFileResult) => void
}
export interface SyncProgress {
  phase: 'scanning' | 'syncing' | 'cleaning' | 'complete'
  totalFiles: number
  processedFiles: number
  copiedFiles: number
  skippedFiles: number
  deletedFiles: number
  errors: number
  currentFile?: string
}
export interface SyncFileResult {
  external_id: string
  key: string
  action: 'copied' | 'skipped' | 'deleted' | 'error'
  reason?: string
  error?: string
  size?: number
}
export interface SyncError {
  external_id: string
  key?: string
  error: string
  phase: 'scan' | 'copy' | 'delete' | 'verify'
}
export interface SyncResult {
  success: boolean
  summary: { scanned: number; copied: number; skipped: number; deleted: number; errors: number; durationMs: number }
  details: SyncFileResult[]
}
export interface SyncVerificationResult {
  matched: boolean
  differences: string[]
}
export declare function syncStorageProviders(options: SyncOptions): Promise<SyncResult>
export declare function verifySyncedFile(externalId: string, source: StorageProvider, destination: StorageProvider): Promise<SyncVerificationResult>
export declare function getSyncStatus(
  source: StorageProvider,
  destination: StorageProvider,
  filter?: SyncOptions['filter'],
): Promise<{
  sourceFiles: number
  destFiles: number
  sourceOnly: number
  destOnly: number
  inBoth: number
  conflicts: number
  conflictDetails: { external_id: string; sourceSize: number; destSize: number; sourceModified?: Date; destModified?: Date }[]
}>

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
