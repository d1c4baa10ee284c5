#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![doc = include_str!("../README.md")]

#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod clock;
pub mod command;
pub mod dialect;
pub mod error;
pub mod framer;
#[cfg(feature = "std")]
pub mod mock;
pub mod mqtt;
pub mod net;
pub mod parse;
mod queue;
pub mod serial;
pub mod urc;

pub use client::{AtClient, Client, Config, Event, Stats};
#[cfg(feature = "std")]
pub use clock::StdClock;
pub use clock::{Clock, DelayClock};
pub use dialect::Dialect;
pub use error::{Error, FailWord};
pub use urc::Urc;
