//! The QEMU build's verdict and measurements (feature `qemu`).
//!
//! - Success: at least one counter publication was acknowledged and at least one command
//!   arrived on the command topic and switched the LED. Then the firmware prints
//!   `E2E PASS`, its memory figures, and exits QEMU with status 0 through semihosting.
//! - Failure: no success within [`DEADLINE_MS`] of firmware time, or a panic: `E2E FAIL`
//!   and status 1.
//!
//! Peak stack: cortex-m-rt's `paint-stack` fills the stack area (`_stack_end` ..
//! `_stack_start`) with `0xCCCC_CCCC` before `main`; the lowest word that no longer holds
//! the paint is the deepest the stack ever went.

use core::panic::PanicInfo;

use at_wifi_firmware_app::App;
use cortex_m_semihosting::{debug, hprintln};

/// How long the firmware may take to succeed, in its own milliseconds. QEMU's SysTick does
/// not run at wall-clock speed: keep this generous and let the host script hold the
/// wall-clock bound.
pub const DEADLINE_MS: u64 = 300_000;

const PAINT: u32 = 0xCCCC_CCCC;

pub fn start(app: &App, client_bytes: usize, session_bytes: usize) {
    hprintln!(
        "at-wifi bluepill (QEMU build): publishing to {}, commands on {}",
        app.counter_topic(),
        app.command_topic()
    );
    // One machine-readable line for scripts/size-report.sh.
    hprintln!(
        "SIZES client={} session={} app={}",
        client_bytes,
        session_bytes,
        core::mem::size_of_val(app)
    );
}

pub fn check(app: &App, now_ms: u64) {
    let p = app.progress();
    if p.published > 0 && p.commands > 0 {
        let mem = measure();
        hprintln!(
            "E2E PASS: {} publication(s) acknowledged, {} command(s) acted on, LED {}",
            p.published,
            p.commands,
            if p.led { "on" } else { "off" }
        );
        mem.print();
        debug::exit(debug::EXIT_SUCCESS);
    } else if now_ms > DEADLINE_MS {
        let mem = measure();
        hprintln!(
            "E2E FAIL: no success within {} ms (bring-ups {}, published {}, commands {})",
            DEADLINE_MS,
            p.bring_ups,
            p.published,
            p.commands
        );
        mem.print();
        debug::exit(debug::EXIT_FAILURE);
    }
}

struct Memory {
    /// `.data`, `.bss` and `.uninit`: RAM start (`__sdata`) to `_stack_end`.
    data_bss: usize,
    stack_area: usize,
    stack_peak: usize,
}

impl Memory {
    fn print(&self) {
        // One machine-readable line for scripts/size-report.sh.
        hprintln!(
            "MEMORY static_ram={} stack_area={} stack_peak={}",
            self.data_bss,
            self.stack_area,
            self.stack_peak
        );
    }
}

#[allow(unsafe_code)]
fn measure() -> Memory {
    extern "C" {
        static __sdata: u32;
        static _stack_end: u32;
        static _stack_start: u32;
    }
    // SAFETY: only the addresses of the linker symbols are taken; the words read lie
    // between `_stack_end` and `_stack_start`, i.e. inside RAM, word-aligned, and below
    // the current stack frame's accesses only where the stack never reached.
    #[allow(unused_unsafe)]
    let (sdata, low, top) = unsafe {
        (
            core::ptr::addr_of!(__sdata) as usize,
            core::ptr::addr_of!(_stack_end) as usize,
            core::ptr::addr_of!(_stack_start) as usize,
        )
    };
    let mut at = low;
    // SAFETY: see above.
    while at < top && unsafe { core::ptr::read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    Memory {
        data_bss: low - sdata,
        stack_area: top - low,
        stack_peak: top - at,
    }
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    hprintln!("E2E FAIL: panic");
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}
