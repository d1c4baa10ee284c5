//! Wi-Fi station commands in ESP-AT's form, and the SNTP commands a TLS connection needs
//! first (a certificate's validity can only be checked with the right time).
//!
//! | command | ESP-AT | W800 | Beken | Combo-AT |
//! |---|---|---|---|---|
//! | `AT+CWMODE`, `AT+CWJAP`, `AT+CWQAP` | documented ("Wi-Fi AT Commands") | used by its MQTT document's examples | not in its document | no: `AT+WJAP` |
//! | `AT+CIPSNTPCFG`, `AT+CIPSNTPTIME?` | documented ("TCP/IP AT Commands") | used by its MQTT document's examples | not in its document | no |
//!
//! Strings are [`AtStr`]s: quoted with `\`, `"` and `,` escaped for ESP-AT and W800,
//! bare for Beken (see [`text`](super::text)), so the builders take the [`Dialect`].
//! Limits are checked when a command is built, so an invalid one never reaches the UART
//! ([`Error::Invalid`]).
//!
//! While `AT+CWJAP` runs the module prints `WIFI CONNECTED` and `WIFI GOT IP` (and
//! `WIFI DISCONNECT` when it fails): the client queues them as events
//! ([`Urc::WifiConnected`](crate::Urc::WifiConnected), …), they are never part of the
//! reply.
//!
//! ```
//! use at_wifi::command::wifi::{join, JoinAp, SetWifiMode, WifiMode};
//! use at_wifi::{Client, Dialect};
//! # use at_wifi::mock::MockUart;
//! # let mut uart = MockUart::new();
//! # uart.expect(b"AT+CWMODE=1\r\n", b"\r\nOK\r\n");
//! # uart.expect(b"AT+CWJAP=\"home\",\"secret-password\"\r\n",
//! #     b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
//! # let clock = uart.clock();
//! let mut client: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
//! client.send(&SetWifiMode::new(WifiMode::Station))?;
//! join(&mut client, &JoinAp::new(Dialect::EspAt, "home", "secret-password")?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::basic::reply_line;
use super::text::AtStr;
use super::NoResponse;
use crate::client::AtClient;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::parse::{number, params, unquote};
use atat::atat_derive::{AtatCmd, AtatEnum};
use atat::serde_at::serde::{Serialize, Serializer};
use core::fmt;

/// Longest SSID, in bytes (IEEE 802.11).
pub const SSID_MAX_LEN: usize = 32;
/// Longest password, in bytes (ESP-AT `AT+CWJAP`: "MAX: 64-byte ASCII"; 64 is a raw
/// hexadecimal WPA key).
pub const PASSWORD_MAX_LEN: usize = 64;
/// Shortest WPA / WPA2 / WPA3 passphrase, in bytes. An empty password joins an open
/// network; [`WEP40_KEY_LEN`] is also accepted.
pub const PASSWORD_MIN_LEN: usize = 8;
/// Length of an ASCII WEP-40 key, the one password shorter than [`PASSWORD_MIN_LEN`]
/// that is accepted (the other WEP key lengths, 10, 13 and 26, are at least 8).
pub const WEP40_KEY_LEN: usize = 5;
/// Largest `<reconn_interval>` of `AT+CWJAP`, seconds (0 = never reconnect).
pub const RECONNECT_INTERVAL_MAX_S: u16 = 7200;
/// Smallest `<listen_interval>` of `AT+CWJAP`, in AP beacon intervals.
pub const LISTEN_INTERVAL_MIN: u8 = 1;
/// Largest `<listen_interval>` of `AT+CWJAP`, in AP beacon intervals.
pub const LISTEN_INTERVAL_MAX: u8 = 100;
/// Smallest `<jap_timeout>` of `AT+CWJAP`, seconds.
pub const JOIN_TIMEOUT_MIN_S: u16 = 3;
/// Largest `<jap_timeout>` of `AT+CWJAP`, seconds.
pub const JOIN_TIMEOUT_MAX_S: u16 = 600;
/// The module's own join timeout when `<jap_timeout>` is not given, seconds.
pub const JOIN_TIMEOUT_DEFAULT_S: u16 = 15;
/// What the client waits beyond the module's join timeout for its final result, ms.
pub const JOIN_MARGIN_MS: u32 = 5000;
/// Longest SNTP server name this crate sends, in bytes. ESP-AT documents no limit; this
/// keeps three names within the 256-byte command line.
pub const SNTP_SERVER_MAX_LEN: usize = 64;
/// At most this many SNTP servers (`AT+CIPSNTPCFG`).
pub const SNTP_SERVERS_MAX: usize = 3;

/// Checks a string's length (`min..=max` bytes) and makes it a parameter for `dialect`.
fn text<'a, T: AsRef<[u8]> + ?Sized>(
    dialect: Dialect,
    field: &'static str,
    value: &'a T,
    (min, max): (usize, usize),
    reason: &'static str,
) -> Result<AtStr<'a>, Error> {
    let len = value.as_ref().len();
    if len < min || len > max {
        return Err(Error::Invalid { field, reason });
    }
    AtStr::new(dialect, field, value)
}

/// A MAC address, sent as `"aa:bb:cc:dd:ee:ff"`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Mac([u8; 6]);

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [b':'; 19];
        buf[0] = b'"';
        buf[18] = b'"';
        for (i, b) in self.0.iter().enumerate() {
            buf[1 + 3 * i] = HEX[usize::from(b >> 4)];
            buf[2 + 3 * i] = HEX[usize::from(b & 0xf)];
        }
        serializer.serialize_bytes(&buf)
    }
}

fn parse_mac(s: &[u8]) -> Option<[u8; 6]> {
    let s = unquote(s);
    if s.len() != 17 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, part) in s.split(|&b| b == b':').enumerate() {
        if i >= 6 || part.len() != 2 {
            return None;
        }
        let hex = core::str::from_utf8(part).ok()?;
        mac[i] = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(mac)
}

// ---------------------------------------------------------------------------------------
// AT+CWMODE

/// The Wi-Fi mode of `AT+CWMODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AtatEnum)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WifiMode {
    /// `0`: Wi-Fi off (RF disabled).
    Off = 0,
    /// `1`: station: joins an access point.
    Station = 1,
    /// `2`: SoftAP: the module is an access point.
    SoftAp = 2,
    /// `3`: SoftAP and station.
    SoftApStation = 3,
}

impl WifiMode {
    /// The mode with this number.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(WifiMode::Off),
            1 => Some(WifiMode::Station),
            2 => Some(WifiMode::SoftAp),
            3 => Some(WifiMode::SoftApStation),
            _ => None,
        }
    }
}

impl atat::AtatResp for WifiMode {}

/// `AT+CWMODE=<mode>[,<auto_connect>]`: sets the Wi-Fi mode (ESP-AT "Wi-Fi AT Commands",
/// `AT+CWMODE`). Joining an AP needs [`WifiMode::Station`] or [`WifiMode::SoftApStation`].
///
/// `<auto_connect>` (ESP-AT): whether the module joins the AP saved in flash when it
/// switches from SoftAP or off to a station mode. Saved in flash when `AT+SYSSTORE=1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+CWMODE", NoResponse, timeout_ms = 2000, termination = "\r\n")]
pub struct SetWifiMode {
    mode: WifiMode,
    auto_connect: Option<u8>,
}

impl SetWifiMode {
    /// `AT+CWMODE=<mode>`.
    pub const fn new(mode: WifiMode) -> Self {
        SetWifiMode {
            mode,
            auto_connect: None,
        }
    }

    /// Adds `<auto_connect>`: `AT+CWMODE=<mode>,<0|1>`.
    pub const fn auto_connect(mut self, on: bool) -> Self {
        self.auto_connect = Some(on as u8);
        self
    }
}

fn parse_wifi_mode(resp: &[u8]) -> Result<WifiMode, atat::Error> {
    reply_line(resp, b"+CWMODE:")
        .and_then(|v| params(v).next())
        .and_then(number::<u8>)
        .and_then(WifiMode::from_u8)
        .ok_or(atat::Error::Parse)
}

/// `AT+CWMODE?`: the Wi-Fi mode; replies `+CWMODE:<mode>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+CWMODE?",
    WifiMode,
    timeout_ms = 1000,
    termination = "\r\n",
    parse = parse_wifi_mode
)]
pub struct GetWifiMode;

// ---------------------------------------------------------------------------------------
// AT+CWJAP

/// `<scan_mode>` of `AT+CWJAP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScanMode {
    /// `0`: stop at the first AP with the SSID (the module's default).
    Fast = 0,
    /// `1`: scan every channel and join the AP with the strongest signal.
    AllChannels = 1,
}

/// `AT+CWJAP=<ssid>,<pwd>[,<bssid>][,<pci_en>][,<reconn_interval>][,<listen_interval>]
/// [,<scan_mode>][,<jap_timeout>][,<pmf>]`: joins an access point (ESP-AT "Wi-Fi AT
/// Commands", `AT+CWJAP`). Needs station mode ([`SetWifiMode`]).
///
/// Success: `WIFI CONNECTED`, `WIFI GOT IP` (queued as events) and `OK`. Failure:
/// `+CWJAP:<error code>` then `ERROR`; [`join`] sends this command and types the failure
/// ([`JoinError`], [`JoinFailure`]). With [`Client::send`](crate::Client::send) the wait is 20 s, enough for
/// the module's default 15 s; with [`JoinAp::timeout_s`] above that use [`join`], which
/// waits the module's timeout plus [`JOIN_MARGIN_MS`]. After a failure the module may go
/// on retrying on its own (`<reconn_interval>`) and report `WIFI CONNECTED` later.
///
/// Limits, checked by the builders: SSID 1–[`SSID_MAX_LEN`] bytes; password empty (open
/// network; not on Beken), [`WEP40_KEY_LEN`] or [`PASSWORD_MIN_LEN`]–[`PASSWORD_MAX_LEN`]
/// bytes; no CR, LF or NUL. `Debug` never shows the password.
#[derive(Clone, Copy, PartialEq, Eq, AtatCmd)]
#[at_cmd("+CWJAP", NoResponse, timeout_ms = 20000, termination = "\r\n")]
pub struct JoinAp<'a> {
    ssid: AtStr<'a>,
    pwd: AtStr<'a>,
    bssid: Option<Mac>,
    pci_en: Option<u8>,
    reconn_interval: Option<u16>,
    listen_interval: Option<u8>,
    scan_mode: Option<u8>,
    jap_timeout: Option<u16>,
    pmf: Option<u8>,
}

impl<'a> JoinAp<'a> {
    /// `AT+CWJAP="<ssid>","<password>"` for `dialect` (its quoting, see
    /// [`text`](super::text)); an empty password joins an open network.
    ///
    /// Errors: [`Error::Invalid`] for an SSID or password outside the limits above, or
    /// one the dialect cannot carry.
    pub fn new<S, P>(dialect: Dialect, ssid: &'a S, password: &'a P) -> Result<Self, Error>
    where
        S: AsRef<[u8]> + ?Sized,
        P: AsRef<[u8]> + ?Sized,
    {
        let ssid = text(
            dialect,
            "ssid",
            ssid,
            (1, SSID_MAX_LEN),
            "empty or longer than 32 bytes",
        )?;
        let len = password.as_ref().len();
        if len != 0 && len != WEP40_KEY_LEN && len < PASSWORD_MIN_LEN {
            return Err(Error::Invalid {
                field: "password",
                reason: "shorter than 8 bytes (and not empty or a 5-byte WEP key)",
            });
        }
        let pwd = text(
            dialect,
            "password",
            password,
            (0, PASSWORD_MAX_LEN),
            "longer than 64 bytes",
        )?;
        Ok(JoinAp {
            ssid,
            pwd,
            bssid: None,
            pci_en: None,
            reconn_interval: None,
            listen_interval: None,
            scan_mode: None,
            jap_timeout: None,
            pmf: None,
        })
    }

    /// `<bssid>`: join the AP with this MAC address (needed when several APs share the
    /// SSID).
    pub const fn bssid(mut self, mac: [u8; 6]) -> Self {
        self.bssid = Some(Mac(mac));
        self
    }

    /// `<pci_en>`: `true` refuses open and WEP access points.
    pub const fn pci_auth(mut self, on: bool) -> Self {
        self.pci_en = Some(on as u8);
        self
    }

    /// `<reconn_interval>`: seconds between reconnection attempts after the AP is lost,
    /// 0 (never) to [`RECONNECT_INTERVAL_MAX_S`]. Also changes `AT+CWRECONNCFG`.
    pub fn reconnect_interval_s(mut self, s: u16) -> Result<Self, Error> {
        if s > RECONNECT_INTERVAL_MAX_S {
            return Err(Error::Invalid {
                field: "reconn_interval",
                reason: "above 7200 s",
            });
        }
        self.reconn_interval = Some(s);
        Ok(self)
    }

    /// `<listen_interval>`: beacon intervals between listens in power save,
    /// [`LISTEN_INTERVAL_MIN`]–[`LISTEN_INTERVAL_MAX`] (module default 3).
    pub fn listen_interval(mut self, n: u8) -> Result<Self, Error> {
        if !(LISTEN_INTERVAL_MIN..=LISTEN_INTERVAL_MAX).contains(&n) {
            return Err(Error::Invalid {
                field: "listen_interval",
                reason: "outside 1..=100",
            });
        }
        self.listen_interval = Some(n);
        Ok(self)
    }

    /// `<scan_mode>`.
    pub const fn scan_mode(mut self, mode: ScanMode) -> Self {
        self.scan_mode = Some(mode as u8);
        self
    }

    /// `<jap_timeout>`: how long the module tries, [`JOIN_TIMEOUT_MIN_S`]–
    /// [`JOIN_TIMEOUT_MAX_S`] seconds (module default [`JOIN_TIMEOUT_DEFAULT_S`]).
    pub fn timeout_s(mut self, s: u16) -> Result<Self, Error> {
        if !(JOIN_TIMEOUT_MIN_S..=JOIN_TIMEOUT_MAX_S).contains(&s) {
            return Err(Error::Invalid {
                field: "jap_timeout",
                reason: "outside 3..=600 s",
            });
        }
        self.jap_timeout = Some(s);
        Ok(self)
    }

    /// `<pmf>`: protected management frames: bit 0 capable, bit 1 required.
    pub const fn pmf(mut self, capable: bool, required: bool) -> Self {
        self.pmf = Some(capable as u8 | (required as u8) << 1);
        self
    }

    /// How long [`join`] waits for the result: the module's join timeout plus
    /// [`JOIN_MARGIN_MS`].
    pub fn wait_ms(&self) -> u32 {
        u32::from(self.jap_timeout.unwrap_or(JOIN_TIMEOUT_DEFAULT_S)) * 1000 + JOIN_MARGIN_MS
    }

    /// The SSID.
    pub fn ssid(&self) -> &'a [u8] {
        self.ssid.value()
    }
}

/// Shows every parameter but the password.
impl fmt::Debug for JoinAp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAp")
            .field("ssid", &self.ssid)
            .field("password", &format_args!("<redacted>"))
            .field("bssid", &self.bssid.map(|m| MacDebug(m.0)))
            .field("pci_en", &self.pci_en)
            .field("reconn_interval", &self.reconn_interval)
            .field("listen_interval", &self.listen_interval)
            .field("scan_mode", &self.scan_mode)
            .field("jap_timeout", &self.jap_timeout)
            .field("pmf", &self.pmf)
            .finish()
    }
}

struct MacDebug([u8; 6]);

impl fmt::Debug for MacDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// `AT+CWJAP`: joins the AP of the last configuration (ESP-AT's execute form; the same
/// replies and 15 s module timeout as [`JoinAp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+CWJAP", NoResponse, timeout_ms = 20000, termination = "\r\n")]
pub struct JoinLastAp;

/// Why `AT+CWJAP` failed: the `<error code>` of its `+CWJAP:<error code>` line ("for
/// reference only", says ESP-AT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JoinFailure {
    /// `1`: connection timeout.
    Timeout,
    /// `2`: wrong password.
    WrongPassword,
    /// `3`: the AP was not found.
    ApNotFound,
    /// `4`: connection failed.
    ConnectFailed,
    /// Another code: an unknown error.
    Other(u8),
}

impl JoinFailure {
    /// The failure with this code.
    pub const fn from_code(code: u8) -> Self {
        match code {
            1 => JoinFailure::Timeout,
            2 => JoinFailure::WrongPassword,
            3 => JoinFailure::ApNotFound,
            4 => JoinFailure::ConnectFailed,
            c => JoinFailure::Other(c),
        }
    }

    /// The code.
    pub const fn code(self) -> u8 {
        match self {
            JoinFailure::Timeout => 1,
            JoinFailure::WrongPassword => 2,
            JoinFailure::ApNotFound => 3,
            JoinFailure::ConnectFailed => 4,
            JoinFailure::Other(c) => c,
        }
    }

    /// Finds the `+CWJAP:<error code>` line in the reply lines of a failed `AT+CWJAP`
    /// (lines joined by CR LF, as the client collects them).
    ///
    /// ```
    /// use at_wifi::command::wifi::JoinFailure;
    /// assert_eq!(JoinFailure::from_reply(b"+CWJAP:2"), Some(JoinFailure::WrongPassword));
    /// assert_eq!(JoinFailure::from_reply(b"+CWJAP:\"ssid\",\"aa:bb:cc:dd:ee:ff\",1,-40"), None);
    /// ```
    pub fn from_reply(reply: &[u8]) -> Option<Self> {
        reply
            .split(|&b| b == b'\n')
            .filter_map(|l| l.trim_ascii().strip_prefix(b"+CWJAP:"))
            .find_map(number::<u8>)
            .map(JoinFailure::from_code)
    }
}

impl fmt::Display for JoinFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinFailure::Timeout => f.write_str("connection timeout"),
            JoinFailure::WrongPassword => f.write_str("wrong password"),
            JoinFailure::ApNotFound => f.write_str("access point not found"),
            JoinFailure::ConnectFailed => f.write_str("connection failed"),
            JoinFailure::Other(c) => write!(f, "unknown error {c}"),
        }
    }
}

/// A failed [`join`]: the client's error and, when the module said, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JoinError {
    /// What the client saw ([`Error::Module`] when the module answered `ERROR`).
    pub error: Error,
    /// The reason of the module's `+CWJAP:<error code>` line, if one came.
    pub reason: Option<JoinFailure>,
}

impl From<Error> for JoinError {
    fn from(error: Error) -> Self {
        JoinError {
            error,
            reason: None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Some(r) => write!(f, "Wi-Fi join failed: {r} ({})", self.error),
            None => write!(f, "Wi-Fi join failed: {}", self.error),
        }
    }
}

impl core::error::Error for JoinError {}

/// Longest `AT+CWJAP=…` line [`join`] formats (escaped strings, every option).
const JOIN_LINE_MAX: usize = 9 + (2 * SSID_MAX_LEN + 2) + (2 * PASSWORD_MAX_LEN + 2) + 8 + 19 + 24;

/// Sends [`JoinAp`] and waits [`JoinAp::wait_ms`] for the module's result.
///
/// Errors ([`JoinError::error`]): [`Error::Module`] when the module answered `ERROR`,
/// [`Error::Timeout`], [`Error::Unsupported`] on Combo-AT (it joins with `AT+WJAP`),
/// [`Error::CommandTooLong`], [`Error::Uart`].
///
/// [`JoinError::reason`] comes from the module's `+CWJAP:<error code>` line, when it
/// printed one before `ERROR`.
pub fn join<A: AtClient>(client: &mut A, cmd: &JoinAp<'_>) -> Result<(), JoinError> {
    if client.dialect() == Dialect::AiThinker {
        return Err(Error::Unsupported {
            what: "AT+CWJAP (Combo-AT joins with AT+WJAP)",
        }
        .into());
    }
    let mut line = [0u8; JOIN_LINE_MAX];
    let options = atat::serde_at::SerializeOptions {
        value_sep: true,
        cmd_prefix: "AT",
        termination: "",
        escape_strings: false,
    };
    let n = atat::serde_at::to_slice(cmd, "+CWJAP", &mut line, options).map_err(|_| {
        Error::CommandTooLong {
            len: JOIN_LINE_MAX + 1,
            max: JOIN_LINE_MAX,
        }
    })?;
    match client.send_line(&line[..n], cmd.wait_ms()) {
        Ok(_) => Ok(()),
        Err(error) => Err(JoinError {
            error,
            reason: JoinFailure::from_reply(client.last_reply()),
        }),
    }
}

/// The AP the station is joined to: the reply of `AT+CWJAP?`.
///
/// ESP-AT prints `+CWJAP:<ssid>,<bssid>,<channel>,<rssi>,<pci_en>,<reconn_interval>,
/// <listen_interval>,<scan_mode>,<pmf>`; older firmware stops after `<rssi>`, so the
/// fields after it are optional. The SSID is printed between quotes without escaping:
/// it is read as everything before the `"<bssid>"` field, so SSIDs holding `,` or `"`
/// come back whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApInfo {
    /// The SSID's bytes (usually UTF-8, see [`ApInfo::ssid_str`]).
    pub ssid: heapless::Vec<u8, SSID_MAX_LEN>,
    /// The AP's MAC address.
    pub bssid: [u8; 6],
    /// The channel.
    pub channel: u8,
    /// Signal strength, dBm.
    pub rssi: i8,
    /// `<pci_en>`: open and WEP APs refused.
    pub pci_en: Option<bool>,
    /// `<reconn_interval>`, seconds.
    pub reconn_interval: Option<u16>,
    /// `<listen_interval>`, beacon intervals.
    pub listen_interval: Option<u16>,
    /// `<scan_mode>`: 0 fast, 1 all channels.
    pub scan_mode: Option<u8>,
    /// `<pmf>`: bit 0 capable, bit 1 required.
    pub pmf: Option<u8>,
}

impl ApInfo {
    /// The SSID as text, when it is UTF-8.
    pub fn ssid_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.ssid).ok()
    }

    /// Parses what follows `+CWJAP:` in a query reply.
    pub fn parse(rest: &[u8]) -> Option<Self> {
        // Numbers from the right, up to the quoted BSSID.
        let mut nums = [0i32; 7];
        let mut count = 0;
        let mut s = rest.trim_ascii();
        while count < nums.len() {
            let comma = s.iter().rposition(|&b| b == b',')?;
            match number::<i32>(&s[comma + 1..]) {
                Some(v) => {
                    nums[count] = v;
                    count += 1;
                    s = &s[..comma];
                }
                None => break,
            }
        }
        if count < 2 {
            return None;
        }
        nums[..count].reverse();
        let comma = s.iter().rposition(|&b| b == b',')?;
        let bssid = parse_mac(s[comma + 1..].trim_ascii())?;
        let ssid = unquote(s[..comma].trim_ascii());
        let opt = |i: usize| (i < count).then(|| nums[i]);
        Some(ApInfo {
            ssid: heapless::Vec::from_slice(ssid).ok()?,
            bssid,
            channel: u8::try_from(nums[0]).ok()?,
            rssi: i8::try_from(nums[1]).ok()?,
            pci_en: opt(2).map(|v| v != 0),
            reconn_interval: match opt(3) {
                Some(v) => Some(u16::try_from(v).ok()?),
                None => None,
            },
            listen_interval: match opt(4) {
                Some(v) => Some(u16::try_from(v).ok()?),
                None => None,
            },
            scan_mode: match opt(5) {
                Some(v) => Some(u8::try_from(v).ok()?),
                None => None,
            },
            pmf: match opt(6) {
                Some(v) => Some(u8::try_from(v).ok()?),
                None => None,
            },
        })
    }
}

/// The reply of `AT+CWJAP?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StationStatus {
    /// Not joined to an AP (ESP-AT answers `No AP`).
    NotConnected,
    /// Joined.
    Connected(ApInfo),
}

impl StationStatus {
    /// The AP, when joined.
    pub fn ap(&self) -> Option<&ApInfo> {
        match self {
            StationStatus::Connected(ap) => Some(ap),
            StationStatus::NotConnected => None,
        }
    }
}

impl atat::AtatResp for StationStatus {}

fn parse_station(resp: &[u8]) -> Result<StationStatus, atat::Error> {
    match reply_line(resp, b"+CWJAP:") {
        None => Ok(StationStatus::NotConnected),
        Some(rest) => ApInfo::parse(rest)
            .map(StationStatus::Connected)
            .ok_or(atat::Error::Parse),
    }
}

/// `AT+CWJAP?`: the AP the station is joined to ([`StationStatus`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+CWJAP?",
    StationStatus,
    timeout_ms = 2000,
    termination = "\r\n",
    parse = parse_station
)]
pub struct GetStationStatus;

/// `AT+CWQAP`: leaves the AP (ESP-AT "Wi-Fi AT Commands", `AT+CWQAP`). Replies `OK`;
/// `WIFI DISCONNECT` follows as an event when the station was joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+CWQAP", NoResponse, timeout_ms = 2000, termination = "\r\n")]
pub struct Disconnect;

// ---------------------------------------------------------------------------------------
// SNTP

/// The `<timezone>` of `AT+CIPSNTPCFG`.
///
/// ESP-AT accepts whole hours −12…14, or an offset written `[+|-][hh]mm` (`530` is
/// UTC+05:30, `-330` UTC−03:30, `1245` UTC+12:45). The W800 and Beken documents allow
/// whole hours only (−12…12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timezone(i16);

impl Timezone {
    /// UTC.
    pub const UTC: Timezone = Timezone(0);

    /// A whole-hour offset from UTC, −12…14.
    pub const fn hours(h: i8) -> Result<Self, Error> {
        if h < -12 || h > 14 {
            return Err(Error::Invalid {
                field: "timezone",
                reason: "outside -12..=14 hours",
            });
        }
        Ok(Timezone(h as i16))
    }

    /// An offset from UTC in minutes, −12:00…+14:00 (sent in the `[+|-]hhmm` form when
    /// it is not whole hours; ESP-AT only).
    ///
    /// ```
    /// use at_wifi::command::wifi::Timezone;
    /// assert_eq!(Timezone::from_minutes(330).unwrap().value(), 530);
    /// assert_eq!(Timezone::from_minutes(-210).unwrap().value(), -330);
    /// assert_eq!(Timezone::from_minutes(480).unwrap().value(), 8);
    /// ```
    pub const fn from_minutes(m: i16) -> Result<Self, Error> {
        if m < -12 * 60 || m > 14 * 60 {
            return Err(Error::Invalid {
                field: "timezone",
                reason: "outside -12:00..=+14:00",
            });
        }
        if m % 60 == 0 {
            return Ok(Timezone(m / 60));
        }
        let v = (m / 60) * 100 + m % 60;
        if v >= -12 && v <= 14 {
            // `[hh]mm` with hh = 0 and mm this small reads as whole hours.
            return Err(Error::Invalid {
                field: "timezone",
                reason: "offset of under 15 minutes not expressible",
            });
        }
        Ok(Timezone(v))
    }

    /// The value sent.
    pub const fn value(self) -> i16 {
        self.0
    }

    /// The offset from UTC in minutes.
    pub const fn minutes(self) -> i16 {
        let v = self.0;
        if v >= -12 && v <= 14 {
            v * 60
        } else {
            (v / 100) * 60 + v % 100
        }
    }
}

/// `AT+CIPSNTPCFG=<enable>,<timezone>[,<server1>,<server2>,<server3>]`: sets the time
/// zone and the SNTP servers (ESP-AT "TCP/IP AT Commands", `AT+CIPSNTPCFG`).
///
/// Without servers the module uses its defaults. The time is fetched in the background
/// once Wi-Fi is up (ESP-AT then prints `+TIME_UPDATED`); check it with [`GetSntpTime`]
/// before `AT+MQTTCONN` with a TLS scheme that verifies the server's certificate.
/// Server names: at most [`SNTP_SERVERS_MAX`], 1–[`SNTP_SERVER_MAX_LEN`] bytes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd("+CIPSNTPCFG", NoResponse, timeout_ms = 2000, termination = "\r\n")]
pub struct SetSntpConfig<'a> {
    enable: u8,
    timezone: i16,
    server1: Option<AtStr<'a>>,
    server2: Option<AtStr<'a>>,
    server3: Option<AtStr<'a>>,
}

impl<'a> SetSntpConfig<'a> {
    /// `AT+CIPSNTPCFG=1,<timezone>`: SNTP on, the module's default servers.
    pub const fn new(timezone: Timezone) -> Self {
        SetSntpConfig {
            enable: 1,
            timezone: timezone.0,
            server1: None,
            server2: None,
            server3: None,
        }
    }

    /// `AT+CIPSNTPCFG=0,0`: SNTP off.
    pub const fn disabled() -> Self {
        SetSntpConfig {
            enable: 0,
            timezone: 0,
            server1: None,
            server2: None,
            server3: None,
        }
    }

    /// Adds a server (name or IP address) for `dialect`, up to [`SNTP_SERVERS_MAX`].
    pub fn server<T: AsRef<[u8]> + ?Sized>(
        mut self,
        dialect: Dialect,
        name: &'a T,
    ) -> Result<Self, Error> {
        if self.enable == 0 {
            return Err(Error::Invalid {
                field: "sntp_server",
                reason: "SNTP is disabled",
            });
        }
        let t = text(
            dialect,
            "sntp_server",
            name,
            (1, SNTP_SERVER_MAX_LEN),
            "empty or longer than 64 bytes",
        )?;
        let slot = [&mut self.server1, &mut self.server2, &mut self.server3]
            .into_iter()
            .find(|s| s.is_none())
            .ok_or(Error::Invalid {
                field: "sntp_server",
                reason: "more than 3 servers",
            })?;
        *slot = Some(t);
        Ok(self)
    }
}

/// The reply of `AT+CIPSNTPCFG?`: `+CIPSNTPCFG:<enable>,<timezone>[,<server>…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SntpConfig {
    /// SNTP is on.
    pub enabled: bool,
    /// The time zone as the module reports it (see [`Timezone::minutes`]).
    pub timezone: Timezone,
    /// The servers, quotes removed; names longer than [`SNTP_SERVER_MAX_LEN`] are cut.
    pub servers: heapless::Vec<heapless::String<SNTP_SERVER_MAX_LEN>, SNTP_SERVERS_MAX>,
}

impl atat::AtatResp for SntpConfig {}

fn parse_sntp_config(resp: &[u8]) -> Result<SntpConfig, atat::Error> {
    let rest = reply_line(resp, b"+CIPSNTPCFG:").ok_or(atat::Error::Parse)?;
    let mut p = params(rest);
    let enable: u8 = p.next().and_then(number).ok_or(atat::Error::Parse)?;
    let timezone: i16 = p.next().and_then(number).ok_or(atat::Error::Parse)?;
    let mut servers = heapless::Vec::new();
    for s in p {
        let s = unquote(s);
        if s.is_empty() {
            continue;
        }
        let mut name = heapless::String::new();
        for c in core::str::from_utf8(s)
            .map_err(|_| atat::Error::Parse)?
            .chars()
        {
            if name.push(c).is_err() {
                break;
            }
        }
        if servers.push(name).is_err() {
            break;
        }
    }
    Ok(SntpConfig {
        enabled: enable != 0,
        timezone: Timezone(timezone),
        servers,
    })
}

/// `AT+CIPSNTPCFG?`: the SNTP configuration ([`SntpConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+CIPSNTPCFG?",
    SntpConfig,
    timeout_ms = 1000,
    termination = "\r\n",
    parse = parse_sntp_config
)]
pub struct GetSntpConfig;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

const WEEKDAYS: [(&[u8], Weekday); 7] = [
    (b"mon", Weekday::Monday),
    (b"tue", Weekday::Tuesday),
    (b"wed", Weekday::Wednesday),
    (b"thu", Weekday::Thursday),
    (b"fri", Weekday::Friday),
    (b"sat", Weekday::Saturday),
    (b"sun", Weekday::Sunday),
];

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// The module's local time: the reply of `AT+CIPSNTPTIME?`.
///
/// ESP-AT prints it asctime-style (`+CIPSNTPTIME:Tue Oct 19 17:47:56 2021`, the day may
/// be space-padded); other firmwares print `+CIPSNTPTIME:2022-10-21 19:20:39`. Both are
/// read. Before the first synchronisation the clock runs from 1970
/// (`Thu Jan 01 00:00:00 1970`): see [`SntpTime::is_synced`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SntpTime {
    /// Year, e.g. 2021.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60.
    pub second: u8,
    /// The day of the week, when the module printed it.
    pub weekday: Option<Weekday>,
}

impl atat::AtatResp for SntpTime {}

impl SntpTime {
    /// True once the module has fetched the time (its clock is past 1970).
    pub const fn is_synced(&self) -> bool {
        self.year > 1970
    }

    /// Parses the text after `+CIPSNTPTIME:`.
    ///
    /// ```
    /// use at_wifi::command::wifi::{SntpTime, Weekday};
    /// let t = SntpTime::parse(b"Tue Oct 19 17:47:56 2021").unwrap();
    /// assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2021, 10, 19, 17, 47, 56));
    /// assert_eq!(t.weekday, Some(Weekday::Tuesday));
    /// assert_eq!(SntpTime::parse(b"2022-10-21 19:20:39").unwrap().day, 21);
    /// ```
    pub fn parse(s: &[u8]) -> Option<Self> {
        let s = unquote(s.trim_ascii());
        let t = if s.first().is_some_and(u8::is_ascii_digit) {
            Self::parse_iso(s)?
        } else {
            Self::parse_asctime(s)?
        };
        let valid = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour <= 23
            && t.minute <= 59
            && t.second <= 60;
        valid.then_some(t)
    }

    /// `Www Mmm dd hh:mm:ss yyyy`, fields separated by one or more spaces.
    fn parse_asctime(s: &[u8]) -> Option<Self> {
        let mut words = s.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let wd = words.next()?;
        let weekday = WEEKDAYS
            .iter()
            .find(|(n, _)| wd.eq_ignore_ascii_case(n))
            .map(|&(_, d)| d)?;
        let mon = words.next()?;
        let month = MONTHS.iter().position(|m| mon.eq_ignore_ascii_case(m))? as u8 + 1;
        let day = number(words.next()?)?;
        let (hour, minute, second) = Self::clock(words.next()?)?;
        let year = number(words.next()?)?;
        if words.next().is_some() {
            return None;
        }
        Some(SntpTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            weekday: Some(weekday),
        })
    }

    /// `yyyy-mm-dd hh:mm:ss` (or with a `T` between date and time).
    fn parse_iso(s: &[u8]) -> Option<Self> {
        let split = s.iter().position(|&b| b == b' ' || b == b'T')?;
        let (date, time) = (&s[..split], s[split + 1..].trim_ascii());
        let mut d = date.split(|&b| b == b'-');
        let year = number(d.next()?)?;
        let month = number(d.next()?)?;
        let day = number(d.next()?)?;
        if d.next().is_some() {
            return None;
        }
        let (hour, minute, second) = Self::clock(time)?;
        Some(SntpTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            weekday: None,
        })
    }

    fn clock(s: &[u8]) -> Option<(u8, u8, u8)> {
        let mut p = s.split(|&b| b == b':');
        let h = number(p.next()?)?;
        let m = number(p.next()?)?;
        let sec = number(p.next()?)?;
        if p.next().is_some() {
            return None;
        }
        Some((h, m, sec))
    }
}

impl fmt::Display for SntpTime {
    /// `yyyy-mm-dd hh:mm:ss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn parse_sntp_time(resp: &[u8]) -> Result<SntpTime, atat::Error> {
    reply_line(resp, b"+CIPSNTPTIME:")
        .and_then(SntpTime::parse)
        .ok_or(atat::Error::Parse)
}

/// `AT+CIPSNTPTIME?`: the module's local time ([`SntpTime`]; ESP-AT "TCP/IP AT Commands",
/// `AT+CIPSNTPTIME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, AtatCmd)]
#[at_cmd(
    "+CIPSNTPTIME?",
    SntpTime,
    timeout_ms = 1000,
    termination = "\r\n",
    parse = parse_sntp_time
)]
pub struct GetSntpTime;
