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
