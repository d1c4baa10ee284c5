//! The `AT+MQTT…` set of ESP-AT, W800 and Beken, and what the MQTT link reports (for
//! every dialect, Combo-AT's included).

use super::{Busy, DataThen, Module, Op, Timer};
use crate::config::{Dialect, SplitMode};
use crate::mqtt_link::{LinkEvent, LinkOptions, MqttLink, Will};
use crate::params::{Args, Fail};
use crate::sockets::resolve_loopback;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub(crate) struct UserCfg {
    pub scheme: u8,
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub path: String,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ConnCfg {
    pub keepalive: u64,
    pub disable_clean: bool,
    pub will: Will,
}

#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub host: String,
    pub port: u16,
    pub reconnect: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Sub {
    pub topic: String,
    pub qos: u8,
    /// Combo-AT: the broker acknowledged it (status 3).
    pub acked: bool,
}

/// Combo-AT's `AT+MQTT=<key>,…` settings.
#[derive(Clone, Debug, Default)]
pub(crate) struct ComboCfg {
    pub host: String,
    pub port: u16,
    pub scheme: u8,
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub will: Option<Will>,
    pub keepalive: u64,
    /// `AT+MQTTKEEPALIVE`'s second value: the TCP keepalive of the MQTT socket (0 = the
    /// default, 10 s).
    pub tcp_keepalive: u64,
    /// `AT+MQTTVER`: 3 (MQTT 3.1, the default when 0) or 4 (3.1.1). Recorded only: the
    /// relay speaks 3.1.1 to the broker whatever it says.
    pub version: u8,
    /// `AT+MQTTBUF`: send and receive buffer sizes (0 = the default, 2048). Recorded
    /// only.
    pub buf: (usize, usize),
    /// `AT+MQTTCRET`: CA, client certificate, client key (RAM only).
    pub certs: [Vec<u8>; 3],
}

#[derive(Default)]
pub(crate) struct Mqtt {
    pub user: Option<UserCfg>,
    pub conncfg: Option<ConnCfg>,
    pub alpn: Vec<String>,
    pub sni: Option<String>,
    pub conn: Option<Conn>,
    pub link: Option<MqttLink>,
    /// `AT+MQTTCONN` / `AT+MQTT` sent, no outcome yet.
    pub connecting: bool,
    pub up: bool,
    /// The link was up and broke (ESP-AT state 3).
    pub dropped: bool,
    pub ever_subscribed: bool,
    pub subs: Vec<Sub>,
    pub next_tag: u64,
    pub combo: ComboCfg,
}

/// Maps any failure of a parameter read to an MQTT error code.
fn mq<T>(r: Result<T, Fail>, code: u16) -> Result<T, Fail> {
    r.map_err(|_| Fail::Mqtt(code))
}

fn count(a: &Args, min: usize, max: usize) -> Result<(), Fail> {
    mq(a.count(min, max), 0x6008)
}

fn link_id(a: &Args) -> Result<(), Fail> {
    match mq(a.int(0), 0x6010)? {
        0 => Ok(()),
        _ => Err(Fail::Mqtt(0x6011)),
    }
}

pub(crate) fn topic(a: &Args, i: usize) -> Result<String, Fail> {
    let t = mq(a.text(i), 0x6041)?;
    if t.is_empty() {
        return Err(Fail::Mqtt(0x6042));
    }
    if t.len() > 128 {
        return Err(Fail::Mqtt(0x6043));
    }
    Ok(t)
}

pub(crate) fn qos(a: &Args, i: usize) -> Result<u8, Fail> {
    match mq(a.int(i), 0x6047)? {
        q @ 0..=2 => Ok(q as u8),
        _ => Err(Fail::Mqtt(0x6048)),
    }
}

pub(crate) fn retain(a: &Args, i: usize) -> Result<bool, Fail> {
    match mq(a.int(i), 0x6049)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Fail::Mqtt(0x604A)),
    }
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// The payload sizes of the `+MQTTSUBRECV` pieces of one message (see [`SplitMode`]).
pub(crate) fn split_sizes(mode: SplitMode, topic_len: usize, len: usize, qos: u8) -> Vec<usize> {
    const BUF: usize = 1024;
    let whole = vec![len];
    match mode {
        SplitMode::None => whole,
        SplitMode::Chunk | SplitMode::ChunkEmptyTopic => {
            let pkid = if qos > 0 { 2 } else { 0 };
            let remaining = 2 + topic_len + pkid + len;
            let varint = match remaining {
                0..=127 => 1,
                128..=16_383 => 2,
                16_384..=2_097_151 => 3,
                _ => 4,
            };
            let header = 1 + varint + 2 + topic_len + pkid;
            if header + len <= BUF || header >= BUF {
                return whole;
            }
            let mut sizes = vec![BUF - header];
            let mut left = len - (BUF - header);
            while left > 0 {
                let n = left.min(BUF);
                sizes.push(n);
                left -= n;
            }
            sizes
        }
        SplitMode::LineLimit => {
            // `+MQTTSUBRECV:0,"<topic>",<len>,` is 19 + topic + digits(len) bytes.
            let head = |n: usize| 19 + topic_len + digits(n);
            let mut sizes = Vec::new();
            let mut left = len;
            loop {
                if head(left) + left <= BUF {
                    sizes.push(left);
                    return sizes;
                }
                let mut n = BUF.saturating_sub(head(BUF));
                while n > 0 && head(n) + n > BUF {
                    n -= 1;
                }
                while head(n + 1) + n < BUF {
                    n += 1;
                }
                if n == 0 {
                    return whole;
                }
                sizes.push(n);
                left -= n;
            }
        }
    }
}

impl Module {
    /// ESP-AT's `<state>` 0–6.
    pub(crate) fn esp_mqtt_state(&self) -> u8 {
        let m = &self.mqtt;
        if m.up {
            match (m.subs.is_empty(), m.ever_subscribed) {
                (false, _) => 6,
                (true, true) => 5,
                (true, false) => 4,
            }
        } else if m.dropped {
            3
        } else if m.conncfg.is_some() {
            2
        } else if m.user.is_some() {
            1
        } else {
            0
        }
    }

    /// Combo-AT's `AT+MQTT?` status: 0 idle, 1 connecting, 2 subscribing, 3 connected.
    pub(crate) fn combo_mqtt_status(&self) -> u8 {
        let m = &self.mqtt;
        if m.up {
            if m.subs.iter().any(|s| !s.acked) {
                2
            } else {
                3
            }
        } else if m.connecting || m.link.is_some() {
            1
        } else {
            0
        }
    }

    pub(super) fn dispatch_mqtt(
        &mut self,
        name: &str,
        op: Op<'_>,
        now: Instant,
    ) -> Option<Result<(), Fail>> {
        let _ = now;
        let d = self.d;
        let esp_w800 = matches!(d, Dialect::EspAt | Dialect::W800);
        Some(match (name, op) {
            ("MQTTUSERCFG", Op::Set(p)) => self.usercfg(p),
            ("MQTTUSERCFG", Op::Query) if d == Dialect::W800 => self.usercfg_query(),
            ("MQTTLONGCLIENTID", Op::Set(p)) if esp_w800 => {
                self.long_value(p, DataThen::LongClientId)
            }
            ("MQTTLONGUSERNAME", Op::Set(p)) if esp_w800 => {
                self.long_value(p, DataThen::LongUsername)
            }
            ("MQTTLONGPASSWORD", Op::Set(p)) if esp_w800 => {
                self.long_value(p, DataThen::LongPassword)
            }
            ("MQTTCONNCFG", Op::Set(p)) => self.conncfg(p),
            ("MQTTCONNCFG", Op::Query) if d == Dialect::W800 => self.conncfg_query(),
            ("MQTTALPN", Op::Set(p)) if esp_w800 => self.alpn(p),
            ("MQTTALPN", Op::Query) if d == Dialect::W800 => {
                for n in self.mqtt.alpn.clone() {
                    self.line(format!("+MQTTALPN:0,\"{n}\""));
                }
                self.ok();
                Ok(())
            }
            ("MQTTSNI", Op::Set(p)) if d == Dialect::EspAt => self.sni(p),
            ("MQTTCONN", Op::Set(p)) => self.conn(p),
            ("MQTTCONN", Op::Query) => self.conn_query(),
            ("MQTTPUB", Op::Set(p)) => self.publish(p),
            ("MQTTPUBRAW", Op::Set(p)) => self.pubraw(p),
            ("MQTTSUB", Op::Set(p)) => self.sub(p),
            ("MQTTSUB", Op::Query) => self.sub_query(),
            ("MQTTUNSUB", Op::Set(p)) => self.unsub(p),
            ("MQTTCLEAN", Op::Set(p)) => self.clean(p),
            (
                "MQTTUSERCFG" | "MQTTLONGCLIENTID" | "MQTTLONGUSERNAME" | "MQTTLONGPASSWORD"
                | "MQTTCONNCFG" | "MQTTALPN" | "MQTTSNI" | "MQTTCONN" | "MQTTPUB" | "MQTTPUBRAW"
                | "MQTTSUB" | "MQTTUNSUB" | "MQTTCLEAN",
                _,
            ) => Err(Fail::OpError),
            _ => return None,
        })
    }

    fn busy_link(&self) -> bool {
        self.mqtt.up || self.mqtt.connecting
    }

    fn usercfg(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        let beken = self.d == Dialect::Beken;
        count(&a, if beken { 7 } else { 8 }, 8)?;
        link_id(&a)?;
        let scheme = mq(a.int(1), 0x6012)?;
        if !(1..=if beken { 2 } else { 10 }).contains(&scheme) {
            return Err(Fail::Mqtt(0x6013));
        }
        let client_id = mq(a.text(2), 0x6014)?;
        if client_id.len() > 256 {
            return Err(Fail::Mqtt(0x6016));
        }
        let username = mq(a.text(3), 0x6017)?;
        if username.len() > 64 {
            return Err(Fail::Mqtt(0x6019));
        }
        let password = mq(a.text(4), 0x601A)?;
        if password.len() > 64 {
            return Err(Fail::Mqtt(0x601C));
        }
        if mq(a.int(5), 0x601D)? != 0 {
            return Err(Fail::Mqtt(0x601E));
        }
        if mq(a.int(6), 0x601F)? != 0 {
            return Err(Fail::Mqtt(0x6020));
        }
        let path = if a.len() > 7 {
            mq(a.text(7), 0x6027)?
        } else {
            String::new()
        };
        if path.len() > 32 {
            return Err(Fail::Mqtt(0x6029));
        }
        if self.busy_link() {
            return Err(Fail::Mqtt(0x6002));
        }
        self.mqtt.user = Some(UserCfg {
            scheme: scheme as u8,
            client_id,
            username,
            password,
            path,
        });
        self.ok();
        Ok(())
    }

    fn usercfg_query(&mut self) -> Result<(), Fail> {
        let u = self.mqtt.user.clone().ok_or(Fail::Mqtt(0x6006))?;
        self.line(format!(
            "+MQTTUSERCFG:0,{},\"{}\",\"{}\",\"{}\",0,0,\"{}\"",
            u.scheme, u.client_id, u.username, u.password, u.path
        ));
        self.ok();
        Ok(())
    }

    fn long_value(&mut self, p: &[u8], then: DataThen) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 2, 2)?;
        link_id(&a)?;
        let len = mq(a.int(1), 0x604B)?;
        if !(1..=1024).contains(&len) {
            return Err(Fail::Mqtt(0x604C));
        }
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        if self.busy_link() {
            return Err(Fail::Mqtt(0x6002));
        }
        self.prompt(then, len as usize, None);
        Ok(())
    }

    pub(super) fn mqtt_long_done(&mut self, then: DataThen, data: Vec<u8>) {
        let v = String::from_utf8_lossy(&data).into_owned();
        if let Some(u) = self.mqtt.user.as_mut() {
            match then {
                DataThen::LongClientId => u.client_id = v,
                DataThen::LongUsername => u.username = v,
                DataThen::LongPassword => u.password = v,
                _ => {}
            }
        }
        self.ok();
    }

    fn conncfg(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 7, 7)?;
        link_id(&a)?;
        let keepalive = mq(a.int(1), 0x602B)?;
        if !(0..=7200).contains(&keepalive) {
            return Err(Fail::Mqtt(0x602D));
        }
        let dcs = mq(a.int(2), 0x602E)?;
        if !(0..=1).contains(&dcs) {
            return Err(Fail::Mqtt(0x602F));
        }
        let wt = mq(a.text(3), 0x6030)?;
        if wt.len() > 128 {
            return Err(Fail::Mqtt(0x6032));
        }
        let wm = mq(a.str(4), 0x6033)?;
        if wm.len() > if self.d == Dialect::Beken { 64 } else { 128 } {
            return Err(Fail::Mqtt(0x6035));
        }
        let wq = match mq(a.int(5), 0x6036)? {
            q @ 0..=2 => q as u8,
            _ => return Err(Fail::Mqtt(0x6037)),
        };
        let wr = match mq(a.int(6), 0x6038)? {
            r @ 0..=1 => r == 1,
            _ => return Err(Fail::Mqtt(0x6039)),
        };
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        if self.busy_link() {
            return Err(Fail::Mqtt(0x6002));
        }
        self.mqtt.conncfg = Some(ConnCfg {
            keepalive: keepalive as u64,
            disable_clean: dcs == 1,
            will: Will {
                topic: wt,
                message: wm,
                qos: wq,
                retain: wr,
            },
        });
        self.ok();
        Ok(())
    }

    fn conncfg_query(&mut self) -> Result<(), Fail> {
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        let c = self.mqtt.conncfg.clone().unwrap_or_default();
        self.line(format!(
            "+MQTTCONNCFG:0,{},{},\"{}\",\"{}\",{},{}",
            c.keepalive,
            u8::from(c.disable_clean),
            c.will.topic,
            String::from_utf8_lossy(&c.will.message),
            c.will.qos,
            u8::from(c.will.retain)
        ));
        self.ok();
        Ok(())
    }

    fn alpn(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 2, 7)?;
        link_id(&a)?;
        let n = mq(a.int(1), 0x6008)?;
        if !(0..=5).contains(&n) || a.len() != 2 + n as usize {
            return Err(Fail::Mqtt(0x6008));
        }
        let mut names = Vec::new();
        for i in 2..a.len() {
            let s = mq(a.text(i), 0x6007)?;
            if s.is_empty() {
                return Err(Fail::Mqtt(0x6007));
            }
            names.push(s);
        }
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        self.mqtt.alpn = names;
        self.ok();
        Ok(())
    }

    fn sni(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 2, 2)?;
        link_id(&a)?;
        let s = mq(a.text(1), 0x6007)?;
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        self.mqtt.sni = Some(s);
        self.ok();
        Ok(())
    }

    fn conn(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 4, 4)?;
        link_id(&a)?;
        let host = mq(a.text(1), 0x603A)?;
        if host.is_empty() {
            return Err(Fail::Mqtt(0x603B));
        }
        if host.len() > if self.d == Dialect::Beken { 64 } else { 128 } {
            return Err(Fail::Mqtt(0x603C));
        }
        let port = mq(a.int(2), 0x603D)?;
        if !(1..=65535).contains(&port) {
            return Err(Fail::Mqtt(0x603E));
        }
        let reconnect = match mq(a.int(3), 0x603F)? {
            r @ 0..=1 => r == 1,
            _ => return Err(Fail::Mqtt(0x6040)),
        };
        let Some(user) = self.mqtt.user.clone() else {
            return Err(Fail::Mqtt(0x6006));
        };
        if self.busy_link() || (self.mqtt.dropped && self.mqtt.link.is_some()) {
            return Err(Fail::Mqtt(0x6004));
        }
        if self.mqtt.dropped {
            // `<reconnect>` 0 and the link broke: AT+MQTTCLEAN first.
            return Err(Fail::Mqtt(0x6002));
        }
        let cc = self.mqtt.conncfg.clone().unwrap_or_default();
        let opts = LinkOptions {
            client_id: user.client_id.clone(),
            username: user.username.clone(),
            password: user.password.clone(),
            keepalive_s: if cc.keepalive == 0 { 120 } else { cc.keepalive },
            clean_session: !cc.disable_clean,
            will: (!cc.will.topic.is_empty()).then_some(cc.will),
            reconnect,
            reconnect_ms: self.cfg.reconnect_ms,
            upstream: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        self.mqtt.conn = Some(Conn {
            host: host.clone(),
            port: port as u16,
            reconnect,
        });
        match self.d {
            Dialect::Beken => self.ok(),
            _ => {
                let t = self.cfg.broker_timeout_ms;
                self.set_busy(Busy::MqttConn, t);
            }
        }
        self.start_link(opts, &host, port as u16);
        Ok(())
    }

    /// Starts the MQTT client toward the broker (the configured one, or `host` when it is
    /// a loopback name). The outcome arrives later as a link event or, when no broker can
    /// be reached, as [`Timer::MqttConnFail`].
    pub(crate) fn start_link(&mut self, mut opts: LinkOptions, host: &str, port: u16) {
        self.mqtt.connecting = true;
        self.mqtt.up = false;
        if opts.client_id.is_empty() {
            let r = self.next_rand();
            opts.client_id = format!("{}-sim-{:06x}", self.d.name(), r & 0xff_ffff);
        }
        let upstream = self
            .cfg
            .broker
            .or_else(|| resolve_loopback(host).map(|ip| SocketAddr::new(IpAddr::V4(ip), port)));
        let link = match upstream {
            Some(up) if self.wifi.joined.is_some() => {
                opts.upstream = up;
                MqttLink::start(&opts, self.path.clone()).ok()
            }
            _ => None,
        };
        match link {
            Some(l) => self.mqtt.link = Some(l),
            None => self.add_timer(50, Timer::MqttConnFail),
        }
    }

    fn conn_query(&mut self) -> Result<(), Fail> {
        let state = self.esp_mqtt_state();
        let scheme = self.mqtt.user.as_ref().map_or(0, |u| u.scheme);
        let path = self
            .mqtt
            .user
            .as_ref()
            .map_or(String::new(), |u| u.path.clone());
        let (host, port, rc) = self
            .mqtt
            .conn
            .as_ref()
            .map_or((String::new(), String::new(), 0), |c| {
                (c.host.clone(), c.port.to_string(), u8::from(c.reconnect))
            });
        if self.d == Dialect::Beken {
            let word = if self.mqtt.up {
                "connected"
            } else {
                "disconnect"
            };
            let port = if port.is_empty() {
                "0".to_string()
            } else {
                port
            };
            self.line(format!(
                "+MQTTCONN:0,{word},{scheme},\"{host}\",{port},{rc}"
            ));
        } else {
            self.line(format!(
                "+MQTTCONN:0,{state},{scheme},\"{host}\",\"{port}\",\"{path}\",{rc}"
            ));
        }
        self.ok();
        Ok(())
    }

    fn publish(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 5, 5)?;
        link_id(&a)?;
        let t = topic(&a, 1)?;
        let data = mq(a.str(2), 0x6044)?;
        if data.is_empty() {
            return Err(Fail::Mqtt(0x6045));
        }
        let q = qos(&a, 3)?;
        let r = retain(&a, 4)?;
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        if !self.mqtt.up {
            return Err(Fail::Mqtt(0x6051));
        }
        let sent = self
            .mqtt
            .link
            .as_ref()
            .is_some_and(|l| l.publish(&t, q, r, data));
        if !sent {
            return Err(Fail::Mqtt(0x600C));
        }
        self.ok();
        Ok(())
    }

    fn pubraw(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 5, if self.d == Dialect::EspAt { 6 } else { 5 })?;
        link_id(&a)?;
        let t = topic(&a, 1)?;
        let len = mq(a.int(2), 0x604B)?;
        let max = if self.d == Dialect::Beken {
            512
        } else {
            1 << 20
        };
        if !(1..=max).contains(&len) {
            return Err(Fail::Mqtt(0x604C));
        }
        let q = qos(&a, 3)?;
        let r = retain(&a, 4)?;
        let timeout = match a.len() {
            6 if !a.absent(5) => Some(Duration::from_millis(mq(a.int(5), 0x6008)?.max(0) as u64)),
            _ => None,
        };
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        if !self.mqtt.up {
            return Err(Fail::Mqtt(0x6051));
        }
        self.prompt(
            DataThen::PubRaw {
                topic: t,
                qos: q,
                retain: r,
            },
            len as usize,
            timeout,
        );
        Ok(())
    }

    pub(super) fn pubraw_done(&mut self, topic: &str, qos: u8, retain: bool, data: Vec<u8>) {
        let sent = self.mqtt.up
            && self
                .mqtt
                .link
                .as_ref()
                .is_some_and(|l| l.publish(topic, qos, retain, data));
        match (self.d, sent) {
            (Dialect::Beken, true) => self.emit(b"\r\n+MQTTPUBRAW:OK\r\n"),
            (Dialect::Beken, false) => self.emit(b"\r\n+MQTTPUBRAW:ERROR,-1\r\n"),
            (_, true) => self.line("+MQTTPUB:OK"),
            (_, false) => self.line("+MQTTPUB:FAIL"),
        }
    }

    fn sub(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 3, 3)?;
        link_id(&a)?;
        let t = topic(&a, 1)?;
        let q = qos(&a, 2)?;
        if self.mqtt.user.is_none() {
            return Err(Fail::Mqtt(0x6006));
        }
        if !self.mqtt.up {
            return Err(Fail::Mqtt(0x6051));
        }
        if self.mqtt.subs.iter().any(|s| s.topic == t) {
            self.line("ALREADY SUBSCRIBE");
            self.ok();
            return Ok(());
        }
        if self.mqtt.subs.len() >= self.cfg.subscription_limit() {
            if self.d == Dialect::W800 {
                self.line("ALREADY FULL SUBSCRIBE");
                self.ok();
                return Ok(());
            }
            return Err(Fail::Mqtt(0x600D));
        }
        self.mqtt.next_tag += 1;
        let tag = self.mqtt.next_tag;
        let sent = self
            .mqtt
            .link
            .as_ref()
            .is_some_and(|l| l.subscribe(&t, q, Some(tag)));
        if !sent {
            return Err(Fail::Mqtt(0x600D));
        }
        let ms = self.cfg.broker_timeout_ms;
        self.set_busy(
            Busy::Sub {
                tag,
                topic: t,
                qos: q,
            },
            ms,
        );
        Ok(())
    }

    fn sub_query(&mut self) -> Result<(), Fail> {
        let subs = self.mqtt.subs.clone();
        if self.d == Dialect::Beken {
            let word = if self.mqtt.up {
                "connected"
            } else {
                "disconnect"
            };
            for s in subs {
                self.line(format!("+MQTTSUB:0,{word},{},\"{}\"", s.topic, s.qos));
            }
        } else {
            let state = self.esp_mqtt_state();
            if subs.is_empty() {
                self.line(format!("+MQTTSUB:0,{state},\"\",0"));
            }
            for s in subs {
                self.line(format!("+MQTTSUB:0,{state},\"{}\",{}", s.topic, s.qos));
            }
        }
        self.ok();
        Ok(())
    }

    fn unsub(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 2, 2)?;
        link_id(&a)?;
        let t = topic(&a, 1)?;
        if !self.mqtt.subs.iter().any(|s| s.topic == t) {
            self.line("NO UNSUBSCRIBE");
            self.ok();
            return Ok(());
        }
        if !self.mqtt.up {
            self.mqtt.subs.retain(|s| s.topic != t);
            self.ok();
            return Ok(());
        }
        self.mqtt.next_tag += 1;
        let tag = self.mqtt.next_tag;
        let sent = self
            .mqtt
            .link
            .as_ref()
            .is_some_and(|l| l.unsubscribe(&t, Some(tag)));
        if !sent {
            return Err(Fail::Mqtt(0x600E));
        }
        let ms = self.cfg.broker_timeout_ms;
        self.set_busy(Busy::Unsub { tag, topic: t }, ms);
        Ok(())
    }

    fn clean(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        count(&a, 1, 1)?;
        link_id(&a)?;
        if self.mqtt.user.is_none() && self.mqtt.link.is_none() && self.mqtt.conn.is_none() {
            return Err(Fail::Mqtt(0x6003));
        }
        let was_up = self.mqtt.up;
        self.drop_mqtt(true);
        self.ok();
        if was_up {
            self.line("+MQTTDISCONNECTED:0");
        }
        Ok(())
    }

    /// Ends the link (gracefully or not) and forgets every MQTT setting.
    pub(crate) fn drop_mqtt(&mut self, graceful: bool) {
        if let Some(l) = self.mqtt.link.take() {
            if graceful {
                l.disconnect();
            } else {
                l.abort();
            }
        }
        let tag = self.mqtt.next_tag;
        self.mqtt = Mqtt {
            next_tag: tag,
            ..Mqtt::default()
        };
    }

    // -----------------------------------------------------------------------------------
    // Link events

    pub(super) fn poll_mqtt(&mut self) {
        loop {
            let ev = match &self.mqtt.link {
                Some(l) => l.try_event(),
                None => None,
            };
            match ev {
                Some(ev) => self.on_link_event(ev),
                None => break,
            }
        }
    }

    fn connected_urc(&self) -> String {
        let scheme = self.mqtt.user.as_ref().map_or(1, |u| u.scheme);
        let path = self.mqtt.user.as_ref().map_or("", |u| u.path.as_str());
        let (host, port, rc) = self
            .mqtt
            .conn
            .as_ref()
            .map_or((String::new(), 0, false), |c| {
                (c.host.clone(), c.port, c.reconnect)
            });
        format!(
            "+MQTTCONNECTED:0,{scheme},\"{host}\",\"{port}\",\"{path}\",{}",
            u8::from(rc)
        )
    }

    fn on_link_event(&mut self, ev: LinkEvent) {
        match ev {
            LinkEvent::Connected => {
                let first = std::mem::replace(&mut self.mqtt.connecting, false);
                self.mqtt.up = true;
                self.mqtt.dropped = false;
                match self.d {
                    Dialect::EspAt | Dialect::W800 => {
                        let urc = self.connected_urc();
                        self.line(urc);
                        if first && matches!(self.busy, Some((Busy::MqttConn, _))) {
                            self.busy = None;
                            self.ok();
                        }
                    }
                    Dialect::Beken => self.line("+MQTTCONN:OK"),
                    Dialect::AiThinker => self.line("+EVENT:MQTT_CONNECT"),
                }
                let subs: Vec<(String, u8)> = self
                    .mqtt
                    .subs
                    .iter_mut()
                    .map(|s| {
                        s.acked = false;
                        (s.topic.clone(), s.qos)
                    })
                    .collect();
                if let Some(l) = &self.mqtt.link {
                    for (t, q) in subs {
                        l.subscribe(&t, q, None);
                    }
                }
            }
            LinkEvent::ConnectFailed(reason) => self.mqtt_connect_failed(reason),
            LinkEvent::Down => {
                let was_up = std::mem::replace(&mut self.mqtt.up, false);
                self.mqtt.dropped = true;
                for s in &mut self.mqtt.subs {
                    s.acked = false;
                }
                if was_up {
                    match self.d {
                        Dialect::AiThinker => self.line("+EVENT:MQTT_DISCONNECT"),
                        _ => self.line("+MQTTDISCONNECTED:0"),
                    }
                }
                match self.busy.clone() {
                    Some((Busy::Sub { .. } | Busy::ComboSub { .. }, _)) => {
                        self.busy = None;
                        self.fail(Fail::Mqtt(0x600D));
                    }
                    Some((Busy::Unsub { .. }, _)) => {
                        self.busy = None;
                        self.fail(Fail::Mqtt(0x600E));
                    }
                    _ => {}
                }
                let reconnect = match self.d {
                    Dialect::AiThinker => true,
                    _ => self.mqtt.conn.as_ref().is_some_and(|c| c.reconnect),
                };
                if !reconnect {
                    if let Some(l) = self.mqtt.link.take() {
                        l.abort();
                    }
                }
            }
            LinkEvent::Message {
                topic,
                payload,
                qos,
            } => self.mqtt_message(&topic, &payload, qos),
            LinkEvent::SubAck { tag, ok } => match (tag, self.busy.clone()) {
                (Some(t), Some((Busy::Sub { tag, topic, qos }, _))) if t == tag => {
                    self.busy = None;
                    if ok {
                        self.mqtt.subs.push(Sub {
                            topic,
                            qos,
                            acked: true,
                        });
                        self.mqtt.ever_subscribed = true;
                        self.ok();
                    } else {
                        self.fail(Fail::Mqtt(0x600D));
                    }
                }
                (Some(t), Some((Busy::ComboSub { tag }, _))) if t == tag => {
                    self.busy = None;
                    if let Some(s) = self.mqtt.subs.iter_mut().find(|s| !s.acked) {
                        s.acked = ok;
                    }
                    if ok {
                        self.ok();
                    } else {
                        self.fail(Fail::Exec);
                    }
                }
                (None, _) => {
                    if let Some(s) = self.mqtt.subs.iter_mut().find(|s| !s.acked) {
                        s.acked = true;
                    }
                }
                _ => {}
            },
            LinkEvent::UnsubAck { tag } => {
                if let (Some(t), Some((Busy::Unsub { tag, topic }, _))) = (tag, self.busy.clone()) {
                    if t == tag {
                        self.busy = None;
                        self.mqtt.subs.retain(|s| s.topic != topic);
                        self.ok();
                    }
                }
            }
        }
    }

    /// The first connection attempt failed (or no broker can be reached).
    pub(crate) fn mqtt_connect_failed(&mut self, _reason: String) {
        if !self.mqtt.connecting {
            return;
        }
        self.mqtt.connecting = false;
        if let Some(l) = self.mqtt.link.take() {
            l.abort();
        }
        self.mqtt.conn = None;
        match self.d {
            Dialect::EspAt | Dialect::W800 => {
                if matches!(self.busy, Some((Busy::MqttConn, _))) {
                    self.busy = None;
                    self.fail(Fail::Mqtt(0x600B));
                }
            }
            Dialect::Beken => self.line("+MQTTCONN:ERROR,-1"),
            Dialect::AiThinker => self.line("+EVENT:MQTT_DISCONNECT"),
        }
    }

    /// A command waited too long for the broker.
    pub(crate) fn busy_expired(&mut self, b: Busy) {
        match b {
            Busy::Join => {
                if self.d != Dialect::AiThinker {
                    self.line("+CWJAP:1");
                }
                self.fail(Fail::Exec);
            }
            Busy::MqttConn => {
                self.busy = Some((Busy::MqttConn, std::time::Instant::now()));
                self.mqtt_connect_failed("timeout".into());
                self.busy = None;
            }
            Busy::Sub { .. } | Busy::ComboSub { .. } => self.fail(Fail::Mqtt(0x600D)),
            Busy::Unsub { .. } => self.fail(Fail::Mqtt(0x600E)),
        }
    }

    /// An incoming message, as the dialect prints it (ESP-AT split per [`SplitMode`]).
    pub(crate) fn mqtt_message(&mut self, topic: &str, payload: &[u8], qos: u8) {
        if self.d == Dialect::AiThinker {
            self.emit(format!("+EVENT:MQTT_SUB,{topic},{},", payload.len()).as_bytes());
            self.emit(payload);
            self.emit(b"\r\n");
            return;
        }
        let mode = if self.d == Dialect::EspAt {
            self.cfg.split
        } else {
            SplitMode::None
        };
        let mut at = 0;
        for (i, n) in split_sizes(mode, topic.len(), payload.len(), qos)
            .into_iter()
            .enumerate()
        {
            let t = if i > 0 && mode == SplitMode::ChunkEmptyTopic {
                ""
            } else {
                topic
            };
            self.emit(format!("+MQTTSUBRECV:0,\"{t}\",{n},").as_bytes());
            self.emit(&payload[at..at + n]);
            self.emit(b"\r\n");
            at += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_split_matches_real_captures() {
        assert_eq!(
            split_sizes(SplitMode::Chunk, 15, 2500, 0),
            [1004, 1024, 472]
        );
        assert_eq!(split_sizes(SplitMode::Chunk, 33, 1262, 0), [986, 276]);
        assert_eq!(split_sizes(SplitMode::Chunk, 15, 1000, 0), [1000]);
        assert_eq!(
            split_sizes(SplitMode::Chunk, 15, 2500, 1),
            [1002, 1024, 474]
        );
    }

    #[test]
    fn line_limit_split_keeps_lines_within_1024() {
        let t = 15;
        let sizes = split_sizes(SplitMode::LineLimit, t, 2500, 0);
        assert_eq!(sizes.iter().sum::<usize>(), 2500);
        for (i, &n) in sizes.iter().enumerate() {
            let line = 19 + t + digits(n) + n;
            assert!(line <= 1024, "{sizes:?}");
            if i + 1 < sizes.len() {
                assert_eq!(line, 1024, "{sizes:?}");
            }
        }
    }
}
