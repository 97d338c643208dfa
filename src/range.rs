//! Byte ranges, resolved the same way for every provider.
//!
//! `start` and `end` are inclusive offsets, as in HTTP `Range`. `{start}` reads to the end, `{end}`
//! alone means `0..=end`, an `end` past the size is clamped. `{suffix: n}` is the last `n` bytes
//! (all of them when the file is smaller), as HTTP's `bytes=-n`. Anything else invalid is refused
//! before a byte moves.

use crate::error::{Error, Result};
use napi_derive::napi;

/// What the caller asked for, still unchecked (JS numbers arrive as f64).
#[napi(object)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeRequest {
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub suffix: Option<f64>,
}

/// A checked request: offsets are non-negative integers, `start <= end`, a suffix is positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// `start..=end`, or from `start` to the end.
    Span { start: u64, end: Option<u64> },
    /// The last `n` bytes.
    Suffix(u64),
}

/// The bytes a response carries: `start..=end` of `total`, or the whole (possibly empty) object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub start: u64,
    /// Number of bytes in this response.
    pub length: u64,
    pub total: u64,
    pub partial: bool,
}

impl Resolved {
    /// Inclusive last offset (meaningless when `length == 0`).
    pub fn end(&self) -> u64 {
        (self.start + self.length).saturating_sub(1)
    }
}

fn offset(name: &str, v: f64) -> Result<u64> {
    // 2^53: beyond it JS numbers stop being exact integers.
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > 9_007_199_254_740_991.0 {
        return Err(Error::InvalidRange(format!("Invalid range: {name} must be a non-negative integer, got {v}")));
    }
    Ok(v as u64)
}

impl RangeRequest {
    /// Checks the request without knowing the object's size. `None` means "the whole object".
    pub fn check(&self) -> Result<Option<Requested>> {
        let start = self.start.map(|v| offset("start", v)).transpose()?;
        let end = self.end.map(|v| offset("end", v)).transpose()?;
        if let Some(n) = self.suffix.map(|v| offset("suffix", v)).transpose()? {
            if start.is_some() || end.is_some() {
                return Err(Error::InvalidRange("Invalid range: suffix cannot be combined with start or end".into()));
            }
            if n == 0 {
                return Err(Error::InvalidRange("Invalid range: suffix must be at least 1".into()));
            }
            return Ok(Some(Requested::Suffix(n)));
        }
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(Error::InvalidRange(format!("Invalid range: start ({s}) is greater than end ({e})")));
            }
        }
        Ok(match (start, end) {
            (None, None) => None,
            (s, e) => Some(Requested::Span { start: s.unwrap_or(0), end: e }),
        })
    }
}

impl Requested {
    /// Applies the request to an object of `total` bytes.
    pub fn resolve(self, total: u64) -> Result<Resolved> {
        let (start, end) = match self {
            Requested::Span { start, .. } if start >= total => {
                return Err(Error::InvalidRange(format!(
                    "Invalid range: start ({start}) is beyond the end of the file ({total} bytes)"
                )))
            }
            Requested::Span { start, end } => (start, end.map_or(total - 1, |e| e.min(total - 1))),
            Requested::Suffix(_) if total == 0 => {
                return Err(Error::InvalidRange("Invalid range: the file is empty (0 bytes)".into()))
            }
            Requested::Suffix(n) => (total - n.min(total), total - 1),
        };
        Ok(Resolved { start, length: end - start + 1, total, partial: true })
    }

    /// The request as an HTTP `Range` header value.
    pub fn header(&self) -> String {
        match self {
            Requested::Span { start, end: Some(end) } => format!("bytes={start}-{end}"),
            Requested::Span { start, end: None } => format!("bytes={start}-"),
            Requested::Suffix(n) => format!("bytes=-{n}"),
        }
    }

    /// Whether a server's partial answer is what was asked for.
    pub fn answered_by(&self, r: &Resolved) -> bool {
        r.length > 0
            && match *self {
                Requested::Span { start, end } => r.start == start && end.is_none_or(|e| r.end() <= e),
                Requested::Suffix(n) => r.end() == r.total - 1 && r.length == n.min(r.total),
            }
    }
}

/// `Content-Range: bytes a-b/total` as the range it describes.
pub fn parse_content_range(h: &str) -> Option<Resolved> {
    let (span, total) = h.strip_prefix("bytes ")?.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    let (start, end, total) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?, total.parse::<u64>().ok()?);
    (start <= end && end < total).then_some(Resolved { start, length: end - start + 1, total, partial: true })
}

/// Resolves an optional request against a known size.
pub fn resolve(req: Option<Requested>, total: u64) -> Result<Resolved> {
    match req {
        Some(r) => r.resolve(total),
        None => Ok(Resolved { start: 0, length: total, total, partial: false }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: Option<f64>, end: Option<f64>) -> Result<Option<Requested>> {
        RangeRequest { start, end, suffix: None }.check()
    }

    fn suffix(n: f64) -> Result<Option<Requested>> {
        RangeRequest { suffix: Some(n), ..Default::default() }.check()
    }

    #[test]
    fn resolves_like_http() {
        let r = |s, e, total| resolve(req(s, e).unwrap(), total).unwrap();
        assert_eq!(r(None, None, 10), Resolved { start: 0, length: 10, total: 10, partial: false });
        assert_eq!(r(Some(2.0), Some(5.0), 10), Resolved { start: 2, length: 4, total: 10, partial: true });
        assert_eq!(r(Some(7.0), None, 10).length, 3);
        assert_eq!(r(None, Some(3.0), 10), Resolved { start: 0, length: 4, total: 10, partial: true });
        assert_eq!(r(Some(8.0), Some(100.0), 10).end(), 9);
        assert_eq!(r(Some(9.0), Some(9.0), 10).length, 1);
        assert_eq!(r(None, None, 0).length, 0);
    }

    #[test]
    fn refuses_bad_ranges() {
        assert!(req(Some(-1.0), None).is_err());
        assert!(req(Some(1.5), None).is_err());
        assert!(req(None, Some(f64::NAN)).is_err());
        assert!(req(Some(5.0), Some(4.0)).is_err());
        assert!(resolve(req(Some(10.0), None).unwrap(), 10).is_err());
        assert!(resolve(req(Some(0.0), None).unwrap(), 0).is_err());
        assert!(suffix(0.0).is_err());
        assert!(suffix(-1.0).is_err());
        assert!(RangeRequest { start: Some(0.0), end: None, suffix: Some(1.0) }.check().is_err());
        assert!(resolve(suffix(5.0).unwrap(), 0).is_err());
    }

    #[test]
    fn suffixes_are_the_last_bytes() {
        let r = |n, total| resolve(suffix(n).unwrap(), total).unwrap();
        assert_eq!(r(3.0, 10), Resolved { start: 7, length: 3, total: 10, partial: true });
        assert_eq!(r(10.0, 10), Resolved { start: 0, length: 10, total: 10, partial: true });
        assert_eq!(r(500.0, 10), Resolved { start: 0, length: 10, total: 10, partial: true });
        assert_eq!(suffix(500.0).unwrap().unwrap().header(), "bytes=-500");
        assert_eq!(req(Some(2.0), None).unwrap().unwrap().header(), "bytes=2-");
        assert_eq!(req(None, Some(4.0)).unwrap().unwrap().header(), "bytes=0-4");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any f64 a JS caller could pass, with the interesting ones often.
        fn number() -> impl Strategy<Value = f64> {
            prop_oneof![
                (0u64..64).prop_map(|v| v as f64),
                any::<u64>().prop_map(|v| v as f64),
                any::<f64>(),
                Just(9_007_199_254_740_991.0),
                Just(9_007_199_254_740_992.0),
                Just(-0.0),
            ]
        }

        proptest! {
            /// Whatever arrives, a checked request holds exact, ordered integer offsets.
            #[test]
            fn checked_requests_are_exact(start in proptest::option::of(number()), end in proptest::option::of(number())) {
                let exact = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0;
                match req(start, end) {
                    Ok(None) => prop_assert!(start.is_none() && end.is_none()),
                    Ok(Some(Requested::Span { start: s, end: e })) => {
                        prop_assert_eq!(s as f64, start.unwrap_or(0.0));
                        prop_assert_eq!(e.map(|e| e as f64), end);
                        prop_assert!(e.is_none_or(|e| s <= e));
                    }
                    Ok(Some(Requested::Suffix(_))) => prop_assert!(false, "no suffix was asked for"),
                    Err(e) => {
                        prop_assert_eq!(e.code(), "InvalidRange");
                        let ordered = matches!((start, end), (Some(s), Some(e)) if s > e);
                        prop_assert!(!start.is_none_or(exact) || !end.is_none_or(exact) || ordered);
                    }
                }
            }

            /// A resolved range is the slice `data[start..=min(end, total - 1)]` would give, and a
            /// start at or past the end is refused; a server answering with that range answers it.
            #[test]
            fn resolves_as_slicing(total in 0u64..200, start in proptest::option::of(0u64..220), end in proptest::option::of(0u64..220)) {
                prop_assume!(match (start, end) { (Some(s), Some(e)) => s <= e, _ => true });
                let data: Vec<u64> = (0..total).collect();
                let request = req(start.map(|v| v as f64), end.map(|v| v as f64)).unwrap();
                match resolve(request, total) {
                    Ok(r) => {
                        let first = start.unwrap_or(0);
                        let last = end.map_or(total, |e| (e + 1).min(total));
                        prop_assert_eq!(&data[r.start as usize..(r.start + r.length) as usize], &data[first as usize..last as usize]);
                        prop_assert_eq!(r.total, total);
                        prop_assert_eq!(r.partial, request.is_some());
                        prop_assert!(r.start + r.length <= total);
                        if let Some(q) = request {
                            prop_assert!(q.answered_by(&r));
                        }
                    }
                    Err(e) => {
                        prop_assert_eq!(e.code(), "InvalidRange");
                        prop_assert!(request.is_some() && start.unwrap_or(0) >= total);
                    }
                }
            }

            /// A suffix is the slice `data[total - min(n, total)..]`; only an empty file refuses it.
            #[test]
            fn suffixes_resolve_as_slicing(total in 0u64..200, n in 1u64..220) {
                let data: Vec<u64> = (0..total).collect();
                let request = suffix(n as f64).unwrap().unwrap();
                match request.resolve(total) {
                    Ok(r) => {
                        prop_assert_eq!(&data[r.start as usize..(r.start + r.length) as usize], &data[(total - n.min(total)) as usize..]);
                        prop_assert!(request.answered_by(&r));
                        prop_assert_eq!(request.header(), format!("bytes=-{n}"));
                    }
                    Err(e) => {
                        prop_assert_eq!(e.code(), "InvalidRange");
                        prop_assert_eq!(total, 0);
                    }
                }
            }
        }
    }
}
