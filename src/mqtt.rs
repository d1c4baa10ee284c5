//! A typed MQTT session over the [`Client`](crate::Client): configure, connect, publish, subscribe, and
//! one [`Mqtt::poll`] that turns what the module prints into [`MqttEvent`]s.
//!
//! For ESP-AT, W800 and Beken (the `AT+MQTT…` set of
//! [`command::mqtt`](crate::command::mqtt)); every method answers [`Error::Unsupported`] on
//! Ai-Thinker Combo-AT, which has its own MQTT commands.
//!
//! ```
//! use at_wifi::mqtt::{Mqtt, MqttEvent, MqttOptions};
//! use at_wifi::command::mqtt::QoS;
//! use at_wifi::{Client, Dialect};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+MQTTUSERCFG=0,1,\"dev1\",\"user\",\"pass\",0,0,\"\"\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTTCONN=0,\"broker.local\",1883,1\r\n",
//! #     b"\r\nOK\r\n+MQTTCONNECTED:0,1,\"broker.local\",\"1883\",\"\",1\r\n");
//! # uart.expect(b"AT+MQTTSUB=0,\"cmd/#\",1\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+MQTTPUB=0,\"state\",\"on\",1,0\r\n",
//! #     b"\r\nOK\r\n+MQTTSUBRECV:0,\"cmd/led\",3,off\r\n");
//! # let clock = uart.clock();
//! let mut client: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
//! let mut mqtt: Mqtt = Mqtt::new();
//! let opts = MqttOptions::new("dev1").credentials("user", "pass").keepalive_s(60);
//! mqtt.configure(&mut client, &opts)?;
//! mqtt.connect(&mut client, "broker.local", 1883, 30_000)?;
//! mqtt.subscribe(&mut client, "cmd/#", QoS::AtLeastOnce)?;
//! mqtt.publish(&mut client, "state", b"on", QoS::AtLeastOnce, false)?;
//! while let Some(event) = mqtt.poll(&mut client)? {
//!     if let MqttEvent::Message { topic, payload, .. } = event {
//!         assert_eq!((topic, payload), (&b"cmd/led"[..], &b"off"[..]));
//!     }
//! }
//! # Ok::<(), at_wifi::Error>(())
//! ```
//!
//! # Design
//!
//! **The session does not own or borrow the client.** Every method takes
//! `&mut Client` for the duration of the call. The same client keeps serving Wi-Fi, socket
//! and SNTP commands between MQTT calls, and the session can live in a `static` or next to
//! the client in one struct without a self-referential borrow. The price is that the
//! session must always be given the same client.
//!
//! **Nothing the module says is lost.** Whatever the client queued as an event comes out
//! of [`Mqtt::poll`], in order (a count of lost events, [`MqttEvent::Overflow`], stands
//! where they were lost; a message one of whose pieces was lost is marked truncated): MQTT
//! messages as [`MqttEvent::Message`] /
//! [`MqttEvent::Fragment`], connection changes as their own variants, and everything else
//! (Wi-Fi, sockets, unknown lines) as [`MqttEvent::Other`]. The session reads the client's
//! event queue after every command it sends (to keep [`Mqtt::state`] honest: a
//! `+MQTTDISCONNECTED` inside an `AT+MQTTSUB` reply marks the link down at once) and while
//! [`Mqtt::connect`] waits. Events it takes out of the client are copied into its own
//! bounded store of `STASH` bytes and handed out by `poll` later. It takes an event out
//! only when the store has room for the largest one the client can produce (`RX` +
//! [`RECORD_OVERHEAD`] bytes, twice the overhead while a count of lost events waits to be
//! stored ahead of it), so the rest stay in the client's queue; only `connect`,
//! which must find its `+MQTTCONNECTED` behind them, takes events regardless, and those
//! that then do not fit are counted and reported as [`MqttEvent::Overflow`].
//!
//! The only events the session consumes are the ones that answer its own commands: the
//! `+MQTTCONNECTED` / `+MQTTDISCONNECTED` / Beken `+MQTTCONN:…` that end a
//! [`Mqtt::connect`], and a `+MQTTDISCONNECTED` caused by `AT+MQTTCLEAN`
//! ([`Mqtt::disconnect`], [`Mqtt::recover`]).
//!
//! **Long messages.** ESP-AT hands a message longer than about 1 KiB over in several
//! `+MQTTSUBRECV` lines, each with its own length: its MQTT client reads 1024-byte chunks,
//! so the first line carries 1024 bytes minus the PUBLISH header (a 2500-byte message on
//! a 15-byte topic arrives as 1004 + 1024 + 472). A piece is taken as *full* (more
//! follow) when
//! - it is a first piece and its payload plus topic is 1015–1019 bytes (1024 minus a
//!   PUBLISH header of 5–9 bytes besides the topic), or a later piece of exactly 1024
//!   bytes; or
//! - the whole `+MQTTSUBRECV:<link>,"<topic>",<len>,<data>` line is 1022–1024 bytes.
//!
//! After a full piece, the next `+MQTTSUBRECV` on the same topic (or with an empty topic)
//! continues the message; the first non-full piece ends it. The pieces are joined in a
//! `BUF`-byte buffer and delivered as one [`MqttEvent::Message`]. When the message does not
//! fit `BUF` (topic included), what was joined so far is delivered as
//! [`MqttEvent::Fragment`] 0 and each further piece as the next fragment, the last one
//! with `last: true`: the bytes are never cut. Fragments are also used, less often, when
//! a second split message starts while the buffer still holds an undelivered one, or when
//! the session's store fills up while a message waits for its next piece. When no
//! continuation has come [`Mqtt::set_fragment_timeout_ms`] (default
//! [`DEFAULT_FRAGMENT_TIMEOUT_MS`]) after the last piece was taken in, and the client has
//! nothing left to read, or when a message on another topic comes, the message was
//! complete after all (its size only looked full) and is delivered as it is; a fragmented
//! one then gets a closing empty fragment with `last: true`. Two back-to-back messages on
//! one topic, the first of exactly a "full" size, cannot be told from one split message:
//! they are joined. A piece the client had to cut (longer than its `RX` buffer) keeps its
//! `truncated` flag in the message or fragment it ends up in.
//!
//! **Reconnection.** [`Mqtt::state`] follows `+MQTTCONNECTED`, `+MQTTDISCONNECTED`,
//! Beken's `+MQTTCONN:OK` / `+MQTTCONN:ERROR,<n>` and `ready` (module reboot: everything
//! is lost, [`MqttState::Idle`]). The session keeps the list of subscribed topics. With
//! automatic reconnection on ([`MqttOptions::reconnect`], the default), the first
//! `+MQTTCONNECTED` after a drop makes `poll` subscribe every stored topic again and
//! report [`MqttEvent::Reconnected`]. Without it, the firmwares need `AT+MQTTCLEAN`, the
//! configuration again and a new connection: [`Mqtt::recover`] does all of that and
//! re-subscribes.

use crate::client::{encode_into, AtClient, Event};
use crate::command::mqtt::{
    parse_conn_result, AsyncResult, MqttAlpn, MqttClean, MqttConn, MqttConnCfg, MqttLongClientId,
    MqttLongPassword, MqttLongUsername, MqttPub, MqttPubRaw, MqttSni, MqttSub, MqttSubQuery,
    MqttSubscriptions, MqttUnsub, MqttUserCfg, QoS, Scheme, SubNotice, Will, CLIENT_ID_MAX_LEN,
    MAX_SUBSCRIPTIONS, PASSWORD_MAX_LEN, TOPIC_MAX_LEN, USERNAME_MAX_LEN,
};
use crate::command::text::{encoded_len, Quoting};
use crate::command::wifi::{GetSntpTime, SetSntpConfig, SntpTime};
use crate::dialect::Dialect;
use crate::error::{Error, FailWord};
use crate::framer::{Ascii, DataFrame};
use crate::queue::{Records, LENS, PART_MAX};
use crate::urc::{MqttMessage, SocketData, Urc};
use atat::AtatCmd;
use core::fmt;

/// The size ESP-AT splits incoming messages by: its MQTT client reads 1024-byte chunks,
/// and each `+MQTTSUBRECV` line stays within 1024 bytes.
pub const SPLIT_SIZE: usize = 1024;

/// How long [`Mqtt::poll`] waits by default, after the module went quiet, for the next
/// piece of a message whose last piece was full (ms). At 9600 baud a 1 KiB piece takes
/// about 1.1 s to arrive, at 115200 baud about 90 ms; the time starts when the previous
/// piece was taken in and is checked only when the client has nothing left to read.
pub const DEFAULT_FRAGMENT_TIMEOUT_MS: u32 = 1000;

/// Bytes each event takes in the session's store besides its own bytes.
pub const RECORD_OVERHEAD: usize = 11;

/// Pause between two `AT+CIPSNTPTIME?` in [`Mqtt::sync_time`] (ms).
const SNTP_POLL_MS: u32 = 500;

/// Room for the `AT+MQTTCONN=` line: a 128-byte host, every byte escaped, is 282 bytes.
const CONN_LINE_CAP: usize = 320;

/// The timeout of the `AT+MQTTLONG*` commands (their `MAX_TIMEOUT_MS`).
const LONG_TIMEOUT_MS: u32 = <MqttLongClientId as AtatCmd>::MAX_TIMEOUT_MS;

/// The timeout of `AT+MQTTALPN` and `AT+MQTTSNI` (their `MAX_TIMEOUT_MS`).
const TLS_TIMEOUT_MS: u32 = <MqttSni<'static> as AtatCmd>::MAX_TIMEOUT_MS;

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

/// Everything [`Mqtt::configure`] sets: the user attributes (`AT+MQTTUSERCFG`, with
/// `AT+MQTTLONG*` for long values), the connection attributes (`AT+MQTTCONNCFG`), TLS
/// extensions (`AT+MQTTALPN`, `AT+MQTTSNI`) and whether [`Mqtt::connect`] asks the module
/// to reconnect by itself.
///
/// Built from [`MqttOptions::new`] and the builder methods. `Debug` never shows the
/// password.
///
/// ```
/// use at_wifi::mqtt::MqttOptions;
/// let o = MqttOptions::new("dev1").credentials("user", "s3cret");
/// assert!(!format!("{o:?}").contains("s3cret"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MqttOptions<'a> {
    client_id: &'a str,
    username: &'a str,
    password: &'a str,
    scheme: Scheme,
    keepalive_s: u16,
    clean_session: bool,
    will: Option<Will<'a>>,
    /// Set by [`MqttOptions::will`] only: a program without a will links none of the
    /// will's checks.
    will_steps: Option<&'static WillSteps>,
    alpn: &'a [&'a str],
    sni: Option<&'a str>,
    /// Set by [`MqttOptions::alpn`] and [`MqttOptions::sni`] only: a program that never
    /// calls them carries no ALPN or SNI code.
    tls: Option<&'static TlsSteps>,
    /// Cleared by [`MqttOptions::without_long_values`]: a program that always does so
    /// carries no `AT+MQTTLONG*` code.
    long: Option<&'static LongSteps>,
    path: &'a str,
    reconnect: bool,
}

impl<'a> MqttOptions<'a> {
    /// Options for `client_id`: TCP, no username or password, the module's keepalive
    /// (120 s), clean session, no will, no ALPN or SNI, empty path, automatic reconnection.
    pub const fn new(client_id: &'a str) -> Self {
        MqttOptions {
            client_id,
            username: "",
            password: "",
            scheme: Scheme::Tcp,
            keepalive_s: 0,
            clean_session: true,
            will: None,
            will_steps: None,
            alpn: &[],
            sni: None,
            tls: None,
            long: Some(&LONG_STEPS),
            path: "",
            reconnect: true,
        }
    }

    /// Declares that client id, username and password always fit `AT+MQTTUSERCFG`
    /// (client id up to 256 bytes, username and password up to 64, the line within 256
    /// bytes): [`Mqtt::configure`] then never uses `AT+MQTTLONG*`, and refuses longer
    /// values instead ([`Error::Invalid`] naming the value, or [`Error::CommandTooLong`];
    /// nothing written). For firmware with short, fixed values: it then links none of
    /// the `AT+MQTTLONG*` code.
    pub const fn without_long_values(mut self) -> Self {
        self.long = None;
        self
    }

    /// Username and password. Up to 64 bytes each go in `AT+MQTTUSERCFG`; longer ones (up
    /// to 1024) through `AT+MQTTLONGUSERNAME` / `AT+MQTTLONGPASSWORD` (ESP-AT, W800).
    pub const fn credentials(mut self, username: &'a str, password: &'a str) -> Self {
        self.username = username;
        self.password = password;
        self
    }

    /// The transport (default [`Scheme::Tcp`]).
    pub const fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Keepalive in seconds, 0–7200; 0 (the default) leaves the module's 120 s.
    pub const fn keepalive_s(mut self, seconds: u16) -> Self {
        self.keepalive_s = seconds;
        self
    }

    /// The MQTT clean-session flag (default true).
    pub const fn clean_session(mut self, clean: bool) -> Self {
        self.clean_session = clean;
        self
    }

    /// A last will.
    pub const fn will(mut self, will: Will<'a>) -> Self {
        self.will = Some(will);
        self.will_steps = Some(&WILL_STEPS);
        self
    }

    /// ALPN protocol names, up to 5 (ESP-AT, W800; TLS and WSS schemes only).
    pub const fn alpn(mut self, names: &'a [&'a str]) -> Self {
        self.alpn = names;
        if !names.is_empty() {
            self.tls = Some(&TLS_STEPS);
        }
        self
    }

    /// The TLS Server Name Indication (ESP-AT only).
    pub const fn sni(mut self, sni: &'a str) -> Self {
        self.sni = Some(sni);
        self.tls = Some(&TLS_STEPS);
        self
    }

    /// The resource path (WebSocket schemes), up to 32 bytes.
    pub const fn path(mut self, path: &'a str) -> Self {
        self.path = path;
        self
    }

    /// Whether the module reconnects by itself after a drop (`<reconnect>` of
    /// `AT+MQTTCONN`; default true).
    pub const fn reconnect(mut self, on: bool) -> Self {
        self.reconnect = on;
        self
    }

    /// The client id.
    pub const fn client_id(&self) -> &'a str {
        self.client_id
    }

    /// The username.
    pub const fn username(&self) -> &'a str {
        self.username
    }

    /// The transport.
    pub const fn transport(&self) -> Scheme {
        self.scheme
    }

    /// The automatic reconnection flag.
    pub const fn reconnects(&self) -> bool {
        self.reconnect
    }
}

impl fmt::Debug for MqttOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttOptions")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &"***")
            .field("scheme", &self.scheme)
            .field("keepalive_s", &self.keepalive_s)
            .field("clean_session", &self.clean_session)
            .field("will", &self.will)
            .field("alpn", &self.alpn)
            .field("sni", &self.sni)
            .field("path", &self.path)
            .field("reconnect", &self.reconnect)
            .field("long_values", &self.long.is_some())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/// The state of the MQTT link, as the module last reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MqttState {
    /// Not configured: new session, after [`Mqtt::disconnect`], or after the module
    /// rebooted.
    #[default]
    Idle,
    /// [`Mqtt::configure`] succeeded; not connected.
    Configured,
    /// `AT+MQTTCONN` was sent and its outcome is not known yet (a [`Mqtt::connect`] that
    /// timed out leaves this; [`Mqtt::poll`] reports the outcome when it comes).
    Connecting,
    /// The link to the broker is up.
    Connected,
    /// The link went down (or the connection attempt failed). With automatic
    /// reconnection the module tries again by itself.
    Disconnected,
}

/// Which command [`Mqtt::publish`] used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PublishPath {
    /// `AT+MQTTPUB`, the payload as a string parameter.
    Text,
    /// `AT+MQTTPUBRAW`, the payload as raw bytes after the `>` prompt.
    Raw,
}

/// What [`Mqtt::poll`] reports. Borrows the session until its next call.
///
/// The QoS of an incoming message is not reported: the firmwares do not print it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MqttEvent<'a> {
    /// A whole incoming message (pieces joined, see the [module docs](self)).
    Message {
        /// The topic, as the module printed it without the quotes.
        topic: &'a [u8],
        /// The payload.
        payload: &'a [u8],
        /// Part of the payload is missing: a piece was longer than the client's receive
        /// buffer, or the module rebooted in the middle of the message.
        truncated: bool,
    },
    /// A piece of a message too long for the session's buffer. Fragments of one message
    /// come in order, numbered from 0; their data joined is the payload. The last one has
    /// `last` set (it may be empty when the end was only seen later).
    Fragment {
        /// The topic (empty when the module printed the piece without one).
        topic: &'a [u8],
        /// The fragment's number, from 0.
        index: u32,
        /// The bytes.
        data: &'a [u8],
        /// This fragment ends the message.
        last: bool,
        /// Bytes of this fragment are missing (see [`MqttEvent::Message`]).
        truncated: bool,
    },
    /// The link came up (outside [`Mqtt::connect`], which consumes its own
    /// `+MQTTCONNECTED`).
    Connected,
    /// The link went down.
    Disconnected,
    /// The module reconnected by itself after a drop and the session subscribed the stored
    /// topics again: `resubscribed` succeeded, `failed` did not (call
    /// [`Mqtt::resubscribe`] to retry).
    Reconnected {
        /// Topics subscribed again.
        resubscribed: usize,
        /// Topics whose `AT+MQTTSUB` failed.
        failed: usize,
    },
    /// The module rebooted (`ready`): the MQTT configuration and link are gone
    /// ([`MqttState::Idle`]); configure and connect again, or call [`Mqtt::recover`].
    Reset,
    /// Events were lost: the client's or the session's store was full.
    Overflow {
        /// How many.
        dropped: u32,
    },
    /// A line longer than the client's receive buffer: its start and its full length.
    Oversized {
        /// The first bytes.
        start: &'a [u8],
        /// The full length.
        len: usize,
    },
    /// Any other event (Wi-Fi, sockets, `+MQTTPUB:OK` outside a publish, unknown lines).
    Other(Urc<'a>),
}

impl fmt::Debug for MqttEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MqttEvent::Message {
                topic,
                payload,
                truncated,
            } => f
                .debug_struct("Message")
                .field("topic", &Ascii(topic))
                .field("len", &payload.len())
                .field("truncated", truncated)
                .finish(),
            MqttEvent::Fragment {
                topic,
                index,
                data,
                last,
                truncated,
            } => f
                .debug_struct("Fragment")
                .field("topic", &Ascii(topic))
                .field("index", index)
                .field("len", &data.len())
                .field("last", last)
                .field("truncated", truncated)
                .finish(),
            MqttEvent::Connected => f.write_str("Connected"),
            MqttEvent::Disconnected => f.write_str("Disconnected"),
            MqttEvent::Reconnected {
                resubscribed,
                failed,
            } => f
                .debug_struct("Reconnected")
                .field("resubscribed", resubscribed)
                .field("failed", failed)
                .finish(),
            MqttEvent::Reset => f.write_str("Reset"),
            MqttEvent::Overflow { dropped } => f
                .debug_struct("Overflow")
                .field("dropped", dropped)
                .finish(),
            MqttEvent::Oversized { start, len } => f
                .debug_struct("Oversized")
                .field("start", &Ascii(start))
                .field("len", len)
                .finish(),
            MqttEvent::Other(urc) => f.debug_tuple("Other").field(urc).finish(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The event store
// ---------------------------------------------------------------------------------------

mod kind {
    pub(super) const MSG: u8 = 1;
    pub(super) const FRAG: u8 = 2;
    /// Marks the place of the message in the assembly buffer.
    pub(super) const ASM: u8 = 3;
    pub(super) const CONNECTED: u8 = 4;
    pub(super) const DISCONNECTED: u8 = 5;
    /// Re-subscribe, then report `Reconnected`.
    pub(super) const RECONNECT: u8 = 6;
    pub(super) const RESET: u8 = 7;
    pub(super) const OVERSIZED: u8 = 8;
    /// Events were lost here: `num` is how many.
    pub(super) const OVERFLOW: u8 = 9;
    pub(super) const WIFI_CONNECTED: u8 = 20;
    pub(super) const WIFI_GOT_IP: u8 = 21;
    pub(super) const WIFI_DISCONNECTED: u8 = 22;
    pub(super) const PUBLISHED: u8 = 23;
    pub(super) const SOCKET_CONNECTED: u8 = 24;
    pub(super) const SOCKET_CLOSED: u8 = 25;
    pub(super) const SOCKET_DATA: u8 = 26;
    pub(super) const SOCKET_AVAILABLE: u8 = 27;
    pub(super) const DATA: u8 = 28;
    pub(super) const LINE: u8 = 29;
    pub(super) const PUBLISH_ERROR: u8 = 30;
    pub(super) const PUBRAW_RESULT: u8 = 31;
}

const F_TRUNCATED: u8 = 1;
const F_LAST: u8 = 2;
const F_HAS_LINK: u8 = 4;
const F_OK: u8 = 8;

const HDR: usize = RECORD_OVERHEAD;
const _: () = assert!(HDR == REC_META + LENS);

/// One stored event: a kind, small fields and up to two byte strings.
#[derive(Clone, Copy)]
struct Rec<'a> {
    kind: u8,
    flags: u8,
    link: u8,
    num: u32,
    a: &'a [u8],
    b: &'a [u8],
}

impl Rec<'_> {
    const fn bare(kind: u8) -> Rec<'static> {
        Rec {
            kind,
            flags: 0,
            link: 0,
            num: 0,
            a: &[],
            b: &[],
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The session's fields of a stored record: kind, flags, link, `num` (u32).
const REC_META: usize = 7;

/// The session's store: the crate's one record FIFO ([`Records`]), holding [`Rec`]s.
struct Stash<const N: usize> {
    records: Records<N, REC_META>,
}

impl<const N: usize> Stash<N> {
    const fn new() -> Self {
        Stash {
            records: Records::new(),
        }
    }

    fn settle(&mut self) {
        self.records.settle();
    }

    fn is_empty(&mut self) -> bool {
        self.records.len() == 0
    }

    fn free(&mut self) -> usize {
        self.records.free()
    }

    fn head_kind(&mut self) -> Option<u8> {
        self.records.peek().map(|m| m[0])
    }

    /// False when it does not fit (or a part is longer than [`PART_MAX`]).
    fn push(&mut self, r: &Rec<'_>) -> bool {
        let n = r.num.to_le_bytes();
        let meta = [r.kind, r.flags, r.link, n[0], n[1], n[2], n[3]];
        self.records.push(meta, r.a, r.b)
    }

    fn pop(&mut self) -> Option<Rec<'_>> {
        let (m, a, b) = self.records.pop()?;
        Some(Rec {
            kind: m[0],
            flags: m[1],
            link: m[2],
            num: u32::from_le_bytes([m[3], m[4], m[5], m[6]]),
            a,
            b,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AsmPhase {
    /// Unused.
    Free,
    /// A message whose last piece was full: more may come.
    Open,
    /// A whole message, waiting for delivery.
    Done,
    /// The start of a message too long for the buffer: delivered as fragment 0.
    DoneFragment,
}

/// The buffer pieces of one message are joined in: topic, then payload.
struct Assembler<const N: usize> {
    buf: [u8; N],
    topic_len: usize,
    len: usize,
    phase: AsmPhase,
    truncated: bool,
    /// Handed out: freed on the next call.
    release_pending: bool,
}

impl<const N: usize> Assembler<N> {
    const fn new() -> Self {
        Assembler {
            buf: [0; N],
            topic_len: 0,
            len: 0,
            phase: AsmPhase::Free,
            truncated: false,
            release_pending: false,
        }
    }

    fn fits(&self, more: usize) -> bool {
        self.len + more <= N
    }

    fn start(&mut self, topic: &[u8], data: &[u8], truncated: bool) {
        self.buf[..topic.len()].copy_from_slice(topic);
        self.topic_len = topic.len();
        self.len = topic.len();
        self.truncated = false;
        self.append(data, truncated);
        self.phase = AsmPhase::Open;
    }

    fn append(&mut self, data: &[u8], truncated: bool) {
        self.buf[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
        self.truncated |= truncated;
    }

    fn topic(&self) -> &[u8] {
        &self.buf[..self.topic_len]
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.topic_len..self.len]
    }

    fn clear(&mut self) {
        self.phase = AsmPhase::Free;
        self.len = 0;
        self.topic_len = 0;
        self.truncated = false;
        self.release_pending = false;
    }
}

/// A message whose last piece was full: how to recognise and place the next piece.
struct Cont {
    hash: u64,
    topic_len: usize,
    /// The topic, when it fits (for the closing fragment).
    topic: heapless::Vec<u8, TOPIC_MAX_LEN>,
    /// Pieces go to the assembly buffer (else: fragments in the store).
    in_asm: bool,
    next_index: u32,
    deadline: u64,
    /// Events were lost while the message was open: one of its pieces may be missing.
    cut: bool,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Does a `+MQTTSUBRECV` piece look like a full one, with more of the message to come?
/// See the [module docs](self).
fn is_full_piece(first: bool, link: Option<u8>, topic: &[u8], len: usize) -> bool {
    let header = b"+MQTTSUBRECV:".len()
        + link.map_or(0, |l| digits(usize::from(l)) + 1)
        + topic.len()
        + 3
        + digits(len)
        + 1;
    if (SPLIT_SIZE - 2..=SPLIT_SIZE).contains(&(header + len)) {
        return true;
    }
    if first {
        (SPLIT_SIZE - 9..=SPLIT_SIZE - 5).contains(&(len + topic.len()))
    } else {
        len == SPLIT_SIZE
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Connection events become events for the user.
    Normal,
    /// Connection events answer the running operation and are consumed.
    Quiet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    Connected,
    Disconnected,
    ConnResult(AsyncResult),
    Reset,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Head {
    Empty,
    /// The oldest event is a message still being joined.
    Blocked,
    Reconnect,
    Ready,
}

// ---------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------

/// An MQTT session (link 0) driven through a [`Client`](crate::Client); see the [module docs](self).
///
/// - `BUF`: bytes to join a split incoming message in, topic included (default 2048).
///   Longer messages are delivered as [`MqttEvent::Fragment`]s.
/// - `STASH`: bytes for events the session took out of the client and has not delivered
///   yet, [`RECORD_OVERHEAD`] bytes each plus their own (default 1280). At least the
///   client's `RX` + [`RECORD_OVERHEAD`] lets any event be taken while others wait;
///   an event longer than the whole store is kept cut and marked truncated.
/// - `SUBS`: how many subscriptions the session remembers to restore after a reconnect
///   (default and most useful maximum: the firmwares' [`MAX_SUBSCRIPTIONS`], 10). Each
///   costs about 136 bytes; firmware that subscribes to one topic can say 1.
pub struct Mqtt<
    const BUF: usize = 2048,
    const STASH: usize = 1280,
    const SUBS: usize = MAX_SUBSCRIPTIONS,
> {
    state: MqttState,
    reconnect: bool,
    subs: heapless::Vec<(heapless::String<TOPIC_MAX_LEN>, QoS), SUBS>,
    fragment_timeout_ms: u32,
    last_connect_error: Option<i32>,
    dropped: u32,
    cont: Option<Cont>,
    asm: Assembler<BUF>,
    stash: Stash<STASH>,
}

impl<const BUF: usize, const STASH: usize, const SUBS: usize> Default for Mqtt<BUF, STASH, SUBS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BUF: usize, const STASH: usize, const SUBS: usize> fmt::Debug
    for Mqtt<BUF, STASH, SUBS>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mqtt")
            .field("state", &self.state)
            .field("reconnect", &self.reconnect)
            .field("subscriptions", &self.subs.len())
            .finish_non_exhaustive()
    }
}

const SUBS_FULL: Error = Error::Invalid {
    field: "topic",
    reason: "the session's subscription list (SUBS, at most the firmwares' 10) is full",
};

const MODULE_FULL: Error = Error::Invalid {
    field: "topic",
    reason: "the module's subscription list is full (ALREADY FULL SUBSCRIBE)",
};

const EMPTY_PAYLOAD: Error = Error::Invalid {
    field: "payload",
    reason: "empty (modules answer ERROR to an empty message)",
};

/// The connection attempt failed (`+MQTTDISCONNECTED` after `OK`, Beken's
/// `+MQTTCONN:ERROR,<n>`).
const CONNECT_FAILED: Error = Error::Module {
    word: FailWord::Error,
    code: None,
};

impl<const BUF: usize, const STASH: usize, const SUBS: usize> Mqtt<BUF, STASH, SUBS> {
    /// A new session: [`MqttState::Idle`], no subscriptions.
    pub const fn new() -> Self {
        Mqtt {
            state: MqttState::Idle,
            reconnect: true,
            subs: heapless::Vec::new(),
            fragment_timeout_ms: DEFAULT_FRAGMENT_TIMEOUT_MS,
            last_connect_error: None,
            dropped: 0,
            cont: None,
            asm: Assembler::new(),
            stash: Stash::new(),
        }
    }

    /// The state of the link, as the module last reported it (see [`MqttState`]).
    /// Events still in the client's queue are taken into account by the next call that
    /// takes the client.
    pub fn state(&self) -> MqttState {
        self.state
    }

    /// True in [`MqttState::Connected`].
    pub fn is_connected(&self) -> bool {
        self.state == MqttState::Connected
    }

    /// The error number of Beken's last `+MQTTCONN:ERROR,<n>`, when the last connection
    /// attempt failed with one.
    pub fn last_connect_error(&self) -> Option<i32> {
        self.last_connect_error
    }

    /// The topics the session keeps subscribed (and re-subscribes after a reconnection),
    /// in subscription order.
    pub fn local_subscriptions(&self) -> impl Iterator<Item = (&str, QoS)> {
        self.subs.iter().map(|(t, q)| (t.as_str(), *q))
    }

    /// How long [`Mqtt::poll`] keeps waiting for the next piece of a message whose last
    /// piece was full (ms, default [`DEFAULT_FRAGMENT_TIMEOUT_MS`]).
    pub fn set_fragment_timeout_ms(&mut self, ms: u32) {
        self.fragment_timeout_ms = ms;
    }

    /// Sets up the MQTT link: `AT+MQTTUSERCFG`; `AT+MQTTLONGCLIENTID`,
    /// `AT+MQTTLONGUSERNAME`, `AT+MQTTLONGPASSWORD` for values longer than
    /// `AT+MQTTUSERCFG` takes (client id over 256 bytes, username or password over 64, or
    /// whenever the line would pass 256 bytes: the longest value goes first); then, as
    /// needed, `AT+MQTTCONNCFG` (a will, a keepalive or no clean session), `AT+MQTTALPN`
    /// and `AT+MQTTSNI`.
    ///
    /// Every command is built and checked before the first is written: nothing is sent
    /// when one would be refused. Errors then: [`Error::Unsupported`] for what the dialect
    /// lacks (SNI outside ESP-AT, ALPN and long values on Beken, certificate schemes on
    /// Beken, everything on Ai-Thinker), [`Error::Invalid`] naming the parameter,
    /// [`Error::CommandTooLong`]. Then the module's errors, from the command that failed
    /// (the ones before it took effect).
    pub fn configure<A: AtClient>(
        &mut self,
        client: &mut A,
        opts: &MqttOptions<'_>,
    ) -> Result<(), Error> {
        self.settle();
        let plan = Plan::new(client.dialect(), opts)?;
        let r = plan.apply(client, opts);
        let a = self.absorb_ready(client, Mode::Normal);
        r?;
        a?;
        self.reconnect = opts.reconnect;
        self.state = MqttState::Configured;
        Ok(())
    }

    /// Connects to `host`:`port` (`AT+MQTTCONN`) and waits, at most `timeout_ms` in all,
    /// for the real outcome: ESP-AT and W800 answer `OK` and print `+MQTTCONNECTED` (or
    /// `+MQTTDISCONNECTED` and `ERROR`); Beken answers `OK` and prints `+MQTTCONN:OK` or
    /// `+MQTTCONN:ERROR,<n>`. The module is asked to reconnect by itself when the last
    /// [`Mqtt::configure`] said so.
    ///
    /// The connection events that answer the command are consumed; every other event that
    /// arrives meanwhile is kept for [`Mqtt::poll`]. The stored subscriptions are not
    /// renewed ([`Mqtt::resubscribe`], [`Mqtt::recover`]).
    ///
    /// Errors: [`Error::Invalid`] for the host or port (nothing written); the module's
    /// `ERROR` as [`Error::Module`]; a failed attempt after `OK` as [`Error::Module`]
    /// with no code (Beken's number in [`Mqtt::last_connect_error`]); [`Error::Timeout`]
    /// (state stays [`MqttState::Connecting`]: the outcome may still come);
    /// [`Error::Reset`].
    pub fn connect<A: AtClient>(
        &mut self,
        client: &mut A,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<(), Error> {
        self.settle();
        let cmd = MqttConn::new(client.dialect(), host, port, self.reconnect)?;
        let mut buf = [0u8; CONN_LINE_CAP];
        let n = cmd.write(&mut buf);
        let line = trim_line_end(&buf[..n]);
        let deadline = client.now_ms().saturating_add(u64::from(timeout_ms));
        // What came before the command is not its outcome.
        self.absorb_ready(client, Mode::Normal)?;
        self.state = MqttState::Connecting;
        self.last_connect_error = None;
        let mut seen = match client.send_line(line, timeout_ms) {
            // Beken's result may come before the `OK`, as a line of the reply.
            Ok(reply) => reply
                .split(|&b| b == b'\n')
                .find_map(parse_conn_result)
                .map(Seen::ConnResult),
            Err(e) => {
                // `+MQTTDISCONNECTED` before the `ERROR` answers this command.
                self.absorb_queued(client, Mode::Quiet)?;
                if !matches!(e, Error::Timeout { .. } | Error::Busy) {
                    self.state = MqttState::Disconnected;
                }
                if e == Error::Reset {
                    self.state = MqttState::Idle;
                }
                return Err(e);
            }
        };
        loop {
            match seen {
                Some(Seen::Connected | Seen::ConnResult(AsyncResult::Ok)) => {
                    self.state = MqttState::Connected;
                    return Ok(());
                }
                Some(Seen::Disconnected) => {
                    self.state = MqttState::Disconnected;
                    return Err(CONNECT_FAILED);
                }
                Some(Seen::ConnResult(AsyncResult::Error { code })) => {
                    self.state = MqttState::Disconnected;
                    self.last_connect_error = code;
                    return Err(CONNECT_FAILED);
                }
                Some(Seen::Reset) => return Err(Error::Reset),
                Some(Seen::Other) | None => {}
            }
            let now = client.now_ms();
            if now >= deadline {
                return Err(Error::Timeout { ms: timeout_ms });
            }
            let wait = u32::try_from(deadline - now).unwrap_or(u32::MAX);
            seen = client
                .wait_event(wait)?
                .map(|ev| self.absorb(ev, now, Mode::Quiet));
        }
    }

    /// Publishes `payload` (any bytes, not empty) on `topic`, and says how.
    ///
    /// `AT+MQTTPUB` when the payload can be a string parameter: no NUL, CR or LF, on Beken
    /// none of `,` `"` space and no leading `=`, and the escaped line within 256 bytes.
    /// `AT+MQTTPUBRAW` otherwise (prompt, raw bytes, `+MQTTPUB:OK` or Beken's
    /// `+MQTTPUBRAW:OK`); see [`Mqtt::publish_raw`].
    ///
    /// Errors: [`Error::Invalid`] for an empty payload (field `payload`), a bad topic,
    /// or a raw payload over Beken's 512 bytes (field `length`); nothing is written then.
    /// The module's `ERROR` or `+MQTTPUB:FAIL` ([`FailWord::SendFail`]) as
    /// [`Error::Module`].
    pub fn publish<A: AtClient>(
        &mut self,
        client: &mut A,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishPath, Error> {
        match self.publish_text(client, topic, payload, qos, retain) {
            Ok(()) => Ok(PublishPath::Text),
            // Not sendable as a string parameter (nothing was written): raw.
            Err(Error::Invalid { field: "data", .. } | Error::CommandTooLong { .. }) => {
                self.publish_raw(client, topic, payload, qos, retain)?;
                Ok(PublishPath::Raw)
            }
            Err(e) => Err(e),
        }
    }

    /// Publishes `payload` with `AT+MQTTPUB` only: for payloads known to go as a string
    /// parameter (numbers, short JSON). Firmware that publishes only through this method
    /// links none of the `AT+MQTTPUBRAW` code [`Mqtt::publish`] carries.
    ///
    /// Errors, nothing written: [`Error::Invalid`] with field `data` when the payload
    /// cannot be a string parameter (NUL, CR or LF; on Beken `,` `"` space or a leading
    /// `=`), [`Error::CommandTooLong`] when the escaped line would pass the dialect's
    /// 256 bytes or the client's transmit buffer; the rest as [`Mqtt::publish`].
    pub fn publish_text<A: AtClient>(
        &mut self,
        client: &mut A,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<(), Error> {
        self.settle();
        if payload.is_empty() {
            return Err(EMPTY_PAYLOAD);
        }
        let d = client.dialect();
        let cmd = MqttPub::new(d, topic, payload, qos, retain)?;
        check_line(pub_line_len(d, topic, payload), d.spec().max_line)?;
        let r = client.send(&cmd);
        if let Err(e @ Error::CommandTooLong { .. }) = r {
            return Err(e);
        }
        let a = self.absorb_ready(client, Mode::Normal);
        r?;
        a?;
        Ok(())
    }

    /// Publishes `payload` with `AT+MQTTPUBRAW` whatever it holds: the command, the `>`
    /// prompt, the raw bytes, then `+MQTTPUB:OK` / `+MQTTPUB:FAIL` (Beken:
    /// `+MQTTPUBRAW:OK` / `+MQTTPUBRAW:ERROR,<n>`).
    ///
    /// Errors: as [`Mqtt::publish`]; [`Error::NoPrompt`] when no prompt came (the
    /// payload was not written).
    pub fn publish_raw<A: AtClient>(
        &mut self,
        client: &mut A,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<(), Error> {
        self.settle();
        if payload.is_empty() {
            return Err(EMPTY_PAYLOAD);
        }
        let cmd = MqttPubRaw::new(client.dialect(), topic, payload.len(), qos, retain)?;
        let r = client.send_with_data(&cmd, payload);
        let a = self.absorb_ready(client, Mode::Normal);
        r?;
        a?;
        Ok(())
    }

    /// Subscribes to `topic` (`AT+MQTTSUB`) and keeps it in the session's list (its QoS
    /// updated when it was there). `Ok(true)` when newly subscribed, `Ok(false)` when the
    /// module answered `ALREADY SUBSCRIBE` (a success: the topic is subscribed).
    ///
    /// Errors: [`Error::Invalid`] with field `topic` for a bad topic, or an 11th topic
    /// (the firmwares hold 10; nothing written), or when the module answered
    /// `ALREADY FULL SUBSCRIBE`; the module's errors. A failed subscription is not
    /// stored.
    pub fn subscribe<A: AtClient>(
        &mut self,
        client: &mut A,
        topic: &str,
        qos: QoS,
    ) -> Result<bool, Error> {
        self.settle();
        let cmd = MqttSub::new(client.dialect(), topic, qos)?;
        let known = self.subs.iter().position(|(t, _)| t.as_str() == topic);
        if known.is_none() && self.subs.is_full() {
            return Err(SUBS_FULL);
        }
        let mut stored = heapless::String::new();
        // Cannot fail: the command checked the topic against the same limit.
        stored.push_str(topic).map_err(|_| Error::Invalid {
            field: "topic",
            reason: "longer than 128 bytes",
        })?;
        let r = client.send(&cmd);
        let a = self.absorb_ready(client, Mode::Normal);
        let reply = r?;
        a?;
        if reply.notice == Some(SubNotice::Full) {
            return Err(MODULE_FULL);
        }
        match known {
            Some(i) => self.subs[i].1 = qos,
            None => self.subs.push((stored, qos)).map_err(|_| SUBS_FULL)?,
        }
        Ok(reply.notice != Some(SubNotice::AlreadySubscribed))
    }

    /// Unsubscribes from `topic` (`AT+MQTTUNSUB`) and drops it from the session's list.
    /// `Ok(true)` when it was subscribed; `Ok(false)` when the module answered
    /// `NO UNSUBSCRIBE` (it was not, or no connection exists), which is no error.
    pub fn unsubscribe<A: AtClient>(&mut self, client: &mut A, topic: &str) -> Result<bool, Error> {
        self.settle();
        let cmd = MqttUnsub::new(client.dialect(), topic)?;
        let r = client.send(&cmd);
        let a = self.absorb_ready(client, Mode::Normal);
        let reply = r?;
        a?;
        self.subs.retain(|(t, _)| t.as_str() != topic);
        Ok(reply.notice != Some(SubNotice::NotSubscribed))
    }

    /// The module's own list of subscriptions (`AT+MQTTSUB?`).
    pub fn subscriptions<A: AtClient>(
        &mut self,
        client: &mut A,
    ) -> Result<MqttSubscriptions, Error> {
        self.settle();
        let cmd = MqttSubQuery::new(client.dialect())?;
        let r = client.send(&cmd);
        let a = self.absorb_ready(client, Mode::Normal);
        let subs = r?;
        a?;
        Ok(subs)
    }

    /// Subscribes every stored topic again; returns how many. Stops at the first error.
    pub fn resubscribe<A: AtClient>(&mut self, client: &mut A) -> Result<usize, Error> {
        self.settle();
        for i in 0..self.subs.len() {
            self.subscribe_stored(client, i)?;
        }
        Ok(self.subs.len())
    }

    /// Closes the MQTT link and releases the module's MQTT resources (`AT+MQTTCLEAN`):
    /// [`MqttState::Idle`], and the session's list of subscriptions is emptied. The
    /// `+MQTTDISCONNECTED` this causes is consumed.
    pub fn disconnect<A: AtClient>(&mut self, client: &mut A) -> Result<(), Error> {
        self.settle();
        MqttClean::new(client.dialect())?;
        let r = send_clean(client);
        let a = self.absorb_ready(client, Mode::Quiet);
        r?;
        a?;
        self.state = MqttState::Idle;
        self.subs.clear();
        Ok(())
    }

    /// Brings the link back the way the documents prescribe when the module does not
    /// reconnect by itself (`<reconnect>` 0) or after it rebooted: `AT+MQTTCLEAN` (an
    /// `ERROR` to it is ignored: nothing to clean), the configuration of `opts`,
    /// `AT+MQTTCONN` as [`Mqtt::connect`], and every stored topic subscribed again.
    /// Returns how many topics were subscribed.
    ///
    /// `opts`, `host` and `port` are checked before anything is written.
    pub fn recover<A: AtClient>(
        &mut self,
        client: &mut A,
        opts: &MqttOptions<'_>,
        host: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<usize, Error> {
        self.settle();
        let d = client.dialect();
        let plan = Plan::new(d, opts)?;
        MqttConn::new(d, host, port, opts.reconnect)?;
        MqttClean::new(d)?;
        let r = send_clean(client);
        let a = self.absorb_ready(client, Mode::Quiet);
        match r {
            Ok(_) | Err(Error::Module { .. }) => {}
            Err(e) => return Err(e),
        }
        a?;
        self.state = MqttState::Idle;
        let r = plan.apply(client, opts);
        let a = self.absorb_ready(client, Mode::Normal);
        r?;
        a?;
        self.reconnect = opts.reconnect;
        self.state = MqttState::Configured;
        self.connect(client, host, port, timeout_ms)?;
        self.resubscribe(client)
    }

    /// Sets the module's clock by SNTP (`AT+CIPSNTPCFG` with `config`, then
    /// `AT+CIPSNTPTIME?` every half second) and waits, at most `timeout_ms`, until it is
    /// past 1970: needed before a TLS scheme that checks certificates. ESP-AT and W800
    /// only ([`Error::Unsupported`] otherwise, nothing written).
    pub fn sync_time<A: AtClient>(
        &mut self,
        client: &mut A,
        config: &SetSntpConfig<'_>,
        timeout_ms: u32,
    ) -> Result<SntpTime, Error> {
        self.settle();
        if !matches!(client.dialect(), Dialect::EspAt | Dialect::W800) {
            return Err(Error::Unsupported {
                what: "SNTP (AT+CIPSNTPCFG): ESP-AT and W800 only",
            });
        }
        let deadline = client.now_ms().saturating_add(u64::from(timeout_ms));
        let r = client.send(config);
        let a = self.absorb_ready(client, Mode::Normal);
        r?;
        a?;
        loop {
            let r = client.send(&GetSntpTime);
            let a = self.absorb_ready(client, Mode::Normal);
            let time = r?;
            a?;
            if time.is_synced() {
                return Ok(time);
            }
            let now = client.now_ms();
            if now >= deadline {
                return Err(Error::Timeout { ms: timeout_ms });
            }
            let pause = u32::try_from(deadline - now).unwrap_or(u32::MAX);
            self.pause(client, pause.min(SNTP_POLL_MS))?;
        }
    }

    /// The next event, oldest first; `Ok(None)` when there is none now. Never waits for
    /// the module.
    ///
    /// Reports what the session kept from earlier calls, then what the client has queued
    /// (reading what the UART has ready). A message still being joined holds back the
    /// events after it until its next piece comes or [`Mqtt::set_fragment_timeout_ms`]
    /// passes with nothing more to read. Reporting [`MqttEvent::Reconnected`], it first
    /// subscribes the stored topics again (so this call may send commands).
    ///
    /// Errors: [`Error::Uart`] (and those of the re-subscription's UART).
    pub fn poll<A: AtClient>(&mut self, client: &mut A) -> Result<Option<MqttEvent<'_>>, Error> {
        loop {
            self.settle();
            let head = self.head();
            // Events lost after everything stored: reported once that is out (losses
            // followed by a stored event are a record of the store, in order).
            if self.dropped > 0 && head == Head::Empty {
                let dropped = core::mem::take(&mut self.dropped);
                return Ok(Some(MqttEvent::Overflow { dropped }));
            }
            match head {
                Head::Ready => return Ok(self.deliver()),
                Head::Reconnect => {
                    self.stash.pop();
                    let (resubscribed, failed) = self.resubscribe_after_reconnect(client)?;
                    return Ok(Some(MqttEvent::Reconnected {
                        resubscribed,
                        failed,
                    }));
                }
                Head::Blocked | Head::Empty => {}
            }
            if self.can_take(client.frame_capacity()) {
                let now = client.now_ms();
                if let Some(ev) = client.poll()? {
                    self.absorb(ev, now, Mode::Normal);
                    continue;
                }
            } else if head == Head::Blocked {
                // No room to take the next piece while the message waits for it: what
                // was joined goes out as fragment 0.
                self.asm_to_fragments();
                continue;
            }
            let now = client.now_ms();
            if self.cont.as_ref().is_some_and(|c| now >= c.deadline) {
                self.close_cont(false);
                continue;
            }
            return Ok(None);
        }
    }

    // -----------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------

    /// Removes what was handed out last.
    fn settle(&mut self) {
        self.stash.settle();
        if self.asm.release_pending {
            self.asm.clear();
        }
    }

    fn head(&mut self) -> Head {
        match self.stash.head_kind() {
            None => Head::Empty,
            Some(kind::ASM) if self.asm.phase == AsmPhase::Open => Head::Blocked,
            Some(kind::RECONNECT) => Head::Reconnect,
            Some(_) => Head::Ready,
        }
    }

    /// Room for any event the client can produce (or nothing kept at all).
    fn can_take(&mut self, frame_capacity: usize) -> bool {
        // A pending loss count is stored as a record of its own ahead of the next event.
        let marker = if self.dropped > 0 { HDR } else { 0 };
        self.stash.is_empty() || self.stash.free() >= frame_capacity + HDR + marker
    }

    fn deliver(&mut self) -> Option<MqttEvent<'_>> {
        let rec = self.stash.pop()?;
        if rec.kind == kind::ASM {
            self.asm.release_pending = true;
        }
        Some(decode(rec, &self.asm))
    }

    /// Takes the events the client has queued (and what the UART has ready) while there is
    /// room for them, and no joined message blocks the assembly buffer.
    fn absorb_ready<A: AtClient>(&mut self, client: &mut A, mode: Mode) -> Result<(), Error> {
        loop {
            self.settle();
            if !self.can_take(client.frame_capacity())
                || matches!(self.asm.phase, AsmPhase::Done | AsmPhase::DoneFragment)
            {
                return Ok(());
            }
            let now = client.now_ms();
            match client.poll()? {
                Some(ev) => {
                    self.absorb(ev, now, mode);
                }
                None => return Ok(()),
            }
        }
    }

    /// Takes every event the client has queued now, room or not.
    fn absorb_queued<A: AtClient>(&mut self, client: &mut A, mode: Mode) -> Result<(), Error> {
        for _ in 0..client.pending_events() {
            self.settle();
            let now = client.now_ms();
            match client.poll()? {
                Some(ev) => {
                    self.absorb(ev, now, mode);
                }
                None => break,
            }
        }
        Ok(())
    }

    /// Waits `ms`, taking events meanwhile.
    fn pause<A: AtClient>(&mut self, client: &mut A, ms: u32) -> Result<(), Error> {
        let until = client.now_ms().saturating_add(u64::from(ms));
        loop {
            self.absorb_ready(client, Mode::Normal)?;
            if client.now_ms() >= until {
                return Ok(());
            }
            client.idle();
        }
    }

    /// `AT+MQTTSUB` for stored topic `i`.
    fn subscribe_stored<A: AtClient>(&mut self, client: &mut A, i: usize) -> Result<(), Error> {
        let Some((topic, qos)) = self.subs.get(i).cloned() else {
            return Ok(());
        };
        let cmd = MqttSub::new(client.dialect(), &topic, qos)?;
        let r = client.send(&cmd);
        let a = self.absorb_ready(client, Mode::Normal);
        let reply = r?;
        a?;
        if reply.notice == Some(SubNotice::Full) {
            return Err(MODULE_FULL);
        }
        Ok(())
    }

    /// Re-subscribes after an automatic reconnection: (succeeded, failed). Only UART
    /// errors are returned; the link going down again ends the attempt.
    fn resubscribe_after_reconnect<A: AtClient>(
        &mut self,
        client: &mut A,
    ) -> Result<(usize, usize), Error> {
        let total = self.subs.len();
        let mut ok = 0;
        for i in 0..total {
            if self.state != MqttState::Connected {
                return Ok((ok, total - ok));
            }
            match self.subscribe_stored(client, i) {
                Ok(()) => ok += 1,
                Err(e @ Error::Uart(_)) => return Err(e),
                Err(_) => {}
            }
        }
        Ok((ok, total - ok))
    }

    /// Takes one event of the client into the session.
    fn absorb(&mut self, ev: Event<'_>, now: u64, mode: Mode) -> Seen {
        match ev {
            Event::Reset => {
                self.state = MqttState::Idle;
                self.close_cont(true);
                self.store(&Rec::bare(kind::RESET));
                Seen::Reset
            }
            Event::Overflow { dropped } => {
                self.dropped = self.dropped.saturating_add(dropped);
                // A lost event may have been a piece of the open message: whatever is
                // joined from here on is marked truncated, never presented as whole.
                if let Some(c) = self.cont.as_mut() {
                    c.cut = true;
                    if c.in_asm {
                        self.asm.truncated = true;
                    }
                }
                Seen::Other
            }
            Event::Oversized { start, len } => {
                self.store(&Rec {
                    num: to_u32(len),
                    a: start,
                    ..Rec::bare(kind::OVERSIZED)
                });
                Seen::Other
            }
            Event::Urc(urc) => self.absorb_urc(urc, now, mode),
        }
    }

    fn absorb_urc(&mut self, urc: Urc<'_>, now: u64, mode: Mode) -> Seen {
        let rec = match urc {
            Urc::MqttConnected(_) => {
                self.on_connected(mode);
                return Seen::Connected;
            }
            Urc::MqttDisconnected { .. } => {
                self.on_disconnected(mode);
                return Seen::Disconnected;
            }
            Urc::MqttMessage(m) => {
                self.on_piece(&m, now);
                return Seen::Other;
            }
            Urc::MqttConnResult(r) => {
                match r {
                    AsyncResult::Ok => self.on_connected(mode),
                    AsyncResult::Error { code } => {
                        self.last_connect_error = code;
                        self.on_disconnected(mode);
                    }
                }
                return Seen::ConnResult(r);
            }
            Urc::Line(line) => Rec {
                a: line,
                ..Rec::bare(kind::LINE)
            },
            Urc::MqttPublishError { code } => Rec {
                flags: if code.is_some() { F_HAS_LINK } else { 0 },
                num: code.unwrap_or(0) as u32,
                ..Rec::bare(kind::PUBLISH_ERROR)
            },
            Urc::MqttPubRawResult(r) => match r {
                AsyncResult::Ok => Rec {
                    flags: F_OK,
                    ..Rec::bare(kind::PUBRAW_RESULT)
                },
                AsyncResult::Error { code } => Rec {
                    flags: if code.is_some() { F_HAS_LINK } else { 0 },
                    num: code.unwrap_or(0) as u32,
                    ..Rec::bare(kind::PUBRAW_RESULT)
                },
            },
            Urc::WifiConnected => Rec::bare(kind::WIFI_CONNECTED),
            Urc::WifiGotIp => Rec::bare(kind::WIFI_GOT_IP),
            Urc::WifiDisconnected => Rec::bare(kind::WIFI_DISCONNECTED),
            Urc::MqttPublished { ok } => Rec {
                flags: if ok { F_OK } else { 0 },
                ..Rec::bare(kind::PUBLISHED)
            },
            Urc::SocketConnected { link } => Rec {
                link,
                ..Rec::bare(kind::SOCKET_CONNECTED)
            },
            Urc::SocketClosed { link } => Rec {
                link,
                ..Rec::bare(kind::SOCKET_CLOSED)
            },
            Urc::SocketData(d) => Rec {
                flags: flag(d.truncated, F_TRUNCATED) | flag(d.link.is_some(), F_HAS_LINK),
                link: d.link.unwrap_or(0),
                num: to_u32(d.len),
                a: d.data,
                ..Rec::bare(kind::SOCKET_DATA)
            },
            Urc::SocketDataAvailable { link, len } => Rec {
                link,
                num: to_u32(len),
                ..Rec::bare(kind::SOCKET_AVAILABLE)
            },
            Urc::Data(f) => Rec {
                flags: flag(f.truncated, F_TRUNCATED),
                num: to_u32(f.len),
                a: f.header,
                b: f.data,
                ..Rec::bare(kind::DATA)
            },
        };
        self.store(&rec);
        Seen::Other
    }

    fn on_connected(&mut self, mode: Mode) {
        let before = self.state;
        self.state = MqttState::Connected;
        if mode == Mode::Quiet {
            return;
        }
        if before == MqttState::Disconnected && self.reconnect {
            self.store(&Rec::bare(kind::RECONNECT));
        } else {
            self.store(&Rec::bare(kind::CONNECTED));
        }
    }

    fn on_disconnected(&mut self, mode: Mode) {
        if matches!(self.state, MqttState::Connected | MqttState::Connecting) {
            self.state = MqttState::Disconnected;
        }
        if mode == Mode::Normal {
            self.store(&Rec::bare(kind::DISCONNECTED));
        }
    }

    /// One `+MQTTSUBRECV` piece.
    fn on_piece(&mut self, m: &MqttMessage<'_>, now: u64) {
        let deadline = now.saturating_add(u64::from(self.fragment_timeout_ms));
        if let Some(c) = &self.cont {
            let same =
                m.topic.is_empty() || (m.topic.len() == c.topic_len && fnv1a(m.topic) == c.hash);
            if same {
                self.continue_piece(m, deadline);
                return;
            }
            // Another topic: the open message was whole after all.
            self.close_cont(false);
        }
        if !is_full_piece(true, m.link, m.topic, m.len) {
            self.store(&Rec {
                flags: flag(m.truncated, F_TRUNCATED),
                num: to_u32(m.len),
                a: m.topic,
                b: m.data,
                ..Rec::bare(kind::MSG)
            });
            return;
        }
        let mut cont = Cont {
            hash: fnv1a(m.topic),
            topic_len: m.topic.len(),
            topic: heapless::Vec::from_slice(m.topic).unwrap_or_default(),
            in_asm: false,
            next_index: 1,
            deadline,
            cut: false,
        };
        if self.asm.phase == AsmPhase::Free && self.asm.fits(m.topic.len() + m.data.len()) {
            self.asm.start(m.topic, m.data, m.truncated);
            if self.mark_drops() && self.stash.push(&Rec::bare(kind::ASM)) {
                cont.in_asm = true;
                self.cont = Some(cont);
            } else {
                self.asm.clear();
                self.dropped = self.dropped.saturating_add(1);
            }
            return;
        }
        self.store(&Rec {
            flags: flag(m.truncated, F_TRUNCATED),
            a: m.topic,
            b: m.data,
            ..Rec::bare(kind::FRAG)
        });
        self.cont = Some(cont);
    }

    /// A piece that continues the open message.
    fn continue_piece(&mut self, m: &MqttMessage<'_>, deadline: u64) {
        let Some(mut c) = self.cont.take() else {
            return;
        };
        let full = is_full_piece(false, m.link, m.topic, m.len);
        if c.in_asm {
            if self.asm.fits(m.data.len()) {
                self.asm.append(m.data, m.truncated);
                if full {
                    c.deadline = deadline;
                    self.cont = Some(c);
                } else {
                    self.asm.phase = AsmPhase::Done;
                }
                return;
            }
            // Too long for the buffer: what was joined is fragment 0.
            self.asm.phase = AsmPhase::DoneFragment;
            c.in_asm = false;
            c.next_index = 1;
        }
        let topic = if m.topic.is_empty() {
            &c.topic[..]
        } else {
            m.topic
        };
        self.store(&Rec {
            flags: flag(m.truncated || c.cut, F_TRUNCATED) | flag(!full, F_LAST),
            num: c.next_index,
            a: topic,
            b: m.data,
            ..Rec::bare(kind::FRAG)
        });
        if full {
            c.next_index = c.next_index.saturating_add(1);
            c.deadline = deadline;
            self.cont = Some(c);
        }
    }

    /// The open message ends here (`cut`: bytes of it were lost).
    fn close_cont(&mut self, cut: bool) {
        let Some(c) = self.cont.take() else {
            return;
        };
        if c.in_asm {
            self.asm.phase = AsmPhase::Done;
            self.asm.truncated |= cut || c.cut;
        } else {
            self.store(&Rec {
                flags: F_LAST | flag(cut || c.cut, F_TRUNCATED),
                num: c.next_index,
                a: &c.topic,
                ..Rec::bare(kind::FRAG)
            });
        }
    }

    fn asm_to_fragments(&mut self) {
        if self.asm.phase == AsmPhase::Open {
            self.asm.phase = AsmPhase::DoneFragment;
        }
        if let Some(c) = self.cont.as_mut() {
            if c.in_asm {
                c.in_asm = false;
                c.next_index = 1;
            }
        }
    }

    /// Events lost before the one about to be stored: a marker record goes ahead of it so
    /// that the loss is reported where it happened. False when not even that fits.
    fn mark_drops(&mut self) -> bool {
        if self.dropped == 0 {
            return true;
        }
        let marker = Rec {
            num: self.dropped,
            ..Rec::bare(kind::OVERFLOW)
        };
        if !self.stash.push(&marker) {
            return false;
        }
        self.dropped = 0;
        true
    }

    /// Stores a record; one larger than the whole store is kept cut, marked truncated.
    fn store(&mut self, r: &Rec<'_>) {
        let was_empty = self.stash.is_empty();
        if !self.mark_drops() {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if self.stash.push(r) {
            return;
        }
        if was_empty {
            // Empty but for a loss marker stored just now, if any.
            let room = self.stash.free().saturating_sub(HDR).min(PART_MAX);
            let a = &r.a[..r.a.len().min(room)];
            let b = &r.b[..r.b.len().min(room - a.len())];
            let cut = if r.kind == kind::LINE {
                Rec {
                    num: to_u32(r.a.len()),
                    a,
                    ..Rec::bare(kind::OVERSIZED)
                }
            } else {
                Rec {
                    flags: r.flags | F_TRUNCATED,
                    a,
                    b,
                    ..*r
                }
            };
            if self.stash.push(&cut) {
                return;
            }
        }
        self.dropped = self.dropped.saturating_add(1);
    }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on {
        bit
    } else {
        0
    }
}

fn decode<'a, const N: usize>(rec: Rec<'a>, asm: &'a Assembler<N>) -> MqttEvent<'a> {
    let truncated = rec.flags & F_TRUNCATED != 0;
    match rec.kind {
        kind::MSG => MqttEvent::Message {
            topic: rec.a,
            payload: rec.b,
            truncated,
        },
        kind::FRAG => MqttEvent::Fragment {
            topic: rec.a,
            index: rec.num,
            data: rec.b,
            last: rec.flags & F_LAST != 0,
            truncated,
        },
        kind::ASM if asm.phase == AsmPhase::DoneFragment => MqttEvent::Fragment {
            topic: asm.topic(),
            index: 0,
            data: asm.data(),
            last: false,
            truncated: asm.truncated,
        },
        kind::ASM => MqttEvent::Message {
            topic: asm.topic(),
            payload: asm.data(),
            truncated: asm.truncated,
        },
        kind::CONNECTED => MqttEvent::Connected,
        kind::DISCONNECTED => MqttEvent::Disconnected,
        kind::RESET => MqttEvent::Reset,
        kind::OVERFLOW => MqttEvent::Overflow { dropped: rec.num },
        kind::OVERSIZED => MqttEvent::Oversized {
            start: rec.a,
            len: to_usize(rec.num),
        },
        kind::WIFI_CONNECTED => MqttEvent::Other(Urc::WifiConnected),
        kind::WIFI_GOT_IP => MqttEvent::Other(Urc::WifiGotIp),
        kind::WIFI_DISCONNECTED => MqttEvent::Other(Urc::WifiDisconnected),
        kind::PUBLISHED => MqttEvent::Other(Urc::MqttPublished {
            ok: rec.flags & F_OK != 0,
        }),
        kind::SOCKET_CONNECTED => MqttEvent::Other(Urc::SocketConnected { link: rec.link }),
        kind::SOCKET_CLOSED => MqttEvent::Other(Urc::SocketClosed { link: rec.link }),
        kind::SOCKET_DATA => MqttEvent::Other(Urc::SocketData(SocketData {
            link: (rec.flags & F_HAS_LINK != 0).then_some(rec.link),
            data: rec.a,
            len: to_usize(rec.num),
            truncated,
        })),
        kind::SOCKET_AVAILABLE => MqttEvent::Other(Urc::SocketDataAvailable {
            link: rec.link,
            len: to_usize(rec.num),
        }),
        kind::DATA => MqttEvent::Other(Urc::Data(DataFrame {
            header: rec.a,
            len: to_usize(rec.num),
            data: rec.b,
            truncated,
        })),
        kind::PUBLISH_ERROR => MqttEvent::Other(Urc::MqttPublishError {
            code: (rec.flags & F_HAS_LINK != 0).then_some(rec.num as i32),
        }),
        kind::PUBRAW_RESULT => MqttEvent::Other(Urc::MqttPubRawResult(if rec.flags & F_OK != 0 {
            AsyncResult::Ok
        } else {
            AsyncResult::Error {
                code: (rec.flags & F_HAS_LINK != 0).then_some(rec.num as i32),
            }
        })),
        _ => MqttEvent::Other(Urc::Line(rec.a)),
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\r' | b'\n'] = l {
        l = rest;
    }
    l
}

/// The line of [`MqttClean`] (checked by a test).
const CLEAN_LINE: &[u8] = b"AT+MQTTCLEAN=0";

/// Sends [`MqttClean`] as its fixed line: the same bytes, timeout and (empty) reply,
/// without the command type's own encoding and parsing code. The dialect was checked
/// by `MqttClean::new`.
fn send_clean<A: AtClient>(client: &mut A) -> Result<(), Error> {
    client
        .send_line(CLEAN_LINE, <MqttClean as AtatCmd>::MAX_TIMEOUT_MS)
        .map(|_| ())
}

/// The length of `AT+MQTTPUB=0,<topic>,<data>,<q>,<r>\r\n` in `dialect`.
fn pub_line_len(dialect: Dialect, topic: &str, payload: &[u8]) -> usize {
    let q = Quoting::of(dialect);
    20 + encoded_len(q, topic.as_bytes()) + encoded_len(q, payload)
}

// ---------------------------------------------------------------------------------------
// Configuration plan
// ---------------------------------------------------------------------------------------

/// Every command of [`Mqtt::configure`], built and checked before the first is sent.
struct Plan<'a> {
    usercfg: MqttUserCfg<'a>,
    /// Client id, username, password: in `AT+MQTTUSERCFG` (true) or sent by their
    /// `AT+MQTTLONG*` command.
    inline: [bool; 3],
    conncfg: Option<MqttConnCfg<'a>>,
}

/// The `AT+MQTTLONG*` steps of [`Mqtt::configure`], referenced from [`MqttOptions::new`]
/// and dropped by [`MqttOptions::without_long_values`] (so that the linker can leave them
/// out).
struct LongSteps {
    /// Which values go in `AT+MQTTUSERCFG`; the `AT+MQTTLONG*` commands checked.
    plan: fn(Dialect, &MqttOptions<'_>) -> Result<[bool; 3], Error>,
    /// Writes the `AT+MQTTLONG*` command of value `i` (client id, username, password).
    encode: fn(Dialect, &MqttOptions<'_>, usize, &mut [u8]) -> Result<usize, Error>,
}

// One value only: any two are the same steps.
impl PartialEq for LongSteps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LongSteps {}

const LONG_STEPS: LongSteps = LongSteps {
    plan: plan_long,
    encode: encode_long,
};

/// The values of `o`: client id, username, password.
fn values<'a>(o: &MqttOptions<'a>) -> [&'a str; 3] {
    [o.client_id, o.username, o.password]
}

fn plan_long(d: Dialect, o: &MqttOptions<'_>) -> Result<[bool; 3], Error> {
    let max = d.spec().max_line;
    let q = Quoting::of(d);
    let scheme = o.scheme.code(d)?;
    let values = values(o);
    let mut inline = [
        o.client_id.len() <= CLIENT_ID_MAX_LEN,
        o.username.len() <= USERNAME_MAX_LEN,
        o.password.len() <= PASSWORD_MAX_LEN,
    ];
    loop {
        let shown = |i: usize| -> &[u8] {
            if inline[i] {
                values[i].as_bytes()
            } else {
                b""
            }
        };
        let len = usercfg_len(d, scheme, [shown(0), shown(1), shown(2)], o.path.as_bytes());
        if len <= max {
            break;
        }
        // The longest value still in the line goes through its AT+MQTTLONG* command.
        let longest = (0..3)
            .filter(|&i| inline[i] && !values[i].is_empty())
            .max_by_key(|&i| encoded_len(q, values[i].as_bytes()));
        match longest {
            Some(i) => inline[i] = false,
            None => return Err(Error::CommandTooLong { len, max }),
        }
    }
    // The AT+MQTTLONG* commands checked first: Beken has none, and its placeholders
    // could not be sent either.
    for (i, value) in values.iter().enumerate() {
        if !inline[i] {
            long_command(d, i, value.len(), &mut [], false)?;
        }
    }
    Ok(inline)
}

/// Builds the `AT+MQTTLONG*` command of value `i` (client id, username, password) for
/// `len` bytes, and writes it into `buf` when `write`.
fn long_command(
    d: Dialect,
    i: usize,
    len: usize,
    buf: &mut [u8],
    write: bool,
) -> Result<usize, Error> {
    fn out<Cmd: AtatCmd + atat::serde_at::serde::Serialize>(
        cmd: Cmd,
        buf: &mut [u8],
        write: bool,
    ) -> Result<usize, Error> {
        if write {
            encode_into(&cmd, buf)
        } else {
            Ok(0)
        }
    }
    match i {
        0 => out(MqttLongClientId::new(d, len)?, buf, write),
        1 => out(MqttLongUsername::new(d, len)?, buf, write),
        _ => out(MqttLongPassword::new(d, len)?, buf, write),
    }
}

fn encode_long(d: Dialect, o: &MqttOptions<'_>, i: usize, buf: &mut [u8]) -> Result<usize, Error> {
    long_command(d, i, values(o)[i].len(), buf, true)
}

/// `AT+MQTTCONNCFG` with the will of [`MqttOptions::will`], reached only through it (so
/// that firmware without a will links none of this).
struct WillSteps {
    /// Builds and checks the command.
    conncfg: for<'a> fn(Dialect, &MqttOptions<'a>) -> Result<MqttConnCfg<'a>, Error>,
}

// One value only: any two are the same steps.
impl PartialEq for WillSteps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for WillSteps {}

const WILL_STEPS: WillSteps = WillSteps {
    conncfg: conncfg_with_will,
};

fn conncfg_with_will<'a>(d: Dialect, o: &MqttOptions<'a>) -> Result<MqttConnCfg<'a>, Error> {
    let cfg = MqttConnCfg::new(d, o.keepalive_s, !o.clean_session, o.will)?;
    let (topic, msg) = o
        .will
        .map_or((&b""[..], &b""[..]), |w| (w.topic.as_bytes(), w.message));
    let q = Quoting::of(d);
    check_line(
        27 + digits(usize::from(o.keepalive_s)) + encoded_len(q, topic) + encoded_len(q, msg),
        d.spec().max_line,
    )?;
    Ok(cfg)
}

/// Writes a TLS step's command line (see [`TlsSteps::encode`]).
type TlsEncode = fn(Dialect, &MqttOptions<'_>, usize, &mut [u8]) -> Result<Option<usize>, Error>;

/// The TLS extension steps of [`Mqtt::configure`] (`AT+MQTTALPN`, `AT+MQTTSNI`), reached
/// only through [`MqttOptions::alpn`] / [`MqttOptions::sni`], so that the linker drops
/// them from programs that never set either.
struct TlsSteps {
    /// Checks both commands (nothing is sent when one would be refused).
    check: fn(Dialect, &MqttOptions<'_>) -> Result<(), Error>,
    /// Writes step `i` (0: ALPN, 1: SNI) into the buffer: its length, `None` when the
    /// options do not ask for it.
    encode: TlsEncode,
}

// One value only: any two are the same steps.
impl PartialEq for TlsSteps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for TlsSteps {}

const TLS_STEPS: TlsSteps = TlsSteps {
    check: check_tls,
    encode: encode_tls,
};

/// The ALPN and SNI commands `o` asks for.
fn tls_commands<'a>(
    d: Dialect,
    o: &MqttOptions<'a>,
) -> Result<(Option<MqttAlpn<'a>>, Option<MqttSni<'a>>), Error> {
    let max = d.spec().max_line;
    let q = Quoting::of(d);
    let alpn = if o.alpn.is_empty() {
        None
    } else {
        let cmd = MqttAlpn::new(d, o.alpn)?;
        let names: usize = o
            .alpn
            .iter()
            .map(|n| 1 + encoded_len(q, n.as_bytes()))
            .sum();
        check_line(17 + names, max)?;
        Some(cmd)
    };
    let sni = match o.sni {
        Some(s) => {
            let cmd = MqttSni::new(d, s)?;
            check_line(15 + encoded_len(q, s.as_bytes()), max)?;
            Some(cmd)
        }
        None => None,
    };
    Ok((alpn, sni))
}

fn check_tls(d: Dialect, o: &MqttOptions<'_>) -> Result<(), Error> {
    tls_commands(d, o).map(|_| ())
}

fn encode_tls(
    d: Dialect,
    o: &MqttOptions<'_>,
    step: usize,
    buf: &mut [u8],
) -> Result<Option<usize>, Error> {
    let (alpn, sni) = tls_commands(d, o)?;
    match (step, alpn, sni) {
        (0, Some(cmd), _) => encode_into(&cmd, buf).map(Some),
        (1, _, Some(cmd)) => encode_into(&cmd, buf).map(Some),
        _ => Ok(None),
    }
}

/// `AT+MQTTUSERCFG=0,<scheme>,<id>,<user>,<pass>,0,0[,<path>]\r\n`.
fn usercfg_len(d: Dialect, scheme: u8, values: [&[u8]; 3], path: &[u8]) -> usize {
    let q = Quoting::of(d);
    let path_part = if d == Dialect::Beken && path.is_empty() {
        0
    } else {
        1 + encoded_len(q, path)
    };
    15 + 2
        + digits(usize::from(scheme))
        + values.iter().map(|v| 1 + encoded_len(q, v)).sum::<usize>()
        + 4
        + path_part
        + 2
}

fn check_line(len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        Err(Error::CommandTooLong { len, max })
    } else {
        Ok(())
    }
}

impl<'a> Plan<'a> {
    fn new(d: Dialect, o: &MqttOptions<'a>) -> Result<Self, Error> {
        let max = d.spec().max_line;
        let q = Quoting::of(d);
        let inline = match o.long {
            Some(long) => (long.plan)(d, o)?,
            // `without_long_values`: `AT+MQTTUSERCFG` takes them all (`MqttUserCfg::new`
            // checks each, the client the line).
            None => [true; 3],
        };
        let values = values(o);
        let text = |i: usize| if inline[i] { values[i] } else { "" };
        let usercfg = MqttUserCfg::new(d, o.scheme, text(0), text(1), text(2), o.path)?;
        let conncfg = match o.will_steps {
            Some(will) => Some((will.conncfg)(d, o)?),
            None if o.keepalive_s != 0 || !o.clean_session => {
                // No will (only `MqttOptions::will` sets one): two empty strings.
                let cfg = MqttConnCfg::new(d, o.keepalive_s, !o.clean_session, None)?;
                check_line(
                    27 + digits(usize::from(o.keepalive_s)) + 2 * encoded_len(q, b""),
                    max,
                )?;
                Some(cfg)
            }
            None => None,
        };
        if let Some(tls) = o.tls {
            (tls.check)(d, o)?;
        }
        Ok(Plan {
            usercfg,
            inline,
            conncfg,
        })
    }

    fn apply<A: AtClient>(&self, client: &mut A, o: &MqttOptions<'_>) -> Result<(), Error> {
        client.send(&self.usercfg)?;
        if let Some(long) = o.long {
            let d = client.dialect();
            for (i, value) in values(o).iter().enumerate() {
                if !self.inline[i] {
                    let encode = |buf: &mut [u8]| (long.encode)(d, o, i, buf);
                    client.send_encoded(&encode, Some(value.as_bytes()), LONG_TIMEOUT_MS)?;
                }
            }
        }
        if let Some(cmd) = &self.conncfg {
            client.send(cmd)?;
        }
        if let Some(tls) = o.tls {
            let d = client.dialect();
            for (step, wanted) in [!o.alpn.is_empty(), o.sni.is_some()]
                .into_iter()
                .enumerate()
            {
                if !wanted {
                    continue;
                }
                let encode = |buf: &mut [u8]| {
                    (tls.encode)(d, o, step, buf)?.ok_or(Error::CommandTooLong {
                        len: buf.len() + 1,
                        max: buf.len(),
                    })
                };
                client.send_encoded(&encode, None, TLS_TIMEOUT_MS)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_pieces() {
        // The notes' 2500-byte message on a 15-byte topic: 1004 + 1024 + 472.
        let t = b"sensors/cam/raw";
        assert!(is_full_piece(true, Some(0), t, 1004));
        assert!(is_full_piece(false, Some(0), t, 1024));
        assert!(!is_full_piece(false, Some(0), t, 472));
        // A real capture: 1262 bytes as 986 + 276 on a 33-byte topic.
        let t33 = [b'x'; 33];
        assert!(is_full_piece(true, Some(0), &t33, 986));
        assert!(!is_full_piece(false, Some(0), &t33, 276));
        // Whole line of 1024 bytes: `+MQTTSUBRECV:0,"t",1000,` is 24 bytes.
        assert!(is_full_piece(true, Some(0), b"t", 1000));
        assert!(is_full_piece(false, Some(0), b"t", 1000));
        assert!(!is_full_piece(true, Some(0), b"t", 5));
        assert!(!is_full_piece(true, Some(0), b"t", 1024));
    }

    #[test]
    fn stash_fifo_and_compaction() {
        let long = b"0123456789abcdefg";
        let mut s = Stash::<64>::new();
        assert!(s.push(&Rec {
            a: b"0123456789",
            ..Rec::bare(kind::LINE)
        }));
        assert!(s.push(&Rec {
            a: b"abc",
            b: b"de",
            num: 0x0102_0304,
            ..Rec::bare(kind::MSG)
        }));
        // 21 + 16 = 37 used: 11 + 16 fits, 11 + 17 does not.
        assert_eq!(s.free(), 27);
        assert!(!s.push(&Rec {
            a: long,
            ..Rec::bare(kind::LINE)
        }));
        assert_eq!(s.pop().map(|r| r.a), Some(&b"0123456789"[..]));
        // Popping made room at the front; pushing moves what is stored there.
        assert!(s.push(&Rec {
            a: long,
            ..Rec::bare(kind::LINE)
        }));
        let r = s.pop().unwrap();
        assert_eq!(
            (r.kind, r.a, r.b, r.num),
            (kind::MSG, &b"abc"[..], &b"de"[..], 0x0102_0304)
        );
        assert_eq!(s.pop().map(|r| r.a), Some(&long[..]));
        assert!(s.pop().is_none());
        assert!(s.is_empty());
        assert_eq!(s.free(), 64);
    }

    #[test]
    fn clean_line_is_the_command() {
        for d in [Dialect::EspAt, Dialect::W800, Dialect::Beken] {
            let mut buf = [0u8; 32];
            let n = MqttClean::new(d).unwrap().write(&mut buf);
            let end = d.spec().line_end;
            assert_eq!(&buf[..n - end.len()], CLEAN_LINE);
            assert_eq!(&buf[n - end.len()..n], end);
        }
    }

    #[test]
    fn line_lengths_match_the_commands() {
        let d = Dialect::EspAt;
        let cfg = MqttUserCfg::new(d, Scheme::Tcp, "dev1", "", "", "").unwrap();
        let mut buf = [0u8; 600];
        assert_eq!(
            cfg.write(&mut buf),
            usercfg_len(d, 1, [b"dev1", b"", b""], b"")
        );
        let b = Dialect::Beken;
        let cfg = MqttUserCfg::new(b, Scheme::Tcp, "dev1", "u", "p", "").unwrap();
        assert_eq!(
            cfg.write(&mut buf),
            usercfg_len(b, 1, [b"dev1", b"u", b"p"], b"")
        );
        let p = MqttPub::new(d, "t", b"a,b", QoS::AtLeastOnce, false).unwrap();
        assert_eq!(p.write(&mut buf), pub_line_len(d, "t", b"a,b"));
    }
}
