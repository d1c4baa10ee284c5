//! Wi-Fi station (ESP-AT style `AT+CW…`, shared join logic with Combo-AT's `AT+WJAP`)
//! and SNTP.

use super::{Ap, Busy, Module, Op, Timer};
use crate::config::Dialect;
use crate::params::{Args, Fail};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The BSSID every simulated access point has.
pub(crate) const BSSID: &str = "de:ad:be:ef:00:01";
/// The station's MAC address.
pub(crate) const MAC: &str = "a4:cf:12:00:00:01";

#[derive(Clone, Debug)]
pub(crate) struct Wifi {
    /// 0 off, 1 station, 2 SoftAP, 3 both.
    pub mode: u8,
    pub joined: Option<Ap>,
}

impl Default for Wifi {
    fn default() -> Self {
        Wifi {
            mode: 1,
            joined: None,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Sntp {
    pub enabled: bool,
    /// The `<timezone>` as given.
    pub tz: i64,
    pub servers: Vec<String>,
    pub synced: bool,
}

impl Sntp {
    pub(crate) fn new(_d: Dialect) -> Sntp {
        Sntp {
            enabled: false,
            tz: 0,
            servers: vec![
                "cn.ntp.org.cn".into(),
                "ntp.sjtu.edu.cn".into(),
                "us.pool.ntp.org".into(),
            ],
            synced: false,
        }
    }

    /// The offset from UTC in minutes, or `None` for a value ESP-AT refuses: whole hours
    /// −12…14, or `[+|-][hh]mm` within −12:00…+14:00.
    pub(crate) fn tz_minutes(v: i64) -> Option<i64> {
        if (-12..=14).contains(&v) {
            return Some(v * 60);
        }
        let (h, m) = (v / 100, v % 100);
        if m.abs() >= 60 || v.abs() < 100 {
            return None;
        }
        let mins = h * 60 + m;
        (-12 * 60..=14 * 60).contains(&mins).then_some(mins)
    }
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Www Mmm dd hh:mm:ss yyyy` for a Unix time in seconds.
pub(crate) fn asctime(secs: i64) -> String {
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {}",
        WD[days.rem_euclid(7) as usize],
        MO[(m - 1) as usize],
        d,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        y
    )
}

impl Module {
    pub(super) fn dispatch_wifi(
        &mut self,
        name: &str,
        op: Op<'_>,
        now: Instant,
    ) -> Option<Result<(), Fail>> {
        let _ = now;
        let sntp = matches!(self.d, Dialect::EspAt | Dialect::W800);
        Some(match (name, op) {
            ("CWMODE", Op::Query) => {
                self.line(format!("+CWMODE:{}", self.wifi.mode));
                self.ok();
                Ok(())
            }
            ("CWMODE", Op::Set(p)) => self.cwmode(p),
            ("CWJAP", Op::Set(p)) => self.cwjap(p),
            ("CWJAP", Op::Exec) => match self.flash.stored_ap.clone() {
                Some(ap) => {
                    if self.wifi.mode & 1 == 0 {
                        Err(Fail::Exec)
                    } else {
                        self.start_join(ap.ssid, ap.password, false);
                        Ok(())
                    }
                }
                None => Err(Fail::Exec),
            },
            ("CWJAP", Op::Query) => {
                match self.wifi.joined.clone() {
                    Some(ap) => self.line(format!(
                        "+CWJAP:\"{}\",\"{BSSID}\",6,-45,0,1,3,0,1",
                        ap.ssid
                    )),
                    None => self.line("No AP"),
                }
                self.ok();
                Ok(())
            }
            ("CWQAP", Op::Exec) => {
                self.ok();
                self.leave_wifi();
                Ok(())
            }
            ("CIPSNTPCFG", Op::Set(p)) if sntp => self.sntp_cfg(p),
            ("CIPSNTPCFG", Op::Query) if sntp => {
                let mut l = format!(
                    "+CIPSNTPCFG:{},{}",
                    u8::from(self.sntp.enabled),
                    self.sntp.tz
                );
                for s in &self.sntp.servers {
                    l.push_str(&format!(",\"{s}\""));
                }
                self.line(l);
                self.ok();
                Ok(())
            }
            ("CIPSNTPTIME", Op::Query) if sntp => {
                let t = self.module_time();
                self.line(format!("+CIPSNTPTIME:{}", asctime(t)));
                self.ok();
                Ok(())
            }
            _ => return None,
        })
    }

    fn cwmode(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(1, 2)?;
        let mode = a.int_in(0, 0, 3)? as u8;
        if !a.absent(1) {
            a.int_in(1, 0, 1)?;
        }
        self.wifi.mode = mode;
        self.ok();
        if mode & 1 == 0 {
            self.leave_wifi();
        }
        Ok(())
    }

    fn cwjap(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(2, 9)?;
        let ssid = a.text(0)?;
        let pwd = a.text(1)?;
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(Fail::Invalid(0));
        }
        if pwd.len() > 64 {
            return Err(Fail::Invalid(1));
        }
        if !a.absent(2) {
            a.str(2)?;
        }
        for i in 3..a.len() {
            a.opt_int(i)?;
        }
        if self.wifi.mode & 1 == 0 {
            return Err(Fail::Exec);
        }
        self.start_join(ssid, pwd, false);
        Ok(())
    }

    /// Does the network exist, and is the password right? `Err` holds ESP-AT's
    /// `+CWJAP:<error code>` (2 wrong password, 3 AP not found).
    fn check_network(&self, ssid: &str, pwd: &str) -> Result<(), u8> {
        if self.cfg.networks.is_empty() {
            return Ok(());
        }
        match self.cfg.networks.iter().find(|n| n.ssid == ssid) {
            None => Err(3),
            Some(n) if n.password != pwd => Err(2),
            Some(_) => Ok(()),
        }
    }

    /// Starts joining; the result comes after [`SimConfig::join_ms`](crate::SimConfig).
    /// `auto`: the module reconnects on its own (after boot), no command waits.
    pub(crate) fn start_join(&mut self, ssid: String, password: String, auto: bool) {
        let result = self.check_network(&ssid, &password);
        if !auto {
            self.leave_wifi();
            self.set_busy(Busy::Join, self.cfg.join_ms + 20_000);
        }
        let ms = self.cfg.join_ms;
        self.add_timer(
            ms,
            Timer::JoinDone {
                ssid,
                password,
                result,
                auto,
            },
        );
    }

    pub(crate) fn join_done(
        &mut self,
        ssid: String,
        password: String,
        result: Result<(), u8>,
        auto: bool,
    ) {
        if !auto {
            if !matches!(self.busy, Some((Busy::Join, _))) {
                return;
            }
            self.busy = None;
        }
        match result {
            Ok(()) => {
                let ap = Ap { ssid, password };
                self.wifi.joined = Some(ap.clone());
                self.flash.stored_ap = Some(ap);
                self.path.set_wifi(true);
                if self.d == Dialect::AiThinker {
                    self.line("+EVENT:WIFI_CONNECT");
                    if !auto {
                        self.ok();
                    }
                    self.line("+EVENT:WIFI_GOT_IP");
                } else {
                    self.line("WIFI CONNECTED");
                    self.line("WIFI GOT IP");
                    if !auto {
                        self.ok();
                    }
                }
                if self.sntp.enabled {
                    let ms = self.cfg.sntp_sync_ms;
                    self.add_timer(ms, Timer::SntpSynced);
                }
            }
            Err(code) => {
                if auto {
                    return;
                }
                if self.d != Dialect::AiThinker {
                    self.line(format!("+CWJAP:{code}"));
                }
                self.fail(Fail::Exec);
            }
        }
    }

    /// Leaves the AP (if joined): the disconnect line, and no more route to anything.
    pub(crate) fn leave_wifi(&mut self) {
        if self.wifi.joined.take().is_some() {
            self.path.set_wifi(false);
            if self.d == Dialect::AiThinker {
                self.line("+EVENT:WIFI_DISCONNECT");
            } else {
                self.line("WIFI DISCONNECT");
            }
        }
    }

    /// After `ready`: reconnect to the stored AP (ESP-style firmwares do by default;
    /// Combo-AT after `AT+WAUTOCONN=1`).
    pub(crate) fn after_boot(&mut self) {
        let auto = self.d != Dialect::AiThinker || self.flash.combo_autoconn;
        if let (true, Some(ap)) = (auto, self.flash.stored_ap.clone()) {
            self.start_join(ap.ssid, ap.password, true);
        }
    }

    fn sntp_cfg(&mut self, p: &[u8]) -> Result<(), Fail> {
        let a = Args::parse(self.d, p);
        a.count(1, 5)?;
        let enable = a.int_in(0, 0, 1)? == 1;
        let tz = a.opt_int(1)?.unwrap_or(0);
        if Sntp::tz_minutes(tz).is_none() {
            return Err(Fail::Invalid(1));
        }
        let mut servers = Vec::new();
        for i in 2..a.len() {
            if a.absent(i) {
                continue;
            }
            let s = a.text(i)?;
            if s.is_empty() || s.len() > 64 {
                return Err(Fail::Invalid(i as u8));
            }
            servers.push(s);
        }
        self.sntp.enabled = enable;
        self.sntp.tz = tz;
        if !servers.is_empty() {
            self.sntp.servers = servers;
        }
        self.ok();
        if enable && self.wifi.joined.is_some() {
            let ms = self.cfg.sntp_sync_ms;
            self.add_timer(ms, Timer::SntpSynced);
        }
        Ok(())
    }

    pub(crate) fn sntp_synced(&mut self) {
        if self.sntp.enabled && self.wifi.joined.is_some() {
            self.sntp.synced = true;
            if self.d == Dialect::EspAt {
                self.line("+TIME_UPDATED");
            }
        }
    }

    /// The module's clock: the host's time with the time zone once SNTP synchronised,
    /// the epoch before.
    fn module_time(&self) -> i64 {
        if !self.sntp.synced {
            return 0;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        now + Sntp::tz_minutes(self.sntp.tz).unwrap_or(0) * 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asctime_known_dates() {
        assert_eq!(asctime(0), "Thu Jan 01 00:00:00 1970");
        assert_eq!(asctime(1_634_665_676), "Tue Oct 19 17:47:56 2021");
        assert_eq!(asctime(951_782_400), "Tue Feb 29 00:00:00 2000");
    }

    #[test]
    fn timezones() {
        assert_eq!(Sntp::tz_minutes(8), Some(480));
        assert_eq!(Sntp::tz_minutes(530), Some(330));
        assert_eq!(Sntp::tz_minutes(-330), Some(-210));
        assert_eq!(Sntp::tz_minutes(15), None);
        assert_eq!(Sntp::tz_minutes(1260), None);
        assert_eq!(Sntp::tz_minutes(1500), None);
    }
}
