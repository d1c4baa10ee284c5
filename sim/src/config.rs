//! What the simulated module is: its dialect, the networks it can join, where its MQTT
//! client connects, and its timings.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// The AT firmware the simulator plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Espressif ESP-AT v2.x and later.
    #[default]
    EspAt,
    /// WinnerMicro W800 AT.
    W800,
    /// Beken BK72xx AT.
    Beken,
    /// Ai-Thinker Combo-AT (Ai-WB2 / BL602, BW16).
    AiThinker,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 4] = [
        Dialect::EspAt,
        Dialect::W800,
        Dialect::Beken,
        Dialect::AiThinker,
    ];

    /// The short name, as the driver's `at_wifi::Dialect` spells it: `esp-at`, `w800`,
    /// `beken`, `ai-thinker`.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::EspAt => "esp-at",
            Dialect::W800 => "w800",
            Dialect::Beken => "beken",
            Dialect::AiThinker => "ai-thinker",
        }
    }

    /// Longest command line accepted, line end included. ESP-AT, W800 and Beken: "The
    /// total length of each AT command cannot exceed 256 bytes". Combo-AT's guide: "the
    /// total length of one command is 1023 by default".
    pub const fn max_line(self) -> usize {
        match self {
            Dialect::AiThinker => 1023,
            _ => 256,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dialect name that is not `esp-at`, `w800`, `beken` or `ai-thinker` (also accepted:
/// `esp`, `espat`, `combo`, `combo-at`, `aithinker`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown dialect {:?} (expected esp-at, w800, beken or ai-thinker)",
            self.0
        )
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "esp-at" | "esp" | "espat" | "esp_at" => Ok(Dialect::EspAt),
            "w800" => Ok(Dialect::W800),
            "beken" | "bk7238" | "bk72xx" => Ok(Dialect::Beken),
            "ai-thinker" | "aithinker" | "combo" | "combo-at" | "ai-wb2" => Ok(Dialect::AiThinker),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

/// How ESP-AT hands over an incoming MQTT message too long for one piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SplitMode {
    /// As the firmware does it (its MQTT client reads the PUBLISH packet in 1024-byte
    /// buffers): the first `+MQTTSUBRECV` carries 1024 bytes minus the PUBLISH header
    /// (fixed header, topic length and topic, packet id for QoS > 0), every further one
    /// 1024 bytes, the last one the rest; each piece repeats the topic. A 2500-byte message
    /// on a 15-byte topic at QoS 0 arrives as 1004 + 1024 + 472; a 1262-byte one on a
    /// 33-byte topic as 986 + 276 (both seen on real modules).
    #[default]
    Chunk,
    /// Like [`SplitMode::Chunk`], but the pieces after the first carry an empty topic
    /// (`+MQTTSUBRECV:0,"",1024,…`), as the firmware's MQTT client reports no topic for
    /// continuation data.
    ChunkEmptyTopic,
    /// Every `+MQTTSUBRECV:<id>,"<topic>",<len>,<data>` line, header included (line end
    /// not counted), holds at most 1024 bytes; full pieces are exactly 1024.
    LineLimit,
    /// Never split.
    None,
}

/// A Wi-Fi network the module can join.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// The SSID.
    pub ssid: String,
    /// The password ("" for an open network).
    pub password: String,
}

/// The whole configuration of a simulated module.
///
/// ```
/// use at_wifi_sim::{Dialect, SimConfig};
/// let cfg = SimConfig::new(Dialect::W800)
///     .broker("127.0.0.1:1883".parse().unwrap())
///     .network("home", "secret-password")
///     .echo(false);
/// assert_eq!(cfg.dialect, Dialect::W800);
/// ```
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The firmware played.
    pub dialect: Dialect,
    /// Where the module's MQTT client really connects, whatever host `AT+MQTTCONN` names
    /// (the host is only echoed back in replies). `None`: the host of the command is used
    /// and must be `localhost` or a 127.x.x.x address; any other host fails as a DNS
    /// failure would, without network traffic.
    pub broker: Option<SocketAddr>,
    /// Echo at power-on (real modules: on).
    pub echo: bool,
    /// Print boot noise and `ready` when the simulator starts (default: no, the module
    /// was powered on long ago).
    pub boot_on_start: bool,
    /// Start joined to the first network of [`SimConfig::networks`] (or to `sim-ap`).
    pub wifi_connected: bool,
    /// The networks that exist. Empty: every SSID exists and every password is right.
    pub networks: Vec<Network>,
    /// How long joining takes, ms.
    pub join_ms: u64,
    /// How long a reboot takes until `ready`, ms.
    pub boot_ms: u64,
    /// How long after Wi-Fi is up and SNTP is on the clock is set, ms.
    pub sntp_sync_ms: u64,
    /// Pause between MQTT reconnection attempts, ms (ESP-AT `<reconnect>` 1, Combo-AT).
    pub reconnect_ms: u64,
    /// How long a command that talks to the broker waits for its answer before `ERROR`, ms.
    pub broker_timeout_ms: u64,
    /// How ESP-AT splits long incoming messages.
    pub split: SplitMode,
    /// Most MQTT subscriptions; `None`: the dialect's (10; Combo-AT 4).
    pub max_subscriptions: Option<usize>,
    /// Seed of the pseudo-random garbage the faults produce.
    pub seed: u64,
    /// Faults injected when the module powers on (a fault plan: `BusyStorm(3)` answers
    /// the first three commands with the busy line, `DelayReply` delays the first reply).
    pub faults: Vec<crate::Fault>,
}

impl SimConfig {
    /// Defaults for `dialect`: echo on, any network joinable, 30 ms joins, 150 ms boots,
    /// 500 ms between MQTT reconnection attempts, the firmware's message split.
    pub fn new(dialect: Dialect) -> Self {
        SimConfig {
            dialect,
            broker: None,
            echo: true,
            boot_on_start: false,
            wifi_connected: false,
            networks: Vec::new(),
            join_ms: 30,
            boot_ms: 150,
            sntp_sync_ms: 100,
            reconnect_ms: 500,
            broker_timeout_ms: 5000,
            split: SplitMode::Chunk,
            max_subscriptions: None,
            seed: 0x5eed_a71f,
            faults: Vec::new(),
        }
    }

    /// Sets [`SimConfig::broker`].
    pub fn broker(mut self, addr: SocketAddr) -> Self {
        self.broker = Some(addr);
        self
    }

    /// Sets [`SimConfig::echo`].
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Sets [`SimConfig::boot_on_start`].
    pub fn boot_on_start(mut self, on: bool) -> Self {
        self.boot_on_start = on;
        self
    }

    /// Sets [`SimConfig::wifi_connected`].
    pub fn wifi_connected(mut self, on: bool) -> Self {
        self.wifi_connected = on;
        self
    }

    /// Adds a network to [`SimConfig::networks`].
    pub fn network(mut self, ssid: &str, password: &str) -> Self {
        self.networks.push(Network {
            ssid: ssid.to_string(),
            password: password.to_string(),
        });
        self
    }

    /// Sets [`SimConfig::join_ms`].
    pub fn join_ms(mut self, ms: u64) -> Self {
        self.join_ms = ms;
        self
    }

    /// Sets [`SimConfig::boot_ms`].
    pub fn boot_ms(mut self, ms: u64) -> Self {
        self.boot_ms = ms;
        self
    }

    /// Sets [`SimConfig::reconnect_ms`].
    pub fn reconnect_ms(mut self, ms: u64) -> Self {
        self.reconnect_ms = ms;
        self
    }

    /// Sets [`SimConfig::split`].
    pub fn split(mut self, mode: SplitMode) -> Self {
        self.split = mode;
        self
    }

    /// Sets [`SimConfig::max_subscriptions`].
    pub fn max_subscriptions(mut self, n: usize) -> Self {
        self.max_subscriptions = Some(n);
        self
    }

    /// Sets [`SimConfig::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Adds a fault to [`SimConfig::faults`].
    pub fn fault(mut self, fault: crate::Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The subscription limit in force.
    pub fn subscription_limit(&self) -> usize {
        self.max_subscriptions.unwrap_or(match self.dialect {
            Dialect::AiThinker => 4,
            _ => 10,
        })
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig::new(Dialect::EspAt)
    }
}
