//! A simulator of Wi-Fi modules running AT firmware — ESP-AT, W800, Beken and Ai-Thinker
//! Combo-AT — for proving that whole flows of the `at-wifi` driver (and of its users'
//! firmware) work without hardware.
//!
//! - [`Module`]: the module side as a state machine: bytes in ([`Module::input`]), bytes
//!   out ([`Module::output`]). It keeps Wi-Fi, MQTT, subscription, socket, echo and
//!   receive-mode state, answers every command with the exact bytes of its dialect
//!   (echo, result words, busy words, `ERR CODE` lines after `AT+SYSLOG=1`, prompts, the
//!   256-byte line limit, field limits, 10 subscriptions), bridges MQTT to a real broker
//!   through rumqttc and Combo-AT sockets to real OS sockets on 127.0.0.1.
//! - [`Sim`]: a module running in a thread over a [`Port`]; [`Sim::pipe`] gives the
//!   driver an in-process UART ([`PipeEnd`], embedded-io 0.7 `Read + ReadReady + Write`).
//! - [`Server`]: the module behind a TCP port, one client at a time (QEMU's
//!   `-serial tcp:127.0.0.1:PORT`, terminal tools); the `at-wifi-sim` binary runs one.
//! - [`broker::start`]: an MQTT broker embedded in the process (rumqttd).
//! - [`Fault`]: garbage bursts, dropped or corrupted bytes, `busy p...` storms, late
//!   replies, a reboot in the middle of a command, broker drop and return, URC bursts.
//!
//! ```no_run
//! use at_wifi_sim::{broker, Dialect, Sim, SimConfig};
//! use std::time::Duration;
//!
//! let broker = broker::start(0).unwrap();
//! let cfg = SimConfig::new(Dialect::EspAt).broker(broker.addr()).echo(false);
//! let (sim, mut uart) = Sim::pipe(cfg);
//! uart.send(b"AT\r\n").unwrap();
//! assert_eq!(uart.read_until(b"OK\r\n", Duration::from_secs(1)), b"\r\nOK\r\n");
//! sim.busy_storm(1);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod broker;
mod config;
mod fault;
mod module;
mod mqtt_link;
mod params;
mod pipe;
mod runner;
mod sockets;

pub use config::{Dialect, Network, SimConfig, SplitMode, UnknownDialect};
pub use fault::{BadFault, Fault};
pub use module::{Module, Snapshot};
pub use pipe::{pipe, PipeEnd, PipeError};
pub use runner::{Port, Server, Sim};
