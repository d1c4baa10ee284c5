//! The module's MQTT client: rumqttc, driven in a thread, reaching the broker through a
//! relay on 127.0.0.1 that the fault injector can cut.
//!
//! The relay exists so that a "broker drop" is a real network failure for both sides: the
//! module's client sees its connection die (and, with automatic reconnection, retries on
//! its own), the broker sees the client vanish without DISCONNECT (and publishes its will).

use rumqttc::{Client, Connection, Event, LastWill, MqttOptions, Outgoing, Packet, QoS};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the link reports to the module.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// CONNACK received (first connection or a reconnection).
    Connected,
    /// The first connection attempt failed; the link is finished.
    ConnectFailed(String),
    /// An established connection broke.
    Down,
    /// A PUBLISH from the broker.
    Message {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
    },
    /// SUBACK for the subscription tagged `tag` (`None`: a resubscription).
    SubAck { tag: Option<u64>, ok: bool },
    /// UNSUBACK.
    UnsubAck { tag: Option<u64> },
}

/// A last will.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Will {
    pub topic: String,
    pub message: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
}

/// How to connect.
#[derive(Clone, Debug)]
pub(crate) struct LinkOptions {
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub keepalive_s: u64,
    pub clean_session: bool,
    pub will: Option<Will>,
    pub reconnect: bool,
    pub reconnect_ms: u64,
    pub upstream: SocketAddr,
}

/// A state shared by every relay of a module: is the path to the broker broken?
#[derive(Debug, Default)]
pub(crate) struct BrokerPath {
    /// Broken by a fault.
    down: AtomicBool,
    /// The module has no Wi-Fi.
    no_wifi: AtomicBool,
    conns: Mutex<Vec<TcpStream>>,
}

impl BrokerPath {
    /// Breaks the path: every relayed connection is cut, new ones are refused.
    pub(crate) fn drop_now(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// Wi-Fi up or down: without it no connection gets through.
    pub(crate) fn set_wifi(&self, up: bool) {
        self.no_wifi.store(!up, Ordering::SeqCst);
        if !up {
            self.cut();
        }
    }

    fn cut(&self) {
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|e| e.into_inner()));
        for c in conns {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Mends the path.
    pub(crate) fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst) || self.no_wifi.load(Ordering::SeqCst)
    }

    fn register(&self, s: &TcpStream) {
        if let Ok(c) = s.try_clone() {
            let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            conns.retain(|c| c.peer_addr().is_ok());
            conns.push(c);
        }
    }
}

struct Relay {
    port: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: SocketAddr, path: Arc<BrokerPath>) -> io::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (st, cs) = (stop.clone(), conns.clone());
        thread::Builder::new()
            .name("sim-mqtt-relay".into())
            .spawn(move || {
                while !st.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((down, _)) => {
                            let _ = down.set_nonblocking(false);
                            if path.is_down() {
                                let _ = down.shutdown(Shutdown::Both);
                                continue;
                            }
                            let up =
                                match TcpStream::connect_timeout(&upstream, Duration::from_secs(2))
                                {
                                    Ok(up) => up,
                                    Err(_) => {
                                        let _ = down.shutdown(Shutdown::Both);
                                        continue;
                                    }
                                };
                            let _ = up.set_nodelay(true);
                            let _ = down.set_nodelay(true);
                            path.register(&down);
                            path.register(&up);
                            if let (Ok(a), Ok(b)) = (down.try_clone(), up.try_clone()) {
                                let mut g = cs.lock().unwrap_or_else(|e| e.into_inner());
                                g.push(a);
                                g.push(b);
                            }
                            pump(down, up);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(5))
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            })?;
        Ok(Relay { port, stop, conns })
    }

    fn cut(&self) {
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|e| e.into_inner()));
        for c in conns {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Copies both ways until either side closes, then closes both.
fn pump(a: TcpStream, b: TcpStream) {
    fn one(mut from: TcpStream, mut to: TcpStream) {
        let _ = thread::Builder::new()
            .name("sim-mqtt-pump".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
            });
    }
    if let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) {
        one(a, b2);
        one(b, a2);
    }
}

#[derive(Default)]
struct Tags {
    sub: VecDeque<Option<u64>>,
    unsub: VecDeque<Option<u64>>,
}

/// A running MQTT client.
pub(crate) struct MqttLink {
    client: Client,
    events: Receiver<LinkEvent>,
    stop: Arc<AtomicBool>,
    tags: Arc<Mutex<Tags>>,
    done: Arc<AtomicBool>,
    relay: Relay,
}

fn qos(n: u8) -> QoS {
    match n {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

impl MqttLink {
    /// Starts connecting; the outcome arrives as [`LinkEvent::Connected`] or
    /// [`LinkEvent::ConnectFailed`].
    pub(crate) fn start(opts: &LinkOptions, path: Arc<BrokerPath>) -> io::Result<MqttLink> {
        let relay = Relay::start(opts.upstream, path)?;
        let mut mo = MqttOptions::new(opts.client_id.clone(), "127.0.0.1", relay.port);
        mo.set_keep_alive(Duration::from_secs(opts.keepalive_s.max(1)));
        mo.set_clean_session(opts.clean_session || opts.client_id.is_empty());
        mo.set_max_packet_size(1 << 20, 1 << 20);
        mo.set_request_channel_capacity(64);
        if !opts.username.is_empty() || !opts.password.is_empty() {
            mo.set_credentials(opts.username.clone(), opts.password.clone());
        }
        if let Some(w) = &opts.will {
            if !w.topic.is_empty() {
                mo.set_last_will(LastWill::new(
                    w.topic.clone(),
                    w.message.clone(),
                    qos(w.qos),
                    w.retain,
                ));
            }
        }
        let mut net = rumqttc::NetworkOptions::new();
        net.set_connection_timeout(3);
        let (client, mut connection) = Client::new(mo, 64);
        connection.eventloop.set_network_options(net);
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let tags: Arc<Mutex<Tags>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let (st, tg, dn) = (stop.clone(), tags.clone(), done.clone());
        let (reconnect, pause) = (opts.reconnect, Duration::from_millis(opts.reconnect_ms));
        thread::Builder::new()
            .name("sim-mqtt-link".into())
            .spawn(move || {
                run(connection, tx, st, tg, reconnect, pause);
                dn.store(true, Ordering::SeqCst);
            })?;
        Ok(MqttLink {
            client,
            events,
            stop,
            tags,
            done,
            relay,
        })
    }

    pub(crate) fn try_event(&self) -> Option<LinkEvent> {
        self.events.try_recv().ok()
    }

    pub(crate) fn publish(&self, topic: &str, q: u8, retain: bool, payload: Vec<u8>) -> bool {
        self.client
            .try_publish(topic, qos(q), retain, payload)
            .is_ok()
    }

    pub(crate) fn subscribe(&self, topic: &str, q: u8, tag: Option<u64>) -> bool {
        let mut t = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        t.sub.push_back(tag);
        let ok = self.client.try_subscribe(topic, qos(q)).is_ok();
        if !ok {
            t.sub.pop_back();
        }
        ok
    }

    pub(crate) fn unsubscribe(&self, topic: &str, tag: Option<u64>) -> bool {
        let mut t = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        t.unsub.push_back(tag);
        let ok = self.client.try_unsubscribe(topic).is_ok();
        if !ok {
            t.unsub.pop_back();
        }
        ok
    }

    /// Ends the link with a DISCONNECT packet (no will).
    pub(crate) fn disconnect(self) {
        let _ = self.client.try_disconnect();
        // Give the event loop a moment to send it before the relay goes.
        let end = Instant::now() + Duration::from_millis(300);
        while Instant::now() < end && !self.done.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(2));
        }
        // The DISCONNECT may still sit in the relay on its way to the broker: cutting now
        // would lose it and the broker would publish the will. The client closed its side,
        // so the relay forwards what is left and closes by itself; give it that time.
        thread::sleep(Duration::from_millis(250));
        self.stop.store(true, Ordering::SeqCst);
        self.relay.cut();
    }

    /// Ends the link as a power loss would: the connection is cut, no DISCONNECT.
    pub(crate) fn abort(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.relay.cut();
    }
}

fn run(
    mut conn: Connection,
    tx: Sender<LinkEvent>,
    stop: Arc<AtomicBool>,
    tags: Arc<Mutex<Tags>>,
    reconnect: bool,
    pause: Duration,
) {
    let mut ever = false;
    let mut up = false;
    let mut subs: HashMap<u16, Option<u64>> = HashMap::new();
    let mut unsubs: HashMap<u16, Option<u64>> = HashMap::new();
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let ev = match conn.recv() {
            Err(_) => break,
            Ok(ev) => ev,
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let sent = match ev {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                ever = true;
                up = true;
                tx.send(LinkEvent::Connected)
            }
            Ok(Event::Incoming(Packet::Publish(p))) => tx.send(LinkEvent::Message {
                topic: p.topic,
                payload: p.payload.to_vec(),
                qos: p.qos as u8,
            }),
            Ok(Event::Incoming(Packet::SubAck(s))) => {
                let tag = subs.remove(&s.pkid).flatten();
                let ok = s
                    .return_codes
                    .iter()
                    .all(|c| matches!(c, rumqttc::SubscribeReasonCode::Success(_)));
                tx.send(LinkEvent::SubAck { tag, ok })
            }
            Ok(Event::Incoming(Packet::UnsubAck(u))) => {
                let tag = unsubs.remove(&u.pkid).flatten();
                tx.send(LinkEvent::UnsubAck { tag })
            }
            Ok(Event::Outgoing(Outgoing::Subscribe(pkid))) => {
                let tag = tags
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .sub
                    .pop_front()
                    .flatten();
                subs.insert(pkid, tag);
                Ok(())
            }
            Ok(Event::Outgoing(Outgoing::Unsubscribe(pkid))) => {
                let tag = tags
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .unsub
                    .pop_front()
                    .flatten();
                unsubs.insert(pkid, tag);
                Ok(())
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => Ok(()),
            Err(e) => {
                if !ever {
                    let _ = tx.send(LinkEvent::ConnectFailed(e.to_string()));
                    break;
                }
                let r = if up {
                    up = false;
                    subs.clear();
                    unsubs.clear();
                    tx.send(LinkEvent::Down)
                } else {
                    Ok(())
                };
                if !reconnect {
                    break;
                }
                let end = Instant::now() + pause;
                while Instant::now() < end && !stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(10));
                }
                r
            }
        };
        if sent.is_err() {
            break;
        }
    }
}
