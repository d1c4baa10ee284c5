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
        Some(match line {
            b"WIFI CONNECTED" | b"+EVENT:WIFI_CONNECT" => Urc::WifiConnected,
            b"WIFI GOT IP" | b"+EVENT:WIFI_GOT_IP" => Urc::WifiGotIp,
            b"WIFI DISCONNECT" | b"+EVENT:WIFI_DISCONNECT" | b"+EVENT:WIFI DISCONNECT" => {
                Urc::WifiDisconnected
            }
            b"+MQTTPUB:OK" => Urc::MqttPublished { ok: true },
            b"+MQTTPUB:FAIL" => Urc::MqttPublished { ok: false },
            _ if line.starts_with(b"+MQTTPUB:ERROR") => Urc::MqttPublishError {
                code: match parse_pub_result(line)? {
                    AsyncResult::Error { code } => code,
                    AsyncResult::Ok => return None,
                },
            },
            _ if line.starts_with(b"+MQTTCONN:OK") || line.starts_with(b"+MQTTCONN:ERROR") => {
                Urc::MqttConnResult(parse_conn_result(line)?)
            }
            _ if line.starts_with(b"+MQTTPUBRAW:") => {
                Urc::MqttPubRawResult(parse_pubraw_result(line)?)
            }
            b"CLOSED" => Urc::SocketClosed { link: 0 },
            _ => {
                if line.starts_with(b"+MQTTCONNECTED:") {
                    Urc::MqttConnected(MqttConnectedInfo::parse(line)?)
                } else if let Some(rest) = line.strip_prefix(b"+MQTTDISCONNECTED:") {
                    Urc::MqttDisconnected {
                        link: link(params(rest).next()?)?,
                    }
                } else if let Some(rest) = line
                    .strip_prefix(b"+EVENT:SocketDissconnect,")
                    .or_else(|| line.strip_prefix(b"+EVENT:SocketDisconnect,"))
                {
                    Urc::SocketClosed { link: link(rest)? }
                } else if let Some(rest) = line
                    .strip_prefix(b"+IPD,")
                    .or_else(|| line.strip_prefix(b"+EVENT:SocketDown,"))
                {
                    let mut p = params(rest);
                    let link = link(p.next()?)?;
                    let len = number(p.next()?)?;
                    if p.next().is_some() {
                        return None;
                    }
                    Urc::SocketDataAvailable { link, len }
                } else if let Some(l) = line.strip_suffix(b",CONNECT") {
                    Urc::SocketConnected { link: link(l)? }
                } else if let Some(l) = line.strip_suffix(b",CLOSED") {
                    Urc::SocketClosed { link: link(l)? }
                } else {
                    return None;
                }
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
