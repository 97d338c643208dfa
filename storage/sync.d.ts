export { syncStorageProviders, verifySyncedFile, getSyncStatus } from '../index'
export type { SyncOptions, SyncProgress, SyncResult, SyncFileResult, SyncError, SyncVerificationResult } from '../index'
