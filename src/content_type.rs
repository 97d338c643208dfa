//! The original's extension → MIME table (17 entries); anything else is `application/octet-stream`.

pub const DEFAULT: &str = "application/octet-stream";

/// Content type for a file name or key, from its extension, case-insensitively.
pub fn from_name(name: &str) -> &'static str {
    let ext = crate::keys::extname(name).trim_start_matches('.').to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "html" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => DEFAULT,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn table() {
        assert_eq!(super::from_name("a/B.JPEG"), "image/jpeg");
        assert_eq!(super::from_name("x.tar.gz"), "application/octet-stream");
        assert_eq!(super::from_name("README"), "application/octet-stream");
    }
}
