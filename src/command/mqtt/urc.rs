//! Typed fields of the MQTT lines that arrive unasked.

use super::{flag, Scheme};
use crate::dialect::Dialect;
use crate::framer::{trim, Ascii};
use crate::parse::{number, params, unquote};
use core::fmt;

/// The fields of `+MQTTCONNECTED:<LinkID>,<scheme>,<"host">,<port>,<"path">,<reconnect>`,
/// printed "when an MQTT connection is established" (ESP-AT, W800).
///
/// Numbers and strings are accepted quoted or not (real modules send the port as
/// `"1883"`); a line without the path is accepted too. `host` and `path` borrow the line:
/// quotes are removed, backslash escapes are left as the module sent them.
///
/// ```
/// use at_wifi::command::mqtt::MqttConnectedInfo;
/// let i = MqttConnectedInfo::parse(b"+MQTTCONNECTED:0,1,\"broker\",\"1883\",\"\",1").unwrap();
/// assert_eq!((i.host, i.port, i.reconnect), (&b"broker"[..], 1883, true));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MqttConnectedInfo<'a> {
    /// `<LinkID>`.
    pub link: u8,
    /// `<scheme>`, as numbered by the dialect (see [`MqttConnectedInfo::scheme`]).
    pub scheme: u8,
    /// `<host>`.
    pub host: &'a [u8],
    /// `<port>`.
    pub port: u16,
    /// `<path>` (empty when absent).
    pub path: &'a [u8],
    /// `<reconnect>`.
    pub reconnect: bool,
}

impl<'a> MqttConnectedInfo<'a> {
    /// Parses a whole `+MQTTCONNECTED:…` line.
    pub fn parse(line: &'a [u8]) -> Option<Self> {
        let rest = trim(line).strip_prefix(b"+MQTTCONNECTED:")?;
        let comma = rest.iter().position(|&b| b == b',')?;
        let (link, params) = rest.split_at(comma);
        Self::from_params(number(link)?, params.get(1..)?)
    }

    /// Parses what follows the link id, as [`Urc::MqttConnected`](crate::Urc::MqttConnected)
    /// carries it: `<scheme>,<"host">,<port>,<"path">,<reconnect>`.
    pub fn from_params(link: u8, rest: &'a [u8]) -> Option<Self> {
        let mut f: heapless::Vec<&[u8], 5> = heapless::Vec::new();
        for field in params(rest) {
            f.push(field).ok()?;
        }
        let (scheme, host, port, path, reconnect) = match f.as_slice() {
            [scheme, host, port, path, reconnect] => (scheme, host, port, *path, reconnect),
            [scheme, host, port, reconnect] => (scheme, host, port, &b""[..], reconnect),
            _ => return None,
        };
        Some(MqttConnectedInfo {
            link,
            scheme: number(scheme)?,
            host: unquote(host),
            port: number(port)?,
            path: unquote(path),
            reconnect: flag(reconnect)?,
        })
    }

    /// The scheme, read with `dialect`'s numbering.
    pub fn scheme(&self, dialect: Dialect) -> Option<Scheme> {
        Scheme::from_code(dialect, self.scheme)
    }
}

impl fmt::Debug for MqttConnectedInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConnectedInfo")
            .field("link", &self.link)
            .field("scheme", &self.scheme)
            .field("host", &Ascii(self.host))
            .field("port", &self.port)
            .field("path", &Ascii(self.path))
            .field("reconnect", &self.reconnect)
            .finish()
    }
}

/// A result a module prints after the command's own `OK` (Beken's public firmware).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AsyncResult {
    /// `…:OK`.
    Ok,
    /// `…:ERROR,<n>`, `…:ERROR` or `…:FAIL`, with the number when there is one.
    Error {
        /// The firmware's error number.
        code: Option<i32>,
    },
}

fn result_after(line: &[u8], prefix: &[u8]) -> Option<AsyncResult> {
    let rest = trim(line).strip_prefix(prefix)?;
    if rest == b"OK" {
        return Some(AsyncResult::Ok);
    }
    if rest == b"FAIL" {
        return Some(AsyncResult::Error { code: None });
    }
    let after = rest.strip_prefix(b"ERROR")?;
    match after {
        [] => Some(AsyncResult::Error { code: None }),
        [b',', code @ ..] => Some(AsyncResult::Error {
            code: Some(number(code)?),
        }),
        _ => None,
    }
}

/// Beken's result of `AT+MQTTCONN=`: `+MQTTCONN:OK` or `+MQTTCONN:ERROR,<n>`, printed
/// after the command's `OK` when the connection attempt ends. `None` for other lines
/// (including `AT+MQTTCONN?` replies).
///
/// ```
/// use at_wifi::command::mqtt::{parse_conn_result, AsyncResult};
/// assert_eq!(parse_conn_result(b"+MQTTCONN:OK"), Some(AsyncResult::Ok));
/// assert_eq!(parse_conn_result(b"+MQTTCONN:ERROR,-3"), Some(AsyncResult::Error { code: Some(-3) }));
/// assert_eq!(parse_conn_result(b"+MQTTCONN:0,4,1,\"h\",1883,\"\",1"), None);
/// ```
pub fn parse_conn_result(line: &[u8]) -> Option<AsyncResult> {
    result_after(line, b"+MQTTCONN:")
}

/// Beken's result of `AT+MQTTPUBRAW`: `+MQTTPUBRAW:OK` or `+MQTTPUBRAW:ERROR,<n>`.
pub fn parse_pubraw_result(line: &[u8]) -> Option<AsyncResult> {
    result_after(line, b"+MQTTPUBRAW:")
}

/// The result of a publish: `+MQTTPUB:OK`, `+MQTTPUB:FAIL` (ESP-AT, W800) or Beken's
/// `+MQTTPUB:ERROR,<n>`.
pub fn parse_pub_result(line: &[u8]) -> Option<AsyncResult> {
    result_after(line, b"+MQTTPUB:")
}
