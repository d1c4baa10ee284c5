//! Host tests for `at_wifi::serial`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use at_wifi::serial::{BufferedError, BufferedSerial, NbSerial, NbTx, RxBuffer, SerialError};
use embedded_hal_nb::serial::{self, ErrorKind as UartKind};
use embedded_io::{Error as _, ErrorKind, Read, ReadReady, Write};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Fake embedded-hal-nb UART
// ---------------------------------------------------------------------------

/// Scripted `embedded-hal-nb` UART.
#[derive(Default)]
struct FakeUart {
    /// Bytes (or errors) the "wire" has delivered and not yet been read.
    input: VecDeque<Result<u8, UartKind>>,
    /// Everything written.
    output: Vec<u8>,
    /// Return `WouldBlock` on every other read / write call.
    flaky: bool,
    read_toggle: bool,
    write_toggle: bool,
    /// Fail (once) the write of the byte that would get this index in `output`.
    fail_write_at: Option<(usize, UartKind)>,
    /// Number of calls to `read` (to check `read(&mut [])` does not touch the port).
    read_calls: usize,
    flushes: usize,
}

impl FakeUart {
    fn with_input(bytes: &[u8]) -> Self {
        let mut uart = Self::default();
        uart.feed(bytes);
        uart
    }

    fn flaky() -> Self {
        Self {
            flaky: true,
            ..Self::default()
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.input.extend(bytes.iter().map(|&b| Ok(b)));
    }

    fn feed_error(&mut self, kind: UartKind) {
        self.input.push_back(Err(kind));
    }
}

impl serial::ErrorType for FakeUart {
    type Error = UartKind;
}

impl serial::Read<u8> for FakeUart {
    fn read(&mut self) -> nb::Result<u8, UartKind> {
        self.read_calls += 1;
        if self.flaky {
            self.read_toggle = !self.read_toggle;
            if self.read_toggle {
                return Err(nb::Error::WouldBlock);
            }
        }
        match self.input.pop_front() {
            Some(Ok(b)) => Ok(b),
            Some(Err(kind)) => Err(nb::Error::Other(kind)),
            None => Err(nb::Error::WouldBlock),
        }
    }
}

impl serial::Write<u8> for FakeUart {
    fn write(&mut self, byte: u8) -> nb::Result<(), UartKind> {
        if self.flaky {
            self.write_toggle = !self.write_toggle;
            if self.write_toggle {
                return Err(nb::Error::WouldBlock);
            }
        }
        if let Some((at, kind)) = self.fail_write_at {
            if at == self.output.len() {
                self.fail_write_at = None;
                return Err(nb::Error::Other(kind));
            }
        }
        self.output.push(byte);
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), UartKind> {
        if self.flaky {
            self.write_toggle = !self.write_toggle;
            if self.write_toggle {
                return Err(nb::Error::WouldBlock);
            }
        }
        self.flushes += 1;
        Ok(())
    }
}

/// Reads everything currently available (never blocks on an empty fake).
fn drain(uart: &mut NbSerial<FakeUart>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    while uart.read_ready().unwrap() {
        let n = uart.read(&mut buf).unwrap();
        assert!(n > 0);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

// ---------------------------------------------------------------------------
// NbSerial: reading
// ---------------------------------------------------------------------------

#[test]
fn read_returns_all_available_bytes() {
    let mut uart = NbSerial::new(FakeUart::with_input(b"0123456789"));
    let mut buf = [0u8; 16];
    assert_eq!(uart.read(&mut buf).unwrap(), 10);
    assert_eq!(&buf[..10], b"0123456789");
    assert!(!uart.read_ready().unwrap());
}

#[test]
fn read_after_read_ready_returns_lookahead_plus_rest() {
    let mut uart = NbSerial::new(FakeUart::with_input(b"0123456789"));
    assert!(uart.read_ready().unwrap());
    assert!(
        uart.read_ready().unwrap(),
        "repeated read_ready keeps the byte"
    );
    let mut buf = [0u8; 4];
    assert_eq!(uart.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"0123");
    assert_eq!(uart.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"4567");
    assert!(uart.read_ready().unwrap());
    assert_eq!(uart.read(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"89");
    assert!(!uart.read_ready().unwrap());
}

#[test]
fn read_with_empty_buffer_is_ok_zero_and_consumes_nothing() {
    let mut uart = NbSerial::new(FakeUart::with_input(b"xy"));
    assert_eq!(uart.read(&mut []).unwrap(), 0);
    assert_eq!(uart.inner_mut().read_calls, 0);
    assert!(uart.read_ready().unwrap());
    assert_eq!(uart.read(&mut []).unwrap(), 0);
    assert_eq!(drain(&mut uart), b"xy");
}

#[test]
fn read_blocks_through_would_block_until_a_byte_arrives() {
    let mut uart = NbSerial::new(FakeUart::flaky());
    uart.inner_mut().feed(b"A");
    let mut buf = [0u8; 4];
    // The first poll returns WouldBlock; `read` must retry, not return Ok(0).
    assert_eq!(uart.read(&mut buf).unwrap(), 1);
    assert_eq!(buf[0], b'A');
}

#[test]
fn into_inner_returns_the_port() {
    let mut uart = NbSerial::new(FakeUart::with_input(b"abc"));
    uart.write_all(b"hi").unwrap();
    let fake = uart.into_inner();
    assert_eq!(fake.output, b"hi");
    assert_eq!(fake.input.len(), 3);
}

#[derive(Debug, Clone)]
enum RxOp {
    /// `n` bytes arrive on the wire.
    Arrive(usize),
    ReadReady,
    /// `read` with a buffer of this size (only issued when it cannot hang).
    Read(usize),
}

fn rx_op() -> impl Strategy<Value = RxOp> {
    prop_oneof![
        (1usize..6).prop_map(RxOp::Arrive),
        Just(RxOp::ReadReady),
        (0usize..9).prop_map(RxOp::Read),
    ]
}

proptest! {
    /// Whatever mix of `read_ready` look-aheads and reads of any size, the
    /// bytes come out exactly once and in order.
    #[test]
    fn lookahead_never_loses_or_reorders(
        ops in prop::collection::vec(rx_op(), 0..120),
        flaky in any::<bool>(),
    ) {
        let mut uart = NbSerial::new(FakeUart { flaky, ..FakeUart::default() });
        let mut sent: Vec<u8> = Vec::new();
        let mut got: Vec<u8> = Vec::new();
        let mut ready = false; // last read_ready result, still valid?
        for op in ops {
            match op {
                RxOp::Arrive(n) => {
                    let bytes: Vec<u8> = (0..n).map(|i| (sent.len() + i) as u8).collect();
                    uart.inner_mut().feed(&bytes);
                    sent.extend(bytes);
                }
                RxOp::ReadReady => {
                    ready = uart.read_ready().unwrap();
                    if !flaky {
                        prop_assert_eq!(ready, got.len() < sent.len());
                    }
                }
                RxOp::Read(len) => {
                    let available = sent.len() - got.len();
                    // Only read when it cannot block forever.
                    if len == 0 || ready || available > 0 {
                        let mut buf = vec![0u8; len];
                        let n = uart.read(&mut buf).unwrap();
                        if len == 0 {
                            prop_assert_eq!(n, 0);
                        } else {
                            prop_assert!(n >= 1);
                            if !flaky {
                                // Everything available, up to the buffer size.
                                prop_assert_eq!(n, len.min(available));
                            }
                            got.extend_from_slice(&buf[..n]);
                            ready = false;
                        }
                    }
                }
            }
            prop_assert_eq!(&got[..], &sent[..got.len()]);
        }
        // Drain the rest (flaky ports may need extra read_ready polls).
        while got.len() < sent.len() {
            let mut buf = [0u8; 5];
            if uart.read_ready().unwrap() {
                let n = uart.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
        }
        prop_assert_eq!(got, sent);
        prop_assert!(!uart.read_ready().unwrap() && !uart.read_ready().unwrap());
    }
}

// ---------------------------------------------------------------------------
// NbSerial / NbTx: writing
// ---------------------------------------------------------------------------

#[test]
fn write_never_returns_zero_for_non_empty_buffer() {
    for flaky in [false, true] {
        let mut uart = NbSerial::new(FakeUart {
            flaky,
            ..FakeUart::default()
        });
        let data: Vec<u8> = (0..=255u8).collect();
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = uart.write(rest).unwrap();
            assert!(n >= 1 && n <= rest.len(), "flaky={flaky}: wrote {n}");
            if !flaky {
                assert_eq!(n, rest.len(), "a never-blocking port takes everything");
            }
            rest = &rest[n..];
        }
        assert_eq!(uart.write(&[]).unwrap(), 0);
        uart.flush().unwrap();
        let fake = uart.into_inner();
        assert_eq!(fake.output, data);
        assert_eq!(fake.flushes, 1);
    }
}

#[test]
fn write_all_through_flaky_port() {
    let mut uart = NbSerial::new(FakeUart::flaky());
    uart.write_all(b"AT+CWJAP=\"ssid\",\"pw\"\r\n").unwrap();
    uart.flush().unwrap();
    assert_eq!(uart.inner_mut().output, b"AT+CWJAP=\"ssid\",\"pw\"\r\n");

    let mut tx = NbTx::new(FakeUart::flaky());
    tx.write_all(b"AT+RST\r\n").unwrap();
    tx.flush().unwrap();
    let fake = tx.into_inner();
    assert_eq!(fake.output, b"AT+RST\r\n");
    assert_eq!(fake.flushes, 1);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn error_kind_mapping() {
    let cases = [
        (UartKind::Overrun, ErrorKind::Other),
        (UartKind::FrameFormat, ErrorKind::InvalidData),
        (UartKind::Parity, ErrorKind::InvalidData),
        (UartKind::Noise, ErrorKind::InvalidData),
        (UartKind::Other, ErrorKind::Other),
    ];
    for (uart_kind, io_kind) in cases {
        let e = SerialError::new(uart_kind);
        assert_eq!(e.kind(), io_kind, "{uart_kind:?}");
        assert_eq!(e.serial_kind(), uart_kind);
        assert_eq!(SerialError::from(uart_kind), e);
        assert!(e.to_string().starts_with("UART error: "));
    }
}

#[test]
fn read_error_is_reported_immediately_when_first() {
    let mut fake = FakeUart::default();
    fake.feed_error(UartKind::Parity);
    fake.feed(b"ok");
    let mut uart = NbSerial::new(fake);
    let mut buf = [0u8; 8];
    let err = uart.read(&mut buf).unwrap_err();
    assert_eq!(err.serial_kind(), UartKind::Parity);
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(drain(&mut uart), b"ok");
}

#[test]
fn read_error_after_data_is_reported_by_next_call_in_order() {
    let mut fake = FakeUart::default();
    fake.feed(b"abc");
    fake.feed_error(UartKind::Overrun);
    fake.feed(b"de");
    let mut uart = NbSerial::new(fake);
    let mut buf = [0u8; 8];
    assert_eq!(uart.read(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"abc");
    // The pending error is delivered by read ...
    let err = uart.read(&mut buf).unwrap_err();
    assert_eq!(err.serial_kind(), UartKind::Overrun);
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(uart.read(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"de");

    // ... or by read_ready, whichever comes first.
    uart.inner_mut().feed(b"x");
    uart.inner_mut().feed_error(UartKind::Noise);
    uart.inner_mut().feed(b"y");
    assert_eq!(uart.read(&mut buf).unwrap(), 1);
    assert_eq!(
        uart.read_ready().unwrap_err().serial_kind(),
        UartKind::Noise
    );
    assert_eq!(drain(&mut uart), b"y");
}

#[test]
fn read_ready_reports_port_error() {
    let mut fake = FakeUart::default();
    fake.feed_error(UartKind::FrameFormat);
    fake.feed(b"z");
    let mut uart = NbSerial::new(fake);
    let err = uart.read_ready().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(drain(&mut uart), b"z");
}

#[test]
fn write_error_on_first_byte_is_immediate() {
    let mut uart = NbSerial::new(FakeUart {
        fail_write_at: Some((0, UartKind::Other)),
        ..FakeUart::default()
    });
    let err = uart.write(b"AT").unwrap_err();
    assert_eq!(err.serial_kind(), UartKind::Other);
    assert_eq!(uart.write(b"AT").unwrap(), 2);
    assert_eq!(uart.inner_mut().output, b"AT");
}

#[test]
fn write_error_after_data_is_reported_by_next_call() {
    // NbSerial and NbTx share the write path; check both.
    let mut uart = NbSerial::new(FakeUart {
        fail_write_at: Some((3, UartKind::Overrun)),
        ..FakeUart::default()
    });
    assert_eq!(uart.write(b"hello").unwrap(), 3);
    assert_eq!(
        uart.write(b"lo").unwrap_err().serial_kind(),
        UartKind::Overrun
    );
    assert_eq!(uart.write(b"lo").unwrap(), 2);
    assert_eq!(uart.inner_mut().output, b"hello");

    let mut tx = NbTx::new(FakeUart {
        fail_write_at: Some((2, UartKind::Other)),
        ..FakeUart::default()
    });
    assert_eq!(tx.write(b"abcd").unwrap(), 2);
    // flush also reports it, and does not flush in that call.
    assert_eq!(tx.flush().unwrap_err().serial_kind(), UartKind::Other);
    assert_eq!(tx.inner_mut().flushes, 0);
    tx.write_all(b"cd").unwrap();
    tx.flush().unwrap();
    assert_eq!(tx.inner_mut().output, b"abcd");
    assert_eq!(tx.inner_mut().flushes, 1);

    // write_all stops at the error instead of looping or panicking.
    let mut tx = NbTx::new(FakeUart {
        fail_write_at: Some((4, UartKind::Noise)),
        ..FakeUart::default()
    });
    assert_eq!(
        tx.write_all(b"0123456789").unwrap_err().serial_kind(),
        UartKind::Noise
    );
    assert_eq!(tx.inner_mut().output, b"0123");
}

// ---------------------------------------------------------------------------
// RxBuffer
// ---------------------------------------------------------------------------

#[test]
fn usable_capacity_is_n_minus_one() {
    fn check<const N: usize>() {
        let mut buffer = RxBuffer::<N>::new();
        assert_eq!(buffer.capacity(), N - 1);
        let (mut producer, consumer) = buffer.split();
        assert_eq!(producer.capacity(), N - 1);
        assert_eq!(consumer.capacity(), N - 1);
        for i in 0..N - 1 {
            assert!(!producer.is_full());
            assert!(producer.push(i as u8), "N={N}: byte {i} must fit");
        }
        assert!(producer.is_full());
        assert_eq!(consumer.len(), N - 1);
        assert!(!producer.push(0xFF), "N={N}: byte N-1 must not fit");
        assert_eq!(producer.overflows(), 1);
    }
    check::<2>();
    check::<3>();
    check::<8>();
    check::<16>();
    check::<256>();
    check::<1000>();
}

#[test]
fn overflow_keeps_oldest_and_counts_exactly() {
    const N: usize = 16;
    const CAP: usize = N - 1;
    for k in [0usize, 1, 2, 7, 100, 1000] {
        let mut buffer = RxBuffer::<N>::new();
        let (mut producer, mut consumer) = buffer.split();
        let input: Vec<u8> = (0..CAP + k).map(|i| i as u8).collect();
        let stored = input.iter().filter(|&&b| producer.push(b)).count();
        assert_eq!(stored, CAP);
        assert_eq!(producer.overflows(), k as u32);
        assert_eq!(consumer.overflows(), k as u32);

        // The main loop now reads: exactly the first CAP bytes, in order.
        let mut out = Vec::new();
        let mut buf = [0u8; 4];
        while consumer.read_ready().unwrap() {
            let n = consumer.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, &input[..CAP]);
        assert_eq!(consumer.take_overflows(), k as u32);
        assert_eq!(consumer.take_overflows(), 0);

        // After draining, pushing works again and nothing new is counted.
        assert!(consumer.is_empty());
        for b in b"OK\r\n" {
            assert!(producer.push(*b));
        }
        let mut buf = [0u8; 32];
        let n = consumer.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"OK\r\n");
        assert_eq!(consumer.take_overflows(), 0);
        assert_eq!(consumer.overflows(), k as u32);
    }
}

#[test]
fn count_lost_byte_is_reported_like_an_overflow() {
    let mut buffer = RxBuffer::<4>::new();
    let (mut producer, mut consumer) = buffer.split();
    producer.push(b'a');
    producer.count_lost_byte();
    producer.push(b'b');
    assert_eq!(consumer.take_overflows(), 1);
    let mut buf = [0u8; 4];
    assert_eq!(consumer.try_read(&mut buf), 2);
    assert_eq!(&buf[..2], b"ab");
    assert_eq!(consumer.try_read(&mut buf), 0);
}

#[test]
fn counters_and_data_survive_resplit() {
    let mut buffer = RxBuffer::<4>::new();
    {
        let (mut producer, mut consumer) = buffer.split();
        for b in 0..5 {
            producer.push(b);
        }
        assert_eq!(consumer.take_overflows(), 2);
        producer.count_lost_byte();
    }
    let (producer, mut consumer) = buffer.split();
    assert_eq!(producer.overflows(), 3);
    assert_eq!(consumer.take_overflows(), 1, "only the drop not yet taken");
    let mut buf = [0u8; 8];
    assert_eq!(consumer.try_read(&mut buf), 3);
    assert_eq!(&buf[..3], &[0, 1, 2]);
}

#[test]
fn consumer_read_empty_buffer_and_debug() {
    let mut buffer = RxBuffer::<4>::default();
    let (mut producer, mut consumer) = buffer.split();
    assert!(!consumer.read_ready().unwrap());
    assert_eq!(consumer.read(&mut []).unwrap(), 0);
    producer.push(1);
    assert_eq!(consumer.read(&mut []).unwrap(), 0);
    assert_eq!(consumer.len(), 1);
    assert!(format!("{producer:?}").contains("len: 1"));
    assert!(format!("{consumer:?}").contains("overflows: 0"));
}

#[test]
fn consumer_read_waits_for_the_producer() {
    let mut buffer = RxBuffer::<8>::new();
    let (mut producer, mut consumer) = buffer.split();
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            producer.push(b'!');
        });
        let mut buf = [0u8; 4];
        assert_eq!(consumer.read(&mut buf).unwrap(), 1);
        assert_eq!(buf[0], b'!');
    });
}

#[test]
fn threaded_producer_and_consumer() {
    // A real concurrent run: "interrupt" thread pushes without waiting,
    // main thread drains. What arrives is the input minus the counted drops,
    // in order.
    const TOTAL: usize = 200_000;
    let mut buffer = RxBuffer::<64>::new();
    let (mut producer, mut consumer) = buffer.split();
    let done = AtomicBool::new(false);
    let mut pushed_ok = Vec::new();
    let mut out = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..TOTAL {
                let byte = (i % 251) as u8;
                pushed_ok.push(producer.push(byte));
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
            done.store(true, Ordering::Release);
        });
        let mut buf = [0u8; 13];
        loop {
            let finished = done.load(Ordering::Acquire);
            while consumer.read_ready().unwrap() {
                let n = consumer.read(&mut buf).unwrap();
                out.extend_from_slice(&buf[..n]);
            }
            if finished {
                break;
            }
        }
    });
    let expected: Vec<u8> = (0..TOTAL)
        .filter(|&i| pushed_ok[i])
        .map(|i| (i % 251) as u8)
        .collect();
    let drops = pushed_ok.iter().filter(|ok| !**ok).count();
    assert_eq!(out, expected);
    assert_eq!(consumer.take_overflows() as usize, drops);
    assert_eq!(out.len() + drops, TOTAL);
}

#[derive(Debug, Clone)]
enum QueueOp {
    /// The interrupt pushes `n` bytes.
    Push(usize),
    /// The main loop reads with a buffer of this size, if `read_ready`.
    Read(usize),
    /// The main loop checks for lost bytes.
    TakeOverflows,
}

fn queue_op() -> impl Strategy<Value = QueueOp> {
    prop_oneof![
        (1usize..20).prop_map(QueueOp::Push),
        (0usize..20).prop_map(QueueOp::Read),
        Just(QueueOp::TakeOverflows),
    ]
}

proptest! {
    /// Random interleavings of pushes and reads: bytes out == bytes in minus
    /// the counted drops, in order; drops happen exactly when the buffer is full.
    #[test]
    fn interleaved_push_and_read(ops in prop::collection::vec(queue_op(), 0..200)) {
        const N: usize = 16;
        let mut buffer = RxBuffer::<N>::new();
        let (mut producer, mut consumer) = buffer.split();
        let mut next: u32 = 0;
        let mut accepted: Vec<u8> = Vec::new();
        let mut dropped: u32 = 0;
        let mut taken: u32 = 0;
        let mut out: Vec<u8> = Vec::new();
        for op in ops {
            match op {
                QueueOp::Push(n) => {
                    for _ in 0..n {
                        let byte = next as u8;
                        next += 1;
                        let fill = accepted.len() - out.len();
                        let ok = producer.push(byte);
                        prop_assert_eq!(ok, fill < N - 1);
                        if ok {
                            accepted.push(byte);
                        } else {
                            dropped += 1;
                        }
                    }
                }
                QueueOp::Read(len) => {
                    let available = accepted.len() - out.len();
                    prop_assert_eq!(consumer.read_ready().unwrap(), available > 0);
                    if available > 0 || len == 0 {
                        let mut buf = vec![0u8; len];
                        let n = consumer.read(&mut buf).unwrap();
                        prop_assert_eq!(n, len.min(available));
                        out.extend_from_slice(&buf[..n]);
                    }
                }
                QueueOp::TakeOverflows => taken += consumer.take_overflows(),
            }
            prop_assert_eq!(consumer.len(), accepted.len() - out.len());
            prop_assert_eq!(&out[..], &accepted[..out.len()]);
        }
        let mut buf = [0u8; 7];
        while consumer.read_ready().unwrap() {
            let n = consumer.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
        taken += consumer.take_overflows();
        prop_assert_eq!(&out, &accepted);
        prop_assert_eq!(out.len() as u32 + dropped, next);
        prop_assert_eq!(taken, dropped);
        prop_assert_eq!(consumer.overflows(), dropped);
    }
}

// ---------------------------------------------------------------------------
// BufferedSerial
// ---------------------------------------------------------------------------

#[test]
fn buffered_serial_joins_tx_and_rx() {
    let mut buffer = RxBuffer::<32>::new();
    let (mut producer, consumer) = buffer.split();
    let mut uart = BufferedSerial::new(NbTx::new(FakeUart::flaky()), consumer);

    uart.write_all(b"AT\r\n").unwrap();
    uart.flush().unwrap();
    assert_eq!(uart.tx_mut().inner_mut().output, b"AT\r\n");
    let _shared: &NbTx<FakeUart> = uart.tx();

    assert!(!uart.read_ready().unwrap());
    for &b in b"\r\nOK\r\n" {
        producer.push(b);
    }
    assert_eq!(uart.rx().len(), 6);
    assert!(uart.read_ready().unwrap());
    let mut buf = [0u8; 32];
    let n = uart.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\r\nOK\r\n");
    assert_eq!(uart.rx_mut().take_overflows(), 0);

    let (tx, rx) = uart.into_parts();
    assert_eq!(tx.into_inner().flushes, 1);
    assert!(rx.is_empty());
}

#[test]
fn buffered_serial_maps_tx_errors() {
    let mut buffer = RxBuffer::<4>::new();
    let (_producer, consumer) = buffer.split();
    let tx = NbTx::new(FakeUart {
        fail_write_at: Some((1, UartKind::Parity)),
        ..FakeUart::default()
    });
    let mut uart = BufferedSerial::new(tx, consumer);
    let err = uart.write_all(b"AT").unwrap_err();
    assert_eq!(err, BufferedError::Tx(SerialError::new(UartKind::Parity)));
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("Parity"));
    assert_eq!(uart.tx_mut().inner_mut().output, b"A");
}
