//! End to end: the driver's MQTT session ↔ a simulated module (ESP-AT, W800, Beken) ↔ a
//! real MQTT broker ↔ an independent MQTT client (rumqttc) that checks what arrives.
//!
//! For each dialect: QoS 0/1/2 both ways; retained messages both ways; the last will on
//! an unclean drop of the module's link, and none after a clean disconnect; payloads of
//! every byte value, of one byte, JSON with commas and quotes, and looking like AT output,
//! both ways; 4 KiB both ways (ESP-AT hands a long message over in pieces the session
//! joins; Beken's `AT+MQTTPUBRAW` takes at most 512 bytes, so the driver refuses more with
//! a typed error); reconnection after the broker path drops and returns, with the
//! subscriptions restored.
//!
//! The broker: `AT_WIFI_BROKER=HOST:PORT` (e.g. mosquitto from `scripts/mosquitto.sh`; set
//! but unreachable fails every test), else one embedded in the test binary. Topics and
//! client ids carry the pid and the test name, so the tests run in parallel on one
//! broker. Every expectation waits at most 10 s.
//!
//! ```sh
//! cargo test --test e2e_mqtt
//! eval "$(bash scripts/mosquitto.sh start)" && cargo test --test e2e_mqtt; bash scripts/mosquitto.sh stop
//! ```

mod common_e2e;

use at_wifi::mqtt::{MqttEvent, MqttOptions, MqttState, PublishPath};
use at_wifi::{Dialect, Error};
use at_wifi_sim::SplitMode;
use common_e2e::observer::{broker_keeps_publish_qos, isolated_broker, Observer};
use common_e2e::station::Station;
use common_e2e::{all_bytes, assert_bytes, pattern, topic, WAIT};
use std::time::{Duration, Instant};

/// The driver's framer size for ESP-AT: the default 1100 bytes. A 4 KiB message fits only
/// because ESP-AT splits it and the session joins the pieces.
const ESP_RX: usize = 1100;
/// W800 and Beken print a message in one line whatever its length: room for 4 KiB.
const WHOLE_RX: usize = 4400;

/// 4 KiB.
const BIG: usize = 4096;

fn name(d: Dialect, what: &str) -> String {
    format!("{}-{what}", d.name())
}

// ---------------------------------------------------------------------------------------
// QoS
// ---------------------------------------------------------------------------------------

fn qos_levels<const RX: usize>(d: Dialect) {
    let name = name(d, "qos");
    let (out, inn) = (topic(&name, "out"), topic(&name, "in"));
    let obs = Observer::connect(&name);
    // QoS 2 subscription: each message comes with the QoS it was published with.
    obs.subscribe(&out, 2);
    let mut st = Station::<RX>::up(d, &name, None);
    st.subscribe(&inn, 2);

    // A conforming broker delivers at the publication's QoS (the minimum of it and the
    // granted 2); the embedded rumqttd at the granted QoS whatever was published.
    let keeps = broker_keeps_publish_qos();
    for q in 0..=2u8 {
        let payload = format!("driver-qos-{q}");
        st.publish(&out, payload.as_bytes(), q, false);
        let m = obs.expect(&out);
        assert_bytes(&m.payload, payload.as_bytes(), &name);
        let want = if keeps { q } else { 2 };
        assert_eq!(m.qos, want, "{name}: QoS of the driver's publication ({q})");
        assert!(!m.retain, "{name}: not retained");
    }
    for q in 0..=2u8 {
        let payload = format!("observer-qos-{q}");
        obs.publish(&inn, q, false, payload.as_bytes());
        st.expect_message(&inn, payload.as_bytes());
    }
}

// ---------------------------------------------------------------------------------------
// Retain
// ---------------------------------------------------------------------------------------

fn retained<const RX: usize>(d: Dialect) {
    let name = name(d, "retain");
    let (out, inn) = (topic(&name, "out"), topic(&name, "in"));
    let early = Observer::connect(&format!("{name}-early"));
    early.subscribe(&out, 1);
    let mut st = Station::<RX>::up(d, &name, None);

    // Driver → broker, retained: a subscriber present gets it at once (so the broker has
    // it), one that subscribes later gets it from the broker with RETAIN set.
    let payload = format!("retained-by-{}", d.name());
    st.publish(&out, payload.as_bytes(), 1, true);
    let live = early.expect(&out);
    assert_bytes(&live.payload, payload.as_bytes(), &name);
    let late = Observer::connect(&format!("{name}-late"));
    late.subscribe(&out, 1);
    let m = late.expect(&out);
    assert_bytes(&m.payload, payload.as_bytes(), &name);
    assert!(
        m.retain,
        "{name}: a late subscriber gets the retained message"
    );

    // Observer → driver: retained before the driver subscribes.
    let payload = format!("retained-for-{}", d.name());
    late.publish(&inn, 1, true, payload.as_bytes());
    st.subscribe(&inn, 1);
    st.expect_message(&inn, payload.as_bytes());

    late.clear_retained(&out);
    late.clear_retained(&inn);
}

// ---------------------------------------------------------------------------------------
// Last will
// ---------------------------------------------------------------------------------------

fn last_will<const RX: usize>(d: Dialect) {
    let name = name(d, "will");
    let will = topic(&name, "status");
    let message = format!("offline-{}", d.name());
    let obs = Observer::connect(&name);
    obs.subscribe(&will, 1);
    let mut st = Station::<RX>::boot(d, &name, |c| c);
    if d == Dialect::Beken {
        // Beken's AT+MQTTCONNCFG cannot carry an empty will topic: a keepalive without a
        // will is refused before anything is written.
        let id = format!("{name}-no-will");
        let opts = MqttOptions::new(&id)
            .credentials("e2e", "e2e-secret")
            .keepalive_s(60);
        let r = st.mqtt.configure(&mut st.client, &opts);
        assert!(
            matches!(
                r,
                Err(Error::Invalid {
                    field: "lwt_topic",
                    ..
                })
            ),
            "{name}: {r:?}"
        );
    }
    st.connect(Some((&will, message.as_bytes())));
    obs.expect_nothing(&will, Duration::from_millis(200));

    // The module's path to the broker breaks (no DISCONNECT): the broker publishes the
    // will. (Not by stopping the broker: mosquitto publishes wills when it shuts down.)
    st.sim.broker_drop();
    let m = obs.expect(&will);
    assert_bytes(&m.payload, message.as_bytes(), &format!("{name}: will"));
    assert_eq!(m.qos, 1, "{name}: will QoS");
    st.wait_for("Disconnected", WAIT, |ev| {
        matches!(ev, MqttEvent::Disconnected).then_some(())
    });

    // Back, reconnected by the module itself, with the will again: the next drop
    // publishes it again.
    st.sim.broker_return();
    st.wait_for("Reconnected", WAIT, |ev| {
        matches!(ev, MqttEvent::Reconnected { .. }).then_some(())
    });
    obs.expect_nothing(&will, Duration::from_millis(200));
    st.sim.broker_drop();
    let m = obs.expect(&will);
    assert_bytes(
        &m.payload,
        message.as_bytes(),
        &format!("{name}: will after the reconnection"),
    );
}

/// How many times [`clean_disconnect_no_will`] connects and disconnects.
const CLEAN_CYCLES: usize = 20;

/// `AT+MQTTCLEAN` ends the link with DISCONNECT: the broker must discard the will. Done
/// several times over: a DISCONNECT lost on the way is a race, not a certainty. On a
/// broker of its own when it is the embedded one (see `isolated_broker`).
fn clean_disconnect_no_will<const RX: usize>(d: Dialect) {
    let name = name(d, "clean");
    let will = topic(&name, "status");
    let message = format!("offline-{}", d.name());
    let broker = isolated_broker();
    let obs = Observer::connect_to(broker, &name);
    obs.subscribe(&will, 1);
    let mut st = Station::<RX>::boot_on(broker, d, &name, |c| c);
    for cycle in 0..CLEAN_CYCLES {
        st.connect(Some((&will, message.as_bytes())));
        st.mqtt
            .disconnect(&mut st.client)
            .unwrap_or_else(|e| panic!("{name}: disconnect {cycle}: {e}"));
        assert_eq!(st.mqtt.state(), MqttState::Idle, "{name}: cycle {cycle}");
    }
    let mut wills = 0;
    while obs
        .expect_within(&will, Duration::from_millis(1500))
        .is_ok()
    {
        wills += 1;
    }
    assert_eq!(
        wills, 0,
        "{name}: the broker published the will after {wills} of {CLEAN_CYCLES} clean disconnects (AT+MQTTCLEAN)"
    );
}

// ---------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------

const JSON: &[u8] =
    br#"{"id":7,"text":"a, b, \"c\"","list":[1,2,3],"nested":{"k":"v,w"},"path":"C:\\tmp"}"#;

/// A payload to send both ways: a label, the bytes, and how the driver must publish it
/// on ESP-AT / W800 and on Beken (`None`: either way is right).
struct Case {
    label: &'static str,
    payload: Vec<u8>,
    esp_w800: Option<PublishPath>,
    beken: Option<PublishPath>,
}

fn case(
    label: &'static str,
    payload: Vec<u8>,
    esp_w800: Option<PublishPath>,
    beken: Option<PublishPath>,
) -> Case {
    Case {
        label,
        payload,
        esp_w800,
        beken,
    }
}

fn payload_cases() -> Vec<Case> {
    use PublishPath::{Raw, Text};
    let mut cases = vec![
        case("every byte 0x00-0xff", all_bytes(), Some(Raw), Some(Raw)),
        case("json", JSON.to_vec(), Some(Text), Some(Raw)),
        case(
            "AT look-alike",
            b"\r\nOK\r\n+MQTTDISCONNECTED:0\r\n+MQTTSUBRECV:0,\"x\",1,y\r\n>".to_vec(),
            Some(Raw),
            Some(Raw),
        ),
        case("one byte x", b"x".to_vec(), Some(Text), Some(Text)),
        case("one byte NUL", vec![0], Some(Raw), Some(Raw)),
        case("one byte CR", b"\r".to_vec(), Some(Raw), Some(Raw)),
        case("one byte LF", b"\n".to_vec(), Some(Raw), Some(Raw)),
        case("one byte comma", b",".to_vec(), Some(Text), Some(Raw)),
        case("one byte quote", b"\"".to_vec(), Some(Text), Some(Raw)),
    ];
    for b in [b'\\', b'>', b'+', 0x7f, 0x80, 0xff] {
        cases.push(case("one byte", vec![b], None, None));
    }
    cases
}

fn payloads<const RX: usize>(d: Dialect) {
    let name = name(d, "payloads");
    let (out, inn) = (topic(&name, "out"), topic(&name, "in"));
    let obs = Observer::connect(&name);
    obs.subscribe(&out, 1);
    let mut st = Station::<RX>::up(d, &name, None);
    st.subscribe(&inn, 1);
    let what = |c: &Case| {
        format!(
            "{name}: {} {:02x?}",
            c.label,
            &c.payload[..c.payload.len().min(4)]
        )
    };

    for c in payload_cases() {
        let path = st.publish(&out, &c.payload, 1, false);
        let want = if d == Dialect::Beken {
            c.beken
        } else {
            c.esp_w800
        };
        if let Some(want) = want {
            assert_eq!(path, want, "{}: publish path", what(&c));
        }
        let m = obs.expect(&out);
        assert_bytes(
            &m.payload,
            &c.payload,
            &format!("{}: driver -> observer", what(&c)),
        );
    }
    for c in payload_cases() {
        obs.publish(&inn, 1, false, &c.payload);
        let (got, truncated) = st.next_message(&inn, WAIT);
        assert!(!truncated, "{}: truncated", what(&c));
        assert_bytes(
            &got,
            &c.payload,
            &format!("{}: observer -> driver", what(&c)),
        );
    }
}

// ---------------------------------------------------------------------------------------
// 4 KiB
// ---------------------------------------------------------------------------------------

fn large<const RX: usize>(d: Dialect) {
    let name = name(d, "large");
    let (out, inn) = (topic(&name, "out"), topic(&name, "in"));
    let obs = Observer::connect(&name);
    obs.subscribe(&out, 2);
    let mut st = Station::<RX>::up(d, &name, None);
    st.subscribe(&inn, 2);

    // Observer → driver, at every QoS (ESP-AT's pieces depend on the packet id's 2 bytes).
    for q in 0..=2u8 {
        let big = pattern(BIG, q);
        obs.publish(&inn, q, false, &big);
        st.expect_message(&inn, &big);
    }

    // Driver → observer: AT+MQTTPUBRAW.
    let big = pattern(BIG, 0x5a);
    if d == Dialect::Beken {
        // Beken's PUBRAW takes at most 512 bytes: refused before anything is written.
        for r in [
            st.try_publish(&out, &big, 1, false),
            st.try_publish(&out, &big[..513], 1, false),
        ] {
            assert!(
                matches!(
                    r,
                    Err(Error::Invalid {
                        field: "length",
                        ..
                    })
                ),
                "{name}: {r:?}"
            );
        }
        let r = st.mqtt.publish_raw(
            &mut st.client,
            &out,
            &big,
            at_wifi::command::mqtt::QoS::AtLeastOnce,
            false,
        );
        assert!(
            matches!(
                r,
                Err(Error::Invalid {
                    field: "length",
                    ..
                })
            ),
            "{name}: {r:?}"
        );
        // 512 bytes is the most it takes; the session works on after the refusals.
        let path = st.publish(&out, &big[..512], 1, false);
        assert_eq!(path, PublishPath::Raw, "{name}");
        assert_bytes(&obs.expect(&out).payload, &big[..512], &name);
    } else {
        let path = st.publish(&out, &big, 1, false);
        assert_eq!(path, PublishPath::Raw, "{name}");
        let m = obs.expect(&out);
        assert_bytes(&m.payload, &big, &format!("{name}: driver -> observer"));
    }
    st.publish(&out, b"still-fine", 0, false);
    assert_bytes(&obs.expect(&out).payload, b"still-fine", &name);
}

/// ESP-AT hands long messages over in pieces; each way the simulator knows of splitting
/// must come out whole (sizes of real captures included: 1262 bytes on a 33-byte topic
/// arrives as 986 + 276, 2500 on a 15-byte one as 1004 + 1024 + 472).
fn esp_split_modes() {
    for mode in [
        SplitMode::Chunk,
        SplitMode::ChunkEmptyTopic,
        SplitMode::LineLimit,
    ] {
        let name = format!("esp-at-split-{mode:?}").to_lowercase();
        let inn = topic(&name, "in");
        let obs = Observer::connect(&name);
        let mut st = Station::<ESP_RX>::boot(Dialect::EspAt, &name, |c| c.split(mode));
        st.connect(None);
        st.subscribe(&inn, 1);
        for (i, len) in [1262, 2500, BIG, 1000, 3].into_iter().enumerate() {
            let payload = pattern(len, i as u8);
            obs.publish(&inn, 1, false, &payload);
            let (got, truncated) = st.next_message(&inn, WAIT);
            assert!(!truncated, "{name}: {len} bytes truncated");
            assert_bytes(&got, &payload, &format!("{name}: {len} bytes"));
        }
    }
}

/// W800 and Beken print a long message in one line: with the default 1100-byte framer
/// the driver cannot hold 4 KiB, and says so (`truncated`) instead of handing out a
/// silently short payload; the stream stays in step for the next message.
fn whole_line_beyond_rx(d: Dialect) {
    let name = name(d, "beyond-rx");
    let inn = topic(&name, "in");
    let obs = Observer::connect(&name);
    let mut st = Station::<ESP_RX>::up(d, &name, None);
    st.subscribe(&inn, 1);
    let big = pattern(BIG, 3);
    obs.publish(&inn, 1, false, &big);
    let (got, truncated) = st.next_message(&inn, WAIT);
    assert!(truncated, "{name}: a 4 KiB line through a 1100-byte framer");
    assert!(
        got.len() < BIG && big.starts_with(&got),
        "{name}: the bytes kept are the message's start ({} bytes)",
        got.len()
    );
    obs.publish(&inn, 1, false, b"next");
    st.expect_message(&inn, b"next");
}

// ---------------------------------------------------------------------------------------
// Reconnection
// ---------------------------------------------------------------------------------------

/// Publishes from the observer until the driver gets one of those messages: the broker
/// learns of the module's renewed subscription a moment after the module reconnected.
fn delivered_after_return<const RX: usize>(
    st: &mut Station<RX>,
    obs: &Observer,
    topic: &str,
    phase: &str,
) {
    let end = Instant::now() + WAIT;
    let mut n = 0;
    loop {
        n += 1;
        let payload = format!("{phase}-{n}");
        obs.publish(topic, 1, false, payload.as_bytes());
        let left = end.saturating_duration_since(Instant::now());
        match st.try_next_message(topic, left.min(Duration::from_millis(700))) {
            Some((p, false)) if p.starts_with(format!("{phase}-").as_bytes()) => return,
            Some((p, truncated)) => panic!(
                "{}: unexpected message {:?} (truncated {truncated})",
                st.name,
                String::from_utf8_lossy(&p)
            ),
            None if Instant::now() < end => {}
            None => panic!(
                "{}: no message on {topic} reached the driver within {WAIT:?} after the broker came back",
                st.name
            ),
        }
    }
}

fn reconnect<const RX: usize>(d: Dialect) {
    let name = name(d, "reconnect");
    let (out, inn) = (topic(&name, "out"), topic(&name, "in"));
    let obs = Observer::connect(&name);
    obs.subscribe(&out, 1);
    let mut st = Station::<RX>::up(d, &name, None);
    st.subscribe(&inn, 1);
    obs.publish(&inn, 1, false, b"before-drop");
    st.expect_message(&inn, b"before-drop");

    st.sim.broker_drop();
    st.wait_for("Disconnected", WAIT, |ev| {
        matches!(ev, MqttEvent::Disconnected).then_some(())
    });
    assert_eq!(st.mqtt.state(), MqttState::Disconnected, "{name}");
    // While the link is down the module refuses to publish.
    let r = st.try_publish(&out, b"while-down", 1, false);
    assert!(matches!(r, Err(Error::Module { .. })), "{name}: {r:?}");

    st.sim.broker_return();
    let (resubscribed, failed) = st.wait_for("Reconnected", WAIT, |ev| match ev {
        MqttEvent::Reconnected {
            resubscribed,
            failed,
        } => Some((*resubscribed, *failed)),
        _ => None,
    });
    assert_eq!((resubscribed, failed), (1, 0), "{name}: resubscription");
    assert_eq!(st.mqtt.state(), MqttState::Connected, "{name}");
    delivered_after_return(&mut st, &obs, &inn, "after-return");
    st.publish(&out, b"after-return", 1, false);
    assert_bytes(&obs.expect(&out).payload, b"after-return", &name);

    // A short outage (drop, return 300 ms later) the same way.
    st.sim.broker_outage(300);
    st.wait_for("Disconnected after the outage", WAIT, |ev| {
        matches!(ev, MqttEvent::Disconnected).then_some(())
    });
    st.wait_for("Reconnected after the outage", WAIT, |ev| {
        matches!(ev, MqttEvent::Reconnected { failed: 0, .. }).then_some(())
    });
    delivered_after_return(&mut st, &obs, &inn, "after-outage");
}

// ---------------------------------------------------------------------------------------
// The tests, per dialect
// ---------------------------------------------------------------------------------------

macro_rules! per_dialect {
    ($m:ident, $d:expr, $rx:expr) => {
        mod $m {
            use super::*;

            #[test]
            fn qos_0_1_2_both_ways() {
                qos_levels::<{ $rx }>($d);
            }

            #[test]
            fn retained_messages_both_ways() {
                retained::<{ $rx }>($d);
            }

            #[test]
            fn last_will_on_unclean_drop() {
                last_will::<{ $rx }>($d);
            }

            #[test]
            fn no_will_after_clean_disconnect() {
                clean_disconnect_no_will::<{ $rx }>($d);
            }

            #[test]
            fn payloads_every_byte_one_byte_json_both_ways() {
                payloads::<{ $rx }>($d);
            }

            #[test]
            fn four_kib_both_ways() {
                large::<{ $rx }>($d);
            }

            #[test]
            fn reconnects_and_restores_subscriptions() {
                reconnect::<{ $rx }>($d);
            }
        }
    };
}

per_dialect!(esp_at, Dialect::EspAt, ESP_RX);
per_dialect!(w800, Dialect::W800, WHOLE_RX);
per_dialect!(beken, Dialect::Beken, WHOLE_RX);

#[test]
fn esp_at_long_messages_in_every_split_mode() {
    esp_split_modes();
}

#[test]
fn w800_message_beyond_the_framer_is_flagged_truncated() {
    whole_line_beyond_rx(Dialect::W800);
}

#[test]
fn beken_message_beyond_the_framer_is_flagged_truncated() {
    whole_line_beyond_rx(Dialect::Beken);
}
