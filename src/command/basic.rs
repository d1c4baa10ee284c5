//! Basic commands every dialect shares.

use super::NoResponse;
use atat::atat_derive::AtatCmd;

/// `AT`: tests that the module answers. Replies `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("", NoResponse, timeout_ms = 1000, termination = "\r\n")]
pub struct At;

/// `ATE0`: echo off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("E0", NoResponse, timeout_ms = 1000, termination = "\r\n")]
pub struct EchoOff;

/// `ATE1`: echo on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("E1", NoResponse, timeout_ms = 1000, termination = "\r\n")]
pub struct EchoOn;
