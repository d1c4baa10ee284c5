//! End to end: the driver's socket layer ([`SocketSet`]) and embedded-nal stack ([`Net`])
//! ↔ a simulated Ai-Thinker Combo-AT module ↔ real OS sockets on 127.0.0.1 that the test
//! itself owns (a TCP echo server, UDP sockets, a TCP client).
//!
//! Binary data larger than one 1024-byte packet round-trips through TCP (both APIs);
//! UDP goes both ways (module as client and as server); names resolve with `AT+WDOMAIN`
//! (`localhost` → 127.0.0.1, directly and through embedded-nal's `Dns`); a connection the
//! peer closes between two reads ends in a typed error at once, never a hang. Every wait
//! is bounded (10 s per expectation).

mod common_e2e;

use at_wifi::command::combo::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::command::socket::{ReceiveMode, Resolve};
use at_wifi::net::{Net, NetError, SocketHandle, SocketKind, SocketSet, SocketState};
use at_wifi::{Client, Dialect, Error, StdClock};
use at_wifi_sim::{PipeEnd, Sim, SimConfig};
use common_e2e::{assert_bytes, pattern, probe, WAIT};
use embedded_nal::{
    AddrType, Dns, TcpClientStack, TcpError, TcpErrorKind, TcpFullStack, UdpClientStack,
};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

const AI: Dialect = Dialect::AiThinker;
const SSID: &str = "e2e-lab";
const PASSWORD: &str = "e2e-password";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Room for a whole 1024-byte packet in `AT+SOCKETREAD`'s reply (`+SOCKETREAD,<id>,<len>,`
/// and the packet).
type Driver = Client<PipeEnd, StdClock, 1100, 1100>;

/// Binary data of three packets (1024 + 1024 + 952), every byte value in it.
const TCP_LEN: usize = 3000;

/// A simulated Combo-AT module joined to Wi-Fi, with the driver and a socket set on it
/// (passive receive).
struct Combo {
    _sim: Sim,
    client: Driver,
    sockets: SocketSet,
}

fn combo() -> Combo {
    let config = SimConfig::new(at_wifi_sim::Dialect::AiThinker).network(SSID, PASSWORD);
    let (sim, uart) = Sim::pipe(config);
    let mut client: Driver = Client::new(uart, StdClock::new(), AI);
    probe(&mut client);
    client
        .send(&SetWifiMode::new(AI, WifiMode::Station, false).unwrap())
        .expect("AT+WMODE");
    let jap = JoinAp::new(AI, SSID, PASSWORD).unwrap();
    join(&mut client, &jap, 10_000, |_| {}).expect("AT+WJAP");
    let mut sockets = SocketSet::new();
    sockets
        .init(&mut client, ReceiveMode::Passive)
        .expect("AT+SOCKETRECVCFG");
    Combo {
        _sim: sim,
        client,
        sockets,
    }
}

fn ms(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Accepts one connection on `l` within [`WAIT`].
fn accept(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + WAIT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(WAIT)).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < end => {
                thread::sleep(Duration::from_millis(2))
            }
            Err(e) => panic!("no connection from the module: {e}"),
        }
    }
}

/// A TCP echo server for one connection on 127.0.0.1: its port, and (when the peer
/// closed) everything it received.
fn echo_server() -> (u16, Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut s = accept(&l);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || s.write_all(&buf[..n]).is_err() {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(all);
    });
    (port, rx)
}

/// Receives through the set until `n` bytes came (in a buffer smaller than a packet, so
/// that the set keeps the rest of each packet for the next call).
fn receive_exactly(c: &mut Combo, h: SocketHandle, n: usize) -> Vec<u8> {
    let end = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut buf = [0u8; 700];
    while got.len() < n {
        let left = end.saturating_duration_since(Instant::now());
        match c
            .sockets
            .receive_timeout(&mut c.client, h, &mut buf, ms(left).max(1))
        {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) => panic!("after {} of {n} bytes: {e:?}", got.len()),
        }
    }
    got
}

/// Receives through embedded-nal until `n` bytes came.
fn nal_receive_exactly<S: TcpClientStack<Error = NetError>>(
    net: &mut S,
    s: &mut S::TcpSocket,
    n: usize,
) -> Vec<u8> {
    let end = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while got.len() < n {
        match net.receive(s, &mut buf) {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(nb::Error::WouldBlock) if Instant::now() < end => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(nb::Error::WouldBlock) => {
                panic!(
                    "after {} of {n} bytes: nothing more within {WAIT:?}",
                    got.len()
                )
            }
            Err(nb::Error::Other(e)) => panic!("after {} of {n} bytes: {e:?}", got.len()),
        }
    }
    got
}

// ---------------------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------------------

#[test]
fn tcp_echo_of_binary_data_via_socket_set() {
    let mut c = combo();
    let (port, server) = echo_server();
    let h = c
        .sockets
        .connect_tcp(&mut c.client, "127.0.0.1", port)
        .expect("connect");
    assert_eq!(c.sockets.kind(h), Ok(SocketKind::Tcp));
    assert_eq!(c.sockets.state(h), Ok(SocketState::Open));
    let data = pattern(TCP_LEN, 0);
    // Three AT+SOCKETSEND packets.
    assert_eq!(c.sockets.send(&mut c.client, h, &data), Ok(TCP_LEN));
    let back = receive_exactly(&mut c, h, TCP_LEN);
    assert_bytes(&back, &data, "echo");
    // A second round with other bytes: nothing left over from the first.
    let data2 = pattern(1500, 0x80);
    assert_eq!(c.sockets.send(&mut c.client, h, &data2), Ok(1500));
    assert_bytes(&receive_exactly(&mut c, h, 1500), &data2, "second echo");
    assert_eq!(c.sockets.available(h), Ok(0));
    c.sockets.close(&mut c.client, h).expect("close");
    assert_eq!(c.sockets.state(h), Err(NetError::InvalidHandle));
    // The server saw exactly what was sent, then the module's close.
    let seen = server.recv_timeout(WAIT).expect("the server saw the close");
    assert_bytes(&seen, &[data, data2].concat(), "what the server received");
}

#[test]
fn tcp_echo_of_binary_data_via_embedded_nal() {
    let mut c = combo();
    let (port, server) = echo_server();
    let mut net = Net::new(&mut c.client, &mut c.sockets);
    let mut s = TcpClientStack::socket(&mut net).expect("socket");
    let remote = SocketAddr::new(LOCALHOST, port);
    nb::block!(TcpClientStack::connect(&mut net, &mut s, remote)).expect("connect");
    let data = pattern(TCP_LEN, 7);
    let mut sent = 0;
    while sent < data.len() {
        sent += nb::block!(TcpClientStack::send(&mut net, &mut s, &data[sent..])).expect("send");
    }
    let back = nal_receive_exactly(&mut net, &mut s, TCP_LEN);
    assert_bytes(&back, &data, "echo through embedded-nal");
    TcpClientStack::close(&mut net, s).expect("close");
    let seen = server.recv_timeout(WAIT).expect("the server saw the close");
    assert_bytes(&seen, &data, "what the server received");
}

#[test]
fn tcp_server_on_the_module_via_embedded_nal() {
    let mut c = combo();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut net = Net::new(&mut c.client, &mut c.sockets);
    let mut srv = TcpClientStack::socket(&mut net).unwrap();
    TcpFullStack::bind(&mut net, &mut srv, port).expect("bind");
    TcpFullStack::listen(&mut net, &mut srv).expect("listen");
    // A TCP server itself cannot send (only its accepted connections can).
    assert_eq!(
        TcpClientStack::send(&mut net, &mut srv, b"x"),
        Err(nb::Error::Other(NetError::ServerCannotSend))
    );
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect to the module");
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let end = Instant::now() + WAIT;
    let (mut conn, from) = loop {
        match TcpFullStack::accept(&mut net, &mut srv) {
            Ok(x) => break x,
            Err(nb::Error::WouldBlock) if Instant::now() < end => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("accept: {e:?}"),
        }
    };
    assert_eq!(from.ip(), LOCALHOST, "peer address");
    assert_eq!(from.port(), peer.local_addr().unwrap().port(), "peer port");
    let data = pattern(2000, 0x33);
    peer.write_all(&data).unwrap();
    assert_bytes(
        &nal_receive_exactly(&mut net, &mut conn, data.len()),
        &data,
        "peer -> module",
    );
    let reply = pattern(1100, 0xc4);
    let mut sent = 0;
    while sent < reply.len() {
        sent += nb::block!(TcpClientStack::send(&mut net, &mut conn, &reply[sent..])).unwrap();
    }
    let mut back = vec![0u8; reply.len()];
    peer.read_exact(&mut back).expect("module -> peer");
    assert_bytes(&back, &reply, "module -> peer");
    TcpClientStack::close(&mut net, conn).expect("close the connection");
    TcpClientStack::close(&mut net, srv).expect("close the server");
}

// ---------------------------------------------------------------------------------------
// A peer that closes
// ---------------------------------------------------------------------------------------

/// A server that sends `first`, waits for the go, sends `last` (may be empty) and closes.
fn closing_server(first: &'static [u8], last: &'static [u8]) -> (u16, mpsc::Sender<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (go, wait) = mpsc::channel::<()>();
    thread::spawn(move || {
        let mut s = accept(&l);
        s.write_all(first).unwrap();
        let _ = wait.recv_timeout(WAIT);
        if !last.is_empty() {
            s.write_all(last).unwrap();
        }
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    (port, go)
}

#[test]
fn peer_closing_between_two_reads_is_a_typed_error_via_socket_set() {
    let mut c = combo();
    // Data, then the close, between two reads: the data first, then Closed.
    let (port, go) = closing_server(b"first", b"last words");
    let h = c
        .sockets
        .connect_tcp(&mut c.client, "127.0.0.1", port)
        .unwrap();
    assert_bytes(&receive_exactly(&mut c, h, 5), b"first", "first read");
    go.send(()).unwrap();
    assert_bytes(
        &receive_exactly(&mut c, h, 10),
        b"last words",
        "data before the close",
    );
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let r = c
        .sockets
        .receive_timeout(&mut c.client, h, &mut buf, ms(WAIT));
    assert_eq!(r, Err(NetError::Closed), "read after the peer closed");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "Closed took {:?}",
        t.elapsed()
    );
    assert_eq!(c.sockets.state(h), Ok(SocketState::Closed));
    // Every later call says the same at once.
    assert_eq!(
        c.sockets.receive(&mut c.client, h, &mut buf),
        Err(nb::Error::Other(NetError::Closed))
    );
    assert_eq!(
        c.sockets.send(&mut c.client, h, b"anyone?"),
        Err(NetError::Closed)
    );
    c.sockets.close(&mut c.client, h).expect("close");
    assert_eq!(c.sockets.state(h), Err(NetError::InvalidHandle));

    // The close alone between two reads.
    let (port, go) = closing_server(b"hello", b"");
    let h = c
        .sockets
        .connect_tcp(&mut c.client, "127.0.0.1", port)
        .unwrap();
    assert_bytes(&receive_exactly(&mut c, h, 5), b"hello", "first read");
    go.send(()).unwrap();
    let t = Instant::now();
    let r = c
        .sockets
        .receive_timeout(&mut c.client, h, &mut buf, ms(WAIT));
    assert_eq!(r, Err(NetError::Closed), "read after the peer closed");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    c.sockets.close(&mut c.client, h).expect("close");
}

#[test]
fn peer_closing_between_two_reads_is_a_typed_error_via_embedded_nal() {
    let mut c = combo();
    let (port, go) = closing_server(b"hello", b"");
    let mut net = Net::new(&mut c.client, &mut c.sockets);
    let mut s = TcpClientStack::socket(&mut net).unwrap();
    nb::block!(TcpClientStack::connect(
        &mut net,
        &mut s,
        SocketAddr::new(LOCALHOST, port)
    ))
    .unwrap();
    assert_bytes(
        &nal_receive_exactly(&mut net, &mut s, 5),
        b"hello",
        "first read",
    );
    go.send(()).unwrap();
    let end = Instant::now() + WAIT;
    let mut buf = [0u8; 16];
    let e = loop {
        match TcpClientStack::receive(&mut net, &mut s, &mut buf) {
            Err(nb::Error::WouldBlock) if Instant::now() < end => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(nb::Error::Other(e)) => break e,
            other => panic!("read after the peer closed: {other:?}"),
        }
    };
    assert_eq!(e, NetError::Closed);
    assert_eq!(e.kind(), TcpErrorKind::PipeClosed);
    let r = TcpClientStack::send(&mut net, &mut s, b"x");
    assert!(
        matches!(r, Err(nb::Error::Other(ref e)) if e.kind() == TcpErrorKind::PipeClosed),
        "{r:?}"
    );
    TcpClientStack::close(&mut net, s).expect("close");
}

// ---------------------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------------------

fn os_udp() -> UdpSocket {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(WAIT)).unwrap();
    u
}

#[test]
fn udp_both_ways_via_socket_set() {
    let mut c = combo();
    let os = os_udp();
    let port = os.local_addr().unwrap().port();
    let h = c
        .sockets
        .connect_udp(&mut c.client, "127.0.0.1", port)
        .expect("UDP client");
    assert_eq!(c.sockets.kind(h), Ok(SocketKind::Udp));
    // Module → OS: one datagram, every byte value.
    let out = pattern(1000, 1);
    assert_eq!(c.sockets.send(&mut c.client, h, &out), Ok(1000));
    let mut buf = [0u8; 2048];
    let (n, from) = os.recv_from(&mut buf).expect("the datagram");
    assert_bytes(&buf[..n], &out, "module -> OS");
    // OS → module, to the address it came from.
    let back = pattern(700, 2);
    os.send_to(&back, from).unwrap();
    let mut rbuf = [0u8; 1024];
    let k = c
        .sockets
        .receive_timeout(&mut c.client, h, &mut rbuf, ms(WAIT))
        .expect("the reply");
    assert_bytes(&rbuf[..k], &back, "OS -> module");
    // A datagram is one packet: more is refused before anything is written.
    assert_eq!(
        c.sockets.send(&mut c.client, h, &pattern(1025, 0)),
        Err(NetError::DatagramTooLarge { len: 1025 })
    );
    c.sockets.close(&mut c.client, h).unwrap();
}

#[test]
fn udp_both_ways_via_embedded_nal() {
    let mut c = combo();
    let os = os_udp();
    let os_addr = os.local_addr().unwrap();
    let mut net = Net::new(&mut c.client, &mut c.sockets);
    let mut s = UdpClientStack::socket(&mut net).unwrap();
    UdpClientStack::connect(&mut net, &mut s, os_addr).expect("connect");
    let out = pattern(512, 9);
    nb::block!(UdpClientStack::send(&mut net, &mut s, &out)).expect("send");
    let mut buf = [0u8; 2048];
    let (n, from) = os.recv_from(&mut buf).expect("the datagram");
    assert_bytes(&buf[..n], &out, "module -> OS");
    let back = pattern(300, 10);
    os.send_to(&back, from).unwrap();
    let end = Instant::now() + WAIT;
    let mut rbuf = [0u8; 1024];
    let (k, remote) = loop {
        match UdpClientStack::receive(&mut net, &mut s, &mut rbuf) {
            Ok(x) => break x,
            Err(nb::Error::WouldBlock) if Instant::now() < end => {
                thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("receive: {e:?}"),
        }
    };
    assert_bytes(&rbuf[..k], &back, "OS -> module");
    assert_eq!(remote, os_addr, "the datagram's sender");
    UdpClientStack::close(&mut net, s).unwrap();
}

#[test]
fn udp_server_on_the_module_answers_its_first_peer() {
    let mut c = combo();
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = c
        .sockets
        .listen_udp(&mut c.client, port)
        .expect("UDP server");
    // No peer yet: nothing to send to.
    assert_eq!(
        c.sockets.send(&mut c.client, h, b"hello?"),
        Err(NetError::NoPeerYet)
    );
    let os = os_udp();
    let knock = pattern(256, 0);
    os.send_to(&knock, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 1024];
    let k = c
        .sockets
        .receive_timeout(&mut c.client, h, &mut buf, ms(WAIT))
        .expect("the first datagram");
    assert_bytes(&buf[..k], &knock, "OS -> module");
    let answer = pattern(900, 0x11);
    assert_eq!(c.sockets.send(&mut c.client, h, &answer), Ok(900));
    let mut rbuf = [0u8; 2048];
    let (n, from) = os.recv_from(&mut rbuf).expect("the answer");
    assert_bytes(&rbuf[..n], &answer, "module -> OS");
    assert_eq!(from.port(), port, "answered from the server's port");
    c.sockets.close(&mut c.client, h).unwrap();
}

// ---------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------

#[test]
fn dns_through_wdomain_and_embedded_nal() {
    let mut c = combo();
    // AT+WDOMAIN directly.
    let r = c
        .client
        .send(&Resolve::new(AI, "localhost").unwrap())
        .expect("AT+WDOMAIN=localhost");
    assert_eq!(r.ip, LOCALHOST);
    // An unknown name: the module's ERROR, typed.
    let r = c
        .client
        .send(&Resolve::new(AI, "no-such-host.invalid").unwrap());
    assert!(matches!(r, Err(Error::Module { .. })), "{r:?}");
    // A name that is no host name is refused before anything is written.
    assert!(matches!(
        Resolve::new(AI, "bad host"),
        Err(Error::Invalid { field: "name", .. })
    ));

    let (port, server) = echo_server();
    let mut net = Net::new(&mut c.client, &mut c.sockets);
    for either in [false, true] {
        // (`nb::block!` evaluates its expression again on each retry: AddrType is not Copy.)
        let t = || {
            if either {
                AddrType::Either
            } else {
                AddrType::IPv4
            }
        };
        let ip = nb::block!(Dns::get_host_by_name(&mut net, "localhost", t())).expect("localhost");
        assert_eq!(ip, LOCALHOST, "either: {either}");
    }
    assert_eq!(
        nb::block!(Dns::get_host_by_name(&mut net, "127.0.0.1", AddrType::IPv4)),
        Ok(LOCALHOST)
    );
    let r = nb::block!(Dns::get_host_by_name(
        &mut net,
        "no-such-host.invalid",
        AddrType::IPv4
    ));
    assert!(
        matches!(r, Err(NetError::At(Error::Module { .. }))),
        "{r:?}"
    );
    assert!(matches!(
        nb::block!(Dns::get_host_by_name(&mut net, "localhost", AddrType::IPv6)),
        Err(NetError::Unsupported { .. })
    ));
    assert!(matches!(
        nb::block!(Dns::get_host_by_address(
            &mut net,
            LOCALHOST,
            &mut [0u8; 64]
        )),
        Err(NetError::Unsupported { .. })
    ));

    // The resolved address works: a round trip to the echo server.
    let ip = nb::block!(Dns::get_host_by_name(&mut net, "localhost", AddrType::IPv4)).unwrap();
    let mut s = TcpClientStack::socket(&mut net).unwrap();
    nb::block!(TcpClientStack::connect(
        &mut net,
        &mut s,
        SocketAddr::new(ip, port)
    ))
    .unwrap();
    nb::block!(TcpClientStack::send(&mut net, &mut s, b"resolved")).unwrap();
    assert_bytes(
        &nal_receive_exactly(&mut net, &mut s, 8),
        b"resolved",
        "echo",
    );
    TcpClientStack::close(&mut net, s).unwrap();
    assert_bytes(
        &server.recv_timeout(WAIT).unwrap(),
        b"resolved",
        "server side",
    );

    // And the module resolves a name given to AT+SOCKET itself.
    let (port, _server) = echo_server();
    let h = c
        .sockets
        .connect_tcp(&mut c.client, "localhost", port)
        .expect("connect by name");
    assert_eq!(c.sockets.send(&mut c.client, h, b"by name"), Ok(7));
    assert_bytes(&receive_exactly(&mut c, h, 7), b"by name", "echo by name");
    c.sockets.close(&mut c.client, h).unwrap();
}
