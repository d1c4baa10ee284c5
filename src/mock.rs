//! A scripted mock UART and a manual clock for host tests (feature `std`).
//!
//! The script is a list of expectations: "when the client has written exactly these
//! bytes, make this reply readable" (optionally only after some milliseconds of the mock
//! clock). Bytes can also be made readable up front, as if the module had sent them on
//! its own. Reads hand out at most [`MockUart::set_chunk`] bytes at a time, so every test
//! can be run with the replies split at every size.
//!
//! ```
//! use at_wifi::mock::MockUart;
//! use at_wifi::{Client, Dialect};
//! let mut uart = MockUart::new();
//! uart.set_chunk(1);
//! uart.push_rx(b"WIFI GOT IP\r\n");
//! uart.expect(b"AT\r\n", b"AT\r\n\r\nOK\r\n");
//! let clock = uart.clock();
//! let mut client: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
//! client.send(&at_wifi::command::basic::At).unwrap();
//! let (uart, _) = client.release();
//! uart.assert_done();
//! ```

use std::cell::Cell;
use std::collections::VecDeque;
use std::format;
use std::rc::Rc;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::clock::Clock;

/// A clock shared with a [`MockUart`]: time advances 1 ms per [`Clock::idle`], or by hand.
#[derive(Clone, Debug, Default)]
pub struct MockClock {
    now: Rc<Cell<u64>>,
}

impl MockClock {
    /// Moves time forward.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// The current time.
    pub fn now(&self) -> u64 {
        self.now.get()
    }
}

impl Clock for MockClock {
    fn now_ms(&mut self) -> u64 {
        self.now.get()
    }

    fn idle(&mut self) {
        self.advance(1);
    }
}

#[derive(Debug)]
struct Step {
    expect: Vec<u8>,
    reply: Vec<u8>,
    delay_ms: u64,
}

/// The error a [`MockUart`] can be told to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MockError;

impl core::fmt::Display for MockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("mock UART error")
    }
}

impl core::error::Error for MockError {}

impl embedded_io::Error for MockError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

/// A scripted UART: see the [module docs](self).
#[derive(Debug)]
pub struct MockUart {
    steps: VecDeque<Step>,
    /// Bytes written since the last matched expectation.
    pending: Vec<u8>,
    /// Everything ever written.
    written: Vec<u8>,
    /// Every write call: (mock time, bytes).
    writes: Vec<(u64, Vec<u8>)>,
    rx: VecDeque<u8>,
    /// Replies waiting for their time: (time, bytes).
    scheduled: Vec<(u64, Vec<u8>)>,
    chunk: usize,
    /// Read sizes used in turn (empty: always `chunk`).
    chunks: Vec<usize>,
    /// Reads done so far (to pick from `chunks`).
    reads: usize,
    clock: MockClock,
    mismatch: Option<String>,
    fail_reads: bool,
    /// Reads fail from this mock time on.
    fail_reads_at: Option<u64>,
    /// Successful reads left before one read or `read_ready` call fails (once).
    fail_once_after: Option<usize>,
}

impl Default for MockUart {
    fn default() -> Self {
        Self::new()
    }
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

impl MockUart {
    /// An empty script; reads hand out everything available at once.
    pub fn new() -> Self {
        MockUart {
            steps: VecDeque::new(),
            pending: Vec::new(),
            written: Vec::new(),
            writes: Vec::new(),
            rx: VecDeque::new(),
            scheduled: Vec::new(),
            chunk: usize::MAX,
            chunks: Vec::new(),
            reads: 0,
            clock: MockClock::default(),
            mismatch: None,
            fail_reads: false,
            fail_reads_at: None,
            fail_once_after: None,
        }
    }

    /// The clock this UART schedules delayed replies by.
    pub fn clock(&self) -> MockClock {
        self.clock.clone()
    }

    /// Reads return at most `n` bytes (at least 1).
    pub fn set_chunk(&mut self, n: usize) {
        self.chunk = n.max(1);
        self.chunks.clear();
    }

    /// Reads return at most `sizes[0]`, then `sizes[1]`, … bytes, starting over after the
    /// last (each at least 1): arbitrary chunking for property tests. An empty list goes
    /// back to handing out everything available at once.
    pub fn set_chunk_pattern(&mut self, sizes: &[usize]) {
        self.chunk = usize::MAX;
        self.chunks = sizes.iter().map(|&n| n.max(1)).collect();
        self.reads = 0;
    }

    /// Makes `bytes` readable now.
    pub fn push_rx(&mut self, bytes: &[u8]) {
        self.rx.extend(bytes);
    }

    /// When the client has written exactly `cmd` (after the previous expectation), `reply`
    /// becomes readable.
    pub fn expect(&mut self, cmd: &[u8], reply: &[u8]) {
        self.expect_delayed(cmd, reply, 0);
    }

    /// Like [`Self::expect`], with the reply readable only `delay_ms` of mock time after
    /// the command was written.
    pub fn expect_delayed(&mut self, cmd: &[u8], reply: &[u8], delay_ms: u64) {
        self.steps.push_back(Step {
            expect: cmd.to_vec(),
            reply: reply.to_vec(),
            delay_ms,
        });
    }

    /// Makes `bytes` readable at mock time `at_ms`.
    pub fn schedule(&mut self, at_ms: u64, bytes: &[u8]) {
        self.scheduled.push((at_ms, bytes.to_vec()));
    }

    /// Reads fail with [`MockError`] from now on (`true`), or work again (`false`, which
    /// also cancels [`Self::fail_reads_at`]).
    pub fn fail_reads(&mut self, fail: bool) {
        self.fail_reads = fail;
        if !fail {
            self.fail_reads_at = None;
        }
    }

    /// Reads fail with [`MockError`] from mock time `at_ms` on (for a UART that breaks
    /// while a command runs).
    pub fn fail_reads_at(&mut self, at_ms: u64) {
        self.fail_reads_at = Some(at_ms);
    }

    /// Everything the client wrote.
    pub fn written(&self) -> &[u8] {
        &self.written
    }

    /// Every write call the client made, with the mock time it was made at: shows, say,
    /// that data was written only after the prompt had been made readable.
    pub fn writes(&self) -> &[(u64, Vec<u8>)] {
        &self.writes
    }

    /// After `reads` more reads that return bytes, the next `read` or `read_ready` call
    /// fails with [`MockError`], once; later calls work (a UART that reports one overrun,
    /// say, in the middle of a reply).
    pub fn fail_once_after_reads(&mut self, reads: usize) {
        self.fail_once_after = Some(reads);
    }

    /// True (and the one-shot failure used up) when this call is the one to fail.
    fn fail_now(&mut self) -> bool {
        if self.failing() {
            return true;
        }
        if self.fail_once_after == Some(0) {
            self.fail_once_after = None;
            return true;
        }
        false
    }

    fn failing(&self) -> bool {
        self.fail_reads || self.fail_reads_at.is_some_and(|t| self.clock.now() >= t)
    }

    /// Bytes still unread.
    pub fn unread(&self) -> usize {
        self.rx.len() + self.scheduled.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    /// `Ok` when every expectation was met, nothing unexpected was written and every reply
    /// was read; otherwise what went wrong.
    pub fn check(&self) -> Result<(), String> {
        if let Some(m) = &self.mismatch {
            return Err(m.clone());
        }
        if let Some(s) = self.steps.front() {
            return Err(format!(
                "expected the client to write \"{}\", it wrote \"{}\"",
                show(&s.expect),
                show(&self.pending)
            ));
        }
        if !self.pending.is_empty() {
            return Err(format!("unexpected write \"{}\"", show(&self.pending)));
        }
        Ok(())
    }

    /// Panics with a clear message unless [`Self::check`] passes.
    pub fn assert_done(&self) {
        if let Err(e) = self.check() {
            panic!("mock UART: {e}");
        }
    }

    fn release_scheduled(&mut self) {
        let now = self.clock.now();
        let mut i = 0;
        while i < self.scheduled.len() {
            if self.scheduled[i].0 <= now {
                let (_, bytes) = self.scheduled.remove(i);
                self.rx.extend(bytes);
            } else {
                i += 1;
            }
        }
    }

    fn match_written(&mut self) {
        while let Some(step) = self.steps.front() {
            if self.pending.len() < step.expect.len() {
                if !step.expect.starts_with(&self.pending) && self.mismatch.is_none() {
                    self.mismatch = Some(format!(
                        "expected \"{}\", got \"{}\"",
                        show(&step.expect),
                        show(&self.pending)
                    ));
                }
                return;
            }
            if self.pending[..step.expect.len()] != step.expect[..] {
                if self.mismatch.is_none() {
                    self.mismatch = Some(format!(
                        "expected \"{}\", got \"{}\"",
                        show(&step.expect),
                        show(&self.pending)
                    ));
                }
                return;
            }
            let step = self.steps.pop_front().unwrap_or_else(|| unreachable!());
            self.pending.drain(..step.expect.len());
            if step.delay_ms == 0 {
                self.rx.extend(step.reply);
            } else {
                let at = self.clock.now() + step.delay_ms;
                self.scheduled.push((at, step.reply));
            }
        }
    }
}

impl embedded_io::ErrorType for MockUart {
    type Error = MockError;
}

impl embedded_io::Read for MockUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        if self.fail_now() {
            return Err(MockError);
        }
        self.release_scheduled();
        let chunk = if self.chunks.is_empty() {
            self.chunk
        } else {
            self.chunks[self.reads % self.chunks.len()]
        };
        self.reads = self.reads.wrapping_add(1);
        let n = buf.len().min(chunk).min(self.rx.len());
        for b in buf.iter_mut().take(n) {
            *b = self.rx.pop_front().unwrap_or(0);
        }
        if n > 0 {
            if let Some(left) = self.fail_once_after.as_mut() {
                *left = left.saturating_sub(1);
            }
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for MockUart {
    fn read_ready(&mut self) -> Result<bool, MockError> {
        if self.fail_now() {
            return Err(MockError);
        }
        self.release_scheduled();
        Ok(!self.rx.is_empty())
    }
}

impl embedded_io::Write for MockUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        self.pending.extend_from_slice(buf);
        self.written.extend_from_slice(buf);
        self.writes.push((self.clock.now(), buf.to_vec()));
        self.match_written();
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), MockError> {
        Ok(())
    }
}
