export { GCPStorageProvider } from '../../index'
export type { GCPStorageConfig } from '../../index'
