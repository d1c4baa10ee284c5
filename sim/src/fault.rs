//! Faults the simulator injects on request: what real modules and real UARTs do to a
//! driver.
//!
//! Give a [`Fault`] to [`Sim::inject`](crate::Sim::inject),
//! [`Server::inject`](crate::Server::inject) or [`Module::inject`](crate::Module::inject);
//! the binary reads them from standard input in their text form ([`Fault::from_str`]).

use std::fmt;
use std::str::FromStr;

/// One fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `garbage N`: N pseudo-random bytes (any value, CR and LF included) are sent now.
    Garbage(usize),
    /// `drop N`: the next N bytes the module sends are lost.
    DropBytes(usize),
    /// `corrupt N`: the next N bytes the module sends arrive altered (same count).
    CorruptBytes(usize),
    /// `busy N`: the next N command lines are answered only with the dialect's busy line
    /// (`busy p...` on ESP-AT and Beken, `busy ...` on W800, `cmd is running` on
    /// Combo-AT) and not executed.
    BusyStorm(usize),
    /// `delay MS`: the reply to the next command comes MS milliseconds late (the echo
    /// does not); commands sent meanwhile are answered with the busy line.
    DelayReply(u64),
    /// `reboot-next`: the module reboots in the middle of the next command: its echo,
    /// then boot noise and `ready`, no result.
    RebootDuringNextCommand,
    /// `reboot`: the module reboots now (boot noise, `ready`, every state lost).
    Reboot,
    /// `broker-drop`: the network path to the MQTT broker breaks now (the broker sees the
    /// connection die, so it publishes the will) and stays broken.
    BrokerDrop,
    /// `broker-return`: the network path to the broker works again; a link with automatic
    /// reconnection comes back on its next attempt.
    BrokerReturn,
    /// `outage MS`: [`Fault::BrokerDrop`] now and [`Fault::BrokerReturn`] MS ms later.
    BrokerOutage(u64),
    /// `urc N`: N unsolicited lines at once (Wi-Fi `GOT IP` lines, and messages on the
    /// first subscribed topic when MQTT is up).
    UrcBurst(usize),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Garbage(n) => write!(f, "garbage {n}"),
            Fault::DropBytes(n) => write!(f, "drop {n}"),
            Fault::CorruptBytes(n) => write!(f, "corrupt {n}"),
            Fault::BusyStorm(n) => write!(f, "busy {n}"),
            Fault::DelayReply(ms) => write!(f, "delay {ms}"),
            Fault::RebootDuringNextCommand => f.write_str("reboot-next"),
            Fault::Reboot => f.write_str("reboot"),
            Fault::BrokerDrop => f.write_str("broker-drop"),
            Fault::BrokerReturn => f.write_str("broker-return"),
            Fault::BrokerOutage(ms) => write!(f, "outage {ms}"),
            Fault::UrcBurst(n) => write!(f, "urc {n}"),
        }
    }
}

/// A fault description that [`Fault::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadFault(pub String);

impl fmt::Display for BadFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown fault {:?}; known: garbage N, drop N, corrupt N, busy N, delay MS, \
             reboot-next, reboot, broker-drop, broker-return, outage MS, urc N",
            self.0
        )
    }
}

impl std::error::Error for BadFault {}

impl FromStr for Fault {
    type Err = BadFault;

    /// Parses the text forms shown on each variant (`busy 5`, `delay=3000`, `reboot`).
    ///
    /// ```
    /// use at_wifi_sim::Fault;
    /// assert_eq!("busy 5".parse(), Ok(Fault::BusyStorm(5)));
    /// assert_eq!("delay=3000".parse(), Ok(Fault::DelayReply(3000)));
    /// assert_eq!("broker-drop".parse(), Ok(Fault::BrokerDrop));
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadFault(s.to_string());
        let t = s.trim();
        let (name, arg) = match t.find([' ', '=', ':']) {
            Some(i) => (&t[..i], Some(t[i + 1..].trim())),
            None => (t, None),
        };
        let n = || -> Result<u64, BadFault> { arg.ok_or_else(bad)?.parse().map_err(|_| bad()) };
        let count = || -> Result<usize, BadFault> { n().map(|v| v as usize) };
        Ok(match name.to_ascii_lowercase().as_str() {
            "garbage" => Fault::Garbage(count()?),
            "drop" => Fault::DropBytes(count()?),
            "corrupt" => Fault::CorruptBytes(count()?),
            "busy" => Fault::BusyStorm(count()?),
            "delay" => Fault::DelayReply(n()?),
            "reboot-next" | "reboot-during-next" => Fault::RebootDuringNextCommand,
            "reboot" | "ready" => Fault::Reboot,
            "broker-drop" | "broker-down" => Fault::BrokerDrop,
            "broker-return" | "broker-up" => Fault::BrokerReturn,
            "outage" | "broker-outage" => Fault::BrokerOutage(n()?),
            "urc" | "urc-burst" => Fault::UrcBurst(count()?),
            _ => return Err(bad()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for f in [
            Fault::Garbage(3),
            Fault::DropBytes(4),
            Fault::CorruptBytes(5),
            Fault::BusyStorm(6),
            Fault::DelayReply(7),
            Fault::RebootDuringNextCommand,
            Fault::Reboot,
            Fault::BrokerDrop,
            Fault::BrokerReturn,
            Fault::BrokerOutage(8),
            Fault::UrcBurst(9),
        ] {
            assert_eq!(f.to_string().parse::<Fault>(), Ok(f));
        }
        assert!("busy".parse::<Fault>().is_err());
        assert!("nonsense 3".parse::<Fault>().is_err());
    }
}
