'use strict'
// The original's validation and key utilities, exported from `./storage`. They are
// plain JS on purpose: they are defined by Node's own semantics (`path.extname`, `toFixed`, local
// time), which the original used and which Rust would have to imitate. Fixed defects (README,
// "Compatibility notes"): generated keys sanitize the user id and extension, thumbnail and backup
// keys work for keys without an extension, formatBytes covers every size, and HTML and SVG count as
// dangerous.

const path = require('node:path')
const crypto = require('node:crypto')

const MiB = 1024 * 1024
const hex = (bytes) => crypto.randomBytes(bytes).toString('hex')

// ---------------------------------------------------------------------------------------------
// Validation (validation.ts)

/** The extension, lower-cased, without the dot (`'.bashrc'` → `''`). */
function getFileExtension(filename) {
  return path.extname(String(filename)).toLowerCase().replace(/^\./, '')
}

const UNITS = ['Bytes', 'KB', 'MB', 'GB', 'TB']

/** `1536` → `'1.5 KB'`; units up to TB (larger sizes in TB, fractions of a byte in Bytes). */
function formatBytes(bytes, decimals = 2) {
  if (bytes === 0) return '0 Bytes'
  const dm = decimals < 0 ? 0 : decimals
  const magnitude = Math.abs(bytes)
  const i = Math.min(UNITS.length - 1, Math.max(0, Math.floor(Math.log(magnitude) / Math.log(1024))))
  return `${parseFloat((bytes / 1024 ** i).toFixed(dm))} ${UNITS[i]}`
}

// Executables, scripts, macro documents and archives (the original's list).
const DANGEROUS_EXTENSIONS = new Set(
  'exe bat cmd com pif scr vbs vbe ws wsf wsh js jse jar msi dll scf lnk inf reg docm xlsm pptm potm ppam xlam xltm zip rar 7z tar gz bz2'.split(' '),
)
// What a browser would run when served from the storage's own web path (as a last extension only).
const ACTIVE_EXTENSIONS = new Set(['html', 'htm', 'xhtml', 'svg'])
const DANGEROUS_TYPES = new Set([
  'application/x-msdownload',
  'application/x-executable',
  'application/x-dosexec',
  'application/x-winexe',
  'application/octet-stream',
])
const SUSPICIOUS = [/^\./, /\.(php|asp|aspx|jsp|cgi|pl)$/i, /\.(htaccess|htpasswd)$/i]

/** `{ safe, reason? }` for a file name and MIME type, the first rule that matches deciding. */
function checkFileSecurityRisk(filename, mimeType) {
  const name = String(filename)
  const ext = getFileExtension(name)
  if (DANGEROUS_EXTENSIONS.has(ext) || ACTIVE_EXTENSIONS.has(ext)) return { safe: false, reason: `File extension ".${ext}" is potentially dangerous and not allowed` }
  if (DANGEROUS_TYPES.has(mimeType)) return { safe: false, reason: `MIME type "${mimeType}" is potentially dangerous and not allowed` }
  const parts = name.split('.')
  if (parts.length > 2 && DANGEROUS_EXTENSIONS.has(parts[parts.length - 2].toLowerCase())) {
    return { safe: false, reason: 'Files with double extensions are not allowed for security reasons' }
  }
  if (SUSPICIOUS.some((re) => re.test(name))) return { safe: false, reason: 'Filename matches a suspicious pattern and is not allowed' }
  return { safe: true }
}

/** Checks a `File` (or `{ name, size, type }`) against the options, in the original's order. */
function validateFile(file, options = {}) {
  const { maxSize = 10 * MiB, minSize = 0, allowedTypes = [], allowedExtensions = [], blockDangerousFiles = true } = options
  const { name, size, type } = file
  if (size < minSize) return { valid: false, error: `File size (${formatBytes(size)}) is below minimum allowed size (${formatBytes(minSize)})` }
  if (size > maxSize) return { valid: false, error: `File size (${formatBytes(size)}) exceeds maximum allowed size (${formatBytes(maxSize)})` }
  if (allowedTypes.length > 0 && !allowedTypes.includes(type)) {
    return { valid: false, error: `File type "${type}" is not allowed. Allowed types: ${allowedTypes.join(', ')}` }
  }
  const ext = getFileExtension(name)
  if (allowedExtensions.length > 0 && !allowedExtensions.includes(ext)) {
    return { valid: false, error: `File extension "${ext}" is not allowed. Allowed extensions: ${allowedExtensions.join(', ')}` }
  }
  if (blockDangerousFiles) {
    const risk = checkFileSecurityRisk(name, type)
    if (!risk.safe) return { valid: false, error: risk.reason || 'File type is considered dangerous' }
  }
  return { valid: true }
}

/** The original's six presets. */
function getCommonValidationOptions() {
  const preset = (mib, allowedTypes, allowedExtensions) => ({ maxSize: mib * MiB, allowedTypes, allowedExtensions, blockDangerousFiles: true })
  return {
    images: preset(5, ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], ['jpg', 'jpeg', 'png', 'gif', 'webp']),
    documents: preset(
      10,
      [
        'application/pdf',
        'application/msword',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.ms-excel',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'text/plain',
      ],
      ['pdf', 'doc', 'docx', 'xls', 'xlsx', 'txt'],
    ),
    videos: preset(100, ['video/mp4', 'video/mpeg', 'video/quicktime', 'video/x-msvideo'], ['mp4', 'mpeg', 'mpg', 'mov', 'avi']),
    audio: preset(20, ['audio/mpeg', 'audio/wav', 'audio/ogg', 'audio/mp4'], ['mp3', 'wav', 'ogg', 'm4a']),
    strict: preset(2, ['image/jpeg', 'image/png', 'application/pdf', 'text/plain'], ['jpg', 'jpeg', 'png', 'pdf', 'txt']),
    permissive: { maxSize: 50 * MiB, blockDangerousFiles: true },
  }
}

// ---------------------------------------------------------------------------------------------
// Keys (utils.ts)

/** Every character outside `[a-zA-Z0-9._-]` becomes `_`, runs collapse, ends are trimmed. */
const clean = (name) =>
  String(name)
    .replace(/[^a-zA-Z0-9._-]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_.]+|[_.]+$/g, '')

/** `clean`, at most 50 characters. */
function sanitizeFilename(name) {
  return clean(name).slice(0, 50)
}

/** An extension as a key may carry it: letters, digits and inner dots (`''` when none are left). */
const safeExtension = (ext) => {
  const clean = String(ext).replace(/[^a-zA-Z0-9.]/g, '').replace(/\.{2,}/g, '.').replace(/^\.|\.$/g, '')
  return clean ? `.${clean}` : ''
}

function generateUploadKey(userId, filename, prefix = 'uploads') {
  // The user id becomes a folder: the filename rules, without their length limit.
  const user = clean(userId)
  if (!user) throw new TypeError(`Invalid userId ${JSON.stringify(userId)}: nothing of it can name a folder`)
  const ext = path.extname(String(filename))
  const base = sanitizeFilename(path.basename(String(filename), ext))
  return `${prefix}/${user}/${Date.now()}-${hex(8)}-${base}${safeExtension(ext)}`
}

function generateExternalId() {
  return `ext_${Date.now()}_${hex(12)}`
}

function generateKeyFromExternalId(externalId, filename, prefix = 'files') {
  return `${prefix}/${externalId}-${Date.now()}${filename ? path.extname(filename) : ''}`
}

function generateRandomKey(extension, prefix = 'uploads') {
  return `${prefix}/${Date.now()}-${hex(12)}${safeExtension(extension)}`
}

function generatePresignedKey(key, operation = 'upload') {
  return `${operation}/${Date.now()}-${hex(4)}/${key}`
}

/** `{prefix}/{userId}/{timestamp}-{randomId}-{name}{ext}` apart, as generateUploadKey builds it. */
function parseStorageKey(key) {
  const segments = String(key).split('/')
  const last = segments[segments.length - 1]
  const ext = path.extname(last)
  const extension = ext.replace(/^\./, '')
  const parts = path.basename(last, ext).split('-')
  if (segments.length < 3 || parts.length < 3) return { filename: last, extension }
  const timestamp = parseInt(parts[0], 10)
  return {
    prefix: segments.slice(0, -2).join('/'),
    userId: segments[segments.length - 2],
    timestamp: Number.isNaN(timestamp) ? undefined : timestamp,
    randomId: parts[1],
    filename: parts.slice(2).join('-') + ext,
    extension,
  }
}

function getFileTypeCategory(contentType) {
  const ct = String(contentType)
  if (ct.startsWith('image/')) return 'image'
  if (ct.startsWith('video/')) return 'video'
  if (ct.startsWith('audio/')) return 'audio'
  if (ct.startsWith('text/')) return 'text'
  if (ct === 'application/pdf' || ct.includes('document') || ct.includes('spreadsheet')) return 'document'
  if (ct.includes('zip') || ct.includes('archive')) return 'archive'
  return 'other'
}

/** `uploads/{category}/{userId}/{YYYY}/{MM}`, in local time. */
function createDirectoryPath(userId, category, date = new Date()) {
  const month = String(date.getMonth() + 1).padStart(2, '0')
  return `uploads/${category}/${userId}/${date.getFullYear()}/${month}`
}

const isImageFile = (ct) => String(ct).startsWith('image/')
const isVideoFile = (ct) => String(ct).startsWith('video/')
const isAudioFile = (ct) => String(ct).startsWith('audio/')
const DOCUMENT_TYPES = ['application/pdf', 'application/msword', 'application/vnd.openxmlformats-officedocument', 'application/vnd.ms-excel', 'text/plain', 'text/csv']
const isDocumentFile = (ct) => DOCUMENT_TYPES.some((t) => String(ct).includes(t))
const validateFileSize = (size, maxSize) => size <= maxSize
const validateFileType = (contentType, allowedTypes) => allowedTypes.includes(contentType)

/** The key and its extension apart; a key without one has `''`. */
function splitExtension(key) {
  const ext = path.extname(path.basename(String(key)))
  return [String(key).slice(0, String(key).length - ext.length), ext]
}

function createThumbnailKey(key, size = 'thumb') {
  const [stem, ext] = splitExtension(key)
  return `${stem}_${size}${ext}`
}

function createBackupKey(key) {
  const [stem, ext] = splitExtension(key)
  return `backups/${stem}_backup_${Date.now()}${ext}`
}

/** What a key says about its upload, as strings (usable as upload metadata); absent parts left out. */
function extractMetadataFromKey(key) {
  const p = parseStorageKey(key)
  const fields = { userId: p.userId, uploadTimestamp: p.timestamp, originalFilename: p.filename, fileExtension: p.extension }
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)]))
}

// ---------------------------------------------------------------------------------------------
// Errors

class StorageError extends Error {
  constructor(message, code, statusCode = 500, originalError) {
    super(message)
    this.name = 'StorageError'
    this.code = code
    this.statusCode = statusCode
    this.originalError = originalError
  }
}

/** Rethrows a StorageError; wraps anything else as `<operation> failed: …`. */
function handleStorageError(error, operation) {
  if (error instanceof StorageError) throw error
  if (error instanceof Error) throw new StorageError(`${operation} failed: ${error.message}`, 'STORAGE_OPERATION_FAILED', 500, error)
  throw new StorageError(`${operation} failed: Unknown error`, 'STORAGE_UNKNOWN_ERROR', 500)
}

module.exports = {
  validateFile,
  getFileExtension,
  formatBytes,
  checkFileSecurityRisk,
  getCommonValidationOptions,
  StorageError,
  generateUploadKey,
  generateExternalId,
  generateKeyFromExternalId,
  generateRandomKey,
  sanitizeFilename,
  generatePresignedKey,
  parseStorageKey,
  getFileTypeCategory,
  createDirectoryPath,
  isImageFile,
  isVideoFile,
  isAudioFile,
  isDocumentFile,
  validateFileSize,
  validateFileType,
  createThumbnailKey,
  createBackupKey,
  extractMetadataFromKey,
  handleStorageError,
}
