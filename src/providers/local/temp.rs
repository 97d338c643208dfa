//! Temporary files: where an upload's content and a sidecar are written before they are renamed
//! into place, and how those of writers that died are found and removed.
//!
//! A temporary file is `.<name>.<random>.ccs-part` in its destination's directory. Its writer holds
//! an exclusive lock on it for as long as it lives (the operating system releases the lock when the
//! process dies, however it dies), so a temporary file that can be locked by someone else belongs
//! to no one and is removed. A writer checks, once it holds the lock, that the name still refers to
//! the file it locked (a sweeper may have removed it in between), and starts again if not. Listings
//! never show these files (they have no sidecar) and key methods refuse their names.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cap_fs_ext::{FollowSymlinks, MetadataExt, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};

use super::confined::{self, is_temp, TEMP_SUFFIX};

/// A temporary file, locked by this process, removed when dropped unless committed.
pub struct Temp {
    dir: Dir,
    name: String,
    pub file: File,
    committed: bool,
}

/// Whether `name` in `dir` is the file `file` is open on.
fn same_file(dir: &Dir, name: &str, file: &File) -> bool {
    match (dir.symlink_metadata(name), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Temp {
    /// Creates and locks a new temporary file in `dir` for the destination `name`.
    pub fn create(dir: &Dir, name: &str) -> io::Result<Temp> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true).follow(FollowSymlinks::No);
        loop {
            let temp = format!(".{name}.{:016x}{TEMP_SUFFIX}", rand::random::<u64>());
            let file = match dir.open_with(&temp, &options) {
                Ok(f) => f.into_std(),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            file.lock()?;
            if same_file(dir, &temp, &file) {
                return Ok(Temp { dir: dir.try_clone()?, name: temp, file, committed: false });
            }
            // A sweeper took it for a dead writer's between create and lock: try another name.
        }
    }

    /// Renames the file to `to` in its directory (replacing what is there).
    pub fn commit(mut self, to: &str) -> io::Result<()> {
        self.dir.rename(&self.name, &self.dir, to)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = confined::remove(&self.dir, &self.name);
        }
    }
}

/// Removes `name` from `dir` if it is a temporary file whose writer is gone.
fn reap(dir: &Dir, name: &str) {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    let Ok(file) = dir.open_with(name, &options).map(|f| f.into_std()) else { return };
    if file.try_lock().is_ok() && same_file(dir, name, &file) {
        let _ = dir.remove_file(name);
    }
}

/// Removes the dead writers' temporary files under the whole tree (at a provider's construction).
pub fn sweep_tree(root: &Dir) {
    confined::walk(root, "", &mut |dir, _, name, ft| {
        if ft.is_file() && is_temp(name) {
            reap(dir, name);
        }
    });
}

/// Sweeps one directory before a write into it. A directory is read in full each time while it is
/// small; one that held many entries at its last sweep is swept again only after `LARGE_INTERVAL`,
/// so that many uploads into one huge directory do not each read all of it.
pub struct Sweeper {
    last: Mutex<HashMap<(u64, u64), (Instant, usize)>>,
}

const LARGE: usize = 1024;
const LARGE_INTERVAL: Duration = Duration::from_secs(10);

impl Sweeper {
    pub fn new() -> Self {
        Sweeper { last: Mutex::new(HashMap::new()) }
    }

    pub fn sweep(&self, dir: &Dir) {
        let Ok(meta) = dir.dir_metadata() else { return };
        let id = (meta.dev(), meta.ino());
        if let Some((at, entries)) = self.last.lock().unwrap().get(&id) {
            if *entries >= LARGE && at.elapsed() < LARGE_INTERVAL {
                return;
            }
        }
        let mut entries = 0;
        if let Ok(list) = dir.entries() {
            for entry in list.flatten() {
                entries += 1;
                let Ok(name) = entry.file_name().into_string() else { continue };
                if is_temp(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
                    reap(dir, &name);
                }
            }
        }
        self.last.lock().unwrap().insert(id, (Instant::now(), entries));
    }
}
