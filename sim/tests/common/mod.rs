//! Helpers shared by the simulator's tests: one embedded broker per test binary, a pipe
//! to a simulated module, exchanges of raw AT lines, and an MQTT test client.

#![allow(dead_code)]

use at_wifi_sim::{broker, Dialect, PipeEnd, Sim, SimConfig};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub const T: Duration = Duration::from_secs(5);

/// The broker of this test binary (started on first use, on a free port).
pub fn broker_addr() -> SocketAddr {
    static B: OnceLock<SocketAddr> = OnceLock::new();
    *B.get_or_init(|| broker::start(0).expect("embedded broker").addr())
}

/// A module of `dialect` with echo off, bridged to the test broker, over a pipe.
pub fn sim(dialect: Dialect) -> (Sim, PipeEnd) {
    Sim::pipe(config(dialect))
}

pub fn config(dialect: Dialect) -> SimConfig {
    SimConfig::new(dialect).broker(broker_addr()).echo(false)
}

/// Writes `line` + CR LF and reads until `until` (inclusive).
pub fn x(uart: &mut PipeEnd, line: &str, until: &str) -> String {
    uart.send(line.as_bytes()).unwrap();
    uart.send(b"\r\n").unwrap();
    read(uart, until)
}

/// Reads until `until` (inclusive), as text (invalid UTF-8 replaced).
pub fn read(uart: &mut PipeEnd, until: &str) -> String {
    let got = uart.read_until(until.as_bytes(), T);
    let s = String::from_utf8_lossy(&got).into_owned();
    assert!(s.ends_with(until), "wanted {until:?}, got {s:?}");
    s
}

/// Reads what comes within `ms`.
pub fn rest(uart: &mut PipeEnd, ms: u64) -> String {
    String::from_utf8_lossy(&uart.read_for(Duration::from_millis(ms))).into_owned()
}

/// Joins Wi-Fi the ESP-AT way.
pub fn join_esp(uart: &mut PipeEnd) {
    assert_eq!(x(uart, "AT+CWMODE=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(uart, "AT+CWJAP=\"home\",\"secret-password\"", "OK\r\n"),
        "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"
    );
}

/// An MQTT client of the test broker, with its incoming messages on a channel.
pub struct TestClient {
    pub client: Client,
    pub msgs: Receiver<(String, Vec<u8>, bool)>,
    subacks: Receiver<()>,
}

impl TestClient {
    pub fn new(id: &str) -> TestClient {
        let addr = broker_addr();
        let mut o = MqttOptions::new(id, addr.ip().to_string(), addr.port());
        o.set_keep_alive(Duration::from_secs(30));
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 32);
        let (tx, msgs) = mpsc::channel();
        let (stx, subacks) = mpsc::channel();
        let (ctx, connected) = mpsc::channel();
        thread::spawn(move || {
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = ctx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((p.topic, p.payload.to_vec(), p.retain)).is_err() {
                            break;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = stx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        connected.recv_timeout(T).expect("test client connects");
        TestClient {
            client,
            msgs,
            subacks,
        }
    }

    pub fn subscribe(&self, topic: &str) {
        self.client.subscribe(topic, QoS::AtLeastOnce).unwrap();
        self.subacks.recv_timeout(T).expect("suback");
    }

    pub fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .unwrap();
    }

    /// The next message on `topic` (others are skipped).
    pub fn expect(&self, topic: &str) -> Vec<u8> {
        let end = Instant::now() + T;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let (t, p, _) = self.msgs.recv_timeout(left).expect("message");
            if t == topic {
                return p;
            }
        }
    }
}

/// Sets up ESP-AT / W800 MQTT (user config, connection) and checks the replies.
pub fn esp_mqtt_up(uart: &mut PipeEnd, client_id: &str) {
    esp_usercfg(uart, client_id);
    esp_conn(uart);
}

pub fn esp_usercfg(uart: &mut PipeEnd, client_id: &str) {
    assert_eq!(
        x(
            uart,
            &format!("AT+MQTTUSERCFG=0,1,\"{client_id}\",\"\",\"\",0,0,\"\""),
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
}

pub fn esp_conn(uart: &mut PipeEnd) {
    let port = broker_addr().port();
    assert_eq!(
        x(
            uart,
            &format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1"),
            "OK\r\n"
        ),
        format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n\r\nOK\r\n")
    );
}
