//! `AT+MQTTSUB` (subscribe, query) and `AT+MQTTUNSUB`.

use super::{after, lines, mqtt_dialect, ConnState, LinkId, QoS, MAX_SUBSCRIPTIONS, TOPIC_MAX_LEN};
use crate::command::text::{decode, AtStr};
use crate::dialect::Dialect;
use crate::error::Error;
use crate::framer::{trim, Ascii};
use crate::parse::number;
use atat::atat_derive::AtatCmd;
use core::fmt;

/// A notice line the firmwares print in reply to `AT+MQTTSUB` / `AT+MQTTUNSUB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubNotice {
    /// `ALREADY SUBSCRIBE`: "If the topic has already been subscribed to".
    AlreadySubscribed,
    /// `ALREADY FULL SUBSCRIBE`: "You can subscribe to up to 10 topics, and when the
    /// subscription is full, you will receive a prompt" (W800).
    Full,
    /// `NO UNSUBSCRIBE`: "If the topic has not been subscribed to" (followed by `OK`).
    NotSubscribed,
}

impl SubNotice {
    /// Types a reply line; `None` for any other line. Surrounding spaces are ignored.
    ///
    /// ```
    /// use at_wifi::command::mqtt::SubNotice;
    /// assert_eq!(SubNotice::classify(b"ALREADY SUBSCRIBE"), Some(SubNotice::AlreadySubscribed));
    /// assert_eq!(SubNotice::classify(b"NO UNSUBSCRIBE "), Some(SubNotice::NotSubscribed));
    /// assert_eq!(SubNotice::classify(b"OK"), None);
    /// ```
    pub fn classify(line: &[u8]) -> Option<SubNotice> {
        match trim(line) {
            b"ALREADY SUBSCRIBE" => Some(SubNotice::AlreadySubscribed),
            b"ALREADY FULL SUBSCRIBE" => Some(SubNotice::Full),
            b"NO UNSUBSCRIBE" => Some(SubNotice::NotSubscribed),
            _ => None,
        }
    }
}

/// The reply to [`MqttSub`] and [`MqttUnsub`]: the notice that came before `OK`, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubReply {
    /// `ALREADY SUBSCRIBE`, `ALREADY FULL SUBSCRIBE` or `NO UNSUBSCRIBE`.
    pub notice: Option<SubNotice>,
}

impl atat::AtatResp for SubReply {}

impl SubReply {
    /// Parses the reply lines: the first notice line; other lines are ignored.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        Ok(SubReply {
            notice: lines(reply).find_map(SubNotice::classify),
        })
    }
}

/// `AT+MQTTSUB=<LinkID>,<"topic">,<qos>`: subscribes to a topic. Replies `OK`, with
/// `ALREADY SUBSCRIBE` (or W800's `ALREADY FULL SUBSCRIBE` after
/// [`MAX_SUBSCRIPTIONS`] topics) reported in [`SubReply`].
///
/// `<topic>`: "does not support setting an empty string" (W800), at most 128 bytes as
/// every topic ([`TOPIC_MAX_LEN`]). Messages then arrive as `+MQTTSUBRECV` events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTSUB",
    SubReply,
    parse = SubReply::from_reply,
    timeout_ms = 10000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttSub<'a> {
    link: LinkId,
    topic: AtStr<'a>,
    qos: QoS,
}

impl<'a> MqttSub<'a> {
    /// Subscribes to `topic` with `qos`.
    ///
    /// Errors: [`Error::Invalid`] with field `topic`; [`Error::Unsupported`] on
    /// Ai-Thinker.
    pub fn new(dialect: Dialect, topic: &'a str, qos: QoS) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        Ok(MqttSub {
            link: LinkId::ZERO,
            topic: super::topic(dialect, "topic", topic)?,
            qos,
        })
    }
}

/// `AT+MQTTUNSUB=<LinkID>,<"topic">`: unsubscribes. Replies `OK`, after `NO UNSUBSCRIBE`
/// when "the topic has not been subscribed to" (reported in [`SubReply`]).
///
/// `<topic>`: "maximum length: 128 bytes, does not support setting an empty string".
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTUNSUB",
    SubReply,
    parse = SubReply::from_reply,
    timeout_ms = 10000,
    termination = "\r\n",
    escape_strings = false
)]
pub struct MqttUnsub<'a> {
    link: LinkId,
    topic: AtStr<'a>,
}

impl<'a> MqttUnsub<'a> {
    /// Unsubscribes from `topic`.
    ///
    /// Errors: [`Error::Invalid`] with field `topic`; [`Error::Unsupported`] on
    /// Ai-Thinker.
    pub fn new(dialect: Dialect, topic: &'a str) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        Ok(MqttUnsub {
            link: LinkId::ZERO,
            topic: super::topic(dialect, "topic", topic)?,
        })
    }
}

/// `AT+MQTTSUB?`: the subscribed topics, parsed into [`MqttSubscriptions`]. Every MQTT
/// dialect has it.
///
/// Reply: 0 to [`MAX_SUBSCRIPTIONS`] lines `+MQTTSUB:<LinkID>,<state>,<"topic">,<qos>`
/// and `OK`. ESP-AT with no subscription answers `+MQTTSUB:0,<state>,"",0`; Beken's
/// document prints the topic unquoted and the QoS quoted
/// (`+MQTTSUB: <linkid>,<status>,<topic2>,<"qos">`). All these forms are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+MQTTSUB?",
    MqttSubscriptions,
    parse = MqttSubscriptions::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct MqttSubQuery;

impl MqttSubQuery {
    /// The query; [`Error::Unsupported`] on Ai-Thinker.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        mqtt_dialect(dialect)?;
        Ok(MqttSubQuery)
    }
}

/// One line of [`MqttSubQuery`]'s reply.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// `<LinkID>`.
    pub link: u8,
    /// `<topic>`, unquoted and unescaped.
    pub topic: heapless::Vec<u8, TOPIC_MAX_LEN>,
    /// `<qos>`.
    pub qos: QoS,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("link", &self.link)
            .field("topic", &Ascii(&self.topic))
            .field("qos", &self.qos)
            .finish()
    }
}

/// The reply to [`MqttSubQuery`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MqttSubscriptions {
    /// The `<state>` of the last line; `None` when the module printed no line.
    pub state: Option<ConnState>,
    /// The subscribed topics, in reply order (ESP-AT's empty-topic line adds none).
    pub topics: heapless::Vec<Subscription, MAX_SUBSCRIPTIONS>,
}

impl atat::AtatResp for MqttSubscriptions {}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let (head, tail) = s.split_at(s.iter().position(|&b| b == sep)?);
    Some((head, tail.get(1..)?))
}

fn rsplit_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let (head, tail) = s.split_at(s.iter().rposition(|&b| b == sep)?);
    Some((head, tail.get(1..)?))
}

impl MqttSubscriptions {
    /// Parses the reply lines (`+MQTTSUB:` lines; others are ignored). More than
    /// [`MAX_SUBSCRIPTIONS`] topics, or a malformed line, is [`Error::Parse`].
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let mut subs = MqttSubscriptions::default();
        for rest in lines(reply).filter_map(|l| after(l, b"+MQTTSUB:")) {
            let (state, sub) = Self::line(rest).ok_or(Error::Parse)?;
            subs.state = Some(state);
            if let Some(sub) = sub {
                subs.topics.push(sub).map_err(|_| Error::Parse)?;
            }
        }
        Ok(subs)
    }

    /// `<LinkID>,<state>,<topic>,<qos>`; the topic may hold commas (it is everything
    /// between the second and the last comma).
    fn line(rest: &[u8]) -> Option<(ConnState, Option<Subscription>)> {
        let (link, rest) = split_once(rest, b',')?;
        let (state, rest) = split_once(rest, b',')?;
        let (topic, qos) = rsplit_once(rest, b',')?;
        let state = ConnState::parse(state)?;
        let topic: heapless::Vec<u8, TOPIC_MAX_LEN> = decode(topic)?;
        let link = number(link)?;
        let qos = QoS::parse(qos)?;
        if topic.is_empty() {
            return Some((state, None));
        }
        Some((state, Some(Subscription { link, topic, qos })))
    }
}
