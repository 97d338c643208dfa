// The original's validation and key utilities (lib/utils.js).
import type { FileValidationOptions, FileValidationResult } from './types'

export declare function validateFile(file: { name: string; size: number; type: string }, options?: FileValidationOptions): FileValidationResult
export declare function getFileExtension(filename: string): string
export declare function formatBytes(bytes: number, decimals?: number): string
export declare function checkFileSecurityRisk(filename: string, mimeType: string): { safe: boolean; reason?: string }
export declare function getCommonValidationOptions(): Record<string, FileValidationOptions>
/**
 * What every method and constructor throws (see the README's error table). `code` is stable;
 * `statusCode` is the HTTP status a service would answer its client with; `provider` (the
 * provider class) and `key` (the key or external id asked for) say where it happened.
 */
export declare class StorageError extends Error {
  constructor(message: string, code: string, statusCode?: number, originalError?: Error)
  code: string
  statusCode: number
  originalError?: Error
  /** The HTTP status the service answered, when the error is a service's answer. */
  status?: number
  provider?: string
  key?: string
  cause?: unknown
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
