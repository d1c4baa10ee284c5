//! ESP-AT: exact replies to raw AT lines, and MQTT through the embedded broker.

mod common;

use at_wifi_sim::{Dialect, Sim, SimConfig, SplitMode};
use common::*;
use std::time::Duration;

#[test]
fn basic_commands_echo_and_errors() {
    let (_sim, mut u) = Sim::pipe(config(Dialect::EspAt).echo(true));
    // Echo on: the line comes back as typed, lower case included.
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "AT\r\n\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "at+nonsense", "ERROR\r\n"),
        "at+nonsense\r\n\r\nERROR\r\n"
    );
    assert_eq!(x(&mut u, "ATE0", "OK\r\n"), "ATE0\r\n\r\nOK\r\n");
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(x(&mut u, "AT+SYSLOG?", "OK\r\n"), "+SYSLOG:0\r\n\r\nOK\r\n");
    assert_eq!(x(&mut u, "AT+SYSLOG=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+NONSENSE", "ERROR\r\n"),
        "ERR CODE:0x01090000\r\n\r\nERROR\r\n"
    );
    let gmr = x(&mut u, "AT+GMR", "OK\r\n");
    assert!(gmr.starts_with("AT version:"), "{gmr:?}");
    assert!(gmr.contains("\r\nSDK version:"));
    // A line longer than 256 bytes (line end included) is refused.
    let long = format!("AT+MQTTPUB=0,\"t\",\"{}\",0,0", "a".repeat(240));
    assert_eq!(
        x(&mut u, &long, "ERROR\r\n"),
        "ERR CODE:0x01040000\r\n\r\nERROR\r\n"
    );
    // MQTT before any configuration: AT_MQTT_NULL_LINK (0x6006).
    assert_eq!(
        x(&mut u, "AT+MQTTPUB=0,\"t\",\"x\",0,0", "ERROR\r\n"),
        "ERR CODE:0x010a6006\r\n\r\nERROR\r\n"
    );
    // Field limits: username over 64 bytes.
    let user = "u".repeat(65);
    assert_eq!(
        x(
            &mut u,
            &format!("AT+MQTTUSERCFG=0,1,\"id\",\"{user}\",\"\",0,0,\"\""),
            "ERROR\r\n"
        ),
        "ERR CODE:0x010a6019\r\n\r\nERROR\r\n"
    );
    // Strings must be quoted.
    assert_eq!(
        x(&mut u, "AT+CWJAP=home,\"secret-password\"", "ERROR\r\n"),
        "ERR CODE:0x01050000\r\n\r\nERROR\r\n"
    );
    assert_eq!(x(&mut u, "AT+SYSLOG=0", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTSUB?", "OK\r\n"),
        "+MQTTSUB:0,0,\"\",0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCONN?", "OK\r\n"),
        "+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n\r\nOK\r\n"
    );
}

#[test]
fn wifi_sntp_and_restart() {
    let cfg = config(Dialect::EspAt).network("home", "secret-password");
    let (_sim, mut u) = Sim::pipe(cfg);
    assert_eq!(x(&mut u, "AT+CWJAP?", "OK\r\n"), "No AP\r\n\r\nOK\r\n");
    assert_eq!(
        x(
            &mut u,
            "AT+CWJAP=\"other\",\"secret-password\"",
            "ERROR\r\n"
        ),
        "+CWJAP:3\r\n\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+CWJAP=\"home\",\"wrong-password\"", "ERROR\r\n"),
        "+CWJAP:2\r\n\r\nERROR\r\n"
    );
    join_esp(&mut u);
    assert_eq!(
        x(&mut u, "AT+CWJAP?", "OK\r\n"),
        "+CWJAP:\"home\",\"de:ad:be:ef:00:01\",6,-45,0,1,3,0,1\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+CWMODE?", "OK\r\n"), "+CWMODE:1\r\n\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+CIPSNTPTIME?", "OK\r\n"),
        "+CIPSNTPTIME:Thu Jan 01 00:00:00 1970\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+CIPSNTPCFG=1,8,\"pool.ntp.org\"", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(read(&mut u, "+TIME_UPDATED\r\n"), "+TIME_UPDATED\r\n");
    let t = x(&mut u, "AT+CIPSNTPTIME?", "OK\r\n");
    assert!(
        t.starts_with("+CIPSNTPTIME:") && !t.contains("1970"),
        "{t:?}"
    );
    assert_eq!(
        x(&mut u, "AT+CIPSNTPCFG?", "OK\r\n"),
        "+CIPSNTPCFG:1,8,\"pool.ntp.org\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+CIPSNTPCFG=1,15", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+CWQAP", "DISCONNECT\r\n"),
        "\r\nOK\r\nWIFI DISCONNECT\r\n"
    );
    join_esp(&mut u);
    // Reboot: OK, the AP lost, boot noise, ready; echo back on; the stored AP rejoined.
    u.send(b"AT+RST\r\n").unwrap();
    let r = u.read_until(b"\r\nready\r\n", T);
    assert!(r.starts_with(b"\r\nOK\r\nWIFI DISCONNECT\r\n"), "{r:?}");
    assert!(r.ends_with(b"\r\nready\r\n"));
    assert_eq!(
        read(&mut u, "WIFI GOT IP\r\n"),
        "WIFI CONNECTED\r\nWIFI GOT IP\r\n"
    );
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "AT\r\n\r\nOK\r\n");
}

#[test]
fn busy_while_joining() {
    let (_sim, mut u) = Sim::pipe(config(Dialect::EspAt).join_ms(800));
    u.send(b"AT+CWJAP=\"home\",\"secret-password\"\r\n")
        .unwrap();
    assert_eq!(x(&mut u, "AT", "busy p...\r\n"), "\r\nbusy p...\r\n");
    assert_eq!(
        read(&mut u, "OK\r\n"),
        "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"
    );
}

#[test]
fn mqtt_round_trip_and_exact_shapes() {
    let (sim, mut u) = sim(Dialect::EspAt);
    let tc = TestClient::new("esp-test-client");
    tc.subscribe("sim/esp/out");
    join_esp(&mut u);
    esp_usercfg(&mut u, "esp-dev");
    assert_eq!(sim.snapshot().mqtt_state, 1);
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONNCFG=0,60,0,\"sim/esp/will\",\"gone\",1,0",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(sim.snapshot().mqtt_state, 2);
    esp_conn(&mut u);
    assert_eq!(sim.snapshot().mqtt_state, 4);
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=0,\"sim/esp/in\",1", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=0,\"sim/esp/in\",1", "OK\r\n"),
        "ALREADY SUBSCRIBE\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTSUB?", "OK\r\n"),
        "+MQTTSUB:0,6,\"sim/esp/in\",1\r\n\r\nOK\r\n"
    );
    // Module → broker, with escapes resolved.
    assert_eq!(
        x(
            &mut u,
            r#"AT+MQTTPUB=0,"sim/esp/out","a\,b\"c\\d",1,0"#,
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(tc.expect("sim/esp/out"), br#"a,b"c\d"#);
    // An unescaped comma breaks the parameter: ERROR.
    assert_eq!(
        x(
            &mut u,
            r#"AT+MQTTPUB=0,"sim/esp/out","a,b",1,0"#,
            "ERROR\r\n"
        ),
        "\r\nERROR\r\n"
    );
    // Empty payloads are refused.
    assert_eq!(
        x(&mut u, r#"AT+MQTTPUB=0,"sim/esp/out","",1,0"#, "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(
            &mut u,
            r#"AT+MQTTPUBRAW=0,"sim/esp/out",0,1,0"#,
            "ERROR\r\n"
        ),
        "\r\nERROR\r\n"
    );
    // PUBRAW: OK, blank line, prompt without line end; then +MQTTPUB:OK with no blank line.
    assert_eq!(
        x(&mut u, r#"AT+MQTTPUBRAW=0,"sim/esp/out",7,0,0"#, ">"),
        "\r\nOK\r\n\r\n>"
    );
    u.send(b"r\r\naw\x00!").unwrap();
    assert_eq!(read(&mut u, "+MQTTPUB:OK\r\n"), "+MQTTPUB:OK\r\n");
    assert_eq!(tc.expect("sim/esp/out"), b"r\r\naw\x00!");
    // Broker → module.
    tc.publish("sim/esp/in", b"hello, \"world\"");
    assert_eq!(
        read(&mut u, "\r\n"),
        "+MQTTSUBRECV:0,\"sim/esp/in\",14,hello, \"world\"\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTUNSUB=0,\"sim/esp/nothing\"", "OK\r\n"),
        "NO UNSUBSCRIBE\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTUNSUB=0,\"sim/esp/in\"", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(sim.snapshot().mqtt_state, 5);
    let port = broker_addr().port();
    assert_eq!(
        x(&mut u, "AT+MQTTCONN?", "OK\r\n"),
        format!("+MQTTCONN:0,5,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n\r\nOK\r\n")
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCONN=0,\"127.0.0.1\",1883,1", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCLEAN=0", "DISCONNECTED:0\r\n"),
        "\r\nOK\r\n+MQTTDISCONNECTED:0\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTCLEAN=0", "ERROR\r\n"), "\r\nERROR\r\n");
}

#[test]
fn long_message_split_esp_at() {
    let (_sim, mut u) = sim(Dialect::EspAt);
    let tc = TestClient::new("esp-split-client");
    join_esp(&mut u);
    esp_mqtt_up(&mut u, "esp-split");
    let topic = "sensors/cam/raw"; // 15 bytes
    assert_eq!(
        x(&mut u, &format!("AT+MQTTSUB=0,\"{topic}\",0"), "OK\r\n"),
        "\r\nOK\r\n"
    );
    let msg: Vec<u8> = (0..2500u32).map(|i| b'a' + (i % 26) as u8).collect();
    tc.client
        .publish(topic, rumqttc::QoS::AtMostOnce, false, msg.clone())
        .unwrap();
    let mut joined = Vec::new();
    let mut sizes = Vec::new();
    let head = format!("+MQTTSUBRECV:0,\"{topic}\",");
    for _ in 0..3 {
        assert_eq!(read(&mut u, &head), head);
        let len = read(&mut u, ",");
        let n: usize = len.trim_end_matches(',').parse().unwrap();
        let mut buf = vec![0u8; n + 2];
        let mut at = 0;
        while at < buf.len() {
            let k = u.recv_timeout(&mut buf[at..], T).unwrap();
            assert!(k > 0);
            at += k;
        }
        assert_eq!(&buf[n..], b"\r\n");
        joined.extend_from_slice(&buf[..n]);
        sizes.push(n);
    }
    // The firmware's split: 1024-byte buffers, the first one holding the PUBLISH header.
    assert_eq!(sizes, [1004, 1024, 472]);
    assert_eq!(joined, msg);
}

#[test]
fn long_message_line_limit_mode() {
    let cfg = config(Dialect::EspAt).split(SplitMode::LineLimit);
    let (_sim, mut u) = Sim::pipe(cfg);
    let tc = TestClient::new("esp-split-client-2");
    join_esp(&mut u);
    esp_mqtt_up(&mut u, "esp-split-2");
    let topic = "sensors/cam/ra2";
    assert_eq!(
        x(&mut u, &format!("AT+MQTTSUB=0,\"{topic}\",0"), "OK\r\n"),
        "\r\nOK\r\n"
    );
    let msg = vec![b'z'; 2500];
    tc.client
        .publish(topic, rumqttc::QoS::AtMostOnce, false, msg.clone())
        .unwrap();
    let all = u.read_quiet(Duration::from_millis(300), T);
    let mut total = 0;
    let mut lines = 0;
    let mut rest = &all[..];
    while !rest.is_empty() {
        let text = String::from_utf8_lossy(&rest[..40.min(rest.len())]).into_owned();
        let head = format!("+MQTTSUBRECV:0,\"{topic}\",");
        assert!(text.starts_with(&head), "{text:?}");
        let after = &rest[head.len()..];
        let comma = after.iter().position(|&b| b == b',').unwrap();
        let n: usize = std::str::from_utf8(&after[..comma])
            .unwrap()
            .parse()
            .unwrap();
        let line_len = head.len() + comma + 1 + n;
        assert!(line_len <= 1024, "line of {line_len} bytes");
        assert_eq!(&rest[line_len..line_len + 2], b"\r\n");
        total += n;
        lines += 1;
        rest = &rest[line_len + 2..];
    }
    assert_eq!((total, lines), (2500, 3));
}

#[test]
fn broker_drop_and_return_with_will() {
    let cfg = config(Dialect::EspAt).reconnect_ms(100);
    let (sim, mut u) = Sim::pipe(cfg);
    let tc = TestClient::new("esp-will-watcher");
    tc.subscribe("sim/drop/will");
    join_esp(&mut u);
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTUSERCFG=0,1,\"esp-drop\",\"user\",\"pass\",0,0,\"\"",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONNCFG=0,30,0,\"sim/drop/will\",\"lost\",0,0",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    let port = broker_addr().port();
    assert_eq!(
        x(
            &mut u,
            &format!("AT+MQTTCONN=0,\"localhost\",{port},1"),
            "OK\r\n"
        ),
        format!("+MQTTCONNECTED:0,1,\"localhost\",\"{port}\",\"\",1\r\n\r\nOK\r\n")
    );
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=0,\"sim/drop/in\",0", "OK\r\n"),
        "\r\nOK\r\n"
    );
    sim.broker_drop();
    assert_eq!(read(&mut u, "\r\n"), "+MQTTDISCONNECTED:0\r\n");
    assert_eq!(tc.expect("sim/drop/will"), b"lost");
    assert_eq!(
        x(&mut u, "AT+MQTTPUB=0,\"t\",\"x\",0,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(sim.snapshot().mqtt_state, 3);
    sim.broker_return();
    assert_eq!(
        read(&mut u, "\r\n"),
        format!("+MQTTCONNECTED:0,1,\"localhost\",\"{port}\",\"\",1\r\n")
    );
    // The module subscribed its topics again (its SUBSCRIBE may still be on its way).
    let want = b"+MQTTSUBRECV:0,\"sim/drop/in\",4,back\r\n";
    let mut got = Vec::new();
    for _ in 0..20 {
        tc.publish("sim/drop/in", b"back");
        got = u.read_until(want, Duration::from_millis(250));
        if got.ends_with(want) {
            break;
        }
    }
    assert!(got.ends_with(want), "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn no_broker_outside_loopback() {
    // Without a configured broker only loopback hosts are reached.
    let (_sim, mut u) = Sim::pipe(SimConfig::new(Dialect::EspAt).echo(false));
    join_esp(&mut u);
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTUSERCFG=0,1,\"x\",\"\",\"\",0,0,\"\"",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+SYSLOG=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONN=0,\"broker.example\",1883,0",
            "ERROR\r\n"
        ),
        "ERR CODE:0x010a600b\r\n\r\nERROR\r\n"
    );
}
