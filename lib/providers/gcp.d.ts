// GCPStorageProvider (lib/providers/gcp.js) and its configuration.
import type { ProviderMethods, TransferConfig } from '../types'

export interface GCPStorageConfig extends TransferConfig {
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
export interface GCPStorageProvider extends ProviderMethods {}
export declare class GCPStorageProvider {
  constructor(config: GCPStorageConfig)
}
