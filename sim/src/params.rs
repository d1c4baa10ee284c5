//! Command-line parameters as each firmware tokenises them, and the ways a command fails.

use crate::config::Dialect;

/// Why a command failed; turned into the dialect's words by the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// A plain failure of the command (ESP-AT code: execution failed).
    Exec,
    /// No such command (ESP-AT `0x01090000`).
    Unsupported,
    /// The command exists, not in this form (query, set, execute, test).
    OpError,
    /// The line does not start with `AT`.
    NoAt,
    /// The line is longer than the firmware takes.
    TooLong,
    /// The wrong number of parameters.
    Count { expected: u8, given: u8 },
    /// A string where a number belongs or the reverse (0-based parameter index).
    Type(u8),
    /// A parameter that cannot be read (unterminated quote, not a number).
    Parse(u8),
    /// A parameter out of range.
    Invalid(u8),
    /// An MQTT error with its ESP-AT code `0x6001`…`0x6052`.
    Mqtt(u16),
}

impl Fail {
    /// The 32-bit ESP-AT error code printed as `ERR CODE:0x%08x` after `AT+SYSLOG=1`:
    /// module `0x01`, error type, extension (parameter index, counts or MQTT code).
    pub(crate) fn esp_code(self) -> u32 {
        let (cat, ext): (u32, u32) = match self {
            Fail::Exec => (0x0a, 0),
            Fail::Unsupported => (0x09, 0),
            Fail::OpError => (0x0c, 0),
            Fail::NoAt => (0x03, 0),
            Fail::TooLong => (0x04, 0),
            Fail::Count { expected, given } => {
                (0x06, (u32::from(expected) << 8) | u32::from(given))
            }
            Fail::Type(i) => (0x05, u32::from(i)),
            Fail::Parse(i) => (0x08, u32::from(i)),
            Fail::Invalid(i) => (0x07, u32::from(i)),
            Fail::Mqtt(code) => (0x0a, u32::from(code)),
        };
        0x0100_0000 | (cat << 16) | ext
    }

    /// The final word W800 prints: `CMD FORMAT ERR` for a malformed line (parameter count
    /// or type), `CMD PARSE ERR` for an unreadable parameter, `ERROR` otherwise.
    pub(crate) fn w800_word(self) -> &'static str {
        match self {
            Fail::Count { .. } | Fail::Type(_) | Fail::Mqtt(0x6008) => "CMD FORMAT ERR",
            Fail::Parse(_) => "CMD PARSE ERR",
            Fail::Mqtt(c) if is_read_failed(c) => "CMD PARSE ERR",
            _ => "ERROR",
        }
    }
}

/// The `*_READ_FAILED` codes of the ESP-AT MQTT error table.
fn is_read_failed(code: u16) -> bool {
    matches!(
        code,
        0x6010
            | 0x6012
            | 0x6014
            | 0x6017
            | 0x601A
            | 0x601D
            | 0x601F
            | 0x6027
            | 0x602A
            | 0x602B
            | 0x602E
            | 0x6030
            | 0x6033
            | 0x6036
            | 0x6038
            | 0x603A
            | 0x603D
            | 0x603F
            | 0x6041
            | 0x6044
            | 0x6047
            | 0x6049
            | 0x604B
    )
}

/// One parameter of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Param {
    /// It was written between quotes.
    pub quoted: bool,
    /// It could not be tokenised (an unterminated quote, a quote in the middle).
    pub malformed: bool,
    /// The value: quotes removed and escapes resolved when quoted, as written otherwise.
    pub value: Vec<u8>,
}

/// Resolves backslash escapes: `\x` becomes `x`.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut esc = false;
    for &b in s {
        if !esc && b == b'\\' {
            esc = true;
            continue;
        }
        esc = false;
        out.push(b);
    }
    out
}

/// True when the byte at `i` is preceded by an odd number of backslashes.
fn escaped(s: &[u8], i: usize) -> bool {
    s[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// ESP-AT (and W800): the line is cut at every comma not escaped by a backslash, quotes
/// or not (so an unescaped comma inside `"…"` breaks the parameter, as on real modules);
/// each piece is a number as written or a whole `"…"` string with `\x` escapes.
fn split_esp(s: &[u8]) -> Vec<Param> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 0..s.len() {
        if s[i] == b',' && !escaped(s, i) {
            pieces.push(&s[start..i]);
            start = i + 1;
        }
    }
    pieces.push(&s[start..]);
    pieces
        .into_iter()
        .map(|p| {
            if p.first() == Some(&b'"') {
                let closed = p.len() >= 2 && p[p.len() - 1] == b'"' && !escaped(p, p.len() - 1);
                if closed {
                    Param {
                        quoted: true,
                        malformed: false,
                        value: unescape(&p[1..p.len() - 1]),
                    }
                } else {
                    Param {
                        quoted: true,
                        malformed: true,
                        value: p.to_vec(),
                    }
                }
            } else {
                Param {
                    quoted: false,
                    malformed: p.contains(&b'"'),
                    value: p.to_vec(),
                }
            }
        })
        .collect()
}

/// Combo-AT: a parameter is a `"…"` string (commas allowed inside, `\x` escapes) or
/// everything up to the next comma.
fn split_combo(s: &[u8]) -> Vec<Param> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        if i < s.len() && s[i] == b'"' {
            let mut j = i + 1;
            while j < s.len() && (s[j] != b'"' || escaped(s, j)) {
                j += 1;
            }
            if j >= s.len() {
                out.push(Param {
                    quoted: true,
                    malformed: true,
                    value: s[i..].to_vec(),
                });
                return out;
            }
            let value = unescape(&s[i + 1..j]);
            let mut k = j + 1;
            let mut malformed = false;
            while k < s.len() && s[k] != b',' {
                malformed = true;
                k += 1;
            }
            out.push(Param {
                quoted: true,
                malformed,
                value,
            });
            if k >= s.len() {
                return out;
            }
            i = k + 1;
        } else {
            let j = s[i..]
                .iter()
                .position(|&b| b == b',')
                .map_or(s.len(), |p| i + p);
            out.push(Param {
                quoted: false,
                malformed: false,
                value: s[i..j].to_vec(),
            });
            if j >= s.len() {
                return out;
            }
            i = j + 1;
        }
    }
}

/// Beken's AT server: an unquoted parameter ends at a comma or a space, a quoted one
/// starts at a leading `"` and ends at the next `"`, a `=` where a parameter would start
/// is skipped, and an empty parameter creates nothing at all (`a,,b` is two parameters).
fn split_beken(s: &[u8]) -> Vec<Param> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b',' | b' ' | b'=' => i += 1,
            b'"' => {
                let end = s[i + 1..].iter().position(|&b| b == b'"');
                match end {
                    Some(e) => {
                        out.push(Param {
                            quoted: true,
                            malformed: false,
                            value: s[i + 1..i + 1 + e].to_vec(),
                        });
                        i = i + 2 + e;
                    }
                    None => {
                        out.push(Param {
                            quoted: true,
                            malformed: true,
                            value: s[i..].to_vec(),
                        });
                        i = s.len();
                    }
                }
            }
            _ => {
                let end = s[i..]
                    .iter()
                    .position(|&b| b == b',' || b == b' ')
                    .map_or(s.len(), |p| i + p);
                out.push(Param {
                    quoted: false,
                    malformed: false,
                    value: s[i..end].to_vec(),
                });
                i = end;
            }
        }
    }
    out
}

/// The parameters of a set command, read the way `dialect` reads them.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    pub p: Vec<Param>,
    /// ESP-AT / W800: strings must be quoted and numbers must not be.
    strict: bool,
}

impl Args {
    pub(crate) fn parse(dialect: Dialect, s: &[u8]) -> Args {
        let (p, strict) = match dialect {
            Dialect::EspAt | Dialect::W800 => (split_esp(s), true),
            Dialect::Beken => (split_beken(s), false),
            Dialect::AiThinker => (split_combo(s), false),
        };
        Args { p, strict }
    }

    pub(crate) fn len(&self) -> usize {
        self.p.len()
    }

    /// True when parameter `i` is missing or empty (an omitted optional parameter).
    pub(crate) fn absent(&self, i: usize) -> bool {
        self.p
            .get(i)
            .is_none_or(|p| !p.quoted && p.value.is_empty())
    }

    /// Checks the count is within `min..=max`.
    pub(crate) fn count(&self, min: usize, max: usize) -> Result<(), Fail> {
        let n = self.p.len();
        if n < min || n > max {
            let expected = if n < min { min } else { max };
            return Err(Fail::Count {
                expected: expected.min(255) as u8,
                given: n.min(255) as u8,
            });
        }
        Ok(())
    }

    fn get(&self, i: usize) -> Result<&Param, Fail> {
        let idx = i.min(255) as u8;
        let p = self.p.get(i).ok_or(Fail::Count {
            expected: idx.saturating_add(1),
            given: self.p.len().min(255) as u8,
        })?;
        if p.malformed {
            return Err(Fail::Parse(idx));
        }
        Ok(p)
    }

    /// A string parameter (bytes, quotes removed).
    pub(crate) fn str(&self, i: usize) -> Result<Vec<u8>, Fail> {
        let p = self.get(i)?;
        if self.strict && !p.quoted {
            return Err(Fail::Type(i.min(255) as u8));
        }
        Ok(p.value.clone())
    }

    /// A string parameter as UTF-8 text.
    pub(crate) fn text(&self, i: usize) -> Result<String, Fail> {
        let v = self.str(i)?;
        String::from_utf8(v).map_err(|_| Fail::Parse(i.min(255) as u8))
    }

    /// A decimal integer parameter.
    pub(crate) fn int(&self, i: usize) -> Result<i64, Fail> {
        let idx = i.min(255) as u8;
        let p = self.get(i)?;
        if self.strict && p.quoted {
            return Err(Fail::Type(idx));
        }
        let s = std::str::from_utf8(&p.value).map_err(|_| Fail::Parse(idx))?;
        let s = s.trim();
        if s.is_empty() {
            return Err(Fail::Parse(idx));
        }
        s.parse::<i64>().map_err(|_| Fail::Parse(idx))
    }

    /// An integer within `lo..=hi`.
    pub(crate) fn int_in(&self, i: usize, lo: i64, hi: i64) -> Result<i64, Fail> {
        let v = self.int(i)?;
        if v < lo || v > hi {
            return Err(Fail::Invalid(i.min(255) as u8));
        }
        Ok(v)
    }

    /// An optional integer: `None` when absent or empty.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, Fail> {
        if self.absent(i) {
            Ok(None)
        } else {
            self.int(i).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(d: Dialect, s: &str) -> Vec<String> {
        Args::parse(d, s.as_bytes())
            .p
            .into_iter()
            .map(|p| {
                let mut v = String::from_utf8(p.value).unwrap();
                if p.malformed {
                    v.insert(0, '!');
                }
                v
            })
            .collect()
    }

    #[test]
    fn esp_escapes_and_unescaped_comma() {
        assert_eq!(
            values(Dialect::EspAt, r#"0,"a\,b\"c\\d",1"#),
            ["0", r#"a,b"c\d"#, "1"]
        );
        // An unescaped comma inside quotes cuts the string in two malformed pieces.
        assert_eq!(
            values(Dialect::EspAt, r#"0,"a,b",1"#),
            ["0", "!\"a", "!b\"", "1"]
        );
        let a = Args::parse(Dialect::EspAt, b"0,host");
        assert_eq!(a.str(1), Err(Fail::Type(1)));
        let a = Args::parse(Dialect::EspAt, br#""1883""#);
        assert_eq!(a.int(0), Err(Fail::Type(0)));
    }

    #[test]
    fn beken_tokenizer() {
        assert_eq!(
            values(Dialect::Beken, "0,test/abc,987654321,1,0"),
            ["0", "test/abc", "987654321", "1", "0"]
        );
        assert_eq!(values(Dialect::Beken, "a,,b"), ["a", "b"]);
        assert_eq!(
            values(Dialect::Beken, "good bye,\"good bye\""),
            ["good", "bye", "good bye"]
        );
    }

    #[test]
    fn combo_quotes() {
        assert_eq!(
            values(Dialect::AiThinker, r#"2,10,"a,b\"c",x"#),
            ["2", "10", "a,b\"c", "x"]
        );
        assert_eq!(values(Dialect::AiThinker, "3,8888"), ["3", "8888"]);
    }

    #[test]
    fn error_codes() {
        assert_eq!(Fail::Mqtt(0x6006).esp_code(), 0x010a_6006);
        assert_eq!(Fail::Unsupported.esp_code(), 0x0109_0000);
        assert_eq!(
            Fail::Count {
                expected: 4,
                given: 3
            }
            .esp_code(),
            0x0106_0403
        );
        assert_eq!(Fail::Mqtt(0x6043).w800_word(), "ERROR");
        assert_eq!(Fail::Mqtt(0x6041).w800_word(), "CMD PARSE ERR");
    }
}
