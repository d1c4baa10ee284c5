//! Blue Pill (STM32F103C8) + ESP-AT module: joins Wi-Fi, connects to an MQTT broker,
//! publishes a counter to `at-wifi/<id>/counter` every few seconds and switches the PC13
//! LED on `on` / `off` / `toggle` sent to `at-wifi/<id>/cmd`. See README.md.
//!
//! - USART1 (PA9 TX, PA10 RX) at 115200 baud. Received bytes go from the USART1 RX
//!   interrupt into an `at_wifi::serial::RxBuffer`; the client reads that buffer and
//!   writes through the `NbTx` adapter (the HAL's embedded-hal-nb TX half).
//! - A millisecond clock from SysTick.
//! - The application itself (bring-up, publishing, commands, recovery) is
//!   `at-wifi-firmware-app`, shared with the nRF52840 example.
//!
//! The only `unsafe` is unmasking the USART1 interrupt (and, in the QEMU build, reading
//! the painted stack).

#![no_std]
#![no_main]
#![deny(unsafe_code)]

#[cfg(feature = "qemu")]
mod qemu;

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use at_wifi::serial::{BufferedSerial, NbTx, RxBuffer, RxProducer};
use at_wifi::Clock;
use at_wifi_firmware_app::{App, AppClient, AppMqtt, Board, Note, Settings, RX_BUFFER};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use critical_section::Mutex;
#[cfg(not(feature = "qemu"))]
use panic_halt as _;
use static_cell::ConstStaticCell;
use stm32f1xx_hal::gpio::{Output, PinState, PushPull, PC13};
use stm32f1xx_hal::pac::{self, interrupt, USART1};
use stm32f1xx_hal::prelude::*;
use stm32f1xx_hal::rcc;
use stm32f1xx_hal::serial::{Config, Rx};

/// Client id (and topic `<id>`) unless `AT_WIFI_CLIENT_ID` says otherwise at build time.
const DEFAULT_ID: &str = if cfg!(feature = "qemu") {
    "qemu-bluepill"
} else {
    "bluepill"
};

/// Wi-Fi, broker and id, from the build environment (see `Settings::from_env`).
const SETTINGS: Settings = Settings::from_env(DEFAULT_ID);

/// Milliseconds since boot, counted by the SysTick exception.
static MILLIS: AtomicU32 = AtomicU32::new(0);

/// The receive buffer between the USART1 interrupt and the client. Zero-initialised,
/// so it lives in `.bss` and costs no flash; `take` hands out the `&'static mut` once.
static RX_BUFFER_CELL: ConstStaticCell<RxBuffer<RX_BUFFER>> = ConstStaticCell::new(RxBuffer::new());

type Producer = RxProducer<'static, RX_BUFFER>;

/// What the USART1 interrupt owns: the RX half of the UART and the buffer's producer.
type RxSide = Option<(Rx<USART1>, Producer)>;
static RX: Mutex<RefCell<RxSide>> = Mutex::new(RefCell::new(None));

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}

#[interrupt]
fn USART1() {
    critical_section::with(|cs| {
        if let Some((rx, producer)) = RX.borrow_ref_mut(cs).as_mut() {
            loop {
                match rx.read() {
                    // A full buffer drops the byte and counts it.
                    Ok(byte) => {
                        producer.push(byte);
                    }
                    // Overrun, framing, noise or parity error: at least one byte lost.
                    Err(nb::Error::Other(_)) => producer.count_lost_byte(),
                    Err(nb::Error::WouldBlock) => break,
                }
            }
        }
    });
}

/// The SysTick count widened to 64 bits (it wraps after 49 days); idles with `WFI`, which
/// the next SysTick (1 ms) or received byte ends.
struct Millis {
    last: u32,
    wraps: u64,
}

impl Clock for Millis {
    fn now_ms(&mut self) -> u64 {
        let now = MILLIS.load(Ordering::Relaxed);
        if now < self.last {
            self.wraps += 1;
        }
        self.last = now;
        (self.wraps << 32) | u64::from(now)
    }

    fn idle(&mut self) {
        cortex_m::asm::wfi();
    }
}

/// The LED (PC13, lit when low) and, with feature `semihosting`, a progress log.
struct BluePill {
    led: PC13<Output<PushPull>>,
}

impl Board for BluePill {
    fn set_led(&mut self, on: bool) {
        if on {
            self.led.set_low();
        } else {
            self.led.set_high();
        }
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
    let cp = cortex_m::Peripherals::take().unwrap();
    let dp = pac::Peripherals::take().unwrap();

    // 72 MHz from the Blue Pill's 8 MHz crystal. QEMU emulates no RCC: waiting for the
    // HSE or the PLL would hang, so its build stays on the 8 MHz HSI.
    #[cfg(not(feature = "qemu"))]
    let clocks = rcc::Config::hse(8.MHz()).sysclk(72.MHz()).pclk1(36.MHz());
    #[cfg(feature = "qemu")]
    let clocks = rcc::Config::hsi();
    let mut flash = dp.FLASH.constrain();
    let mut rcc = dp.RCC.freeze(clocks, &mut flash.acr);

    // SysTick: one exception per millisecond.
    let mut syst = cp.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(rcc.clocks.sysclk().raw() / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();

    let mut gpioc = dp.GPIOC.split(&mut rcc);
    let led = gpioc
        .pc13
        .into_push_pull_output_with_state(&mut gpioc.crh, PinState::High);

    // USART1 on PA9 (TX) / PA10 (RX), 115200 8N1.
    let mut gpioa = dp.GPIOA.split(&mut rcc);
    let tx_pin = gpioa.pa9.into_alternate_push_pull(&mut gpioa.crh);
    let rx_pin = gpioa.pa10;
    let (tx, mut rx) = dp
        .USART1
        .serial(
            (tx_pin, rx_pin),
            Config::default().baudrate(115_200.bps()),
            &mut rcc,
        )
        .split();
    rx.listen();

    let (producer, consumer) = RX_BUFFER_CELL.take().split();
    critical_section::with(|cs| RX.borrow_ref_mut(cs).replace((rx, producer)));
    unmask_usart1();

    let uart = BufferedSerial::new(NbTx::new(tx), consumer);
    let clock = Millis { last: 0, wraps: 0 };
    let mut client: AppClient<_, _> = AppClient::new(uart, clock, SETTINGS.dialect);
    let mut mqtt = AppMqtt::new();
    let mut app = App::new(SETTINGS);
    let mut board = BluePill { led };

    #[cfg(feature = "qemu")]
    qemu::start(
        &app,
        core::mem::size_of_val(&client),
        core::mem::size_of_val(&mqtt),
    );
    loop {
        app.step(&mut client, &mut mqtt, &mut board);
        #[cfg(feature = "qemu")]
        qemu::check(&app, client.clock_mut().now_ms());
    }
}

#[allow(unsafe_code)]
fn unmask_usart1() {
    // SAFETY: the handler touches only `RX`, and only inside a critical section; no code
    // relies on USART1 staying masked.
    unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::USART1) };
}
