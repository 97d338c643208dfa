import lib from './azure.js'

export const { AzureStorageProvider } = lib
