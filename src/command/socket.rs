//! Ai-Thinker Combo-AT TCP/IP commands: sockets (`AT+SOCKET…`), certificates
//! (`AT+SSLCRET`), DNS (`AT+WDOMAIN`, `AT+WDNS`), transparent mode, and the socket URCs.
//!
//! One struct per command and form of the Combo-AT "TCP/IP AT command set". Every
//! constructor takes the [`Dialect`] ([`Error::Unsupported`] for any but
//! [`Dialect::AiThinker`]) and checks the documented limits and rules before anything is
//! written ([`Error::Invalid`] naming the parameter).
//!
//! | command | struct | reply |
//! |---|---|---|
//! | `AT+SOCKET=<type>[,<host>],<port>[,<keep alive>,<conID>]` | [`CreateSocket`] | `connect success ConID=<n>`, `OK` → [`Created`] |
//! | `AT+SOCKET?` | [`SocketQuery`] | `<ConID>,<type>,<status>,<host>,<rport>,<lport>,<server>` lines → [`SocketTable`], [`SocketRow`] |
//! | `AT+SOCKETSEND=<ConID>,<length>` + data after `>` | [`SocketSend`] | `OK` |
//! | `AT+SOCKETSENDLINE=<ConID>,<length>,<data>` | [`SocketSendLine`] | `OK` |
//! | `AT+SOCKETREAD=<ConID>` | [`SocketRead`] | `+SOCKETREAD,<id>,<len>,<data>`, `OK` → [`ReadPacket`] |
//! | `AT+SOCKETDEL=<ConID>` | [`SocketDel`] | `OK` |
//! | `AT+SOCKETRECVCFG=<mode>` | [`SocketRecvCfg`] | `OK` |
//! | `AT+SOCKETTT`, `AT+SOCKETTT=<mode>` | [`SocketTt`], [`enter_transparent`] → [`Transparent`] | `>` … `+++` … `OK` |
//! | `AT+SOCKETAUTOTT=<type>[,<host>],<port>` | [`SocketAutoTt`] | `OK` |
//! | `AT+SOCKETAUTOTT?` | [`SocketAutoTtQuery`] | `+SOCKETAUTOTT:<type>,<host>,<port>` → [`AutoTtConfig`] |
//! | `AT+SSLCRET=<type>,<length>` + data after `>` | [`SslCert`] | `OK` |
//! | `AT+SSLCRET=<type>` | [`SslCertQuery`] | `+SSLCRET:<type>,<len>,<content>` → [`CertInfo`] |
//! | `AT+WDOMAIN=<name>` | [`Resolve`] | `+WDOMAIN:<IP>` → [`Resolved`] |
//! | `AT+WDNS?` | [`DnsQuery`] | `+WDNS:<ip1>,<ip2>` → [`DnsServers`] |
//! | `AT+WDNS=<ip1>[,<ip2>]` | [`SetDns`] | `+WDNS:<ip1>[,<ip2>]` → [`DnsServers`] |
//!
//! Unsolicited lines are typed by [`SocketEvent`]: `connect success ConID=<n>`,
//! `+EVENT:SocketDown,<id>,<len>` (passive receive) and `+EVENT:SocketDown,<id>,<len>,<data>`
//! (active), `+EVENT:SocketDissconnect,<id>` (the vendor's spelling; the
//! `SocketDisconnect` that real V4.18 firmware prints is accepted too),
//! `+EVENT:SocketSeed,<seed>,<server>`, `+EVENT:SocketReconnect,<id>`,
//! `+EVENT:SocketAutoDel,<id>`. The Wi-Fi events are [`Urc`] variants.
//!
//! Strings and hosts follow [`combo`](super::combo): hosts bare, as in every example of
//! the document (`AT+SOCKET=4,192.168.31.239,60000`); data quoted only when it must be.
//!
//! Commands whose data follows a `>` prompt ([`SocketSend`], [`SslCert`]) are sent with
//! [`Client::send_with_data`]; the others with [`Client::send`]. Replies that carry bytes
//! ([`ReadPacket`], [`CertInfo`]) point into [`Client::last_reply`], so nothing is copied:
//!
//! ```
//! use at_wifi::command::socket::{CreateSocket, SocketRead, SocketSend};
//! use at_wifi::{Client, Dialect};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+SOCKET=4,192.168.31.239,60000\r\n", b"connect success ConID=1\r\nOK\r\n");
//! # uart.expect(b"AT+SOCKETSEND=1,5\r\n", b">");
//! # uart.expect(b"hello", b"\r\nOK\r\n+EVENT:SocketDown,1,21\r\n");
//! # uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,21,Hello From TCP Server\r\nOK\r\n");
//! # let clock = uart.clock();
//! let d = Dialect::AiThinker;
//! let mut client: Client<_, _> = Client::new(uart, clock, d);
//! let id = client.send(&CreateSocket::tcp_client(d, "192.168.31.239", 60000)?)?.con_id.unwrap();
//! client.send_with_data(&SocketSend::new(d, id, 5)?, b"hello")?;
//! // … `+EVENT:SocketDown,1,21` arrives as an event …
//! let packet = client.send(&SocketRead::new(d, id)?)?;
//! assert_eq!(packet.data(client.last_reply()), b"Hello From TCP Server");
//! # Ok::<(), at_wifi::Error>(())
//! ```

use super::combo::{
    combo_only, lines, ok_reply, parse_ipv4, reply_line, write_u32, ComboText, HostName, Ip4,
};
use crate::client::Client;
use crate::clock::Clock;
use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::{Error, FailWord};
use crate::framer::{trim, Ascii, DataFrame};
use crate::parse::{number, params, unquote};
use crate::urc::Urc;
use atat::atat_derive::AtatCmd;
use atat::serde_at::serde::{Serialize, Serializer};
use atat::AtatCmd as _;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr};
use core::ops::Range;
use embedded_io::{Read, ReadReady, Write};

// ---------------------------------------------------------------------------------------
// Limits and timeouts
// ---------------------------------------------------------------------------------------

/// The module's packet size: "if the length exceeds the maximum length of a single
/// packet, the data will be subcontracted, by default, data will be subcontracted after
/// exceeding 1024 bytes" (`AT+SOCKETSEND`). [`SocketSend`] takes any length; the socket
/// layer ([`net`](crate::net)) sends at most this much per command, and refuses UDP
/// datagrams longer than this (the module would split them).
pub const SEND_PACKET_MAX: usize = 1024;
/// `<keep alive>` of `AT+SOCKET`: "0 indicates disabled, 1~7200 indicates detection
/// interval, unit: second (reserved function, not implemented for the time being)".
pub const KEEPALIVE_MAX_S: u16 = 7200;
/// Timeout of `AT+SOCKET=` (30 s): it returns once the connection is made (a TCP connect,
/// and for SSL the handshake too).
pub const CREATE_TIMEOUT_MS: u32 = 30_000;
/// Timeout of the result of `AT+SOCKETSEND` / `AT+SOCKETSENDLINE` (10 s).
pub const SEND_TIMEOUT_MS: u32 = 10_000;
/// Timeout of `AT+SOCKETREAD`, `AT+SOCKETDEL`, `AT+SOCKETRECVCFG`, `AT+SOCKETAUTOTT`,
/// `AT+WDNS` and every query (5 s).
pub const CONFIG_TIMEOUT_MS: u32 = 5_000;
/// Timeout of `AT+SSLCRET` (10 s: the module stores the certificate).
pub const CERT_TIMEOUT_MS: u32 = 10_000;
/// Timeout of `AT+WDOMAIN` (20 s: a DNS lookup with retries).
pub const DNS_TIMEOUT_MS: u32 = 20_000;
/// Default guard time around `+++` when leaving transparent mode (ms): the module takes
/// `+++` as the exit sequence only when the line was quiet before and after it. The
/// document gives no number; 1 s is ESP-AT's documented wait after `+++`.
pub const TT_GUARD_MS: u32 = 1000;
/// How long [`Transparent::exit`] waits for the `OK` after the guard time (ms).
pub const TT_EXIT_TIMEOUT_MS: u32 = 2000;

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/// `<type>` of `AT+SOCKET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum SocketType {
    /// 1: UDPServer.
    UdpServer = 1,
    /// 2: UDPClient.
    UdpClient = 2,
    /// 3: TCPServer.
    TcpServer = 3,
    /// 4: TCPClient.
    TcpClient = 4,
    /// 5: TCPSeed: "generated when the client connects to the module tcp server and
    /// cannot be created actively".
    TcpSeed = 5,
    /// 6: SSLServer.
    SslServer = 6,
    /// 7: SSLClient.
    SslClient = 7,
    /// 8: SSLSeed: "generated when the client connects to the module ssl server and
    /// cannot be created actively".
    SslSeed = 8,
}

impl SocketType {
    /// The type numbered `n` (1–8).
    pub const fn from_code(n: u8) -> Option<SocketType> {
        Some(match n {
            1 => SocketType::UdpServer,
            2 => SocketType::UdpClient,
            3 => SocketType::TcpServer,
            4 => SocketType::TcpClient,
            5 => SocketType::TcpSeed,
            6 => SocketType::SslServer,
            7 => SocketType::SslClient,
            8 => SocketType::SslSeed,
            _ => return None,
        })
    }

    /// The number (1–8).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// UDP, TCP or SSL client (2, 4, 7): needs a remote host.
    pub const fn is_client(self) -> bool {
        matches!(
            self,
            SocketType::UdpClient | SocketType::TcpClient | SocketType::SslClient
        )
    }

    /// UDP, TCP or SSL server (1, 3, 6): takes no remote host, listens on its port.
    pub const fn is_server(self) -> bool {
        matches!(
            self,
            SocketType::UdpServer | SocketType::TcpServer | SocketType::SslServer
        )
    }

    /// TCPSeed or SSLSeed (5, 8): a connection a client made to a module server; the
    /// module creates them, they cannot be created by `AT+SOCKET`.
    pub const fn is_seed(self) -> bool {
        matches!(self, SocketType::TcpSeed | SocketType::SslSeed)
    }

    /// UDP server or client.
    pub const fn is_udp(self) -> bool {
        matches!(self, SocketType::UdpServer | SocketType::UdpClient)
    }
}

impl Serialize for SocketType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

/// `<status>` of `AT+SOCKET?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SocketStatus {
    /// 1: Connected.
    Connected,
    /// 2: Disconnect.
    Disconnected,
    /// 3: Connecting.
    Connecting,
    /// 4: ConnectFail.
    ConnectFail,
    /// Another number (real firmware reports a disconnected seed as 127).
    Other(i32),
}

impl SocketStatus {
    /// The status a number means.
    pub const fn from_code(n: i32) -> SocketStatus {
        match n {
            1 => SocketStatus::Connected,
            2 => SocketStatus::Disconnected,
            3 => SocketStatus::Connecting,
            4 => SocketStatus::ConnectFail,
            other => SocketStatus::Other(other),
        }
    }
}

/// A socket connection id (`<ConID>`): the documents number them from 1 and give no
/// upper bound; real firmware goes past 127 after many connections, so a `u32` holds it.
pub type ConId = u32;

/// Refuses every dialect but Combo-AT.
fn combo(dialect: Dialect) -> Result<(), Error> {
    combo_only(dialect)
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// `[<remote host>,]<port>` as one parameter, so that a server's missing host does not
/// leave an empty field behind (`AT+SOCKET=3,10086`, not `AT+SOCKET=3,,10086`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Target<'a> {
    host: Option<HostName<'a>>,
    port: u16,
}

impl Serialize for Target<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; super::combo::HOST_MAX_LEN + 7];
        let mut n = 0;
        if let Some(h) = self.host {
            let v = h.value();
            buf[..v.len()].copy_from_slice(v);
            buf[v.len()] = b',';
            n = v.len() + 1;
        }
        n += write_u32(&mut buf[n..], u32::from(self.port));
        serializer.serialize_bytes(&buf[..n])
    }
}

/// `<keep alive>,<conID>`: the document gives them together, after the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Options {
    keep_alive_s: u16,
    con_id: ConId,
}

impl Serialize for Options {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 17];
        let mut n = write_u32(&mut buf, u32::from(self.keep_alive_s));
        buf[n] = b',';
        n += 1;
        n += write_u32(&mut buf[n..], self.con_id);
        serializer.serialize_bytes(&buf[..n])
    }
}

fn target<'a>(kind: SocketType, host: Option<&'a str>, port: u16) -> Result<Target<'a>, Error> {
    let host = match (kind.is_client(), host) {
        (true, Some(h)) => Some(HostName::new("host", h)?),
        (true, None) => {
            return Err(invalid(
                "host",
                "required for a client socket (the domain name or IP of the server)",
            ))
        }
        (false, Some(_)) => {
            return Err(invalid(
                "host",
                "a server takes no remote host (\"skip directly, eg:AT+SOCKET=3,10086\")",
            ))
        }
        (false, None) => None,
    };
    if port == 0 {
        return Err(invalid(
            "port",
            "0 (neither a server port nor a port to listen on)",
        ));
    }
    Ok(Target { host, port })
}

// ---------------------------------------------------------------------------------------
// AT+SOCKET
// ---------------------------------------------------------------------------------------

/// `AT+SOCKET=<type>[,<remote host>],<port>[,<keep alive>,<conID>]`: creates a socket and
/// initiates the connection (a client) or starts listening (a server). The module
/// answers `connect success ConID=<n>` and `OK` ([`Created`]).
///
/// Rules (checked by the constructors):
/// - `<type>`: 1–4, 6, 7; TCPSeed (5) and SSLSeed (8) "cannot be created actively".
/// - `<remote host>`: required for a client ("indicating the domain name or IP of the
///   server to be connected"), absent for a server; a [`HostName`], written bare.
/// - `<port>`: the server's port for a client, the port to listen on for a server; not 0.
/// - `<keep alive>`: 0–7200 s ([`KEEPALIVE_MAX_S`]; "reserved function, not implemented
///   for the time being"); given only together with `<conID>`
///   ([`CreateSocket::with_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKET",
    Created,
    parse = Created::from_reply,
    timeout_ms = 30000,
    termination = "\r\n"
)]
pub struct CreateSocket<'a> {
    kind: SocketType,
    target: Target<'a>,
    options: Option<Options>,
}

impl<'a> CreateSocket<'a> {
    /// A socket of `kind`; `host` for clients only.
    ///
    /// Errors: [`Error::Invalid`] naming `type`, `host` or `port`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        kind: SocketType,
        host: Option<&'a str>,
        port: u16,
    ) -> Result<Self, Error> {
        combo(dialect)?;
        if kind.is_seed() {
            return Err(invalid(
                "type",
                "TCPSeed and SSLSeed are made by the module when a client connects to its server; they cannot be created",
            ));
        }
        Ok(CreateSocket {
            kind,
            target: target(kind, host, port)?,
            options: None,
        })
    }

    /// `AT+SOCKET=4,<host>,<port>`: a TCP client.
    pub fn tcp_client(dialect: Dialect, host: &'a str, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::TcpClient, Some(host), port)
    }

    /// `AT+SOCKET=2,<host>,<port>`: a UDP client.
    pub fn udp_client(dialect: Dialect, host: &'a str, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::UdpClient, Some(host), port)
    }

    /// `AT+SOCKET=7,<host>,<port>`: an SSL (TLS) client; certificates from
    /// [`SslCert`].
    pub fn ssl_client(dialect: Dialect, host: &'a str, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::SslClient, Some(host), port)
    }

    /// `AT+SOCKET=3,<port>`: a TCP server listening on `port`. Clients that connect
    /// become TCPSeeds (`+EVENT:SocketSeed`).
    pub fn tcp_server(dialect: Dialect, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::TcpServer, None, port)
    }

    /// `AT+SOCKET=1,<port>`: a UDP server on `port`.
    pub fn udp_server(dialect: Dialect, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::UdpServer, None, port)
    }

    /// `AT+SOCKET=6,<port>`: an SSL server on `port`.
    pub fn ssl_server(dialect: Dialect, port: u16) -> Result<Self, Error> {
        Self::new(dialect, SocketType::SslServer, None, port)
    }

    /// Adds `,<keep alive>,<conID>`: the keep-alive interval (0 = off, at most 7200 s)
    /// and the ConID the new connection gets.
    ///
    /// Errors: [`Error::Invalid`] naming `keep_alive` when above 7200.
    pub fn with_id(mut self, keep_alive_s: u16, con_id: ConId) -> Result<Self, Error> {
        if keep_alive_s > KEEPALIVE_MAX_S {
            return Err(invalid("keep_alive", "above 7200 s"));
        }
        self.options = Some(Options {
            keep_alive_s,
            con_id,
        });
        Ok(self)
    }

    /// The socket type.
    pub fn kind(&self) -> SocketType {
        self.kind
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.target.port
    }

    /// The remote host of a client.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.target.host.map(|h| h.value())
    }
}

/// The reply of [`CreateSocket`]: the ConID of `connect success ConID=<n>`, or `None`
/// when the module answered `OK` alone (as the document's syntax shows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Created {
    /// The new connection's ConID.
    pub con_id: Option<ConId>,
}

impl atat::AtatResp for Created {}

/// Parses `connect success ConID=<n>` (spaces optional: `connectsuccessConID=1` has been
/// seen); `None` for any other line.
pub fn parse_connect_success(line: &[u8]) -> Option<ConId> {
    let line = trim(line);
    let mut compact = line.iter().filter(|&&b| b != b' ');
    let word = b"connectsuccessConID=";
    for &w in word {
        if compact.next()? != &w {
            return None;
        }
    }
    let at = line.iter().position(|&b| b == b'=')?;
    number(&line[at + 1..])
}

impl Created {
    /// Parses the reply lines: the first `connect success ConID=<n>` line, if any.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        Ok(Created {
            con_id: lines(reply).find_map(parse_connect_success),
        })
    }
}

/// One line of `AT+SOCKET?`:
/// `<ConID>,<type>,<status>,<remote host>,<remote port>,<local port>,<server ConID>`
/// (`1,4,3,192.168.31.239,60000,-1,0`). `-1` ("the default value -1 is displayed") reads
/// as `None`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SocketRow<'a> {
    /// `<ConID>`.
    pub con_id: ConId,
    /// `<type>` (a number outside 1–8 makes the line no row).
    pub kind: SocketType,
    /// `<status>`.
    pub status: SocketStatus,
    /// `<remote host>` of a client or seed (quotes removed; may be empty).
    pub host: &'a [u8],
    /// `<remote port>`.
    pub remote_port: Option<u16>,
    /// `<local port>` of a server.
    pub local_port: Option<u16>,
    /// `<server ConID>`: for a seed, the server it came from.
    pub server: Option<ConId>,
}

impl<'a> SocketRow<'a> {
    /// Parses one line (a leading `+SOCKET:` is accepted too); `None` when it is no row.
    pub fn parse(line: &'a [u8]) -> Option<SocketRow<'a>> {
        let line = trim(line);
        let line = line.strip_prefix(b"+SOCKET:").map(trim).unwrap_or(line);
        let mut f: [&[u8]; 7] = [&[]; 7];
        let mut n = 0;
        for p in params(line) {
            *f.get_mut(n)? = p;
            n += 1;
        }
        if n != 7 {
            return None;
        }
        let opt_port = |s: &[u8]| -> Option<Option<u16>> {
            let v: i64 = number(s)?;
            Some(if v < 0 { None } else { u16::try_from(v).ok() })
        };
        let server: i64 = number(f[6])?;
        Some(SocketRow {
            con_id: number(f[0])?,
            kind: SocketType::from_code(number(f[1])?)?,
            status: SocketStatus::from_code(number(f[2])?),
            host: unquote(f[3]),
            remote_port: opt_port(f[4])?,
            local_port: opt_port(f[5])?,
            server: u32::try_from(server).ok(),
        })
    }

    /// The remote address, when the host is an IP address and the port known.
    pub fn remote_addr(&self) -> Option<core::net::SocketAddr> {
        let ip: IpAddr = core::str::from_utf8(self.host).ok()?.parse().ok()?;
        Some(core::net::SocketAddr::new(ip, self.remote_port?))
    }
}

impl fmt::Debug for SocketRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketRow")
            .field("con_id", &self.con_id)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("host", &Ascii(self.host))
            .field("remote_port", &self.remote_port)
            .field("local_port", &self.local_port)
            .field("server", &self.server)
            .finish()
    }
}

/// Iterates over the rows of an `AT+SOCKET?` reply (other lines are skipped).
pub fn socket_rows(reply: &[u8]) -> impl Iterator<Item = SocketRow<'_>> {
    lines(reply).filter_map(SocketRow::parse)
}

/// The reply of [`SocketQuery`]: how many rows it held. The rows are read from
/// [`Client::last_reply`] with [`SocketTable::rows`] (no copy, no limit on their number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SocketTable {
    /// Rows in the reply.
    pub count: usize,
}

impl atat::AtatResp for SocketTable {}

impl SocketTable {
    /// Counts the rows of the reply lines.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        Ok(SocketTable {
            count: socket_rows(reply).count(),
        })
    }

    /// The rows, read from the reply the table was parsed from ([`Client::last_reply`]).
    pub fn rows<'a>(&self, reply: &'a [u8]) -> impl Iterator<Item = SocketRow<'a>> {
        socket_rows(reply)
    }
}

/// `AT+SOCKET?`: every socket the module holds, one prefix-less line each
/// ([`SocketTable`], [`SocketRow`]). Status: 1 connected, 2 disconnected, 3 connecting,
/// 4 connect failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKET?",
    SocketTable,
    parse = SocketTable::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct SocketQuery;

impl SocketQuery {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketQuery)
    }
}

/// Checks the document's sending rules against the module's sockets (an `AT+SOCKET?`
/// reply): "The TCPServer connection cannot be sent, and data can only be sent to the seed
/// created after the client connects to the TCPServer"; the SSL server likewise.
///
/// Errors ([`Error::Invalid`] naming `con_id`): `con_id` is a TCP or SSL server, or is not
/// in the table. A UDP server's rule ("must receive the client data before sending it")
/// cannot be seen in the table; the socket layer tracks it.
pub fn check_send<'a>(
    mut rows: impl Iterator<Item = SocketRow<'a>>,
    con_id: ConId,
) -> Result<(), Error> {
    match rows.find(|r| r.con_id == con_id) {
        None => Err(invalid("con_id", "no such connection")),
        Some(r) if matches!(r.kind, SocketType::TcpServer | SocketType::SslServer) => Err(invalid(
            "con_id",
            "a TCP/SSL server cannot send: send on the seed of an accepted connection",
        )),
        Some(_) => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETSEND, AT+SOCKETSENDLINE
// ---------------------------------------------------------------------------------------

/// `AT+SOCKETSEND=<ConID>,<length>`: announces `<length>` bytes, written after the `>`
/// prompt with [`Client::send_with_data`]; replies `OK`. "You can enter any HEX data, not
/// limited to strings"; longer than [`SEND_PACKET_MAX`] the module splits it into several
/// packets.
///
/// Rules: `<length>` at least 1. A TCP/SSL server cannot send and a UDP server only after
/// it received ([`check_send`]); the socket layer checks both.
///
/// When it fails, real firmware prints `+SOCKETSEND:<code>` before `ERROR`:
/// [`send_error_code`] reads it from [`Client::last_reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETSEND",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct SocketSend {
    con_id: ConId,
    length: u32,
}

impl SocketSend {
    /// Announces `length` bytes on `con_id`.
    ///
    /// Errors: [`Error::Invalid`] naming `length` (0, or above `u32::MAX`);
    /// [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, con_id: ConId, length: usize) -> Result<Self, Error> {
        combo(dialect)?;
        if length == 0 {
            return Err(invalid("length", "0 (nothing to send)"));
        }
        let length = u32::try_from(length).map_err(|_| invalid("length", "above 4294967295"))?;
        Ok(SocketSend { con_id, length })
    }

    /// The announced length.
    pub fn length(&self) -> usize {
        self.length as usize
    }
}

/// The `<code>` of a `+SOCKETSEND:<code>` line in a failed send's reply.
pub fn send_error_code(reply: &[u8]) -> Option<i32> {
    reply_line(reply, b"+SOCKETSEND:").and_then(number)
}

/// `AT+SOCKETSENDLINE=<ConID>,<length>,<data>`: sends a short text in the command line;
/// replies `OK`.
///
/// "This mode is relatively simple to use, but the length is limited (the maximum length of
/// an AT instruction is limited). If there are special characters, the entire parameter
/// needs to be enclosed in double quotation marks. If there are double quotation marks in
/// the parameter, escape characters need to be added." `<data>` is a [`ComboText`]: bare
/// as in the example `AT+SOCKETSENDLINE=2,10,1234567890`, quoted and escaped otherwise;
/// `<length>` is the length of the data itself, without quotes and escapes. Data must not
/// be empty nor hold CR, LF or NUL; the client checks the 256-byte line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETSENDLINE",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct SocketSendLine<'a> {
    con_id: ConId,
    length: u32,
    data: ComboText<'a>,
}

impl<'a> SocketSendLine<'a> {
    /// Sends `data` on `con_id`.
    ///
    /// Errors: [`Error::Invalid`] naming `data`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new<T: AsRef<[u8]> + ?Sized>(
        dialect: Dialect,
        con_id: ConId,
        data: &'a T,
    ) -> Result<Self, Error> {
        combo(dialect)?;
        let data = data.as_ref();
        if data.is_empty() {
            return Err(invalid("data", "empty (nothing to send)"));
        }
        let text = ComboText::new("data", data)?;
        Ok(SocketSendLine {
            con_id,
            length: data.len() as u32,
            data: text,
        })
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETREAD
// ---------------------------------------------------------------------------------------

/// `AT+SOCKETREAD=<ConID>`: reads one packet the module holds for `<ConID>` ("it is read by
/// package, one packet of data at a time"); replies `+SOCKETREAD,<id>,<len>,<data>` and
/// `OK` ([`ReadPacket`]). Used in passive receive mode after
/// `+EVENT:SocketDown,<id>,<len>`.
///
/// The data is read by its declared length (it may hold CR LF, `OK`, anything), so the
/// whole `+SOCKETREAD,<id>,<len>,` header plus packet must fit the client's `RX` (framer)
/// and `RESP` (reply) buffers; a larger packet ends in
/// [`Error::ResponseOverflow`] and its bytes are lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETREAD",
    ReadPacket,
    parse = ReadPacket::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SocketRead {
    con_id: ConId,
}

impl SocketRead {
    /// Reads from `con_id`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, con_id: ConId) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketRead { con_id })
    }
}

/// The reply of [`SocketRead`]: where the packet is in [`Client::last_reply`].
///
/// `con_id` is `None` (and `len` 0) when the reply held no `+SOCKETREAD` line: nothing
/// was waiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReadPacket {
    /// `<id>` of the `+SOCKETREAD` line.
    pub con_id: Option<ConId>,
    /// `<len>`: the packet's length.
    pub len: usize,
    /// Offset of the data in the reply.
    pub start: usize,
    /// Data bytes present in the reply (less than `len` only when the reply was cut).
    pub received: usize,
}

impl atat::AtatResp for ReadPacket {}

/// Finds `prefix` at the start of `reply` or right after a line end, and returns the
/// offset just after it.
fn find_line_start(reply: &[u8], prefix: &[u8]) -> Option<usize> {
    if reply.starts_with(prefix) {
        return Some(prefix.len());
    }
    reply
        .windows(prefix.len() + 1)
        .position(|w| w[0] == b'\n' && &w[1..] == prefix)
        .map(|p| p + 1 + prefix.len())
}

/// Reads `<a>,<len>,` from `reply[at..]`: the first number, the length and the offset of
/// the data (after the second comma; the end of the reply when there is none).
fn header_fields(reply: &[u8], at: usize) -> Option<(i64, usize, usize)> {
    let rest = &reply[at..];
    let c1 = rest.iter().position(|&b| b == b',')?;
    let first: i64 = number(&rest[..c1])?;
    let after = &rest[c1 + 1..];
    let end = after
        .iter()
        .position(|&b| matches!(b, b',' | b'\r' | b'\n'))
        .unwrap_or(after.len());
    let len: usize = number(&after[..end])?;
    let data = if after.get(end) == Some(&b',') {
        at + c1 + 1 + end + 1
    } else {
        at + c1 + 1 + end
    };
    Some((first, len, data))
}

impl ReadPacket {
    /// Parses a reply: the first `+SOCKETREAD,<id>,<len>,<data>` (at the start of the reply
    /// or of a line); the data is taken by length, whatever it holds.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let Some(at) = find_line_start(reply, b"+SOCKETREAD,") else {
            return Ok(ReadPacket::default());
        };
        let (id, len, start) = header_fields(reply, at).ok_or(Error::Parse)?;
        let con_id = u32::try_from(id).map_err(|_| Error::Parse)?;
        let received = len.min(reply.len() - start);
        Ok(ReadPacket {
            con_id: Some(con_id),
            len,
            start,
            received,
        })
    }

    /// The packet's bytes, from the reply it was parsed from ([`Client::last_reply`]).
    pub fn data<'a>(&self, reply: &'a [u8]) -> &'a [u8] {
        reply.get(self.range()).unwrap_or(&[])
    }

    /// Where the data is in the reply.
    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.received
    }

    /// True when no packet came (or an empty one).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETDEL, AT+SOCKETRECVCFG
// ---------------------------------------------------------------------------------------

/// `AT+SOCKETDEL=<ConID>`: deletes a connection; replies `OK`. "Because seed is initiated
/// by the client and the server cannot be reconnected, the connection needs to be deleted
/// manually after seed is disconnected (the data received after deleting the connection
/// will also be cleared)." Real firmware prints `+EVENT:SocketAutoDel,<id>` after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETDEL",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SocketDel {
    con_id: ConId,
}

impl SocketDel {
    /// Deletes `con_id`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, con_id: ConId) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketDel { con_id })
    }
}

/// `<mode>` of `AT+SOCKETRECVCFG`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ReceiveMode {
    /// 0: passive (the default): the module prints `+EVENT:SocketDown,<ConID>,<length>`
    /// and keeps the data until `AT+SOCKETREAD`. A small MCU never gets more than it asks
    /// for.
    #[default]
    Passive = 0,
    /// 1: active: the module prints the data at once,
    /// `+EVENT:SocketDown,<ConID>,<length>,<data>`.
    Active = 1,
}

impl Serialize for ReceiveMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// `AT+SOCKETRECVCFG=<mode>`: how received data is reported ([`ReceiveMode`]); replies
/// `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETRECVCFG",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SocketRecvCfg {
    mode: ReceiveMode,
}

impl SocketRecvCfg {
    /// Sets `mode`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, mode: ReceiveMode) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketRecvCfg { mode })
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETTT, transparent mode
// ---------------------------------------------------------------------------------------

/// `<UDPServerTTMode>` of `AT+SOCKETTT=<mode>`: whom a UDP server talks to in transparent
/// mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum UdpTtMode {
    /// 0: "fixed as the client for the first communication, and other client
    /// communication will not change the communication object" (the default of
    /// `AT+SOCKETTT`).
    FirstPeer = 0,
    /// 2: "dynamically modified as the client of the last communication".
    LastPeer = 2,
}

impl Serialize for UdpTtMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// `AT+SOCKETTT` / `AT+SOCKETTT=<UDPServerTTMode>`: enters transparent mode. The module
/// answers `>` and from then on every byte goes to the peer and back, until `+++` (with
/// quiet time around it) ends it with `OK`. It has no final result while it lasts, so it
/// is not sent with [`Client::send`]: [`enter_transparent`] checks the rules, sends it and
/// hands the UART over as a [`Transparent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+SOCKETTT", NoResponse, timeout_ms = 5000, termination = "\r\n")]
pub struct SocketTt {
    mode: Option<UdpTtMode>,
}

impl SocketTt {
    /// `AT+SOCKETTT`, or `AT+SOCKETTT=<mode>` for a UDP server.
    pub fn new(dialect: Dialect, udp_mode: Option<UdpTtMode>) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketTt { mode: udp_mode })
    }
}

/// Checks the document's conditions for transparent mode against the module's sockets
/// (an `AT+SOCKET?` reply). "Entering transparent mode must meet any of the following
/// conditions": exactly one client connection (TCP or SSL); exactly one server and one
/// seed; exactly one UDP client; exactly one UDP server. So there is one transparent link
/// at a time. The UDP-server mode parameter applies only to the last case.
///
/// Errors ([`Error::Invalid`] naming `sockets` or `udp_mode`).
pub fn check_transparent<'a>(
    rows: impl Iterator<Item = SocketRow<'a>>,
    udp_mode: Option<UdpTtMode>,
) -> Result<(), Error> {
    let (mut total, mut clients, mut servers, mut seeds, mut udp_c, mut udp_s) = (0, 0, 0, 0, 0, 0);
    for r in rows {
        total += 1;
        match r.kind {
            SocketType::TcpClient | SocketType::SslClient => clients += 1,
            SocketType::TcpServer | SocketType::SslServer => servers += 1,
            SocketType::TcpSeed | SocketType::SslSeed => seeds += 1,
            SocketType::UdpClient => udp_c += 1,
            SocketType::UdpServer => udp_s += 1,
        }
    }
    let udp_server = total == 1 && udp_s == 1;
    let ok = (total == 1 && (clients == 1 || udp_c == 1))
        || (total == 2 && servers == 1 && seeds == 1)
        || udp_server;
    if !ok {
        return Err(invalid(
            "sockets",
            "transparent mode needs exactly one client, one server with one seed, one UDP client or one UDP server",
        ));
    }
    if udp_mode.is_some() && !udp_server {
        return Err(invalid(
            "udp_mode",
            "the UDP-server transparent mode applies only to a lone UDP server",
        ));
    }
    Ok(())
}

/// Queries the module's sockets, checks the transparent-mode rules
/// ([`check_transparent`]), sends `AT+SOCKETTT` (with the UDP-server mode when given) and
/// waits for the `>`; returns the open link.
///
/// The prompt is waited for [`Config::prompt_timeout_ms`](crate::Config::prompt_timeout_ms).
/// Lines the module prints between the command and its `>` are read raw and dropped
/// (they are no reply); `ERROR` gives [`Error::Module`], a busy line [`Error::Busy`],
/// `ready` [`Error::Reset`], no prompt [`Error::NoPrompt`].
///
/// While the [`Transparent`] lives, the client's framer is bypassed: its bytes are the
/// peer's. End it with [`Transparent::exit`] before sending commands again; dropping it
/// without leaves the module in transparent mode.
pub fn enter_transparent<
    U,
    C,
    const RX: usize,
    const RESP: usize,
    const TX: usize,
    const EV: usize,
>(
    client: &mut Client<U, C, RX, RESP, TX, EV>,
    udp_mode: Option<UdpTtMode>,
) -> Result<Transparent<'_, U, C, RX, RESP, TX, EV>, Error>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    let d = client.dialect();
    SocketTt::new(d, udp_mode)?;
    client.send(&SocketQuery::new(d)?)?;
    check_transparent(socket_rows(client.last_reply()), udp_mode)?;
    open_transparent(client, udp_mode)
}

/// Sends `AT+SOCKETTT` and waits for the `>`, without checking the sockets first (the
/// socket layer checked them).
pub(crate) fn open_transparent<
    U,
    C,
    const RX: usize,
    const RESP: usize,
    const TX: usize,
    const EV: usize,
>(
    client: &mut Client<U, C, RX, RESP, TX, EV>,
    udp_mode: Option<UdpTtMode>,
) -> Result<Transparent<'_, U, C, RX, RESP, TX, EV>, Error>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    let cmd = SocketTt::new(client.dialect(), udp_mode)?;
    let mut line = [0u8; 24];
    let n = cmd.write(&mut line);
    client.write_raw(&line[..n])?;
    let timeout = client.config_mut().prompt_timeout_ms;
    let mut raw = RawReader::new(client, timeout);
    loop {
        match raw.next_byte()? {
            Some(b'>') if raw.at_line_start() => break,
            Some(b) => {
                if let Some(line) = raw.push(b) {
                    if line == b"ERROR" {
                        return Err(Error::Module {
                            word: FailWord::Error,
                            code: None,
                        });
                    }
                    if line == b"ready" {
                        return Err(Error::Reset);
                    }
                    if line.starts_with(b"busy") || line.windows(7).any(|w| w == b"running") {
                        return Err(Error::Busy);
                    }
                }
            }
            None => return Err(Error::NoPrompt),
        }
    }
    Ok(Transparent {
        client,
        guard_ms: TT_GUARD_MS,
    })
}

/// Reads the UART byte by byte (so that nothing after a `>` is taken from the peer),
/// assembling lines; for transparent mode's enter and exit.
struct RawReader<'c, U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize> {
    client: &'c mut Client<U, C, RX, RESP, TX, EV>,
    deadline: u64,
    line: [u8; 32],
    len: usize,
    start: bool,
}

impl<'c, U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>
    RawReader<'c, U, C, RX, RESP, TX, EV>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    fn new(client: &'c mut Client<U, C, RX, RESP, TX, EV>, timeout_ms: u32) -> Self {
        let deadline = client
            .clock_mut()
            .now_ms()
            .saturating_add(u64::from(timeout_ms));
        RawReader {
            client,
            deadline,
            line: [0; 32],
            len: 0,
            start: true,
        }
    }

    /// The next byte, or `None` once the deadline passed.
    fn next_byte(&mut self) -> Result<Option<u8>, Error> {
        loop {
            let uart = self.client.uart_mut();
            if uart
                .read_ready()
                .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))?
            {
                let mut b = [0u8; 1];
                let n = uart
                    .read(&mut b)
                    .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))?;
                if n == 1 {
                    return Ok(Some(b[0]));
                }
            }
            let clock = self.client.clock_mut();
            if clock.now_ms() >= self.deadline {
                return Ok(None);
            }
            clock.idle();
        }
    }

    fn at_line_start(&self) -> bool {
        self.start && self.len == 0
    }

    /// Adds a byte; returns the trimmed line when `b` ends one.
    fn push(&mut self, b: u8) -> Option<&[u8]> {
        if b == b'\r' || b == b'\n' {
            let n = core::mem::take(&mut self.len);
            self.start = true;
            let l = trim(&self.line[..n.min(self.line.len())]);
            return (!l.is_empty()).then_some(l);
        }
        if self.len < self.line.len() {
            self.line[self.len] = b;
        }
        self.len += 1;
        None
    }
}

/// An open transparent link: the UART carries the peer's bytes both ways. Made by
/// [`enter_transparent`] (or [`SocketSet::transparent`](crate::net::SocketSet::transparent)).
pub struct Transparent<
    'c,
    U,
    C,
    const RX: usize,
    const RESP: usize,
    const TX: usize,
    const EV: usize,
> {
    client: &'c mut Client<U, C, RX, RESP, TX, EV>,
    guard_ms: u32,
}

impl<U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>
    Transparent<'_, U, C, RX, RESP, TX, EV>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    /// The quiet time kept before and after `+++` (default [`TT_GUARD_MS`]).
    pub fn set_guard_ms(&mut self, ms: u32) {
        self.guard_ms = ms;
    }

    /// Sends `data` to the peer. Data that is `+++` alone between two quiet times ends the
    /// mode: that is the module's rule, not the driver's.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        let uart = self.client.uart_mut();
        uart.write_all(data)
            .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))?;
        uart.flush()
            .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))
    }

    /// Reads what the peer sent and the UART has ready; 0 when nothing (never waits).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let uart = self.client.uart_mut();
        if buf.is_empty()
            || !uart
                .read_ready()
                .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))?
        {
            return Ok(0);
        }
        uart.read(buf)
            .map_err(|e| Error::Uart(embedded_io::Error::kind(&e)))
    }

    /// Waits up to `timeout_ms` for bytes from the peer; 0 when none came.
    pub fn read_timeout(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Error> {
        let deadline = self
            .client
            .clock_mut()
            .now_ms()
            .saturating_add(u64::from(timeout_ms));
        loop {
            let n = self.read(buf)?;
            let clock = self.client.clock_mut();
            if n > 0 || buf.is_empty() || clock.now_ms() >= deadline {
                return Ok(n);
            }
            clock.idle();
        }
    }

    /// Leaves transparent mode: waits the guard time (dropping what the peer sends
    /// meanwhile), writes `+++`, and waits for the module's `OK` (the guard time plus
    /// [`TT_EXIT_TIMEOUT_MS`]); bytes from the peer before it are dropped. Afterwards the
    /// client sends commands again. On [`Error::Timeout`] the module may still be in
    /// transparent mode: call `exit` again.
    pub fn exit(&mut self) -> Result<(), Error> {
        let guard = self.guard_ms;
        let mut quiet = RawReader::new(self.client, guard);
        while quiet.next_byte()?.is_some() {}
        self.write(b"+++")?;
        let mut raw = RawReader::new(self.client, guard.saturating_add(TT_EXIT_TIMEOUT_MS));
        loop {
            match raw.next_byte()? {
                Some(b) => {
                    if raw.push(b) == Some(&b"OK"[..]) {
                        return Ok(());
                    }
                }
                None => {
                    return Err(Error::Timeout {
                        ms: guard.saturating_add(TT_EXIT_TIMEOUT_MS),
                    })
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETAUTOTT
// ---------------------------------------------------------------------------------------

/// `AT+SOCKETAUTOTT=<type>[,<remote host>],<port>`: after a reboot, join Wi-Fi
/// (`AT+WAUTOCONN`), create this socket and enter transparent mode by itself. Replies
/// `OK`; "the reset will take effect".
///
/// Rules (checked by the constructors): `<type>` 0 (disable), 1 (UDP server, port only),
/// 2 (UDP client), 4 (TCP client), 7 (SSL client); 3, 5, 6 and 8 are "occupancy type, not
/// available". A client needs its host, a server has none; the port is not 0.
/// [`SocketAutoTt::disable`] sends `AT+SOCKETAUTOTT=0` (the document does not show the
/// disabling line; with no host and no port it is the shortest the syntax allows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETAUTOTT",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SocketAutoTt<'a> {
    kind: u8,
    target: Option<Target<'a>>,
}

impl<'a> SocketAutoTt<'a> {
    /// `AT+SOCKETAUTOTT=0`: no automatic transparent mode.
    pub fn disable(dialect: Dialect) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketAutoTt {
            kind: 0,
            target: None,
        })
    }

    /// Automatic transparent mode over a socket of `kind` (UDP server, UDP client, TCP
    /// client or SSL client).
    ///
    /// Errors: [`Error::Invalid`] naming `type`, `host` or `port`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        kind: SocketType,
        host: Option<&'a str>,
        port: u16,
    ) -> Result<Self, Error> {
        combo(dialect)?;
        if !matches!(
            kind,
            SocketType::UdpServer
                | SocketType::UdpClient
                | SocketType::TcpClient
                | SocketType::SslClient
        ) {
            return Err(invalid(
                "type",
                "occupancy type, not available (only UDP server, UDP client, TCP client, SSL client)",
            ));
        }
        Ok(SocketAutoTt {
            kind: kind.code(),
            target: Some(target(kind, host, port)?),
        })
    }
}

/// The reply of `AT+SOCKETAUTOTT?`: `+SOCKETAUTOTT:<type>,<remote host>,<remote port>`
/// (`+SOCKETAUTOTT:4,192.168.31.239,60000`). A server's line may lack the host; a fourth
/// field (`<local port>`, listed among the parameters) is accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoTtConfig {
    /// `<type>`; `None` for 0 (disabled).
    pub kind: Option<SocketType>,
    /// `<remote host>` (at most 64 bytes kept; empty for a server).
    pub host: heapless::Vec<u8, 64>,
    /// The port (`None` when absent or -1).
    pub port: Option<u16>,
}

impl atat::AtatResp for AutoTtConfig {}

impl AutoTtConfig {
    /// Parses the reply lines.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let rest = reply_line(reply, b"+SOCKETAUTOTT:").ok_or(Error::Parse)?;
        let mut f: [&[u8]; 4] = [&[]; 4];
        let mut n = 0;
        for p in params(rest) {
            *f.get_mut(n).ok_or(Error::Parse)? = p;
            n += 1;
        }
        let code: u8 = number(f[0]).ok_or(Error::Parse)?;
        let kind = match code {
            0 => None,
            c => Some(SocketType::from_code(c).ok_or(Error::Parse)?),
        };
        let port = |s: &[u8]| -> Result<Option<u16>, Error> {
            if trim(s).is_empty() {
                return Ok(None);
            }
            let v: i64 = number(s).ok_or(Error::Parse)?;
            Ok(u16::try_from(v).ok().filter(|&p| p > 0))
        };
        let (host, p) = match n {
            1 => (&b""[..], None),
            2 => (&b""[..], Some(f[1])),
            _ => (unquote(f[1]), Some(f[2])),
        };
        let mut out = AutoTtConfig {
            kind,
            port: match p {
                Some(p) => port(p)?,
                None => None,
            },
            ..AutoTtConfig::default()
        };
        out.host
            .extend_from_slice(&host[..host.len().min(64)])
            .map_err(|_| Error::Parse)?;
        Ok(out)
    }
}

/// `AT+SOCKETAUTOTT?`: the automatic transparent-mode configuration ([`AutoTtConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SOCKETAUTOTT?",
    AutoTtConfig,
    parse = AutoTtConfig::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct SocketAutoTtQuery;

impl SocketAutoTtQuery {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SocketAutoTtQuery)
    }
}

// ---------------------------------------------------------------------------------------
// AT+SSLCRET
// ---------------------------------------------------------------------------------------

/// `<type>` of `AT+SSLCRET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum CertKind {
    /// 1: CA root certificate.
    Ca = 1,
    /// 2: client public key (the client certificate).
    ClientCert = 2,
    /// 3: client private key.
    ClientKey = 3,
}

impl CertKind {
    /// The kind numbered `n` (1–3).
    pub const fn from_code(n: u8) -> Option<CertKind> {
        Some(match n {
            1 => CertKind::Ca,
            2 => CertKind::ClientCert,
            3 => CertKind::ClientKey,
            _ => return None,
        })
    }
}

impl Serialize for CertKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// `AT+SSLCRET=<type>,<length>`: uploads a certificate or key of `<length>` bytes, written
/// after the `>` prompt with [`Client::send_with_data`]; replies `OK`. "When the
/// certificate is empty, the client does not load the certificate": a length of 0 is
/// refused here (there would be nothing to write after the prompt).
///
/// `Debug` shows the kind and length only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SSLCRET",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 10000,
    termination = "\r\n"
)]
pub struct SslCert {
    kind: CertKind,
    length: u32,
}

impl SslCert {
    /// Announces a `kind` of `length` bytes.
    ///
    /// Errors: [`Error::Invalid`] naming `length`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, kind: CertKind, length: usize) -> Result<Self, Error> {
        combo(dialect)?;
        if length == 0 {
            return Err(invalid("length", "0 (no certificate to write)"));
        }
        let length = u32::try_from(length).map_err(|_| invalid("length", "above 4294967295"))?;
        Ok(SslCert { kind, length })
    }
}

/// `AT+SSLCRET=<type>`: queries a certificate; replies
/// `+SSLCRET:<type>,<length>,<content>` ([`CertInfo`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SSLCRET",
    CertInfo,
    parse = CertInfo::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SslCertQuery {
    kind: CertKind,
}

impl SslCertQuery {
    /// Queries `kind`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, kind: CertKind) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(SslCertQuery { kind })
    }
}

/// The reply of [`SslCertQuery`]: the certificate's length and where its content is in
/// [`Client::last_reply`].
///
/// A certificate holds line breaks, which the client joins with CR LF: the content is
/// exact only when the module's line ends are CR LF too, and it must fit the client's
/// `RESP` buffer ([`Error::ResponseOverflow`] otherwise). `len` is the module's own
/// figure in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CertInfo {
    /// `<type>`.
    pub kind: CertKind,
    /// `<length>` (0: no certificate set).
    pub len: usize,
    /// Offset of the content in the reply.
    pub start: usize,
    /// Content bytes present (at most `len`).
    pub received: usize,
}

impl atat::AtatResp for CertInfo {}

impl CertInfo {
    /// Parses the reply.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let at = find_line_start(reply, b"+SSLCRET:").ok_or(Error::Parse)?;
        let (kind, len, start) = header_fields(reply, at).ok_or(Error::Parse)?;
        let kind = u8::try_from(kind)
            .ok()
            .and_then(CertKind::from_code)
            .ok_or(Error::Parse)?;
        Ok(CertInfo {
            kind,
            len,
            start,
            received: len.min(reply.len() - start),
        })
    }

    /// The content, from the reply it was parsed from.
    pub fn content<'a>(&self, reply: &'a [u8]) -> &'a [u8] {
        reply
            .get(self.start..self.start + self.received)
            .unwrap_or(&[])
    }
}

// ---------------------------------------------------------------------------------------
// AT+WDOMAIN, AT+WDNS
// ---------------------------------------------------------------------------------------

/// `AT+WDOMAIN=<server name>`: resolves a domain name with the module's DNS server;
/// replies `+WDOMAIN:<IP>` ([`Resolved`]). The name is a [`HostName`], written bare as in
/// the example `AT+WDOMAIN=www.baidu.com`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WDOMAIN",
    Resolved,
    parse = Resolved::from_reply,
    timeout_ms = 20000,
    termination = "\r\n"
)]
pub struct Resolve<'a> {
    name: HostName<'a>,
}

impl<'a> Resolve<'a> {
    /// Resolves `name`.
    ///
    /// Errors: [`Error::Invalid`] naming `name`; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, name: &'a str) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(Resolve {
            name: HostName::new("name", name)?,
        })
    }
}

/// The reply of [`Resolve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resolved {
    /// The address.
    pub ip: IpAddr,
}

impl atat::AtatResp for Resolved {}

impl Resolved {
    /// Parses `+WDOMAIN:<IP>`.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let v = reply_line(reply, b"+WDOMAIN:").ok_or(Error::Parse)?;
        let ip = core::str::from_utf8(unquote(v))
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Error::Parse)?;
        Ok(Resolved { ip })
    }
}

/// The DNS servers of `+WDNS:<DNS IP1>,<DNS IP2>`; 0.0.0.0 (not set) reads as `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DnsServers {
    /// `<DNS IP1>`.
    pub primary: Option<Ipv4Addr>,
    /// `<DNS IP2>`.
    pub secondary: Option<Ipv4Addr>,
}

impl atat::AtatResp for DnsServers {}

impl DnsServers {
    /// Parses `+WDNS:<ip1>[,<ip2>]`.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let v = reply_line(reply, b"+WDNS:").ok_or(Error::Parse)?;
        let mut p = params(v);
        let set = |f: Option<&[u8]>| -> Result<Option<Ipv4Addr>, Error> {
            match f {
                None => Ok(None),
                Some(f) => {
                    let a = parse_ipv4(f).ok_or(Error::Parse)?;
                    Ok((!a.is_unspecified()).then_some(a))
                }
            }
        };
        let primary = set(p.next())?;
        let secondary = set(p.next())?;
        if p.next().is_some() {
            return Err(Error::Parse);
        }
        Ok(DnsServers { primary, secondary })
    }
}

/// `AT+WDNS?`: the DNS servers ([`DnsServers`]), e.g. `+WDNS:192.168.3.1,0.0.0.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WDNS?",
    DnsServers,
    parse = DnsServers::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct DnsQuery;

impl DnsQuery {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo(dialect)?;
        Ok(DnsQuery)
    }
}

/// `AT+WDNS=<DNS IP1>[,<DNS IP2>]`: sets one or two DNS servers; replies
/// `+WDNS:<DNS IP1>[,<DNS IP2>]` ([`DnsServers`]). The syntax line writes `<"DNS IP1">`,
/// the example `AT+WDNS=114.114.114.114`: addresses are written bare, as in the example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WDNS",
    DnsServers,
    parse = DnsServers::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetDns {
    primary: Ip4,
    secondary: Option<Ip4>,
}

impl SetDns {
    /// Sets `primary` and, optionally, `secondary`.
    ///
    /// Errors: [`Error::Invalid`] naming `primary` or `secondary` for 0.0.0.0 or a
    /// broadcast / multicast address; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(
        dialect: Dialect,
        primary: Ipv4Addr,
        secondary: Option<Ipv4Addr>,
    ) -> Result<Self, Error> {
        combo(dialect)?;
        let check = |field, a: Ipv4Addr| {
            if a.is_unspecified() || a.is_broadcast() || a.is_multicast() {
                Err(invalid(field, "not a unicast address"))
            } else {
                Ok(Ip4(a))
            }
        };
        Ok(SetDns {
            primary: check("primary", primary)?,
            secondary: match secondary {
                Some(a) => Some(check("secondary", a)?),
                None => None,
            },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Unsolicited lines
// ---------------------------------------------------------------------------------------

/// A socket URC of Combo-AT.
///
/// [`SocketEvent::from_urc`] types an [`Urc`] the client returned (the typed ones,
/// [`Urc::SocketClosed`], [`Urc::SocketDataAvailable`], [`Urc::SocketData`], and raw
/// [`Urc::Line`] / [`Urc::Data`] for the lines [`Urc`] has no variant for yet).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SocketEvent<'a> {
    /// `connect success ConID=<n>` outside a command's reply (after a reboot with
    /// `AT+SOCKETAUTOTT` set, say).
    Created {
        /// The new connection.
        con_id: ConId,
    },
    /// `+EVENT:SocketDown,<ConID>,<length>` (passive mode): a packet of `len` bytes waits
    /// for `AT+SOCKETREAD`.
    DataAvailable {
        /// The connection.
        con_id: ConId,
        /// The packet's length.
        len: usize,
    },
    /// `+EVENT:SocketDown,<ConID>,<length>,<data>` (active mode), or a
    /// `+SOCKETREAD,<id>,<len>,<data>` that came after its command had ended.
    Data {
        /// The connection.
        con_id: ConId,
        /// The bytes received.
        data: &'a [u8],
        /// The declared length.
        len: usize,
        /// `data` holds the start only (it did not fit a buffer).
        truncated: bool,
    },
    /// `+EVENT:SocketDissconnect,<ConID>` (or `SocketDisconnect`): the connection closed.
    Closed {
        /// The connection.
        con_id: ConId,
    },
    /// `+EVENT:SocketSeed,<seed>,<server>`: a client connected to the module's server
    /// `server`; its connection is `seed`.
    Seed {
        /// The new connection (a TCPSeed or SSLSeed).
        seed: ConId,
        /// The server it connected to.
        server: ConId,
    },
    /// `+EVENT:SocketReconnect,<ConID>`: the module reconnected a client connection by
    /// itself.
    Reconnected {
        /// The connection.
        con_id: ConId,
    },
    /// `+EVENT:SocketAutoDel,<ConID>`: the module deleted the connection (also after an
    /// `AT+SOCKETDEL`).
    AutoDeleted {
        /// The connection.
        con_id: ConId,
    },
}

impl fmt::Debug for SocketEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketEvent::Created { con_id } => write!(f, "Created({con_id})"),
            SocketEvent::DataAvailable { con_id, len } => {
                write!(f, "DataAvailable({con_id}, {len})")
            }
            SocketEvent::Data {
                con_id,
                data,
                len,
                truncated,
            } => f
                .debug_struct("Data")
                .field("con_id", con_id)
                .field("len", len)
                .field("received", &data.len())
                .field("truncated", truncated)
                .finish(),
            SocketEvent::Closed { con_id } => write!(f, "Closed({con_id})"),
            SocketEvent::Seed { seed, server } => write!(f, "Seed({seed}, {server})"),
            SocketEvent::Reconnected { con_id } => write!(f, "Reconnected({con_id})"),
            SocketEvent::AutoDeleted { con_id } => write!(f, "AutoDeleted({con_id})"),
        }
    }
}

fn one_id(rest: &[u8]) -> Option<ConId> {
    let mut p = params(rest);
    let id = number(p.next()?)?;
    p.next().is_none().then_some(id)
}

impl<'a> SocketEvent<'a> {
    /// Types a line; `None` when it is no socket URC.
    pub fn parse_line(line: &'a [u8]) -> Option<SocketEvent<'a>> {
        let line = trim(line);
        if let Some(rest) = line.strip_prefix(b"+EVENT:SocketDown,") {
            let mut p = params(rest);
            let con_id = number(p.next()?)?;
            let len = number(p.next()?)?;
            return p
                .next()
                .is_none()
                .then_some(SocketEvent::DataAvailable { con_id, len });
        }
        if let Some(rest) = line
            .strip_prefix(b"+EVENT:SocketDissconnect,")
            .or_else(|| line.strip_prefix(b"+EVENT:SocketDisconnect,"))
        {
            return Some(SocketEvent::Closed {
                con_id: one_id(rest)?,
            });
        }
        if let Some(rest) = line.strip_prefix(b"+EVENT:SocketSeed,") {
            let mut p = params(rest);
            let seed = number(p.next()?)?;
            let server = number(p.next()?)?;
            return p
                .next()
                .is_none()
                .then_some(SocketEvent::Seed { seed, server });
        }
        if let Some(rest) = line.strip_prefix(b"+EVENT:SocketReconnect,") {
            return Some(SocketEvent::Reconnected {
                con_id: one_id(rest)?,
            });
        }
        if let Some(rest) = line.strip_prefix(b"+EVENT:SocketAutoDel,") {
            return Some(SocketEvent::AutoDeleted {
                con_id: one_id(rest)?,
            });
        }
        parse_connect_success(line).map(|con_id| SocketEvent::Created { con_id })
    }

    /// Types a data frame (`+EVENT:SocketDown,<id>,<len>,<data>`,
    /// `+SOCKETREAD,<id>,<len>,<data>`); `None` for any other.
    pub fn parse_data(frame: DataFrame<'a>) -> Option<SocketEvent<'a>> {
        let rest = frame
            .header
            .strip_prefix(b"+EVENT:SocketDown,")
            .or_else(|| frame.header.strip_prefix(b"+SOCKETREAD,"))?;
        Some(SocketEvent::Data {
            con_id: number(params(rest).next()?)?,
            data: frame.data,
            len: frame.len,
            truncated: frame.truncated,
        })
    }

    /// Types an [`Urc`]; `None` when it is no Combo-AT socket event. Single-connection
    /// `+IPD` data (no link id) is none either.
    pub fn from_urc(urc: &Urc<'a>) -> Option<SocketEvent<'a>> {
        match *urc {
            Urc::SocketClosed { link } => Some(SocketEvent::Closed {
                con_id: u32::from(link),
            }),
            Urc::SocketDataAvailable { link, len } => Some(SocketEvent::DataAvailable {
                con_id: u32::from(link),
                len,
            }),
            Urc::SocketData(d) => Some(SocketEvent::Data {
                con_id: u32::from(d.link?),
                data: d.data,
                len: d.len,
                truncated: d.truncated,
            }),
            Urc::Line(l) => SocketEvent::parse_line(l),
            Urc::Data(d) => SocketEvent::parse_data(d),
            _ => None,
        }
    }

    /// The connection the event is about (the seed for [`SocketEvent::Seed`]).
    pub fn con_id(&self) -> ConId {
        match *self {
            SocketEvent::Created { con_id }
            | SocketEvent::DataAvailable { con_id, .. }
            | SocketEvent::Data { con_id, .. }
            | SocketEvent::Closed { con_id }
            | SocketEvent::Reconnected { con_id }
            | SocketEvent::AutoDeleted { con_id } => con_id,
            SocketEvent::Seed { seed, .. } => seed,
        }
    }
}

/// The `+EVENT:` lines inside a command's reply: Combo-AT prints every event with that
/// prefix, and a line the client does not know as a URC is folded into the reply of the
/// command that was running. `skip` is a range of the reply that holds data (a packet's
/// bytes) and is not looked into.
pub fn reply_events(reply: &[u8], skip: Option<Range<usize>>) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    core::iter::from_fn(move || {
        while at < reply.len() {
            if let Some(s) = skip.as_ref().filter(|s| s.contains(&at)) {
                at = s.end;
                continue;
            }
            let end = reply[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(reply.len(), |p| at + p + 1);
            let stop = match skip.as_ref() {
                Some(s) if s.start > at && s.start < end => s.start,
                _ => end,
            };
            let mut line = &reply[at..stop];
            while let [rest @ .., b'\r' | b'\n'] = line {
                line = rest;
            }
            let line = trim(line);
            at = stop.max(at + 1);
            if line.starts_with(b"+EVENT:") {
                return Some(line);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_success_forms() {
        assert_eq!(parse_connect_success(b"connect success ConID=1"), Some(1));
        assert_eq!(parse_connect_success(b"connectsuccessConID=12"), Some(12));
        assert_eq!(parse_connect_success(b"connect failed"), None);
        assert_eq!(parse_connect_success(b"connect success ConID="), None);
    }

    #[test]
    fn read_packet_by_length() {
        let reply = b"+SOCKETREAD,1,8,a\r\nOK\r\n>b";
        let p = ReadPacket::from_reply(reply).unwrap();
        assert_eq!(p.con_id, Some(1));
        assert_eq!(p.data(reply), b"a\r\nOK\r\n>");
        let reply = b"junk\r\n+SOCKETREAD,300,3,xyz";
        let p = ReadPacket::from_reply(reply).unwrap();
        assert_eq!((p.con_id, p.data(reply)), (Some(300), &b"xyz"[..]));
        assert_eq!(ReadPacket::from_reply(b"").unwrap(), ReadPacket::default());
        assert_eq!(
            ReadPacket::from_reply(b"+SOCKETREAD,x,3,abc"),
            Err(Error::Parse)
        );
    }

    #[test]
    fn events_in_a_reply_skip_data() {
        let reply = b"+EVENT:SocketSeed,2,1\r\n+SOCKETREAD,1,28,\r\n+EVENT:SocketDissconnect,1\r\n+EVENT:SocketAutoDel,3";
        let at = find_line_start(reply, b"+SOCKETREAD,").unwrap();
        let (_, len, start) = header_fields(reply, at).unwrap();
        let mut v = reply_events(reply, Some(start..start + len));
        assert_eq!(v.next(), Some(&b"+EVENT:SocketSeed,2,1"[..]));
        assert_eq!(v.next(), Some(&b"+EVENT:SocketAutoDel,3"[..]));
        assert_eq!(v.next(), None);
    }
}
