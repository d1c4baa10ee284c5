//! ESP-AT error codes: the `ERR CODE:0x<%08x>` lines printed after `AT+SYSLOG=1`.
//!
//! The 32-bit code is laid out as the ESP-AT documentation ("AT+SYSLOG") and `esp_at.h`
//! (`ESP_AT_ERROR_NO(subcategory, extension)`) define it:
//!
//! | bits | 31–24 | 23–16 | 15–0 |
//! |---|---|---|---|
//! | meaning | module, always `0x01` | error type ([`ErrorCategory`]) | extension |
//!
//! The extension depends on the type: for the parameter errors it names the parameter
//! (for [`ErrorCategory::ParamCountMismatch`] it is `expected << 8 | given`), and MQTT
//! commands put one of the [`MqttErrorCode`]s `0x6001`–`0x6052` of the ESP-AT MQTT
//! document's error table there. `ERR CODE` lines are not final results: the client keeps
//! the last one and reports it in [`Error::Module`](crate::Error::Module)'s `code`.
//!
//! ```
//! use at_wifi::command::esp_error::{describe, ErrorCategory, MqttErrorCode};
//! let e = describe(0x010a_6006);
//! assert_eq!(e.category, ErrorCategory::ExecFailed);
//! assert_eq!(e.mqtt, Some(MqttErrorCode::NullLink));
//! assert_eq!(e.to_string(), "command execution failed: MQTT link not initialised (0x6006)");
//! assert_eq!(describe(0x0109_0000).to_string(), "command not supported");
//! ```

use core::fmt;

/// The value of bits 31–24 of every ESP-AT error code (`ESP_AT_MODULE_NUM`).
pub const ESP_AT_MODULE: u8 = 0x01;

/// The error type of an ESP-AT error code (bits 23–16), `ESP_AT_SUB_*` in `esp_at.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCategory {
    /// `0x00` `ESP_AT_SUB_OK`: no error.
    Ok,
    /// `0x01` `ESP_AT_SUB_COMMON_ERROR`: reserved, a generic error.
    Common,
    /// `0x02` `ESP_AT_SUB_NO_TERMINATOR`: the line did not end with CR LF.
    NoTerminator,
    /// `0x03` `ESP_AT_SUB_NO_AT`: the line did not start with `AT`.
    NoAt,
    /// `0x04` `ESP_AT_SUB_PARA_LENGTH_MISMATCH`: a parameter has the wrong length.
    ParamLengthMismatch,
    /// `0x05` `ESP_AT_SUB_PARA_TYPE_MISMATCH`: a parameter has the wrong type (a string
    /// where a number belongs, or the reverse).
    ParamTypeMismatch,
    /// `0x06` `ESP_AT_SUB_PARA_NUM_MISMATCH`: the wrong number of parameters.
    ParamCountMismatch,
    /// `0x07` `ESP_AT_SUB_PARA_INVALID`: a parameter is out of range.
    ParamInvalid,
    /// `0x08` `ESP_AT_SUB_PARA_PARSE_FAIL`: a parameter could not be parsed.
    ParamParseFailed,
    /// `0x09` `ESP_AT_SUB_UNSUPPORT_CMD`: the firmware has no such command.
    Unsupported,
    /// `0x0A` `ESP_AT_SUB_CMD_EXEC_FAIL`: the command ran and failed.
    ExecFailed,
    /// `0x0B` `ESP_AT_SUB_CMD_PROCESSING`: the previous command is still running.
    Processing,
    /// `0x0C` `ESP_AT_SUB_CMD_OP_ERROR`: the command does not exist in this form (set,
    /// query, execute or test).
    OpError,
    /// Any other value.
    Unknown(u8),
}

impl ErrorCategory {
    /// The category of bits 23–16.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0x00 => ErrorCategory::Ok,
            0x01 => ErrorCategory::Common,
            0x02 => ErrorCategory::NoTerminator,
            0x03 => ErrorCategory::NoAt,
            0x04 => ErrorCategory::ParamLengthMismatch,
            0x05 => ErrorCategory::ParamTypeMismatch,
            0x06 => ErrorCategory::ParamCountMismatch,
            0x07 => ErrorCategory::ParamInvalid,
            0x08 => ErrorCategory::ParamParseFailed,
            0x09 => ErrorCategory::Unsupported,
            0x0a => ErrorCategory::ExecFailed,
            0x0b => ErrorCategory::Processing,
            0x0c => ErrorCategory::OpError,
            other => ErrorCategory::Unknown(other),
        }
    }

    /// The value of bits 23–16.
    pub const fn code(self) -> u8 {
        match self {
            ErrorCategory::Ok => 0x00,
            ErrorCategory::Common => 0x01,
            ErrorCategory::NoTerminator => 0x02,
            ErrorCategory::NoAt => 0x03,
            ErrorCategory::ParamLengthMismatch => 0x04,
            ErrorCategory::ParamTypeMismatch => 0x05,
            ErrorCategory::ParamCountMismatch => 0x06,
            ErrorCategory::ParamInvalid => 0x07,
            ErrorCategory::ParamParseFailed => 0x08,
            ErrorCategory::Unsupported => 0x09,
            ErrorCategory::ExecFailed => 0x0a,
            ErrorCategory::Processing => 0x0b,
            ErrorCategory::OpError => 0x0c,
            ErrorCategory::Unknown(v) => v,
        }
    }

    /// True for the categories whose extension names a parameter.
    pub const fn is_parameter_error(self) -> bool {
        matches!(
            self,
            ErrorCategory::ParamLengthMismatch
                | ErrorCategory::ParamTypeMismatch
                | ErrorCategory::ParamInvalid
                | ErrorCategory::ParamParseFailed
        )
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorCategory::Ok => "no error",
            ErrorCategory::Common => "error",
            ErrorCategory::NoTerminator => "command line not terminated by CR LF",
            ErrorCategory::NoAt => "command line does not start with AT",
            ErrorCategory::ParamLengthMismatch => "parameter length mismatch",
            ErrorCategory::ParamTypeMismatch => "parameter type mismatch",
            ErrorCategory::ParamCountMismatch => "parameter count mismatch",
            ErrorCategory::ParamInvalid => "parameter invalid",
            ErrorCategory::ParamParseFailed => "parameter parse failed",
            ErrorCategory::Unsupported => "command not supported",
            ErrorCategory::ExecFailed => "command execution failed",
            ErrorCategory::Processing => "previous command still processing",
            ErrorCategory::OpError => "command type not supported",
            ErrorCategory::Unknown(v) => return write!(f, "error type 0x{v:02x}"),
        })
    }
}

macro_rules! mqtt_codes {
    ($($variant:ident = $code:literal, $name:literal, $meaning:literal;)*) => {
        /// The MQTT error codes of ESP-AT (the extension of an `ERR CODE` printed by an
        /// `AT+MQTT…` command), as listed in the ESP-AT MQTT document's error table.
        ///
        /// Each variant's doc gives the vendor's name (`AT_MQTT_…`) and its meaning;
        /// [`Display`](fmt::Display) prints the meaning.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u16)]
        pub enum MqttErrorCode {
            $(
                #[doc = concat!("`", stringify!($code), "` `", $name, "`: ", $meaning, ".")]
                $variant = $code,
            )*
        }

        impl MqttErrorCode {
            /// Every code, in ascending order.
            pub const ALL: &'static [MqttErrorCode] = &[$(MqttErrorCode::$variant),*];

            /// The code with this value, if it is one of the table's.
            pub const fn from_u16(code: u16) -> Option<Self> {
                match code {
                    $($code => Some(MqttErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// The vendor's name, `AT_MQTT_…`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(MqttErrorCode::$variant => $name,)*
                }
            }

            /// What the code means, in English.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(MqttErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

mqtt_codes! {
    NoConfigured = 0x6001, "AT_MQTT_NO_CONFIGURED", "MQTT not configured";
    NotInConfiguredState = 0x6002, "AT_MQTT_NOT_IN_CONFIGURED_STATE", "MQTT not in the configured state";
    UninitiatedOrAlreadyClean = 0x6003, "AT_MQTT_UNINITIATED_OR_ALREADY_CLEAN", "MQTT link not initialised or already cleaned";
    AlreadyConnected = 0x6004, "AT_MQTT_ALREADY_CONNECTED", "MQTT already connected";
    MallocFailed = 0x6005, "AT_MQTT_MALLOC_FAILED", "MQTT out of memory";
    NullLink = 0x6006, "AT_MQTT_NULL_LINK", "MQTT link not initialised";
    NullParameter = 0x6007, "AT_MQTT_NULL_PARAMTER", "MQTT parameter missing";
    ParameterCountsIsWrong = 0x6008, "AT_MQTT_PARAMETER_COUNTS_IS_WRONG", "MQTT wrong number of parameters";
    TlsConfigError = 0x6009, "AT_MQTT_TLS_CONFIG_ERROR", "MQTT TLS configuration error";
    ParamPrepareError = 0x600A, "AT_MQTT_PARAM_PREPARE_ERROR", "MQTT parameter preparation error";
    ClientStartFailed = 0x600B, "AT_MQTT_CLIENT_START_FAILED", "MQTT client start failed";
    ClientPublishFailed = 0x600C, "AT_MQTT_CLIENT_PUBLISH_FAILED", "MQTT publish failed";
    ClientSubscribeFailed = 0x600D, "AT_MQTT_CLIENT_SUBSCRIBE_FAILED", "MQTT subscribe failed";
    ClientUnsubscribeFailed = 0x600E, "AT_MQTT_CLIENT_UNSUBSCRIBE_FAILED", "MQTT unsubscribe failed";
    ClientDisconnectFailed = 0x600F, "AT_MQTT_CLIENT_DISCONNECT_FAILED", "MQTT disconnect failed";
    LinkIdReadFailed = 0x6010, "AT_MQTT_LINK_ID_READ_FAILED", "MQTT link id unreadable";
    LinkIdValueIsWrong = 0x6011, "AT_MQTT_LINK_ID_VALUE_IS_WRONG", "MQTT link id invalid";
    SchemeReadFailed = 0x6012, "AT_MQTT_SCHEME_READ_FAILED", "MQTT scheme unreadable";
    SchemeValueIsWrong = 0x6013, "AT_MQTT_SCHEME_VALUE_IS_WRONG", "MQTT scheme invalid";
    ClientIdReadFailed = 0x6014, "AT_MQTT_CLIENT_ID_READ_FAILED", "MQTT client id unreadable";
    ClientIdIsNull = 0x6015, "AT_MQTT_CLIENT_ID_IS_NULL", "MQTT client id empty";
    ClientIdIsOverlength = 0x6016, "AT_MQTT_CLIENT_ID_IS_OVERLENGTH", "MQTT client id too long";
    UsernameReadFailed = 0x6017, "AT_MQTT_USERNAME_READ_FAILED", "MQTT username unreadable";
    UsernameIsNull = 0x6018, "AT_MQTT_USERNAME_IS_NULL", "MQTT username empty";
    UsernameIsOverlength = 0x6019, "AT_MQTT_USERNAME_IS_OVERLENGTH", "MQTT username too long";
    PasswordReadFailed = 0x601A, "AT_MQTT_PASSWORD_READ_FAILED", "MQTT password unreadable";
    PasswordIsNull = 0x601B, "AT_MQTT_PASSWORD_IS_NULL", "MQTT password empty";
    PasswordIsOverlength = 0x601C, "AT_MQTT_PASSWORD_IS_OVERLENGTH", "MQTT password too long";
    CertKeyIdReadFailed = 0x601D, "AT_MQTT_CERT_KEY_ID_READ_FAILED", "MQTT certificate key id unreadable";
    CertKeyIdValueIsWrong = 0x601E, "AT_MQTT_CERT_KEY_ID_VALUE_IS_WRONG", "MQTT certificate key id invalid";
    CaIdReadFailed = 0x601F, "AT_MQTT_CA_ID_READ_FAILED", "MQTT CA id unreadable";
    CaIdValueIsWrong = 0x6020, "AT_MQTT_CA_ID_VALUE_IS_WRONG", "MQTT CA id invalid";
    CaLengthError = 0x6021, "AT_MQTT_CA_LENGTH_ERROR", "MQTT CA certificate length invalid";
    CaReadFailed = 0x6022, "AT_MQTT_CA_READ_FAILED", "MQTT CA certificate unreadable";
    CertLengthError = 0x6023, "AT_MQTT_CERT_LENGTH_ERROR", "MQTT client certificate length invalid";
    CertReadFailed = 0x6024, "AT_MQTT_CERT_READ_FAILED", "MQTT client certificate unreadable";
    KeyLengthError = 0x6025, "AT_MQTT_KEY_LENGTH_ERROR", "MQTT private key length invalid";
    KeyReadFailed = 0x6026, "AT_MQTT_KEY_READ_FAILED", "MQTT private key unreadable";
    PathReadFailed = 0x6027, "AT_MQTT_PATH_READ_FAILED", "MQTT path unreadable";
    PathIsNull = 0x6028, "AT_MQTT_PATH_IS_NULL", "MQTT path empty";
    PathIsOverlength = 0x6029, "AT_MQTT_PATH_IS_OVERLENGTH", "MQTT path too long";
    VersionReadFailed = 0x602A, "AT_MQTT_VERSION_READ_FAILED", "MQTT protocol version unreadable";
    KeepaliveReadFailed = 0x602B, "AT_MQTT_KEEPALIVE_READ_FAILED", "MQTT keepalive unreadable";
    KeepaliveIsNull = 0x602C, "AT_MQTT_KEEPALIVE_IS_NULL", "MQTT keepalive missing";
    KeepaliveValueIsWrong = 0x602D, "AT_MQTT_KEEPALIVE_VALUE_IS_WRONG", "MQTT keepalive invalid";
    DisableCleanSessionReadFailed = 0x602E, "AT_MQTT_DISABLE_CLEAN_SESSION_READ_FAILED", "MQTT disable_clean_session unreadable";
    DisableCleanSessionValueIsWrong = 0x602F, "AT_MQTT_DISABLE_CLEAN_SESSION_VALUE_IS_WRONG", "MQTT disable_clean_session invalid";
    LwtTopicReadFailed = 0x6030, "AT_MQTT_LWT_TOPIC_READ_FAILED", "MQTT last-will topic unreadable";
    LwtTopicIsNull = 0x6031, "AT_MQTT_LWT_TOPIC_IS_NULL", "MQTT last-will topic empty";
    LwtTopicIsOverlength = 0x6032, "AT_MQTT_LWT_TOPIC_IS_OVERLENGTH", "MQTT last-will topic too long";
    LwtMsgReadFailed = 0x6033, "AT_MQTT_LWT_MSG_READ_FAILED", "MQTT last-will message unreadable";
    LwtMsgIsNull = 0x6034, "AT_MQTT_LWT_MSG_IS_NULL", "MQTT last-will message empty";
    LwtMsgIsOverlength = 0x6035, "AT_MQTT_LWT_MSG_IS_OVERLENGTH", "MQTT last-will message too long";
    LwtQosReadFailed = 0x6036, "AT_MQTT_LWT_QOS_READ_FAILED", "MQTT last-will QoS unreadable";
    LwtQosValueIsWrong = 0x6037, "AT_MQTT_LWT_QOS_VALUE_IS_WRONG", "MQTT last-will QoS invalid";
    LwtRetainReadFailed = 0x6038, "AT_MQTT_LWT_RETAIN_READ_FAILED", "MQTT last-will retain unreadable";
    LwtRetainValueIsWrong = 0x6039, "AT_MQTT_LWT_RETAIN_VALUE_IS_WRONG", "MQTT last-will retain invalid";
    HostReadFailed = 0x603A, "AT_MQTT_HOST_READ_FAILED", "MQTT host unreadable";
    HostIsNull = 0x603B, "AT_MQTT_HOST_IS_NULL", "MQTT host empty";
    HostIsOverlength = 0x603C, "AT_MQTT_HOST_IS_OVERLENGTH", "MQTT host too long";
    PortReadFailed = 0x603D, "AT_MQTT_PORT_READ_FAILED", "MQTT port unreadable";
    PortValueIsWrong = 0x603E, "AT_MQTT_PORT_VALUE_IS_WRONG", "MQTT port invalid";
    ReconnectReadFailed = 0x603F, "AT_MQTT_RECONNECT_READ_FAILED", "MQTT reconnect flag unreadable";
    ReconnectValueIsWrong = 0x6040, "AT_MQTT_RECONNECT_VALUE_IS_WRONG", "MQTT reconnect flag invalid";
    TopicReadFailed = 0x6041, "AT_MQTT_TOPIC_READ_FAILED", "MQTT topic unreadable";
    TopicIsNull = 0x6042, "AT_MQTT_TOPIC_IS_NULL", "MQTT topic empty";
    TopicIsOverlength = 0x6043, "AT_MQTT_TOPIC_IS_OVERLENGTH", "MQTT topic too long";
    DataReadFailed = 0x6044, "AT_MQTT_DATA_READ_FAILED", "MQTT data unreadable";
    DataIsNull = 0x6045, "AT_MQTT_DATA_IS_NULL", "MQTT data empty";
    DataIsOverlength = 0x6046, "AT_MQTT_DATA_IS_OVERLENGTH", "MQTT data too long";
    QosReadFailed = 0x6047, "AT_MQTT_QOS_READ_FAILED", "MQTT QoS unreadable";
    QosValueIsWrong = 0x6048, "AT_MQTT_QOS_VALUE_IS_WRONG", "MQTT QoS invalid";
    RetainReadFailed = 0x6049, "AT_MQTT_RETAIN_READ_FAILED", "MQTT retain flag unreadable";
    RetainValueIsWrong = 0x604A, "AT_MQTT_RETAIN_VALUE_IS_WRONG", "MQTT retain flag invalid";
    PublishLengthReadFailed = 0x604B, "AT_MQTT_PUBLISH_LENGTH_READ_FAILED", "MQTT publish length unreadable";
    PublishLengthValueIsWrong = 0x604C, "AT_MQTT_PUBLISH_LENGTH_VALUE_IS_WRONG", "MQTT publish length invalid";
    RecvLengthIsWrong = 0x604D, "AT_MQTT_RECV_LENGTH_IS_WRONG", "MQTT received length wrong";
    CreateSemaFailed = 0x604E, "AT_MQTT_CREATE_SEMA_FAILED", "MQTT semaphore creation failed";
    CreateEventGroupFailed = 0x604F, "AT_MQTT_CREATE_EVENT_GROUP_FAILED", "MQTT event group creation failed";
    UriParseFailed = 0x6050, "AT_MQTT_URI_PARSE_FAILED", "MQTT URI parse failed";
    InDisconnectedState = 0x6051, "AT_MQTT_IN_DISCONNECTED_STATE", "MQTT disconnected";
    HostnameVerifyFailed = 0x6052, "AT_MQTT_HOSTNAME_VERIFY_FAILED", "MQTT hostname verification failed";
}

impl MqttErrorCode {
    /// The numeric code (`0x6001`–`0x6052`).
    pub const fn code(self) -> u16 {
        self as u16
    }
}

impl TryFrom<u16> for MqttErrorCode {
    type Error = u16;

    /// The code, or the value back when it is not in the table.
    fn try_from(v: u16) -> Result<Self, u16> {
        MqttErrorCode::from_u16(v).ok_or(v)
    }
}

impl fmt::Display for MqttErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.meaning())
    }
}

/// An ESP-AT error code, decoded. See the [module docs](self) for the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EspErrorCode {
    /// The code as printed.
    pub raw: u32,
    /// Bits 31–24; [`ESP_AT_MODULE`] for every code ESP-AT prints.
    pub module: u8,
    /// Bits 23–16: the error type.
    pub category: ErrorCategory,
    /// Bits 15–0: the extension (parameter, MQTT code…).
    pub extension: u16,
    /// The extension read as an MQTT error code, when it is one.
    pub mqtt: Option<MqttErrorCode>,
}

impl EspErrorCode {
    /// Decodes a 32-bit code.
    pub const fn new(raw: u32) -> Self {
        let extension = (raw & 0xffff) as u16;
        EspErrorCode {
            raw,
            module: (raw >> 24) as u8,
            category: ErrorCategory::from_u8((raw >> 16) as u8),
            extension,
            mqtt: MqttErrorCode::from_u16(extension),
        }
    }

    /// Parses an `ERR CODE:0x…` line (surrounding whitespace and line end allowed).
    ///
    /// ```
    /// use at_wifi::command::esp_error::EspErrorCode;
    /// let e = EspErrorCode::parse_line(b"ERR CODE:0x01090000\r\n").unwrap();
    /// assert_eq!(e.raw, 0x0109_0000);
    /// assert!(EspErrorCode::parse_line(b"ERROR").is_none());
    /// ```
    pub fn parse_line(line: &[u8]) -> Option<Self> {
        let rest = line.trim_ascii().strip_prefix(b"ERR CODE:")?.trim_ascii();
        let hex = rest
            .strip_prefix(b"0x")
            .or_else(|| rest.strip_prefix(b"0X"))
            .unwrap_or(rest);
        if hex.is_empty() || hex.len() > 8 {
            return None;
        }
        let mut v: u32 = 0;
        for &b in hex {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return None,
            };
            v = (v << 4) | u32::from(d);
        }
        Some(EspErrorCode::new(v))
    }

    /// The code carried by an [`Error::Module`](crate::Error::Module), decoded.
    pub fn from_error(e: &crate::Error) -> Option<Self> {
        match e {
            crate::Error::Module { code: Some(c), .. } => Some(EspErrorCode::new(*c)),
            _ => None,
        }
    }

    /// True when bits 31–24 are [`ESP_AT_MODULE`] (every code ESP-AT prints).
    pub const fn is_esp_at(&self) -> bool {
        self.module == ESP_AT_MODULE
    }

    /// For [`ErrorCategory::ParamCountMismatch`]: the number of parameters the command
    /// expects and the number it was given (`ESP_AT_CMD_ERROR_PARA_NUM(need, given)`).
    pub const fn param_counts(&self) -> Option<(u8, u8)> {
        match self.category {
            ErrorCategory::ParamCountMismatch => {
                Some(((self.extension >> 8) as u8, self.extension as u8))
            }
            _ => None,
        }
    }
}

impl From<u32> for EspErrorCode {
    fn from(raw: u32) -> Self {
        EspErrorCode::new(raw)
    }
}

/// One line, e.g. `parameter invalid: MQTT client id too long (0x6016)`,
/// `parameter count mismatch: expected 1, given 2`, `parameter invalid (parameter 1)`,
/// `command not supported`.
impl fmt::Display for EspErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_esp_at() {
            return write!(f, "error code 0x{:08x}", self.raw);
        }
        if let Some(m) = self.mqtt {
            return write!(f, "{}: {} (0x{:04x})", self.category, m, self.extension);
        }
        if let Some((expected, given)) = self.param_counts() {
            if self.extension != 0 {
                return write!(f, "{}: expected {expected}, given {given}", self.category);
            }
        }
        match self.extension {
            0 => write!(f, "{}", self.category),
            n if self.category.is_parameter_error() => {
                write!(f, "{} (parameter {n})", self.category)
            }
            n => write!(f, "{} (0x{n:04x})", self.category),
        }
    }
}

/// Decodes an ESP-AT error code; the same as [`EspErrorCode::new`].
pub const fn describe(code: u32) -> EspErrorCode {
    EspErrorCode::new(code)
}
