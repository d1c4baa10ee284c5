use at_wifi::command::basic::At;
use at_wifi::mock::MockUart;
use at_wifi::{Client, Dialect, Event, Urc};

#[test]
fn smoke() {
    for chunk in [1, 2, 3, 7, 64, usize::MAX] {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.push_rx(b"WIFI GOT IP\r\n");
        uart.expect(
            b"AT\r\n",
            b"AT\r\n+MQTTDISCONNECTED:0\r\n\r\nOK\r\n+MQTTSUBRECV:0,\"t\",5,a\r\nOK",
        );
        let clock = uart.clock();
        let mut c: Client<_, _> = Client::new(uart, clock, Dialect::EspAt);
        c.send(&At).unwrap();
        assert_eq!(c.poll().unwrap(), Some(Event::Urc(Urc::WifiGotIp)));
        assert_eq!(
            c.poll().unwrap(),
            Some(Event::Urc(Urc::MqttDisconnected { link: 0 }))
        );
        match c.wait_event(100).unwrap() {
            Some(Event::Urc(Urc::MqttMessage(m))) => assert_eq!(m.data, b"a\r\nOK"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.poll().unwrap(), None);
        c.release().0.assert_done();
    }
}

/// Beken answers `AT+MQTTPUB` with its own result line and no `OK`.
#[test]
fn beken_publish_result_line_is_final() {
    for chunk in [1, 2, 3, 7, 64, usize::MAX] {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+MQTTPUB=0,t,hi,0,0\r\n", b"\r\n+MQTTPUB:OK\r\n");
        uart.expect(
            b"AT+MQTTPUB=0,t,ho,0,0\r\n",
            b"\r\n+MQTTPUB:ERROR,3\r\n+MQTTCONN:ERROR,1\r\n",
        );
        let clock = uart.clock();
        let mut c: Client<_, _> = Client::new(uart, clock, Dialect::Beken);
        assert!(c.send_line(b"AT+MQTTPUB=0,t,hi,0,0", 500).is_ok());
        assert_eq!(
            c.send_line(b"AT+MQTTPUB=0,t,ho,0,0", 500),
            Err(at_wifi::Error::Module {
                word: at_wifi::FailWord::SendFail,
                code: None
            })
        );
        assert_eq!(
            c.poll().unwrap(),
            Some(Event::Urc(Urc::MqttConnResult(
                at_wifi::command::mqtt::AsyncResult::Error { code: Some(1) }
            )))
        );
        c.release().0.assert_done();
    }
}

/// Every Combo-AT `+EVENT:` line is unsolicited, typed or not: it never joins a reply.
#[test]
fn untyped_event_lines_are_known_urcs() {
    for line in [
        &b"+EVENT:MQTT_SUB,a,b/c,3,abc"[..],
        b"+EVENT:SocketSeed,1,2",
    ] {
        assert!(Urc::is_known_line(line));
        assert_eq!(Urc::parse_line(line), Urc::Line(line));
    }
    assert!(Urc::is_known_line(b"+EVENT:WIFI_GOT_IP"));
    assert!(!Urc::is_known_line(b"+EVENTS:x"));
}
