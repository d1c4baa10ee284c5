//! End to end: the driver's Combo-AT MQTT commands (`command::combo_mqtt`) ↔ a simulated
//! Ai-Thinker Combo-AT module ↔ a real MQTT broker ↔ an independent MQTT client
//! (rumqttc) that checks what arrives.
//!
//! Configure (`AT+MQTT=<key>,…`, the will included), connect (`AT+MQTT`, then
//! `+EVENT:MQTT_CONNECT`), query (`AT+MQTT?`, `AT+MQTTSUB?`), publish text at QoS 0 and 1
//! (`AT+MQTTPUB`, a payload with commas, quotes and spaces) and binary with every byte
//! value (`AT+MQTTPUBRAW` after the `>` prompt), subscribe and receive messages as typed
//! events (`+EVENT:MQTT_SUB`, text and every byte value, on a topic with a comma too),
//! unsubscribe (nothing arrives
//! after it), disconnect (`AT+MQTTDISCONN`, `+EVENT:MQTT_DISCONNECT`, no will); and the
//! last will when the module's path to the broker drops.
//!
//! The broker: `AT_WIFI_BROKER=HOST:PORT`, else one embedded in the test binary (see
//! `common_e2e::observer`). Every expectation waits at most 10 s.

mod common_e2e;

use at_wifi::command::combo::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::command::combo_mqtt::*;
use at_wifi::command::mqtt::QoS;
use at_wifi::{Client, Dialect, Event, StdClock};
use at_wifi_sim::{PipeEnd, Sim, SimConfig};
use common_e2e::observer::{broker, broker_keeps_publish_qos, isolated_broker, Observer};
use common_e2e::{all_bytes, assert_bytes, probe, topic, unique, WAIT};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const AI: Dialect = Dialect::AiThinker;
const SSID: &str = "e2e-lab";
const PASSWORD: &str = "e2e-password";

/// Room for a 256-byte message with its `+EVENT:MQTT_SUB,<topic>,<len>,` header.
type Driver = Client<PipeEnd, StdClock, 1100, 1100>;

/// A simulated Combo-AT module bridged to a broker, joined to Wi-Fi, with the driver on
/// it.
struct Combo {
    sim: Sim,
    client: Driver,
    name: String,
}

impl Combo {
    fn boot(broker: SocketAddr, name: &str) -> Combo {
        let config = SimConfig::new(at_wifi_sim::Dialect::AiThinker)
            .broker(broker)
            .network(SSID, PASSWORD);
        let (sim, uart) = Sim::pipe(config);
        let mut client: Driver = Client::new(uart, StdClock::new(), AI);
        probe(&mut client);
        client
            .send(&SetWifiMode::new(AI, WifiMode::Station, false).unwrap())
            .expect("AT+WMODE");
        let jap = JoinAp::new(AI, SSID, PASSWORD).unwrap();
        join(&mut client, &jap, 10_000, |_| {}).expect("AT+WJAP");
        Combo {
            sim,
            client,
            name: name.to_string(),
        }
    }

    /// Configures every key (a will on `will` if any) and connects; waits for
    /// `+EVENT:MQTT_CONNECT`.
    fn connect(&mut self, broker: SocketAddr, will: Option<(&str, &[u8])>) {
        let c = &mut self.client;
        let id = format!("e2e-combo-{}", unique(&self.name));
        c.send(&SetHost::new(AI, &broker.ip().to_string()).unwrap())
            .expect("AT+MQTT=1");
        c.send(&SetPort::new(AI, broker.port()).unwrap())
            .expect("AT+MQTT=2");
        c.send(&SetScheme::new(AI, Scheme::Tcp).unwrap())
            .expect("AT+MQTT=3");
        c.send(&SetClientId::new(AI, &id).unwrap())
            .expect("AT+MQTT=4");
        c.send(&SetUsername::new(AI, "e2e").unwrap())
            .expect("AT+MQTT=5");
        c.send(&SetPassword::new(AI, "e2e-secret").unwrap())
            .expect("AT+MQTT=6");
        let w = match will {
            Some((t, m)) => SetWill::new(AI, t, m, QoS::AtLeastOnce, false).unwrap(),
            None => SetWill::clear(AI).unwrap(),
        };
        c.send(&w).expect("AT+MQTT=7");
        c.send(&SetKeepAlive::new(AI, 60, 10).unwrap())
            .expect("AT+MQTTKEEPALIVE");

        let cfg = c.send(&GetConfig::new(AI).unwrap()).expect("AT+MQTT?");
        assert_eq!(
            cfg.status,
            MqttStatus::Idle,
            "{}: before AT+MQTT",
            self.name
        );
        assert_eq!(&cfg.client_id[..], id.as_bytes());
        assert_eq!(&cfg.username[..], b"e2e");
        assert!(cfg.has_password);
        assert_eq!(cfg.port, broker.port());
        assert_eq!(cfg.scheme, Some(Scheme::Tcp));
        match will {
            Some((t, m)) => {
                assert_eq!(&cfg.will_topic[..], t.as_bytes());
                assert_eq!(cfg.will_payload_len, m.len());
                assert_eq!(cfg.will_qos, QoS::AtLeastOnce);
            }
            None => assert!(cfg.will_topic.is_empty()),
        }

        c.send(&Connect::new(AI).unwrap()).expect("AT+MQTT");
        self.wait_for("+EVENT:MQTT_CONNECT", |e| {
            (e == MqttEvent::Connected).then_some(())
        });
        let cfg = self
            .client
            .send(&GetConfig::new(AI).unwrap())
            .expect("AT+MQTT?");
        assert_eq!(cfg.status, MqttStatus::Connected, "{}", self.name);
    }

    /// Reads events until `f` picks one, for at most [`WAIT`]; fails the test with the
    /// events seen otherwise.
    #[track_caller]
    fn wait_for<T>(&mut self, what: &str, mut f: impl FnMut(MqttEvent<'_>) -> Option<T>) -> T {
        self.try_wait_for(WAIT, &mut f).unwrap_or_else(|seen| {
            panic!(
                "{}: no {what} within {WAIT:?}; events meanwhile: {seen:?}",
                self.name
            )
        })
    }

    fn try_wait_for<T>(
        &mut self,
        within: Duration,
        mut f: impl FnMut(MqttEvent<'_>) -> Option<T>,
    ) -> Result<T, Vec<String>> {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1);
            match self.client.wait_event(ms) {
                Ok(Some(Event::Urc(u))) => {
                    if let Some(e) = MqttEvent::from_urc(&u) {
                        if let Some(t) = f(e) {
                            return Ok(t);
                        }
                    }
                    seen.push(format!("{u:?}"));
                }
                Ok(Some(other)) => seen.push(format!("{other:?}")),
                Ok(None) => {}
                Err(e) => panic!("{}: waiting for events: {e}", self.name),
            }
            if Instant::now() >= end {
                return Err(seen);
            }
        }
    }

    /// The next message on `topic`: its payload (whole: never truncated here).
    #[track_caller]
    fn expect_message(&mut self, t: &str, payload: &[u8]) {
        let name = self.name.clone();
        let got = self.wait_for(&format!("message on {t}"), |e| match e {
            MqttEvent::Message(m) if m.topic == t.as_bytes() => {
                assert!(!m.truncated, "{name}: message on {t} truncated");
                assert_eq!(m.len, m.data.len(), "{name}: declared length");
                Some(m.data.to_vec())
            }
            _ => None,
        });
        assert_bytes(&got, payload, &format!("{}: message on {t}", self.name));
    }

    fn publish(&mut self, t: &str, payload: &[u8], q: u8) {
        let cmd = Publish::new(AI, t, payload, QoS::from_u8(q).unwrap(), false).unwrap();
        self.client
            .send(&cmd)
            .unwrap_or_else(|e| panic!("{}: AT+MQTTPUB on {t}: {e}", self.name));
    }

    /// Subscribes and waits until `AT+MQTTSUB?` says the broker acknowledged it.
    fn subscribe(&mut self, t: &str, q: u8) {
        let cmd = Subscribe::new(AI, t, QoS::from_u8(q).unwrap()).unwrap();
        self.client
            .send(&cmd)
            .unwrap_or_else(|e| panic!("{}: AT+MQTTSUB {t}: {e}", self.name));
        let end = Instant::now() + WAIT;
        loop {
            let subs = self
                .client
                .send(&GetSubscriptions::new(AI).unwrap())
                .expect("AT+MQTTSUB?");
            let reply = self.client.last_reply();
            let row = subs.rows(reply).find(|r| r.topic == t.as_bytes());
            match row {
                Some(r) if r.status == SubStatus::Subscribed => return,
                Some(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
                other => panic!("{}: subscription of {t}: {other:?}", self.name),
            }
        }
    }
}

/// Connect, publish at QoS 0 and 1 (text and raw), subscribe and receive, unsubscribe,
/// disconnect cleanly (no will).
#[test]
fn combo_mqtt_round_trip() {
    let name = "combo-round-trip";
    // A clean disconnect on a broker of its own (see `isolated_broker`).
    let b = isolated_broker();
    let (out, inn, status) = (topic(name, "out"), topic(name, "in"), topic(name, "status"));
    let obs = Observer::connect_to(b, name);
    obs.subscribe(&out, 2);
    obs.subscribe(&status, 1);
    let mut st = Combo::boot(b, name);
    st.connect(b, Some((&status, b"combo offline")));

    // Driver → broker: text at QoS 0 and 1; the payload needs quotes on the wire.
    let keeps = broker_keeps_publish_qos();
    for q in 0..=1u8 {
        let payload = format!("combo, \"qos\" {q}");
        st.publish(&out, payload.as_bytes(), q);
        let m = obs.expect(&out);
        assert_bytes(&m.payload, payload.as_bytes(), name);
        assert_eq!(m.qos, if keeps { q } else { 2 }, "{name}: QoS of {payload}");
        assert!(!m.retain);
    }
    // Raw: every byte value after the prompt.
    let raw = all_bytes();
    publish_raw(&mut st.client, &out, &raw, QoS::AtLeastOnce, false).expect("AT+MQTTPUBRAW");
    assert_bytes(&obs.expect(&out).payload, &raw, name);
    // The 1024-byte limit of AT+MQTTPUB is refused before anything is written.
    assert!(matches!(
        Publish::new(AI, &out, &[b'x'; 1025], QoS::AtMostOnce, false),
        Err(at_wifi::Error::Invalid {
            field: "payload",
            ..
        })
    ));

    // Broker → driver: text and every byte value, as typed events.
    st.subscribe(&inn, 1);
    obs.publish(&inn, 1, false, b"hello, combo");
    st.expect_message(&inn, b"hello, combo");
    obs.publish(&inn, 0, false, &raw);
    st.expect_message(&inn, &raw);

    // A topic with a comma (quoted on the wire; its messages come as lines the driver
    // recovers, see `MqttEvent::parse_line`).
    let odd = topic(name, "in,comma");
    st.subscribe(&odd, 0);
    obs.publish(&odd, 1, false, b"x, y");
    st.expect_message(&odd, b"x, y");
    st.client
        .send(&Unsubscribe::new(AI, &odd).unwrap())
        .expect("AT+MQTTUNSUB");

    // Unsubscribe: nothing more arrives. A QoS 1 publication of the module after the
    // UNSUBSCRIBE (same connection, so the broker handled the UNSUBSCRIBE first) is the
    // proof that the broker saw it before the observer publishes.
    st.client
        .send(&Unsubscribe::new(AI, &inn).unwrap())
        .expect("AT+MQTTUNSUB");
    st.publish(&out, b"after-unsub", 1);
    assert_bytes(&obs.expect(&out).payload, b"after-unsub", name);
    obs.publish(&inn, 1, false, b"too late");
    if let Ok(m) = st.try_wait_for(Duration::from_millis(500), |e| match e {
        MqttEvent::Message(m) => Some(m.data.to_vec()),
        _ => None,
    }) {
        panic!("{name}: message after unsubscribe: {m:?}");
    }
    let subs = st
        .client
        .send(&GetSubscriptions::new(AI).unwrap())
        .expect("AT+MQTTSUB?");
    assert_eq!(subs.count, 0, "{name}: subscriptions after unsubscribe");

    // Clean disconnect: the event, the status, and no will.
    st.client
        .send(&Disconnect::new(AI).unwrap())
        .expect("AT+MQTTDISCONN");
    st.wait_for("+EVENT:MQTT_DISCONNECT", |e| {
        (e == MqttEvent::Disconnected).then_some(())
    });
    let cfg = st
        .client
        .send(&GetConfig::new(AI).unwrap())
        .expect("AT+MQTT?");
    assert_eq!(cfg.status, MqttStatus::Idle, "{name}: after AT+MQTTDISCONN");
    obs.expect_nothing(&status, Duration::from_millis(500));
    assert!(!st.sim.snapshot().mqtt_connected);
}

/// The will reaches a subscriber when the module's path to the broker drops; the module
/// says `+EVENT:MQTT_DISCONNECT`.
#[test]
fn combo_mqtt_last_will() {
    let name = "combo-will";
    let b = broker();
    let will = topic(name, "status");
    let obs = Observer::connect(name);
    obs.subscribe(&will, 1);
    let mut st = Combo::boot(b, name);
    st.connect(b, Some((&will, b"gone, \"unclean\"")));
    obs.expect_nothing(&will, Duration::from_millis(200));
    st.sim.broker_drop();
    st.wait_for("+EVENT:MQTT_DISCONNECT", |e| {
        (e == MqttEvent::Disconnected).then_some(())
    });
    let m = obs.expect(&will);
    assert_bytes(&m.payload, b"gone, \"unclean\"", name);
}
