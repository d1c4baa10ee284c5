//! Link-check firmware: proves `at-wifi` links into a bare-metal Cortex-M binary with no
//! embassy-time driver and no critical-section implementation.
//!
//! Nothing here is meant to run on hardware; the build (and in particular the final link)
//! succeeding is the test. The client is driven over an opaque fake UART so that the
//! whole send / frame / route / poll path is linked in.

#![no_std]
#![no_main]

use core::convert::Infallible;
use core::hint::black_box;

use at_wifi::command::basic::At;
use at_wifi::{Client, Dialect, Event};
use cortex_m_rt::entry;
use panic_halt as _;

/// Module output the fake UART hands back.
static INPUT: &[u8] = b"AT\r\r\nOK\r\n+MQTTSUBRECV:0,\"t\",3,abc\r\nWIFI GOT IP\r\n";

struct FakeUart {
    at: usize,
}

impl embedded_io::ErrorType for FakeUart {
    type Error = Infallible;
}

impl embedded_io::Read for FakeUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = black_box(buf.len().min(INPUT.len() - self.at));
        buf[..n].copy_from_slice(&INPUT[self.at..self.at + n]);
        self.at = (self.at + n) % INPUT.len();
        Ok(n)
    }
}

impl embedded_io::ReadReady for FakeUart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(black_box(true))
    }
}

impl embedded_io::Write for FakeUart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        black_box(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let mut ticks: u64 = 0;
    let clock = move || {
        ticks = black_box(ticks + 1);
        ticks
    };
    let mut client: Client<_, _, 256, 128, 64, 512> =
        Client::new(FakeUart { at: 0 }, clock, Dialect::EspAt);
    loop {
        black_box(client.send(&At).is_ok());
        while let Ok(Some(event)) = client.poll() {
            if let Event::Urc(urc) = event {
                black_box(&urc);
            }
        }
        cortex_m::asm::nop();
    }
}
