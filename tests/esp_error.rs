//! ESP-AT error codes: the 32-bit layout and the MQTT table (0x6001–0x6052).

use at_wifi::command::esp_error::{
    describe, ErrorCategory, EspErrorCode, MqttErrorCode, ESP_AT_MODULE,
};
use at_wifi::{Error, FailWord};

#[test]
fn every_mqtt_code_round_trips() {
    assert_eq!(MqttErrorCode::ALL.len(), 0x52);
    for (i, &m) in MqttErrorCode::ALL.iter().enumerate() {
        let code = 0x6001 + i as u16;
        assert_eq!(m.code(), code, "{m:?}");
        assert_eq!(MqttErrorCode::from_u16(code), Some(m));
        assert_eq!(MqttErrorCode::try_from(code), Ok(m));
        assert!(m.name().starts_with("AT_MQTT_"), "{}", m.name());
        assert!(!m.meaning().is_empty());
        assert_eq!(m.to_string(), m.meaning());
        // Every category carries it in the extension.
        let e = describe(0x010a_0000 | u32::from(code));
        assert_eq!(e.mqtt, Some(m));
        assert_eq!(e.extension, code);
    }
    assert_eq!(MqttErrorCode::from_u16(0x6000), None);
    assert_eq!(MqttErrorCode::from_u16(0x6053), None);
    assert_eq!(MqttErrorCode::try_from(0x6053), Err(0x6053));
}

#[test]
fn names_match_the_vendor_table() {
    let table = [
        (0x6001, "AT_MQTT_NO_CONFIGURED", MqttErrorCode::NoConfigured),
        (0x6006, "AT_MQTT_NULL_LINK", MqttErrorCode::NullLink),
        (
            0x6007,
            "AT_MQTT_NULL_PARAMTER",
            MqttErrorCode::NullParameter,
        ),
        (
            0x600A,
            "AT_MQTT_PARAM_PREPARE_ERROR",
            MqttErrorCode::ParamPrepareError,
        ),
        (
            0x6016,
            "AT_MQTT_CLIENT_ID_IS_OVERLENGTH",
            MqttErrorCode::ClientIdIsOverlength,
        ),
        (
            0x601F,
            "AT_MQTT_CA_ID_READ_FAILED",
            MqttErrorCode::CaIdReadFailed,
        ),
        (
            0x602E,
            "AT_MQTT_DISABLE_CLEAN_SESSION_READ_FAILED",
            MqttErrorCode::DisableCleanSessionReadFailed,
        ),
        (
            0x603C,
            "AT_MQTT_HOST_IS_OVERLENGTH",
            MqttErrorCode::HostIsOverlength,
        ),
        (
            0x604D,
            "AT_MQTT_RECV_LENGTH_IS_WRONG",
            MqttErrorCode::RecvLengthIsWrong,
        ),
        (
            0x6051,
            "AT_MQTT_IN_DISCONNECTED_STATE",
            MqttErrorCode::InDisconnectedState,
        ),
        (
            0x6052,
            "AT_MQTT_HOSTNAME_VERIFY_FAILED",
            MqttErrorCode::HostnameVerifyFailed,
        ),
    ];
    for (code, name, m) in table {
        assert_eq!(MqttErrorCode::from_u16(code), Some(m));
        assert_eq!(m.name(), name);
    }
}

#[test]
fn full_codes_decode() {
    // From captures: an MQTT command on a link that was never set up.
    let e = describe(0x010a_6006);
    assert!(e.is_esp_at());
    assert_eq!(e.module, ESP_AT_MODULE);
    assert_eq!(e.category, ErrorCategory::ExecFailed);
    assert_eq!(e.extension, 0x6006);
    assert_eq!(e.mqtt, Some(MqttErrorCode::NullLink));
    assert_eq!(
        e.to_string(),
        "command execution failed: MQTT link not initialised (0x6006)"
    );

    // The AT+SYSLOG example: AT+FAKE.
    let e = describe(0x0109_0000);
    assert_eq!(e.category, ErrorCategory::Unsupported);
    assert_eq!(e.mqtt, None);
    assert_eq!(e.to_string(), "command not supported");

    // busy: the previous command still runs.
    let e = describe(0x010b_0000);
    assert_eq!(e.category, ErrorCategory::Processing);
    assert_eq!(e.to_string(), "previous command still processing");

    let e = describe(0x0107_6016);
    assert_eq!(e.category, ErrorCategory::ParamInvalid);
    assert_eq!(
        e.to_string(),
        "parameter invalid: MQTT client id too long (0x6016)"
    );

    // ESP_AT_CMD_ERROR_PARA_NUM(need = 1, given = 2)
    let e = describe(0x0106_0102);
    assert_eq!(e.category, ErrorCategory::ParamCountMismatch);
    assert_eq!(e.param_counts(), Some((1, 2)));
    assert_eq!(
        e.to_string(),
        "parameter count mismatch: expected 1, given 2"
    );

    // ESP_AT_CMD_ERROR_PARA_INVALID(1)
    let e = describe(0x0107_0001);
    assert_eq!(e.to_string(), "parameter invalid (parameter 1)");
    assert_eq!(e.param_counts(), None);

    let e = describe(0x0102_0000);
    assert_eq!(e.category, ErrorCategory::NoTerminator);
    let e = describe(0x0103_0000);
    assert_eq!(e.category, ErrorCategory::NoAt);
    let e = describe(0x010c_0000);
    assert_eq!(e.category, ErrorCategory::OpError);

    let e = describe(0x010a_1234);
    assert_eq!(e.to_string(), "command execution failed (0x1234)");

    let e = describe(0x0177_0000);
    assert_eq!(e.category, ErrorCategory::Unknown(0x77));
    assert_eq!(e.to_string(), "error type 0x77");

    // Not an ESP-AT code.
    let e = describe(0x0200_6001);
    assert!(!e.is_esp_at());
    assert_eq!(e.to_string(), "error code 0x02006001");
}

#[test]
fn categories_round_trip() {
    for v in 0..=255u8 {
        assert_eq!(ErrorCategory::from_u8(v).code(), v);
    }
    assert_eq!(ErrorCategory::from_u8(7), ErrorCategory::ParamInvalid);
}

#[test]
fn from_lines_and_errors() {
    assert_eq!(
        EspErrorCode::parse_line(b"ERR CODE:0x010a6006"),
        Some(describe(0x010a_6006))
    );
    assert_eq!(
        EspErrorCode::parse_line(b"  ERR CODE:0X010A6006\r\n").map(|e| e.raw),
        Some(0x010a_6006)
    );
    assert_eq!(EspErrorCode::parse_line(b"ERR CODE:0x"), None);
    assert_eq!(EspErrorCode::parse_line(b"ERR CODE:0x1234567890"), None);
    assert_eq!(EspErrorCode::parse_line(b"ERR CODE:0xzz"), None);
    assert_eq!(EspErrorCode::parse_line(b"ERROR"), None);

    let err = Error::Module {
        word: FailWord::Error,
        code: Some(0x0107_6016),
    };
    assert_eq!(
        EspErrorCode::from_error(&err).and_then(|e| e.mqtt),
        Some(MqttErrorCode::ClientIdIsOverlength)
    );
    assert_eq!(EspErrorCode::from_error(&Error::Busy), None);
    assert_eq!(EspErrorCode::from(0x0109_0000u32), describe(0x0109_0000));
}

#[test]
fn client_reports_the_code_of_a_failed_command() {
    use at_wifi::mock::MockUart;
    use at_wifi::{Client, Dialect};
    for chunk in [1, 2, 3, 7, 64, usize::MAX] {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+SYSLOG=1\r\n", b"\r\nOK\r\n");
        uart.expect(b"AT+CWQAP\r\n", b"ERR CODE:0x010a6006\r\n\r\nERROR\r\n");
        let clock = uart.clock();
        let mut c: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
        c.send(&at_wifi::command::basic::SetSyslog::ON).unwrap();
        let err = c.send(&at_wifi::command::wifi::Disconnect).unwrap_err();
        let e = EspErrorCode::from_error(&err).unwrap();
        assert_eq!(e.mqtt, Some(MqttErrorCode::NullLink));
        c.release().0.assert_done();
    }
}
