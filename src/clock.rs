//! Time for the client's deadlines: a monotonic millisecond clock supplied by the firmware.
//!
//! The client needs no timer driver, no interrupt and no `embassy-time`: it asks a
//! [`Clock`] for the time and calls [`Clock::idle`] while it waits for the module.
//!
//! - Firmware with a free-running counter (SysTick, a RTC, `DWT::cycle_count`) implements
//!   [`Clock`] in three lines, or passes a closure `|| millis()` (closures returning `u64`
//!   are clocks).
//! - Firmware with only a delay (`embedded_hal::delay::DelayNs`) uses [`DelayClock`].
//! - Host code can use `StdClock` (feature `std`).

use embedded_hal::delay::DelayNs;

/// A monotonic millisecond clock.
///
/// ```
/// use at_wifi::Clock;
/// let mut t = 0u64;
/// let mut clock = move || { t += 1; t };
/// assert_eq!(clock.now_ms(), 1);
/// assert_eq!(clock.now_ms(), 2);
/// ```
pub trait Clock {
    /// Milliseconds since an arbitrary start; must never go backwards.
    fn now_ms(&mut self) -> u64;

    /// Called when the client has nothing to read and waits: sleep a little (or not at all).
    /// The default does nothing, so the client spins on the UART until its deadline.
    fn idle(&mut self) {}
}

impl<F: FnMut() -> u64> Clock for F {
    fn now_ms(&mut self) -> u64 {
        self()
    }
}

/// A [`Clock`] for firmware that has only a delay.
///
/// Time advances only while the client idles: each [`Clock::idle`] delays `step_us`
/// microseconds and adds them to the count. Time spent reading, framing and writing is not
/// counted, so every real timeout is at least as long as asked, never shorter.
///
/// ```
/// use at_wifi::{Clock, DelayClock};
/// struct NoDelay;
/// impl embedded_hal::delay::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut clock = DelayClock::new(NoDelay, 500);
/// assert_eq!(clock.now_ms(), 0);
/// clock.idle();
/// clock.idle();
/// assert_eq!(clock.now_ms(), 1);
/// ```
pub struct DelayClock<D> {
    delay: D,
    elapsed_us: u64,
    step_us: u32,
}

impl<D: DelayNs> DelayClock<D> {
    /// Wraps `delay`; each idle step waits `step_us` microseconds (at least 1). 100 µs is a
    /// good step at 115200 baud (a byte takes about 87 µs).
    pub fn new(delay: D, step_us: u32) -> Self {
        DelayClock {
            delay,
            elapsed_us: 0,
            step_us: step_us.max(1),
        }
    }

    /// Gives the delay back.
    pub fn into_inner(self) -> D {
        self.delay
    }
}

impl<D: DelayNs> Clock for DelayClock<D> {
    fn now_ms(&mut self) -> u64 {
        self.elapsed_us / 1000
    }

    fn idle(&mut self) {
        self.delay.delay_us(self.step_us);
        self.elapsed_us += u64::from(self.step_us);
    }
}

/// A wall clock for host programs and tests (feature `std`): milliseconds since creation;
/// idling yields the thread for 100 µs.
#[cfg(feature = "std")]
pub struct StdClock {
    start: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// Starts at 0 now.
    pub fn new() -> Self {
        StdClock {
            start: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "std")]
impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Clock for StdClock {
    fn now_ms(&mut self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn idle(&mut self) {
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
}
