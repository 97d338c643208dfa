import lib from './local.js'

export const { LocalStorageProvider } = lib
