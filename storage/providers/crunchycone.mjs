import lib from './crunchycone.js'

export const { CrunchyConeProvider } = lib
