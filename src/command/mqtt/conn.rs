//! `AT+MQTTCONN` (connect, query) and `AT+MQTTCLEAN`.

use super::urc::parse_conn_result;
use super::{
    after, flag, host_max_len, lines, mqtt_dialect, ok_reply, too_long, ConnState, LinkId, Scheme,
    HOST_MAX_LEN, PATH_MAX_LEN,
};
use crate::command::text::{decode, AtStr};
use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::framer::{trim, Ascii};
use crate::parse::{number, params, unquote};
use atat::atat_derive::AtatCmd;
use core::fmt;

/// `AT+MQTTCONN=<LinkID>,<"host">,<port>,<reconnect>`: connects to the broker. Replies `OK`.
///
/// Limits (checked by [`MqttConn::new`]):
/// - `<host>`: "MQTT broker domain name, maximum length: 128 bytes, does not support
///   setting an empty string" (W800; ESP-AT: 128 bytes, [`HOST_MAX_LEN`]); Beken: "domain
///   name or IP, maximum length: 64 bytes" ([`BEKEN_HOST_MAX_LEN`](super::BEKEN_HOST_MAX_LEN)),
///   sent unquoted as in its example `AT+MQTTCONN=0,192.168.0.102,8883,1`.
/// - `<port>`: "maximum port: 65535"; 0 is refused (nothing listens there).
/// - `<reconnect>`: "0: MQTT does not automatically reconnect … 1: MQTT automatic
///   reconnection will consume more memory resources."
///
/// Timeout: [`CONNECT_TIMEOUT_MS`](super::CONNECT_TIMEOUT_MS) (30 s), since "AT+MQTTCONN may
/// need more time" and over TLS "the timeout of each packet is 10 s".
///
/// ESP-AT and W800 print `+MQTTCONNECTED:…` when the link is up (see
/// [`MqttConnectedInfo`](super::MqttConnectedInfo)). Beken's public firmware answers `OK`
/// at once and later `+MQTTCONN:OK` or `+MQTTCONN:ERROR,<n>` (see
/// [`parse_conn_result`](super::parse_conn_result)); those lines arrive as events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCONN",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 30000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttConn<'a> {
    link: LinkId,
    host: AtStr<'a>,
    port: u16,
    reconnect: u8,
}

impl<'a> MqttConn<'a> {
    /// Connects to `host`:`port`, reconnecting automatically when `reconnect`.
    ///
    /// Errors: [`Error::Invalid`] naming `host` or `port`; [`Error::Unsupported`] on
    /// Ai-Thinker.
    pub fn new(dialect: Dialect, host: &'a str, port: u16, reconnect: bool) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        if host.is_empty() {
            return Err(Error::Invalid {
                field: "host",
                reason: "empty (\"does not support setting an empty string\")",
            });
        }
        let reason = if dialect == Dialect::Beken {
            "longer than 64 bytes (Beken)"
        } else {
            "longer than 128 bytes"
        };
        too_long("host", host.len(), host_max_len(dialect), reason)?;
        let host = AtStr::new(dialect, "host", host)?;
        if port == 0 {
            return Err(Error::Invalid {
                field: "port",
                reason: "0 is not a broker port",
            });
        }
        Ok(MqttConn {
            link: LinkId::ZERO,
            host,
            port,
            reconnect: u8::from(reconnect),
        })
    }
}

/// `AT+MQTTCONN?`: the state of the link and the broker it is for, parsed into
/// [`MqttConnStatus`]. Every MQTT dialect has it.
///
/// Reply forms accepted:
/// - ESP-AT, W800: `+MQTTCONN:<LinkID>,<state>,<scheme>,<"host">,<port>,<"path">,<reconnect>`
///   (the documents print `<scheme><"host">` without the comma; that form is accepted
///   too), numbers and strings quoted or not (real modules send `"1883"`).
/// - Beken's document: `+MQTTCONN:<LinkID>,<state>,<scheme>,<"host">,<port>,<reconnect>`
///   with `<state>` `connected` / `disconnect`.
/// - Beken's public firmware: `+MQTTCONNSTATE:<state>,<command_timeout>,<keepalive>,<clean_session>,<reconnect>`.
/// - `OK` alone: nothing configured ([`ConnState::NotInitialized`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCONN?",
    MqttConnStatus,
    parse = MqttConnStatus::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct MqttConnQuery;

impl MqttConnQuery {
    /// The query; [`Error::Unsupported`] on Ai-Thinker.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        Ok(MqttConnQuery)
    }
}

/// The reply to [`MqttConnQuery`]. Strings are unquoted and unescaped; fields a reply
/// form lacks are left empty / 0.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MqttConnStatus {
    /// `<LinkID>`.
    pub link: u8,
    /// `<state>`.
    pub state: ConnState,
    /// `<scheme>`, as numbered by the dialect (see [`MqttConnStatus::scheme`]).
    pub scheme: u8,
    /// `<host>`.
    pub host: heapless::Vec<u8, HOST_MAX_LEN>,
    /// `<port>` (0 when the module printed none).
    pub port: u16,
    /// `<path>` (empty on Beken).
    pub path: heapless::Vec<u8, PATH_MAX_LEN>,
    /// `<reconnect>`.
    pub reconnect: bool,
}

impl atat::AtatResp for MqttConnStatus {}

fn port(field: &[u8]) -> Option<u16> {
    let f = unquote(trim(field));
    if f.is_empty() {
        Some(0)
    } else {
        number(f)
    }
}

impl MqttConnStatus {
    /// The scheme, read with `dialect`'s numbering.
    pub fn scheme(&self, dialect: Dialect) -> Option<Scheme> {
        Scheme::from_code(dialect, self.scheme)
    }

    /// Parses the reply lines (see [`MqttConnQuery`] for the forms). Beken's
    /// `+MQTTCONN:OK` / `+MQTTCONN:ERROR,<n>` and unknown lines are skipped.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        for line in lines(reply) {
            if let Some(rest) = after(line, b"+MQTTCONN:") {
                if parse_conn_result(line).is_some() {
                    continue;
                }
                return Self::from_params(rest).ok_or(Error::Parse);
            }
            if let Some(rest) = after(line, b"+MQTTCONNSTATE:") {
                return Self::from_beken_state(rest).ok_or(Error::Parse);
            }
        }
        Ok(MqttConnStatus::default())
    }

    fn from_params(rest: &[u8]) -> Option<Self> {
        let mut f: heapless::Vec<&[u8], 7> = heapless::Vec::new();
        for (i, field) in params(rest).enumerate() {
            // The documents' `<scheme><"host">`: split `1"host"` at the quote.
            if i == 2 {
                if let Some(q) = field.iter().position(|&b| b == b'"').filter(|&q| q > 0) {
                    let (scheme, host) = field.split_at(q);
                    f.push(trim(scheme)).ok()?;
                    f.push(host).ok()?;
                    continue;
                }
            }
            f.push(field).ok()?;
        }
        match f.as_slice() {
            [link, state, scheme, host, p, path, reconnect] => Some(MqttConnStatus {
                link: number(link)?,
                state: ConnState::parse(state)?,
                scheme: number(scheme)?,
                host: decode(host)?,
                port: port(p)?,
                path: decode(path)?,
                reconnect: flag(reconnect)?,
            }),
            [link, state, scheme, host, p, reconnect] => Some(MqttConnStatus {
                link: number(link)?,
                state: ConnState::parse(state)?,
                scheme: number(scheme)?,
                host: decode(host)?,
                port: port(p)?,
                path: heapless::Vec::new(),
                reconnect: flag(reconnect)?,
            }),
            _ => None,
        }
    }

    fn from_beken_state(rest: &[u8]) -> Option<Self> {
        let mut f: heapless::Vec<&[u8], 5> = heapless::Vec::new();
        for field in params(rest) {
            f.push(field).ok()?;
        }
        match f.as_slice() {
            [state, _timeout, _keepalive, _clean, reconnect] => Some(MqttConnStatus {
                state: ConnState::parse(state)?,
                reconnect: flag(reconnect)?,
                ..MqttConnStatus::default()
            }),
            _ => None,
        }
    }
}

impl fmt::Debug for MqttConnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConnStatus")
            .field("link", &self.link)
            .field("state", &self.state)
            .field("scheme", &self.scheme)
            .field("host", &Ascii(&self.host))
            .field("port", &self.port)
            .field("path", &Ascii(&self.path))
            .field("reconnect", &self.reconnect)
            .finish()
    }
}

/// `AT+MQTTCLEAN=<LinkID>`: "Disconnect MQTT connection and release resources". Replies
/// `OK`. Every MQTT dialect has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCLEAN",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct MqttClean {
    link: LinkId,
}

impl MqttClean {
    /// The command; [`Error::Unsupported`] on Ai-Thinker.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        Ok(MqttClean { link: LinkId::ZERO })
    }
}
