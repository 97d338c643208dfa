// LocalStorageProvider (lib/providers/local.js).
import type { ProviderMethods } from '../types'

/** Files on disk under `CRUNCHYCONE_LOCALSTORAGE_PATH`, each with a `<key>.json` metadata file. */
export interface LocalStorageProvider extends ProviderMethods {}
export declare class LocalStorageProvider {
  constructor()
}
