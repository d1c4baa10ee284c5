//! The application of the example firmwares, shared by every board.
//!
//! What it does, on any UART and clock the board hands it:
//!
//! 1. **Bring-up**: `AT` until the module answers, `AT+RST` and its `ready`, `ATE0`,
//!    station mode, join the access point, configure MQTT (automatic reconnection on),
//!    connect to the broker, subscribe to `at-wifi/<id>/cmd`.
//! 2. **Online**: publish a counter to `at-wifi/<id>/counter` every few seconds (QoS 1), and
//!    switch the board's LED on messages on the command topic: `on`, `off`, `toggle`.
//! 3. **Recovery**: the module rebooted (`ready`), the UART failed or recovery failed
//!    three times: bring-up again, with a growing pause between attempts. The MQTT link
//!    dropped: wait [`RECONNECT_GRACE_MS`] for the module's own reconnection (the session
//!    re-subscribes), else `AT+MQTTCLEAN` + configure + connect + subscribe
//!    ([`Mqtt::recover`]). Three failed publishes in a row count as a dropped link.
//!
//! Nothing here formats text: the [`Board`] gets [`Note`]s and decides what, if anything,
//! to print, so a production build carries no `core::fmt` machinery.
//!
//! The buffer sizes ([`RX`], [`RESP`], [`TX`], [`EV`], [`BUF`], [`STASH`],
//! [`RX_BUFFER`]) are chosen for a 20 KiB Blue Pill with room to spare: short commands and
//! messages of up to about 200 bytes. See the firmware crates' READMEs for the measured
//! figures.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "semihosting")]
pub mod semihosting;

use at_wifi::command::basic::restart;
use at_wifi::command::mqtt::QoS;
use at_wifi::command::wifi::{join, JoinAp};
use at_wifi::mqtt::{Mqtt, MqttEvent, MqttOptions};
use at_wifi::serial::{BufferedSerial, RxConsumer};
use at_wifi::{Client, Clock, Dialect, Error, Urc};
use embedded_io::{Read, ReadReady, Write};

/// The client's framer buffer: the longest line or message frame taken whole.
pub const RX: usize = 256;
/// The client's buffer for one command's reply lines.
pub const RESP: usize = 256;
/// The client's transmit buffer: one command line (the dialects' 256-byte limit plus
/// `at_wifi::client::TX_HEADROOM`).
pub const TX: usize = 296;
/// The client's event queue, in bytes (each event takes its size plus 8).
pub const EV: usize = 384;
/// The MQTT session's buffer for joining a split incoming message.
pub const BUF: usize = 256;
/// The MQTT session's store of events taken out of the client (at least `RX` +
/// `at_wifi::mqtt::RECORD_OVERHEAD`, so
/// that any event can be taken while others wait).
pub const STASH: usize = 384;
/// Subscriptions the session remembers for re-subscription: the app uses one topic.
pub const SUBS: usize = 1;
/// The interrupt-fed receive buffer (holds `RX_BUFFER - 1` bytes): about 44 ms of
/// continuous module output at 115200 baud.
pub const RX_BUFFER: usize = 512;

/// The client type the application runs on.
pub type AppClient<U, C> = Client<U, C, RX, RESP, TX, EV>;
/// The MQTT session type the application runs on.
pub type AppMqtt = Mqtt<BUF, STASH, SUBS>;

/// How long `AT+MQTTCONN` may take to report its outcome (ms).
pub const CONNECT_TIMEOUT_MS: u32 = 20_000;
/// How long `AT+RST` may take until `ready` (ms).
pub const RESTART_TIMEOUT_MS: u32 = 10_000;
/// After the MQTT link dropped, how long the module gets to reconnect by itself before
/// the application recovers the link with [`Mqtt::recover`] (ms).
pub const RECONNECT_GRACE_MS: u64 = 30_000;
/// First pause after a failed bring-up (ms); doubles up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: u32 = 2_000;
/// Longest pause between two bring-up attempts (ms).
pub const MAX_BACKOFF_MS: u32 = 60_000;
/// How long `AT` and `ATE0` may take (ms; the crate's `At` / `EchoOff` use the same).
const SHORT_TIMEOUT_MS: u32 = 1_000;
/// How long `AT+CWMODE` may take (ms; as the crate's `SetWifiMode`).
const MODE_TIMEOUT_MS: u32 = 2_000;
/// `AT` attempts (1 s each) before the module is declared mute.
const SYNC_TRIES: u32 = 5;
/// Most stale events dropped after a restart.
const STALE_EVENTS_MAX: u32 = 64;
/// Failed recoveries or publishes in a row before a full bring-up.
const MAX_FAILURES: u8 = 3;
/// Room for `at-wifi/<id>/counter`: ids up to [`MAX_CLIENT_ID`] bytes.
const TOPIC_CAP: usize = 64;
/// The longest client id (`AT_WIFI_CLIENT_ID`, 48 bytes): `at-wifi/<id>/counter` must fit
/// the topic buffer whole, or the two topics would be cut and could become one.
pub const MAX_CLIENT_ID: usize = TOPIC_CAP - "at-wifi/".len() - "/counter".len();
// `check_client_id`'s message names the number.
const _: () = assert!(MAX_CLIENT_ID == 48);

/// What the firmware connects to, fixed at build time.
#[derive(Clone, Copy)]
pub struct Settings {
    /// The access point's SSID.
    pub ssid: &'static str,
    /// Its password (empty for an open network).
    pub password: &'static str,
    /// The MQTT broker's host name or address, as the module resolves it.
    pub broker_host: &'static str,
    /// The broker's TCP port.
    pub broker_port: u16,
    /// MQTT client id, also the `<id>` of the topics (at most 48 bytes).
    pub client_id: &'static str,
    /// Pause between two counter publications (ms).
    pub publish_every_ms: u32,
    /// The module's AT firmware.
    pub dialect: Dialect,
}

impl Settings {
    /// Settings from the build environment, with defaults:
    ///
    /// | variable | default |
    /// |---|---|
    /// | `AT_WIFI_SSID` | `at-wifi-demo` |
    /// | `AT_WIFI_PASSWORD` | `at-wifi-demo-pass` |
    /// | `AT_WIFI_BROKER_HOST` | `broker.local` |
    /// | `AT_WIFI_BROKER_PORT` | `1883` |
    /// | `AT_WIFI_CLIENT_ID` | `default_id` |
    /// | `AT_WIFI_PUBLISH_MS` | `5000` |
    ///
    /// Cargo rebuilds the firmware when one of them changes. Evaluated as a `const`, a
    /// value that cannot work stops the build with a message naming it: a port that is not
    /// a number from 1 to 65535, a period that is not a decimal `u32`, a client id longer
    /// than [`MAX_CLIENT_ID`] bytes.
    pub const fn from_env(default_id: &'static str) -> Self {
        Settings {
            ssid: or(option_env!("AT_WIFI_SSID"), "at-wifi-demo"),
            password: or(option_env!("AT_WIFI_PASSWORD"), "at-wifi-demo-pass"),
            broker_host: or(option_env!("AT_WIFI_BROKER_HOST"), "broker.local"),
            broker_port: parse_port(option_env!("AT_WIFI_BROKER_PORT"), 1883),
            client_id: check_client_id(or(option_env!("AT_WIFI_CLIENT_ID"), default_id)),
            publish_every_ms: parse_u32(option_env!("AT_WIFI_PUBLISH_MS"), 5000),
            dialect: Dialect::EspAt,
        }
    }
}

const fn or(value: Option<&'static str>, default: &'static str) -> &'static str {
    match value {
        Some(v) => v,
        None => default,
    }
}

/// A decimal number from the build environment; `default` when unset. A malformed value
/// stops the build (const evaluation panics).
const fn parse_u32(value: Option<&'static str>, default: u32) -> u32 {
    let s = match value {
        Some(s) => s.as_bytes(),
        None => return default,
    };
    assert!(!s.is_empty(), "empty number in the build environment");
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        assert!(s[i].is_ascii_digit(), "not a decimal number");
        // In 64 bits, where one more digit cannot overflow.
        let next = n as u64 * 10 + (s[i] - b'0') as u64;
        assert!(
            next <= u32::MAX as u64,
            "number in the build environment is over u32::MAX"
        );
        n = next as u32;
        i += 1;
    }
    n
}

/// A TCP port from the build environment (1 to 65535); `default` when unset.
const fn parse_port(value: Option<&'static str>, default: u16) -> u16 {
    let n = parse_u32(value, default as u32);
    assert!(
        n >= 1 && n <= 65535,
        "AT_WIFI_BROKER_PORT: not a port from 1 to 65535"
    );
    n as u16
}

/// The client id, refused when the topics built from it would not fit.
const fn check_client_id(id: &'static str) -> &'static str {
    assert!(
        id.len() <= MAX_CLIENT_ID,
        "AT_WIFI_CLIENT_ID: longer than 48 bytes"
    );
    id
}

/// A command received on `at-wifi/<id>/cmd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `on`: LED on.
    On,
    /// `off`: LED off.
    Off,
    /// `toggle`: LED the other way.
    Toggle,
    /// Anything else: ignored.
    Unknown,
}

impl Command {
    /// Parses a payload: `on`, `off` or `toggle`, case and surrounding white space
    /// ignored.
    pub fn parse(payload: &[u8]) -> Command {
        let p = payload.trim_ascii();
        if p.eq_ignore_ascii_case(b"on") {
            Command::On
        } else if p.eq_ignore_ascii_case(b"off") {
            Command::Off
        } else if p.eq_ignore_ascii_case(b"toggle") {
            Command::Toggle
        } else {
            Command::Unknown
        }
    }
}

/// A step of the bring-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `AT` until the module answers.
    Sync,
    /// `AT+RST` and its `ready`.
    Restart,
    /// `ATE0`.
    EchoOff,
    /// `AT+CWMODE=1`.
    WifiMode,
    /// `AT+CWJAP`.
    Join,
    /// `AT+MQTTUSERCFG` and friends.
    MqttConfigure,
    /// `AT+MQTTCONN` and its outcome.
    MqttConnect,
    /// `AT+MQTTSUB` of the command topic.
    Subscribe,
}

/// What the application tells the board, for a log or a test harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// A bring-up starts (attempt number, from 1).
    BringUp(u32),
    /// A bring-up step succeeded.
    StepDone(Step),
    /// A bring-up failed; the next one comes after a pause.
    BringUpFailed(Step, Error),
    /// Wi-Fi and MQTT are up, the command topic subscribed.
    Online,
    /// A counter value was published and acknowledged (the count of such publications).
    Published(u32),
    /// A publication failed.
    PublishFailed(Error),
    /// A command arrived on the command topic.
    Command(Command),
    /// The LED was switched (its new state).
    Led(bool),
    /// The MQTT link went down.
    MqttDown,
    /// The module reconnected by itself.
    MqttBack,
    /// [`Mqtt::recover`] brought the link back.
    Recovered,
    /// [`Mqtt::recover`] failed.
    RecoverFailed(Error),
    /// The module rebooted on its own: bring-up again.
    ModuleReset,
    /// The UART failed: bring-up again.
    UartFailed(Error),
    /// The module lost the access point.
    WifiLost,
    /// The module got an IP address again.
    WifiBack,
    /// Received bytes were lost (receive buffer or UART overrun).
    RxLost(u32),
    /// Events were lost (the client's or the session's queue was full).
    EventsLost(u32),
}

/// What the application needs from the board besides the UART and the clock.
pub trait Board {
    /// Switches the LED.
    fn set_led(&mut self, on: bool);

    /// Progress; the default ignores it.
    fn note(&mut self, note: Note) {
        let _ = note;
    }
}

/// A UART that can tell how many received bytes it lost (receive-buffer overflows,
/// hardware overruns). The default says none.
pub trait LostBytes {
    /// Bytes lost since the last call.
    fn take_lost(&mut self) -> u32 {
        0
    }
}

impl<T, const N: usize> LostBytes for BufferedSerial<T, RxConsumer<'_, N>> {
    fn take_lost(&mut self) -> u32 {
        self.rx_mut().take_overflows()
    }
}

/// Counters of what the application achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bring-up attempts started.
    pub bring_ups: u32,
    /// Publications acknowledged.
    pub published: u32,
    /// Commands received and acted on (`on`, `off`, `toggle`).
    pub commands: u32,
    /// The LED state.
    pub led: bool,
    /// Wi-Fi and MQTT are up.
    pub online: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not brought up: bring-up at `retry_at`.
    Down,
    /// Brought up.
    Up,
}

/// The application's state; call [`App::step`] in the main loop.
pub struct App {
    settings: Settings,
    counter_topic: heapless::String<TOPIC_CAP>,
    cmd_topic: heapless::String<TOPIC_CAP>,
    phase: Phase,
    retry_at: u64,
    backoff_ms: u32,
    next_publish: u64,
    count: u32,
    /// When the MQTT link was seen down (while [`Phase::Up`]).
    down_since: Option<u64>,
    failures: u8,
    progress: Progress,
}

impl App {
    /// An application that will bring the module up at its first [`App::step`].
    pub fn new(settings: Settings) -> App {
        App {
            settings,
            counter_topic: topic(settings.client_id, "/counter"),
            cmd_topic: topic(settings.client_id, "/cmd"),
            phase: Phase::Down,
            retry_at: 0,
            backoff_ms: FIRST_BACKOFF_MS,
            next_publish: 0,
            count: 0,
            down_since: None,
            failures: 0,
            progress: Progress::default(),
        }
    }

    /// What was achieved so far.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// The topic the counter goes to.
    pub fn counter_topic(&self) -> &str {
        &self.counter_topic
    }

    /// The topic commands come from.
    pub fn command_topic(&self) -> &str {
        &self.cmd_topic
    }

    /// One turn of the main loop: bring-up when due, else events, recovery and the next
    /// publication. Idles the clock (a `WFI` on the example boards) when there was
    /// nothing to do.
    pub fn step<U, C, B>(&mut self, client: &mut AppClient<U, C>, mqtt: &mut AppMqtt, board: &mut B)
    where
        U: Read + ReadReady + Write + LostBytes,
        C: Clock,
        B: Board,
    {
        let lost = client.uart_mut().take_lost();
        if lost > 0 {
            // A line or payload being received is missing bytes: end it here (a payload
            // comes out truncated) instead of letting it swallow what follows.
            client.discard_partial();
            board.note(Note::RxLost(lost));
        }
        match self.phase {
            Phase::Down => self.down(client, mqtt, board),
            Phase::Up => self.up(client, mqtt, board),
        }
    }

    fn down<U, C, B>(&mut self, client: &mut AppClient<U, C>, mqtt: &mut AppMqtt, board: &mut B)
    where
        U: Read + ReadReady + Write,
        C: Clock,
        B: Board,
    {
        if client.clock_mut().now_ms() < self.retry_at {
            client.clock_mut().idle();
            return;
        }
        self.progress.bring_ups += 1;
        board.note(Note::BringUp(self.progress.bring_ups));
        match self.bring_up(client, mqtt, board) {
            Ok(()) => {
                self.phase = Phase::Up;
                self.backoff_ms = FIRST_BACKOFF_MS;
                self.next_publish = client.clock_mut().now_ms();
                self.down_since = None;
                self.failures = 0;
                self.progress.online = true;
                board.note(Note::Online);
            }
            Err((step, error)) => {
                board.note(Note::BringUpFailed(step, error));
                self.retry_at = client
                    .clock_mut()
                    .now_ms()
                    .saturating_add(u64::from(self.backoff_ms));
                self.backoff_ms = self.backoff_ms.saturating_mul(2).min(MAX_BACKOFF_MS);
            }
        }
    }

    fn options(&self) -> MqttOptions<'static> {
        // The client id is short (48 bytes at most) and there are no credentials:
        // `AT+MQTTUSERCFG` takes them, no `AT+MQTTLONG*` code is needed.
        MqttOptions::new(self.settings.client_id)
            .keepalive_s(60)
            .reconnect(true)
            .without_long_values()
    }

    // The bring-up, online, recovery and publishing paths are kept out of line
    // (`inline(never)`): each then has a frame of its own instead of one frame holding the
    // locals of all of them, which lowers the peak stack (measured under QEMU).
    #[inline(never)]
    fn bring_up<U, C, B>(
        &mut self,
        client: &mut AppClient<U, C>,
        mqtt: &mut AppMqtt,
        board: &mut B,
    ) -> Result<(), (Step, Error)>
    where
        U: Read + ReadReady + Write,
        C: Clock,
        B: Board,
    {
        let s = self.settings;
        let mut synced = Err(Error::Timeout { ms: 0 });
        for _ in 0..SYNC_TRIES {
            synced = client.send_line(b"AT", SHORT_TIMEOUT_MS).map(|_| ());
            if synced.is_ok() {
                break;
            }
        }
        done(board, Step::Sync, synced)?;
        // A known state whatever the module did before: no MQTT link, no stale settings.
        done(board, Step::Restart, restart(client, RESTART_TIMEOUT_MS))?;
        // What the session still holds describes the module before the restart: drop it.
        // (A reboot that failed a command with `Error::Reset` is also in there as an event,
        // and would otherwise trigger a second bring-up.)
        for _ in 0..STALE_EVENTS_MAX {
            if !matches!(mqtt.poll(client), Ok(Some(_))) {
                break;
            }
        }
        // Fixed lines go through `send_line`: a typed command costs its own encoding and
        // parsing code (about 360 bytes of flash each), and these have no parameters or
        // reply to type.
        let echo_off = client.send_line(b"ATE0", SHORT_TIMEOUT_MS);
        done(board, Step::EchoOff, echo_off.map(|_| ()))?;
        let station = client.send_line(b"AT+CWMODE=1", MODE_TIMEOUT_MS);
        done(board, Step::WifiMode, station.map(|_| ()))?;
        let joined = JoinAp::new(s.dialect, s.ssid, s.password)
            .and_then(|ap| join(client, &ap).map_err(|e| e.error));
        done(board, Step::Join, joined)?;
        let configured = mqtt.configure(client, &self.options());
        done(board, Step::MqttConfigure, configured)?;
        let connected = mqtt.connect(client, s.broker_host, s.broker_port, CONNECT_TIMEOUT_MS);
        done(board, Step::MqttConnect, connected)?;
        let subscribed = mqtt.subscribe(client, &self.cmd_topic, QoS::AtLeastOnce);
        done(board, Step::Subscribe, subscribed.map(|_| ()))
    }

    #[inline(never)]
    fn up<U, C, B>(&mut self, client: &mut AppClient<U, C>, mqtt: &mut AppMqtt, board: &mut B)
    where
        U: Read + ReadReady + Write,
        C: Clock,
        B: Board,
    {
        let mut busy = false;
        loop {
            let now = client.clock_mut().now_ms();
            let event = match mqtt.poll(client) {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => {
                    board.note(Note::UartFailed(e));
                    self.go_down();
                    return;
                }
            };
            busy = true;
            match event {
                MqttEvent::Message { topic, payload, .. } if topic == self.cmd_topic.as_bytes() => {
                    self.command(Command::parse(payload), board);
                }
                MqttEvent::Reset => {
                    board.note(Note::ModuleReset);
                    self.go_down();
                    return;
                }
                MqttEvent::Disconnected => {
                    self.down_since.get_or_insert(now);
                    board.note(Note::MqttDown);
                }
                MqttEvent::Connected | MqttEvent::Reconnected { .. } => {
                    self.down_since = None;
                    self.failures = 0;
                    board.note(Note::MqttBack);
                }
                MqttEvent::Overflow { dropped } => board.note(Note::EventsLost(dropped)),
                MqttEvent::Other(Urc::WifiDisconnected) => board.note(Note::WifiLost),
                MqttEvent::Other(Urc::WifiGotIp) => board.note(Note::WifiBack),
                _ => {}
            }
        }

        let now = client.clock_mut().now_ms();
        if !mqtt.is_connected() && self.down_since.is_none() {
            self.down_since = Some(now);
        }
        if let Some(since) = self.down_since {
            if now.saturating_sub(since) >= RECONNECT_GRACE_MS {
                busy = true;
                self.recover(client, mqtt, board, now);
            }
        } else if now >= self.next_publish {
            busy = true;
            self.next_publish = now.saturating_add(u64::from(self.settings.publish_every_ms));
            self.publish(client, mqtt, board, now);
        }
        if !busy {
            client.clock_mut().idle();
        }
    }

    #[inline(never)]
    fn recover<U, C, B>(
        &mut self,
        client: &mut AppClient<U, C>,
        mqtt: &mut AppMqtt,
        board: &mut B,
        now: u64,
    ) where
        U: Read + ReadReady + Write,
        C: Clock,
        B: Board,
    {
        let s = self.settings;
        let opts = self.options();
        match mqtt.recover(
            client,
            &opts,
            s.broker_host,
            s.broker_port,
            CONNECT_TIMEOUT_MS,
        ) {
            Ok(_) => {
                self.down_since = None;
                self.failures = 0;
                board.note(Note::Recovered);
            }
            Err(Error::Reset) => {
                board.note(Note::ModuleReset);
                self.go_down();
            }
            Err(e) => {
                board.note(Note::RecoverFailed(e));
                self.failures += 1;
                if self.failures >= MAX_FAILURES {
                    self.go_down();
                } else {
                    self.down_since = Some(now);
                }
            }
        }
    }

    #[inline(never)]
    fn publish<U, C, B>(
        &mut self,
        client: &mut AppClient<U, C>,
        mqtt: &mut AppMqtt,
        board: &mut B,
        now: u64,
    ) where
        U: Read + ReadReady + Write,
        C: Clock,
        B: Board,
    {
        let mut digits = [0u8; 10];
        let payload = decimal(self.count, &mut digits);
        // Digits always go as a string parameter: `publish_text` keeps the raw-publish
        // code out of the firmware.
        match mqtt.publish_text(
            client,
            &self.counter_topic,
            payload,
            QoS::AtLeastOnce,
            false,
        ) {
            Ok(_) => {
                self.count = self.count.wrapping_add(1);
                self.failures = 0;
                self.progress.published += 1;
                board.note(Note::Published(self.progress.published));
            }
            Err(Error::Reset) => {
                board.note(Note::ModuleReset);
                self.go_down();
            }
            Err(e) => {
                board.note(Note::PublishFailed(e));
                self.failures += 1;
                if self.failures >= MAX_FAILURES {
                    // Treat as a dropped link: recover at once.
                    self.failures = 0;
                    self.down_since = Some(now.saturating_sub(RECONNECT_GRACE_MS));
                }
            }
        }
    }

    fn command<B: Board>(&mut self, command: Command, board: &mut B) {
        board.note(Note::Command(command));
        let led = match command {
            Command::On => true,
            Command::Off => false,
            Command::Toggle => !self.progress.led,
            Command::Unknown => return,
        };
        self.progress.led = led;
        self.progress.commands += 1;
        board.set_led(led);
        board.note(Note::Led(led));
    }

    /// Back to bring-up, at once.
    fn go_down(&mut self) {
        self.phase = Phase::Down;
        self.progress.online = false;
        self.retry_at = 0;
    }
}

fn done<B: Board>(board: &mut B, step: Step, r: Result<(), Error>) -> Result<(), (Step, Error)> {
    match r {
        Ok(()) => {
            board.note(Note::StepDone(step));
            Ok(())
        }
        Err(e) => Err((step, e)),
    }
}

/// `at-wifi/<id><suffix>`, cut at the capacity: with [`Settings::from_env`] ids are at
/// most [`MAX_CLIENT_ID`] bytes and both topics fit whole; a longer id set by hand is cut.
fn topic(id: &str, suffix: &str) -> heapless::String<TOPIC_CAP> {
    let mut t = heapless::String::new();
    for part in ["at-wifi/", id, suffix] {
        let room = TOPIC_CAP - t.len();
        if part.len() <= room {
            // Fits: checked just above.
            let _ = t.push_str(part);
            continue;
        }
        let mut n = room;
        while !part.is_char_boundary(n) {
            n -= 1;
        }
        let _ = t.push_str(&part[..n]);
        break;
    }
    t
}

/// `n` in decimal, without `core::fmt`.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use at_wifi::mock::MockUart;

    impl LostBytes for MockUart {}

    #[derive(Default)]
    struct TestBoard {
        led: Vec<bool>,
        notes: Vec<Note>,
    }

    impl Board for TestBoard {
        fn set_led(&mut self, on: bool) {
            self.led.push(on);
        }
        fn note(&mut self, note: Note) {
            self.notes.push(note);
        }
    }

    const SETTINGS: Settings = Settings {
        ssid: "home",
        password: "password1",
        broker_host: "broker.test",
        broker_port: 1883,
        client_id: "dev",
        publish_every_ms: 5000,
        dialect: Dialect::EspAt,
    };

    /// The module's side of one bring-up.
    fn expect_bring_up(uart: &mut MockUart) {
        uart.expect(b"AT\r\n", b"AT\r\n\r\nOK\r\n");
        uart.expect(
            b"AT+RST\r\n",
            b"AT+RST\r\n\r\nOK\r\n\x1b\xfegarbage\r\n\r\nready\r\n",
        );
        uart.expect(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n");
        uart.expect(b"AT+CWMODE=1\r\n", b"\r\nOK\r\n");
        uart.expect(
            b"AT+CWJAP=\"home\",\"password1\"\r\n",
            b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n",
        );
        uart.expect(
            b"AT+MQTTUSERCFG=0,1,\"dev\",\"\",\"\",0,0,\"\"\r\n",
            b"\r\nOK\r\n",
        );
        uart.expect(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nOK\r\n");
        uart.expect(
            b"AT+MQTTCONN=0,\"broker.test\",1883,1\r\n",
            b"\r\nOK\r\n+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",1\r\n",
        );
        uart.expect(b"AT+MQTTSUB=0,\"at-wifi/dev/cmd\",1\r\n", b"\r\nOK\r\n");
    }

    fn publish_line(n: u32) -> Vec<u8> {
        format!("AT+MQTTPUB=0,\"at-wifi/dev/counter\",\"{n}\",1,0\r\n").into_bytes()
    }

    fn run(uart: MockUart, steps: usize) -> (App, TestBoard, MockUart) {
        let clock = uart.clock();
        let mut client: AppClient<_, _> = AppClient::new(uart, clock, Dialect::EspAt);
        let mut mqtt = AppMqtt::new();
        let mut app = App::new(SETTINGS);
        let mut board = TestBoard::default();
        for _ in 0..steps {
            app.step(&mut client, &mut mqtt, &mut board);
        }
        let (uart, _) = client.release();
        (app, board, uart)
    }

    #[test]
    fn brings_up_publishes_and_obeys_commands() {
        let mut uart = MockUart::new();
        expect_bring_up(&mut uart);
        uart.expect(
            &publish_line(0),
            b"\r\nOK\r\n+MQTTSUBRECV:0,\"at-wifi/dev/cmd\",6,toggle\r\n",
        );
        let (app, board, uart) = run(uart, 4);
        uart.assert_done();
        let p = app.progress();
        assert_eq!((p.bring_ups, p.published, p.commands), (1, 1, 1));
        assert!(p.online && p.led);
        assert_eq!(board.led, [true]);
        assert!(board.notes.contains(&Note::Command(Command::Toggle)));
        assert_eq!(app.counter_topic(), "at-wifi/dev/counter");
    }

    #[test]
    fn a_reboot_during_a_command_brings_up_once() {
        let mut uart = MockUart::new();
        expect_bring_up(&mut uart);
        // The module reboots instead of answering the publication: the command fails
        // with `Error::Reset`, and the `ready` is also queued as an event.
        uart.expect(&publish_line(0), b"\x00boot noise\r\n\r\nready\r\n");
        expect_bring_up(&mut uart);
        uart.expect(&publish_line(0), b"\r\nOK\r\n");
        // Any further bring-up would write `AT` with no expectation left: a mismatch.
        let (app, board, uart) = run(uart, 10);
        uart.assert_done();
        let p = app.progress();
        assert_eq!(
            (p.bring_ups, p.published),
            (2, 1),
            "notes: {:?}",
            board.notes
        );
        assert_eq!(
            board
                .notes
                .iter()
                .filter(|n| **n == Note::ModuleReset)
                .count(),
            1
        );
    }

    /// A mock UART that reports lost bytes when told to, as an interrupt-fed receive
    /// buffer does after an overrun.
    struct Lossy {
        uart: MockUart,
        lost: u32,
    }

    impl embedded_io::ErrorType for Lossy {
        type Error = <MockUart as embedded_io::ErrorType>::Error;
    }
    impl Read for Lossy {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            self.uart.read(buf)
        }
    }
    impl ReadReady for Lossy {
        fn read_ready(&mut self) -> Result<bool, Self::Error> {
            self.uart.read_ready()
        }
    }
    impl Write for Lossy {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            self.uart.write(buf)
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            self.uart.flush()
        }
    }
    impl LostBytes for Lossy {
        fn take_lost(&mut self) -> u32 {
            core::mem::take(&mut self.lost)
        }
    }

    #[test]
    fn lost_bytes_end_the_message_being_received() {
        let mut uart = MockUart::new();
        expect_bring_up(&mut uart);
        uart.expect(&publish_line(0), b"\r\nOK\r\n");
        let clock = uart.clock();
        let mut client: AppClient<_, _> =
            AppClient::new(Lossy { uart, lost: 0 }, clock, Dialect::EspAt);
        let mut mqtt = AppMqtt::new();
        let mut app = App::new(SETTINGS);
        let mut board = TestBoard::default();
        for _ in 0..3 {
            app.step(&mut client, &mut mqtt, &mut board);
        }
        assert!(app.progress().online, "notes: {:?}", board.notes);
        // A message arrives with its last three bytes ("gle") lost in an overrun; the
        // next message is intact. Without ending the first at the loss, its payload would
        // take the first bytes of the second and the second would be no message.
        let rx = &mut client.uart_mut().uart;
        rx.push_rx(b"+MQTTSUBRECV:0,\"at-wifi/dev/cmd\",6,tog");
        app.step(&mut client, &mut mqtt, &mut board);
        client.uart_mut().lost = 3;
        let rx = &mut client.uart_mut().uart;
        rx.push_rx(b"+MQTTSUBRECV:0,\"at-wifi/dev/cmd\",2,on\r\n");
        for _ in 0..3 {
            app.step(&mut client, &mut mqtt, &mut board);
        }
        assert!(
            board.notes.contains(&Note::RxLost(3)),
            "notes: {:?}",
            board.notes
        );
        assert!(
            board.notes.contains(&Note::Command(Command::On)),
            "notes: {:?}",
            board.notes
        );
        assert!(app.progress().led);
        let (lossy, _) = client.release();
        lossy.uart.assert_done();
    }

    #[test]
    fn commands_parse() {
        assert_eq!(Command::parse(b" ON\r\n"), Command::On);
        assert_eq!(Command::parse(b"off"), Command::Off);
        assert_eq!(Command::parse(b"Toggle"), Command::Toggle);
        assert_eq!(Command::parse(b"blink"), Command::Unknown);
        assert_eq!(Command::parse(b""), Command::Unknown);
    }

    #[test]
    fn numbers_and_topics() {
        let mut buf = [0u8; 10];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(4_294_967_295, &mut buf), b"4294967295");
        assert_eq!(parse_u32(Some("8883"), 1), 8883);
        assert_eq!(parse_u32(None, 1883), 1883);
        assert_eq!(parse_u32(Some("4294967295"), 1), u32::MAX);
        assert_eq!(parse_port(Some("65535"), 1), 65535);
        assert_eq!(parse_port(None, 1883), 1883);
        assert_eq!(MAX_CLIENT_ID, 48);
        let id48: &'static str = "a".repeat(48).leak();
        assert_eq!(check_client_id(id48), id48);
        // The longest id still gives two whole, distinct topics.
        assert_eq!(
            topic(id48, "/counter").as_str(),
            format!("at-wifi/{id48}/counter")
        );
        assert_eq!(topic(id48, "/cmd").as_str(), format!("at-wifi/{id48}/cmd"));
        assert_eq!(topic("x", "/cmd").as_str(), "at-wifi/x/cmd");
        let long = "a".repeat(100);
        assert_eq!(topic(&long, "/cmd").len(), TOPIC_CAP);
        // Cut at a character boundary, and nothing after the cut.
        let wide = format!("{}é", "a".repeat(TOPIC_CAP - 9));
        assert_eq!(
            topic(&wide, "/cmd").as_str(),
            format!("at-wifi/{}", "a".repeat(TOPIC_CAP - 9))
        );
    }

    // Build settings that cannot work stop the build: `from_env` is evaluated as a
    // `const`, where these panics are compile errors with the message given.
    #[test]
    #[should_panic(expected = "AT_WIFI_BROKER_PORT: not a port from 1 to 65535")]
    fn port_over_65535_is_refused() {
        parse_port(Some("65536"), 1883);
    }

    #[test]
    #[should_panic(expected = "AT_WIFI_BROKER_PORT: not a port from 1 to 65535")]
    fn port_zero_is_refused() {
        parse_port(Some("0"), 1883);
    }

    #[test]
    #[should_panic(expected = "over u32::MAX")]
    fn number_over_u32_is_refused() {
        parse_u32(Some("4294967296"), 5000);
    }

    #[test]
    #[should_panic(expected = "not a decimal number")]
    fn number_with_a_sign_is_refused() {
        parse_u32(Some("-5"), 5000);
    }

    #[test]
    #[should_panic(expected = "AT_WIFI_CLIENT_ID: longer than 48 bytes")]
    fn client_id_over_48_bytes_is_refused() {
        check_client_id("a-client-id-of-forty-nine-bytes-which-is-one-too!");
    }
}
