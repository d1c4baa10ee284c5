//! String parameters, quoted and escaped the way each firmware reads them.
//!
//! atat's own string serialisation is wrong for these firmwares (it writes `\22` for `"`
//! and `\5C` for `\`, and leaves `,` alone). [`AtStr`] instead carries the dialect's
//! [`Quoting`] and hands the serializer the finished bytes through `serialize_bytes`, so
//! the output does not depend on atat's `escape_strings` option.
//!
//! | dialect | form on the wire | example for `a,b"c\d` |
//! |---|---|---|
//! | ESP-AT, W800, Ai-Thinker | `"…"`, with `\"`, `\,`, `\\` inside | `"a\,b\"c\\d"` |
//! | Beken | as is, unquoted | refused (see below) |
//!
//! ESP-AT, W800: the vendor documents write string parameters as `<"client_id">` and warn
//! that special characters must be escaped (`AT+MQTTPUB=0,"topic","\"{\"timestamp\":…}\"",0,0`);
//! an unescaped comma inside `"…"` is answered `ERROR` by real modules.
//!
//! Beken: its document's examples send strings unquoted (`AT+MQTTCONN=0,192.168.0.102,8883,1`,
//! `AT+MQTTPUB=0,test/abc,987654321,1,0`), and this crate sends them so. The tokenizer
//! of Beken's public AT server ends an unquoted parameter at a comma and at a space,
//! starts a quoted one at a leading `"`, skips a `=` where a parameter would start, and
//! creates no parameter at all for an empty one (`a,,b` is two parameters, so everything
//! after an empty value shifts one place). The only value with a space in Beken's
//! document is quoted (`"good bye"`). A value Beken cannot receive intact is therefore
//! refused with [`Error::Invalid`] when the [`AtStr`] is made, before anything is
//! written: an empty value, one holding `,`, `"` or a space, or one starting with `=`.
//!
//! Every dialect: CR, LF and NUL are refused (CR LF ends the command line; the documents
//! say `AT+MQTTPUB` "cannot send data `\0`"), and so is a value longer than
//! [`MAX_VALUE_LEN`] bytes.

use crate::dialect::Dialect;
use crate::error::Error;
use atat::serde_at::serde::{Serialize, Serializer};
use core::fmt;

/// The longest value an [`AtStr`] holds, in bytes before quoting and escaping: 256.
///
/// Every document says "The total length of each AT command cannot exceed 256 bytes", so
/// a longer value can never be sent; the longest single field the documents allow is the
/// 256-byte `<client_id>` of `AT+MQTTUSERCFG`. Field limits below this one are checked by
/// the commands.
pub const MAX_VALUE_LEN: usize = 256;

/// The longest encoded form of an [`AtStr`]: every byte escaped, plus two quotes
/// (2 × 256 + 2 = 514). This is the size of the stack buffer [`AtStr`] serialises from.
pub const MAX_ENCODED_LEN: usize = 2 * MAX_VALUE_LEN + 2;

/// How a dialect writes string parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Quoting {
    /// `"…"`, with `"`, `,` and `\` escaped by a backslash inside: ESP-AT, W800,
    /// Ai-Thinker Combo-AT.
    Quoted,
    /// As is, without quotes: Beken. Values it cannot carry are refused (see the
    /// [module docs](self)).
    Bare,
}

impl Quoting {
    /// The quoting rule of `dialect`.
    pub const fn of(dialect: Dialect) -> Quoting {
        match dialect {
            Dialect::Beken => Quoting::Bare,
            Dialect::EspAt | Dialect::W800 | Dialect::AiThinker => Quoting::Quoted,
        }
    }
}

/// True for the bytes a backslash must precede inside a quoted parameter: `"`, `,`, `\`.
pub const fn needs_escape(b: u8) -> bool {
    matches!(b, b'"' | b',' | b'\\')
}

/// The length of `value` once quoted and escaped by `quoting` (what it adds to a command
/// line).
///
/// ```
/// use at_wifi::command::text::{encoded_len, Quoting};
/// assert_eq!(encoded_len(Quoting::Quoted, br#"a,b"c\d"#), 12); // "a\,b\"c\\d"
/// assert_eq!(encoded_len(Quoting::Bare, b"abc"), 3);
/// ```
pub fn encoded_len(quoting: Quoting, value: &[u8]) -> usize {
    match quoting {
        Quoting::Bare => value.len(),
        Quoting::Quoted => 2 + value.len() + value.iter().filter(|&&b| needs_escape(b)).count(),
    }
}

/// Checks that `value` can be sent as one string parameter under `quoting`; the error
/// names `field`. See the [module docs](self) for the rules.
pub fn check(quoting: Quoting, field: &'static str, value: &[u8]) -> Result<(), Error> {
    let invalid = |reason| Err(Error::Invalid { field, reason });
    if value.len() > MAX_VALUE_LEN {
        return invalid("longer than 256 bytes (the longest AT command line)");
    }
    if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return invalid("holds CR, LF or NUL");
    }
    if quoting == Quoting::Bare {
        if value.is_empty() {
            return invalid("empty: Beken drops an empty unquoted parameter");
        }
        if value.iter().any(|&b| matches!(b, b',' | b'"' | b' ')) {
            return invalid(
                "holds ',', '\"' or a space, which Beken's unquoted parameters cannot carry",
            );
        }
        if value.first() == Some(&b'=') {
            return invalid("starts with '=', which Beken drops");
        }
    }
    Ok(())
}

/// A checked string parameter: its value and the quoting rule of the dialect it is for.
///
/// Serialises (through `serialize_bytes`) as its finished, quoted and escaped form, so
/// its bytes do not depend on atat's `escape_strings` option. The value is checked when
/// the `AtStr` is made, which keeps serialisation infallible: it never needs more than
/// [`MAX_ENCODED_LEN`] bytes.
///
/// ```
/// use at_wifi::command::text::AtStr;
/// use at_wifi::{Dialect, Error};
/// let s = AtStr::new(Dialect::EspAt, "topic", r#"a,b"c\d"#).unwrap();
/// let mut buf = [0u8; 16];
/// let n = s.encode(&mut buf).unwrap();
/// assert_eq!(&buf[..n], br#""a\,b\"c\\d""#);
///
/// let bare = AtStr::new(Dialect::Beken, "topic", "test/abc").unwrap();
/// assert_eq!(bare.encoded_len(), 8);
/// assert!(matches!(
///     AtStr::new(Dialect::Beken, "topic", "a,b"),
///     Err(Error::Invalid { field: "topic", .. })
/// ));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtStr<'a> {
    value: &'a [u8],
    quoting: Quoting,
}

impl<'a> AtStr<'a> {
    /// A string parameter for `dialect`; an error names `field`.
    ///
    /// Errors: [`Error::Invalid`] when the value breaks a rule of the
    /// [module docs](self).
    pub fn new<T: AsRef<[u8]> + ?Sized>(
        dialect: Dialect,
        field: &'static str,
        value: &'a T,
    ) -> Result<Self, Error> {
        Self::with_quoting(Quoting::of(dialect), field, value)
    }

    /// A string parameter with an explicit quoting rule; an error names `field`.
    pub fn with_quoting<T: AsRef<[u8]> + ?Sized>(
        quoting: Quoting,
        field: &'static str,
        value: &'a T,
    ) -> Result<Self, Error> {
        let value = value.as_ref();
        check(quoting, field, value)?;
        Ok(AtStr { value, quoting })
    }

    /// The value, unquoted and unescaped.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The quoting rule.
    pub fn quoting(&self) -> Quoting {
        self.quoting
    }

    /// The length of the encoded form.
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.quoting, self.value)
    }

    /// Writes the encoded form to the start of `out` and returns its length, or `None`
    /// (nothing useful written) when `out` is shorter than [`Self::encoded_len`].
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        let n = self.encoded_len();
        let out = out.get_mut(..n)?;
        match self.quoting {
            Quoting::Bare => out.copy_from_slice(self.value),
            Quoting::Quoted => {
                let mut slots = out.iter_mut();
                *slots.next()? = b'"';
                for &b in self.value {
                    if needs_escape(b) {
                        *slots.next()? = b'\\';
                    }
                    *slots.next()? = b;
                }
                *slots.next()? = b'"';
            }
        }
        Some(n)
    }
}

impl Serialize for AtStr<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; MAX_ENCODED_LEN];
        // Cannot fail: the constructor bounds the value to MAX_VALUE_LEN bytes, whose
        // encoded form fits MAX_ENCODED_LEN.
        let n = self.encode(&mut buf).unwrap_or(0);
        serializer.serialize_bytes(buf.get(..n).unwrap_or(&[]))
    }
}

impl fmt::Debug for AtStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AtStr(")?;
        fmt::Debug::fmt(&crate::framer::Ascii(self.value), f)?;
        f.write_str(")")
    }
}

/// Decodes a string field of a reply into `out`: one pair of surrounding quotes is
/// removed and, inside quotes, `\x` becomes `x`. An unquoted field is taken as it is.
/// `None` when the value does not fit `N` bytes.
pub(crate) fn decode<const N: usize>(field: &[u8]) -> Option<heapless::Vec<u8, N>> {
    let field = crate::framer::trim(field);
    let mut out = heapless::Vec::new();
    match field {
        [b'"', inner @ .., b'"'] => {
            let mut escaped = false;
            for &b in inner {
                if !escaped && b == b'\\' {
                    escaped = true;
                    continue;
                }
                escaped = false;
                out.push(b).ok()?;
            }
        }
        _ => out.extend_from_slice(field).ok()?,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_quoted_and_bare() {
        assert_eq!(
            decode::<16>(br#""a\,b\"c\\d""#).as_deref(),
            Some(&br#"a,b"c\d"#[..])
        );
        assert_eq!(decode::<16>(b" host ").as_deref(), Some(&b"host"[..]));
        assert_eq!(decode::<2>(b"\"abc\""), None);
        assert_eq!(decode::<2>(b"\"\"").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn encode_fits_exactly_or_refuses() {
        let s = AtStr::new(Dialect::W800, "x", "a\\").unwrap();
        assert_eq!(s.encoded_len(), 5);
        let mut small = [0u8; 4];
        assert_eq!(s.encode(&mut small), None);
        let mut buf = [0u8; 5];
        assert_eq!(s.encode(&mut buf), Some(5));
        assert_eq!(&buf, b"\"a\\\\\"");
    }

    #[test]
    fn longest_value_fully_escaped_fits_the_buffer() {
        let v = [b','; MAX_VALUE_LEN];
        let s = AtStr::new(Dialect::EspAt, "x", &v[..]).unwrap();
        assert_eq!(s.encoded_len(), MAX_ENCODED_LEN);
        let mut buf = [0u8; MAX_ENCODED_LEN];
        assert_eq!(s.encode(&mut buf), Some(MAX_ENCODED_LEN));
    }
}
