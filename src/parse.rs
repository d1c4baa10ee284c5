//! Small, allocation-free helpers to read the parameters of a reply or URC line.
//!
//! Modules print numbers quoted or not (`"1883"` or `1883`) and strings quoted or not;
//! these helpers accept both.

/// Iterates over the comma-separated parameters of `s`; commas inside `"…"` do not split.
/// Each item is trimmed of spaces; quotes are kept (see [`unquote`]).
///
/// ```
/// use at_wifi::parse::params;
/// let v: Vec<&[u8]> = params(b"0,\"a,b\", 7 ,").collect();
/// assert_eq!(v, [&b"0"[..], b"\"a,b\"", b"7", b""]);
/// ```
pub fn params(s: &[u8]) -> Params<'_> {
    Params { rest: Some(s) }
}

/// Iterator returned by [`params`].
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Params<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in s.iter().enumerate() {
            if escaped {
                escaped = false;
                continue;
            }
            match b {
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    self.rest = Some(&s[i + 1..]);
                    return Some(crate::framer::trim(&s[..i]));
                }
                _ => {}
            }
        }
        self.rest = None;
        Some(crate::framer::trim(s))
    }
}

/// Removes one pair of surrounding double quotes, if present.
///
/// ```
/// assert_eq!(at_wifi::parse::unquote(b"\"host\""), b"host");
/// assert_eq!(at_wifi::parse::unquote(b"host"), b"host");
/// ```
pub fn unquote(s: &[u8]) -> &[u8] {
    match s {
        [b'"', inner @ .., b'"'] => inner,
        _ => s,
    }
}

/// Parses a decimal number, quoted or not, with an optional leading `-`.
///
/// ```
/// use at_wifi::parse::number;
/// assert_eq!(number::<u16>(b"\"1883\""), Some(1883));
/// assert_eq!(number::<i32>(b"-1"), Some(-1));
/// assert_eq!(number::<u8>(b"256"), None);
/// ```
pub fn number<T: TryFrom<i64>>(s: &[u8]) -> Option<T> {
    let s = unquote(crate::framer::trim(s));
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    T::try_from(if neg { -v } else { v }).ok()
}

/// If `line` starts with `prefix`, the rest after it.
pub fn after<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix)
}
