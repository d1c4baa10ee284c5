//! The `framer` target: arbitrary module output into a [`Framer`] of every dialect, with
//! prompt modes switched at chosen offsets, fed once in the largest pieces possible and
//! once in the chunks the input chooses.
//!
//! Input: `[cfg][k][k chunk sizes][m][m × (offset u16 LE, mode)]` then the bytes.
//!
//! - `cfg`: bits 0–1 the dialect ([`Dialect::ALL`]), bits 2–3 the buffer size
//!   ([`SIZES`]), bits 4–5 the initial prompt mode (`% 3`: never, once, always).
//! - chunk sizes: used in turn; 0 means "call `feed` with an empty slice, then one byte".
//! - mode changes: `set_prompt_mode(mode % 3)` once exactly `offset` bytes were fed.
//!
//! Checked on every call: `feed` consumes at most its input, all of it when it returns no
//! frame, and at least one byte when it returns one (so it never stalls: at most one call
//! per byte plus one); every frame respects the buffer bound and the frame rules (trimmed,
//! non-empty lines without CR/LF, `Oversized` only past `N`, data frames within `N` with
//! `data.len() <= len <= MAX_DECLARED_LEN`, and complete unless `truncated`); `finish`
//! leaves the framer idle. Then: the chunked frames equal the one-shot frames, exactly.

use crate::{show, Reader, Writer};
use at_wifi::framer::{Frame, Framer, PromptMode, MAX_DECLARED_LEN};
use at_wifi::Dialect;
use std::fmt;

/// The framer buffer sizes tried: below the longest data header prefix (18), small,
/// ESP-AT's 256-byte line limit plus one, and the client's default.
pub const SIZES: [usize; 4] = [16, 64, 257, 1100];

/// A decoded `framer` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case<'a> {
    /// The dialect.
    pub dialect: Dialect,
    /// Index into [`SIZES`].
    pub size: usize,
    /// The initial prompt mode.
    pub mode: PromptMode,
    /// Chunk sizes, used in turn (never empty).
    pub chunks: Vec<usize>,
    /// `(offset, mode)`: the mode is set once `offset` bytes were fed.
    pub changes: Vec<(usize, PromptMode)>,
    /// The module output.
    pub data: &'a [u8],
}

/// The prompt mode numbered `n % 3`.
pub fn mode(n: u8) -> PromptMode {
    match n % 3 {
        0 => PromptMode::Never,
        1 => PromptMode::Once,
        _ => PromptMode::Always,
    }
}

fn mode_code(m: PromptMode) -> u8 {
    match m {
        PromptMode::Never => 0,
        PromptMode::Once => 1,
        PromptMode::Always => 2,
    }
}

fn dialect_code(d: Dialect) -> u8 {
    Dialect::ALL.iter().position(|&x| x == d).unwrap_or(0) as u8
}

impl<'a> Case<'a> {
    /// Decodes an input.
    pub fn decode(input: &'a [u8]) -> Self {
        let mut r = Reader::new(input);
        let cfg = r.u8();
        let k = usize::from(r.u8() % 16) + 1;
        let chunks = (0..k).map(|_| usize::from(r.u8())).collect();
        let m = usize::from(r.u8() % 8);
        let changes = (0..m)
            .map(|_| (usize::from(r.u16()), mode(r.u8())))
            .collect();
        Case {
            dialect: Dialect::ALL[usize::from(cfg & 3)],
            size: usize::from((cfg >> 2) & 3),
            mode: mode((cfg >> 4) & 3),
            chunks,
            changes,
            data: r.rest(),
        }
    }

    /// Encodes it back (for seeds). Chunk sizes above 255 and more than 16 sizes or 7
    /// changes do not fit the format and are cut.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(dialect_code(self.dialect) | (self.size as u8 & 3) << 2 | mode_code(self.mode) << 4);
        let chunks: Vec<usize> = if self.chunks.is_empty() {
            vec![255]
        } else {
            self.chunks.iter().take(16).copied().collect()
        };
        w.u8(chunks.len() as u8 - 1);
        for c in chunks {
            w.u8(c.min(255) as u8);
        }
        let changes: Vec<_> = self.changes.iter().take(7).collect();
        w.u8(changes.len() as u8);
        for &(off, m) in changes {
            w.u16(off.min(usize::from(u16::MAX)) as u16)
                .u8(mode_code(m));
        }
        w.bytes(self.data);
        w.out
    }
}

/// An owned frame, for comparing two runs.
#[derive(Clone, PartialEq, Eq)]
pub enum Owned {
    /// [`Frame::Ok`].
    Ok,
    /// [`Frame::Error`].
    Error(Vec<u8>),
    /// [`Frame::ErrorCode`].
    ErrorCode(u32),
    /// [`Frame::Busy`].
    Busy(Vec<u8>),
    /// [`Frame::Prompt`].
    Prompt,
    /// [`Frame::Ready`].
    Ready,
    /// [`Frame::Line`].
    Line(Vec<u8>),
    /// [`Frame::Oversized`].
    Oversized(Vec<u8>, usize),
    /// [`Frame::Data`]: header, declared length, data, truncated.
    Data(Vec<u8>, usize, Vec<u8>, bool),
}

impl fmt::Debug for Owned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owned::Ok => f.write_str("Ok"),
            Owned::Error(w) => write!(f, "Error(\"{}\")", show(w)),
            Owned::ErrorCode(c) => write!(f, "ErrorCode({c:#010x})"),
            Owned::Busy(l) => write!(f, "Busy(\"{}\")", show(l)),
            Owned::Prompt => f.write_str("Prompt"),
            Owned::Ready => f.write_str("Ready"),
            Owned::Line(l) => write!(f, "Line(\"{}\")", show(l)),
            Owned::Oversized(s, n) => write!(f, "Oversized(\"{}\", {n})", show(s)),
            Owned::Data(h, n, d, t) => {
                write!(f, "Data(\"{}\", {n}, \"{}\", {t})", show(h), show(d))
            }
        }
    }
}

/// Copies a frame.
pub fn own(f: &Frame<'_>) -> Owned {
    match *f {
        Frame::Ok => Owned::Ok,
        Frame::Error(w) => Owned::Error(w.to_vec()),
        Frame::ErrorCode(c) => Owned::ErrorCode(c),
        Frame::Busy(l) => Owned::Busy(l.to_vec()),
        Frame::Prompt => Owned::Prompt,
        Frame::Ready => Owned::Ready,
        Frame::Line(l) => Owned::Line(l.to_vec()),
        Frame::Oversized { start, len } => Owned::Oversized(start.to_vec(), len),
        Frame::Data(d) => Owned::Data(d.header.to_vec(), d.len, d.data.to_vec(), d.truncated),
    }
}

fn check_text(what: &str, l: &[u8], n: usize) {
    assert!(!l.is_empty(), "empty {what}");
    assert!(l.len() <= n, "{what} of {} bytes > N = {n}", l.len());
    assert!(
        !l.iter().any(|&b| b == b'\r' || b == b'\n'),
        "{what} holds CR/LF: \"{}\"",
        show(l)
    );
    let edge = |b: &u8| matches!(b, b' ' | b'\t' | 0);
    assert!(
        !l.first().is_some_and(edge) && !l.last().is_some_and(edge),
        "{what} not trimmed: \"{}\"",
        show(l)
    );
}

/// The rules every frame of a `Framer<N>` of `dialect` follows.
pub fn check_frame(dialect: Dialect, n: usize, f: &Frame<'_>) {
    match *f {
        Frame::Ok | Frame::Prompt | Frame::Ready | Frame::ErrorCode(_) => {}
        Frame::Error(w) => {
            check_text("error word", w, n);
            assert!(
                dialect.spec().error_words.contains(&w),
                "unknown error word \"{}\"",
                show(w)
            );
        }
        Frame::Busy(l) => check_text("busy line", l, n),
        Frame::Line(l) => check_text("line", l, n),
        Frame::Oversized { start, len } => {
            assert_eq!(start.len(), n, "oversized start is not the whole buffer");
            assert!(len > n, "oversized line of {len} bytes fits N = {n}");
        }
        Frame::Data(d) => {
            assert!(
                d.header.len() + d.data.len() <= n,
                "data frame of {} + {} bytes > N = {n}",
                d.header.len(),
                d.data.len()
            );
            assert!(d.len <= MAX_DECLARED_LEN, "declared {} > max", d.len);
            assert!(d.data.len() <= d.len, "more data than declared");
            if !d.truncated {
                assert_eq!(d.data.len(), d.len, "complete frame with missing data");
            }
            assert!(
                dialect
                    .spec()
                    .data_headers
                    .iter()
                    .any(|h| d.header.starts_with(h.prefix)),
                "data frame with an unknown header \"{}\"",
                show(d.header)
            );
        }
    }
}

/// Feeds `bytes` to the end, checking progress and every frame.
fn feed_all<const N: usize>(
    f: &mut Framer<N>,
    dialect: Dialect,
    bytes: &[u8],
    out: &mut Vec<Owned>,
) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let before = rest.len();
        let (used, frame) = f.feed(rest);
        assert!(used <= before, "feed consumed {used} of {before} bytes");
        match frame {
            None => assert_eq!(used, before, "feed stopped early with no frame"),
            Some(frame) => {
                assert!(used >= 1, "feed returned a frame without consuming a byte");
                check_frame(dialect, N, &frame);
                out.push(own(&frame));
            }
        }
        rest = &rest[used..];
    }
}

/// The frames of `case`, fed in the input's chunks (`chunked`) or in the largest pieces.
pub fn frames<const N: usize>(case: &Case<'_>, chunked: bool) -> Vec<Owned> {
    let mut f = Framer::<N>::new(case.dialect);
    f.set_prompt_mode(case.mode);
    let mut changes: Vec<(usize, PromptMode)> = case
        .changes
        .iter()
        .map(|&(o, m)| (o.min(case.data.len()), m))
        .collect();
    changes.sort_by_key(|c| c.0);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut next_chunk = 0;
    let mut changes = changes.into_iter().peekable();
    loop {
        while let Some(&(at, m)) = changes.peek() {
            if at > pos {
                break;
            }
            f.set_prompt_mode(m);
            changes.next();
        }
        let end = changes.peek().map_or(case.data.len(), |c| c.0);
        if pos == end {
            break;
        }
        let mut len = end - pos;
        if chunked {
            let c = case.chunks[next_chunk % case.chunks.len()];
            next_chunk += 1;
            if c == 0 {
                let (used, frame) = f.feed(&[]);
                assert_eq!(used, 0);
                assert!(frame.is_none(), "a frame from an empty slice");
            }
            len = len.min(c.max(1));
        }
        feed_all(&mut f, case.dialect, &case.data[pos..pos + len], &mut out);
        pos += len;
    }
    if let Some(frame) = f.finish() {
        check_frame(case.dialect, N, &frame);
        out.push(own(&frame));
    }
    assert!(f.is_idle(), "framer not idle after finish");
    assert!(f.finish().is_none(), "second finish returned a frame");
    assert!(
        out.len() <= case.data.len() + 1,
        "{} frames from {} bytes",
        out.len(),
        case.data.len()
    );
    out
}

fn check<const N: usize>(case: &Case<'_>) {
    let whole = frames::<N>(case, false);
    let chunked = frames::<N>(case, true);
    assert_eq!(
        whole, chunked,
        "chunked frames differ (dialect {:?}, N = {N}, chunks {:?})",
        case.dialect, case.chunks
    );
}

/// The `framer` target.
pub fn run(input: &[u8]) {
    let case = Case::decode(input);
    match case.size {
        0 => check::<{ SIZES[0] }>(&case),
        1 => check::<{ SIZES[1] }>(&case),
        2 => check::<{ SIZES[2] }>(&case),
        _ => check::<{ SIZES[3] }>(&case),
    }
}
