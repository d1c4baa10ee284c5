//! atat-derived AT commands, one module per command group of the vendor documents.
//!
//! Each struct's doc comment names the document section and carries its limits. Strings
//! are checked against those limits before anything is written.

pub mod basic;
pub mod combo;
pub mod combo_mqtt;
pub mod esp_error;
pub mod mqtt;
pub mod socket;
pub mod text;
pub mod wifi;

/// The response of commands that answer only `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, atat::atat_derive::AtatResp)]
pub struct NoResponse;
