//! Ai-Thinker Combo-AT: Wi-Fi events, sockets to real OS sockets on 127.0.0.1, DNS, and
//! its own MQTT set.

mod common;

use at_wifi_sim::{Dialect, PipeEnd};
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

/// A TCP echo server on 127.0.0.1 (one connection), returning its port.
fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 2048];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    port
}

fn join(u: &mut PipeEnd) {
    assert_eq!(x(u, "AT+WMODE=1,0", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(u, "AT+WJAP=home,secret-password", "GOT_IP\r\n"),
        "+EVENT:WIFI_CONNECT\r\n\r\nOK\r\n+EVENT:WIFI_GOT_IP\r\n"
    );
}

#[test]
fn wifi_and_tcp_echo() {
    let (sim, mut u) = sim(Dialect::AiThinker);
    assert_eq!(
        x(&mut u, "AT+WJAP?", "OK\r\n"),
        "+WJAP:0,,,00:00:00:00:00:00,Open,a4:cf:12:00:00:01,0,0.0.0.0,0.0.0.0\r\n\r\nOK\r\n"
    );
    // No Wi-Fi, no socket.
    assert_eq!(
        x(&mut u, "AT+SOCKET=4,127.0.0.1,9", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    join(&mut u);
    assert_eq!(
        x(&mut u, "AT+WJAP?", "OK\r\n"),
        "+WJAP:3,home,secret-password,de:ad:be:ef:00:01,WPA2 AES,a4:cf:12:00:00:01,6,127.0.0.1,127.0.0.1\r\n\r\nOK\r\n"
    );
    let port = echo_server();
    assert_eq!(
        x(&mut u, &format!("AT+SOCKET=4,127.0.0.1,{port}"), "OK\r\n"),
        "connect success ConID=1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+SOCKET?", "OK\r\n"),
        format!("1,4,1,127.0.0.1,{port},-1,-1\r\n\r\nOK\r\n")
    );
    // Passive receive (default): a notice, then AT+SOCKETREAD.
    assert_eq!(x(&mut u, "AT+SOCKETSEND=1,11", ">"), "\r\n>");
    u.send(b"hello\r\nOK\r\n").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketDown,1,11\r\n");
    assert_eq!(
        x(&mut u, "AT+SOCKETREAD=1", "\r\n\r\nOK\r\n"),
        "+SOCKETREAD,1,11,hello\r\nOK\r\n\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+SOCKETREAD=1", "OK\r\n"),
        "+SOCKETREAD,1,0,\r\n\r\nOK\r\n"
    );
    // Active receive: the data comes with the event.
    assert_eq!(x(&mut u, "AT+SOCKETRECVCFG=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+SOCKETRECVCFG?", "OK\r\n"),
        "+SOCKETRECVCFG:1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+SOCKETSENDLINE=1,5,\"a,b\\\"c\"", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(
        read(&mut u, "a,b\"c\r\n"),
        "+EVENT:SocketDown,1,5,a,b\"c\r\n"
    );
    // Errors: no such socket, a send longer than its data.
    assert_eq!(x(&mut u, "AT+SOCKETSEND=7,3", "ERROR\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        x(&mut u, "AT+SOCKETSENDLINE=1,9,abc", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(sim.snapshot().sockets, [1]);
    assert_eq!(x(&mut u, "AT+SOCKETDEL=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(x(&mut u, "AT+SOCKETDEL=1", "ERROR\r\n"), "\r\nERROR\r\n");
    // Only loopback exists for the simulator.
    assert_eq!(
        x(&mut u, "AT+SOCKET=4,192.0.2.1,80", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+WDISCONNECT", "OK\r\n"),
        "+EVENT:WIFI_DISCONNECT\r\n\r\nOK\r\n"
    );
}

#[test]
fn tcp_server_seed_udp_and_dns() {
    let (_sim, mut u) = sim(Dialect::AiThinker);
    join(&mut u);
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert_eq!(
        x(&mut u, &format!("AT+SOCKET=3,{port}"), "OK\r\n"),
        "connect success ConID=1\r\n\r\nOK\r\n"
    );
    let mut peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketSeed,2,1\r\n");
    // A TCP server cannot send; its seed can.
    assert_eq!(x(&mut u, "AT+SOCKETSEND=1,3", "ERROR\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        x(&mut u, "AT+SOCKETSENDLINE=2,2,hi", "OK\r\n"),
        "\r\nOK\r\n"
    );
    let mut buf = [0u8; 2];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    peer.write_all(b"yo").unwrap();
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketDown,2,2\r\n");
    drop(peer);
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketDissconnect,2\r\n");
    let q = x(&mut u, "AT+SOCKET?", "OK\r\n");
    assert!(
        q.starts_with(&format!("1,3,1,,-1,{port},-1\r\n2,5,2,127.0.0.1,")),
        "{q:?}"
    );
    // UDP client to an OS UDP socket.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(T)).unwrap();
    let uport = udp.local_addr().unwrap().port();
    assert_eq!(
        x(&mut u, &format!("AT+SOCKET=2,localhost,{uport}"), "OK\r\n"),
        "connect success ConID=3\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+SOCKETSEND=3,4", ">"), "\r\n>");
    u.send(b"ping").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    let mut b = [0u8; 16];
    let (n, from) = udp.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"ping");
    udp.send_to(b"pong", from).unwrap();
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketDown,3,4\r\n");
    // UDP server: the first sender becomes the peer.
    let sport = {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    assert_eq!(
        x(&mut u, &format!("AT+SOCKET=1,{sport}"), "OK\r\n"),
        "connect success ConID=4\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+SOCKETSENDLINE=4,2,hi", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    udp.send_to(b"knock", ("127.0.0.1", sport)).unwrap();
    assert_eq!(read(&mut u, "\r\n"), "+EVENT:SocketDown,4,5\r\n");
    assert_eq!(
        x(&mut u, "AT+SOCKETSENDLINE=4,2,hi", "OK\r\n"),
        "\r\nOK\r\n"
    );
    let (n, _) = udp.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"hi");
    // DNS: loopback names only.
    assert_eq!(
        x(&mut u, "AT+WDOMAIN=localhost", "OK\r\n"),
        "+WDOMAIN:127.0.0.1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+WDOMAIN=www.example.com", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+WDNS?", "OK\r\n"),
        "+WDNS:127.0.0.1,0.0.0.0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+WDNS=114.114.114.114", "OK\r\n"),
        "+WDNS:114.114.114.114\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+WDNS?", "OK\r\n"),
        "+WDNS:114.114.114.114,0.0.0.0\r\n\r\nOK\r\n"
    );
}

#[test]
fn transparent_mode() {
    let (_sim, mut u) = sim(Dialect::AiThinker);
    join(&mut u);
    let port = echo_server();
    assert_eq!(
        x(&mut u, &format!("AT+SOCKET=4,127.0.0.1,{port}"), "OK\r\n"),
        "connect success ConID=1\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+SOCKETTT", ">"), "\r\n>");
    u.send(b"raw bytes").unwrap();
    assert_eq!(read(&mut u, "raw bytes"), "raw bytes");
    thread::sleep(Duration::from_millis(30));
    u.send(b"+++").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
}

#[test]
fn combo_mqtt() {
    let (sim, mut u) = sim(Dialect::AiThinker);
    let tc = TestClient::new("combo-test-client");
    tc.subscribe("combo/out");
    join(&mut u);
    let port = broker_addr().port();
    for l in [
        "AT+MQTT=1,127.0.0.1".to_string(),
        format!("AT+MQTT=2,{port}"),
        "AT+MQTT=3,1".into(),
        "AT+MQTT=4,combo-dev".into(),
        "AT+MQTT=5,admin".into(),
        "AT+MQTT=6,public".into(),
    ] {
        assert_eq!(x(&mut u, &l, "OK\r\n"), "\r\nOK\r\n");
    }
    assert_eq!(x(&mut u, "AT+MQTTSUB=combo/in,0", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTT?", "OK\r\n"),
        format!("+MQTT:0,127.0.0.1,{port},1,combo-dev,admin,public,,0,0,\r\n\r\nOK\r\n")
    );
    // Asynchronous: OK, then the event.
    assert_eq!(
        x(&mut u, "AT+MQTT", "MQTT_CONNECT\r\n"),
        "\r\nOK\r\n+EVENT:MQTT_CONNECT\r\n"
    );
    // The stored topic is subscribed once the broker acknowledged it (status 3).
    let mut q = String::new();
    for _ in 0..100 {
        q = x(&mut u, "AT+MQTTSUB?", "OK\r\n");
        if q.starts_with("3,") {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(q, "3,combo/in\r\n\r\nOK\r\n");
    assert_eq!(sim.snapshot().mqtt_state, 3);
    assert_eq!(
        x(&mut u, "AT+MQTTPUB=combo/out,1,0,456", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(tc.expect("combo/out"), b"456");
    assert_eq!(x(&mut u, "AT+MQTTPUBRAW=combo/out,1,0,10", ">"), "\r\n>");
    u.send(b"0123456789").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(tc.expect("combo/out"), b"0123456789");
    tc.publish("combo/in", b"a,b");
    assert_eq!(
        read(&mut u, "a,b\r\n"),
        "+EVENT:MQTT_SUB,combo/in,3,a,b\r\n"
    );
    for t in ["b", "c", "d"] {
        assert_eq!(
            x(&mut u, &format!("AT+MQTTSUB=combo/{t},0"), "OK\r\n"),
            "\r\nOK\r\n"
        );
    }
    // At most four topics.
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=combo/e,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTDISCONN", "MQTT_DISCONNECT\r\n"),
        "\r\nOK\r\n+EVENT:MQTT_DISCONNECT\r\n"
    );
}

#[test]
fn combo_mqtt_newer_firmware_commands() {
    let (_sim, mut u) = sim(Dialect::AiThinker);
    // Defaults: MQTT 3.1, 120 s / 10 s keepalive, 2048-byte buffers.
    assert_eq!(
        x(&mut u, "AT+MQTTVER?", "OK\r\n"),
        "+MQTTVER:3\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTVER=4", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTVER?", "OK\r\n"),
        "+MQTTVER:4\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTVER=5", "ERROR\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTKEEPALIVE?", "OK\r\n"),
        "+MQTTKEEPALIVE:120,10\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTKEEPALIVE=60,5", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTKEEPALIVE?", "OK\r\n"),
        "+MQTTKEEPALIVE:60,5\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTBUF?", "OK\r\n"),
        "+MQTTBUF:2048,2048\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTBUF=4096,1024", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTBUF?", "OK\r\n"),
        "+MQTTBUF:4096,1024\r\n\r\nOK\r\n"
    );
    // Certificates: prompt, data, OK; queried back; cleared with length 0.
    assert_eq!(x(&mut u, "AT+MQTTCRET=1,5", ">"), "\r\n>");
    u.send(b"ca-pe").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTCRET=1", "OK\r\n"),
        "+MQTTCRET:1,5,ca-pe\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTCRET=1,0", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTCRET=1", "OK\r\n"),
        "+MQTTCRET:1,0,\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTCRET=4", "ERROR\r\n"), "\r\nERROR\r\n");
    // Scheme 2 (SSL) is taken; the simulator has no TLS, so the connection fails.
    join(&mut u);
    let port = broker_addr().port();
    for l in [
        "AT+MQTT=1,127.0.0.1".to_string(),
        format!("AT+MQTT=2,{port}"),
        "AT+MQTT=3,2".into(),
        "AT+MQTT=4,combo-ssl".into(),
    ] {
        assert_eq!(x(&mut u, &l, "OK\r\n"), "\r\nOK\r\n");
    }
    assert_eq!(x(&mut u, "AT+MQTT=3,3", "ERROR\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTT", "MQTT_DISCONNECT\r\n"),
        "\r\nOK\r\n+EVENT:MQTT_DISCONNECT\r\n"
    );
}
