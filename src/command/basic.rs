//! Basic commands every dialect shares, and the ESP-AT system commands the driver needs.
//!
//! | command | ESP-AT | W800 | Beken | Combo-AT |
//! |---|---|---|---|---|
//! | `AT`, `ATE0`, `ATE1` | yes | yes | yes | yes |
//! | `AT+RST`, `AT+GMR` | documented ("Basic AT Commands") | not in its document | not in its document | not in its document |
//! | `AT+SYSLOG` | documented (v2.2 and later) | no | no | no |
//!
//! The W800, Beken and Combo-AT documents describe only their MQTT / TCP-IP sets; their
//! firmwares are known to answer `AT+RST` and `AT+GMR` in the same shape, but the exact
//! text of `AT+GMR` differs, so [`Version`] accepts any lines.

use super::NoResponse;
use crate::client::{AtClient, Event};
use crate::error::Error;
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

/// `AT+RST`: restarts the module (ESP-AT "Basic AT Commands", `AT+RST`).
///
/// The module answers `OK`, reboots, prints boot noise (ROM text at another baud rate,
/// SDK log lines) and then `ready`, which the client reports as [`Event::Reset`]. Sent with
/// [`Client::send`](crate::Client::send), only the `OK` is waited for; [`restart`] also waits for `ready`.
/// After the reboot the module has lost every setting not stored in flash: echo is back
/// on (the client copes), Wi-Fi may reconnect on its own, MQTT links and sockets are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+RST", NoResponse, timeout_ms = 2000, termination = "\r\n")]
pub struct Restart;

/// The line of [`Restart`] without its line end.
const RESTART_LINE: &[u8] = b"AT+RST";

/// Sends `AT+RST` and waits until the module has rebooted (`ready`), at most
/// `timeout_ms` in all.
///
/// Events already queued, and those that arrive before `ready`, are consumed and dropped:
/// they describe state the restart throws away (poll first if you need them). The
/// [`Event::Reset`] of this restart is consumed too; events after it (`WIFI CONNECTED`
/// when the module reconnects on its own) stay queued.
///
/// A module that reboots without saying `OK` first (or whose `ready` arrives before it)
/// is fine: only `ready` counts. Errors: [`Error::Timeout`] when no `ready` came in time,
/// [`Error::Module`] when the module refused `AT+RST`, [`Error::Uart`].
///
/// ```
/// use at_wifi::{Client, Dialect};
/// # use at_wifi::mock::MockUart;
/// # let mut uart = MockUart::new();
/// # uart.expect(b"AT+RST\r\n", b"\r\nOK\r\n\xff\x00garbage\r\nready\r\n");
/// # let clock = uart.clock();
/// let mut client: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
/// at_wifi::command::basic::restart(&mut client, 5000).unwrap();
/// ```
pub fn restart<A: AtClient>(client: &mut A, timeout_ms: u32) -> Result<(), Error> {
    let deadline = client.now_ms().saturating_add(u64::from(timeout_ms));
    let timeout = Error::Timeout { ms: timeout_ms };
    // A `ready` still queued from an earlier reboot must not be taken for this one.
    while client.poll()?.is_some() {
        if client.now_ms() >= deadline {
            return Err(timeout);
        }
    }
    // Its fixed line: the same bytes and timeout as `Restart`, without that type's own
    // encoding and parsing code (checked by a test).
    match client.send_line(RESTART_LINE, <Restart as atat::AtatCmd>::MAX_TIMEOUT_MS) {
        // `Reset`: `ready` came before `OK`; the event is queued and found below.
        // `Timeout` / `Busy`: some firmwares reboot without a clean `OK`.
        Ok(_) | Err(Error::Reset) | Err(Error::Timeout { .. }) | Err(Error::Busy) => {}
        Err(e) => return Err(e),
    }
    loop {
        let now = client.now_ms();
        if now >= deadline {
            return Err(timeout);
        }
        let left = u32::try_from(deadline - now).unwrap_or(u32::MAX);
        if let Some(Event::Reset) = client.wait_event(left)? {
            return Ok(());
        }
    }
}

/// Capacity of each field of [`Version`], in bytes; longer values are cut.
pub const VERSION_FIELD_LEN: usize = 96;

/// The reply of `AT+GMR`. Every field is empty when its line is missing.
///
/// ESP-AT answers (prefix-less lines, "Basic AT Commands", `AT+GMR`):
///
/// ```text
/// AT version:2.2.0.0-dev(ca41ec4 - ESP32 - Sep 16 2020 11:28:17)
/// SDK version:v4.0.1-193-ge7ac221b4
/// compile time(98b95fc):Oct 29 2020 11:23:25
/// Bin version:2.1.0(MINI-1)
/// ```
///
/// Each line is matched by the words before its first `:` (a parenthesised part such as
/// `(98b95fc)` ignored, case ignored); the value is what follows the `:`. When no
/// `AT version` line came, the first other line (without a `+GMR:` prefix) is taken as
/// [`Version::at`], so firmwares with their own format still report something.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// The AT firmware version (`AT version:`).
    pub at: heapless::String<VERSION_FIELD_LEN>,
    /// The SDK version (`SDK version:`).
    pub sdk: heapless::String<VERSION_FIELD_LEN>,
    /// When the firmware was built (`compile time…:`).
    pub compile_time: heapless::String<VERSION_FIELD_LEN>,
    /// The version of the binary for this module (`Bin version:`).
    pub bin: heapless::String<VERSION_FIELD_LEN>,
}

impl atat::AtatResp for Version {}

/// Copies `src` into `dst`, cut at a character boundary when it does not fit; invalid
/// UTF-8 ends the copy.
fn copy_text<const N: usize>(dst: &mut heapless::String<N>, src: &[u8]) {
    dst.clear();
    let text = match core::str::from_utf8(src) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&src[..e.valid_up_to()]).unwrap_or_default(),
    };
    for c in text.chars() {
        if dst.push(c).is_err() {
            break;
        }
    }
}

/// The key of a `key:value` line, lower-cased, without a `(…)` part and spaces around.
fn version_key(line: &[u8]) -> Option<(heapless::String<16>, &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let mut key = heapless::String::<16>::new();
    let mut depth = 0u8;
    for &b in &line[..colon] {
        match b {
            b'(' => depth = depth.saturating_add(1),
            b')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && key.push(b.to_ascii_lowercase() as char).is_err() => return None,
            _ => {}
        }
    }
    let trimmed = heapless::String::try_from(key.trim()).ok()?;
    Some((trimmed, line[colon + 1..].trim_ascii()))
}

/// The rest of the first reply line that starts with `prefix` (lines are joined with
/// CR LF by the client), trimmed.
pub(super) fn reply_line<'a>(resp: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    resp.split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find_map(|l| l.strip_prefix(prefix))
        .map(<[u8]>::trim_ascii)
}

pub(crate) fn parse_version(resp: &[u8]) -> Result<Version, atat::Error> {
    let mut v = Version::default();
    let mut first_other: Option<&[u8]> = None;
    for raw in resp.split(|&b| b == b'\n') {
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let line = line.strip_prefix(b"+GMR:").unwrap_or(line);
        let field = match version_key(line) {
            Some((key, value)) => match key.as_str() {
                "at version" => Some((&mut v.at, value)),
                "sdk version" => Some((&mut v.sdk, value)),
                "compile time" => Some((&mut v.compile_time, value)),
                "bin version" => Some((&mut v.bin, value)),
                _ => None,
            },
            None => None,
        };
        match field {
            Some((dst, value)) => copy_text(dst, value),
            None => {
                if first_other.is_none() {
                    first_other = Some(line);
                }
            }
        }
    }
    if v.at.is_empty() {
        if let Some(line) = first_other {
            copy_text(&mut v.at, line);
        }
    }
    Ok(v)
}

/// `AT+GMR`: the firmware's version information, parsed into [`Version`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+GMR",
    Version,
    timeout_ms = 1000,
    termination = "\r\n",
    parse = parse_version
)]
pub struct GetVersion;

/// `AT+SYSLOG=<status>`: switches ESP-AT's error-code lines on or off (ESP-AT "Basic AT
/// Commands", `AT+SYSLOG`; v2.2 and later).
///
/// With it on, a failing command prints `ERR CODE:0x<%08x>` before `ERROR`; the client
/// reports that code in [`Error::Module`]'s `code`, and
/// [`esp_error`](super::esp_error) decodes it. Off by default; not saved across a
/// restart. Older ESP-AT and the other dialects answer `ERROR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+SYSLOG", NoResponse, timeout_ms = 1000, termination = "\r\n")]
pub struct SetSyslog {
    status: u8,
}

impl SetSyslog {
    /// `AT+SYSLOG=1`.
    pub const ON: SetSyslog = SetSyslog { status: 1 };
    /// `AT+SYSLOG=0`.
    pub const OFF: SetSyslog = SetSyslog { status: 0 };

    /// `AT+SYSLOG=1` when `enabled`, else `AT+SYSLOG=0`.
    pub const fn new(enabled: bool) -> Self {
        SetSyslog {
            status: enabled as u8,
        }
    }
}

/// The reply of `AT+SYSLOG?`: `+SYSLOG:<status>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogStatus {
    /// Error-code lines are printed.
    pub enabled: bool,
}

impl atat::AtatResp for SyslogStatus {}

fn parse_syslog(resp: &[u8]) -> Result<SyslogStatus, atat::Error> {
    let v: u8 = reply_line(resp, b"+SYSLOG:")
        .and_then(crate::parse::number)
        .ok_or(atat::Error::Parse)?;
    match v {
        0 | 1 => Ok(SyslogStatus { enabled: v == 1 }),
        _ => Err(atat::Error::Parse),
    }
}

/// `AT+SYSLOG?`: is the error-code prompt on?
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+SYSLOG?",
    SyslogStatus,
    timeout_ms = 1000,
    termination = "\r\n",
    parse = parse_syslog
)]
pub struct GetSyslog;

#[cfg(test)]
mod tests {
    use super::*;
    use atat::AtatCmd as _;

    #[test]
    fn restart_line_is_the_command() {
        let mut buf = [0u8; 16];
        let n = Restart.write(&mut buf);
        assert_eq!(&buf[..n], [RESTART_LINE, b"\r\n"].concat());
    }
}
