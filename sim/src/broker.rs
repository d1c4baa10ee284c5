//! An MQTT broker embedded in the process (rumqttd), for tests and demos that must not
//! depend on an installed one.
//!
//! ```no_run
//! let broker = at_wifi_sim::broker::start(0).unwrap(); // 0: any free port
//! println!("MQTT broker on {}", broker.addr());
//! ```
//!
//! It listens on 127.0.0.1 only, MQTT 3.1.1, no authentication (any user name and
//! password are accepted), messages up to 1 MiB, retained messages and last wills as
//! MQTT 3.1.1 specifies. rumqttd offers no way to stop a broker: it runs until the process
//! ends (the threads are idle when nobody is connected).

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// A running embedded broker.
#[derive(Clone, Debug)]
pub struct BrokerHandle {
    addr: SocketAddr,
}

impl BrokerHandle {
    /// Where it listens (127.0.0.1:port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn config(addr: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 1 << 20,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "v4-sim".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let mut v4 = HashMap::new();
    v4.insert("1".to_string(), server);
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1000,
            max_outgoing_packet_count: 200,
            max_segment_size: 1 << 22,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(v4),
        ..Config::default()
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn wait_listening(addr: SocketAddr, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Starts a broker on 127.0.0.1:`port` (0: a free port) and waits until it accepts
/// connections.
pub fn start(port: u16) -> io::Result<BrokerHandle> {
    let tries = if port == 0 { 3 } else { 1 };
    let mut last = io::Error::other("broker did not start");
    for _ in 0..tries {
        let p = if port == 0 { free_port()? } else { port };
        let addr = SocketAddr::from(([127, 0, 0, 1], p));
        let mut broker = Broker::new(config(addr));
        thread::Builder::new()
            .name("sim-broker".into())
            .spawn(move || {
                let _ = broker.start();
            })?;
        if wait_listening(addr, Duration::from_secs(5)) {
            return Ok(BrokerHandle { addr });
        }
        last = io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("embedded broker could not listen on {addr}"),
        );
    }
    Err(last)
}
