//! Configuration commands: `AT+MQTTUSERCFG`, `AT+MQTTLONG*`, `AT+MQTTCONNCFG`,
//! `AT+MQTTALPN`, `AT+MQTTSNI`, and W800's queries.

use super::{
    after, flag, lines, lwt_msg_max_len, mqtt_dialect, ok_reply, only, too_long, LinkId, QoS,
    Scheme, ALPN_MAX_COUNT, CLIENT_ID_MAX_LEN, KEEPALIVE_MAX_S, LONG_VALUE_MAX_LEN,
    LWT_MSG_MAX_LEN, LWT_TOPIC_MAX_LEN, PASSWORD_MAX_LEN, PATH_MAX_LEN, USERNAME_MAX_LEN,
};
use crate::command::text::{decode, AtStr};
use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::framer::Ascii;
use crate::parse::{number, params};
use atat::atat_derive::AtatCmd;
use core::fmt;

// ---------------------------------------------------------------------------------------
// AT+MQTTUSERCFG
// ---------------------------------------------------------------------------------------

/// `AT+MQTTUSERCFG=<LinkID>,<scheme>,<"client_id">,<"username">,<"password">,<cert_key_ID>,<CA_ID>,<"path">`:
/// sets the MQTT user attributes. Replies `OK`.
///
/// Limits (checked by [`MqttUserCfg::new`]):
/// - `<LinkID>`: "Currently only supports link ID 0" (always 0 here).
/// - `<scheme>`: see [`Scheme::code`]; Beken has only 1 (TCP) and 2 (TLS-PSK).
/// - `<client_id>`: "maximum length: 256 bytes" ([`CLIENT_ID_MAX_LEN`]).
/// - `<username>`, `<password>`: "maximum length: 64 bytes" ([`USERNAME_MAX_LEN`],
///   [`PASSWORD_MAX_LEN`]); longer ones are set afterwards with [`MqttLongUsername`] /
///   [`MqttLongPassword`] (ESP-AT, W800).
/// - `<cert_key_ID>`, `<CA_ID>`: "only supports one set … with parameter 0" (ESP-AT, W800)
///   and "not supported, and the parameter is 0" (Beken): always 0 here.
/// - `<path>`: "maximum length: 32 bytes" ([`PATH_MAX_LEN`]).
/// - "The total length of each AT command cannot exceed 256 bytes" (checked by the
///   client).
///
/// Beken: strings go unquoted, so client id, username and password must be non-empty
/// and free of `,`, `"` and spaces (its public firmware also refuses empty ones); an
/// empty path is left out (the parameter is last, and Beken treats it as optional).
///
/// `Debug` does not show the password.
#[derive(Clone, Copy, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTUSERCFG",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttUserCfg<'a> {
    link: LinkId,
    scheme: u8,
    client_id: AtStr<'a>,
    username: AtStr<'a>,
    password: AtStr<'a>,
    cert_key_id: u8,
    ca_id: u8,
    path: Option<AtStr<'a>>,
}

impl<'a> MqttUserCfg<'a> {
    /// The command for `dialect`.
    ///
    /// Errors: [`Error::Invalid`] naming `client_id`, `username`, `password` or `path`;
    /// [`Error::Unsupported`] for a scheme the dialect lacks, or on Ai-Thinker.
    pub fn new(
        dialect: Dialect,
        scheme: Scheme,
        client_id: &'a str,
        username: &'a str,
        password: &'a str,
        path: &'a str,
    ) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        let scheme = scheme.code(dialect)?;
        too_long(
            "client_id",
            client_id.len(),
            CLIENT_ID_MAX_LEN,
            "longer than 256 bytes",
        )?;
        let client_id = AtStr::new(dialect, "client_id", client_id)?;
        too_long(
            "username",
            username.len(),
            USERNAME_MAX_LEN,
            "longer than 64 bytes (use AT+MQTTLONGUSERNAME)",
        )?;
        let username = AtStr::new(dialect, "username", username)?;
        too_long(
            "password",
            password.len(),
            PASSWORD_MAX_LEN,
            "longer than 64 bytes (use AT+MQTTLONGPASSWORD)",
        )?;
        let password = AtStr::new(dialect, "password", password)?;
        too_long("path", path.len(), PATH_MAX_LEN, "longer than 32 bytes")?;
        let path = if path.is_empty() && dialect == Dialect::Beken {
            None
        } else {
            Some(AtStr::new(dialect, "path", path)?)
        };
        Ok(MqttUserCfg {
            link: LinkId::ZERO,
            scheme,
            client_id,
            username,
            password,
            cert_key_id: 0,
            ca_id: 0,
            path,
        })
    }

    /// The `<scheme>` number sent.
    pub fn scheme_code(&self) -> u8 {
        self.scheme
    }
}

impl fmt::Debug for MqttUserCfg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttUserCfg")
            .field("link", &self.link)
            .field("scheme", &self.scheme)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &"***")
            .field("cert_key_id", &self.cert_key_id)
            .field("ca_id", &self.ca_id)
            .field("path", &self.path)
            .finish()
    }
}

/// `AT+MQTTUSERCFG?` (W800 only): reads the user attributes back. Replies
/// `+MQTTUSERCFG:<LinkID>,<scheme>,<"client_id">,<"username">,<"password">,<cert_key_ID>,<CA_ID>,<"path">`
/// and `OK`, parsed into [`MqttUserCfgInfo`].
///
/// Like every query here it can only be made through `new`, which checks the dialect:
///
/// ```compile_fail
/// let q = at_wifi::command::mqtt::MqttUserCfgQuery;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTUSERCFG?",
    MqttUserCfgInfo,
    parse = MqttUserCfgInfo::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct MqttUserCfgQuery;

impl MqttUserCfgQuery {
    /// The query; [`Error::Unsupported`] outside W800 (only its document has it).
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        only(dialect, &[Dialect::W800], "AT+MQTTUSERCFG? (W800 only)")?;
        Ok(MqttUserCfgQuery)
    }
}

/// The reply to [`MqttUserCfgQuery`]. Strings are unquoted and unescaped.
///
/// A value set with `AT+MQTTLONG*` longer than the capacity here makes the reply fail to
/// parse ([`Error::Parse`]). `Debug` does not show the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MqttUserCfgInfo {
    /// `<LinkID>`.
    pub link: u8,
    /// `<scheme>`, as numbered by W800 (see [`MqttUserCfgInfo::scheme`]).
    pub scheme: u8,
    /// `<client_id>`.
    pub client_id: heapless::Vec<u8, CLIENT_ID_MAX_LEN>,
    /// `<username>`.
    pub username: heapless::Vec<u8, USERNAME_MAX_LEN>,
    /// `<password>`.
    pub password: heapless::Vec<u8, PASSWORD_MAX_LEN>,
    /// `<cert_key_ID>`.
    pub cert_key_id: u8,
    /// `<CA_ID>`.
    pub ca_id: u8,
    /// `<path>`.
    pub path: heapless::Vec<u8, PATH_MAX_LEN>,
}

impl atat::AtatResp for MqttUserCfgInfo {}

impl MqttUserCfgInfo {
    /// The scheme, if the number is one of W800's 1–10.
    pub fn scheme(&self) -> Option<Scheme> {
        Scheme::from_code(Dialect::W800, self.scheme)
    }

    /// Parses the reply lines (the `+MQTTUSERCFG:` line; others are ignored).
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        lines(reply)
            .find_map(|l| after(l, b"+MQTTUSERCFG:"))
            .and_then(Self::from_params)
            .ok_or(Error::Parse)
    }

    fn from_params(rest: &[u8]) -> Option<Self> {
        let mut p = params(rest);
        let info = MqttUserCfgInfo {
            link: number(p.next()?)?,
            scheme: number(p.next()?)?,
            client_id: decode(p.next()?)?,
            username: decode(p.next()?)?,
            password: decode(p.next()?)?,
            cert_key_id: number(p.next()?)?,
            ca_id: number(p.next()?)?,
            path: decode(p.next()?)?,
        };
        p.next().is_none().then_some(info)
    }
}

impl fmt::Debug for MqttUserCfgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttUserCfgInfo")
            .field("link", &self.link)
            .field("scheme", &self.scheme)
            .field("client_id", &Ascii(&self.client_id))
            .field("username", &Ascii(&self.username))
            .field("password", &"***")
            .field("cert_key_id", &self.cert_key_id)
            .field("ca_id", &self.ca_id)
            .field("path", &Ascii(&self.path))
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTLONGCLIENTID / LONGUSERNAME / LONGPASSWORD
// ---------------------------------------------------------------------------------------

macro_rules! long_value_command {
    ($(#[$doc:meta])* $name:ident, $cmd:tt, $what:tt) => {
        $(#[$doc])*
        ///
        /// `<LinkID>`: "Currently only supports link ID 0". `<length>`: "Scope: `[1,1024]`"
        /// ([`LONG_VALUE_MAX_LEN`]). Send it with
        /// [`Client::send_with_data`](crate::Client::send_with_data) and exactly
        /// `<length>` bytes: the module answers `OK` and `>`, reads the bytes, and answers
        /// `OK`. "After setting AT+MQTTUSERCFG use" this command. ESP-AT and W800 only
        /// (Beken's document has no such command).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
        #[at_cmd(
            $cmd,
            NoResponse,
            parse = ok_reply,
            timeout_ms = 5000,
            termination = "\r\n"
        )]
        pub struct $name {
            link: LinkId,
            length: u16,
        }

        impl $name {
            /// The command announcing `length` bytes.
            ///
            /// Errors: [`Error::Invalid`] with field `length` outside 1–1024;
            /// [`Error::Unsupported`] on Beken and Ai-Thinker.
            pub fn new(dialect: Dialect, length: usize) -> Result<Self, Error> {
                only(dialect, &[Dialect::EspAt, Dialect::W800], $what)?;
                if length == 0 {
                    return Err(Error::Invalid {
                        field: "length",
                        reason: "0 (the scope is [1,1024])",
                    });
                }
                too_long("length", length, LONG_VALUE_MAX_LEN, "above 1024 (the scope is [1,1024])")?;
                Ok($name {
                    link: LinkId::ZERO,
                    // Cannot fail: 1 ≤ length ≤ 1024.
                    length: u16::try_from(length).unwrap_or(0),
                })
            }

            /// The announced length.
            pub fn length(&self) -> usize {
                usize::from(self.length)
            }
        }
    };
}

long_value_command!(
    /// `AT+MQTTLONGCLIENTID=<LinkID>,<length>`: sets a client id longer than
    /// [`MqttUserCfg`] can carry ("because the length of the AT+MQTTUSERCFG command is
    /// limited").
    MqttLongClientId,
    "+MQTTLONGCLIENTID",
    "AT+MQTTLONGCLIENTID (ESP-AT and W800 only)"
);

long_value_command!(
    /// `AT+MQTTLONGUSERNAME=<LinkID>,<length>`: sets a username longer than the 64 bytes
    /// [`MqttUserCfg`] allows.
    MqttLongUsername,
    "+MQTTLONGUSERNAME",
    "AT+MQTTLONGUSERNAME (ESP-AT and W800 only)"
);

long_value_command!(
    /// `AT+MQTTLONGPASSWORD=<LinkID>,<length>`: sets a password longer than the 64 bytes
    /// [`MqttUserCfg`] allows. The command holds only the length; the password goes as
    /// the data.
    MqttLongPassword,
    "+MQTTLONGPASSWORD",
    "AT+MQTTLONGPASSWORD (ESP-AT and W800 only)"
);

// ---------------------------------------------------------------------------------------
// AT+MQTTCONNCFG
// ---------------------------------------------------------------------------------------

/// The last will of [`MqttConnCfg`]: published by the broker when the module drops off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Will<'a> {
    /// `<lwt_topic>`: 1–128 bytes ([`LWT_TOPIC_MAX_LEN`]).
    pub topic: &'a str,
    /// `<lwt_msg>`: up to 128 bytes, 64 on Beken ([`LWT_MSG_MAX_LEN`],
    /// [`BEKEN_LWT_MSG_MAX_LEN`](super::BEKEN_LWT_MSG_MAX_LEN)).
    pub message: &'a [u8],
    /// `<lwt_qos>`.
    pub qos: QoS,
    /// `<lwt_retain>`.
    pub retain: bool,
}

/// `AT+MQTTCONNCFG=<LinkID>,<keepalive>,<disable_clean_session>,<"lwt_topic">,<"lwt_msg">,<lwt_qos>,<lwt_retain>`:
/// sets the connection attributes. Replies `OK`.
///
/// Limits (checked by [`MqttConnCfg::new`]):
/// - `<keepalive>`: seconds, "Scope: `[0,7200]`. Default: 0, It will be forcibly changed
///   to 120 seconds." ([`KEEPALIVE_MAX_S`]).
/// - `<disable_clean_session>`: "0: Enable session cleaning; 1: Disable cleaning sessions".
/// - `<lwt_topic>`: "maximum length: 128 bytes" ([`LWT_TOPIC_MAX_LEN`]).
/// - `<lwt_msg>`: "maximum length: 128 bytes" (ESP-AT, W800), "64 bytes" (Beken)
///   ([`LWT_MSG_MAX_LEN`], [`BEKEN_LWT_MSG_MAX_LEN`](super::BEKEN_LWT_MSG_MAX_LEN)).
/// - `<lwt_qos>`: 0, 1, 2; `<lwt_retain>`: 0 or 1.
///
/// Without a will, ESP-AT and W800 get `"",""` with QoS 0 and retain 0. Beken cannot
/// carry empty unquoted strings and its public firmware refuses an empty will topic, so
/// on Beken a will is required ([`Error::Invalid`] with field `lwt_topic` otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCONNCFG",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttConnCfg<'a> {
    link: LinkId,
    keepalive: u16,
    disable_clean_session: u8,
    lwt_topic: AtStr<'a>,
    lwt_msg: AtStr<'a>,
    lwt_qos: QoS,
    lwt_retain: u8,
}

impl<'a> MqttConnCfg<'a> {
    /// The command for `dialect`: keepalive in seconds (0 = the module's 120 s), the
    /// clean-session flag as the firmware spells it, and an optional last will.
    ///
    /// Errors: [`Error::Invalid`] naming `keepalive`, `lwt_topic` or `lwt_msg`;
    /// [`Error::Unsupported`] on Ai-Thinker.
    pub fn new(
        dialect: Dialect,
        keepalive_s: u16,
        disable_clean_session: bool,
        will: Option<Will<'a>>,
    ) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        if keepalive_s > KEEPALIVE_MAX_S {
            return Err(Error::Invalid {
                field: "keepalive",
                reason: "above 7200 s (the scope is [0,7200])",
            });
        }
        let (topic, message, qos, retain) = match will {
            Some(w) => {
                if w.topic.is_empty() {
                    return Err(Error::Invalid {
                        field: "lwt_topic",
                        reason: "empty (pass no will instead)",
                    });
                }
                (w.topic.as_bytes(), w.message, w.qos, w.retain)
            }
            None => (&b""[..], &b""[..], QoS::AtMostOnce, false),
        };
        too_long(
            "lwt_topic",
            topic.len(),
            LWT_TOPIC_MAX_LEN,
            "longer than 128 bytes",
        )?;
        let lwt_topic = AtStr::new(dialect, "lwt_topic", topic)?;
        let msg_reason = if dialect == Dialect::Beken {
            "longer than 64 bytes (Beken)"
        } else {
            "longer than 128 bytes"
        };
        too_long(
            "lwt_msg",
            message.len(),
            lwt_msg_max_len(dialect),
            msg_reason,
        )?;
        let lwt_msg = AtStr::new(dialect, "lwt_msg", message)?;
        Ok(MqttConnCfg {
            link: LinkId::ZERO,
            keepalive: keepalive_s,
            disable_clean_session: u8::from(disable_clean_session),
            lwt_topic,
            lwt_msg,
            lwt_qos: qos,
            lwt_retain: u8::from(retain),
        })
    }
}

/// `AT+MQTTCONNCFG?` (W800 only): reads the connection attributes back. Replies
/// `+MQTTCONNCFG:<LinkID>,<keepalive>,<disable_clean_session>,<"lwt_topic">,<"lwt_msg">,<lwt_qos>,<lwt_retain>`
/// and `OK`, parsed into [`MqttConnCfgInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTCONNCFG?",
    MqttConnCfgInfo,
    parse = MqttConnCfgInfo::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct MqttConnCfgQuery;

impl MqttConnCfgQuery {
    /// The query; [`Error::Unsupported`] outside W800 (only its document has it).
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        only(dialect, &[Dialect::W800], "AT+MQTTCONNCFG? (W800 only)")?;
        Ok(MqttConnCfgQuery)
    }
}

/// The reply to [`MqttConnCfgQuery`]. Strings are unquoted and unescaped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MqttConnCfgInfo {
    /// `<LinkID>`.
    pub link: u8,
    /// `<keepalive>`, seconds.
    pub keepalive: u16,
    /// `<disable_clean_session>`.
    pub disable_clean_session: bool,
    /// `<lwt_topic>`.
    pub lwt_topic: heapless::Vec<u8, LWT_TOPIC_MAX_LEN>,
    /// `<lwt_msg>`.
    pub lwt_msg: heapless::Vec<u8, LWT_MSG_MAX_LEN>,
    /// `<lwt_qos>`.
    pub lwt_qos: QoS,
    /// `<lwt_retain>`.
    pub lwt_retain: bool,
}

impl atat::AtatResp for MqttConnCfgInfo {}

impl MqttConnCfgInfo {
    /// Parses the reply lines (the `+MQTTCONNCFG:` line; others are ignored).
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        lines(reply)
            .find_map(|l| after(l, b"+MQTTCONNCFG:"))
            .and_then(Self::from_params)
            .ok_or(Error::Parse)
    }

    fn from_params(rest: &[u8]) -> Option<Self> {
        let mut p = params(rest);
        let info = MqttConnCfgInfo {
            link: number(p.next()?)?,
            keepalive: number(p.next()?)?,
            disable_clean_session: flag(p.next()?)?,
            lwt_topic: decode(p.next()?)?,
            lwt_msg: decode(p.next()?)?,
            lwt_qos: QoS::parse(p.next()?)?,
            lwt_retain: flag(p.next()?)?,
        };
        p.next().is_none().then_some(info)
    }
}

impl fmt::Debug for MqttConnCfgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConnCfgInfo")
            .field("link", &self.link)
            .field("keepalive", &self.keepalive)
            .field("disable_clean_session", &self.disable_clean_session)
            .field("lwt_topic", &Ascii(&self.lwt_topic))
            .field("lwt_msg", &Ascii(&self.lwt_msg))
            .field("lwt_qos", &self.lwt_qos)
            .field("lwt_retain", &self.lwt_retain)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTALPN
// ---------------------------------------------------------------------------------------

/// `AT+MQTTALPN=<LinkID>,<alpn_counts>[,<"alpn">][,<"alpn">]…`: sets the ALPN names of
/// the TLS ClientHello (ESP-AT, W800). Replies `OK`.
///
/// - `<alpn_counts>`: "Scope: `[0,5]`. 0: Clear MQTT ALPN configuration" ([`ALPN_MAX_COUNT`]).
/// - "The length of the entire AT command should be less than 256 bytes" (checked by the
///   client); "only takes effect when MQTT is based on TLS or WSS"; "After setting
///   AT+MQTTUSERCFG use AT+MQTTALPN".
///
/// An empty name is refused (a TLS ALPN protocol name has at least one byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTALPN",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttAlpn<'a> {
    link: LinkId,
    count: u8,
    alpn1: Option<AtStr<'a>>,
    alpn2: Option<AtStr<'a>>,
    alpn3: Option<AtStr<'a>>,
    alpn4: Option<AtStr<'a>>,
    alpn5: Option<AtStr<'a>>,
}

impl<'a> MqttAlpn<'a> {
    /// Sets `names` (0–5; none clears the configuration).
    ///
    /// Errors: [`Error::Invalid`] with field `alpn_counts` for more than 5 names, `alpn`
    /// for an empty or unsendable name; [`Error::Unsupported`] on Beken (its document has
    /// no ALPN) and Ai-Thinker.
    pub fn new(dialect: Dialect, names: &[&'a str]) -> Result<Self, Error> {
        only(
            dialect,
            &[Dialect::EspAt, Dialect::W800],
            "AT+MQTTALPN (ESP-AT and W800 only)",
        )?;
        if names.len() > ALPN_MAX_COUNT {
            return Err(Error::Invalid {
                field: "alpn_counts",
                reason: "more than 5 names (the scope is [0,5])",
            });
        }
        let mut slots: [Option<AtStr<'a>>; ALPN_MAX_COUNT] = [None; ALPN_MAX_COUNT];
        for (slot, name) in slots.iter_mut().zip(names) {
            if name.is_empty() {
                return Err(Error::Invalid {
                    field: "alpn",
                    reason: "empty",
                });
            }
            *slot = Some(AtStr::new(dialect, "alpn", *name)?);
        }
        let [alpn1, alpn2, alpn3, alpn4, alpn5] = slots;
        Ok(MqttAlpn {
            link: LinkId::ZERO,
            // Cannot fail: at most 5.
            count: u8::try_from(names.len()).unwrap_or(0),
            alpn1,
            alpn2,
            alpn3,
            alpn4,
            alpn5,
        })
    }
}

/// `AT+MQTTALPN?` (W800 only): reads the ALPN names back. Replies up to five
/// `+MQTTALPN:<LinkID>,<"alpn">` lines and `OK`, parsed into [`MqttAlpnList`] (zero
/// lines give an empty list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTALPN?",
    MqttAlpnList,
    parse = MqttAlpnList::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct MqttAlpnQuery;

impl MqttAlpnQuery {
    /// The query; [`Error::Unsupported`] outside W800 (only its document has it).
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        only(dialect, &[Dialect::W800], "AT+MQTTALPN? (W800 only)")?;
        Ok(MqttAlpnQuery)
    }
}

const ALPN_LIST_CAPACITY: usize = 256;

/// The ALPN names of [`MqttAlpnQuery`]'s reply, unquoted and unescaped, in reply order.
///
/// Stored back to back in [`MqttAlpnList::CAPACITY`] bytes: the names were set by one
/// command line of at most 256 bytes, so they always fit.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MqttAlpnList {
    bytes: heapless::Vec<u8, ALPN_LIST_CAPACITY>,
    ends: heapless::Vec<u16, ALPN_MAX_COUNT>,
}

impl atat::AtatResp for MqttAlpnList {}

impl MqttAlpnList {
    /// Bytes for all names together: 256, the longest command line.
    pub const CAPACITY: usize = ALPN_LIST_CAPACITY;

    /// How many names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when no name is set.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Name number `i` (from 0).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = usize::from(*self.ends.get(i)?);
        let start = match i.checked_sub(1) {
            Some(prev) => usize::from(*self.ends.get(prev)?),
            None => 0,
        };
        self.bytes.get(start..end)
    }

    /// The names in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// Parses the reply lines: 0–5 `+MQTTALPN:<LinkID>,<"alpn">` lines (others are
    /// ignored; an empty name is skipped). More than 5 names is [`Error::Parse`].
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let mut list = MqttAlpnList::default();
        for rest in lines(reply).filter_map(|l| after(l, b"+MQTTALPN:")) {
            let mut p = params(rest);
            let _link: u8 = p.next().and_then(number).ok_or(Error::Parse)?;
            let name: heapless::Vec<u8, ALPN_LIST_CAPACITY> =
                p.next().and_then(decode).ok_or(Error::Parse)?;
            if p.next().is_some() {
                return Err(Error::Parse);
            }
            if name.is_empty() {
                continue;
            }
            list.bytes
                .extend_from_slice(&name)
                .map_err(|_| Error::Parse)?;
            let end = u16::try_from(list.bytes.len()).map_err(|_| Error::Parse)?;
            list.ends.push(end).map_err(|_| Error::Parse)?;
        }
        Ok(list)
    }
}

impl fmt::Debug for MqttAlpnList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(Ascii)).finish()
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTSNI
// ---------------------------------------------------------------------------------------

/// `AT+MQTTSNI=<LinkID>,<"sni">` (ESP-AT only): sets the Server Name Indication sent in
/// the TLS ClientHello. Replies `OK`.
///
/// "The length of the entire AT command should be less than 256 bytes" (checked by the
/// client); "only takes effect when MQTT is based on TLS or WSS"; "After setting
/// AT+MQTTUSERCFG use AT+MQTTSNI". W800's and Beken's documents have no SNI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTSNI",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttSni<'a> {
    link: LinkId,
    sni: AtStr<'a>,
}

impl<'a> MqttSni<'a> {
    /// Sets `sni`.
    ///
    /// Errors: [`Error::Unsupported`] outside ESP-AT; [`Error::Invalid`] with field `sni`
    /// for an unsendable value.
    pub fn new(dialect: Dialect, sni: &'a str) -> Result<Self, Error> {
        only(dialect, &[Dialect::EspAt], "AT+MQTTSNI (ESP-AT only)")?;
        Ok(MqttSni {
            link: LinkId::ZERO,
            sni: AtStr::new(dialect, "sni", sni)?,
        })
    }
}
