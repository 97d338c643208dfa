// The original's sync (lib/sync.js; `./storage/sync`, also in `./storage`).
import type { StorageProvider } from './types'

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
