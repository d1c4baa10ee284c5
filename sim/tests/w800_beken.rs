//! W800 and Beken: their own words, limits and reply shapes.

mod common;

use at_wifi_sim::{Dialect, Sim};
use common::*;

#[test]
fn w800_words_limits_and_queries() {
    let (sim, mut u) = sim(Dialect::W800);
    let tc = TestClient::new("w800-test-client");
    // No AT+SYSLOG on W800; its own error words.
    assert_eq!(x(&mut u, "AT+SYSLOG=1", "ERROR\r\n"), "\r\nERROR\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTUSERCFG=0,1,\"w800\"", "ERR\r\n"),
        "\r\nCMD FORMAT ERR\r\n"
    );
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTUSERCFG=0,x,\"w800\",\"\",\"\",0,0,\"\"",
            "ERR\r\n"
        ),
        "\r\nCMD PARSE ERR\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTUSERCFG?", "ERROR\r\n"), "\r\nERROR\r\n");
    join_esp(&mut u);
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTUSERCFG=0,1,\"w800\",\"WinnerMicro\",\"1234567890\",0,0,\"\"",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTUSERCFG?", "OK\r\n"),
        "+MQTTUSERCFG:0,1,\"w800\",\"WinnerMicro\",\"1234567890\",0,0,\"\"\r\n\r\nOK\r\n"
    );
    assert_eq!(x(&mut u, "AT+MQTTLONGPASSWORD=0,4", ">"), "\r\nOK\r\n\r\n>");
    u.send(b"pass").unwrap();
    assert_eq!(read(&mut u, "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONNCFG=0,120,0,\"w/will\",\"bye\",0,0",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCONNCFG?", "OK\r\n"),
        "+MQTTCONNCFG:0,120,0,\"w/will\",\"bye\",0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTALPN=0,2,\"a\",\"b\"", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTALPN?", "OK\r\n"),
        "+MQTTALPN:0,\"a\"\r\n+MQTTALPN:0,\"b\"\r\n\r\nOK\r\n"
    );
    // No SNI on W800.
    assert_eq!(
        x(&mut u, "AT+MQTTSNI=0,\"x\"", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    esp_conn(&mut u);
    for i in 0..10 {
        assert_eq!(
            x(&mut u, &format!("AT+MQTTSUB=0,\"w/{i}\",0"), "OK\r\n"),
            "\r\nOK\r\n"
        );
    }
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=0,\"w/3\",0", "OK\r\n"),
        "ALREADY SUBSCRIBE\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTSUB=0,\"w/10\",0", "OK\r\n"),
        "ALREADY FULL SUBSCRIBE\r\n\r\nOK\r\n"
    );
    assert_eq!(sim.snapshot().subscriptions.len(), 10);
    assert_eq!(
        x(&mut u, "AT+MQTTUNSUB=0,\"w/10\"", "OK\r\n"),
        "NO UNSUBSCRIBE\r\n\r\nOK\r\n"
    );
    tc.publish("w/7", b"seven");
    assert_eq!(
        read(&mut u, "seven\r\n"),
        "+MQTTSUBRECV:0,\"w/7\",5,seven\r\n"
    );
    // Topic over 128 bytes.
    let long = "t".repeat(129);
    assert_eq!(
        x(
            &mut u,
            &format!("AT+MQTTPUB=0,\"{long}\",\"x\",0,0"),
            "ERROR\r\n"
        ),
        "\r\nERROR\r\n"
    );
    // Busy words of W800.
    sim.busy_storm(1);
    assert_eq!(x(&mut u, "AT", "busy ...\r\n"), "\r\nbusy ...\r\n");
    assert_eq!(x(&mut u, "AT", "OK\r\n"), "\r\nOK\r\n");
}

#[test]
fn beken_unquoted_and_async_results() {
    let (_sim, mut u) = sim(Dialect::Beken);
    let tc = TestClient::new("beken-test-client");
    tc.subscribe("bk/out");
    assert_eq!(x(&mut u, "AT+CWMODE=1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+CWJAP=home,secret-password", "OK\r\n"),
        "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"
    );
    // Scheme 3 does not exist on Beken; the path may be left out.
    assert_eq!(
        x(&mut u, "AT+MQTTUSERCFG=0,3,bk,u,p,0,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTUSERCFG=0,1,bk,u,p,0,0", "OK\r\n"),
        "\r\nOK\r\n"
    );
    // An empty will vanishes in Beken's tokenizer: the parameter count is wrong.
    assert_eq!(
        x(&mut u, "AT+MQTTCONNCFG=0,60,0,,,0,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    let msg65 = "m".repeat(65);
    assert_eq!(
        x(
            &mut u,
            &format!("AT+MQTTCONNCFG=0,60,0,bk/will,{msg65},0,0"),
            "ERROR\r\n"
        ),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONNCFG=0,60,0,bk/will,\"good bye\",0,0",
            "OK\r\n"
        ),
        "\r\nOK\r\n"
    );
    let port = broker_addr().port();
    // OK at once, the outcome later.
    assert_eq!(
        x(
            &mut u,
            &format!("AT+MQTTCONN=0,127.0.0.1,{port},1"),
            "+MQTTCONN:OK\r\n"
        ),
        "\r\nOK\r\n+MQTTCONN:OK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCONN?", "OK\r\n"),
        format!("+MQTTCONN:0,connected,1,\"127.0.0.1\",{port},1\r\n\r\nOK\r\n")
    );
    assert_eq!(x(&mut u, "AT+MQTTSUB=0,bk/in,1", "OK\r\n"), "\r\nOK\r\n");
    assert_eq!(
        x(&mut u, "AT+MQTTSUB?", "OK\r\n"),
        "+MQTTSUB:0,connected,bk/in,\"1\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTPUB=0,bk/out,987654321,1,0", "OK\r\n"),
        "\r\nOK\r\n"
    );
    assert_eq!(tc.expect("bk/out"), b"987654321");
    // Spaces end an unquoted parameter: too many parameters.
    assert_eq!(
        x(&mut u, "AT+MQTTPUB=0,bk/out,a b,1,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTPUBRAW=0,bk/out,513,0,0", "ERROR\r\n"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTPUBRAW=0,bk/out,8,1,0", ">"),
        "\r\nOK\r\n>"
    );
    u.send(b"good bye").unwrap();
    assert_eq!(read(&mut u, "+MQTTPUBRAW:OK\r\n"), "\r\n+MQTTPUBRAW:OK\r\n");
    assert_eq!(tc.expect("bk/out"), b"good bye");
    tc.publish("bk/in", b"x,y");
    assert_eq!(
        read(&mut u, "x,y\r\n"),
        "+MQTTSUBRECV:0,\"bk/in\",3,x,y\r\n"
    );
    assert_eq!(
        x(&mut u, "AT+MQTTCLEAN=0", "DISCONNECTED:0\r\n"),
        "\r\nOK\r\n+MQTTDISCONNECTED:0\r\n"
    );
    // SNTP and SYSLOG are not Beken commands.
    assert_eq!(x(&mut u, "AT+CIPSNTPTIME?", "ERROR\r\n"), "\r\nERROR\r\n");
}

#[test]
fn beken_connect_failure_is_a_late_result() {
    let (_sim, mut u) = Sim::pipe(at_wifi_sim::SimConfig::new(Dialect::Beken).echo(false));
    assert_eq!(
        x(&mut u, "AT+MQTTUSERCFG=0,1,bk,u,p,0,0", "OK\r\n"),
        "\r\nOK\r\n"
    );
    // No Wi-Fi: OK, then the failure.
    assert_eq!(
        x(
            &mut u,
            "AT+MQTTCONN=0,127.0.0.1,1,0",
            "\r\n+MQTTCONN:ERROR,-1\r\n"
        ),
        "\r\nOK\r\n+MQTTCONN:ERROR,-1\r\n"
    );
}
