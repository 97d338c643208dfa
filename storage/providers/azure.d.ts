export { AzureStorageProvider } from '../../index'
export type { AzureStorageConfig } from '../../index'
