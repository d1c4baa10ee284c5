//! Bytes from the module in, frames out.
//!
//! The [`Framer`] is the one place where the byte stream a module sends becomes frames, for
//! every [`Dialect`]. It knows nothing about which command is running: the only hint it
//! takes is [`PromptMode`], which says whether a `>` at the start of a line is the data
//! prompt (the client sets it while it waits for one) or ordinary text.
//!
//! It is incremental and remembers where it stopped: it never rescans what it has already
//! seen, so its cost per byte does not grow with what it has buffered. Each [`Framer::feed`]
//! call has a small fixed cost on top (one byte that only fills the buffer takes a short
//! inlined path), so handing it bytes in batches is cheaper than one at a time. It never
//! panics, never loops and never stalls, whatever the bytes are.
//!
//! What it recognises:
//!
//! - lines ended by CR, LF or CR LF; blank lines, space-only lines, leading and trailing
//!   spaces, stray CRs and NULs between lines are dropped;
//! - [`Frame::Ok`], [`Frame::Error`] (the dialect's error words: `ERROR`, W800's
//!   `CMD FORMAT ERR` / `CMD PARSE ERR`), [`Frame::ErrorCode`] (`ERR CODE:0x…`, not a final
//!   result), [`Frame::Busy`] (`busy p...`, `busy s...`, Combo-AT's "… is running"),
//!   [`Frame::Ready`] (`ready`: the module rebooted);
//! - the prompt `>` with no line end (`\r\n>`, `> `, `>+MQTTPUB:OK`), only while a prompt
//!   may come;
//! - data frames whose payload is read by its declared byte count whatever it contains
//!   (CR LF, `OK`, `>`, quotes, commas, NUL): `+MQTTSUBRECV:<id>,"<topic>",<len>,<data>`,
//!   `+IPD,…,<len>:<data>`, `+CIPRECVDATA:<len>,<data>`, `+CIPRECVDATA,<len>:<data>`,
//!   `+SOCKETREAD,<id>,<len>,<data>`, `+EVENT:SocketDown,<id>,<len>,<data>`,
//!   `+EVENT:MQTT_SUB,<topic>,<len>,<data>` — the list is the dialect's
//!   [`DialectSpec::data_headers`](crate::dialect::DialectSpec::data_headers). Whatever follows
//!   the payload on the same line (`…}0,CLOSED`) is the next frame;
//! - every other non-blank line as [`Frame::Line`].
//!
//! Limits and recovery:
//!
//! - A data frame larger than the buffer `N` (header included) is returned as soon as the
//!   buffer is full, with [`DataFrame::truncated`] set and its declared length; the rest of
//!   its payload is skipped by count, so the stream stays in step. This holds even when the
//!   header alone is longer than `N` (a long topic): the frame then holds the first `N`
//!   bytes of the header and no payload. `N` must be at least as long as the dialect's
//!   longest data header prefix (18 bytes, `+EVENT:SocketDown,`) for headers to be found.
//! - A declared length above [`MAX_DECLARED_LEN`], or a length field that is not a number,
//!   is taken as corruption: the line is an ordinary line and framing resynchronises at the
//!   next line end.
//! - A line longer than `N` is reported as [`Frame::Oversized`] with its first `N` bytes and
//!   its full length when it ends.
//! - Garbage (boot noise at another baud rate, a header that starts mid-line after a lost
//!   fragment) stays inside one line, which ends at the next CR or LF.
//!
//! ```
//! use at_wifi::framer::{Frame, Framer, PromptMode};
//! use at_wifi::Dialect;
//!
//! let mut framer = Framer::<256>::new(Dialect::EspAt);
//! framer.set_prompt_mode(PromptMode::Once);
//! let mut input: &[u8] = b"\r\nOK\r\n\r\n>+MQTTSUBRECV:0,\"t\",7,a\r\nOK\r\n\r\n";
//! let mut kinds = Vec::new();
//! while !input.is_empty() {
//!     let (used, frame) = framer.feed(input);
//!     input = &input[used..];
//!     match frame {
//!         Some(Frame::Ok) => kinds.push("ok".to_string()),
//!         Some(Frame::Prompt) => kinds.push("prompt".to_string()),
//!         Some(Frame::Data(d)) => kinds.push(format!("data {:?}", d.data)),
//!         Some(other) => kinds.push(format!("{other:?}")),
//!         None => {}
//!     }
//! }
//! assert_eq!(kinds, ["ok", "prompt", "data [97, 13, 10, 79, 75, 13, 10]"]);
//! ```

use crate::dialect::{DataHeader, Dialect, DialectSpec, LenField};
use core::fmt;

/// The largest payload length a data header may declare before the framer takes the header
/// for corruption (bytes). Real modules send at most a few KiB per frame.
pub const MAX_DECLARED_LEN: usize = 8192;

/// Whether a `>` at the start of a line is the data prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PromptMode {
    /// `>` is ordinary text (no command waits for a prompt).
    #[default]
    Never,
    /// The next `>` at a line start is the prompt; after it the mode returns to `Never`.
    Once,
    /// Every `>` at a line start is a prompt (for decoding captures with no client).
    Always,
}

/// A frame whose payload was read by its declared byte count.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DataFrame<'a> {
    /// The header up to and excluding the separator before the payload, e.g.
    /// `+MQTTSUBRECV:0,"t",5` or `+IPD,0,5`. A header longer than the buffer is cut to its
    /// first `N` bytes (the frame is then `truncated`, with no payload).
    pub header: &'a [u8],
    /// The length the header declared.
    pub len: usize,
    /// The payload bytes received: all `len` of them unless `truncated`.
    pub data: &'a [u8],
    /// The payload did not fit the buffer (the rest was skipped by count), or the input
    /// ended before it was complete ([`Framer::finish`]).
    pub truncated: bool,
}

impl fmt::Debug for DataFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataFrame")
            .field("header", &Ascii(self.header))
            .field("len", &self.len)
            .field("received", &self.data.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// One unit of module output.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `OK`: the command succeeded.
    Ok,
    /// A final failure word of the dialect (`ERROR`, `CMD FORMAT ERR`, `CMD PARSE ERR`);
    /// the word itself is given.
    Error(&'a [u8]),
    /// `ERR CODE:0x<8 hex digits>`: not final; it describes the next final result.
    ErrorCode(u32),
    /// The module is busy (`busy p...`, `busy s...`, `busy ...`, "cmd is running"); the
    /// whole line is given.
    Busy(&'a [u8]),
    /// The data prompt `>`.
    Prompt,
    /// `ready`: the module (re)booted.
    Ready,
    /// Any other non-blank line, without line end and outer spaces.
    Line(&'a [u8]),
    /// A line longer than the buffer: its first bytes and its full length.
    Oversized {
        /// The first bytes of the line (as many as the buffer holds).
        start: &'a [u8],
        /// The full length of the line.
        len: usize,
    },
    /// A frame read by declared length.
    Data(DataFrame<'a>),
}

impl fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Frame::Ok => f.write_str("Ok"),
            Frame::Error(w) => write!(f, "Error({:?})", Ascii(w)),
            Frame::ErrorCode(c) => write!(f, "ErrorCode(0x{c:08x})"),
            Frame::Busy(l) => write!(f, "Busy({:?})", Ascii(l)),
            Frame::Prompt => f.write_str("Prompt"),
            Frame::Ready => f.write_str("Ready"),
            Frame::Line(l) => write!(f, "Line({:?})", Ascii(l)),
            Frame::Oversized { start, len } => {
                write!(f, "Oversized {{ start: {:?}, len: {len} }}", Ascii(start))
            }
            Frame::Data(d) => d.fmt(f),
        }
    }
}

/// Debug-formats bytes as an escaped ASCII string.
pub(crate) struct Ascii<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for Ascii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            for c in core::ascii::escape_default(b) {
                f.write_fmt(format_args!("{}", c as char))?;
            }
        }
        f.write_str("\"")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between lines: CR, LF, spaces, tabs and NULs are skipped.
    LineStart,
    /// Inside a line.
    Line,
    /// A line longer than the buffer: dropping bytes until the line end, counting them.
    Oversized { len: usize },
    /// Reading a payload by count; `header` bytes of the buffer are the header.
    Data { header: usize, declared: usize },
    /// Skipping the rest of a truncated payload.
    Skip { remaining: usize },
}

/// Tracks a possible data header while a line is read.
#[derive(Clone, Copy, Debug)]
struct HeaderTrack {
    spec: DataHeader,
    field: u8,
    in_quotes: bool,
    /// Inside quotes, the last byte was a `"` (it closes the quotes if a `,` follows).
    quote_seen: bool,
    /// Value of the current field if it is all digits so far.
    num: usize,
    digits: u8,
    is_num: bool,
    /// For `+IPD`: the values of the first two fields.
    f0: Option<usize>,
    f1: Option<usize>,
    result: TrackResult,
}

/// An incremental, context-free framer with an `N`-byte buffer.
///
/// `N` bounds the longest line and the largest data frame (header plus payload) delivered
/// whole. For ESP-AT MQTT, 1100 holds a full 1024-byte `+MQTTSUBRECV` line; a module that
/// sends larger frames still works, the payload arrives truncated.
pub struct Framer<const N: usize> {
    spec: &'static DialectSpec,
    buf: [u8; N],
    len: usize,
    state: State,
    prompt: PromptMode,
    /// A frame borrowing `buf` was returned: clear the buffer before the next byte.
    emitted: bool,
    track: Option<HeaderTrack>,
    /// The line can no longer start a data header (checked, or too long for one).
    no_header: bool,
    /// A data frame completed at its header: (header length, declared, truncated).
    pending: Option<(usize, usize, bool)>,
    /// Bit `b % 32` is set for the first byte `b` of every data header prefix: a line whose
    /// first byte's bit is clear cannot be a data header (a set bit only means it may be).
    leads: u32,
}

/// [`Framer::leads`] of a dialect.
const fn leads(spec: &DialectSpec) -> u32 {
    let mut bits = 0u32;
    let mut k = 0;
    while k < spec.data_headers.len() {
        if let [b, ..] = spec.data_headers[k].prefix {
            bits |= 1 << (*b & 31);
        }
        k += 1;
    }
    bits
}

impl<const N: usize> Framer<N> {
    /// A framer for `dialect`, prompt mode [`PromptMode::Never`].
    pub const fn new(dialect: Dialect) -> Self {
        Framer {
            spec: dialect.spec(),
            buf: [0; N],
            len: 0,
            state: State::LineStart,
            prompt: PromptMode::Never,
            emitted: false,
            track: None,
            no_header: false,
            pending: None,
            leads: leads(dialect.spec()),
        }
    }

    /// The buffer size `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Says whether a `>` at a line start is the prompt.
    pub fn set_prompt_mode(&mut self, mode: PromptMode) {
        self.prompt = mode;
    }

    /// The current prompt mode ([`PromptMode::Once`] turns into `Never` after a prompt).
    pub fn prompt_mode(&self) -> PromptMode {
        self.prompt
    }

    /// True when no line or payload is partly read: everything fed so far has been framed.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::LineStart)
    }

    /// True while a payload is being read (or skipped) by its declared length.
    pub fn in_payload(&self) -> bool {
        matches!(self.state, State::Data { .. } | State::Skip { .. })
    }

    /// Forgets any partly read line or payload (after a module reset, say).
    pub fn reset(&mut self) {
        self.len = 0;
        self.state = State::LineStart;
        self.emitted = false;
        self.track = None;
        self.no_header = false;
    }

    /// Consumes bytes from `input` until a frame is complete or the input is used up.
    ///
    /// Returns how many bytes were consumed and the frame, if one completed. Call again with
    /// the rest of the input: a chunk may hold many frames. The frame borrows the framer's
    /// buffer until the next call.
    ///
    /// The common cases of small reads — one more byte of an ordinary line, more payload
    /// bytes that do not complete the payload — take a short inlined path; everything else
    /// (line ends, data headers, line starts, full buffers) goes to the general path.
    #[inline]
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<Frame<'_>>) {
        if let [b] = *input {
            if !self.emitted && self.take_byte(b) {
                return (1, None);
            }
        }
        self.feed_general(input)
    }

    /// One byte that changes nothing but the buffer, taken on the spot: a byte between
    /// lines, a byte of a line that is no data header or of a header's name or quoted
    /// topic, a payload byte that does not complete the payload. False (nothing done) for
    /// anything else.
    #[inline]
    fn take_byte(&mut self, b: u8) -> bool {
        match self.state {
            State::LineStart => matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0),
            State::Line => {
                if b == b'\r' || b == b'\n' || self.len == N {
                    return false;
                }
                let plain = match &self.track {
                    None => self.no_header || (b != b',' && b != b':'),
                    Some(t) => t.in_quotes && !t.quote_seen && !t.is_num && b != b'"',
                };
                if plain {
                    self.buf[self.len] = b;
                    self.len += 1;
                }
                plain
            }
            State::Data { header, declared } => {
                let end = self.len + 1;
                if end - header < declared && end < N {
                    self.buf[self.len] = b;
                    self.len = end;
                    return true;
                }
                false
            }
            _ => false,
        }
    }

    /// [`Self::feed`] for every state and input.
    #[inline(never)]
    fn feed_general(&mut self, input: &[u8]) -> (usize, Option<Frame<'_>>) {
        if self.emitted {
            self.emitted = false;
            self.len = 0;
        }
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::LineStart => {
                    // CR, LF, spaces, tabs and NULs between lines are dropped.
                    while i < input.len() && matches!(input[i], b'\r' | b'\n' | b' ' | b'\t' | 0) {
                        i += 1;
                    }
                    let Some(&b) = input.get(i) else {
                        break;
                    };
                    if b == b'>' && self.prompt != PromptMode::Never {
                        if self.prompt == PromptMode::Once {
                            self.prompt = PromptMode::Never;
                        }
                        return (i + 1, Some(Frame::Prompt));
                    }
                    // A line starts: `State::Line` reads this byte.
                    self.len = 0;
                    self.track = None;
                    // Only a line starting like a data header can become one.
                    self.no_header = self.leads & (1 << (b & 31)) == 0;
                    self.state = State::Line;
                }
                State::Line if self.len == N => {
                    // The buffer is full: the line is oversized unless it ends here.
                    let b = input[i];
                    i += 1;
                    if b == b'\r' || b == b'\n' {
                        return (i, Some(self.end_line()));
                    }
                    self.state = State::Oversized { len: N + 1 };
                    if self.overflow_byte(b) {
                        return (i, Some(self.pending_data_frame()));
                    }
                }
                State::Line => {
                    let rest = &input[i..];
                    let room = N - self.len;
                    if self.no_header {
                        // No data header is possible: copy up to the line end in one go.
                        let end = find_line_end(rest);
                        let take = end.unwrap_or(rest.len());
                        if take > room {
                            self.buf[self.len..N].copy_from_slice(&rest[..room]);
                            self.len = N;
                            i += room;
                            self.state = State::Oversized { len: N };
                            continue;
                        }
                        self.buf[self.len..self.len + take].copy_from_slice(&rest[..take]);
                        self.len += take;
                        i += take;
                        if end.is_some() {
                            return (i + 1, Some(self.end_line()));
                        }
                        continue;
                    }
                    let part = &rest[..rest.len().min(room)];
                    let (k, ended) = match self.track.as_mut() {
                        // A data header: its fields up to the length, in one pass.
                        Some(t) => t.run(part),
                        // A line starting like a data header: up to the next separator.
                        None => match part
                            .iter()
                            .position(|&b| matches!(b, b'\r' | b'\n' | b',' | b':'))
                        {
                            Some(p) if part[p] == b',' || part[p] == b':' => (p + 1, false),
                            Some(p) => (p, true),
                            None => (part.len(), false),
                        },
                    };
                    self.buf[self.len..self.len + k].copy_from_slice(&part[..k]);
                    self.len += k;
                    i += k;
                    if ended {
                        return (i + 1, Some(self.end_line()));
                    }
                    if self.track.is_none() {
                        if k > 0 && matches!(part[k - 1], b',' | b':') {
                            self.match_prefix();
                        }
                    } else if let Some(n) = self.check_data_start() {
                        if self.data_started(n) {
                            return (i, Some(self.pending_data_frame()));
                        }
                    }
                }
                State::Oversized { len } => {
                    if self.track.is_some() {
                        // The line may still be a data header too long for the buffer:
                        // follow it byte by byte until it is decided.
                        let b = input[i];
                        if b != b'\r' && b != b'\n' {
                            i += 1;
                            self.state = State::Oversized { len: len + 1 };
                            if self.overflow_byte(b) {
                                return (i, Some(self.pending_data_frame()));
                            }
                            continue;
                        }
                    }
                    let rest = &input[i..];
                    // Rare: a plain scan (a second inlined `find_line_end` costs flash).
                    match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                        Some(p) => {
                            i += p + 1;
                            self.state = State::LineStart;
                            self.emitted = true;
                            return (
                                i,
                                Some(Frame::Oversized {
                                    start: &self.buf[..self.len],
                                    len: len + p,
                                }),
                            );
                        }
                        None => {
                            i = input.len();
                            self.state = State::Oversized {
                                len: len + rest.len(),
                            };
                        }
                    }
                }
                State::Data { header, declared } => {
                    let have = self.len - header;
                    let want = declared - have;
                    let room = N - self.len;
                    let n = want.min(room).min(input.len() - i);
                    self.buf[self.len..self.len + n].copy_from_slice(&input[i..i + n]);
                    self.len += n;
                    i += n;
                    if n == want {
                        self.state = State::LineStart;
                        self.emitted = true;
                        return (i, Some(self.data_frame(header, declared, false)));
                    }
                    if self.len == N {
                        self.state = State::Skip {
                            remaining: want - n,
                        };
                        self.emitted = true;
                        return (i, Some(self.data_frame(header, declared, true)));
                    }
                }
                State::Skip { remaining } => {
                    let n = remaining.min(input.len() - i);
                    i += n;
                    self.state = if n == remaining {
                        State::LineStart
                    } else {
                        State::Skip {
                            remaining: remaining - n,
                        }
                    };
                }
            }
        }
        (i, None)
    }

    /// The line in the buffer ended: back to a line start, and the line's frame.
    fn end_line(&mut self) -> Frame<'_> {
        self.state = State::LineStart;
        self.emitted = true;
        self.classify_line()
    }

    /// Ends the input: returns what was partly read, if anything — a line without its line
    /// end, a payload cut short (as a truncated [`DataFrame`]) or an oversized line — and
    /// resets the framer.
    pub fn finish(&mut self) -> Option<Frame<'_>> {
        if self.emitted {
            self.emitted = false;
            self.len = 0;
        }
        let state = self.state;
        self.state = State::LineStart;
        self.track = None;
        self.emitted = true;
        match state {
            State::LineStart | State::Skip { .. } => None,
            State::Line => Some(self.classify_line()),
            State::Oversized { len } => Some(Frame::Oversized {
                start: &self.buf[..self.len],
                len,
            }),
            State::Data { header, declared } => Some(self.data_frame(header, declared, true)),
        }
    }

    /// At a `,` or `:`: does the line so far equal a data header prefix?
    fn match_prefix(&mut self) {
        let line = &self.buf[..self.len];
        let mut possible = false;
        for h in self.spec.data_headers {
            if let Some(start) = h.prefix.get(..line.len()) {
                if same(start, line) {
                    if h.prefix.len() == line.len() {
                        self.track = Some(HeaderTrack::new(*h));
                        return;
                    }
                    possible = true;
                }
            }
        }
        // No header can start like this line: the rest is copied in one go.
        self.no_header = !possible;
    }

    /// If the header just completed, the declared length.
    #[inline]
    fn check_data_start(&mut self) -> Option<usize> {
        let t = self.track.as_mut()?;
        match t.result {
            TrackResult::Pending => None,
            TrackResult::Invalid => {
                self.track = None;
                self.no_header = true;
                None
            }
            TrackResult::Data(n) => {
                self.track = None;
                self.no_header = true;
                Some(n)
            }
        }
    }

    /// A header of `declared` payload bytes just ended. True when the frame is already
    /// complete (empty payload) or truncated (no room left): [`Self::pending_data_frame`]
    /// then returns it.
    fn data_started(&mut self, declared: usize) -> bool {
        let header = self.len;
        self.state = State::Data { header, declared };
        if declared == 0 || self.len == N {
            self.pending = Some((header, declared, declared != 0));
            self.state = if declared == 0 {
                State::LineStart
            } else {
                State::Skip {
                    remaining: declared,
                }
            };
            self.emitted = true;
            return true;
        }
        false
    }

    /// Byte `b` of a line that no longer fits the buffer. True when it ends a data header:
    /// the frame, truncated, with the first `N` bytes of the header and no payload, is then
    /// pending, and the payload is skipped by count.
    fn overflow_byte(&mut self, b: u8) -> bool {
        let Some(t) = self.track.as_mut() else {
            return false;
        };
        t.step(b);
        match self.check_data_start() {
            Some(declared) => {
                // `header` one past the buffered bytes: the header slice is all of them.
                self.pending = Some((self.len + 1, declared, true));
                self.state = if declared == 0 {
                    State::LineStart
                } else {
                    State::Skip {
                        remaining: declared,
                    }
                };
                self.emitted = true;
                true
            }
            None => false,
        }
    }

    fn pending_data_frame(&mut self) -> Frame<'_> {
        let (header, declared, truncated) = self.pending.take().unwrap_or((self.len, 0, true));
        self.data_frame(header, declared, truncated)
    }

    /// `header`: the length of the header with its separator (may exceed the buffered
    /// bytes when the header did not fit).
    fn data_frame(&self, header: usize, declared: usize, truncated: bool) -> Frame<'_> {
        let start = header.min(self.len);
        Frame::Data(DataFrame {
            // The header without the separator that starts the payload.
            header: &self.buf[..header.saturating_sub(1).min(self.len)],
            len: declared,
            data: &self.buf[start..self.len],
            truncated,
        })
    }

    fn classify_line(&self) -> Frame<'_> {
        let line = trim(&self.buf[..self.len]);
        classify(self.spec, line)
    }
}

/// Classifies one complete, trimmed, non-empty line.
fn classify<'a>(spec: &DialectSpec, line: &'a [u8]) -> Frame<'a> {
    // Most lines are URCs and replies starting with `+`: no result or busy word does
    // (a dialect whose busy text may stand anywhere in a line is checked in full).
    match line {
        [b'+', ..] if spec.busy_contains.is_empty() => return Frame::Line(line),
        b"OK" => return Frame::Ok,
        b"ready" => return Frame::Ready,
        _ => {}
    }
    if spec.error_words.iter().any(|w| same(line, w)) {
        return Frame::Error(line);
    }
    if let Some(p) = spec.error_code_prefix {
        if let Some(rest) = strip(line, p) {
            if let Some(code) = parse_hex(rest) {
                return Frame::ErrorCode(code);
            }
        }
    }
    if spec.busy_prefixes.iter().any(|p| strip(line, p).is_some())
        || spec
            .busy_contains
            .iter()
            .any(|p| line.windows(p.len()).any(|w| w == *p))
    {
        return Frame::Busy(line);
    }
    Frame::Line(line)
}

/// `a == b`, byte by byte (short words: cheaper than a `memcmp` call).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `s` without the prefix `p`, if it starts with it.
fn strip<'a>(s: &'a [u8], p: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = s.split_at_checked(p.len())?;
    same(head, p).then_some(rest)
}

/// The index of the first CR or LF in `s`, a machine word (four or eight bytes) at a time.
#[inline]
fn find_line_end(s: &[u8]) -> Option<usize> {
    const W: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::MAX / 0xff;
    const HIGHS: usize = ONES << 7;
    let mut chunks = s.chunks_exact(W);
    let mut at = 0;
    for c in &mut chunks {
        let mut word = [0u8; W];
        word.copy_from_slice(c);
        let v = usize::from_le_bytes(word);
        let cr = v ^ (ONES * usize::from(b'\r'));
        let lf = v ^ (ONES * usize::from(b'\n'));
        // A zero byte in `cr` or `lf` is a CR or LF in `v`; the lowest flagged byte is exact.
        let hit = (cr.wrapping_sub(ONES) & !cr | lf.wrapping_sub(ONES) & !lf) & HIGHS;
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += W;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|p| at + p)
}

/// Parses `0x0000abcd` (the `0x` is optional), at most 8 hex digits.
fn parse_hex(s: &[u8]) -> Option<u32> {
    let s = trim(s);
    let s = s
        .strip_prefix(b"0x")
        .or_else(|| s.strip_prefix(b"0X"))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        let d = (b as char).to_digit(16)?;
        v = (v << 4) | d;
    }
    Some(v)
}

/// Strips spaces, tabs and NULs at both ends.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | 0, rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | 0] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::find_line_end;

    #[test]
    fn find_line_end_matches_a_plain_scan() {
        let mut s = [b'a'; 40];
        for len in 0..40 {
            for eol in 0..len {
                for byte in [b'\r', b'\n'] {
                    s.fill(b'a');
                    // Bytes that trip naive zero-byte tricks around the target.
                    if eol > 0 {
                        s[eol - 1] = 0x0e;
                    }
                    s[eol] = byte;
                    assert_eq!(find_line_end(&s[..len]), Some(eol), "{len} {eol}");
                }
            }
            s.fill(0x8d);
            assert_eq!(find_line_end(&s[..len]), None);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrackResult {
    Pending,
    Invalid,
    Data(usize),
}

impl HeaderTrack {
    fn new(spec: DataHeader) -> Self {
        HeaderTrack {
            spec,
            field: 0,
            in_quotes: false,
            quote_seen: false,
            num: 0,
            digits: 0,
            is_num: true,
            f0: None,
            f1: None,
            result: TrackResult::Pending,
        }
    }

    /// The current field's value if it is a plausible length.
    fn value(&self) -> Option<usize> {
        (self.is_num && self.digits > 0 && self.num <= MAX_DECLARED_LEN).then_some(self.num)
    }

    /// Steps over `bytes` until a CR or LF (not consumed; the bool is then true) or until
    /// the header is decided (that byte consumed). Returns the bytes consumed.
    fn run(&mut self, bytes: &[u8]) -> (usize, bool) {
        // A local copy keeps the tracker in registers for the loop.
        let mut t = *self;
        let mut k = 0;
        let mut ended = false;
        while let Some(&b) = bytes.get(k) {
            if b == b'\r' || b == b'\n' {
                ended = true;
                break;
            }
            if t.in_quotes && !t.quote_seen && !t.is_num && b != b'"' {
                // Inside a quoted field that is no number (a topic): only a quote or a line
                // end changes anything.
                match bytes[k..]
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'\r' | b'\n'))
                {
                    Some(p) => {
                        k += p;
                        continue;
                    }
                    None => {
                        k = bytes.len();
                        break;
                    }
                }
            }
            k += 1;
            t.step_pending(b);
            if !matches!(t.result, TrackResult::Pending) {
                break;
            }
        }
        *self = t;
        (k, ended)
    }

    fn step(&mut self, b: u8) {
        if matches!(self.result, TrackResult::Pending) {
            self.step_pending(b);
        }
    }

    /// [`Self::step`] while the header is undecided.
    #[inline]
    fn step_pending(&mut self, b: u8) {
        // ESP-AT prints topics between quotes without escaping them, and a topic may hold
        // `"`: a quote inside quotes closes them only when a `,` follows it.
        if self.in_quotes {
            if b == b'"' {
                self.quote_seen = true;
                return;
            }
            let closes = self.quote_seen && b == b',';
            self.quote_seen = false;
            if !closes {
                self.digit(b);
                return;
            }
            self.in_quotes = false;
        } else if b == b'"' {
            self.in_quotes = true;
            return;
        }
        if (b == b',' || b == b':') && self.separator(b) {
            return;
        }
        self.digit(b);
    }

    /// A byte of the current field that is not a separator.
    #[inline]
    fn digit(&mut self, b: u8) {
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            if self.digits < 9 {
                self.num = self.num * 10 + usize::from(d);
            } else {
                self.is_num = false;
            }
            self.digits = self.digits.saturating_add(1);
        } else {
            self.is_num = false;
        }
    }

    /// A `,` or `:` outside quotes. False when it is an ordinary byte of the field.
    fn separator(&mut self, b: u8) -> bool {
        match (self.spec.len, b) {
            (LenField::Field { index, sep }, _) if b == sep && self.field == index => {
                self.result = match self.value() {
                    Some(n) => TrackResult::Data(n),
                    None => TrackResult::Invalid,
                };
            }
            (LenField::Field { index, .. }, b',') => {
                if self.field == index {
                    // The length field ended with the wrong separator.
                    self.result = TrackResult::Invalid;
                } else {
                    self.next_field();
                }
            }
            (LenField::Ipd, b',') => {
                match self.field {
                    0 => self.f0 = self.value(),
                    1 => self.f1 = self.value(),
                    _ => {}
                }
                self.next_field();
            }
            (LenField::Ipd, b':') => {
                // Fields: 1 → len; 2 → id,len; 3 → len,ip,port; 4 → id,len,ip,port.
                let len = match self.field {
                    0 => self.value(),
                    1 => self.value(),
                    2 => self.f0,
                    3 => self.f1,
                    _ => None,
                };
                self.result = match len {
                    Some(n) => TrackResult::Data(n),
                    None => TrackResult::Invalid,
                };
            }
            _ => return false,
        }
        true
    }

    fn next_field(&mut self) {
        self.field = self.field.saturating_add(1);
        self.num = 0;
        self.digits = 0;
        self.is_num = true;
        if self.field > 8 {
            self.result = TrackResult::Invalid;
        }
    }
}
