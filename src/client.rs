//! The blocking AT client: owns the UART, the clock and the buffers; sends commands, waits
//! for their replies, and queues everything else as events.
//!
//! One [`Client`] drives one module. It is the only place in the crate that waits, and
//! every wait has a deadline from the [`Clock`]: there are no threads, no interrupts
//! required, no `embassy-time` driver and no critical section.
//!
//! How a reply is told from unsolicited output: while a command runs, each frame goes to
//! the command when it is its echo (in any case, cut, or with a URC spliced into it — the
//! URC is then queued), a line starting with the command's own prefix
//! (`+MQTTCONN:` for `AT+MQTTCONN?`), a final result, a busy line, an `ERR CODE`, or a
//! prefix-less line that is no known URC (`AT+GMR`'s version text, Combo-AT's
//! `connect success ConID=1`). Known URCs and data frames of other commands are queued for
//! [`Client::poll`], never folded into the reply, whenever they come: before, between and
//! after the reply's lines, after its prompt, after its final result. A second send result
//! (`SEND OK` after `SEND FAIL`) and replies that come after their command timed out are
//! stale: they never become the reply of the next command (see [`Config::sync_quiet_ms`]).

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

/// Writes a command line into the transmit buffer and returns its length (or why not).
type Encoder<'a, T> = &'a dyn Fn(&mut T) -> Result<usize, Error>;

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
    /// Events were dropped because the event queue was full; `dropped` counts them. It
    /// stands where they were lost: the events before it came before the gap.
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
    /// How long the resynchronising `AT` after a timed-out command may take (ms); never
    /// longer than what is left of the time of the call that resynchronises.
    pub sync_timeout_ms: u32,
    /// After the resynchronising `AT` got its answer, the client keeps reading (and
    /// discarding stale replies) until the module has been quiet this long (ms): the rest of
    /// the late reply of the timed-out command, or the `OK` of the `AT` itself when the late
    /// reply's `OK` came first, cannot become the reply of the next command.
    pub sync_quiet_ms: u32,
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
            sync_quiet_ms: 20,
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
    /// Final results (`OK`, `ERROR`, `SEND OK`, `SEND FAIL`), busy lines and error codes
    /// that arrived with no command waiting for them, and reply lines read while the client
    /// resynchronised: replies that came after their command had finished or timed out. They
    /// are discarded.
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
    /// No command runs: everything is an event (or a stale reply).
    Idle,
    /// The command waits for the data prompt `>`.
    WaitPrompt,
    /// The command waits for its final result.
    WaitFinal,
    /// Resynchronising after a timeout: reply lines are stale, URCs are events.
    Absorb,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Fail(FailWord),
    Reset,
}

/// The state of the command being run.
struct Exchange {
    phase: Phase,
    /// Range of `tx` holding the command name (`+MQTTCONN`).
    name: (usize, usize),
    /// Length of the line sent, without line end (for echo detection).
    line: usize,
    /// The prompt came: send results (`SEND OK`, `+MQTTPUB:OK`) now count as final.
    after_data: bool,
    /// The prompt came and the data is still to be written.
    data_pending: bool,
    /// A spliced echo was seen: the next line may be the rest of the echo, a suffix of the
    /// sent line starting at or after this offset.
    echo_tail: Option<usize>,
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
            data_pending: false,
            echo_tail: None,
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
    /// The name of the last command that timed out (`+MQTTUSERCFG`): its late reply lines
    /// are stale, never events (they may hold credentials).
    late_name: heapless::Vec<u8, 24>,
    /// A UART error met after some bytes of a chunk were already read: those bytes are
    /// framed first, and the error is returned before anything more is read or written.
    deferred: Option<embedded_io::ErrorKind>,
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
            deferred: None,
            late_name: heapless::Vec::new(),
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

    /// Forgets a partly received line or payload. Call it after the UART reported lost
    /// bytes (e.g. [`RxConsumer::take_overflows`](crate::serial::RxConsumer::take_overflows)
    /// is non-zero): a data frame missing bytes would otherwise take what follows as its
    /// payload. The client does this by itself when a command times out.
    ///
    /// A payload being read is delivered as a truncated event (nothing vanishes silently);
    /// a partial line is dropped.
    pub fn discard_partial(&mut self) {
        self.cut_payload();
        self.framer.reset();
    }

    /// Ends a payload being read: queued as truncated.
    fn cut_payload(&mut self) {
        if !self.framer.in_payload() {
            return;
        }
        if let Some(frame) = self.framer.finish() {
            if !self.events.push(&frame) {
                self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
            }
        }
    }

    /// The reply lines (joined with CR LF) collected for the last command, kept when it
    /// failed: e.g. the `+CWJAP:<reason>` line before an `ERROR`.
    pub fn last_reply(&self) -> &[u8] {
        &self.resp
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
    /// Before writing, the line is checked against the transmit buffer and the dialect's
    /// line limit ([`Error::CommandTooLong`], nothing written) and pending input is read and
    /// queued as events. The call returns within the command's `timeout_ms` (atat's
    /// `MAX_TIMEOUT_MS`). After a timeout the next command first resynchronises with `AT`
    /// (within that same time), so a late reply never becomes the reply of the next command.
    ///
    /// Errors: [`Error::Module`] for `ERROR` and its kin (with the `ERR CODE` that came
    /// before it), [`Error::Busy`] when the module said busy and never finished,
    /// [`Error::Timeout`], [`Error::Reset`] when it rebooted meanwhile, [`Error::Parse`],
    /// [`Error::ResponseOverflow`], [`Error::Uart`].
    pub fn send<Cmd>(&mut self, cmd: &Cmd) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        let timeout = Cmd::MAX_TIMEOUT_MS;
        self.transact(&|c: &mut Self| c.encode(cmd), None, timeout, timeout)?;
        cmd.parse(Ok(&self.resp)).map_err(|_| Error::Parse)
    }

    /// Sends `cmd`, waits for the prompt `>`, writes `data` as it is, and waits for the
    /// result: `OK`, `SEND OK`, `+MQTTPUB:OK`, `+MQTTPUBRAW:OK` (or their failures).
    ///
    /// For `AT+MQTTPUBRAW`, `AT+MQTTLONG*`, `AT+SOCKETSEND`, `AT+SSLCRET`, `AT+CIPSEND`.
    /// An `OK` before the prompt (ESP-AT's `OK\r\n\r\n>`) is taken as "go ahead". The
    /// prompt (and a resynchronisation before the command) may take
    /// [`Config::prompt_timeout_ms`]; the result the command's timeout after the data was
    /// written. The data is written only after the prompt: without one, nothing is written
    /// and [`Error::NoPrompt`] is returned.
    pub fn send_with_data<Cmd>(&mut self, cmd: &Cmd, data: &[u8]) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        let prompt_timeout = self.config.prompt_timeout_ms;
        let enc = |c: &mut Self| c.encode(cmd);
        self.transact(&enc, Some(data), prompt_timeout, Cmd::MAX_TIMEOUT_MS)?;
        cmd.parse(Ok(&self.resp)).map_err(|_| Error::Parse)
    }

    /// Sends a preformatted command line (without line end; the dialect's is added) and
    /// waits up to `timeout_ms` for its final result; returns the reply lines, joined with
    /// CR LF. For commands this crate has no struct for.
    ///
    /// The line must not hold CR or LF ([`Error::Invalid`]); nothing is written then.
    pub fn send_line(&mut self, line: &[u8], timeout_ms: u32) -> Result<&[u8], Error> {
        self.transact(
            &|c: &mut Self| c.encode_line(line),
            None,
            timeout_ms,
            timeout_ms,
        )?;
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
    ///
    /// Errors: [`Error::Uart`] when the UART reports an error (an overrun, say). The bytes
    /// read before it are not lost: they are framed first, and the error comes before any
    /// byte read after it is framed (and before the next command writes anything), so
    /// [`Client::discard_partial`] in answer to it ends the line or payload the lost bytes
    /// belonged to.
    pub fn poll(&mut self) -> Result<Option<Event<'_>>, Error> {
        self.fill()?;
        Ok(self.pop())
    }

    /// Waits up to `timeout_ms` for the next event.
    pub fn wait_event(&mut self, timeout_ms: u32) -> Result<Option<Event<'_>>, Error> {
        let deadline = self.deadline(timeout_ms);
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
        if self.events.len() == 0 {
            let dropped = self.events.take_dropped();
            return (dropped > 0).then_some(Event::Overflow { dropped });
        }
        Some(match self.events.pop()? {
            Stored::Overflow(dropped) => Event::Overflow { dropped },
            Stored::Line(l) => Event::Urc(Urc::parse_line(l)),
            Stored::Data(d) => Event::Urc(Urc::parse_data(d)),
            Stored::Ready => Event::Reset,
            Stored::Oversized { start, len } => Event::Oversized { start, len },
        })
    }

    /// The clock time `ms` from now.
    fn deadline(&mut self, ms: u32) -> u64 {
        self.clock.now_ms().saturating_add(u64::from(ms))
    }

    /// One command, shared by every command type (not generic, so that it is not repeated
    /// for each): encodes and checks the line before `first_ms` passes (resynchronising
    /// first when needed), writes it, then `data` after the prompt, and waits for the
    /// result; the prompt or, without data, the result must come within `first_ms`, the
    /// result after the data within `timeout_ms`.
    #[inline(never)]
    fn transact(
        &mut self,
        encode: Encoder<'_, Self>,
        data: Option<&[u8]>,
        first_ms: u32,
        timeout_ms: u32,
    ) -> Result<(), Error> {
        let deadline = self.deadline(first_ms);
        let n = self.start(deadline, first_ms, encode)?;
        self.exchange(n, data, timeout_ms, deadline)
    }

    /// Everything before a command is written: checks and encodes the line (`encode`
    /// writes it into `tx` and returns its length), reads pending input, and resynchronises
    /// after a timeout — all before `deadline`. Nothing is written when the line is refused.
    fn start(
        &mut self,
        deadline: u64,
        timeout_ms: u32,
        encode: Encoder<'_, Self>,
    ) -> Result<usize, Error> {
        // Checked first: a refused line writes nothing, not even the resynchronising `AT`.
        let n = encode(self)?;
        self.drain()?;
        if !self.needs_sync {
            return Ok(n);
        }
        self.sync(deadline)?;
        if self.clock.now_ms() >= deadline {
            return Err(Error::Timeout { ms: timeout_ms });
        }
        // The `AT` used the transmit buffer.
        encode(self)
    }

    /// Resynchronises after a timed-out command: `AT` until it is answered, then reads
    /// until the module is quiet, discarding stale replies (URCs stay events).
    fn sync(&mut self, deadline: u64) -> Result<(), Error> {
        let n = self.encode_line(b"AT")?;
        let now = self.clock.now_ms();
        let sync_deadline =
            deadline.min(now.saturating_add(u64::from(self.config.sync_timeout_ms)));
        let ms = u32::try_from(sync_deadline.saturating_sub(now)).unwrap_or(u32::MAX);
        match self.exchange(n, None, ms, sync_deadline) {
            // Any final answer means the module listens again.
            Ok(()) | Err(Error::Module { .. } | Error::ResponseOverflow { .. }) => {}
            Err(Error::Reset) => {
                // A module that just booted has no late reply to send.
                self.needs_sync = false;
                return Err(Error::Reset);
            }
            Err(e) => return Err(e),
        }
        self.absorb(deadline)?;
        self.needs_sync = false;
        Ok(())
    }

    /// Reads and routes until the module was quiet for [`Config::sync_quiet_ms`] or
    /// `deadline` passes; reply lines and results read meanwhile are stale.
    fn absorb(&mut self, deadline: u64) -> Result<(), Error> {
        let quiet = u64::from(self.config.sync_quiet_ms);
        let mut ex = Exchange {
            phase: Phase::Absorb,
            ..Exchange::idle()
        };
        let mut until = self.clock.now_ms().saturating_add(quiet).min(deadline);
        loop {
            if self.uart.read_ready().map_err(uart_err)? {
                self.read_chunk(&mut ex)?;
                let now = self.clock.now_ms();
                if now >= deadline {
                    return Ok(());
                }
                until = now.saturating_add(quiet).min(deadline);
            } else {
                if self.clock.now_ms() >= until {
                    return Ok(());
                }
                self.clock.idle();
            }
        }
    }

    /// Reads and queues everything the UART has ready, up to the drain limit.
    fn drain(&mut self) -> Result<(), Error> {
        self.deferred_error()?;
        let mut budget = self.config.drain_limit;
        let mut ex = Exchange::idle();
        while budget > 0 && self.uart.read_ready().map_err(uart_err)? {
            budget = budget.saturating_sub(self.read_chunk(&mut ex)?);
        }
        Ok(())
    }

    fn encode<Cmd: AtatCmd + Serialize>(&mut self, cmd: &Cmd) -> Result<usize, Error> {
        let n = encode_into(cmd, &mut self.tx)?;
        self.check_line(n)
    }

    /// `n` when a line of `n` bytes is within the dialect's limit.
    fn check_line(&self, n: usize) -> Result<usize, Error> {
        if n > self.spec.max_line {
            return Err(Error::CommandTooLong {
                len: n,
                max: self.spec.max_line,
            });
        }
        Ok(n)
    }

    /// Sends the command line `encode` writes into the transmit buffer (it returns the
    /// line's length, line end included) like [`Client::send`], or with `data` like
    /// [`Client::send_with_data`] (the prompt within [`Config::prompt_timeout_ms`]), and
    /// waits up to `timeout_ms` for its result; returns the reply lines, joined with CR LF.
    ///
    /// For code that formats a command itself without an intermediate buffer, and for
    /// optional steps kept out of generic paths (the session's ALPN, SNI and `LONG*`
    /// steps: a function pointer is linked only when used). The line is checked against
    /// the dialect's line limit and the transmit buffer before it is written
    /// ([`Error::CommandTooLong`]); an error from `encode` is returned with nothing written.
    /// The line must end with the dialect's line end (CR LF): one without it, or an empty
    /// one, is written as it is and ends in [`Error::Timeout`].
    pub fn send_encoded(
        &mut self,
        encode: &dyn Fn(&mut [u8]) -> Result<usize, Error>,
        data: Option<&[u8]>,
        timeout_ms: u32,
    ) -> Result<&[u8], Error> {
        let enc = |c: &mut Self| {
            let n = encode(&mut c.tx)?;
            // A length past the buffer (a faulty encoder) is refused, never sliced.
            if n > TX {
                return Err(Error::CommandTooLong { len: n, max: TX });
            }
            c.check_line(n)
        };
        let first = if data.is_some() {
            self.config.prompt_timeout_ms
        } else {
            timeout_ms
        };
        self.transact(&enc, data, first, timeout_ms)?;
        Ok(&self.resp)
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
    ///
    /// The prompt (or, without data, the result) must come before `deadline`; after the
    /// data was written the result may take `timeout_ms`.
    fn exchange(
        &mut self,
        n: usize,
        data: Option<&[u8]>,
        timeout_ms: u32,
        deadline: u64,
    ) -> Result<(), Error> {
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
        #[cfg(feature = "log")]
        log::debug!(
            "at-wifi: AT{} sent",
            core::str::from_utf8(&self.tx[ex.name.0..ex.name.1]).unwrap_or("?")
        );
        let result = self.run(&mut ex, n, data, timeout_ms, deadline);
        self.framer.set_prompt_mode(PromptMode::Never);
        #[cfg(feature = "log")]
        if let Err(e) = &result {
            log::debug!(
                "at-wifi: AT{} failed: {}",
                core::str::from_utf8(&self.tx[ex.name.0..ex.name.1]).unwrap_or("?"),
                e
            );
        }
        if let Err(e) = result {
            if matches!(e, Error::Timeout { .. } | Error::Busy | Error::NoPrompt) {
                self.stats.timeouts = self.stats.timeouts.saturating_add(1);
            }
            if matches!(
                e,
                Error::Timeout { .. } | Error::Busy | Error::NoPrompt | Error::Uart(_)
            ) {
                // The reply may still come: the next command resynchronises first, and
                // its lines are stale meanwhile.
                self.needs_sync = true;
                self.late_name.clear();
                let name = &self.tx[ex.name.0..ex.name.1];
                let _ = self
                    .late_name
                    .extend_from_slice(&name[..name.len().min(self.late_name.capacity())]);
                // A payload cut short (bytes lost to a UART overrun) would swallow what
                // follows: it is delivered as truncated and framing starts afresh.
                self.cut_payload();
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
            None => Err(Error::Timeout { ms: timeout_ms }),
        }
    }

    fn run(
        &mut self,
        ex: &mut Exchange,
        n: usize,
        data: Option<&[u8]>,
        timeout_ms: u32,
        deadline: u64,
    ) -> Result<(), Error> {
        self.uart.write_all(&self.tx[..n]).map_err(uart_err)?;
        self.uart.flush().map_err(uart_err)?;
        let mut deadline = deadline;
        if let Some(data) = data {
            self.wait(ex, deadline, timeout_ms)?;
            if !ex.data_pending {
                // A result (a failure) instead of the prompt: the data is not written.
                return Ok(());
            }
            ex.data_pending = false;
            self.uart.write_all(data).map_err(uart_err)?;
            self.uart.flush().map_err(uart_err)?;
            deadline = self.deadline(timeout_ms);
        }
        self.wait(ex, deadline, timeout_ms)
    }

    /// Reads and routes frames until the exchange has an outcome, the prompt came and the
    /// data is to be written, or `deadline` passes.
    fn wait(&mut self, ex: &mut Exchange, deadline: u64, timeout_ms: u32) -> Result<(), Error> {
        loop {
            if ex.outcome.is_some() || ex.data_pending {
                return Ok(());
            }
            if self.uart.read_ready().map_err(uart_err)? {
                self.read_chunk(ex)?;
                if ex.outcome.is_some() || ex.data_pending {
                    return Ok(());
                }
                if self.clock.now_ms() < deadline {
                    continue;
                }
            } else if self.clock.now_ms() < deadline {
                self.clock.idle();
                continue;
            }
            return Err(if ex.busy {
                Error::Busy
            } else if ex.phase == Phase::WaitPrompt {
                Error::NoPrompt
            } else {
                Error::Timeout { ms: timeout_ms }
            });
        }
    }

    /// The UART error [`Self::read_chunk`] kept (once), if any.
    fn deferred_error(&mut self) -> Result<(), Error> {
        match self.deferred.take() {
            Some(kind) => Err(Error::Uart(kind)),
            None => Ok(()),
        }
    }

    /// Reads one chunk and routes every frame in it; returns the bytes read.
    ///
    /// After the first read it keeps reading while the UART says more bytes are waiting and
    /// the chunk has room, so a UART that hands over one byte per read is still framed a
    /// chunk at a time (the framer's cost per call is then paid once per chunk, not once
    /// per byte). It never waits for bytes that are not there yet.
    ///
    /// A UART error after the first read does not lose what was read: the bytes are framed
    /// and routed, and the error is kept. It is returned, once, before anything more is
    /// read or written: by the next chunk read (when more bytes arrive) or by the next
    /// command before it writes its line.
    fn read_chunk(&mut self, ex: &mut Exchange) -> Result<usize, Error> {
        self.deferred_error()?;
        let mut chunk = [0u8; CHUNK];
        let mut n = self.uart.read(&mut chunk).map_err(uart_err)?;
        while n > 0 && n < CHUNK {
            let more = match self.uart.read_ready() {
                Ok(true) => self.uart.read(&mut chunk[n..]),
                Ok(false) => break,
                Err(e) => Err(e),
            };
            match more {
                Ok(0) => break,
                Ok(more) => n += more,
                Err(e) => {
                    self.deferred = Some(embedded_io::Error::kind(&e));
                    break;
                }
            }
        }
        self.stats.bytes_read += n as u64;
        let mut input = &chunk[..n];
        while !input.is_empty() {
            let (used, frame) = self.framer.feed(input);
            input = &input[used..];
            if let Some(frame) = frame {
                let mut r = Router {
                    ex,
                    tx: &self.tx,
                    late: &self.late_name,
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

/// What the MQTT session ([`crate::mqtt::Mqtt`]) and the socket set
/// ([`crate::net::SocketSet`]) need from a client: implemented by [`Client`] for every UART,
/// clock and buffer size, so their methods take `&mut impl AtClient` instead of repeating
/// the client's six type parameters.
///
/// Each method does what the [`Client`] method of the same name does (see there for the
/// limits and errors); [`AtClient::now_ms`] reads the client's [`Clock`]. Implement it for
/// a wrapper (one that logs, or shares a client) by forwarding to a [`Client`]: the session
/// and the socket set rely on the forwarding being faithful (every event returned once, in
/// order).
///
/// ```
/// use at_wifi::{AtClient, Dialect, Error};
/// use at_wifi::command::basic::At;
///
/// // A helper that works with any client.
/// fn alive(client: &mut impl AtClient) -> Result<(), Error> {
///     client.send(&At)?;
///     Ok(())
/// }
///
/// # #[cfg(feature = "std")] {
/// let mut uart = at_wifi::mock::MockUart::new();
/// uart.expect(b"AT\r\n", b"AT\r\n\r\nOK\r\n");
/// let clock = uart.clock();
/// let mut client: at_wifi::Client<_, _> = at_wifi::Client::new(uart, clock, Dialect::EspAt);
/// alive(&mut client).unwrap();
/// # }
/// ```
pub trait AtClient {
    /// The dialect the client speaks.
    fn dialect(&self) -> Dialect;
    /// The clock's current time in milliseconds.
    fn now_ms(&mut self) -> u64;
    /// The capacity of the client's framer (`RX`): no line or data frame it delivers is
    /// longer, so a store with this much room takes any event.
    fn frame_capacity(&self) -> usize;
    /// Lets the clock idle until something may have happened ([`Clock::idle`]).
    fn idle(&mut self);
    /// The reply lines of the last command ([`Client::last_reply`]).
    fn last_reply(&self) -> &[u8];
    /// Sends a command and waits for its result ([`Client::send`]).
    fn send<Cmd>(&mut self, cmd: &Cmd) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize;
    /// Sends a command, waits for `>`, writes `data` ([`Client::send_with_data`]).
    fn send_with_data<Cmd>(&mut self, cmd: &Cmd, data: &[u8]) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize;
    /// Sends a line written by `encode` into the transmit buffer ([`Client::send_encoded`]).
    fn send_encoded(
        &mut self,
        encode: &dyn Fn(&mut [u8]) -> Result<usize, Error>,
        data: Option<&[u8]>,
        timeout_ms: u32,
    ) -> Result<&[u8], Error>;
    /// Sends a preformatted line ([`Client::send_line`]).
    fn send_line(&mut self, line: &[u8], timeout_ms: u32) -> Result<&[u8], Error>;
    /// The next event, without waiting ([`Client::poll`]).
    fn poll(&mut self) -> Result<Option<Event<'_>>, Error>;
    /// The next event, waiting up to `timeout_ms` ([`Client::wait_event`]).
    fn wait_event(&mut self, timeout_ms: u32) -> Result<Option<Event<'_>>, Error>;
    /// How many events are queued ([`Client::pending_events`]).
    fn pending_events(&mut self) -> usize;
}

impl<U, C, const RX: usize, const RESP: usize, const TX: usize, const EV: usize> AtClient
    for Client<U, C, RX, RESP, TX, EV>
where
    U: Read + ReadReady + Write,
    C: Clock,
{
    fn dialect(&self) -> Dialect {
        Client::dialect(self)
    }

    fn now_ms(&mut self) -> u64 {
        self.clock.now_ms()
    }

    fn frame_capacity(&self) -> usize {
        RX
    }

    fn idle(&mut self) {
        self.clock.idle();
    }

    fn send_encoded(
        &mut self,
        encode: &dyn Fn(&mut [u8]) -> Result<usize, Error>,
        data: Option<&[u8]>,
        timeout_ms: u32,
    ) -> Result<&[u8], Error> {
        Client::send_encoded(self, encode, data, timeout_ms)
    }

    fn last_reply(&self) -> &[u8] {
        Client::last_reply(self)
    }

    fn send<Cmd>(&mut self, cmd: &Cmd) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        Client::send(self, cmd)
    }

    fn send_with_data<Cmd>(&mut self, cmd: &Cmd, data: &[u8]) -> Result<Cmd::Response, Error>
    where
        Cmd: AtatCmd + Serialize,
    {
        Client::send_with_data(self, cmd, data)
    }

    fn send_line(&mut self, line: &[u8], timeout_ms: u32) -> Result<&[u8], Error> {
        Client::send_line(self, line, timeout_ms)
    }

    fn poll(&mut self) -> Result<Option<Event<'_>>, Error> {
        Client::poll(self)
    }

    fn wait_event(&mut self, timeout_ms: u32) -> Result<Option<Event<'_>>, Error> {
        Client::wait_event(self, timeout_ms)
    }

    fn pending_events(&mut self) -> usize {
        Client::pending_events(self)
    }
}

/// Routes one frame to the running command or to the event queue.
struct Router<'r, const RESP: usize, const EV: usize> {
    ex: &'r mut Exchange,
    tx: &'r [u8],
    late: &'r [u8],
    spec: &'static DialectSpec,
    resp: &'r mut heapless::Vec<u8, RESP>,
    events: &'r mut EventQueue<EV>,
    stats: &'r mut Stats,
}

impl<const RESP: usize, const EV: usize> Router<'_, RESP, EV> {
    fn route(&mut self, frame: Frame<'_>) {
        let active = matches!(self.ex.phase, Phase::WaitPrompt | Phase::WaitFinal)
            && self.ex.outcome.is_none();
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
                // From here on the command waits for its result; frames after the prompt
                // in the same read are routed as such. The client writes the data next.
                self.ex.phase = Phase::WaitFinal;
                self.ex.after_data = true;
                self.ex.data_pending = true;
            }
            Frame::Ok | Frame::Error(_) | Frame::ErrorCode(_) | Frame::Busy(_) | Frame::Prompt => {
                self.stale();
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
            Frame::Line(line) => {
                // No command waits for this line. A send result (`SEND OK` after a
                // `SEND FAIL`) or, while resynchronising, the line of a late reply is stale;
                // URCs and unknown lines are events.
                // An echo, or a reply line of the command that timed out, is stale too: such
                // lines may carry credentials and must never surface as events.
                if Urc::is_known_line(line) {
                    self.queue(&frame);
                } else if self.ex.phase == Phase::Absorb
                    || self.send_result(line).is_some()
                    || is_command_echo(line)
                    || starts_with_name(line, self.late)
                {
                    self.stale();
                } else {
                    self.queue(&frame);
                }
            }
        }
    }

    fn route_line(&mut self, line: &[u8], frame: &Frame<'_>) {
        if let Some(from) = self.ex.echo_tail.take() {
            if self.is_echo_tail(line, from) {
                return;
            }
        }
        if self.echo(line) {
            return;
        }
        if let Some(outcome) = self.send_result(line) {
            // After the raw data, or the command's own result line (Beken answers
            // `AT+MQTTPUB` with `+MQTTPUB:OK` / `+MQTTPUB:ERROR,<n>` and no `OK`).
            if self.ex.after_data || self.is_own(line) {
                self.ex.outcome = Some(outcome);
            } else if Urc::is_known_line(line) {
                // `+MQTTPUB:OK` outside a publish is an event.
                self.queue(frame);
            } else {
                // `SEND OK` of an earlier send that came late.
                self.stale();
            }
            return;
        }
        if self.is_own(line) || !Urc::is_known_line(line) {
            self.append(line);
        } else {
            self.queue(frame);
        }
    }

    fn stale(&mut self) {
        self.stats.stale_replies = self.stats.stale_replies.saturating_add(1);
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
        starts_with_name(line, &self.tx[self.ex.name.0..self.ex.name.1])
    }

    /// Is `line` the module repeating the command line (echo on, `ATE1`), possibly cut,
    /// in another case, or with a URC spliced into it? A URC found spliced into the echo
    /// (`AT+CIPSEND=0,` `1,CONNECT` `\r\n` `98`) is queued, and the rest of the echo that
    /// follows on the next line is dropped with it.
    fn echo(&mut self, line: &[u8]) -> bool {
        let sent = &self.tx[..self.ex.line];
        if line.len() < 2 || !line[..2].eq_ignore_ascii_case(b"AT") {
            return false;
        }
        let k = line
            .iter()
            .zip(sent)
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count();
        if k == line.len() {
            // The whole echo, or its start.
            return true;
        }
        // The line goes on differently. Unless the echo covered at least the command's
        // name (`AT+GMR`'s `AT version:…` covers only `AT`), it is a reply line.
        let name_end = self.ex.name.1;
        if name_end <= 2 || k < name_end {
            return false;
        }
        // Spliced or glued: look for a known URC starting where the echo stopped (or a few
        // bytes before, when the URC's first bytes happen to equal the echo's).
        let mut from = k;
        for j in (k.saturating_sub(3).max(name_end)..=k).rev() {
            if Urc::is_known_line(&line[j..]) {
                self.queue(&Frame::Line(&line[j..]));
                from = j;
                break;
            }
        }
        if from < sent.len() {
            self.ex.echo_tail = Some(from);
        }
        true
    }

    /// Is `line` the end of the sent line, from offset `from` on (the rest of a spliced
    /// echo)?
    fn is_echo_tail(&self, line: &[u8], from: usize) -> bool {
        let sent = &self.tx[..self.ex.line];
        !line.is_empty()
            && line.len() <= sent.len().saturating_sub(from)
            && sent[sent.len() - line.len()..].eq_ignore_ascii_case(line)
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

/// Writes `cmd`'s line into `buf` and returns its length; [`Error::CommandTooLong`] (and
/// nothing written that counts) when it might not fit.
pub(crate) fn encode_into<Cmd: AtatCmd + Serialize>(
    cmd: &Cmd,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let max = buf.len();
    // An upper bound of the line: the parameters with atat's default options (which
    // escape more than any other) and an empty name, plus room for name and line end.
    let bound = match atat::serde_at::to_slice(cmd, "", buf, SerializeOptions::default()) {
        Ok(n) => n + TX_HEADROOM,
        Err(_) => return Err(Error::CommandTooLong { len: max + 1, max }),
    };
    if bound > max {
        return Err(Error::CommandTooLong { len: bound, max });
    }
    Ok(cmd.write(buf))
}

/// `AT`, `AT+…`, `ATE0`: the echo of a command line (never a URC).
fn is_command_echo(line: &[u8]) -> bool {
    line.len() >= 2
        && line[..2].eq_ignore_ascii_case(b"AT")
        && line
            .get(2)
            .is_none_or(|&b| b == b'+' || b == b'&' || b.is_ascii_alphanumeric())
}

/// Does `line` start with the command name `name` followed by `:` or `,`?
fn starts_with_name(line: &[u8], name: &[u8]) -> bool {
    name.len() > 1
        && line.len() > name.len()
        && line[..name.len()].eq_ignore_ascii_case(name)
        && matches!(line[name.len()], b':' | b',')
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
