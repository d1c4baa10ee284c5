//! Combo-AT MQTT commands (`command::combo_mqtt`): the exact bytes of every command and
//! form, limits refused with typed errors before anything is written, every documented
//! reply parsed, the events typed — through the mock UART at every chunk size.

use at_wifi::command::combo_mqtt::*;
use at_wifi::command::mqtt::QoS;
use at_wifi::command::socket::CertKind;
use at_wifi::command::NoResponse;
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Error, Event, Urc};
use atat::serde_at::serde::Serialize;
use atat::AtatCmd;
use core::fmt::Debug;

const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];
const AI: Dialect = Dialect::AiThinker;
const OTHERS: [Dialect; 3] = [Dialect::EspAt, Dialect::W800, Dialect::Beken];

type TestClient = Client<MockUart, MockClock, 1100, 1100>;

fn client(uart: MockUart) -> TestClient {
    let clock = uart.clock();
    Client::new(uart, clock, AI)
}

/// Sends `cmd` once per chunk size; the client must write exactly `line`; `reply` is
/// answered. Returns the (identical) parsed responses and the last reply bytes.
#[track_caller]
fn exchange<C>(cmd: &C, line: &[u8], reply: &[u8]) -> (C::Response, Vec<u8>)
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    let mut first: Option<(C::Response, Vec<u8>)> = None;
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, reply);
        let mut c = client(uart);
        let r = c
            .send(cmd)
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e:?}"));
        let last = c.last_reply().to_vec();
        c.release().0.assert_done();
        match &first {
            Some(f) => assert_eq!((&f.0, &f.1), (&r, &last), "chunk {chunk}"),
            None => first = Some((r, last)),
        }
    }
    first.expect("a chunk size")
}

/// `cmd` answered `OK`: writes exactly `line`.
#[track_caller]
fn ok<C>(cmd: &C, line: &[u8])
where
    C: AtatCmd<Response = NoResponse> + Serialize,
{
    assert_eq!(exchange(cmd, line, b"\r\nOK\r\n").0, NoResponse);
}

/// Like [`exchange`], through the prompt: `line`, `\r\n>`, then `data`, `OK`.
#[track_caller]
fn exchange_data<C>(cmd: &C, line: &[u8], data: &[u8])
where
    C: AtatCmd + Serialize,
    C::Response: PartialEq + Debug,
{
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, b"\r\n>");
        uart.expect(data, b"\r\nOK\r\n");
        let mut c = client(uart);
        c.send_with_data(cmd, data)
            .unwrap_or_else(|e| panic!("chunk {chunk}: {e:?}"));
        c.release().0.assert_done();
    }
}

/// The module refuses: `ERROR` is [`Error::Module`], for every chunk size.
#[track_caller]
fn refused<C>(cmd: &C, line: &[u8])
where
    C: AtatCmd + Serialize,
    C::Response: Debug,
{
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(line, b"\r\nERROR\r\n");
        let mut c = client(uart);
        let r = c.send(cmd);
        assert!(
            matches!(r, Err(Error::Module { .. })),
            "chunk {chunk}: {r:?}"
        );
        c.release().0.assert_done();
    }
}

#[track_caller]
fn invalid<T: Debug>(r: Result<T, Error>, field: &str) {
    match r {
        Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected Invalid {{ field: {field:?} }}, got {other:?}"),
    }
}

#[track_caller]
fn unsupported<T: Debug>(r: Result<T, Error>) {
    match r {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

const Q0: QoS = QoS::AtMostOnce;
const Q1: QoS = QoS::AtLeastOnce;
const Q2: QoS = QoS::ExactlyOnce;

// ---------------------------------------------------------------------------------------
// AT+MQTT=<key>,<value>
// ---------------------------------------------------------------------------------------

#[test]
fn config_keys_exact_bytes() {
    ok(
        &SetHost::new(AI, "192.168.202.10").unwrap(),
        b"AT+MQTT=1,192.168.202.10\r\n",
    );
    ok(
        &SetHost::new(AI, "broker.emqx.io").unwrap(),
        b"AT+MQTT=1,broker.emqx.io\r\n",
    );
    ok(&SetPort::new(AI, 1883).unwrap(), b"AT+MQTT=2,1883\r\n");
    ok(&SetPort::new(AI, 65535).unwrap(), b"AT+MQTT=2,65535\r\n");
    ok(
        &SetScheme::new(AI, Scheme::Tcp).unwrap(),
        b"AT+MQTT=3,1\r\n",
    );
    ok(
        &SetScheme::new(AI, Scheme::Ssl).unwrap(),
        b"AT+MQTT=3,2\r\n",
    );
    ok(
        &SetClientId::new(AI, "client_id").unwrap(),
        b"AT+MQTT=4,client_id\r\n",
    );
    // Quoted only when it must be.
    ok(
        &SetClientId::new(AI, "dev 1,\"a\"\\").unwrap(),
        b"AT+MQTT=4,\"dev 1,\\\"a\\\"\\\\\"\r\n",
    );
    ok(
        &SetUsername::new(AI, "admin").unwrap(),
        b"AT+MQTT=5,admin\r\n",
    );
    ok(&SetUsername::new(AI, "").unwrap(), b"AT+MQTT=5,\"\"\r\n");
    ok(
        &SetPassword::new(AI, "public").unwrap(),
        b"AT+MQTT=6,public\r\n",
    );
    ok(
        &SetPassword::new(AI, "p,w d").unwrap(),
        b"AT+MQTT=6,\"p,w d\"\r\n",
    );
    // The guide's will example, and its "cancel the will" form.
    ok(
        &SetWill::new(AI, "LWTTOPIC", b"123456", Q0, true).unwrap(),
        b"AT+MQTT=7,\"LWTTOPIC\",0,1,\"123456\"\r\n",
    );
    ok(
        &SetWill::new(AI, "dev/status", b"bye, \"x\"", Q2, false).unwrap(),
        b"AT+MQTT=7,\"dev/status\",2,0,\"bye, \\\"x\\\"\"\r\n",
    );
    ok(&SetWill::clear(AI).unwrap(), b"AT+MQTT=7,\"\",0,0,\"\"\r\n");
}

#[test]
fn config_limits_refused_before_writing() {
    invalid(SetHost::new(AI, ""), "host");
    invalid(SetHost::new(AI, "a,b"), "host");
    invalid(SetHost::new(AI, "has space"), "host");
    invalid(SetHost::new(AI, &"h".repeat(254)), "host");
    assert!(SetHost::new(AI, &"h".repeat(253)).is_ok());
    invalid(SetPort::new(AI, 0), "port");
    invalid(SetClientId::new(AI, ""), "client_id");
    invalid(SetClientId::new(AI, "a\r\nAT+RST"), "client_id");
    invalid(SetClientId::new(AI, &"c".repeat(257)), "client_id");
    // The guide's 63-byte limits.
    assert!(SetUsername::new(AI, &"u".repeat(USERNAME_MAX_LEN)).is_ok());
    invalid(SetUsername::new(AI, &"u".repeat(64)), "username");
    assert!(SetPassword::new(AI, &"p".repeat(PASSWORD_MAX_LEN)).is_ok());
    invalid(SetPassword::new(AI, &"p".repeat(64)), "password");
    invalid(SetPassword::new(AI, "a\nb"), "password");
    invalid(SetWill::new(AI, "", b"x", Q0, false), "topic");
    invalid(SetWill::new(AI, "a/+/b", b"x", Q0, false), "topic");
    invalid(SetWill::new(AI, "a/#", b"x", Q0, false), "topic");
    invalid(SetWill::new(AI, "t", b"a\0b", Q0, false), "payload");
    invalid(SetWill::new(AI, "t", &[b'x'; 257], Q0, false), "payload");
    // The client refuses a line beyond 256 bytes before writing (nothing expected).
    let mut c = client(MockUart::new());
    let long = "c".repeat(250);
    let cmd = SetClientId::new(AI, &long).unwrap();
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    c.release().0.assert_done();
}

#[test]
fn other_dialects_are_refused() {
    for d in OTHERS {
        unsupported(SetHost::new(d, "h"));
        unsupported(SetPort::new(d, 1));
        unsupported(SetScheme::new(d, Scheme::Tcp));
        unsupported(SetClientId::new(d, "c"));
        unsupported(SetUsername::new(d, "u"));
        unsupported(SetPassword::new(d, "p"));
        unsupported(SetWill::new(d, "t", b"m", Q0, false));
        unsupported(SetWill::clear(d));
        unsupported(Connect::new(d));
        unsupported(GetConfig::new(d));
        unsupported(Publish::new(d, "t", b"m", Q0, false));
        unsupported(PublishRaw::new(d, "t", 1, Q0, false));
        unsupported(Subscribe::new(d, "t", Q0));
        unsupported(GetSubscriptions::new(d));
        unsupported(Unsubscribe::new(d, "t"));
        unsupported(Disconnect::new(d));
        unsupported(SetVersion::new(d, MqttVersion::V3_1_1));
        unsupported(GetVersion::new(d));
        unsupported(SetKeepAlive::new(d, 60, 10));
        unsupported(GetKeepAlive::new(d));
        unsupported(SetBuffers::new(d, 1, 1));
        unsupported(GetBuffers::new(d));
        unsupported(SetCert::new(d, CertKind::Ca, 1));
        unsupported(SetCert::clear(d, CertKind::Ca));
        unsupported(GetCert::new(d, CertKind::Ca));
    }
}

// ---------------------------------------------------------------------------------------
// AT+MQTT, AT+MQTT?
// ---------------------------------------------------------------------------------------

#[test]
fn connect_then_event() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+MQTT\r\n", b"\r\nOK\r\n+EVENT:MQTT_CONNECT\r\n");
        let mut c = client(uart);
        assert_eq!(c.send(&Connect::new(AI).unwrap()), Ok(NoResponse));
        let e = c.wait_event(100).unwrap();
        let Some(Event::Urc(u)) = e else {
            panic!("chunk {chunk}: {e:?}")
        };
        assert_eq!(MqttEvent::from_urc(&u), Some(MqttEvent::Connected));
        c.release().0.assert_done();
    }
    // Refused (no host configured, older firmware…): a module error.
    refused(&Connect::new(AI).unwrap(), b"AT+MQTT\r\n");
}

#[test]
fn config_query_long_and_short_forms() {
    // The guide's 11-field example.
    let (cfg, _) = exchange(
        &GetConfig::new(AI).unwrap(),
        b"AT+MQTT?\r\n",
        b"+MQTT:0,192.168.202.10,1883,1,client_id,admin,public,LWTTOPIC,0,1,123456\r\n\r\nOK\r\n",
    );
    assert_eq!(cfg.status, MqttStatus::Idle);
    assert_eq!(&cfg.host[..], b"192.168.202.10");
    assert_eq!(cfg.port, 1883);
    assert_eq!(cfg.scheme, Some(Scheme::Tcp));
    assert_eq!(&cfg.client_id[..], b"client_id");
    assert_eq!(&cfg.username[..], b"admin");
    assert!(cfg.has_password);
    assert_eq!(&cfg.will_topic[..], b"LWTTOPIC");
    assert_eq!(cfg.will_qos, Q0);
    assert!(cfg.will_retain);
    assert_eq!(cfg.will_payload_len, 6);
    assert!(!cfg.cut);
    // The guide's 7-field example; connected.
    let (cfg, _) = exchange(
        &GetConfig::new(AI).unwrap(),
        b"AT+MQTT?\r\n",
        b"+MQTT:3,192.168.202.10,1883,1,client_id,admin,public\r\nOK\r\n",
    );
    assert_eq!(cfg.status, MqttStatus::Connected);
    assert!(cfg.will_topic.is_empty());
    // Nothing set yet (what the simulator prints), a will payload with commas, a long
    // client id (cut, and said so).
    let reply = format!(
        "+MQTT:1,,0,1,{},,,t,2,0,a,b,c\r\nOK\r\n",
        "i".repeat(CONFIG_FIELD_KEEP + 5)
    );
    let (cfg, _) = exchange(
        &GetConfig::new(AI).unwrap(),
        b"AT+MQTT?\r\n",
        reply.as_bytes(),
    );
    assert_eq!(cfg.status, MqttStatus::Connecting);
    assert!(cfg.host.is_empty());
    assert_eq!(cfg.port, 0);
    assert_eq!(cfg.client_id.len(), CONFIG_FIELD_KEEP);
    assert!(cfg.cut);
    assert!(!cfg.has_password);
    assert_eq!(cfg.will_qos, Q2);
    assert_eq!(cfg.will_payload_len, 5);
    // Malformed replies are parse errors.
    for bad in [
        &b"+MQTT:9,h,1,1,c,u,p\r\nOK\r\n"[..],
        b"+MQTT:0,h,1,1,c,u\r\nOK\r\n",
        b"+MQTT:0,h,x,1,c,u,p\r\nOK\r\n",
        b"+MQTT:0,h,1,x,c,u,p\r\nOK\r\n",
        // A comma in the user name or the password shifts the will's fields: refused,
        // never read as a will topic that is a piece of the password.
        b"+MQTT:3,h,1883,1,c,us,er,S3cret,wt,0,0,msg\r\nOK\r\n",
        b"+MQTT:0,h,1883,1,c,u,pa,ss,wt,0,0,msg\r\nOK\r\n",
        // Will QoS or retain out of range.
        b"+MQTT:0,h,1883,1,c,u,p,wt,3,0,msg\r\nOK\r\n",
        b"+MQTT:0,h,1883,1,c,u,p,wt,0,2,msg\r\nOK\r\n",
        b"OK\r\n",
    ] {
        let mut uart = MockUart::new();
        uart.expect(b"AT+MQTT?\r\n", bad);
        let mut c = client(uart);
        assert_eq!(c.send(&GetConfig::new(AI).unwrap()), Err(Error::Parse));
    }
}

#[test]
fn config_query_never_keeps_the_password() {
    let (cfg, _) = exchange(
        &GetConfig::new(AI).unwrap(),
        b"AT+MQTT?\r\n",
        b"+MQTT:3,h,1883,1,c,u,S3cretPw\r\nOK\r\n",
    );
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("S3cretPw"), "{dbg}");
    assert!(cfg.has_password);
}

// ---------------------------------------------------------------------------------------
// AT+MQTTPUB, AT+MQTTPUBRAW
// ---------------------------------------------------------------------------------------

#[test]
fn publish_exact_bytes() {
    ok(
        &Publish::new(AI, "testtopic", b"456", Q1, false).unwrap(),
        b"AT+MQTTPUB=testtopic,1,0,456\r\n",
    );
    ok(
        &Publish::new(AI, "testtopic1", b"HelloWorld", Q0, true).unwrap(),
        b"AT+MQTTPUB=testtopic1,0,1,HelloWorld\r\n",
    );
    ok(
        &Publish::new(AI, "a b", br#"{"t":21,"h":40}"#, Q2, false).unwrap(),
        &[
            &br#"AT+MQTTPUB="a b",2,0,"{\"t\":21,\"h\":40}""#[..],
            b"\r\n",
        ]
        .concat(),
    );
}

#[test]
fn publish_limits() {
    invalid(Publish::new(AI, "", b"x", Q0, false), "topic");
    invalid(Publish::new(AI, "a/+", b"x", Q0, false), "topic");
    invalid(Publish::new(AI, "#", b"x", Q0, false), "topic");
    invalid(Publish::new(AI, "t\r\n", b"x", Q0, false), "topic");
    invalid(Publish::new(AI, "t", b"", Q0, false), "payload");
    invalid(Publish::new(AI, "t", b"a\nb", Q0, false), "payload");
    invalid(
        Publish::new(AI, "t", &[b'x'; PUB_PAYLOAD_MAX_LEN + 1], Q0, false),
        "payload",
    );
    // Within the guide's 1024 bytes but beyond the 256-byte line: refused by the client,
    // nothing written.
    let cmd = Publish::new(AI, "t", &[b'x'; 250], Q0, false).unwrap();
    let mut c = client(MockUart::new());
    assert!(matches!(c.send(&cmd), Err(Error::CommandTooLong { .. })));
    c.release().0.assert_done();
    // The module refuses (not connected): a module error.
    refused(
        &Publish::new(AI, "t", b"x", Q0, false).unwrap(),
        b"AT+MQTTPUB=t,0,0,x\r\n",
    );
}

#[test]
fn publish_raw_through_the_prompt() {
    let data: Vec<u8> = (0..=255u8).collect();
    let cmd = PublishRaw::new(AI, "testtopic", data.len(), Q1, false).unwrap();
    assert_eq!(cmd.length(), 256);
    exchange_data(&cmd, b"AT+MQTTPUBRAW=testtopic,1,0,256\r\n", &data);
    // The guide's example: ten bytes.
    let cmd = PublishRaw::new(AI, "testtopic", 10, Q1, true).unwrap();
    exchange_data(&cmd, b"AT+MQTTPUBRAW=testtopic,1,1,10\r\n", b"0123456789");
    // `publish_raw` announces exactly the data's length.
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(b"AT+MQTTPUBRAW=t/raw,2,0,3\r\n", b"\r\n>");
        uart.expect(b"\x00\r\n", b"\r\nOK\r\n");
        let mut c = client(uart);
        publish_raw(&mut c, "t/raw", b"\x00\r\n", Q2, false).unwrap();
        c.release().0.assert_done();
    }
    // Its limits are checked before anything is written.
    let mut c = client(MockUart::new());
    invalid(publish_raw(&mut c, "t", b"", Q0, false), "length");
    invalid(publish_raw(&mut c, "t/#", b"x", Q0, false), "topic");
    c.release().0.assert_done();
}

#[test]
fn publish_raw_limits() {
    invalid(PublishRaw::new(AI, "t", 0, Q0, false), "length");
    invalid(PublishRaw::new(AI, "", 1, Q0, false), "topic");
    invalid(PublishRaw::new(AI, "a/#", 1, Q0, false), "topic");
    assert!(PublishRaw::new(AI, &"t".repeat(PUBRAW_TOPIC_MAX_LEN), 1, Q0, false).is_ok());
    invalid(PublishRaw::new(AI, &"t".repeat(257), 1, Q0, false), "topic");
    invalid(PublishRaw::new(AI, "t", usize::MAX, Q0, false), "length");
}

// ---------------------------------------------------------------------------------------
// AT+MQTTSUB, AT+MQTTSUB?, AT+MQTTUNSUB, AT+MQTTDISCONN
// ---------------------------------------------------------------------------------------

#[test]
fn subscribe_unsubscribe_disconnect_exact_bytes() {
    ok(
        &Subscribe::new(AI, "testtopic0", Q0).unwrap(),
        b"AT+MQTTSUB=testtopic0,0\r\n",
    );
    ok(
        &Subscribe::new(AI, "home/+/temp", Q2).unwrap(),
        b"AT+MQTTSUB=home/+/temp,2\r\n",
    );
    ok(
        &Subscribe::new(AI, "a,b", Q1).unwrap(),
        b"AT+MQTTSUB=\"a,b\",1\r\n",
    );
    ok(
        &Unsubscribe::new(AI, "testtopic0").unwrap(),
        b"AT+MQTTUNSUB=testtopic0\r\n",
    );
    ok(&Disconnect::new(AI).unwrap(), b"AT+MQTTDISCONN\r\n");
    invalid(Subscribe::new(AI, "", Q0), "topic");
    invalid(Subscribe::new(AI, "a\0", Q0), "topic");
    invalid(Unsubscribe::new(AI, ""), "topic");
    // A fifth topic: the module answers ERROR.
    refused(&Subscribe::new(AI, "e", Q0).unwrap(), b"AT+MQTTSUB=e,0\r\n");
}

#[test]
fn subscription_query() {
    let (subs, reply) = exchange(
        &GetSubscriptions::new(AI).unwrap(),
        b"AT+MQTTSUB?\r\n",
        b"3,testtopic0\r\n3,testtopic1\r\n2,a/b,c\r\n0,\"q\"\r\nOK\r\n",
    );
    assert_eq!(subs.count, 4);
    let rows: Vec<(SubStatus, Vec<u8>)> = subs
        .rows(&reply)
        .map(|r| (r.status, r.topic.to_vec()))
        .collect();
    assert_eq!(
        rows,
        [
            (SubStatus::Subscribed, b"testtopic0".to_vec()),
            (SubStatus::Subscribed, b"testtopic1".to_vec()),
            (SubStatus::Resubscribing, b"a/b,c".to_vec()),
            (SubStatus::Idle, b"q".to_vec()),
        ]
    );
    // No subscription: no rows.
    let (subs, reply) = exchange(
        &GetSubscriptions::new(AI).unwrap(),
        b"AT+MQTTSUB?\r\n",
        b"\r\nOK\r\n",
    );
    assert_eq!(subs.count, 0);
    assert_eq!(subs.rows(&reply).count(), 0);
    // A row that is none.
    let mut uart = MockUart::new();
    uart.expect(b"AT+MQTTSUB?\r\n", b"7,x\r\nOK\r\n");
    let mut c = client(uart);
    assert_eq!(
        c.send(&GetSubscriptions::new(AI).unwrap()),
        Err(Error::Parse)
    );
}

// ---------------------------------------------------------------------------------------
// AT+MQTTVER, AT+MQTTKEEPALIVE, AT+MQTTBUF, AT+MQTTCRET
// ---------------------------------------------------------------------------------------

#[test]
fn version_keepalive_buffers() {
    ok(
        &SetVersion::new(AI, MqttVersion::V3_1_1).unwrap(),
        b"AT+MQTTVER=4\r\n",
    );
    ok(
        &SetVersion::new(AI, MqttVersion::V3_1).unwrap(),
        b"AT+MQTTVER=3\r\n",
    );
    let (v, _) = exchange(
        &GetVersion::new(AI).unwrap(),
        b"AT+MQTTVER?\r\n",
        b"+MQTTVER:3\r\nOK\r\n",
    );
    assert_eq!(v, MqttVersion::V3_1);

    ok(
        &SetKeepAlive::new(AI, 120, 5).unwrap(),
        b"AT+MQTTKEEPALIVE=120,5\r\n",
    );
    invalid(SetKeepAlive::new(AI, 0, 5), "mqtt_s");
    invalid(SetKeepAlive::new(AI, 60, 0), "tcp_s");
    let (k, _) = exchange(
        &GetKeepAlive::new(AI).unwrap(),
        b"AT+MQTTKEEPALIVE?\r\n",
        b"+MQTTKEEPALIVE:60,10\r\nOK\r\n",
    );
    assert_eq!(
        k,
        KeepAlive {
            mqtt_s: 60,
            tcp_s: Some(10)
        }
    );
    let (k, _) = exchange(
        &GetKeepAlive::new(AI).unwrap(),
        b"AT+MQTTKEEPALIVE?\r\n",
        b"+MQTTKEEPALIVE:120\r\nOK\r\n",
    );
    assert_eq!(
        k,
        KeepAlive {
            mqtt_s: 120,
            tcp_s: None
        }
    );
    // Older firmware has no such command.
    refused(&GetKeepAlive::new(AI).unwrap(), b"AT+MQTTKEEPALIVE?\r\n");

    ok(
        &SetBuffers::new(AI, 4096, 1024).unwrap(),
        b"AT+MQTTBUF=4096,1024\r\n",
    );
    invalid(SetBuffers::new(AI, 0, 1), "send");
    invalid(SetBuffers::new(AI, 1, 0), "receive");
    let (b, _) = exchange(
        &GetBuffers::new(AI).unwrap(),
        b"AT+MQTTBUF?\r\n",
        b"+MQTTBUF:2048,2048\r\nOK\r\n",
    );
    assert_eq!(
        b,
        Buffers {
            send: 2048,
            receive: 2048
        }
    );
    for (cmd_reply, what) in [
        (&b"+MQTTVER:5\r\nOK\r\n"[..], "version"),
        (b"+MQTTKEEPALIVE:x\r\nOK\r\n", "keepalive"),
        (b"+MQTTBUF:1\r\nOK\r\n", "buffers"),
    ] {
        let mut uart = MockUart::new();
        let r = match what {
            "version" => {
                uart.expect(b"AT+MQTTVER?\r\n", cmd_reply);
                let mut c = client(uart);
                c.send(&GetVersion::new(AI).unwrap()).map(|_| ())
            }
            "keepalive" => {
                uart.expect(b"AT+MQTTKEEPALIVE?\r\n", cmd_reply);
                let mut c = client(uart);
                c.send(&GetKeepAlive::new(AI).unwrap()).map(|_| ())
            }
            _ => {
                uart.expect(b"AT+MQTTBUF?\r\n", cmd_reply);
                let mut c = client(uart);
                c.send(&GetBuffers::new(AI).unwrap()).map(|_| ())
            }
        };
        assert_eq!(r, Err(Error::Parse), "{what}");
    }
}

#[test]
fn certificates() {
    let pem = b"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----";
    let cmd = SetCert::new(AI, CertKind::Ca, pem.len()).unwrap();
    exchange_data(
        &cmd,
        format!("AT+MQTTCRET=1,{}\r\n", pem.len()).as_bytes(),
        pem,
    );
    invalid(SetCert::new(AI, CertKind::ClientKey, 0), "length");
    ok(
        &SetCert::clear(AI, CertKind::ClientKey).unwrap(),
        b"AT+MQTTCRET=3,0\r\n",
    );
    let (info, reply) = exchange(
        &GetCert::new(AI, CertKind::Ca).unwrap(),
        b"AT+MQTTCRET=1\r\n",
        b"+MQTTCRET:1,5,ca-pe\r\nOK\r\n",
    );
    assert_eq!((info.kind, info.len), (CertKind::Ca, 5));
    assert_eq!(info.content(&reply), b"ca-pe");
    // A certificate stored with LF-only line breaks comes back whole, with CR LF breaks
    // (the module's length counts LF only): its END line is not cut.
    let (info, reply) = exchange(
        &GetCert::new(AI, CertKind::Ca).unwrap(),
        b"AT+MQTTCRET=1\r\n",
        b"+MQTTCRET:1,46,-----BEGIN CERTIFICATE-----\nMIIB\n-----END-----\r\nOK\r\n",
    );
    assert_eq!(info.len, 46);
    assert_eq!(
        info.content(&reply),
        b"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END-----"
    );
    let (info, reply) = exchange(
        &GetCert::new(AI, CertKind::ClientCert).unwrap(),
        b"AT+MQTTCRET=2\r\n",
        b"+MQTTCRET:2,0,\r\nOK\r\n",
    );
    assert_eq!((info.kind, info.len), (CertKind::ClientCert, 0));
    assert_eq!(info.content(&reply), b"");
    // The key's Debug shows kind and length only.
    let key = b"-----BEGIN PRIVATE KEY-----S3cret";
    let dbg = format!(
        "{:?}",
        SetCert::new(AI, CertKind::ClientKey, key.len()).unwrap()
    );
    assert!(!dbg.contains("S3cret"));
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

#[test]
fn events_typed() {
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT\r\n",
            b"\r\nOK\r\n+EVENT:MQTT_CONNECT\r\n+EVENT:MQTT_SUB,testtopic,5,a,b\r\n\r\n+EVENT:MQTT_SUB,t/x,4,\r\nOK\r\n+EVENT:MQTT_MALLOC_ERROR\r\n+EVENT:MQTT_DISCONNECT\r\n+EVENT:WIFI_GOT_IP\r\n",
        );
        let mut c = client(uart);
        c.send(&at_wifi::command::basic::At).unwrap();
        let mut got = Vec::new();
        while let Some(e) = c.poll().unwrap() {
            let Event::Urc(u) = e else {
                panic!("chunk {chunk}: {e:?}")
            };
            got.push(match MqttEvent::from_urc(&u) {
                Some(MqttEvent::Message(m)) => {
                    assert_eq!(m.link, None);
                    assert!(!m.truncated);
                    format!(
                        "msg {} {:?}",
                        String::from_utf8_lossy(m.topic),
                        String::from_utf8_lossy(m.data)
                    )
                }
                Some(e) => format!("{e:?}"),
                None => {
                    assert!(matches!(u, Urc::WifiGotIp), "chunk {chunk}: {u:?}");
                    "other".into()
                }
            });
        }
        assert_eq!(
            got,
            [
                "Connected",
                "msg testtopic \"a,b\\r\\n\"",
                "msg t/x \"\\r\\nOK\"",
                "MallocError",
                "Disconnected",
                "other"
            ],
            "chunk {chunk}"
        );
        c.release().0.assert_done();
    }
    // A topic with a comma: the client cannot frame it by length (it takes the second
    // field for the length), so the message comes as a line; it is recovered from it.
    for chunk in CHUNKS {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.expect(
            b"AT\r\n",
            b"\r\nOK\r\n+EVENT:MQTT_SUB,a,b,3,x,y\r\n+EVENT:MQTT_SUB,a,b,2,3,xyz\r\n",
        );
        let mut c = client(uart);
        c.send(&at_wifi::command::basic::At).unwrap();
        let mut got = Vec::new();
        while let Some(Event::Urc(u)) = c.poll().unwrap() {
            match MqttEvent::from_urc(&u) {
                Some(MqttEvent::Message(m)) => got.push((m.topic.to_vec(), m.data.to_vec())),
                other => panic!("chunk {chunk}: {u:?} -> {other:?}"),
            }
        }
        assert_eq!(
            got,
            [
                (b"a,b".to_vec(), b"x,y".to_vec()),
                (b"a,b,2".to_vec(), b"xyz".to_vec())
            ],
            "chunk {chunk}"
        );
        c.release().0.assert_done();
    }
    assert_eq!(MqttEvent::parse_line(b"+EVENT:MQTT_SUB,a,9,x"), None);
    assert_eq!(MqttEvent::parse_line(b"+EVENT:MQTT_SUB,,1,x"), None);
    // Lines and URCs that are none.
    assert_eq!(MqttEvent::parse_line(b"+EVENT:SocketDown,1,2"), None);
    assert_eq!(MqttEvent::parse_line(b"+EVENT:MQTT_CONNECTED"), None);
    assert_eq!(
        MqttEvent::from_urc(&Urc::MqttDisconnected { link: 0 }),
        None
    );
}
