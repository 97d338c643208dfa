import lib from './index.js'

export const {
  initializeStorageProvider,
  setStorageProvider,
  getStorageProvider,
  uploadFile,
  deleteFile,
  deleteFileByExternalId,
  getFileUrl,
  getFileUrlByExternalId,
  fileExists,
  fileExistsByExternalId,
  findFileByExternalId,
  listFiles,
  searchFiles,
  isStorageProviderAvailable,
  getAvailableStorageProviders,
} = lib
