import lib from './index.js'

export const {
  LocalStorageProvider,
  CrunchyConeProvider,
  S3CompatibleProvider,
  AWSS3Provider,
  DigitalOceanSpacesProvider,
  WasabiProvider,
  BackblazeB2Provider,
  CloudflareR2Provider,
  GCPStorageProvider,
  AzureStorageProvider,
  initializeStorageProvider,
  setStorageProvider,
  getStorageProvider,
} = lib
export default lib
