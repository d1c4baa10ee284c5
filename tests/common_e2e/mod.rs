//! Helpers shared by the end-to-end tests (`tests/e2e_mqtt.rs`, `tests/e2e_net.rs`): the
//! driver drives a simulated module (`at-wifi-sim`) over an in-process UART, and what the
//! module does on the network is checked from the other side — by an independent MQTT
//! client on the same broker ([`observer`]), or by plain OS sockets on 127.0.0.1.
//!
//! - [`observer`]: which broker the tests use (`AT_WIFI_BROKER=HOST:PORT`, else the
//!   embedded one) and the independent MQTT client (rumqttc).
//! - [`station`]: a simulated ESP-AT / W800 / Beken module with the driver's `Client` and
//!   `Mqtt` session on it, joined to Wi-Fi and connected to the broker.
//! - here: bounded waits, payload patterns, the probe every module gets first.
//!
//! Every wait is bounded by [`WAIT`] (10 s) per expectation; nothing here waits forever.

#![allow(dead_code)]

pub mod observer;
pub mod station;

use at_wifi::command::basic::At;
use at_wifi::{Client, Clock};
use std::time::{Duration, Instant};

/// The bound of every single expectation.
pub const WAIT: Duration = Duration::from_secs(10);

/// The simulator's name for a driver dialect.
pub fn sim_dialect(d: at_wifi::Dialect) -> at_wifi_sim::Dialect {
    d.name().parse().expect("the simulator knows every dialect")
}

/// A name unique to this process and `what`, usable in topics and client ids (no spaces,
/// commas or quotes: Beken writes strings bare).
pub fn unique(what: &str) -> String {
    format!("{}-{what}", std::process::id())
}

/// A topic of its own for test `test` (pid + test name + leaf), so that tests can run in
/// parallel against one broker and runs do not see each other's retained messages.
pub fn topic(test: &str, leaf: &str) -> String {
    format!("at-wifi-e2e/{}/{test}/{leaf}", std::process::id())
}

/// Every byte value once, 0x00 to 0xFF.
pub fn all_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

/// `len` bytes in which every byte value occurs (for `len` ≥ 256), starting at `seed`:
/// a stride coprime with 256 walks every value before it repeats.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(167).wrapping_add(seed))
        .collect()
}

/// Says where two byte strings differ (for assertion messages on long payloads).
pub fn diff(got: &[u8], want: &[u8]) -> String {
    if got == want {
        return "equal".into();
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    format!(
        "got {} bytes, want {}; first difference at byte {at} (got {:02x?}, want {:02x?})",
        got.len(),
        want.len(),
        got.get(at..(at + 8).min(got.len())).unwrap_or(&[]),
        want.get(at..(at + 8).min(want.len())).unwrap_or(&[]),
    )
}

/// Asserts equal payloads with a short message instead of two dumps of kilobytes.
#[track_caller]
pub fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(got == want, "{what}: {}", diff(got, want));
}

/// Sends `AT` until the module answers (it may still be booting), for at most [`WAIT`].
pub fn probe<U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    client: &mut Client<U, C, RX, RESP, TX, EV>,
) where
    U: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write,
    C: Clock,
{
    let end = Instant::now() + WAIT;
    loop {
        match client.send(&At) {
            Ok(_) => return,
            Err(e) if Instant::now() >= end => panic!("the module never answered AT: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
