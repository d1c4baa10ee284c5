//! Combo-AT TCP/IP and Wi-Fi commands: exact bytes, reply parsing, limits and rules, URC
//! typing, transparent mode — through the mock UART at every chunk size.

use at_wifi::command::combo::*;
use at_wifi::command::socket::*;
use at_wifi::command::NoResponse;
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Error, Event, FailWord, Urc};
use atat::serde_at::serde::Serialize;
use atat::AtatCmd;
use core::fmt::Debug;
use core::net::{IpAddr, Ipv4Addr};

const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];
const AI: Dialect = Dialect::AiThinker;
const OTHERS: [Dialect; 3] = [Dialect::EspAt, Dialect::W800, Dialect::Beken];

type TestClient = Client<MockUart, MockClock, 1100, 1100>;

fn client(uart: MockUart) -> TestClient {
    let clock = uart.clock();
    Client::new(uart, clock, AI)
}

/// Sends `cmd` once per chunk size; the client must write exactly `line`; `reply` is
/// answered. Returns the (identical) parsed responses and the last reply bytes.
fn exchange<C>(cmd: &C, line: &[u8], reply: &[u8]) -> (C::Response, Vec<u8>)
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first: Option<(C::Response, Vec<u8>)> = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, reply);
        let mut c = client(uart);
        let r = c
            .send(cmd)
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e:?}"));
        let last = c.last_reply().to_vec();
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!((&f.0, &f.1), (&r, &last), "chunk {chunk}"),
            None => first = Some((r, last)),
        }
    }
    first.expect("a chunk size")
}

/// Like [`exchange`], through the prompt: `line`, `prompt`, then `data`, `result`.
fn exchange_data<C>(cmd: &C, line: &[u8], prompt: &[u8], data: &[u8], result: &[u8])
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, prompt);
        uart.expect(data, result);
        let mut c = client(uart);
        c.send_with_data(cmd, data)
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e:?}"));
        c.release().0.assert_done();
    }
}

/// Sends `cmd` once per chunk size and returns the client's (identical) results.
fn result_of<C>(cmd: &C, line: &[u8], reply: &[u8]) -> (Result<C::Response, Error>, Vec<u8>)
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, reply);
        let mut c = client(uart);
        let r = c.send(cmd);
        let last = c.last_reply().to_vec();
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!(f, &(r, last), "chunk {chunk}"),
            None => first = Some((r, last)),
        }
    }
    first.expect("a chunk size")
}

#[track_caller]
fn invalid<T: Debug>(r: Result<T, Error>, field: &str) {
    match r {
        Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected Invalid {{ field: {field:?} }}, got {other:?}"),
    }
}

#[track_caller]
fn unsupported<T: Debug>(r: Result<T, Error>) {
    match r {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn written<C: AtatCmd>(cmd: &C) -> Vec<u8> {
    let mut buf = [0u8; 300];
    let n = cmd.write(&mut buf);
    buf[..n].to_vec()
}

// ---------------------------------------------------------------------------------------
// Strings and hosts
// ---------------------------------------------------------------------------------------

#[test]
fn combo_text_is_bare_unless_it_must_be_quoted() {
    let enc = |v: &str| {
        let t = ComboText::new("v", v).unwrap();
        let mut b = [0u8; 64];
        let n = t.encode(&mut b).unwrap();
        assert_eq!(n, t.encoded_len());
        b[..n].to_vec()
    };
    assert_eq!(enc("1234567890"), b"1234567890");
    assert_eq!(enc("super_2G"), b"super_2G");
    assert_eq!(enc(r"back\slash"), br"back\slash");
    assert_eq!(enc("a,b"), br#""a,b""#);
    assert_eq!(enc("my wifi"), br#""my wifi""#);
    assert_eq!(enc(r#"say "hi"\"#), br#""say \"hi\"\\""#);
    assert_eq!(enc(""), br#""""#);
    for bad in ["a\rb", "a\nb", "a\0b"] {
        invalid(ComboText::new("v", bad), "v");
    }
    invalid(ComboText::new("v", &[b'x'; 257][..]), "v");
    assert!(ComboText::new("v", &[b'x'; 256][..]).is_ok());
}

#[test]
fn hosts_are_names_or_addresses() {
    for ok in [
        "192.168.31.239",
        "www.baidu.com",
        "my-host_1.local",
        "fe80::1",
    ] {
        assert!(HostName::new("host", ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "a,b", "\"x\"", "a\r", "grüße.de"] {
        invalid(HostName::new("host", bad), "host");
    }
    invalid(HostName::new("host", &[b'a'; 254][..]), "host");
    assert!(HostName::new("host", &[b'a'; 253][..]).is_ok());
}

// ---------------------------------------------------------------------------------------
// AT+SOCKET
// ---------------------------------------------------------------------------------------

#[test]
fn create_every_type() {
    let ok = b"connect success ConID=1\r\nOK\r\n";
    let cases: [(CreateSocket<'_>, &[u8]); 6] = [
        (
            CreateSocket::udp_server(AI, 8001).unwrap(),
            b"AT+SOCKET=1,8001\r\n",
        ),
        (
            CreateSocket::udp_client(AI, "192.168.31.239", 23333).unwrap(),
            b"AT+SOCKET=2,192.168.31.239,23333\r\n",
        ),
        (
            CreateSocket::tcp_server(AI, 8888).unwrap(),
            b"AT+SOCKET=3,8888\r\n",
        ),
        (
            CreateSocket::tcp_client(AI, "192.168.31.239", 60000).unwrap(),
            b"AT+SOCKET=4,192.168.31.239,60000\r\n",
        ),
        (
            CreateSocket::ssl_server(AI, 443).unwrap(),
            b"AT+SOCKET=6,443\r\n",
        ),
        (
            CreateSocket::ssl_client(AI, "example.com", 443).unwrap(),
            b"AT+SOCKET=7,example.com,443\r\n",
        ),
    ];
    for (cmd, line) in cases {
        let (r, _) = exchange(&cmd, line, ok);
        assert_eq!(r, Created { con_id: Some(1) });
    }
    // The generic constructor gives the same bytes.
    let cmd = CreateSocket::new(AI, SocketType::TcpClient, Some("h"), 80).unwrap();
    assert_eq!(written(&cmd), b"AT+SOCKET=4,h,80\r\n");
    assert_eq!(
        (cmd.kind(), cmd.host(), cmd.port()),
        (SocketType::TcpClient, Some(&b"h"[..]), 80)
    );
}

#[test]
fn create_with_keep_alive_and_con_id() {
    let cmd = CreateSocket::tcp_client(AI, "192.168.1.2", 80)
        .unwrap()
        .with_id(0, 9)
        .unwrap();
    let (r, _) = exchange(
        &cmd,
        b"AT+SOCKET=4,192.168.1.2,80,0,9\r\n",
        b"connect success ConID=9\r\nOK\r\n",
    );
    assert_eq!(r.con_id, Some(9));
    let cmd = CreateSocket::tcp_server(AI, 45670)
        .unwrap()
        .with_id(7200, 300)
        .unwrap();
    assert_eq!(written(&cmd), b"AT+SOCKET=3,45670,7200,300\r\n");
    invalid(
        CreateSocket::tcp_server(AI, 1).unwrap().with_id(7201, 1),
        "keep_alive",
    );
}

#[test]
fn create_replies() {
    let cmd = CreateSocket::tcp_client(AI, "10.0.0.1", 1).unwrap();
    let line = b"AT+SOCKET=4,10.0.0.1,1\r\n";
    // The documented reply is `OK` alone.
    assert_eq!(
        exchange(&cmd, line, b"\r\nOK\r\n").0,
        Created { con_id: None }
    );
    // Echo on, the success line, URCs around it.
    let (r, _) = exchange(
        &cmd,
        line,
        b"AT+SOCKET=4,10.0.0.1,1\r\r\n+EVENT:WIFI_GOT_IP\r\nconnect success ConID=12\r\n\r\nOK\r\n",
    );
    assert_eq!(r.con_id, Some(12));
    // A failure.
    let (r, _) = result_of(&cmd, line, b"\r\nERROR\r\n");
    assert_eq!(
        r,
        Err(Error::Module {
            word: FailWord::Error,
            code: None
        })
    );
    assert_eq!(parse_connect_success(b"connectsuccessConID=3"), Some(3));
}

#[test]
fn create_rules() {
    for seed in [SocketType::TcpSeed, SocketType::SslSeed] {
        invalid(CreateSocket::new(AI, seed, None, 1), "type");
        invalid(CreateSocket::new(AI, seed, Some("h"), 1), "type");
    }
    for client in [
        SocketType::UdpClient,
        SocketType::TcpClient,
        SocketType::SslClient,
    ] {
        invalid(CreateSocket::new(AI, client, None, 80), "host");
        invalid(CreateSocket::new(AI, client, Some("h"), 0), "port");
        invalid(CreateSocket::new(AI, client, Some("a,b"), 80), "host");
    }
    for server in [
        SocketType::UdpServer,
        SocketType::TcpServer,
        SocketType::SslServer,
    ] {
        invalid(CreateSocket::new(AI, server, Some("h"), 80), "host");
        invalid(CreateSocket::new(AI, server, None, 0), "port");
    }
    for d in OTHERS {
        unsupported(CreateSocket::tcp_client(d, "h", 1));
        unsupported(SocketQuery::new(d));
        unsupported(SocketSend::new(d, 1, 1));
        unsupported(SocketRead::new(d, 1));
        unsupported(SocketDel::new(d, 1));
        unsupported(SocketRecvCfg::new(d, ReceiveMode::Passive));
        unsupported(SocketTt::new(d, None));
        unsupported(SocketAutoTt::disable(d));
        unsupported(SslCert::new(d, CertKind::Ca, 1));
        unsupported(Resolve::new(d, "h"));
        unsupported(DnsQuery::new(d));
        unsupported(SetWifiMode::new(d, WifiMode::Station, false));
        unsupported(JoinAp::new(d, "s", "p"));
    }
    // A host too long for the 256-byte line is refused by the client, before writing.
    let long = "a".repeat(250);
    let cmd = CreateSocket::tcp_client(AI, &long, 80).unwrap();
    let mut c = client(MockUart::new());
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    assert!(c.release().0.written().is_empty());
}

#[test]
fn socket_types_and_statuses() {
    for n in 1..=8u8 {
        let t = SocketType::from_code(n).unwrap();
        assert_eq!(t.code(), n);
        assert_eq!(
            (t.is_client(), t.is_server(), t.is_seed()),
            (
                matches!(n, 2 | 4 | 7),
                matches!(n, 1 | 3 | 6),
                matches!(n, 5 | 8)
            )
        );
    }
    assert_eq!(SocketType::from_code(0), None);
    assert_eq!(SocketType::from_code(9), None);
    assert_eq!(SocketStatus::from_code(3), SocketStatus::Connecting);
    assert_eq!(SocketStatus::from_code(127), SocketStatus::Other(127));
}

#[test]
fn socket_query_rows() {
    let q = SocketQuery::new(AI).unwrap();
    let (t, reply) = exchange(
        &q,
        b"AT+SOCKET?\r\n",
        b"1,4,3,192.168.31.239,60000,-1,0\r\n2,3,1,,-1,8888,-1\r\n3,5,1,192.168.1.5,50123,8888,2\r\n+SOCKET:4,2,1,\"10.0.0.9\",53,-1,-1\r\nOK\r\n",
    );
    assert_eq!(t.count, 4);
    let rows: Vec<SocketRow<'_>> = t.rows(&reply).collect();
    assert_eq!(rows[0].con_id, 1);
    assert_eq!(rows[0].kind, SocketType::TcpClient);
    assert_eq!(rows[0].status, SocketStatus::Connecting);
    assert_eq!(rows[0].host, b"192.168.31.239");
    assert_eq!(rows[0].remote_port, Some(60000));
    assert_eq!(rows[0].local_port, None);
    assert_eq!(rows[0].server, Some(0));
    assert_eq!(
        (
            rows[1].kind,
            rows[1].host,
            rows[1].local_port,
            rows[1].server
        ),
        (SocketType::TcpServer, &b""[..], Some(8888), None)
    );
    assert_eq!(
        (rows[2].kind, rows[2].server),
        (SocketType::TcpSeed, Some(2))
    );
    assert_eq!(
        rows[2].remote_addr(),
        Some("192.168.1.5:50123".parse().unwrap())
    );
    assert_eq!(rows[3].host, b"10.0.0.9");
    // No sockets.
    assert_eq!(exchange(&q, b"AT+SOCKET?\r\n", b"\r\nOK\r\n").0.count, 0);
    // The sending rules, read from the table.
    assert!(check_send(socket_rows(&reply), 1).is_ok());
    assert!(check_send(socket_rows(&reply), 3).is_ok());
    invalid(check_send(socket_rows(&reply), 2), "con_id");
    invalid(check_send(socket_rows(&reply), 99), "con_id");
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETSEND, AT+SOCKETSENDLINE
// ---------------------------------------------------------------------------------------

#[test]
fn send_through_the_prompt_any_bytes() {
    let cmd = SocketSend::new(AI, 1, 3).unwrap();
    exchange_data(
        &cmd,
        b"AT+SOCKETSEND=1,3\r\n",
        b"\r\n>",
        b"123",
        b"\r\nOK\r\n",
    );
    // Data that looks like replies, prompts, NUL, CR LF: written as it is.
    let data = b"\r\nOK\r\n>\0\xff,\"ERROR\r\n";
    let cmd = SocketSend::new(AI, 7, data.len()).unwrap();
    assert_eq!(cmd.length(), data.len());
    exchange_data(&cmd, b"AT+SOCKETSEND=7,18\r\n", b">", data, b"\r\nOK\r\n");
    // Long data in one command: the module splits it into packets.
    let big = vec![b'x'; 3000];
    let cmd = SocketSend::new(AI, 2, big.len()).unwrap();
    exchange_data(&cmd, b"AT+SOCKETSEND=2,3000\r\n", b">", &big, b"OK\r\n");
    invalid(SocketSend::new(AI, 1, 0), "length");
}

#[test]
fn send_failure_code() {
    let cmd = SocketSend::new(AI, 4, 2).unwrap();
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+SOCKETSEND=4,2\r\n", b">");
        uart.expect(b"hi", b"\r\n+SOCKETSEND:101\r\nERROR\r\n");
        let mut c = client(uart);
        assert!(matches!(
            c.send_with_data(&cmd, b"hi"),
            Err(Error::Module { .. })
        ));
        assert_eq!(send_error_code(c.last_reply()), Some(101));
    }
    // No prompt: nothing written after the command.
    let mut uart = MockUart::new();
    uart.expect(b"AT+SOCKETSEND=4,2\r\n", b"\r\nERROR\r\n");
    let mut c = client(uart);
    assert!(c.send_with_data(&cmd, b"hi").is_err());
    let (uart, _) = c.release();
    assert_eq!(uart.written(), b"AT+SOCKETSEND=4,2\r\n");
}

#[test]
fn send_line_bare_or_quoted() {
    let cmd = SocketSendLine::new(AI, 2, "1234567890").unwrap();
    exchange(
        &cmd,
        b"AT+SOCKETSENDLINE=2,10,1234567890\r\n",
        b"\r\nOK\r\n",
    );
    let cmd = SocketSendLine::new(AI, 2, r#"a,b "c""#).unwrap();
    exchange(
        &cmd,
        b"AT+SOCKETSENDLINE=2,7,\"a,b \\\"c\\\"\"\r\n",
        b"\r\nOK\r\n",
    );
    invalid(SocketSendLine::new(AI, 1, ""), "data");
    invalid(SocketSendLine::new(AI, 1, "a\r\nb"), "data");
    // Longer than a command line: refused by the client, nothing written.
    let long = "y".repeat(240);
    let cmd = SocketSendLine::new(AI, 1, &long).unwrap();
    let mut c = client(MockUart::new());
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    assert!(c.release().0.written().is_empty());
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETREAD, AT+SOCKETDEL, AT+SOCKETRECVCFG
// ---------------------------------------------------------------------------------------

#[test]
fn read_one_packet_by_length() {
    let cmd = SocketRead::new(AI, 1).unwrap();
    let (p, reply) = exchange(
        &cmd,
        b"AT+SOCKETREAD=1\r\n",
        b"+SOCKETREAD,1,21,Hello From TCP Server\r\nOK\r\n",
    );
    assert_eq!(p.con_id, Some(1));
    assert_eq!(p.len, 21);
    assert_eq!(p.data(&reply), b"Hello From TCP Server");
    // Data holding line ends, `OK`, `>`, commas, a URC-looking line.
    let data = b"HTTP/1.1 200 OK\r\n\r\nOK\r\n>,\r\n+EVENT:SocketDissconnect,1\r\n";
    let mut reply = format!("\r\n+SOCKETREAD,1,{},", data.len()).into_bytes();
    reply.extend_from_slice(data);
    reply.extend_from_slice(b"\r\nOK\r\n");
    let (p, last) = exchange(&cmd, b"AT+SOCKETREAD=1\r\n", &reply);
    assert_eq!(p.data(&last), data);
    assert_eq!(p.received, data.len());
    // Events around the packet stay events.
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+SOCKETREAD=300\r\n",
            b"+EVENT:SocketDown,300,2\r\n+SOCKETREAD,300,4,ab\r\n\r\nOK\r\n+EVENT:WIFI_GOT_IP\r\n",
        );
        let mut c = client(uart);
        let p = c.send(&SocketRead::new(AI, 300).unwrap()).unwrap();
        assert_eq!(
            (p.con_id, p.data(c.last_reply())),
            (Some(300), &b"ab\r\n"[..])
        );
        // The notification is either queued or (as a line the client does not know as a
        // URC) folded into the reply, where `reply_events` finds it.
        let mut found: Vec<Vec<u8>> = reply_events(c.last_reply(), Some(p.range()))
            .map(|l| l.to_vec())
            .collect();
        while let Some(e) = c.poll().unwrap() {
            match e {
                Event::Urc(Urc::Line(l)) => found.push(l.to_vec()),
                Event::Urc(Urc::WifiGotIp) => found.push(b"ip".to_vec()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            found,
            [&b"+EVENT:SocketDown,300,2"[..], b"ip"],
            "chunk {chunk}"
        );
    }
    // Nothing waiting.
    let (p, _) = exchange(&cmd, b"AT+SOCKETREAD=1\r\n", b"\r\nOK\r\n");
    assert!(p.is_empty());
    assert_eq!(p.con_id, None);
}

#[test]
fn a_packet_larger_than_the_reply_buffer_is_an_error() {
    let mut uart = MockUart::new();
    let mut reply = b"+SOCKETREAD,1,600,".to_vec();
    reply.extend_from_slice(&[b'z'; 600]);
    reply.extend_from_slice(b"\r\nOK\r\n");
    uart.expect(b"AT+SOCKETREAD=1\r\n", &reply);
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, AI); // RESP 512
    assert_eq!(
        c.send(&SocketRead::new(AI, 1).unwrap()),
        Err(Error::ResponseOverflow { capacity: 512 })
    );
}

#[test]
fn delete_and_receive_mode() {
    exchange(
        &SocketDel::new(AI, 1).unwrap(),
        b"AT+SOCKETDEL=1\r\n",
        b"\r\nOK\r\n+EVENT:SocketAutoDel,1\r\n",
    );
    exchange(
        &SocketRecvCfg::new(AI, ReceiveMode::Passive).unwrap(),
        b"AT+SOCKETRECVCFG=0\r\n",
        b"\r\nOK\r\n",
    );
    exchange(
        &SocketRecvCfg::new(AI, ReceiveMode::Active).unwrap(),
        b"AT+SOCKETRECVCFG=1\r\n",
        b"\r\nOK\r\n",
    );
    assert_eq!(ReceiveMode::default(), ReceiveMode::Passive);
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETTT, transparent mode
// ---------------------------------------------------------------------------------------

fn row(id: u32, t: u8) -> String {
    format!("{id},{t},1,192.168.1.9,5000,-1,-1\r\n")
}

#[test]
fn transparent_bytes_and_rules() {
    assert_eq!(
        written(&SocketTt::new(AI, None).unwrap()),
        b"AT+SOCKETTT\r\n"
    );
    assert_eq!(
        written(&SocketTt::new(AI, Some(UdpTtMode::LastPeer)).unwrap()),
        b"AT+SOCKETTT=2\r\n"
    );
    assert_eq!(
        written(&SocketTt::new(AI, Some(UdpTtMode::FirstPeer)).unwrap()),
        b"AT+SOCKETTT=0\r\n"
    );
    let table = |rows: &[(u32, u8)]| -> Vec<u8> {
        rows.iter()
            .map(|&(i, t)| row(i, t))
            .collect::<String>()
            .into_bytes()
    };
    let ok = |rows: &[(u32, u8)], m| check_transparent(socket_rows(&table(rows)), m);
    assert!(ok(&[(1, 4)], None).is_ok());
    assert!(ok(&[(1, 7)], None).is_ok());
    assert!(ok(&[(1, 2)], None).is_ok());
    assert!(ok(&[(1, 1)], None).is_ok());
    assert!(ok(&[(1, 1)], Some(UdpTtMode::LastPeer)).is_ok());
    assert!(ok(&[(1, 3), (2, 5)], None).is_ok());
    assert!(ok(&[(1, 6), (2, 8)], None).is_ok());
    invalid(ok(&[], None), "sockets");
    invalid(ok(&[(1, 4), (2, 4)], None), "sockets");
    invalid(ok(&[(1, 4), (2, 2)], None), "sockets");
    invalid(ok(&[(1, 3)], None), "sockets");
    invalid(ok(&[(1, 3), (2, 5), (3, 5)], None), "sockets");
    invalid(ok(&[(1, 4)], Some(UdpTtMode::FirstPeer)), "udp_mode");
}

#[test]
fn transparent_enter_exchange_exit() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+SOCKET?\r\n", b"1,4,1,192.168.31.98,18,-1,-1\r\nOK\r\n");
        uart.expect(b"AT+SOCKETTT\r\n", b"\r\n>");
        uart.expect(b"send to module", b"from peer\r\nOK\r\n");
        uart.expect(b"+++", b"\r\nOK\r\n");
        uart.expect(b"AT\r\n", b"\r\nOK\r\n");
        let clock = uart.clock();
        let mut c: TestClient = Client::new(uart, clock.clone(), AI);
        {
            let mut t = enter_transparent(&mut c, None).unwrap();
            t.write(b"send to module").unwrap();
            // The peer's bytes are raw: an `OK` in them is data.
            let mut got = Vec::new();
            let mut buf = [0u8; 8];
            while got.len() < 15 {
                let n = t.read_timeout(&mut buf, 100).unwrap();
                assert!(n > 0, "chunk {chunk}");
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"from peer\r\nOK\r\n");
            t.exit().unwrap();
        }
        c.send(&at_wifi::command::basic::At).unwrap();
        let (uart, _) = c.release();
        uart.assert_done();
        // `+++` was written alone, after the guard time.
        let writes = uart.writes();
        let data_at = writes.iter().find(|w| w.1 == b"send to module").unwrap().0;
        let plus_at = writes.iter().find(|w| w.1 == b"+++").unwrap().0;
        assert!(plus_at >= data_at + u64::from(TT_GUARD_MS), "chunk {chunk}");
    }
}

#[test]
fn transparent_udp_server_mode_and_refusals() {
    let mut uart = MockUart::new();
    uart.expect(b"AT+SOCKET?\r\n", b"3,1,1,,-1,8001,-1\r\nOK\r\n");
    uart.expect(b"AT+SOCKETTT=2\r\n", b">");
    let mut c = client(uart);
    let t = enter_transparent(&mut c, Some(UdpTtMode::LastPeer));
    assert!(t.is_ok());
    drop(t);
    c.release().0.assert_done();

    // Two clients: refused after the query, nothing else written.
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+SOCKET?\r\n",
        format!("{}{}OK\r\n", row(1, 4), row(2, 4)).as_bytes(),
    );
    let mut c = client(uart);
    invalid(enter_transparent(&mut c, None).map(|_| ()), "sockets");
    let (uart, _) = c.release();
    assert_eq!(uart.written(), b"AT+SOCKET?\r\n");

    // The module refuses, is busy, or says nothing.
    for (reply, expect) in [
        (&b"\r\nERROR\r\n"[..], "module"),
        (b"\r\nAT+SOCKETTT cmd is running\r\n", "busy"),
        (b"", "noprompt"),
    ] {
        let mut uart = MockUart::new();
        uart.expect(b"AT+SOCKET?\r\n", format!("{}OK\r\n", row(1, 4)).as_bytes());
        uart.expect(b"AT+SOCKETTT\r\n", reply);
        let mut c = client(uart);
        let r = enter_transparent(&mut c, None).map(|_| ());
        match (expect, r) {
            ("module", Err(Error::Module { .. }))
            | ("busy", Err(Error::Busy))
            | ("noprompt", Err(Error::NoPrompt)) => {}
            (e, r) => panic!("{e}: {r:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// AT+SOCKETAUTOTT
// ---------------------------------------------------------------------------------------

#[test]
fn auto_transparent_set_and_query() {
    let ok = b"\r\nOK\r\n";
    exchange(
        &SocketAutoTt::new(AI, SocketType::TcpClient, Some("192.168.31.239"), 60000).unwrap(),
        b"AT+SOCKETAUTOTT=4,192.168.31.239,60000\r\n",
        ok,
    );
    exchange(
        &SocketAutoTt::new(AI, SocketType::UdpServer, None, 10086).unwrap(),
        b"AT+SOCKETAUTOTT=1,10086\r\n",
        ok,
    );
    exchange(
        &SocketAutoTt::new(AI, SocketType::UdpClient, Some("192.168.223.205"), 6666).unwrap(),
        b"AT+SOCKETAUTOTT=2,192.168.223.205,6666\r\n",
        ok,
    );
    exchange(
        &SocketAutoTt::new(AI, SocketType::SslClient, Some("www.baidu.com"), 443).unwrap(),
        b"AT+SOCKETAUTOTT=7,www.baidu.com,443\r\n",
        ok,
    );
    exchange(
        &SocketAutoTt::disable(AI).unwrap(),
        b"AT+SOCKETAUTOTT=0\r\n",
        ok,
    );
    for t in [
        SocketType::TcpServer,
        SocketType::TcpSeed,
        SocketType::SslServer,
        SocketType::SslSeed,
    ] {
        invalid(SocketAutoTt::new(AI, t, None, 1), "type");
    }
    invalid(
        SocketAutoTt::new(AI, SocketType::TcpClient, None, 1),
        "host",
    );
    invalid(
        SocketAutoTt::new(AI, SocketType::UdpServer, Some("h"), 1),
        "host",
    );

    let q = SocketAutoTtQuery::new(AI).unwrap();
    let line = b"AT+SOCKETAUTOTT?\r\n";
    let (c, _) = exchange(&q, line, b"+SOCKETAUTOTT:4,192.168.31.239,60000\r\nOK\r\n");
    assert_eq!(c.kind, Some(SocketType::TcpClient));
    assert_eq!(c.host, b"192.168.31.239");
    assert_eq!(c.port, Some(60000));
    let (c, _) = exchange(&q, line, b"+SOCKETAUTOTT:0\r\nOK\r\n");
    assert_eq!(c, AutoTtConfig::default());
    let (c, _) = exchange(&q, line, b"+SOCKETAUTOTT:1,10086\r\nOK\r\n");
    assert_eq!((c.kind, c.port), (Some(SocketType::UdpServer), Some(10086)));
    let (c, _) = exchange(&q, line, b"+SOCKETAUTOTT:1,,10086,-1\r\nOK\r\n");
    assert_eq!((c.host.len(), c.port), (0, Some(10086)));
    assert_eq!(result_of(&q, line, b"\r\nOK\r\n").0, Err(Error::Parse));
}

// ---------------------------------------------------------------------------------------
// AT+SSLCRET
// ---------------------------------------------------------------------------------------

#[test]
fn certificates() {
    exchange_data(
        &SslCert::new(AI, CertKind::Ca, 10).unwrap(),
        b"AT+SSLCRET=1,10\r\n",
        b">",
        b"1234567890",
        b"\r\nOK\r\n",
    );
    let pem = b"-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n";
    exchange_data(
        &SslCert::new(AI, CertKind::ClientKey, pem.len()).unwrap(),
        b"AT+SSLCRET=3,60\r\n",
        b"\r\n>",
        pem,
        b"\r\nOK\r\n",
    );
    exchange_data(
        &SslCert::new(AI, CertKind::ClientCert, 3).unwrap(),
        b"AT+SSLCRET=2,3\r\n",
        b">",
        b"abc",
        b"OK\r\n",
    );
    invalid(SslCert::new(AI, CertKind::Ca, 0), "length");

    let q = SslCertQuery::new(AI, CertKind::Ca).unwrap();
    let (info, reply) = exchange(
        &q,
        b"AT+SSLCRET=1\r\n",
        b"+SSLCRET:1,10,1234567890\r\nOK\r\n",
    );
    assert_eq!((info.kind, info.len), (CertKind::Ca, 10));
    assert_eq!(info.content(&reply), b"1234567890");
    // A multi-line certificate: its lines come joined with CR LF.
    let (info, reply) = exchange(
        &q,
        b"AT+SSLCRET=1\r\n",
        b"+SSLCRET:1,13,-----BEGIN\r\nXYZ\r\nOK\r\n",
    );
    assert_eq!(info.len, 13);
    assert_eq!(info.content(&reply), b"-----BEGIN\r\nX");
    let (info, _) = exchange(&q, b"AT+SSLCRET=1\r\n", b"+SSLCRET:1,0,\r\nOK\r\n");
    assert_eq!(info.len, 0);
}

// ---------------------------------------------------------------------------------------
// AT+WDOMAIN, AT+WDNS
// ---------------------------------------------------------------------------------------

#[test]
fn dns() {
    let (r, _) = exchange(
        &Resolve::new(AI, "www.baidu.com").unwrap(),
        b"AT+WDOMAIN=www.baidu.com\r\n",
        b"+WDOMAIN:14.119.104.189\r\nOK\r\n",
    );
    assert_eq!(r.ip, IpAddr::V4(Ipv4Addr::new(14, 119, 104, 189)));
    invalid(Resolve::new(AI, "bad name"), "name");
    let (r, _) = result_of(
        &Resolve::new(AI, "nowhere.invalid").unwrap(),
        b"AT+WDOMAIN=nowhere.invalid\r\n",
        b"\r\nERROR\r\n",
    );
    assert!(matches!(r, Err(Error::Module { .. })));

    let (s, _) = exchange(
        &DnsQuery::new(AI).unwrap(),
        b"AT+WDNS?\r\n",
        b"+WDNS:192.168.3.1,0.0.0.0\r\nOK\r\n",
    );
    assert_eq!(
        s,
        DnsServers {
            primary: Some(Ipv4Addr::new(192, 168, 3, 1)),
            secondary: None
        }
    );
    let (s, _) = exchange(
        &SetDns::new(AI, Ipv4Addr::new(114, 114, 114, 114), None).unwrap(),
        b"AT+WDNS=114.114.114.114\r\n",
        b"+WDNS:114.114.114.114\r\nOK\r\n",
    );
    assert_eq!(s.primary, Some(Ipv4Addr::new(114, 114, 114, 114)));
    let (s, _) = exchange(
        &SetDns::new(
            AI,
            Ipv4Addr::new(114, 114, 114, 114),
            Some(Ipv4Addr::new(8, 8, 8, 8)),
        )
        .unwrap(),
        b"AT+WDNS=114.114.114.114,8.8.8.8\r\n",
        b"+WDNS:114.114.114.114,8.8.8.8\r\nOK\r\n",
    );
    assert_eq!(s.secondary, Some(Ipv4Addr::new(8, 8, 8, 8)));
    invalid(SetDns::new(AI, Ipv4Addr::UNSPECIFIED, None), "primary");
    invalid(
        SetDns::new(AI, Ipv4Addr::new(1, 1, 1, 1), Some(Ipv4Addr::BROADCAST)),
        "secondary",
    );
}

// ---------------------------------------------------------------------------------------
// URCs
// ---------------------------------------------------------------------------------------

#[test]
fn socket_events_from_lines() {
    use SocketEvent::*;
    let cases: [(&[u8], SocketEvent<'_>); 9] = [
        (b"connect success ConID=1", Created { con_id: 1 }),
        (
            b"+EVENT:SocketDown,1,21",
            DataAvailable { con_id: 1, len: 21 },
        ),
        (b"+EVENT:SocketDissconnect,2", Closed { con_id: 2 }),
        (b"+EVENT:SocketDisconnect,2", Closed { con_id: 2 }),
        (b"+EVENT:SocketSeed,5,3", Seed { seed: 5, server: 3 }),
        (b"+EVENT:SocketReconnect,4", Reconnected { con_id: 4 }),
        (b"+EVENT:SocketAutoDel,300", AutoDeleted { con_id: 300 }),
        (
            b"+EVENT:SocketDown,1000,7",
            DataAvailable {
                con_id: 1000,
                len: 7,
            },
        ),
        (b"  +EVENT:SocketSeed,1,9 ", Seed { seed: 1, server: 9 }),
    ];
    for (line, ev) in cases {
        assert_eq!(SocketEvent::parse_line(line), Some(ev), "{line:?}");
        assert_eq!(SocketEvent::from_urc(&Urc::Line(line)), Some(ev));
    }
    for no in [
        &b"+EVENT:WIFI_GOT_IP"[..],
        b"+EVENT:SocketDown,1",
        b"+EVENT:SocketSeed,1",
        b"+EVENT:SocketDissconnect,x",
        b"OK",
    ] {
        assert_eq!(SocketEvent::parse_line(no), None, "{no:?}");
    }
    assert_eq!(
        SocketEvent::from_urc(&Urc::SocketClosed { link: 3 }),
        Some(Closed { con_id: 3 })
    );
    assert_eq!(Seed { seed: 5, server: 3 }.con_id(), 5);
}

#[test]
fn socket_events_through_the_client() {
    let input: &[u8] = b"+EVENT:WIFI_CONNECT\r\n+EVENT:WIFI_GOT_IP\r\n+EVENT:SocketSeed,2,1\r\n+EVENT:SocketDown,2,11,line1\r\nOK\r\n\r\n+EVENT:SocketDown,2,3\r\n+EVENT:SocketDissconnect,2\r\n+EVENT:SocketAutoDel,2\r\n+EVENT:WIFI_DISCONNECT\r\n";
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.push_rx(input);
        let mut c = client(uart);
        let mut got = Vec::new();
        while let Some(e) = c.poll().unwrap() {
            let s = match e {
                Event::Urc(u) => match SocketEvent::from_urc(&u) {
                    Some(SocketEvent::Data { con_id, data, .. }) => {
                        format!("data {con_id} {:?}", String::from_utf8_lossy(data))
                    }
                    Some(ev) => format!("{ev:?}"),
                    None => format!("{u:?}"),
                },
                other => format!("{other:?}"),
            };
            got.push(s);
        }
        assert_eq!(
            got,
            [
                "WifiConnected",
                "WifiGotIp",
                "Seed(2, 1)",
                "data 2 \"line1\\r\\nOK\\r\\n\"",
                "DataAvailable(2, 3)",
                "Closed(2)",
                "AutoDeleted(2)",
                "WifiDisconnected",
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn events_folded_into_a_reply_are_found() {
    let reply = b"+EVENT:SocketSeed,2,1\r\n+SOCKETREAD,1,3,a\r\n\r\n+EVENT:SocketAutoDel,9";
    let p = ReadPacket::from_reply(reply).unwrap();
    let lines: Vec<&[u8]> = reply_events(reply, Some(p.range())).collect();
    assert_eq!(
        lines,
        [&b"+EVENT:SocketSeed,2,1"[..], b"+EVENT:SocketAutoDel,9"]
    );
}

// ---------------------------------------------------------------------------------------
// Combo-AT Wi-Fi
// ---------------------------------------------------------------------------------------

#[test]
fn wifi_mode() {
    exchange(
        &SetWifiMode::new(AI, WifiMode::Station, true).unwrap(),
        b"AT+WMODE=1,1\r\n",
        b"\r\nOK\r\n",
    );
    exchange(
        &SetWifiMode::new(AI, WifiMode::ApStation, false).unwrap(),
        b"AT+WMODE=3,0\r\n",
        b"\r\nOK\r\n",
    );
    let q = GetWifiMode::new(AI).unwrap();
    assert_eq!(
        exchange(&q, b"AT+WMODE?\r\n", b"+WMODE:<1>\r\nOK\r\n").0,
        WifiMode::Station
    );
    assert_eq!(
        exchange(&q, b"AT+WMODE?\r\n", b"+WMODE:2\r\nOK\r\n").0,
        WifiMode::Ap
    );
    assert_eq!(
        result_of(&q, b"AT+WMODE?\r\n", b"+WMODE:7\r\nOK\r\n").0,
        Err(Error::Parse)
    );
}

#[test]
fn join_bytes_and_limits() {
    exchange(
        &JoinAp::new(AI, "super_2G", "123456798").unwrap(),
        b"AT+WJAP=super_2G,123456798\r\n",
        b"\r\nOK\r\n",
    );
    exchange(
        &JoinAp::new(AI, "my wifi", "pa\"ss,word").unwrap(),
        b"AT+WJAP=\"my wifi\",\"pa\\\"ss,word\"\r\n",
        b"\r\nOK\r\n",
    );
    exchange(
        &JoinAp::new(AI, "open-net", "").unwrap(),
        b"AT+WJAP=open-net,\"\"\r\n",
        b"\r\nOK\r\n",
    );
    let b = Bssid::parse(b"CC:81:DA:1F:45:80").unwrap();
    exchange(
        &JoinAp::new(AI, "AXK", "12345678").unwrap().bssid(b),
        b"AT+WJAP=AXK,12345678,cc:81:da:1f:45:80\r\n",
        b"\r\nOK\r\n",
    );
    invalid(JoinAp::new(AI, "", "x"), "ssid");
    invalid(JoinAp::new(AI, &"s".repeat(33), "x"), "ssid");
    assert!(JoinAp::new(AI, &"s".repeat(32), &"p".repeat(32)).is_ok());
    invalid(JoinAp::new(AI, "s", &"p".repeat(33)), "password");
    invalid(JoinAp::new(AI, "s\r", "p"), "ssid");
    let j = JoinAp::new(AI, "home", "hunter22").unwrap();
    assert!(!format!("{j:?}").contains("hunter22"));
    assert_eq!(j.ssid(), b"home");
}

#[test]
fn join_waits_for_an_address_and_passes_every_event_on() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.push_rx(b"+EVENT:SocketDown,1,3\r\n");
        uart.expect(b"AT+WJAP=home,secret-pw\r\n", b"\r\nOK\r\n");
        let clock = uart.clock();
        let now = clock.now();
        uart.schedule(now + 30, b"+EVENT:WIFI_CONNECT\r\n+EVENT:MQTT_CONNECT\r\n");
        uart.schedule(now + 60, b"+EVENT:WIFI_GOT_IP\r\n+EVENT:SocketDown,1,4\r\n");
        let mut c = client(uart);
        let mut seen = Vec::new();
        join(
            &mut c,
            &JoinAp::new(AI, "home", "secret-pw").unwrap(),
            1000,
            |e| {
                seen.push(match e {
                    Event::Urc(Urc::SocketDataAvailable { link: 1, len: 3 }) => "old data",
                    Event::Urc(Urc::WifiConnected) => "connected",
                    Event::Urc(Urc::Line(b"+EVENT:MQTT_CONNECT")) => "mqtt",
                    Event::Urc(Urc::WifiGotIp) => "ip",
                    _ => "other",
                })
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            ["old data", "connected", "mqtt", "ip"],
            "chunk {chunk}"
        );
        // What came after the address stays queued.
        assert_eq!(
            c.poll().unwrap(),
            Some(Event::Urc(Urc::SocketDataAvailable { link: 1, len: 4 }))
        );
    }
}

#[test]
fn join_times_out_and_sees_resets() {
    let mut uart = MockUart::new();
    uart.expect(
        b"AT+WJAP=home,secret-pw\r\n",
        b"\r\nOK\r\n+EVENT:WIFI_DISCONNECT\r\n",
    );
    let mut c = client(uart);
    let cmd = JoinAp::new(AI, "home", "secret-pw").unwrap();
    assert_eq!(
        join(&mut c, &cmd, 200, |_| {}),
        Err(Error::Timeout { ms: 200 })
    );
    let mut uart = MockUart::new();
    uart.expect(b"AT+WJAP=home,secret-pw\r\n", b"\r\nOK\r\n\r\nready\r\n");
    let mut c = client(uart);
    assert_eq!(join(&mut c, &cmd, 200, |_| {}), Err(Error::Reset));
    let mut c = Client::<_, _>::new(MockUart::new(), MockClock::default(), Dialect::EspAt);
    assert!(matches!(
        join(&mut c, &cmd, 200, |_| {}),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn join_status() {
    let q = GetJoinStatus::new(AI).unwrap();
    let (s, _) = exchange(
        &q,
        b"AT+WJAP?\r\n",
        b"+WJAP:3,AXK,12345678,f8:8c:21:b4:40:22,WPA/WPA2 Mixed,84:f3:eb:dd:9e:63,6,192.168.1.23,192.168.1.1\r\nClient Num: 0\r\nOK\r\n",
    );
    assert_eq!(s.state, JoinState::GotIp);
    assert_eq!(s.ssid, b"AXK");
    assert_eq!(s.bssid, Bssid::parse(b"f8:8c:21:b4:40:22"));
    assert_eq!(s.security, b"WPA/WPA2 Mixed");
    assert_eq!(s.mac, Bssid::parse(b"84:f3:eb:dd:9e:63"));
    assert_eq!(s.channel, 6);
    assert_eq!(s.ip, Some(Ipv4Addr::new(192, 168, 1, 23)));
    assert_eq!(s.gateway, Some(Ipv4Addr::new(192, 168, 1, 1)));
    assert!(!format!("{s:?}").contains("12345678"));
    let (s, _) = exchange(&q, b"AT+WJAP?\r\n", b"+WJAP:0\r\nOK\r\n");
    assert_eq!(s, JoinStatus::default());
    let (s, _) = exchange(&q, b"AT+WJAP?\r\n", b"+WJAP:4,home\r\nOK\r\n");
    assert_eq!((s.state, &s.ssid[..]), (JoinState::Failed, &b"home"[..]));
    assert_eq!(
        result_of(&q, b"AT+WJAP?\r\n", b"\r\nOK\r\n").0,
        Err(Error::Parse)
    );
}

#[test]
fn disconnect_and_auto_connect() {
    exchange(
        &WifiDisconnect::new(AI).unwrap(),
        b"AT+WDISCONNECT\r\n",
        b"\r\n+EVENT:WIFI_DISCONNECT\r\n\r\nOK\r\n",
    );
    exchange(
        &SetAutoConnect::new(AI, true).unwrap(),
        b"AT+WAUTOCONN=1\r\n",
        b"\r\nOK\r\n",
    );
    exchange(
        &SetAutoConnect::new(AI, false).unwrap(),
        b"AT+WAUTOCONN=0\r\n",
        b"\r\nOK\r\n",
    );
    let q = GetAutoConnect::new(AI).unwrap();
    assert_eq!(
        exchange(&q, b"AT+WAUTOCONN?\r\n", b"+WAUTOCONN:1\r\nOK\r\n").0,
        AutoConnect(true)
    );
    assert_eq!(
        exchange(&q, b"AT+WAUTOCONN?\r\n", b"+WAUTOCONN:0 \r\nOK\r\n").0,
        AutoConnect(false)
    );
}

#[test]
fn a_command_refused_while_another_runs_is_busy() {
    let cmd = SetWifiMode::new(AI, WifiMode::Station, false).unwrap();
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+WMODE=1,0\r\n", b"\r\nAT+WMODE cmd is running\r\n");
        let mut c = client(uart);
        assert_eq!(c.send(&cmd), Err(Error::Busy), "chunk {chunk}");
    }
    // Busy, then the module finishes after all.
    let mut uart = MockUart::new();
    uart.expect(b"AT+WMODE=1,0\r\n", b"\r\ncmd is running\r\n\r\nOK\r\n");
    let mut c = client(uart);
    assert_eq!(c.send(&cmd), Ok(NoResponse));
}
