//! Every difference between the supported AT firmwares, as data.
//!
//! The framer, the client and the command layer never test "which module is this" with
//! scattered `if`s: they read the [`DialectSpec`] of the [`Dialect`] the client was built
//! with. Adding a firmware means adding a table here.
//!
//! | dialect | firmware | documents |
//! |---|---|---|
//! | [`Dialect::EspAt`] | Espressif ESP-AT (ESP32, ESP32-C3, ESP8266 v2+) | ESP-AT MQTT AT commands |
//! | [`Dialect::W800`] | WinnerMicro W800 AT | W800 MQTT AT command set |
//! | [`Dialect::Beken`] | Beken BK72xx (BK7238) AT | Beken MQTT AT commands |
//! | [`Dialect::AiThinker`] | Ai-Thinker Combo-AT (Ai-WB2 / BL602, BW16) | Combo-AT TCP/IP set |

use core::fmt;
use core::str::FromStr;

/// The AT firmware a module runs.
///
/// ```
/// use at_wifi::Dialect;
/// let d: Dialect = "w800".parse().unwrap();
/// assert_eq!(d, Dialect::W800);
/// assert_eq!(d.name(), "w800");
/// assert!("esp8266-1.7".parse::<Dialect>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Dialect {
    /// Espressif ESP-AT v2.x and later (ESP32 family, ESP8266 with ESP-AT v2).
    #[default]
    EspAt,
    /// WinnerMicro W800 AT firmware.
    W800,
    /// Beken BK72xx AT firmware (BK7238 and relatives).
    Beken,
    /// Ai-Thinker Combo-AT (Ai-WB2 / BL602, BW16).
    AiThinker,
}

/// How a data frame announces the length of the raw bytes that follow its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LenField {
    /// Fields after the prefix are separated by `,` (commas inside `"…"` do not count);
    /// field number `index` (0-based) is the decimal length and the byte `sep` right after
    /// it starts the data.
    Field {
        /// 0-based index of the length field after the prefix.
        index: u8,
        /// The byte that ends the length field and starts the data (`,` or `:`).
        sep: u8,
    },
    /// ESP-AT `+IPD`: `+IPD,<len>:`, `+IPD,<id>,<len>:`, `+IPD,<len>,<ip>,<port>:` or
    /// `+IPD,<id>,<len>,<ip>,<port>:`; the data starts after the `:` that ends the header.
    /// The passive form `+IPD,<id>,<len>` (line end, no `:`) stays a plain line.
    Ipd,
}

/// The start of a frame whose payload is read by declared byte count, not by line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHeader {
    /// The exact bytes a header starts with, including the separator after the name.
    pub prefix: &'static [u8],
    /// Where the length is.
    pub len: LenField,
}

/// The data table of one firmware dialect.
#[derive(Debug)]
pub struct DialectSpec {
    /// Short name, as accepted by [`Dialect::from_str`].
    pub name: &'static str,
    /// Whole lines that end a command with failure. `OK` is the one success word of every
    /// dialect; send results such as `SEND OK` / `SEND FAIL` are ordinary lines that the
    /// client interprets, since one send can produce two of them.
    pub error_words: &'static [&'static [u8]],
    /// Line prefixes that mean "busy, command refused or still running".
    pub busy_prefixes: &'static [&'static [u8]],
    /// Substrings that mean busy anywhere in a line (Combo-AT's "cmd is running").
    pub busy_contains: &'static [&'static [u8]],
    /// The prefix of an error-code line that attaches to the next final result
    /// (`ERR CODE:0x…` on ESP-AT after `AT+SYSLOG=1`).
    pub error_code_prefix: Option<&'static [u8]>,
    /// Frames whose payload is read by byte count.
    pub data_headers: &'static [DataHeader],
    /// Lines that end a data transfer with success, after the raw bytes were written
    /// (besides `OK`).
    pub send_ok: &'static [&'static [u8]],
    /// Line prefixes that end a data transfer with failure.
    pub send_fail: &'static [&'static [u8]],
    /// Bytes written after every command line.
    pub line_end: &'static [u8],
    /// Longest command line the firmware accepts, line end included.
    pub max_line: usize,
}

const SUBRECV: DataHeader = DataHeader {
    prefix: b"+MQTTSUBRECV:",
    len: LenField::Field {
        index: 2,
        sep: b',',
    },
};
const IPD: DataHeader = DataHeader {
    prefix: b"+IPD,",
    len: LenField::Ipd,
};

static ESP_AT: DialectSpec = DialectSpec {
    name: "esp-at",
    error_words: &[b"ERROR"],
    busy_prefixes: &[b"busy"],
    busy_contains: &[],
    error_code_prefix: Some(b"ERR CODE:"),
    data_headers: &[
        SUBRECV,
        IPD,
        DataHeader {
            prefix: b"+CIPRECVDATA:",
            len: LenField::Field {
                index: 0,
                sep: b',',
            },
        },
        DataHeader {
            prefix: b"+CIPRECVDATA,",
            len: LenField::Field {
                index: 0,
                sep: b':',
            },
        },
    ],
    send_ok: &[b"SEND OK", b"+MQTTPUB:OK"],
    send_fail: &[b"SEND FAIL", b"+MQTTPUB:FAIL"],
    line_end: b"\r\n",
    max_line: 256,
};

static W800: DialectSpec = DialectSpec {
    name: "w800",
    error_words: &[b"ERROR", b"CMD FORMAT ERR", b"CMD PARSE ERR"],
    busy_prefixes: &[b"busy"],
    busy_contains: &[],
    error_code_prefix: Some(b"ERR CODE:"),
    data_headers: &[SUBRECV, IPD],
    send_ok: &[b"SEND OK", b"+MQTTPUB:OK"],
    send_fail: &[b"SEND FAIL", b"+MQTTPUB:FAIL"],
    line_end: b"\r\n",
    max_line: 256,
};

static BEKEN: DialectSpec = DialectSpec {
    name: "beken",
    error_words: &[b"ERROR"],
    busy_prefixes: &[b"busy"],
    busy_contains: &[],
    error_code_prefix: Some(b"ERR CODE:"),
    data_headers: &[SUBRECV, IPD],
    send_ok: &[b"+MQTTPUBRAW:OK", b"+MQTTPUB:OK"],
    send_fail: &[b"+MQTTPUBRAW:ERROR", b"+MQTTPUB:ERROR", b"+MQTTPUB:FAIL"],
    line_end: b"\r\n",
    max_line: 256,
};

static AI_THINKER: DialectSpec = DialectSpec {
    name: "ai-thinker",
    error_words: &[b"ERROR"],
    busy_prefixes: &[b"busy"],
    busy_contains: &[b"is running", b"[Busy]", b"Cmd running"],
    error_code_prefix: None,
    data_headers: &[
        DataHeader {
            prefix: b"+SOCKETREAD,",
            len: LenField::Field {
                index: 1,
                sep: b',',
            },
        },
        DataHeader {
            prefix: b"+EVENT:SocketDown,",
            len: LenField::Field {
                index: 1,
                sep: b',',
            },
        },
        DataHeader {
            prefix: b"+SSLCRET:",
            len: LenField::Field {
                index: 1,
                sep: b',',
            },
        },
        DataHeader {
            prefix: b"+EVENT:MQTT_SUB,",
            len: LenField::Field {
                index: 1,
                sep: b',',
            },
        },
    ],
    send_ok: &[b"SEND OK"],
    send_fail: &[b"SEND FAIL"],
    line_end: b"\r\n",
    max_line: 256,
};

impl Dialect {
    /// Every supported dialect.
    pub const ALL: [Dialect; 4] = [
        Dialect::EspAt,
        Dialect::W800,
        Dialect::Beken,
        Dialect::AiThinker,
    ];

    /// The data table of this dialect.
    pub const fn spec(self) -> &'static DialectSpec {
        match self {
            Dialect::EspAt => &ESP_AT,
            Dialect::W800 => &W800,
            Dialect::Beken => &BEKEN,
            Dialect::AiThinker => &AI_THINKER,
        }
    }

    /// The short name: `esp-at`, `w800`, `beken` or `ai-thinker`.
    pub const fn name(self) -> &'static str {
        self.spec().name
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given to [`Dialect::from_str`] is not one of `esp-at`, `w800`, `beken`,
/// `ai-thinker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownDialect;

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown dialect (expected esp-at, w800, beken or ai-thinker)")
    }
}

impl core::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s))
            .ok_or(UnknownDialect)
    }
}
