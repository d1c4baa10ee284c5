//! The `client` target: a [`Client`] over a [`MockUart`] whose module output, read sizes
//! and operations all come from the input.
//!
//! Input: `[cfg][k][k read sizes][sync_timeout][sync_quiet][prompt_timeout][drain]` then
//! operations ([`Op`]) until the input ends.
//!
//! - `cfg`: bits 0–1 the dialect; bit 2 small buffers (`Client<_, _, 48, 48, 128, 128>`
//!   instead of the defaults).
//! - read sizes: [`MockUart::set_chunk_pattern`] (each at least 1; 255 means "all").
//! - config: `sync_timeout_ms = 4 × b`, `sync_quiet_ms = b`, `prompt_timeout_ms = 8 × b`,
//!   `drain_limit = 64 × (b + 1)`.
//!
//! Checked: nothing panics (the mock and the client), and every call returns within its
//! time on the mock clock: `send` within the command's `MAX_TIMEOUT_MS`, `send_line` and
//! `wait_event` within their `timeout_ms`, `send_with_data` within the prompt timeout plus
//! the command's timeout, `poll` and `write_raw` without waiting at all. The mock clock
//! advances only when the client idles, so a call that loops without idling and without
//! input to read would hang: libFuzzer reports it as a timeout.

use crate::{Reader, Writer};
use at_wifi::client::Config;
use at_wifi::command::basic::{At, GetVersion};
use at_wifi::command::mqtt::{MqttConnQuery, MqttPubRaw, MqttSubQuery, MqttUserCfgQuery, QoS};
use at_wifi::command::wifi::{GetSntpConfig, GetSntpTime, GetStationStatus, JoinAp};
use at_wifi::command::NoResponse;
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Event};
use atat::atat_derive::AtatCmd;
use atat::AtatCmd;
use std::fmt::Write as _;

/// `AT+FUZZSEND=<len>`: a data command every dialect can be sent, with a short timeout.
#[derive(Clone, Copy, Debug, AtatCmd)]
#[at_cmd("+FUZZSEND", NoResponse, timeout_ms = 200, termination = "\r\n")]
pub struct FuzzSend {
    /// The announced length.
    pub len: u16,
}

/// One operation of the `client` target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// 0: make bytes readable now. `[0][len u16][bytes]`.
    Push(Vec<u8>),
    /// 1: make bytes readable `delay` ms from now. `[1][delay][len u16][bytes]`.
    Schedule(u8, Vec<u8>),
    /// 2: `send(&At)`.
    SendAt,
    /// 3: `send_line(line, timeout)`, timeout `% 2048`. `[3][timeout u16][len][line]`.
    SendLine(u16, Vec<u8>),
    /// 4: `send_with_data`: `kind` even → [`FuzzSend`], odd → [`MqttPubRaw`] (where the
    /// dialect has it). `[4][kind][len u16][data]`, len `% 1200`.
    SendData(u8, Vec<u8>),
    /// 5: `poll` up to `n + 1` times (until `None`). `[5][n]`.
    Poll(u8),
    /// 6: `wait_event(timeout % 4096)`. `[6][timeout u16]`.
    Wait(u16),
    /// 7: `write_raw(bytes)`. `[7][len][bytes]`.
    WriteRaw(Vec<u8>),
    /// 8: advance the mock clock. `[8][ms]`.
    Advance(u8),
    /// 9: a typed query (`which % 8`): `AT+GMR`, `AT+CWJAP?`, `AT+CIPSNTPCFG?`,
    /// `AT+CIPSNTPTIME?`, `AT+MQTTCONN?`, `AT+MQTTSUB?`, `AT+MQTTUSERCFG?`, `AT+CWJAP=…`.
    Query(u8),
}

impl Op {
    /// Reads one operation.
    pub fn read(r: &mut Reader<'_>) -> Op {
        match r.u8() % 10 {
            0 => {
                let n = usize::from(r.u16());
                Op::Push(r.bytes(n).to_vec())
            }
            1 => {
                let d = r.u8();
                let n = usize::from(r.u16());
                Op::Schedule(d, r.bytes(n).to_vec())
            }
            2 => Op::SendAt,
            3 => {
                let t = r.u16() % 2048;
                let n = usize::from(r.u8());
                Op::SendLine(t, r.bytes(n).to_vec())
            }
            4 => {
                let kind = r.u8();
                let n = usize::from(r.u16() % 1200);
                Op::SendData(kind, r.bytes(n).to_vec())
            }
            5 => Op::Poll(r.u8()),
            6 => Op::Wait(r.u16() % 4096),
            7 => {
                let n = usize::from(r.u8());
                Op::WriteRaw(r.bytes(n).to_vec())
            }
            8 => Op::Advance(r.u8()),
            _ => Op::Query(r.u8()),
        }
    }

    /// Writes it in the format [`Op::read`] reads.
    pub fn write(&self, w: &mut Writer) {
        match self {
            Op::Push(b) => {
                w.u8(0).u16(b.len() as u16).bytes(b);
            }
            Op::Schedule(d, b) => {
                w.u8(1).u8(*d).u16(b.len() as u16).bytes(b);
            }
            Op::SendAt => {
                w.u8(2);
            }
            Op::SendLine(t, l) => {
                w.u8(3)
                    .u16(*t)
                    .u8(l.len() as u8)
                    .bytes(&l[..l.len().min(255)]);
            }
            Op::SendData(k, d) => {
                w.u8(4).u8(*k).u16(d.len() as u16).bytes(d);
            }
            Op::Poll(n) => {
                w.u8(5).u8(*n);
            }
            Op::Wait(t) => {
                w.u8(6).u16(*t);
            }
            Op::WriteRaw(b) => {
                w.u8(7).u8(b.len() as u8).bytes(&b[..b.len().min(255)]);
            }
            Op::Advance(ms) => {
                w.u8(8).u8(*ms);
            }
            Op::Query(q) => {
                w.u8(9).u8(*q);
            }
        }
    }
}

/// A decoded `client` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The dialect.
    pub dialect: Dialect,
    /// Small buffers.
    pub small: bool,
    /// Read sizes in turn.
    pub chunks: Vec<usize>,
    /// The raw config bytes.
    pub config: [u8; 4],
    /// The operations.
    pub ops: Vec<Op>,
}

impl Case {
    /// Decodes an input.
    pub fn decode(input: &[u8]) -> Case {
        let mut r = Reader::new(input);
        let cfg = r.u8();
        let k = usize::from(r.u8() % 8) + 1;
        let chunks = (0..k)
            .map(|_| match r.u8() {
                255 => usize::MAX,
                b => usize::from(b).max(1),
            })
            .collect();
        let config = [r.u8(), r.u8(), r.u8(), r.u8()];
        let mut ops = Vec::new();
        while !r.is_empty() {
            ops.push(Op::read(&mut r));
        }
        Case {
            dialect: Dialect::ALL[usize::from(cfg & 3)],
            small: cfg & 4 != 0,
            chunks,
            config,
            ops,
        }
    }

    /// Encodes it (for seeds).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        let d = Dialect::ALL
            .iter()
            .position(|&x| x == self.dialect)
            .unwrap_or(0) as u8;
        w.u8(d | u8::from(self.small) << 2);
        let chunks: Vec<usize> = self.chunks.iter().take(8).copied().collect();
        let chunks = if chunks.is_empty() {
            vec![usize::MAX]
        } else {
            chunks
        };
        w.u8(chunks.len() as u8 - 1);
        for c in chunks {
            w.u8(c.min(255) as u8);
        }
        w.bytes(&self.config);
        for op in &self.ops {
            op.write(&mut w);
        }
        w.out
    }

    /// The client config the bytes give.
    pub fn client_config(&self) -> Config {
        let [sync, quiet, prompt, drain] = self.config;
        Config {
            sync_timeout_ms: 4 * u32::from(sync),
            sync_quiet_ms: u32::from(quiet),
            prompt_timeout_ms: 8 * u32::from(prompt),
            drain_limit: 64 * (usize::from(drain) + 1),
        }
    }
}

/// Formats an event (exercising every `Debug` on the way).
fn look_at(ev: &Event<'_>, sink: &mut String) {
    sink.clear();
    let _ = write!(sink, "{ev:?}");
}

/// Runs `f` and checks that it took at most `max` ms of mock time.
fn timed<T>(clock: &MockClock, max: u64, what: &str, f: impl FnOnce() -> T) -> T {
    let t0 = clock.now();
    let r = f();
    let took = clock.now() - t0;
    assert!(
        took <= max,
        "{what} took {took} ms of mock time, limit {max}"
    );
    r
}

fn exec<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    case: &Case,
) -> Summary {
    let mut uart = MockUart::new();
    uart.set_chunk_pattern(&case.chunks);
    let clock = uart.clock();
    let config = case.client_config();
    let d = case.dialect;
    let mut c: Client<MockUart, MockClock, RX, RESP, TX, EV> =
        Client::with_config(uart, clock.clone(), d, config);
    let prompt = u64::from(config.prompt_timeout_ms);
    let mut sink = String::new();
    for op in &case.ops {
        match op {
            Op::Push(b) => c.uart_mut().push_rx(b),
            Op::Schedule(delay, b) => {
                let at = clock.now() + u64::from(*delay);
                c.uart_mut().schedule(at, b);
            }
            Op::SendAt => {
                let max = u64::from(At::MAX_TIMEOUT_MS);
                let _ = timed(&clock, max, "send(At)", || c.send(&At));
            }
            Op::SendLine(t, line) => {
                let _ = timed(&clock, u64::from(*t), "send_line", || {
                    c.send_line(line, u32::from(*t)).map(|r| r.len())
                });
            }
            Op::SendData(kind, data) => {
                let len = data.len();
                let pubraw = if kind % 2 == 1 {
                    MqttPubRaw::new(d, "t/x", len, QoS::AtLeastOnce, false).ok()
                } else {
                    None
                };
                match pubraw {
                    Some(cmd) => {
                        let max = prompt + u64::from(MqttPubRaw::MAX_TIMEOUT_MS);
                        let _ = timed(&clock, max, "send_with_data(MqttPubRaw)", || {
                            c.send_with_data(&cmd, data)
                        });
                    }
                    None => {
                        let cmd = FuzzSend { len: len as u16 };
                        let max = prompt + u64::from(FuzzSend::MAX_TIMEOUT_MS);
                        let _ = timed(&clock, max, "send_with_data(FuzzSend)", || {
                            c.send_with_data(&cmd, data)
                        });
                    }
                }
            }
            Op::Poll(n) => {
                for _ in 0..=*n {
                    let t0 = clock.now();
                    match c.poll() {
                        Ok(Some(ev)) => look_at(&ev, &mut sink),
                        Ok(None) | Err(_) => break,
                    }
                    assert_eq!(clock.now(), t0, "poll waited");
                }
            }
            Op::Wait(t) => {
                let t0 = clock.now();
                if let Ok(Some(ev)) = c.wait_event(u32::from(*t)) {
                    look_at(&ev, &mut sink);
                }
                let took = clock.now() - t0;
                assert!(took <= u64::from(*t), "wait_event({t}) took {took} ms");
            }
            Op::WriteRaw(b) => {
                let _ = timed(&clock, 0, "write_raw", || c.write_raw(b));
            }
            Op::Advance(ms) => clock.advance(u64::from(*ms)),
            Op::Query(q) => query(&mut c, &clock, d, *q, &mut sink),
        }
    }
    let stats = c.stats();
    let _ = c.pending_events();
    let (uart, _) = c.release();
    let _ = uart.check();
    Summary {
        stats,
        written: uart.written().to_vec(),
        mock_ms: clock.now(),
    }
}

/// What a run did (for the replay test).
#[derive(Clone, Debug)]
pub struct Summary {
    /// The client's counters at the end.
    pub stats: at_wifi::Stats,
    /// Everything the client wrote.
    pub written: Vec<u8>,
    /// The mock time at the end.
    pub mock_ms: u64,
}

fn query<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
    clock: &MockClock,
    d: Dialect,
    q: u8,
    sink: &mut String,
) {
    fn go<Cmd, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
        c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
        clock: &MockClock,
        cmd: &Cmd,
        sink: &mut String,
    ) where
        Cmd: AtatCmd + atat::serde_at::serde::Serialize,
        Cmd::Response: core::fmt::Debug,
    {
        let r = timed(clock, u64::from(Cmd::MAX_TIMEOUT_MS), "send(query)", || {
            c.send(cmd)
        });
        sink.clear();
        let _ = write!(sink, "{r:?}");
    }
    match q % 8 {
        0 => go(c, clock, &GetVersion, sink),
        1 => go(c, clock, &GetStationStatus, sink),
        2 => go(c, clock, &GetSntpConfig, sink),
        3 => go(c, clock, &GetSntpTime, sink),
        4 => {
            if let Ok(cmd) = MqttConnQuery::new(d) {
                go(c, clock, &cmd, sink);
            }
        }
        5 => {
            if let Ok(cmd) = MqttSubQuery::new(d) {
                go(c, clock, &cmd, sink);
            }
        }
        6 => {
            if let Ok(cmd) = MqttUserCfgQuery::new(d) {
                go(c, clock, &cmd, sink);
            }
        }
        _ => {
            if let Ok(cmd) = JoinAp::new(d, "fuzz-ap", "fuzz-password") {
                let max = u64::from(cmd.wait_ms());
                let r = timed(clock, max, "join", || at_wifi::command::wifi::join(c, &cmd));
                sink.clear();
                let _ = write!(sink, "{r:?}");
            }
        }
    }
}

/// The `client` target.
pub fn run(input: &[u8]) {
    summary(input);
}

/// Runs an input and says what happened.
pub fn summary(input: &[u8]) -> Summary {
    let case = Case::decode(input);
    if case.small {
        exec::<48, 48, 128, 128>(&case)
    } else {
        exec::<1100, 512, 296, 2048>(&case)
    }
}
