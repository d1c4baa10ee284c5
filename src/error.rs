//! The driver's error type.

use core::fmt;

/// The final failure word a module answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FailWord {
    /// `ERROR`.
    Error,
    /// W800's `CMD FORMAT ERR`: the command's syntax was wrong.
    CmdFormat,
    /// W800's `CMD PARSE ERR`: a parameter could not be parsed.
    CmdParse,
    /// A failed send result (`SEND FAIL`, `+MQTTPUB:FAIL`, `+MQTTPUBRAW:ERROR,…`).
    SendFail,
}

impl FailWord {
    pub(crate) fn from_word(word: &[u8]) -> Self {
        match word {
            b"CMD FORMAT ERR" => FailWord::CmdFormat,
            b"CMD PARSE ERR" => FailWord::CmdParse,
            _ => FailWord::Error,
        }
    }
}

/// Everything that can go wrong between the client and the module.
///
/// `Display` says what happened in one line; nothing in it or in `Debug` ever contains
/// the bytes of a command (so no credentials).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// No final result arrived within the command's timeout (milliseconds).
    Timeout {
        /// The timeout that ran out.
        ms: u32,
    },
    /// The module answered with a failure. `code` is the last `ERR CODE:0x…` it printed
    /// for this command (ESP-AT prints them after `AT+SYSLOG=1`).
    Module {
        /// The failure word.
        word: FailWord,
        /// The error code that came with it, if any.
        code: Option<u32>,
    },
    /// The module said busy (`busy p...`, "cmd is running") and gave no final result
    /// within the timeout.
    Busy,
    /// The module rebooted (`ready`) while the command ran: its state is lost. The same
    /// reboot is also queued as [`Event::Reset`](crate::Event::Reset) (and comes out of
    /// [`Mqtt::poll`](crate::mqtt::Mqtt::poll) as a reset), so code that handles both should
    /// bring the module up once: after recovering here, drop the queued reset.
    Reset,
    /// The waited-for prompt `>` never came.
    NoPrompt,
    /// The reply did not parse into the command's response type.
    Parse,
    /// The reply's lines did not fit the client's response buffer.
    ResponseOverflow {
        /// The buffer size.
        capacity: usize,
    },
    /// The command line would not fit the transmit buffer or exceeds the dialect's line
    /// limit. Checked before anything is written.
    CommandTooLong {
        /// The bytes the line needs (an upper bound when it could not be written at all).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A parameter is outside the range the vendor document allows. Checked before
    /// anything is written.
    Invalid {
        /// The parameter.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The dialect has no such command or feature.
    Unsupported {
        /// What is missing.
        what: &'static str,
    },
    /// The UART failed.
    Uart(embedded_io::ErrorKind),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout { ms } => write!(f, "no reply within {ms} ms"),
            Error::Module { word, code } => {
                let w = match word {
                    FailWord::Error => "ERROR",
                    FailWord::CmdFormat => "CMD FORMAT ERR",
                    FailWord::CmdParse => "CMD PARSE ERR",
                    FailWord::SendFail => "send failed",
                };
                match code {
                    Some(c) => write!(f, "module answered {w} (ERR CODE 0x{c:08x})"),
                    None => write!(f, "module answered {w}"),
                }
            }
            Error::Busy => f.write_str("module busy"),
            Error::Reset => f.write_str("module rebooted during the command"),
            Error::NoPrompt => f.write_str("no data prompt from the module"),
            Error::Parse => f.write_str("reply did not parse"),
            Error::ResponseOverflow { capacity } => {
                write!(f, "reply larger than the {capacity}-byte response buffer")
            }
            Error::CommandTooLong { len, max } => {
                write!(f, "command line of {len} bytes exceeds {max}")
            }
            Error::Invalid { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::Unsupported { what } => write!(f, "not supported by this dialect: {what}"),
            Error::Uart(kind) => write!(f, "UART error: {kind:?}"),
        }
    }
}

impl core::error::Error for Error {}
