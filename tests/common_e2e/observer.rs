//! The broker of the tests, and an MQTT client that is not the driver: what the module
//! publishes is checked by this client receiving it, and what this client publishes must
//! come out of the driver's session.
//!
//! # Which broker
//!
//! `AT_WIFI_BROKER=HOST:PORT` set: that broker (mosquitto in CI, see
//! `scripts/mosquitto.sh`), for the simulated modules and the observers alike. Set but not
//! an address, or nothing accepts connections there: every test FAILS — an external
//! broker that was asked for is never silently replaced. Not set: an MQTT broker embedded
//! in the test process (`at_wifi_sim::broker`, rumqttd on a free 127.0.0.1 port), one per
//! test binary.
//!
//! Note for external brokers: mosquitto publishes the will of every client still
//! connected when it shuts down. Stop it (`scripts/mosquitto.sh stop`) only after the
//! tests ended, and never use a broker restart as the "unclean drop" of a test: the tests
//! cut the module's path to the broker with the simulator's relay (`Sim::broker_drop`).

use super::WAIT;
use rumqttc::{Client, Event, MqttOptions, Packet, QoS, SubscribeReasonCode};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable naming an external broker.
pub const BROKER_ENV: &str = "AT_WIFI_BROKER";

/// The broker every simulated module and every observer of this test binary uses.
///
/// Panics (so the test fails, never skips) when `AT_WIFI_BROKER` is set but is no
/// `HOST:PORT` or nothing accepts connections there within 3 s.
pub fn broker() -> SocketAddr {
    static BROKER: OnceLock<SocketAddr> = OnceLock::new();
    *BROKER.get_or_init(|| match std::env::var_os(BROKER_ENV) {
        Some(v) => {
            let v = v.to_string_lossy().into_owned();
            let addr = v
                .trim()
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.find(SocketAddr::is_ipv4))
                .unwrap_or_else(|| {
                    panic!("{BROKER_ENV}={v:?} is set but is not HOST:PORT (unset it to use the embedded broker)")
                });
            if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
                panic!("{BROKER_ENV}={v} is set but the broker is unreachable at {addr}: {e}");
            }
            eprintln!("e2e: external MQTT broker {addr} ({BROKER_ENV})");
            addr
        }
        None => {
            let b = at_wifi_sim::broker::start(0).expect("embedded MQTT broker");
            eprintln!("e2e: embedded MQTT broker {}", b.addr());
            b.addr()
        }
    })
}

/// A broker for one test alone: the external one when `AT_WIFI_BROKER` is set (shared
/// like [`broker`]), else a new embedded broker.
///
/// For tests whose module disconnects cleanly (`AT+MQTTCLEAN`): the embedded broker
/// (rumqttd 0.20) handles a DISCONNECT packet and then the end of that connection as two
/// disconnections of one connection id, and when another client got that id (reused) in
/// between, the second drops that client's new connection — another test's. On a broker
/// of its own a clean disconnect cannot hit another test.
pub fn isolated_broker() -> SocketAddr {
    if std::env::var_os(BROKER_ENV).is_some() {
        return broker();
    }
    at_wifi_sim::broker::start(0)
        .expect("embedded MQTT broker")
        .addr()
}

/// Whether the broker delivers a message at the QoS it was published with when the
/// subscription granted more, as MQTT 3.1.1 requires ("the minimum of the QoS of the
/// originally published message and the maximum QoS granted", §3.8.4). Measured once with
/// two observers alone (a QoS 0 publication to a QoS 2 subscription).
///
/// mosquitto does. The embedded broker (rumqttd 0.20) does not: it forwards every message
/// at the subscription's QoS (`publish.qos = protocol::qos(qos)` in its
/// `router/routing.rs`, `qos` being the filter's), so with it the QoS a module published
/// with cannot be seen from outside; the tests then check delivery only.
pub fn broker_keeps_publish_qos() -> bool {
    static KEEPS: OnceLock<bool> = OnceLock::new();
    *KEEPS.get_or_init(|| {
        let t = super::topic("qos-probe", "t");
        let sub = Observer::connect("qos-probe-sub");
        sub.subscribe(&t, 2);
        let publisher = Observer::connect("qos-probe-pub");
        publisher.publish(&t, 0, false, b"probe");
        let m = sub.expect(&t);
        assert!(
            m.qos == 0 || m.qos == 2,
            "a QoS 0 message delivered at QoS {}",
            m.qos
        );
        if m.qos != 0 {
            eprintln!(
                "e2e: the broker upgrades QoS 0 publications to the subscription's QoS 2 \
                 (rumqttd); publication QoS is not checked from outside"
            );
        }
        m.qos == 0
    })
}

/// A message the observer received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The QoS it was delivered with (0–2).
    pub qos: u8,
    /// The RETAIN flag of the delivery.
    pub retain: bool,
}

/// Acknowledgements the observer waits for.
#[derive(Debug)]
enum Ack {
    /// SUBACK: the granted QoS of each filter (`None`: refused).
    Sub(Vec<Option<u8>>),
    /// PUBACK (QoS 1 publish done).
    Pub,
    /// PUBCOMP (QoS 2 publish done).
    Comp,
    /// The connection broke.
    Lost(String),
}

/// An independent MQTT client (rumqttc, its event loop in a thread) on [`broker`].
///
/// Dropped, it closes its connection without DISCONNECT: on the embedded broker a
/// DISCONNECT can cost another test its connection (see [`isolated_broker`]). Observers
/// have no will, so nothing else differs for the broker.
pub struct Observer {
    client: Client,
    name: String,
    msgs: Receiver<Received>,
    acks: Receiver<Ack>,
    stop: Arc<AtomicBool>,
}

/// rumqttc's QoS from a number.
pub fn qos(n: u8) -> QoS {
    match n {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

impl Observer {
    /// Connects a clean session to [`broker`] named after `name` (made unique with the
    /// pid), and waits for the broker's CONNACK.
    pub fn connect(name: &str) -> Observer {
        Observer::connect_to(broker(), name)
    }

    /// [`Observer::connect`] to the broker at `addr`.
    pub fn connect_to(addr: SocketAddr, name: &str) -> Observer {
        let id = format!("e2e-obs-{}", super::unique(name));
        let mut o = MqttOptions::new(id.clone(), addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        o.set_clean_session(true);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 64);
        let (msg_tx, msgs) = mpsc::channel();
        let (ack_tx, acks) = mpsc::channel();
        let (conn_tx, connected) = mpsc::channel::<Result<(), String>>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread_name = format!("observer-{name}");
        thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                let mut up = false;
                // Ends when the observer is dropped (its next event after the stop flag;
                // the drop makes one): `conn` goes, and the connection with it.
                for ev in conn.iter() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    match ev {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            up = true;
                            let _ = conn_tx.send(Ok(()));
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let _ = msg_tx.send(Received {
                                topic: p.topic.clone(),
                                payload: p.payload.to_vec(),
                                qos: p.qos as u8,
                                retain: p.retain,
                            });
                        }
                        Ok(Event::Incoming(Packet::SubAck(s))) => {
                            let granted = s
                                .return_codes
                                .iter()
                                .map(|c| match c {
                                    SubscribeReasonCode::Success(q) => Some(*q as u8),
                                    SubscribeReasonCode::Failure => None,
                                })
                                .collect();
                            let _ = ack_tx.send(Ack::Sub(granted));
                        }
                        Ok(Event::Incoming(Packet::PubAck(_))) => {
                            let _ = ack_tx.send(Ack::Pub);
                        }
                        Ok(Event::Incoming(Packet::PubComp(_))) => {
                            let _ = ack_tx.send(Ack::Comp);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            if !up {
                                let _ = conn_tx.send(Err(e.to_string()));
                                break;
                            }
                            // A clean session lost with its subscriptions: the
                            // observer is done; its next wait fails saying why.
                            let _ = ack_tx.send(Ack::Lost(e.to_string()));
                            break;
                        }
                    }
                }
            })
            .expect("spawn the observer thread");
        match connected.recv_timeout(WAIT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("observer {name}: cannot connect to the broker {addr}: {e}"),
            Err(_) => panic!("observer {name}: no CONNACK from {addr} within {WAIT:?}"),
        }
        Observer {
            client,
            name: name.to_string(),
            msgs,
            acks,
            stop,
        }
    }

    fn ack(&self, what: &str) -> Ack {
        match self.acks.recv_timeout(WAIT) {
            Ok(Ack::Lost(e)) => panic!(
                "observer {}: connection to the broker lost while waiting for {what}: {e}",
                self.name
            ),
            Ok(ack) => ack,
            Err(_) => panic!("observer {}: no {what} within {WAIT:?}", self.name),
        }
    }

    /// Subscribes `filter` at QoS `q` and waits for the SUBACK granting exactly `q`.
    pub fn subscribe(&self, filter: &str, q: u8) {
        self.client
            .subscribe(filter, qos(q))
            .expect("observer subscribe");
        match self.ack("SUBACK") {
            Ack::Sub(granted) => assert_eq!(
                granted,
                [Some(q)],
                "observer {}: SUBACK for {filter}",
                self.name
            ),
            other => panic!("observer {}: SUBACK expected, got {other:?}", self.name),
        }
    }

    /// Publishes and, at QoS 1 and 2, waits until the broker acknowledged the message
    /// (PUBACK / PUBCOMP), so that it is surely routed before the call returns.
    pub fn publish(&self, topic: &str, q: u8, retain: bool, payload: &[u8]) {
        self.client
            .publish(topic, qos(q), retain, payload.to_vec())
            .expect("observer publish");
        match q {
            0 => {}
            1 => match self.ack("PUBACK") {
                Ack::Pub => {}
                other => panic!("observer {}: PUBACK expected, got {other:?}", self.name),
            },
            _ => match self.ack("PUBCOMP") {
                Ack::Comp => {}
                other => panic!("observer {}: PUBCOMP expected, got {other:?}", self.name),
            },
        }
    }

    /// Removes the retained message of `topic` (an empty retained publish).
    pub fn clear_retained(&self, topic: &str) {
        self.publish(topic, 1, true, b"");
    }

    /// The next message on `topic`, within [`WAIT`] (messages on other topics are
    /// skipped, and reported if the wait fails).
    #[track_caller]
    pub fn expect(&self, topic: &str) -> Received {
        self.expect_within(topic, WAIT).unwrap_or_else(|others| {
            panic!(
                "observer {}: no message on {topic} within {WAIT:?} (others: {others:?})",
                self.name
            )
        })
    }

    /// The next message on `topic` within `within`; `Err` with the topics of the other
    /// messages seen when none came.
    pub fn expect_within(&self, topic: &str, within: Duration) -> Result<Received, Vec<String>> {
        let end = Instant::now() + within;
        let mut others = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.msgs.recv_timeout(left) {
                Ok(m) if m.topic == topic => return Ok(m),
                Ok(m) => others.push(m.topic),
                Err(RecvTimeoutError::Timeout) => return Err(others),
                Err(RecvTimeoutError::Disconnected) => {
                    let why = match self.acks.try_recv() {
                        Ok(Ack::Lost(e)) => e,
                        _ => "?".into(),
                    };
                    panic!(
                        "observer {}: connection to the broker lost: {why}",
                        self.name
                    )
                }
            }
        }
    }

    /// Asserts that nothing arrives on `topic` for `during`.
    #[track_caller]
    pub fn expect_nothing(&self, topic: &str, during: Duration) {
        if let Ok(m) = self.expect_within(topic, during) {
            panic!(
                "observer {}: unexpected message on {topic}: {:?} ({} bytes)",
                self.name,
                String::from_utf8_lossy(&m.payload),
                m.payload.len()
            );
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        // No DISCONNECT (see the type's docs): stop the thread at its next event, and
        // make one (an UNSUBSCRIBE of nothing is harmless).
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_unsubscribe("at-wifi-e2e/observer-closing");
    }
}
