import lib from './index.js'

export const { LocalStorageProvider } = lib
export default lib
