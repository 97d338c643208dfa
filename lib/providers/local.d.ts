// LocalStorageProvider (lib/providers/local.js).
import type { StorageProvider } from '../types'

/** Files on disk under `CRUNCHYCONE_LOCALSTORAGE_PATH`, each with a `<key>.json` metadata file. */
export interface LocalStorageProvider extends Required<StorageProvider> {}
export declare class LocalStorageProvider {
  constructor()
}
