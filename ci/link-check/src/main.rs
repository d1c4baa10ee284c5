//! Link-check firmware: proves `at-wifi` links into a bare-metal Cortex-M
//! binary with no embassy-time driver and no critical-section implementation.
//!
//! Nothing here is meant to run on hardware; the build (and in particular the
//! final link) succeeding is the test.

#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;

/// Sample module output fed to the framer so the parsing code is linked in.
static INPUT: &[u8] = b"AT\r\r\nOK\r\n+CWJAP:\"ssid\",\"pass\"\r\n\r\nOK\r\n> ";

#[entry]
fn main() -> ! {
    // CLIENT-LINK-CHECK: replaced once Client lands
    let mut framer = at_wifi::framer::Framer::<256>::new(at_wifi::Dialect::EspAt);

    let mut round: usize = 0;
    loop {
        // Opaque "input": the optimizer cannot see which bytes arrive or how
        // many, so the whole framer has to be kept.
        let start = black_box(round) % INPUT.len();
        let len = black_box(INPUT.len() - start);
        let chunk = black_box(&INPUT[start..start + len]);

        let mut rest: &[u8] = chunk;
        while !rest.is_empty() {
            let (consumed, frame) = framer.feed(rest);
            black_box(&frame);
            let consumed = consumed.min(rest.len());
            if consumed == 0 && frame.is_none() {
                break;
            }
            rest = &rest[consumed..];
        }

        cortex_m::asm::nop();
        round = round.wrapping_add(1);
    }
}
