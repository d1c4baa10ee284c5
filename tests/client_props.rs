//! Property tests of the client against module output it cannot predict, delivered in
//! arbitrary chunks (a random repeating pattern of read sizes):
//!
//! - arbitrary bytes (random and AT-shaped tokens) while the client runs a random sequence
//!   of calls, for every dialect: nothing panics, and every call returns within its time
//!   (mock clock);
//! - realistic ESP-AT sessions: commands whose replies have echo or not, response lines,
//!   `ERR CODE`s, busy lines, final results, prompts and late replies, with URCs and
//!   messages (payloads holding CR LF, `OK`, `>`) spliced in at every line boundary and
//!   after payloads: every call returns what the script says within its time, and every URC
//!   and message the module sent is delivered as an event, in order, or counted in
//!   [`Event::Overflow`], or delivered truncated (with its declared length) — never lost,
//!   never folded into a reply.

use at_wifi::command::basic::At;
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Error, Event, FailWord, Urc};
use atat::atat_derive::{AtatCmd, AtatResp};
use atat::heapless::String;
use proptest::prelude::*;
use std::fmt;

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, AtatResp)]
struct Empty;

/// `AT+MQTTPUBRAW=<link>,"<topic>",<length>,<qos>,<retain>` with a short timeout.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTPUBRAW", Empty, termination = "\r\n", timeout_ms = 300)]
struct PubRaw {
    #[at_arg(position = 0)]
    link: u8,
    #[at_arg(position = 1)]
    topic: String<16>,
    #[at_arg(position = 2)]
    length: u16,
    #[at_arg(position = 3)]
    qos: u8,
    #[at_arg(position = 4)]
    retain: u8,
}

fn pubraw(len: u16) -> PubRaw {
    PubRaw {
        link: 0,
        topic: String::try_from("t").unwrap(),
        length: len,
        qos: 1,
        retain: 0,
    }
}

const PROMPT_TIMEOUT: u32 = 300;

/// Owned bytes that print as an escaped string.
#[derive(Clone, PartialEq, Eq)]
struct B(Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// An owned event, as far as these tests tell events apart.
#[derive(Clone, Debug, PartialEq, Eq)]
enum E {
    WifiConnected,
    WifiGotIp,
    WifiDisconnected,
    MqttConnected(u8),
    MqttDisconnected(u8),
    Msg {
        topic: B,
        data: B,
        len: usize,
        truncated: bool,
    },
    SockData {
        link: Option<u8>,
        data: B,
        len: usize,
        truncated: bool,
    },
    SockConnected(u8),
    SockClosed(u8),
    Overflow(u32),
    /// Anything else (lines, resets, oversized lines, other URCs).
    Other(String<64>),
}

fn own(ev: Event<'_>) -> E {
    match ev {
        Event::Urc(Urc::WifiConnected) => E::WifiConnected,
        Event::Urc(Urc::WifiGotIp) => E::WifiGotIp,
        Event::Urc(Urc::WifiDisconnected) => E::WifiDisconnected,
        Event::Urc(Urc::MqttConnected(i)) => E::MqttConnected(i.link),
        Event::Urc(Urc::MqttDisconnected { link }) => E::MqttDisconnected(link),
        Event::Urc(Urc::MqttMessage(m)) => E::Msg {
            topic: B(m.topic.to_vec()),
            data: B(m.data.to_vec()),
            len: m.len,
            truncated: m.truncated,
        },
        Event::Urc(Urc::SocketData(d)) => E::SockData {
            link: d.link,
            data: B(d.data.to_vec()),
            len: d.len,
            truncated: d.truncated,
        },
        Event::Urc(Urc::SocketConnected { link }) => E::SockConnected(link),
        Event::Urc(Urc::SocketClosed { link }) => E::SockClosed(link),
        Event::Overflow { dropped } => E::Overflow(dropped),
        other => {
            let mut s = String::new();
            for c in format!("{other:?}").chars().take(60) {
                let _ = s.push(c);
            }
            E::Other(s)
        }
    }
}

/// Read-size patterns: one size, or a random mix.
fn chunking() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::sample::select(vec![1usize, 2, 3, 7, 64, usize::MAX]).prop_map(|n| vec![n]),
        prop::collection::vec(1usize..80, 1..12),
    ]
}

// ---------------------------------------------------------------------------
// Arbitrary output
// ---------------------------------------------------------------------------

/// Module output: random bytes mixed with the tokens that steer framing and routing.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        3 => any::<u8>().prop_map(|b| vec![b]),
        1 => prop::collection::vec(any::<u8>(), 1..40),
        3 => prop::sample::select(vec![
            &b"\r\n"[..], b"\r", b"\n", b"\0", b" ", b"OK", b"ERROR", b">", b"> ",
            b"busy p...", b"ERR CODE:0x01090000", b"ready", b"SEND OK", b"SEND FAIL",
            b"+MQTTPUB:OK", b"+MQTTPUB:FAIL", b"AT", b"AT+X", b"WIFI GOT IP",
            b"+MQTTSUBRECV:0,\"t\",", b"+IPD,0,", b"+IPD,", b"+CIPRECVDATA:",
            b"+SOCKETREAD,1,", b"+EVENT:SocketDown,1,", b"+EVENT:MQTT_SUB,a,",
            b"cmd is running", b"CMD FORMAT ERR", b"+MQTTDISCONNECTED:0", b"0,CLOSED",
            b",", b":", b"\"",
        ])
        .prop_map(|t| t.to_vec()),
        2 => (0u32..12000).prop_map(|n| n.to_string().into_bytes()),
    ];
    prop::collection::vec(token, 0..120).prop_map(|v| v.concat())
}

#[derive(Clone, Debug)]
enum Op {
    At,
    Line(u32),
    Data(u16),
    Poll,
    Wait(u32),
    Raw,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::At),
        (0u32..400).prop_map(Op::Line),
        (0u16..20).prop_map(Op::Data),
        Just(Op::Poll),
        (0u32..200).prop_map(Op::Wait),
        Just(Op::Raw),
    ]
}

/// Runs `ops` against `output` (pushed now and scheduled at times) and checks the time of
/// every call.
fn run_arbitrary<const RX: usize, const EV: usize>(
    dialect: Dialect,
    chunks: &[usize],
    now: &[u8],
    later: &[(u64, Vec<u8>)],
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let mut uart = MockUart::new();
    uart.set_chunk_pattern(chunks);
    uart.push_rx(now);
    for (t, bytes) in later {
        uart.schedule(*t, bytes);
    }
    let clock: MockClock = uart.clock();
    let mut c: Client<MockUart, MockClock, RX, 128, 296, EV> =
        Client::new(uart, clock.clone(), dialect);
    c.config_mut().prompt_timeout_ms = PROMPT_TIMEOUT;
    c.config_mut().sync_timeout_ms = 150;
    for op in ops {
        let t = clock.now();
        let bound = match op {
            Op::At => {
                let _ = c.send(&At);
                1000
            }
            Op::Line(ms) => {
                let _ = c.send_line(b"AT+CMD?", *ms);
                u64::from(*ms)
            }
            Op::Data(n) => {
                let data = vec![b'd'; usize::from(*n)];
                let _ = c.send_with_data(&pubraw(*n), &data);
                u64::from(PROMPT_TIMEOUT) + 300
            }
            Op::Poll => {
                for _ in 0..64 {
                    match c.poll() {
                        Ok(Some(_)) => {}
                        _ => break,
                    }
                }
                0
            }
            Op::Wait(ms) => {
                let _ = c.wait_event(*ms);
                u64::from(*ms)
            }
            Op::Raw => {
                let _ = c.write_raw(b"+++");
                0
            }
        };
        let took = clock.now() - t;
        prop_assert!(took <= bound, "{op:?} took {took} ms, allowed {bound}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_output_never_panics_and_every_call_keeps_its_time(
        dialect in prop::sample::select(Dialect::ALL.to_vec()),
        chunks in chunking(),
        now in noise(),
        later in prop::collection::vec((0u64..3000, noise()), 0..6),
        ops in prop::collection::vec(op(), 1..10),
        small in any::<bool>(),
    ) {
        if small {
            run_arbitrary::<48, 64>(dialect, &chunks, &now, &later, &ops)?;
        } else {
            run_arbitrary::<1100, 2048>(dialect, &chunks, &now, &later, &ops)?;
        }
    }
}

// ---------------------------------------------------------------------------
// Realistic ESP-AT sessions
// ---------------------------------------------------------------------------

/// A URC (or two, glued) the module sends, and the events it must become.
#[derive(Clone, Debug)]
struct UrcGen {
    bytes: Vec<u8>,
    events: Vec<E>,
}

fn line_urc() -> impl Strategy<Value = (Vec<u8>, E)> {
    prop_oneof![
        Just((b"WIFI CONNECTED".to_vec(), E::WifiConnected)),
        Just((b"WIFI GOT IP".to_vec(), E::WifiGotIp)),
        Just((b"WIFI DISCONNECT".to_vec(), E::WifiDisconnected)),
        (0u8..5).prop_map(|n| (
            format!("+MQTTDISCONNECTED:{n}").into_bytes(),
            E::MqttDisconnected(n)
        )),
        (0u8..5).prop_map(|n| (
            format!("+MQTTCONNECTED:{n},1,\"host\",\"1883\",\"\",0").into_bytes(),
            E::MqttConnected(n)
        )),
        (0u8..5).prop_map(|n| (format!("{n},CLOSED").into_bytes(), E::SockClosed(n))),
        (0u8..5).prop_map(|n| (format!("{n},CONNECT").into_bytes(), E::SockConnected(n))),
    ]
}

/// Payload bytes: everything that could fool a line-based parser.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        2 => any::<u8>().prop_map(|b| vec![b]),
        1 => prop::sample::select(vec![
            &b"\r\n"[..], b"OK", b"\r\nOK\r\n", b">", b"ERROR", b",", b"\"", b"\\",
            b"+MQTTSUBRECV:0,\"t\",3,", b"ready", b"busy p...", b" ",
        ])
        .prop_map(|t| t.to_vec()),
    ];
    prop_oneof![
        4 => prop::collection::vec(piece.clone(), 0..24).prop_map(|v| v.concat()),
        1 => prop::collection::vec(piece, 100..260).prop_map(|v| v.concat()),
    ]
}

/// A line URC glued to the end of a payload (`…}0,CLOSED`), and its event.
type Glue = Option<(Vec<u8>, E)>;

fn glue() -> impl Strategy<Value = Glue> {
    prop::option::weighted(0.3, line_urc())
}

fn urc() -> impl Strategy<Value = UrcGen> {
    prop_oneof![
        3 => line_urc().prop_map(|(l, e)| UrcGen {
            bytes: l,
            events: vec![e]
        }),
        2 => (prop::sample::select(vec!["t", "a/b", "x,y"]), payload(), glue())
            .prop_map(|(topic, data, glue): (&str, Vec<u8>, Glue)| {
                let mut bytes =
                    format!("+MQTTSUBRECV:0,\"{topic}\",{},", data.len()).into_bytes();
                bytes.extend_from_slice(&data);
                let mut events = vec![E::Msg {
                    topic: B(topic.as_bytes().to_vec()),
                    len: data.len(),
                    data: B(data),
                    truncated: false,
                }];
                if let Some((l, e)) = glue {
                    bytes.extend_from_slice(&l);
                    events.push(e);
                }
                UrcGen { bytes, events }
            }),
        1 => (0u8..5, payload(), glue()).prop_map(|(link, data, glue): (u8, Vec<u8>, Glue)| {
            let mut bytes = format!("+IPD,{link},{}:", data.len()).into_bytes();
            bytes.extend_from_slice(&data);
            let mut events = vec![E::SockData {
                link: Some(link),
                len: data.len(),
                data: B(data),
                truncated: false,
            }];
            if let Some((l, e)) = glue {
                bytes.extend_from_slice(&l);
                events.push(e);
            }
            UrcGen { bytes, events }
        }),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Echo {
    Off,
    On,
    StrayCr,
    Lower,
}

#[derive(Clone, Debug)]
enum Final {
    Ok,
    Error(Vec<u32>),
    CodeThenOk(u32),
    BusyThenOk,
    BusyOnly,
}

#[derive(Clone, Debug)]
enum Kind {
    /// `send_line("AT+C<i>?")` answered with `lines` and `fin`; `late`: after the timeout.
    Line {
        lines: Vec<Vec<u8>>,
        fin: Final,
        late: bool,
    },
    /// `send_with_data(AT+MQTTPUBRAW…)`; `busy` before the result; `ok` or `+MQTTPUB:FAIL`.
    Data { len: u16, busy: bool, ok: bool },
}

#[derive(Clone, Debug)]
struct CmdGen {
    kind: Kind,
    echo: Echo,
    sep: &'static [u8],
    /// URCs with the slot (line boundary) they are put at, as a fraction of the slots.
    urcs: Vec<(u8, UrcGen)>,
}

fn response_line() -> impl Strategy<Value = (bool, u8)> {
    (any::<bool>(), any::<u8>())
}

fn cmd_gen() -> impl Strategy<Value = CmdGen> {
    let fin = prop_oneof![
        4 => Just(Final::Ok),
        2 => prop::collection::vec(any::<u32>(), 0..3).prop_map(Final::Error),
        1 => any::<u32>().prop_map(Final::CodeThenOk),
        1 => Just(Final::BusyThenOk),
        1 => Just(Final::BusyOnly),
    ];
    let line_kind = (
        prop::collection::vec(response_line(), 0..4),
        fin,
        prop::bool::weighted(0.15),
    )
        .prop_map(|(lines, fin, late)| Kind::Line {
            lines: lines
                .into_iter()
                .map(|(prefixed, v)| {
                    if prefixed {
                        format!("+C:{v},\"v\"").into_bytes()
                    } else {
                        format!("version {v}.0 (build {v})").into_bytes()
                    }
                })
                .collect(),
            fin,
            late,
        });
    let data_kind = (
        1u16..40,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(len, busy, ok)| Kind::Data { len, busy, ok });
    (
        prop_oneof![3 => line_kind, 1 => data_kind],
        prop_oneof![
            Just(Echo::Off),
            Just(Echo::On),
            Just(Echo::StrayCr),
            Just(Echo::Lower)
        ],
        prop::sample::select(vec![&b"\r\n"[..], b"\r\n\r\n", b"\n", b"\r"]),
        prop::collection::vec((any::<u8>(), urc()), 0..5),
    )
        .prop_map(|(kind, echo, sep, urcs)| CmdGen {
            kind,
            echo,
            sep,
            urcs,
        })
}

/// Puts the URCs between `segments` (each a line with its end, or a bare prompt) and
/// appends the events they must give to `expected`.
fn splice(
    segments: &[Vec<u8>],
    urcs: &[(u8, UrcGen)],
    sep: &[u8],
    expected: &mut Vec<E>,
) -> Vec<u8> {
    let slots = segments.len() + 1;
    let mut at: Vec<(usize, &UrcGen)> = urcs
        .iter()
        .map(|(s, u)| (usize::from(*s) % slots, u))
        .collect();
    at.sort_by_key(|(s, _)| *s);
    let mut out = Vec::new();
    let mut urcs = at.into_iter().peekable();
    for slot in 0..slots {
        while let Some((_, u)) = urcs.next_if(|(s, _)| *s == slot) {
            out.extend_from_slice(&u.bytes);
            out.extend_from_slice(sep);
            expected.extend(u.events.iter().cloned());
        }
        if let Some(seg) = segments.get(slot) {
            out.extend_from_slice(seg);
        }
    }
    out
}

fn echo_line(echo: Echo, cmd: &[u8]) -> Option<Vec<u8>> {
    match echo {
        Echo::Off => None,
        Echo::On => Some([cmd, b"\r\n"].concat()),
        Echo::StrayCr => Some([cmd, b"\r\r\n"].concat()),
        Echo::Lower => Some([&cmd.to_ascii_lowercase()[..], b"\r\n"].concat()),
    }
}

/// What a call must return.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    Lines(Vec<u8>),
    Done,
    Err(Error),
}

const LINE_TIMEOUT: u32 = 200;

/// Scripts the session on `uart`; returns what each call must return and the events.
fn script(uart: &mut MockUart, cmds: &[CmdGen], pending: &[UrcGen]) -> (Vec<Want>, Vec<E>) {
    let mut expected = Vec::new();
    let mut wants = Vec::new();
    for u in pending {
        uart.push_rx(&u.bytes);
        uart.push_rx(b"\r\n");
        expected.extend(u.events.iter().cloned());
    }
    let mut needs_sync = false;
    for (i, g) in cmds.iter().enumerate() {
        // A reply is made late only when the call writes its command at once: after a
        // resync the command is written later and its call's deadline (which includes the
        // resync) comes sooner after the write.
        let can_be_late = !needs_sync;
        if needs_sync {
            uart.expect(b"AT\r\n", b"\r\nOK\r\n");
            needs_sync = false;
        }
        let sep = g.sep;
        let line_of = |text: &[u8]| [text, sep].concat();
        match &g.kind {
            Kind::Line { lines, fin, late } => {
                let cmd = format!("AT+C{i}?").into_bytes();
                let mut segs: Vec<Vec<u8>> = echo_line(g.echo, &cmd).into_iter().collect();
                // The response lines use the command's own prefix or none.
                let lines: Vec<Vec<u8>> = lines
                    .iter()
                    .map(|l| match l.strip_prefix(b"+C:") {
                        Some(rest) => [format!("+C{i}:").as_bytes(), rest].concat(),
                        None => l.clone(),
                    })
                    .collect();
                segs.extend(lines.iter().map(|l| line_of(l)));
                let mut want = match fin {
                    Final::Ok => {
                        segs.push(line_of(b"OK"));
                        Want::Lines(lines.join(&b"\r\n"[..]))
                    }
                    Final::Error(codes) => {
                        for c in codes {
                            segs.push(line_of(format!("ERR CODE:0x{c:08x}").as_bytes()));
                        }
                        segs.push(line_of(b"ERROR"));
                        Want::Err(Error::Module {
                            word: FailWord::Error,
                            code: codes.last().copied(),
                        })
                    }
                    Final::CodeThenOk(c) => {
                        segs.push(line_of(format!("ERR CODE:0x{c:08x}").as_bytes()));
                        segs.push(line_of(b"OK"));
                        Want::Lines(lines.join(&b"\r\n"[..]))
                    }
                    Final::BusyThenOk => {
                        segs.push(line_of(b"busy p..."));
                        segs.push(line_of(b"OK"));
                        Want::Lines(lines.join(&b"\r\n"[..]))
                    }
                    Final::BusyOnly => {
                        segs.push(line_of(b"busy p..."));
                        needs_sync = true;
                        Want::Err(Error::Busy)
                    }
                };
                let reply = splice(&segs, &g.urcs, sep, &mut expected);
                let mut full = cmd.clone();
                full.extend_from_slice(b"\r\n");
                if *late && can_be_late {
                    uart.expect_delayed(&full, &reply, u64::from(LINE_TIMEOUT) + 3);
                    needs_sync = true;
                    want = Want::Err(Error::Timeout { ms: LINE_TIMEOUT });
                } else {
                    uart.expect(&full, &reply);
                }
                wants.push(want);
            }
            Kind::Data { len, busy, ok } => {
                let cmd = format!("AT+MQTTPUBRAW=0,\"t\",{len},1,0").into_bytes();
                // Before the prompt: echo, `OK`, the prompt (URCs may follow it too).
                let mut pre: Vec<Vec<u8>> = echo_line(g.echo, &cmd).into_iter().collect();
                pre.push(line_of(b"OK"));
                pre.push(b">".to_vec());
                let n_pre = g.urcs.len() / 2;
                let pre = splice(&pre, &g.urcs[..n_pre], sep, &mut expected);
                let mut post = Vec::new();
                if *busy {
                    post.push(line_of(b"busy p..."));
                }
                post.push(line_of(if *ok {
                    &b"+MQTTPUB:OK"[..]
                } else {
                    b"+MQTTPUB:FAIL"
                }));
                let post = splice(&post, &g.urcs[n_pre..], sep, &mut expected);
                let mut full = cmd.clone();
                full.extend_from_slice(b"\r\n");
                uart.expect(&full, &pre);
                uart.expect(&vec![b'd'; usize::from(*len)], &post);
                wants.push(if *ok {
                    Want::Done
                } else {
                    Want::Err(Error::Module {
                        word: FailWord::SendFail,
                        code: None,
                    })
                });
            }
        }
    }
    if needs_sync {
        uart.expect(b"AT\r\n", b"\r\nOK\r\n");
    }
    // A last `AT` makes sure everything before it was read.
    uart.expect(b"AT\r\n", b"\r\nOK\r\n");
    (wants, expected)
}

/// Does the delivered event `got` stand for the sent `want` (whole, or truncated with its
/// declared length)?
fn stands_for(got: &E, want: &E) -> bool {
    match (got, want) {
        (
            E::Msg {
                topic: gt,
                data: gd,
                len: gl,
                truncated: gtr,
            },
            E::Msg {
                topic: wt,
                data: wd,
                len: wl,
                ..
            },
        ) => gt == wt && gl == wl && wd.0.starts_with(&gd.0) && *gtr == (gd.0.len() < wd.0.len()),
        (
            E::SockData {
                link: gk,
                data: gd,
                len: gl,
                truncated: gtr,
            },
            E::SockData {
                link: wk,
                data: wd,
                len: wl,
                ..
            },
        ) => gk == wk && gl == wl && wd.0.starts_with(&gd.0) && *gtr == (gd.0.len() < wd.0.len()),
        _ => got == want,
    }
}

fn run_session<const RX: usize, const EV: usize>(
    chunks: &[usize],
    cmds: &[CmdGen],
    pending: &[UrcGen],
    polls: &[bool],
) -> Result<(), TestCaseError> {
    let mut uart = MockUart::new();
    uart.set_chunk_pattern(chunks);
    let (wants, expected) = script(&mut uart, cmds, pending);
    let clock = uart.clock();
    let mut c: Client<MockUart, MockClock, RX, 512, 296, EV> =
        Client::new(uart, clock.clone(), Dialect::EspAt);
    c.config_mut().prompt_timeout_ms = PROMPT_TIMEOUT;
    let mut got = Vec::new();
    let mut poll = |c: &mut Client<MockUart, MockClock, RX, 512, 296, EV>| {
        while let Some(ev) = c.poll().expect("poll") {
            got.push(own(ev));
        }
    };
    for (i, (g, want)) in cmds.iter().zip(&wants).enumerate() {
        let t = clock.now();
        let (result, bound) = match &g.kind {
            Kind::Line { .. } => {
                let r = c.send_line(format!("AT+C{i}?").as_bytes(), LINE_TIMEOUT);
                (r.map(|l| Want::Lines(l.to_vec())), LINE_TIMEOUT)
            }
            Kind::Data { len, .. } => {
                let r = c.send_with_data(&pubraw(*len), &vec![b'd'; usize::from(*len)]);
                (r.map(|_| Want::Done), PROMPT_TIMEOUT + 300)
            }
        };
        let took = clock.now() - t;
        prop_assert!(took <= u64::from(bound), "command {i} took {took} ms");
        let result = result.unwrap_or_else(Want::Err);
        prop_assert_eq!(&result, want, "command {}: {:?}", i, g);
        if polls.get(i).copied().unwrap_or(false) {
            poll(&mut c);
        }
    }
    prop_assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
    poll(&mut c);
    let (uart, _) = c.release();
    prop_assert!(uart.check().is_ok(), "{:?}", uart.check());
    prop_assert_eq!(uart.unread(), 0);

    // Every URC sent is delivered in order, or counted as dropped.
    let dropped: u64 = got
        .iter()
        .map(|e| match e {
            E::Overflow(n) => u64::from(*n),
            _ => 0,
        })
        .sum();
    let delivered: Vec<&E> = got
        .iter()
        .filter(|e| !matches!(e, E::Overflow(_)))
        .collect();
    prop_assert!(
        !delivered.iter().any(|e| matches!(e, E::Other(_))),
        "unexpected events: {:?}",
        delivered
    );
    prop_assert_eq!(
        delivered.len() as u64 + dropped,
        expected.len() as u64,
        "delivered {:?}\nexpected {:?}",
        delivered,
        expected
    );
    let mut want = expected.iter();
    for g in &delivered {
        prop_assert!(
            want.any(|w| stands_for(g, w)),
            "{:?} not delivered in order; delivered {:?}\nexpected {:?}",
            g,
            delivered,
            expected
        );
    }
    if dropped == 0 {
        prop_assert!(
            delivered
                .iter()
                .zip(&expected)
                .all(|(g, w)| stands_for(g, w)),
            "delivered {:?}\nexpected {:?}",
            delivered,
            expected
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn realistic_sessions_deliver_every_urc_and_every_reply(
        chunks in chunking(),
        cmds in prop::collection::vec(cmd_gen(), 1..7),
        pending in prop::collection::vec(urc(), 0..3),
        polls in prop::collection::vec(any::<bool>(), 7),
        sizes in 0u8..3,
    ) {
        match sizes {
            // Default sizes.
            0 => run_session::<1100, 2048>(&chunks, &cmds, &pending, &polls)?,
            // A small event queue: overflow.
            1 => run_session::<1100, 200>(&chunks, &cmds, &pending, &polls)?,
            // A small framer buffer: truncated messages.
            _ => run_session::<96, 4096>(&chunks, &cmds, &pending, &polls)?,
        }
    }
}
