//! MQTT commands: exact bytes for every dialect, reply parsing, limits, escaping.

use at_wifi::command::mqtt::*;
use at_wifi::command::text::{encoded_len, AtStr, Quoting, MAX_ENCODED_LEN, MAX_VALUE_LEN};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Error, Event, Urc};
use atat::serde_at::serde::Serialize;
use atat::AtatCmd;
use core::fmt::Debug;

const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];
const ESP: Dialect = Dialect::EspAt;
const W800: Dialect = Dialect::W800;
const BEKEN: Dialect = Dialect::Beken;
const AI: Dialect = Dialect::AiThinker;
const MQTT_DIALECTS: [Dialect; 3] = [ESP, W800, BEKEN];

fn client(uart: MockUart, d: Dialect) -> Client<MockUart, MockClock> {
    let clock = uart.clock();
    Client::new(uart, clock, d)
}

/// Sends `cmd` once per chunk size; the client must write exactly `line`, and `reply`
/// is answered. Returns the (identical) parsed responses.
fn exchange<C>(d: Dialect, cmd: &C, line: &[u8], reply: &[u8]) -> C::Response
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first: Option<C::Response> = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, reply);
        let mut c = client(uart, d);
        let r = c
            .send(cmd)
            .unwrap_or_else(|e| panic!("{d} chunk {chunk}: {e:?}"));
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!(f, &r, "{d} chunk {chunk}"),
            None => first = Some(r),
        }
    }
    first.expect("at least one chunk size")
}

/// Like [`exchange`], through the prompt flow: `line` then `data`.
fn exchange_data<C>(
    d: Dialect,
    cmd: &C,
    line: &[u8],
    prompt: &[u8],
    data: &[u8],
    result: &[u8],
) -> C::Response
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first: Option<C::Response> = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, prompt);
        uart.expect(data, result);
        let mut c = client(uart, d);
        let r = c
            .send_with_data(cmd, data)
            .unwrap_or_else(|e| panic!("{d} chunk {chunk}: {e:?}"));
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!(f, &r, "{d} chunk {chunk}"),
            None => first = Some(r),
        }
    }
    first.expect("at least one chunk size")
}

/// Sends a reply-less query for every chunk size and returns the client's result.
fn query_result<C>(d: Dialect, cmd: &C, line: &[u8], reply: &[u8]) -> Result<C::Response, Error>
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, reply);
        let mut c = client(uart, d);
        let r = c.send(cmd);
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!(f, &r, "{d} chunk {chunk}"),
            None => first = Some(r),
        }
    }
    first.expect("at least one chunk size")
}

/// The constructor result must be `Invalid { field }`; sending through a client writes
/// nothing.
#[track_caller]
fn refused<C>(d: Dialect, r: Result<C, Error>, field: &str)
where
    C: AtatCmd + Serialize + Debug,
    C::Response: Debug,
{
    let mut c = client(MockUart::new(), d);
    match r.and_then(|cmd| c.send(&cmd)) {
        Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{d}"),
        other => panic!("{d}: expected Invalid {{ field: {field:?} }}, got {other:?}"),
    }
    let (uart, _) = c.release();
    assert!(uart.written().is_empty(), "{d}: something was written");
    uart.assert_done();
}

#[track_caller]
fn unsupported<C: Debug>(d: Dialect, r: Result<C, Error>) {
    match r {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("{d}: expected Unsupported, got {other:?}"),
    }
}

fn bytes(s: &[u8]) -> String {
    s.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------

#[test]
fn escaping_quoted_dialects() {
    let v = r#"a,b"c\d"#;
    for d in [ESP, W800, AI] {
        let s = AtStr::new(d, "x", v).unwrap();
        assert_eq!(s.quoting(), Quoting::Quoted);
        let mut buf = [0u8; 32];
        let n = s.encode(&mut buf).unwrap();
        assert_eq!(bytes(&buf[..n]), bytes(br#""a\,b\"c\\d""#));
        assert_eq!(n, encoded_len(Quoting::Quoted, v.as_bytes()));
        assert_eq!(s.encoded_len(), 12);
    }
    for d in [ESP, W800] {
        let cmd = MqttPub::new(d, "t", v.as_bytes(), QoS::AtMostOnce, false).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTPUB=0,\"t\",\"a\\,b\\\"c\\\\d\",0,0\r\n",
            b"\r\nOK\r\n",
        );
    }
}

#[test]
fn escaping_lengths() {
    assert_eq!(encoded_len(Quoting::Quoted, b""), 2);
    assert_eq!(encoded_len(Quoting::Quoted, b",,,"), 8);
    assert_eq!(encoded_len(Quoting::Bare, b"abc"), 3);
    assert_eq!(MAX_ENCODED_LEN, 2 * MAX_VALUE_LEN + 2);
    let long = [b'x'; MAX_VALUE_LEN + 1];
    for d in [ESP, W800, BEKEN] {
        assert!(AtStr::new(d, "v", &long[..MAX_VALUE_LEN]).is_ok());
        assert!(matches!(
            AtStr::new(d, "v", &long[..]),
            Err(Error::Invalid { field: "v", .. })
        ));
    }
}

#[test]
fn strings_refuse_line_breaks_and_nul_everywhere() {
    for d in [ESP, W800, BEKEN, AI] {
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b"] {
            assert!(
                matches!(
                    AtStr::new(d, "v", bad),
                    Err(Error::Invalid { field: "v", .. })
                ),
                "{d} {bad:?}"
            );
        }
    }
}

#[test]
fn beken_strings_are_bare_and_refuse_what_it_cannot_carry() {
    let s = AtStr::new(BEKEN, "v", "test/abc").unwrap();
    assert_eq!(s.quoting(), Quoting::Bare);
    let mut buf = [0u8; 16];
    let n = s.encode(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"test/abc");
    // Backslash, tab, UTF-8 and '=' inside are fine.
    for ok in ["a\\b", "a\tb", "grüße", "a=b"] {
        assert!(AtStr::new(BEKEN, "v", ok).is_ok(), "{ok}");
    }
    for bad in ["", "a,b", "a\"b", "good bye", " lead", "trail ", "=x"] {
        assert!(
            matches!(
                AtStr::new(BEKEN, "v", bad),
                Err(Error::Invalid { field: "v", .. })
            ),
            "{bad:?}"
        );
        // The quoted dialects take them (except nothing here).
        assert!(AtStr::new(ESP, "v", bad).is_ok(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTUSERCFG
// ---------------------------------------------------------------------------------------

#[test]
fn usercfg_bytes() {
    for d in [ESP, W800] {
        let cmd = MqttUserCfg::new(d, Scheme::Tcp, "id", "", "", "").unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"\r\n",
            b"\r\nOK\r\n",
        );
        let cmd = MqttUserCfg::new(
            d,
            Scheme::TlsMutual,
            "w800",
            "WinnerMicro",
            "1234567890",
            "/mqtt",
        )
        .unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTUSERCFG=0,5,\"w800\",\"WinnerMicro\",\"1234567890\",0,0,\"/mqtt\"\r\n",
            b"\r\nOK\r\n",
        );
    }
    // Every ESP-AT/W800 scheme number.
    for (i, s) in Scheme::ESP.iter().enumerate() {
        let cmd = MqttUserCfg::new(ESP, *s, "c", "u", "p", "").unwrap();
        assert_eq!(usize::from(cmd.scheme_code()), i + 1);
        assert_eq!(Scheme::from_code(ESP, cmd.scheme_code()), Some(*s));
    }
    exchange(
        W800,
        &MqttUserCfg::new(W800, Scheme::WssMutual, "c", "u", "p", "").unwrap(),
        b"AT+MQTTUSERCFG=0,10,\"c\",\"u\",\"p\",0,0,\"\"\r\n",
        b"\r\nOK\r\n",
    );
}

#[test]
fn usercfg_beken_bytes_and_schemes() {
    let cmd = MqttUserCfg::new(BEKEN, Scheme::Tcp, "dev1", "user", "pw", "").unwrap();
    // Unquoted; the empty trailing path is left out.
    exchange(
        BEKEN,
        &cmd,
        b"AT+MQTTUSERCFG=0,1,dev1,user,pw,0,0\r\n",
        b"\r\nOK\r\n",
    );
    let cmd = MqttUserCfg::new(BEKEN, Scheme::TlsPsk, "dev1", "user", "pw", "/p").unwrap();
    exchange(
        BEKEN,
        &cmd,
        b"AT+MQTTUSERCFG=0,2,dev1,user,pw,0,0,/p\r\n",
        b"\r\nOK\r\n",
    );
    assert_eq!(Scheme::from_code(BEKEN, 2), Some(Scheme::TlsPsk));
    assert_eq!(Scheme::from_code(BEKEN, 3), None);
    assert_eq!(Scheme::from_code(ESP, 2), Some(Scheme::Tls));
    assert_eq!(Scheme::from_code(ESP, 0), None);
    assert_eq!(Scheme::from_code(ESP, 11), None);
    // Certificate schemes and the rest are missing on Beken; TLS-PSK elsewhere.
    for s in Scheme::ESP.iter().skip(1) {
        unsupported(BEKEN, MqttUserCfg::new(BEKEN, *s, "c", "u", "p", ""));
    }
    for d in [ESP, W800] {
        unsupported(d, MqttUserCfg::new(d, Scheme::TlsPsk, "c", "u", "p", ""));
    }
    assert!(Scheme::TlsVerifyServer.needs_certificate());
    assert!(!Scheme::Tls.needs_certificate());
}

#[test]
fn usercfg_limits() {
    let s257 = "x".repeat(257);
    let s256 = "x".repeat(256);
    let s65 = "x".repeat(65);
    let s64 = "x".repeat(64);
    let s33 = "x".repeat(33);
    let s32 = "x".repeat(32);
    for d in MQTT_DIALECTS {
        refused(
            d,
            MqttUserCfg::new(d, Scheme::Tcp, &s257, "u", "p", ""),
            "client_id",
        );
        assert!(MqttUserCfg::new(d, Scheme::Tcp, &s256, "u", "p", "").is_ok());
        refused(
            d,
            MqttUserCfg::new(d, Scheme::Tcp, "c", &s65, "p", ""),
            "username",
        );
        assert!(MqttUserCfg::new(d, Scheme::Tcp, "c", &s64, "p", "").is_ok());
        refused(
            d,
            MqttUserCfg::new(d, Scheme::Tcp, "c", "u", &s65, ""),
            "password",
        );
        assert!(MqttUserCfg::new(d, Scheme::Tcp, "c", "u", &s64, "").is_ok());
        refused(
            d,
            MqttUserCfg::new(d, Scheme::Tcp, "c", "u", "p", &s33),
            "path",
        );
        assert!(MqttUserCfg::new(d, Scheme::Tcp, "c", "u", "p", &s32).is_ok());
    }
    // Beken: unquoted values it cannot carry.
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "", "u", "p", ""),
        "client_id",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c", "", "p", ""),
        "username",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c", "u", "", ""),
        "password",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c", "a b", "p", ""),
        "username",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c", "u", "p,q", ""),
        "password",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c\"", "u", "p", ""),
        "client_id",
    );
    refused(
        BEKEN,
        MqttUserCfg::new(BEKEN, Scheme::Tcp, "c", "u", "p", "a b"),
        "path",
    );
    // Values fine per field but too long as a whole line: the client refuses them.
    let mut c = client(MockUart::new(), ESP);
    let cmd = MqttUserCfg::new(ESP, Scheme::Tcp, &s256, "u", "p", "").unwrap();
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    assert!(c.release().0.written().is_empty());
}

#[test]
fn usercfg_debug_hides_password() {
    for d in MQTT_DIALECTS {
        let cmd = MqttUserCfg::new(d, Scheme::Tcp, "id", "user", "s3cr3tpw", "").unwrap();
        let dbg = format!("{cmd:?}");
        assert!(!dbg.contains("s3cr3tpw"), "{dbg}");
        assert!(dbg.contains("password: \"***\""), "{dbg}");
        assert!(dbg.contains("user"), "{dbg}");
        let dbg = format!("{cmd:#?}");
        assert!(!dbg.contains("s3cr3tpw"), "{dbg}");
    }
}

#[test]
fn usercfg_query_w800() {
    let q = MqttUserCfgQuery::new(W800).unwrap();
    let info = exchange(
        W800,
        &q,
        b"AT+MQTTUSERCFG?\r\n",
        b"\r\n+MQTTUSERCFG:0,5,\"w800\",\"WinnerMicro\",\"12\\,34\",0,0,\"\"\r\n\r\nOK\r\n",
    );
    assert_eq!(info.link, 0);
    assert_eq!(info.scheme(), Some(Scheme::TlsMutual));
    assert_eq!(&info.client_id[..], b"w800");
    assert_eq!(&info.username[..], b"WinnerMicro");
    assert_eq!(&info.password[..], b"12,34");
    assert_eq!((info.cert_key_id, info.ca_id), (0, 0));
    assert!(info.path.is_empty());
    let dbg = format!("{info:?}");
    assert!(!dbg.contains("12,34") && dbg.contains("\"***\""), "{dbg}");
    // Numbers quoted.
    let info = exchange(
        W800,
        &q,
        b"AT+MQTTUSERCFG?\r\n",
        b"+MQTTUSERCFG:\"0\",\"1\",\"c\",\"u\",\"p\",\"0\",\"0\",\"/x\"\r\nOK\r\n",
    );
    assert_eq!(info.scheme(), Some(Scheme::Tcp));
    assert_eq!(&info.path[..], b"/x");
    // No line, or a short one: parse error.
    assert_eq!(
        query_result(W800, &q, b"AT+MQTTUSERCFG?\r\n", b"\r\nOK\r\n"),
        Err(Error::Parse)
    );
    assert_eq!(
        query_result(
            W800,
            &q,
            b"AT+MQTTUSERCFG?\r\n",
            b"+MQTTUSERCFG:0,1\r\nOK\r\n"
        ),
        Err(Error::Parse)
    );
    for d in [ESP, BEKEN, AI] {
        unsupported(d, MqttUserCfgQuery::new(d));
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTLONG*
// ---------------------------------------------------------------------------------------

#[test]
fn long_values_bytes() {
    for d in [ESP, W800] {
        let id = b"a-very-long-client-id";
        let cmd = MqttLongClientId::new(d, id.len()).unwrap();
        exchange_data(
            d,
            &cmd,
            b"AT+MQTTLONGCLIENTID=0,21\r\n",
            b"\r\nOK\r\n\r\n>",
            id,
            b"\r\nOK\r\n",
        );
        let cmd = MqttLongUsername::new(d, 4).unwrap();
        exchange_data(
            d,
            &cmd,
            b"AT+MQTTLONGUSERNAME=0,4\r\n",
            b"\r\nOK\r\n\r\n>",
            b"user",
            b"\r\nOK\r\n",
        );
        let pw = [b'p'; 1024];
        let cmd = MqttLongPassword::new(d, pw.len()).unwrap();
        assert_eq!(cmd.length(), 1024);
        assert!(!format!("{cmd:?}").contains("ppp"));
        exchange_data(
            d,
            &cmd,
            b"AT+MQTTLONGPASSWORD=0,1024\r\n",
            b"OK\r\n\r\n> ",
            &pw,
            b"\r\nOK\r\n",
        );
    }
}

#[test]
fn long_values_limits() {
    for d in [ESP, W800] {
        refused(d, MqttLongClientId::new(d, 0), "length");
        refused(d, MqttLongClientId::new(d, 1025), "length");
        refused(d, MqttLongUsername::new(d, 0), "length");
        refused(d, MqttLongUsername::new(d, 1025), "length");
        refused(d, MqttLongPassword::new(d, 0), "length");
        refused(d, MqttLongPassword::new(d, 1025), "length");
        assert!(MqttLongPassword::new(d, 1).is_ok());
    }
    for d in [BEKEN, AI] {
        unsupported(d, MqttLongClientId::new(d, 10));
        unsupported(d, MqttLongUsername::new(d, 10));
        unsupported(d, MqttLongPassword::new(d, 10));
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTCONNCFG
// ---------------------------------------------------------------------------------------

#[test]
fn conncfg_bytes() {
    for d in [ESP, W800] {
        let cmd = MqttConnCfg::new(d, 0, false, None).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTCONNCFG=0,0,0,\"\",\"\",0,0\r\n",
            b"\r\nOK\r\n",
        );
        let will = Will {
            topic: "test/aaa",
            message: b"good bye",
            qos: QoS::AtLeastOnce,
            retain: false,
        };
        let cmd = MqttConnCfg::new(d, 180, false, Some(will)).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTCONNCFG=0,180,0,\"test/aaa\",\"good bye\",1,0\r\n",
            b"\r\nOK\r\n",
        );
        let will = Will {
            topic: "dev/1,status",
            message: b"{\"on\":false}",
            qos: QoS::ExactlyOnce,
            retain: true,
        };
        let cmd = MqttConnCfg::new(d, 7200, true, Some(will)).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTCONNCFG=0,7200,1,\"dev/1\\,status\",\"{\\\"on\\\":false}\",2,1\r\n",
            b"\r\nOK\r\n",
        );
    }
    let will = Will {
        topic: "test/aaa",
        message: b"bye",
        qos: QoS::AtLeastOnce,
        retain: false,
    };
    let cmd = MqttConnCfg::new(BEKEN, 180, false, Some(will)).unwrap();
    exchange(
        BEKEN,
        &cmd,
        b"AT+MQTTCONNCFG=0,180,0,test/aaa,bye,1,0\r\n",
        b"\r\nOK\r\n",
    );
}

#[test]
fn conncfg_limits() {
    let t129 = "t".repeat(129);
    let t128 = "t".repeat(128);
    let m = [b'm'; 129];
    let will = |topic, message| {
        Some(Will {
            topic,
            message,
            qos: QoS::AtMostOnce,
            retain: false,
        })
    };
    for d in MQTT_DIALECTS {
        refused(
            d,
            MqttConnCfg::new(d, 7201, false, will("t", b"m")),
            "keepalive",
        );
        assert!(MqttConnCfg::new(d, 7200, false, will("t", b"m")).is_ok());
        refused(
            d,
            MqttConnCfg::new(d, 60, false, will(&t129, b"m")),
            "lwt_topic",
        );
        assert!(MqttConnCfg::new(d, 60, false, will(&t128, b"m")).is_ok());
        refused(
            d,
            MqttConnCfg::new(d, 60, false, will("", b"m")),
            "lwt_topic",
        );
        refused(
            d,
            MqttConnCfg::new(d, 60, false, will("t", &m[..])),
            "lwt_msg",
        );
    }
    for d in [ESP, W800] {
        assert!(MqttConnCfg::new(d, 60, false, will("t", &m[..128])).is_ok());
        assert!(MqttConnCfg::new(d, 60, false, will("t", b"")).is_ok());
    }
    refused(
        BEKEN,
        MqttConnCfg::new(BEKEN, 60, false, will("t", &m[..65])),
        "lwt_msg",
    );
    assert!(MqttConnCfg::new(BEKEN, 60, false, will("t", &m[..64])).is_ok());
    // Beken cannot send empty or spaced unquoted strings.
    refused(BEKEN, MqttConnCfg::new(BEKEN, 60, false, None), "lwt_topic");
    refused(
        BEKEN,
        MqttConnCfg::new(BEKEN, 60, false, will("t", b"")),
        "lwt_msg",
    );
    refused(
        BEKEN,
        MqttConnCfg::new(BEKEN, 60, false, will("t", b"good bye")),
        "lwt_msg",
    );
    unsupported(AI, MqttConnCfg::new(AI, 60, false, None));
}

#[test]
fn conncfg_query_w800() {
    let q = MqttConnCfgQuery::new(W800).unwrap();
    let info = exchange(
        W800,
        &q,
        b"AT+MQTTCONNCFG?\r\n",
        b"\r\n+MQTTCONNCFG:0,120,1,\"lwt/t\",\"bye\\, now\",2,1\r\n\r\nOK\r\n",
    );
    assert_eq!(info.link, 0);
    assert_eq!(info.keepalive, 120);
    assert!(info.disable_clean_session);
    assert_eq!(&info.lwt_topic[..], b"lwt/t");
    assert_eq!(&info.lwt_msg[..], b"bye, now");
    assert_eq!(info.lwt_qos, QoS::ExactlyOnce);
    assert!(info.lwt_retain);
    let info = exchange(
        W800,
        &q,
        b"AT+MQTTCONNCFG?\r\n",
        b"+MQTTCONNCFG:0,\"0\",0,\"\",\"\",0,0\r\nOK\r\n",
    );
    assert_eq!(info.keepalive, 0);
    assert!(info.lwt_topic.is_empty());
    assert_eq!(
        query_result(
            W800,
            &q,
            b"AT+MQTTCONNCFG?\r\n",
            b"+MQTTCONNCFG:0,120,3,\"\",\"\",0,0\r\nOK\r\n"
        ),
        Err(Error::Parse)
    );
    for d in [ESP, BEKEN, AI] {
        unsupported(d, MqttConnCfgQuery::new(d));
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTALPN, AT+MQTTSNI
// ---------------------------------------------------------------------------------------

#[test]
fn alpn_bytes_and_limits() {
    for d in [ESP, W800] {
        let cmd = MqttAlpn::new(d, &["mqtt-ca.cn", "mqtt-ca.us"]).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTALPN=0,2,\"mqtt-ca.cn\",\"mqtt-ca.us\"\r\n",
            b"\r\nOK\r\n",
        );
        exchange(
            d,
            &MqttAlpn::new(d, &[]).unwrap(),
            b"AT+MQTTALPN=0,0\r\n",
            b"\r\nOK\r\n",
        );
        let cmd = MqttAlpn::new(d, &["a", "b", "c", "d", "e,f"]).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTALPN=0,5,\"a\",\"b\",\"c\",\"d\",\"e\\,f\"\r\n",
            b"\r\nOK\r\n",
        );
        refused(
            d,
            MqttAlpn::new(d, &["a", "b", "c", "d", "e", "f"]),
            "alpn_counts",
        );
        refused(d, MqttAlpn::new(d, &["a", ""]), "alpn");
        refused(d, MqttAlpn::new(d, &["a\r\n"]), "alpn");
    }
    unsupported(BEKEN, MqttAlpn::new(BEKEN, &["h2"]));
    unsupported(AI, MqttAlpn::new(AI, &["h2"]));
}

#[test]
fn alpn_query_w800() {
    let q = MqttAlpnQuery::new(W800).unwrap();
    let list = exchange(W800, &q, b"AT+MQTTALPN?\r\n", b"\r\nOK\r\n");
    assert!(list.is_empty());
    let list = exchange(
        W800,
        &q,
        b"AT+MQTTALPN?\r\n",
        b"\r\n+MQTTALPN:0,\"mqtt-ca.cn\"\r\n+MQTTALPN:0,\"mqtt-ca.us\"\r\n\r\nOK\r\n",
    );
    assert_eq!(list.len(), 2);
    assert_eq!(list.get(0), Some(&b"mqtt-ca.cn"[..]));
    assert_eq!(list.get(1), Some(&b"mqtt-ca.us"[..]));
    assert_eq!(list.get(2), None);
    let five = b"+MQTTALPN:0,\"a\"\r\n+MQTTALPN:0,\"bb\"\r\n+MQTTALPN:0,c\r\n+MQTTALPN:\"0\",\"d\\,d\"\r\n+MQTTALPN:0,\"e\"\r\nOK\r\n";
    let list = exchange(W800, &q, b"AT+MQTTALPN?\r\n", five);
    let names: Vec<&[u8]> = list.iter().collect();
    assert_eq!(names, [&b"a"[..], b"bb", b"c", b"d,d", b"e"]);
    assert!(format!("{list:?}").contains("bb"));
    let six = b"+MQTTALPN:0,\"a\"\r\n+MQTTALPN:0,\"b\"\r\n+MQTTALPN:0,\"c\"\r\n+MQTTALPN:0,\"d\"\r\n+MQTTALPN:0,\"e\"\r\n+MQTTALPN:0,\"f\"\r\nOK\r\n";
    assert_eq!(
        query_result(W800, &q, b"AT+MQTTALPN?\r\n", six),
        Err(Error::Parse)
    );
    for d in [ESP, BEKEN, AI] {
        unsupported(d, MqttAlpnQuery::new(d));
    }
}

#[test]
fn sni_esp_only() {
    let cmd = MqttSni::new(ESP, "my_specific_prefix.iot.my_aws_region.amazonaws.com").unwrap();
    exchange(
        ESP,
        &cmd,
        b"AT+MQTTSNI=0,\"my_specific_prefix.iot.my_aws_region.amazonaws.com\"\r\n",
        b"\r\nOK\r\n",
    );
    refused(ESP, MqttSni::new(ESP, "a\nb"), "sni");
    for d in [W800, BEKEN, AI] {
        unsupported(d, MqttSni::new(d, "host"));
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTTCONN
// ---------------------------------------------------------------------------------------

#[test]
fn conn_bytes() {
    for d in [ESP, W800] {
        let cmd = MqttConn::new(d, "192.168.10.234", 1883, false).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTCONN=0,\"192.168.10.234\",1883,0\r\n",
            b"+MQTTCONNECTED:0,1,\"192.168.10.234\",\"1883\",\"\",0\r\n\r\nOK\r\n",
        );
    }
    let cmd = MqttConn::new(BEKEN, "192.168.0.102", 8883, true).unwrap();
    exchange(
        BEKEN,
        &cmd,
        b"AT+MQTTCONN=0,192.168.0.102,8883,1\r\n",
        b"\r\nOK\r\n",
    );
}

#[test]
fn conn_events() {
    // ESP-AT: +MQTTCONNECTED before OK becomes an event with typed fields.
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT+MQTTCONN=0,\"broker\",1883,1\r\n",
            b"+MQTTCONNECTED:0,1,\"broker\",\"1883\",\"\",1\r\n\r\nOK\r\n",
        );
        let mut c = client(uart, ESP);
        c.send(&MqttConn::new(ESP, "broker", 1883, true).unwrap())
            .unwrap();
        match c.poll().unwrap() {
            Some(Event::Urc(Urc::MqttConnected(i))) => {
                assert_eq!(i.link, 0);
                assert_eq!(i.scheme(ESP), Some(Scheme::Tcp));
                assert_eq!(i.host, b"broker");
                assert_eq!(i.port, 1883);
                assert_eq!(i.path, b"");
                assert!(i.reconnect);
            }
            other => panic!("chunk {chunk}: {other:?}"),
        }
        c.release().0.assert_done();
    }
    // Beken: OK first, then +MQTTCONN:OK / ERROR,<n> as events.
    for (late, want) in [
        (&b"+MQTTCONN:OK\r\n"[..], AsyncResult::Ok),
        (
            b"+MQTTCONN:ERROR,5\r\n",
            AsyncResult::Error { code: Some(5) },
        ),
    ] {
        for chunk in CHUNKS {
            let mut uart = MockUart::new();
            uart.set_chunk(chunk);
            let mut reply = b"\r\nOK\r\n".to_vec();
            reply.extend_from_slice(late);
            uart.expect(b"AT+MQTTCONN=0,h,1883,0\r\n", &reply);
            let mut c = client(uart, BEKEN);
            c.send(&MqttConn::new(BEKEN, "h", 1883, false).unwrap())
                .unwrap();
            match c.wait_event(100).unwrap() {
                Some(Event::Urc(Urc::MqttConnResult(r))) => assert_eq!(r, want, "chunk {chunk}"),
                other => panic!("chunk {chunk}: {other:?}"),
            }
            c.release().0.assert_done();
        }
    }
}

#[test]
fn conn_limits() {
    let h129 = "h".repeat(129);
    let h128 = "h".repeat(128);
    let h65 = "h".repeat(65);
    let h64 = "h".repeat(64);
    for d in MQTT_DIALECTS {
        refused(d, MqttConn::new(d, "", 1883, false), "host");
        refused(d, MqttConn::new(d, &h129, 1883, false), "host");
        refused(d, MqttConn::new(d, "h", 0, false), "port");
        assert!(MqttConn::new(d, &h64, 65535, false).is_ok());
    }
    for d in [ESP, W800] {
        assert!(MqttConn::new(d, &h128, 1883, false).is_ok());
    }
    refused(BEKEN, MqttConn::new(BEKEN, &h65, 1883, false), "host");
    refused(BEKEN, MqttConn::new(BEKEN, "a b", 1883, false), "host");
    unsupported(AI, MqttConn::new(AI, "h", 1883, false));
}

#[test]
fn conn_query_forms() {
    for d in [ESP, W800] {
        let q = MqttConnQuery::new(d).unwrap();
        // Numbers unquoted, host quoted.
        let s = exchange(
            d,
            &q,
            b"AT+MQTTCONN?\r\n",
            b"\r\n+MQTTCONN:0,4,1,\"192.168.10.234\",1883,\"\",0\r\n\r\nOK\r\n",
        );
        assert_eq!(s.link, 0);
        assert_eq!(s.state, ConnState::Established);
        assert!(s.state.is_connected());
        assert_eq!(s.scheme(d), Some(Scheme::Tcp));
        assert_eq!(&s.host[..], b"192.168.10.234");
        assert_eq!(s.port, 1883);
        assert!(s.path.is_empty());
        assert!(!s.reconnect);
        // Numbers quoted, host unquoted, path set.
        let s = exchange(
            d,
            &q,
            b"AT+MQTTCONN?\r\n",
            b"+MQTTCONN:\"0\",\"6\",\"7\",broker.local,\"443\",\"/mqtt\",\"1\"\r\nOK\r\n",
        );
        assert_eq!(s.state, ConnState::Subscribed);
        assert_eq!(s.scheme(d), Some(Scheme::Wss));
        assert_eq!(&s.host[..], b"broker.local");
        assert_eq!(s.port, 443);
        assert_eq!(&s.path[..], b"/mqtt");
        assert!(s.reconnect);
        // The documents' `<scheme><"host">` (no comma).
        let s = exchange(
            d,
            &q,
            b"AT+MQTTCONN?\r\n",
            b"+MQTTCONN:0,5,2\"h\",8883,\"\",1\r\nOK\r\n",
        );
        assert_eq!(s.state, ConnState::Connected);
        assert_eq!(s.scheme, 2);
        assert_eq!(&s.host[..], b"h");
        assert_eq!(s.port, 8883);
        // Not initialised: empty fields.
        let s = exchange(
            d,
            &q,
            b"AT+MQTTCONN?\r\n",
            b"+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\nOK\r\n",
        );
        assert_eq!(s.state, ConnState::NotInitialized);
        assert_eq!(s.port, 0);
        // OK alone.
        let s = exchange(d, &q, b"AT+MQTTCONN?\r\n", b"\r\nOK\r\n");
        assert_eq!(s, MqttConnStatus::default());
        // Every numeric state.
        for n in 0..=6u8 {
            let reply = format!("+MQTTCONN:0,{n},1,\"h\",1883,\"\",0\r\nOK\r\n");
            let s = exchange(d, &q, b"AT+MQTTCONN?\r\n", reply.as_bytes());
            assert_eq!(s.state.code(), n);
        }
        // Malformed.
        for bad in [
            &b"+MQTTCONN:0,7,1,\"h\",1883,\"\",0\r\nOK\r\n"[..],
            b"+MQTTCONN:0,4,1,\"h\",70000,\"\",0\r\nOK\r\n",
            b"+MQTTCONN:0,4\r\nOK\r\n",
        ] {
            assert_eq!(
                query_result(d, &q, b"AT+MQTTCONN?\r\n", bad),
                Err(Error::Parse),
                "{}",
                bytes(bad)
            );
        }
    }
    let q = MqttConnQuery::new(BEKEN).unwrap();
    // Beken's document: state words, no path.
    let s = exchange(
        BEKEN,
        &q,
        b"AT+MQTTCONN?\r\n",
        b"\r\n+MQTTCONN:0,connected,2,192.168.0.102,8883,1\r\nOK\r\n",
    );
    assert_eq!(s.state, ConnState::Connected);
    assert!(s.state.is_connected());
    assert_eq!(s.scheme(BEKEN), Some(Scheme::TlsPsk));
    assert_eq!(&s.host[..], b"192.168.0.102");
    assert_eq!(s.port, 8883);
    assert!(s.reconnect);
    let s = exchange(
        BEKEN,
        &q,
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:0,disconnect,1,\"h\",\"1883\",0\r\nOK\r\n",
    );
    assert_eq!(s.state, ConnState::Disconnected);
    assert!(!s.state.is_connected());
    // Beken's public firmware form, and a late +MQTTCONN:OK inside the reply.
    let s = exchange(
        BEKEN,
        &q,
        b"AT+MQTTCONN?\r\n",
        b"+MQTTCONN:OK\r\n+MQTTCONNSTATE:connected,5000,120,1,1\r\nOK\r\n",
    );
    assert_eq!(s.state, ConnState::Connected);
    assert!(s.reconnect);
    unsupported(AI, MqttConnQuery::new(AI));
}

// ---------------------------------------------------------------------------------------
// AT+MQTTPUB, AT+MQTTPUBRAW
// ---------------------------------------------------------------------------------------

#[test]
fn pub_bytes() {
    for d in [ESP, W800] {
        // The documents' example.
        let data = br#""{"timestamp":"20201121085253"}""#;
        let cmd = MqttPub::new(d, "topic", data, QoS::AtMostOnce, false).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTPUB=0,\"topic\",\"\\\"{\\\"timestamp\\\":\\\"20201121085253\\\"}\\\"\",0,0\r\n",
            b"\r\nOK\r\n",
        );
        let cmd = MqttPub::new(d, "a/b", b"x", QoS::ExactlyOnce, true).unwrap();
        exchange(
            d,
            &cmd,
            b"AT+MQTTPUB=0,\"a/b\",\"x\",2,1\r\n",
            b"\r\nOK\r\n",
        );
    }
    let cmd = MqttPub::new(BEKEN, "test/abc", b"987654321", QoS::AtLeastOnce, false).unwrap();
    exchange(
        BEKEN,
        &cmd,
        b"AT+MQTTPUB=0,test/abc,987654321,1,0\r\n",
        b"\r\nOK\r\n",
    );
}

#[test]
fn pub_limits() {
    let t129 = "t".repeat(129);
    let t128 = "t".repeat(128);
    let d257 = [b'd'; 257];
    for d in MQTT_DIALECTS {
        refused(
            d,
            MqttPub::new(d, "", b"x", QoS::AtMostOnce, false),
            "topic",
        );
        refused(
            d,
            MqttPub::new(d, &t129, b"x", QoS::AtMostOnce, false),
            "topic",
        );
        assert!(MqttPub::new(d, &t128, b"x", QoS::AtMostOnce, false).is_ok());
        refused(d, MqttPub::new(d, "t", b"", QoS::AtMostOnce, false), "data");
        refused(
            d,
            MqttPub::new(d, "t", &d257, QoS::AtMostOnce, false),
            "data",
        );
        refused(
            d,
            MqttPub::new(d, "t", b"a\0b", QoS::AtMostOnce, false),
            "data",
        );
        refused(
            d,
            MqttPub::new(d, "t", b"a\r\nb", QoS::AtMostOnce, false),
            "data",
        );
    }
    refused(
        BEKEN,
        MqttPub::new(BEKEN, "t", b"a,b", QoS::AtMostOnce, false),
        "data",
    );
    refused(
        BEKEN,
        MqttPub::new(BEKEN, "t", b"a b", QoS::AtMostOnce, false),
        "data",
    );
    refused(
        BEKEN,
        MqttPub::new(BEKEN, "t t", b"x", QoS::AtMostOnce, false),
        "topic",
    );
    unsupported(AI, MqttPub::new(AI, "t", b"x", QoS::AtMostOnce, false));
    // Fine per field, too long as a line: the client refuses it.
    let mut c = client(MockUart::new(), ESP);
    let cmd = MqttPub::new(ESP, "t", &[b','; 200], QoS::AtMostOnce, false).unwrap();
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    assert!(c.release().0.written().is_empty());
}

#[test]
fn pubraw_bytes() {
    for d in [ESP, W800] {
        let cmd = MqttPubRaw::new(d, "t", 5, QoS::AtLeastOnce, false).unwrap();
        assert_eq!(cmd.length(), 5);
        exchange_data(
            d,
            &cmd,
            b"AT+MQTTPUBRAW=0,\"t\",5,1,0\r\n",
            b"\r\nOK\r\n\r\n>",
            b"a,\"b\"",
            b"+MQTTPUB:OK\r\n",
        );
    }
    let cmd = MqttPubRaw::with_timeout(ESP, "t", 3, QoS::AtMostOnce, true, 3000).unwrap();
    exchange_data(
        ESP,
        &cmd,
        b"AT+MQTTPUBRAW=0,\"t\",3,0,1,3000\r\n",
        b"OK\r\n\r\n>",
        b"abc",
        b"+MQTTPUB:OK\r\n",
    );
    let cmd = MqttPubRaw::new(BEKEN, "test/abc", 4, QoS::AtMostOnce, false).unwrap();
    exchange_data(
        BEKEN,
        &cmd,
        b"AT+MQTTPUBRAW=0,test/abc,4,0,0\r\n",
        b"\r\nOK\r\n>",
        b"a b,",
        b"\r\n+MQTTPUBRAW:OK\r\n",
    );
    assert_eq!(
        parse_pubraw_result(b"+MQTTPUBRAW:OK"),
        Some(AsyncResult::Ok)
    );
    assert_eq!(
        parse_pubraw_result(b"+MQTTPUBRAW:ERROR,-1"),
        Some(AsyncResult::Error { code: Some(-1) })
    );
    assert_eq!(parse_pub_result(b"+MQTTPUB:OK"), Some(AsyncResult::Ok));
    assert_eq!(
        parse_pub_result(b"+MQTTPUB:FAIL"),
        Some(AsyncResult::Error { code: None })
    );
    assert_eq!(
        parse_pub_result(b"+MQTTPUB:ERROR,7"),
        Some(AsyncResult::Error { code: Some(7) })
    );
    assert_eq!(parse_pub_result(b"+MQTTPUB:maybe"), None);
    assert_eq!(parse_pubraw_result(b"+MQTTPUB:OK"), None);
}

#[test]
fn pubraw_failure_is_reported() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+MQTTPUBRAW=0,t,2,0,0\r\n", b"\r\nOK\r\n>");
        uart.expect(b"ab", b"+MQTTPUBRAW:ERROR,3\r\n");
        let mut c = client(uart, BEKEN);
        let cmd = MqttPubRaw::new(BEKEN, "t", 2, QoS::AtMostOnce, false).unwrap();
        assert!(matches!(
            c.send_with_data(&cmd, b"ab"),
            Err(Error::Module { .. })
        ));
        c.release().0.assert_done();
    }
}

#[test]
fn pubraw_limits() {
    let t129 = "t".repeat(129);
    for d in MQTT_DIALECTS {
        refused(
            d,
            MqttPubRaw::new(d, "t", 0, QoS::AtMostOnce, false),
            "length",
        );
        refused(
            d,
            MqttPubRaw::new(d, "", 1, QoS::AtMostOnce, false),
            "topic",
        );
        refused(
            d,
            MqttPubRaw::new(d, &t129, 1, QoS::AtMostOnce, false),
            "topic",
        );
        assert!(MqttPubRaw::new(d, "t", 512, QoS::AtMostOnce, false).is_ok());
    }
    refused(
        BEKEN,
        MqttPubRaw::new(BEKEN, "t", 513, QoS::AtMostOnce, false),
        "length",
    );
    for d in [ESP, W800] {
        assert!(MqttPubRaw::new(d, "t", 100_000, QoS::AtMostOnce, false).is_ok());
    }
    refused(
        ESP,
        MqttPubRaw::with_timeout(ESP, "t", 0, QoS::AtMostOnce, false, 10),
        "length",
    );
    for d in [W800, BEKEN, AI] {
        unsupported(
            d,
            MqttPubRaw::with_timeout(d, "t", 1, QoS::AtMostOnce, false, 10),
        );
    }
    unsupported(AI, MqttPubRaw::new(AI, "t", 1, QoS::AtMostOnce, false));
}

// ---------------------------------------------------------------------------------------
// AT+MQTTSUB, AT+MQTTUNSUB, AT+MQTTCLEAN
// ---------------------------------------------------------------------------------------

#[test]
fn sub_bytes_and_notices() {
    for d in [ESP, W800] {
        let cmd = MqttSub::new(d, "a/b", QoS::AtLeastOnce).unwrap();
        let line = b"AT+MQTTSUB=0,\"a/b\",1\r\n";
        assert_eq!(exchange(d, &cmd, line, b"\r\nOK\r\n").notice, None);
        assert_eq!(
            exchange(d, &cmd, line, b"\r\nALREADY SUBSCRIBE\r\n\r\nOK\r\n").notice,
            Some(SubNotice::AlreadySubscribed)
        );
        assert_eq!(
            exchange(d, &cmd, line, b"ALREADY FULL SUBSCRIBE\r\nOK\r\n").notice,
            Some(SubNotice::Full)
        );
    }
    let cmd = MqttSub::new(BEKEN, "a/#", QoS::ExactlyOnce).unwrap();
    let line = b"AT+MQTTSUB=0,a/#,2\r\n";
    assert_eq!(exchange(BEKEN, &cmd, line, b"\r\nOK\r\n").notice, None);
    assert_eq!(
        exchange(BEKEN, &cmd, line, b"\r\nALREADY SUBSCRIBE\r\nOK\r\n").notice,
        Some(SubNotice::AlreadySubscribed)
    );
}

#[test]
fn unsub_bytes_and_notices() {
    for (d, line) in [
        (ESP, &b"AT+MQTTUNSUB=0,\"a/b\"\r\n"[..]),
        (W800, b"AT+MQTTUNSUB=0,\"a/b\"\r\n"),
        (BEKEN, b"AT+MQTTUNSUB=0,a/b\r\n"),
    ] {
        let cmd = MqttUnsub::new(d, "a/b").unwrap();
        assert_eq!(exchange(d, &cmd, line, b"\r\nOK\r\n").notice, None);
        assert_eq!(
            exchange(d, &cmd, line, b"\r\nNO UNSUBSCRIBE\r\n\r\nOK\r\n").notice,
            Some(SubNotice::NotSubscribed)
        );
    }
}

#[test]
fn sub_unsub_limits() {
    let t129 = "t".repeat(129);
    let t128 = "t".repeat(128);
    for d in MQTT_DIALECTS {
        refused(d, MqttSub::new(d, "", QoS::AtMostOnce), "topic");
        refused(d, MqttSub::new(d, &t129, QoS::AtMostOnce), "topic");
        assert!(MqttSub::new(d, &t128, QoS::AtMostOnce).is_ok());
        refused(d, MqttUnsub::new(d, ""), "topic");
        refused(d, MqttUnsub::new(d, &t129), "topic");
        assert!(MqttUnsub::new(d, &t128).is_ok());
    }
    refused(BEKEN, MqttSub::new(BEKEN, "a,b", QoS::AtMostOnce), "topic");
    refused(BEKEN, MqttUnsub::new(BEKEN, "a b"), "topic");
    unsupported(AI, MqttSub::new(AI, "t", QoS::AtMostOnce));
    unsupported(AI, MqttUnsub::new(AI, "t"));
}

#[test]
fn sub_notice_classifier() {
    assert_eq!(
        SubNotice::classify(b"ALREADY SUBSCRIBE"),
        Some(SubNotice::AlreadySubscribed)
    );
    assert_eq!(
        SubNotice::classify(b"ALREADY FULL SUBSCRIBE"),
        Some(SubNotice::Full)
    );
    assert_eq!(
        SubNotice::classify(b" NO UNSUBSCRIBE "),
        Some(SubNotice::NotSubscribed)
    );
    assert_eq!(SubNotice::classify(b"ALREADY"), None);
    assert_eq!(SubNotice::classify(b"OK"), None);
}

#[test]
fn sub_query_forms() {
    for d in [ESP, W800] {
        let q = MqttSubQuery::new(d).unwrap();
        let line = b"AT+MQTTSUB?\r\n";
        // Zero lines.
        let s = exchange(d, &q, line, b"\r\nOK\r\n");
        assert_eq!(s.state, None);
        assert!(s.topics.is_empty());
        // ESP-AT's empty line.
        let s = exchange(d, &q, line, b"+MQTTSUB:0,5,\"\",0\r\n\r\nOK\r\n");
        assert_eq!(s.state, Some(ConnState::Connected));
        assert!(s.topics.is_empty());
        // Two topics; one holds a comma.
        let s = exchange(
            d,
            &q,
            line,
            b"+MQTTSUB:0,6,\"a/b\",1\r\n+MQTTSUB:0,6,\"c\\,d\",\"2\"\r\n\r\nOK\r\n",
        );
        assert_eq!(s.state, Some(ConnState::Subscribed));
        assert_eq!(s.topics.len(), 2);
        assert_eq!(&s.topics[0].topic[..], b"a/b");
        assert_eq!(s.topics[0].qos, QoS::AtLeastOnce);
        assert_eq!(&s.topics[1].topic[..], b"c,d");
        assert_eq!(s.topics[1].qos, QoS::ExactlyOnce);
        // Ten topics: the most; eleven fail.
        let mut ten = String::new();
        for i in 0..10 {
            ten.push_str(&format!("+MQTTSUB:0,6,\"t/{i}\",0\r\n"));
        }
        let s = exchange(d, &q, line, format!("{ten}OK\r\n").as_bytes());
        assert_eq!(s.topics.len(), MAX_SUBSCRIPTIONS);
        assert_eq!(&s.topics[9].topic[..], b"t/9");
        let eleven = format!("{ten}+MQTTSUB:0,6,\"t/10\",0\r\nOK\r\n");
        assert_eq!(
            query_result(d, &q, line, eleven.as_bytes()),
            Err(Error::Parse)
        );
        assert_eq!(
            query_result(d, &q, line, b"+MQTTSUB:0,6,\"t\",3\r\nOK\r\n"),
            Err(Error::Parse)
        );
    }
    // Beken's document: topic unquoted, QoS quoted (its page prints curly quotes),
    // a space after the colon.
    let q = MqttSubQuery::new(BEKEN).unwrap();
    let s = exchange(
        BEKEN,
        &q,
        b"AT+MQTTSUB?\r\n",
        "+MQTTSUB:0,connected,test/abc,\"1\"\r\n+MQTTSUB: 0,connected,test/def,\u{201c}0\u{201d}\r\nOK\r\n"
            .as_bytes(),
    );
    assert_eq!(s.state, Some(ConnState::Connected));
    assert_eq!(s.topics.len(), 2);
    assert_eq!(&s.topics[0].topic[..], b"test/abc");
    assert_eq!(s.topics[0].qos, QoS::AtLeastOnce);
    assert_eq!(&s.topics[1].topic[..], b"test/def");
    assert_eq!(s.topics[1].qos, QoS::AtMostOnce);
    assert!(format!("{:?}", s.topics[1]).contains("test/def"));
    unsupported(AI, MqttSubQuery::new(AI));
}

#[test]
fn clean_bytes() {
    for d in MQTT_DIALECTS {
        exchange(
            d,
            &MqttClean::new(d).unwrap(),
            b"AT+MQTTCLEAN=0\r\n",
            b"\r\nOK\r\n",
        );
    }
    unsupported(AI, MqttClean::new(AI));
}

// ---------------------------------------------------------------------------------------
// URCs, typed parameters, timeouts
// ---------------------------------------------------------------------------------------

#[test]
fn connected_urc_forms() {
    let i = MqttConnectedInfo::parse(b"+MQTTCONNECTED:0,1,\"h.local\",\"1883\",\"\",0").unwrap();
    assert_eq!((i.link, i.scheme, i.port, i.reconnect), (0, 1, 1883, false));
    assert_eq!(i.host, b"h.local");
    let i = MqttConnectedInfo::parse(b"+MQTTCONNECTED:0,7,h.local,443,\"/mqtt\",1").unwrap();
    assert_eq!(i.scheme(ESP), Some(Scheme::Wss));
    assert_eq!((i.port, i.path, i.reconnect), (443, &b"/mqtt"[..], true));
    let i = MqttConnectedInfo::parse(b"+MQTTCONNECTED:\"0\",\"2\",\"h\",8883,1").unwrap();
    assert_eq!((i.scheme, i.port, i.path), (2, 8883, &b""[..]));
    assert!(MqttConnectedInfo::parse(b"+MQTTCONNECTED:0,1,\"h\"").is_none());
    assert!(MqttConnectedInfo::parse(b"+MQTTCONNECTED:0,1,\"h\",99999,\"\",0").is_none());
    assert!(MqttConnectedInfo::parse(b"+MQTTDISCONNECTED:0").is_none());
    assert!(format!("{i:?}").contains("8883"));
}

#[test]
fn typed_parameters() {
    assert_eq!(LinkId::new(0), Ok(LinkId::ZERO));
    assert!(matches!(
        LinkId::new(1),
        Err(Error::Invalid {
            field: "link_id",
            ..
        })
    ));
    assert_eq!(LinkId::ZERO.get(), 0);
    assert_eq!(QoS::from_u8(2), Some(QoS::ExactlyOnce));
    assert_eq!(QoS::from_u8(3), None);
    assert_eq!(QoS::parse(b"\"1\""), Some(QoS::AtLeastOnce));
    for n in 0..=6 {
        assert_eq!(ConnState::from_code(n).map(ConnState::code), Some(n));
    }
    assert_eq!(ConnState::from_code(7), None);
    assert_eq!(ConnState::parse(b"\"3\""), Some(ConnState::Disconnected));
    assert_eq!(ConnState::parse(b"connected"), Some(ConnState::Connected));
    assert_eq!(
        ConnState::parse(b"disconnect"),
        Some(ConnState::Disconnected)
    );
    assert_eq!(ConnState::parse(b"sleeping"), None);
    assert_eq!(host_max_len(BEKEN), 64);
    assert_eq!(host_max_len(ESP), 128);
    assert_eq!(lwt_msg_max_len(BEKEN), 64);
    assert_eq!(lwt_msg_max_len(W800), 128);
    assert_eq!(pubraw_max_len(BEKEN), Some(512));
    assert_eq!(pubraw_max_len(ESP), None);
}

#[test]
fn timeouts_match_the_constants() {
    assert_eq!(<MqttConn as AtatCmd>::MAX_TIMEOUT_MS, CONNECT_TIMEOUT_MS);
    for t in [
        <MqttPub as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttPubRaw as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttSub as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttUnsub as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttClean as AtatCmd>::MAX_TIMEOUT_MS,
    ] {
        assert_eq!(t, NETWORK_TIMEOUT_MS);
    }
    for t in [
        <MqttUserCfg as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttUserCfgQuery as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttLongClientId as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttLongUsername as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttLongPassword as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttConnCfg as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttConnCfgQuery as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttAlpn as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttAlpnQuery as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttSni as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttConnQuery as AtatCmd>::MAX_TIMEOUT_MS,
        <MqttSubQuery as AtatCmd>::MAX_TIMEOUT_MS,
    ] {
        assert_eq!(t, CONFIG_TIMEOUT_MS);
    }
}

#[test]
fn ai_thinker_has_none_of_these() {
    unsupported(AI, MqttUserCfg::new(AI, Scheme::Tcp, "c", "u", "p", ""));
    unsupported(AI, Scheme::Tcp.code(AI));
    assert_eq!(Scheme::from_code(AI, 1), None);
}
