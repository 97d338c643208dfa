//! The little XML the cloud APIs answer with (S3 listings and ACLs, S3 / Azure / GCS error
//! documents), read without a parser: the documents are flat and only a few elements matter.

/// `Code: Message` of an error document (S3, Azure and GCS share the shape). Only these two: for
/// signature errors the document also echoes the key id or what was signed.
pub fn summary(xml: &str) -> Option<String> {
    match (element(xml, "Code"), element(xml, "Message")) {
        (Some(c), Some(m)) => Some(format!("{c}: {}", unescape(m))),
        (Some(c), None) => Some(c.to_string()),
        _ => None,
    }
}

/// XML text with its five predefined entities and numeric references resolved.
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(|d| d.parse::<u32>()))
                .and_then(|n| n.ok())
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of the first `<name>…</name>` in `xml`.
pub fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len])
}
