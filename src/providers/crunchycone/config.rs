//! Where the CrunchyCone provider's settings come from: the config object, then the environment
//! (handed over by JS from `process.env`), then `crunchycone.toml`, then defaults, in the
//! original's order.

use std::path::{Path, PathBuf};

use napi_derive::napi;

use crate::error::{Error, Result};

pub const DEFAULT_API_URL: &str = "https://api.crunchycone.com";
pub const DEV_API_URL: &str = "https://api.crunchycone.dev";
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// The caller's `Partial<CrunchyConeConfig>` and the environment variables, as read by JS.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ConfigInput {
    pub api_url: Option<String>,
    pub api_key: Option<String>,
    pub project_id: Option<String>,
    pub timeout: Option<f64>,
    pub env_api_url: Option<String>,
    pub env_api_key: Option<String>,
    pub env_project_id: Option<String>,
    /// Where to look for `crunchycone.toml` (the working directory).
    pub cwd: Option<String>,
}

#[derive(Clone)]
pub struct Config {
    pub api_url: String,
    pub api_key: String,
    pub project_id: String,
    pub timeout_ms: u32,
}

/// The two values `crunchycone.toml` can give.
#[derive(Default, Debug, PartialEq)]
struct Toml {
    environment: Option<String>,
    project_id: Option<String>,
}

/// The original's line-based reader: `key = value` with one surrounding quote stripped,
/// `environment` at top level, `id` under `[project]`.
fn parse_toml(text: &str) -> Toml {
    let mut out = Toml::default();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value.strip_prefix(['"', '\'']).unwrap_or(value);
        let value = value.strip_suffix(['"', '\'']).unwrap_or(value).to_string();
        match (section.as_str(), key.trim()) {
            ("", "environment") => out.environment = Some(value),
            ("project", "id") => out.project_id = Some(value),
            _ => {}
        }
    }
    out
}

/// `crunchycone.toml` in `cwd` or an ancestor, stopping at the enclosing project root (a directory
/// with `package.json` or `.git`), so a stray file higher up cannot silently pick the environment.
fn find_toml(cwd: &Path) -> Option<PathBuf> {
    for dir in cwd.ancestors() {
        let candidate = dir.join("crunchycone.toml");
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join("package.json").exists() || dir.join(".git").exists() {
            return None;
        }
    }
    None
}

fn non_blank(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// What `crunchycone.toml` (found from `cwd`) says; nothing when there is none or it is unreadable.
fn read_toml(cwd: Option<&str>) -> Toml {
    cwd.and_then(|cwd| find_toml(Path::new(cwd)))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| parse_toml(&t))
        .unwrap_or_default()
}

/// What `crunchycone.toml` (found from `cwd` up to the project root) gives the original's `./auth`
/// helpers: the API address its `environment` names, and `[project] id`.
// Called only from JS, so unused in the test build.
#[cfg_attr(test, allow(dead_code))]
#[napi(object)]
pub struct TomlValues {
    pub api_url: Option<String>,
    pub project_id: Option<String>,
}

#[cfg_attr(test, allow(dead_code))]
#[napi(js_name = "crunchyconeToml")]
pub fn crunchycone_toml(cwd: String) -> TomlValues {
    let t = read_toml(Some(&cwd));
    TomlValues { api_url: t.environment.as_deref().map(|e| toml_api_url(e).to_string()), project_id: t.project_id }
}

/// The API address an `environment` value names: `dev`, or production for anything else.
fn toml_api_url(environment: &str) -> &'static str {
    if environment == "dev" {
        DEV_API_URL
    } else {
        DEFAULT_API_URL
    }
}

pub fn resolve(input: &ConfigInput) -> Result<Config> {
    let toml = read_toml(input.cwd.as_deref());
    let api_key = non_blank(&input.api_key).or_else(|| non_blank(&input.env_api_key)).ok_or_else(|| {
        Error::InvalidInput(
            "CrunchyCone API key not found in environment variable CRUNCHYCONE_API_KEY. Keychain access is not \
             available (keytar not installed). Please set CRUNCHYCONE_API_KEY environment variable."
                .into(),
        )
    })?;
    let api_url = non_blank(&input.api_url)
        .or_else(|| non_blank(&input.env_api_url))
        .or_else(|| toml.environment.as_deref().map(|e| toml_api_url(e).to_string()))
        .unwrap_or_else(|| DEFAULT_API_URL.to_string());
    let project_id = non_blank(&input.project_id)
        .or_else(|| non_blank(&input.env_project_id))
        .or(toml.project_id)
        .ok_or_else(|| {
            Error::InvalidInput(
                "CrunchyCone project ID is required. Set CRUNCHYCONE_PROJECT_ID environment variable or pass \
                 projectId in config."
                    .into(),
            )
        })?;
    crate::config::secret(&api_key, "CrunchyCone", "apiKey")?;
    let api_url = crate::config::url(&api_url, "CrunchyCone", "apiUrl")?;
    crate::config::name(&project_id, "CrunchyCone", "projectId")?;
    let timeout_ms = match input.timeout {
        Some(t) if t.is_finite() && t > 0.0 => t.min(u32::MAX as f64) as u32,
        _ => DEFAULT_TIMEOUT_MS,
    };
    Ok(Config {
        // Without a trailing slash (`url` drops it), which would give `//api/v1/...` (the original
        // did not normalise it).
        api_url,
        api_key,
        project_id,
        timeout_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_original_toml_shape() {
        let t = parse_toml("# c\nenvironment = \"dev\"\n[project]\nid = 'proj_1'\n[other]\nid = x\n");
        assert_eq!(t, Toml { environment: Some("dev".into()), project_id: Some("proj_1".into()) });
    }

    #[test]
    fn precedence_and_errors() {
        let input = ConfigInput {
            env_api_key: Some("  k  ".into()),
            env_project_id: Some("p".into()),
            api_url: Some("http://x/".into()),
            ..Default::default()
        };
        let c = resolve(&input).unwrap();
        assert_eq!((c.api_key.as_str(), c.project_id.as_str(), c.api_url.as_str()), ("k", "p", "http://x"));
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
        let missing = resolve(&ConfigInput { api_key: Some("k".into()), ..Default::default() });
        assert!(missing.err().unwrap().to_string().starts_with("CrunchyCone project ID is required"));
    }
}
