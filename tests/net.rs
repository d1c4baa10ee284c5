//! The socket layer and the embedded-nal stack over a scripted Combo-AT module, at every
//! chunk size: opening, sending, packet-by-packet reads, servers, the rules, events that
//! are not the sockets', and the hard flows — data arriving inside a send's prompt, a peer
//! closing between two reads, a module reset mid-session.

use at_wifi::command::socket::{ReceiveMode, SocketEvent, UdpTtMode};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::net::{Net, NetError, SocketHandle, SocketKind, SocketSet, SocketState, WifiState};
use at_wifi::{Client, Dialect, Error, Event, Urc};
use embedded_nal::{
    AddrType, Dns, TcpClientStack, TcpError, TcpErrorKind, TcpFullStack, UdpClientStack,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const CHUNKS: [usize; 5] = [1, 3, 7, 64, usize::MAX];
const AI: Dialect = Dialect::AiThinker;

type TestClient = Client<MockUart, MockClock, 1100, 1100>;

fn client(uart: MockUart) -> TestClient {
    let clock = uart.clock();
    Client::new(uart, clock, AI)
}

fn wb<T: core::fmt::Debug>(r: nb::Result<T, NetError>) -> NetError {
    match r {
        Err(nb::Error::Other(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn would_block<T: core::fmt::Debug>(r: nb::Result<T, NetError>) {
    assert!(matches!(r, Err(nb::Error::WouldBlock)), "{r:?}");
}

/// A module with one TCP client (ConID 1) to 192.168.1.10:8080, script to follow.
fn tcp_script(chunk: usize) -> MockUart {
    let mut uart = MockUart::new();
    uart.set_chunk(chunk);
    uart.expect(b"AT+SOCKETRECVCFG=0\r\n", b"\r\nOK\r\n");
    uart.expect(
        b"AT+SOCKET=4,192.168.1.10,8080\r\n",
        b"\r\nconnect success ConID=1\r\n\r\nOK\r\n",
    );
    uart
}

fn open_tcp(c: &mut TestClient, s: &mut SocketSet) -> SocketHandle {
    s.init(c, ReceiveMode::Passive).unwrap();
    let h = s.connect_tcp(c, "192.168.1.10", 8080).unwrap();
    assert_eq!(s.state(h), Ok(SocketState::Open));
    assert_eq!(s.kind(h), Ok(SocketKind::Tcp));
    assert_eq!(s.con_id(h), Ok(Some(1)));
    assert_eq!(s.peer(h), Ok(Some("192.168.1.10:8080".parse().unwrap())));
    h
}

// ---------------------------------------------------------------------------------------
// TCP client
// ---------------------------------------------------------------------------------------

#[test]
fn tcp_round_trip_reads_packet_by_packet_and_keeps_the_rest() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,5\r\n", b"\r\n>");
        uart.expect(b"hello", b"\r\nOK\r\n+EVENT:SocketDown,1,21\r\n");
        uart.expect(
            b"AT+SOCKETREAD=1\r\n",
            b"+SOCKETREAD,1,21,Hello From TCP Server\r\nOK\r\n",
        );
        uart.expect(
            b"AT+SOCKETDEL=1\r\n",
            b"\r\nOK\r\n+EVENT:SocketAutoDel,1\r\n",
        );
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        assert_eq!(s.send(&mut c, h, b"hello"), Ok(5));
        let mut buf = [0u8; 8];
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(8));
        assert_eq!(&buf, b"Hello Fr");
        // The rest of the packet, without another command.
        assert_eq!(s.available(h), Ok(13));
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(8));
        assert_eq!(&buf, b"om TCP S");
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"erver");
        would_block(s.receive(&mut c, h, &mut buf));
        assert_eq!(s.receive(&mut c, h, &mut []), Ok(0));
        s.close(&mut c, h).unwrap();
        assert_eq!(s.state(h), Err(NetError::InvalidHandle));
        assert_eq!(s.send(&mut c, h, b"x"), Err(NetError::InvalidHandle));
        // The module's `+EVENT:SocketAutoDel,1` after the delete is the set's own.
        assert!(s.poll_event(&mut c).unwrap().is_none(), "chunk {chunk}");
        c.release().0.assert_done();
    }
}

#[test]
fn long_data_goes_out_in_packets() {
    let data: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,1024\r\n", b">");
        uart.expect(&data[..1024], b"\r\nOK\r\n");
        uart.expect(b"AT+SOCKETSEND=1,1024\r\n", b">");
        uart.expect(&data[1024..2048], b"\r\nOK\r\n");
        uart.expect(b"AT+SOCKETSEND=1,452\r\n", b">");
        uart.expect(&data[2048..], b"\r\nOK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        assert_eq!(s.send(&mut c, h, &data), Ok(2500));
        assert_eq!(s.send(&mut c, h, b""), Ok(0));
        c.release().0.assert_done();
    }
}

#[test]
fn a_failed_packet_after_sent_ones_reports_what_went_out() {
    let data = vec![b'a'; 1500];
    let mut uart = tcp_script(usize::MAX);
    uart.expect(b"AT+SOCKETSEND=1,1024\r\n", b">");
    uart.expect(&data[..1024], b"\r\nOK\r\n");
    uart.expect(b"AT+SOCKETSEND=1,476\r\n", b"\r\nERROR\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let h = open_tcp(&mut c, &mut s);
    assert_eq!(s.send(&mut c, h, &data), Ok(1024));
}

#[test]
fn the_module_may_answer_ok_alone() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+SOCKET=4,10.0.0.1,80\r\n", b"\r\nOK\r\n");
        uart.expect(
            b"AT+SOCKET?\r\n",
            b"2,3,1,,-1,80,-1\r\n5,4,1,10.0.0.1,80,-1,-1\r\nOK\r\n",
        );
        // Or the success line comes as an event after the `OK`.
        uart.expect(
            b"AT+SOCKET=2,10.0.0.1,53\r\n",
            b"\r\nOK\r\nconnect success ConID=6\r\n",
        );
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = s.connect_tcp(&mut c, "10.0.0.1", 80).unwrap();
        assert_eq!(s.con_id(h), Ok(Some(5)), "chunk {chunk}");
        let u = s.connect_udp(&mut c, "10.0.0.1", 53).unwrap();
        assert_eq!(s.con_id(u), Ok(Some(6)), "chunk {chunk}");
        c.release().0.assert_done();
    }
}

#[test]
fn connect_failures_free_the_slot() {
    let mut uart = MockUart::new();
    uart.expect(b"AT+SOCKET=4,10.0.0.1,81\r\n", b"\r\nERROR\r\n");
    let mut c = client(uart);
    let mut s: SocketSet<1> = SocketSet::new();
    assert!(matches!(
        s.connect_tcp(&mut c, "10.0.0.1", 81),
        Err(NetError::At(Error::Module { .. }))
    ));
    // A bad host is refused before anything is written; the slot is free again.
    assert!(matches!(
        s.connect_tcp(&mut c, "bad host", 81),
        Err(NetError::At(Error::Invalid { field: "host", .. }))
    ));
    let h = s.open().unwrap();
    assert_eq!(s.open(), Err(NetError::NoFreeSocket));
    assert_eq!(s.send(&mut c, h, b"x"), Err(NetError::NotConnected));
    assert_eq!(
        wb(s.receive(&mut c, h, &mut [0; 4])),
        NetError::NotConnected
    );
    assert_eq!(
        s.connect(&mut c, h, SocketKind::TcpServer, "h", 1),
        Err(NetError::Unsupported {
            what: "connect needs a TCP, UDP or TLS client"
        })
    );
    let (uart, _) = c.release();
    assert_eq!(uart.written(), b"AT+SOCKET=4,10.0.0.1,81\r\n");
    // Outside Combo-AT.
    let mut c = Client::<_, _>::new(MockUart::new(), MockClock::default(), Dialect::EspAt);
    let mut s: SocketSet = SocketSet::new();
    assert!(matches!(
        s.connect_tcp(&mut c, "10.0.0.1", 80),
        Err(NetError::At(Error::Unsupported { .. }))
    ));
    assert!(matches!(
        s.init(&mut c, ReceiveMode::Passive),
        Err(NetError::At(Error::Unsupported { .. }))
    ));
}

#[test]
fn tls_client() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=7,example.com,443\r\n",
        b"connect success ConID=3\r\nOK\r\n",
    );
    uart.expect(b"AT+SOCKETSEND=3,18\r\n", b">");
    uart.expect(b"GET / HTTP/1.0\r\n\r\n", b"OK\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let h = s.connect_tls(&mut c, "example.com", 443).unwrap();
    assert_eq!(s.kind(h), Ok(SocketKind::Tls));
    assert_eq!(s.peer(h), Ok(None));
    assert_eq!(s.send(&mut c, h, b"GET / HTTP/1.0\r\n\r\n"), Ok(18));
    c.release().0.assert_done();
}

// ---------------------------------------------------------------------------------------
// The hard flows
// ---------------------------------------------------------------------------------------

#[test]
fn data_arriving_while_a_send_is_in_its_prompt() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        // Notifications right after the prompt and between the data and the `OK`.
        uart.expect(b"AT+SOCKETSEND=1,4\r\n", b"\r\n>+EVENT:SocketDown,1,3\r\n");
        uart.expect(
            b"ping",
            b"+EVENT:SocketDown,1,2\r\n+EVENT:WIFI_GOT_IP\r\n\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,3,abc\r\nOK\r\n");
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,2,de\r\nOK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        assert_eq!(s.send(&mut c, h, b"ping"), Ok(4));
        let mut buf = [0u8; 16];
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(3));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"de");
        would_block(s.receive(&mut c, h, &mut buf));
        // The Wi-Fi event was kept for the application.
        assert!(matches!(
            s.poll_event(&mut c),
            Ok(Some(Event::Urc(Urc::WifiGotIp)))
        ));
        assert_eq!(s.wifi(), WifiState::GotIp);
        c.release().0.assert_done();
    }
}

#[test]
fn active_data_arriving_inside_a_send() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+SOCKETRECVCFG=1\r\n", b"\r\nOK\r\n");
        uart.expect(
            b"AT+SOCKET=4,192.168.1.10,8080\r\n",
            b"connect success ConID=1\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETSEND=1,4\r\n", b">");
        // The payload holds CR LF, `OK` and `>`: it is data, read by length.
        uart.expect(b"ping", b"+EVENT:SocketDown,1,9,\r\nOK\r\n>x\r\nOK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        s.init(&mut c, ReceiveMode::Active).unwrap();
        let h = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
        assert_eq!(s.send(&mut c, h, b"ping"), Ok(4));
        let mut buf = [0u8; 16];
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(9), "chunk {chunk}");
        assert_eq!(&buf[..9], b"\r\nOK\r\n>x\r");
        would_block(s.receive(&mut c, h, &mut buf));
        c.release().0.assert_done();
    }
}

#[test]
fn peer_closes_between_two_reads() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
        uart.expect(b"?", b"OK\r\n+EVENT:SocketDown,1,4\r\n");
        uart.expect(
            b"AT+SOCKETREAD=1\r\n",
            b"+SOCKETREAD,1,4,one!\r\nOK\r\n+EVENT:SocketDown,1,4\r\n+EVENT:SocketDissconnect,1\r\n",
        );
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,4,two!\r\nOK\r\n");
        uart.expect(b"AT+SOCKETDEL=1\r\n", b"OK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        s.send(&mut c, h, b"?").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"one!");
        // Closed, but what the peer sent before is still handed out.
        s.poll(&mut c).unwrap();
        assert_eq!(s.state(h), Ok(SocketState::Closed));
        assert_eq!(s.receive(&mut c, h, &mut buf), Ok(4));
        assert_eq!(&buf[..4], b"two!");
        assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Closed);
        assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Closed);
        assert_eq!(s.send(&mut c, h, b"x"), Err(NetError::Closed));
        assert_eq!(NetError::Closed.kind(), TcpErrorKind::PipeClosed);
        // The module keeps the connection until it is deleted.
        s.close(&mut c, h).unwrap();
        c.release().0.assert_done();
    }
}

#[test]
fn peer_closes_while_idle_and_the_module_deletes_it() {
    for chunk in CHUNKS {
        let mut c = client(tcp_script(chunk));
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        c.uart_mut()
            .push_rx(b"+EVENT:SocketDisconnect,1\r\n+EVENT:SocketAutoDel,1\r\n");
        let mut buf = [0u8; 8];
        assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Closed);
        // Deleted by the module: closing writes nothing.
        s.close(&mut c, h).unwrap();
        c.release().0.assert_done();
    }
}

#[test]
fn module_reset_during_a_send() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,4\r\n", b">");
        uart.expect(b"data", b"\xff\x00boot noise\r\nready\r\n");
        uart.expect(
            b"AT+SOCKET=4,192.168.1.10,8080\r\n",
            b"connect success ConID=1\r\nOK\r\n",
        );
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        assert_eq!(s.send(&mut c, h, b"data"), Err(NetError::Reset));
        // Every later call says so at once; nothing is written.
        assert_eq!(s.state(h), Ok(SocketState::Reset));
        let mut buf = [0u8; 4];
        assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Reset);
        assert_eq!(s.send(&mut c, h, b"x"), Err(NetError::Reset));
        // The application hears of the reboot too.
        let mut saw_reset = false;
        while let Some(e) = s.poll_event(&mut c).unwrap() {
            saw_reset |= matches!(e, Event::Reset);
        }
        assert!(saw_reset, "chunk {chunk}");
        assert_eq!(s.wifi(), WifiState::Disconnected);
        s.close(&mut c, h).unwrap();
        // A new connection works.
        let h2 = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
        assert_eq!(s.state(h2), Ok(SocketState::Open));
        c.release().0.assert_done();
    }
}

#[test]
fn module_reset_between_calls() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
        uart.expect(b"x", b"OK\r\n+EVENT:SocketDown,1,3\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        let server = s.open().unwrap();
        s.send(&mut c, h, b"x").unwrap();
        c.uart_mut()
            .push_rx(b"\r\nready\r\n+EVENT:WIFI_CONNECT\r\n");
        let mut buf = [0u8; 4];
        // The announced packet is gone with the module's memory: no read is sent.
        assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Reset);
        assert_eq!(NetError::Reset.kind(), TcpErrorKind::PipeClosed);
        // An unconnected socket is not affected.
        assert_eq!(s.state(server), Ok(SocketState::Unconnected));
        assert!(matches!(s.next_event(), Some(Event::Reset)));
        assert!(matches!(
            s.next_event(),
            Some(Event::Urc(Urc::WifiConnected))
        ));
        assert_eq!(s.wifi(), WifiState::Connected);
        c.release().0.assert_done();
    }
}

#[test]
fn module_reset_in_a_read() {
    let mut uart = tcp_script(usize::MAX);
    uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
    uart.expect(b"x", b"OK\r\n+EVENT:SocketDown,1,3\r\n");
    uart.expect(b"AT+SOCKETREAD=1\r\n", b"\r\nready\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let h = open_tcp(&mut c, &mut s);
    s.send(&mut c, h, b"x").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Reset);
    assert_eq!(wb(s.receive(&mut c, h, &mut buf)), NetError::Reset);
    c.release().0.assert_done();
}

// ---------------------------------------------------------------------------------------
// Buffers
// ---------------------------------------------------------------------------------------

#[test]
fn bytes_that_do_not_fit_are_reported_once() {
    let mut uart = tcp_script(usize::MAX);
    uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
    uart.expect(b"x", b"OK\r\n+EVENT:SocketDown,1,10\r\n");
    uart.expect(
        b"AT+SOCKETREAD=1\r\n",
        b"+SOCKETREAD,1,10,0123456789\r\nOK\r\n",
    );
    let mut c = client(uart);
    let mut s: SocketSet<1, 4, 128> = SocketSet::new();
    s.init(&mut c, ReceiveMode::Passive).unwrap();
    let h = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
    s.send(&mut c, h, b"x").unwrap();
    let mut buf = [0u8; 2];
    assert_eq!(s.receive(&mut c, h, &mut buf), Ok(2));
    assert_eq!(&buf, b"01");
    let mut big = [0u8; 16];
    assert_eq!(s.receive(&mut c, h, &mut big), Ok(4));
    assert_eq!(&big[..4], b"2345");
    assert_eq!(
        wb(s.receive(&mut c, h, &mut big)),
        NetError::Overrun { lost: 4 }
    );
    would_block(s.receive(&mut c, h, &mut big));
}

#[test]
fn a_packet_larger_than_the_client_reply_buffer_is_lost_and_reported() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=4,192.168.1.10,8080\r\n",
        b"connect success ConID=1\r\nOK\r\n+EVENT:SocketDown,1,600\r\n",
    );
    let mut reply = b"+SOCKETREAD,1,600,".to_vec();
    reply.extend_from_slice(&[b'z'; 600]);
    reply.extend_from_slice(b"\r\nOK\r\n");
    uart.expect(b"AT+SOCKETREAD=1\r\n", &reply);
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, AI); // RESP 512
    let mut s: SocketSet = SocketSet::new();
    let h = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        wb(s.receive(&mut c, h, &mut buf)),
        NetError::Overrun { lost: 600 }
    );
    would_block(s.receive(&mut c, h, &mut buf));
    c.release().0.assert_done();
}

#[test]
fn missed_notifications_are_made_up_for_by_asking() {
    let mut uart = tcp_script(usize::MAX);
    uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
    // Events while the send runs: the small queue overflows, the notification is lost.
    uart.expect(
        b"x",
        b"+EVENT:WIFI_GOT_IP\r\n+EVENT:WIFI_GOT_IP\r\n+EVENT:WIFI_GOT_IP\r\n+EVENT:SocketDown,1,3\r\nOK\r\n",
    );
    uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,3,abc\r\nOK\r\n");
    uart.expect(b"AT+SOCKETREAD=1\r\n", b"OK\r\n");
    let clock = uart.clock();
    // A tiny event queue that overflows.
    let mut c: Client<_, _, 1100, 1100, 296, 64> = Client::new(uart, clock, AI);
    let mut s: SocketSet = SocketSet::new();
    s.init(&mut c, ReceiveMode::Passive).unwrap();
    let h = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
    s.send(&mut c, h, b"x").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.receive(&mut c, h, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    // Asked once more: nothing.
    would_block(s.receive(&mut c, h, &mut buf));
    would_block(s.receive(&mut c, h, &mut buf));
    let mut overflow = false;
    while let Some(e) = s.next_event() {
        overflow |= matches!(e, Event::Overflow { .. });
    }
    assert!(overflow);
    c.release().0.assert_done();
}

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

#[test]
fn tcp_server_accepts_and_refuses_to_send() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+SOCKET=3,8888\r\n",
            b"connect success ConID=1\r\nOK\r\n+EVENT:SocketSeed,2,1\r\n+EVENT:SocketDown,2,5\r\n",
        );
        uart.expect(
            b"AT+SOCKET?\r\n",
            b"1,3,1,,-1,8888,-1\r\n2,5,1,192.168.1.77,50123,8888,1\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETREAD=2\r\n", b"+SOCKETREAD,2,5,hello\r\nOK\r\n");
        uart.expect(b"AT+SOCKETSEND=2,3\r\n", b">");
        uart.expect(b"bye", b"OK\r\n");
        uart.expect(b"AT+SOCKETDEL=2\r\n", b"OK\r\n");
        uart.expect(b"AT+SOCKETDEL=1\r\n", b"OK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let server = s.listen_tcp(&mut c, 8888).unwrap();
        assert_eq!(s.state(server), Ok(SocketState::Listening));
        assert_eq!(
            s.send(&mut c, server, b"x"),
            Err(NetError::ServerCannotSend)
        );
        assert_eq!(
            wb(s.receive(&mut c, server, &mut [0; 4])),
            NetError::ServerCannotSend
        );
        let (conn, peer) = s.accept(&mut c, server).unwrap();
        assert_eq!(peer, "192.168.1.77:50123".parse().unwrap());
        assert_eq!(s.kind(conn), Ok(SocketKind::Accepted));
        assert_eq!(s.available(conn), Ok(5));
        would_block(s.accept(&mut c, server));
        let mut buf = [0u8; 8];
        assert_eq!(s.receive(&mut c, conn, &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(s.send(&mut c, conn, b"bye"), Ok(3));
        c.uart_mut().push_rx(b"+EVENT:SocketDissconnect,2\r\n");
        assert_eq!(wb(s.receive(&mut c, conn, &mut buf)), NetError::Closed);
        s.close(&mut c, conn).unwrap();
        s.close(&mut c, server).unwrap();
        assert_eq!(
            wb(s.accept(&mut c, server)),
            NetError::InvalidHandle,
            "chunk {chunk}"
        );
        c.release().0.assert_done();
    }
}

#[test]
fn connections_nobody_takes_are_deleted() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=3,8888\r\n",
        b"connect success ConID=1\r\nOK\r\n",
    );
    // Five connections; four can wait.
    uart.expect(b"AT+SOCKETDEL=7\r\n", b"OK\r\n");
    // One of the waiting ones closes before it is accepted.
    uart.expect(b"AT+SOCKETDEL=4\r\n", b"OK\r\n+EVENT:SocketAutoDel,4\r\n");
    // Closing the server refuses the rest.
    uart.expect(b"AT+SOCKETDEL=1\r\n", b"OK\r\n");
    uart.expect(b"AT+SOCKETDEL=6\r\n", b"OK\r\n");
    uart.expect(b"AT+SOCKETDEL=5\r\n", b"OK\r\n");
    uart.expect(b"AT+SOCKETDEL=3\r\n", b"OK\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let server = s.listen_tcp(&mut c, 8888).unwrap();
    c.uart_mut().push_rx(
        b"+EVENT:SocketSeed,3,1\r\n+EVENT:SocketSeed,4,1\r\n+EVENT:SocketSeed,5,1\r\n+EVENT:SocketSeed,6,1\r\n+EVENT:SocketSeed,7,1\r\n",
    );
    s.poll(&mut c).unwrap();
    c.uart_mut().push_rx(b"+EVENT:SocketDissconnect,4\r\n");
    s.poll(&mut c).unwrap();
    // A seed of a server the set does not own is the application's.
    c.uart_mut().push_rx(b"+EVENT:SocketSeed,9,8\r\n");
    match s.poll_event(&mut c).unwrap() {
        Some(Event::Urc(u)) => assert_eq!(
            SocketEvent::from_urc(&u),
            Some(SocketEvent::Seed { seed: 9, server: 8 })
        ),
        other => panic!("{other:?}"),
    }
    s.close(&mut c, server).unwrap();
    assert!(s.poll_event(&mut c).unwrap().is_none());
    c.release().0.assert_done();
}

#[test]
fn a_seed_folded_into_a_reply_is_still_seen() {
    // While a command runs, a line the client does not know as a URC can end up in the
    // command's reply: the set finds it there.
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=3,8888\r\n",
        b"connect success ConID=1\r\nOK\r\n",
    );
    uart.expect(
        b"AT+SOCKET=4,192.168.1.10,8080\r\n",
        b"+EVENT:SocketSeed,3,1\r\nconnect success ConID=2\r\nOK\r\n",
    );
    uart.expect(
        b"AT+SOCKET?\r\n",
        b"1,3,1,,-1,8888,-1\r\n2,4,1,192.168.1.10,8080,-1,-1\r\n3,5,1,10.1.1.1,4000,8888,1\r\nOK\r\n",
    );
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let server = s.listen_tcp(&mut c, 8888).unwrap();
    let h = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
    assert_eq!(s.con_id(h), Ok(Some(2)));
    let (conn, peer) = s.accept(&mut c, server).unwrap();
    assert_eq!(s.con_id(conn), Ok(Some(3)));
    assert_eq!(peer, "10.1.1.1:4000".parse().unwrap());
    c.release().0.assert_done();
}

#[test]
fn udp_server_replies_only_after_a_peer_spoke() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+SOCKET=1,8001\r\n",
            b"connect success ConID=1\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,4,ping\r\nOK\r\n");
        uart.expect(b"AT+SOCKETSEND=1,4\r\n", b">");
        uart.expect(b"pong", b"OK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let u = s.listen_udp(&mut c, 8001).unwrap();
        assert_eq!(s.kind(u), Ok(SocketKind::UdpServer));
        assert_eq!(s.send(&mut c, u, b"pong"), Err(NetError::NoPeerYet));
        c.uart_mut().push_rx(b"+EVENT:SocketDown,1,4\r\n");
        let mut buf = [0u8; 8];
        assert_eq!(s.receive(&mut c, u, &mut buf), Ok(4));
        assert_eq!(s.send(&mut c, u, b"pong"), Ok(4));
        c.release().0.assert_done();
    }
}

#[test]
fn udp_datagrams_are_whole_or_cut() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=2,192.168.31.239,23333\r\n",
        b"connect success ConID=2\r\nOK\r\n+EVENT:SocketDown,2,10\r\n+EVENT:SocketDown,2,3\r\n",
    );
    uart.expect(
        b"AT+SOCKETREAD=2\r\n",
        b"+SOCKETREAD,2,10,0123456789\r\nOK\r\n",
    );
    uart.expect(b"AT+SOCKETREAD=2\r\n", b"+SOCKETREAD,2,3,abc\r\nOK\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let u = s.connect_udp(&mut c, "192.168.31.239", 23333).unwrap();
    assert_eq!(
        s.send(&mut c, u, &[0u8; 1025]),
        Err(NetError::DatagramTooLarge { len: 1025 })
    );
    let mut buf = [0u8; 4];
    // A datagram larger than the buffer is cut: the rest is not the next datagram.
    assert_eq!(s.receive(&mut c, u, &mut buf), Ok(4));
    assert_eq!(&buf, b"0123");
    assert_eq!(s.receive(&mut c, u, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    would_block(s.receive(&mut c, u, &mut buf));
    c.release().0.assert_done();
}

// ---------------------------------------------------------------------------------------
// Events that are not the sockets'
// ---------------------------------------------------------------------------------------

#[test]
fn other_events_are_kept_in_order() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETSEND=1,1\r\n", b">");
        uart.expect(
            b"x",
            b"+EVENT:MQTT_SUB,cmd/led,3,off\r\nOK\r\n+EVENT:SocketDown,1,2\r\n+EVENT:SocketDown,5,2\r\n+EVENT:WIFI_DISCONNECT\r\n",
        );
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        c.uart_mut().push_rx(b"+EVENT:WIFI_CONNECT\r\n");
        let h = open_tcp(&mut c, &mut s);
        s.send(&mut c, h, b"x").unwrap();
        let mut got = Vec::new();
        while let Some(e) = s.poll_event(&mut c).unwrap() {
            got.push(match e {
                Event::Urc(Urc::WifiConnected) => "wifi connected".to_string(),
                Event::Urc(Urc::MqttMessage(m)) => format!(
                    "mqtt {} {}",
                    String::from_utf8_lossy(m.topic),
                    String::from_utf8_lossy(m.data)
                ),
                Event::Urc(Urc::SocketDataAvailable { link, len }) => {
                    format!("foreign socket {link} {len}")
                }
                Event::Urc(Urc::WifiDisconnected) => "wifi down".to_string(),
                other => format!("{other:?}"),
            });
        }
        assert_eq!(
            got,
            [
                "wifi connected",
                "mqtt cmd/led off",
                "foreign socket 5 2",
                "wifi down"
            ],
            "chunk {chunk}"
        );
        assert_eq!(s.available(h), Ok(2));
        assert_eq!(s.wifi(), WifiState::Disconnected);
    }
}

#[test]
fn a_full_event_store_reports_an_overflow() {
    let mut uart = MockUart::new();
    let clock = uart.clock();
    uart.push_rx(b"+EVENT:MQTT_CONNECT\r\n+EVENT:MQTT_DISCONNECT\r\n+EVENT:MQTT_CONNECT\r\n");
    let mut c: TestClient = Client::new(uart, clock, AI);
    let mut s: SocketSet<1, 16, 64> = SocketSet::new();
    s.poll(&mut c).unwrap();
    // The third event did not fit: reported in order, after the two that did.
    assert!(matches!(
        s.next_event(),
        Some(Event::Urc(Urc::Line(b"+EVENT:MQTT_CONNECT")))
    ));
    assert!(matches!(
        s.next_event(),
        Some(Event::Urc(Urc::Line(b"+EVENT:MQTT_DISCONNECT")))
    ));
    assert!(matches!(
        s.next_event(),
        Some(Event::Overflow { dropped: 1 })
    ));
    assert!(s.next_event().is_none());
}

#[test]
fn receive_with_a_timeout_waits_for_the_peer() {
    for chunk in CHUNKS {
        let mut uart = tcp_script(chunk);
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,2,hi\r\nOK\r\n");
        let clock = uart.clock();
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let h = open_tcp(&mut c, &mut s);
        let t = clock.now();
        c.uart_mut().schedule(t + 50, b"+EVENT:SocketDown,1,2\r\n");
        let mut buf = [0u8; 4];
        assert_eq!(s.receive_timeout(&mut c, h, &mut buf, 1000), Ok(2));
        assert!(clock.now() >= t + 50);
        assert_eq!(
            s.receive_timeout(&mut c, h, &mut buf, 100),
            Err(NetError::At(Error::Timeout { ms: 100 }))
        );
        c.uart_mut()
            .schedule(clock.now() + 10, b"+EVENT:SocketDissconnect,1\r\n");
        assert_eq!(
            s.receive_timeout(&mut c, h, &mut buf, 1000),
            Err(NetError::Closed)
        );
        c.release().0.assert_done();
    }
}

// ---------------------------------------------------------------------------------------
// Transparent mode through the set
// ---------------------------------------------------------------------------------------

#[test]
fn transparent_on_the_only_socket() {
    let mut uart = tcp_script(usize::MAX);
    uart.expect(
        b"AT+SOCKET?\r\n",
        b"1,4,1,192.168.1.10,8080,-1,-1\r\nOK\r\n",
    );
    uart.expect(b"AT+SOCKETTT\r\n", b"\r\n>");
    uart.expect(b"raw", b"back");
    uart.expect(b"+++", b"\r\nOK\r\n");
    uart.expect(
        b"AT+SOCKET?\r\n",
        b"1,4,1,192.168.1.10,8080,-1,-1\r\nOK\r\n",
    );
    uart.expect(
        b"AT+SOCKET=4,192.168.1.10,8080\r\n",
        b"connect success ConID=2\r\nOK\r\n",
    );
    uart.expect(
        b"AT+SOCKET?\r\n",
        b"1,4,1,192.168.1.10,8080,-1,-1\r\n2,4,1,192.168.1.10,8080,-1,-1\r\nOK\r\n",
    );
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let h = open_tcp(&mut c, &mut s);
    {
        let mut t = s.transparent(&mut c, h, None).unwrap();
        t.write(b"raw").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(t.read_timeout(&mut buf, 100).unwrap(), 4);
        assert_eq!(&buf, b"back");
        t.exit().unwrap();
    }
    // A UDP-server mode on a TCP client, or a second socket: refused, no `AT+SOCKETTT`.
    assert!(matches!(
        s.transparent(&mut c, h, Some(UdpTtMode::LastPeer))
            .map(|_| ()),
        Err(NetError::TransparentUnavailable)
    ));
    let h2 = s.connect_tcp(&mut c, "192.168.1.10", 8080).unwrap();
    assert!(matches!(
        s.transparent(&mut c, h2, None).map(|_| ()),
        Err(NetError::TransparentUnavailable)
    ));
    c.release().0.assert_done();
}

// ---------------------------------------------------------------------------------------
// embedded-nal
// ---------------------------------------------------------------------------------------

/// A client written against embedded-nal only.
fn http_get<S: TcpClientStack>(
    stack: &mut S,
    to: SocketAddr,
    out: &mut [u8],
) -> Result<usize, S::Error> {
    let mut sock = stack.socket()?;
    nb::block!(stack.connect(&mut sock, to))?;
    let req = b"GET / HTTP/1.0\r\n\r\n";
    let mut sent = 0;
    while sent < req.len() {
        sent += nb::block!(stack.send(&mut sock, &req[sent..]))?;
    }
    let mut n = 0;
    loop {
        match stack.receive(&mut sock, &mut out[n..]) {
            Ok(k) => n += k,
            Err(nb::Error::WouldBlock) => continue,
            Err(nb::Error::Other(e)) if e.kind() == TcpErrorKind::PipeClosed => break,
            Err(nb::Error::Other(e)) => return Err(e),
        }
    }
    stack.close(sock)?;
    Ok(n)
}

#[test]
fn embedded_nal_tcp_client() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+SOCKET=4,93.184.216.34,80\r\n",
            b"connect success ConID=1\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETSEND=1,18\r\n", b">");
        uart.expect(
            b"GET / HTTP/1.0\r\n\r\n",
            b"OK\r\n+EVENT:SocketDown,1,19\r\n+EVENT:SocketDown,1,5\r\n+EVENT:SocketDissconnect,1\r\n",
        );
        uart.expect(
            b"AT+SOCKETREAD=1\r\n",
            b"+SOCKETREAD,1,19,HTTP/1.0 200 OK\r\n\r\n\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETREAD=1\r\n", b"+SOCKETREAD,1,5,body!\r\nOK\r\n");
        uart.expect(b"AT+SOCKETDEL=1\r\n", b"OK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let mut net = Net::new(&mut c, &mut s);
        let mut out = [0u8; 64];
        let n = http_get(&mut net, "93.184.216.34:80".parse().unwrap(), &mut out).unwrap();
        assert_eq!(&out[..n], b"HTTP/1.0 200 OK\r\n\r\nbody!", "chunk {chunk}");
        c.release().0.assert_done();
    }
}

#[test]
fn embedded_nal_connect_again_and_ipv6() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=4,10.0.0.2,1883\r\n",
        b"connect success ConID=1\r\nOK\r\n",
    );
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let mut net = Net::new(&mut c, &mut s);
    let mut sock = TcpClientStack::socket(&mut net).unwrap();
    let to: SocketAddr = "10.0.0.2:1883".parse().unwrap();
    TcpClientStack::connect(&mut net, &mut sock, to).unwrap();
    // nb-style retries of the same connect are fine; another peer is not.
    TcpClientStack::connect(&mut net, &mut sock, to).unwrap();
    assert_eq!(
        wb(TcpClientStack::connect(
            &mut net,
            &mut sock,
            "10.0.0.3:1883".parse().unwrap()
        )),
        NetError::AlreadyConnected
    );
    let mut v6 = TcpClientStack::socket(&mut net).unwrap();
    assert!(matches!(
        wb(TcpClientStack::connect(
            &mut net,
            &mut v6,
            "[::1]:80".parse().unwrap()
        )),
        NetError::Unsupported { .. }
    ));
    c.release().0.assert_done();
}

#[test]
fn embedded_nal_tcp_server() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET=3,8080\r\n",
        b"connect success ConID=1\r\nOK\r\n",
    );
    uart.expect(
        b"AT+SOCKET?\r\n",
        b"1,3,1,,-1,8080,-1\r\n2,5,1,192.168.4.2,40000,8080,1\r\nOK\r\n",
    );
    uart.expect(b"AT+SOCKETSEND=2,2\r\n", b">");
    uart.expect(b"hi", b"OK\r\n");
    let mut c = client(uart);
    let mut s: SocketSet = SocketSet::new();
    let mut net = Net::new(&mut c, &mut s);
    let mut server = TcpClientStack::socket(&mut net).unwrap();
    assert_eq!(
        wb(TcpFullStack::accept(&mut net, &mut server)),
        NetError::NotListening
    );
    TcpFullStack::bind(&mut net, &mut server, 8080).unwrap();
    TcpFullStack::listen(&mut net, &mut server).unwrap();
    would_block(TcpFullStack::accept(&mut net, &mut server));
    net.client()
        .uart_mut()
        .push_rx(b"+EVENT:SocketSeed,2,1\r\n");
    let (mut conn, peer) = TcpFullStack::accept(&mut net, &mut server).unwrap();
    assert_eq!(peer, "192.168.4.2:40000".parse().unwrap());
    assert_eq!(TcpClientStack::send(&mut net, &mut conn, b"hi"), Ok(2));
    assert_eq!(
        wb(TcpClientStack::send(&mut net, &mut server, b"hi")),
        NetError::ServerCannotSend
    );
    c.release().0.assert_done();
}

#[test]
fn embedded_nal_udp_and_dns() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+WDOMAIN=pool.ntp.org\r\n",
            b"+WDOMAIN:162.159.200.1\r\nOK\r\n",
        );
        uart.expect(
            b"AT+SOCKET=2,162.159.200.1,123\r\n",
            b"connect success ConID=4\r\nOK\r\n",
        );
        uart.expect(b"AT+SOCKETSEND=4,3\r\n", b">");
        uart.expect(b"ntp", b"OK\r\n+EVENT:SocketDown,4,2\r\n");
        uart.expect(b"AT+SOCKETREAD=4\r\n", b"+SOCKETREAD,4,2,ok\r\nOK\r\n");
        uart.expect(b"AT+SOCKETDEL=4\r\n", b"OK\r\n");
        let mut c = client(uart);
        let mut s: SocketSet = SocketSet::new();
        let mut net = Net::new(&mut c, &mut s);
        let ip = nb::block!(net.get_host_by_name("pool.ntp.org", AddrType::IPv4)).unwrap();
        assert_eq!(ip, IpAddr::V4(Ipv4Addr::new(162, 159, 200, 1)));
        // Literals need no lookup; IPv6 and reverse lookups are not possible.
        assert_eq!(
            net.get_host_by_name("10.1.2.3", AddrType::Either),
            Ok(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
        );
        assert!(matches!(
            wb(net.get_host_by_name("example.com", AddrType::IPv6)),
            NetError::Unsupported { .. }
        ));
        assert!(matches!(
            wb(net.get_host_by_address(ip, &mut [0; 64])),
            NetError::Unsupported { .. }
        ));
        let mut u = UdpClientStack::socket(&mut net).unwrap();
        let to = SocketAddr::new(ip, 123);
        UdpClientStack::connect(&mut net, &mut u, to).unwrap();
        nb::block!(UdpClientStack::send(&mut net, &mut u, b"ntp")).unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = nb::block!(UdpClientStack::receive(&mut net, &mut u, &mut buf)).unwrap();
        assert_eq!((&buf[..n], from), (&b"ok"[..], to));
        UdpClientStack::close(&mut net, u).unwrap();
        c.release().0.assert_done();
    }
}

#[test]
fn errors_read_well() {
    assert_eq!(NetError::from(Error::Reset), NetError::Reset);
    assert_eq!(NetError::from(Error::Busy), NetError::At(Error::Busy));
    assert_eq!(NetError::NoPeerYet.kind(), TcpErrorKind::Other);
    for e in [
        NetError::Closed,
        NetError::ServerCannotSend,
        NetError::NoPeerYet,
        NetError::DatagramTooLarge { len: 2000 },
        NetError::Overrun { lost: 3 },
        NetError::TransparentUnavailable,
        NetError::At(Error::Timeout { ms: 5 }),
    ] {
        assert!(!e.to_string().is_empty());
    }
}
