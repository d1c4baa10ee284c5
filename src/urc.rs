//! Typed unsolicited result codes (URCs): what a module says without being asked.
//!
//! [`Urc::parse_line`] and [`Urc::parse_data`] turn a frame into a typed value; a line no
//! parser knows becomes [`Urc::Line`] and an unknown data frame [`Urc::Data`], so nothing
//! is dropped. The client uses [`Urc::is_known_line`] to tell a URC that arrives in the
//! middle of a command's reply from the reply's own lines.

use crate::command::mqtt::{
    parse_conn_result, parse_pub_result, parse_pubraw_result, AsyncResult, MqttConnectedInfo,
};
use crate::framer::DataFrame;
use crate::parse::{number, params, unquote};
use core::fmt;

/// An incoming MQTT message (`+MQTTSUBRECV` on ESP-AT, W800 and Beken;
/// `+EVENT:MQTT_SUB` on Combo-AT).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MqttMessage<'a> {
    /// The link id (`None` on Combo-AT, which has one link).
    pub link: Option<u8>,
    /// The topic, quotes removed.
    pub topic: &'a [u8],
    /// The payload bytes received.
    pub data: &'a [u8],
    /// The payload length the module declared.
    pub len: usize,
    /// The payload did not fit a buffer: `data` holds its start only.
    pub truncated: bool,
}

impl fmt::Debug for MqttMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttMessage")
            .field("link", &self.link)
            .field("topic", &crate::framer::Ascii(self.topic))
            .field("len", &self.len)
            .field("received", &self.data.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// Data that arrived on a socket (`+IPD,…:<data>` on ESP-AT, `+EVENT:SocketDown,…,<data>`
/// in Combo-AT's active receive mode).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SocketData<'a> {
    /// The link / connection id (`None` for ESP-AT's single-connection `+IPD,<len>:`).
    pub link: Option<u8>,
    /// The bytes received.
    pub data: &'a [u8],
    /// The length the module declared.
    pub len: usize,
    /// The data did not fit a buffer: `data` holds its start only.
    pub truncated: bool,
}

impl fmt::Debug for SocketData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketData")
            .field("link", &self.link)
            .field("len", &self.len)
            .field("received", &self.data.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// An unsolicited result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Urc<'a> {
    /// Joined the access point (`WIFI CONNECTED`, `+EVENT:WIFI_CONNECT`).
    WifiConnected,
    /// Got an IP address, also on DHCP renewal (`WIFI GOT IP`, `+EVENT:WIFI_GOT_IP`).
    WifiGotIp,
    /// Left or lost the access point (`WIFI DISCONNECT`, `+EVENT:WIFI_DISCONNECT`).
    WifiDisconnected,
    /// `+MQTTCONNECTED:<LinkID>,<scheme>,<"host">,<port>,<"path">,<reconnect>`: the MQTT
    /// link is up (port and host quoted or not).
    MqttConnected(MqttConnectedInfo<'a>),
    /// `+MQTTDISCONNECTED:<link>`: the MQTT link is down.
    MqttDisconnected {
        /// The link id.
        link: u8,
    },
    /// An incoming MQTT message.
    MqttMessage(MqttMessage<'a>),
    /// `+MQTTPUB:OK` / `+MQTTPUB:FAIL` arriving outside a publish.
    MqttPublished {
        /// `OK` (true) or `FAIL`.
        ok: bool,
    },
    /// Beken's `+MQTTPUB:ERROR,<n>` arriving outside a publish.
    MqttPublishError {
        /// The firmware's error number.
        code: Option<i32>,
    },
    /// Beken's result of a connection attempt: `+MQTTCONN:OK` / `+MQTTCONN:ERROR,<n>`.
    MqttConnResult(AsyncResult),
    /// Beken's result of a raw publish: `+MQTTPUBRAW:OK` / `+MQTTPUBRAW:ERROR,<n>`.
    MqttPubRawResult(AsyncResult),
    /// `<link>,CONNECT`: a socket connected.
    SocketConnected {
        /// The link id.
        link: u8,
    },
    /// `<link>,CLOSED`, `CLOSED` or Combo-AT's `+EVENT:SocketDissconnect,<id>`.
    SocketClosed {
        /// The link id (0 for the single-connection `CLOSED`).
        link: u8,
    },
    /// Data that arrived on a socket.
    SocketData(SocketData<'a>),
    /// Passive receive: `len` bytes wait in the module for a read
    /// (`+IPD,<link>,<len>`, `+EVENT:SocketDown,<link>,<len>`).
    SocketDataAvailable {
        /// The link id.
        link: u8,
        /// Bytes waiting.
        len: usize,
    },
    /// A data frame no parser claims (raw).
    Data(DataFrame<'a>),
    /// A line no parser claims (raw, without line end).
    Line(&'a [u8]),
}

fn link(s: &[u8]) -> Option<u8> {
    number(s)
}

/// What a line of [`LINES`] is.
#[derive(Clone, Copy)]
enum Kind {
    WifiConnected,
    WifiGotIp,
    WifiDisconnected,
    PubOk,
    PubFail,
    PubError,
    ConnResult,
    PubRawResult,
    Closed,
    Connected,
    Disconnected,
    SocketClosed,
    DataAvailable,
}

/// The typed lines, in the order they are tried: (text, whole line (or prefix), kind).
/// Lines ending in `,CONNECT` / `,CLOSED` are checked after these.
const LINES: [(&[u8], bool, Kind); 20] = [
    (b"WIFI CONNECTED", true, Kind::WifiConnected),
    (b"+EVENT:WIFI_CONNECT", true, Kind::WifiConnected),
    (b"WIFI GOT IP", true, Kind::WifiGotIp),
    (b"+EVENT:WIFI_GOT_IP", true, Kind::WifiGotIp),
    (b"WIFI DISCONNECT", true, Kind::WifiDisconnected),
    (b"+EVENT:WIFI_DISCONNECT", true, Kind::WifiDisconnected),
    (b"+EVENT:WIFI DISCONNECT", true, Kind::WifiDisconnected),
    (b"+MQTTPUB:OK", true, Kind::PubOk),
    (b"+MQTTPUB:FAIL", true, Kind::PubFail),
    (b"CLOSED", true, Kind::Closed),
    (b"+MQTTPUB:ERROR", false, Kind::PubError),
    (b"+MQTTCONN:OK", false, Kind::ConnResult),
    (b"+MQTTCONN:ERROR", false, Kind::ConnResult),
    (b"+MQTTPUBRAW:", false, Kind::PubRawResult),
    (b"+MQTTCONNECTED:", false, Kind::Connected),
    (b"+MQTTDISCONNECTED:", false, Kind::Disconnected),
    (b"+EVENT:SocketDissconnect,", false, Kind::SocketClosed),
    (b"+EVENT:SocketDisconnect,", false, Kind::SocketClosed),
    (b"+IPD,", false, Kind::DataAvailable),
    (b"+EVENT:SocketDown,", false, Kind::DataAvailable),
];

impl<'a> Urc<'a> {
    /// Types a line. Never fails: an unknown line is [`Urc::Line`].
    pub fn parse_line(line: &'a [u8]) -> Urc<'a> {
        Self::known_line(line).unwrap_or(Urc::Line(line))
    }

    /// True when `line` is a URC this module knows.
    pub fn is_known_line(line: &[u8]) -> bool {
        Urc::known_line(line).is_some()
    }

    fn known_line(line: &'a [u8]) -> Option<Urc<'a>> {
        // Every Combo-AT `+EVENT:` line is unsolicited, typed here or not (SocketSeed,
        // SocketReconnect, SocketAutoDel, BLE, ids above 255: see `command::socket`).
        Self::typed_line(line).or_else(|| line.starts_with(b"+EVENT:").then_some(Urc::Line(line)))
    }

    fn typed_line(line: &'a [u8]) -> Option<Urc<'a>> {
        // The first entry that matches decides (a prefix whose parameters do not parse
        // makes the line unknown); a table keeps this small in flash.
        let Some(&(pattern, exact, kind)) = LINES.iter().find(|(p, exact, _)| {
            if *exact {
                line == *p
            } else {
                line.starts_with(p)
            }
        }) else {
            return if let Some(l) = line.strip_suffix(b",CONNECT") {
                Some(Urc::SocketConnected { link: link(l)? })
            } else if let Some(l) = line.strip_suffix(b",CLOSED") {
                Some(Urc::SocketClosed { link: link(l)? })
            } else {
                None
            };
        };
        let rest = if exact {
            &[][..]
        } else {
            &line[pattern.len()..]
        };
        Some(match kind {
            Kind::WifiConnected => Urc::WifiConnected,
            Kind::WifiGotIp => Urc::WifiGotIp,
            Kind::WifiDisconnected => Urc::WifiDisconnected,
            Kind::PubOk => Urc::MqttPublished { ok: true },
            Kind::PubFail => Urc::MqttPublished { ok: false },
            Kind::PubError => Urc::MqttPublishError {
                code: match parse_pub_result(line)? {
                    AsyncResult::Error { code } => code,
                    AsyncResult::Ok => return None,
                },
            },
            Kind::ConnResult => Urc::MqttConnResult(parse_conn_result(line)?),
            Kind::PubRawResult => Urc::MqttPubRawResult(parse_pubraw_result(line)?),
            Kind::Closed => Urc::SocketClosed { link: 0 },
            Kind::Connected => Urc::MqttConnected(MqttConnectedInfo::parse(line)?),
            Kind::Disconnected => Urc::MqttDisconnected {
                link: link(params(rest).next()?)?,
            },
            Kind::SocketClosed => Urc::SocketClosed { link: link(rest)? },
            Kind::DataAvailable => {
                let mut p = params(rest);
                let link = link(p.next()?)?;
                let len = number(p.next()?)?;
                if p.next().is_some() {
                    return None;
                }
                Urc::SocketDataAvailable { link, len }
            }
        })
    }

    /// Types a data frame. Never fails: an unknown one is [`Urc::Data`].
    pub fn parse_data(frame: DataFrame<'a>) -> Urc<'a> {
        Self::known_data(frame).unwrap_or(Urc::Data(frame))
    }

    fn known_data(f: DataFrame<'a>) -> Option<Urc<'a>> {
        let h = f.header;
        if let Some(rest) = h.strip_prefix(b"+MQTTSUBRECV:") {
            // `<link>,"<topic>",<len>`: the topic is printed unescaped and may hold `"` and
            // `,`, so it is everything between the first and the last comma.
            let first = rest.iter().position(|&b| b == b',')?;
            let last = rest.iter().rposition(|&b| b == b',')?;
            if last <= first {
                return None;
            }
            Some(Urc::MqttMessage(MqttMessage {
                link: Some(link(&rest[..first])?),
                topic: unquote(&rest[first + 1..last]),
                data: f.data,
                len: f.len,
                truncated: f.truncated,
            }))
        } else if let Some(rest) = h.strip_prefix(b"+EVENT:MQTT_SUB,") {
            // The topic may hold commas: the length is the last field.
            let comma = rest.iter().rposition(|&b| b == b',')?;
            Some(Urc::MqttMessage(MqttMessage {
                link: None,
                topic: unquote(&rest[..comma]),
                data: f.data,
                len: f.len,
                truncated: f.truncated,
            }))
        } else if let Some(rest) = h.strip_prefix(b"+IPD,") {
            // `+IPD,<len>`, `+IPD,<id>,<len>`, `+IPD,<len>,<ip>,<port>`, `+IPD,<id>,<len>,<ip>,<port>`
            let link = match params(rest).count() {
                2 | 4 => Some(link(params(rest).next()?)?),
                _ => None,
            };
            Some(Urc::SocketData(SocketData {
                link,
                data: f.data,
                len: f.len,
                truncated: f.truncated,
            }))
        } else if let Some(rest) = h.strip_prefix(b"+EVENT:SocketDown,") {
            Some(Urc::SocketData(SocketData {
                link: Some(link(params(rest).next()?)?),
                data: f.data,
                len: f.len,
                truncated: f.truncated,
            }))
        } else {
            None
        }
    }
}
