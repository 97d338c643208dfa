//! File access that cannot leave the storage root, whatever another process does meanwhile.
//!
//! Every operation starts from a handle on the root and opens a key's directories one component
//! at a time, relative to the handle before, never following a symbolic link (`cap-std`:
//! `openat(O_NOFOLLOW | O_DIRECTORY)` on Unix, the equivalent on Windows). What it then creates,
//! renames, removes or opens is named relative to the directory handle it resolved, never by a
//! path. Swapping a directory for a link after a check therefore changes nothing: there is no
//! check followed by a separate path-based call.
//!
//! A key's content file and its `<name>.json` sidecar live in the same directory, and every write
//! to them (upload commit, delete, visibility) holds that directory's exclusive lock, which readers
//! take shared while they open: across threads and processes, a key's content and metadata always
//! come from the same write.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, FileType, Metadata, OpenOptions};

use crate::error::{Error, Result};

/// Names that belong to the store's own bookkeeping in every directory, never to a key.
pub const TEMP_SUFFIX: &str = ".ccs-part";
#[cfg(windows)]
const LOCK_FILE: &str = ".ccs-lock";

/// Whether a file name is a temporary file's (see `temp`).
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// Whether a file name is one the store keeps for itself (temporary files, lock files).
pub fn reserved(name: &str) -> bool {
    #[cfg(windows)]
    if name == LOCK_FILE {
        return true;
    }
    is_temp(name)
}

/// The storage root, opened afresh for each operation (created first if missing, as the original
/// does), so a root that is replaced or created later is picked up.
pub struct Root {
    path: PathBuf,
}

/// A key resolved beneath the root: the directory that holds its file, and the file's name there.
pub struct Place {
    pub dir: Dir,
    pub name: String,
}

impl Root {
    pub fn new(path: PathBuf) -> Self {
        Root { path }
    }

    pub fn open(&self) -> Result<Dir> {
        let failed = |e: io::Error| {
            Error::Provider(format!("Failed to create storage directory at {}: {e}", self.path.display()))
        };
        std::fs::create_dir_all(&self.path).map_err(failed)?;
        Dir::open_ambient_dir(&self.path, ambient_authority()).map_err(failed)
    }

    /// Resolves `key` (already checked by the key rules): `None` when a directory on the way does not
    /// exist, unless `create`, which makes them. A component that is a link, or a file where a
    /// directory should be, is refused.
    pub fn locate(&self, key: &str, create: bool) -> Result<Option<Place>> {
        let refuse = |reason| Error::InvalidKey { key: key.to_string(), reason };
        let (dirs, name) = key.rsplit_once('/').map_or(("", key), |(d, n)| (d, n));
        if reserved(name) {
            return Err(refuse("this name is reserved for the store's temporary files"));
        }
        let mut dir = self.open()?;
        for segment in dirs.split('/').filter(|s| !s.is_empty()) {
            let next = match dir.open_dir_nofollow(segment) {
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => match dir.create_dir(segment) {
                    Ok(()) => dir.open_dir_nofollow(segment),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => dir.open_dir_nofollow(segment),
                    Err(e) => Err(e),
                },
                other => other,
            };
            dir = match next {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(match dir.symlink_metadata(segment) {
                        Ok(m) if m.is_symlink() => refuse("keys must not pass through symbolic links"),
                        Ok(m) if !m.is_dir() => refuse("a part of this key is a file, not a directory"),
                        _ => Error::io(format!("Failed to open directory of {key}"), e),
                    })
                }
            };
        }
        Ok(Some(Place { dir, name: name.to_string() }))
    }
}

/// What a name in a directory is, without following a link.
pub fn kind(dir: &Dir, name: &str) -> Option<FileType> {
    dir.symlink_metadata(name).ok().map(|m| m.file_type())
}

/// Opens `name` for reading if it is a regular file (not a link, directory, FIFO or device;
/// opening a FIFO does not wait). `Ok(None)` when there is none.
pub fn open_regular(dir: &Dir, name: &str) -> io::Result<Option<(File, Metadata)>> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    #[cfg(unix)]
    cap_std::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = match dir.open_with(name, &options) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // A link (ELOOP) or something else that is not a readable regular file.
        Err(_) if kind(dir, name).is_some_and(|t| !t.is_file()) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    Ok(meta.is_file().then(|| (file.into_std(), meta)))
}

/// The bytes of a regular file `name`, if there is one.
pub fn read(dir: &Dir, name: &str) -> Option<Vec<u8>> {
    let (mut file, meta) = open_regular(dir, name).ok()??;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    io::Read::read_to_end(&mut file, &mut bytes).ok()?;
    Some(bytes)
}

/// Removes `name` if it exists; a missing file is not an error.
pub fn remove(dir: &Dir, name: &str) -> io::Result<()> {
    match dir.remove_file(name) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A held lock on a directory, released when dropped.
pub struct DirLock(#[allow(dead_code)] File);

/// Locks `dir`, exclusively for writers or shared for readers, blocking until it is granted.
/// On Unix the directory itself is locked (`flock` on a descriptor of its own: `Dir` handles may be
/// `O_PATH`, which cannot be locked); Windows cannot lock a directory handle, so a lock file in it
/// stands in.
pub fn lock(dir: &Dir, exclusive: bool) -> io::Result<DirLock> {
    #[cfg(unix)]
    let file = {
        use rustix::fs::{openat, Mode, OFlags};
        File::from(openat(dir, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
    };
    #[cfg(windows)]
    let file = {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).follow(FollowSymlinks::No);
        dir.open_with(LOCK_FILE, &options)?.into_std()
    };
    if exclusive {
        file.lock()?;
    } else {
        file.lock_shared()?;
    }
    Ok(DirLock(file))
}

/// Visits every entry under `dir` (depth first, `rel` its path from the root), descending into
/// real directories only: links are reported, never followed.
pub fn walk(dir: &Dir, rel: &str, visit: &mut dyn FnMut(&Dir, &str, &str, FileType)) {
    let Ok(entries) = dir.entries() else { return };
    for entry in entries.flatten() {
        let (Ok(name), Ok(ft)) = (entry.file_name().into_string(), entry.file_type()) else { continue };
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        visit(dir, &path, &name, ft);
        if ft.is_dir() {
            if let Ok(sub) = dir.open_dir_nofollow(&name) {
                walk(&sub, &path, visit);
            }
        }
    }
}
