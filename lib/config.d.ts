// The module-level provider and its helpers (lib/config.js).
import type { FileUrlOptions, ListFilesOptions, ListFilesResult, SearchFilesOptions, SearchFilesResult, StorageFileInfo, StorageProvider, StorageProviderType, StorageUploadOptions, StorageUploadResult } from './types'

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
