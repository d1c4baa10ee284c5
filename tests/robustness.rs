//! Robustness on stable: the checks of the fuzz targets (`fuzz/`) as property tests, and
//! overruns of the interrupt-fed receive buffer.
//!
//! - Framer: arbitrary bytes (random and AT-shaped), every dialect, buffer sizes below and
//!   above the longest header, prompt modes switched at arbitrary offsets, arbitrary
//!   chunking (empty feeds included): `feed` always makes progress (all of its input when
//!   no frame completes, at least one byte per frame), every frame respects the buffer
//!   bound and the frame rules, and the chunked frames equal the one-shot frames.
//! - Client: arbitrary module output arriving between and during arbitrary sequences of
//!   calls (`send`, `send_line`, `send_with_data`, typed queries, `join`, `poll`,
//!   `wait_event`, `write_raw`), arbitrary read sizes, every dialect, small and default
//!   buffers: nothing panics and every call returns within its time on the mock clock.
//! - `RxBuffer` + `BufferedSerial`: a byte-at-a-time "USART" (one `push` per byte) fills
//!   the buffer while the main loop is busy inside a client command (writing the command
//!   line): nothing is lost up to the capacity, every byte beyond it is counted exactly,
//!   and the client keeps working (the next command succeeds). Once deterministically
//!   (the bytes arrive inside the transmit call and on clock ticks), once with a real
//!   producer thread.

use at_wifi::client::Config;
use at_wifi::command::basic::{At, GetVersion};
use at_wifi::command::mqtt::{MqttConnQuery, MqttPubRaw, MqttSubQuery, QoS};
use at_wifi::command::wifi::{join, GetStationStatus, JoinAp};
use at_wifi::command::NoResponse;
use at_wifi::framer::{Frame, Framer, PromptMode, MAX_DECLARED_LEN};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::serial::{BufferedSerial, RxBuffer, RxConsumer, RxProducer};
use at_wifi::{Client, Clock, Dialect, Error, Event, Urc};
use atat::AtatCmd;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;

// ---------------------------------------------------------------------------
// Module output
// ---------------------------------------------------------------------------

/// Random bytes mixed with the tokens that steer framing and routing.
fn noise(max_tokens: usize) -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        3 => any::<u8>().prop_map(|b| vec![b]),
        1 => prop::collection::vec(any::<u8>(), 1..48),
        4 => prop::sample::select(vec![
            &b"\r\n"[..], b"\r\n", b"\r", b"\n", b"\0", b" ", b"\t", b"OK", b"ERROR", b">",
            b"> ", b"busy p...", b"busy s...", b"ERR CODE:0x01090000", b"ERR CODE:", b"ready",
            b"SEND OK", b"SEND FAIL", b"+MQTTPUB:OK", b"+MQTTPUB:FAIL", b"+MQTTPUBRAW:OK",
            b"+MQTTPUB:ERROR,3", b"AT", b"AT+GMR", b"AT+CWJAP", b"WIFI GOT IP",
            b"WIFI CONNECTED", b"WIFI DISCONNECT", b"+MQTTSUBRECV:0,\"t\",", b"+MQTTSUBRECV:",
            b"+IPD,0,", b"+IPD,", b"+CIPRECVDATA:", b"+CIPRECVDATA,", b"+SOCKETREAD,1,",
            b"+EVENT:SocketDown,1,", b"+EVENT:MQTT_SUB,a,", b"cmd is running",
            b"CMD FORMAT ERR", b"CMD PARSE ERR", b"+MQTTDISCONNECTED:0",
            b"+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",1", b"0,CLOSED", b"1,CONNECT",
            b"+CWJAP:", b"+CWJAP:\"s\",\"aa:bb:cc:dd:ee:ff\",6,-50", b"+MQTTCONN:",
            b"+MQTTSUB:0,1,\"\",0", b"AT version:", b"+CIPSNTPTIME:", b",", b":", b"\"",
        ])
        .prop_map(|t| t.to_vec()),
        2 => (0u32..12000).prop_map(|n| n.to_string().into_bytes()),
    ];
    prop::collection::vec(token, 0..max_tokens).prop_map(|v| v.concat())
}

/// Read or feed sizes: one size, or a mix (0 is an empty feed for the framer).
fn chunking() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::sample::select(vec![1usize, 2, 3, 7, 64, usize::MAX]).prop_map(|n| vec![n]),
        prop::collection::vec(0usize..80, 1..12),
    ]
}

fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------
// Framer
// ---------------------------------------------------------------------------

/// An owned frame.
#[derive(Clone, Debug, PartialEq, Eq)]
enum F {
    Ok,
    Error(String),
    Code(u32),
    Busy(String),
    Prompt,
    Ready,
    Line(String),
    Oversized(String, usize),
    Data(String, usize, String, bool),
}

fn own(f: &Frame<'_>) -> F {
    match *f {
        Frame::Ok => F::Ok,
        Frame::Error(w) => F::Error(esc(w)),
        Frame::ErrorCode(c) => F::Code(c),
        Frame::Busy(l) => F::Busy(esc(l)),
        Frame::Prompt => F::Prompt,
        Frame::Ready => F::Ready,
        Frame::Line(l) => F::Line(esc(l)),
        Frame::Oversized { start, len } => F::Oversized(esc(start), len),
        Frame::Data(d) => F::Data(esc(d.header), d.len, esc(d.data), d.truncated),
    }
}

fn text_ok(l: &[u8], n: usize) -> bool {
    let edge = |b: &u8| matches!(b, b' ' | b'\t' | 0);
    !l.is_empty()
        && l.len() <= n
        && !l.iter().any(|&b| b == b'\r' || b == b'\n')
        && !l.first().is_some_and(edge)
        && !l.last().is_some_and(edge)
}

/// The rules every frame of a `Framer<n>` follows.
fn check_frame(dialect: Dialect, n: usize, f: &Frame<'_>) -> Result<(), TestCaseError> {
    match *f {
        Frame::Ok | Frame::Prompt | Frame::Ready | Frame::ErrorCode(_) => {}
        Frame::Error(w) => {
            prop_assert!(dialect.spec().error_words.contains(&w), "{f:?}");
        }
        Frame::Busy(l) | Frame::Line(l) => prop_assert!(text_ok(l, n), "{f:?}"),
        Frame::Oversized { start, len } => {
            prop_assert!(start.len() == n && len > n, "{f:?}");
        }
        Frame::Data(d) => {
            prop_assert!(d.header.len() + d.data.len() <= n, "{f:?}");
            prop_assert!(d.data.len() <= d.len && d.len <= MAX_DECLARED_LEN, "{f:?}");
            prop_assert!(d.truncated || d.data.len() == d.len, "{f:?}");
            prop_assert!(
                dialect
                    .spec()
                    .data_headers
                    .iter()
                    .any(|h| d.header.starts_with(h.prefix)),
                "{f:?}"
            );
        }
    }
    Ok(())
}

/// Frames `data`; `chunks` (`None`: the largest pieces) split it, `changes` set the prompt
/// mode once that many bytes were fed.
fn frames<const N: usize>(
    dialect: Dialect,
    mode: PromptMode,
    changes: &[(usize, PromptMode)],
    data: &[u8],
    chunks: Option<&[usize]>,
) -> Result<Vec<F>, TestCaseError> {
    let mut f = Framer::<N>::new(dialect);
    f.set_prompt_mode(mode);
    let mut changes: Vec<_> = changes
        .iter()
        .map(|&(o, m)| (o.min(data.len()), m))
        .collect();
    changes.sort_by_key(|c| c.0);
    let mut changes = changes.into_iter().peekable();
    let mut out = Vec::new();
    let (mut pos, mut next) = (0, 0);
    let mut calls = 0usize;
    loop {
        while let Some(&(at, m)) = changes.peek() {
            if at > pos {
                break;
            }
            f.set_prompt_mode(m);
            changes.next();
        }
        let end = changes.peek().map_or(data.len(), |c| c.0);
        if pos == end {
            break;
        }
        let mut len = end - pos;
        if let Some(chunks) = chunks {
            let c = chunks[next % chunks.len()];
            next += 1;
            if c == 0 {
                let (used, frame) = f.feed(&[]);
                prop_assert!(used == 0 && frame.is_none(), "empty feed");
            }
            len = len.min(c.max(1));
        }
        let mut rest = &data[pos..pos + len];
        while !rest.is_empty() {
            calls += 1;
            let (used, frame) = f.feed(rest);
            prop_assert!(used <= rest.len());
            match frame {
                None => prop_assert_eq!(used, rest.len(), "stopped early"),
                Some(frame) => {
                    prop_assert!(used >= 1, "frame without progress");
                    check_frame(dialect, N, &frame)?;
                    out.push(own(&frame));
                }
            }
            rest = &rest[used..];
        }
        pos += len;
    }
    if let Some(frame) = f.finish() {
        check_frame(dialect, N, &frame)?;
        out.push(own(&frame));
    }
    prop_assert!(f.is_idle() && f.finish().is_none());
    // At most one call per byte plus one per chunk: the framer never spins.
    prop_assert!(calls <= data.len() + next + 1);
    Ok(out)
}

fn framer_case<const N: usize>(
    dialect: Dialect,
    mode: PromptMode,
    changes: &[(usize, PromptMode)],
    data: &[u8],
    chunks: &[usize],
) -> Result<(), TestCaseError> {
    let whole = frames::<N>(dialect, mode, changes, data, None)?;
    let chunked = frames::<N>(dialect, mode, changes, data, Some(chunks))?;
    prop_assert_eq!(whole, chunked, "N = {}, chunks {:?}", N, chunks);
    Ok(())
}

fn prompt_mode() -> impl Strategy<Value = PromptMode> {
    prop::sample::select(vec![
        PromptMode::Never,
        PromptMode::Once,
        PromptMode::Always,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn framer_progress_bounds_and_chunking(
        dialect in prop::sample::select(Dialect::ALL.to_vec()),
        size in 0usize..4,
        mode in prompt_mode(),
        changes in prop::collection::vec((0usize..600, prompt_mode()), 0..4),
        data in noise(150),
        chunks in chunking(),
    ) {
        match size {
            0 => framer_case::<16>(dialect, mode, &changes, &data, &chunks)?,
            1 => framer_case::<64>(dialect, mode, &changes, &data, &chunks)?,
            2 => framer_case::<257>(dialect, mode, &changes, &data, &chunks)?,
            _ => framer_case::<1100>(dialect, mode, &changes, &data, &chunks)?,
        }
    }
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    /// Module output readable now.
    Push(Vec<u8>),
    /// Module output readable this many ms from now (arrives during the next calls).
    Later(u8, Vec<u8>),
    At,
    Line(u16, Vec<u8>),
    /// `send_with_data` of `AT+MQTTPUBRAW` (where the dialect has it) with this many bytes.
    Data(u16),
    Query(u8),
    Join,
    Poll(u8),
    Wait(u16),
    Raw(Vec<u8>),
    Advance(u8),
    /// A reply scheduled 1 ms from now and again 30 ms from now (after a resynchronising
    /// `AT` and its quiet time), then the call.
    Answered(Vec<u8>, Box<Op>),
}

/// Whole replies and URCs as modules send them.
fn shaped() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"\r\nOK\r\n"[..],
        b"AT\r\n\r\nOK\r\n",
        b"\r\nERROR\r\n",
        b"\r\nOK\r\n\r\n>",
        b"\r\n>",
        b"\r\nSEND OK\r\n",
        b"+MQTTPUB:OK\r\n",
        b"\r\nbusy p...\r\n",
        b"ERR CODE:0x01090000\r\n",
        b"WIFI CONNECTED\r\nWIFI GOT IP\r\n",
        b"+MQTTSUBRECV:0,\"t\",7,a\r\nOK\r\n",
        b"+IPD,0,5:hello0,CLOSED\r\n",
        b"+CWJAP:\"s\",\"aa:bb:cc:dd:ee:ff\",6,-50\r\n",
        b"+CWJAP:2\r\n",
        b"+MQTTCONN:0,4,1,\"h\",\"1883\",\"\",1\r\n",
        b"+MQTTSUB:0,6,\"a/b\",1\r\n",
        b"AT version:2.2.0.0\r\n",
        b"+MQTTDISCONNECTED:0\r\n",
        b"\r\nready\r\n",
    ])
    .prop_map(|p| p.to_vec());
    prop::collection::vec(piece, 1..4).prop_map(|v| v.concat())
}

fn any_op() -> impl Strategy<Value = Op> {
    let output = || prop_oneof![noise(30), shaped()];
    prop_oneof![
        3 => output().prop_map(Op::Push),
        6 => (0u8..40, output()).prop_map(|(d, b)| Op::Later(d, b)),
        2 => Just(Op::At),
        2 => (0u16..600, prop::sample::select(vec![
            &b"AT+CMD?"[..], b"AT+CIPSEND=0,5", b"AT+MQTTSUB?", b"AT+GMR", b"", b"ATE0",
        ]))
        .prop_map(|(t, l)| Op::Line(t, l.to_vec())),
        2 => (1u16..40).prop_map(Op::Data),
        1 => (0u8..4).prop_map(Op::Query),
        1 => Just(Op::Join),
        2 => (0u8..8).prop_map(Op::Poll),
        2 => (0u16..300).prop_map(Op::Wait),
        1 => prop::sample::select(vec![&b"+++"[..], b"", b"AT\r\n"]).prop_map(|b| Op::Raw(b.to_vec())),
        1 => any::<u8>().prop_map(Op::Advance),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let call = prop_oneof![
        Just(Op::At),
        Just(Op::Line(200, b"AT+CMD?".to_vec())),
        (1u16..40).prop_map(Op::Data),
        (0u8..4).prop_map(Op::Query),
        Just(Op::Join),
    ];
    prop_oneof![
        3 => any_op(),
        1 => (shaped(), call).prop_map(|(reply, call)| Op::Answered(reply, Box::new(call))),
    ]
}

const PROMPT_MS: u32 = 300;

/// Runs `f` and fails unless it took at most `max` ms of mock time.
fn within<T>(
    clock: &MockClock,
    max: u64,
    what: &Op,
    f: impl FnOnce() -> T,
) -> Result<T, TestCaseError> {
    let t0 = clock.now();
    let r = f();
    let took = clock.now() - t0;
    prop_assert!(took <= max, "{:?} took {} ms, limit {}", what, took, max);
    Ok(r)
}

/// Runs `ops`; returns how many calls succeeded.
fn run_ops<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    dialect: Dialect,
    chunks: &[usize],
    ops: &[Op],
) -> Result<usize, TestCaseError> {
    let mut uart = MockUart::new();
    uart.set_chunk_pattern(chunks);
    let clock = uart.clock();
    let config = Config {
        prompt_timeout_ms: PROMPT_MS,
        sync_timeout_ms: 150,
        sync_quiet_ms: 10,
        drain_limit: 2048,
    };
    let mut c: Client<MockUart, MockClock, RX, RESP, TX, EV> =
        Client::with_config(uart, clock.clone(), dialect, config);
    let mut sink = String::new();
    let mut ok = 0;
    for op in ops {
        ok += usize::from(run_op(&mut c, &clock, dialect, op, &mut sink)?);
    }
    Ok(ok)
}

/// Runs one call; true when it succeeded.
fn run_op<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
    clock: &MockClock,
    dialect: Dialect,
    op: &Op,
    sink: &mut String,
) -> Result<bool, TestCaseError> {
    let ok = match op {
        Op::Push(b) => {
            c.uart_mut().push_rx(b);
            false
        }
        Op::Later(d, b) => {
            let at = clock.now() + u64::from(*d);
            c.uart_mut().schedule(at, b);
            false
        }
        Op::Answered(reply, call) => {
            let now = clock.now();
            c.uart_mut().schedule(now + 1, reply);
            c.uart_mut().schedule(now + 30, reply);
            return run_op(c, clock, dialect, call, sink);
        }
        Op::At => within(clock, u64::from(At::MAX_TIMEOUT_MS), op, || c.send(&At))?.is_ok(),
        Op::Line(t, l) => within(clock, u64::from(*t), op, || {
            c.send_line(l, u32::from(*t)).map(|r| r.len())
        })?
        .is_ok(),
        Op::Data(n) => {
            let data = vec![b'd'; usize::from(*n)];
            match MqttPubRaw::new(dialect, "t", data.len(), QoS::AtMostOnce, false) {
                Ok(cmd) => {
                    let max = u64::from(PROMPT_MS) + u64::from(MqttPubRaw::MAX_TIMEOUT_MS);
                    within(clock, max, op, || c.send_with_data(&cmd, &data))?.is_ok()
                }
                Err(_) => false,
            }
        }
        Op::Query(q) => {
            fn query<Cmd, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
                c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
                clock: &MockClock,
                op: &Op,
                cmd: &Cmd,
                sink: &mut String,
            ) -> Result<bool, TestCaseError>
            where
                Cmd: AtatCmd + atat::serde_at::serde::Serialize,
                Cmd::Response: std::fmt::Debug,
            {
                let r = within(clock, u64::from(Cmd::MAX_TIMEOUT_MS), op, || c.send(cmd))?;
                sink.clear();
                let _ = write!(sink, "{r:?}");
                Ok(r.is_ok())
            }
            match q {
                0 => query(c, clock, op, &GetVersion, sink)?,
                1 => query(c, clock, op, &GetStationStatus, sink)?,
                2 => match MqttConnQuery::new(dialect) {
                    Ok(q) => query(c, clock, op, &q, sink)?,
                    Err(_) => false,
                },
                _ => match MqttSubQuery::new(dialect) {
                    Ok(q) => query(c, clock, op, &q, sink)?,
                    Err(_) => false,
                },
            }
        }
        Op::Join => match JoinAp::new(dialect, "ap", "password") {
            Ok(cmd) => within(clock, u64::from(cmd.wait_ms()), op, || join(c, &cmd))?.is_ok(),
            Err(_) => false,
        },
        Op::Poll(n) => {
            for _ in 0..=*n {
                let t0 = clock.now();
                let more = match c.poll() {
                    Ok(Some(ev)) => {
                        sink.clear();
                        let _ = write!(sink, "{ev:?}");
                        true
                    }
                    _ => false,
                };
                prop_assert_eq!(clock.now(), t0, "poll waited");
                if !more {
                    break;
                }
            }
            false
        }
        Op::Wait(t) => {
            let t0 = clock.now();
            if let Ok(Some(ev)) = c.wait_event(u32::from(*t)) {
                sink.clear();
                let _ = write!(sink, "{ev:?}");
            }
            let took = clock.now() - t0;
            prop_assert!(took <= u64::from(*t), "wait_event({}) took {} ms", t, took);
            false
        }
        Op::Raw(b) => {
            within(clock, 0, op, || c.write_raw(b))?.ok();
            false
        }
        Op::Advance(ms) => {
            clock.advance(u64::from(*ms));
            false
        }
    };
    Ok(ok)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn client_calls_return_in_time_on_any_output(
        dialect in prop::sample::select(Dialect::ALL.to_vec()),
        small in any::<bool>(),
        chunks in chunking(),
        ops in prop::collection::vec(op(), 1..24),
    ) {
        if small {
            run_ops::<48, 48, 128, 128>(dialect, &chunks, &ops)?;
        } else {
            run_ops::<1100, 512, 296, 2048>(dialect, &chunks, &ops)?;
        }
    }
}

/// The generated sequences are not all noise: many calls get their reply and succeed, so
/// the success paths (replies parsed, prompts answered, data written) are exercised too.
#[test]
fn client_properties_reach_success_paths() {
    let mut runner = TestRunner::deterministic();
    let ops = prop::collection::vec(op(), 1..24);
    let (mut ok, mut calls) = (0, 0);
    for _ in 0..200 {
        let ops = ops.new_tree(&mut runner).expect("ops").current();
        calls += ops.len();
        ok += run_ops::<1100, 512, 296, 2048>(Dialect::EspAt, &[usize::MAX], &ops)
            .expect("properties hold");
    }
    assert!(
        ok * 20 >= calls,
        "only {ok} of {calls} operations succeeded"
    );
}

// ---------------------------------------------------------------------------
// RxBuffer overruns, simulated interleaving
// ---------------------------------------------------------------------------

/// Receive buffer size: holds `RX_N - 1` = 63 bytes.
const RX_N: usize = 64;
const CAPACITY: usize = RX_N - 1;

/// The module end of the wire, with the "USART interrupt": every byte the module sends is
/// one [`RxProducer::push`], as an RX interrupt would do it. It answers every command line
/// with `\r\nOK\r\n`, one byte per clock tick; before that, while the host is still inside
/// the transmit call of the n-th line (its main loop busy, nobody reading), it sends the
/// n-th burst all at once.
struct Module<'a> {
    producer: RxProducer<'a, RX_N>,
    /// What the host wrote since the last full command line.
    line: Vec<u8>,
    bursts: VecDeque<Vec<u8>>,
    /// Bytes still to arrive, one per tick.
    later: VecDeque<u8>,
    /// Every byte the module sent.
    sent: u64,
    /// Every command line the host wrote.
    lines: Vec<String>,
}

impl Module<'_> {
    fn send_byte(&mut self, b: u8) {
        self.producer.push(b);
        self.sent += 1;
    }
}

type Shared<'a> = Rc<RefCell<Module<'a>>>;

/// The transmit half: hands each command line to the module.
struct Tx<'a>(Shared<'a>);

impl embedded_io::ErrorType for Tx<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for Tx<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let mut m = self.0.borrow_mut();
        m.line.extend_from_slice(buf);
        while let Some(end) = m.line.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = m.line.drain(..end + 2).collect();
            m.lines.push(esc(&line));
            for b in m.bursts.pop_front().unwrap_or_default() {
                m.send_byte(b);
            }
            m.later.extend(b"\r\nOK\r\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A clock whose every idle tick is 1 ms in which the USART receives one byte.
struct TickClock<'a> {
    now: u64,
    module: Shared<'a>,
}

impl Clock for TickClock<'_> {
    fn now_ms(&mut self) -> u64 {
        self.now
    }

    fn idle(&mut self) {
        self.now += 1;
        let mut m = self.module.borrow_mut();
        if let Some(b) = m.later.pop_front() {
            m.send_byte(b);
        }
    }
}

type SimClient<'a> = Client<BufferedSerial<Tx<'a>, RxConsumer<'a, RX_N>>, TickClock<'a>>;

/// Runs `f` with a client over a `BufferedSerial` fed by a [`Module`] sending `bursts`.
fn with_module<R>(
    bursts: Vec<Vec<u8>>,
    f: impl for<'a> FnOnce(&mut SimClient<'a>, &Shared<'a>) -> R,
) -> R {
    let mut buffer = RxBuffer::<RX_N>::new();
    let (producer, consumer) = buffer.split();
    let module = Rc::new(RefCell::new(Module {
        producer,
        line: Vec::new(),
        bursts: bursts.into(),
        later: VecDeque::new(),
        sent: 0,
        lines: Vec::new(),
    }));
    let clock = TickClock {
        now: 0,
        module: module.clone(),
    };
    let uart = BufferedSerial::new(Tx(module.clone()), consumer);
    let mut c: SimClient<'_> = Client::new(uart, clock, Dialect::EspAt);
    f(&mut c, &module)
}

/// Events until none is left; all must be `WIFI GOT IP`.
fn got_ip_events<U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: &mut Client<U, C, RX, RESP, TX, EV>,
) -> usize
where
    U: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write,
    C: Clock,
{
    let mut n = 0;
    while let Ok(Some(ev)) = c.poll() {
        assert!(
            matches!(ev, Event::Urc(Urc::WifiGotIp)),
            "unexpected event {ev:?}"
        );
        n += 1;
    }
    n
}

/// `n` lines of `WIFI GOT IP`, each with `pad` trailing spaces (which the framer trims):
/// varying the padding moves the point where an overrun cuts a line.
fn got_ip_lines(pad: usize, n: usize) -> (Vec<u8>, usize) {
    let mut line = b"WIFI GOT IP".to_vec();
    line.extend(std::iter::repeat_n(b' ', pad));
    line.extend_from_slice(b"\r\n");
    (line.repeat(n), line.len())
}

/// A burst of `n` URC lines arrives while the host writes `AT`; then a second `AT`.
fn overrun_case(pad: usize, n: usize) {
    let (burst, line_len) = got_ip_lines(pad, n);
    let kept = burst.len().min(CAPACITY);
    let lost = burst.len() - kept;
    // The part of a line the overrun cut off, completed by the CR LF of the reply.
    let partial = burst[kept - kept % line_len..kept].trim_ascii();
    let cut_is_urc = partial == b"WIFI GOT IP";
    let ctx = format!("{n} lines of {line_len} bytes ({} bytes)", burst.len());
    with_module(vec![burst.clone()], |c, module| {
        let first = c.send(&At);
        let overflows = c.uart_mut().rx_mut().take_overflows() as usize;
        assert_eq!(overflows, lost, "{ctx}: lost bytes miscounted");
        if partial.is_empty() || cut_is_urc {
            assert_eq!(first, Ok(NoResponse), "{ctx}: first AT");
        } else {
            // The rest of a cut line is an unknown line inside the reply: the reply is
            // corrupt, and says so.
            assert_eq!(first, Err(Error::Parse), "{ctx}: first AT");
        }
        let events = got_ip_events(c);
        assert_eq!(
            events,
            kept / line_len + usize::from(cut_is_urc),
            "{ctx}: every URC kept is an event"
        );
        // The client keeps working: the next command succeeds.
        assert_eq!(c.send(&At), Ok(NoResponse), "{ctx}: the next AT");
        assert_eq!(c.uart_mut().rx_mut().take_overflows(), 0, "{ctx}");
        // Let the last bytes of the reply arrive, then account for every byte.
        let _ = c.wait_event(10);
        assert!(c.poll().is_ok_and(|e| e.is_none()), "{ctx}");
        let m = module.borrow();
        assert_eq!(m.lines, ["AT\\r\\n", "AT\\r\\n"], "{ctx}");
        assert!(m.later.is_empty(), "{ctx}");
        assert_eq!(
            c.stats().bytes_read + lost as u64,
            m.sent,
            "{ctx}: bytes not accounted for"
        );
    });
}

#[test]
fn overrun_while_writing_a_command_loses_nothing_up_to_capacity_then_counts_exactly() {
    for pad in 0..8 {
        for n in 0..=20 {
            overrun_case(pad, n);
        }
    }
}

/// An overrun that cuts a data frame. The framer reads the payload by its declared length,
/// so without help it takes the bytes after the gap (the replies of the next commands) for
/// payload. The first command may fail; the application sees the overrun
/// (`take_overflows() > 0`); the next command must succeed.
#[test]
fn overrun_inside_a_message_payload_does_not_break_the_next_command() {
    let mut message = b"+MQTTSUBRECV:0,\"t\",200,".to_vec();
    message.extend(std::iter::repeat_n(b'm', 200));
    message.extend_from_slice(b"\r\n");
    with_module(vec![message.clone()], |c, module| {
        let first = c.send(&At);
        assert!(
            matches!(first, Ok(_) | Err(Error::Timeout { .. })),
            "{first:?}"
        );
        let lost = c.uart_mut().rx_mut().take_overflows() as usize;
        assert_eq!(lost, message.len() - CAPACITY);
        while let Ok(Some(_)) = c.poll() {}
        let next = c.send(&At);
        assert_eq!(
            next,
            Ok(NoResponse),
            "the command after an overrun inside a payload failed (first: {first:?}, \
             written {:?}, {:?})",
            module.borrow().lines,
            c.stats()
        );
    });
}

// ---------------------------------------------------------------------------
// RxBuffer overruns, with a producer thread
// ---------------------------------------------------------------------------

/// A module on its own thread, pushing one byte at a time like an RX interrupt, while the
/// main thread runs client commands over a `BufferedSerial` with the std clock. The main
/// loop is made busy exactly while the module sends a burst of URCs larger than the buffer
/// (its transmit call blocks until the burst is in), so the loss is exact.
#[test]
fn threaded_usart_overrun_is_counted_and_the_client_recovers() {
    use std::sync::mpsc;
    use std::thread;

    enum ToModule {
        /// A command line: a burst of `n` URC lines while the host is blocked, then reply.
        Line(Vec<u8>, usize),
        Done,
    }

    struct ThreadTx {
        to_module: mpsc::Sender<ToModule>,
        burst_done: mpsc::Receiver<()>,
        line: Vec<u8>,
        bursts: VecDeque<usize>,
    }

    impl embedded_io::ErrorType for ThreadTx {
        type Error = core::convert::Infallible;
    }

    impl embedded_io::Write for ThreadTx {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            self.line.extend_from_slice(buf);
            while let Some(end) = self.line.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.line.drain(..end + 2).collect();
                let burst = self.bursts.pop_front().unwrap_or(0);
                let _ = self.to_module.send(ToModule::Line(line, burst));
                // The main loop is busy (a slow transmit) until the burst is in.
                let _ = self.burst_done.recv();
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    let mut buffer = RxBuffer::<RX_N>::new();
    let (mut producer, consumer) = buffer.split();
    let (to_module, from_host) = mpsc::channel::<ToModule>();
    let (burst_tx, burst_rx) = mpsc::channel::<()>();
    let (reply_tx, reply_rx) = mpsc::channel::<()>();
    // In lines of 13 bytes: 4 lines fit, 5 overrun by 2 bytes, 23 by 236.
    let bursts = [0usize, 1, 4, 5, 23, 0];

    thread::scope(|s| {
        let module = s.spawn(move || {
            let mut sent = 0u64;
            let mut push = |p: &mut RxProducer<'_, RX_N>, b: u8| {
                p.push(b);
                sent += 1;
                // About one byte time at 115200 baud.
                let t = std::time::Instant::now();
                while t.elapsed() < std::time::Duration::from_micros(20) {
                    std::hint::spin_loop();
                }
            };
            while let Ok(ToModule::Line(line, burst)) = from_host.recv() {
                assert_eq!(line, b"AT\r\n");
                // The buffer is empty when the burst starts: the host read everything.
                assert!(producer.is_empty());
                for b in got_ip_lines(0, burst).0 {
                    push(&mut producer, b);
                }
                let _ = burst_tx.send(());
                // The reply comes once the host has caught up.
                while !producer.is_empty() {
                    thread::yield_now();
                }
                for &b in b"\r\nOK\r\n" {
                    push(&mut producer, b);
                }
                let _ = reply_tx.send(());
            }
            sent
        });

        let tx = ThreadTx {
            to_module,
            burst_done: burst_rx,
            line: Vec::new(),
            bursts: bursts.iter().copied().collect(),
        };
        let uart = BufferedSerial::new(tx, consumer);
        let mut c: Client<_, _> = Client::new(uart, at_wifi::StdClock::new(), Dialect::EspAt);
        let mut lost_total = 0u64;
        for &burst in &bursts {
            assert_eq!(c.send(&At), Ok(NoResponse), "burst of {burst}");
            // The client returns at the CR after `OK`; the module is done once its LF is
            // sent too. Polling then reads it, so the next burst meets an empty buffer.
            reply_rx.recv().expect("reply sent");
            let lost = u64::from(c.uart_mut().rx_mut().take_overflows());
            let (bytes, line_len) = got_ip_lines(0, burst);
            let kept = bytes.len().min(CAPACITY);
            assert_eq!(lost, (bytes.len() - kept) as u64, "burst of {burst} lines");
            lost_total += lost;
            // The line cut by the overrun is `WIFI GOT IP` without its CR LF (63 = 4 × 13
            // + 11): the reply's CR LF completes it.
            let cut = usize::from(kept % line_len != 0);
            assert_eq!(
                got_ip_events(&mut c),
                kept / line_len + cut,
                "burst of {burst}"
            );
        }
        let stats = c.stats();
        let (uart, _) = c.release();
        let (tx, _rx) = uart.into_parts();
        let _ = tx.to_module.send(ToModule::Done);
        let sent = module.join().expect("module thread");
        assert_eq!(
            stats.bytes_read + lost_total,
            sent,
            "bytes not accounted for"
        );
    });
}
