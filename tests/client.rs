//! Client tests through the scripted [`MockUart`]: every framing and routing behaviour of
//! real modules listed in `real-module-behaviour.md` (echo, URCs inside replies, prompts,
//! results, busy, resets, late replies, overflow, timeouts), each run with the module's
//! output read in chunks of 1, 2, 3, 7 and 64 bytes and all at once.

use at_wifi::command::basic::{At, EchoOff, EchoOn};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::{Client, Dialect, Error, Event, FailWord, Urc};
use atat::atat_derive::{AtatCmd, AtatResp};
use atat::heapless::{String, Vec as HVec};
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Read sizes every test runs with; `usize::MAX` hands out all that is readable (the client
/// reads at most its own chunk of 64 bytes at a time).
const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];

/// Runs `test` once per read chunk size, saying which one failed.
fn each_chunk(test: impl Fn(usize)) {
    for chunk in CHUNKS {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| test(chunk))) {
            eprintln!("--> failed with the module's output read in chunks of {chunk} bytes");
            resume_unwind(e);
        }
    }
}

type Cl = Client<MockUart, MockClock>;

/// A client with explicit buffer sizes over a mock scripted by `script`.
fn mk<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    chunk: usize,
    dialect: Dialect,
    script: impl FnOnce(&mut MockUart),
) -> (Client<MockUart, MockClock, RX, RESP, TX, EV>, MockClock) {
    let mut uart = MockUart::new();
    uart.set_chunk(chunk);
    script(&mut uart);
    let clock = uart.clock();
    (Client::new(uart, clock.clone(), dialect), clock)
}

/// A default-sized client.
fn client(chunk: usize, dialect: Dialect, script: impl FnOnce(&mut MockUart)) -> (Cl, MockClock) {
    mk::<1100, 512, 296, 2048>(chunk, dialect, script)
}

fn esp(chunk: usize, script: impl FnOnce(&mut MockUart)) -> (Cl, MockClock) {
    client(chunk, Dialect::EspAt, script)
}

/// Releases the client: every expectation met, nothing unexpected written, everything read
/// and no event left unchecked.
fn finish<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    mut c: Client<MockUart, MockClock, RX, RESP, TX, EV>,
) -> MockUart {
    assert_eq!(events(&mut c), [], "events left unchecked");
    let (uart, _) = c.release();
    uart.assert_done();
    assert_eq!(uart.unread(), 0, "module output left unread");
    uart
}

/// Owned bytes that print as an escaped string.
#[derive(Clone, PartialEq, Eq)]
struct B(Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

fn b(s: impl AsRef<[u8]>) -> B {
    B(s.as_ref().to_vec())
}

/// An owned, comparable [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum E {
    WifiConnected,
    WifiGotIp,
    WifiDisconnected,
    MqttConnected {
        link: u8,
        host: B,
        port: u16,
    },
    MqttDisconnected(u8),
    Msg {
        link: Option<u8>,
        topic: B,
        data: B,
        len: usize,
        truncated: bool,
    },
    Published(bool),
    SockConnected(u8),
    SockClosed(u8),
    SockData {
        link: Option<u8>,
        data: B,
        len: usize,
        truncated: bool,
    },
    SockAvail {
        link: u8,
        len: usize,
    },
    Data {
        header: B,
        data: B,
        len: usize,
        truncated: bool,
    },
    Line(B),
    Reset,
    Overflow(u32),
    Oversized {
        start: B,
        len: usize,
    },
}

fn own(ev: Event<'_>) -> E {
    match ev {
        Event::Urc(u) => match u {
            Urc::WifiConnected => E::WifiConnected,
            Urc::WifiGotIp => E::WifiGotIp,
            Urc::WifiDisconnected => E::WifiDisconnected,
            Urc::MqttConnected(i) => E::MqttConnected {
                link: i.link,
                host: b(i.host),
                port: i.port,
            },
            Urc::MqttDisconnected { link } => E::MqttDisconnected(link),
            Urc::MqttMessage(m) => E::Msg {
                link: m.link,
                topic: b(m.topic),
                data: b(m.data),
                len: m.len,
                truncated: m.truncated,
            },
            Urc::MqttPublished { ok } => E::Published(ok),
            Urc::SocketConnected { link } => E::SockConnected(link),
            Urc::SocketClosed { link } => E::SockClosed(link),
            Urc::SocketData(d) => E::SockData {
                link: d.link,
                data: b(d.data),
                len: d.len,
                truncated: d.truncated,
            },
            Urc::SocketDataAvailable { link, len } => E::SockAvail { link, len },
            Urc::Data(d) => E::Data {
                header: b(d.header),
                data: b(d.data),
                len: d.len,
                truncated: d.truncated,
            },
            Urc::Line(l) => E::Line(b(l)),
            other => panic!("unknown URC {other:?}"),
        },
        Event::Reset => E::Reset,
        Event::Overflow { dropped } => E::Overflow(dropped),
        Event::Oversized { start, len } => E::Oversized {
            start: b(start),
            len,
        },
        other => panic!("unknown event {other:?}"),
    }
}

/// Polls every event there is.
fn events<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
) -> Vec<E> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        match c.poll().expect("poll") {
            Some(ev) => out.push(own(ev)),
            None => return out,
        }
    }
    panic!("poll never ran dry");
}

/// An incoming MQTT message on link 0, whole.
fn msg(topic: &str, data: &[u8]) -> E {
    E::Msg {
        link: Some(0),
        topic: b(topic),
        data: b(data),
        len: data.len(),
        truncated: false,
    }
}

fn sock(link: u8, data: &[u8]) -> E {
    E::SockData {
        link: Some(link),
        data: b(data),
        len: data.len(),
        truncated: false,
    }
}

/// Concatenates byte strings.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------------------
// Test-local commands (atat 0.25 derives)
// ---------------------------------------------------------------------------

/// Commands that answer only `OK`.
#[derive(Clone, Debug, PartialEq, Eq, AtatResp)]
struct Empty;

/// The reply lines as they are (custom parse).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Raw(Vec<u8>);
impl atat::AtatResp for Raw {}

fn raw(resp: &[u8]) -> Result<Raw, atat::Error> {
    Ok(Raw(resp.to_vec()))
}

#[derive(Clone, Debug, PartialEq, Eq, AtatResp)]
struct CwjapR {
    ssid: String<32>,
    bssid: String<20>,
    channel: u8,
    rssi: i8,
}

/// `AT+CWJAP?`
#[derive(Clone, AtatCmd)]
#[at_cmd("+CWJAP?", CwjapR, termination = "\r\n", timeout_ms = 1000)]
struct CwjapQ;

/// `AT+CWJAP="<ssid>","<pw>"`
#[derive(Clone, AtatCmd)]
#[at_cmd("+CWJAP", Empty, termination = "\r\n", timeout_ms = 15000)]
struct Cwjap {
    #[at_arg(position = 0)]
    ssid: String<256>,
    #[at_arg(position = 1)]
    pw: String<256>,
}

fn cwjap(ssid: &str, pw: &str) -> Cwjap {
    Cwjap {
        ssid: String::try_from(ssid).unwrap(),
        pw: String::try_from(pw).unwrap(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, AtatResp)]
struct SubLine {
    link: u8,
    state: u8,
    topic: String<64>,
    qos: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, AtatResp)]
struct Subs {
    subs: HVec<SubLine, 4>,
}

/// `AT+MQTTSUB?`
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTSUB?", Subs, termination = "\r\n", timeout_ms = 1000)]
struct SubQ;

fn sub_line(topic: &str, qos: u8) -> SubLine {
    SubLine {
        link: 0,
        state: 3,
        topic: String::try_from(topic).unwrap(),
        qos,
    }
}

/// `AT+MQTTSUB=<link>,"<topic>",<qos>`
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTSUB", Empty, termination = "\r\n", timeout_ms = 1000)]
struct MqttSub {
    #[at_arg(position = 0)]
    link: u8,
    #[at_arg(position = 1)]
    topic: String<64>,
    #[at_arg(position = 2)]
    qos: u8,
}

/// `AT+MQTTPUB=<link>,"<topic>","<data>",<qos>,<retain>`
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTPUB", Empty, termination = "\r\n", timeout_ms = 1000)]
struct MqttPub {
    #[at_arg(position = 0)]
    link: u8,
    #[at_arg(position = 1)]
    topic: String<64>,
    #[at_arg(position = 2)]
    data: String<64>,
    #[at_arg(position = 3)]
    qos: u8,
    #[at_arg(position = 4)]
    retain: u8,
}

/// `AT+MQTTPUBRAW=<link>,"<topic>",<length>,<qos>,<retain>`
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTPUBRAW", Empty, termination = "\r\n", timeout_ms = 2000)]
struct MqttPubRaw {
    #[at_arg(position = 0)]
    link: u8,
    #[at_arg(position = 1)]
    topic: String<64>,
    #[at_arg(position = 2)]
    length: u16,
    #[at_arg(position = 3)]
    qos: u8,
    #[at_arg(position = 4)]
    retain: u8,
}

fn pubraw(len: u16) -> MqttPubRaw {
    MqttPubRaw {
        link: 0,
        topic: String::try_from("t").unwrap(),
        length: len,
        qos: 1,
        retain: 0,
    }
}
const PUBRAW5: &[u8] = b"AT+MQTTPUBRAW=0,\"t\",5,1,0\r\n";

/// `AT+CIPSEND=<link>,<len>`; the reply holds `Recv <n> bytes`, kept raw.
#[derive(Clone, AtatCmd)]
#[at_cmd("+CIPSEND", Raw, parse = raw, termination = "\r\n", timeout_ms = 2000)]
struct CipSend {
    #[at_arg(position = 0)]
    link: u8,
    #[at_arg(position = 1)]
    len: u16,
}

/// Combo-AT `AT+SOCKETSEND=<id>,<len>`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+SOCKETSEND", Raw, parse = raw, termination = "\r\n", timeout_ms = 2000)]
struct SocketSend {
    #[at_arg(position = 0)]
    id: u8,
    #[at_arg(position = 1)]
    len: u16,
}

/// `AT+RST`
#[derive(Clone, AtatCmd)]
#[at_cmd("+RST", Empty, termination = "\r\n", timeout_ms = 1000)]
struct Rst;

const CWJAP_LINE: &[u8] = b"+CWJAP:\"home\",\"aa:bb:cc:dd:ee:ff\",6,-50";

fn cwjap_home() -> CwjapR {
    CwjapR {
        ssid: String::try_from("home").unwrap(),
        bssid: String::try_from("aa:bb:cc:dd:ee:ff").unwrap(),
        channel: 6,
        rssi: -50,
    }
}

// ---------------------------------------------------------------------------
// Echo
// ---------------------------------------------------------------------------

#[test]
fn echo_on_and_echo_off_give_the_same_typed_response() {
    let l = CWJAP_LINE;
    let variants: [(&str, Vec<u8>); 9] = [
        ("echo", cat(&[b"AT+CWJAP?\r\n", l, b"\r\n\r\nOK\r\n"])),
        (
            "echo with a stray CR",
            cat(&[b"AT+CWJAP?\r\r\n", l, b"\r\n\r\nOK\r\n"]),
        ),
        (
            "lower-case echo",
            cat(&[b"at+cwjap?\r\n", l, b"\r\n\r\nOK\r\n"]),
        ),
        ("echo off", cat(&[b"\r\n", l, b"\r\n\r\nOK\r\n"])),
        ("echo off, no leading CR LF", cat(&[l, b"\r\nOK\r\n"])),
        ("LF only", cat(&[l, b"\nOK\n"])),
        ("LF LF NUL", cat(&[b"\n", l, b"\n\n\0OK\n\n\0"])),
        (
            "blank, space-only lines and trailing spaces",
            cat(&[b"\r\n   \r\n", l, b"  \r\n \r\n\r\nOK   \r\n"]),
        ),
        ("echo, then all glued", cat(&[b"AT+CWJAP?\r", l, b"\rOK\r"])),
    ];
    each_chunk(|chunk| {
        for (name, reply) in &variants {
            let (mut c, _) = esp(chunk, |u| u.expect(b"AT+CWJAP?\r\n", reply));
            assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()), "{name}");
            assert_eq!(events(&mut c), [], "{name}");
            finish(c);
        }
    });
}

#[test]
fn switching_echo_on_and_off() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            // Echo was off: ATE1 itself is not echoed.
            u.expect(b"ATE1\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"AT\r\n\r\nOK\r\n");
            u.expect(b"ATE0\r\n", b"ATE0\r\n\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT+CWJAP?\r\n", &cat(&[CWJAP_LINE, b"\r\nOK\r\n"]));
        });
        assert_eq!(c.send(&EchoOn), Ok(at_wifi::command::NoResponse));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(c.send(&EchoOff), Ok(at_wifi::command::NoResponse));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()));
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn a_command_is_echoed_as_typed() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"at+cwjap?\r\n",
                &cat(&[b"at+cwjap?\r\n", CWJAP_LINE, b"\r\n\r\nOK\r\n"]),
            );
            // A mistyped command is echoed verbatim.
            u.expect(b"AT+CWJAPP?\r\n", b"AT+CWJAPP?\r\n\r\nERROR\r\n");
        });
        assert_eq!(c.send_line(b"at+cwjap?", 1000), Ok(CWJAP_LINE));
        assert_eq!(
            c.send_line(b"AT+CWJAPP?", 1000),
            Err(Error::Module {
                word: FailWord::Error,
                code: None
            })
        );
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn a_urc_spliced_into_the_echo_is_an_event_and_the_echo_is_not_the_reply() {
    // A real capture: `AT+CIPSEND=0,1,CONNECT\r\n98` — `1,CONNECT` spliced into the echo of
    // `AT+CIPSEND=0,198`; and the same with the whole rest of the echo on the next line, and
    // with a URC glued to the end of the echo.
    let data = [b'x'; 198];
    let cases: [(&[u8], Vec<E>); 3] = [
        (
            b"AT+CIPSEND=0,1,CONNECT\r\n98\r\n\r\nOK\r\n\r\n>",
            vec![E::SockConnected(1)],
        ),
        (
            b"AT+CIPSEND=0,1,CONNECT\r\n198\r\n\r\nOK\r\n\r\n>",
            vec![E::SockConnected(1)],
        ),
        (
            b"AT+CIPSEND=0,198WIFI GOT IP\r\n\r\nOK\r\n\r\n>",
            vec![E::WifiGotIp],
        ),
    ];
    each_chunk(|chunk| {
        for (reply, evs) in &cases {
            let (mut c, _) = esp(chunk, |u| {
                u.expect(b"AT+CIPSEND=0,198\r\n", reply);
                u.expect(&data, b"\r\nRecv 198 bytes\r\n\r\nSEND OK\r\n");
            });
            let r = c.send_with_data(&CipSend { link: 0, len: 198 }, &data);
            assert_eq!(
                r,
                Ok(Raw(b"Recv 198 bytes".to_vec())),
                "{}",
                reply.escape_ascii()
            );
            assert_eq!(&events(&mut c), evs);
            finish(c);
        }
    });
}

// ---------------------------------------------------------------------------
// URCs inside replies
// ---------------------------------------------------------------------------

#[test]
fn mqtt_disconnected_between_the_echo_and_the_error_of_mqttsub() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+MQTTSUB=0,\"t\",1\r\n",
                b"AT+MQTTSUB=0,\"t\",1\r\n+MQTTDISCONNECTED:0\r\nERROR\r\n",
            )
        });
        let cmd = MqttSub {
            link: 0,
            topic: String::try_from("t").unwrap(),
            qos: 1,
        };
        assert_eq!(
            c.send(&cmd),
            Err(Error::Module {
                word: FailWord::Error,
                code: None
            })
        );
        assert_eq!(events(&mut c), [E::MqttDisconnected(0)]);
        finish(c);
    });
}

#[test]
fn own_subscription_message_before_the_ok_of_mqttpub() {
    let cmd = MqttPub {
        link: 0,
        topic: String::try_from("t").unwrap(),
        data: String::try_from("hi").unwrap(),
        qos: 1,
        retain: 0,
    };
    let line: &[u8] = b"AT+MQTTPUB=0,\"t\",\"hi\",1,0\r\n";
    let cases: [(Vec<u8>, &[u8]); 3] = [
        (cat(&[line, b"+MQTTSUBRECV:0,\"t\",2,hi\r\nOK\r\n"]), b"hi"),
        (b"+MQTTSUBRECV:0,\"t\",2,hi\r\n\r\nOK\r\n".to_vec(), b"hi"),
        // A payload holding a line end, `OK` and `>` is read by length.
        (
            cat(&[line, b"+MQTTSUBRECV:0,\"t\",9,a\r\nOK\r\n>b\r\nOK\r\n"]),
            b"a\r\nOK\r\n>b",
        ),
    ];
    each_chunk(|chunk| {
        for (reply, data) in &cases {
            let (mut c, _) = esp(chunk, |u| u.expect(line, reply));
            assert_eq!(c.send(&cmd), Ok(Empty));
            assert_eq!(events(&mut c), [msg("t", data)]);
            finish(c);
        }
    });
}

#[test]
fn message_between_ok_and_prompt_of_mqttpubraw_and_data_only_after_the_prompt() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(PUBRAW5, b"OK\r\n+MQTTSUBRECV:0,\"t\",3,abc\r\n\r\n");
            // The prompt comes 30 ms later.
            u.schedule(30, b">");
            u.expect(b"hello", b"+MQTTPUB:OK\r\n");
        });
        assert_eq!(c.send_with_data(&pubraw(5), b"hello"), Ok(Empty));
        assert_eq!(events(&mut c), [msg("t", b"abc")]);
        let uart = finish(c);
        let writes = uart.writes();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[0], (0, PUBRAW5.to_vec()));
        assert_eq!(writes[1].1, b"hello");
        assert!(
            writes[1].0 >= 30,
            "data written before the prompt: {writes:?}"
        );
    });
}

#[test]
fn prompt_glued_to_the_publish_result() {
    // `>+MQTTPUB:OK` as the host sees it. Also all of it in one reply before the data is
    // written (a module — or a test — that answered early): the same outcome.
    // Also URCs right after the prompt, before the data was written.
    let cases: [(&[u8], &[u8], Vec<E>); 5] = [
        (b"OK\r\n\r\n>", b"+MQTTPUB:OK\r\n", vec![]),
        (b"OK\r\n\r\n>+MQTTPUB:OK\r\n", b"", vec![]),
        (
            b"\r\nOK\r\n\r\n> ",
            b"\r\nbusy p...\r\n+MQTTPUB:OK\r\n",
            vec![],
        ),
        (
            b"OK\r\n\r\n>+MQTTSUBRECV:0,\"t\",2,hi",
            b"\r\n+MQTTPUB:OK\r\n",
            vec![msg("t", b"hi")],
        ),
        (
            b"OK\r\n\r\n>WIFI GOT IP\r\n",
            b"+MQTTPUB:OK\r\n+MQTTDISCONNECTED:0\r\n",
            vec![E::WifiGotIp, E::MqttDisconnected(0)],
        ),
    ];
    each_chunk(|chunk| {
        for (reply, result, evs) in &cases {
            let (mut c, _) = esp(chunk, |u| {
                u.expect(PUBRAW5, reply);
                u.expect(b"hello", result);
            });
            let r = c.send_with_data(&pubraw(5), b"hello");
            assert_eq!(r, Ok(Empty), "{}", reply.escape_ascii());
            assert_eq!(&events(&mut c), evs, "{}", reply.escape_ascii());
            let uart = finish(c);
            assert_eq!(uart.written(), cat(&[PUBRAW5, b"hello"]));
        }
    });
}

#[test]
fn socket_data_between_the_prompt_and_send_ok() {
    let payload: &[u8] = b"GET /\r\nOK>";
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT+CIPSEND=0,5\r\n", b"\r\nOK\r\n\r\n>");
            u.expect(
                b"hello",
                &cat(&[
                    b"+IPD,0,10:",
                    payload,
                    // Passive receive mode announces data without it.
                    b"\r\n+IPD,1,300\r\n\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n",
                ]),
            );
        });
        assert_eq!(
            c.send_with_data(&CipSend { link: 0, len: 5 }, b"hello"),
            Ok(Raw(b"Recv 5 bytes".to_vec()))
        );
        assert_eq!(
            events(&mut c),
            [sock(0, payload), E::SockAvail { link: 1, len: 300 }]
        );
        finish(c);
    });
}

#[test]
fn a_prompt_inside_socket_data_is_not_the_prompt() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT+CIPSEND=0,5\r\n", b"\r\nOK\r\n+IPD,0,3:>\r\n");
            u.schedule(20, b"\r\n>");
            u.expect(b"hello", b"\r\nSEND OK\r\n");
        });
        assert_eq!(
            c.send_with_data(&CipSend { link: 0, len: 5 }, b"hello"),
            Ok(Raw(Vec::new()))
        );
        assert_eq!(events(&mut c), [sock(0, b">\r\n")]);
        let uart = finish(c);
        assert!(uart.writes()[1].0 >= 20, "{:?}", uart.writes());
    });
}

#[test]
fn wifi_urcs_inside_cwjap_replies() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+CWJAP=\"home\",\"secret\"\r\n",
                b"AT+CWJAP=\"home\",\"secret\"\r\nWIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n",
            );
            u.expect(
                b"AT+CWJAP=\"home\",\"wrong\"\r\n",
                b"WIFI DISCONNECT\r\n+CWJAP:1\r\n\r\nERROR\r\n",
            );
            u.expect(
                b"AT+CWJAP=\"home\",\"secret\"\r\n",
                &cat(&[
                    b"WIFI CONNECTED\r\n",
                    CWJAP_LINE,
                    b"\r\nWIFI GOT IP\r\n\r\nOK\r\n",
                ]),
            );
            u.expect(
                b"AT+CWJAP?\r\n",
                &cat(&[
                    b"AT+CWJAP?\r\nWIFI GOT IP\r\n",
                    CWJAP_LINE,
                    b"\r\nWIFI DISCONNECT\r\n\r\nOK\r\nWIFI CONNECTED\r\n",
                ]),
            );
        });
        assert_eq!(c.send(&cwjap("home", "secret")), Ok(Empty));
        assert_eq!(
            events(&mut c),
            [E::WifiDisconnected, E::WifiConnected, E::WifiGotIp]
        );
        assert_eq!(
            c.send(&cwjap("home", "wrong")),
            Err(Error::Module {
                word: FailWord::Error,
                code: None
            })
        );
        assert_eq!(events(&mut c), [E::WifiDisconnected]);
        // The `+CWJAP:` line is the response; the URCs around it are events.
        assert_eq!(
            c.send_line(b"AT+CWJAP=\"home\",\"secret\"", 15000),
            Ok(CWJAP_LINE)
        );
        assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()));
        assert_eq!(
            events(&mut c),
            [
                E::WifiConnected,
                E::WifiGotIp,
                E::WifiGotIp,
                E::WifiDisconnected,
                E::WifiConnected
            ]
        );
        finish(c);
    });
}

#[test]
fn a_urc_right_after_the_final_result() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT\r\n", b"\r\nOK\r\nWIFI GOT IP\r\n");
            u.expect(
                b"AT+MQTTCONN=0,\"host\",1883,1\r\n",
                b"OK\r\n+MQTTCONNECTED:0,1,\"host\",\"1883\",\"\",0\r\n",
            );
            // The next command's reply comes after 10 ms; a URC of the previous one at 5 ms.
            u.expect_delayed(b"AT\r\n", b"\r\nOK\r\n", 10);
            u.schedule(5, b"+MQTTDISCONNECTED:0\r\n");
        });
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(
            c.send_line(b"AT+MQTTCONN=0,\"host\",1883,1", 1000),
            Ok(&b""[..])
        );
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(
            events(&mut c),
            [
                E::WifiGotIp,
                E::MqttConnected {
                    link: 0,
                    host: b("host"),
                    port: 1883
                },
                E::MqttDisconnected(0)
            ]
        );
        finish(c);
    });
}

#[test]
fn urcs_before_between_and_after_the_lines_of_a_multi_line_response() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+MQTTSUB?\r\n",
                b"WIFI GOT IP\r\n+MQTTSUB:0,3,\"a/b\",1\r\n+MQTTDISCONNECTED:0\r\n\
                  +MQTTSUB:0,3,\"c\",0\r\n+MQTTSUBRECV:0,\"a/b\",4,x\r\ny\r\nOK\r\n0,CLOSED\r\n",
            );
            // An empty subscription list still answers one line.
            u.expect(b"AT+MQTTSUB?\r\n", b"+MQTTSUB:0,1,\"\",0\r\n\r\nOK\r\n");
        });
        let mut want = HVec::new();
        want.push(sub_line("a/b", 1)).unwrap();
        want.push(sub_line("c", 0)).unwrap();
        assert_eq!(c.send(&SubQ), Ok(Subs { subs: want }));
        assert_eq!(
            events(&mut c),
            [
                E::WifiGotIp,
                E::MqttDisconnected(0),
                msg("a/b", b"x\r\ny"),
                E::SockClosed(0)
            ]
        );
        let mut empty = HVec::new();
        empty
            .push(SubLine {
                link: 0,
                state: 1,
                topic: String::new(),
                qos: 0,
            })
            .unwrap();
        assert_eq!(c.send(&SubQ), Ok(Subs { subs: empty }));
        finish(c);
    });
}

#[test]
fn prefix_less_version_text_is_the_response() {
    let version: &[u8] = b"AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\n\
        SDK version:v4.2.2-76-gefa6eca\r\n\
        compile time(3a696ba):Jul  2 2021 11:54:43\r\n\
        Bin version:2.2.0(WROOM-32)";
    let cut = version.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+GMR\r\n",
                &cat(&[b"AT+GMR\r\n", version, b"\r\n\r\nOK\r\n"]),
            );
            u.expect(b"AT+GMR\r\n", &cat(&[version, b"\r\nOK\r\n"]));
            // A URC between the lines is an event.
            u.expect(
                b"AT+GMR\r\n",
                &cat(&[
                    b"AT+GMR\r\n",
                    &version[..cut],
                    b"WIFI GOT IP\r\n",
                    &version[cut..],
                    b"\r\n\r\nOK\r\n",
                ]),
            );
        });
        for _ in 0..3 {
            assert_eq!(c.send_line(b"AT+GMR", 1000), Ok(version));
        }
        assert_eq!(events(&mut c), [E::WifiGotIp]);
        finish(c);
    });
}

// ---------------------------------------------------------------------------
// Pending input and late replies
// ---------------------------------------------------------------------------

#[test]
fn pending_input_is_dispatched_before_every_command() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.push_rx(b"WIFI GOT IP\r\n+MQTTSUBRECV:0,\"t\",4,OK\r\n\r\n0,CLOSED\r\n\r\nOK\r\n");
            u.expect(b"AT+CWJAP?\r\n", &cat(&[CWJAP_LINE, b"\r\n\r\nOK\r\n"]));
        });
        // The pending `OK` is not the reply.
        assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()));
        assert_eq!(c.stats().stale_replies, 1);
        assert_eq!(
            events(&mut c),
            [E::WifiGotIp, msg("t", b"OK\r\n"), E::SockClosed(0)]
        );
        c.uart_mut().push_rx(b"+MQTTDISCONNECTED:0\r\n");
        c.uart_mut().expect(b"AT\r\n", b"\r\nOK\r\n");
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(events(&mut c), [E::MqttDisconnected(0)]);
        finish(c);
    });
}

const OLD_REPLY: &[u8] = b"+CWJAP:\"old\",\"11:22:33:44:55:66\",1,-90\r\n\r\nOK\r\n";

#[test]
fn a_late_reply_never_becomes_the_reply_of_the_next_command() {
    // (name, delay of the late reply, delay of the `AT`'s own `OK`, `AT` answer)
    let cases: [(&str, u64, u64, &[u8]); 4] = [
        ("late reply after the sync", 1005, 0, b"\r\nOK\r\n"),
        ("late reply during the sync", 1003, 6, b"\r\nOK\r\n"),
        ("module still busy", 1030, 0, b"\r\nbusy p...\r\n"),
        ("echo on", 1005, 0, b"AT\r\n\r\nOK\r\n"),
    ];
    each_chunk(|chunk| {
        for &(name, late, at_delay, at_answer) in &cases {
            let (mut c, clock) = esp(chunk, |u| {
                u.expect_delayed(b"AT+CWJAP?\r\n", OLD_REPLY, late);
                u.expect_delayed(b"AT\r\n", at_answer, at_delay);
                u.expect(b"AT+CWJAP?\r\n", &cat(&[CWJAP_LINE, b"\r\n\r\nOK\r\n"]));
            });
            assert_eq!(c.send(&CwjapQ), Err(Error::Timeout { ms: 1000 }), "{name}");
            assert_eq!(clock.now(), 1000, "{name}");
            let t = clock.now();
            assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()), "{name}");
            assert!(clock.now() - t <= 1000, "{name}: {}", clock.now() - t);
            assert_eq!(events(&mut c), [], "{name}");
            if at_answer.ends_with(b"OK\r\n") {
                // The late reply's lines or the `AT`'s own `OK` were discarded as stale.
                assert!(c.stats().stale_replies >= 1, "{name}");
            }
            let uart = finish(c);
            assert_eq!(
                uart.written(),
                b"AT+CWJAP?\r\nAT\r\nAT+CWJAP?\r\n",
                "{name}"
            );
        }
    });
}

#[test]
fn urcs_in_a_late_reply_and_during_the_sync_are_events() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect_delayed(
                b"AT+CWJAP?\r\n",
                &cat(&[
                    b"WIFI GOT IP\r\n",
                    OLD_REPLY,
                    b"+MQTTSUBRECV:0,\"t\",2,OK\r\n",
                ]),
                1004,
            );
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send(&CwjapQ), Err(Error::Timeout { ms: 1000 }));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(events(&mut c), [E::WifiGotIp, msg("t", b"OK")]);
        assert_eq!(finish(c).written(), b"AT+CWJAP?\r\nAT\r\nAT\r\n");
    });
}

#[test]
fn a_silent_module_is_resynchronised_within_each_call() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |u| {
            u.expect(b"AT+X\r\n", b"");
            u.expect(b"AT\r\n", b"");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT+Z\r\n", b"+Z:1\r\n\r\nOK\r\n");
        });
        assert_eq!(c.send_line(b"AT+X", 300), Err(Error::Timeout { ms: 300 }));
        assert_eq!(clock.now(), 300);
        // The resync `AT` is not answered either: the command is not written, and the call
        // still returns within its own timeout.
        assert_eq!(c.send_line(b"AT+Y", 200), Err(Error::Timeout { ms: 200 }));
        assert_eq!(clock.now(), 500);
        assert_eq!(c.send_line(b"AT+Z", 500), Ok(&b"+Z:1"[..]));
        assert!(clock.now() <= 1000);
        assert_eq!(c.stats().timeouts, 2);
        assert_eq!(finish(c).written(), b"AT+X\r\nAT\r\nAT\r\nAT+Z\r\n");
    });
}

// ---------------------------------------------------------------------------
// Final results
// ---------------------------------------------------------------------------

const CONN: &[u8] = b"AT+MQTTCONN=0,\"host\",1883,1";
const CONN_NL: &[u8] = b"AT+MQTTCONN=0,\"host\",1883,1\r\n";

#[test]
fn error_codes_attach_to_the_final_result() {
    let cases: [(&[u8], Result<(), Error>); 5] = [
        (
            b"ERR CODE:0x01090000\r\n\r\nERROR\r\n",
            Err(Error::Module {
                word: FailWord::Error,
                code: Some(0x0109_0000),
            }),
        ),
        (
            b"AT+MQTTCONN=0,\"host\",1883,1\r\nERR CODE:0x01090000\r\nERR CODE:0x010b0002\r\n\r\nERROR\r\n",
            Err(Error::Module {
                word: FailWord::Error,
                code: Some(0x010b_0002),
            }),
        ),
        (b"ERR CODE:0x01090000\r\n\r\nOK\r\n", Ok(())),
        (b"ERR CODE:0x01090000\r\n\r\nbusy p...\r\n\r\nOK\r\n", Ok(())),
        (
            b"\r\nERROR\r\n",
            Err(Error::Module {
                word: FailWord::Error,
                code: None,
            }),
        ),
    ];
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            for (reply, _) in &cases {
                u.expect(CONN_NL, reply);
            }
        });
        // The last case also shows that a code never carries over to the next command.
        for (reply, want) in &cases {
            let got = c.send_line(CONN, 1000).map(|_| ());
            assert_eq!(&got, want, "{}", reply.escape_ascii());
        }
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn w800_failure_words() {
    each_chunk(|chunk| {
        let (mut c, _) = client(chunk, Dialect::W800, |u| {
            u.expect(b"AT+MQTTCONN=0\r\n", b"AT+MQTTCONN=0\r\nCMD FORMAT ERR\r\n");
            u.expect(b"AT+MQTTCONN=0,x\r\n", b"\r\nCMD PARSE ERR\r\n");
            u.expect(
                b"AT+MQTTCONN=0,1\r\n",
                b"\r\nERR CODE:0x00000005\r\nERROR\r\n",
            );
        });
        assert_eq!(
            c.send_line(b"AT+MQTTCONN=0", 1000),
            Err(Error::Module {
                word: FailWord::CmdFormat,
                code: None
            })
        );
        assert_eq!(
            c.send_line(b"AT+MQTTCONN=0,x", 1000),
            Err(Error::Module {
                word: FailWord::CmdParse,
                code: None
            })
        );
        assert_eq!(
            c.send_line(b"AT+MQTTCONN=0,1", 1000),
            Err(Error::Module {
                word: FailWord::Error,
                code: Some(5)
            })
        );
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn busy_as_the_only_reply_is_busy_after_the_timeout() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |u| {
            u.expect(CONN_NL, b"\r\nbusy p...\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send_line(CONN, 700), Err(Error::Busy));
        assert_eq!(clock.now(), 700);
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(events(&mut c), []);
        assert_eq!(finish(c).written(), cat(&[CONN_NL, b"AT\r\nAT\r\n"]));
    });
}

#[test]
fn busy_then_ok_is_success() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(CONN_NL, b"\r\nbusy p...\r\n\r\nOK\r\n");
            // Right after an echo, and before the `OK` of `AT+RST`.
            u.expect(b"AT+RST\r\n", b"AT+RST\r\n\r\nbusy p...\r\n\r\nOK\r\n");
            u.expect(b"AT+MQTTCLEAN=0\r\n", b"busy s...\r\n\r\nOK\r\n");
        });
        assert_eq!(c.send_line(CONN, 1000), Ok(&b""[..]));
        assert_eq!(c.send(&Rst), Ok(Empty));
        assert_eq!(c.send_line(b"AT+MQTTCLEAN=0", 1000), Ok(&b""[..]));
        assert_eq!(c.stats().timeouts, 0);
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn ready_in_the_middle_of_a_command_is_a_reset() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+MQTTCONN?\r\n",
                b"AT+MQTTCONN?\r\n+MQTTCONN:0,4,1\r\n\
                  \x80\xe0\x1c\x8e\xfe\xff\x00\x13ets Jun  8 2016 00:22:57\r\n\
                  rst:0x1 (POWERON_RESET),boot:0x13\r\nWIFI DISCONNECT\r\n\r\nready\r\n",
            );
            // No resync is needed after a reset.
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send_line(b"AT+MQTTCONN?", 1000), Err(Error::Reset));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(
            events(&mut c),
            [E::WifiDisconnected, E::Reset],
            "boot noise inside the reply is the reply's"
        );
        assert_eq!(c.stats().resets, 1);
        assert_eq!(finish(c).written(), b"AT+MQTTCONN?\r\nAT\r\n");
    });
}

#[test]
fn boot_output_after_a_reset_ends_in_a_reset_event() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT+RST\r\n", b"AT+RST\r\n\r\nOK\r\n");
            // ROM text at another baud rate, banners, SDK log lines, `OK` and
            // `WIFI DISCONNECT` before `ready`.
            u.schedule(
                50,
                b"\x80\x00\xe0\x1c\x8e\xfe\xff\x13\x82\r\n\
                  ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n\
                  I (29) boot: ESP-IDF v4.2.2 2nd stage bootloader\r\nOK\r\n\
                  WIFI DISCONNECT\r\n\r\nready\r\n",
            );
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send(&Rst), Ok(Empty));
        let mut got = Vec::new();
        while let Some(ev) = c.wait_event(200).unwrap() {
            let ev = own(ev);
            let done = ev == E::Reset;
            got.push(ev);
            if done {
                break;
            }
        }
        assert_eq!(got.last(), Some(&E::Reset), "{got:?}");
        let known: Vec<_> = got.iter().filter(|e| !matches!(e, E::Line(_))).collect();
        assert_eq!(known, [&E::WifiDisconnected, &E::Reset]);
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        finish(c);
    });
}

#[test]
fn the_first_send_result_wins_and_the_second_is_not_the_next_reply() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT+CIPSEND=0,5\r\n", b"\r\nOK\r\n\r\n>");
            u.expect(b"hello", b"\r\nSEND FAIL\r\n");
            // The second result comes while the next command runs.
            u.schedule(5, b"\r\nSEND OK\r\n");
            u.expect_delayed(b"AT+CIPSTATUS\r\n", b"STATUS:3\r\n\r\nOK\r\n", 10);
            // Both results in one go.
            u.expect(b"AT+CIPSEND=0,5\r\n", b"\r\nOK\r\n\r\n>");
            u.expect(b"hello", b"\r\nSEND FAIL\r\n\r\nSEND OK\r\n");
            u.expect(b"AT+CIPSTATUS\r\n", b"STATUS:3\r\n\r\nOK\r\n");
        });
        let fail = Err(Error::Module {
            word: FailWord::SendFail,
            code: None,
        });
        for _ in 0..2 {
            assert_eq!(
                c.send_with_data(&CipSend { link: 0, len: 5 }, b"hello"),
                fail
            );
            assert_eq!(c.send_line(b"AT+CIPSTATUS", 1000), Ok(&b"STATUS:3"[..]));
        }
        assert_eq!(events(&mut c), []);
        assert_eq!(c.stats().stale_replies, 2);
        finish(c);
    });
}

#[test]
fn publish_failure_and_a_late_publish_result() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(PUBRAW5, b"OK\r\n\r\n>");
            u.expect(b"hello", b"+MQTTPUB:FAIL\r\n+MQTTPUB:OK\r\n");
        });
        assert_eq!(
            c.send_with_data(&pubraw(5), b"hello"),
            Err(Error::Module {
                word: FailWord::SendFail,
                code: None
            })
        );
        // `+MQTTPUB:OK` outside a publish is the documented URC.
        assert_eq!(events(&mut c), [E::Published(true)]);
        finish(c);
    });
}

#[test]
fn an_error_instead_of_the_prompt_writes_no_data() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |u| {
            // Empty payloads are refused.
            u.expect(b"AT+MQTTPUBRAW=0,\"t\",0,1,0\r\n", b"\r\nERROR\r\n");
            u.expect(PUBRAW5, b"");
        });
        assert_eq!(
            c.send_with_data(&pubraw(0), b""),
            Err(Error::Module {
                word: FailWord::Error,
                code: None
            })
        );
        c.config_mut().prompt_timeout_ms = 100;
        assert_eq!(c.send_with_data(&pubraw(5), b"hello"), Err(Error::NoPrompt));
        assert_eq!(clock.now(), 100);
        let uart = finish(c);
        assert_eq!(
            uart.written(),
            cat(&[b"AT+MQTTPUBRAW=0,\"t\",0,1,0\r\n", PUBRAW5])
        );
    });
}

// ---------------------------------------------------------------------------
// Refused lines
// ---------------------------------------------------------------------------

#[test]
fn a_command_too_long_writes_nothing() {
    each_chunk(|chunk| {
        // The dialect's line limit (256 with the line end).
        let (mut c, _) = esp(chunk, |_| {});
        let long = [b'A'; 300];
        assert_eq!(
            c.send_line(&long, 1000),
            Err(Error::CommandTooLong { len: 302, max: 256 })
        );
        let pw = "p".repeat(235);
        assert_eq!(
            c.send(&cwjap("0123456789", &pw)),
            Err(Error::CommandTooLong { len: 261, max: 256 })
        );
        // Fits exactly.
        c.uart_mut()
            .expect(&[&long[..254], b"\r\n"].concat(), b"\r\nOK\r\n");
        assert_eq!(c.send_line(&long[..254], 1000), Ok(&b""[..]));
        let uart = finish(c);
        assert_eq!(uart.writes().len(), 1);

        // The transmit buffer.
        let (mut c, _) = mk::<1100, 512, 32, 2048>(chunk, Dialect::EspAt, |_| {});
        assert_eq!(
            c.send_line(&long[..40], 1000),
            Err(Error::CommandTooLong { len: 42, max: 32 })
        );
        // The bound: `AT="home","secret"\r` (19) plus the headroom for the name (40).
        assert_eq!(
            c.send(&cwjap("home", "secret")),
            Err(Error::CommandTooLong { len: 59, max: 32 })
        );
        assert!(finish(c).written().is_empty());
    });
}

#[test]
fn send_encoded_refuses_a_length_past_the_transmit_buffer() {
    each_chunk(|chunk| {
        // An encoder claiming more bytes than the buffer it was given holds: a typed
        // error and nothing written, never a slice panic.
        let (mut c, _) = mk::<1100, 512, 32, 2048>(chunk, Dialect::EspAt, |_| {});
        let lying = |buf: &mut [u8]| Ok(buf.len() + 1);
        assert_eq!(
            c.send_encoded(&lying, None, 1000).map(<[u8]>::to_vec),
            Err(Error::CommandTooLong { len: 33, max: 32 })
        );
        // A line that fits goes out as written.
        c.uart_mut().expect(b"AT+X\r\n", b"\r\nOK\r\n");
        let fits = |buf: &mut [u8]| {
            buf[..6].copy_from_slice(b"AT+X\r\n");
            Ok(6)
        };
        assert_eq!(c.send_encoded(&fits, None, 1000), Ok(&b""[..]));
        assert_eq!(finish(c).written(), b"AT+X\r\n");
    });
}

#[test]
fn a_refused_line_after_a_timeout_writes_not_even_the_resync() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| u.expect(b"AT+X\r\n", b""));
        assert_eq!(c.send_line(b"AT+X", 100), Err(Error::Timeout { ms: 100 }));
        assert_eq!(
            c.send_line(&[b'A'; 300], 1000),
            Err(Error::CommandTooLong { len: 302, max: 256 })
        );
        assert!(matches!(
            c.send_line(b"AT+X\r\nAT+Y", 1000),
            Err(Error::Invalid { .. })
        ));
        let pw = "p".repeat(235);
        assert!(matches!(
            c.send(&cwjap("0123456789", &pw)),
            Err(Error::CommandTooLong { .. })
        ));
        assert_eq!(finish(c).written(), b"AT+X\r\n");
    });
}

#[test]
fn a_line_with_cr_or_lf_is_invalid() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |_| {});
        for line in [&b"AT+X\r"[..], b"AT\nAT", b"\r\n"] {
            assert_eq!(
                c.send_line(line, 1000),
                Err(Error::Invalid {
                    field: "line",
                    reason: "holds CR or LF"
                })
            );
        }
        assert!(finish(c).written().is_empty());
    });
}

// ---------------------------------------------------------------------------
// Overflow and truncation
// ---------------------------------------------------------------------------

fn closed_lines(links: std::ops::Range<u8>) -> Vec<u8> {
    links
        .flat_map(|i| format!("{i},CLOSED\r\n").into_bytes())
        .collect()
}

#[test]
fn event_queue_overflow_is_counted_exactly_and_the_rest_kept_in_order() {
    each_chunk(|chunk| {
        // 64 bytes hold four `n,CLOSED` entries (8 + 8 bytes each).
        let (mut c, _) = mk::<1100, 512, 296, 64>(chunk, Dialect::EspAt, |u| {
            u.push_rx(&closed_lines(0..10));
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            // A flood inside a reply.
            u.expect(
                b"AT\r\n",
                &cat(&[b"AT\r\n", &closed_lines(10..20), b"\r\nOK\r\n"]),
            );
        });
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        // Reported in order: the drops happened after the four that fit.
        let mut want: Vec<E> = (0..4).map(E::SockClosed).collect();
        want.push(E::Overflow(6));
        assert_eq!(events(&mut c), want);
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        // `nn,CLOSED` takes 17 bytes: three fit.
        let mut want: Vec<E> = (10..13).map(E::SockClosed).collect();
        want.push(E::Overflow(7));
        assert_eq!(events(&mut c), want);
        assert_eq!(c.stats().events_dropped, 13);
        // Nothing is reported twice; new events come normally.
        c.uart_mut().push_rx(b"WIFI GOT IP\r\n");
        assert_eq!(events(&mut c), [E::WifiGotIp]);
        finish(c);
    });
}

#[test]
fn overflow_while_events_are_read_one_by_one() {
    each_chunk(|chunk| {
        let (mut c, _) = mk::<1100, 512, 296, 64>(chunk, Dialect::EspAt, |u| {
            u.push_rx(&closed_lines(0..4));
        });
        // `poll` reads only until an event waits; the queue fills as more come.
        let mut got = Vec::new();
        got.push(own(c.poll().unwrap().unwrap()));
        c.uart_mut().push_rx(&closed_lines(4..9));
        while let Some(ev) = c.poll().unwrap() {
            got.push(own(ev));
        }
        let dropped: u32 = got
            .iter()
            .map(|e| match e {
                E::Overflow(n) => *n,
                _ => 0,
            })
            .sum();
        let delivered: Vec<u8> = got
            .iter()
            .filter_map(|e| match e {
                E::SockClosed(l) => Some(*l),
                _ => None,
            })
            .collect();
        assert_eq!(delivered.len() as u32 + dropped, 9, "{got:?}");
        assert!(delivered.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        finish(c);
    });
}

#[test]
fn a_message_larger_than_the_framer_buffer_arrives_truncated() {
    let mut payload = vec![b'x'; 200];
    payload[50..56].copy_from_slice(b"\r\nOK\r\n");
    payload[199] = b'>';
    let header: &[u8] = b"+MQTTSUBRECV:0,\"t\",200,";
    each_chunk(|chunk| {
        let (mut c, _) = mk::<64, 512, 296, 2048>(chunk, Dialect::EspAt, |u| {
            u.expect(b"AT\r\n", &cat(&[header, &payload, b"\r\nOK\r\n"]));
            u.expect(b"AT+CWJAP?\r\n", &cat(&[CWJAP_LINE, b"\r\n\r\nOK\r\n"]));
        });
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(
            events(&mut c),
            [E::Msg {
                link: Some(0),
                topic: b("t"),
                data: b(&payload[..64 - header.len()]),
                len: 200,
                truncated: true
            }]
        );
        assert_eq!(c.send(&CwjapQ), Ok(cwjap_home()));
        finish(c);
    });
}

#[test]
fn lines_larger_than_the_buffers() {
    let long = [b'L'; 100];
    each_chunk(|chunk| {
        // Framer buffer of 64: an oversized line is an event with its start and length; in
        // a reply it also makes the reply overflow.
        let (mut c, _) = mk::<64, 512, 296, 2048>(chunk, Dialect::EspAt, |u| {
            u.push_rx(&cat(&[&long, b"\r\n"]));
            u.expect(b"AT+X\r\n", &cat(&[&long, b"\r\nOK\r\n"]));
        });
        assert_eq!(
            events(&mut c),
            [E::Oversized {
                start: b(&long[..64]),
                len: 100
            }]
        );
        assert_eq!(
            c.send_line(b"AT+X", 1000),
            Err(Error::ResponseOverflow { capacity: 512 })
        );
        assert_eq!(events(&mut c).len(), 1);
        finish(c);

        // Response buffer of 32.
        let (mut c, _) = mk::<1100, 32, 296, 2048>(chunk, Dialect::EspAt, |u| {
            u.expect(
                b"AT+X\r\n",
                b"+X:0123456789abcdef\r\n+X:0123456789abcdef\r\nOK\r\n",
            );
            u.expect(b"AT+X\r\n", b"+X:0123456789\r\n+X:0123456789\r\nOK\r\n");
        });
        assert_eq!(
            c.send_line(b"AT+X", 1000),
            Err(Error::ResponseOverflow { capacity: 32 })
        );
        assert_eq!(
            c.send_line(b"AT+X", 1000),
            Ok(&b"+X:0123456789\r\n+X:0123456789"[..])
        );
        finish(c);

        // Event queue of 32: a longer line is kept as an oversized one, a longer message
        // truncated; never passed off as whole.
        let (mut c, _) = mk::<1100, 512, 296, 32>(chunk, Dialect::EspAt, |u| {
            u.push_rx(&cat(&[&long[..40], b"\r\n+MQTTSUBRECV:0,\"t\",30,"]));
            u.push_rx(&[b'm'; 30]);
        });
        let evs = events(&mut c);
        assert_eq!(
            evs[0],
            E::Oversized {
                start: b(&long[..24]),
                len: 40
            }
        );
        match &evs[1..] {
            [E::Msg {
                data,
                len: 30,
                truncated: true,
                ..
            }] => assert!(data.0.len() < 30 && data.0.iter().all(|&x| x == b'm')),
            other => panic!("{other:?}"),
        }
        finish(c);
    });
}

#[test]
fn a_message_split_over_several_urcs_arrives_whole_in_pieces() {
    let message: Vec<u8> = (0..2500u32)
        .map(|i| b"{\"k\":[1,2],\r\n}"[i as usize % 14])
        .collect();
    let pieces = [&message[..1004], &message[1004..2028], &message[2028..]];
    let mut stream = Vec::new();
    for p in pieces {
        stream.extend(format!("+MQTTSUBRECV:0,\"t\",{},", p.len()).bytes());
        stream.extend_from_slice(p);
        stream.extend_from_slice(b"\r\n");
    }
    each_chunk(|chunk| {
        // The three pieces arrive inside one reply: the queue must hold them all.
        let (mut c, _) = mk::<1100, 512, 296, 4096>(chunk, Dialect::EspAt, |u| {
            u.expect(b"AT\r\n", &cat(&[&stream, b"\r\nOK\r\n"]));
        });
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        let want: Vec<E> = pieces.iter().map(|p| msg("t", p)).collect();
        assert_eq!(events(&mut c), want);
        finish(c);
    });
}

// ---------------------------------------------------------------------------
// Framing of socket data, corruption
// ---------------------------------------------------------------------------

#[test]
fn socket_data_with_line_ends_and_a_urc_glued_to_its_end() {
    let body: &[u8] = b"HTTP/1.1 200 OK\r\n\r\nOK\r\n>{\"a\":\"b,c\\\"\"}";
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.push_rx(&cat(&[
                format!("+IPD,0,{}:", body.len()).as_bytes(),
                body,
                b"0,CLOSED\r\n",
            ]));
            u.expect(
                b"AT+CIPRECVDATA=0,5\r\n",
                b"+CIPRECVDATA:5,a\r\nb>\r\n\r\nOK\r\n",
            );
        });
        assert_eq!(events(&mut c), [sock(0, body), E::SockClosed(0)]);
        // The command's own data frame is its response.
        assert_eq!(
            c.send_line(b"AT+CIPRECVDATA=0,5", 1000),
            Ok(&b"+CIPRECVDATA:5,a\r\nb>"[..])
        );
        finish(c);
    });
}

#[test]
fn corruption_resynchronises_on_the_next_line() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            // A length that is no number, one too large, a header that starts mid-line.
            u.push_rx(
                b"+MQTTSUBRECV:0,\"t\",1x,abc\r\n+MQTTSUBRECV:0,\"t\",99999,abc\r\n\
                  WIFI GOT+MQTTSUBRECV:0,\"t\",5,hello\r\nWIFI GOT IP\r\n",
            );
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(
            events(&mut c),
            [
                E::Line(b("+MQTTSUBRECV:0,\"t\",1x,abc")),
                E::Line(b("+MQTTSUBRECV:0,\"t\",99999,abc")),
                E::Line(b("WIFI GOT+MQTTSUBRECV:0,\"t\",5,hello")),
                E::WifiGotIp
            ]
        );
        finish(c);
    });
}

#[test]
fn a_payload_short_of_bytes_costs_one_reply_then_the_client_recovers() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            // Four bytes of the payload were lost: the payload eats `\r\nOK` of the reply.
            u.expect(b"AT\r\n", b"+MQTTSUBRECV:0,\"t\",10,abcdef\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send(&At), Err(Error::Timeout { ms: 1000 }));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(events(&mut c), [msg("t", b"abcdef\r\nOK")]);
        assert_eq!(finish(c).written(), b"AT\r\nAT\r\nAT\r\n");
    });
}

#[test]
fn wifi_got_ip_at_any_time() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |u| {
            u.schedule(10, b"WIFI GOT IP\r\n");
            u.schedule(400, b"WIFI GOT IP\r\n");
            u.expect_delayed(b"AT\r\n", b"\r\nOK\r\n", 200);
        });
        assert_eq!(c.wait_event(50).unwrap().map(own), Some(E::WifiGotIp));
        assert_eq!(clock.now(), 10);
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(c.wait_event(50).unwrap().map(own), None);
        assert_eq!(c.wait_event(500).unwrap().map(own), Some(E::WifiGotIp));
        assert_eq!(clock.now(), 400);
        finish(c);
    });
}

// ---------------------------------------------------------------------------
// Timeouts and UART errors
// ---------------------------------------------------------------------------

/// Mock time a call took.
fn timed<T>(clock: &MockClock, f: impl FnOnce() -> T) -> (T, u64) {
    let t = clock.now();
    let r = f();
    (r, clock.now() - t)
}

#[test]
fn every_call_returns_within_its_timeout_on_a_silent_module() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |_| {});
        let (r, dt) = timed(&clock, || c.send(&At));
        assert_eq!((r, dt), (Err(Error::Timeout { ms: 1000 }), 1000));
        // Now every call first resyncs, within its own time.
        let (r, dt) = timed(&clock, || c.send_line(b"AT+X", 250).map(|_| ()));
        assert_eq!((r, dt), (Err(Error::Timeout { ms: 250 }), 250));
        let (r, dt) = timed(&clock, || c.send(&CwjapQ));
        assert!(r.is_err() && dt <= 1000, "{r:?} {dt}");
        let (r, dt) = timed(&clock, || c.send_with_data(&pubraw(5), b"hello"));
        assert!(r.is_err() && dt <= 5000, "{r:?} {dt}");
        let (r, dt) = timed(&clock, || c.wait_event(300).map(|e| e.map(own)));
        assert_eq!((r, dt), (Ok(None), 300));
        let (r, dt) = timed(&clock, || c.poll().map(|e| e.map(own)));
        assert_eq!((r, dt), (Ok(None), 0));
        let (r, dt) = timed(&clock, || c.write_raw(b"+++"));
        assert_eq!((r, dt), (Ok(()), 0));
        let (r, dt) = timed(&clock, || c.send_line(b"AT+X", 0).map(|_| ()));
        assert!(r.is_err() && dt == 0, "{r:?} {dt}");
        let uart = finish_unchecked(c);
        assert!(!uart.written().windows(5).any(|w| w == b"hello"));

        // A fresh client: no prompt within the prompt timeout.
        let (mut c, clock) = esp(chunk, |_| {});
        let (r, dt) = timed(&clock, || c.send_with_data(&pubraw(5), b"hello"));
        assert_eq!((r, dt), (Err(Error::NoPrompt), 5000));
        assert_eq!(finish_unchecked(c).written(), PUBRAW5);
    });
}

/// Releases the client without checking the script (for tests that script nothing).
fn finish_unchecked(c: Cl) -> MockUart {
    c.release().0
}

#[test]
fn a_flooding_module_cannot_stall_a_command() {
    each_chunk(|chunk| {
        let (mut c, clock) = mk::<1100, 512, 296, 256>(chunk, Dialect::EspAt, |u| {
            for t in 0..3000 {
                u.schedule(t, b"WIFI GOT IP\r\n");
            }
            u.expect(b"AT\r\n", b"");
        });
        let (r, dt) = timed(&clock, || c.send(&At));
        assert_eq!(r, Err(Error::Timeout { ms: 1000 }));
        assert!(dt <= 1001, "{dt}");
        let evs = events(&mut c);
        let dropped: u32 = evs
            .iter()
            .map(|e| if let E::Overflow(n) = e { *n } else { 0 })
            .sum();
        let got = evs.iter().filter(|e| **e == E::WifiGotIp).count() as u64;
        assert_eq!(got + u64::from(dropped), clock.now() + 1);
        let (r, dt) = timed(&clock, || c.wait_event(100).map(|e| e.map(own)));
        assert_eq!(r, Ok(Some(E::WifiGotIp)));
        assert!(dt <= 100);
    });
}

#[test]
fn a_slow_reply_within_the_timeout_is_fine() {
    each_chunk(|chunk| {
        let (mut c, clock) = esp(chunk, |u| u.expect_delayed(b"AT\r\n", b"\r\nOK\r\n", 999));
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(clock.now(), 999);
        finish(c);
    });
}

#[test]
fn uart_read_errors_are_reported() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| u.fail_reads(true));
        let uart_err = Error::Uart(embedded_io::ErrorKind::Other);
        assert_eq!(c.send(&At), Err(uart_err));
        assert!(matches!(c.poll(), Err(e) if e == uart_err));
        assert!(matches!(c.wait_event(10), Err(e) if e == uart_err));
        assert!(c.release().0.written().is_empty());

        // Breaking while a command waits: the error comes at once, and the next command
        // resynchronises.
        let (mut c, clock) = esp(chunk, |u| {
            u.expect(b"AT\r\n", b"");
            u.fail_reads_at(10);
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        assert_eq!(c.send(&At), Err(uart_err));
        assert_eq!(clock.now(), 10);
        c.uart_mut().fail_reads(false);
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(finish(c).written(), b"AT\r\nAT\r\nAT\r\n");
    });
}

#[test]
fn a_uart_error_after_part_of_a_chunk_loses_no_byte_read() {
    // The UART reports one error (an overrun, say) after the first read that returned
    // bytes, while more bytes wait: what was read is still framed, the error is reported
    // once, before any later byte is framed, and every URC comes out in order.
    let urcs: &[u8] =
        b"+MQTTDISCONNECTED:0\r\nWIFI GOT IP\r\n+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",1\r\n";
    let later: &[u8] = b"WIFI DISCONNECT\r\n";
    let uart_err = Error::Uart(embedded_io::ErrorKind::Other);
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.push_rx(urcs);
            u.fail_once_after_reads(1);
        });
        // (event, or the error) in the order poll returned them.
        let mut got: Vec<Result<E, Error>> = Vec::new();
        let drain = |c: &mut Cl, got: &mut Vec<Result<E, Error>>| {
            for _ in 0..1000 {
                match c.poll() {
                    Ok(Some(ev)) => got.push(Ok(own(ev))),
                    Ok(None) => return,
                    Err(e) => got.push(Err(e)),
                }
            }
            panic!("poll never ran dry");
        };
        drain(&mut c, &mut got);
        c.uart_mut().push_rx(later);
        drain(&mut c, &mut got);
        let errors: Vec<usize> = (0..got.len()).filter(|&k| got[k].is_err()).collect();
        assert_eq!(
            errors.len(),
            1,
            "the UART error is reported exactly once: {got:?}"
        );
        assert_eq!(got[errors[0]], Err(uart_err));
        let events: Vec<&E> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(events.len(), 4, "{got:?}");
        assert_eq!(*events[0], E::MqttDisconnected(0));
        assert_eq!(*events[1], E::WifiGotIp);
        assert!(matches!(events[2], E::MqttConnected { .. }), "{got:?}");
        assert_eq!(*events[3], E::WifiDisconnected);
        // The error comes before the later line is framed.
        assert!(errors[0] < got.len() - 1, "{got:?}");
        assert_eq!(c.stats().bytes_read, (urcs.len() + later.len()) as u64);
        finish(c);
    });
}

#[test]
fn a_uart_error_after_a_read_reply_is_reported_and_the_reply_kept() {
    let uart_err = Error::Uart(embedded_io::ErrorKind::Other);
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.fail_once_after_reads(1);
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
        });
        match c.send(&At) {
            // The OK was read before the error: the command succeeded, and the next
            // command returns the error before it writes anything.
            Ok(_) => {
                assert_eq!(c.send(&At), Err(uart_err));
                assert_eq!(c.uart_mut().written(), b"AT\r\n");
                assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
            }
            // The error came before the OK was read: the next command resynchronises.
            Err(e) => assert_eq!(e, uart_err),
        }
        assert_eq!(c.send(&At), Ok(at_wifi::command::NoResponse));
        assert_eq!(finish(c).written(), b"AT\r\nAT\r\nAT\r\n");
    });
}

// ---------------------------------------------------------------------------
// Ai-Thinker Combo-AT
// ---------------------------------------------------------------------------

const SOCKET: &[u8] = b"AT+SOCKET=4,192.168.31.239,8080";
const SOCKET_NL: &[u8] = b"AT+SOCKET=4,192.168.31.239,8080\r\n";

#[test]
fn combo_cmd_is_running_is_busy() {
    each_chunk(|chunk| {
        let (mut c, clock) = client(chunk, Dialect::AiThinker, |u| {
            u.expect(SOCKET_NL, b"\r\ncmd is running\r\n");
            u.expect(b"AT\r\n", b"\r\nOK\r\n");
            u.expect(
                SOCKET_NL,
                b"cmd is running\r\nconnect success ConID=1\r\nOK\r\n",
            );
        });
        assert_eq!(c.send_line(SOCKET, 500), Err(Error::Busy));
        assert_eq!(clock.now(), 500);
        assert_eq!(
            c.send_line(SOCKET, 500),
            Ok(&b"connect success ConID=1"[..])
        );
        assert_eq!(events(&mut c), []);
        finish(c);
    });
}

#[test]
fn combo_active_socket_data_during_a_command_is_an_event() {
    each_chunk(|chunk| {
        let (mut c, _) = client(chunk, Dialect::AiThinker, |u| {
            u.expect(
                SOCKET_NL,
                b"+EVENT:SocketDown,1,5,hello\r\nconnect success ConID=1\r\n\
                  +EVENT:SocketDown,1,7,a\r\nOK\r\n\r\nOK\r\n",
            );
            u.expect(b"AT+SOCKETSEND=1,5\r\n", b"\r\n>");
            u.expect(
                b"hello",
                b"+EVENT:MQTT_SUB,a/b,5,hello\r\n\r\nSEND OK\r\n+EVENT:SocketDissconnect,1\r\n",
            );
            u.expect(
                b"AT+SOCKETSTATE\r\n",
                b"1,4,3,192.168.31.239,8080\r\nOK\r\n",
            );
        });
        assert_eq!(
            c.send_line(SOCKET, 1000),
            Ok(&b"connect success ConID=1"[..])
        );
        assert_eq!(
            c.send_with_data(&SocketSend { id: 1, len: 5 }, b"hello"),
            Ok(Raw(Vec::new()))
        );
        // Prefix-less reply lines are the response.
        assert_eq!(
            c.send_line(b"AT+SOCKETSTATE", 1000),
            Ok(&b"1,4,3,192.168.31.239,8080"[..])
        );
        assert_eq!(
            events(&mut c),
            [
                sock(1, b"hello"),
                sock(1, b"a\r\nOK\r\n"),
                E::Msg {
                    link: None,
                    topic: b("a/b"),
                    data: b("hello"),
                    len: 5,
                    truncated: false
                },
                E::SockClosed(1)
            ]
        );
        finish(c);
    });
}

// ---------------------------------------------------------------------------
// Topics holding quotes
// ---------------------------------------------------------------------------

/// ESP-AT prints the topic of `+MQTTSUBRECV` between quotes without escaping it, and MQTT
/// topics may hold `"`. A `"` that is not followed by `,` cannot close the topic; if the
/// framer toggled "inside quotes" at every `"`, the payload `\r\nOK\r\n` below would be
/// read as lines and its fake `OK` would end the running command.
#[test]
fn a_quote_inside_a_topic_does_not_break_the_message() {
    each_chunk(|chunk| {
        let (mut c, _) = esp(chunk, |u| {
            u.expect(
                b"AT+MQTTSUB?\r\n",
                b"+MQTTSUBRECV:0,\"a\"b\",6,\r\nOK\r\n\r\nERROR\r\n",
            );
        });
        assert_eq!(
            c.send(&SubQ),
            Err(Error::Module {
                word: FailWord::Error,
                code: None
            })
        );
        assert_eq!(events(&mut c), [msg("a\"b", b"\r\nOK\r\n")]);
        finish(c);
    });
}
