//! Basic commands: `AT+RST`, `AT+GMR`, `AT+SYSLOG`, `AT+RESTORE`.

use super::{Module, Op};
use crate::config::Dialect;
use crate::params::{Args, Fail};
use std::time::Instant;

impl Module {
    pub(super) fn dispatch_basic(
        &mut self,
        name: &str,
        op: Op<'_>,
        now: Instant,
    ) -> Option<Result<(), Fail>> {
        Some(match (name, op) {
            ("RST", Op::Exec) => {
                self.ok();
                // ESP-style firmwares report the AP lost while they shut down.
                if self.wifi.joined.is_some() && self.d != Dialect::AiThinker {
                    self.line("WIFI DISCONNECT");
                }
                self.reboot(now);
                Ok(())
            }
            ("RESTORE", Op::Exec) => {
                self.ok();
                self.flash = super::Flash {
                    dns: ("127.0.0.1".into(), "0.0.0.0".into()),
                    ..super::Flash::default()
                };
                self.reboot(now);
                Ok(())
            }
            ("GMR", Op::Exec) => {
                let lines: &[&str] = match self.d {
                    Dialect::EspAt => &[
                        "AT version:3.2.0.0(s-ec2dec2 - ESP32C3 - Jul 28 2023 07:05:28)",
                        "SDK version:v5.0.4-dirty",
                        "compile time(6118fc22):Jul 28 2023 09:47:28",
                        "Bin version:v3.2.0.0(MINI-1)",
                    ],
                    Dialect::W800 => &[
                        "AT version:1.0.0(W800 simulated)",
                        "SDK version:wm_sdk_w800 v1.00.10",
                        "compile time:Jan 10 2024 10:00:00",
                    ],
                    Dialect::Beken => &[
                        "AT version:2.0.0(BK7238 simulated)",
                        "SDK version:bk7238 v3.0.37",
                        "compile time:Jan 10 2024 10:00:00",
                    ],
                    Dialect::AiThinker => &[
                        "atversion:release/v4.18_P2.15.0(simulated)",
                        "sdkversion:release_bl_iot_sdk_1.6.40",
                        "firmwareversion:release/v1.2.3",
                    ],
                };
                for l in lines {
                    self.line(l);
                }
                self.ok();
                Ok(())
            }
            ("SYSLOG", op) if self.d == Dialect::EspAt => match op {
                Op::Query => {
                    self.line(format!("+SYSLOG:{}", u8::from(self.syslog)));
                    self.ok();
                    Ok(())
                }
                Op::Set(p) => {
                    let a = Args::parse(self.d, p);
                    a.count(1, 1).and_then(|_| a.int_in(0, 0, 1)).map(|v| {
                        self.syslog = v == 1;
                        self.ok();
                    })
                }
                _ => Err(Fail::OpError),
            },
            _ => return None,
        })
    }
}
