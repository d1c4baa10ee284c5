//! Ai-Thinker Combo-AT's own MQTT commands (`AT+MQTT=<key>,<value>`, `AT+MQTT`,
//! `AT+MQTTPUB`, `AT+MQTTPUBRAW`, `AT+MQTTSUB`, `AT+MQTTUNSUB`, …) and its MQTT events.
//!
//! Combo-AT (Ai-WB2 / BL602, BW16) shares command *names* with ESP-AT (`AT+MQTTPUB`,
//! `AT+MQTTSUB`) but not their parameters: there is no link id, the broker is configured
//! one key at a time with `AT+MQTT=<key>,<value>`, `AT+MQTT` alone starts the connection,
//! and the module reports with `+EVENT:` lines. Nothing of [`mqtt`](super::mqtt) works
//! on it, and the high-level [`Mqtt`](crate::mqtt::Mqtt) session does not drive it: use
//! these commands directly with [`Client::send`](crate::Client::send) and type the events
//! with [`MqttEvent::from_urc`].
//!
//! | command | struct | reply |
//! |---|---|---|
//! | `AT+MQTT=1,<host>` | [`SetHost`] | `OK` |
//! | `AT+MQTT=2,<port>` | [`SetPort`] | `OK` |
//! | `AT+MQTT=3,<scheme>` | [`SetScheme`] | `OK` |
//! | `AT+MQTT=4,<client_id>` | [`SetClientId`] | `OK` |
//! | `AT+MQTT=5,<username>` | [`SetUsername`] | `OK` |
//! | `AT+MQTT=6,<password>` | [`SetPassword`] | `OK` |
//! | `AT+MQTT=7,<topic>,<qos>,<retain>,<payload>` | [`SetWill`] (and [`SetWill::clear`]) | `OK` |
//! | `AT+MQTT` | [`Connect`] | `OK`, then `+EVENT:MQTT_CONNECT` ([`MqttEvent::Connected`]) |
//! | `AT+MQTT?` | [`GetConfig`] | `+MQTT:<status>,<host>,<port>,…` → [`MqttConfig`] |
//! | `AT+MQTTPUB=<topic>,<qos>,<retain>,<payload>` | [`Publish`] | `OK` |
//! | `AT+MQTTPUBRAW=<topic>,<qos>,<retain>,<length>` + data after `>` | [`PublishRaw`], [`publish_raw`] | `OK` |
//! | `AT+MQTTSUB=<topic>,<qos>` | [`Subscribe`] | `OK` |
//! | `AT+MQTTSUB?` | [`GetSubscriptions`] | `<status>,<topic>` lines → [`Subscriptions`] |
//! | `AT+MQTTUNSUB=<topic>` | [`Unsubscribe`] | `OK` |
//! | `AT+MQTTDISCONN` | [`Disconnect`] | `OK`, `+EVENT:MQTT_DISCONNECT` |
//! | `AT+MQTTVER=<3\|4>`, `AT+MQTTVER?` | [`SetVersion`], [`GetVersion`] | `OK`, `+MQTTVER:<v>` → [`MqttVersion`] |
//! | `AT+MQTTKEEPALIVE=<mqtt>,<tcp>`, `?` | [`SetKeepAlive`], [`GetKeepAlive`] | `OK`, `+MQTTKEEPALIVE:<mqtt>[,<tcp>]` → [`KeepAlive`] |
//! | `AT+MQTTBUF=<send>,<recv>`, `?` | [`SetBuffers`], [`GetBuffers`] | `OK`, `+MQTTBUF:<send>,<recv>` → [`Buffers`] |
//! | `AT+MQTTCRET=<type>,<length>` + data after `>` | [`SetCert`] (and [`SetCert::clear`]) | `OK` |
//! | `AT+MQTTCRET=<type>` | [`GetCert`] | `+MQTTCRET:<type>,<length>,<content>` → [`MqttCertInfo`] |
//!
//! Events ([`MqttEvent`]): `+EVENT:MQTT_CONNECT`, `+EVENT:MQTT_DISCONNECT`,
//! `+EVENT:MQTT_MALLOC_ERROR`, and `+EVENT:MQTT_SUB,<topic>,<len>,<data>` (an incoming
//! message, framed by length by the client and typed as [`Urc::MqttMessage`]; the module
//! prints the topic bare, so a topic holding a comma defeats that framing: such a message
//! is recovered from its line by [`MqttEvent::parse_line`] when its payload holds no line
//! break).
//!
//! Every constructor takes the [`Dialect`] and answers [`Error::Unsupported`] for any but
//! [`Dialect::AiThinker`]; limits are checked before anything is written
//! ([`Error::Invalid`] naming the parameter). Strings follow [`combo`](super::combo):
//! written bare as in the guide's examples (`AT+MQTT=4,client_id`,
//! `AT+MQTTPUB=testtopic,1,0,456`), quoted with `"` and `\` escaped only when they hold a
//! `,`, `"`, space or tab, or are empty; hosts bare ([`HostName`]). The will's topic and
//! payload are always quoted, as in the guide's example `AT+MQTT=7,"LWTTOPIC",0,1,"123456"`.
//!
//! ```
//! use at_wifi::command::combo_mqtt::*;
//! use at_wifi::command::mqtt::QoS;
//! use at_wifi::{Client, Dialect, Event, Urc};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+MQTT=1,broker.local\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTT=2,1883\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTT=4,dev-1\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTT\r\n", b"\r\nOK\r\n+EVENT:MQTT_CONNECT\r\n");
//! # uart.expect(b"AT+MQTTSUB=cmd/dev-1,1\r\n", b"\r\nOK\r\n+EVENT:MQTT_SUB,cmd/dev-1,2,on\r\n");
//! # uart.expect(b"AT+MQTTPUB=state/dev-1,1,0,\"on, 21 C\"\r\n", b"\r\nOK\r\n");
//! # let clock = uart.clock();
//! let d = Dialect::AiThinker;
//! let mut client: Client<_, _> = Client::new(uart, clock, d);
//! client.send(&SetHost::new(d, "broker.local")?)?;
//! client.send(&SetPort::new(d, 1883)?)?;
//! client.send(&SetClientId::new(d, "dev-1")?)?;
//! client.send(&Connect::new(d)?)?; // OK: the module starts connecting
//! client.send(&Subscribe::new(d, "cmd/dev-1", QoS::AtLeastOnce)?)?;
//! client.send(&Publish::new(d, "state/dev-1", b"on, 21 C", QoS::AtLeastOnce, false)?)?;
//! let mut connected = false;
//! while let Some(Event::Urc(urc)) = client.poll()? {
//!     match MqttEvent::from_urc(&urc) {
//!         Some(MqttEvent::Connected) => connected = true,
//!         Some(MqttEvent::Message(m)) => assert_eq!((m.topic, m.data), (&b"cmd/dev-1"[..], &b"on"[..])),
//!         _ => {}
//!     }
//! }
//! assert!(connected);
//! # Ok::<(), at_wifi::Error>(())
//! ```
//!
//! # Sources, and what is uncertain
//!
//! - Ai-Thinker's public Combo-AT command guide (repository `Ai-Thinker-Open/aithinker-combo-guide`,
//!   "MQTT AT 命令集" and "MQTT AT 示例"): the `AT+MQTT` keys 1–7 and their forms, the
//!   63-byte username and password limits, the `AT+MQTT?` reply and its status values,
//!   that the connection is asynchronous (`OK` only starts the MQTT task; the outcome is
//!   `+EVENT:MQTT_CONNECT`), `AT+MQTTPUB`'s 1024-byte payload limit, `AT+MQTTPUBRAW` with
//!   its `>` prompt, `AT+MQTTSUB` (at most four topics) and its query, `AT+MQTTUNSUB`.
//!   Scheme: the guide lists only 1 (TCP) as "reserved, default".
//! - Ai-Thinker's Combo-AT firmware release notes (Ai-WB2 firmware page, V4.18_P23.2.1):
//!   `AT+MQTTVER`, `AT+MQTTKEEPALIVE` and `AT+MQTTDISCONN` were added there; the
//!   `AT+MQTTPUBRAW` topic buffer grew from 64 to 256 bytes; incoming messages no longer
//!   carry a trailing `\0`. Older firmware answers these three commands with an error.
//! - A third-party digest of the newer Combo-AT manual (a Markdown summary of the "MQTT
//!   指令" chapter found in public repositories; not an Ai-Thinker publication): scheme 2 =
//!   SSL, MQTT 3.1 as the default version (`AT+MQTTVER` 3 or 4), the two-value
//!   `AT+MQTTKEEPALIVE=<mqtt>,<tcp>` and its reply, `AT+MQTTBUF`, `AT+MQTTCRET`, up to
//!   five subscriptions of about 100 bytes each. **These facts are less certain** than the
//!   guide's: the commands exist only on firmware that has them, and the forms may differ.
//! - A public event table of Combo-AT's `AT+SYSMSG` (bits 9–11): `+EVENT:MQTT_CONNECT`,
//!   `+EVENT:MQTT_DISCONNECT`, `+EVENT:MQTT_SUB,<Topic>,<len>,<data>`; the same digests
//!   list `+EVENT:MQTT_MALLOC_ERROR`.
//!
//! Not documented anywhere found, so not checked here: a client-id or topic length limit
//! (the 256-byte command line bounds both: the client refuses a longer line before
//! writing), a `AT+MQTTPUBRAW` length limit (the module's send buffer, `AT+MQTTBUF`),
//! the keepalive range. Whether `AT+MQTTCRET=<type>,0` (clear) prompts is not said: the
//! crate sends it without data and expects `OK`.

use super::combo::{
    bracketed_number, combo_only, lines, ok_reply, reply_line, ComboText, HostName,
};
use super::mqtt::QoS;
use super::socket::CertKind;
use super::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::framer::{trim, Ascii};
use crate::parse::{number, params, unquote};
use crate::urc::{MqttMessage, Urc};
use atat::atat_derive::AtatCmd;
use atat::serde_at::serde::{Serialize, Serializer};
use core::fmt;

// ---------------------------------------------------------------------------------------
// Limits and timeouts
// ---------------------------------------------------------------------------------------

/// `<username>` (`AT+MQTT=5`): "maximum length 63 bytes" (the guide).
pub const USERNAME_MAX_LEN: usize = 63;
/// `<password>` (`AT+MQTT=6`): "maximum length 63 bytes" (the guide).
pub const PASSWORD_MAX_LEN: usize = 63;
/// `<payload>` of `AT+MQTTPUB`: "maximum length 1024 bytes" (the guide). The 256-byte
/// command line is the tighter bound in practice (the client refuses a longer line);
/// longer messages go through [`PublishRaw`].
pub const PUB_PAYLOAD_MAX_LEN: usize = 1024;
/// The topic of `AT+MQTTPUBRAW`: 256 bytes since firmware V4.18_P23.2.1 (release notes:
/// "increased MQTTPUBRAW command topic buffer from 64 to 256"); older firmware holds 64
/// ([`PUBRAW_TOPIC_MAX_LEN_OLD`]).
pub const PUBRAW_TOPIC_MAX_LEN: usize = 256;
/// The `AT+MQTTPUBRAW` topic buffer of firmware before V4.18_P23.2.1: 64 bytes. Not
/// checked (the crate cannot know the firmware); documented for callers that target it.
pub const PUBRAW_TOPIC_MAX_LEN_OLD: usize = 64;
/// Topics `AT+MQTTSUB` holds at once: "at most four topics" (the guide; the newer
/// digest says five). The module refuses more with `ERROR`; a command alone cannot count
/// them, so this is not checked here.
pub const MAX_SUBSCRIPTIONS: usize = 4;
/// Timeout of the configuration commands, `AT+MQTT` (asynchronous: it answers at once)
/// and the queries: 5 s.
pub const CONFIG_TIMEOUT_MS: u32 = 5_000;
/// Timeout of publish, subscribe, unsubscribe and disconnect: 10 s (the module may wait
/// for the broker).
pub const BROKER_TIMEOUT_MS: u32 = 10_000;

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

fn non_empty(field: &'static str, v: &[u8]) -> Result<(), Error> {
    if v.is_empty() {
        Err(invalid(field, "empty"))
    } else {
        Ok(())
    }
}

/// A topic of [`Publish`] / [`PublishRaw`]: not empty, no `+` or `#` (MQTT 3.1.1 §4.7:
/// wildcards are for subscriptions only), and a [`ComboText`].
fn pub_topic<'a>(topic: &'a str) -> Result<ComboText<'a>, Error> {
    non_empty("topic", topic.as_bytes())?;
    if topic.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(invalid(
            "topic",
            "holds a wildcard '+' or '#' (publish topics cannot)",
        ));
    }
    ComboText::new("topic", topic)
}

/// A topic filter of [`Subscribe`] / [`Unsubscribe`]: not empty, a [`ComboText`].
fn filter<'a>(topic: &'a str) -> Result<ComboText<'a>, Error> {
    non_empty("topic", topic.as_bytes())?;
    ComboText::new("topic", topic)
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// The `<key>` of `AT+MQTT=<key>,<value>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ConfigKey {
    /// 1: the broker's domain name or IP address.
    Host = 1,
    /// 2: the broker's port.
    Port = 2,
    /// 3: the connection scheme.
    Scheme = 3,
    /// 4: the client id.
    ClientId = 4,
    /// 5: the user name.
    Username = 5,
    /// 6: the password.
    Password = 6,
    /// 7: the last will.
    Will = 7,
}

impl Serialize for ConfigKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// `<scheme>` (`AT+MQTT=3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Scheme {
    /// 1: MQTT over TCP (the guide: "reserved, default 1: TCP").
    #[default]
    Tcp = 1,
    /// 2: MQTT over SSL/TLS (newer firmware only, per the third-party digest; uncertain).
    Ssl = 2,
}

impl Scheme {
    /// The scheme numbered `n` (1–2).
    pub const fn from_code(n: u8) -> Option<Scheme> {
        match n {
            1 => Some(Scheme::Tcp),
            2 => Some(Scheme::Ssl),
            _ => None,
        }
    }
}

impl Serialize for Scheme {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// A string written between double quotes always, with `"` and `\` escaped by a
/// backslash (the will's topic and payload, as in the guide's example
/// `AT+MQTT=7,"LWTTOPIC",0,1,"123456"`). CR, LF and NUL are refused, and values longer
/// than 256 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Quoted<'a>(&'a [u8]);

impl<'a> Quoted<'a> {
    fn new(field: &'static str, value: &'a [u8]) -> Result<Self, Error> {
        // The same rules as ComboText.
        ComboText::new(field, value)?;
        Ok(Quoted(value))
    }
}

impl Serialize for Quoted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 2 * super::text::MAX_VALUE_LEN + 2];
        let mut n = 0;
        let mut put = |b: u8| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
                n += 1;
            }
        };
        put(b'"');
        for &b in self.0 {
            if b == b'"' || b == b'\\' {
                put(b'\\');
            }
            put(b);
        }
        put(b'"');
        serializer.serialize_bytes(buf.get(..n).unwrap_or(&[]))
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTT=<key>,<value>
// ---------------------------------------------------------------------------------------

/// `AT+MQTT=1,<host>`: the broker's domain name or IP address, written bare
/// (`AT+MQTT=1,192.168.202.10`). Replies `OK`.
///
/// Limits: a [`HostName`] (1–253 bytes of letters, digits, `.`, `-`, `_`, `:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetHost<'a> {
    which: ConfigKey,
    host: HostName<'a>,
}

impl<'a> SetHost<'a> {
    /// Sets the broker's host.
    ///
    /// Errors: [`Error::Invalid`] naming `host`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, host: &'a str) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetHost {
            which: ConfigKey::Host,
            host: HostName::new("host", host)?,
        })
    }
}

/// `AT+MQTT=2,<port>`: the broker's port (`AT+MQTT=2,1883`). Replies `OK`.
///
/// Limits: 1–65535 (0 is refused: no broker listens there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetPort {
    which: ConfigKey,
    port: u16,
}

impl SetPort {
    /// Sets the broker's port.
    ///
    /// Errors: [`Error::Invalid`] naming `port` (0); [`Error::Unsupported`] outside
    /// Combo-AT.
    pub fn new(dialect: Dialect, port: u16) -> Result<Self, Error> {
        combo_only(dialect)?;
        if port == 0 {
            return Err(invalid("port", "0"));
        }
        Ok(SetPort {
            which: ConfigKey::Port,
            port,
        })
    }
}

/// `AT+MQTT=3,<scheme>`: the connection scheme (`AT+MQTT=3,1`). Replies `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetScheme {
    which: ConfigKey,
    scheme: Scheme,
}

impl SetScheme {
    /// Sets the scheme ([`Scheme::Ssl`] only on firmware that has it).
    ///
    /// Errors: [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, scheme: Scheme) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetScheme {
            which: ConfigKey::Scheme,
            scheme,
        })
    }
}

/// `AT+MQTT=4,<client_id>`: the client id (`AT+MQTT=4,client_id`). Replies `OK`.
///
/// Limits: not empty (release notes: empty MQTT parameters crashed older firmware), a
/// [`ComboText`]; no length is documented (the 256-byte line bounds it). Note: with the
/// default MQTT 3.1 (see [`SetVersion`]) brokers may refuse ids longer than 23 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetClientId<'a> {
    which: ConfigKey,
    client_id: ComboText<'a>,
}

impl<'a> SetClientId<'a> {
    /// Sets the client id.
    ///
    /// Errors: [`Error::Invalid`] naming `client_id`; [`Error::Unsupported`] outside
    /// Combo-AT.
    pub fn new(dialect: Dialect, client_id: &'a str) -> Result<Self, Error> {
        combo_only(dialect)?;
        non_empty("client_id", client_id.as_bytes())?;
        Ok(SetClientId {
            which: ConfigKey::ClientId,
            client_id: ComboText::new("client_id", client_id)?,
        })
    }
}

/// `AT+MQTT=5,<username>`: the user name (`AT+MQTT=5,admin`). Replies `OK`.
///
/// Limits: at most 63 bytes ([`USERNAME_MAX_LEN`]); a [`ComboText`]. Empty is allowed
/// (written `""`): no user name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetUsername<'a> {
    which: ConfigKey,
    username: ComboText<'a>,
}

impl<'a> SetUsername<'a> {
    /// Sets the user name.
    ///
    /// Errors: [`Error::Invalid`] naming `username`; [`Error::Unsupported`] outside
    /// Combo-AT.
    pub fn new(dialect: Dialect, username: &'a str) -> Result<Self, Error> {
        combo_only(dialect)?;
        if username.len() > USERNAME_MAX_LEN {
            return Err(invalid("username", "longer than 63 bytes"));
        }
        Ok(SetUsername {
            which: ConfigKey::Username,
            username: ComboText::new("username", username)?,
        })
    }
}

/// `AT+MQTT=6,<password>`: the password (`AT+MQTT=6,public`). Replies `OK`.
///
/// Limits: at most 63 bytes ([`PASSWORD_MAX_LEN`]); a [`ComboText`]. Empty is allowed
/// (written `""`). `Debug` never shows the password, and the errors do not hold it.
#[derive(Clone, Copy, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetPassword<'a> {
    which: ConfigKey,
    password: ComboText<'a>,
}

impl<'a> SetPassword<'a> {
    /// Sets the password.
    ///
    /// Errors: [`Error::Invalid`] naming `password`; [`Error::Unsupported`] outside
    /// Combo-AT.
    pub fn new(dialect: Dialect, password: &'a str) -> Result<Self, Error> {
        combo_only(dialect)?;
        if password.len() > PASSWORD_MAX_LEN {
            return Err(invalid("password", "longer than 63 bytes"));
        }
        Ok(SetPassword {
            which: ConfigKey::Password,
            password: ComboText::new("password", password)?,
        })
    }
}

impl fmt::Debug for SetPassword<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetPassword")
            .field("password", &"<hidden>")
            .finish()
    }
}

/// `AT+MQTT=7,<LWT_topic>,<LWT_qos>,<LWT_Retained>,<LWTpayload>`: the last will
/// (`AT+MQTT=7,"LWTTOPIC",0,1,"123456"`); [`SetWill::clear`] removes it
/// (`AT+MQTT=7,"",0,0,""`, as the guide says). Replies `OK`.
///
/// Limits: topic not empty, without `+` or `#`; topic and payload without CR, LF, NUL,
/// each at most 256 bytes; both always quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
pub struct SetWill<'a> {
    which: ConfigKey,
    topic: Quoted<'a>,
    qos: QoS,
    retain: u8,
    payload: Quoted<'a>,
}

impl fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Ascii(self.0), f)
    }
}

impl<'a> SetWill<'a> {
    /// A will: `payload` on `topic` at `qos`, retained when `retain`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic` or `payload`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        topic: &'a str,
        payload: &'a [u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Self, Error> {
        combo_only(dialect)?;
        pub_topic(topic)?;
        Ok(SetWill {
            which: ConfigKey::Will,
            topic: Quoted::new("topic", topic.as_bytes())?,
            qos,
            retain: u8::from(retain),
            payload: Quoted::new("payload", payload)?,
        })
    }

    /// No will: `AT+MQTT=7,"",0,0,""`.
    ///
    /// Errors: [`Error::Unsupported`] outside Combo-AT.
    pub fn clear(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetWill {
            which: ConfigKey::Will,
            topic: Quoted(b""),
            qos: QoS::AtMostOnce,
            retain: 0,
            payload: Quoted(b""),
        })
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTT, AT+MQTT?
// ---------------------------------------------------------------------------------------

/// `AT+MQTT`: starts the MQTT task with the configured parameters. Replies `OK` at once
/// ("the connection is asynchronous: OK only means the MQTT task started"); the outcome
/// is `+EVENT:MQTT_CONNECT` ([`MqttEvent::Connected`]) or the status of [`GetConfig`].
/// Sent while connected, it reconnects (the guide advises removing every subscription
/// before changing servers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+MQTT", NoResponse, parse = ok_reply, timeout_ms = 5000, termination = "\r\n")]
#[non_exhaustive]
pub struct Connect;

impl Connect {
    /// The command; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(Connect)
    }
}

/// `<MQTT_status>` of `AT+MQTT?`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum MqttStatus {
    /// 0: initial state (not connected).
    #[default]
    Idle = 0,
    /// 1: connecting.
    Connecting = 1,
    /// 2: subscribing.
    Subscribing = 2,
    /// 3: connected.
    Connected = 3,
}

impl MqttStatus {
    /// The status numbered `n` (0–3).
    pub const fn from_code(n: u8) -> Option<MqttStatus> {
        Some(match n {
            0 => MqttStatus::Idle,
            1 => MqttStatus::Connecting,
            2 => MqttStatus::Subscribing,
            3 => MqttStatus::Connected,
            _ => return None,
        })
    }
}

/// The longest host, client id, user name or will topic [`MqttConfig`] keeps (longer
/// ones are cut; [`MqttConfig::cut`] says so): 128 bytes.
pub const CONFIG_FIELD_KEEP: usize = 128;

/// The reply of `AT+MQTT?`:
/// `+MQTT:<status>,<host>,<port>,<scheme>,<client_id>,<username>,<password>[,<LWT_topic>,<LWT_qos>,<LWT_Retained>,<LWTpayload>]`
/// (the guide prints both the 7-field and the 11-field form).
///
/// The password is never kept: [`MqttConfig::has_password`] says whether one is set.
/// The module prints every value bare, so a `,` inside one cannot be told from a
/// separator: the will's payload (the last field) may hold commas; a comma in any other
/// value shifts the fields after it. Such a reply is refused ([`Error::Parse`]) when the
/// field count is off, when the port or scheme is not a number, or, in the 11-field
/// form, when the will's QoS is not 0–2 or its retain flag not 0 or 1. A client id, user
/// name or password with commas can still shift fields undetected when the shifted
/// values happen to pass those checks: keep commas out of them if you query the
/// configuration.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MqttConfig {
    /// `<MQTT_status>`.
    pub status: MqttStatus,
    /// `<Host_name>`.
    pub host: heapless::Vec<u8, CONFIG_FIELD_KEEP>,
    /// `<Port>` (0 when not set).
    pub port: u16,
    /// `<scheme>` (`None` when not set, 0, or unknown).
    pub scheme: Option<Scheme>,
    /// `<client_id>`.
    pub client_id: heapless::Vec<u8, CONFIG_FIELD_KEEP>,
    /// `<username>`.
    pub username: heapless::Vec<u8, CONFIG_FIELD_KEEP>,
    /// A password is set (`<password>` not empty).
    pub has_password: bool,
    /// `<LWT_topic>` (empty: no will).
    pub will_topic: heapless::Vec<u8, CONFIG_FIELD_KEEP>,
    /// `<LWT_qos>`.
    pub will_qos: QoS,
    /// `<LWT_Retained>`.
    pub will_retain: bool,
    /// `<LWTpayload>` length in bytes (the payload itself is not kept).
    pub will_payload_len: usize,
    /// A field was longer than [`CONFIG_FIELD_KEEP`] and was cut.
    pub cut: bool,
}

impl atat::AtatResp for MqttConfig {}

fn keep(field: &[u8], cut: &mut bool) -> heapless::Vec<u8, CONFIG_FIELD_KEEP> {
    let v = unquote(trim(field));
    let n = v.len().min(CONFIG_FIELD_KEEP);
    *cut |= n < v.len();
    let mut out = heapless::Vec::new();
    // Cannot fail: n fits.
    let _ = out.extend_from_slice(&v[..n]);
    out
}

impl MqttConfig {
    /// Parses the reply lines of `AT+MQTT?`.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let rest = reply_line(reply, b"+MQTT:").ok_or(Error::Parse)?;
        // The module prints every value bare: split at the first ten commas, so that
        // the will's payload (the last field) may hold commas.
        let mut f: heapless::Vec<&[u8], 11> = heapless::Vec::new();
        let mut left = rest;
        while f.len() < 10 {
            let Some(c) = left.iter().position(|&b| b == b',') else {
                break;
            };
            f.push(&left[..c]).map_err(|_| Error::Parse)?;
            left = &left[c + 1..];
        }
        f.push(left).map_err(|_| Error::Parse)?;
        if f.len() != 7 && f.len() != 11 {
            return Err(Error::Parse);
        }
        let status = bracketed_number::<u8>(f[0])
            .and_then(MqttStatus::from_code)
            .ok_or(Error::Parse)?;
        let mut cut = false;
        let mut out = MqttConfig {
            status,
            host: keep(f[1], &mut cut),
            port: if trim(f[2]).is_empty() {
                0
            } else {
                number(f[2]).ok_or(Error::Parse)?
            },
            scheme: if trim(f[3]).is_empty() {
                None
            } else {
                Scheme::from_code(number::<u8>(f[3]).ok_or(Error::Parse)?)
            },
            client_id: keep(f[4], &mut cut),
            username: keep(f[5], &mut cut),
            has_password: !unquote(trim(f[6])).is_empty(),
            ..MqttConfig::default()
        };
        if f.len() == 11 {
            // A comma in the client id, user name or password shifts every later field:
            // the will's QoS and retain flag must then be numbers in range, or the reply
            // is refused rather than a piece of the password kept as the will topic.
            out.will_qos = QoS::parse(f[8]).ok_or(Error::Parse)?;
            out.will_retain = match number::<u8>(f[9]) {
                Some(0) => false,
                Some(1) => true,
                _ => return Err(Error::Parse),
            };
            out.will_topic = keep(f[7], &mut cut);
            out.will_payload_len = unquote(trim(f[10])).len();
        }
        out.cut = cut;
        Ok(out)
    }
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("status", &self.status)
            .field("host", &Ascii(&self.host))
            .field("port", &self.port)
            .field("scheme", &self.scheme)
            .field("client_id", &Ascii(&self.client_id))
            .field("username", &Ascii(&self.username))
            .field("has_password", &self.has_password)
            .field("will_topic", &Ascii(&self.will_topic))
            .field("will_qos", &self.will_qos)
            .field("will_retain", &self.will_retain)
            .field("will_payload_len", &self.will_payload_len)
            .field("cut", &self.cut)
            .finish()
    }
}

/// `AT+MQTT?`: the MQTT status and configuration ([`MqttConfig`]; the password is not
/// kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTT?",
    MqttConfig,
    parse = MqttConfig::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetConfig;

impl GetConfig {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetConfig)
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTPUB, AT+MQTTPUBRAW
// ---------------------------------------------------------------------------------------

/// `AT+MQTTPUB=<topic>,<qos>,<Retained>,<payload>`: publishes a text message
/// (`AT+MQTTPUB=testtopic,1,0,456`). Replies `OK`.
///
/// Limits (checked by [`Publish::new`]): topic not empty, without `+`/`#`; payload 1 to
/// 1024 bytes ([`PUB_PAYLOAD_MAX_LEN`]) without CR, LF or NUL, and the whole line at most
/// 256 bytes (the client refuses a longer one before writing; use [`PublishRaw`]).
/// Topic and payload are [`ComboText`]s: quoted when they hold `,`, `"`, spaces or tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTPUB",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct Publish<'a> {
    topic: ComboText<'a>,
    qos: QoS,
    retain: u8,
    payload: ComboText<'a>,
}

impl<'a> Publish<'a> {
    /// Publishes `payload` on `topic`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic` or `payload`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        topic: &'a str,
        payload: &'a [u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Self, Error> {
        combo_only(dialect)?;
        let topic = pub_topic(topic)?;
        if payload.is_empty() {
            return Err(invalid("payload", "empty (use PublishRaw for no bytes)"));
        }
        if payload.len() > PUB_PAYLOAD_MAX_LEN {
            return Err(invalid("payload", "longer than 1024 bytes"));
        }
        Ok(Publish {
            topic,
            qos,
            retain: u8::from(retain),
            payload: ComboText::new("payload", payload)?,
        })
    }
}

/// `AT+MQTTPUBRAW=<topic>,<qos>,<Retained>,<length>`: publishes `<length>` bytes of any
/// value, written after the `>` prompt with [`Client::send_with_data`](crate::Client::send_with_data)
/// (`AT+MQTTPUBRAW=testtopic,1,0,10`, `>`, ten bytes, `OK`).
///
/// Limits: topic not empty, without `+`/`#`, at most 256 bytes ([`PUBRAW_TOPIC_MAX_LEN`];
/// 64 on firmware before V4.18_P23.2.1); `<length>` at least 1 (nothing would follow the
/// prompt). No maximum is documented (the module's send buffer, see [`SetBuffers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTPUBRAW",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct PublishRaw<'a> {
    topic: ComboText<'a>,
    qos: QoS,
    retain: u8,
    length: u32,
}

impl<'a> PublishRaw<'a> {
    /// Announces a message of `length` bytes on `topic`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic` or `length`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        topic: &'a str,
        length: usize,
        qos: QoS,
        retain: bool,
    ) -> Result<Self, Error> {
        combo_only(dialect)?;
        let t = pub_topic(topic)?;
        if topic.len() > PUBRAW_TOPIC_MAX_LEN {
            return Err(invalid("topic", "longer than 256 bytes"));
        }
        if length == 0 {
            return Err(invalid("length", "0 (nothing to send after the prompt)"));
        }
        let length = u32::try_from(length).map_err(|_| invalid("length", "above 4294967295"))?;
        Ok(PublishRaw {
            topic: t,
            qos,
            retain: u8::from(retain),
            length,
        })
    }

    /// The announced length.
    pub fn length(&self) -> usize {
        self.length as usize
    }
}

/// Publishes `data` (any bytes) on `topic` with [`PublishRaw`], announcing exactly
/// `data.len()` bytes: the prompt, the data, `OK`. (A [`PublishRaw`] sent by hand with data
/// of another length leaves the module waiting for the rest, or takes the excess as a
/// command line.)
///
/// Errors: those of [`PublishRaw::new`] (checked before anything is written) and of
/// [`Client::send_with_data`](crate::Client::send_with_data).
pub fn publish_raw<A: crate::AtClient>(
    client: &mut A,
    topic: &str,
    data: &[u8],
    qos: QoS,
    retain: bool,
) -> Result<(), Error> {
    let cmd = PublishRaw::new(client.dialect(), topic, data.len(), qos, retain)?;
    client.send_with_data(&cmd, data).map(|_| ())
}

// ---------------------------------------------------------------------------------------
// AT+MQTTSUB, AT+MQTTSUB?, AT+MQTTUNSUB, AT+MQTTDISCONN
// ---------------------------------------------------------------------------------------

/// `AT+MQTTSUB=<topic>,<qos>`: subscribes (`AT+MQTTSUB=testtopic0,0`). Replies `OK`.
/// Messages then come as `+EVENT:MQTT_SUB,<topic>,<len>,<data>` ([`MqttEvent::Message`]).
///
/// Limits: topic filter not empty, a [`ComboText`]; at most [`MAX_SUBSCRIPTIONS`]
/// topics at once (the module answers `ERROR` beyond; not counted here). The module
/// keeps the subscription and renews it after a reconnection (status 2 of
/// [`GetSubscriptions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTSUB",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct Subscribe<'a> {
    topic: ComboText<'a>,
    qos: QoS,
}

impl<'a> Subscribe<'a> {
    /// Subscribes to `topic` at `qos`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, topic: &'a str, qos: QoS) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(Subscribe {
            topic: filter(topic)?,
            qos,
        })
    }
}

/// `<status>` of an `AT+MQTTSUB?` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum SubStatus {
    /// 0: initial state (not sent yet: not connected).
    Idle = 0,
    /// 1: subscribing (first time).
    Subscribing = 1,
    /// 2: subscribing again after a reconnection.
    Resubscribing = 2,
    /// 3: subscribed.
    Subscribed = 3,
}

impl SubStatus {
    /// The status numbered `n` (0–3).
    pub const fn from_code(n: u8) -> Option<SubStatus> {
        Some(match n {
            0 => SubStatus::Idle,
            1 => SubStatus::Subscribing,
            2 => SubStatus::Resubscribing,
            3 => SubStatus::Subscribed,
            _ => return None,
        })
    }
}

/// One line of the `AT+MQTTSUB?` reply: `<status>,<Topic>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SubRow<'a> {
    /// `<status>`.
    pub status: SubStatus,
    /// `<Topic>` (quotes removed; a topic may hold commas: it is the rest of the line).
    pub topic: &'a [u8],
}

impl fmt::Debug for SubRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubRow")
            .field("status", &self.status)
            .field("topic", &Ascii(self.topic))
            .finish()
    }
}

impl<'a> SubRow<'a> {
    /// Parses one line; `None` when it is not `<0-3>,<topic>`.
    pub fn parse(line: &'a [u8]) -> Option<SubRow<'a>> {
        let comma = line.iter().position(|&b| b == b',')?;
        let status = number::<u8>(&line[..comma]).and_then(SubStatus::from_code)?;
        Some(SubRow {
            status,
            topic: unquote(trim(&line[comma + 1..])),
        })
    }
}

/// The reply of `AT+MQTTSUB?`: how many rows; the rows themselves are read from
/// [`Client::last_reply`](crate::Client::last_reply) with [`Subscriptions::rows`] (no
/// copy). No row at all (no subscription) is a valid reply.
///
/// Limit: a row whose topic is exactly `CONNECT` or `CLOSED` (`3,CLOSED`) has the shape
/// of ESP-AT's socket notices (`<link>,CLOSED`), which the client recognises in every
/// dialect: such a row comes out as [`Urc::SocketClosed`] /
/// [`Urc::SocketConnected`] events, not in the rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Subscriptions {
    /// The number of `<status>,<topic>` lines.
    pub count: usize,
}

impl atat::AtatResp for Subscriptions {}

impl Subscriptions {
    /// Parses the reply: every line must be a [`SubRow`] ([`Error::Parse`] otherwise).
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let mut count = 0;
        for l in lines(reply) {
            SubRow::parse(l).ok_or(Error::Parse)?;
            count += 1;
        }
        Ok(Subscriptions { count })
    }

    /// The rows of `reply` (the reply this was parsed from).
    pub fn rows<'a>(&self, reply: &'a [u8]) -> impl Iterator<Item = SubRow<'a>> {
        lines(reply).filter_map(SubRow::parse)
    }
}

/// `AT+MQTTSUB?`: the subscribed topics and their status ([`Subscriptions`], rows by
/// [`Subscriptions::rows`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTSUB?",
    Subscriptions,
    parse = Subscriptions::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetSubscriptions;

impl GetSubscriptions {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetSubscriptions)
    }
}

/// `AT+MQTTUNSUB=<topic>`: unsubscribes (`AT+MQTTUNSUB=testtopic0`). Replies `OK`.
///
/// Limits: topic filter not empty, a [`ComboText`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTUNSUB",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct Unsubscribe<'a> {
    topic: ComboText<'a>,
}

impl<'a> Unsubscribe<'a> {
    /// Unsubscribes from `topic`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, topic: &'a str) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(Unsubscribe {
            topic: filter(topic)?,
        })
    }
}

/// `AT+MQTTDISCONN`: disconnects from the broker (firmware V4.18_P23.2.1 and later).
/// Replies `OK`; `+EVENT:MQTT_DISCONNECT` follows when a connection was up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTDISCONN",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct Disconnect;

impl Disconnect {
    /// The command; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(Disconnect)
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTVER, AT+MQTTKEEPALIVE, AT+MQTTBUF
// ---------------------------------------------------------------------------------------

/// `<version>` of `AT+MQTTVER` (newer firmware; the default is MQTT 3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum MqttVersion {
    /// 3: MQTT 3.1 (the firmware's default).
    #[default]
    V3_1 = 3,
    /// 4: MQTT 3.1.1.
    V3_1_1 = 4,
}

impl MqttVersion {
    /// The version numbered `n` (3–4).
    pub const fn from_code(n: u8) -> Option<MqttVersion> {
        match n {
            3 => Some(MqttVersion::V3_1),
            4 => Some(MqttVersion::V3_1_1),
            _ => None,
        }
    }
}

impl Serialize for MqttVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

impl atat::AtatResp for MqttVersion {}

/// `AT+MQTTVER=<version>`: the protocol version of the next connection
/// (`AT+MQTTVER=4`). Replies `OK`. Firmware V4.18_P23.2.1 and later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTVER",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetVersion {
    version: MqttVersion,
}

impl SetVersion {
    /// Sets the version; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, version: MqttVersion) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetVersion { version })
    }
}

fn parse_version(reply: &[u8]) -> Result<MqttVersion, Error> {
    reply_line(reply, b"+MQTTVER:")
        .and_then(bracketed_number::<u8>)
        .and_then(MqttVersion::from_code)
        .ok_or(Error::Parse)
}

/// `AT+MQTTVER?`: replies `+MQTTVER:<version>` ([`MqttVersion`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTVER?",
    MqttVersion,
    parse = parse_version,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetVersion;

impl GetVersion {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetVersion)
    }
}

/// The reply of `AT+MQTTKEEPALIVE?`: `+MQTTKEEPALIVE:<mqtt>[,<tcp>]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeepAlive {
    /// The MQTT keepalive (PINGREQ interval), seconds.
    pub mqtt_s: u16,
    /// The TCP keepalive of the MQTT socket, seconds (`None` when the firmware prints the
    /// MQTT value alone).
    pub tcp_s: Option<u16>,
}

impl atat::AtatResp for KeepAlive {}

impl KeepAlive {
    /// Parses the reply.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let rest = reply_line(reply, b"+MQTTKEEPALIVE:").ok_or(Error::Parse)?;
        let mut p = params(rest);
        let mqtt_s = p.next().and_then(number).ok_or(Error::Parse)?;
        let tcp_s = match p.next() {
            Some(t) => Some(number(t).ok_or(Error::Parse)?),
            None => None,
        };
        if p.next().is_some() {
            return Err(Error::Parse);
        }
        Ok(KeepAlive { mqtt_s, tcp_s })
    }
}

/// `AT+MQTTKEEPALIVE=<mqttKeepAliveInterval>,<mqttTcpKeepAliveInterval>`: the MQTT and
/// TCP keepalive intervals in seconds (`AT+MQTTKEEPALIVE=120,5`), used from the next
/// connection. Replies `OK`. Firmware V4.18_P23.2.1 and later.
///
/// Limits: the MQTT keepalive fits the protocol's 16-bit field (the type bounds it); 0
/// is refused for both (no range is documented; 0 would turn the keepalive off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTKEEPALIVE",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetKeepAlive {
    mqtt_s: u16,
    tcp_s: u16,
}

impl SetKeepAlive {
    /// Sets both intervals.
    ///
    /// Errors: [`Error::Invalid`] naming `mqtt_s` or `tcp_s` (0); [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(dialect: Dialect, mqtt_s: u16, tcp_s: u16) -> Result<Self, Error> {
        combo_only(dialect)?;
        if mqtt_s == 0 {
            return Err(invalid("mqtt_s", "0"));
        }
        if tcp_s == 0 {
            return Err(invalid("tcp_s", "0"));
        }
        Ok(SetKeepAlive { mqtt_s, tcp_s })
    }
}

/// `AT+MQTTKEEPALIVE?`: replies `+MQTTKEEPALIVE:<mqtt>,<tcp>` ([`KeepAlive`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTKEEPALIVE?",
    KeepAlive,
    parse = KeepAlive::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetKeepAlive;

impl GetKeepAlive {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetKeepAlive)
    }
}

/// The reply of `AT+MQTTBUF?`: `+MQTTBUF:<sendBufSize>,<reciveBufSize>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Buffers {
    /// The MQTT send buffer, bytes.
    pub send: u32,
    /// The MQTT receive buffer, bytes.
    pub receive: u32,
}

impl atat::AtatResp for Buffers {}

impl Buffers {
    /// Parses the reply.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let rest = reply_line(reply, b"+MQTTBUF:").ok_or(Error::Parse)?;
        let mut p = params(rest);
        let send = p.next().and_then(number).ok_or(Error::Parse)?;
        let receive = p.next().and_then(number).ok_or(Error::Parse)?;
        if p.next().is_some() {
            return Err(Error::Parse);
        }
        Ok(Buffers { send, receive })
    }
}

/// `AT+MQTTBUF=<sendBufSize>,<reciveBufSize>`: the MQTT buffer sizes in bytes, allocated
/// at the next connection (an established one must be dropped and made again). Replies
/// `OK`. Newer firmware only (third-party digest; uncertain).
///
/// Limits: neither 0 (no range is documented; the module's memory is the bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTBUF",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetBuffers {
    send: u32,
    receive: u32,
}

impl SetBuffers {
    /// Sets both sizes.
    ///
    /// Errors: [`Error::Invalid`] naming `send` or `receive` (0); [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(dialect: Dialect, send: u32, receive: u32) -> Result<Self, Error> {
        combo_only(dialect)?;
        if send == 0 {
            return Err(invalid("send", "0"));
        }
        if receive == 0 {
            return Err(invalid("receive", "0"));
        }
        Ok(SetBuffers { send, receive })
    }
}

/// `AT+MQTTBUF?`: replies `+MQTTBUF:<send>,<receive>` ([`Buffers`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTBUF?",
    Buffers,
    parse = Buffers::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetBuffers;

impl GetBuffers {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetBuffers)
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTCRET
// ---------------------------------------------------------------------------------------

/// `AT+MQTTCRET=<type>,<length>`: uploads the MQTT connection's CA certificate, client
/// certificate or client key (`<type>` 1–3, [`CertKind`]) of `<length>` bytes, written
/// after the `>` prompt with [`Client::send_with_data`](crate::Client::send_with_data);
/// replies `OK`. Kept in RAM only (lost at reboot), used from the next connection.
/// [`SetCert::clear`] sends length 0 ("no certificate"), with [`Client::send`](crate::Client::send).
/// Newer firmware only (third-party digest; uncertain).
///
/// `Debug` shows the kind and length only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCRET",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct SetCert {
    kind: CertKind,
    length: u32,
}

impl SetCert {
    /// Announces a `kind` of `length` bytes.
    ///
    /// Errors: [`Error::Invalid`] naming `length` (0: use [`SetCert::clear`]);
    /// [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, kind: CertKind, length: usize) -> Result<Self, Error> {
        combo_only(dialect)?;
        if length == 0 {
            return Err(invalid("length", "0 (use SetCert::clear)"));
        }
        let length = u32::try_from(length).map_err(|_| invalid("length", "above 4294967295"))?;
        Ok(SetCert { kind, length })
    }

    /// Removes `kind`: `AT+MQTTCRET=<type>,0`.
    ///
    /// Errors: [`Error::Unsupported`] outside Combo-AT.
    pub fn clear(dialect: Dialect, kind: CertKind) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetCert { kind, length: 0 })
    }

    /// The announced length.
    pub fn length(&self) -> usize {
        self.length as usize
    }
}

/// The reply of [`GetCert`]: `+MQTTCRET:<type>,<length>,<content>`; the content is read
/// from [`Client::last_reply`](crate::Client::last_reply) with [`MqttCertInfo::content`].
///
/// A certificate holds line breaks. The module's reply is read line by line, and the
/// client joins the lines with CR LF and leaves blank lines out, so the content is the
/// certificate with CR LF line breaks: its length differs from the module's `len` when
/// the stored text had LF-only breaks or blank lines (nothing of it is cut to `len`). It
/// must fit the client's `RESP` buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MqttCertInfo {
    /// `<type>`.
    pub kind: CertKind,
    /// `<length>` (0: none set).
    pub len: usize,
    /// Offset of the content in the reply.
    pub start: usize,
    /// Content bytes in the reply, as the client joined its lines (see above).
    pub received: usize,
}

impl atat::AtatResp for MqttCertInfo {}

impl MqttCertInfo {
    /// Parses the reply.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        const P: &[u8] = b"+MQTTCRET:";
        let at = if reply.starts_with(P) {
            P.len()
        } else {
            reply
                .windows(P.len() + 1)
                .position(|w| w[0] == b'\n' && &w[1..] == P)
                .ok_or(Error::Parse)?
                + 1
                + P.len()
        };
        let rest = &reply[at..];
        let c1 = rest.iter().position(|&b| b == b',').ok_or(Error::Parse)?;
        let kind = number::<u8>(&rest[..c1])
            .and_then(CertKind::from_code)
            .ok_or(Error::Parse)?;
        let after = &rest[c1 + 1..];
        let end = after
            .iter()
            .position(|&b| matches!(b, b',' | b'\r' | b'\n'))
            .unwrap_or(after.len());
        let len: usize = number(&after[..end]).ok_or(Error::Parse)?;
        let start = at + c1 + 1 + end + usize::from(after.get(end) == Some(&b','));
        Ok(MqttCertInfo {
            kind,
            len,
            start,
            received: reply.len() - start,
        })
    }

    /// The content, from the reply it was parsed from.
    pub fn content<'a>(&self, reply: &'a [u8]) -> &'a [u8] {
        reply
            .get(self.start..self.start + self.received)
            .unwrap_or(&[])
    }
}

/// `AT+MQTTCRET=<type>`: queries a certificate ([`MqttCertInfo`]). Newer firmware only
/// (third-party digest; uncertain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCRET",
    MqttCertInfo,
    parse = MqttCertInfo::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct GetCert {
    kind: CertKind,
}

impl GetCert {
    /// Queries `kind`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, kind: CertKind) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetCert { kind })
    }
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/// A Combo-AT MQTT event, typed from the [`Urc`] the client returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MqttEvent<'a> {
    /// `+EVENT:MQTT_CONNECT`: connected to the broker (after [`Connect`], or after the
    /// module reconnected by itself).
    Connected,
    /// `+EVENT:MQTT_DISCONNECT`: the connection is down (the module retries by itself
    /// until [`Disconnect`]).
    Disconnected,
    /// `+EVENT:MQTT_MALLOC_ERROR`: the module ran out of memory for MQTT.
    MallocError,
    /// `+EVENT:MQTT_SUB,<topic>,<len>,<data>`: an incoming message (`link` is `None`).
    Message(MqttMessage<'a>),
}

impl<'a> MqttEvent<'a> {
    /// Types an [`Urc`]; `None` when it is no Combo-AT MQTT event (an ESP-AT
    /// `+MQTTSUBRECV` message, with a link id, is none either).
    pub fn from_urc(urc: &Urc<'a>) -> Option<MqttEvent<'a>> {
        match *urc {
            Urc::MqttMessage(m) if m.link.is_none() => Some(MqttEvent::Message(m)),
            Urc::Line(l) => MqttEvent::parse_line(l),
            _ => None,
        }
    }

    /// Types an event line (without its line end); `None` for any other line.
    ///
    /// A whole `+EVENT:MQTT_SUB,<topic>,<len>,<data>` line is typed too: the client frames
    /// these messages by length, taking `<len>` from the second field, so a message whose
    /// topic holds a comma reaches here as a plain line. It is recovered when the line
    /// ends in `,<len>,<data>` with exactly `<len>` bytes of data (the rightmost such
    /// split); a payload holding a line break cannot be recovered (its pieces come as
    /// separate lines).
    pub fn parse_line(line: &'a [u8]) -> Option<MqttEvent<'a>> {
        match trim(line) {
            b"+EVENT:MQTT_CONNECT" => Some(MqttEvent::Connected),
            b"+EVENT:MQTT_DISCONNECT" => Some(MqttEvent::Disconnected),
            b"+EVENT:MQTT_MALLOC_ERROR" => Some(MqttEvent::MallocError),
            _ => Self::unframed_message(line).map(MqttEvent::Message),
        }
    }

    fn unframed_message(line: &'a [u8]) -> Option<MqttMessage<'a>> {
        let rest = line.strip_prefix(b"+EVENT:MQTT_SUB,")?;
        // Data starts after a comma at `d`; the length field sits between the comma
        // before it (`l`) and `d`; the topic is what precedes `l`.
        let mut end = rest.len();
        while let Some(d) = rest[..end].iter().rposition(|&b| b == b',') {
            end = d;
            let Some(l) = rest[..d].iter().rposition(|&b| b == b',') else {
                break;
            };
            let data = &rest[d + 1..];
            if l > 0 && number::<usize>(&rest[l + 1..d]) == Some(data.len()) {
                return Some(MqttMessage {
                    link: None,
                    topic: unquote(&rest[..l]),
                    data,
                    len: data.len(),
                    truncated: false,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_rows() {
        let r = SubRow::parse(b"3,a/b,c").unwrap();
        assert_eq!((r.status, r.topic), (SubStatus::Subscribed, &b"a/b,c"[..]));
        assert_eq!(SubRow::parse(b"4,x"), None);
        assert_eq!(SubRow::parse(b"OK"), None);
    }
}
