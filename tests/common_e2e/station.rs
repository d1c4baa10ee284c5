//! A simulated ESP-AT / W800 / Beken module bridged to the test broker, driven by the
//! driver's [`Client`] and [`Mqtt`] session exactly as firmware would: probe, Wi-Fi join,
//! MQTT configure and connect, then subscribe / publish / poll.

use super::observer::broker;
use super::{assert_bytes, probe, sim_dialect, unique, WAIT};
use at_wifi::command::mqtt::{QoS, Will};
use at_wifi::command::wifi::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::mqtt::{Mqtt, MqttEvent, MqttOptions, MqttState, PublishPath};
use at_wifi::{Client, Dialect, Error, StdClock};
use at_wifi_sim::{PipeEnd, Sim, SimConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The access point every simulated module joins.
pub const SSID: &str = "e2e-lab";
/// Its password.
pub const PASSWORD: &str = "e2e-password";

/// The driver's client: `RX` bytes of framer (ESP-AT: 1100, so that a 4 KiB message can
/// only arrive whole through the session joining ESP-AT's pieces; W800 and Beken do not
/// split, so their tests give the framer room for a whole 4 KiB line), a 16 KiB event
/// queue for the pieces of long messages.
pub type Driver<const RX: usize> = Client<PipeEnd, StdClock, RX, 512, 296, 16384>;

/// The session: 8 KiB to join a split message in, 8 KiB of event store (a whole 4 KiB
/// message of W800 / Beken is one event).
pub type Session = Mqtt<8192, 8192>;

/// The QoS of the driver from a number.
pub fn qos(n: u8) -> QoS {
    QoS::from_u8(n).expect("QoS 0-2")
}

/// A simulated module with the driver on it.
pub struct Station<const RX: usize> {
    /// The simulator (faults: `sim.broker_drop()`, …). Dropped last.
    pub sim: Sim,
    /// The driver's client.
    pub client: Driver<RX>,
    /// The driver's MQTT session.
    pub mqtt: Session,
    /// The dialect.
    pub dialect: Dialect,
    /// The test's name (in assertion messages).
    pub name: String,
    /// The broker the module's MQTT client reaches (and [`Station::connect`] names).
    pub broker: SocketAddr,
    /// How many times [`Station::connect`] ran.
    connections: u32,
}

impl<const RX: usize> Station<RX> {
    /// Powers on a module of `dialect` bridged to [`broker`], probes it and joins Wi-Fi;
    /// `tweak` adjusts the simulator's configuration first.
    pub fn boot(dialect: Dialect, name: &str, tweak: impl FnOnce(SimConfig) -> SimConfig) -> Self {
        Self::boot_on(broker(), dialect, name, tweak)
    }

    /// [`Station::boot`] bridged to the broker at `broker`.
    pub fn boot_on(
        broker: SocketAddr,
        dialect: Dialect,
        name: &str,
        tweak: impl FnOnce(SimConfig) -> SimConfig,
    ) -> Self {
        let config = tweak(
            SimConfig::new(sim_dialect(dialect))
                .broker(broker)
                .network(SSID, PASSWORD),
        );
        let (sim, uart) = Sim::pipe(config);
        let mut client: Driver<RX> = Client::new(uart, StdClock::new(), dialect);
        probe(&mut client);
        client
            .send(&SetWifiMode::new(WifiMode::Station))
            .unwrap_or_else(|e| panic!("{name}: AT+CWMODE: {e}"));
        let jap = JoinAp::new(dialect, SSID, PASSWORD).expect("JoinAp");
        join(&mut client, &jap).unwrap_or_else(|e| panic!("{name}: AT+CWJAP: {e}"));
        Station {
            sim,
            client,
            mqtt: Mqtt::new(),
            dialect,
            name: name.to_string(),
            broker,
            connections: 0,
        }
    }

    /// [`Station::boot`] with the default configuration, then [`Station::connect`].
    pub fn up(dialect: Dialect, name: &str, will: Option<(&str, &[u8])>) -> Self {
        let mut st = Self::boot(dialect, name, |c| c);
        st.connect(will);
        st
    }

    /// Configures MQTT (unique client id, credentials — Beken cannot send empty bare
    /// ones —, the will if any at QoS 1 with a 60 s keepalive, automatic reconnection)
    /// and connects to the broker.
    ///
    /// Without a will the module's keepalive stays: `AT+MQTTCONNCFG` carries the will's
    /// fields, and Beken cannot send them empty (the driver refuses, see the will test).
    pub fn connect(&mut self, will: Option<(&str, &[u8])>) {
        // A new client id for each connection: a broker never takes one over from the
        // connection before.
        self.connections += 1;
        let client_id = format!("e2e-mod-{}-{}", unique(&self.name), self.connections);
        let mut opts = MqttOptions::new(&client_id).credentials("e2e", "e2e-secret");
        if let Some((topic, message)) = will {
            opts = opts.keepalive_s(60).will(Will {
                topic,
                message,
                qos: QoS::AtLeastOnce,
                retain: false,
            });
        }
        let name = &self.name;
        self.mqtt
            .configure(&mut self.client, &opts)
            .unwrap_or_else(|e| panic!("{name}: MQTT configure: {e}"));
        let b = self.broker;
        self.mqtt
            .connect(&mut self.client, &b.ip().to_string(), b.port(), 10_000)
            .unwrap_or_else(|e| panic!("{name}: MQTT connect to {b}: {e}"));
        assert_eq!(self.mqtt.state(), MqttState::Connected, "{name}");
    }

    /// Subscribes (the module answers once the broker's SUBACK came).
    pub fn subscribe(&mut self, topic: &str, q: u8) {
        let r = self.mqtt.subscribe(&mut self.client, topic, qos(q));
        assert_eq!(r, Ok(true), "{}: subscribe {topic}", self.name);
    }

    /// Publishes and says how (`AT+MQTTPUB` or `AT+MQTTPUBRAW`); panics on an error.
    pub fn publish(&mut self, topic: &str, payload: &[u8], q: u8, retain: bool) -> PublishPath {
        self.try_publish(topic, payload, q, retain)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: publish of {} bytes on {topic}: {e}",
                    self.name,
                    payload.len()
                )
            })
    }

    /// Publishes, returning the driver's result.
    pub fn try_publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        q: u8,
        retain: bool,
    ) -> Result<PublishPath, Error> {
        self.mqtt
            .publish(&mut self.client, topic, payload, qos(q), retain)
    }

    /// Polls the session until `f` picks an event (`Some`), for at most `within`; `Err`
    /// with the events seen otherwise.
    pub fn try_wait_for<T>(
        &mut self,
        within: Duration,
        mut f: impl FnMut(&MqttEvent<'_>) -> Option<T>,
    ) -> Result<T, Vec<String>> {
        let end = Instant::now() + within;
        let mut seen: Vec<String> = Vec::new();
        loop {
            match self.mqtt.poll(&mut self.client) {
                Ok(Some(ev)) => {
                    if let Some(t) = f(&ev) {
                        return Ok(t);
                    }
                    if seen.len() < 40 {
                        seen.push(format!("{ev:?}"));
                    }
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("{}: poll failed: {e}", self.name),
            }
            if Instant::now() >= end {
                return Err(seen);
            }
        }
    }

    /// [`Station::try_wait_for`], failing the test (naming `what`) when nothing came.
    #[track_caller]
    pub fn wait_for<T>(
        &mut self,
        what: &str,
        within: Duration,
        f: impl FnMut(&MqttEvent<'_>) -> Option<T>,
    ) -> T {
        self.try_wait_for(within, f).unwrap_or_else(|seen| {
            panic!(
                "{}: no {what} within {within:?}; events meanwhile: {seen:?}; state {:?}",
                self.name,
                self.mqtt.state()
            )
        })
    }

    /// The next whole message on `topic` within `within`: (payload, truncated); `None`
    /// when none came. A fragment on the topic fails the test (the session's buffer holds
    /// every message of these tests).
    pub fn try_next_message(&mut self, topic: &str, within: Duration) -> Option<(Vec<u8>, bool)> {
        let t = topic.as_bytes();
        self.try_wait_for(within, |ev| match ev {
            MqttEvent::Message {
                topic,
                payload,
                truncated,
            } if *topic == t => Some((payload.to_vec(), *truncated)),
            MqttEvent::Fragment {
                topic, index, data, ..
            } if *topic == t || topic.is_empty() => panic!(
                "message on {} came as fragment {index} ({} bytes)",
                String::from_utf8_lossy(t),
                data.len()
            ),
            _ => None,
        })
        .ok()
    }

    /// [`Station::try_next_message`], failing the test when none came.
    #[track_caller]
    pub fn next_message(&mut self, topic: &str, within: Duration) -> (Vec<u8>, bool) {
        let t = topic.as_bytes();
        self.wait_for(&format!("message on {topic}"), within, |ev| match ev {
            MqttEvent::Message {
                topic,
                payload,
                truncated,
            } if *topic == t => Some((payload.to_vec(), *truncated)),
            MqttEvent::Fragment {
                topic, index, data, ..
            } if *topic == t || topic.is_empty() => panic!(
                "message on {} came as fragment {index} ({} bytes)",
                String::from_utf8_lossy(t),
                data.len()
            ),
            _ => None,
        })
    }

    /// The next message on `topic` must be `payload`, whole (within [`WAIT`]).
    #[track_caller]
    pub fn expect_message(&mut self, topic: &str, payload: &[u8]) {
        let (got, truncated) = self.next_message(topic, WAIT);
        assert!(
            !truncated,
            "{}: message on {topic} marked truncated",
            self.name
        );
        assert_bytes(&got, payload, &format!("{}: message on {topic}", self.name));
    }
}
