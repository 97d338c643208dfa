//! Listing and searching, written once for every provider: the file record, the filters of
//! `ListFilesOptions` / `SearchFilesOptions`, sorting and pagination.

use std::cmp::Ordering;

use indexmap::IndexMap;
use napi_derive::napi;

use crate::error::{Error, Result};

pub type Metadata = IndexMap<String, String>;

/// One stored file as providers report it (`StorageFileInfo` before JS makes the `Date`).
#[napi(object)]
#[derive(Clone, Debug)]
pub struct FileRecord {
    #[napi(js_name = "external_id")]
    pub external_id: String,
    pub key: String,
    pub url: String,
    pub size: f64,
    pub content_type: String,
    pub last_modified_ms: Option<f64>,
    pub etag: Option<String>,
    #[napi(ts_type = "Record<string, string>")]
    pub metadata: Option<Metadata>,
    pub visibility: Option<String>,
    pub public_url: Option<String>,
}

impl FileRecord {
    /// The last path segment of the key: what the original calls the file name when filtering.
    pub fn filename(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }
}

/// `ListFilesOptions` and `SearchFilesOptions` in one (dates as epoch milliseconds).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ListOptions {
    pub limit: Option<f64>,
    pub offset: Option<f64>,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
    pub key_pattern: Option<String>,
    pub external_id_prefix: Option<String>,
    pub external_id_pattern: Option<String>,
    pub external_ids: Option<Vec<String>>,
    pub content_type: Option<String>,
    pub content_type_prefix: Option<String>,
    pub filename: Option<String>,
    pub filename_pattern: Option<String>,
    pub min_size: Option<f64>,
    pub max_size: Option<f64>,
    pub created_after: Option<f64>,
    pub created_before: Option<f64>,
    pub modified_after: Option<f64>,
    pub modified_before: Option<f64>,
    #[napi(ts_type = "Record<string, string>")]
    pub metadata: Option<Metadata>,
    pub has_metadata: Option<Vec<String>>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub include_metadata: Option<bool>,
    pub include_urls: Option<bool>,
    pub query: Option<String>,
    pub search_fields: Option<Vec<String>>,
    pub case_sensitive: Option<bool>,
    pub exact_match: Option<bool>,
    pub only_public: Option<bool>,
    pub only_private: Option<bool>,
}

#[napi(object)]
pub struct ListResult {
    pub files: Vec<FileRecord>,
    /// Known when the whole set was examined (S3's key-order paging stops at the page).
    pub total_count: Option<f64>,
    pub has_more: bool,
    pub next_offset: Option<f64>,
    pub continuation_token: Option<String>,
}

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_SEARCH_FIELDS: [&str; 4] = ["external_id", "filename", "metadata", "contentType"];

/// `*` matches any run, `?` one character; anchored and case-insensitive, like the original.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn count(name: &str, v: Option<f64>) -> Result<Option<usize>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 => Ok(Some(v as usize)),
        Some(v) => Err(Error::InvalidInput(format!("{name} must be a non-negative integer, got {v}"))),
    }
}

/// Every filter of `ListFilesOptions` (all must hold).
fn passes_filters(f: &FileRecord, o: &ListOptions) -> bool {
    let name = f.filename();
    let check = |cond: Option<bool>| cond.unwrap_or(true);
    let lm = f.last_modified_ms;
    let after = |bound: Option<f64>| check(bound.zip(lm).map(|(b, t)| t >= b));
    let before = |bound: Option<f64>| check(bound.zip(lm).map(|(b, t)| t <= b));
    check(o.prefix.as_ref().map(|p| f.key.starts_with(p.as_str())))
        && check(o.key_pattern.as_ref().map(|p| glob_match(p, &f.key)))
        && check(o.external_id_prefix.as_ref().map(|p| f.external_id.starts_with(p.as_str())))
        && check(o.external_id_pattern.as_ref().map(|p| glob_match(p, &f.external_id)))
        && check(o.external_ids.as_ref().map(|ids| ids.contains(&f.external_id)))
        && check(o.content_type.as_ref().map(|c| &f.content_type == c))
        && check(o.content_type_prefix.as_ref().map(|c| f.content_type.starts_with(c.as_str())))
        && check(o.filename.as_ref().map(|n| name.to_lowercase().contains(&n.to_lowercase())))
        && check(o.filename_pattern.as_ref().map(|p| glob_match(p, name)))
        && check(o.min_size.map(|m| f.size >= m))
        && check(o.max_size.map(|m| f.size <= m))
        && after(o.created_after)
        && after(o.modified_after)
        && before(o.created_before)
        && before(o.modified_before)
        && check(o.metadata.as_ref().map(|want| {
            let have = f.metadata.as_ref();
            want.iter().all(|(k, v)| have.and_then(|m| m.get(k)) == Some(v))
        }))
        && check(o.has_metadata.as_ref().map(|keys| {
            let have = f.metadata.as_ref();
            keys.iter().all(|k| have.is_some_and(|m| m.contains_key(k)))
        }))
        && check(o.only_public.filter(|b| *b).map(|_| f.visibility.as_deref() == Some("public")))
        && check(o.only_private.filter(|b| *b).map(|_| f.visibility.as_deref() != Some("public")))
}

/// The text search of `searchFiles`: any selected field matching includes the file.
fn matches_query(f: &FileRecord, o: &ListOptions) -> bool {
    let Some(query) = o.query.as_deref().filter(|q| !q.is_empty()) else {
        return true;
    };
    let fold = |s: &str| {
        if o.case_sensitive == Some(true) {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let query = fold(query);
    let exact = o.exact_match == Some(true);
    let fields: Vec<&str> = match &o.search_fields {
        Some(fields) => fields.iter().map(String::as_str).collect(),
        None => DEFAULT_SEARCH_FIELDS.to_vec(),
    };
    fields.iter().any(|field| {
        let value = match *field {
            "external_id" => f.external_id.clone(),
            "filename" => f.filename().to_string(),
            "contentType" => f.content_type.clone(),
            "key" => f.key.clone(),
            // Searched as its JSON text, as the original does.
            "metadata" => f.metadata.as_ref().map(|m| serde_json::to_string(m).unwrap_or_default()).unwrap_or_default(),
            _ => return false,
        };
        let value = fold(&value);
        if exact {
            value == query
        } else {
            value.contains(&query)
        }
    })
}

/// How a backend's listings sort, as the original's did: LocalStorage compares text with
/// `localeCompare` and leaves files unsorted without a known `sortBy`; the others compare with
/// `<` / `>` (by UTF-16 code unit: `Path/Zeta.txt` before `path/to/a.txt`) and sort by key when
/// `sortBy` is missing or unknown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Collation {
    Locale,
    CodeUnit,
}

impl Collation {
    fn cmp(self, a: &str, b: &str) -> Ordering {
        match self {
            // Close to JS `localeCompare` for the common case: letters case-insensitively first.
            Collation::Locale => a.to_lowercase().cmp(&b.to_lowercase()).then_with(|| b.cmp(a)),
            Collation::CodeUnit => a.encode_utf16().cmp(b.encode_utf16()),
        }
    }
}

fn sort(files: &mut [FileRecord], by: Option<&str>, descending: bool, collation: Collation) {
    let by = match (by, collation) {
        (Some(by @ ("key" | "external_id" | "filename" | "contentType" | "size" | "lastModified")), _) => by,
        (_, Collation::CodeUnit) => "key",
        (_, Collation::Locale) => return,
    };
    let cmp = |a: &FileRecord, b: &FileRecord| match by {
        "size" => a.size.total_cmp(&b.size),
        "lastModified" => a.last_modified_ms.unwrap_or(0.0).total_cmp(&b.last_modified_ms.unwrap_or(0.0)),
        _ => collation.cmp(text_of(a, by), text_of(b, by)),
    };
    if descending {
        files.sort_by(|a, b| cmp(b, a));
    } else {
        files.sort_by(cmp);
    }
}

/// The text field `by` names.
fn text_of<'a>(f: &'a FileRecord, by: &str) -> &'a str {
    match by {
        "external_id" => &f.external_id,
        "filename" => f.filename(),
        "contentType" => &f.content_type,
        _ => &f.key,
    }
}

/// Checks `limit` and `offset` before any I/O.
pub fn validate_paging(o: &ListOptions) -> Result<()> {
    count("limit", o.limit)?;
    count("offset", o.offset)?;
    Ok(())
}

/// Checks the paging options before any I/O, for listings whose continuation token is an offset.
pub fn validate(o: &ListOptions) -> Result<()> {
    validate_paging(o)?;
    if let Some(t) = &o.continuation_token {
        t.parse::<usize>().map_err(|_| Error::InvalidInput(format!("Invalid continuationToken: {t:?}")))?;
    }
    Ok(())
}

/// Whether `f` passes every filter (and, for `search`, the text query).
pub fn matches(f: &FileRecord, o: &ListOptions, search: bool) -> bool {
    passes_filters(f, o) && (!search || matches_query(f, o))
}

/// The page size: `limit`, capped, or the default.
pub fn page_limit(o: &ListOptions) -> Result<usize> {
    Ok(match count("limit", o.limit)? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(l) => l.min(MAX_LIMIT),
    })
}

/// Drops what `includeUrls: false` / `includeMetadata: false` leave out.
pub fn shape(mut f: FileRecord, o: &ListOptions) -> FileRecord {
    if o.include_urls == Some(false) {
        f.url = String::new();
    }
    if o.include_metadata == Some(false) {
        f.metadata = None;
    }
    f
}

/// Filters, sorts and pages `files`. `search` enables the text query and the search-only filters.
/// Callers run [`validate`] first, before any I/O.
pub fn query(files: Vec<FileRecord>, o: &ListOptions, search: bool, collation: Collation) -> Result<ListResult> {
    let mut files: Vec<FileRecord> = files.into_iter().filter(|f| matches(f, o, search)).collect();
    sort(&mut files, o.sort_by.as_deref(), o.sort_order.as_deref() == Some("desc"), collation);
    let total = files.len();
    // The continuation token of a local listing is the next offset, as text.
    let offset = match &o.continuation_token {
        Some(t) => t.parse().unwrap_or(0),
        None => count("offset", o.offset)?.unwrap_or(0),
    };
    let limit = page_limit(o)?;
    let has_more = offset + limit < total;
    let page: Vec<FileRecord> = files.into_iter().skip(offset).take(limit).map(|f| shape(f, o)).collect();
    let next = has_more.then_some(offset + limit);
    Ok(ListResult {
        files: page,
        total_count: Some(total as f64),
        has_more,
        next_offset: next.map(|n| n as f64),
        continuation_token: next.map(|n| n.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, size: f64, meta: Option<&[(&str, &str)]>) -> FileRecord {
        FileRecord {
            external_id: format!("id-{key}"),
            key: key.into(),
            url: format!("/u/{key}"),
            size,
            content_type: crate::content_type::from_name(key).into(),
            last_modified_ms: Some(size * 1000.0),
            etag: None,
            metadata: meta.map(|m| m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            visibility: None,
            public_url: None,
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.TXT", "dir/a.txt"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b", "axxbyy"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn filters_sort_and_pages() {
        let files = vec![
            rec("b.txt", 3.0, Some(&[("k", "v")])),
            rec("a.png", 1.0, None),
            rec("c.txt", 0.0, Some(&[("k", "w")])),
        ];
        let o =
            ListOptions { content_type: Some("text/plain".into()), sort_by: Some("size".into()), ..Default::default() };
        let r = query(files.clone(), &o, false, Collation::Locale).unwrap();
        assert_eq!(r.files.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["c.txt", "b.txt"]);

        // maxSize 0 is honoured; files without metadata fail metadata filters.
        let o = ListOptions { max_size: Some(0.0), ..Default::default() };
        assert_eq!(query(files.clone(), &o, false, Collation::Locale).unwrap().files.len(), 1);
        let mut m = Metadata::new();
        m.insert("k".into(), "v".into());
        let o = ListOptions { metadata: Some(m), ..Default::default() };
        assert_eq!(query(files.clone(), &o, false, Collation::Locale).unwrap().files[0].key, "b.txt");

        let o = ListOptions {
            limit: Some(2.0),
            sort_by: Some("key".into()),
            sort_order: Some("desc".into()),
            ..Default::default()
        };
        let r = query(files.clone(), &o, false, Collation::Locale).unwrap();
        assert_eq!(r.files[0].key, "c.txt");
        assert!(r.has_more);
        assert_eq!(r.next_offset, Some(2.0));
        let o = ListOptions {
            continuation_token: r.continuation_token,
            sort_by: Some("key".into()),
            sort_order: Some("desc".into()),
            ..Default::default()
        };
        assert_eq!(query(files.clone(), &o, false, Collation::Locale).unwrap().files[0].key, "a.png");

        let o = ListOptions { query: Some("\"K\":\"W\"".into()), ..Default::default() };
        assert_eq!(query(files.clone(), &o, true, Collation::Locale).unwrap().files[0].key, "c.txt");
        assert!(
            query(files, &ListOptions { limit: Some(-1.0), ..Default::default() }, false, Collation::Locale).is_err()
        );
    }

    #[test]
    fn collations_sort_as_the_original_did() {
        let files = ["path/to/a.txt", "Path/Zeta.txt", "b.txt"].map(|k| rec(k, 1.0, None)).to_vec();
        let keys = |o: &ListOptions, c| {
            query(files.clone(), o, false, c).unwrap().files.into_iter().map(|f| f.key).collect::<Vec<_>>()
        };
        let by_key = ListOptions { sort_by: Some("key".into()), ..Default::default() };
        assert_eq!(keys(&by_key, Collation::Locale), ["b.txt", "path/to/a.txt", "Path/Zeta.txt"]);
        assert_eq!(keys(&by_key, Collation::CodeUnit), ["Path/Zeta.txt", "b.txt", "path/to/a.txt"]);
        // Code-unit backends sort by key without (or with an unknown) sortBy; local ones keep the order.
        assert_eq!(keys(&ListOptions::default(), Collation::CodeUnit), ["Path/Zeta.txt", "b.txt", "path/to/a.txt"]);
        let unknown = ListOptions { sort_by: Some("colour".into()), ..Default::default() };
        assert_eq!(keys(&unknown, Collation::CodeUnit), ["Path/Zeta.txt", "b.txt", "path/to/a.txt"]);
        assert_eq!(keys(&unknown, Collation::Locale), ["path/to/a.txt", "Path/Zeta.txt", "b.txt"]);
        let desc = ListOptions { sort_order: Some("desc".into()), ..Default::default() };
        assert_eq!(keys(&desc, Collation::CodeUnit), ["path/to/a.txt", "b.txt", "Path/Zeta.txt"]);
    }
}
