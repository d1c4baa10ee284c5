//! The module state machine: bytes in, bytes out.
//!
//! [`Module::input`] takes what the driver wrote, [`Module::output`] returns what the
//! module says (after running timers and reading its MQTT client and sockets). Nothing
//! here blocks; a [`Sim`](crate::Sim) drives a module from a thread, but a test can drive
//! one by hand:
//!
//! ```
//! use at_wifi_sim::{Dialect, Module, SimConfig};
//! let mut m = Module::new(SimConfig::new(Dialect::EspAt).echo(false));
//! m.input(b"AT+GMR\r\n");
//! let out = String::from_utf8(m.output()).unwrap();
//! assert!(out.starts_with("AT version:"));
//! assert!(out.ends_with("\r\nOK\r\n"));
//! ```

mod basic;
mod combo;
mod mqtt;
mod wifi;

use crate::config::{Dialect, SimConfig};
use crate::fault::Fault;
use crate::mqtt_link::BrokerPath;
use crate::params::Fail;
use crate::sockets::{Sock, SockEvent};
use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A summary of the module's state, for tests and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Echo is on.
    pub echo: bool,
    /// `AT+SYSLOG=1` is in force.
    pub syslog: bool,
    /// Rebooting (input is ignored until `ready`).
    pub booting: bool,
    /// A command is still running (new ones get the busy line).
    pub busy: bool,
    /// Joined to an access point, with an IP address.
    pub wifi_connected: bool,
    /// The SSID joined.
    pub ssid: Option<String>,
    /// The MQTT state as ESP-AT numbers it (0 not initialised … 6 connected with
    /// subscriptions); Combo-AT: its `AT+MQTT?` status (0 idle, 1 connecting, 3 connected).
    pub mqtt_state: u8,
    /// The MQTT link to the broker is up.
    pub mqtt_connected: bool,
    /// The subscribed topics.
    pub subscriptions: Vec<String>,
    /// Combo-AT: the ids of the open sockets.
    pub sockets: Vec<u32>,
    /// Combo-AT: 0 passive receive, 1 active receive.
    pub receive_mode: u8,
}

/// What a command line is: `AT+X`, `AT+X?`, `AT+X=?`, `AT+X=…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    Exec,
    Query,
    Test,
    Set(&'a [u8]),
}

/// Where the bytes after a `>` prompt go.
#[derive(Clone, Debug)]
pub(crate) enum DataThen {
    LongClientId,
    LongUsername,
    LongPassword,
    PubRaw {
        topic: String,
        qos: u8,
        retain: bool,
    },
    ComboPubRaw {
        topic: String,
        qos: u8,
        retain: bool,
    },
    SocketSend(u32),
    SslCert(u8),
    MqttCert(u8),
}

pub(crate) struct DataMode {
    need: usize,
    buf: Vec<u8>,
    then: DataThen,
    deadline: Option<Instant>,
}

pub(crate) enum Mode {
    Command,
    Data(DataMode),
    Booting,
    /// Combo-AT `AT+SOCKETTT`: bytes go straight to this socket.
    Transparent(u32),
}

/// Something the module waits for before it answers the running command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Busy {
    Join,
    MqttConn,
    Sub { tag: u64, topic: String, qos: u8 },
    Unsub { tag: u64, topic: String },
    ComboSub { tag: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    BootDone,
    JoinDone {
        ssid: String,
        password: String,
        result: Result<(), u8>,
        auto: bool,
    },
    SntpSynced,
    BrokerReturn,
    MqttConnFail,
}

/// A Wi-Fi network joined or being joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ap {
    pub ssid: String,
    pub password: String,
}

/// State kept across reboots ("flash").
#[derive(Clone, Debug, Default)]
pub(crate) struct Flash {
    pub stored_ap: Option<Ap>,
    pub combo_autoconn: bool,
    pub autott: (u8, String, i64),
    pub ssl: [Vec<u8>; 3],
    pub dns: (String, String),
}

#[derive(Default)]
pub(crate) struct Faults {
    drop_left: usize,
    corrupt_left: usize,
    busy_storm: usize,
    delay_next: Option<u64>,
    reboot_next: bool,
}

/// The simulated module.
pub struct Module {
    pub(crate) cfg: SimConfig,
    pub(crate) d: Dialect,
    rng: u64,
    rx: Vec<u8>,
    rx_len: usize,
    pub(crate) mode: Mode,
    out: Vec<u8>,
    gated: Vec<u8>,
    gate_until: Option<Instant>,
    timers: Vec<(Instant, Timer)>,
    pub(crate) busy: Option<(Busy, Instant)>,
    faults: Faults,
    pub(crate) path: Arc<BrokerPath>,
    pub(crate) echo: bool,
    pub(crate) syslog: bool,
    pub(crate) wifi: wifi::Wifi,
    pub(crate) sntp: wifi::Sntp,
    pub(crate) mqtt: mqtt::Mqtt,
    pub(crate) socks: BTreeMap<u32, Sock>,
    pub(crate) sock_gen: u64,
    pub(crate) recv_mode: u8,
    pub(crate) flash: Flash,
    pub(crate) sock_tx: Sender<SockEvent>,
    sock_rx: Receiver<SockEvent>,
}

impl Module {
    /// A module as `config` describes it, powered on.
    pub fn new(config: SimConfig) -> Module {
        let (sock_tx, sock_rx) = mpsc::channel();
        let mut m = Module {
            d: config.dialect,
            rng: config.seed | 1,
            rx: Vec::new(),
            rx_len: 0,
            mode: Mode::Command,
            out: Vec::new(),
            gated: Vec::new(),
            gate_until: None,
            timers: Vec::new(),
            busy: None,
            faults: Faults::default(),
            path: Arc::default(),
            echo: config.echo,
            syslog: false,
            wifi: wifi::Wifi::default(),
            sntp: wifi::Sntp::new(config.dialect),
            mqtt: mqtt::Mqtt::default(),
            socks: BTreeMap::new(),
            sock_gen: 0,
            recv_mode: 0,
            flash: Flash {
                dns: ("127.0.0.1".into(), "0.0.0.0".into()),
                ..Flash::default()
            },
            sock_tx,
            sock_rx,
            cfg: config,
        };
        if m.cfg.wifi_connected {
            let ap = m.cfg.networks.first().map_or(
                Ap {
                    ssid: "sim-ap".into(),
                    password: "sim-password".into(),
                },
                |n| Ap {
                    ssid: n.ssid.clone(),
                    password: n.password.clone(),
                },
            );
            m.flash.stored_ap = Some(ap.clone());
            m.flash.combo_autoconn = true;
            m.wifi.joined = Some(ap);
        }
        m.path.set_wifi(m.wifi.joined.is_some());
        if m.cfg.boot_on_start {
            m.reboot(Instant::now());
        }
        for f in m.cfg.faults.clone() {
            m.inject(f);
        }
        m
    }

    /// The dialect played.
    pub fn dialect(&self) -> Dialect {
        self.d
    }

    /// Takes bytes the driver wrote.
    pub fn input(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        self.advance(now);
        let mut i = 0;
        while i < bytes.len() {
            match &mut self.mode {
                Mode::Booting => return,
                Mode::Transparent(id) => {
                    let id = *id;
                    self.transparent_input(id, &bytes[i..]);
                    return;
                }
                Mode::Data(dm) => {
                    let take = (dm.need - dm.buf.len()).min(bytes.len() - i);
                    dm.buf.extend_from_slice(&bytes[i..i + take]);
                    i += take;
                    if dm.buf.len() == dm.need {
                        if let Mode::Data(dm) = std::mem::replace(&mut self.mode, Mode::Command) {
                            self.data_done(dm.then, dm.buf, now);
                        }
                    }
                }
                Mode::Command => {
                    let b = bytes[i];
                    i += 1;
                    self.rx_len += 1;
                    if self.rx.len() < 4 * self.d.max_line() {
                        self.rx.push(b);
                    }
                    if b == b'\n' {
                        let raw = std::mem::take(&mut self.rx);
                        let len = std::mem::take(&mut self.rx_len);
                        self.on_line(&raw, len, now);
                    }
                }
            }
        }
    }

    /// Runs timers and takes in what the MQTT client and the sockets reported.
    pub fn poll(&mut self) {
        self.advance(Instant::now());
    }

    /// Everything the module has said since the last call (after [`Module::poll`]).
    pub fn output(&mut self) -> Vec<u8> {
        self.poll();
        let mut v = std::mem::take(&mut self.out);
        if self.faults.drop_left > 0 && !v.is_empty() {
            let k = self.faults.drop_left.min(v.len());
            v.drain(..k);
            self.faults.drop_left -= k;
        }
        if self.faults.corrupt_left > 0 && !v.is_empty() {
            let k = self.faults.corrupt_left.min(v.len());
            for b in &mut v[..k] {
                let bit = (self.next_rand() % 8) as u32;
                *b ^= 1u8 << bit;
            }
            self.faults.corrupt_left -= k;
        }
        v
    }

    /// True while a command runs (or a delayed reply is held back).
    pub fn is_busy(&self) -> bool {
        self.busy.is_some() || self.gate_until.is_some()
    }

    /// Injects a fault (see [`Fault`]).
    pub fn inject(&mut self, fault: Fault) {
        let now = Instant::now();
        match fault {
            Fault::Garbage(n) => {
                let g = self.garbage(n);
                self.out.extend_from_slice(&g);
            }
            Fault::DropBytes(n) => self.faults.drop_left += n,
            Fault::CorruptBytes(n) => self.faults.corrupt_left += n,
            Fault::BusyStorm(n) => self.faults.busy_storm += n,
            Fault::DelayReply(ms) => self.faults.delay_next = Some(ms),
            Fault::RebootDuringNextCommand => self.faults.reboot_next = true,
            Fault::Reboot => self.reboot(now),
            Fault::BrokerDrop => self.path.drop_now(),
            Fault::BrokerReturn => self.path.restore(),
            Fault::BrokerOutage(ms) => {
                self.path.drop_now();
                self.timers
                    .push((now + Duration::from_millis(ms), Timer::BrokerReturn));
            }
            Fault::UrcBurst(n) => self.urc_burst(n),
        }
    }

    /// A summary of the state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            echo: self.echo,
            syslog: self.syslog,
            booting: matches!(self.mode, Mode::Booting),
            busy: self.is_busy(),
            wifi_connected: self.wifi.joined.is_some(),
            ssid: self.wifi.joined.as_ref().map(|a| a.ssid.clone()),
            mqtt_state: if self.d == Dialect::AiThinker {
                self.combo_mqtt_status()
            } else {
                self.esp_mqtt_state()
            },
            mqtt_connected: self.mqtt.up,
            subscriptions: self.mqtt.subs.iter().map(|s| s.topic.clone()).collect(),
            sockets: self.socks.keys().copied().collect(),
            receive_mode: self.recv_mode,
        }
    }

    // -----------------------------------------------------------------------------------
    // Output

    /// Appends to the output (held back while a delayed reply is pending).
    pub(crate) fn emit(&mut self, b: &[u8]) {
        if self.gate_until.is_some() {
            self.gated.extend_from_slice(b);
        } else {
            self.out.extend_from_slice(b);
        }
    }

    /// A line: information response or URC, no blank line before it.
    pub(crate) fn line(&mut self, s: impl AsRef<[u8]>) {
        self.emit(s.as_ref());
        self.emit(b"\r\n");
    }

    /// The final `OK`.
    pub(crate) fn ok(&mut self) {
        self.emit(b"\r\nOK\r\n");
    }

    /// The final failure in the dialect's words.
    pub(crate) fn fail(&mut self, f: Fail) {
        match self.d {
            Dialect::EspAt => {
                if self.syslog {
                    self.line(format!("ERR CODE:0x{:08x}", f.esp_code()));
                }
                self.emit(b"\r\nERROR\r\n");
            }
            Dialect::W800 => {
                let w = f.w800_word();
                self.emit(format!("\r\n{w}\r\n").as_bytes());
            }
            Dialect::Beken | Dialect::AiThinker => self.emit(b"\r\nERROR\r\n"),
        }
    }

    /// The `>` prompt of a data command.
    pub(crate) fn prompt(&mut self, then: DataThen, need: usize, timeout: Option<Duration>) {
        match self.d {
            Dialect::EspAt | Dialect::W800 => self.emit(b"\r\nOK\r\n\r\n>"),
            Dialect::Beken => self.emit(b"\r\nOK\r\n>"),
            Dialect::AiThinker => self.emit(b"\r\n>"),
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        self.mode = Mode::Data(DataMode {
            need,
            buf: Vec::with_capacity(need.min(1 << 16)),
            then,
            deadline,
        });
    }

    /// The busy line, sent at once (a busy module's UART task answers while its AT task
    /// is stuck).
    fn busy_line(&mut self) {
        let s: &[u8] = match self.d {
            Dialect::EspAt | Dialect::Beken => b"\r\nbusy p...\r\n",
            Dialect::W800 => b"\r\nbusy ...\r\n",
            Dialect::AiThinker => b"\r\ncmd is running\r\n",
        };
        self.out.extend_from_slice(s);
    }

    pub(crate) fn set_busy(&mut self, b: Busy, timeout_ms: u64) {
        self.busy = Some((b, Instant::now() + Duration::from_millis(timeout_ms)));
    }

    pub(crate) fn add_timer(&mut self, after_ms: u64, t: Timer) {
        self.timers
            .push((Instant::now() + Duration::from_millis(after_ms), t));
    }

    pub(crate) fn next_rand(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn garbage(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_rand() >> 24) as u8).collect()
    }

    // -----------------------------------------------------------------------------------
    // Lines and commands

    fn on_line(&mut self, raw: &[u8], len: usize, now: Instant) {
        if self.echo {
            self.out.extend_from_slice(raw);
        }
        let mut line = raw;
        while let [rest @ .., b'\r' | b'\n'] = line {
            line = rest;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        if self.is_busy() {
            self.busy_line();
            return;
        }
        if self.faults.busy_storm > 0 {
            self.faults.busy_storm -= 1;
            self.busy_line();
            return;
        }
        if self.faults.reboot_next {
            self.faults.reboot_next = false;
            self.reboot(now);
            return;
        }
        if let Some(ms) = self.faults.delay_next.take() {
            self.gate_until = Some(now + Duration::from_millis(ms));
        }
        if len > self.d.max_line() {
            self.fail(Fail::TooLong);
            return;
        }
        self.command(line, now);
    }

    fn command(&mut self, line: &[u8], now: Instant) {
        if line.len() < 2 || !line[..2].eq_ignore_ascii_case(b"AT") {
            self.fail(Fail::NoAt);
            return;
        }
        let rest = &line[2..];
        if rest.is_empty() {
            self.ok();
            return;
        }
        if rest.eq_ignore_ascii_case(b"E0") || rest.eq_ignore_ascii_case(b"E1") {
            self.echo = rest[1] == b'1';
            self.ok();
            return;
        }
        if rest[0] != b'+' {
            self.fail(Fail::Unsupported);
            return;
        }
        let body = &rest[1..];
        let k = body
            .iter()
            .position(|&b| b == b'=' || b == b'?')
            .unwrap_or(body.len());
        let name = String::from_utf8_lossy(&body[..k]).to_ascii_uppercase();
        let op = match &body[k..] {
            [] => Op::Exec,
            b"?" => Op::Query,
            b"=?" => Op::Test,
            [b'=', params @ ..] => Op::Set(params),
            _ => {
                self.fail(Fail::Unsupported);
                return;
            }
        };
        let r = self
            .dispatch_basic(&name, op, now)
            .or_else(|| match self.d {
                Dialect::AiThinker => self.dispatch_combo(&name, op, now),
                _ => self
                    .dispatch_wifi(&name, op, now)
                    .or_else(|| self.dispatch_mqtt(&name, op, now)),
            });
        match r {
            None => self.fail(Fail::Unsupported),
            Some(Ok(())) => {}
            Some(Err(f)) => self.fail(f),
        }
    }

    fn data_done(&mut self, then: DataThen, data: Vec<u8>, now: Instant) {
        match then {
            DataThen::LongClientId | DataThen::LongUsername | DataThen::LongPassword => {
                self.mqtt_long_done(then, data)
            }
            DataThen::PubRaw { topic, qos, retain } => self.pubraw_done(&topic, qos, retain, data),
            DataThen::ComboPubRaw { topic, qos, retain } => {
                self.combo_pubraw_done(&topic, qos, retain, data)
            }
            DataThen::SocketSend(id) => self.socket_send_done(id, &data),
            DataThen::SslCert(t) => {
                if let Some(slot) = self.flash.ssl.get_mut(usize::from(t.saturating_sub(1))) {
                    *slot = data;
                }
                self.ok();
            }
            DataThen::MqttCert(t) => {
                if let Some(slot) = self
                    .mqtt
                    .combo
                    .certs
                    .get_mut(usize::from(t.saturating_sub(1)))
                {
                    *slot = data;
                }
                self.ok();
            }
        }
        let _ = now;
    }

    // -----------------------------------------------------------------------------------
    // Time

    fn advance(&mut self, now: Instant) {
        if let Some(g) = self.gate_until {
            if now >= g {
                self.gate_until = None;
                let held = std::mem::take(&mut self.gated);
                self.out.extend_from_slice(&held);
            }
        }
        // Timers, in time order.
        loop {
            let due = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, (at, _))| *at <= now)
                .min_by_key(|(_, (at, _))| *at)
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let (_, t) = self.timers.swap_remove(i);
            self.on_timer(t, now);
        }
        if let Some((b, deadline)) = self.busy.clone() {
            if now >= deadline {
                self.busy = None;
                self.busy_expired(b);
            }
        }
        if let Mode::Data(dm) = &self.mode {
            if dm.deadline.is_some_and(|d| now >= d) {
                if let Mode::Data(dm) = std::mem::replace(&mut self.mode, Mode::Command) {
                    if let DataThen::PubRaw { .. } = dm.then {
                        self.line("+MQTTPUB:FAIL");
                    }
                }
            }
        }
        if !matches!(self.mode, Mode::Booting) {
            self.poll_mqtt();
            self.poll_sockets();
        }
    }

    fn on_timer(&mut self, t: Timer, now: Instant) {
        match t {
            Timer::BootDone => {
                self.mode = Mode::Command;
                self.out.extend_from_slice(b"\r\nready\r\n");
                self.after_boot();
            }
            Timer::JoinDone {
                ssid,
                password,
                result,
                auto,
            } => self.join_done(ssid, password, result, auto),
            Timer::SntpSynced => self.sntp_synced(),
            Timer::BrokerReturn => self.path.restore(),
            Timer::MqttConnFail => self.mqtt_connect_failed("no route to broker".into()),
        }
        let _ = now;
    }

    fn poll_sockets(&mut self) {
        while let Ok(ev) = self.sock_rx.try_recv() {
            self.on_sock_event(ev);
        }
    }

    // -----------------------------------------------------------------------------------
    // Reboot

    /// Reboots: everything not in flash is lost, boot noise, `ready` after
    /// [`SimConfig::boot_ms`].
    pub(crate) fn reboot(&mut self, now: Instant) {
        if let Some(link) = self.mqtt.link.take() {
            link.abort();
        }
        self.mqtt = mqtt::Mqtt::default();
        for (_, mut s) in std::mem::take(&mut self.socks) {
            s.close();
        }
        while self.sock_rx.try_recv().is_ok() {}
        self.recv_mode = 0;
        self.wifi = wifi::Wifi::default();
        self.path.set_wifi(false);
        self.sntp = wifi::Sntp::new(self.d);
        self.echo = true;
        self.syslog = false;
        self.busy = None;
        self.gate_until = None;
        self.gated.clear();
        self.timers.clear();
        self.rx.clear();
        self.rx_len = 0;
        self.faults.busy_storm = 0;
        self.faults.delay_next = None;
        self.faults.reboot_next = false;
        let noise_len = 24 + (self.next_rand() % 40) as usize;
        let noise = self.garbage(noise_len);
        self.out.extend_from_slice(&noise);
        let banner: &[&str] = match self.d {
            Dialect::EspAt => &[
                "ESP-ROM:esp32c3-api1-20210207",
                "rst:0xc (RTC_SW_CPU_RST),boot:0xc (SPI_FAST_FLASH_BOOT)",
                "I (31) boot: ESP-IDF v5.0.4 2nd stage bootloader",
            ],
            Dialect::W800 => &["W800 AT firmware (simulated)", "wm_main: boot"],
            Dialect::Beken => &["BK7238 AT (simulated)", "[Flash]id:0xc86515"],
            Dialect::AiThinker => &[
                "Ai-Thinker Combo-AT (simulated)",
                "[OS] Starting aos_loop_proc task",
            ],
        };
        self.out.extend_from_slice(b"\r\n");
        for l in banner {
            self.out.extend_from_slice(l.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        self.mode = Mode::Booting;
        self.timers.push((
            now + Duration::from_millis(self.cfg.boot_ms),
            Timer::BootDone,
        ));
    }

    fn urc_burst(&mut self, n: usize) {
        let topic = self.mqtt.subs.first().map(|s| s.topic.clone());
        for i in 0..n {
            let wifi_line = match (self.d, self.wifi.joined.is_some()) {
                (Dialect::AiThinker, true) => "+EVENT:WIFI_GOT_IP",
                (Dialect::AiThinker, false) => "+EVENT:WIFI_DISCONNECT",
                (_, true) => "WIFI GOT IP",
                (_, false) => "WIFI DISCONNECT",
            };
            match (&topic, self.mqtt.up, i % 2) {
                (Some(t), true, 1) => {
                    let payload = format!("burst-{i}");
                    let t = t.clone();
                    self.mqtt_message(&t, payload.as_bytes(), 0);
                }
                _ => self.line(wifi_line),
            }
        }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if let Some(link) = self.mqtt.link.take() {
            link.abort();
        }
    }
}
