import lib from './index.js'

export const { LocalStorageProvider, CrunchyConeProvider } = lib
export default lib
