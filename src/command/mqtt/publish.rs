//! `AT+MQTTPUB` and `AT+MQTTPUBRAW`.

use super::{mqtt_dialect, ok_reply, only, LinkId, QoS, BEKEN_PUBRAW_MAX_LEN};
use crate::command::text::{AtStr, MAX_VALUE_LEN};
use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use atat::atat_derive::AtatCmd;

/// `AT+MQTTPUB=<LinkID>,<"topic">,<"data">,<qos>,<retain>`: publishes a string message.
/// Replies `OK`.
///
/// Limits (checked by [`MqttPub::new`]):
/// - `<topic>`: "maximum length: 128 bytes, does not support setting an empty string"
///   ([`TOPIC_MAX_LEN`](super::TOPIC_MAX_LEN)).
/// - `<data>`: "The total length of each AT command cannot exceed 256 bytes" (the client
///   checks the line; longer data goes through [`MqttPubRaw`]); "This command cannot
///   send data `\0`"; CR and LF are refused too (they would end the line). An empty
///   message is refused: modules answer it with `ERROR`.
/// - `<qos>`: 0, 1, 2; `<retain>`: 0 or 1.
///
/// ESP-AT and W800 get the data quoted with `\"`, `\,`, `\\` escaped (the documents:
/// "please pay attention to whether special characters need to be escaped"). Beken gets
/// it unquoted as in its example `AT+MQTTPUB=0,test/abc,987654321,1,0`, so data with `,`,
/// `"` or spaces must go through [`MqttPubRaw`] there.
///
/// Beken's public firmware answers `+MQTTPUB:OK` or `+MQTTPUB:ERROR,<n>` where its
/// document says `OK` (see [`parse_pub_result`](super::parse_pub_result)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTPUB",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttPub<'a> {
    link: LinkId,
    topic: AtStr<'a>,
    data: AtStr<'a>,
    qos: QoS,
    retain: u8,
}

impl<'a> MqttPub<'a> {
    /// Publishes `data` on `topic`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic` or `data`; [`Error::Unsupported`] on
    /// Ai-Thinker.
    pub fn new(
        dialect: Dialect,
        topic: &'a str,
        data: &'a [u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        let topic = super::topic(dialect, "topic", topic)?;
        if data.is_empty() {
            return Err(Error::Invalid {
                field: "data",
                reason: "empty (modules answer ERROR to an empty message)",
            });
        }
        if data.len() > MAX_VALUE_LEN {
            return Err(Error::Invalid {
                field: "data",
                reason: "longer than a 256-byte command line (use AT+MQTTPUBRAW)",
            });
        }
        Ok(MqttPub {
            link: LinkId::ZERO,
            topic,
            data: AtStr::new(dialect, "data", data)?,
            qos,
            retain: u8::from(retain),
        })
    }
}

/// `AT+MQTTPUBRAW=<LinkID>,<"topic">,<length>,<qos>,<retain>[,<timeout_ms>]`: publishes
/// `<length>` raw bytes sent after the `>` prompt; send it with
/// [`Client::send_with_data`](crate::Client::send_with_data).
///
/// The module answers `OK` and `>`, reads exactly `<length>` bytes, then `+MQTTPUB:OK` /
/// `+MQTTPUB:FAIL` (ESP-AT, W800) or `+MQTTPUBRAW:OK` / `+MQTTPUBRAW:ERROR,<n>` (Beken).
///
/// Limits (checked by the constructors):
/// - `<topic>`: "maximum length: 128 bytes, does not support setting an empty string".
/// - `<length>`: at least 1 (modules answer `ERROR` to length 0); Beken: "maximum
///   length: 512 bytes" ([`BEKEN_PUBRAW_MAX_LEN`]); ESP-AT and W800: "limited by
///   available memory" (no number).
/// - `<timeout_ms>`: optional, newer ESP-AT firmware only ([`MqttPubRaw::with_timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTPUBRAW",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttPubRaw<'a> {
    link: LinkId,
    topic: AtStr<'a>,
    length: u32,
    qos: QoS,
    retain: u8,
    timeout_ms: Option<u32>,
}

impl<'a> MqttPubRaw<'a> {
    /// Announces a message of `length` bytes on `topic`.
    ///
    /// Errors: [`Error::Invalid`] naming `topic` or `length`; [`Error::Unsupported`] on
    /// Ai-Thinker.
    pub fn new(
        dialect: Dialect,
        topic: &'a str,
        length: usize,
        qos: QoS,
        retain: bool,
    ) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        let topic = super::topic(dialect, "topic", topic)?;
        if length == 0 {
            return Err(Error::Invalid {
                field: "length",
                reason: "0 (modules answer ERROR to an empty message)",
            });
        }
        if dialect == Dialect::Beken && length > BEKEN_PUBRAW_MAX_LEN {
            return Err(Error::Invalid {
                field: "length",
                reason: "above 512 bytes (Beken)",
            });
        }
        let length = u32::try_from(length).map_err(|_| Error::Invalid {
            field: "length",
            reason: "above 4294967295 bytes",
        })?;
        Ok(MqttPubRaw {
            link: LinkId::ZERO,
            topic,
            length,
            qos,
            retain: u8::from(retain),
            timeout_ms: None,
        })
    }

    /// Like [`MqttPubRaw::new`], with ESP-AT's optional trailing `<timeout_ms>` (newer
    /// ESP-AT firmware; the documents give no range).
    ///
    /// Errors: as [`MqttPubRaw::new`], and [`Error::Unsupported`] outside ESP-AT.
    pub fn with_timeout(
        dialect: Dialect,
        topic: &'a str,
        length: usize,
        qos: QoS,
        retain: bool,
        timeout_ms: u32,
    ) -> Result<Self, Error> {
        only(
            dialect,
            &[Dialect::EspAt],
            "AT+MQTTPUBRAW <timeout_ms> (ESP-AT only)",
        )?;
        Ok(MqttPubRaw {
            timeout_ms: Some(timeout_ms),
            ..Self::new(dialect, topic, length, qos, retain)?
        })
    }

    /// The announced length.
    pub fn length(&self) -> usize {
        self.length as usize
    }
}
