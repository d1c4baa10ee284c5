//! Sockets over an Ai-Thinker Combo-AT module, and an [`embedded-nal`](embedded_nal) stack.
//!
//! [`SocketSet`] keeps the state of up to `N` sockets — TCP, UDP and TLS clients, TCP
//! and UDP servers, and the connections a TCP server accepted — and drives them with the
//! [`command::socket`](crate::command::socket) commands. [`Net`] joins a set and a
//! [`Client`] into a stack that implements embedded-nal 0.9's [`TcpClientStack`],
//! [`TcpFullStack`], [`UdpClientStack`] and [`Dns`], so crates written against
//! embedded-nal run over the module.
//!
//! ```
//! use at_wifi::net::{Net, SocketSet};
//! use at_wifi::{Client, Dialect};
//! use embedded_nal::TcpClientStack;
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+SOCKETRECVCFG=0\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+SOCKET=4,192.168.1.10,80\r\n", b"connect success ConID=1\r\nOK\r\n");
//! # uart.expect(b"AT+SOCKETSEND=1,4\r\n", b">");
//! # uart.expect(b"ping", b"\r\nOK\r\n+EVENT:SocketDown,1,4\r\n");
//! # uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,4,pong\r\nOK\r\n");
//! # uart.expect(b"AT+SOCKETDEL=1\r\n", b"\r\nOK\r\n");
//! # let clock = uart.clock();
//! let mut client: Client<_, _, 1100, 1100> = Client::new(uart, clock, Dialect::AiThinker);
//! let mut sockets: SocketSet = SocketSet::new();
//! sockets.init(&mut client, Default::default())?; // passive receive
//! let mut net = Net::new(&mut client, &mut sockets);
//! let mut s = TcpClientStack::socket(&mut net)?;
//! nb::block!(TcpClientStack::connect(&mut net, &mut s, "192.168.1.10:80".parse().unwrap()))?;
//! nb::block!(TcpClientStack::send(&mut net, &mut s, b"ping"))?;
//! let mut buf = [0u8; 16];
//! let n = nb::block!(TcpClientStack::receive(&mut net, &mut s, &mut buf))?;
//! assert_eq!(&buf[..n], b"pong");
//! TcpClientStack::close(&mut net, s)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Receiving: passive, packet by packet
//!
//! [`SocketSet::init`] puts the module in passive receive mode (`AT+SOCKETRECVCFG=0`, also
//! its default): for each packet it prints `+EVENT:SocketDown,<id>,<len>` and keeps the
//! bytes until `AT+SOCKETREAD`, so an MCU never gets more data than it asked for. A
//! receive reads one packet ("one packet of data at a time"); what does not fit the
//! caller's buffer is kept in the socket's `BUF`-byte buffer and handed out by the next
//! receives before another packet is read. For UDP a packet is a datagram: what does not
//! fit the buffer is dropped, as UDP does. A packet whose rest does not fit `BUF` loses
//! the bytes beyond, and the next receive reports [`NetError::Overrun`] once.
//!
//! The client's buffers bound a packet: `+SOCKETREAD,<id>,<len>,` (up to 24 bytes) plus
//! the packet must fit its framer (`RX`) and its reply buffer (`RESP`), or the read ends in
//! [`Error::ResponseOverflow`] and the packet is lost. Combo-AT sends at most 1024 bytes per
//! packet ([`SEND_PACKET_MAX`]); a client `Client<U, C, 1100, 1100>` holds that (the
//! default `RESP` of 512 holds packets up to 488 bytes).
//!
//! In active mode ([`ReceiveMode::Active`]) the data comes with the notification; it is
//! stored in the socket's buffer at once (UDP: one datagram at a time; a datagram that
//! finds the buffer full is dropped and counted as overrun).
//!
//! # Events
//!
//! The module's notifications arrive in the client's event queue, in order with everything
//! else. Every call of the set first reads that queue to its end: socket events of its own
//! sockets (data waiting, a peer closing, a client connecting to a server, `ready`) update
//! the sockets and are consumed; **everything else** — Wi-Fi events, MQTT messages, unknown
//! lines, socket events of sockets the set does not own, and `ready` too — is copied, in
//! order, into the set's own `STASH`-byte store, from which [`SocketSet::poll_event`] (or
//! [`SocketSet::next_event`]) hands it out. So nothing is swallowed: while a set is in use,
//! read events through it, not through [`Client::poll`] (which would take socket events
//! away from the set: if that happens, or the client's queue overflows, the set asks the
//! module with `AT+SOCKETREAD` for each socket instead of waiting for a notification it
//! may have missed). Events that do not fit the store are counted and reported as
//! [`Event::Overflow`].
//!
//! Lines that the client folded into a command's reply because it did not know them as
//! URCs (`+EVENT:SocketSeed`, `+EVENT:SocketAutoDel`, …) are recovered from the reply and
//! handled the same way (a packet's bytes are never looked into).
//!
//! # Closing, resets, errors
//!
//! - A peer that closes (`+EVENT:SocketDissconnect`): the data already received is still
//!   handed out; then every receive and send gives [`NetError::Closed`]. The module keeps
//!   the connection until [`SocketSet::close`] deletes it (`AT+SOCKETDEL`, which the
//!   document requires for seeds).
//! - The module reboots (`ready`, in the queue or in the middle of a command): every socket
//!   gives [`NetError::Reset`] on its next call; closing it frees the slot without a
//!   command. New sockets can be opened at once (after Wi-Fi is back).
//! - Rules checked before anything is written: a TCP server cannot send
//!   ([`NetError::ServerCannotSend`]); a UDP server sends to the first peer that sent to it,
//!   so not before one did ([`NetError::NoPeerYet`]); a UDP datagram fits one packet
//!   ([`NetError::DatagramTooLarge`]); one transparent link at a time
//!   ([`NetError::TransparentUnavailable`]).
//!
//! No call waits without a deadline: commands have their timeouts, receives never wait
//! ([`SocketSet::receive_timeout`] waits as long as it is told).

use crate::client::{AtClient, Client, Event};
use crate::clock::Clock;
use crate::command::combo::{combo_only, write_ipv4, write_u32};
use crate::command::mqtt::AsyncResult;
use crate::command::socket::{
    check_transparent, open_transparent, reply_events, socket_rows, ConId, CreateSocket,
    ReadPacket, ReceiveMode, Resolve, SocketDel, SocketEvent, SocketQuery, SocketRead,
    SocketRecvCfg, SocketSend, SocketType, Transparent, UdpTtMode, SEND_PACKET_MAX,
};
use crate::error::Error;
use crate::framer::{DataFrame, Frame};
use crate::queue::{EventQueue, Stored};
use crate::urc::Urc;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::ops::Range;
use embedded_io::{Read, ReadReady, Write};
use embedded_nal::{
    AddrType, Dns, TcpClientStack, TcpError, TcpErrorKind, TcpFullStack, UdpClientStack,
};

/// How many connections to a server ([`SocketEvent::Seed`]) wait for
/// [`SocketSet::accept`] at most; more are refused (deleted).
pub const MAX_PENDING_ACCEPTS: usize = 4;

/// How many recently deleted ConIDs the set remembers, to take the module's late
/// `+EVENT:SocketAutoDel` / `+EVENT:SocketDissconnect` for them as its own.
const DELETED_MEMORY: usize = 4;

/// The longest reconstructed event line the set stores (a URC line or data header).
const SCRATCH: usize = 288;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// Everything a socket call can fail with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum NetError {
    /// The client or the module failed (timeout, `ERROR`, busy, UART, a parameter out of
    /// range …).
    At(Error),
    /// The peer closed the connection, or the module deleted it; the data received before
    /// has been handed out.
    Closed,
    /// The module rebooted: the socket is gone. Close it to free its slot.
    Reset,
    /// The handle was closed already, or belongs to another set.
    InvalidHandle,
    /// All `N` sockets are in use.
    NoFreeSocket,
    /// The socket is not connected (embedded-nal's `socket()` made it; `connect` or
    /// `listen` did not follow).
    NotConnected,
    /// The socket is connected already (to another peer).
    AlreadyConnected,
    /// A TCP server cannot send or receive: "the TCPServer connection cannot send and
    /// receive data, and only the seed created after the client connects to the TCPServer
    /// can". Use the connection [`SocketSet::accept`] returns.
    ServerCannotSend,
    /// A UDP server "must receive the client data before sending it. The sending object is
    /// the object that received the data for the first time": nothing was received yet.
    NoPeerYet,
    /// The socket is not a listening TCP server (accept) or not a server (bind).
    NotListening,
    /// A UDP datagram longer than one packet ([`SEND_PACKET_MAX`]): the module would split
    /// it into several datagrams.
    DatagramTooLarge {
        /// The datagram's length.
        len: usize,
    },
    /// Received bytes did not fit the socket's buffer (or the client's) and were lost.
    Overrun {
        /// Bytes lost.
        lost: usize,
    },
    /// Transparent mode needs exactly one client, one server with one seed, one UDP client
    /// or one UDP server on the module, and the socket must be that one.
    TransparentUnavailable,
    /// Not possible over this module (IPv6, reverse DNS, an SSL server through the nal).
    Unsupported {
        /// What.
        what: &'static str,
    },
}

impl From<Error> for NetError {
    fn from(e: Error) -> Self {
        match e {
            Error::Reset => NetError::Reset,
            e => NetError::At(e),
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::At(e) => fmt::Display::fmt(e, f),
            NetError::Closed => f.write_str("connection closed"),
            NetError::Reset => f.write_str("module rebooted: the socket is gone"),
            NetError::InvalidHandle => f.write_str("socket handle is not valid"),
            NetError::NoFreeSocket => f.write_str("no free socket"),
            NetError::NotConnected => f.write_str("socket not connected"),
            NetError::AlreadyConnected => f.write_str("socket already connected"),
            NetError::ServerCannotSend => {
                f.write_str("a TCP server cannot send or receive; use an accepted connection")
            }
            NetError::NoPeerYet => {
                f.write_str("a UDP server sends to its first peer: none has sent yet")
            }
            NetError::NotListening => f.write_str("socket is not a listening server"),
            NetError::DatagramTooLarge { len } => {
                write!(f, "datagram of {len} bytes exceeds one 1024-byte packet")
            }
            NetError::Overrun { lost } => write!(f, "{lost} received bytes lost"),
            NetError::TransparentUnavailable => f.write_str(
                "transparent mode needs a single client, server and seed, UDP client or UDP server",
            ),
            NetError::Unsupported { what } => write!(f, "not supported: {what}"),
        }
    }
}

impl core::error::Error for NetError {}

impl TcpError for NetError {
    fn kind(&self) -> TcpErrorKind {
        match self {
            NetError::Closed | NetError::Reset => TcpErrorKind::PipeClosed,
            _ => TcpErrorKind::Other,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/// A socket of a [`SocketSet`]. Copyable; once the socket is closed every copy is
/// refused with [`NetError::InvalidHandle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketHandle {
    index: u8,
    generation: u16,
}

impl SocketHandle {
    /// The slot number (0 … N−1).
    pub fn index(&self) -> usize {
        usize::from(self.index)
    }
}

/// What a socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SocketKind {
    /// Not connected yet: kind decided by `connect`, `listen` …
    Unspecified,
    /// TCP client (`AT+SOCKET=4`).
    Tcp,
    /// UDP client (`AT+SOCKET=2`).
    Udp,
    /// TLS client (`AT+SOCKET=7`).
    Tls,
    /// TCP server (`AT+SOCKET=3`): accepts connections, does not send.
    TcpServer,
    /// UDP server (`AT+SOCKET=1`): replies to its first peer.
    UdpServer,
    /// A connection a TCP server accepted (a TCPSeed).
    Accepted,
}

impl SocketKind {
    fn is_udp(self) -> bool {
        matches!(self, SocketKind::Udp | SocketKind::UdpServer)
    }
}

/// The state of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SocketState {
    /// Allocated, not connected.
    Unconnected,
    /// Connected (clients, accepted connections, UDP server).
    Open,
    /// A TCP server listening.
    Listening,
    /// The peer closed or the module deleted it.
    Closed,
    /// The module rebooted.
    Reset,
}

/// What the set has seen of the station's Wi-Fi (from `+EVENT:WIFI_…` and `ready`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WifiState {
    /// No Wi-Fi event seen yet.
    #[default]
    Unknown,
    /// `+EVENT:WIFI_CONNECT`: joined, no address yet.
    Connected,
    /// `+EVENT:WIFI_GOT_IP`: sockets can work.
    GotIp,
    /// `+EVENT:WIFI_DISCONNECT`, or the module rebooted.
    Disconnected,
}

// ---------------------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Free,
    Unconnected,
    Open,
    Listening,
}

struct Slot<const BUF: usize> {
    generation: u16,
    phase: Phase,
    kind: SocketKind,
    con_id: ConId,
    local_port: u16,
    remote: Option<SocketAddr>,
    /// The peer closed (or the module deleted the connection).
    closed: bool,
    /// The module deleted the connection: no `AT+SOCKETDEL` on close.
    deleted: bool,
    /// The module rebooted.
    reset: bool,
    /// `+EVENT:SocketReconnect` came after a close.
    reconnected: bool,
    /// Packets announced by `+EVENT:SocketDown` and not read.
    pending: u16,
    pending_bytes: usize,
    /// Events may have been missed: ask the module.
    probe: bool,
    /// UDP server: a peer sent something.
    peer_seen: bool,
    /// Bytes lost, reported once.
    overrun: usize,
    buf: [u8; BUF],
    head: usize,
    tail: usize,
}

impl<const BUF: usize> Slot<BUF> {
    const fn new() -> Self {
        Slot {
            generation: 0,
            phase: Phase::Free,
            kind: SocketKind::Unspecified,
            con_id: 0,
            local_port: 0,
            remote: None,
            closed: false,
            deleted: false,
            reset: false,
            reconnected: false,
            pending: 0,
            pending_bytes: 0,
            probe: false,
            peer_seen: false,
            overrun: 0,
            buf: [0; BUF],
            head: 0,
            tail: 0,
        }
    }

    /// Back to free, with a new generation so that old handles are refused.
    fn clear(&mut self) {
        let generation = self.generation.wrapping_add(1);
        *self = Slot {
            generation,
            buf: self.buf,
            ..Slot::new()
        };
    }

    /// The module holds a connection for this slot.
    fn on_module(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Listening) && !self.reset && !self.deleted
    }

    fn buffered(&self) -> usize {
        self.tail - self.head
    }

    /// Appends bytes; what does not fit is counted as overrun.
    fn store(&mut self, data: &[u8], declared: usize) {
        if self.kind.is_udp() && self.buffered() > 0 {
            // One datagram at a time.
            self.overrun += declared.max(data.len());
            return;
        }
        if self.head > 0 {
            self.buf.copy_within(self.head..self.tail, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        let n = data.len().min(BUF - self.tail);
        self.buf[self.tail..self.tail + n].copy_from_slice(&data[..n]);
        self.tail += n;
        self.overrun += declared.max(data.len()) - n;
    }

    /// Hands out buffered bytes (a UDP datagram whole or cut).
    fn take(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buffered());
        out[..n].copy_from_slice(&self.buf[self.head..self.head + n]);
        if self.kind.is_udp() {
            self.head = 0;
            self.tail = 0;
        } else {
            self.head += n;
            if self.head == self.tail {
                self.head = 0;
                self.tail = 0;
            }
        }
        n
    }

    fn state(&self) -> SocketState {
        if self.reset {
            SocketState::Reset
        } else if self.closed {
            SocketState::Closed
        } else {
            match self.phase {
                Phase::Free | Phase::Unconnected => SocketState::Unconnected,
                Phase::Open => SocketState::Open,
                Phase::Listening => SocketState::Listening,
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PendingAccept {
    seed: ConId,
    server: ConId,
    pending: u16,
    bytes: usize,
    lost: usize,
}

// ---------------------------------------------------------------------------------------
// The set
// ---------------------------------------------------------------------------------------

/// Up to `N` sockets over one Combo-AT module, each with a `BUF`-byte receive buffer, and
/// a `STASH`-byte store for the events that are not theirs (see the [module docs](self)).
///
/// The set does not own or borrow the client: every call takes `&mut Client` (always the
/// same one), so the client keeps serving other commands between calls, and the set can
/// live in a `static`. [`Net`] joins both for embedded-nal.
///
/// Defaults: 4 sockets, 1024-byte buffers (a whole packet), 512 bytes of event store:
/// about 4.8 KiB.
pub struct SocketSet<const N: usize = 4, const BUF: usize = 1024, const STASH: usize = 512> {
    slots: [Slot<BUF>; N],
    accepts: heapless::Vec<PendingAccept, MAX_PENDING_ACCEPTS>,
    to_delete: heapless::Vec<ConId, MAX_PENDING_ACCEPTS>,
    deleted: [Option<ConId>; DELETED_MEMORY],
    deleted_next: usize,
    stash: EventQueue<STASH>,
    dropped: u32,
    creating: bool,
    created: Option<ConId>,
    wifi: WifiState,
}

impl<const N: usize, const BUF: usize, const STASH: usize> Default for SocketSet<N, BUF, STASH> {
    fn default() -> Self {
        Self::new()
    }
}

fn host_of(addr: &SocketAddr, out: &mut [u8; 15]) -> Result<usize, NetError> {
    match addr.ip() {
        IpAddr::V4(a) => Ok(write_ipv4(out, a)),
        IpAddr::V6(_) => Err(NetError::Unsupported {
            what: "IPv6 addresses",
        }),
    }
}

fn remote_of(host: &str, port: u16) -> Option<SocketAddr> {
    host.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, port))
}

impl<const N: usize, const BUF: usize, const STASH: usize> SocketSet<N, BUF, STASH> {
    /// An empty set.
    pub const fn new() -> Self {
        const { assert!(N <= 255, "at most 255 sockets") };
        SocketSet {
            slots: [const { Slot::new() }; N],
            accepts: heapless::Vec::new(),
            to_delete: heapless::Vec::new(),
            deleted: [None; DELETED_MEMORY],
            deleted_next: 0,
            stash: EventQueue::new(),
            dropped: 0,
            creating: false,
            created: None,
            wifi: WifiState::Unknown,
        }
    }

    /// Sets the module's receive mode (`AT+SOCKETRECVCFG`; [`ReceiveMode::Passive`] is
    /// the default and what the set is built for).
    ///
    /// Errors: [`NetError::At`] with [`Error::Unsupported`] outside Combo-AT, or the
    /// command's error.
    pub fn init<A: AtClient>(&mut self, client: &mut A, mode: ReceiveMode) -> Result<(), NetError> {
        let cmd = SocketRecvCfg::new(client.dialect(), mode)?;
        self.pump(client)?;
        let r = client.send(&cmd);
        self.recover(client.last_reply(), None);
        r.map(|_| ()).map_err(|e| self.fail(e))
    }

    // -----------------------------------------------------------------------------------
    // Opening
    // -----------------------------------------------------------------------------------

    /// Allocates an unconnected socket (embedded-nal's `socket()`); [`SocketSet::connect`],
    /// [`SocketSet::bind`] + [`SocketSet::listen`] give it a connection.
    pub fn open(&mut self) -> Result<SocketHandle, NetError> {
        let i = self
            .slots
            .iter()
            .position(|s| s.phase == Phase::Free)
            .ok_or(NetError::NoFreeSocket)?;
        let s = &mut self.slots[i];
        s.phase = Phase::Unconnected;
        Ok(SocketHandle {
            index: i as u8,
            generation: s.generation,
        })
    }

    /// Connects the unconnected socket `socket` as a client of `kind`
    /// ([`SocketKind::Tcp`], [`SocketKind::Udp`] or [`SocketKind::Tls`]) to `host`:`port`
    /// (`AT+SOCKET=4|2|7,<host>,<port>`); the module resolves a domain name itself.
    ///
    /// Errors: [`NetError::AlreadyConnected`], [`NetError::Unsupported`] for other kinds,
    /// [`NetError::At`] (a bad host, the module refused, timed out …), [`NetError::Reset`].
    pub fn connect<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
        kind: SocketKind,
        host: &str,
        port: u16,
    ) -> Result<(), NetError> {
        let t = match kind {
            SocketKind::Tcp => SocketType::TcpClient,
            SocketKind::Udp => SocketType::UdpClient,
            SocketKind::Tls => SocketType::SslClient,
            _ => {
                return Err(NetError::Unsupported {
                    what: "connect needs a TCP, UDP or TLS client",
                })
            }
        };
        let i = self.check(socket)?;
        if self.slots[i].phase != Phase::Unconnected {
            return Err(NetError::AlreadyConnected);
        }
        let con_id = self.create(client, t, Some(host), port)?;
        let s = &mut self.slots[i];
        s.phase = Phase::Open;
        s.kind = kind;
        s.con_id = con_id;
        s.remote = remote_of(host, port);
        Ok(())
    }

    /// Opens a socket and connects it ([`SocketSet::connect`]); the slot is freed again
    /// when the connection fails.
    pub fn connect_new<A: AtClient>(
        &mut self,
        client: &mut A,
        kind: SocketKind,
        host: &str,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        let h = self.open()?;
        match self.connect(client, h, kind, host, port) {
            Ok(()) => Ok(h),
            Err(e) => {
                self.slots[h.index()].clear();
                Err(e)
            }
        }
    }

    /// A TCP client connected to `host`:`port`.
    pub fn connect_tcp<A: AtClient>(
        &mut self,
        client: &mut A,
        host: &str,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        self.connect_new(client, SocketKind::Tcp, host, port)
    }

    /// A UDP client sending to `host`:`port`.
    pub fn connect_udp<A: AtClient>(
        &mut self,
        client: &mut A,
        host: &str,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        self.connect_new(client, SocketKind::Udp, host, port)
    }

    /// A TLS client connected to `host`:`port` (certificates set with
    /// [`SslCert`](crate::command::socket::SslCert)).
    pub fn connect_tls<A: AtClient>(
        &mut self,
        client: &mut A,
        host: &str,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        self.connect_new(client, SocketKind::Tls, host, port)
    }

    /// Sets the local port of an unconnected socket, for [`SocketSet::listen`].
    pub fn bind(&mut self, socket: SocketHandle, port: u16) -> Result<(), NetError> {
        let i = self.check(socket)?;
        let s = &mut self.slots[i];
        if s.phase != Phase::Unconnected {
            return Err(NetError::AlreadyConnected);
        }
        s.local_port = port;
        Ok(())
    }

    /// Makes the bound socket a TCP server on its port (`AT+SOCKET=3,<port>`).
    ///
    /// Errors: [`NetError::NotListening`] when it was not bound, [`NetError::At`],
    /// [`NetError::Reset`].
    pub fn listen<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
    ) -> Result<(), NetError> {
        self.start_server(client, socket, SocketKind::TcpServer)
    }

    fn start_server<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
        kind: SocketKind,
    ) -> Result<(), NetError> {
        let i = self.check(socket)?;
        let s = &self.slots[i];
        if s.phase != Phase::Unconnected {
            return Err(NetError::AlreadyConnected);
        }
        if s.local_port == 0 {
            return Err(NetError::NotListening);
        }
        let port = s.local_port;
        let t = if kind == SocketKind::TcpServer {
            SocketType::TcpServer
        } else {
            SocketType::UdpServer
        };
        let con_id = self.create(client, t, None, port)?;
        let s = &mut self.slots[i];
        s.phase = if kind == SocketKind::TcpServer {
            Phase::Listening
        } else {
            Phase::Open
        };
        s.kind = kind;
        s.con_id = con_id;
        Ok(())
    }

    fn new_server<A: AtClient>(
        &mut self,
        client: &mut A,
        port: u16,
        kind: SocketKind,
    ) -> Result<SocketHandle, NetError> {
        let h = self.open()?;
        let r = self
            .bind(h, port)
            .and_then(|()| self.start_server(client, h, kind));
        match r {
            Ok(()) => Ok(h),
            Err(e) => {
                self.slots[h.index()].clear();
                Err(e)
            }
        }
    }

    /// A TCP server listening on `port`; take its connections with
    /// [`SocketSet::accept`].
    pub fn listen_tcp<A: AtClient>(
        &mut self,
        client: &mut A,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        self.new_server(client, port, SocketKind::TcpServer)
    }

    /// A UDP server on `port` (`AT+SOCKET=1,<port>`). It receives from anyone and sends
    /// to the first peer that sent to it.
    pub fn listen_udp<A: AtClient>(
        &mut self,
        client: &mut A,
        port: u16,
    ) -> Result<SocketHandle, NetError> {
        self.new_server(client, port, SocketKind::UdpServer)
    }

    /// Takes a connection a client made to the TCP server `server`
    /// (`+EVENT:SocketSeed,<seed>,<server>`) and returns it with the peer's address (read
    /// with `AT+SOCKET?`; 0.0.0.0:0 when the module did not tell).
    ///
    /// Errors: `WouldBlock` when none waits; [`NetError::NotListening`],
    /// [`NetError::NoFreeSocket`] (the connection keeps waiting), [`NetError::Closed`] /
    /// [`NetError::Reset`] for a server that is gone.
    pub fn accept<A: AtClient>(
        &mut self,
        client: &mut A,
        server: SocketHandle,
    ) -> nb::Result<(SocketHandle, SocketAddr), NetError> {
        self.pump(client)?;
        let si = self.check(server)?;
        let s = &self.slots[si];
        if s.reset {
            return Err(NetError::Reset.into());
        }
        if s.phase != Phase::Listening {
            return Err(NetError::NotListening.into());
        }
        let server_id = s.con_id;
        let Some(pos) = self.accepts.iter().position(|p| p.server == server_id) else {
            if s.closed {
                return Err(NetError::Closed.into());
            }
            return Err(nb::Error::WouldBlock);
        };
        let free = self
            .slots
            .iter()
            .position(|s| s.phase == Phase::Free)
            .ok_or(NetError::NoFreeSocket)?;
        let p = self.accepts.remove(pos);
        let mut addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        let query = SocketQuery::new(client.dialect()).map_err(NetError::At)?;
        match client.send(&query) {
            Ok(_) => {
                if let Some(a) = socket_rows(client.last_reply())
                    .find(|r| r.con_id == p.seed)
                    .and_then(|r| r.remote_addr())
                {
                    addr = a;
                }
                self.recover(client.last_reply(), None);
            }
            Err(Error::Reset) => return Err(self.fail(Error::Reset).into()),
            // The address stays unknown; the connection is there.
            Err(_) => {}
        }
        let s = &mut self.slots[free];
        s.phase = Phase::Open;
        s.kind = SocketKind::Accepted;
        s.con_id = p.seed;
        s.remote = Some(addr);
        s.pending = p.pending;
        s.pending_bytes = p.bytes;
        s.overrun = p.lost;
        Ok((
            SocketHandle {
                index: free as u8,
                generation: s.generation,
            },
            addr,
        ))
    }

    // -----------------------------------------------------------------------------------
    // Data
    // -----------------------------------------------------------------------------------

    /// Sends `data`: in `AT+SOCKETSEND` commands of at most [`SEND_PACKET_MAX`] bytes
    /// each, any bytes. Returns how many bytes the module took: all of them, or — when a
    /// later command failed — those of the commands before it (the error then comes with
    /// the next call). A UDP datagram goes in one command.
    ///
    /// Errors: [`NetError::Closed`], [`NetError::Reset`], [`NetError::NotConnected`],
    /// [`NetError::ServerCannotSend`], [`NetError::NoPeerYet`],
    /// [`NetError::DatagramTooLarge`], [`NetError::At`].
    pub fn send<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
        data: &[u8],
    ) -> Result<usize, NetError> {
        self.pump(client)?;
        let i = self.check(socket)?;
        let s = &self.slots[i];
        if s.reset {
            return Err(NetError::Reset);
        }
        match s.phase {
            Phase::Free | Phase::Unconnected => return Err(NetError::NotConnected),
            Phase::Listening => return Err(NetError::ServerCannotSend),
            Phase::Open => {}
        }
        if s.closed {
            return Err(NetError::Closed);
        }
        if s.kind == SocketKind::UdpServer && !s.peer_seen {
            return Err(NetError::NoPeerYet);
        }
        if s.kind.is_udp() && data.len() > SEND_PACKET_MAX {
            return Err(NetError::DatagramTooLarge { len: data.len() });
        }
        let con_id = s.con_id;
        let d = client.dialect();
        let mut sent = 0;
        for chunk in data.chunks(SEND_PACKET_MAX) {
            let cmd = SocketSend::new(d, con_id, chunk.len())?;
            let r = client.send_with_data(&cmd, chunk);
            self.recover(client.last_reply(), None);
            match r {
                Ok(_) => sent += chunk.len(),
                Err(e) => {
                    let e = self.fail(e);
                    return if sent > 0 { Ok(sent) } else { Err(e) };
                }
            }
        }
        Ok(sent)
    }

    /// Receives into `buf`: the rest of the last packet first, else the next packet the
    /// module holds (`AT+SOCKETREAD`). Never waits for the peer.
    ///
    /// Errors: `WouldBlock` when nothing is there; [`NetError::Closed`] once the data of a
    /// closed connection is all handed out; [`NetError::Reset`]; [`NetError::Overrun`]
    /// (once) when bytes were lost; [`NetError::ServerCannotSend`] on a TCP server;
    /// [`NetError::NotConnected`]; [`NetError::At`].
    pub fn receive<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
        buf: &mut [u8],
    ) -> nb::Result<usize, NetError> {
        self.pump(client)?;
        let i = self.check(socket)?;
        let s = &mut self.slots[i];
        if s.reset {
            return Err(NetError::Reset.into());
        }
        match s.phase {
            Phase::Free | Phase::Unconnected => return Err(NetError::NotConnected.into()),
            Phase::Listening => return Err(NetError::ServerCannotSend.into()),
            Phase::Open => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if s.buffered() > 0 {
            return Ok(s.take(buf));
        }
        if s.overrun > 0 {
            let lost = core::mem::take(&mut s.overrun);
            return Err(NetError::Overrun { lost }.into());
        }
        if s.on_module() && (s.pending > 0 || s.probe) {
            if let Some(n) = self.read_packet(client, i, buf)? {
                return Ok(n);
            }
        }
        let s = &mut self.slots[i];
        if s.overrun > 0 {
            let lost = core::mem::take(&mut s.overrun);
            return Err(NetError::Overrun { lost }.into());
        }
        if s.reset {
            return Err(NetError::Reset.into());
        }
        if s.closed {
            return Err(NetError::Closed.into());
        }
        Err(nb::Error::WouldBlock)
    }

    /// Reads one packet for slot `i` into `buf` (the rest into the slot's buffer);
    /// `None` when the module had none.
    fn read_packet<A: AtClient>(
        &mut self,
        client: &mut A,
        i: usize,
        buf: &mut [u8],
    ) -> Result<Option<usize>, NetError> {
        let s = &mut self.slots[i];
        // Asking because a notice may be lost (or none came): keep asking until the
        // module has nothing more.
        let probing = s.probe || s.pending == 0;
        s.probe = false;
        let cmd = SocketRead::new(client.dialect(), s.con_id)?;
        let r = client.send(&cmd);
        let packet = match r {
            Ok(p) => p,
            Err(Error::ResponseOverflow { capacity }) => {
                // The packet did not fit the client's reply buffer: it is lost. The reply
                // kept its header, which says how long it was.
                let reply = client.last_reply();
                let header = ReadPacket::from_reply(reply)
                    .ok()
                    .filter(|p| p.con_id.is_some());
                let lost = header.map_or(capacity, |p| p.len);
                self.recover(reply, header.map(|p| p.start..reply.len()));
                let s = &mut self.slots[i];
                s.pending = s.pending.saturating_sub(1);
                s.pending_bytes = s.pending_bytes.saturating_sub(lost);
                s.probe = probing;
                s.overrun += lost;
                return Ok(None);
            }
            Err(Error::Module { .. }) if probing => {
                self.recover(client.last_reply(), None);
                return Ok(None);
            }
            Err(e) => {
                self.recover(client.last_reply(), None);
                return Err(self.fail(e));
            }
        };
        let reply = client.last_reply();
        let data = packet.data(reply);
        let range: Range<usize> = packet.range();
        let s = &mut self.slots[i];
        let n = if packet.con_id.is_none() || packet.is_empty() {
            s.pending = 0;
            s.pending_bytes = 0;
            None
        } else {
            // A packet found by asking: there may be more whose notices were missed too.
            s.probe = probing;
            s.pending = s.pending.saturating_sub(1);
            s.pending_bytes = s.pending_bytes.saturating_sub(packet.len);
            if s.pending_bytes > 0 && s.pending == 0 {
                s.pending = 1;
            }
            if s.pending == 0 {
                s.pending_bytes = 0;
            }
            let n = buf.len().min(data.len());
            buf[..n].copy_from_slice(&data[..n]);
            if !s.kind.is_udp() {
                s.store(&data[n..], data.len() - n);
            }
            s.overrun += packet.len - packet.received;
            Some(n)
        };
        self.recover(reply, Some(range));
        Ok(n)
    }

    /// Like [`SocketSet::receive`], waiting up to `timeout_ms` for data (or for the
    /// connection to end). [`NetError::At`] with [`Error::Timeout`] when nothing came.
    pub fn receive_timeout<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
        buf: &mut [u8],
        timeout_ms: u32,
    ) -> Result<usize, NetError> {
        let deadline = client.now_ms().saturating_add(u64::from(timeout_ms));
        loop {
            match self.receive(client, socket, buf) {
                Ok(n) => return Ok(n),
                Err(nb::Error::Other(e)) => return Err(e),
                Err(nb::Error::WouldBlock) => {}
            }
            let now = client.now_ms();
            if now >= deadline {
                return Err(NetError::At(Error::Timeout { ms: timeout_ms }));
            }
            let left = u32::try_from(deadline - now).unwrap_or(u32::MAX);
            match client.wait_event(left) {
                Ok(Some(ev)) => self.absorb(ev),
                Ok(None) => {}
                Err(e) => return Err(NetError::At(e)),
            }
        }
    }

    /// Closes a socket: deletes the module's connection (`AT+SOCKETDEL`) unless the module
    /// did already or lost it in a reboot, and frees the slot — always, even when the
    /// command fails (the error then says the module may still hold the connection).
    /// Closing a server also refuses the connections waiting for [`SocketSet::accept`].
    pub fn close<A: AtClient>(
        &mut self,
        client: &mut A,
        socket: SocketHandle,
    ) -> Result<(), NetError> {
        let i = self.check(socket)?;
        let pumped = self.pump(client);
        let s = &self.slots[i];
        let delete = s.on_module().then_some(s.con_id);
        if s.phase == Phase::Listening {
            let server = s.con_id;
            let mut k = 0;
            while k < self.accepts.len() {
                if self.accepts[k].server == server {
                    let p = self.accepts.remove(k);
                    let _ = self.to_delete.push(p.seed);
                } else {
                    k += 1;
                }
            }
        }
        self.slots[i].clear();
        pumped?;
        if let Some(id) = delete {
            self.remember_deleted(id);
            let cmd = SocketDel::new(client.dialect(), id)?;
            let r = client.send(&cmd);
            self.recover(client.last_reply(), None);
            match r {
                Ok(_) => {}
                // The module lost it anyway.
                Err(Error::Reset) => self.reset_all(),
                Err(e) => return Err(NetError::At(e)),
            }
        }
        self.cleanup(client)
    }

    /// Enters transparent mode on `socket`: the module must hold exactly that one
    /// connection (a client, a UDP client or server, or a server's one accepted
    /// connection with its server) — "one transparent link at a time". `udp_mode` applies
    /// to a UDP server only. See [`Transparent`] for the link, and
    /// [`enter_transparent`](crate::command::socket::enter_transparent).
    ///
    /// Errors: [`NetError::TransparentUnavailable`], the socket's state errors,
    /// [`NetError::At`].
    pub fn transparent<
        'c,
        U,
        C,
        const RX: usize,
        const RESP: usize,
        const TX: usize,
        const EV: usize,
    >(
        &mut self,
        client: &'c mut Client<U, C, RX, RESP, TX, EV>,
        socket: SocketHandle,
        udp_mode: Option<UdpTtMode>,
    ) -> Result<Transparent<'c, U, C, RX, RESP, TX, EV>, NetError>
    where
        U: Read + ReadReady + Write,
        C: Clock,
    {
        self.pump(client)?;
        let i = self.check(socket)?;
        let s = &self.slots[i];
        if s.reset {
            return Err(NetError::Reset);
        }
        if s.closed {
            return Err(NetError::Closed);
        }
        if s.phase == Phase::Unconnected {
            return Err(NetError::NotConnected);
        }
        let con_id = s.con_id;
        let query = SocketQuery::new(client.dialect())?;
        let r = client.send(&query);
        self.recover(client.last_reply(), None);
        r.map_err(|e| self.fail(e))?;
        let reply = client.last_reply();
        if !socket_rows(reply).any(|r| r.con_id == con_id)
            || check_transparent(socket_rows(reply), udp_mode).is_err()
        {
            return Err(NetError::TransparentUnavailable);
        }
        match open_transparent(client, udp_mode) {
            Ok(t) => Ok(t),
            Err(e) => Err(self.fail(e)),
        }
    }

    // -----------------------------------------------------------------------------------
    // State
    // -----------------------------------------------------------------------------------

    /// The state of `socket`.
    pub fn state(&self, socket: SocketHandle) -> Result<SocketState, NetError> {
        Ok(self.slots[self.check(socket)?].state())
    }

    /// What `socket` is.
    pub fn kind(&self, socket: SocketHandle) -> Result<SocketKind, NetError> {
        Ok(self.slots[self.check(socket)?].kind)
    }

    /// The module's ConID of `socket` (`None` before it is connected).
    pub fn con_id(&self, socket: SocketHandle) -> Result<Option<ConId>, NetError> {
        let s = &self.slots[self.check(socket)?];
        Ok(matches!(s.phase, Phase::Open | Phase::Listening).then_some(s.con_id))
    }

    /// The peer's address (when the host was an IP address, or for an accepted connection).
    pub fn peer(&self, socket: SocketHandle) -> Result<Option<SocketAddr>, NetError> {
        Ok(self.slots[self.check(socket)?].remote)
    }

    /// Bytes that can be received without waiting: buffered, plus announced by the module.
    pub fn available(&self, socket: SocketHandle) -> Result<usize, NetError> {
        let s = &self.slots[self.check(socket)?];
        Ok(s.buffered() + s.pending_bytes)
    }

    /// True when the module reconnected this client by itself after the peer closed
    /// (`+EVENT:SocketReconnect`). The socket still reports [`NetError::Closed`]: the byte
    /// stream was broken; close it and connect again.
    pub fn reconnected(&self, socket: SocketHandle) -> Result<bool, NetError> {
        Ok(self.slots[self.check(socket)?].reconnected)
    }

    /// What the set has seen of Wi-Fi.
    pub fn wifi(&self) -> WifiState {
        self.wifi
    }

    // -----------------------------------------------------------------------------------
    // Events
    // -----------------------------------------------------------------------------------

    /// Reads the UART and the client's queue: socket events update the sockets, the others
    /// are stored for [`SocketSet::next_event`].
    pub fn poll<A: AtClient>(&mut self, client: &mut A) -> Result<(), NetError> {
        self.pump(client)
    }

    /// [`SocketSet::poll`], then the next stored event that is not the sockets' own.
    pub fn poll_event<A: AtClient>(
        &mut self,
        client: &mut A,
    ) -> Result<Option<Event<'_>>, NetError> {
        self.pump(client)?;
        Ok(self.next_event())
    }

    /// The next stored event (oldest first), without reading the UART; an
    /// [`Event::Overflow`] first when events were dropped. The event borrows the set until
    /// the next call.
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        let mut dropped = core::mem::take(&mut self.dropped);
        if self.stash.len() == 0 {
            dropped = dropped.saturating_add(self.stash.take_dropped());
        }
        if dropped > 0 {
            return Some(Event::Overflow { dropped });
        }
        Some(match self.stash.pop()? {
            Stored::Overflow(dropped) => Event::Overflow { dropped },
            Stored::Line(l) => Event::Urc(Urc::parse_line(l)),
            Stored::Data(d) => Event::Urc(Urc::parse_data(d)),
            Stored::Ready => Event::Reset,
            Stored::Oversized { start, len } => Event::Oversized { start, len },
        })
    }

    // -----------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------

    fn check(&self, h: SocketHandle) -> Result<usize, NetError> {
        match self.slots.get(h.index()) {
            Some(s) if s.generation == h.generation && s.phase != Phase::Free => Ok(h.index()),
            _ => Err(NetError::InvalidHandle),
        }
    }

    /// The slot holding the module's connection `id`.
    fn find(&self, id: ConId) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.on_module() && s.con_id == id)
    }

    fn owns(&self, id: ConId) -> bool {
        self.find(id).is_some() || self.accepts.iter().any(|p| p.seed == id)
    }

    /// Converts a client error, marking every socket when the module rebooted.
    fn fail(&mut self, e: Error) -> NetError {
        if e == Error::Reset {
            self.reset_all();
        }
        NetError::from(e)
    }

    fn reset_all(&mut self) {
        for s in &mut self.slots {
            if matches!(s.phase, Phase::Open | Phase::Listening) {
                s.reset = true;
                s.pending = 0;
                s.pending_bytes = 0;
                s.probe = false;
                s.head = 0;
                s.tail = 0;
            }
        }
        self.accepts.clear();
        self.to_delete.clear();
        self.deleted = [None; DELETED_MEMORY];
        self.wifi = WifiState::Disconnected;
    }

    fn probe_all(&mut self) {
        for s in &mut self.slots {
            if s.on_module() && s.phase == Phase::Open {
                s.probe = true;
            }
        }
    }

    fn remember_deleted(&mut self, id: ConId) {
        self.deleted[self.deleted_next] = Some(id);
        self.deleted_next = (self.deleted_next + 1) % DELETED_MEMORY;
    }

    /// Creates a module socket and returns its ConID.
    fn create<A: AtClient>(
        &mut self,
        client: &mut A,
        kind: SocketType,
        host: Option<&str>,
        port: u16,
    ) -> Result<ConId, NetError> {
        let d = client.dialect();
        combo_only(d)?;
        let cmd = CreateSocket::new(d, kind, host, port)?;
        self.pump(client)?;
        let r = client.send(&cmd);
        self.recover(client.last_reply(), None);
        let created = r.map_err(|e| self.fail(e))?;
        if let Some(id) = created.con_id {
            return Ok(id);
        }
        // `connect success ConID=<n>` may have been queued as an event.
        self.creating = true;
        self.created = None;
        let pumped = self.pump(client);
        self.creating = false;
        pumped?;
        if let Some(id) = self.created.take() {
            return Ok(id);
        }
        // `OK` alone, as the document's syntax shows: ask the module.
        let r = client.send(&SocketQuery::new(d)?);
        self.recover(client.last_reply(), None);
        r.map_err(|e| self.fail(e))?;
        socket_rows(client.last_reply())
            .filter(|r| {
                r.kind == kind
                    && !self.owns(r.con_id)
                    && if kind.is_client() {
                        r.remote_port == Some(port)
                    } else {
                        r.local_port == Some(port)
                    }
            })
            .map(|r| r.con_id)
            .max()
            .ok_or(NetError::At(Error::Parse))
    }

    /// Reads the client's queue to its end.
    fn pump<A: AtClient>(&mut self, client: &mut A) -> Result<(), NetError> {
        loop {
            match client.poll() {
                Ok(Some(ev)) => self.absorb(ev),
                Ok(None) => break,
                Err(e) => return Err(NetError::At(e)),
            }
        }
        self.cleanup(client)
    }

    /// Deletes the connections the set refused (seeds nobody will accept).
    fn cleanup<A: AtClient>(&mut self, client: &mut A) -> Result<(), NetError> {
        while let Some(id) = self.to_delete.pop() {
            self.remember_deleted(id);
            let cmd = SocketDel::new(client.dialect(), id)?;
            let r = client.send(&cmd);
            self.recover(client.last_reply(), None);
            match r {
                Ok(_) | Err(Error::Module { .. }) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    /// Handles one event from the client's queue.
    fn absorb(&mut self, ev: Event<'_>) {
        match ev {
            Event::Reset => {
                self.reset_all();
                self.keep(&Frame::Ready);
            }
            Event::Overflow { dropped } => {
                self.dropped = self.dropped.saturating_add(dropped);
                self.probe_all();
            }
            Event::Oversized { start, len } => {
                self.probe_all();
                self.keep(&Frame::Oversized { start, len });
            }
            Event::Urc(urc) => {
                if let Some(se) = SocketEvent::from_urc(&urc) {
                    if self.apply(se) {
                        return;
                    }
                }
                // A receive notice glued to garbage (`…\xe1T+EVENT:SocketDown,1,300`) is
                // not typed: the notice may be lost, so every open socket asks the module.
                if let Urc::Line(line) = urc {
                    if contains(line, b"+EVENT:SocketDown,") {
                        self.probe_all();
                    }
                }
                self.note_wifi(&urc);
                self.keep_urc(&urc);
            }
        }
    }

    /// Handles the `+EVENT:` lines the client folded into a command's reply.
    fn recover(&mut self, reply: &[u8], skip: Option<Range<usize>>) {
        // A receive notice glued to garbage is folded into the reply untyped: the notice
        // may be lost, so every open socket asks the module.
        let (before, after) = match &skip {
            Some(r) => (
                &reply[..r.start.min(reply.len())],
                &reply[r.end.min(reply.len())..],
            ),
            None => (reply, &reply[reply.len()..]),
        };
        if contains(before, b"+EVENT:SocketDown,") || contains(after, b"+EVENT:SocketDown,") {
            self.probe_all();
        }
        for line in reply_events(reply, skip) {
            if let Some(se) = SocketEvent::parse_line(line) {
                if self.apply(se) {
                    continue;
                }
            }
            self.note_wifi(&Urc::parse_line(line));
            self.keep(&Frame::Line(line));
        }
    }

    fn note_wifi(&mut self, urc: &Urc<'_>) {
        match urc {
            Urc::WifiConnected => self.wifi = WifiState::Connected,
            Urc::WifiGotIp => self.wifi = WifiState::GotIp,
            Urc::WifiDisconnected => self.wifi = WifiState::Disconnected,
            _ => {}
        }
    }

    /// Applies a socket event; false when it is not about the set's sockets.
    fn apply(&mut self, ev: SocketEvent<'_>) -> bool {
        match ev {
            SocketEvent::Created { con_id } => {
                if self.creating && self.created.is_none() {
                    self.created = Some(con_id);
                    true
                } else {
                    false
                }
            }
            SocketEvent::DataAvailable { con_id, len } => {
                if let Some(i) = self.find(con_id) {
                    let s = &mut self.slots[i];
                    s.pending = s.pending.saturating_add(1);
                    s.pending_bytes = s.pending_bytes.saturating_add(len);
                    s.peer_seen = true;
                    true
                } else if let Some(p) = self.accepts.iter_mut().find(|p| p.seed == con_id) {
                    p.pending = p.pending.saturating_add(1);
                    p.bytes = p.bytes.saturating_add(len);
                    true
                } else {
                    false
                }
            }
            SocketEvent::Data {
                con_id, data, len, ..
            } => {
                if let Some(i) = self.find(con_id) {
                    let s = &mut self.slots[i];
                    s.peer_seen = true;
                    s.store(data, len);
                    true
                } else if let Some(p) = self.accepts.iter_mut().find(|p| p.seed == con_id) {
                    p.lost = p.lost.saturating_add(len.max(data.len()));
                    true
                } else {
                    false
                }
            }
            SocketEvent::Closed { con_id } => {
                if let Some(i) = self.find(con_id) {
                    self.slots[i].closed = true;
                    true
                } else if let Some(pos) = self.accepts.iter().position(|p| p.seed == con_id) {
                    // Never accepted: the module keeps a closed seed until it is deleted.
                    let p = self.accepts.remove(pos);
                    let _ = self.to_delete.push(p.seed);
                    true
                } else {
                    self.deleted.contains(&Some(con_id))
                }
            }
            SocketEvent::Seed { seed, server } => {
                let ours = self
                    .slots
                    .iter()
                    .any(|s| s.on_module() && s.phase == Phase::Listening && s.con_id == server);
                if !ours {
                    return false;
                }
                let p = PendingAccept {
                    seed,
                    server,
                    pending: 0,
                    bytes: 0,
                    lost: 0,
                };
                if self.accepts.push(p).is_err() {
                    // Nobody can take it: refuse it.
                    let _ = self.to_delete.push(seed);
                }
                true
            }
            SocketEvent::Reconnected { con_id } => {
                if let Some(i) = self.find(con_id) {
                    self.slots[i].reconnected = true;
                    true
                } else {
                    false
                }
            }
            SocketEvent::AutoDeleted { con_id } => {
                if let Some(i) = self.find(con_id) {
                    let s = &mut self.slots[i];
                    s.closed = true;
                    s.deleted = true;
                    true
                } else if let Some(pos) = self.accepts.iter().position(|p| p.seed == con_id) {
                    self.accepts.remove(pos);
                    true
                } else {
                    self.deleted.contains(&Some(con_id))
                }
            }
        }
    }

    fn keep(&mut self, frame: &Frame<'_>) {
        // A failed push is counted by the store and reported as an overflow.
        let _ = self.stash.push(frame);
    }

    /// Stores an event that is not the sockets': as its line or data frame, re-typed when
    /// handed out.
    fn keep_urc(&mut self, urc: &Urc<'_>) {
        let mut l = LineBuf::new();
        let frame = match *urc {
            Urc::Line(line) => Frame::Line(line),
            Urc::Data(d) => Frame::Data(d),
            Urc::WifiConnected => Frame::Line(b"+EVENT:WIFI_CONNECT"),
            Urc::WifiGotIp => Frame::Line(b"+EVENT:WIFI_GOT_IP"),
            Urc::WifiDisconnected => Frame::Line(b"+EVENT:WIFI_DISCONNECT"),
            Urc::MqttConnected(i) => {
                l.put(b"+MQTTCONNECTED:")
                    .num(u32::from(i.link))
                    .put(b",")
                    .num(u32::from(i.scheme))
                    .put(b",\"")
                    .put(i.host)
                    .put(b"\",")
                    .num(u32::from(i.port))
                    .put(b",\"")
                    .put(i.path)
                    .put(b"\",")
                    .num(u32::from(i.reconnect));
                Frame::Line(l.get())
            }
            Urc::MqttDisconnected { link } => {
                l.put(b"+MQTTDISCONNECTED:").num(u32::from(link));
                Frame::Line(l.get())
            }
            Urc::MqttMessage(m) => {
                match m.link {
                    None => l.put(b"+EVENT:MQTT_SUB,").put(m.topic),
                    Some(link) => l
                        .put(b"+MQTTSUBRECV:")
                        .num(u32::from(link))
                        .put(b",\"")
                        .put(m.topic)
                        .put(b"\""),
                };
                l.put(b",").num(u32::try_from(m.len).unwrap_or(u32::MAX));
                Frame::Data(DataFrame {
                    header: l.get(),
                    len: m.len,
                    data: m.data,
                    truncated: m.truncated,
                })
            }
            Urc::MqttPublished { ok } => {
                Frame::Line(if ok { b"+MQTTPUB:OK" } else { b"+MQTTPUB:FAIL" })
            }
            Urc::MqttPublishError { code } => {
                l.put(b"+MQTTPUB:ERROR").code(code);
                Frame::Line(l.get())
            }
            Urc::MqttConnResult(r) => {
                l.put(b"+MQTTCONN:").result(r);
                Frame::Line(l.get())
            }
            Urc::MqttPubRawResult(r) => {
                l.put(b"+MQTTPUBRAW:").result(r);
                Frame::Line(l.get())
            }
            Urc::SocketConnected { link } => {
                l.num(u32::from(link)).put(b",CONNECT");
                Frame::Line(l.get())
            }
            Urc::SocketClosed { link } => {
                l.num(u32::from(link)).put(b",CLOSED");
                Frame::Line(l.get())
            }
            Urc::SocketDataAvailable { link, len } => {
                l.put(b"+EVENT:SocketDown,")
                    .num(u32::from(link))
                    .put(b",")
                    .num(u32::try_from(len).unwrap_or(u32::MAX));
                Frame::Line(l.get())
            }
            Urc::SocketData(d) => {
                match d.link {
                    Some(link) => l.put(b"+EVENT:SocketDown,").num(u32::from(link)),
                    None => l.put(b"+IPD"),
                };
                l.put(b",").num(u32::try_from(d.len).unwrap_or(u32::MAX));
                Frame::Data(DataFrame {
                    header: l.get(),
                    len: d.len,
                    data: d.data,
                    truncated: d.truncated,
                })
            }
        };
        if l.overflow {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let _ = self.stash.push(&frame);
    }
}

/// A small line builder for re-creating event lines.
struct LineBuf {
    buf: [u8; SCRATCH],
    len: usize,
    overflow: bool,
}

impl LineBuf {
    fn new() -> Self {
        LineBuf {
            buf: [0; SCRATCH],
            len: 0,
            overflow: false,
        }
    }

    fn put(&mut self, b: &[u8]) -> &mut Self {
        match self.buf.get_mut(self.len..self.len + b.len()) {
            Some(d) => {
                d.copy_from_slice(b);
                self.len += b.len();
            }
            None => self.overflow = true,
        }
        self
    }

    fn num(&mut self, n: u32) -> &mut Self {
        let mut d = [0u8; 10];
        let k = write_u32(&mut d, n);
        self.put(&d[..k])
    }

    fn code(&mut self, code: Option<i32>) -> &mut Self {
        if let Some(c) = code {
            self.put(if c < 0 { b",-" } else { b"," })
                .num(c.unsigned_abs());
        }
        self
    }

    fn result(&mut self, r: AsyncResult) -> &mut Self {
        match r {
            AsyncResult::Ok => self.put(b"OK"),
            AsyncResult::Error { code } => self.put(b"ERROR").code(code),
        }
    }

    fn get(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

// ---------------------------------------------------------------------------------------
// embedded-nal
// ---------------------------------------------------------------------------------------

/// A [`Client`] and a [`SocketSet`] together: an embedded-nal 0.9 stack
/// ([`TcpClientStack`], [`TcpFullStack`], [`UdpClientStack`], [`Dns`]).
///
/// Both are borrowed, so the set (and its sockets) outlives a `Net` made for a while. The
/// traits' calls never return `WouldBlock` for what the module does synchronously
/// (`connect`, `send`); `receive` and `accept` do when nothing is there. A UDP socket
/// connects to one peer (`AT+SOCKET=2`), so its `receive` reports that peer.
/// `get_host_by_name` resolves with `AT+WDOMAIN` (IPv4); `get_host_by_address` is
/// [`NetError::Unsupported`].
pub struct Net<'a, A, const N: usize, const BUF: usize, const STASH: usize> {
    client: &'a mut A,
    sockets: &'a mut SocketSet<N, BUF, STASH>,
}

impl<'a, A: AtClient, const N: usize, const BUF: usize, const STASH: usize>
    Net<'a, A, N, BUF, STASH>
{
    /// A stack over `client` and `sockets`.
    pub fn new(client: &'a mut A, sockets: &'a mut SocketSet<N, BUF, STASH>) -> Self {
        Net { client, sockets }
    }

    /// The client, for other commands.
    pub fn client(&mut self) -> &mut A {
        self.client
    }

    /// The socket set.
    pub fn sockets(&mut self) -> &mut SocketSet<N, BUF, STASH> {
        self.sockets
    }

    /// Connects an unconnected socket as a TLS client to `host`:`port` (embedded-nal has
    /// no TLS); then use it with the [`TcpClientStack`] calls.
    pub fn connect_tls(
        &mut self,
        socket: &mut SocketHandle,
        host: &str,
        port: u16,
    ) -> Result<(), NetError> {
        self.sockets
            .connect(self.client, *socket, SocketKind::Tls, host, port)
    }

    /// [`SocketSet::poll_event`]: the next event that is not the sockets'.
    pub fn poll_event(&mut self) -> Result<Option<Event<'_>>, NetError> {
        self.sockets.poll_event(self.client)
    }

    fn connect_addr(
        &mut self,
        socket: SocketHandle,
        kind: SocketKind,
        remote: SocketAddr,
    ) -> Result<(), NetError> {
        let i = self.sockets.check(socket)?;
        let s = &self.sockets.slots[i];
        if s.phase != Phase::Unconnected {
            // Connecting again to the same peer (nb-style retries) is fine.
            return if s.kind == kind && s.remote == Some(remote) && !s.reset {
                Ok(())
            } else {
                Err(NetError::AlreadyConnected)
            };
        }
        let mut host = [0u8; 15];
        let n = host_of(&remote, &mut host)?;
        let host = core::str::from_utf8(&host[..n]).unwrap_or("0.0.0.0");
        self.sockets
            .connect(self.client, socket, kind, host, remote.port())
    }
}

impl<A: AtClient, const N: usize, const BUF: usize, const STASH: usize> TcpClientStack
    for Net<'_, A, N, BUF, STASH>
{
    type TcpSocket = SocketHandle;
    type Error = NetError;

    fn socket(&mut self) -> Result<SocketHandle, NetError> {
        self.sockets.open()
    }

    fn connect(
        &mut self,
        socket: &mut SocketHandle,
        remote: SocketAddr,
    ) -> nb::Result<(), NetError> {
        self.connect_addr(*socket, SocketKind::Tcp, remote)
            .map_err(nb::Error::Other)
    }

    fn send(&mut self, socket: &mut SocketHandle, buffer: &[u8]) -> nb::Result<usize, NetError> {
        self.sockets
            .send(self.client, *socket, buffer)
            .map_err(nb::Error::Other)
    }

    fn receive(
        &mut self,
        socket: &mut SocketHandle,
        buffer: &mut [u8],
    ) -> nb::Result<usize, NetError> {
        self.sockets.receive(self.client, *socket, buffer)
    }

    fn close(&mut self, socket: SocketHandle) -> Result<(), NetError> {
        self.sockets.close(self.client, socket)
    }
}

impl<A: AtClient, const N: usize, const BUF: usize, const STASH: usize> TcpFullStack
    for Net<'_, A, N, BUF, STASH>
{
    fn bind(&mut self, socket: &mut SocketHandle, local_port: u16) -> Result<(), NetError> {
        self.sockets.bind(*socket, local_port)
    }

    fn listen(&mut self, socket: &mut SocketHandle) -> Result<(), NetError> {
        self.sockets.listen(self.client, *socket)
    }

    fn accept(
        &mut self,
        socket: &mut SocketHandle,
    ) -> nb::Result<(SocketHandle, SocketAddr), NetError> {
        self.sockets.accept(self.client, *socket)
    }
}

impl<A: AtClient, const N: usize, const BUF: usize, const STASH: usize> UdpClientStack
    for Net<'_, A, N, BUF, STASH>
{
    type UdpSocket = SocketHandle;
    type Error = NetError;

    fn socket(&mut self) -> Result<SocketHandle, NetError> {
        self.sockets.open()
    }

    fn connect(&mut self, socket: &mut SocketHandle, remote: SocketAddr) -> Result<(), NetError> {
        self.connect_addr(*socket, SocketKind::Udp, remote)
    }

    fn send(&mut self, socket: &mut SocketHandle, buffer: &[u8]) -> nb::Result<(), NetError> {
        self.sockets
            .send(self.client, *socket, buffer)
            .map(|_| ())
            .map_err(nb::Error::Other)
    }

    fn receive(
        &mut self,
        socket: &mut SocketHandle,
        buffer: &mut [u8],
    ) -> nb::Result<(usize, SocketAddr), NetError> {
        let n = self.sockets.receive(self.client, *socket, buffer)?;
        let remote = self
            .sockets
            .peer(*socket)?
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        Ok((n, remote))
    }

    fn close(&mut self, socket: SocketHandle) -> Result<(), NetError> {
        self.sockets.close(self.client, socket)
    }
}

impl<A: AtClient, const N: usize, const BUF: usize, const STASH: usize> Dns
    for Net<'_, A, N, BUF, STASH>
{
    type Error = NetError;

    fn get_host_by_name(
        &mut self,
        hostname: &str,
        addr_type: AddrType,
    ) -> nb::Result<IpAddr, NetError> {
        if let Ok(ip) = hostname.parse::<IpAddr>() {
            return Ok(ip);
        }
        if addr_type == AddrType::IPv6 {
            return Err(NetError::Unsupported {
                what: "IPv6 lookups (AT+WDOMAIN resolves IPv4)",
            }
            .into());
        }
        let cmd = Resolve::new(self.client.dialect(), hostname).map_err(NetError::At)?;
        self.sockets.pump(self.client)?;
        let r = self.client.send(&cmd);
        self.sockets.recover(self.client.last_reply(), None);
        let ip = r.map_err(|e| self.sockets.fail(e))?.ip;
        Ok(ip)
    }

    fn get_host_by_address(
        &mut self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> nb::Result<usize, NetError> {
        Err(NetError::Unsupported {
            what: "reverse DNS lookups",
        }
        .into())
    }
}

/// Does `haystack` hold `needle`?
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framer::Framer;

    /// Every URC the set may store comes back as the same typed value.
    #[test]
    fn stored_urcs_round_trip() {
        let lines: [&[u8]; 12] = [
            b"+EVENT:WIFI_CONNECT",
            b"+EVENT:WIFI_GOT_IP",
            b"+EVENT:WIFI_DISCONNECT",
            b"+MQTTCONNECTED:0,1,\"broker\",1883,\"/p\",1",
            b"+MQTTDISCONNECTED:0",
            b"+MQTTPUB:OK",
            b"+MQTTPUB:ERROR,-3",
            b"+MQTTCONN:ERROR,5",
            b"+MQTTPUBRAW:OK",
            b"3,CONNECT",
            b"3,CLOSED",
            b"+EVENT:SocketDown,9,12",
        ];
        for line in lines {
            let mut set: SocketSet<1, 16, 512> = SocketSet::new();
            let urc = Urc::parse_line(line);
            assert!(!matches!(urc, Urc::Line(_)), "{line:?}");
            set.keep_urc(&urc);
            match set.next_event() {
                Some(Event::Urc(u)) => assert_eq!(u, urc, "{line:?}"),
                other => panic!("{line:?}: {other:?}"),
            }
        }
        for (d, input) in [
            (
                crate::Dialect::AiThinker,
                &b"+EVENT:MQTT_SUB,a/b,3,x,y\r\n"[..],
            ),
            (crate::Dialect::AiThinker, b"+EVENT:SocketDown,4,2,hi\r\n"),
            (crate::Dialect::EspAt, b"+MQTTSUBRECV:0,\"t\",1,z\r\n"),
            (crate::Dialect::EspAt, b"+IPD,2:ok\r\n"),
        ] {
            let mut framer = Framer::<64>::new(d);
            let mut seen = false;
            let mut set: SocketSet<1, 16, 512> = SocketSet::new();
            let mut rest = input;
            while !rest.is_empty() {
                let (used, frame) = framer.feed(rest);
                rest = &rest[used..];
                if let Some(Frame::Data(d)) = frame {
                    let urc = Urc::parse_data(d);
                    set.keep_urc(&urc);
                    match set.next_event() {
                        Some(Event::Urc(u)) => assert_eq!(u, urc),
                        other => panic!("{other:?}"),
                    }
                    seen = true;
                }
            }
            assert!(seen, "{input:?}");
        }
    }
}
