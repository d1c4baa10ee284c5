//! Shared by the benchmarks (`bench/icount`, the instruction-count harness, and
//! `benches/framer.rs`, the criterion wall-time bench): a deterministic ESP-AT traffic
//! generator and the two receive paths under test.
//!
//! - [`run_framer`]: this crate's [`Framer`], fed the way [`at_wifi::Client`] feeds it (a
//!   UART read into a stack chunk, then `feed` until the chunk is used up).
//! - [`run_atat`]: atat 0.25's stock [`AtDigester`] behind a copy of atat's
//!   `Ingress::read_from` + `Ingress::try_advance` loop (atat-0.25.0/src/ingress.rs): a
//!   buffer that accumulates reads and, after every read, calls `digest` on everything
//!   buffered, removes what was consumed (`copy_within`) and repeats until nothing is
//!   consumed. The response slot and the URC channel are replaced by counters; the URC is
//!   still run through `AtatUrc::parse` as the ingress does.
//! - [`run_copy`]: the UART reads alone, the floor both paths share.
//!
//! Two streams come out of one generator (see [`StreamKind`]):
//! - `full`: what an ESP-AT module really sends: URCs without a leading CR LF, command
//!   echo, query replies, `OK` / `ERROR`, `ERR CODE:0x…`, `busy p...`, small and 1 KiB
//!   `+MQTTSUBRECV` frames with any byte in the payload, `+IPD` frames, a `>` prompt
//!   exchange, garbage bursts and reboots (`ready`).
//! - `compat`: the part of that traffic atat's `AtDigester` frames correctly. Every URC
//!   starts with CR LF; no payload holds CR, LF, `>` or `@` (a `>`/`@` at the end of a read
//!   is taken for a prompt, CR LF breaks the URC line) or ends in white space (`trim_ascii`);
//!   no `+IPD` (`urc_helper` needs `<name>:`), no `busy p...` and no `ERR CODE` (eaten as
//!   echo or folded into a response), no `ERROR` (see [`Event::Command`]), no garbage, no
//!   prompt. `icount check` proves that atat frames every event of it exactly, at every read
//!   size.

#![allow(dead_code)] // each bench target uses a different part of this module

use at_wifi::framer::{Frame, Framer};
use at_wifi::Dialect;
use atat::digest::{AtDigester, DigestResult, Digester};
use std::ops::Range;

/// The framer's buffer: the client's default `RX` (a full 1 KiB `+MQTTSUBRECV` fits).
pub const FRAMER_BUF: usize = 1100;
/// atat's ingress buffer: must hold the largest frame (1 KiB payload plus header).
pub const INGRESS_BUF: usize = 2048;
/// Bytes the UART hands over per read.
pub const READ_SIZES: [usize; 4] = [1, 16, 64, 1024];
/// Stream sizes.
pub const STREAM_SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];
/// The generator's seed: every run sees the same bytes.
pub const SEED: u64 = 0x00e5_9a70_2025_0001;

// ---------------------------------------------------------------------------
// PRNG (SplitMix64: deterministic, no dependency)
// ---------------------------------------------------------------------------

/// SplitMix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `pct` %.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.range(0, xs.len() - 1)]
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

// ---------------------------------------------------------------------------
// Expected results
// ---------------------------------------------------------------------------

/// What the framer produced (or must produce) from a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FramerTally {
    pub ok: u64,
    pub error: u64,
    pub error_code: u64,
    pub busy: u64,
    pub prompt: u64,
    pub ready: u64,
    pub lines: u64,
    pub line_bytes: u64,
    pub oversized: u64,
    pub data: u64,
    pub data_bytes: u64,
    pub truncated: u64,
}

impl FramerTally {
    #[inline]
    pub fn frame(&mut self, frame: Frame<'_>) {
        match frame {
            Frame::Ok => self.ok += 1,
            Frame::Error(_) => self.error += 1,
            Frame::ErrorCode(_) => self.error_code += 1,
            Frame::Busy(_) => self.busy += 1,
            Frame::Prompt => self.prompt += 1,
            Frame::Ready => self.ready += 1,
            Frame::Line(l) => {
                self.lines += 1;
                self.line_bytes += l.len() as u64;
            }
            Frame::Oversized { .. } => self.oversized += 1,
            Frame::Data(d) => {
                self.data += 1;
                self.data_bytes += d.data.len() as u64;
                self.truncated += u64::from(d.truncated);
            }
        }
    }

    fn add(&mut self, o: &FramerTally) {
        self.ok += o.ok;
        self.error += o.error;
        self.error_code += o.error_code;
        self.busy += o.busy;
        self.prompt += o.prompt;
        self.ready += o.ready;
        self.lines += o.lines;
        self.line_bytes += o.line_bytes;
        self.oversized += o.oversized;
        self.data += o.data;
        self.data_bytes += o.data_bytes;
        self.truncated += o.truncated;
    }
}

/// What atat's ingress loop produced (or must produce) from a `compat` stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AtatTally {
    /// `DigestResult::Urc`, and how many of them `AtatUrc::parse` recognised.
    pub urcs: u64,
    pub urc_bytes: u64,
    pub urcs_parsed: u64,
    /// `DigestResult::Response(Ok(..))` and the bytes of their text.
    pub responses: u64,
    pub response_bytes: u64,
    /// `DigestResult::Response(Err(..))`.
    pub errors: u64,
    pub prompts: u64,
    /// Bytes left in the ingress buffer at the end of a stream (must be 0).
    pub leftover: u64,
    /// Times the ingress buffer was full and cleared, as `read_from` does (must be 0).
    pub clears: u64,
}

impl AtatTally {
    fn add(&mut self, o: &AtatTally) {
        self.urcs += o.urcs;
        self.urc_bytes += o.urc_bytes;
        self.urcs_parsed += o.urcs_parsed;
        self.responses += o.responses;
        self.response_bytes += o.response_bytes;
        self.errors += o.errors;
        self.prompts += o.prompts;
        self.leftover += o.leftover;
        self.clears += o.clears;
    }
}

// ---------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------

/// Which traffic to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// Everything an ESP-AT module sends.
    Full,
    /// The subset atat's `AtDigester` frames correctly.
    Compat,
    /// Only compat `+MQTTSUBRECV` frames with a 64-byte binary payload (rescanning test).
    Msg64,
    /// Only compat `+MQTTSUBRECV` frames with a 1024-byte binary payload (rescanning test).
    Msg1k,
}

impl StreamKind {
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Full => "full",
            StreamKind::Compat => "compat",
            StreamKind::Msg64 => "msg64",
            StreamKind::Msg1k => "msg1k",
        }
    }

    /// In the format atat's `AtDigester` frames correctly.
    pub fn compat(self) -> bool {
        self != StreamKind::Full
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(StreamKind::Full),
            "compat" => Some(StreamKind::Compat),
            "msg64" => Some(StreamKind::Msg64),
            "msg1k" => Some(StreamKind::Msg1k),
            _ => None,
        }
    }
}

/// The kinds of event, with their weight (events per 100) in each stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `WIFI GOT IP`, `+MQTTCONNECTED:…` and friends.
    Urc,
    /// `+MQTTSUBRECV` with a 1–256 byte JSON-like payload.
    SmallMsg,
    /// `+MQTTSUBRECV` with a 1024-byte binary payload.
    BigMsg,
    /// `+IPD,<id>,<len>:` with 1–1024 binary bytes.
    Ipd,
    /// A set command: echo, then `OK`, or (`ERR CODE:0x…` and) `ERROR` (`full` only).
    Command,
    /// A query: echo, 1–4 reply lines, `OK`.
    Query,
    /// `AT+MQTTPUBRAW`: echo, `OK`, `>`, `+MQTTPUB:OK`.
    Send,
    /// A command refused with `busy p...`.
    Busy,
    /// 16–128 bytes of line noise (another baud rate), then CR LF.
    Garbage,
    /// Boot noise, then `ready`.
    Reboot,
}

pub const EVENTS: [Event; 10] = [
    Event::Urc,
    Event::SmallMsg,
    Event::BigMsg,
    Event::Ipd,
    Event::Command,
    Event::Query,
    Event::Send,
    Event::Busy,
    Event::Garbage,
    Event::Reboot,
];

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Urc => "URC line",
            Event::SmallMsg => "+MQTTSUBRECV 1-256 B",
            Event::BigMsg => "+MQTTSUBRECV 1 KiB",
            Event::Ipd => "+IPD 1-1024 B",
            Event::Command => "command: echo, OK/ERROR",
            Event::Query => "query: echo, replies, OK",
            Event::Send => "send: echo, OK, >, result",
            Event::Busy => "busy p...",
            Event::Garbage => "garbage burst",
            Event::Reboot => "reboot noise + ready",
        }
    }

    /// Events per 100 in each stream.
    pub fn weight(self, kind: StreamKind) -> u64 {
        let (full, compat) = match self {
            Event::Urc => (25, 25),
            Event::SmallMsg => (20, 20),
            Event::BigMsg => (6, 6),
            Event::Ipd => (6, 0),
            Event::Command => (15, 15),
            Event::Query => (12, 12),
            Event::Send => (6, 0),
            Event::Busy => (5, 0),
            Event::Garbage => (4, 0),
            Event::Reboot => (1, 0),
        };
        match kind {
            StreamKind::Full => full,
            StreamKind::Compat => compat,
            StreamKind::Msg64 | StreamKind::Msg1k => u64::from(self == Event::BigMsg),
        }
    }
}

/// A generated stream and what both receive paths must make of it.
pub struct Stream {
    pub kind: StreamKind,
    pub bytes: Vec<u8>,
    /// Offsets where an event starts, plus the end: the frame boundaries where a stream may
    /// be cut.
    pub cuts: Vec<usize>,
    pub expect_framer: FramerTally,
    /// Only for `compat`.
    pub expect_atat: AtatTally,
    /// Per event kind (index in [`EVENTS`]): events and bytes.
    pub composition: [(u64, u64); 10],
    /// Payload bytes of data frames.
    pub payload_bytes: u64,
}

struct Gen {
    rng: Rng,
    kind: StreamKind,
    out: Vec<u8>,
    framer: FramerTally,
    atat: AtatTally,
    payload_bytes: u64,
}

const ROOMS: [&str; 6] = ["kitchen", "hall", "garage", "attic", "bedroom-2", "garden"];
const SENSORS: [&str; 5] = ["temperature", "humidity", "state", "set", "config"];
const HOSTS: [&str; 3] = ["mqtt.example.com", "broker.lan", "10.0.0.2"];

/// Strips spaces, tabs and NULs at both ends, as the framer does.
fn framer_trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | 0, rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | 0] = s {
        s = rest;
    }
    s
}

impl Gen {
    fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from(b"0123456789abcdef"[self.rng.range(0, 15)]))
            .collect()
    }

    fn topic(&mut self) -> String {
        match self.rng.range(0, 2) {
            0 => format!("home/{}/{}", self.rng.pick(&ROOMS), self.rng.pick(&SENSORS)),
            1 => format!("devices/{}/cmd", self.hex(8)),
            _ => format!("fw/ota/{}/chunk", self.hex(8)),
        }
    }

    /// JSON-like text; never ends in white space and holds no CR, LF, `>` or `@`.
    fn text_payload(&mut self, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789{}\":,. ";
        let mut p: Vec<u8> = (0..len).map(|_| *self.rng.pick(ALPHABET)).collect();
        if let Some(last) = p.last_mut() {
            *last = b'}';
        }
        p
    }

    /// Binary payload: any byte in `full`; in `compat`, none of CR, LF, `>`, `@` and no
    /// white space at the end.
    fn binary_payload(&mut self, len: usize) -> Vec<u8> {
        let mut p = Vec::with_capacity(len);
        for i in 0..len {
            loop {
                let b = self.rng.byte();
                if self.kind.compat()
                    && (matches!(b, b'\r' | b'\n' | b'>' | b'@')
                        || (i + 1 == len && b.is_ascii_whitespace()))
                {
                    continue;
                }
                p.push(b);
                break;
            }
        }
        p
    }

    /// Records what the framer makes of one complete line.
    fn expect_line(&mut self, text: &[u8]) {
        let t = framer_trim(text);
        let f = &mut self.framer;
        if t.is_empty() {
        } else if t == b"OK" {
            f.ok += 1;
        } else if t == b"ERROR" {
            f.error += 1;
        } else if t == b"ready" {
            f.ready += 1;
        } else if t.starts_with(b"ERR CODE:") {
            f.error_code += 1;
        } else if t.starts_with(b"busy") {
            f.busy += 1;
        } else {
            f.lines += 1;
            f.line_bytes += t.len() as u64;
        }
    }

    /// `text` CR LF.
    fn line(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
        self.out.extend_from_slice(b"\r\n");
        self.expect_line(text);
    }

    /// An unsolicited line: CR LF first in `compat` (what atat needs), bare in `full` (what
    /// ESP-AT sends).
    fn urc_line(&mut self, text: &[u8]) {
        if self.kind.compat() {
            self.out.extend_from_slice(b"\r\n");
            self.atat.urcs += 1;
            self.atat.urc_bytes += text.len() as u64;
            self.atat.urcs_parsed += 1;
        }
        self.line(text);
    }

    /// A final result, CR LF before it as ESP-AT sends it.
    fn final_result(&mut self, word: &[u8]) {
        self.out.extend_from_slice(b"\r\n");
        self.line(word);
    }

    fn subrecv(&mut self, payload: Vec<u8>) {
        let topic = self.topic();
        let header = format!("+MQTTSUBRECV:0,\"{topic}\",{},", payload.len());
        if self.kind.compat() {
            self.out.extend_from_slice(b"\r\n");
            self.atat.urcs += 1;
            self.atat.urc_bytes += (header.len() + payload.len()) as u64;
            self.atat.urcs_parsed += 1;
        }
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(&payload);
        self.out.extend_from_slice(b"\r\n");
        self.framer.data += 1;
        self.framer.data_bytes += payload.len() as u64;
        self.payload_bytes += payload.len() as u64;
    }

    /// Echo of `cmd`, reply lines, then `OK` (or `ERROR` when `reply` is `None`).
    fn exchange(&mut self, cmd: &str, reply: Option<&[String]>, err_code: bool) {
        self.line(cmd.as_bytes());
        match reply {
            Some(lines) => {
                for l in lines {
                    self.line(l.as_bytes());
                }
                self.final_result(b"OK");
                self.atat.responses += 1;
                let text: usize = lines.iter().map(|l| l.len()).sum::<usize>()
                    + 2 * lines.len().saturating_sub(1);
                self.atat.response_bytes += text as u64;
            }
            None => {
                if err_code {
                    let code = format!("ERR CODE:0x0109{}", self.hex(4));
                    self.line(code.as_bytes());
                }
                self.final_result(b"ERROR");
                self.atat.errors += 1;
            }
        }
    }

    /// Noise bytes (high bytes, NUL, CR, LF): no keyword and no data header can form.
    fn noise(&mut self, len: usize) {
        let start = self.out.len();
        for _ in 0..len {
            let b = match self.rng.range(0, 19) {
                0 => b'\r',
                1 => b'\n',
                2 => 0,
                _ => 0x80 | self.rng.byte(),
            };
            self.out.push(b);
        }
        self.out.extend_from_slice(b"\r\n");
        let burst = self.out[start..].to_vec();
        for piece in burst.split(|&b| b == b'\r' || b == b'\n') {
            self.expect_line(piece);
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Urc => {
                let text = match self.rng.range(0, 5) {
                    0 => "WIFI CONNECTED".to_string(),
                    1 => "WIFI GOT IP".to_string(),
                    2 => "WIFI DISCONNECT".to_string(),
                    3 | 4 => format!(
                        "+MQTTCONNECTED:0,{},\"{}\",\"1883\",\"\",1",
                        self.rng.range(1, 3),
                        self.rng.pick(&HOSTS)
                    ),
                    _ => "+MQTTDISCONNECTED:0".to_string(),
                };
                self.urc_line(text.as_bytes());
            }
            Event::SmallMsg => {
                let len = self.rng.range(1, 256);
                let p = self.text_payload(len);
                self.subrecv(p);
            }
            Event::BigMsg => {
                let len = if self.kind == StreamKind::Msg64 {
                    64
                } else {
                    1024
                };
                let p = self.binary_payload(len);
                self.subrecv(p);
            }
            Event::Ipd => {
                let len = self.rng.range(1, 1024);
                let header = format!("\r\n+IPD,{},{len}:", self.rng.range(0, 4));
                self.out.extend_from_slice(header.as_bytes());
                let p = self.binary_payload(len);
                self.out.extend_from_slice(&p);
                self.framer.data += 1;
                self.framer.data_bytes += len as u64;
                self.payload_bytes += len as u64;
            }
            Event::Command => {
                let topic = self.topic();
                let cmd = match self.rng.range(0, 2) {
                    0 => {
                        let digits = self.rng.range(2, 24);
                        let data = self.hex(digits);
                        let qos = self.rng.range(0, 2);
                        format!("AT+MQTTPUB=0,\"{topic}\",\"{data}\",{qos},0")
                    }
                    1 => format!("AT+MQTTSUB=0,\"{topic}\",1"),
                    _ => format!("AT+MQTTUNSUB=0,\"{topic}\""),
                };
                // No `ERROR` in compat: atat looks for `\r\nOK\r\n` anywhere in its buffer
                // before it looks for `ERROR`, so an `ERROR` with any later `OK` in the same
                // buffer (a replayed stream, large reads) becomes a success response that
                // swallows everything up to that `OK`, URCs included.
                if self.kind.compat() || self.rng.chance(85) {
                    self.exchange(&cmd, Some(&[]), false);
                } else {
                    let code = self.kind == StreamKind::Full && self.rng.chance(50);
                    self.exchange(&cmd, None, code);
                }
            }
            Event::Query => {
                let (cmd, lines): (&str, Vec<String>) = match self.rng.range(0, 3) {
                    0 => {
                        let n = self.rng.range(1, 4);
                        let lines = (0..n)
                            .map(|_| format!("+MQTTSUB:0,6,\"{}\",1", self.topic()))
                            .collect();
                        ("AT+MQTTSUB?", lines)
                    }
                    1 => (
                        "AT+CWJAP?",
                        vec![format!(
                            "+CWJAP:\"iot-{}\",\"{}:{}:{}:{}:{}:{}\",6,-{},0,1,3,0,1",
                            self.hex(4),
                            self.hex(2),
                            self.hex(2),
                            self.hex(2),
                            self.hex(2),
                            self.hex(2),
                            self.hex(2),
                            self.rng.range(30, 90)
                        )],
                    ),
                    2 => (
                        "AT+CIPSTA?",
                        vec![
                            format!("+CIPSTA:ip:\"192.168.1.{}\"", self.rng.range(2, 254)),
                            "+CIPSTA:gateway:\"192.168.1.1\"".to_string(),
                            "+CIPSTA:netmask:\"255.255.255.0\"".to_string(),
                        ],
                    ),
                    _ => (
                        "AT+MQTTCONN?",
                        vec![format!(
                            "+MQTTCONN:0,4,1,\"{}\",\"1883\",\"\",1",
                            self.rng.pick(&HOSTS)
                        )],
                    ),
                };
                self.exchange(cmd, Some(&lines), false);
            }
            Event::Send => {
                let topic = self.topic();
                let len = self.rng.range(1, 512);
                self.line(format!("AT+MQTTPUBRAW=0,\"{topic}\",{len},1,0").as_bytes());
                self.final_result(b"OK");
                // The prompt: CR LF `>`, no line end; the module then waits for the data
                // (which it does not echo) and prints the result. With no client setting
                // the prompt mode, the framer reports `>` as a line.
                self.out.extend_from_slice(b"\r\n>");
                self.expect_line(b">");
                self.out.extend_from_slice(b"\r\n");
                self.line(b"+MQTTPUB:OK");
            }
            Event::Busy => {
                let topic = self.topic();
                self.line(format!("AT+MQTTSUB=0,\"{topic}\",1").as_bytes());
                self.line(b"busy p...");
            }
            Event::Garbage => {
                let len = self.rng.range(16, 128);
                self.noise(len);
            }
            Event::Reboot => {
                let len = self.rng.range(32, 96);
                self.noise(len);
                self.final_result(b"ready");
            }
        }
    }
}

/// Generates at least `min_len` bytes of `kind` traffic, whole events only.
pub fn generate(kind: StreamKind, min_len: usize) -> Stream {
    let mut g = Gen {
        rng: Rng::new(SEED ^ kind as u64),
        kind,
        out: Vec::with_capacity(min_len + 4096),
        framer: FramerTally::default(),
        atat: AtatTally::default(),
        payload_bytes: 0,
    };
    let total: u64 = EVENTS.iter().map(|e| e.weight(kind)).sum();
    let mut cuts = Vec::new();
    let mut composition = [(0u64, 0u64); 10];
    while g.out.len() < min_len {
        cuts.push(g.out.len());
        let mut r = g.rng.next_u64() % total;
        let mut idx = 0;
        for (i, e) in EVENTS.iter().enumerate() {
            let w = e.weight(kind);
            if r < w {
                idx = i;
                break;
            }
            r -= w;
        }
        let before = g.out.len();
        g.event(EVENTS[idx]);
        composition[idx].0 += 1;
        composition[idx].1 += (g.out.len() - before) as u64;
    }
    cuts.push(g.out.len());
    Stream {
        kind,
        bytes: g.out,
        cuts,
        expect_framer: g.framer,
        expect_atat: g.atat,
        composition,
        payload_bytes: g.payload_bytes,
    }
}

/// Cuts `stream` into streams of about `size` bytes, each at the frame boundary nearest to
/// its start plus `size` (never empty). Every stream starts at a frame boundary, as the
/// traffic after a module reset does.
pub fn segments(stream: &Stream, size: usize) -> Vec<Range<usize>> {
    let mut segs = Vec::new();
    let mut start = 0;
    let end = stream.bytes.len();
    while start < end {
        // The last stream takes the rest when the rest is under one and a half sizes: the
        // generator overshoots its target by up to one event.
        if end - start < size + size / 2 {
            segs.push(start..end);
            break;
        }
        let target = start + size;
        let i = stream.cuts.partition_point(|&c| c < target);
        let after = stream.cuts.get(i).copied().unwrap_or(end);
        let before = stream.cuts[i - 1];
        let cut = if before > start && target - before < after - target {
            before
        } else {
            after
        };
        segs.push(start..cut);
        start = cut;
    }
    segs
}

// ---------------------------------------------------------------------------
// The receive paths
// ---------------------------------------------------------------------------

/// A UART that hands over at most `read` bytes per call, copied into the caller's buffer.
pub struct Uart<'a> {
    data: &'a [u8],
    pos: usize,
    read: usize,
}

impl<'a> Uart<'a> {
    pub fn new(data: &'a [u8], read: usize) -> Self {
        Uart { data, pos: 0, read }
    }

    #[inline]
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.read).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// More bytes are waiting (embedded-io's `ReadReady`): here, until the stream ends.
    #[inline]
    pub fn read_ready(&self) -> bool {
        self.pos < self.data.len()
    }
}

/// The client's stack chunk (`CHUNK` in `src/client.rs`).
pub const CLIENT_CHUNK: usize = 64;

/// One chunk as `Client::read_chunk` reads it: one read, then more reads while the UART
/// says bytes are waiting and the chunk has room. Returns the bytes read (0: stream end).
#[inline]
fn client_reads(uart: &mut Uart<'_>, chunk: &mut [u8; CLIENT_CHUNK]) -> usize {
    let mut n = uart.read(chunk);
    while n > 0 && n < CLIENT_CHUNK && uart.read_ready() {
        let more = uart.read(&mut chunk[n..]);
        if more == 0 {
            break;
        }
        n += more;
    }
    n
}

/// One stream through a fresh [`Framer`] exactly as `Client::read_chunk` drives it: a
/// 64-byte stack chunk filled by [`client_reads`], then `feed` until it is used up.
pub fn run_client(data: &[u8], read: usize, tally: &mut FramerTally) {
    let mut framer = Framer::<FRAMER_BUF>::new(Dialect::EspAt);
    let mut uart = Uart::new(data, read);
    let mut chunk = [0u8; CLIENT_CHUNK];
    loop {
        let n = client_reads(&mut uart, &mut chunk);
        if n == 0 {
            break;
        }
        let mut input = &chunk[..n];
        while !input.is_empty() {
            let (used, frame) = framer.feed(input);
            input = &input[used..];
            if let Some(frame) = frame {
                tally.frame(frame);
            }
        }
    }
    if let Some(frame) = framer.finish() {
        tally.frame(frame);
    }
}

/// The client's UART reads alone ([`client_reads`], `read_ready` calls included): the floor
/// of [`run_client`].
pub fn run_client_copy(data: &[u8], read: usize, sink: &mut u64) {
    let mut uart = Uart::new(data, read);
    let mut chunk = [0u8; CLIENT_CHUNK];
    loop {
        let n = client_reads(&mut uart, &mut chunk);
        if n == 0 {
            break;
        }
        *sink = sink.wrapping_add(u64::from(chunk[n - 1]));
    }
}

/// An embedded-io 0.7 UART over a byte slice that hands over at most `read` bytes per
/// read, for the real [`at_wifi::Client`] ([`Imp::Driver`]); writes are dropped.
pub struct SliceUart<'a>(pub Uart<'a>);

impl embedded_io::ErrorType for SliceUart<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for SliceUart<'_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(self.0.read(buf))
    }
}

impl embedded_io::ReadReady for SliceUart<'_> {
    #[inline]
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.0.read_ready())
    }
}

impl embedded_io::Write for SliceUart<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// What the real driver handed out ([`Imp::Driver`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverTally {
    /// Events returned by `poll`.
    pub events: u64,
    /// `Event::Reset`.
    pub resets: u64,
    /// MQTT messages, socket data and other data frames.
    pub data: u64,
    /// Their payload bytes.
    pub data_bytes: u64,
    /// Of them, truncated.
    pub truncated: u64,
    /// `Stats::bytes_read`.
    pub bytes_read: u64,
    /// `Stats::events_dropped` plus what `Event::Overflow` reported.
    pub dropped: u64,
}

impl DriverTally {
    fn add(&mut self, o: &DriverTally) {
        self.events += o.events;
        self.resets += o.resets;
        self.data += o.data;
        self.data_bytes += o.data_bytes;
        self.truncated += o.truncated;
        self.bytes_read += o.bytes_read;
        self.dropped += o.dropped;
    }
}

/// Counts one event the driver handed out.
fn count_event(t: &mut DriverTally, ev: at_wifi::Event<'_>) {
    use at_wifi::{Event, Urc};
    t.events += 1;
    let (len, truncated) = match ev {
        Event::Reset => {
            t.resets += 1;
            return;
        }
        Event::Urc(Urc::MqttMessage(m)) => (m.data.len(), m.truncated),
        Event::Urc(Urc::SocketData(d)) => (d.data.len(), d.truncated),
        Event::Urc(Urc::Data(d)) => (d.data.len(), d.truncated),
        _ => return,
    };
    t.data += 1;
    t.data_bytes += len as u64;
    t.truncated += u64::from(truncated);
}

/// One stream through a fresh [`at_wifi::Client`] (default buffers: `RX` 1100, the
/// framer's size here), polled until the stream is used up and no event is left.
pub fn run_driver(data: &[u8], read: usize, tally: &mut DriverTally) {
    let uart = SliceUart(Uart::new(data, read));
    let mut client: at_wifi::Client<_, _> = at_wifi::Client::new(uart, || 0u64, Dialect::EspAt);
    let mut t = DriverTally::default();
    loop {
        match client.poll() {
            Ok(Some(ev)) => {
                count_event(&mut t, ev);
                continue;
            }
            Ok(None) => {}
            Err(e) => panic!("driver: {e:?}"),
        }
        if !client.uart_mut().0.read_ready() {
            break;
        }
    }
    // The stream may end inside a payload: handed over cut, as `finish` does in the other
    // paths.
    client.discard_partial();
    while let Ok(Some(ev)) = client.poll() {
        count_event(&mut t, ev);
    }
    let stats = client.stats();
    t.bytes_read = stats.bytes_read;
    t.dropped = u64::from(stats.events_dropped);
    tally.add(&t);
}

/// The largest read size.
pub const MAX_READ: usize = 1024;

/// One stream through a fresh [`Framer`], read `read` bytes at a time.
pub fn run_framer(data: &[u8], read: usize, tally: &mut FramerTally) {
    let mut framer = Framer::<FRAMER_BUF>::new(Dialect::EspAt);
    let mut uart = Uart::new(data, read);
    let mut chunk = [0u8; MAX_READ];
    loop {
        let n = uart.read(&mut chunk);
        if n == 0 {
            break;
        }
        let mut input = &chunk[..n];
        while !input.is_empty() {
            let (used, frame) = framer.feed(input);
            input = &input[used..];
            if let Some(frame) = frame {
                tally.frame(frame);
            }
        }
    }
    if let Some(frame) = framer.finish() {
        tally.frame(frame);
    }
}

/// The URCs atat is told about (unit variants: `AtatUrc::parse` does no deserialising).
/// The frequent `+MQTTSUBRECV` is tried first, which favours atat.
#[derive(Clone, Debug, PartialEq, Eq, atat::atat_derive::AtatUrc)]
pub enum EspUrc {
    #[at_urc("+MQTTSUBRECV")]
    SubRecv,
    #[at_urc("+MQTTCONNECTED")]
    MqttConnected,
    #[at_urc("+MQTTDISCONNECTED")]
    MqttDisconnected,
    #[at_urc("WIFI CONNECTED")]
    WifiConnected,
    #[at_urc("WIFI GOT IP")]
    WifiGotIp,
    #[at_urc("WIFI DISCONNECT")]
    WifiDisconnect,
}

/// atat's `Ingress` with its response slot and URC channel replaced by counters.
pub struct AtatIngress {
    digester: AtDigester<EspUrc>,
    buf: [u8; INGRESS_BUF],
    pos: usize,
}

impl AtatIngress {
    pub fn new() -> Self {
        AtatIngress {
            digester: AtDigester::new(),
            buf: [0; INGRESS_BUF],
            pos: 0,
        }
    }

    /// `Ingress::write_buf`.
    #[inline]
    pub fn write_buf(&mut self) -> &mut [u8] {
        &mut self.buf[self.pos..]
    }

    /// `Ingress::clear`.
    pub fn clear(&mut self) {
        self.pos = 0;
    }

    /// `Ingress::try_advance`, results counted instead of signalled / published.
    pub fn try_advance(&mut self, commit: usize, tally: &mut AtatTally) {
        self.pos += commit;
        assert!(self.pos <= self.buf.len());

        while self.pos > 0 {
            let swallowed = match self.digester.digest(&self.buf[..self.pos]) {
                (DigestResult::None, swallowed) => swallowed,
                (DigestResult::Prompt(_), swallowed) => {
                    tally.prompts += 1;
                    swallowed
                }
                (DigestResult::Urc(urc_line), swallowed) => {
                    tally.urcs += 1;
                    tally.urc_bytes += urc_line.len() as u64;
                    if <EspUrc as atat::AtatUrc>::parse(urc_line).is_some() {
                        tally.urcs_parsed += 1;
                    }
                    swallowed
                }
                (DigestResult::Response(resp), swallowed) => {
                    match resp {
                        Ok(r) => {
                            tally.responses += 1;
                            tally.response_bytes += r.len() as u64;
                        }
                        Err(_) => tally.errors += 1,
                    }
                    swallowed
                }
            };

            if swallowed == 0 {
                break;
            }

            self.buf.copy_within(swallowed..self.pos, 0);
            self.pos -= swallowed;
        }
    }
}

impl Default for AtatIngress {
    fn default() -> Self {
        Self::new()
    }
}

/// One stream through a fresh atat ingress, read `read` bytes at a time straight into the
/// ingress buffer (`Ingress::read_from`).
pub fn run_atat(data: &[u8], read: usize, tally: &mut AtatTally) {
    let mut ingress = AtatIngress::new();
    let mut uart = Uart::new(data, read);
    loop {
        let buf = ingress.write_buf();
        if buf.is_empty() {
            tally.clears += 1;
            ingress.clear();
            continue;
        }
        let n = uart.read(buf);
        if n == 0 {
            break;
        }
        ingress.try_advance(n, tally);
    }
    tally.leftover += ingress.pos as u64;
}

/// The UART reads alone.
pub fn run_copy(data: &[u8], read: usize, sink: &mut u64) {
    let mut uart = Uart::new(data, read);
    let mut chunk = [0u8; MAX_READ];
    loop {
        let n = uart.read(&mut chunk);
        if n == 0 {
            break;
        }
        *sink = sink.wrapping_add(u64::from(chunk[n - 1]));
    }
}

/// Which receive path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imp {
    /// The framer, one `feed` loop per UART read (1 KiB chunk).
    Framer,
    Atat,
    /// The UART reads of `Framer` and `Atat` alone.
    Copy,
    /// The framer driven as `Client::read_chunk` drives it (64-byte chunk, batched reads).
    Client,
    /// The UART reads of `Client` alone.
    ClientCopy,
    /// The real driver: [`at_wifi::Client::poll`] over an embedded-io UART that hands
    /// over `read` bytes per read, until the stream is used up (framing, routing, URC
    /// parsing, the event queue and the events handed out, all of it).
    Driver,
}

impl Imp {
    pub fn name(self) -> &'static str {
        match self {
            Imp::Framer => "framer",
            Imp::Atat => "atat",
            Imp::Copy => "copy",
            Imp::Client => "client",
            Imp::ClientCopy => "client-copy",
            Imp::Driver => "driver",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "framer" => Some(Imp::Framer),
            "atat" => Some(Imp::Atat),
            "copy" => Some(Imp::Copy),
            "client" => Some(Imp::Client),
            "client-copy" => Some(Imp::ClientCopy),
            "driver" => Some(Imp::Driver),
            _ => None,
        }
    }
}

/// Everything one configuration produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub framer: FramerTally,
    pub atat: AtatTally,
    pub copy: u64,
    pub driver: DriverTally,
}

/// Runs every segment of `data` through `imp`, each as its own stream.
pub fn run(imp: Imp, data: &[u8], segs: &[Range<usize>], read: usize) -> Outcome {
    let mut out = Outcome::default();
    for seg in segs {
        let s = &data[seg.clone()];
        match imp {
            Imp::Framer => {
                let mut t = FramerTally::default();
                run_framer(s, read, &mut t);
                out.framer.add(&t);
            }
            Imp::Atat => {
                let mut t = AtatTally::default();
                run_atat(s, read, &mut t);
                out.atat.add(&t);
            }
            Imp::Copy => run_copy(s, read, &mut out.copy),
            Imp::Client => {
                let mut t = FramerTally::default();
                run_client(s, read, &mut t);
                out.framer.add(&t);
            }
            Imp::ClientCopy => run_client_copy(s, read, &mut out.copy),
            Imp::Driver => run_driver(s, read, &mut out.driver),
        }
    }
    out
}

/// Checks an outcome against what the generator expects; `Err` says what differs.
pub fn verify(imp: Imp, stream: &Stream, out: &Outcome) -> Result<(), String> {
    match imp {
        Imp::Framer | Imp::Client if out.framer != stream.expect_framer => Err(format!(
            "{} on {}: got {:?}, expected {:?}",
            imp.name(),
            stream.kind.name(),
            out.framer,
            stream.expect_framer
        )),
        Imp::Driver => {
            let d = &out.driver;
            let e = &stream.expect_framer;
            let len = stream.bytes.len() as u64;
            if d.bytes_read != len
                || d.dropped != 0
                || d.resets != e.ready
                || d.data != e.data
                || d.data_bytes != e.data_bytes
                || d.truncated != e.truncated
            {
                Err(format!(
                    "driver on {}: got {d:?}; expected {len} bytes read, nothing dropped, \
                     {} resets, {} data events of {} bytes ({} truncated)",
                    stream.kind.name(),
                    e.ready,
                    e.data,
                    e.data_bytes,
                    e.truncated
                ))
            } else {
                Ok(())
            }
        }
        Imp::Atat if !stream.kind.compat() => {
            Err("atat runs on the compat stream only".to_string())
        }
        Imp::Atat if out.atat != stream.expect_atat => Err(format!(
            "atat on {}: got {:?}, expected {:?}",
            stream.kind.name(),
            out.atat,
            stream.expect_atat
        )),
        _ => Ok(()),
    }
}
