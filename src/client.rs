//! The blocking AT client: owns the UART, the clock and the buffers; sends commands, waits
//! for their replies, and queues everything else as events.
//!
//! One [`Client`] drives one module. It is the only place in the crate that waits, and
//! every wait has a deadline from the [`Clock`]: there are no threads, no interrupts
//! required, no `embassy-time` driver and no critical section.
//!
//! How a reply is told from unsolicited output: while a command runs, each frame goes to
//! the command when it is its echo, a line starting with the command's own prefix
//! (`+MQTTCONN:` for `AT+MQTTCONN?`), a final result, a busy line, an `ERR CODE`, or a
//! prefix-less line that is no known URC (`AT+GMR`'s version text, Combo-AT's
//! `connect success ConID=1`). Known URCs and data frames of other commands are queued for
//! [`Client::poll`], never folded into the reply, whenever they come: before, between and
//! after the reply's lines, after its prompt, after its final result.

use crate::clock::Clock;
use crate::dialect::{Dialect, DialectSpec};
use crate::error::{Error, FailWord};
use crate::framer::{DataFrame, Frame, Framer, PromptMode};
use crate::queue::{EventQueue, Stored};
use crate::urc::Urc;
use atat::serde_at::serde::Serialize;
use atat::serde_at::SerializeOptions;
use atat::AtatCmd;
use embedded_io::{Read, ReadReady, Write};

/// Bytes of transmit buffer kept free for the command name, prefix and line end when the
/// client checks that a command fits before writing it (atat's derived `write` panics on a
/// buffer that is too small; this client never lets it).
pub const TX_HEADROOM: usize = 40;

/// Bytes read from the UART per call, on the stack.
const CHUNK: usize = 64;

/// Something the module said that no command asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A typed unsolicited result code or data frame.
    Urc(Urc<'a>),
    /// The module printed `ready`: it (re)booted and lost its state (Wi-Fi, MQTT, sockets).
    Reset,
    /// Events were dropped because the event queue was full; `dropped` counts them.
    Overflow {
        /// Events lost since the last report.
        dropped: u32,
    },
    /// A line longer than the framer's buffer: its start and its full length.
    Oversized {
        /// The first bytes.
        start: &'a [u8],
        /// The full length.
        len: usize,
    },
}

/// Tunables of the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long the resynchronising `AT` after a timed-out command may take (ms).
    pub sync_timeout_ms: u32,
    /// How long a prompt `>` may take after a command that expects one (ms); the command's
    /// own timeout then applies to the result.
    pub prompt_timeout_ms: u32,
    /// How many bytes the client reads at most before a command when it drains pending
    /// input, so that a module flooding the line cannot stall it.
    pub drain_limit: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sync_timeout_ms: 1000,
            prompt_timeout_ms: 5000,
            drain_limit: 16 * 1024,
        }
    }
}

/// Counters of what the client met; for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes read from the UART.
    pub bytes_read: u64,
    /// Final results (`OK`, `ERROR`), busy lines and error codes that arrived with no command
    /// waiting: replies that came after their command had timed out. They are discarded.
    pub stale_replies: u32,
    /// Events dropped because the queue was full (also reported as [`Event::Overflow`]).
    pub events_dropped: u32,
    /// Commands that timed out.
    pub timeouts: u32,
    /// Times the module rebooted (`ready`).
    pub resets: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    WaitPrompt,
    WaitFinal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Fail(FailWord),
    Prompt,
    Reset,
}

/// The state of the command being run.
struct Exchange {
    phase: Phase,
    /// Range of `tx` holding the command name (`+MQTTCONN`).
    name: (usize, usize),
    /// Length of the line sent, without line end (for echo detection).
    line: usize,
    /// The data was written: send results (`SEND OK`, `+MQTTPUB:OK`) now count as final.
    after_data: bool,
    outcome: Option<Outcome>,
    code: Option<u32>,
    busy: bool,
    overflow: bool,
}

impl Exchange {
    const fn idle() -> Self {
        Exchange {
            phase: Phase::Idle,
            name: (0, 0),
            line: 0,
            after_data: false,
            outcome: None,
            code: None,
            busy: false,
            overflow: false,
        }
    }
}

/// A blocking AT client over UART `U` with clock `C`.
///
/// Buffers, all inside the struct (no allocation):
/// - `RX`: the framer's buffer, the longest line or data frame delivered whole (default
///   1100: a full 1024-byte ESP-AT `+MQTTSUBRECV` line fits).
/// - `RESP`: the reply lines of one command, joined with CR LF (default 512).
/// - `TX`: one command line; at least the dialect's line limit plus [`TX_HEADROOM`]
///   (default 296 = 256 + 40).
/// - `EV`: the event queue, in bytes; each queued frame takes its size plus 8 (default
///   2048).
///
/// ```
/// use at_wifi::{Client, Dialect};
/// # use at_wifi::mock::MockUart;
/// # let mut uart = MockUart::new();
/// # uart.expect(b"AT\r\n", b"\r\nOK\r\n");
/// let mut t = 0u64;
/// let clock = move || { t += 1; t };
/// let mut client: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
/// client.send(&at_wifi::command::basic::At).unwrap();
/// ```
pub struct Client<
    U,
    C,
    const RX: usize = 1100,
    const RESP: usize = 512,
    const TX: usize = 296,
    const EV: usize = 2048,
> {
    uart: U,
    clock: C,
    dialect: Dialect,
    spec: &'static DialectSpec,
    framer: Framer<RX>,
    tx: [u8; TX],
    resp: heapless::Vec<u8, RESP>,
    events: EventQueue<EV>,
    config: Config,
    stats: Stats,
    needs_sync: bool,
}

fn uart_err<E: embedded_io::Error>(e: E) -> Error {
    Error::Uart(e.kind())
}

impl<U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize>
    Client<U, C, RX, RESP, TX, EV>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    /// A client for a module speaking `dialect` on `uart`, with default [`Config`].
    pub fn new(uart: U, clock: C, dialect: Dialect) -> Self {
        Self::with_config(uart, clock, dialect, Config::default())
    }

    /// A client with explicit tunables.
    pub fn with_config(uart: U, clock: C, dialect: Dialect, config: Config) -> Self {
        Client {
            uart,
            clock,
            dialect,
            spec: dialect.spec(),
            framer: Framer::new(dialect),
            tx: [0; TX],
            resp: heapless::Vec::new(),
            events: EventQueue::new(),
            config,
            stats: Stats::default(),
            needs_sync: false,
        }
    }

    /// The dialect the client speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Counters for diagnostics.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The tunables.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// The UART, e.g. to change its baud rate.
    pub fn uart_mut(&mut self) -> &mut U {
        &mut self.uart
    }

    /// The clock.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Gives the UART and the clock back.
    pub fn release(self) -> (U, C) {
        (self.uart, self.clock)
    }

    /// Sends `cmd` and waits for its final result; returns the parsed reply.
    ///
    /// Before writing, pending input is read and queued as events, and the line is checked
    /// against the transmit buffer and the dialect's line limit ([`Error::CommandTooLong`],
    /// nothing written). The wait lasts the command's `timeout_ms` (atat's
    /// `MAX_TIMEOUT_MS`). After a timeout the next command first resynchronises with `AT`, so
    /// a late reply never becomes the reply of the next command.
    ///
    /// Errors: [`Error::Module`] for `ERROR` and its kin (with the `ERR CODE` that came
    /// before it), [`Error::Busy`] when the module said busy and never finished,
    /// [`Error::Timeout`], [`Error::Reset`] when it rebooted meanwhile, [`Error::Parse`],
    /// [`Error::ResponseOverflow`], [`Error::Uart`].
    pub fn send<Cmd>(&mut self, cmd: &Cmd) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        self.prepare()?;
        let n = self.encode(cmd)?;
        self.exchange(n, None, Cmd::MAX_TIMEOUT_MS)?;
        cmd.parse(Ok(&self.resp)).map_err(|_| Error::Parse)
    }

    /// Sends `cmd`, waits for the prompt `>`, writes `data` as it is, and waits for the
    /// result: `OK`, `SEND OK`, `+MQTTPUB:OK`, `+MQTTPUBRAW:OK` (or their failures).
    ///
    /// For `AT+MQTTPUBRAW`, `AT+MQTTLONG*`, `AT+SOCKETSEND`, `AT+SSLCRET`, `AT+CIPSEND`.
    /// An `OK` before the prompt (ESP-AT's `OK\r\n\r\n>`) is taken as "go ahead". The
    /// prompt may take [`Config::prompt_timeout_ms`]; the result the command's timeout.
    /// Without a prompt, nothing is written and [`Error::NoPrompt`] is returned.
    pub fn send_with_data<Cmd>(&mut self, cmd: &Cmd, data: &[u8]) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        self.prepare()?;
        let n = self.encode(cmd)?;
        self.exchange(n, Some(data), Cmd::MAX_TIMEOUT_MS)?;
        cmd.parse(Ok(&self.resp)).map_err(|_| Error::Parse)
    }

    /// Sends a preformatted command line (without line end; the dialect's is added) and
    /// waits up to `timeout_ms` for its final result; returns the reply lines, joined with
    /// CR LF. For commands this crate has no struct for.
    ///
    /// The line must not hold CR or LF ([`Error::Invalid`]).
    pub fn send_line(&mut self, line: &[u8], timeout_ms: u32) -> Result<&[u8], Error> {
        self.prepare()?;
        let n = self.encode_line(line)?;
        self.exchange(n, None, timeout_ms)?;
        Ok(&self.resp)
    }

    /// Writes raw bytes to the module, outside any command (for `+++`, say). Pending input
    /// is read first.
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.drain()?;
        self.uart.write_all(bytes).map_err(uart_err)?;
        self.uart.flush().map_err(uart_err)
    }

    /// Returns the next event, reading what the UART has ready first; never waits for the
    /// module. `Ok(None)` when there is nothing.
    ///
    /// The event borrows the client until the next call.
    pub fn poll(&mut self) -> Result<Option<Event<'_>>, Error> {
        self.fill()?;
        Ok(self.pop())
    }

    /// Waits up to `timeout_ms` for the next event.
    pub fn wait_event(&mut self, timeout_ms: u32) -> Result<Option<Event<'_>>, Error> {
        let deadline = self.clock.now_ms().saturating_add(u64::from(timeout_ms));
        loop {
            if self.fill()? {
                break;
            }
            if self.clock.now_ms() >= deadline {
                break;
            }
            self.clock.idle();
        }
        Ok(self.pop())
    }

    /// How many events are queued (without reading the UART).
    pub fn pending_events(&mut self) -> usize {
        self.events.len()
    }

    /// Reads what the UART has ready (bounded), queues it, and says whether an event waits.
    fn fill(&mut self) -> Result<bool, Error> {
        let mut budget = self.config.drain_limit;
        while self.events.len() == 0 && budget > 0 && self.uart.read_ready().map_err(uart_err)? {
            let mut ex = Exchange::idle();
            budget = budget.saturating_sub(self.read_chunk(&mut ex)?);
        }
        Ok(self.events.len() > 0 || self.events.has_dropped())
    }

    fn pop(&mut self) -> Option<Event<'_>> {
        let dropped = self.events.take_dropped();
        if dropped > 0 {
            return Some(Event::Overflow { dropped });
        }
        Some(match self.events.pop()? {
            Stored::Line(l) => Event::Urc(Urc::parse_line(l)),
            Stored::Data(d) => Event::Urc(Urc::parse_data(d)),
            Stored::Ready => Event::Reset,
            Stored::Oversized { start, len } => Event::Oversized { start, len },
        })
    }

    /// Drains pending input and resynchronises after a timeout.
    fn prepare(&mut self) -> Result<(), Error> {
        self.drain()?;
        if self.needs_sync {
            let n = self.encode_line(b"AT")?;
            let timeout = self.config.sync_timeout_ms;
            self.exchange(n, None, timeout)?;
            self.needs_sync = false;
            self.drain()?;
        }
        Ok(())
    }

    /// Reads and queues everything the UART has ready, up to the drain limit.
    fn drain(&mut self) -> Result<(), Error> {
        let mut budget = self.config.drain_limit;
        let mut ex = Exchange::idle();
        while budget > 0 && self.uart.read_ready().map_err(uart_err)? {
            budget = budget.saturating_sub(self.read_chunk(&mut ex)?);
        }
        Ok(())
    }

    fn encode<Cmd: AtatCmd + Serialize>(&mut self, cmd: &Cmd) -> Result<usize, Error> {
        // An upper bound of the line: the parameters with atat's default options (which
        // escape more than any other) and an empty name, plus room for name and line end.
        let bound =
            match atat::serde_at::to_slice(cmd, "", &mut self.tx, SerializeOptions::default()) {
                Ok(n) => n + TX_HEADROOM,
                Err(_) => {
                    return Err(Error::CommandTooLong {
                        len: TX + 1,
                        max: TX,
                    })
                }
            };
        if bound > TX {
            return Err(Error::CommandTooLong {
                len: bound,
                max: TX,
            });
        }
        let n = cmd.write(&mut self.tx);
        if n > self.spec.max_line {
            return Err(Error::CommandTooLong {
                len: n,
                max: self.spec.max_line,
            });
        }
        Ok(n)
    }

    fn encode_line(&mut self, line: &[u8]) -> Result<usize, Error> {
        if line.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(Error::Invalid {
                field: "line",
                reason: "holds CR or LF",
            });
        }
        let end = self.spec.line_end;
        let n = line.len() + end.len();
        let max = self.spec.max_line.min(TX);
        if n > max {
            return Err(Error::CommandTooLong { len: n, max });
        }
        self.tx[..line.len()].copy_from_slice(line);
        self.tx[line.len()..n].copy_from_slice(end);
        Ok(n)
    }

    /// Writes `tx[..n]`, then optionally `data` after the prompt, and waits for the result.
    fn exchange(&mut self, n: usize, data: Option<&[u8]>, timeout_ms: u32) -> Result<(), Error> {
        self.resp.clear();
        let line = trim_line_end(&self.tx[..n]);
        let mut ex = Exchange {
            phase: if data.is_some() {
                Phase::WaitPrompt
            } else {
                Phase::WaitFinal
            },
            name: command_name(line),
            line: line.len(),
            ..Exchange::idle()
        };
        self.framer.set_prompt_mode(if data.is_some() {
            PromptMode::Once
        } else {
            PromptMode::Never
        });
        let result = self.run(&mut ex, n, data, timeout_ms);
        self.framer.set_prompt_mode(PromptMode::Never);
        if let Err(e) = result {
            if matches!(e, Error::Timeout { .. } | Error::Busy | Error::NoPrompt) {
                self.stats.timeouts += 1;
                self.needs_sync = true;
            }
            return Err(e);
        }
        match ex.outcome {
            Some(Outcome::Ok) if ex.overflow => Err(Error::ResponseOverflow { capacity: RESP }),
            Some(Outcome::Ok) => Ok(()),
            Some(Outcome::Fail(word)) => Err(Error::Module {
                word,
                code: ex.code,
            }),
            Some(Outcome::Reset) => Err(Error::Reset),
            Some(Outcome::Prompt) | None => Err(Error::Timeout { ms: timeout_ms }),
        }
    }

    fn run(
        &mut self,
        ex: &mut Exchange,
        n: usize,
        data: Option<&[u8]>,
        timeout_ms: u32,
    ) -> Result<(), Error> {
        self.uart.write_all(&self.tx[..n]).map_err(uart_err)?;
        self.uart.flush().map_err(uart_err)?;
        if let Some(data) = data {
            let timeout = self.config.prompt_timeout_ms;
            self.wait(ex, timeout)?;
            match ex.outcome {
                Some(Outcome::Prompt) => {}
                _ => return Ok(()),
            }
            ex.outcome = None;
            ex.phase = Phase::WaitFinal;
            ex.after_data = true;
            self.uart.write_all(data).map_err(uart_err)?;
            self.uart.flush().map_err(uart_err)?;
        }
        self.wait(ex, timeout_ms)
    }

    /// Reads and routes frames until the exchange has an outcome or `timeout_ms` passes.
    fn wait(&mut self, ex: &mut Exchange, timeout_ms: u32) -> Result<(), Error> {
        let deadline = self.clock.now_ms().saturating_add(u64::from(timeout_ms));
        loop {
            if ex.outcome.is_some() {
                return Ok(());
            }
            if self.uart.read_ready().map_err(uart_err)? {
                self.read_chunk(ex)?;
                if ex.outcome.is_some() {
                    return Ok(());
                }
            } else {
                self.clock.idle();
            }
            if self.clock.now_ms() >= deadline {
                return Err(if ex.busy {
                    Error::Busy
                } else if ex.phase == Phase::WaitPrompt {
                    Error::NoPrompt
                } else {
                    Error::Timeout { ms: timeout_ms }
                });
            }
        }
    }

    /// Reads one chunk and routes every frame in it; returns the bytes read.
    fn read_chunk(&mut self, ex: &mut Exchange) -> Result<usize, Error> {
        let mut chunk = [0u8; CHUNK];
        let n = self.uart.read(&mut chunk).map_err(uart_err)?;
        self.stats.bytes_read += n as u64;
        let mut input = &chunk[..n];
        while !input.is_empty() {
            let (used, frame) = self.framer.feed(input);
            input = &input[used..];
            if let Some(frame) = frame {
                let mut r = Router {
                    ex,
                    tx: &self.tx,
                    spec: self.spec,
                    resp: &mut self.resp,
                    events: &mut self.events,
                    stats: &mut self.stats,
                };
                r.route(frame);
            }
        }
        Ok(n)
    }
}

/// Routes one frame to the running command or to the event queue.
struct Router<'r, const RESP: usize, const EV: usize> {
    ex: &'r mut Exchange,
    tx: &'r [u8],
    spec: &'static DialectSpec,
    resp: &'r mut heapless::Vec<u8, RESP>,
    events: &'r mut EventQueue<EV>,
    stats: &'r mut Stats,
}

impl<const RESP: usize, const EV: usize> Router<'_, RESP, EV> {
    fn route(&mut self, frame: Frame<'_>) {
        let active = self.ex.phase != Phase::Idle && self.ex.outcome.is_none();
        match frame {
            Frame::Ok if active => {
                // ESP-AT's `OK` before the prompt means "send the data now".
                if self.ex.phase == Phase::WaitFinal {
                    self.ex.outcome = Some(Outcome::Ok);
                }
            }
            Frame::Error(word) if active => {
                self.ex.outcome = Some(Outcome::Fail(FailWord::from_word(word)));
            }
            Frame::ErrorCode(code) if active => self.ex.code = Some(code),
            Frame::Busy(_) if active => self.ex.busy = true,
            Frame::Prompt if active && self.ex.phase == Phase::WaitPrompt => {
                self.ex.outcome = Some(Outcome::Prompt);
            }
            Frame::Ok | Frame::Error(_) | Frame::ErrorCode(_) | Frame::Busy(_) | Frame::Prompt => {
                self.stats.stale_replies = self.stats.stale_replies.saturating_add(1);
            }
            Frame::Ready => {
                self.stats.resets = self.stats.resets.saturating_add(1);
                self.queue(&frame);
                if active {
                    self.ex.outcome = Some(Outcome::Reset);
                }
            }
            Frame::Oversized { .. } => {
                if active {
                    self.ex.overflow = true;
                }
                self.queue(&frame);
            }
            Frame::Data(d) if active && self.is_own(d.header) => self.append_data(&d),
            Frame::Data(_) => self.queue(&frame),
            Frame::Line(line) if active => self.route_line(line, &frame),
            Frame::Line(_) => self.queue(&frame),
        }
    }

    fn route_line(&mut self, line: &[u8], frame: &Frame<'_>) {
        if self.is_echo(line) {
            return;
        }
        if self.ex.after_data {
            if let Some(outcome) = self.send_result(line) {
                self.ex.outcome = Some(outcome);
                return;
            }
        }
        if self.is_own(line) || !Urc::is_known_line(line) {
            self.append(line);
        } else {
            self.queue(frame);
        }
    }

    fn send_result(&self, line: &[u8]) -> Option<Outcome> {
        if self.spec.send_ok.contains(&line) {
            Some(Outcome::Ok)
        } else if self.spec.send_fail.iter().any(|p| line.starts_with(p)) {
            Some(Outcome::Fail(FailWord::SendFail))
        } else {
            None
        }
    }

    /// Does `line` start with the command's name followed by `:` or `,`?
    fn is_own(&self, line: &[u8]) -> bool {
        let name = &self.tx[self.ex.name.0..self.ex.name.1];
        name.len() > 1
            && line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && matches!(line[name.len()], b':' | b',')
    }

    /// The module repeating the command line (echo on, `ATE1`), possibly cut or glued.
    fn is_echo(&self, line: &[u8]) -> bool {
        let sent = &self.tx[..self.ex.line];
        if line.len() < 2 || !line[..2].eq_ignore_ascii_case(b"AT") {
            return false;
        }
        let n = line.len().min(sent.len());
        line[..n].eq_ignore_ascii_case(&sent[..n])
    }

    fn append(&mut self, line: &[u8]) {
        if !self.resp.is_empty() && self.resp.extend_from_slice(b"\r\n").is_err() {
            self.ex.overflow = true;
        }
        if self.resp.extend_from_slice(line).is_err() {
            self.ex.overflow = true;
        }
    }

    fn append_data(&mut self, d: &DataFrame<'_>) {
        self.append(d.header);
        if d.truncated
            || self.resp.push(b',').is_err()
            || self.resp.extend_from_slice(d.data).is_err()
        {
            self.ex.overflow = true;
        }
    }

    fn queue(&mut self, frame: &Frame<'_>) {
        if !self.events.push(frame) {
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\r' | b'\n'] = l {
        l = rest;
    }
    l
}

/// The range of the command name in a command line: `+MQTTCONN` in `AT+MQTTCONN?`.
fn command_name(line: &[u8]) -> (usize, usize) {
    if line.len() < 2 || !line[..2].eq_ignore_ascii_case(b"AT") {
        return (0, 0);
    }
    let end = line[2..]
        .iter()
        .position(|&b| matches!(b, b'=' | b'?' | b'\r' | b'\n'))
        .map_or(line.len(), |p| p + 2);
    (2, end)
}
