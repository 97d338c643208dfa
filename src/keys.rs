//! Key rules shared by every provider, and key generation as the original does it.
//!
//! A key is a relative, `/`-separated path. Anything that could name a file outside the storage
//! root, or that two providers would read differently, is refused before any I/O.

use crate::error::{Error, Result};

/// Checks a key and returns it unchanged.
pub fn validate(key: &str) -> Result<&str> {
    let bad = |reason| Err(Error::InvalidKey { key: key.to_string(), reason });
    if key.is_empty() {
        return bad("keys must not be empty");
    }
    if key.contains('\0') {
        return bad("keys must not contain NUL characters");
    }
    if key.contains('\\') {
        return bad("keys must not contain backslashes");
    }
    if key.starts_with('/') {
        return bad("keys must be relative, not absolute paths");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("keys must not contain empty path segments"),
            "." | ".." => return bad("keys must not contain '.' or '..' path segments"),
            _ => {}
        }
    }
    Ok(key)
}

/// Node's `path.extname`: the last `.` of the last segment and what follows it, unless the segment
/// starts with its only dot (`.bashrc` → ``). Case is kept.
pub fn extname(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    let trimmed = base.trim_start_matches('.');
    let leading = base.len() - trimmed.len();
    match trimmed.rfind('.') {
        Some(i) => &base[leading + i..],
        None => "",
    }
}

/// The key generated when the caller gives none, for every provider (the original's LocalStorage
/// shape): `files/{external_id}-{now ms}{extname(filename)}`.
pub fn generate(external_id: &str, filename: Option<&str>, now_ms: i64) -> String {
    let ext = filename.map(extname).unwrap_or("");
    format!("files/{external_id}-{now_ms}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_oddities() {
        for key in ["", "../x", "a/../../x", "/etc/passwd", "a\\b", "a\0b", "a//b", "./a", "a/.", "a/"] {
            assert!(validate(key).is_err(), "{key:?} should be refused");
        }
        for key in ["a", "a/b.txt", ".hidden", "a/..b", "dir/a b.txt", "ü/名前.txt"] {
            assert_eq!(validate(key).unwrap(), key);
        }
    }

    #[test]
    fn extname_matches_node() {
        assert_eq!(extname("a.txt"), ".txt");
        assert_eq!(extname("a.tar.GZ"), ".GZ");
        assert_eq!(extname(".bashrc"), "");
        assert_eq!(extname("README"), "");
        assert_eq!(extname("a."), ".");
        assert_eq!(extname("..a.b"), ".b");
        assert_eq!(extname("dir.x/file"), "");
    }

    #[test]
    fn generates_original_key_shape() {
        assert_eq!(generate("ext_1", Some("photo.JPG"), 42), "files/ext_1-42.JPG");
        assert_eq!(generate("ext_1", None, 42), "files/ext_1-42");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::path::{Component, Path};

        /// Keys made of the characters that matter to paths, and any text at all.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::collection::vec(
                    prop_oneof![Just("a"), Just("."), Just(".."), Just("/"), Just("\\"), Just("\0"), Just("é")],
                    0..8
                )
                .prop_map(|parts| parts.concat()),
                any::<String>(),
            ]
        }

        proptest! {
            /// An accepted key is, on every platform's path rules we build for, only normal
            /// components, one per segment: it names something beneath the root, and nothing
            /// collapses (`a/./b`) or climbs (`..`).
            #[test]
            fn accepted_keys_stay_beneath_the_root(key in key()) {
                match validate(&key) {
                    Ok(k) => {
                        prop_assert_eq!(k, key.as_str());
                        let components: Vec<_> = Path::new(k).components().collect();
                        prop_assert_eq!(components.len(), k.split('/').count());
                        prop_assert!(components.iter().all(|c| matches!(c, Component::Normal(_))));
                        prop_assert!(!k.contains('\0') && !k.contains('\\'));
                    }
                    Err(e) => prop_assert_eq!(e.code(), "InvalidKey"),
                }
            }

            /// A `..` segment anywhere is refused, whatever surrounds it.
            #[test]
            fn parent_segments_are_refused(before in proptest::collection::vec("[a-z.]{1,4}", 0..4), after in proptest::collection::vec("[a-z.]{1,4}", 0..4)) {
                let key = [before, vec!["..".to_string()], after].concat().join("/");
                prop_assert!(validate(&key).is_err(), "{:?} was accepted", key);
            }
        }
    }
}
