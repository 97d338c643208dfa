// The original's `./auth` helpers (lib/auth.js), also exported from the package root.
/** The API key from the OS keychain (needs the optional `keytar` package). */
export declare function getCrunchyConeAPIKey(): Promise<string>
export declare function hasCrunchyConeAPIKey(): Promise<boolean>
/** `CRUNCHYCONE_API_KEY`, else the OS keychain. */
export declare function getCrunchyConeAPIKeyWithFallback(): Promise<string>
/** `CRUNCHYCONE_API_URL`, else `crunchycone.toml`'s `environment`, else `https://api.crunchycone.com`. */
export declare function getCrunchyConeAPIURL(): string
/** `CRUNCHYCONE_PROJECT_ID`, else `crunchycone.toml`'s `[project] id`. */
export declare function getCrunchyConeProjectID(): string | undefined
