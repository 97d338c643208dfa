// AzureStorageProvider (lib/providers/azure.js) and its configuration.
import type { ProviderMethods, TransferConfig } from '../types'

export interface AzureStorageConfig extends TransferConfig {
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
export interface AzureStorageProvider extends ProviderMethods {}
export declare class AzureStorageProvider {
  constructor(config: AzureStorageConfig)
}
