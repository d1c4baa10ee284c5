//! nRF52840-DK + ESP-AT module: the Blue Pill example's application
//! (`at-wifi-firmware-app`) on Nordic's HAL. Joins Wi-Fi, connects to an MQTT broker,
//! publishes a counter to `at-wifi/<id>/counter` every few seconds and switches LED1
//! (P0.13) on `on` / `off` / `toggle` sent to `at-wifi/<id>/cmd`. See README.md.
//!
//! - UARTE0 at 115200 baud, TXD P1.02 / RXD P1.01 (the DK's Arduino D1 / D0).
//!   nrf52840-hal 0.19 implements embedded-io 0.7 on the split halves. Its `UarteRx`
//!   receives through a one-byte EasyDMA transfer: `read_ready` arms the transfer and
//!   reports ENDRX, `read` takes the byte. Polled from the main loop, that loses bytes
//!   whenever the loop is busy elsewhere (writing a command, handling a message) for
//!   longer than the UARTE's few bytes of FIFO. So the UARTE0 interrupt (ENDRX) takes each
//!   byte into an `at_wifi::serial::RxBuffer` and re-arms the transfer at once, and
//!   `BufferedSerial` joins the buffer with the `UarteTx` half for the client.
//! - A millisecond clock from RTC0 on the 32.768 kHz crystal: prescaler 32 (993 Hz), the
//!   TICK interrupt wakes the CPU from `WFI` about every millisecond, OVERFLOW extends
//!   the 24-bit counter.
//!
//! The only `unsafe` is unmasking the UARTE0 interrupt.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::cell::{Cell, RefCell};

use at_wifi::serial::{BufferedSerial, RxBuffer, RxProducer};
use at_wifi::Clock;
use at_wifi_firmware_app::{App, AppClient, AppMqtt, Board, Note, Settings, RX_BUFFER};
use cortex_m_rt::entry;
use critical_section::Mutex;
use embedded_hal::digital::OutputPin as _;
use embedded_io::{Read as _, ReadReady as _};
use nrf52840_hal::clocks::Clocks;
use nrf52840_hal::gpio::{p0, p1, Level, Output, Pin, PushPull};
use nrf52840_hal::pac::{self, interrupt, RTC0, UARTE0};
use nrf52840_hal::rtc::{Rtc, RtcInterrupt};
use nrf52840_hal::uarte::{Baudrate, Parity, Pins, Uarte, UarteRx};
use panic_halt as _;
use static_cell::ConstStaticCell;

/// Wi-Fi, broker and id, from the build environment (see `Settings::from_env`).
const SETTINGS: Settings = Settings::from_env("nrf52840");

/// RTC0 prescaler: 32768 / (32 + 1) = 993 Hz, about one tick per millisecond.
const PRESCALER: u32 = 32;

static RX_BUFFER_CELL: ConstStaticCell<RxBuffer<RX_BUFFER>> = ConstStaticCell::new(RxBuffer::new());
/// EasyDMA buffers: they must be in RAM, hence statics.
static TX_DMA: ConstStaticCell<[u8; 64]> = ConstStaticCell::new([0; 64]);
static RX_DMA: ConstStaticCell<[u8; 1]> = ConstStaticCell::new([0; 1]);

type Producer = RxProducer<'static, RX_BUFFER>;

/// What the UARTE0 interrupt owns: the RX half and the buffer's producer.
type RxSide = Option<(UarteRx<UARTE0>, Producer)>;
static UART_RX: Mutex<RefCell<RxSide>> = Mutex::new(RefCell::new(None));
/// RTC0, shared by its interrupt and the clock.
static RTC: Mutex<RefCell<Option<Rtc<RTC0>>>> = Mutex::new(RefCell::new(None));
/// RTC0 overflows (every 4.7 hours at 993 Hz).
static OVERFLOWS: Mutex<Cell<u32>> = Mutex::new(Cell::new(0));

#[interrupt]
fn UARTE0_UART0() {
    critical_section::with(|cs| {
        if let Some((rx, producer)) = UART_RX.borrow_ref_mut(cs).as_mut() {
            match rx.read_ready() {
                Ok(true) => {
                    let mut byte = [0u8];
                    match rx.read(&mut byte) {
                        Ok(1) => {
                            producer.push(byte[0]);
                        }
                        // The transfer ended without a byte (a receive error).
                        _ => producer.count_lost_byte(),
                    }
                    // Arm the next one-byte transfer.
                    if rx.read_ready().is_err() {
                        producer.count_lost_byte();
                    }
                }
                Ok(false) => {}
                Err(_) => producer.count_lost_byte(),
            }
        }
    });
}

#[interrupt]
fn RTC0() {
    critical_section::with(|cs| {
        if let Some(rtc) = RTC.borrow_ref(cs).as_ref() {
            if rtc.is_event_triggered(RtcInterrupt::Overflow) {
                rtc.reset_event(RtcInterrupt::Overflow);
                let n = OVERFLOWS.borrow(cs);
                n.set(n.get().wrapping_add(1));
            }
            // The tick only wakes the CPU from `WFI`.
            rtc.reset_event(RtcInterrupt::Tick);
        }
    });
}

/// Milliseconds from RTC0's extended tick count; idles with `WFI`.
struct RtcClock;

impl Clock for RtcClock {
    fn now_ms(&mut self) -> u64 {
        let ticks = critical_section::with(|cs| {
            let rtc = RTC.borrow_ref(cs);
            let Some(rtc) = rtc.as_ref() else { return 0 };
            let mut overflows = OVERFLOWS.borrow(cs).get();
            let counter = rtc.get_counter();
            // An overflow the interrupt has not counted yet (it waits for this critical
            // section to end): the counter already restarted from 0.
            if rtc.is_event_triggered(RtcInterrupt::Overflow) && counter < (1 << 23) {
                overflows = overflows.wrapping_add(1);
            }
            (u64::from(overflows) << 24) | u64::from(counter)
        });
        ticks * u64::from(PRESCALER + 1) * 1000 / 32768
    }

    fn idle(&mut self) {
        cortex_m::asm::wfi();
    }
}

/// LED1 of the DK (lit when low) and, with feature `semihosting`, a progress log.
struct Dk {
    led: Pin<Output<PushPull>>,
}

impl Board for Dk {
    fn set_led(&mut self, on: bool) {
        // Setting a GPIO cannot fail on this HAL (`Infallible`).
        let _ = if on {
            self.led.set_low()
        } else {
            self.led.set_high()
        };
    }

    fn note(&mut self, note: Note) {
        #[cfg(feature = "semihosting")]
        at_wifi_firmware_app::semihosting::note(note);
        #[cfg(not(feature = "semihosting"))]
        let _ = note;
    }
}

#[entry]
fn main() -> ! {
    // `take` fails only when called twice; this is the only call.
    let dp = pac::Peripherals::take().unwrap();

    // HFXO for an accurate baud rate; the 32.768 kHz crystal for the RTC.
    let _clocks = Clocks::new(dp.CLOCK)
        .enable_ext_hfosc()
        .set_lfclk_src_external(nrf52840_hal::clocks::LfOscConfiguration::NoExternalNoBypass)
        .start_lfclk();

    let mut rtc = Rtc::new(dp.RTC0, PRESCALER).unwrap(); // 32 < 4096: cannot fail
    rtc.enable_event(RtcInterrupt::Overflow);
    rtc.enable_event(RtcInterrupt::Tick);
    // Passing the NVIC lets the HAL unmask RTC0.
    let mut cp = cortex_m::Peripherals::take().unwrap();
    rtc.enable_interrupt(RtcInterrupt::Overflow, Some(&mut cp.NVIC));
    rtc.enable_interrupt(RtcInterrupt::Tick, Some(&mut cp.NVIC));
    rtc.enable_counter();
    critical_section::with(|cs| RTC.borrow_ref_mut(cs).replace(rtc));

    let port0 = p0::Parts::new(dp.P0);
    let port1 = p1::Parts::new(dp.P1);
    let led = port0.p0_13.into_push_pull_output(Level::High).degrade();

    // UARTE0: TXD P1.02 (to the module's RX), RXD P1.01 (from the module's TX).
    let pins = Pins {
        txd: port1.p1_02.into_push_pull_output(Level::High).degrade(),
        rxd: port1.p1_01.into_floating_input().degrade(),
        cts: None,
        rts: None,
    };
    // ENDRX raises the UARTE0 interrupt (the HAL leaves INTEN alone).
    dp.UARTE0.intenset.write(|w| w.endrx().set());
    let uarte = Uarte::new(dp.UARTE0, pins, Parity::EXCLUDED, Baudrate::BAUD115200);
    let (tx, mut rx) = uarte.split(TX_DMA.take(), RX_DMA.take()).unwrap(); // buffers 1..=65535 bytes
                                                                           // Arms the first one-byte transfer.
    let _ = rx.read_ready();

    let (producer, consumer) = RX_BUFFER_CELL.take().split();
    critical_section::with(|cs| UART_RX.borrow_ref_mut(cs).replace((rx, producer)));
    unmask_uarte0();

    let uart = BufferedSerial::new(tx, consumer);
    let mut client: AppClient<_, _> = AppClient::new(uart, RtcClock, SETTINGS.dialect);
    let mut mqtt = AppMqtt::new();
    let mut app = App::new(SETTINGS);
    let mut board = Dk { led };
    loop {
        app.step(&mut client, &mut mqtt, &mut board);
    }
}

#[allow(unsafe_code)]
fn unmask_uarte0() {
    // SAFETY: the handler touches only `UART_RX`, and only inside a critical section; no
    // code relies on UARTE0 staying masked.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::UARTE0_UART0) };
}
