//! Fault injection, the TCP server mode, and driving a `Module` by hand.

mod common;

use at_wifi_sim::{Dialect, Fault, Module, Server, Sim, SimConfig};
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn garbage_drop_and_corrupt() {
    let (sim, mut u) = sim(Dialect::EspAt);
    sim.garbage_burst(64);
    let g = u.read_for(Duration::from_millis(100));
    assert_eq!(g.len(), 64);
    sim.drop_bytes(4);
    // "\r\nOK\r\n" loses its first four bytes.
    assert_eq!(x(&mut u, "AT", "\r\n"), "\r\n");
    assert_eq!(rest(&mut u, 50), "");
    sim.corrupt_bytes(6);
    u.send(b"AT\r\n").unwrap();
    let c = u.read_for(Duration::from_millis(100));
    assert_eq!(c.len(), 6);
    assert_ne!(c, b"\r\nOK\r\n");
    for (a, b) in c.iter().zip(b"\r\nOK\r\n") {
        assert_eq!((a ^ b).count_ones(), 1);
    }
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
}

#[test]
fn busy_storm_and_late_reply() {
    let (sim, mut u) = sim(Dialect::EspAt);
    sim.busy_storm(2);
    assert_eq!(x(&mut u, "AT", "busy p...\r\n"), "\r\nbusy p...\r\n");
    assert_eq!(x(&mut u, "AT+GMR", "busy p...\r\n"), "\r\nbusy p...\r\n");
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
    sim.delay_next_reply(300);
    let t0 = Instant::now();
    u.send(b"AT+CWMODE?\r\n").unwrap();
    // Meanwhile the module is busy.
    assert_eq!(x(&mut u, "AT", "busy p...\r\n"), "\r\nbusy p...\r\n");
    assert_eq!(read(&mut u, "OK\r\n"), "+CWMODE:1\r\n\r\nOK\r\n");
    assert!(t0.elapsed() >= Duration::from_millis(280));
}

#[test]
fn reboot_in_the_middle_of_a_command() {
    let (sim, mut u) = Sim::pipe(config(Dialect::EspAt).echo(true));
    sim.reboot_during_next_command();
    u.send(b"AT+GMR\r\n").unwrap();
    let r = u.read_until(b"\r\nready\r\n", T);
    assert!(r.starts_with(b"AT+GMR\r\n"), "{r:?}");
    assert!(r.ends_with(b"\r\nready\r\n"));
    assert!(!r.windows(2).any(|w| w == b"OK"));
    assert_eq!(rest(&mut u, 50), "");
    // Echo is back on after a reboot.
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "AT\r\n\r\nOK\r\n");
    assert!(!sim.snapshot().booting);
}

#[test]
fn urc_burst() {
    let (sim, mut u) = sim(Dialect::EspAt);
    join_esp(&mut u);
    sim.urc_burst(5);
    let got = rest(&mut u, 100);
    assert_eq!(got, "WIFI GOT IP\r\n".repeat(5));
}

#[test]
fn fault_plan_in_config() {
    let cfg = config(Dialect::Beken).fault(Fault::BusyStorm(1));
    let (_sim, mut u) = Sim::pipe(cfg);
    assert_eq!(x(&mut u, "AT", "busy p...\r\n"), "\r\nbusy p...\r\n");
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
}

#[test]
fn broker_outage_recovers_by_itself() {
    let (sim, mut u) = Sim::pipe(config(Dialect::W800).reconnect_ms(50));
    join_esp(&mut u);
    esp_mqtt_up(&mut u, "w800-outage");
    sim.broker_outage(200);
    assert_eq!(read(&mut u, "\r\n"), "+MQTTDISCONNECTED:0\r\n");
    let port = broker_addr().port();
    assert_eq!(
        read(&mut u, "\r\n"),
        format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n")
    );
}

#[test]
fn tcp_server_mode() {
    let server = Server::bind("127.0.0.1:0", config(Dialect::EspAt).echo(true)).unwrap();
    for round in 0..2 {
        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        s.write_all(b"AT\r\n").unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 64];
        while !got.ends_with(b"OK\r\n") {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "round {round}");
            got.extend_from_slice(&b[..n]);
        }
        // Every connection meets a freshly powered module (echo on again).
        assert_eq!(got, b"AT\r\n\r\nOK\r\n");
        s.write_all(b"ATE0\r\n").unwrap();
        thread::sleep(Duration::from_millis(30));
    }
    server.inject(Fault::Garbage(1));
    server.shutdown();
}

#[test]
fn module_by_hand() {
    let mut m = Module::new(SimConfig::new(Dialect::AiThinker).echo(false));
    m.input(b"AT+WMODE?\r\n");
    assert_eq!(m.output(), b"+WMODE:1\r\n\r\nOK\r\n");
    // Bytes may come one at a time.
    for b in b"AT+GMR\r\n" {
        m.input(&[*b]);
    }
    let out = String::from_utf8(m.output()).unwrap();
    assert!(out.starts_with("atversion:"), "{out:?}");
    m.inject(Fault::Reboot);
    let out = m.output();
    assert!(!out.is_empty());
    m.input(b"AT\r\n");
    assert!(m.snapshot().booting);
    thread::sleep(Duration::from_millis(200));
    assert!(m.output().ends_with(b"\r\nready\r\n"));
    m.input(b"AT\r\n");
    assert_eq!(m.output(), b"AT\r\n\r\nOK\r\n");
}
