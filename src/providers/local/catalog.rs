//! An index of the sidecars under the storage root, so that lookups by external id do not read
//! every sidecar on every call (the original scans the whole tree each time).
//!
//! The index is a hint, never the truth: a hit is verified by reading that one sidecar, and a miss
//! (or a failed verification) re-walks the tree. A walk lists directories and stats sidecars but
//! re-reads only those whose size, mtime or inode changed, so files added, changed or deleted by
//! another process are always seen. A sidecar modified within the last two seconds is not trusted
//! (its mtime may not yet tell two writes apart) and is re-read on the next walk.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cap_fs_ext::MetadataExt;
use cap_std::fs::{Dir, Metadata};

use super::confined;
use super::sidecar::{Sidecar, SUFFIX};

const RACY: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

impl Stamp {
    fn of(m: &Metadata) -> Self {
        Stamp { len: m.len(), modified: m.modified().ok().map(|t| t.into_std()), ino: m.ino() }
    }
}

struct Entry {
    stamp: Stamp,
    /// `None` when the file is not a sidecar of the key its name implies.
    sidecar: Option<Arc<Sidecar>>,
    trusted: bool,
}

#[derive(Default)]
struct Inner {
    built: bool,
    /// Sidecar key (its path without `.json`) → what was read; ordered, so listings are stable.
    entries: BTreeMap<String, Entry>,
    by_id: HashMap<String, BTreeSet<String>>,
}

/// A sidecar found by a walk.
pub struct Listed {
    pub sidecar: Arc<Sidecar>,
    /// Whether the content file next to it exists as a regular file (else the sidecar is an orphan).
    pub content_exists: bool,
}

#[derive(Default)]
pub struct Catalog {
    inner: Mutex<Inner>,
}

/// Reads `name` in `dir` as a sidecar and returns it only if it describes `key` (so a user's JSON
/// file is never mistaken for metadata).
pub fn read_sidecar(dir: &Dir, name: &str, key: &str) -> Option<Sidecar> {
    let s = Sidecar::parse(&confined::read(dir, name)?)?;
    (s.key() == key).then_some(s)
}

impl Catalog {
    /// Walks the tree under `root`, updates the index and returns every sidecar (orphans included).
    /// Links are never followed (they could lead outside the root).
    pub fn refresh(&self, root: &Dir) -> Vec<Listed> {
        let mut inner = self.inner.lock().unwrap();
        let mut present = HashSet::new();
        let now = SystemTime::now();
        let mut old = std::mem::take(&mut inner.entries);
        let mut entries = BTreeMap::new();
        confined::walk(root, "", &mut |dir, path, name, ft| {
            if !ft.is_file() {
                return;
            }
            present.insert(path.to_string());
            let Some(key) = path.strip_suffix(SUFFIX) else { return };
            let Ok(meta) = dir.symlink_metadata(name) else { return };
            let stamp = Stamp::of(&meta);
            let entry = match old.remove(key) {
                Some(e) if e.trusted && e.stamp == stamp => e,
                _ => Entry {
                    stamp,
                    sidecar: read_sidecar(dir, name, key).map(Arc::new),
                    trusted: meta
                        .modified()
                        .is_ok_and(|m| now.duration_since(m.into_std()).is_ok_and(|age| age > RACY)),
                },
            };
            entries.insert(key.to_string(), entry);
        });
        inner.entries = entries;
        // `x.json` is content, not the sidecar of `x`, when it has a sidecar of its own.
        let is_content = |key: &str, entries: &BTreeMap<String, Entry>| {
            entries.get(&format!("{key}{SUFFIX}")).is_some_and(|e| e.sidecar.is_some())
        };
        let mut by_id: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut listed = Vec::new();
        for (key, entry) in &inner.entries {
            let Some(sidecar) = &entry.sidecar else {
                continue;
            };
            if is_content(key, &inner.entries) {
                continue;
            }
            by_id.entry(sidecar.external_id().to_string()).or_default().insert(key.clone());
            listed.push(Listed { sidecar: sidecar.clone(), content_exists: present.contains(key) });
        }
        inner.by_id = by_id;
        inner.built = true;
        listed
    }

    /// Keys the index holds for `id`, after a first walk if there was none yet; and whether that
    /// walk happened now.
    pub fn candidates(&self, root: &Dir, id: &str) -> (Vec<String>, bool) {
        let walked = !self.inner.lock().unwrap().built;
        if walked {
            self.refresh(root);
        }
        let inner = self.inner.lock().unwrap();
        let keys = inner.by_id.get(id).map(|keys| keys.iter().cloned().collect()).unwrap_or_default();
        (keys, walked)
    }

    /// Records a file this process just wrote, so that the next lookup finds it without a walk.
    pub fn note(&self, id: &str, key: &str) {
        let mut inner = self.inner.lock().unwrap();
        if inner.built {
            inner.by_id.entry(id.to_string()).or_default().insert(key.to_string());
        }
    }
}
