//! The rig of `tests/faults.rs`: an embedded broker, a simulated module behind a wire tap,
//! the driver (`Client` + `Mqtt` session) on the other end of the pipe, an independent MQTT
//! publisher, a wall-clock budget on every driver call, and the ledger that checks that every
//! MQTT message the simulator wrote is delivered or counted.
//!
//! See `RELIABILITY.md`, "Fault injection through the simulator", for what the sum claims.

#![allow(dead_code)]

use at_wifi::command::basic::{At, EchoOff};
use at_wifi::command::mqtt::{QoS, Will};
use at_wifi::command::wifi::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::mqtt::MqttOptions;
use at_wifi::mqtt::{Mqtt, MqttEvent, MqttState, PublishPath};
use at_wifi::{Client, Dialect, Error, Event, StdClock, Urc};
use at_wifi_sim::{broker, pipe, PipeEnd, Port, Sim, SimConfig};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Added to every budget: thread scheduling on a loaded machine (the simulator is a thread,
/// the broker is threads, tests run in parallel).
pub const SLACK_MS: u64 = 500;

/// Timeouts of the commands the tests send (their `MAX_TIMEOUT_MS`, see `src/command/`).
pub const AT_MS: u64 = 1000;
pub const GMR_MS: u64 = 1000;
pub const CWMODE_MS: u64 = 2000;
pub const MQTTPUB_MS: u64 = 10_000;
pub const MQTTSUB_MS: u64 = 10_000;
pub const CONNECT_MS: u32 = 10_000;
/// `Mqtt::configure` sends at most USERCFG + CONNCFG here, 5 s each.
pub const CONFIGURE_MS: u64 = 2 * 5000;
/// `Mqtt::recover`: CLEAN (5 s) + configure + connect + one AT+MQTTSUB.
pub const RECOVER_MS: u64 = 5000 + CONFIGURE_MS + CONNECT_MS as u64 + MQTTSUB_MS;
/// `Mqtt::poll` never waits for the module (unless it re-subscribes, see `poll_once`).
pub const POLL_MS: u64 = 0;

pub const SSID: &str = "fault-lab";
pub const PASSWORD: &str = "fault-password";

/// The broker of this test binary (started on first use, on a free port).
pub fn broker_addr() -> SocketAddr {
    static B: OnceLock<SocketAddr> = OnceLock::new();
    *B.get_or_init(|| broker::start(0).expect("embedded broker").addr())
}

/// Runs `f`, and fails the test if it took longer than `budget_ms` + [`SLACK_MS`].
pub fn timed<T: fmt::Debug>(what: &str, budget_ms: u64, f: impl FnOnce() -> T) -> T {
    let t0 = Instant::now();
    let r = f();
    let took = t0.elapsed();
    if took > Duration::from_millis(budget_ms) {
        eprintln!("{what} took {took:?}: over its {budget_ms} ms, within the slack");
    }
    assert!(
        took <= Duration::from_millis(budget_ms + SLACK_MS),
        "{what} took {took:?}, over its {budget_ms} ms (+{SLACK_MS} ms slack); it returned {r:?}"
    );
    r
}

// ---------------------------------------------------------------------------------------
// The wire tap
// ---------------------------------------------------------------------------------------

/// The module's end of the pipe, recording every byte the module writes (after the
/// simulator applied its faults: exactly what the driver's UART receives).
struct TapPort {
    end: PipeEnd,
    wire: Arc<Mutex<Vec<u8>>>,
}

impl Port for TapPort {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        Port::read_timeout(&mut self.end, buf, timeout)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.wire.lock().unwrap().extend_from_slice(data);
        Port::write_all(&mut self.end, data)
    }
}

/// A simulated module over a pipe whose module side is tapped: the driver's end, and the
/// bytes the module wrote.
pub fn tapped(cfg: SimConfig) -> (Sim, PipeEnd, Arc<Mutex<Vec<u8>>>) {
    let wire = Arc::new(Mutex::new(Vec::new()));
    let (driver_end, module_end) = pipe();
    let sim = Sim::spawn(
        cfg,
        TapPort {
            end: module_end,
            wire: wire.clone(),
        },
    );
    (sim, driver_end, wire)
}

// ---------------------------------------------------------------------------------------
// An independent MQTT publisher (MQTT 3.1.1 over a plain TCP socket, QoS 1)
// ---------------------------------------------------------------------------------------

/// Publishes on the test broker through its own TCP connection: nothing of the driver or of
/// the simulator is involved. Each publish waits for the broker's PUBACK.
pub struct Publisher {
    s: TcpStream,
    pkid: u16,
}

fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return;
        }
    }
}

fn mqtt_str(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

impl Publisher {
    pub fn connect(client_id: &str) -> Publisher {
        let mut s = TcpStream::connect(broker_addr()).expect("publisher: connect to broker");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_nodelay(true).unwrap();
        let mut body = Vec::new();
        mqtt_str(b"MQTT", &mut body);
        body.extend_from_slice(&[4, 0x02, 0, 60]); // level 4, clean session, keepalive 60 s
        mqtt_str(client_id.as_bytes(), &mut body);
        let mut pkt = vec![0x10];
        remaining_length(body.len(), &mut pkt);
        pkt.extend_from_slice(&body);
        Write::write_all(&mut s, &pkt).unwrap();
        let mut ack = [0u8; 4];
        s.read_exact(&mut ack).expect("publisher: CONNACK");
        assert_eq!(ack, [0x20, 2, 0, 0], "publisher: CONNACK refused");
        Publisher { s, pkid: 0 }
    }

    /// Publishes at QoS 1 and waits for the PUBACK.
    pub fn publish(&mut self, topic: &str, payload: &[u8]) {
        self.pkid = self.pkid.wrapping_add(1).max(1);
        let mut body = Vec::new();
        mqtt_str(topic.as_bytes(), &mut body);
        body.extend_from_slice(&self.pkid.to_be_bytes());
        body.extend_from_slice(payload);
        let mut pkt = vec![0x32];
        remaining_length(body.len(), &mut pkt);
        pkt.extend_from_slice(&body);
        Write::write_all(&mut self.s, &pkt).unwrap();
        let mut ack = [0u8; 4];
        self.s.read_exact(&mut ack).expect("publisher: PUBACK");
        let id = self.pkid.to_be_bytes();
        assert_eq!(ack, [0x40, 2, id[0], id[1]], "publisher: unexpected packet");
    }
}

// ---------------------------------------------------------------------------------------
// What the driver reported
// ---------------------------------------------------------------------------------------

/// An owned copy of an `MqttEvent`.
#[derive(Clone, PartialEq, Eq)]
pub enum Ev {
    Msg {
        topic: Vec<u8>,
        payload: Vec<u8>,
        truncated: bool,
    },
    Frag {
        index: u32,
        data: Vec<u8>,
        last: bool,
        truncated: bool,
    },
    Connected,
    Disconnected,
    Reconnected {
        resubscribed: usize,
        failed: usize,
    },
    Reset,
    Overflow(u32),
    Oversized {
        start: Vec<u8>,
        len: usize,
    },
    GotIp,
    /// A line no parser claims (garbage, boot noise, a message whose header was destroyed).
    Line(Vec<u8>),
    /// An unclaimed data frame: header and data.
    Data(Vec<u8>, Vec<u8>),
    Other(String),
}

/// Bytes as escaped text, cut after 48 bytes.
struct Text<'a>(&'a [u8]);

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0[..self.0.len().min(48)]
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .map(char::from)
            .collect();
        if self.0.len() > 48 {
            write!(f, "\"{shown}\"… ({} bytes)", self.0.len())
        } else {
            write!(f, "\"{shown}\"")
        }
    }
}

impl fmt::Debug for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ev::Msg {
                topic,
                payload,
                truncated,
            } => write!(
                f,
                "Msg({:?}, {:?}, truncated: {truncated})",
                Text(topic),
                Text(payload)
            ),
            Ev::Frag {
                index,
                data,
                last,
                truncated,
            } => write!(
                f,
                "Frag(#{index}, {:?}, last: {last}, truncated: {truncated})",
                Text(data)
            ),
            Ev::Connected => f.write_str("Connected"),
            Ev::Disconnected => f.write_str("Disconnected"),
            Ev::Reconnected {
                resubscribed,
                failed,
            } => write!(f, "Reconnected({resubscribed}, failed {failed})"),
            Ev::Reset => f.write_str("Reset"),
            Ev::Overflow(n) => write!(f, "Overflow({n})"),
            Ev::Oversized { start, len } => write!(f, "Oversized({:?}, {len})", Text(start)),
            Ev::GotIp => f.write_str("GotIp"),
            Ev::Line(l) => write!(f, "Line({:?})", Text(l)),
            Ev::Data(h, d) => write!(f, "Data({:?}, {:?})", Text(h), Text(d)),
            Ev::Other(s) => write!(f, "Other({s})"),
        }
    }
}

impl Ev {
    fn from_event(ev: &MqttEvent<'_>) -> Ev {
        match *ev {
            MqttEvent::Message {
                topic,
                payload,
                truncated,
            } => Ev::Msg {
                topic: topic.to_vec(),
                payload: payload.to_vec(),
                truncated,
            },
            MqttEvent::Fragment {
                index,
                data,
                last,
                truncated,
                ..
            } => Ev::Frag {
                index,
                data: data.to_vec(),
                last,
                truncated,
            },
            MqttEvent::Connected => Ev::Connected,
            MqttEvent::Disconnected => Ev::Disconnected,
            MqttEvent::Reconnected {
                resubscribed,
                failed,
            } => Ev::Reconnected {
                resubscribed,
                failed,
            },
            MqttEvent::Reset => Ev::Reset,
            MqttEvent::Overflow { dropped } => Ev::Overflow(dropped),
            MqttEvent::Oversized { start, len } => Ev::Oversized {
                start: start.to_vec(),
                len,
            },
            MqttEvent::Other(Urc::WifiGotIp) => Ev::GotIp,
            MqttEvent::Other(Urc::Line(l)) => Ev::Line(l.to_vec()),
            MqttEvent::Other(Urc::Data(d)) => Ev::Data(d.header.to_vec(), d.data.to_vec()),
            ref other => Ev::Other(format!("{other:?}")),
        }
    }

    fn from_client_event(ev: &Event<'_>) -> Ev {
        match *ev {
            Event::Urc(Urc::MqttMessage(m)) => Ev::Msg {
                topic: m.topic.to_vec(),
                payload: m.data.to_vec(),
                truncated: m.truncated,
            },
            Event::Urc(Urc::WifiGotIp) => Ev::GotIp,
            Event::Urc(Urc::Line(l)) => Ev::Line(l.to_vec()),
            Event::Urc(Urc::Data(d)) => Ev::Data(d.header.to_vec(), d.data.to_vec()),
            Event::Reset => Ev::Reset,
            Event::Overflow { dropped } => Ev::Overflow(dropped),
            Event::Oversized { start, len } => Ev::Oversized {
                start: start.to_vec(),
                len,
            },
            ref other => Ev::Other(format!("{other:?}")),
        }
    }
}

/// Where `id` occurs in `hay` as a whole id (not followed by another digit: `burst-1` is
/// not found in `burst-13`).
pub fn occurrences(hay: &[u8], id: &[u8]) -> usize {
    if id.is_empty() || hay.len() < id.len() {
        return 0;
    }
    (0..=hay.len() - id.len())
        .filter(|&i| &hay[i..i + id.len()] == id)
        .filter(|&i| !hay.get(i + id.len()).is_some_and(|b| b.is_ascii_digit()))
        .count()
}

/// How often `needle` occurs in `hay`.
pub fn count_plain(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Does `payload` start with the id `id` (not followed by another digit)?
pub fn starts_with_id(payload: &[u8], id: &str) -> bool {
    payload.starts_with(id.as_bytes()) && !payload.get(id.len()).is_some_and(|b| b.is_ascii_digit())
}

/// The payload of a long message: `id`, then lower-case letters up to `len` bytes (no
/// digit, no CR LF: any piece of it is recognisable, and never taken for another id).
pub fn long_payload(id: &str, len: usize) -> Vec<u8> {
    let mut p = id.as_bytes().to_vec();
    let mut c = 0u8;
    while p.len() < len {
        p.push(b'a' + c % 26);
        c = c.wrapping_add(1);
    }
    p
}

/// What the message sum found.
#[derive(Debug, Default)]
pub struct Sum {
    /// Message ids the simulator wrote on the wire.
    pub sent: usize,
    /// `WIFI GOT IP` lines the simulator wrote (they share the event queue with messages).
    pub sent_got_ip: usize,
    /// Whole messages delivered (`Message`, or `Fragment`s up to `last`).
    pub delivered: usize,
    /// Messages delivered with `truncated` set.
    pub truncated: usize,
    /// `+MQTTSUBRECV` pieces written beyond one per message (ESP-AT splits long messages;
    /// an overflow then counts pieces, not messages).
    pub extra_pieces: usize,
    /// Messages whose header was destroyed, found (by their id) in `Line` / `Oversized` /
    /// `Data` events.
    pub header_lost: usize,
    /// `WIFI GOT IP` events delivered.
    pub got_ip: usize,
    /// The sum of every `Overflow { dropped }`.
    pub overflow_dropped: usize,
}

// ---------------------------------------------------------------------------------------
// The rig
// ---------------------------------------------------------------------------------------

/// A seed per test name: the garbage a test meets is the same on every run.
fn seed_of(name: &str) -> u64 {
    name.bytes()
        .fold(0x5eed_0000, |h, b| h.wrapping_mul(31) ^ u64::from(b))
}

pub fn sim_dialect(d: Dialect) -> at_wifi_sim::Dialect {
    d.name().parse().expect("the simulator knows every dialect")
}

pub struct Rig {
    pub dialect: Dialect,
    pub name: String,
    pub sim: Sim,
    wire: Arc<Mutex<Vec<u8>>>,
    pub client: Client<PipeEnd, StdClock>,
    pub mqtt: Mqtt,
    pub topic: String,
    client_id: String,
    status_topic: String,
    pub publisher: Publisher,
    /// Every payload id published (by the publisher or the driver) or expected from the
    /// simulator's URC bursts.
    pub candidates: Vec<String>,
    /// The payload of each id that is more than the id itself (long messages: the id, then
    /// filler).
    long: HashMap<String, Vec<u8>>,
    /// Events reported since the window opened.
    pub events: Vec<Ev>,
    window: usize,
    next_pub: u32,
    next_rt: u32,
}

impl Rig {
    /// A module of `dialect` joined to Wi-Fi, with an MQTT session connected to the test
    /// broker and subscribed to its own topic; the measuring window is open.
    pub fn up(dialect: Dialect, name: &str) -> Rig {
        let cfg = SimConfig::new(sim_dialect(dialect))
            .broker(broker_addr())
            .network(SSID, PASSWORD)
            .reconnect_ms(100)
            .seed(seed_of(name));
        let (sim, driver_end, wire) = tapped(cfg);
        let client: Client<_, _> = Client::new(driver_end, StdClock::new(), dialect);
        let tag = format!("{}-{}-{}", dialect.name(), name, std::process::id());
        let mut rig = Rig {
            dialect,
            name: format!("{dialect}/{name}"),
            sim,
            wire,
            client,
            mqtt: Mqtt::new(),
            topic: format!("fi/{tag}/in"),
            client_id: format!("fi-{tag}"),
            status_topic: format!("fi/{tag}/status"),
            publisher: Publisher::connect(&format!("fi-pub-{tag}")),
            candidates: Vec::new(),
            long: HashMap::new(),
            events: Vec::new(),
            window: 0,
            next_pub: 0,
            next_rt: 0,
        };
        rig.bring_up();
        rig.open_window();
        rig
    }

    fn bring_up(&mut self) {
        let r = timed("AT (probe)", AT_MS, || self.client.send(&At));
        r.unwrap_or_else(|e| panic!("{}: probe: {e}", self.name));
        self.echo_off();
        let r = timed("AT+CWMODE", CWMODE_MS, || {
            self.client.send(&SetWifiMode::new(WifiMode::Station))
        });
        r.unwrap_or_else(|e| panic!("{}: AT+CWMODE: {e}", self.name));
        let jap = JoinAp::new(self.dialect, SSID, PASSWORD).unwrap();
        let r = timed("AT+CWJAP", u64::from(jap.wait_ms()), || {
            join(&mut self.client, &jap)
        });
        r.unwrap_or_else(|e| panic!("{}: join: {e:?}", self.name));
        self.configure_and_connect();
        let r = timed("AT+MQTTSUB", MQTTSUB_MS, || {
            self.mqtt
                .subscribe(&mut self.client, &self.topic, QoS::AtLeastOnce)
        });
        assert_eq!(r, Ok(true), "{}: subscribe", self.name);
    }

    /// `ATE0`: the ids of the driver's own publishes must not be echoed onto the wire.
    pub fn echo_off(&mut self) {
        let r = timed("ATE0", AT_MS, || self.client.send(&EchoOff));
        r.unwrap_or_else(|e| panic!("{}: ATE0: {e}", self.name));
    }

    fn configure_and_connect(&mut self) {
        let Rig {
            client,
            mqtt,
            client_id,
            status_topic,
            ..
        } = self;
        // Beken needs credentials (no empty unquoted strings) and a will with a keepalive.
        let opts = MqttOptions::new(client_id)
            .credentials("fault", "fault-secret")
            .keepalive_s(60)
            .will(Will {
                topic: status_topic,
                message: b"offline",
                qos: QoS::AtLeastOnce,
                retain: false,
            });
        let r = timed("Mqtt::configure", CONFIGURE_MS, || {
            mqtt.configure(client, &opts)
        });
        r.unwrap_or_else(|e| panic!("configure: {e}"));
        let addr = broker_addr();
        let host = addr.ip().to_string();
        let r = timed("Mqtt::connect", u64::from(CONNECT_MS), || {
            mqtt.connect(client, &host, addr.port(), CONNECT_MS)
        });
        r.unwrap_or_else(|e| panic!("connect: {e}"));
        assert_eq!(mqtt.state(), MqttState::Connected);
    }

    /// After a reboot: `AT+MQTTCLEAN`, configure, connect, re-subscribe.
    pub fn recover(&mut self) {
        let Rig {
            client,
            mqtt,
            client_id,
            status_topic,
            name,
            ..
        } = self;
        let opts = MqttOptions::new(client_id)
            .credentials("fault", "fault-secret")
            .keepalive_s(60)
            .will(Will {
                topic: status_topic,
                message: b"offline",
                qos: QoS::AtLeastOnce,
                retain: false,
            });
        let addr = broker_addr();
        let host = addr.ip().to_string();
        let r = timed("Mqtt::recover", RECOVER_MS, || {
            mqtt.recover(client, &opts, &host, addr.port(), CONNECT_MS)
        });
        assert_eq!(r, Ok(1), "{name}: recover");
        assert_eq!(mqtt.state(), MqttState::Connected);
    }

    // -----------------------------------------------------------------------------------
    // Events

    /// One `Mqtt::poll`, recorded. Budget: no waiting, except that reporting `Reconnected`
    /// re-subscribes (one `AT+MQTTSUB` per stored topic).
    pub fn poll_once(&mut self) -> Option<Ev> {
        let t0 = Instant::now();
        let r = self
            .mqtt
            .poll(&mut self.client)
            .map(|e| e.map(|e| Ev::from_event(&e)));
        let took = t0.elapsed();
        let budget = match &r {
            Ok(Some(Ev::Reconnected { .. })) => MQTTSUB_MS,
            _ => POLL_MS,
        };
        assert!(
            took <= Duration::from_millis(budget + SLACK_MS),
            "{}: Mqtt::poll took {took:?} (budget {budget} ms + slack), returned {r:?}",
            self.name
        );
        let ev = r.unwrap_or_else(|e| panic!("{}: poll: {e}", self.name))?;
        self.events.push(ev.clone());
        Some(ev)
    }

    /// `Client::wait_event` (the client alone, without the session: what an application
    /// that does not use `Mqtt` sees), recorded.
    pub fn wait_client_event(&mut self, ms: u32) -> Option<Ev> {
        let r = timed("Client::wait_event", u64::from(ms), || {
            self.client
                .wait_event(ms)
                .map(|e| e.map(|e| Ev::from_client_event(&e)))
        });
        let ev = r.unwrap_or_else(|e| panic!("{}: wait_event: {e}", self.name))?;
        self.events.push(ev.clone());
        Some(ev)
    }

    /// Polls until an event matches `want` (returned) or `ms` pass (`None`).
    pub fn pump_until(&mut self, ms: u64, mut want: impl FnMut(&Ev) -> bool) -> Option<Ev> {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            match self.poll_once() {
                Some(ev) if want(&ev) => return Some(ev),
                Some(_) => continue,
                None if Instant::now() >= end => return None,
                None => thread::sleep(Duration::from_millis(2)),
            }
        }
    }

    /// Polls for `ms`.
    pub fn pump(&mut self, ms: u64) {
        self.pump_until(ms, |_| false);
    }

    /// Polls until the module has been quiet for 100 ms and nothing is left to report.
    pub fn settle(&mut self) {
        let end = Instant::now() + Duration::from_secs(5);
        let mut len = self.wire_len();
        let mut quiet = Instant::now();
        loop {
            if self.poll_once().is_some() {
                quiet = Instant::now();
                continue;
            }
            let now_len = self.wire_len();
            if now_len != len {
                len = now_len;
                quiet = Instant::now();
            } else if quiet.elapsed() >= Duration::from_millis(100) {
                return;
            }
            assert!(
                Instant::now() < end,
                "{}: the module never went quiet",
                self.name
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Starts measuring: what was reported and written before is forgotten.
    pub fn open_window(&mut self) {
        self.settle();
        self.window = self.wire_len();
        self.events.clear();
        self.candidates.clear();
    }

    // -----------------------------------------------------------------------------------
    // The wire

    pub fn wire_len(&self) -> usize {
        self.wire.lock().unwrap().len()
    }

    /// What the module wrote since the window opened.
    pub fn wire(&self) -> Vec<u8> {
        self.wire.lock().unwrap()[self.window..].to_vec()
    }

    /// Waits (polling the driver meanwhile) until every id in `ids` is on the wire.
    pub fn await_on_wire(&mut self, ids: &[String], ms: u64) {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            let wire = self.wire();
            let missing: Vec<&String> = ids
                .iter()
                .filter(|id| occurrences(&wire, id.as_bytes()) == 0)
                .collect();
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < end,
                "{}: the simulator never wrote {missing:?}",
                self.name
            );
            self.pump(5);
        }
    }

    /// Polls until every id in `ids` was reported: as a message, or inside a line.
    pub fn await_reported(&mut self, ids: &[String], ms: u64) {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            let missing: Vec<&String> = ids.iter().filter(|id| !self.reported(id)).collect();
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < end,
                "{}: never reported {missing:?}; events {:?}",
                self.name,
                self.events
            );
            self.pump(5);
        }
    }

    fn reported(&self, id: &str) -> bool {
        self.events.iter().any(|e| match e {
            Ev::Msg { payload, .. } => starts_with_id(payload, id),
            Ev::Frag { index: 0, data, .. } => starts_with_id(data, id),
            Ev::Line(l) => occurrences(l, id.as_bytes()) > 0,
            Ev::Oversized { start, .. } => occurrences(start, id.as_bytes()) > 0,
            Ev::Data(h, d) => occurrences(h, id.as_bytes()) + occurrences(d, id.as_bytes()) > 0,
            _ => false,
        })
    }

    // -----------------------------------------------------------------------------------
    // Traffic

    /// The independent publisher sends `n` messages to the driver's topic; their ids.
    pub fn publish_from_outside(&mut self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            self.next_pub += 1;
            let id = format!("pm-{:04}", self.next_pub);
            self.candidates.push(id.clone());
            self.publisher.publish(&self.topic, id.as_bytes());
            ids.push(id);
        }
        ids
    }

    /// The independent publisher sends one message of `len` bytes; its id.
    pub fn publish_long_from_outside(&mut self, len: usize) -> String {
        self.next_pub += 1;
        let id = format!("pl-{:04}", self.next_pub);
        let payload = long_payload(&id, len);
        self.candidates.push(id.clone());
        self.long.insert(id.clone(), payload.clone());
        self.publisher.publish(&self.topic, &payload);
        id
    }

    /// What the simulator should have written as the payload of `id`.
    pub fn expected(&self, id: &str) -> Vec<u8> {
        self.long
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.as_bytes().to_vec())
    }

    /// Waits, without reading anything, until every id in `ids` is on the wire and the
    /// module has been quiet for 50 ms: the bytes wait in the UART for the next reader.
    pub fn await_written(&mut self, ids: &[String], ms: u64) {
        let end = Instant::now() + Duration::from_millis(ms);
        let mut len = self.wire_len();
        let mut quiet = Instant::now();
        loop {
            let wire = self.wire();
            let all = ids.iter().all(|id| occurrences(&wire, id.as_bytes()) > 0);
            let now_len = self.wire_len();
            if now_len != len {
                len = now_len;
                quiet = Instant::now();
            } else if all && quiet.elapsed() >= Duration::from_millis(50) {
                return;
            }
            assert!(
                Instant::now() < end,
                "{}: never written: {ids:?}",
                self.name
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// The URC burst's message ids (`burst-<i>` for odd `i`).
    pub fn expect_burst(&mut self, lines: usize) {
        for i in (1..lines).step_by(2) {
            self.candidates.push(format!("burst-{i}"));
        }
    }

    /// `AT` must succeed.
    pub fn at_ok(&mut self, when: &str) {
        let r = timed("AT", AT_MS, || self.client.send(&At));
        assert!(r.is_ok(), "{}: AT {when}: {r:?}", self.name);
    }

    /// The driver publishes on its own topic and gets the message back.
    pub fn round_trip(&mut self, when: &str) {
        self.next_rt += 1;
        let id = format!("rt-{:04}", self.next_rt);
        self.candidates.push(id.clone());
        let r = timed("Mqtt::publish", MQTTPUB_MS, || {
            self.mqtt.publish(
                &mut self.client,
                &self.topic,
                id.as_bytes(),
                QoS::AtLeastOnce,
                false,
            )
        });
        assert_eq!(r, Ok(PublishPath::Text), "{}: publish {when}", self.name);
        let got = self.pump_until(
            5000,
            |e| matches!(e, Ev::Msg { payload, .. } if payload == id.as_bytes()),
        );
        assert!(
            got.is_some(),
            "{}: the round trip {when} never came back; events {:?}",
            self.name,
            self.events
        );
    }

    /// The fault is over: the next command succeeds (`AT`), then an MQTT round trip.
    pub fn recovered(&mut self, when: &str) {
        self.at_ok(when);
        self.round_trip(when);
    }

    /// Publish `ping` the way a caller would during a fault: any result, within its time.
    pub fn publish_any(&mut self, payload: &str) -> Result<PublishPath, Error> {
        self.candidates.push(payload.to_string());
        timed("Mqtt::publish", MQTTPUB_MS, || {
            self.mqtt.publish(
                &mut self.client,
                &self.topic,
                payload.as_bytes(),
                QoS::AtLeastOnce,
                false,
            )
        })
    }

    // -----------------------------------------------------------------------------------
    // The sum

    /// Checks that every message the simulator wrote since the window opened was delivered
    /// once, or reported inside a line (header destroyed), or counted as truncated or in an
    /// overflow, and that nothing was delivered whole that it did not write byte for byte.
    /// Returns the counts.
    ///
    /// The sum is exact (`delivered + header lost + truncated + GOT IP events + overflow ==
    /// messages + GOT IP lines written`) when every message is one `+MQTTSUBRECV` piece.
    /// With split messages and an overflow, the overflow counts pieces: then each message
    /// is reported at most once and the unreported ones are within the count.
    pub fn check_sum(&mut self) -> Sum {
        self.settle();
        let wire = self.wire();
        let name = &self.name;
        let mut sum = Sum::default();
        let mut sent: Vec<&str> = Vec::new();
        for id in &self.candidates {
            match occurrences(&wire, id.as_bytes()) {
                0 => {}
                1 => sent.push(id),
                n => panic!("{name}: id {id} written {n} times (ids must be unique)"),
            }
        }
        sum.sent = sent.len();
        sum.sent_got_ip = occurrences(&wire, b"WIFI GOT IP");
        sum.extra_pieces = count_plain(&wire, b"+MQTTSUBRECV:").saturating_sub(sum.sent);
        // Indices into `sent` of the ids reported so far.
        let mut seen: Vec<usize> = Vec::new();
        let note = |id: &str, how: &str, seen: &mut Vec<usize>| {
            let Some(i) = sent.iter().position(|s| *s == id) else {
                panic!("{name}: {how} {id:?}, which the simulator never wrote");
            };
            assert!(!seen.contains(&i), "{name}: {id} reported twice");
            seen.push(i);
        };
        let expected: Vec<Vec<u8>> = sent.iter().map(|id| self.expected(id)).collect();
        // A message delivered whole (not truncated) must be one the simulator wrote, byte
        // for byte.
        let whole = |payload: &[u8]| -> Result<&str, String> {
            if let Some(i) = expected.iter().position(|e| e.as_slice() == payload) {
                return Ok(sent[i]);
            }
            match sent.iter().position(|id| starts_with_id(payload, id)) {
                Some(i) => Err(format!(
                    "{} delivered with {} of its {} bytes and truncated: false",
                    sent[i],
                    payload.len(),
                    expected[i].len()
                )),
                None => Err(format!(
                    "a message of {} bytes ({:?}) delivered whole, but the simulator never \
                     wrote it as one message",
                    payload.len(),
                    String::from_utf8_lossy(&payload[..payload.len().min(40)])
                )),
            }
        };
        let mut frag: Vec<u8> = Vec::new();
        let mut frag_cut = false;
        for ev in &self.events {
            match ev {
                Ev::Msg {
                    payload, truncated, ..
                } => {
                    if *truncated {
                        sum.truncated += 1;
                    } else {
                        let id = whole(payload)
                            .unwrap_or_else(|e| panic!("{name}: {e}; events {:?}", self.events));
                        note(id, "delivered", &mut seen);
                        sum.delivered += 1;
                    }
                }
                Ev::Frag {
                    data,
                    last,
                    truncated,
                    index,
                } => {
                    if *index == 0 {
                        frag.clear();
                        frag_cut = false;
                    }
                    frag.extend_from_slice(data);
                    frag_cut |= *truncated;
                    if *last {
                        if frag_cut {
                            sum.truncated += 1;
                        } else {
                            let id = whole(&frag).unwrap_or_else(|e| {
                                panic!("{name}: {e}; events {:?}", self.events)
                            });
                            note(id, "delivered", &mut seen);
                            sum.delivered += 1;
                        }
                    }
                }
                Ev::Line(text) | Ev::Oversized { start: text, .. } => {
                    for id in sent.clone() {
                        if occurrences(text, id.as_bytes()) > 0 {
                            note(id, "found in a line", &mut seen);
                            sum.header_lost += 1;
                        }
                    }
                }
                Ev::Data(h, d) => {
                    let all = [h.as_slice(), d.as_slice()].concat();
                    for id in sent.clone() {
                        if occurrences(&all, id.as_bytes()) > 0 {
                            note(id, "found in a data frame", &mut seen);
                            sum.header_lost += 1;
                        }
                    }
                }
                Ev::GotIp => sum.got_ip += 1,
                Ev::Overflow(n) => sum.overflow_dropped += *n as usize,
                _ => {}
            }
        }
        let reported = sum.delivered + sum.header_lost + sum.truncated + sum.got_ip;
        if sum.extra_pieces > 0 && sum.overflow_dropped > 0 {
            // Pieces, not messages, were dropped: each message is reported at most once, and
            // those not reported are covered by the count.
            assert!(
                reported <= sum.sent + sum.sent_got_ip
                    && sum.sent + sum.sent_got_ip <= reported + sum.overflow_dropped,
                "{name}: split messages and an overflow: {sum:?}; events {:?}",
                self.events
            );
            eprintln!("{name}: {sum:?}");
            return sum;
        }
        assert_eq!(
            reported + sum.overflow_dropped,
            sum.sent + sum.sent_got_ip,
            "{name}: delivered + header lost + truncated + GOT IP events + overflow != \
             messages + GOT IP lines written; {sum:?}\nunaccounted: {:?}\nevents: {:?}",
            sent.iter()
                .enumerate()
                .filter(|(i, _)| !seen.contains(i))
                .map(|(_, s)| s)
                .collect::<Vec<_>>(),
            self.events
        );
        if sum.overflow_dropped == 0 && sum.truncated == 0 {
            assert_eq!(
                seen.len(),
                sent.len(),
                "{name}: every written id is reported"
            );
        }
        eprintln!("{name}: {sum:?}");
        sum
    }

    /// The events of a kind seen in the window.
    pub fn count(&self, f: impl Fn(&Ev) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }
}
