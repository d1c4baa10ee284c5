//! Ai-Thinker Combo-AT: Wi-Fi (`AT+WMODE`, `AT+WJAP`, …), the socket set (`AT+SOCKET…`),
//! DNS (`AT+WDOMAIN`, `AT+WDNS`) and its own MQTT set (`AT+MQTT=<key>,…`).

use super::mqtt::{qos, retain, topic, Sub};
use super::wifi::{BSSID, MAC};
use super::{Busy, DataThen, Mode, Module, Op};
use crate::mqtt_link::{LinkOptions, Will};
use crate::params::{Args, Fail};
use crate::sockets::{self, resolve_loopback, SockEvent, SockKind};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

/// Most sockets at once.
const MAX_SOCKETS: u32 = 8;

impl Module {
    pub(super) fn dispatch_combo(
        &mut self,
        name: &str,
        op: Op<'_>,
        now: Instant,
    ) -> Option<Result<(), Fail>> {
        let _ = now;
        Some(match (name, op) {
            ("WMODE", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 2).and_then(|_| a.int_in(0, 0, 3)).and_then(|m| {
                    if !a.absent(1) {
                        a.int_in(1, 0, 1)?;
                    }
                    self.wifi.mode = m as u8;
                    self.ok();
                    if m & 1 == 0 {
                        self.leave_wifi();
                    }
                    Ok(())
                })
            }
            ("WMODE", Op::Query) => {
                self.line(format!("+WMODE:{}", self.wifi.mode));
                self.ok();
                Ok(())
            }
            ("WJAP", Op::Set(p)) => self.wjap(p),
            ("WJAP", Op::Query) => {
                let l = match &self.wifi.joined {
                    Some(ap) => format!(
                        "+WJAP:3,{},{},{BSSID},WPA2 AES,{MAC},6,127.0.0.1,127.0.0.1",
                        ap.ssid, ap.password
                    ),
                    None => format!("+WJAP:0,,,00:00:00:00:00:00,Open,{MAC},0,0.0.0.0,0.0.0.0"),
                };
                self.line(l);
                self.ok();
                Ok(())
            }
            ("WDISCONNECT", Op::Exec) => {
                self.leave_wifi();
                self.ok();
                Ok(())
            }
            ("WAUTOCONN", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| a.int_in(0, 0, 1)).map(|v| {
                    self.flash.combo_autoconn = v == 1;
                    self.ok();
                })
            }
            ("WAUTOCONN", Op::Query) => {
                self.line(format!(
                    "+WAUTOCONN:{}",
                    u8::from(self.flash.combo_autoconn)
                ));
                self.ok();
                Ok(())
            }
            ("SOCKET", Op::Set(p)) => self.socket_create(p),
            ("SOCKET", Op::Query) => {
                let lines: Vec<String> = self
                    .socks
                    .values()
                    .map(|s| {
                        format!(
                            "{},{},{},{},{},{},{}",
                            s.id,
                            s.kind as u8,
                            s.status,
                            s.remote_host,
                            s.remote_port,
                            s.local_port,
                            s.server
                        )
                    })
                    .collect();
                for l in lines {
                    self.line(l);
                }
                self.ok();
                Ok(())
            }
            ("SOCKETSEND", Op::Set(p)) => self.socket_send(p),
            ("SOCKETSENDLINE", Op::Set(p)) => self.socket_sendline(p),
            ("SOCKETREAD", Op::Set(p)) => self.socket_read(p),
            ("SOCKETDEL", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| a.int(0)).and_then(|id| {
                    let id = u32::try_from(id).map_err(|_| Fail::Invalid(0))?;
                    let mut s = self.socks.remove(&id).ok_or(Fail::Invalid(0))?;
                    s.close();
                    self.ok();
                    Ok(())
                })
            }
            ("SOCKETRECVCFG", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| a.int_in(0, 0, 1)).map(|v| {
                    self.recv_mode = v as u8;
                    self.ok();
                })
            }
            ("SOCKETRECVCFG", Op::Query) => {
                self.line(format!("+SOCKETRECVCFG:{}", self.recv_mode));
                self.ok();
                Ok(())
            }
            ("SOCKETTT", Op::Exec | Op::Set(_)) => self.socket_tt(),
            ("SOCKETAUTOTT", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 3).and_then(|_| {
                    let t = a.int_in(0, 0, 8)? as u8;
                    let (host, port) = match (t, a.len()) {
                        (0, _) => (String::new(), -1),
                        (2 | 4 | 7, 3) => (a.text(1)?, a.int_in(2, 1, 65535)?),
                        (1, 2) => (String::new(), a.int_in(1, 1, 65535)?),
                        _ => return Err(Fail::Invalid(0)),
                    };
                    self.flash.autott = (t, host, port);
                    self.ok();
                    Ok(())
                })
            }
            ("SOCKETAUTOTT", Op::Query) => {
                let (t, h, p) = self.flash.autott.clone();
                self.line(format!("+SOCKETAUTOTT:{t},{h},{p}"));
                self.ok();
                Ok(())
            }
            ("SSLCRET", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 2).and_then(|_| {
                    let t = a.int_in(0, 1, 3)? as u8;
                    if a.len() == 2 {
                        let n = a.int_in(1, 0, 16384)? as usize;
                        if n == 0 {
                            self.flash.ssl[usize::from(t - 1)].clear();
                            self.ok();
                        } else {
                            self.prompt(DataThen::SslCert(t), n, None);
                        }
                    } else {
                        let c = self.flash.ssl[usize::from(t - 1)].clone();
                        self.emit(format!("+SSLCRET:{t},{},", c.len()).as_bytes());
                        self.emit(&c);
                        self.emit(b"\r\n");
                        self.ok();
                    }
                    Ok(())
                })
            }
            ("WDOMAIN", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| a.text(0)).and_then(|name| {
                    if self.wifi.joined.is_none() {
                        return Err(Fail::Exec);
                    }
                    let ip = resolve_loopback(&name).ok_or(Fail::Exec)?;
                    self.line(format!("+WDOMAIN:{ip}"));
                    self.ok();
                    Ok(())
                })
            }
            ("WDNS", Op::Query) => {
                let (a, b) = self.flash.dns.clone();
                self.line(format!("+WDNS:{a},{b}"));
                self.ok();
                Ok(())
            }
            ("WDNS", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 2).and_then(|_| {
                    let one = a.text(0)?;
                    one.parse::<Ipv4Addr>().map_err(|_| Fail::Invalid(0))?;
                    let two = if a.len() == 2 { Some(a.text(1)?) } else { None };
                    if let Some(t) = &two {
                        t.parse::<Ipv4Addr>().map_err(|_| Fail::Invalid(1))?;
                    }
                    match &two {
                        Some(t) => self.line(format!("+WDNS:{one},{t}")),
                        None => self.line(format!("+WDNS:{one}")),
                    }
                    self.flash.dns = (one, two.unwrap_or_else(|| "0.0.0.0".into()));
                    self.ok();
                    Ok(())
                })
            }
            ("MQTT", op) => self.combo_mqtt(op),
            ("MQTTKEEPALIVE", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 2)
                    .and_then(|_| a.int_in(0, 1, 65535))
                    .and_then(|v| {
                        let tcp = if a.absent(1) {
                            0
                        } else {
                            a.int_in(1, 1, 65535)?
                        };
                        self.mqtt.combo.keepalive = v as u64;
                        self.mqtt.combo.tcp_keepalive = tcp as u64;
                        self.ok();
                        Ok(())
                    })
            }
            ("MQTTKEEPALIVE", Op::Query) => {
                let k = self.combo_keepalive();
                let t = match self.mqtt.combo.tcp_keepalive {
                    0 => 10,
                    t => t,
                };
                self.line(format!("+MQTTKEEPALIVE:{k},{t}"));
                self.ok();
                Ok(())
            }
            ("MQTTVER", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| a.int_in(0, 3, 4)).map(|v| {
                    self.mqtt.combo.version = v as u8;
                    self.ok();
                })
            }
            ("MQTTVER", Op::Query) => {
                let v = self.mqtt.combo.version.max(3);
                self.line(format!("+MQTTVER:{v}"));
                self.ok();
                Ok(())
            }
            ("MQTTBUF", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(2, 2)
                    .and_then(|_| Ok((a.int_in(0, 1, 65536)?, a.int_in(1, 1, 65536)?)))
                    .map(|(s, r)| {
                        self.mqtt.combo.buf = (s as usize, r as usize);
                        self.ok();
                    })
            }
            ("MQTTBUF", Op::Query) => {
                let (s, r) = self.combo_buf();
                self.line(format!("+MQTTBUF:{s},{r}"));
                self.ok();
                Ok(())
            }
            ("MQTTCRET", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 2).and_then(|_| {
                    let t = a.int_in(0, 1, 3)? as u8;
                    let slot = usize::from(t - 1);
                    if a.absent(1) {
                        let c = self.mqtt.combo.certs[slot].clone();
                        self.emit(format!("+MQTTCRET:{t},{},", c.len()).as_bytes());
                        self.emit(&c);
                        self.emit(b"\r\n");
                        self.ok();
                    } else {
                        let n = a.int_in(1, 0, 16384)? as usize;
                        if n == 0 {
                            self.mqtt.combo.certs[slot].clear();
                            self.ok();
                        } else {
                            self.prompt(DataThen::MqttCert(t), n, None);
                        }
                    }
                    Ok(())
                })
            }
            ("MQTTDISCONN", Op::Exec) => {
                let was = self.mqtt.up || self.mqtt.link.is_some();
                if let Some(l) = self.mqtt.link.take() {
                    l.disconnect();
                }
                self.mqtt.up = false;
                self.mqtt.connecting = false;
                for s in &mut self.mqtt.subs {
                    s.acked = false;
                }
                self.ok();
                if was {
                    self.line("+EVENT:MQTT_DISCONNECT");
                }
                Ok(())
            }
            ("MQTTPUB", Op::Set(p)) => self.combo_pub(p),
            ("MQTTPUBRAW", Op::Set(p)) => self.combo_pubraw(p),
            ("MQTTSUB", Op::Set(p)) => self.combo_sub(p),
            ("MQTTSUB", Op::Query) => {
                let lines: Vec<String> = self
                    .mqtt
                    .subs
                    .iter()
                    .map(|s| {
                        let st = match (s.acked, self.mqtt.up) {
                            (true, _) => 3,
                            (false, true) => 1,
                            (false, false) => 0,
                        };
                        format!("{st},{}", s.topic)
                    })
                    .collect();
                for l in lines {
                    self.line(l);
                }
                self.ok();
                Ok(())
            }
            ("MQTTUNSUB", Op::Set(p)) => {
                let a = Args::parse(self.d, p);
                a.count(1, 1).and_then(|_| topic(&a, 0)).and_then(|t| {
                    if !self.mqtt.subs.iter().any(|s| s.topic == t) {
                        return Err(Fail::Exec);
                    }
                    self.mqtt.subs.retain(|s| s.topic != t);
                    if self.mqtt.up {
                        if let Some(l) = &self.mqtt.link {
                            l.unsubscribe(&t, None);
                        }
                    }
                    self.ok();
                    Ok(())
                })
            }
            (
                "WMODE" | "WJAP" | "WDISCONNECT" | "WAUTOCONN" | "SOCKET" | "SOCKETSEND"
                | "SOCKETSENDLINE" | "SOCKETREAD" | "SOCKETDEL" | "SOCKETRECVCFG" | "SOCKETAUTOTT"
                | "SSLCRET" | "WDOMAIN" | "WDNS" | "MQTTKEEPALIVE" | "MQTTDISCONN" | "MQTTPUB"
                | "MQTTPUBRAW" | "MQTTSUB" | "MQTTUNSUB" | "MQTTVER" | "MQTTBUF" | "MQTTCRET",
                _,
            ) => Err(Fail::OpError),
            _ => return None,
        })
    }

    // -----------------------------------------------------------------------------------
    // Wi-Fi

    fn wjap(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(2, 3)?;
        let ssid = a.text(0)?;
        let pwd = a.text(1)?;
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(Fail::Invalid(0));
        }
        if pwd.len() > 64 {
            return Err(Fail::Invalid(1));
        }
        if self.wifi.mode & 1 == 0 {
            return Err(Fail::Exec);
        }
        self.start_join(ssid, pwd, false);
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Sockets

    fn free_id(&self) -> Option<u32> {
        (1..=MAX_SOCKETS).find(|id| !self.socks.contains_key(id))
    }

    fn socket_create(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(2, 5)?;
        let kind = a.int_in(0, 1, 8)?;
        let client = matches!(kind, 2 | 4 | 7);
        let (host, port_idx) = if client {
            (Some(a.text(1)?), 2)
        } else {
            (None, 1)
        };
        let port = a.int_in(port_idx, 1, 65535)? as u16;
        if !a.absent(port_idx + 1) {
            a.int_in(port_idx + 1, 0, 7200)?;
        }
        let want = if a.absent(port_idx + 2) {
            None
        } else {
            Some(a.int_in(port_idx + 2, 1, i64::from(u32::MAX))? as u32)
        };
        if self.wifi.joined.is_none() {
            return Err(Fail::Exec);
        }
        let id = match want {
            Some(id) if self.socks.contains_key(&id) => {
                return Err(Fail::Invalid((port_idx + 2) as u8))
            }
            Some(id) => id,
            None => self.free_id().ok_or(Fail::Exec)?,
        };
        self.sock_gen += 1;
        let gen = self.sock_gen;
        let tx = self.sock_tx.clone();
        let ip = match &host {
            Some(h) => Some(resolve_loopback(h).ok_or(Fail::Exec)?),
            None => None,
        };
        let sock = match (kind, ip) {
            (1, _) => sockets::udp_server(id, gen, port, tx),
            (2, Some(ip)) => {
                sockets::udp_client(id, gen, host.as_deref().unwrap_or(""), ip, port, tx)
            }
            (3, _) => sockets::tcp_server(id, gen, port, tx),
            (4, Some(ip)) => {
                sockets::tcp_client(id, gen, host.as_deref().unwrap_or(""), ip, port, tx)
            }
            // 5, 8: placeholders; 6, 7: SSL, not simulated.
            _ => return Err(Fail::Invalid(0)),
        }
        .map_err(|_| Fail::Exec)?;
        self.socks.insert(id, sock);
        self.line(format!("connect success ConID={id}"));
        self.ok();
        Ok(())
    }

    /// Checks a socket can send; returns its id.
    fn sendable(&self, a: &Args) -> Result<u32, Fail> {
        let id = u32::try_from(a.int(0)?).map_err(|_| Fail::Invalid(0))?;
        let s = self.socks.get(&id).ok_or(Fail::Invalid(0))?;
        if s.kind == SockKind::TcpServer || s.status != 1 {
            return Err(Fail::Exec);
        }
        if s.kind == SockKind::UdpServer && s.peer.is_none() {
            return Err(Fail::Exec);
        }
        Ok(id)
    }

    fn socket_send(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(2, 2)?;
        let id = self.sendable(&a)?;
        let n = a.int_in(1, 1, 1 << 20)? as usize;
        self.prompt(DataThen::SocketSend(id), n, None);
        Ok(())
    }

    pub(super) fn socket_send_done(&mut self, id: u32, data: &[u8]) {
        let ok = self
            .socks
            .get_mut(&id)
            .is_some_and(|s| s.send(data).is_ok());
        if ok {
            self.ok();
        } else {
            self.fail(Fail::Exec);
        }
    }

    fn socket_sendline(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(3, 3)?;
        let id = self.sendable(&a)?;
        let n = a.int_in(1, 1, 1 << 20)? as usize;
        let data = a.str(2)?;
        if data.len() < n {
            return Err(Fail::Invalid(1));
        }
        let ok = self
            .socks
            .get_mut(&id)
            .is_some_and(|s| s.send(&data[..n]).is_ok());
        if !ok {
            return Err(Fail::Exec);
        }
        self.ok();
        Ok(())
    }

    fn socket_read(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(1, 1)?;
        let id = u32::try_from(a.int(0)?).map_err(|_| Fail::Invalid(0))?;
        let s = self.socks.get_mut(&id).ok_or(Fail::Invalid(0))?;
        let pkt = s.queue.pop_front().unwrap_or_default();
        self.emit(format!("+SOCKETREAD,{id},{},", pkt.len()).as_bytes());
        self.emit(&pkt);
        self.emit(b"\r\n");
        self.ok();
        Ok(())
    }

    fn socket_tt(&mut self) -> Result<(), Fail> {
        let ids: Vec<(u32, SockKind)> = self.socks.values().map(|s| (s.id, s.kind)).collect();
        let target = match ids.as_slice() {
            [(id, SockKind::TcpClient | SockKind::UdpClient | SockKind::UdpServer)] => *id,
            [(_, SockKind::TcpServer), (id, SockKind::TcpSeed)]
            | [(id, SockKind::TcpSeed), (_, SockKind::TcpServer)] => *id,
            _ => return Err(Fail::Exec),
        };
        self.emit(b"\r\n>");
        self.mode = Mode::Transparent(target);
        Ok(())
    }

    /// Transparent mode: `+++` alone leaves it, anything else goes to the socket.
    pub(super) fn transparent_input(&mut self, id: u32, bytes: &[u8]) {
        if bytes == b"+++" {
            self.mode = Mode::Command;
            self.emit(b"\r\nOK\r\n");
            return;
        }
        if let Some(s) = self.socks.get_mut(&id) {
            let _ = s.send(bytes);
        }
    }

    pub(super) fn on_sock_event(&mut self, ev: SockEvent) {
        match ev {
            SockEvent::Data {
                id,
                gen,
                data,
                from,
            } => {
                let active = self.recv_mode == 1;
                let tt = matches!(self.mode, Mode::Transparent(t) if t == id);
                let Some(s) = self.socks.get_mut(&id).filter(|s| s.gen == gen) else {
                    return;
                };
                if s.kind == SockKind::UdpServer && s.peer.is_none() {
                    s.peer = from;
                    if let Some(SocketAddr::V4(f)) = from {
                        s.remote_host = f.ip().to_string();
                        s.remote_port = i64::from(f.port());
                    }
                }
                if tt {
                    self.emit(&data);
                } else if active {
                    self.emit(format!("+EVENT:SocketDown,{id},{},", data.len()).as_bytes());
                    self.emit(&data);
                    self.emit(b"\r\n");
                } else {
                    let n = data.len();
                    s.queue.push_back(data);
                    self.line(format!("+EVENT:SocketDown,{id},{n}"));
                }
            }
            SockEvent::Closed { id, gen } => {
                if let Some(s) = self.socks.get_mut(&id).filter(|s| s.gen == gen) {
                    s.status = 2;
                    self.line(format!("+EVENT:SocketDissconnect,{id}"));
                }
            }
            SockEvent::Accepted {
                server,
                gen,
                stream,
                peer,
            } => {
                let Some(port) = self
                    .socks
                    .get(&server)
                    .filter(|s| s.gen == gen)
                    .map(|s| s.local_port)
                else {
                    return;
                };
                let Some(id) = self.free_id() else { return };
                self.sock_gen += 1;
                let g = self.sock_gen;
                if let Ok(seed) =
                    sockets::tcp_seed(id, g, server, port, stream, peer, self.sock_tx.clone())
                {
                    self.socks.insert(id, seed);
                    self.line(format!("+EVENT:SocketSeed,{id},{server}"));
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // MQTT

    /// `AT+MQTTBUF`'s sizes, the defaults (2048) where unset.
    pub(crate) fn combo_buf(&self) -> (usize, usize) {
        let (s, r) = self.mqtt.combo.buf;
        (if s == 0 { 2048 } else { s }, if r == 0 { 2048 } else { r })
    }

    fn combo_keepalive(&self) -> u64 {
        match self.mqtt.combo.keepalive {
            0 => 120,
            k => k,
        }
    }

    fn combo_mqtt(&mut self, op: Op<'_>) -> Result<(), Fail> {
        match op {
            Op::Exec => {
                let c = self.mqtt.combo.clone();
                if c.host.is_empty() || c.port == 0 {
                    return Err(Fail::Exec);
                }
                if let Some(l) = self.mqtt.link.take() {
                    l.disconnect();
                }
                self.mqtt.up = false;
                let opts = LinkOptions {
                    client_id: c.client_id.clone(),
                    username: c.username.clone(),
                    password: c.password.clone(),
                    keepalive_s: self.combo_keepalive(),
                    clean_session: true,
                    will: c.will.clone(),
                    reconnect: true,
                    reconnect_ms: self.cfg.reconnect_ms,
                    upstream: SocketAddr::from(([0, 0, 0, 0], 0)),
                };
                self.ok();
                self.start_link(opts, &c.host, c.port);
                if c.scheme == 2 {
                    self.mqtt_connect_failed("no TLS in the simulator".into());
                }
                Ok(())
            }
            Op::Query => {
                let c = self.mqtt.combo.clone();
                let w = c.will.clone().unwrap_or_default();
                let status = self.combo_mqtt_status();
                self.line(format!(
                    "+MQTT:{status},{},{},{},{},{},{},{},{},{},{}",
                    c.host,
                    c.port,
                    c.scheme.max(1),
                    c.client_id,
                    c.username,
                    c.password,
                    w.topic,
                    w.qos,
                    u8::from(w.retain),
                    String::from_utf8_lossy(&w.message)
                ));
                self.ok();
                Ok(())
            }
            Op::Set(p) => {
                let a = Args::parse(self.d, p);
                if a.len() < 2 {
                    return Err(Fail::Count {
                        expected: 2,
                        given: a.len() as u8,
                    });
                }
                let key = a.int_in(0, 1, 7)?;
                if key != 7 {
                    a.count(2, 2)?;
                }
                let c = &mut self.mqtt.combo;
                match key {
                    1 => {
                        let h = a.text(1)?;
                        if h.is_empty() || h.len() > 128 {
                            return Err(Fail::Invalid(1));
                        }
                        c.host = h;
                    }
                    2 => c.port = a.int_in(1, 1, 65535)? as u16,
                    // 2 (SSL) is taken as newer firmware does; the simulator has no TLS,
                    // so such a connection fails (`+EVENT:MQTT_DISCONNECT`).
                    3 => c.scheme = a.int_in(1, 1, 2)? as u8,
                    4 => {
                        let v = a.text(1)?;
                        if v.len() > 128 {
                            return Err(Fail::Invalid(1));
                        }
                        c.client_id = v;
                    }
                    5 => {
                        let v = a.text(1)?;
                        if v.len() > 63 {
                            return Err(Fail::Invalid(1));
                        }
                        c.username = v;
                    }
                    6 => {
                        let v = a.text(1)?;
                        if v.len() > 63 {
                            return Err(Fail::Invalid(1));
                        }
                        c.password = v;
                    }
                    _ => {
                        a.count(5, 5)?;
                        let t = a.text(1)?;
                        let q = a.int_in(2, 0, 2)? as u8;
                        let r = a.int_in(3, 0, 1)? == 1;
                        let m = a.str(4)?;
                        c.will = (!t.is_empty()).then_some(Will {
                            topic: t,
                            message: m,
                            qos: q,
                            retain: r,
                        });
                    }
                }
                self.ok();
                Ok(())
            }
            Op::Test => Err(Fail::OpError),
        }
    }

    fn combo_pub(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(4, 4)?;
        let t = topic(&a, 0)?;
        let q = qos(&a, 1)?;
        let r = retain(&a, 2)?;
        let data = a.str(3)?;
        if data.is_empty() || data.len() > 1024 {
            return Err(Fail::Invalid(3));
        }
        if !self.mqtt.up {
            return Err(Fail::Exec);
        }
        let sent = self
            .mqtt
            .link
            .as_ref()
            .is_some_and(|l| l.publish(&t, q, r, data));
        if !sent {
            return Err(Fail::Exec);
        }
        self.ok();
        Ok(())
    }

    fn combo_pubraw(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(4, 4)?;
        let t = topic(&a, 0)?;
        let q = qos(&a, 1)?;
        let r = retain(&a, 2)?;
        let n = a.int_in(3, 1, 1 << 20)? as usize;
        if !self.mqtt.up {
            return Err(Fail::Exec);
        }
        self.prompt(
            DataThen::ComboPubRaw {
                topic: t,
                qos: q,
                retain: r,
            },
            n,
            None,
        );
        Ok(())
    }

    pub(super) fn combo_pubraw_done(&mut self, topic: &str, qos: u8, retain: bool, data: Vec<u8>) {
        let sent = self.mqtt.up
            && self
                .mqtt
                .link
                .as_ref()
                .is_some_and(|l| l.publish(topic, qos, retain, data));
        if sent {
            self.ok();
        } else {
            self.fail(Fail::Exec);
        }
    }

    fn combo_sub(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(2, 2)?;
        let t = topic(&a, 0)?;
        let q = qos(&a, 1)?;
        if let Some(s) = self.mqtt.subs.iter_mut().find(|s| s.topic == t) {
            s.qos = q;
            self.ok();
            return Ok(());
        }
        if self.mqtt.subs.len() >= self.cfg.subscription_limit() {
            return Err(Fail::Exec);
        }
        self.mqtt.subs.push(Sub {
            topic: t.clone(),
            qos: q,
            acked: false,
        });
        if !self.mqtt.up {
            self.ok();
            return Ok(());
        }
        self.mqtt.next_tag += 1;
        let tag = self.mqtt.next_tag;
        let sent = self
            .mqtt
            .link
            .as_ref()
            .is_some_and(|l| l.subscribe(&t, q, Some(tag)));
        if !sent {
            self.mqtt.subs.retain(|s| s.topic != t);
            return Err(Fail::Exec);
        }
        let ms = self.cfg.broker_timeout_ms;
        self.set_busy(Busy::ComboSub { tag }, ms);
        Ok(())
    }
}
