//! Property tests for `at_wifi::framer`: no panic and steady progress on any bytes, the same
//! frames for any chunking, and a round trip against a generator of realistic module
//! output that knows which frames it emitted.

use at_wifi::framer::{Frame, Framer, PromptMode};
use at_wifi::Dialect;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
mod framer_common;
use framer_common::*;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

const MODES: [PromptMode; 3] = [PromptMode::Never, PromptMode::Once, PromptMode::Always];

/// Frames the concatenation of `pieces`, checking the progress guarantees on the way.
fn frame_pieces<const N: usize>(dialect: Dialect, mode: PromptMode, pieces: &[&[u8]]) -> Vec<F> {
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let mut framer = Framer::<N>::new(dialect);
    framer.set_prompt_mode(mode);
    let mut frames = Vec::new();
    let mut calls = 0usize;
    for piece in pieces {
        let mut rest = *piece;
        while !rest.is_empty() {
            calls += 1;
            assert!(
                calls <= 2 * total + 2,
                "too many feed calls ({calls}) for {total} bytes"
            );
            let (used, frame) = framer.feed(rest);
            assert!(used <= rest.len(), "consumed more than given");
            assert!(used > 0 || frame.is_some(), "feed made no progress");
            if let Some(f) = frame {
                check_frame::<N>(&f);
                frames.push(own(f));
            }
            rest = &rest[used..];
        }
    }
    if let Some(f) = framer.finish() {
        check_frame::<N>(&f);
        frames.push(own(f));
    }
    assert!(framer.is_idle());
    assert!(framer.finish().is_none());
    frames
}

/// Invariants of every frame.
fn check_frame<const N: usize>(f: &Frame<'_>) {
    match f {
        Frame::Data(d) => {
            assert!(d.data.len() <= d.len);
            assert!(d.truncated || d.data.len() == d.len);
            assert!(d.header.len() + d.data.len() <= N);
        }
        Frame::Oversized { start, len } => {
            assert_eq!(start.len(), N);
            assert!(*len > N);
        }
        Frame::Line(l) | Frame::Busy(l) | Frame::Error(l) => {
            assert!(!l.is_empty() && l.len() <= N);
            assert!(!matches!(l.first(), Some(b' ' | b'\t' | 0)));
            assert!(!matches!(l.last(), Some(b' ' | b'\t' | 0)));
            assert!(!l.contains(&b'\r') && !l.contains(&b'\n'));
        }
        _ => {}
    }
}

fn frame_all<const N: usize>(dialect: Dialect, mode: PromptMode, input: &[u8]) -> Vec<F> {
    frame_pieces::<N>(dialect, mode, &[input])
}

/// Splits `input` at the given points (in any order, repeats allowed).
fn split<'a>(input: &'a [u8], points: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = points.iter().map(|i| i.index(input.len() + 1)).collect();
    at.sort_unstable();
    let mut pieces = Vec::new();
    let mut prev = 0;
    for p in at {
        pieces.push(&input[prev..p]);
        prev = p;
    }
    pieces.push(&input[prev..]);
    pieces
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(Dialect::ALL.to_vec())
}

fn mode() -> impl Strategy<Value = PromptMode> {
    prop::sample::select(MODES.to_vec())
}

/// Bytes rich in the framer's special tokens, so header, prompt and classification paths
/// are hit far more often than by uniform bytes.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&[u8]] = &[
        b"+IPD,",
        b"+MQTTSUBRECV:",
        b"+CIPRECVDATA:",
        b"+CIPRECVDATA,",
        b"+SOCKETREAD,",
        b"+EVENT:SocketDown,",
        b"+EVENT:MQTT_SUB,",
        b"0,",
        b"\"t,:\",",
        b",",
        b":",
        b"\"",
        b"\r\n",
        b"\r",
        b"\n",
        b"\n\n\0",
        b">",
        b"> ",
        b"OK",
        b"ERROR",
        b"ERR CODE:0x010a6006",
        b"busy p...",
        b"cmd is running",
        b"ready",
        b" ",
        b"\0",
        b"CMD PARSE ERR",
    ];
    let token = prop_oneof![
        4 => prop::sample::select(TOKENS).prop_map(<[u8]>::to_vec),
        2 => (0u32..20).prop_map(|n| n.to_string().into_bytes()),
        1 => (0u32..100_000).prop_map(|n| n.to_string().into_bytes()),
        2 => vec(any::<u8>(), 0..12),
    ];
    vec(token, 0..200).prop_map(|t| t.concat())
}

// ---------------------------------------------------------------------------
// (a) Any bytes: no panic, steady progress
// ---------------------------------------------------------------------------

fn no_panic_every_config(input: &[u8]) {
    for d in Dialect::ALL {
        for m in MODES {
            frame_all::<1>(d, m, input);
            frame_all::<18>(d, m, input);
            frame_all::<64>(d, m, input);
            frame_all::<256>(d, m, input);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(input in vec(any::<u8>(), 0..4096)) {
        no_panic_every_config(&input);
    }

    #[test]
    fn token_soup_never_panics(input in soup()) {
        no_panic_every_config(&input);
    }
}

// ---------------------------------------------------------------------------
// (b) Chunking does not matter
// ---------------------------------------------------------------------------

fn same_for_any_chunking<const N: usize>(
    d: Dialect,
    m: PromptMode,
    input: &[u8],
    points: &[Index],
) -> Result<(), TestCaseError> {
    let whole = frame_all::<N>(d, m, input);
    let pieces = split(input, points);
    prop_assert_eq!(
        &frame_pieces::<N>(d, m, &pieces),
        &whole,
        "random split, N = {}",
        N
    );
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    prop_assert_eq!(
        &frame_pieces::<N>(d, m, &bytes),
        &whole,
        "byte by byte, N = {}",
        N
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chunking_invariant_arbitrary_bytes(
        input in vec(any::<u8>(), 0..2048),
        points in vec(any::<Index>(), 0..24),
        d in dialect(),
        m in mode(),
    ) {
        same_for_any_chunking::<24>(d, m, &input, &points)?;
        same_for_any_chunking::<256>(d, m, &input, &points)?;
    }

    #[test]
    fn chunking_invariant_token_soup(
        input in soup(),
        points in vec(any::<Index>(), 0..24),
        d in dialect(),
        m in mode(),
    ) {
        same_for_any_chunking::<18>(d, m, &input, &points)?;
        same_for_any_chunking::<64>(d, m, &input, &points)?;
        same_for_any_chunking::<256>(d, m, &input, &points)?;
    }
}

// ---------------------------------------------------------------------------
// (c) Realistic module output: round trip
// ---------------------------------------------------------------------------

/// Line ends real modules use.
const ENDS: [&[u8]; 5] = [b"\r\n", b"\n", b"\r", b"\r\r\n", b"\n\n\0"];
/// What may come before a line.
const PRES: [&[u8]; 5] = [b"", b"", b"\r\n", b"\r\n\r\n", b"  "];
/// Blank output: no frame.
const BLANKS: [&[u8]; 6] = [b"\r\n", b"\n", b"  \r\n", b"\t\r\n", b"\0", b" "];
/// Lines that are plain lines in every dialect (none is a complete data header).
const FIXED: [&str; 20] = [
    "+MQTTDISCONNECTED:0",
    "WIFI GOT IP",
    "WIFI DISCONNECT",
    "0,CLOSED",
    "1,CONNECT",
    "SEND OK",
    "SEND FAIL",
    "+MQTTPUB:OK",
    "+MQTTCONNECTED:0,1,\"host\",\"1883\",\"\",0",
    "AT+MQTTSUB=0,\"t\",1",
    "+IPD,0,12",
    "+IPD,0,12,\"10.0.0.2\",80",
    "+EVENT:SocketDown,1,4",
    "+EVENT:SocketDown,1",
    "connect success ConID=1",
    "1,4,3,192.168.31.239,80",
    "+CIFSR:STAMAC,\"aa:bb:cc:dd:ee:ff\"",
    "Recv 5 bytes",
    "+MQTTSUB:0,1,\"\",0",
    "AT+CIPSEND=0,1,CONNECT",
];
const BUSY: [&str; 3] = ["busy p...", "busy s...", "busy ..."];
const ERROR_WORDS: [&str; 3] = ["ERROR", "CMD FORMAT ERR", "CMD PARSE ERR"];

#[derive(Clone, Debug)]
enum LineKind {
    Ok,
    ErrorWord(usize),
    ErrorCode(u32),
    Busy(usize),
    Running,
    Ready,
    Fixed(usize),
    /// Printable text starting with a digit (so never a result word or header).
    Text(Vec<u8>),
    /// Noise: first byte ≥ 0x80, no CR, LF or `g` (so never "is running").
    Garbage(Vec<u8>),
}

#[derive(Clone, Debug)]
enum Item {
    Line {
        kind: LineKind,
        pre: usize,
        pad: usize,
        end: usize,
    },
    Blank(usize),
    Prompt {
        space: bool,
        end: usize,
    },
    Data {
        /// Which of the dialect's header shapes (taken modulo their number).
        shape: usize,
        id: u8,
        topic: Vec<u8>,
        ipv6: bool,
        port: u16,
        payload: Vec<u8>,
        pre: usize,
        /// A line end after the payload, or the next item glued on.
        end: Option<usize>,
    },
}

fn line_kind() -> impl Strategy<Value = LineKind> {
    let text =
        (b'0'..=b'9', vec(prop::sample::select(text_chars()), 0..40)).prop_map(|(c, mut v)| {
            v.insert(0, c);
            v
        });
    let garbage = (
        0x80u8..=0xff,
        vec(
            any::<u8>().prop_filter("no line end", |b| !matches!(b, b'\r' | b'\n' | b'g')),
            0..80,
        ),
    )
        .prop_map(|(c, mut v)| {
            v.insert(0, c);
            v
        });
    prop_oneof![
        4 => Just(LineKind::Ok),
        2 => (0..ERROR_WORDS.len()).prop_map(LineKind::ErrorWord),
        1 => any::<u32>().prop_map(LineKind::ErrorCode),
        1 => (0..BUSY.len()).prop_map(LineKind::Busy),
        1 => Just(LineKind::Running),
        1 => Just(LineKind::Ready),
        4 => (0..FIXED.len()).prop_map(LineKind::Fixed),
        3 => text.prop_map(LineKind::Text),
        1 => garbage.prop_map(LineKind::Garbage),
    ]
}

fn text_chars() -> Vec<u8> {
    (b' '..=b'~')
        .filter(|&b| b != b'g')
        .chain([b'\t', 0])
        .collect()
}

fn topic_chars() -> Vec<u8> {
    b"abcxyz/+#,:_-. 0123456789".to_vec()
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    let special = prop::sample::select(vec![
        b"\r\nOK\r\n".to_vec(),
        b">".to_vec(),
        b"\r\n".to_vec(),
        b"+IPD,0,3:".to_vec(),
        b"\"".to_vec(),
        b",".to_vec(),
        b"\0".to_vec(),
    ]);
    prop_oneof![
        3 => vec(any::<u8>(), 0..120),
        2 => vec(prop_oneof![special, vec(any::<u8>(), 0..8)], 0..12).prop_map(|v| v.concat()),
        1 => vec(any::<u8>(), 120..400),
        1 => Just(Vec::new()),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let pre = 0..PRES.len();
    let end = 0..ENDS.len();
    prop_oneof![
        8 => (line_kind(), pre.clone(), 0usize..4, end.clone())
            .prop_map(|(kind, pre, pad, end)| Item::Line { kind, pre, pad, end }),
        2 => (0..BLANKS.len()).prop_map(Item::Blank),
        2 => (any::<bool>(), end.clone()).prop_map(|(space, end)| Item::Prompt { space, end }),
        5 => (
            any::<usize>(),
            0u8..5,
            vec(prop::sample::select(topic_chars()), 1..40),
            any::<bool>(),
            any::<u16>(),
            payload(),
            pre,
            prop::option::of(end),
        )
            .prop_map(|(shape, id, topic, ipv6, port, payload, pre, end)| Item::Data {
                shape,
                id,
                topic,
                ipv6,
                port,
                payload,
                pre,
                end,
            }),
    ]
}

/// Strips spaces, tabs and NULs at both ends (what the framer does to lines).
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | 0, rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | 0] = s {
        s = rest;
    }
    s
}

/// The header (without separator) of a data item in `dialect`, and its separator.
fn data_header(dialect: Dialect, item: &Item) -> (Vec<u8>, u8) {
    let Item::Data {
        shape,
        id,
        topic,
        ipv6,
        port,
        payload,
        ..
    } = item
    else {
        unreachable!()
    };
    let len = payload.len();
    let topic = String::from_utf8(topic.clone()).unwrap();
    let ip = if *ipv6 { "fe80::1:2:3" } else { "192.168.1.10" };
    let shapes: Vec<(String, u8)> = match dialect {
        Dialect::EspAt | Dialect::W800 | Dialect::Beken => {
            let mut v = vec![
                (format!("+MQTTSUBRECV:{id},\"{topic}\",{len}"), b','),
                (format!("+IPD,{len}"), b':'),
                (format!("+IPD,{id},{len}"), b':'),
                (format!("+IPD,{len},\"{ip}\",{port}"), b':'),
                (format!("+IPD,{id},{len},\"{ip}\",{port}"), b':'),
            ];
            if dialect == Dialect::EspAt {
                v.push((format!("+CIPRECVDATA:{len}"), b','));
                v.push((format!("+CIPRECVDATA,{len}"), b':'));
            }
            v
        }
        Dialect::AiThinker => {
            let bare: String = topic.chars().filter(|&c| c != ',').collect();
            let bare = if bare.is_empty() {
                "t".to_string()
            } else {
                bare
            };
            vec![
                (format!("+SOCKETREAD,{id},{len}"), b','),
                (format!("+EVENT:SocketDown,{id},{len}"), b','),
                (format!("+EVENT:MQTT_SUB,{bare},{len}"), b','),
            ]
        }
    };
    let (h, sep) = &shapes[shape % shapes.len()];
    (h.clone().into_bytes(), *sep)
}

/// Renders items as module output for `dialect`, and the frames a buffer of `n` bytes in
/// prompt mode `mode` must give for it.
fn render(items: &[Item], dialect: Dialect, mode: PromptMode, n: usize) -> (Vec<u8>, Vec<F>) {
    let spec = dialect.spec();
    let mut out = Vec::new();
    let mut expected = Vec::new();
    let mut prompt_live = mode != PromptMode::Never;
    for item in items {
        match item {
            Item::Line {
                kind,
                pre,
                pad,
                end,
            } => {
                let (content, frame): (Vec<u8>, Option<F>) = match kind {
                    LineKind::Ok => (b"OK".to_vec(), Some(F::Ok)),
                    LineKind::ErrorWord(i) => {
                        let w = ERROR_WORDS[*i].as_bytes();
                        let f = if spec.error_words.contains(&w) {
                            F::Error(B(w.to_vec()))
                        } else {
                            line(w)
                        };
                        (w.to_vec(), Some(f))
                    }
                    LineKind::ErrorCode(c) => {
                        let t = format!("ERR CODE:0x{c:08x}").into_bytes();
                        let f = if spec.error_code_prefix.is_some() {
                            F::ErrorCode(*c)
                        } else {
                            line(&t)
                        };
                        (t, Some(f))
                    }
                    LineKind::Busy(i) => {
                        let t = BUSY[*i].as_bytes().to_vec();
                        (t.clone(), Some(F::Busy(B(t))))
                    }
                    LineKind::Running => {
                        let t = b"ERROR: cmd is running".to_vec();
                        let f = if dialect == Dialect::AiThinker {
                            F::Busy(B(t.clone()))
                        } else {
                            line(&t)
                        };
                        (t, Some(f))
                    }
                    LineKind::Ready => (b"ready".to_vec(), Some(F::Ready)),
                    LineKind::Fixed(i) => (FIXED[*i].as_bytes().to_vec(), None),
                    LineKind::Text(t) | LineKind::Garbage(t) => (t.clone(), None),
                };
                let mut full = content;
                full.extend(std::iter::repeat_n(b' ', *pad));
                out.extend_from_slice(PRES[*pre]);
                out.extend_from_slice(&full);
                out.extend_from_slice(ENDS[*end]);
                expected.push(if full.len() > n {
                    F::Oversized {
                        start: B(full[..n].to_vec()),
                        len: full.len(),
                    }
                } else {
                    frame.unwrap_or_else(|| line(trim(&full)))
                });
            }
            Item::Blank(i) => out.extend_from_slice(BLANKS[*i]),
            Item::Prompt { space, end } => {
                out.push(b'>');
                if *space {
                    out.push(b' ');
                }
                if prompt_live {
                    expected.push(F::Prompt);
                    if mode == PromptMode::Once {
                        prompt_live = false;
                    }
                } else {
                    out.extend_from_slice(ENDS[*end]);
                    expected.push(line(">"));
                }
            }
            Item::Data {
                payload, pre, end, ..
            } => {
                let (header, sep) = data_header(dialect, item);
                let hl = header.len() + 1;
                let len = payload.len();
                out.extend_from_slice(PRES[*pre]);
                out.extend_from_slice(&header);
                out.push(sep);
                out.extend_from_slice(payload);
                if let Some(e) = end {
                    out.extend_from_slice(ENDS[*e]);
                }
                let truncated = hl + len > n;
                let kept = len.min(n.saturating_sub(hl));
                expected.push(F::Data {
                    header: B(header[..header.len().min(n)].to_vec()),
                    len,
                    data: B(payload[..kept].to_vec()),
                    truncated,
                });
            }
        }
    }
    (out, expected)
}

fn round_trip<const N: usize>(
    items: &[Item],
    d: Dialect,
    m: PromptMode,
    points: &[Index],
) -> Result<(), TestCaseError> {
    let (input, expected) = render(items, d, m, N);
    let whole = frame_all::<N>(d, m, &input);
    prop_assert_eq!(
        &whole,
        &expected,
        "{} N = {} {:?} input {:?}",
        d,
        N,
        m,
        input.escape_ascii().to_string()
    );
    let pieces = split(&input, points);
    prop_assert_eq!(
        &frame_pieces::<N>(d, m, &pieces),
        &expected,
        "split, N = {}",
        N
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn realistic_stream_round_trip(
        items in vec(item(), 0..40),
        points in vec(any::<Index>(), 0..24),
        d in dialect(),
        m in mode(),
    ) {
        round_trip::<24>(&items, d, m, &points)?;
        round_trip::<64>(&items, d, m, &points)?;
        round_trip::<1100>(&items, d, m, &points)?;
    }

    #[test]
    fn realistic_stream_chunking_invariant(
        items in vec(item(), 0..40),
        points in vec(any::<Index>(), 0..24),
        d in dialect(),
        m in mode(),
    ) {
        let (input, _) = render(&items, d, m, 256);
        same_for_any_chunking::<32>(d, m, &input, &points)?;
        same_for_any_chunking::<256>(d, m, &input, &points)?;
    }
}

#[test]
fn degenerate_buffer_sizes_do_not_panic() {
    let input = b"+IPD,0,5:hello\r\nOK\r\n>+MQTTSUBRECV:0,\"t\",2,ab\r\nready";
    for d in Dialect::ALL {
        for m in MODES {
            let f0 = frame_all::<0>(d, m, input);
            assert!(f0
                .iter()
                .all(|f| matches!(f, F::Oversized { .. } | F::Prompt)));
            frame_all::<1>(d, m, input);
            frame_all::<2>(d, m, input);
        }
    }
}
