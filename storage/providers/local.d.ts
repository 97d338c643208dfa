export { LocalStorageProvider } from '../../index'
