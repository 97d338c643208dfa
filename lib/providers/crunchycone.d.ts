// CrunchyConeProvider (lib/providers/crunchycone.js) and its configuration.
import type { FileVisibilityResult, ProviderMethods, TransferConfig } from '../types'

export interface CrunchyConeConfig extends TransferConfig {
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
export interface CrunchyConeProvider extends ProviderMethods {}
export declare class CrunchyConeProvider {
  constructor(config?: Partial<CrunchyConeConfig>)
  setUserId(userId: string): void
  updateFileVisibilityById(fileId: string, visibility: 'public' | 'private'): Promise<FileVisibilityResult>
}
