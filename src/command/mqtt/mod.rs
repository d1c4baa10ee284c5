//! MQTT commands (`AT+MQTT…`) of ESP-AT, W800 and Beken.
//!
//! One struct per command and form of the vendor documents. Every struct is made by a
//! constructor that takes the [`Dialect`] and checks each documented limit, returning
//! [`Error::Invalid`] (naming the parameter) or [`Error::Unsupported`] before anything is
//! written. String parameters are [`AtStr`](crate::command::text::AtStr)s: quoted and
//! escaped on ESP-AT and W800, unquoted on Beken (see [`text`](crate::command::text)).
//!
//! | command | ESP-AT | W800 | Beken | struct |
//! |---|---|---|---|---|
//! | `AT+MQTTUSERCFG=` | ✓ | ✓ | ✓ (scheme 1 TCP, 2 TLS-PSK) | [`MqttUserCfg`] |
//! | `AT+MQTTUSERCFG?` | – | ✓ | – | [`MqttUserCfgQuery`] → [`MqttUserCfgInfo`] |
//! | `AT+MQTTLONGCLIENTID=` | ✓ | ✓ | – | [`MqttLongClientId`] |
//! | `AT+MQTTLONGUSERNAME=` | ✓ | ✓ | – | [`MqttLongUsername`] |
//! | `AT+MQTTLONGPASSWORD=` | ✓ | ✓ | – | [`MqttLongPassword`] |
//! | `AT+MQTTCONNCFG=` | ✓ | ✓ | ✓ | [`MqttConnCfg`] |
//! | `AT+MQTTCONNCFG?` | – | ✓ | – | [`MqttConnCfgQuery`] → [`MqttConnCfgInfo`] |
//! | `AT+MQTTALPN=` | ✓ | ✓ | – | [`MqttAlpn`] |
//! | `AT+MQTTALPN?` | – | ✓ | – | [`MqttAlpnQuery`] → [`MqttAlpnList`] |
//! | `AT+MQTTSNI=` | ✓ | – | – | [`MqttSni`] |
//! | `AT+MQTTCONN=` | ✓ | ✓ | ✓ | [`MqttConn`] |
//! | `AT+MQTTCONN?` | ✓ | ✓ | ✓ | [`MqttConnQuery`] → [`MqttConnStatus`] |
//! | `AT+MQTTPUB=` | ✓ | ✓ | ✓ | [`MqttPub`] |
//! | `AT+MQTTPUBRAW=` | ✓ | ✓ | ✓ (≤ 512 bytes) | [`MqttPubRaw`] |
//! | `AT+MQTTSUB=` | ✓ | ✓ | ✓ | [`MqttSub`] → [`SubReply`] |
//! | `AT+MQTTSUB?` | ✓ | ✓ | ✓ | [`MqttSubQuery`] → [`MqttSubscriptions`] |
//! | `AT+MQTTUNSUB=` | ✓ | ✓ | ✓ | [`MqttUnsub`] → [`SubReply`] |
//! | `AT+MQTTCLEAN=` | ✓ | ✓ | ✓ | [`MqttClean`] |
//!
//! Ai-Thinker Combo-AT has a different MQTT set (`AT+MQTT=<key>,<value>`): every
//! constructor here answers [`Error::Unsupported`] for [`Dialect::AiThinker`].
//!
//! Commands that carry raw data after a `>` prompt ([`MqttLongClientId`],
//! [`MqttLongUsername`], [`MqttLongPassword`], [`MqttPubRaw`]) are sent with
//! [`Client::send_with_data`](crate::Client::send_with_data); all others with
//! [`Client::send`](crate::Client::send).
//!
//! Unsolicited lines: [`MqttConnectedInfo`] types the fields of `+MQTTCONNECTED`;
//! [`parse_conn_result`], [`parse_pub_result`] and [`parse_pubraw_result`] type Beken's
//! late results; [`SubNotice::classify`] types `ALREADY SUBSCRIBE`,
//! `ALREADY FULL SUBSCRIBE` and `NO UNSUBSCRIBE`.
//!
//! ```
//! use at_wifi::command::mqtt::{MqttConn, MqttPub, MqttUserCfg, QoS, Scheme};
//! use at_wifi::{Client, Dialect};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+MQTTUSERCFG=0,1,\"dev1\",\"\",\"\",0,0,\"\"\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTTCONN=0,\"broker.local\",1883,1\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTTPUB=0,\"t\",\"a\\,b\",1,0\r\n", b"\r\nOK\r\n");
//! # let clock = uart.clock();
//! let d = Dialect::EspAt;
//! let mut client: Client<_, _> = Client::new(uart, clock, d);
//! client.send(&MqttUserCfg::new(d, Scheme::Tcp, "dev1", "", "", "")?)?;
//! client.send(&MqttConn::new(d, "broker.local", 1883, true)?)?;
//! client.send(&MqttPub::new(d, "t", b"a,b", QoS::AtLeastOnce, false)?)?;
//! # Ok::<(), at_wifi::Error>(())
//! ```

mod config;
mod conn;
mod publish;
mod subscribe;
mod urc;

pub use config::{
    MqttAlpn, MqttAlpnList, MqttAlpnQuery, MqttConnCfg, MqttConnCfgInfo, MqttConnCfgQuery,
    MqttLongClientId, MqttLongPassword, MqttLongUsername, MqttSni, MqttUserCfg, MqttUserCfgInfo,
    MqttUserCfgQuery, Will,
};
pub use conn::{MqttClean, MqttConn, MqttConnQuery, MqttConnStatus};
pub use publish::{MqttPub, MqttPubRaw};
pub use subscribe::{
    MqttSub, MqttSubQuery, MqttSubscriptions, MqttUnsub, SubNotice, SubReply, Subscription,
};
pub use urc::{
    parse_conn_result, parse_pub_result, parse_pubraw_result, AsyncResult, MqttConnectedInfo,
};

use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use atat::serde_at::serde::{Serialize, Serializer};

// ---------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------

/// `<client_id>` of `AT+MQTTUSERCFG`: "maximum length: 256 bytes" (all three documents).
/// Longer ids go through [`MqttLongClientId`].
pub const CLIENT_ID_MAX_LEN: usize = 256;
/// `<username>` of `AT+MQTTUSERCFG`: "maximum length: 64 bytes" (all three documents).
/// Longer names go through [`MqttLongUsername`].
pub const USERNAME_MAX_LEN: usize = 64;
/// `<password>` of `AT+MQTTUSERCFG`: "maximum length: 64 bytes" (all three documents).
/// Longer passwords go through [`MqttLongPassword`].
pub const PASSWORD_MAX_LEN: usize = 64;
/// `<path>` (resource path): "maximum length: 32 bytes" (all three documents).
pub const PATH_MAX_LEN: usize = 32;
/// `<length>` of `AT+MQTTLONGCLIENTID` / `LONGUSERNAME` / `LONGPASSWORD`: "Scope: `[1,1024]`";
/// this is the upper bound.
pub const LONG_VALUE_MAX_LEN: usize = 1024;
/// `<keepalive>` of `AT+MQTTCONNCFG`, seconds: "Scope: `[0,7200]`. Default: 0, It will be
/// forcibly changed to 120 seconds."
pub const KEEPALIVE_MAX_S: u16 = 7200;
/// `<lwt_topic>`: "maximum length: 128 bytes" (all three documents).
pub const LWT_TOPIC_MAX_LEN: usize = 128;
/// `<lwt_msg>` on ESP-AT and W800: "maximum length: 128 bytes".
pub const LWT_MSG_MAX_LEN: usize = 128;
/// `<lwt_msg>` on Beken: "will message, maximum length: 64 bytes".
pub const BEKEN_LWT_MSG_MAX_LEN: usize = 64;
/// `<host>` of `AT+MQTTCONN` on ESP-AT and W800: "maximum length: 128 bytes"; W800 adds
/// "does not support setting an empty string".
pub const HOST_MAX_LEN: usize = 128;
/// `<host>` of `AT+MQTTCONN` on Beken: "MQTT broker domain name or IP, maximum length:
/// 64 bytes".
pub const BEKEN_HOST_MAX_LEN: usize = 64;
/// `<topic>`: "maximum length: 128 bytes, does not support setting an empty string"
/// (W800; ESP-AT and Beken give the same maximum). Applied to every topic parameter.
pub const TOPIC_MAX_LEN: usize = 128;
/// `<alpn_counts>` of `AT+MQTTALPN`: "Scope: `[0,5]`" (0 clears the configuration).
pub const ALPN_MAX_COUNT: usize = 5;
/// "You can subscribe to up to 10 topics" (W800); also the most lines
/// [`MqttSubQuery`] accepts.
pub const MAX_SUBSCRIPTIONS: usize = 10;
/// `<length>` of `AT+MQTTPUBRAW` on Beken: "MQTT message length, maximum length: 512
/// bytes". ESP-AT and W800 give no number ("limited by available memory").
pub const BEKEN_PUBRAW_MAX_LEN: usize = 512;

/// The longest `<host>` of `dialect`.
pub const fn host_max_len(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Beken => BEKEN_HOST_MAX_LEN,
        _ => HOST_MAX_LEN,
    }
}

/// The longest `<lwt_msg>` of `dialect`.
pub const fn lwt_msg_max_len(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Beken => BEKEN_LWT_MSG_MAX_LEN,
        _ => LWT_MSG_MAX_LEN,
    }
}

/// The longest `AT+MQTTPUBRAW` payload of `dialect`, when its document gives one.
pub const fn pubraw_max_len(dialect: Dialect) -> Option<usize> {
    match dialect {
        Dialect::Beken => Some(BEKEN_PUBRAW_MAX_LEN),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------

/// Timeout of the commands that only change or read the module's configuration
/// (`USERCFG`, `LONG*`, `CONNCFG`, `ALPN`, `SNI` and every query): 5 s.
pub const CONFIG_TIMEOUT_MS: u32 = 5_000;
/// Timeout of the commands that talk to the broker (`PUB`, `PUBRAW`, `SUB`, `UNSUB`,
/// `CLEAN`): 10 s. The documents: "In general, AT MQTT commands respond within 10 s …
/// if the router fails to access the Internet, the command AT+MQTTPUB will respond
/// within 10 s."
pub const NETWORK_TIMEOUT_MS: u32 = 10_000;
/// Timeout of `AT+MQTTCONN=`: 30 s. The documents: "AT+MQTTCONN may need more time due
/// to packet retransmission … If the AT+MQTTCONN is based on a TLS connection, the
/// timeout of each packet is 10 s, and the total timeout will be much longer depending on
/// the handshake packets count." 30 s covers the TCP connect, the TLS handshake and
/// CONNACK at 10 s each.
pub const CONNECT_TIMEOUT_MS: u32 = 30_000;

// ---------------------------------------------------------------------------------------
// Typed parameters
// ---------------------------------------------------------------------------------------

/// `<LinkID>`: "Currently only supports link ID 0" (all three documents), so
/// [`LinkId::ZERO`] is the only value. The constructors of this module always use it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkId(u8);

impl LinkId {
    /// Link 0, the only link the firmwares support.
    pub const ZERO: LinkId = LinkId(0);

    /// A link id; only 0 is accepted ([`Error::Invalid`] with field `link_id` otherwise).
    pub const fn new(id: u8) -> Result<LinkId, Error> {
        if id == 0 {
            Ok(LinkId(0))
        } else {
            Err(Error::Invalid {
                field: "link_id",
                reason: "only link ID 0 is supported",
            })
        }
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Serialize for LinkId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.0)
    }
}

/// `<scheme>`: the transport of the MQTT connection.
///
/// ESP-AT and W800 number ten schemes 1–10 (the variants in order, [`Scheme::Tcp`] = 1 …
/// [`Scheme::WssMutual`] = 10). Beken's document lists only "1: MQTT over TCP" and
/// "2: MQTT over TLS (PSK encryption)": its 2 is [`Scheme::TlsPsk`], not ESP-AT's
/// certificate-less TLS. Use [`Scheme::code`] for the number a dialect expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scheme {
    /// 1: MQTT over TCP (every dialect).
    Tcp,
    /// ESP-AT/W800 2: MQTT over TLS, certificate not verified.
    Tls,
    /// ESP-AT/W800 3: MQTT over TLS, verifying the server certificate.
    TlsVerifyServer,
    /// ESP-AT/W800 4: MQTT over TLS, providing a client certificate.
    TlsClientCert,
    /// ESP-AT/W800 5: MQTT over TLS, verifying the server and providing a client
    /// certificate.
    TlsMutual,
    /// ESP-AT/W800 6: MQTT over WebSocket (TCP).
    Ws,
    /// ESP-AT/W800 7: MQTT over WebSocket Secure (TLS), certificate not verified.
    Wss,
    /// ESP-AT/W800 8: MQTT over WebSocket Secure, verifying the server certificate.
    WssVerifyServer,
    /// ESP-AT/W800 9: MQTT over WebSocket Secure, providing a client certificate.
    WssClientCert,
    /// ESP-AT/W800 10: MQTT over WebSocket Secure, verifying the server and providing a
    /// client certificate.
    WssMutual,
    /// Beken 2: MQTT over TLS with a pre-shared key (Beken only).
    TlsPsk,
}

impl Scheme {
    /// The ten schemes of ESP-AT and W800, in the order of their numbers 1–10.
    pub const ESP: [Scheme; 10] = [
        Scheme::Tcp,
        Scheme::Tls,
        Scheme::TlsVerifyServer,
        Scheme::TlsClientCert,
        Scheme::TlsMutual,
        Scheme::Ws,
        Scheme::Wss,
        Scheme::WssVerifyServer,
        Scheme::WssClientCert,
        Scheme::WssMutual,
    ];

    /// True for the schemes that use the module's certificates (server verification or
    /// client certificate): ESP-AT/W800 3, 4, 5, 8, 9, 10.
    pub const fn needs_certificate(self) -> bool {
        matches!(
            self,
            Scheme::TlsVerifyServer
                | Scheme::TlsClientCert
                | Scheme::TlsMutual
                | Scheme::WssVerifyServer
                | Scheme::WssClientCert
                | Scheme::WssMutual
        )
    }

    /// The `<scheme>` number `dialect` expects.
    ///
    /// Errors ([`Error::Unsupported`]): [`Scheme::TlsPsk`] outside Beken; on Beken every
    /// scheme but [`Scheme::Tcp`] and [`Scheme::TlsPsk`] (the certificate schemes: "cert
    /// certificates are not supported"); anything on Ai-Thinker.
    pub fn code(self, dialect: Dialect) -> Result<u8, Error> {
        match dialect {
            Dialect::EspAt | Dialect::W800 => match self {
                Scheme::TlsPsk => Err(Error::Unsupported {
                    what: "TLS-PSK scheme (Beken only)",
                }),
                other => Ok(other as u8 + 1),
            },
            Dialect::Beken => match self {
                Scheme::Tcp => Ok(1),
                Scheme::TlsPsk => Ok(2),
                s if s.needs_certificate() => Err(Error::Unsupported {
                    what: "TLS certificates on Beken (only TCP and TLS-PSK)",
                }),
                _ => Err(Error::Unsupported {
                    what: "MQTT scheme on Beken (only TCP and TLS-PSK)",
                }),
            },
            Dialect::AiThinker => Err(UNSUPPORTED_DIALECT),
        }
    }

    /// The scheme a `<scheme>` number means in `dialect`.
    pub fn from_code(dialect: Dialect, code: u8) -> Option<Scheme> {
        match dialect {
            Dialect::EspAt | Dialect::W800 => {
                Scheme::ESP.get(usize::from(code).checked_sub(1)?).copied()
            }
            Dialect::Beken => match code {
                1 => Some(Scheme::Tcp),
                2 => Some(Scheme::TlsPsk),
                _ => None,
            },
            Dialect::AiThinker => None,
        }
    }
}

/// Quality of service: "optional parameters of 0, 1, or 2, default value: 0".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum QoS {
    /// 0: at most once.
    #[default]
    AtMostOnce = 0,
    /// 1: at least once.
    AtLeastOnce = 1,
    /// 2: exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS numbered `n` (0–2).
    pub const fn from_u8(n: u8) -> Option<QoS> {
        match n {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// Parses a QoS field of a reply: `1`, `"1"` (Beken's `<"qos">`), or `“1”` as
    /// Beken's document prints it.
    pub fn parse(field: &[u8]) -> Option<QoS> {
        let f = crate::framer::trim(field);
        let f = f
            .strip_prefix("\u{201c}".as_bytes())
            .and_then(|f| f.strip_suffix("\u{201d}".as_bytes()))
            .unwrap_or(f);
        QoS::from_u8(crate::parse::number(f)?)
    }
}

impl Serialize for QoS {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// `<state>` of `AT+MQTTCONN?` and `AT+MQTTSUB?`.
///
/// ESP-AT and W800 report a number 0–6 (the variants in order). Beken's document reports
/// words: "connected: connection successful" ([`ConnState::Connected`]) and "disconnect:
/// connection failed" ([`ConnState::Disconnected`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ConnState {
    /// 0: MQTT not initialised.
    #[default]
    NotInitialized = 0,
    /// 1: `AT+MQTTUSERCFG` set.
    UserConfigured = 1,
    /// 2: `AT+MQTTCONNCFG` set.
    ConnConfigured = 2,
    /// 3: the connection has been disconnected (Beken `disconnect`).
    Disconnected = 3,
    /// 4: connection established.
    Established = 4,
    /// 5: connected, no topic subscribed (Beken `connected`).
    Connected = 5,
    /// 6: connected, topics subscribed.
    Subscribed = 6,
}

impl ConnState {
    /// The state numbered `n` (0–6).
    pub const fn from_code(n: u8) -> Option<ConnState> {
        Some(match n {
            0 => ConnState::NotInitialized,
            1 => ConnState::UserConfigured,
            2 => ConnState::ConnConfigured,
            3 => ConnState::Disconnected,
            4 => ConnState::Established,
            5 => ConnState::Connected,
            6 => ConnState::Subscribed,
            _ => return None,
        })
    }

    /// Beken's words: `connected` → [`ConnState::Connected`]; `disconnect` (or
    /// `disconnected`) → [`ConnState::Disconnected`]. Case is ignored.
    pub fn from_word(word: &[u8]) -> Option<ConnState> {
        let w = crate::parse::unquote(crate::framer::trim(word));
        if w.eq_ignore_ascii_case(b"connected") {
            Some(ConnState::Connected)
        } else if w.eq_ignore_ascii_case(b"disconnect") || w.eq_ignore_ascii_case(b"disconnected") {
            Some(ConnState::Disconnected)
        } else {
            None
        }
    }

    /// Parses a state field: a number (quoted or not) or one of Beken's words.
    pub fn parse(field: &[u8]) -> Option<ConnState> {
        match crate::parse::number::<u8>(field) {
            Some(n) => ConnState::from_code(n),
            None => ConnState::from_word(field),
        }
    }

    /// The number (0–6).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// True when the link to the broker is up (4, 5, 6).
    pub const fn is_connected(self) -> bool {
        matches!(
            self,
            ConnState::Established | ConnState::Connected | ConnState::Subscribed
        )
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

const UNSUPPORTED_DIALECT: Error = Error::Unsupported {
    what: "ESP-AT style MQTT commands (Combo-AT has its own AT+MQTT set)",
};

/// Refuses Ai-Thinker, which has none of these commands.
pub(crate) fn mqtt_dialect(dialect: Dialect) -> Result<(), Error> {
    match dialect {
        Dialect::AiThinker => Err(UNSUPPORTED_DIALECT),
        _ => Ok(()),
    }
}

/// Refuses every dialect but those listed (and Ai-Thinker always).
pub(crate) fn only(dialect: Dialect, allowed: &[Dialect], what: &'static str) -> Result<(), Error> {
    mqtt_dialect(dialect)?;
    if allowed.contains(&dialect) {
        Ok(())
    } else {
        Err(Error::Unsupported { what })
    }
}

pub(crate) fn too_long(
    field: &'static str,
    len: usize,
    max: usize,
    reason: &'static str,
) -> Result<(), Error> {
    if len > max {
        Err(Error::Invalid { field, reason })
    } else {
        Ok(())
    }
}

/// A topic parameter: non-empty, at most [`TOPIC_MAX_LEN`] bytes, carried by the dialect.
pub(crate) fn topic<'a>(
    dialect: Dialect,
    field: &'static str,
    value: &'a str,
) -> Result<crate::command::text::AtStr<'a>, Error> {
    if value.is_empty() {
        return Err(Error::Invalid {
            field,
            reason: "empty (the firmwares refuse an empty topic)",
        });
    }
    too_long(field, value.len(), TOPIC_MAX_LEN, "longer than 128 bytes")?;
    crate::command::text::AtStr::new(dialect, field, value)
}

/// The reply lines, trimmed, empty ones skipped.
pub(crate) fn lines(reply: &[u8]) -> impl Iterator<Item = &[u8]> {
    reply
        .split(|&b| b == b'\n')
        .map(|l| crate::framer::trim(l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|l| !l.is_empty())
}

/// The rest of `line` after `prefix`, leading spaces removed (`+MQTTSUB: 0,…`).
pub(crate) fn after<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    line.strip_prefix(prefix).map(crate::framer::trim)
}

/// A 0/1 flag of a reply.
pub(crate) fn flag(field: &[u8]) -> Option<bool> {
    match crate::parse::number::<u8>(field)? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The parse function of set commands answered by `OK` alone: whatever lines came with
/// the `OK` (none are documented), the command succeeded.
pub(crate) fn ok_reply(_reply: &[u8]) -> Result<NoResponse, Error> {
    Ok(NoResponse)
}
