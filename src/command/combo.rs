//! Ai-Thinker Combo-AT Wi-Fi bring-up (`AT+WMODE`, `AT+WJAP`, `AT+WDISCONNECT`,
//! `AT+WAUTOCONN`), and the string and host parameters every Combo-AT command shares.
//!
//! Combo-AT (Ai-WB2 / BL602, BW16) has its own command names: nothing of ESP-AT's
//! `AT+CW…` set exists there. A socket ([`socket`](super::socket)) works only after the
//! station joined an access point and got an address:
//!
//! | command | struct | reply |
//! |---|---|---|
//! | `AT+WMODE=<mode>,<save_flash>` | [`SetWifiMode`] | `OK` |
//! | `AT+WMODE?` | [`GetWifiMode`] | `+WMODE:<mode>` → [`WifiMode`] |
//! | `AT+WJAP=<ssid>,<pwd>[,<bssid>]` | [`JoinAp`] (and [`join`]) | `OK`; `+EVENT:WIFI_CONNECT`, `+EVENT:WIFI_GOT_IP` as events |
//! | `AT+WJAP?` | [`GetJoinStatus`] | `+WJAP:<status>,…` → [`JoinStatus`] |
//! | `AT+WDISCONNECT` | [`WifiDisconnect`] | `OK`; `+EVENT:WIFI_DISCONNECT` as an event |
//! | `AT+WAUTOCONN=<0\|1>` | [`SetAutoConnect`] | `OK` |
//! | `AT+WAUTOCONN?` | [`GetAutoConnect`] | `+WAUTOCONN:<status>` → [`AutoConnect`] |
//!
//! Every constructor takes the [`Dialect`] and answers [`Error::Unsupported`] for any
//! dialect but [`Dialect::AiThinker`]; limits are checked before anything is written.
//!
//! A command sent while another one still runs is refused by the module with a "cmd is
//! running" line; the client takes it as busy and the command ends in [`Error::Busy`] if
//! no final result follows (the dialect table lists the busy words).
//!
//! # Strings: bare unless they need quotes
//!
//! The vendor documents write every string parameter bare (`AT+WJAP=super_2G,123456798`,
//! `AT+SOCKET=4,192.168.31.239,60000`, `AT+SOCKETSENDLINE=2,10,1234567890`) and say of
//! `AT+SOCKETSENDLINE`'s data: "If there are special characters, the entire parameter
//! needs to be enclosed in double quotation marks. If there are double quotation marks in
//! the parameter, escape characters need to be added." [`ComboText`] does exactly that: a
//! value with no `,`, `"`, space or tab (and not empty) is written bare, byte for byte as
//! in the documents; any other value is written between double quotes with `"` and `\`
//! escaped by a backslash (`\,` is not written: inside quotes the document needs no escape
//! for a comma). Hosts ([`HostName`]) never need quotes: they are checked to be host names
//! or IP addresses and written bare.
//!
//! ```
//! use at_wifi::command::combo::{join, JoinAp, SetWifiMode, WifiMode};
//! use at_wifi::{Client, Dialect};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+WMODE=1,0\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+WJAP=home,secret-password\r\n",
//! #     b"\r\nOK\r\n+EVENT:WIFI_CONNECT\r\n+EVENT:WIFI_GOT_IP\r\n");
//! # let clock = uart.clock();
//! let d = Dialect::AiThinker;
//! let mut client: Client<_, _> = Client::new(uart, clock, d);
//! client.send(&SetWifiMode::new(d, WifiMode::Station, false)?)?;
//! join(&mut client, &JoinAp::new(d, "home", "secret-password")?, 20_000, |_event| {})?;
//! # Ok::<(), at_wifi::Error>(())
//! ```

use crate::client::{AtClient, Event};
use crate::command::text::MAX_VALUE_LEN;
use crate::command::NoResponse;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::framer::{trim, Ascii};
use crate::parse::{number, params, unquote};
use crate::urc::Urc;
use atat::atat_derive::AtatCmd;
use atat::serde_at::serde::{Serialize, Serializer};
use core::fmt;
use core::net::Ipv4Addr;

// ---------------------------------------------------------------------------------------
// Limits and timeouts
// ---------------------------------------------------------------------------------------

/// `<ssid>` of `AT+WJAP`: "the SSID of the AP to connect (maximum length 32 bytes)".
pub const SSID_MAX_LEN: usize = 32;
/// `<pwd>` of `AT+WJAP`: "the password of the AP to connect (maximum length 32 bytes)"
/// (Combo-AT's Wi-Fi command set says 32, not the 63/64 of WPA; the documented limit is
/// checked).
pub const PASSWORD_MAX_LEN: usize = 32;
/// The longest host name a command takes: 253 bytes, the longest DNS name (RFC 1035).
/// The documents give no number; the 256-byte command line (checked by the client) is
/// the other bound.
pub const HOST_MAX_LEN: usize = 253;
/// Timeout of the configuration commands and queries (`AT+WMODE`, `AT+WAUTOCONN`,
/// `AT+WDISCONNECT`, `AT+WJAP?`): 5 s.
pub const CONFIG_TIMEOUT_MS: u32 = 5_000;
/// Timeout of `AT+WJAP=`: 20 s. Its document shows only `OK`; firmware that answers only
/// once the station has joined gets the time a join takes.
pub const JOIN_TIMEOUT_MS: u32 = 20_000;

const NOT_COMBO: Error = Error::Unsupported {
    what: "Combo-AT command (Ai-Thinker Combo-AT only)",
};

/// Refuses every dialect but Ai-Thinker Combo-AT.
pub(crate) fn combo_only(dialect: Dialect) -> Result<(), Error> {
    if dialect == Dialect::AiThinker {
        Ok(())
    } else {
        Err(NOT_COMBO)
    }
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// True for the bytes that make [`ComboText`] quote a value: `,` (the separator), `"`,
/// space and tab.
pub const fn needs_quotes(b: u8) -> bool {
    matches!(b, b',' | b'"' | b' ' | b'\t')
}

/// A Combo-AT string parameter: bare when it can be, quoted when it must (see the
/// [module docs](self)).
///
/// Refused ([`Error::Invalid`] naming the field): CR, LF and NUL anywhere (they would end
/// or cut the command line), and values longer than [`MAX_VALUE_LEN`] bytes.
///
/// ```
/// use at_wifi::command::combo::ComboText;
/// let mut buf = [0u8; 32];
/// let t = ComboText::new("data", "1234567890").unwrap();
/// let n = t.encode(&mut buf).unwrap();
/// assert_eq!(&buf[..n], b"1234567890");
/// let t = ComboText::new("data", r#"a,b "c" \d"#).unwrap();
/// let n = t.encode(&mut buf).unwrap();
/// assert_eq!(&buf[..n], br#""a,b \"c\" \\d""#);
/// assert!(ComboText::new("data", "a\r\nb").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ComboText<'a> {
    value: &'a [u8],
}

impl<'a> ComboText<'a> {
    /// Checks `value`; an error names `field`.
    pub fn new<T: AsRef<[u8]> + ?Sized>(field: &'static str, value: &'a T) -> Result<Self, Error> {
        let value = value.as_ref();
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::Invalid {
                field,
                reason: "longer than 256 bytes (the longest AT command line)",
            });
        }
        if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(Error::Invalid {
                field,
                reason: "holds CR, LF or NUL",
            });
        }
        Ok(ComboText { value })
    }

    /// The value, unquoted.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// True when the value is written between quotes: it is empty or holds a byte of
    /// [`needs_quotes`].
    pub fn is_quoted(&self) -> bool {
        self.value.is_empty() || self.value.iter().any(|&b| needs_quotes(b))
    }

    /// The length of the encoded form.
    pub fn encoded_len(&self) -> usize {
        if self.is_quoted() {
            2 + self.value.len()
                + self
                    .value
                    .iter()
                    .filter(|&&b| b == b'"' || b == b'\\')
                    .count()
        } else {
            self.value.len()
        }
    }

    /// Writes the encoded form to the start of `out` and returns its length, or `None`
    /// when `out` is shorter than [`Self::encoded_len`].
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        let n = self.encoded_len();
        let out = out.get_mut(..n)?;
        if !self.is_quoted() {
            out.copy_from_slice(self.value);
            return Some(n);
        }
        let mut slots = out.iter_mut();
        *slots.next()? = b'"';
        for &b in self.value {
            if b == b'"' || b == b'\\' {
                *slots.next()? = b'\\';
            }
            *slots.next()? = b;
        }
        *slots.next()? = b'"';
        Some(n)
    }
}

impl Serialize for ComboText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 2 * MAX_VALUE_LEN + 2];
        // Cannot fail: the constructor bounds the value to MAX_VALUE_LEN bytes.
        let n = self.encode(&mut buf).unwrap_or(0);
        serializer.serialize_bytes(buf.get(..n).unwrap_or(&[]))
    }
}

impl fmt::Debug for ComboText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ComboText(")?;
        fmt::Debug::fmt(&Ascii(self.value), f)?;
        f.write_str(")")
    }
}

/// A host parameter: a domain name or an IPv4 / IPv6 address, written bare.
///
/// Accepted: 1 to [`HOST_MAX_LEN`] bytes of ASCII letters, digits, `.`, `-`, `_` and `:`;
/// anything else (spaces, commas, quotes, line breaks, non-ASCII) is refused with
/// [`Error::Invalid`] naming the field, since no host holds it and a module would cut the
/// command line there.
///
/// ```
/// use at_wifi::command::combo::HostName;
/// assert!(HostName::new("host", "192.168.31.239").is_ok());
/// assert!(HostName::new("host", "www.baidu.com").is_ok());
/// assert!(HostName::new("host", "a,b").is_err());
/// assert!(HostName::new("host", "").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostName<'a> {
    value: &'a [u8],
}

impl<'a> HostName<'a> {
    /// Checks `value`; an error names `field`.
    pub fn new<T: AsRef<[u8]> + ?Sized>(field: &'static str, value: &'a T) -> Result<Self, Error> {
        let value = value.as_ref();
        if value.is_empty() {
            return Err(Error::Invalid {
                field,
                reason: "empty",
            });
        }
        if value.len() > HOST_MAX_LEN {
            return Err(Error::Invalid {
                field,
                reason: "longer than 253 bytes (the longest DNS name)",
            });
        }
        if !value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
        {
            return Err(Error::Invalid {
                field,
                reason: "not a host name or IP address (only letters, digits, '.', '-', '_', ':')",
            });
        }
        Ok(HostName { value })
    }

    /// The host.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }
}

impl Serialize for HostName<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.value)
    }
}

impl fmt::Debug for HostName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostName(")?;
        fmt::Debug::fmt(&Ascii(self.value), f)?;
        f.write_str(")")
    }
}

/// Writes `n` in decimal at the start of `out`; returns the length (0 when it does not
/// fit).
pub(crate) fn write_u32(out: &mut [u8], n: u32) -> usize {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let d = &digits[i..];
    match out.get_mut(..d.len()) {
        Some(o) => {
            o.copy_from_slice(d);
            d.len()
        }
        None => 0,
    }
}

/// Writes `a` dotted (`192.168.1.1`) at the start of `out`; returns the length.
pub(crate) fn write_ipv4(out: &mut [u8], a: Ipv4Addr) -> usize {
    let mut n = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            if let Some(b) = out.get_mut(n) {
                *b = b'.';
            }
            n += 1;
        }
        n += write_u32(out.get_mut(n..).unwrap_or(&mut []), u32::from(o));
    }
    n
}

/// An IPv4 address parameter, written dotted and bare (`114.114.114.114`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ip4(pub(crate) Ipv4Addr);

impl Serialize for Ip4 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 15];
        let n = write_ipv4(&mut buf, self.0);
        serializer.serialize_bytes(&buf[..n])
    }
}

/// Parses a dotted IPv4 address, quoted or not; `None` for anything else.
pub(crate) fn parse_ipv4(field: &[u8]) -> Option<Ipv4Addr> {
    let s = unquote(trim(field));
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// The reply lines, trimmed, empty ones skipped.
pub(crate) fn lines(reply: &[u8]) -> impl Iterator<Item = &[u8]> {
    reply
        .split(|&b| b == b'\n')
        .map(|l| trim(l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|l| !l.is_empty())
}

/// The rest of the first reply line that starts with `prefix`, trimmed.
pub(crate) fn reply_line<'a>(reply: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    lines(reply).find_map(|l| l.strip_prefix(prefix).map(trim))
}

/// A number field that Combo-AT's documents sometimes print in angle brackets
/// (`+WMODE:<1>`).
pub(crate) fn bracketed_number<T: TryFrom<i64>>(field: &[u8]) -> Option<T> {
    let f = trim(field);
    let f = f
        .strip_prefix(b"<")
        .and_then(|f| f.strip_suffix(b">"))
        .unwrap_or(f);
    number(f)
}

/// The parse function of commands answered by `OK` alone.
pub(crate) fn ok_reply(_reply: &[u8]) -> Result<NoResponse, Error> {
    Ok(NoResponse)
}

// ---------------------------------------------------------------------------------------
// AT+WMODE
// ---------------------------------------------------------------------------------------

/// `<MODE>` of `AT+WMODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum WifiMode {
    /// 0: "Wi-Fi is not initialized or turned off".
    Off = 0,
    /// 1: STA (station: joins an access point; what sockets need).
    Station = 1,
    /// 2: AP.
    Ap = 2,
    /// 3: AP+STA.
    ApStation = 3,
}

impl WifiMode {
    /// The mode numbered `n` (0–3).
    pub const fn from_code(n: u8) -> Option<WifiMode> {
        Some(match n {
            0 => WifiMode::Off,
            1 => WifiMode::Station,
            2 => WifiMode::Ap,
            3 => WifiMode::ApStation,
            _ => return None,
        })
    }

    /// The number (0–3).
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl atat::AtatResp for WifiMode {}

impl Serialize for WifiMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

/// `AT+WMODE=<MODE>,<save_flash>`: sets the Wi-Fi working mode, saved to flash when
/// `save_flash` (`AT+WMODE=1,1 //set STA mode,save to FLASH`). Replies `OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WMODE",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetWifiMode {
    mode: WifiMode,
    save_flash: u8,
}

impl SetWifiMode {
    /// Sets `mode`; `save_flash` keeps it over a reboot.
    ///
    /// Errors: [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, mode: WifiMode, save_flash: bool) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetWifiMode {
            mode,
            save_flash: u8::from(save_flash),
        })
    }
}

fn parse_wifi_mode(reply: &[u8]) -> Result<WifiMode, Error> {
    reply_line(reply, b"+WMODE:")
        .and_then(|v| params(v).next())
        .and_then(bracketed_number::<u8>)
        .and_then(WifiMode::from_code)
        .ok_or(Error::Parse)
}

/// `AT+WMODE?`: the Wi-Fi working mode; replies `+WMODE:<MODE>` (the document's example
/// prints `+WMODE:<1>`; both forms are accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WMODE?",
    WifiMode,
    parse = parse_wifi_mode,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetWifiMode;

impl GetWifiMode {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetWifiMode)
    }
}

// ---------------------------------------------------------------------------------------
// AT+WJAP
// ---------------------------------------------------------------------------------------

/// A BSSID (`<bssid>` of `AT+WJAP`), written `xx:xx:xx:xx:xx:xx` in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bssid(pub [u8; 6]);

impl Bssid {
    /// Parses `aa:bb:cc:dd:ee:ff` (case ignored, quoted or not).
    pub fn parse(field: &[u8]) -> Option<Bssid> {
        let s = unquote(trim(field));
        if s.len() != 17 {
            return None;
        }
        let mut out = [0u8; 6];
        for (i, part) in s.split(|&b| b == b':').enumerate() {
            if i >= 6 || part.len() != 2 {
                return None;
            }
            let hex = core::str::from_utf8(part).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(Bssid(out))
    }

    fn write(&self, out: &mut [u8; 17]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in self.0.iter().enumerate() {
            out[i * 3] = HEX[usize::from(b >> 4)];
            out[i * 3 + 1] = HEX[usize::from(b & 0xf)];
            if i < 5 {
                out[i * 3 + 2] = b':';
            }
        }
    }
}

impl Serialize for Bssid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 17];
        self.write(&mut buf);
        serializer.serialize_bytes(&buf)
    }
}

/// `AT+WJAP=<ssid>,<pwd>[,<bssid>]`: joins an access point. Replies `OK`; the module then
/// prints `+EVENT:WIFI_CONNECT` and `+EVENT:WIFI_GOT_IP` (events
/// [`Urc::WifiConnected`], [`Urc::WifiGotIp`]), or `+EVENT:WIFI_DISCONNECT` when the link
/// is lost. [`join`] sends it and waits for the address.
///
/// Limits (checked by [`JoinAp::new`]): `<ssid>` 1–32 bytes ([`SSID_MAX_LEN`]); `<pwd>`
/// at most 32 bytes ([`PASSWORD_MAX_LEN`]; empty joins an open network); both
/// [`ComboText`] (bare as in the example `AT+WJAP=super_2G,123456798`, quoted only when
/// they hold `,`, `"`, spaces or tabs).
///
/// `Debug` never shows the password.
#[derive(Clone, Copy, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WJAP",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 20000,
    termination = "\r\n"
)]
pub struct JoinAp<'a> {
    ssid: ComboText<'a>,
    password: ComboText<'a>,
    bssid: Option<Bssid>,
}

impl<'a> JoinAp<'a> {
    /// Joins `ssid` with `password`.
    ///
    /// Errors: [`Error::Invalid`] naming `ssid` or `password`; [`Error::Unsupported`]
    /// outside Combo-AT.
    pub fn new<S, P>(dialect: Dialect, ssid: &'a S, password: &'a P) -> Result<Self, Error>
    where
        S: AsRef<[u8]> + ?Sized,
        P: AsRef<[u8]> + ?Sized,
    {
        combo_only(dialect)?;
        let (s, p) = (ssid.as_ref(), password.as_ref());
        if s.is_empty() {
            return Err(Error::Invalid {
                field: "ssid",
                reason: "empty",
            });
        }
        if s.len() > SSID_MAX_LEN {
            return Err(Error::Invalid {
                field: "ssid",
                reason: "longer than 32 bytes",
            });
        }
        if p.len() > PASSWORD_MAX_LEN {
            return Err(Error::Invalid {
                field: "password",
                reason: "longer than 32 bytes (Combo-AT's documented maximum)",
            });
        }
        Ok(JoinAp {
            ssid: ComboText::new("ssid", s)?,
            password: ComboText::new("password", p)?,
            bssid: None,
        })
    }

    /// Adds `<bssid>`: joins that access point only (several may share the SSID).
    pub fn bssid(mut self, bssid: Bssid) -> Self {
        self.bssid = Some(bssid);
        self
    }

    /// The SSID.
    pub fn ssid(&self) -> &'a [u8] {
        self.ssid.value()
    }
}

impl fmt::Debug for JoinAp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAp")
            .field("ssid", &Ascii(self.ssid.value()))
            .field("password", &"<hidden>")
            .field("bssid", &self.bssid)
            .finish()
    }
}

/// Sends [`JoinAp`] and waits until the module reports an address
/// (`+EVENT:WIFI_GOT_IP`), at most `timeout_ms` after the command's `OK`.
///
/// Nothing is swallowed: every event read meanwhile — the ones already queued before the
/// command (handed over first: they predate the join), `+EVENT:WIFI_CONNECT`, the
/// `+EVENT:WIFI_GOT_IP` that ends the wait, and whatever else comes — is passed to
/// `on_event` in order.
///
/// Errors: those of the command ([`Error::Module`], [`Error::Busy`], …);
/// [`Error::Timeout`] when no address came; [`Error::Reset`] when the module rebooted;
/// [`Error::Unsupported`] outside Combo-AT.
pub fn join<A: AtClient>(
    client: &mut A,
    cmd: &JoinAp<'_>,
    timeout_ms: u32,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<(), Error> {
    combo_only(client.dialect())?;
    while let Some(e) = client.poll()? {
        on_event(e);
    }
    client.send(cmd)?;
    wait_for_ip(client, timeout_ms, on_event)
}

/// Waits up to `timeout_ms` for `+EVENT:WIFI_GOT_IP`, passing every event read (that one
/// included) to `on_event`. [`Error::Timeout`] when none came, [`Error::Reset`] when the
/// module rebooted meanwhile.
pub fn wait_for_ip<A: AtClient>(
    client: &mut A,
    timeout_ms: u32,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<(), Error> {
    let deadline = client.now_ms().saturating_add(u64::from(timeout_ms));
    loop {
        let now = client.now_ms();
        let left = u32::try_from(deadline.saturating_sub(now)).unwrap_or(u32::MAX);
        match client.wait_event(left)? {
            Some(e) => {
                let done = matches!(e, Event::Urc(Urc::WifiGotIp));
                let reset = matches!(e, Event::Reset);
                on_event(e);
                if done {
                    return Ok(());
                }
                if reset {
                    return Err(Error::Reset);
                }
            }
            None => {
                if client.now_ms() >= deadline {
                    return Err(Error::Timeout { ms: timeout_ms });
                }
            }
        }
    }
}

/// `<status>` of `AT+WJAP?`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum JoinState {
    /// 0: not connected (initial state, or station mode off).
    #[default]
    Idle = 0,
    /// 1: connecting or reconnecting.
    Connecting = 1,
    /// 2: connected, no IP address yet.
    Connected = 2,
    /// 3: connected and got an IP address: sockets can be used.
    GotIp = 3,
    /// 4: the connection failed (the reconnect attempts are used up).
    Failed = 4,
}

impl JoinState {
    /// The state numbered `n` (0–4).
    pub const fn from_code(n: u8) -> Option<JoinState> {
        Some(match n {
            0 => JoinState::Idle,
            1 => JoinState::Connecting,
            2 => JoinState::Connected,
            3 => JoinState::GotIp,
            4 => JoinState::Failed,
            _ => return None,
        })
    }
}

/// The reply of `AT+WJAP?`:
/// `+WJAP:<status>,<ssid>,<pwd>,<bssid>,<Security>,<MAC>,<ch>,<IP>,<gateway>` (then, in
/// AP mode, `Client Num: <n>` and `Client <id> MAC:<mac>` lines, which are skipped).
///
/// The password the module prints is not kept. A reply with the status alone fills only
/// [`JoinStatus::state`]. The SSID is the second field; an SSID or password holding `,`
/// cannot be told apart in this reply, and then only the status and the six fields after
/// the password (read from the end of the line) are reliable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct JoinStatus {
    /// `<status>`.
    pub state: JoinState,
    /// `<ssid>` (quotes removed).
    pub ssid: heapless::Vec<u8, SSID_MAX_LEN>,
    /// `<bssid>`.
    pub bssid: Option<Bssid>,
    /// `<Security>`: `Open`, `WPA2 AES`, `WPA/WPA2 Mixed`, … (at most 24 bytes kept).
    pub security: heapless::Vec<u8, 24>,
    /// `<MAC>` of the module.
    pub mac: Option<Bssid>,
    /// `<ch>`.
    pub channel: u8,
    /// `<IP>` (`None` when 0.0.0.0 or absent).
    pub ip: Option<Ipv4Addr>,
    /// `<gateway>` (`None` when 0.0.0.0 or absent).
    pub gateway: Option<Ipv4Addr>,
}

impl atat::AtatResp for JoinStatus {}

fn nonzero(a: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
    a.filter(|a| !a.is_unspecified())
}

fn keep<const N: usize>(field: &[u8]) -> heapless::Vec<u8, N> {
    let v = unquote(trim(field));
    let mut out = heapless::Vec::new();
    // Cut to fit: these fields are informative only.
    let _ = out.extend_from_slice(&v[..v.len().min(N)]);
    out
}

impl JoinStatus {
    /// Parses the reply lines of `AT+WJAP?`.
    pub fn from_reply(reply: &[u8]) -> Result<Self, Error> {
        let rest = reply_line(reply, b"+WJAP:").ok_or(Error::Parse)?;
        let mut f: heapless::Vec<&[u8], 16> = heapless::Vec::new();
        for p in params(rest) {
            if f.push(p).is_err() {
                return Err(Error::Parse);
            }
        }
        let state = f
            .first()
            .and_then(|s| bracketed_number::<u8>(s))
            .and_then(JoinState::from_code)
            .ok_or(Error::Parse)?;
        let mut out = JoinStatus {
            state,
            ..JoinStatus::default()
        };
        if f.len() >= 9 {
            let n = f.len();
            out.ssid = keep(f[1]);
            out.bssid = Bssid::parse(f[n - 6]);
            out.security = keep(f[n - 5]);
            out.mac = Bssid::parse(f[n - 4]);
            out.channel = number(f[n - 3]).unwrap_or(0);
            out.ip = nonzero(parse_ipv4(f[n - 2]));
            out.gateway = nonzero(parse_ipv4(f[n - 1]));
        } else if f.len() >= 2 {
            out.ssid = keep(f[1]);
        }
        Ok(out)
    }
}

impl fmt::Debug for JoinStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinStatus")
            .field("state", &self.state)
            .field("ssid", &Ascii(&self.ssid))
            .field("bssid", &self.bssid)
            .field("security", &Ascii(&self.security))
            .field("mac", &self.mac)
            .field("channel", &self.channel)
            .field("ip", &self.ip)
            .field("gateway", &self.gateway)
            .finish()
    }
}

/// `AT+WJAP?`: the station's connection ([`JoinStatus`]). "This is the current state read
/// from the hardware, not the values that were set."
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WJAP?",
    JoinStatus,
    parse = JoinStatus::from_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetJoinStatus;

impl GetJoinStatus {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetJoinStatus)
    }
}

// ---------------------------------------------------------------------------------------
// AT+WDISCONNECT, AT+WAUTOCONN
// ---------------------------------------------------------------------------------------

/// `AT+WDISCONNECT`: leaves the current access point. Replies `OK`;
/// `+EVENT:WIFI_DISCONNECT` comes as an event ([`Urc::WifiDisconnected`]). The document
/// has no query form ("not supported yet").
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WDISCONNECT",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct WifiDisconnect;

impl WifiDisconnect {
    /// The command; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(WifiDisconnect)
    }
}

/// `<status>` of `AT+WAUTOCONN`: whether the module joins the saved access point at
/// power-on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AutoConnect(pub bool);

impl atat::AtatResp for AutoConnect {}

/// `AT+WAUTOCONN=<status>`: enables (1) or disables (0) joining the access point at
/// power-on. Replies `OK`. The document: "connect to the router successfully first, then
/// send this command." [`SocketAutoTt`](super::socket::SocketAutoTt) needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WAUTOCONN",
    NoResponse,
    parse = ok_reply,
    timeout_ms = 5000,
    termination = "\r\n"
)]
pub struct SetAutoConnect {
    status: u8,
}

impl SetAutoConnect {
    /// Enables or disables auto-connect; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect, enable: bool) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(SetAutoConnect {
            status: u8::from(enable),
        })
    }
}

fn parse_auto_connect(reply: &[u8]) -> Result<AutoConnect, Error> {
    match reply_line(reply, b"+WAUTOCONN:").and_then(bracketed_number::<u8>) {
        Some(0) => Ok(AutoConnect(false)),
        Some(1) => Ok(AutoConnect(true)),
        _ => Err(Error::Parse),
    }
}

/// `AT+WAUTOCONN?`: replies `+WAUTOCONN:<status>` ([`AutoConnect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+WAUTOCONN?",
    AutoConnect,
    parse = parse_auto_connect,
    timeout_ms = 5000,
    termination = "\r\n"
)]
#[non_exhaustive]
pub struct GetAutoConnect;

impl GetAutoConnect {
    /// The query; [`Error::Unsupported`] outside Combo-AT.
    pub fn new(dialect: Dialect) -> Result<Self, Error> {
        combo_only(dialect)?;
        Ok(GetAutoConnect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses() {
        let mut b = [0u8; 16];
        let n = write_u32(&mut b, 0);
        assert_eq!(&b[..n], b"0");
        let n = write_u32(&mut b, 4_294_967_295);
        assert_eq!(&b[..n], b"4294967295");
        assert_eq!(write_u32(&mut b[..2], 123), 0);
        let n = write_ipv4(&mut b, Ipv4Addr::new(114, 114, 0, 9));
        assert_eq!(&b[..n], b"114.114.0.9");
        assert_eq!(parse_ipv4(b"\"1.2.3.4\""), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse_ipv4(b"1.2.3"), None);
        assert_eq!(bracketed_number::<u8>(b"<1>"), Some(1));
        assert_eq!(bracketed_number::<u8>(b" 2 "), Some(2));
    }

    #[test]
    fn bssid_round_trip() {
        let b = Bssid::parse(b"CC:81:da:1f:45:80").unwrap();
        let mut out = [0u8; 17];
        b.write(&mut out);
        assert_eq!(&out, b"cc:81:da:1f:45:80");
        assert_eq!(Bssid::parse(b"cc:81:da:1f:45"), None);
        assert_eq!(Bssid::parse(b"cc:81:da:1f:45:8g"), None);
    }
}
