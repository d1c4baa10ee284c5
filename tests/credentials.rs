//! Passwords, keys and tokens never show: not in the `Debug` output of the commands and
//! replies that hold them, not in errors, not in the values a flow returns (replies,
//! errors, events), not in `log` records.
//!
//! Every secret here holds the marker `S3cret`; output leaks when it holds the marker as
//! text or as the decimal byte list a derived `Debug` of `&[u8]` prints.
//!
//! The `log` records are checked when the `log` feature is on: each flow test installs the
//! capturing logger and, at its end, checks every record logged so far (tests run in
//! parallel: each record is checked at least by the flow that logged it);
//! [`log_capture_is_compiled_in`] fails while the test build lacks the feature, so the
//! check is never skipped silently.
//!
//! `defmt`: no type holding a secret derives or implements `defmt::Format`
//! ([`types_holding_secrets_redact_debug_and_have_no_defmt_format`] reads the sources), so
//! they can reach defmt output only through `Debug2Format`, i.e. their `Debug`, which the
//! other tests check.

use at_wifi::command::basic::EchoOn;
use at_wifi::command::combo::{self, GetJoinStatus};
use at_wifi::command::combo_mqtt;
use at_wifi::command::mqtt::{
    MqttLongPassword, MqttUserCfg, MqttUserCfgInfo, MqttUserCfgQuery, Scheme,
};
use at_wifi::command::socket::{CertKind, SslCert, SslCertQuery};
use at_wifi::command::wifi::{self, JoinAp, JoinError, SetWifiMode, WifiMode};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::mqtt::{Mqtt, MqttOptions};
use at_wifi::{Client, Dialect, Error, Event};
use atat::AtatCmd;
use std::fmt::Debug;
use std::path::Path;

const MARKER: &str = "S3cret";
const WIFI_PASS: &str = "wifi-S3cret-pw";
const MQTT_PASS: &str = "mqtt-S3cret-pw";
const COMBO_PASS: &str = "combo-S3cret";
const KEY_LINE: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-S3cret-Rk9PQkFS";

fn long_pass() -> String {
    format!("long-{MARKER}-{}", "x".repeat(90))
}

/// Fails when `out` shows the marker, as text or as a byte list.
fn assert_clean(what: &str, out: &str) {
    let bytes = MARKER
        .bytes()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        !out.contains(MARKER) && !out.contains(&bytes),
        "{what} shows a secret: {out}"
    );
}

fn assert_debug_clean(what: &str, v: &impl Debug) {
    assert_clean(what, &format!("{v:?}"));
    assert_clean(what, &format!("{v:#?}"));
}

fn assert_error_clean(what: &str, e: &(impl Debug + std::fmt::Display)) {
    assert_debug_clean(what, e);
    assert_clean(what, &e.to_string());
}

/// The bytes `cmd` puts on the wire.
fn wire<C: AtatCmd>(cmd: &C) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = cmd.write(&mut buf);
    buf[..n].to_vec()
}

/// The module echoes the line (echo on, `ATE1`), then answers `rest`.
fn echoed(line: &[u8], rest: &[u8]) -> Vec<u8> {
    [line, rest].concat()
}

/// Every event still queued, each checked.
fn drain_events<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
) -> usize {
    let mut n = 0;
    while let Ok(Some(ev)) = c.poll() {
        assert_debug_clean("event", &ev);
        n += 1;
    }
    n
}

// ---------------------------------------------------------------------------
// Commands, replies and errors built directly
// ---------------------------------------------------------------------------

#[test]
fn commands_holding_secrets_redact_them_in_debug() {
    let long = long_pass();
    for d in [Dialect::EspAt, Dialect::W800, Dialect::Beken] {
        let cfg = MqttUserCfg::new(d, Scheme::Tcp, "dev1", "user", MQTT_PASS, "").unwrap();
        assert_debug_clean("MqttUserCfg", &cfg);
        // The command does carry it on the wire.
        assert!(String::from_utf8_lossy(&wire(&cfg)).contains(MQTT_PASS));
        let opts = MqttOptions::new("dev1").credentials("user", MQTT_PASS);
        assert_debug_clean("MqttOptions", &opts);
        let opts = MqttOptions::new("dev1").credentials("user", &long);
        assert_debug_clean("MqttOptions (long password)", &opts);
    }
    for d in [Dialect::EspAt, Dialect::W800] {
        let join = JoinAp::new(d, "home", WIFI_PASS)
            .unwrap()
            .bssid([1, 2, 3, 4, 5, 6])
            .pci_auth(true)
            .timeout_s(30)
            .unwrap()
            .pmf(true, false);
        assert_debug_clean("JoinAp", &join);
        // Characters that are escaped on the wire.
        let odd = format!("a,\"b\\{MARKER}");
        assert_debug_clean("JoinAp", &JoinAp::new(d, "home", &odd).unwrap());
        let cfg = MqttUserCfg::new(d, Scheme::Tls, "dev1", "user", &odd, "/p").unwrap();
        assert_debug_clean("MqttUserCfg", &cfg);
        assert_debug_clean("MqttLongPassword", &MqttLongPassword::new(d, 100).unwrap());
    }
    let join = combo::JoinAp::new(Dialect::AiThinker, "home", COMBO_PASS).unwrap();
    assert_debug_clean("combo::JoinAp", &join);
    let quoted = format!("a b,\"{MARKER}");
    let join = combo::JoinAp::new(Dialect::AiThinker, "home", &quoted).unwrap();
    assert_debug_clean("combo::JoinAp", &join);
    let cert = SslCert::new(Dialect::AiThinker, CertKind::ClientKey, KEY_LINE.len()).unwrap();
    assert_debug_clean("SslCert", &cert);
    for pw in [COMBO_PASS.to_string(), quoted.clone()] {
        let set = combo_mqtt::SetPassword::new(Dialect::AiThinker, &pw).unwrap();
        assert_debug_clean("combo_mqtt::SetPassword", &set);
        assert!(String::from_utf8_lossy(&wire(&set)).contains(MARKER));
    }
    let cert =
        combo_mqtt::SetCert::new(Dialect::AiThinker, CertKind::ClientKey, KEY_LINE.len()).unwrap();
    assert_debug_clean("combo_mqtt::SetCert", &cert);
}

#[test]
fn replies_holding_secrets_redact_them_in_debug() {
    let reply = format!(
        "\r\n+MQTTUSERCFG:0,1,\"dev1\",\"user\",\"{}\",0,0,\"\"\r\n\r\nOK\r\n",
        MQTT_PASS.replace(',', "\\,")
    );
    let info = MqttUserCfgInfo::from_reply(reply.as_bytes()).unwrap();
    assert_eq!(info.password.as_slice(), MQTT_PASS.as_bytes());
    assert_debug_clean("MqttUserCfgInfo", &info);

    let reply = format!(
        "+WJAP:3,home,{COMBO_PASS},aa:bb:cc:dd:ee:ff,WPA2 AES,11:22:33:44:55:66,6,\
         192.168.1.5,192.168.1.1\r\nOK\r\n"
    );
    let status = combo::JoinStatus::from_reply(reply.as_bytes()).unwrap();
    assert_eq!(status.ssid.as_slice(), b"home");
    assert_debug_clean("JoinStatus", &status);
    // A password with a comma cannot be told from the SSID; it must still not show.
    let reply = format!("+WJAP:2,home,a,{COMBO_PASS}\r\nOK\r\n");
    if let Ok(status) = combo::JoinStatus::from_reply(reply.as_bytes()) {
        assert_debug_clean("JoinStatus", &status);
    }

    // Combo-AT's `AT+MQTT?` prints the MQTT password back: it is not kept.
    let reply = format!("+MQTT:3,h,1883,1,dev,user,{COMBO_PASS},t,0,0,m\r\nOK\r\n");
    let cfg = combo_mqtt::MqttConfig::from_reply(reply.as_bytes()).unwrap();
    assert!(cfg.has_password);
    assert_debug_clean("combo_mqtt::MqttConfig", &cfg);
}

#[test]
fn errors_about_secrets_do_not_show_them() {
    let too_long = format!("{MARKER}{}", "p".repeat(80));
    let with_crlf = format!("{MARKER}\r\nxyz");
    let with_space = format!("{MARKER} pw");
    let errors = [
        MqttUserCfg::new(Dialect::EspAt, Scheme::Tcp, "c", "u", &too_long, "").unwrap_err(),
        MqttUserCfg::new(Dialect::EspAt, Scheme::Tcp, "c", "u", &with_crlf, "").unwrap_err(),
        MqttUserCfg::new(Dialect::Beken, Scheme::Tcp, "c", "u", &with_space, "").unwrap_err(),
        JoinAp::new(Dialect::EspAt, "home", &too_long).unwrap_err(),
        JoinAp::new(Dialect::EspAt, "home", &with_crlf).unwrap_err(),
        combo::JoinAp::new(Dialect::AiThinker, "home", &too_long).unwrap_err(),
        combo::JoinAp::new(Dialect::AiThinker, "home", &with_crlf).unwrap_err(),
        combo_mqtt::SetPassword::new(Dialect::AiThinker, &too_long).unwrap_err(),
        combo_mqtt::SetPassword::new(Dialect::AiThinker, &with_crlf).unwrap_err(),
    ];
    for e in &errors {
        assert_error_clean("Error", e);
        let je = JoinError::from(*e);
        assert_error_clean("JoinError", &je);
    }
}

// ---------------------------------------------------------------------------
// Whole flows through the mock UART
// ---------------------------------------------------------------------------

/// ESP-AT with echo on: join Wi-Fi (once refused with a wrong password), configure MQTT
/// with a short and a long password, directly and through the MQTT session. Every value
/// returned and every event is checked; so are the log records.
#[test]
fn esp_at_flow_with_echo_shows_no_secret() {
    capture::install();
    let d = Dialect::EspAt;
    let long = long_pass();
    let join_cmd = JoinAp::new(d, "home", WIFI_PASS).unwrap();
    let join_line = format!("AT+CWJAP=\"home\",\"{WIFI_PASS}\"\r\n").into_bytes();
    let cfg = MqttUserCfg::new(d, Scheme::Tcp, "dev1", "user", MQTT_PASS, "").unwrap();
    let cfg_empty = MqttUserCfg::new(d, Scheme::Tcp, "dev1", "user", "", "").unwrap();
    let long_cmd = MqttLongPassword::new(d, long.len()).unwrap();

    let mut uart = MockUart::new();
    uart.set_chunk(7);
    uart.expect(b"ATE1\r\n", b"ATE1\r\n\r\nOK\r\n");
    let mode = wire(&SetWifiMode::new(WifiMode::Station));
    uart.expect(&mode, &echoed(&mode, b"\r\nOK\r\n"));
    uart.expect(
        &join_line,
        &echoed(&join_line, b"WIFI DISCONNECT\r\n+CWJAP:2\r\n\r\nERROR\r\n"),
    );
    uart.expect(
        &join_line,
        &echoed(&join_line, b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"),
    );
    // Directly.
    let cfg_line = wire(&cfg);
    uart.expect(&cfg_line, &echoed(&cfg_line, b"\r\nOK\r\n"));
    let long_line = wire(&long_cmd);
    uart.expect(&long_line, &echoed(&long_line, b"\r\nOK\r\n\r\n>"));
    uart.expect(long.as_bytes(), b"\r\nOK\r\n");
    // The session: the short password in AT+MQTTUSERCFG, the long one through
    // AT+MQTTLONGPASSWORD after an AT+MQTTUSERCFG with an empty one.
    uart.expect(&cfg_line, &echoed(&cfg_line, b"\r\nOK\r\n"));
    let empty_line = wire(&cfg_empty);
    uart.expect(&empty_line, &echoed(&empty_line, b"\r\nOK\r\n"));
    uart.expect(&long_line, &echoed(&long_line, b"\r\nOK\r\n\r\n>"));
    uart.expect(long.as_bytes(), b"\r\nOK\r\n");
    // A refused one.
    uart.expect(
        &cfg_line,
        &echoed(&cfg_line, b"\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n"),
    );
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, d);

    assert_debug_clean("ATE1", &c.send(&EchoOn));
    assert_debug_clean("AT+CWMODE", &c.send(&SetWifiMode::new(WifiMode::Station)));
    let refused = wifi::join(&mut c, &join_cmd);
    assert!(matches!(
        refused,
        Err(JoinError {
            reason: Some(wifi::JoinFailure::WrongPassword),
            ..
        })
    ));
    let e = refused.unwrap_err();
    assert_error_clean("JoinError", &e);
    assert_debug_clean("join", &wifi::join(&mut c, &join_cmd));
    assert!(drain_events(&mut c) >= 3);

    assert_debug_clean("AT+MQTTUSERCFG", &c.send(&cfg));
    let r = c.send_with_data(&long_cmd, long.as_bytes());
    assert!(r.is_ok(), "{r:?}");
    assert_debug_clean("AT+MQTTLONGPASSWORD", &r);

    let mut mqtt: Mqtt = Mqtt::new();
    let opts = MqttOptions::new("dev1").credentials("user", MQTT_PASS);
    let r = mqtt.configure(&mut c, &opts);
    assert!(r.is_ok(), "{r:?}");
    let opts_long = MqttOptions::new("dev1").credentials("user", &long);
    let r = mqtt.configure(&mut c, &opts_long);
    assert!(r.is_ok(), "{r:?}");
    assert_debug_clean("Mqtt", &mqtt);
    let r = mqtt.configure(&mut c, &opts);
    assert!(matches!(r, Err(Error::Module { .. })), "{r:?}");
    assert_error_clean("configure error", &r.unwrap_err());
    assert_debug_clean("stats", &c.stats());
    drain_events(&mut c);
    let (uart, _) = c.release();
    uart.assert_done();
    capture::check();
}

/// W800: reading the user attributes back returns the password; the value's `Debug`
/// hides it.
#[test]
fn w800_user_config_query_shows_no_secret() {
    capture::install();
    let d = Dialect::W800;
    let mut uart = MockUart::new();
    let reply =
        format!("\r\n+MQTTUSERCFG:0,1,\"dev1\",\"user\",\"{MQTT_PASS}\",0,0,\"\"\r\n\r\nOK\r\n");
    uart.expect(b"AT+MQTTUSERCFG?\r\n", reply.as_bytes());
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, d);
    let info = c.send(&MqttUserCfgQuery::new(d).unwrap()).unwrap();
    assert_eq!(info.password.as_slice(), MQTT_PASS.as_bytes());
    assert_debug_clean("MqttUserCfgInfo", &info);
    assert_eq!(drain_events(&mut c), 0);
    c.release().0.assert_done();
    capture::check();
}

/// Combo-AT: join (the module prints the password back in `AT+WJAP?`), upload and read
/// back a private key.
#[test]
fn combo_flow_shows_no_secret() {
    capture::install();
    let d = Dialect::AiThinker;
    let key = format!("-----BEGIN PRIVATE KEY-----\r\n{KEY_LINE}\r\n-----END PRIVATE KEY-----");
    let mut uart = MockUart::new();
    uart.set_chunk(5);
    uart.expect(
        format!("AT+WJAP=home,{COMBO_PASS}\r\n").as_bytes(),
        b"\r\nOK\r\n+EVENT:WIFI_CONNECT\r\n+EVENT:WIFI_GOT_IP\r\n",
    );
    let status = format!(
        "+WJAP:3,home,{COMBO_PASS},aa:bb:cc:dd:ee:ff,WPA2 AES,11:22:33:44:55:66,6,\
         192.168.1.5,192.168.1.1\r\nOK\r\n"
    );
    uart.expect(b"AT+WJAP?\r\n", status.as_bytes());
    let cert = SslCert::new(d, CertKind::ClientKey, key.len()).unwrap();
    uart.expect(&wire(&cert), b"\r\nOK\r\n\r\n>");
    uart.expect(key.as_bytes(), b"\r\nOK\r\n");
    let query = SslCertQuery::new(d, CertKind::ClientKey).unwrap();
    let cert_reply = format!("+SSLCRET:3,{},{key}\r\nOK\r\n", key.len());
    uart.expect(&wire(&query), cert_reply.as_bytes());
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, d);

    let join = combo::JoinAp::new(d, "home", COMBO_PASS).unwrap();
    let mut seen = Vec::new();
    let r = combo::join(&mut c, &join, 1000, |e: Event<'_>| {
        seen.push(format!("{e:?}"))
    });
    assert!(r.is_ok(), "{r:?}");
    for e in &seen {
        assert_clean("event", e);
    }
    let status = c.send(&GetJoinStatus::new(d).unwrap()).unwrap();
    assert_debug_clean("JoinStatus", &status);
    let r = c.send_with_data(&cert, key.as_bytes());
    assert!(r.is_ok(), "{r:?}");
    let info = c.send(&query).unwrap();
    assert_eq!(info.len, key.len());
    assert_debug_clean("CertInfo", &info);
    assert_eq!(drain_events(&mut c), 0);
    c.release().0.assert_done();
    capture::check();
}

/// Combo-AT MQTT with echo on: set the password (the line comes back as the echo), read
/// the configuration (the module prints the password back), connect. Every value
/// returned and every event is checked; so are the log records.
#[test]
fn combo_mqtt_flow_shows_no_secret() {
    capture::install();
    let d = Dialect::AiThinker;
    let set = combo_mqtt::SetPassword::new(d, COMBO_PASS).unwrap();
    let line = wire(&set);
    let mut uart = MockUart::new();
    uart.set_chunk(3);
    uart.expect(&line, &echoed(&line, b"\r\nOK\r\n"));
    let get = combo_mqtt::GetConfig::new(d).unwrap();
    let reply = format!("+MQTT:0,h,1883,1,dev,user,{COMBO_PASS},,0,0,\r\nOK\r\n");
    uart.expect(&wire(&get), &echoed(&wire(&get), reply.as_bytes()));
    let conn = combo_mqtt::Connect::new(d).unwrap();
    uart.expect(
        &wire(&conn),
        &echoed(&wire(&conn), b"\r\nOK\r\n+EVENT:MQTT_CONNECT\r\n"),
    );
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock, d);
    let r = c.send(&set);
    assert_debug_clean("SetPassword result", &r);
    assert!(r.is_ok(), "{r:?}");
    let cfg = c.send(&get).unwrap();
    assert!(cfg.has_password);
    assert_debug_clean("MqttConfig", &cfg);
    c.send(&conn).unwrap();
    assert_eq!(drain_events(&mut c), 1);
    c.release().0.assert_done();
    capture::check();
}

/// A command line holding a password, echoed (echo on) after the command timed out — the
/// module was stuck — must not come out of `poll` / `wait_event` as an event that shows
/// the password (a raw `Urc::Line` prints its bytes).
#[test]
fn late_echo_of_a_command_holding_a_secret_is_not_an_event_that_shows_it() {
    capture::install();
    let d = Dialect::EspAt;
    let cfg = MqttUserCfg::new(d, Scheme::Tcp, "dev1", "user", MQTT_PASS, "").unwrap();
    let line = wire(&cfg);
    let mut uart = MockUart::new();
    uart.expect_delayed(&line, &echoed(&line, b"\r\nOK\r\n"), 6000);
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock.clone(), d);
    assert!(matches!(c.send(&cfg), Err(Error::Timeout { .. })));
    clock.advance(2000);
    let ev = c.wait_event(100);
    assert_debug_clean("event after a late echo", &ev);
    drain_events(&mut c);
    capture::check();
}

/// W800 prints the password back in the reply of `AT+MQTTUSERCFG?`; when that reply comes
/// after the query timed out, it must not come out of `poll` / `wait_event` as an event
/// that shows the password.
#[test]
fn late_reply_holding_a_secret_is_not_an_event_that_shows_it() {
    capture::install();
    let d = Dialect::W800;
    let mut uart = MockUart::new();
    let reply =
        format!("\r\n+MQTTUSERCFG:0,1,\"dev1\",\"user\",\"{MQTT_PASS}\",0,0,\"\"\r\n\r\nOK\r\n");
    uart.expect_delayed(b"AT+MQTTUSERCFG?\r\n", reply.as_bytes(), 6000);
    let clock = uart.clock();
    let mut c: Client<_, _> = Client::new(uart, clock.clone(), d);
    let r = c.send(&MqttUserCfgQuery::new(d).unwrap());
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    clock.advance(2000);
    let ev = c.wait_event(100);
    assert_debug_clean("event after a late reply", &ev);
    drain_events(&mut c);
    capture::check();
}

// ---------------------------------------------------------------------------
// Sources: Debug by hand, no defmt::Format
// ---------------------------------------------------------------------------

/// Field names that hold a secret.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "pwd",
    "psk",
    "passphrase",
    "secret",
    "key",
    "private_key",
    "token",
];

/// Every type with such a field, and the test above that checks its `Debug` output. A new
/// type holding a secret fails [`types_holding_secrets_redact_debug_and_have_no_defmt_format`]
/// until it is added here with a test.
const COVERED: &[&str] = &[
    "MqttUserCfg",     // commands_holding_secrets_redact_them_in_debug
    "MqttUserCfgInfo", // replies_holding_secrets_redact_them_in_debug
    "JoinAp",          // commands_… (wifi::JoinAp and combo::JoinAp)
    "MqttOptions",     // commands_holding_secrets_redact_them_in_debug
    "SetPassword",     // commands_… and combo_mqtt_flow_shows_no_secret (combo_mqtt)
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A struct with a secret field.
#[derive(Debug)]
struct Holder {
    name: String,
    file: String,
    /// Its attributes and doc comments.
    attrs: String,
    /// The whole file (for `impl … for` blocks).
    file_text: String,
}

/// Every struct of the crate with a secret field.
fn secret_holders() -> Vec<Holder> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let Some(rest) = t
                .strip_prefix("pub struct ")
                .or_else(|| t.strip_prefix("pub(crate) struct "))
                .or_else(|| t.strip_prefix("struct "))
            else {
                continue;
            };
            if !t.ends_with('{') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The fields: up to the closing brace at the struct's indentation.
            let close = format!("{}}}", &l[..l.len() - t.len()]);
            let holds = lines[i + 1..]
                .iter()
                .take_while(|f| **f != close)
                .filter_map(|f| {
                    let f = f.trim_start();
                    let f = f.strip_prefix("pub(crate) ").unwrap_or(f);
                    let f = f.strip_prefix("pub ").unwrap_or(f);
                    f.split_once(':').map(|(field, _)| field.trim())
                })
                .any(|field| SECRET_FIELDS.contains(&field));
            if !holds {
                continue;
            }
            // The attributes (`#[at_cmd(` spans lines) and doc comments right above.
            let mut attrs: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .take_while(|a| {
                    let a = a.trim_start();
                    a.starts_with("#[")
                        || a.starts_with("///")
                        || a.starts_with('"')
                        || a.starts_with(')')
                        || a.contains(" = ")
                        || a.ends_with(',')
                })
                .copied()
                .collect();
            attrs.reverse();
            found.push(Holder {
                name,
                file: file.display().to_string(),
                attrs: attrs.join("\n"),
                file_text: text.clone(),
            });
        }
    }
    found
}

#[test]
fn types_holding_secrets_redact_debug_and_have_no_defmt_format() {
    let holders = secret_holders();
    let names: Vec<&str> = holders.iter().map(|h| h.name.as_str()).collect();
    for expected in [
        "MqttUserCfg",
        "MqttUserCfgInfo",
        "JoinAp",
        "MqttOptions",
        "SetPassword",
    ] {
        assert!(
            names.contains(&expected),
            "the scan missed {expected}: {names:?}"
        );
    }
    for h in &holders {
        let (name, file) = (&h.name, &h.file);
        let derives: String = h.attrs.lines().filter(|a| a.contains("derive(")).collect();
        assert!(
            !derives.contains("Debug"),
            "{name} ({file}) holds a secret and derives Debug: write it by hand"
        );
        assert!(
            !h.attrs.contains("defmt"),
            "{name} ({file}) holds a secret and derives defmt::Format"
        );
        assert!(
            !h.file_text.contains(&format!("Format for {name}")),
            "{name} ({file}) implements defmt::Format: make sure it redacts the secret, \
             then test it"
        );
        assert!(
            h.file_text.contains(&format!("fmt::Debug for {name}<"))
                || h.file_text.contains(&format!("fmt::Debug for {name} ")),
            "{name} ({file}) has no Debug written by hand"
        );
        assert!(
            COVERED.contains(&name.as_str()),
            "{name} ({file}) holds a secret: add a Debug test and list it in COVERED"
        );
    }
}

// ---------------------------------------------------------------------------
// log
// ---------------------------------------------------------------------------

/// The flow tests check `log` records only when the test build has the `log` feature.
#[test]
fn log_capture_is_compiled_in() {
    if !cfg!(feature = "log") {
        panic!(
            "tests/credentials.rs checks the `log` records only with the `log` feature: add \
             it to the features of the at-wifi dev-dependency in Cargo.toml"
        );
    }
}

#[cfg(feature = "log")]
mod capture {
    use std::sync::Mutex;

    static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{} {}: {}", record.level(), record.target(), record.args());
            RECORDS.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }

        fn flush(&self) {}
    }

    static LOGGER: Capture = Capture;

    /// Installs the capturing logger (once for the whole test binary).
    pub fn install() {
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
    }

    /// Checks every record so far.
    pub fn check() {
        let records = RECORDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            records.iter().any(|r| r.contains("AT+")),
            "the client logged nothing: {records:?}"
        );
        for r in &records {
            super::assert_clean("log record", r);
        }
    }
}

#[cfg(not(feature = "log"))]
mod capture {
    pub fn install() {}
    pub fn check() {}
}
