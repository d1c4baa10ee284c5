//! UART adapters: turn HAL serial ports into the [`embedded_io`] device the
//! client expects.
//!
//! The client talks to the module through one value implementing
//! [`embedded_io::Read`] + [`embedded_io::ReadReady`] + [`embedded_io::Write`].
//! Many HALs (for example `stm32f1xx-hal` 0.11) expose their UARTs only through
//! the word-at-a-time, non-blocking [`embedded_hal_nb::serial`] traits. This
//! module bridges the two, in two flavours:
//!
//! # Polled: [`NbSerial`]
//!
//! [`NbSerial`] wraps a serial port implementing both
//! [`embedded_hal_nb::serial::Read`] and [`embedded_hal_nb::serial::Write`].
//! Received bytes are only taken out of the UART when the driver polls it.
//! Most small MCUs (an STM32F1 USART, for instance) hold **one** received
//! byte in hardware; at 115 200 baud the next one arrives about 87 µs later
//! and overwrites it (an *overrun*). Polling is therefore only reliable when
//! the module sends little data and the program polls constantly. In
//! particular, while [`NbSerial`] is busy *sending* a long command, nobody
//! reads, so a module talking at the same time (an MQTT message arriving)
//! loses bytes. Use it for bring-up, for tests, or when the HAL itself buffers
//! reception (USB CDC, a HAL with a DMA ring buffer, a host serial port).
//!
//! # Interrupt-fed: [`RxBuffer`] + [`BufferedSerial`]
//!
//! For production use, let the UART's RX interrupt move every byte into an
//! [`RxBuffer`] as soon as it arrives:
//!
//! 1. create an [`RxBuffer`] with `'static` lifetime (`cortex_m::singleton!`,
//!    `static_cell::StaticCell`, an RTIC local resource; on the host a local
//!    variable is fine) and [`split`](RxBuffer::split) it;
//! 2. move the [`RxProducer`] into the RX interrupt handler, which calls
//!    [`RxProducer::push`] for every received byte;
//! 3. give the [`RxConsumer`] plus the TX half of the UART (wrapped in
//!    [`NbTx`] if it only implements `embedded-hal-nb`) to
//!    [`BufferedSerial::new`], and the result to the client.
//!
//! The buffer never blocks the interrupt: when it is full the **new** byte is
//! dropped and counted, see [`RxProducer::push`] and
//! [`RxConsumer::take_overflows`]. Size it for the longest burst the module
//! sends while the main loop is busy (e.g. one MQTT message plus its `+MQTTSUBRECV`
//! header).
//!
//! This module contains no `unsafe`: handing the producer to the interrupt is
//! done with the usual safe tools of your platform. A sketch for a Blue Pill
//! with `stm32f1xx-hal`, `cortex-m`, `cortex-m-rt` and `critical-section`
//! (target-specific, so not compiled here; adapt names to your HAL version):
//!
//! ```text
//! use core::cell::RefCell;
//! use critical_section::Mutex;
//! use at_wifi::serial::{BufferedSerial, NbTx, RxBuffer, RxProducer};
//! use embedded_hal_nb::serial::Read as _;
//! use stm32f1xx_hal::{pac::{self, interrupt}, serial::Rx};
//!
//! type Producer = RxProducer<'static, 512>;
//! static RX: Mutex<RefCell<Option<(Rx<pac::USART2>, Producer)>>> =
//!     Mutex::new(RefCell::new(None));
//!
//! #[cortex_m_rt::entry]
//! fn main() -> ! {
//!     // ... clocks, pins, `let serial = Serial::new(dp.USART2, ...)` ...
//!     let (tx, mut rx) = serial.split();
//!     rx.listen(); // enable the RXNE interrupt
//!
//!     let buffer: &'static mut RxBuffer<512> =
//!         cortex_m::singleton!(: RxBuffer<512> = RxBuffer::new()).unwrap();
//!     let (producer, consumer) = buffer.split();
//!     critical_section::with(|cs| RX.borrow_ref_mut(cs).replace((rx, producer)));
//!     unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::USART2) };
//!
//!     let uart = BufferedSerial::new(NbTx::new(tx), consumer);
//!     // let mut client = Client::new(uart, ...);
//!     loop { /* ... */ }
//! }
//!
//! #[interrupt]
//! fn USART2() {
//!     critical_section::with(|cs| {
//!         if let Some((rx, producer)) = RX.borrow_ref_mut(cs).as_mut() {
//!             loop {
//!                 match rx.read() {
//!                     Ok(byte) => { producer.push(byte); }
//!                     // A hardware overrun lost at least one byte: count it.
//!                     Err(nb::Error::Other(_)) => producer.count_lost_byte(),
//!                     Err(nb::Error::WouldBlock) => break,
//!                 }
//!             }
//!         }
//!     });
//! }
//! ```
//!
//! (The `unsafe` there is the application's NVIC unmask, not this crate's.)

use core::convert::Infallible;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use embedded_hal_nb::serial;
use heapless::spsc::{Consumer, Producer, Queue};

// ---------------------------------------------------------------------------
// Error type of the embedded-hal-nb adapters
// ---------------------------------------------------------------------------

/// Error of [`NbSerial`] and [`NbTx`]: the [`serial::ErrorKind`] reported by
/// the wrapped `embedded-hal-nb` serial port.
///
/// HAL-specific error details are reduced to the generic
/// [`serial::ErrorKind`] (via [`serial::Error::kind`]) so that the adapter's
/// error type does not depend on the HAL. As an [`embedded_io::Error`] the
/// kinds map as follows:
///
/// | [`serial::ErrorKind`]               | [`embedded_io::ErrorKind`]   | why                                      |
/// |-------------------------------------|------------------------------|------------------------------------------|
/// | `Overrun`                           | `Other`                      | bytes were lost; the data itself was fine|
/// | `FrameFormat`, `Parity`, `Noise`    | `InvalidData`                | the received byte is corrupt             |
/// | `Other` (and future kinds)          | `Other`                      | nothing more specific is known           |
///
/// Use [`SerialError::serial_kind`] to get the exact UART condition back.
///
/// ```
/// use at_wifi::serial::SerialError;
/// use embedded_hal_nb::serial::ErrorKind as UartKind;
/// use embedded_io::{Error as _, ErrorKind};
///
/// let e = SerialError::new(UartKind::Parity);
/// assert_eq!(e.kind(), ErrorKind::InvalidData);
/// assert_eq!(e.serial_kind(), UartKind::Parity);
/// assert_eq!(SerialError::from(UartKind::Overrun).kind(), ErrorKind::Other);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SerialError {
    kind: serial::ErrorKind,
}

impl SerialError {
    /// Creates an error for the given UART condition.
    pub const fn new(kind: serial::ErrorKind) -> Self {
        Self { kind }
    }

    /// The UART condition that caused this error.
    pub const fn serial_kind(&self) -> serial::ErrorKind {
        self.kind
    }

    fn from_serial<E: serial::Error>(err: &E) -> Self {
        Self::new(err.kind())
    }
}

impl From<serial::ErrorKind> for SerialError {
    fn from(kind: serial::ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for SerialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UART error: {}", self.kind)
    }
}

impl core::error::Error for SerialError {}

impl embedded_io::Error for SerialError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.kind {
            serial::ErrorKind::FrameFormat
            | serial::ErrorKind::Parity
            | serial::ErrorKind::Noise => embedded_io::ErrorKind::InvalidData,
            // `Overrun`, `Other` and kinds added to the non-exhaustive enum later.
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

// ---------------------------------------------------------------------------
// Shared embedded-hal-nb write path (NbSerial and NbTx)
// ---------------------------------------------------------------------------

/// Writes at least one byte of a non-empty `buf` (blocking for the first one),
/// then as many more as the port accepts without blocking.
///
/// An error after some bytes were accepted is kept in `pending` and reported
/// by the next write-side call, so the bytes already written are still
/// reported as written and no error is lost.
fn nb_write<S: serial::Write<u8>>(
    port: &mut S,
    pending: &mut Option<SerialError>,
    buf: &[u8],
) -> Result<usize, SerialError> {
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(0);
    };
    if let Some(err) = pending.take() {
        return Err(err);
    }
    nb::block!(port.write(first)).map_err(|e| SerialError::from_serial(&e))?;
    let mut written = 1;
    for &byte in rest {
        match port.write(byte) {
            Ok(()) => written += 1,
            Err(nb::Error::WouldBlock) => break,
            Err(nb::Error::Other(e)) => {
                *pending = Some(SerialError::from_serial(&e));
                break;
            }
        }
    }
    Ok(written)
}

/// Reports a pending write error, else blocks until the port has flushed.
fn nb_flush<S: serial::Write<u8>>(
    port: &mut S,
    pending: &mut Option<SerialError>,
) -> Result<(), SerialError> {
    if let Some(err) = pending.take() {
        return Err(err);
    }
    nb::block!(port.flush()).map_err(|e| SerialError::from_serial(&e))
}

// ---------------------------------------------------------------------------
// NbSerial
// ---------------------------------------------------------------------------

/// Polled adapter from an [`embedded_hal_nb::serial`] port to
/// [`embedded_io`] `Read` + `ReadReady` + `Write`.
///
/// * [`ReadReady::read_ready`](embedded_io::ReadReady::read_ready) performs one
///   non-blocking read, because `embedded-hal-nb` has no way to peek; a byte
///   obtained that way is kept in a one-byte look-ahead and handed out first by
///   the next [`read`](embedded_io::Read::read). No byte is lost or reordered.
/// * [`read`](embedded_io::Read::read) blocks until at least one byte is
///   available, then returns every further byte the port yields without
///   blocking (up to `buf.len()`). An empty `buf` returns `Ok(0)` at once.
/// * [`write`](embedded_io::Write::write) blocks until the first byte is
///   accepted, then writes as many more as the port accepts without blocking;
///   it never returns `Ok(0)` for a non-empty buffer.
/// * [`flush`](embedded_io::Write::flush) blocks on the port's `flush`.
///
/// If the port reports an error after some bytes were already transferred,
/// `read`/`write` return those bytes and the error is reported by the next
/// call on the same side (`read`/`read_ready`, or `write`/`flush`), so it
/// appears at its position in the stream.
///
/// Reception is only as reliable as your polling; see the
/// [module documentation](self) for when to prefer [`BufferedSerial`].
///
/// The port only needs `embedded-hal-nb` `Read` for the read side and
/// `Write` for the write side, so `NbSerial` can also wrap a lone RX or TX
/// half.
///
/// ```
/// use at_wifi::serial::NbSerial;
/// use embedded_io::{Read, ReadReady, Write};
///
/// /// A loop-back "UART": everything written can be read back.
/// #[derive(Default)]
/// struct Loopback(std::collections::VecDeque<u8>);
/// impl embedded_hal_nb::serial::ErrorType for Loopback {
///     type Error = core::convert::Infallible;
/// }
/// impl embedded_hal_nb::serial::Read<u8> for Loopback {
///     fn read(&mut self) -> nb::Result<u8, Self::Error> {
///         self.0.pop_front().ok_or(nb::Error::WouldBlock)
///     }
/// }
/// impl embedded_hal_nb::serial::Write<u8> for Loopback {
///     fn write(&mut self, b: u8) -> nb::Result<(), Self::Error> {
///         self.0.push_back(b);
///         Ok(())
///     }
///     fn flush(&mut self) -> nb::Result<(), Self::Error> {
///         Ok(())
///     }
/// }
///
/// let mut uart = NbSerial::new(Loopback::default());
/// assert!(!uart.read_ready()?);
/// uart.write_all(b"AT\r\n")?;
/// assert!(uart.read_ready()?); // 'A' is now in the look-ahead
/// let mut buf = [0u8; 16];
/// let n = uart.read(&mut buf)?;
/// assert_eq!(&buf[..n], b"AT\r\n");
/// # Ok::<(), at_wifi::serial::SerialError>(())
/// ```
#[derive(Debug)]
pub struct NbSerial<S> {
    port: S,
    /// Byte taken out of the port by `read_ready`, not yet handed out.
    lookahead: Option<u8>,
    /// Receive error seen after some bytes were already returned.
    rx_error: Option<SerialError>,
    /// Transmit error seen after some bytes were already accepted.
    tx_error: Option<SerialError>,
}

impl<S> NbSerial<S> {
    /// Wraps an `embedded-hal-nb` serial port.
    pub const fn new(port: S) -> Self {
        Self {
            port,
            lookahead: None,
            rx_error: None,
            tx_error: None,
        }
    }

    /// Returns the wrapped port.
    ///
    /// A byte held in the look-ahead (after `read_ready` returned `true` and
    /// before it was `read`) and a not yet reported error are discarded; read
    /// until `read_ready` is `false` first if that matters.
    pub fn into_inner(self) -> S {
        self.port
    }

    /// Mutable access to the wrapped port, e.g. to change the baud rate.
    ///
    /// Reading from the port directly bypasses the one-byte look-ahead, so it
    /// can reorder the received stream.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.port
    }
}

impl<S: serial::ErrorType> embedded_io::ErrorType for NbSerial<S> {
    type Error = SerialError;
}

impl<S: serial::Read<u8>> embedded_io::Read for NbSerial<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(err) = self.rx_error.take() {
            return Err(err);
        }
        buf[0] = match self.lookahead.take() {
            Some(byte) => byte,
            None => nb::block!(self.port.read()).map_err(|e| SerialError::from_serial(&e))?,
        };
        let mut n = 1;
        while n < buf.len() {
            match self.port.read() {
                Ok(byte) => {
                    buf[n] = byte;
                    n += 1;
                }
                Err(nb::Error::WouldBlock) => break,
                Err(nb::Error::Other(e)) => {
                    self.rx_error = Some(SerialError::from_serial(&e));
                    break;
                }
            }
        }
        Ok(n)
    }
}

impl<S: serial::Read<u8>> embedded_io::ReadReady for NbSerial<S> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        if self.lookahead.is_some() {
            return Ok(true);
        }
        if let Some(err) = self.rx_error.take() {
            return Err(err);
        }
        match self.port.read() {
            Ok(byte) => {
                self.lookahead = Some(byte);
                Ok(true)
            }
            Err(nb::Error::WouldBlock) => Ok(false),
            Err(nb::Error::Other(e)) => Err(SerialError::from_serial(&e)),
        }
    }
}

impl<S: serial::Write<u8>> embedded_io::Write for NbSerial<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        nb_write(&mut self.port, &mut self.tx_error, buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        nb_flush(&mut self.port, &mut self.tx_error)
    }
}

// ---------------------------------------------------------------------------
// NbTx
// ---------------------------------------------------------------------------

/// Adapter from an [`embedded_hal_nb::serial::Write`] port (typically the TX
/// half of a split UART) to [`embedded_io::Write`], for use with
/// [`BufferedSerial`].
///
/// Same write semantics as [`NbSerial`]: `write` blocks until the first byte
/// is accepted, then writes as many more as the port takes without blocking,
/// and never returns `Ok(0)` for a non-empty buffer; `flush` blocks on the
/// port's `flush`. An error after some bytes were accepted is reported by the
/// next `write`/`flush`.
///
/// ```
/// use at_wifi::serial::NbTx;
/// use embedded_io::Write;
///
/// struct Tx(Vec<u8>);
/// impl embedded_hal_nb::serial::ErrorType for Tx {
///     type Error = core::convert::Infallible;
/// }
/// impl embedded_hal_nb::serial::Write<u8> for Tx {
///     fn write(&mut self, b: u8) -> nb::Result<(), Self::Error> {
///         self.0.push(b);
///         Ok(())
///     }
///     fn flush(&mut self) -> nb::Result<(), Self::Error> {
///         Ok(())
///     }
/// }
///
/// let mut tx = NbTx::new(Tx(Vec::new()));
/// tx.write_all(b"AT+RST\r\n")?;
/// tx.flush()?;
/// assert_eq!(tx.into_inner().0, b"AT+RST\r\n");
/// # Ok::<(), at_wifi::serial::SerialError>(())
/// ```
#[derive(Debug)]
pub struct NbTx<S> {
    port: S,
    pending: Option<SerialError>,
}

impl<S> NbTx<S> {
    /// Wraps an `embedded-hal-nb` serial transmitter.
    pub const fn new(port: S) -> Self {
        Self {
            port,
            pending: None,
        }
    }

    /// Returns the wrapped transmitter (a not yet reported error is discarded).
    pub fn into_inner(self) -> S {
        self.port
    }

    /// Mutable access to the wrapped transmitter.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.port
    }
}

impl<S: serial::ErrorType> embedded_io::ErrorType for NbTx<S> {
    type Error = SerialError;
}

impl<S: serial::Write<u8>> embedded_io::Write for NbTx<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        nb_write(&mut self.port, &mut self.pending, buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        nb_flush(&mut self.port, &mut self.pending)
    }
}

// ---------------------------------------------------------------------------
// RxBuffer
// ---------------------------------------------------------------------------

/// Lock-free receive buffer filled from a UART RX interrupt and drained by the
/// main loop, built on [`heapless::spsc::Queue`].
///
/// **Capacity: `N - 1` bytes.** heapless 0.9's SPSC queue keeps one slot free
/// to tell "full" from "empty", so an `RxBuffer<256>` stores at most 255 bytes
/// ([`RxBuffer::capacity`]). `N` must be at least 2 (checked at compile
/// time); a power of two makes the index arithmetic cheaper.
///
/// `new` is a `const fn`, so the buffer can live in a `static` (behind
/// `cortex_m::singleton!`, `static_cell::StaticCell` or an RTIC resource, which
/// provide the `&'static mut` that [`split`](RxBuffer::split) needs without
/// `unsafe` in your code), or simply on the stack in tests.
///
/// Needs only atomic load/store of `usize` and `u32`, so it works on
/// `thumbv6m` (Cortex-M0) as well.
///
/// ```
/// use at_wifi::serial::RxBuffer;
/// use embedded_io::{Read, ReadReady};
///
/// let mut buffer = RxBuffer::<8>::new();
/// assert_eq!(buffer.capacity(), 7);
/// let (mut producer, mut consumer) = buffer.split();
///
/// // In the RX interrupt:
/// for &b in b"OK\r\n" {
///     assert!(producer.push(b));
/// }
///
/// // In the main loop:
/// let mut line = [0u8; 8];
/// assert!(consumer.read_ready()?);
/// let n = consumer.read(&mut line)?;
/// assert_eq!(&line[..n], b"OK\r\n");
/// assert!(!consumer.read_ready()?);
/// # Ok::<(), core::convert::Infallible>(())
/// ```
#[derive(Debug)]
pub struct RxBuffer<const N: usize> {
    queue: Queue<u8, N>,
    /// Bytes dropped because the queue was full. Written only by the producer.
    overflows: AtomicU32,
    /// Value of `overflows` at the consumer's last `take_overflows`. Only the
    /// consumer touches it; kept here so it survives a re-`split`.
    seen: u32,
}

impl<const N: usize> RxBuffer<N> {
    /// Creates an empty buffer able to hold `N - 1` bytes.
    ///
    /// Fails to compile if `N < 2`.
    pub const fn new() -> Self {
        Self {
            queue: Queue::new(),
            overflows: AtomicU32::new(0),
            seen: 0,
        }
    }

    /// Number of bytes the buffer can hold: `N - 1`.
    pub const fn capacity(&self) -> usize {
        N - 1
    }

    /// Splits the buffer into the interrupt side ([`RxProducer`]) and the main
    /// loop side ([`RxConsumer`]).
    ///
    /// Bytes and counters survive a later re-split (after both halves were
    /// dropped).
    pub fn split(&mut self) -> (RxProducer<'_, N>, RxConsumer<'_, N>) {
        let (producer, consumer) = self.queue.split();
        (
            RxProducer {
                queue: producer,
                overflows: &self.overflows,
            },
            RxConsumer {
                queue: consumer,
                overflows: &self.overflows,
                seen: &mut self.seen,
            },
        )
    }
}

impl<const N: usize> Default for RxBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Interrupt side of an [`RxBuffer`]: stores received bytes.
///
/// Every method is wait-free (a few loads and stores), so it is suitable for
/// an interrupt handler. `RxProducer` is `Send`, so it can be moved into a
/// `critical_section::Mutex` or an RTIC resource.
pub struct RxProducer<'a, const N: usize> {
    queue: Producer<'a, u8>,
    overflows: &'a AtomicU32,
}

impl<const N: usize> RxProducer<'_, N> {
    /// Stores `byte`; returns `false` if the buffer was full.
    ///
    /// When the buffer is full the **new** byte is dropped and counted as an
    /// overflow (see [`RxConsumer::take_overflows`]); the bytes already
    /// stored are kept untouched. Keeping the oldest data means that what the
    /// consumer reads is an unbroken prefix of the stream up to the point of
    /// loss, so everything before the gap still parses, and the parser only
    /// has to resynchronise once, after the gap.
    ///
    /// ```
    /// use at_wifi::serial::RxBuffer;
    ///
    /// let mut buffer = RxBuffer::<4>::new(); // holds 3 bytes
    /// let (mut producer, consumer) = buffer.split();
    /// assert!(producer.push(b'a') && producer.push(b'b') && producer.push(b'c'));
    /// assert!(!producer.push(b'd')); // dropped
    /// assert_eq!(producer.overflows(), 1);
    /// assert_eq!(consumer.len(), 3);
    /// ```
    pub fn push(&mut self, byte: u8) -> bool {
        match self.queue.enqueue(byte) {
            Ok(()) => true,
            Err(_) => {
                self.count_lost_byte();
                false
            }
        }
    }

    /// Counts one byte as lost without storing anything, e.g. when the UART
    /// reports a hardware overrun. The consumer sees it in
    /// [`RxConsumer::overflows`] / [`RxConsumer::take_overflows`] like a
    /// byte dropped by [`push`](RxProducer::push).
    pub fn count_lost_byte(&mut self) {
        // Only the producer writes the counter, so load + store is race-free
        // and needs no read-modify-write atomics (unavailable on thumbv6m).
        let count = self.overflows.load(Ordering::Relaxed);
        self.overflows
            .store(count.wrapping_add(1), Ordering::Relaxed);
    }

    /// Total number of bytes dropped (or counted lost) since the buffer was
    /// created; wraps around after `u32::MAX`.
    pub fn overflows(&self) -> u32 {
        self.overflows.load(Ordering::Relaxed)
    }

    /// Number of bytes currently stored.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// `true` if no byte is stored.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// `true` if the next [`push`](RxProducer::push) would be dropped.
    pub fn is_full(&self) -> bool {
        !self.queue.ready()
    }

    /// Number of bytes the buffer can hold: `N - 1`.
    pub const fn capacity(&self) -> usize {
        N - 1
    }
}

impl<const N: usize> fmt::Debug for RxProducer<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RxProducer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("overflows", &self.overflows())
            .finish()
    }
}

/// Main-loop side of an [`RxBuffer`]: an [`embedded_io::Read`] +
/// [`embedded_io::ReadReady`] source that never fails
/// (`Error = `[`Infallible`]).
///
/// * [`read_ready`](embedded_io::ReadReady::read_ready) is `true` when at
///   least one byte is stored.
/// * [`read`](embedded_io::Read::read) returns all stored bytes up to
///   `buf.len()`. If the buffer is empty it **busy-waits** (with
///   [`core::hint::spin_loop`]) until the interrupt delivers a byte, as
///   `embedded_io::Read` requires; without a running producer that is forever.
///   Check `read_ready` first (the crate's client always does), or use the
///   non-blocking [`try_read`](RxConsumer::try_read).
///
/// Lost bytes are reported out of band, by [`overflows`](RxConsumer::overflows)
/// and [`take_overflows`](RxConsumer::take_overflows).
pub struct RxConsumer<'a, const N: usize> {
    queue: Consumer<'a, u8>,
    overflows: &'a AtomicU32,
    seen: &'a mut u32,
}

impl<const N: usize> RxConsumer<'_, N> {
    /// Copies up to `buf.len()` stored bytes into `buf` without waiting;
    /// returns how many (0 if the buffer is empty).
    pub fn try_read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        for slot in buf.iter_mut() {
            match self.queue.dequeue() {
                Some(byte) => {
                    *slot = byte;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    /// Total number of bytes dropped (or counted lost) by the producer since
    /// the buffer was created; wraps around after `u32::MAX`.
    pub fn overflows(&self) -> u32 {
        self.overflows.load(Ordering::Relaxed)
    }

    /// Number of bytes dropped since the previous call (or since the buffer
    /// was created, for the first call).
    ///
    /// A non-zero value means the stream has a gap right after the bytes that
    /// were stored when the buffer filled up: discard the partial response and
    /// resynchronise. Correct across wrap-around of the total as long as fewer
    /// than 2³² bytes are dropped between two calls.
    ///
    /// ```
    /// use at_wifi::serial::RxBuffer;
    ///
    /// let mut buffer = RxBuffer::<2>::new(); // holds 1 byte
    /// let (mut producer, mut consumer) = buffer.split();
    /// producer.push(1);
    /// producer.push(2); // dropped
    /// producer.push(3); // dropped
    /// assert_eq!(consumer.take_overflows(), 2);
    /// assert_eq!(consumer.take_overflows(), 0);
    /// assert_eq!(consumer.overflows(), 2);
    /// ```
    pub fn take_overflows(&mut self) -> u32 {
        let total = self.overflows();
        let new = total.wrapping_sub(*self.seen);
        *self.seen = total;
        new
    }

    /// Number of bytes currently stored.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// `true` if no byte is stored.
    pub fn is_empty(&self) -> bool {
        !self.queue.ready()
    }

    /// Number of bytes the buffer can hold: `N - 1`.
    pub const fn capacity(&self) -> usize {
        N - 1
    }
}

impl<const N: usize> fmt::Debug for RxConsumer<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RxConsumer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("overflows", &self.overflows())
            .finish()
    }
}

impl<const N: usize> embedded_io::ErrorType for RxConsumer<'_, N> {
    type Error = Infallible;
}

impl<const N: usize> embedded_io::Read for RxConsumer<'_, N> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.queue.ready() {
            core::hint::spin_loop();
        }
        Ok(self.try_read(buf))
    }
}

impl<const N: usize> embedded_io::ReadReady for RxConsumer<'_, N> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.queue.ready())
    }
}

// ---------------------------------------------------------------------------
// BufferedSerial
// ---------------------------------------------------------------------------

/// Error of [`BufferedSerial`]: only the transmit side can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferedError<E> {
    /// The transmitter reported an error.
    Tx(E),
}

impl<E: fmt::Display> fmt::Display for BufferedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tx(e) => write!(f, "UART transmit error: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for BufferedError<E> {}

impl<E: embedded_io::Error> embedded_io::Error for BufferedError<E> {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Self::Tx(e) => e.kind(),
        }
    }
}

/// Joins a transmitter and an infallible receiver (normally an
/// [`RxConsumer`]) into the single `Read + ReadReady + Write` device the
/// client takes.
///
/// * `T`: any [`embedded_io::Write`]; wrap an `embedded-hal-nb` TX half in
///   [`NbTx`].
/// * `R`: any [`embedded_io::Read`] (+ [`embedded_io::ReadReady`]) whose
///   error type is [`Infallible`], such as [`RxConsumer`]. Reads and
///   `read_ready` are forwarded unchanged, so `read` busy-waits on an empty
///   [`RxConsumer`] (see there).
///
/// Errors come only from the transmitter, as [`BufferedError::Tx`]. Receive
/// overflows are not errors; check them through [`rx_mut`](Self::rx_mut)
/// (`take_overflows`).
///
/// ```
/// use at_wifi::serial::{BufferedSerial, RxBuffer};
/// use embedded_io::{Read, ReadReady, Write};
///
/// let mut buffer = RxBuffer::<64>::new();
/// let (mut producer, consumer) = buffer.split();
/// // Any embedded_io::Write works as the transmitter; here a byte slice.
/// let mut sent = [0u8; 16];
/// let mut uart = BufferedSerial::new(&mut sent[..], consumer);
///
/// uart.write_all(b"AT\r\n")?;
/// for &b in b"\r\nOK\r\n" {
///     producer.push(b); // normally done by the RX interrupt
/// }
/// let mut reply = [0u8; 16];
/// assert!(uart.read_ready()?);
/// let n = uart.read(&mut reply)?;
/// assert_eq!(&reply[..n], b"\r\nOK\r\n");
/// assert_eq!(uart.rx_mut().take_overflows(), 0);
///
/// let (_tx, _rx) = uart.into_parts();
/// assert_eq!(&sent[..4], b"AT\r\n");
/// # Ok::<(), at_wifi::serial::BufferedError<embedded_io::SliceWriteError>>(())
/// ```
#[derive(Debug)]
pub struct BufferedSerial<T, R> {
    tx: T,
    rx: R,
}

impl<T, R> BufferedSerial<T, R> {
    /// Joins a transmitter and a receiver.
    pub const fn new(tx: T, rx: R) -> Self {
        Self { tx, rx }
    }

    /// Shared access to the receiver (e.g. [`RxConsumer::overflows`]).
    pub fn rx(&self) -> &R {
        &self.rx
    }

    /// Mutable access to the receiver (e.g. [`RxConsumer::take_overflows`]).
    pub fn rx_mut(&mut self) -> &mut R {
        &mut self.rx
    }

    /// Shared access to the transmitter.
    pub fn tx(&self) -> &T {
        &self.tx
    }

    /// Mutable access to the transmitter.
    pub fn tx_mut(&mut self) -> &mut T {
        &mut self.tx
    }

    /// Splits back into `(transmitter, receiver)`.
    pub fn into_parts(self) -> (T, R) {
        (self.tx, self.rx)
    }
}

impl<T: embedded_io::ErrorType, R> embedded_io::ErrorType for BufferedSerial<T, R> {
    type Error = BufferedError<T::Error>;
}

impl<T, R> embedded_io::Read for BufferedSerial<T, R>
where
    T: embedded_io::ErrorType,
    R: embedded_io::Read<Error = Infallible>,
{
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.rx.read(buf).map_err(|never| match never {})
    }
}

impl<T, R> embedded_io::ReadReady for BufferedSerial<T, R>
where
    T: embedded_io::ErrorType,
    R: embedded_io::ReadReady<Error = Infallible>,
{
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        self.rx.read_ready().map_err(|never| match never {})
    }
}

impl<T, R> embedded_io::Write for BufferedSerial<T, R>
where
    T: embedded_io::Write,
{
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.tx.write(buf).map_err(BufferedError::Tx)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.tx.flush().map_err(BufferedError::Tx)
    }
}
