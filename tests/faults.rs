//! Fault injection through the simulator: one test per fault (garbage bursts, dropped
//! bytes, corrupted bytes, `busy p...` storms, replies past the timeout, a reboot in the
//! middle of a command, broker drop and return, URC floods), on ESP-AT and, where the
//! dialect makes a difference, on W800 and Beken.
//!
//! For each fault:
//! - every driver call returns within its timeout (+ `SLACK_MS` for thread scheduling),
//!   with success or a typed error (the expected one where the fault decides it);
//! - the next command after the fault succeeds (`AT`), and so does an MQTT round trip
//!   (publish on the subscribed topic, receive it back);
//! - a reboot is reported (`MqttEvent::Reset`, `Event::Reset`, `Stats::resets`);
//! - every MQTT message the simulator wrote on the UART (read back from a tap on the wire)
//!   is delivered once, or found inside a `Line` event (its header destroyed), or counted
//!   as truncated or in an `Overflow { dropped }`: the test checks the sum. Messages come
//!   from an independent publisher (MQTT 3.1.1 over its own TCP connection), from the
//!   driver's own round trips and from the simulator's URC bursts.
//!
//! On Ai-Thinker Combo-AT (no `Mqtt`: sockets) every byte the peer sent is received in
//! order, and received + counted lost == the bytes the module wrote in `+SOCKETREAD`
//! packets.
//!
//! What the sum can honestly claim is in `RELIABILITY.md`, "Fault injection through the
//! simulator", with the two findings the suite fails on (FI-1, FI-2). Runs in about 20 s.

mod faults_common;

use at_wifi::command::basic::{At, GetVersion};
use at_wifi::mqtt::MqttState;
use at_wifi::{Dialect, Error};
use at_wifi_sim::Sim;
use faults_common::*;
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Garbage bursts
// ---------------------------------------------------------------------------------------

fn garbage_burst(d: Dialect) {
    let mut rig = Rig::up(d, "garbage");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);

    // Garbage while idle, messages right behind it: a header glued to the garbage's last
    // line turns its message into a `Line` event (counted by the sum, found by its id).
    rig.sim.garbage_burst(512);
    let ids = rig.publish_from_outside(4);
    rig.await_reported(&ids, 5000);

    // Garbage while a command waits for its (late) reply: any typed result, in time.
    rig.sim.delay_next_reply(300);
    let r = thread::scope(|s| {
        let sim = &rig.sim;
        s.spawn(move || {
            thread::sleep(Duration::from_millis(100));
            sim.garbage_burst(256);
        });
        timed("AT", AT_MS, || rig.client.send(&At))
    });
    eprintln!("{}: AT with garbage inside its reply: {r:?}", rig.name);

    rig.recovered("after the garbage");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(sum.sent, 3 + 4 + 3 + 1, "{}: {sum:?}", rig.name);
}

#[test]
fn garbage_burst_esp_at() {
    garbage_burst(Dialect::EspAt);
}

#[test]
fn garbage_burst_w800() {
    garbage_burst(Dialect::W800);
}

#[test]
fn garbage_burst_beken() {
    garbage_burst(Dialect::Beken);
}

// ---------------------------------------------------------------------------------------
// Dropped bytes
// ---------------------------------------------------------------------------------------

/// What a byte fault does to a reply and to a message header: `inject(n)` spoils the next
/// `n` bytes the module sends (drops them, or flips a bit in each).
fn spoiled_bytes(d: Dialect, what: &str, inject: fn(&Sim, usize)) {
    let mut rig = Rig::up(d, what);
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);

    // The whole reply of a command (`\r\nOK\r\n`, echo is off) is lost or has no line end
    // and no `OK` left: a timeout.
    inject(&rig.sim, 6);
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert_eq!(r, Err(Error::Timeout { ms: 1000 }), "{}", rig.name);
    // The next command resynchronises and succeeds.
    rig.at_ok("after a spoiled reply");

    // The first bytes of a message (`+MQTT`) spoiled: its header is no header any more,
    // the rest arrives as a line.
    inject(&rig.sim, 5);
    let cut = rig.publish_from_outside(1);
    rig.await_reported(&cut, 5000);
    assert_eq!(
        rig.count(|e| matches!(e, Ev::Line(l) if occurrences(l, cut[0].as_bytes()) == 1)),
        1,
        "{}: the message without its header is a line; events {:?}",
        rig.name,
        rig.events
    );

    rig.recovered("after spoiled bytes");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(
        (sum.sent, sum.header_lost),
        (3 + 1 + 1 + 3, 1),
        "{}",
        rig.name
    );
}

fn dropped_bytes(d: Dialect) {
    spoiled_bytes(d, "drop", Sim::drop_bytes);
}

fn corrupted_bytes(d: Dialect) {
    spoiled_bytes(d, "corrupt", Sim::corrupt_bytes);
}

#[test]
fn dropped_bytes_esp_at() {
    dropped_bytes(Dialect::EspAt);
}

#[test]
fn dropped_bytes_w800() {
    dropped_bytes(Dialect::W800);
}

#[test]
fn dropped_bytes_beken() {
    dropped_bytes(Dialect::Beken);
}

#[test]
fn corrupted_bytes_esp_at() {
    corrupted_bytes(Dialect::EspAt);
}

#[test]
fn corrupted_bytes_w800() {
    corrupted_bytes(Dialect::W800);
}

#[test]
fn corrupted_bytes_beken() {
    corrupted_bytes(Dialect::Beken);
}

// ---------------------------------------------------------------------------------------
// `busy p...` storms
// ---------------------------------------------------------------------------------------

fn busy_storm(d: Dialect) {
    let mut rig = Rig::up(d, "busy");
    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);

    rig.sim.busy_storm(2);
    // Messages arrive while the commands wait: they are events, not replies.
    let during = rig.publish_from_outside(4);
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert_eq!(r, Err(Error::Busy), "{}: first AT of the storm", rig.name);
    // The resynchronising `AT` of the next call meets the second busy line.
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert_eq!(r, Err(Error::Busy), "{}: second AT of the storm", rig.name);

    rig.recovered("after the busy storm");
    rig.await_reported(&during, 5000);
    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(sum.sent, 2 + 4 + 1 + 2, "{}", rig.name);
}

#[test]
fn busy_storm_esp_at() {
    busy_storm(Dialect::EspAt);
}

#[test]
fn busy_storm_w800() {
    // W800 says `busy ...`.
    busy_storm(Dialect::W800);
}

// ---------------------------------------------------------------------------------------
// Replies past the timeout
// ---------------------------------------------------------------------------------------

fn late_reply(d: Dialect) {
    let mut rig = Rig::up(d, "late");
    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);

    // Late but within the timeout: success.
    rig.sim.delay_next_reply(400);
    let t0 = Instant::now();
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert_eq!(r, Ok(at_wifi::command::NoResponse), "{}", rig.name);
    assert!(t0.elapsed() >= Duration::from_millis(380));

    // Past the timeout: `Timeout`. Messages published meanwhile are held back by the module
    // (its output is gated behind the late reply) and come after it.
    rig.sim.delay_next_reply(1500);
    let r = timed("AT+GMR", GMR_MS, || rig.client.send(&GetVersion));
    assert_eq!(r.err(), Some(Error::Timeout { ms: 1000 }), "{}", rig.name);
    let held = rig.publish_from_outside(3);
    // The next command: the late reply (version lines, `OK`) arrives while it
    // resynchronises; it must get its own reply, not the late one.
    let r = timed("AT+GMR", GMR_MS, || rig.client.send(&GetVersion));
    let v = r.unwrap_or_else(|e| panic!("{}: AT+GMR after the late reply: {e}", rig.name));
    if d == Dialect::EspAt {
        assert!(v.at.starts_with("3."), "{}: version {v:?}", rig.name);
    }

    rig.recovered("after a late reply");
    rig.await_reported(&held, 5000);
    let sum = rig.check_sum();
    assert_eq!(sum.sent, 2 + 3 + 1, "{}", rig.name);
}

#[test]
fn reply_past_the_timeout_esp_at() {
    late_reply(Dialect::EspAt);
}

#[test]
fn reply_past_the_timeout_w800() {
    late_reply(Dialect::W800);
}

// ---------------------------------------------------------------------------------------
// Reboots
// ---------------------------------------------------------------------------------------

/// After a reboot: Wi-Fi comes back by itself (the module rejoins the stored AP); `AT`
/// (echo is back on); `ATE0`; the MQTT session rebuilt.
fn after_reboot(rig: &mut Rig) {
    let got_ip = rig.pump_until(5000, |e| *e == Ev::GotIp);
    assert!(got_ip.is_some(), "{}: Wi-Fi never came back", rig.name);
    rig.at_ok("after the reboot (echo on again)");
    rig.echo_off();
    rig.recover();
}

fn reboot_during_command(d: Dialect) {
    let mut rig = Rig::up(d, "reboot");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);

    rig.sim.reboot_during_next_command();
    let r = rig.publish_any("rb-0001");
    assert_eq!(
        r,
        Err(Error::Reset),
        "{}: publish interrupted by a reboot",
        rig.name
    );
    // Reported once, as an event, and counted.
    let reset = rig.pump_until(3000, |e| *e == Ev::Reset);
    assert!(reset.is_some(), "{}: no MqttEvent::Reset", rig.name);
    assert_eq!(rig.mqtt.state(), MqttState::Idle);
    assert_eq!(rig.client.stats().resets, 1);
    // Published while the module has no MQTT link: the simulator writes none of them.
    let gone = rig.publish_from_outside(2);

    after_reboot(&mut rig);
    rig.round_trip("after the reboot");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(rig.count(|e| *e == Ev::Reset), 1, "{}", rig.name);
    assert_eq!(sum.sent, 3 + 1 + 3, "{}: {gone:?} not written", rig.name);
}

#[test]
fn reboot_during_a_command_esp_at() {
    reboot_during_command(Dialect::EspAt);
}

#[test]
fn reboot_during_a_command_w800() {
    reboot_during_command(Dialect::W800);
}

#[test]
fn reboot_during_a_command_beken() {
    reboot_during_command(Dialect::Beken);
}

#[test]
fn reboot_outside_a_command_is_an_event() {
    let mut rig = Rig::up(Dialect::EspAt, "reboot-idle");
    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);

    // The client alone (no session): `Event::Reset`.
    rig.sim.reboot();
    let end = Instant::now() + Duration::from_secs(3);
    while rig.wait_client_event(500) != Some(Ev::Reset) {
        assert!(Instant::now() < end, "{}: no Event::Reset", rig.name);
    }
    assert_eq!(rig.client.stats().resets, 1);
    after_reboot(&mut rig);
    rig.round_trip("after the first reboot");

    // Through the session: `MqttEvent::Reset`, and the state is `Idle`.
    rig.sim.reboot();
    let reset = rig.pump_until(3000, |e| *e == Ev::Reset);
    assert!(reset.is_some(), "{}: no MqttEvent::Reset", rig.name);
    assert_eq!(rig.mqtt.state(), MqttState::Idle);
    assert_eq!(rig.client.stats().resets, 2);
    after_reboot(&mut rig);
    rig.round_trip("after the second reboot");

    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(sum.sent, 2 + 1 + 1 + 2, "{}", rig.name);
}

// ---------------------------------------------------------------------------------------
// Broker drop and return
// ---------------------------------------------------------------------------------------

/// `outage`: `broker_outage(ms)` (the path comes back by itself) instead of
/// `broker_drop()` … `broker_return()`.
fn broker_drop_and_return(d: Dialect, outage: Option<u64>) {
    let mut rig = Rig::up(d, "broker");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);

    match outage {
        Some(ms) => rig.sim.broker_outage(ms),
        None => rig.sim.broker_drop(),
    }
    let down = rig.pump_until(5000, |e| *e == Ev::Disconnected);
    assert!(down.is_some(), "{}: no Disconnected", rig.name);
    assert_eq!(rig.mqtt.state(), MqttState::Disconnected);
    // Meanwhile: a publish fails with the module's error, in time; the module itself
    // answers; messages published outside never reach the module.
    let r = rig.publish_any("out-0001");
    assert!(
        matches!(r, Err(Error::Module { .. })),
        "{}: publish while the broker is away: {r:?}",
        rig.name
    );
    rig.at_ok("while the broker is away");
    let gone = rig.publish_from_outside(2);
    if outage.is_none() {
        rig.pump(300);
        rig.sim.broker_return();
    }
    let back = rig.pump_until(5000, |e| matches!(e, Ev::Reconnected { .. }));
    assert_eq!(
        back,
        Some(Ev::Reconnected {
            resubscribed: 1,
            failed: 0
        }),
        "{}: reconnection",
        rig.name
    );
    assert_eq!(rig.mqtt.state(), MqttState::Connected);

    rig.recovered("after the broker came back");
    let ids = rig.publish_from_outside(3);
    rig.await_reported(&ids, 5000);
    let sum = rig.check_sum();
    assert_eq!(sum.sent, 3 + 1 + 3, "{}: {gone:?} not written", rig.name);
}

#[test]
fn broker_drop_and_return_esp_at() {
    broker_drop_and_return(Dialect::EspAt, None);
}

#[test]
fn broker_outage_w800() {
    broker_drop_and_return(Dialect::W800, Some(600));
}

#[test]
fn broker_outage_beken() {
    broker_drop_and_return(Dialect::Beken, Some(600));
}

// ---------------------------------------------------------------------------------------
// URC floods
// ---------------------------------------------------------------------------------------

fn urc_flood(d: Dialect) {
    let mut rig = Rig::up(d, "flood");
    let ids = rig.publish_from_outside(2);
    rig.await_reported(&ids, 5000);

    // Read by polling only: `poll` reads until one event is queued, so nothing overflows.
    // 100 lines: 50 `WIFI GOT IP`, 50 messages on the subscribed topic.
    rig.sim.urc_burst(100);
    rig.expect_burst(100);
    let burst = rig.candidates[rig.candidates.len() - 50..].to_vec();
    rig.await_reported(&burst, 5000);
    let sum = rig.check_sum();
    assert_eq!(
        (
            sum.sent,
            sum.delivered,
            sum.sent_got_ip,
            sum.got_ip,
            sum.overflow_dropped
        ),
        (2 + 50, 2 + 50, 50, 50, 0),
        "{}: polled flood",
        rig.name
    );

    // A flood read by a command (everything up to its `OK` is read and queued at once):
    // the client's queue overflows; the sum counts the dropped events.
    rig.open_window();
    rig.sim.urc_burst(400);
    rig.expect_burst(400);
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert!(r.is_ok(), "{}: AT in the flood: {r:?}", rig.name);
    rig.recovered("after the flood");
    let sum = rig.check_sum();
    assert_eq!((sum.sent, sum.sent_got_ip), (200 + 1, 200), "{}", rig.name);
    assert!(
        sum.overflow_dropped > 0,
        "{}: the flood overflowed nothing",
        rig.name
    );
}

#[test]
fn urc_flood_esp_at() {
    urc_flood(Dialect::EspAt);
}

#[test]
fn urc_flood_w800() {
    urc_flood(Dialect::W800);
}

#[test]
fn urc_flood_beken() {
    urc_flood(Dialect::Beken);
}

// ---------------------------------------------------------------------------------------
// Floods of long messages
// ---------------------------------------------------------------------------------------

/// A 2500-byte message, read by polling, then while a command runs. ESP-AT writes it in
/// three `+MQTTSUBRECV` pieces (about 1000 + 1024 + 480 bytes, as its 1024-byte MQTT
/// buffer does); W800 in one line longer than the client's 1100-byte receive buffer.
fn long_message_flood(d: Dialect) {
    let mut rig = Rig::up(d, "long");

    // Read by polling.
    let id = rig.publish_long_from_outside(2500);
    rig.await_reported(std::slice::from_ref(&id), 5000);
    let sum = rig.check_sum();
    match d {
        // Pieces joined (as fragments: longer than the session's 2048-byte buffer).
        Dialect::EspAt => assert_eq!((sum.delivered, sum.truncated), (1, 0), "{}", rig.name),
        // Cut to the client's buffer, marked truncated.
        _ => assert_eq!((sum.delivered, sum.truncated), (0, 1), "{}", rig.name),
    }

    // Everything read at once by a command: ESP-AT's pieces (995, 1024 and 481 bytes on a
    // 22-byte topic at QoS 1) take about 1045, 1075 and 530 bytes of the client's 2048-byte
    // event queue: the first fits, the second does not (an overflow of one event), the
    // third does. W800's line, cut to 1100 bytes, fits.
    rig.open_window();
    let id = rig.publish_long_from_outside(2500);
    rig.await_written(std::slice::from_ref(&id), 5000);
    let r = timed("AT", AT_MS, || rig.client.send(&At));
    assert!(r.is_ok(), "{}: AT: {r:?}", rig.name);
    rig.recovered("after long messages");
    rig.check_sum();
}

#[test]
fn long_message_flood_esp_at() {
    long_message_flood(Dialect::EspAt);
}

#[test]
fn long_message_flood_w800() {
    long_message_flood(Dialect::W800);
}

// ---------------------------------------------------------------------------------------
// Socket bytes (Ai-Thinker Combo-AT, passive receive)
// ---------------------------------------------------------------------------------------

mod sockets {
    use super::*;
    use at_wifi::command::basic::EchoOff;
    use at_wifi::command::socket::ReceiveMode;
    use at_wifi::net::{NetError, SocketHandle, SocketSet};
    use at_wifi::{Client, StdClock};
    use at_wifi_sim::{PipeEnd, SimConfig};
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    /// `AT+SOCKETREAD`'s timeout.
    const SOCKETREAD_MS: u64 = 5000;
    /// How long each `receive_timeout` waits for data.
    const WAIT_MS: u32 = 200;

    struct SockRig {
        sim: at_wifi_sim::Sim,
        wire: Arc<Mutex<Vec<u8>>>,
        /// `RESP` 1100: a whole 1024-byte packet fits a reply.
        client: Client<PipeEnd, StdClock, 1100, 1100>,
        set: SocketSet,
        h: SocketHandle,
        peer: TcpStream,
        sent: Vec<u8>,
        got: Vec<u8>,
        lost: usize,
        errors: Vec<NetError>,
    }

    impl SockRig {
        fn up() -> SockRig {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let cfg = SimConfig::new(at_wifi_sim::Dialect::AiThinker)
                .network(SSID, PASSWORD)
                .wifi_connected(true);
            let (sim, uart, wire) = tapped(cfg);
            let mut client: Client<_, _, 1100, 1100> =
                Client::new(uart, StdClock::new(), Dialect::AiThinker);
            timed("AT", AT_MS, || client.send(&At)).unwrap();
            timed("ATE0", AT_MS, || client.send(&EchoOff)).unwrap();
            let mut set: SocketSet = SocketSet::new();
            timed("SocketSet::init", 5000, || {
                set.init(&mut client, ReceiveMode::Passive)
            })
            .unwrap();
            let h = timed("SocketSet::connect_tcp", 30_000, || {
                set.connect_tcp(&mut client, "127.0.0.1", port)
            })
            .unwrap();
            let (peer, _) = listener.accept().unwrap();
            peer.set_nodelay(true).unwrap();
            SockRig {
                sim,
                wire,
                client,
                set,
                h,
                peer,
                sent: Vec::new(),
                got: Vec::new(),
                lost: 0,
                errors: Vec::new(),
            }
        }

        /// The peer sends `sizes.len()` packets (a pause between them, so each is one
        /// packet on the module).
        fn peer_sends(&mut self, sizes: &[usize]) {
            for &n in sizes {
                let start = self.sent.len();
                let data: Vec<u8> = (start..start + n).map(|i| (i % 251) as u8).collect();
                self.peer.write_all(&data).unwrap();
                self.sent.extend_from_slice(&data);
                thread::sleep(Duration::from_millis(10));
            }
        }

        /// Bytes of `+SOCKETREAD` packets the module wrote on the UART.
        fn written_bytes(&self) -> usize {
            let wire = self.wire.lock().unwrap();
            let mut total = 0;
            let mut i = 0;
            while let Some(p) = wire[i..].windows(12).position(|w| w == b"+SOCKETREAD,") {
                let at = i + p + 12;
                // `<id>,<len>,`
                let rest = &wire[at..];
                let f: Vec<&[u8]> = rest.splitn(3, |&b| b == b',').collect();
                let len: usize = std::str::from_utf8(f[1]).unwrap().parse().unwrap();
                total += len;
                i = at + f[0].len() + 1 + f[1].len() + 1 + len;
            }
            total
        }

        /// The lines of the wire that hold `+EVENT:SocketDown` (what came before it on
        /// the same line included, escaped).
        fn notices(&self) -> Vec<String> {
            let wire = self.wire.lock().unwrap();
            wire.split(|&b| b == b'\n')
                .filter(|l| l.windows(17).any(|w| w == b"+EVENT:SocketDown"))
                .map(|l| {
                    let l = &l[l.len().saturating_sub(60)..];
                    l.iter()
                        .flat_map(|&b| std::ascii::escape_default(b))
                        .map(char::from)
                        .collect()
                })
                .collect()
        }

        /// One `receive_timeout`, within its time (its wait, then at most one
        /// `AT+SOCKETREAD` begun before the wait ended).
        fn receive_once(&mut self) {
            let mut buf = [0u8; 1024];
            let SockRig { client, set, h, .. } = self;
            let r = timed(
                "SocketSet::receive_timeout",
                u64::from(WAIT_MS) + SOCKETREAD_MS,
                || set.receive_timeout(client, *h, &mut buf, WAIT_MS),
            );
            match r {
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(NetError::Overrun { lost }) => self.lost += lost,
                Err(NetError::At(Error::Timeout { .. })) => {}
                Err(e) => self.errors.push(e),
            }
        }

        /// Receives until every byte the peer sent is received or counted as lost.
        fn receive_all(&mut self, what: &str) {
            // A busy `AT+SOCKETREAD` alone takes its 5 s timeout.
            let end = Instant::now() + Duration::from_millis(3000 + SOCKETREAD_MS);
            while self.got.len() + self.lost < self.sent.len() {
                assert!(
                    Instant::now() < end,
                    "combo/{what}: {} of {} bytes received, {} counted lost; the module \
                     wrote {} in +SOCKETREAD packets; errors {:?}; notices on the wire: {:?}",
                    self.got.len(),
                    self.sent.len(),
                    self.lost,
                    self.written_bytes(),
                    self.errors,
                    self.notices()
                );
                self.receive_once();
            }
        }

        /// The sum: what the module wrote == received + counted lost; the stream intact.
        fn check(&self, what: &str) {
            assert_eq!(
                self.got.len() + self.lost,
                self.written_bytes(),
                "combo/{what}: received + lost != bytes the module wrote"
            );
            if self.lost == 0 {
                assert!(
                    self.got == self.sent,
                    "combo/{what}: the byte stream differs"
                );
            }
        }
    }

    #[test]
    fn socket_bytes_through_busy_storm_and_urc_flood_combo_at() {
        let mut rig = SockRig::up();
        rig.peer_sends(&[300, 300, 300]);
        rig.receive_all("before the faults");
        rig.check("before the faults");

        // A busy storm on `AT+SOCKETREAD`: `Busy`, the packet stays in the module.
        rig.peer_sends(&[200]);
        thread::sleep(Duration::from_millis(50));
        rig.sim.busy_storm(1);
        rig.receive_all("through a busy storm");
        assert!(
            rig.errors.contains(&NetError::At(Error::Busy)),
            "combo: the storm was not met: {:?}",
            rig.errors
        );
        rig.check("through a busy storm");

        // A URC flood read by a command: the event queue overflows and takes the
        // `+EVENT:SocketDown` notices behind the flood with it; the set reads anyway.
        rig.sim.urc_burst(300);
        rig.peer_sends(&[400, 500]);
        thread::sleep(Duration::from_millis(100));
        let r = timed("AT", AT_MS, || rig.client.send(&At));
        assert!(r.is_ok(), "combo: AT in the flood: {r:?}");
        rig.receive_all("after the URC flood");
        rig.check("after the URC flood");

        // The next command after the faults, and the socket, work.
        let r = timed("AT", AT_MS, || rig.client.send(&At));
        assert!(r.is_ok(), "combo: AT after the faults: {r:?}");
        rig.peer_sends(&[100]);
        rig.receive_all("after the faults");
        rig.check("after the faults");
        eprintln!(
            "combo/sockets: {} bytes sent, {} received, {} lost; errors {:?}; stats {:?}",
            rig.sent.len(),
            rig.got.len(),
            rig.lost,
            rig.errors,
            rig.client.stats()
        );
    }

    /// Garbage, then packets: the first `+EVENT:SocketDown,1,300` is glued to the
    /// garbage's last line (no line end between them) and arrives as an unknown line. The
    /// second notice makes the set read one packet — the first, the module's queue is FIFO
    /// — and, both being 300 bytes, it then believes nothing waits: the second packet
    /// stays in the module, announced but never read, until some later notice comes.
    #[test]
    fn socket_notice_glued_to_garbage_combo_at() {
        let mut rig = SockRig::up();
        rig.peer_sends(&[300, 300, 300]);
        rig.receive_all("before the garbage");
        rig.sim.garbage_burst(512);
        rig.peer_sends(&[300, 300]);
        rig.receive_all("after the garbage");
        rig.check("after the garbage");
        let r = timed("AT", AT_MS, || rig.client.send(&At));
        assert!(r.is_ok(), "combo: AT after the garbage: {r:?}");
    }
}
