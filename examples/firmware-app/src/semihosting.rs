//! A progress log through semihosting (feature `semihosting`).
//!
//! Formatting lives only here, so a build without the feature links no `core::fmt` for
//! the application. Semihosting needs a debugger (or QEMU): on a board without one, the
//! first print stops the CPU.

use crate::Note;
use cortex_m_semihosting::hprintln;

/// Prints `note` as one line on the debugger's (or QEMU's) console.
pub fn note(note: Note) {
    match note {
        Note::BringUp(n) => hprintln!("bring-up #{}", n),
        Note::StepDone(step) => hprintln!("  {:?}: ok", step),
        Note::BringUpFailed(step, e) => hprintln!("  {:?} failed: {}", step, e),
        Note::Online => hprintln!("online"),
        Note::Published(n) => hprintln!("published counter (#{} acknowledged)", n),
        Note::PublishFailed(e) => hprintln!("publish failed: {}", e),
        Note::Command(c) => hprintln!("command {:?}", c),
        Note::Led(on) => hprintln!("LED {}", if on { "on" } else { "off" }),
        Note::MqttDown => hprintln!("MQTT link down"),
        Note::MqttBack => hprintln!("MQTT link back (module reconnected)"),
        Note::Recovered => hprintln!("MQTT link recovered"),
        Note::RecoverFailed(e) => hprintln!("MQTT recovery failed: {}", e),
        Note::ModuleReset => hprintln!("module rebooted"),
        Note::UartFailed(e) => hprintln!("UART failed: {}", e),
        Note::WifiLost => hprintln!("Wi-Fi lost"),
        Note::WifiBack => hprintln!("Wi-Fi back"),
        Note::RxLost(n) => hprintln!("{} received byte(s) lost", n),
        Note::EventsLost(n) => hprintln!("{} event(s) lost", n),
    }
}
