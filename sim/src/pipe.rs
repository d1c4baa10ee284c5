//! An in-process duplex byte pipe: the "UART" between a driver and the simulator.
//!
//! [`pipe`] returns two [`PipeEnd`]s; what one writes the other reads. Each end implements
//! embedded-io 0.7 `Read`, `ReadReady` and `Write` (what the driver needs of a UART) and
//! `std::io::Read` / `Write`, plus test helpers ([`PipeEnd::read_until`],
//! [`PipeEnd::read_for`]).
//!
//! ```
//! use at_wifi_sim::pipe;
//! use std::time::Duration;
//! let (mut a, mut b) = pipe();
//! embedded_io::Write::write_all(&mut a, b"AT\r\n").unwrap();
//! assert!(embedded_io::ReadReady::read_ready(&mut b).unwrap());
//! assert_eq!(b.read_until(b"\r\n", Duration::from_secs(1)), b"AT\r\n");
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Chan {
    buf: VecDeque<u8>,
    /// The writer went away: reads past the buffered bytes see end of file.
    writer_gone: bool,
    /// The reader went away: writes fail.
    reader_gone: bool,
}

#[derive(Default)]
struct Dir {
    chan: Mutex<Chan>,
    ready: Condvar,
}

impl Dir {
    fn lock(&self) -> MutexGuard<'_, Chan> {
        self.chan.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One end of a [`pipe`].
pub struct PipeEnd {
    rx: Arc<Dir>,
    tx: Arc<Dir>,
    timeout: Option<Duration>,
}

/// Creates a connected pair of pipe ends.
pub fn pipe() -> (PipeEnd, PipeEnd) {
    let ab = Arc::new(Dir::default());
    let ba = Arc::new(Dir::default());
    (
        PipeEnd {
            rx: ba.clone(),
            tx: ab.clone(),
            timeout: None,
        },
        PipeEnd {
            rx: ab,
            tx: ba,
            timeout: None,
        },
    )
}

/// The error of a pipe end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeError {
    /// The other end was dropped.
    Closed,
    /// No byte came within the read timeout ([`PipeEnd::set_read_timeout`]).
    TimedOut,
}

impl fmt::Display for PipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipeError::Closed => f.write_str("the other end of the pipe is closed"),
            PipeError::TimedOut => f.write_str("pipe read timed out"),
        }
    }
}

impl std::error::Error for PipeError {}

impl embedded_io::Error for PipeError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            PipeError::Closed => embedded_io::ErrorKind::BrokenPipe,
            PipeError::TimedOut => embedded_io::ErrorKind::TimedOut,
        }
    }
}

impl From<PipeError> for io::Error {
    fn from(e: PipeError) -> Self {
        match e {
            PipeError::Closed => io::Error::new(io::ErrorKind::BrokenPipe, e),
            PipeError::TimedOut => io::Error::new(io::ErrorKind::TimedOut, e),
        }
    }
}

impl PipeEnd {
    /// How long a blocking read waits for the first byte: `None` (the default) waits for
    /// ever, as embedded-io's `Read` does; with a timeout, an empty wait ends in
    /// [`PipeError::TimedOut`].
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Bytes waiting to be read.
    pub fn available(&self) -> usize {
        self.rx.lock().buf.len()
    }

    /// True once the other end was dropped.
    pub fn is_closed(&self) -> bool {
        let c = self.rx.lock();
        c.writer_gone || c.reader_gone
    }

    /// Writes all of `data` (never blocks: the pipe has no size limit).
    pub fn send(&self, data: &[u8]) -> Result<(), PipeError> {
        let mut c = self.tx.lock();
        if c.reader_gone {
            return Err(PipeError::Closed);
        }
        c.buf.extend(data);
        drop(c);
        self.tx.ready.notify_all();
        Ok(())
    }

    /// Reads what is there, waiting at most `timeout` for the first byte. `Ok(0)` after
    /// the timeout with nothing read, or at end of file.
    pub fn recv_timeout(&self, buf: &mut [u8], timeout: Duration) -> Result<usize, PipeError> {
        let deadline = Instant::now() + timeout;
        self.recv_until(buf, Some(deadline)).map(|o| o.unwrap_or(0))
    }

    /// `Ok(None)`: the deadline passed with nothing to read.
    fn recv_until(
        &self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Result<Option<usize>, PipeError> {
        if buf.is_empty() {
            return Ok(Some(0));
        }
        let mut c = self.rx.lock();
        loop {
            if !c.buf.is_empty() {
                let n = buf.len().min(c.buf.len());
                for (dst, src) in buf.iter_mut().zip(c.buf.drain(..n)) {
                    *dst = src;
                }
                return Ok(Some(n));
            }
            if c.writer_gone {
                return Ok(Some(0));
            }
            match deadline {
                None => c = self.rx.ready.wait(c).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(None);
                    }
                    c = self
                        .rx
                        .ready
                        .wait_timeout(c, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// Reads until `pattern` has been read (everything up to and including it is
    /// returned) or `timeout` passed (everything read so far is returned). Bytes after
    /// the pattern stay in the pipe.
    pub fn read_until(&mut self, pattern: &[u8], timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            if !pattern.is_empty() && got.ends_with(pattern) {
                return got;
            }
            match self.recv_until(&mut byte, Some(deadline)) {
                Ok(Some(1)) => got.push(byte[0]),
                _ => return got,
            }
        }
    }

    /// Reads everything that arrives within `window` (waiting the whole window).
    pub fn read_for(&mut self, window: Duration) -> Vec<u8> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Some(n)) = self.recv_until(&mut buf, Some(deadline)) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    /// Reads until nothing new has arrived for `quiet`, at most `max` in all.
    pub fn read_quiet(&mut self, quiet: Duration, max: Duration) -> Vec<u8> {
        let end = Instant::now() + max;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let now = Instant::now();
            if now >= end {
                return got;
            }
            let d = (now + quiet).min(end);
            match self.recv_until(&mut buf, Some(d)) {
                Ok(Some(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => return got,
            }
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.tx.lock().writer_gone = true;
        self.tx.ready.notify_all();
        self.rx.lock().reader_gone = true;
        self.rx.ready.notify_all();
    }
}

impl fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeEnd")
            .field("available", &self.available())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl embedded_io::ErrorType for PipeEnd {
    type Error = PipeError;
}

impl embedded_io::Read for PipeEnd {
    /// Blocks until at least one byte is there (or the read timeout passes); `Ok(0)` at
    /// end of file.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeError> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        match self.recv_until(buf, deadline)? {
            Some(n) => Ok(n),
            None => Err(PipeError::TimedOut),
        }
    }
}

impl embedded_io::ReadReady for PipeEnd {
    /// True when a byte waits, or at end of file (a read then returns `Ok(0)` at once).
    fn read_ready(&mut self) -> Result<bool, PipeError> {
        let c = self.rx.lock();
        Ok(!c.buf.is_empty() || c.writer_gone)
    }
}

impl embedded_io::Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> Result<usize, PipeError> {
        self.send(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), PipeError> {
        Ok(())
    }
}

impl io::Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(embedded_io::Read::read(self, buf)?)
    }
}

impl io::Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_both_ways_and_close_is_seen() {
        let (mut a, mut b) = pipe();
        a.send(b"ping").unwrap();
        b.send(b"pong").unwrap();
        assert_eq!(b.read_until(b"ng", Duration::from_secs(1)), b"ping");
        assert_eq!(a.read_until(b"ng", Duration::from_secs(1)), b"pong");
        drop(a);
        let mut buf = [0u8; 4];
        assert_eq!(embedded_io::Read::read(&mut b, &mut buf), Ok(0));
        assert!(embedded_io::ReadReady::read_ready(&mut b).unwrap());
        assert_eq!(b.send(b"x"), Err(PipeError::Closed));
    }

    #[test]
    fn read_timeout() {
        let (mut a, _b) = pipe();
        a.set_read_timeout(Some(Duration::from_millis(10)));
        let mut buf = [0u8; 4];
        assert_eq!(
            embedded_io::Read::read(&mut a, &mut buf),
            Err(PipeError::TimedOut)
        );
        assert!(!embedded_io::ReadReady::read_ready(&mut a).unwrap());
    }
}
