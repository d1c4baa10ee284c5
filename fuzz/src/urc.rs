//! The `urc_parse` target: arbitrary lines, replies and data frames into every parser of
//! module text — [`Urc::parse_line`], [`Urc::parse_data`], the MQTT URC and result
//! parsers (`command/mqtt/urc.rs`), the Wi-Fi reply parsers (`command/wifi.rs`), and the
//! other reply parsers (`AT+GMR`, the MQTT queries, ESP-AT error codes, `parse`).
//!
//! Input: `[sel][declared u16 LE][split]` then the text. The text is parsed as one line,
//! as a whole reply (lines joined by CR LF, as the client collects them) and as a data
//! frame whose header is its first `split` bytes and whose payload is the rest, with the
//! declared length `declared` and `truncated = sel & 1`.
//!
//! Checked: nothing panics; `Urc::is_known_line` agrees with `parse_line` (a line is known
//! exactly when it does not come back as `Urc::Line`); a parsed `+CIPSNTPTIME` is a valid
//! date; a data frame comes back as a message, socket data or itself, with the frame's
//! payload, declared length and truncation.

use crate::Reader;
use at_wifi::command::basic::GetVersion;
use at_wifi::command::esp_error::EspErrorCode;
use at_wifi::command::mqtt::{
    parse_conn_result, parse_pub_result, parse_pubraw_result, ConnState, MqttAlpnList,
    MqttConnCfgInfo, MqttConnStatus, MqttConnectedInfo, MqttSubscriptions, MqttUserCfgInfo, QoS,
    SubReply,
};
use at_wifi::command::wifi::{
    ApInfo, GetSntpConfig, GetSntpTime, GetStationStatus, JoinFailure, SntpTime,
};
use at_wifi::framer::DataFrame;
use at_wifi::parse::{number, params, unquote};
use at_wifi::Urc;
use atat::AtatCmd;
use std::fmt::Write as _;

/// The `urc_parse` target.
pub fn run(input: &[u8]) {
    let mut r = Reader::new(input);
    let sel = r.u8();
    let declared = usize::from(r.u16());
    let split = usize::from(r.u8());
    let text = r.rest();
    let mut s = String::new();

    // As a line.
    let urc = Urc::parse_line(text);
    // Known = typed, or a Combo-AT `+EVENT:` line (always unsolicited, typed or not).
    assert_eq!(
        Urc::is_known_line(text),
        !matches!(urc, Urc::Line(_)) || text.starts_with(b"+EVENT:"),
        "is_known_line disagrees with parse_line"
    );
    let _ = write!(s, "{urc:?}");
    let _ = write!(s, "{:?}", MqttConnectedInfo::parse(text));
    let _ = write!(s, "{:?}", parse_conn_result(text));
    let _ = write!(s, "{:?}", parse_pub_result(text));
    let _ = write!(s, "{:?}", parse_pubraw_result(text));
    let _ = write!(s, "{:?}", ApInfo::parse(text));
    if let Some(t) = SntpTime::parse(text) {
        let _ = write!(s, "{t:?} {t}");
        assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day));
    }
    let _ = write!(
        s,
        "{:?}",
        EspErrorCode::parse_line(text).map(|e| e.to_string())
    );
    let _ = write!(s, "{:?}", QoS::parse(text));
    let _ = write!(s, "{:?}", ConnState::parse(text));
    let _ = write!(s, "{:?}", number::<i32>(text));
    let _ = write!(s, "{:?}", unquote(text));
    for p in params(text).take(64) {
        let _ = write!(s, "{:?}", number::<u16>(p));
    }

    // As a reply.
    let _ = write!(s, "{:?}", JoinFailure::from_reply(text));
    let _ = write!(s, "{:?}", GetStationStatus.parse(Ok(text)));
    let _ = write!(s, "{:?}", GetSntpConfig.parse(Ok(text)));
    let _ = write!(s, "{:?}", GetSntpTime.parse(Ok(text)));
    let _ = write!(s, "{:?}", GetVersion.parse(Ok(text)));
    let _ = write!(s, "{:?}", MqttUserCfgInfo::from_reply(text));
    let _ = write!(s, "{:?}", MqttConnStatus::from_reply(text));
    let _ = write!(s, "{:?}", MqttSubscriptions::from_reply(text));
    let _ = write!(s, "{:?}", SubReply::from_reply(text));
    let _ = write!(s, "{:?}", MqttConnCfgInfo::from_reply(text));
    let _ = write!(s, "{:?}", MqttAlpnList::from_reply(text));

    // As a data frame.
    let (header, data) = text.split_at(split.min(text.len()));
    let frame = DataFrame {
        header,
        len: declared,
        data,
        truncated: sel & 1 != 0,
    };
    let urc = Urc::parse_data(frame);
    let _ = write!(s, "{urc:?}");
    match urc {
        Urc::MqttMessage(m) => {
            assert_eq!(
                (m.data, m.len, m.truncated),
                (data, declared, frame.truncated)
            );
        }
        Urc::SocketData(d) => {
            assert_eq!(
                (d.data, d.len, d.truncated),
                (data, declared, frame.truncated)
            );
        }
        Urc::Data(f) => assert_eq!(f, frame),
        other => panic!("parse_data gave {other:?}"),
    }
}
