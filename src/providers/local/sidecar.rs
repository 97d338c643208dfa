//! The `<key>.json` metadata file the original LocalStorage provider writes next to each file.
//!
//! Written exactly as `JSON.stringify(record, null, 2)` writes it, fields in the original's order;
//! fields this crate does not know are kept, in place, when a sidecar is rewritten.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::listing::{FileRecord, Metadata};

pub const SUFFIX: &str = ".json";

#[derive(Clone, Debug)]
pub struct Sidecar(Map<String, Value>);

/// The fields of a new sidecar.
pub struct New<'a> {
    pub external_id: &'a str,
    pub key: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
    pub url: &'a str,
    pub public: bool,
    pub metadata: Option<&'a Metadata>,
}

impl Sidecar {
    pub fn new(n: New<'_>) -> Self {
        let mut m = Map::new();
        m.insert("external_id".into(), n.external_id.into());
        m.insert("key".into(), n.key.into());
        if let Some(f) = n.filename {
            m.insert("filename".into(), f.into());
        }
        m.insert("contentType".into(), n.content_type.into());
        m.insert("size".into(), n.size.into());
        m.insert("lastModified".into(), iso(n.last_modified).into());
        m.insert("url".into(), n.url.into());
        m.insert("visibility".into(), if n.public { "public" } else { "private" }.into());
        if let Some(meta) = n.metadata {
            let meta: Map<String, Value> = meta.iter().map(|(k, v)| (k.clone(), v.as_str().into())).collect();
            m.insert("metadata".into(), meta.into());
        }
        Sidecar(m)
    }

    /// Parses a sidecar; `None` unless it is a JSON object with string `external_id` and `key`.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        match serde_json::from_slice(bytes).ok()? {
            Value::Object(m) if m.get("external_id")?.is_string() && m.get("key")?.is_string() => Some(Sidecar(m)),
            _ => None,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.0).expect("a JSON map always serializes")
    }

    fn str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    pub fn external_id(&self) -> &str {
        self.str("external_id").unwrap_or_default()
    }

    pub fn key(&self) -> &str {
        self.str("key").unwrap_or_default()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.str("contentType")
    }

    pub fn etag(&self) -> Option<&str> {
        self.str("etag")
    }

    pub fn is_public(&self) -> bool {
        self.str("visibility") == Some("public")
    }

    pub fn last_modified_ms(&self) -> Option<f64> {
        let t = DateTime::parse_from_rfc3339(self.str("lastModified")?).ok()?;
        Some(t.timestamp_millis() as f64)
    }

    pub fn metadata(&self) -> Option<Metadata> {
        let m = self.0.get("metadata")?.as_object()?;
        Some(m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
    }

    /// Marks the file public (with its URL) or private, as the original's `setFileVisibility` does.
    pub fn set_visibility(&mut self, public_url: Option<&str>) {
        self.0.insert("visibility".into(), if public_url.is_some() { "public" } else { "private" }.into());
        match public_url {
            Some(url) => {
                self.0.insert("publicUrl".into(), url.into());
            }
            None => {
                self.0.shift_remove("publicUrl");
            }
        }
    }

    /// The record the original's `findFileByExternalId` builds from a sidecar.
    pub fn record(&self) -> FileRecord {
        let url = self.str("url").unwrap_or_default().to_string();
        let public = self.is_public();
        FileRecord {
            external_id: self.external_id().to_string(),
            key: self.key().to_string(),
            public_url: public.then(|| url.clone()),
            url,
            size: self.0.get("size").and_then(Value::as_f64).unwrap_or(0.0),
            content_type: self.content_type().unwrap_or(crate::content_type::DEFAULT).to_string(),
            last_modified_ms: self.last_modified_ms(),
            etag: self.etag().map(str::to_string),
            metadata: self.metadata(),
            visibility: Some(if public { "public" } else { "private" }.to_string()),
        }
    }
}

/// `Date.prototype.toISOString()`: `2024-01-02T03:04:05.678Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the original writes for an upload with every field (JSON.stringify(x, null, 2)).
    const ORIGINAL: &str = r#"{
  "external_id": "ext-1",
  "key": "files/a \"b\".txt",
  "filename": "a.txt",
  "contentType": "text/plain",
  "size": 5,
  "lastModified": "2024-01-02T03:04:05.678Z",
  "url": "/uploads/files/a \"b\".txt",
  "visibility": "private",
  "metadata": {
    "owner": "ünï",
    "empty": ""
  }
}"#;

    #[test]
    fn writes_byte_for_byte_like_the_original() {
        let mut meta = Metadata::new();
        meta.insert("owner".into(), "ünï".into());
        meta.insert("empty".into(), "".into());
        let s = Sidecar::new(New {
            external_id: "ext-1",
            key: "files/a \"b\".txt",
            filename: Some("a.txt"),
            content_type: "text/plain",
            size: 5,
            last_modified: DateTime::parse_from_rfc3339("2024-01-02T03:04:05.678Z").unwrap().into(),
            url: "/uploads/files/a \"b\".txt",
            public: false,
            metadata: Some(&meta),
        });
        assert_eq!(String::from_utf8(s.to_bytes()).unwrap(), ORIGINAL);
        let parsed = Sidecar::parse(ORIGINAL.as_bytes()).unwrap();
        assert_eq!(parsed.to_bytes(), ORIGINAL.as_bytes());
        assert_eq!(parsed.record().last_modified_ms, Some(1704164645678.0));
    }

    #[test]
    fn visibility_keeps_field_order() {
        let mut s = Sidecar::parse(ORIGINAL.as_bytes()).unwrap();
        s.set_visibility(Some("/u/x"));
        let text = String::from_utf8(s.to_bytes()).unwrap();
        assert!(text.contains("\"visibility\": \"public\",\n  \"metadata\""));
        assert!(text.ends_with("  },\n  \"publicUrl\": \"/u/x\"\n}"));
        s.set_visibility(None);
        assert_eq!(s.to_bytes(), ORIGINAL.as_bytes());
    }

    #[test]
    fn rejects_non_sidecars() {
        assert!(Sidecar::parse(b"[1]").is_none());
        assert!(Sidecar::parse(b"{\"key\": \"a\"}").is_none());
        assert!(Sidecar::parse(b"not json").is_none());
    }
}
