//! The MQTT session (`at_wifi::mqtt`) through the scripted [`MockUart`]: exact bytes of
//! every flow (configuration with short and long credentials, connect, publish text and
//! raw, subscriptions, re-subscription), refusals that write nothing, URCs interleaved with
//! replies, and long messages split by ESP-AT. Every test runs with the module's output
//! read in chunks of 1, 2, 3, 7 and 64 bytes and all at once.

use at_wifi::command::mqtt::{QoS, Scheme, Will};
use at_wifi::command::wifi::{SetSntpConfig, Timezone};
use at_wifi::mock::{MockClock, MockUart};
use at_wifi::mqtt::{Mqtt, MqttEvent, MqttOptions, MqttState, PublishPath, RECORD_OVERHEAD};
use at_wifi::{Client, Dialect, Error, FailWord, Urc};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];
const ESP: Dialect = Dialect::EspAt;
const W800: Dialect = Dialect::W800;
const BEKEN: Dialect = Dialect::Beken;
const AI: Dialect = Dialect::AiThinker;

type Cl = Client<MockUart, MockClock>;

/// Runs `test` once per read chunk size, saying which one failed.
fn each_chunk(test: impl Fn(usize)) {
    for chunk in CHUNKS {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| test(chunk))) {
            eprintln!("--> failed with the module's output read in chunks of {chunk} bytes");
            resume_unwind(e);
        }
    }
}

/// A client over a mock scripted by `script`, reading `chunk` bytes at a time.
fn mk(chunk: usize, d: Dialect, script: impl FnOnce(&mut MockUart)) -> (Cl, MockClock) {
    let mut uart = MockUart::new();
    uart.set_chunk(chunk);
    script(&mut uart);
    let clock = uart.clock();
    (Client::new(uart, clock.clone(), d), clock)
}

/// Everything was written as scripted and every reply was read.
fn done<const RX: usize, const RESP: usize, const TX: usize, const EV: usize>(
    c: Client<MockUart, MockClock, RX, RESP, TX, EV>,
) {
    let (uart, _) = c.release();
    uart.assert_done();
    assert_eq!(uart.unread(), 0, "the module's output was not all read");
}

fn written(c: &mut Cl) -> Vec<u8> {
    c.uart_mut().written().to_vec()
}

/// An owned copy of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Msg(Vec<u8>, Vec<u8>, bool),
    Frag(Vec<u8>, u32, Vec<u8>, bool, bool),
    Connected,
    Disconnected,
    Reconnected(usize, usize),
    Reset,
    Overflow(u32),
    Oversized(usize),
    Other(String),
}

fn own(e: MqttEvent<'_>) -> Ev {
    match e {
        MqttEvent::Message {
            topic,
            payload,
            truncated,
        } => Ev::Msg(topic.to_vec(), payload.to_vec(), truncated),
        MqttEvent::Fragment {
            topic,
            index,
            data,
            last,
            truncated,
        } => Ev::Frag(topic.to_vec(), index, data.to_vec(), last, truncated),
        MqttEvent::Connected => Ev::Connected,
        MqttEvent::Disconnected => Ev::Disconnected,
        MqttEvent::Reconnected {
            resubscribed,
            failed,
        } => Ev::Reconnected(resubscribed, failed),
        MqttEvent::Reset => Ev::Reset,
        MqttEvent::Overflow { dropped } => Ev::Overflow(dropped),
        MqttEvent::Oversized { len, .. } => Ev::Oversized(len),
        MqttEvent::Other(u) => Ev::Other(format!("{u:?}")),
        other => panic!("unexpected {other:?}"),
    }
}

fn other(u: Urc<'_>) -> Ev {
    Ev::Other(format!("{u:?}"))
}

fn msg(topic: &str, payload: &[u8]) -> Ev {
    Ev::Msg(topic.as_bytes().to_vec(), payload.to_vec(), false)
}

/// Polls until nothing is left.
fn drain<
    const B: usize,
    const S: usize,
    const RX: usize,
    const RESP: usize,
    const TX: usize,
    const EV: usize,
>(
    m: &mut Mqtt<B, S>,
    c: &mut Client<MockUart, MockClock, RX, RESP, TX, EV>,
) -> Vec<Ev> {
    let mut out = Vec::new();
    while let Some(e) = m.poll(c).expect("poll") {
        out.push(own(e));
        assert!(out.len() < 1000, "poll never ends");
    }
    out
}

/// `+MQTTSUBRECV:0,"<topic>",<len>,<data>\r\n`.
fn subrecv(topic: &str, data: &[u8]) -> Vec<u8> {
    let mut v = format!("+MQTTSUBRECV:0,\"{topic}\",{},", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\r\n");
    v
}

fn binary(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

const OK: &[u8] = b"\r\nOK\r\n";
const PROMPT: &[u8] = b"\r\nOK\r\n\r\n>";
const CONNECTED: &[u8] = b"+MQTTCONNECTED:0,1,\"broker\",\"1883\",\"\",1\r\n";

/// Configure (`dev1`, no credentials) and connect to `broker:1883` on ESP-AT / W800.
fn script_connect(u: &mut MockUart, reconnect: bool) {
    u.expect(b"AT+MQTTUSERCFG=0,1,\"dev1\",\"\",\"\",0,0,\"\"\r\n", OK);
    let line = format!("AT+MQTTCONN=0,\"broker\",1883,{}\r\n", u8::from(reconnect));
    let mut reply = OK.to_vec();
    reply.extend_from_slice(CONNECTED);
    u.expect(line.as_bytes(), &reply);
}

fn connect(m: &mut Mqtt, c: &mut Cl, reconnect: bool) {
    let opts = MqttOptions::new("dev1").reconnect(reconnect);
    m.configure(c, &opts).expect("configure");
    m.connect(c, "broker", 1883, 5000).expect("connect");
    assert_eq!(m.state(), MqttState::Connected);
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

#[test]
fn configure_short_credentials_esp_and_w800() {
    for d in [ESP, W800] {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, d, |u| {
                u.expect(
                    b"AT+MQTTUSERCFG=0,1,\"dev1\",\"user\",\"pa\\,ss\",0,0,\"\"\r\n",
                    OK,
                );
            });
            let mut m: Mqtt = Mqtt::new();
            assert_eq!(m.state(), MqttState::Idle);
            let opts = MqttOptions::new("dev1").credentials("user", "pa,ss");
            m.configure(&mut c, &opts).unwrap();
            assert_eq!(m.state(), MqttState::Configured);
            done(c);
        });
    }
}

#[test]
fn configure_will_keepalive_alpn_sni() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTUSERCFG=0,3,\"dev1\",\"u\",\"p\",0,0,\"\"\r\n", OK);
            u.expect(
                b"AT+MQTTCONNCFG=0,180,1,\"test/aaa\",\"good bye\",1,0\r\n",
                OK,
            );
            u.expect(b"AT+MQTTALPN=0,2,\"mqtt\",\"x\\,y\"\r\n", OK);
            u.expect(b"AT+MQTTSNI=0,\"broker.example\"\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let opts = MqttOptions::new("dev1")
            .credentials("u", "p")
            .scheme(Scheme::TlsVerifyServer)
            .keepalive_s(180)
            .clean_session(false)
            .will(Will {
                topic: "test/aaa",
                message: b"good bye",
                qos: QoS::AtLeastOnce,
                retain: false,
            })
            .alpn(&["mqtt", "x,y"])
            .sni("broker.example");
        m.configure(&mut c, &opts).unwrap();
        done(c);
    });
}

#[test]
fn configure_beken_unquoted() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, BEKEN, |u| {
            u.expect(b"AT+MQTTUSERCFG=0,2,dev1,user,pass,0,0\r\n", OK);
            u.expect(b"AT+MQTTCONNCFG=0,60,0,dev/will,bye,0,1\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let opts = MqttOptions::new("dev1")
            .credentials("user", "pass")
            .scheme(Scheme::TlsPsk)
            .keepalive_s(60)
            .will(Will {
                topic: "dev/will",
                message: b"bye",
                qos: QoS::AtMostOnce,
                retain: true,
            });
        m.configure(&mut c, &opts).unwrap();
        done(c);
    });
}

#[test]
fn configure_long_password_through_the_prompt() {
    let password = "pw,\"x".repeat(14);
    assert_eq!(password.len(), 70);
    for d in [ESP, W800] {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, d, |u| {
                u.expect(
                    b"AT+MQTTUSERCFG=0,1,\"dev1\",\"user\",\"\",0,0,\"\"\r\n",
                    OK,
                );
                u.expect(b"AT+MQTTLONGPASSWORD=0,70\r\n", b"\r\nOK\r\n\r\n>");
                u.expect(password.as_bytes(), b"\r\nOK\r\n");
            });
            let mut m: Mqtt = Mqtt::new();
            let opts = MqttOptions::new("dev1").credentials("user", &password);
            m.configure(&mut c, &opts).unwrap();
            // The password never went into a command line, only after the prompt.
            let (uart, _) = c.release();
            uart.assert_done();
            let writes = uart.writes();
            assert_eq!(
                writes.last().map(|(_, w)| &w[..]),
                Some(password.as_bytes())
            );
        });
    }
}

#[test]
fn configure_long_client_id_and_username() {
    let id = "i".repeat(300);
    let user = "u".repeat(100);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTUSERCFG=0,1,\"\",\"\",\"pass\",0,0,\"\"\r\n", OK);
            u.expect(b"AT+MQTTLONGCLIENTID=0,300\r\n", PROMPT);
            u.expect(id.as_bytes(), OK);
            u.expect(b"AT+MQTTLONGUSERNAME=0,100\r\n", PROMPT);
            u.expect(user.as_bytes(), OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let opts = MqttOptions::new(&id).credentials(&user, "pass");
        m.configure(&mut c, &opts).unwrap();
        done(c);
    });
}

#[test]
fn configure_moves_values_that_would_overflow_the_line() {
    // 200 commas are 402 bytes escaped: within the 256-byte limit of <client_id>, but
    // not within the line.
    let id = ",".repeat(200);
    let user = "u".repeat(64);
    let pass = "p".repeat(64);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let line = format!("AT+MQTTUSERCFG=0,1,\"\",\"{user}\",\"{pass}\",0,0,\"\"\r\n");
            u.expect(line.as_bytes(), OK);
            u.expect(b"AT+MQTTLONGCLIENTID=0,200\r\n", PROMPT);
            u.expect(id.as_bytes(), OK);
        });
        let mut m: Mqtt = Mqtt::new();
        m.configure(&mut c, &MqttOptions::new(&id).credentials(&user, &pass))
            .unwrap();
        done(c);
    });
}

#[test]
fn configure_line_limit_is_exact() {
    // `AT+MQTTUSERCFG=0,1,"<id>","","",0,0,""\r\n` is 36 + id bytes.
    for (len, long) in [(220, false), (221, true)] {
        let id = "c".repeat(len);
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, ESP, |u| {
                if long {
                    u.expect(b"AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"\r\n", OK);
                    u.expect(
                        format!("AT+MQTTLONGCLIENTID=0,{len}\r\n").as_bytes(),
                        PROMPT,
                    );
                    u.expect(id.as_bytes(), OK);
                } else {
                    let line = format!("AT+MQTTUSERCFG=0,1,\"{id}\",\"\",\"\",0,0,\"\"\r\n");
                    assert_eq!(line.len(), 256);
                    u.expect(line.as_bytes(), OK);
                }
            });
            let mut m: Mqtt = Mqtt::new();
            m.configure(&mut c, &MqttOptions::new(&id)).unwrap();
            done(c);
        });
    }
}

#[test]
fn without_long_values_refuses_what_needs_them() {
    let id = "c".repeat(220);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            // A line of exactly 256 bytes still goes.
            let line = format!("AT+MQTTUSERCFG=0,1,\"{id}\",\"\",\"\",0,0,\"\"\r\n");
            u.expect(line.as_bytes(), OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let fits = MqttOptions::new(&id).without_long_values();
        m.configure(&mut c, &fits).unwrap();
        // One byte more, a 65-byte username, a 257-byte client id: refused, nothing
        // written (with long values allowed they would go through AT+MQTTLONG*).
        let longer = "c".repeat(221);
        let user = "u".repeat(65);
        let huge = "c".repeat(257);
        let cases = [
            MqttOptions::new(&longer),
            MqttOptions::new("d").credentials(&user, "p"),
            MqttOptions::new(&huge),
        ];
        for opts in cases {
            let e = m
                .configure(&mut c, &opts.without_long_values())
                .unwrap_err();
            assert!(
                matches!(e, Error::CommandTooLong { .. } | Error::Invalid { .. }),
                "{e:?}"
            );
        }
        done(c);
    });
}

/// A dialect, options, and the error they must get.
type Case<'a> = (Dialect, MqttOptions<'a>, fn(&Error) -> bool);

#[test]
fn refusals_write_nothing() {
    let long_pw = "p".repeat(70);
    let will_topic = ",".repeat(128);
    let will = Will {
        topic: &will_topic,
        message: &[b','; 128],
        qos: QoS::AtMostOnce,
        retain: false,
    };
    let huge = "x".repeat(1025);
    let cases: Vec<Case<'_>> = vec![
        (
            W800,
            MqttOptions::new("d").scheme(Scheme::Tls).sni("h"),
            |e| matches!(e, Error::Unsupported { .. }),
        ),
        (
            BEKEN,
            MqttOptions::new("d").credentials("u", "p").sni("h"),
            |e| matches!(e, Error::Unsupported { .. }),
        ),
        (
            BEKEN,
            MqttOptions::new("d")
                .credentials("u", "p")
                .scheme(Scheme::TlsVerifyServer),
            |e| matches!(e, Error::Unsupported { .. }),
        ),
        (
            BEKEN,
            MqttOptions::new("d").credentials("u", "p").alpn(&["mqtt"]),
            |e| matches!(e, Error::Unsupported { .. }),
        ),
        (
            BEKEN,
            MqttOptions::new("d").credentials("u", &long_pw),
            |e| matches!(e, Error::Unsupported { .. }),
        ),
        (AI, MqttOptions::new("d"), |e| {
            matches!(e, Error::Unsupported { .. })
        }),
        (ESP, MqttOptions::new("d").scheme(Scheme::TlsPsk), |e| {
            matches!(e, Error::Unsupported { .. })
        }),
        (ESP, MqttOptions::new("d").credentials("u", &huge), |e| {
            matches!(
                e,
                Error::Invalid {
                    field: "length",
                    ..
                }
            )
        }),
        (ESP, MqttOptions::new("d").will(will), |e| {
            matches!(e, Error::CommandTooLong { .. })
        }),
        (ESP, MqttOptions::new("d").keepalive_s(7201), |e| {
            matches!(
                e,
                Error::Invalid {
                    field: "keepalive",
                    ..
                }
            )
        }),
    ];
    for (i, (d, opts, expected)) in cases.iter().enumerate() {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, *d, |_| {});
            let mut m: Mqtt = Mqtt::new();
            let e = m.configure(&mut c, opts).unwrap_err();
            assert!(expected(&e), "case {i} ({d}): {e:?}");
            assert_eq!(m.state(), MqttState::Idle);
            // recover checks the same before its AT+MQTTCLEAN.
            let e = m.recover(&mut c, opts, "broker", 1883, 1000).unwrap_err();
            assert!(expected(&e), "case {i} ({d}) recover: {e:?}");
            assert!(written(&mut c).is_empty(), "case {i} ({d}) wrote");
            done(c);
        });
    }
}

#[test]
fn ai_thinker_is_refused_everywhere() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, AI, |_| {});
        let mut m: Mqtt = Mqtt::new();
        let unsupported =
            |r: Result<(), Error>| assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
        unsupported(m.connect(&mut c, "broker", 1883, 100));
        unsupported(
            m.publish(&mut c, "t", b"x", QoS::AtMostOnce, false)
                .map(|_| ()),
        );
        unsupported(m.publish_raw(&mut c, "t", b"x", QoS::AtMostOnce, false));
        unsupported(m.subscribe(&mut c, "t", QoS::AtMostOnce).map(|_| ()));
        unsupported(m.unsubscribe(&mut c, "t").map(|_| ()));
        unsupported(m.subscriptions(&mut c).map(|_| ()));
        unsupported(m.disconnect(&mut c));
        unsupported(
            m.sync_time(&mut c, &SetSntpConfig::new(Timezone::UTC), 100)
                .map(|_| ()),
        );
        assert!(written(&mut c).is_empty());
        done(c);
    });
}

#[test]
fn options_debug_hides_the_password() {
    let o = MqttOptions::new("dev1").credentials("user", "hunter2-secret");
    let s = format!("{o:?}");
    assert!(!s.contains("hunter2"), "{s}");
    assert!(s.contains("dev1") && s.contains("user"), "{s}");
}

// ---------------------------------------------------------------------------
// Connect
// ---------------------------------------------------------------------------

#[test]
fn connect_esp_and_w800_success() {
    for d in [ESP, W800] {
        // +MQTTCONNECTED after the OK, before it, and a while later.
        for shape in 0..3 {
            each_chunk(|chunk| {
                let (mut c, _) = mk(chunk, d, |u| {
                    u.expect(b"AT+MQTTUSERCFG=0,1,\"dev1\",\"\",\"\",0,0,\"\"\r\n", OK);
                    let line = b"AT+MQTTCONN=0,\"broker\",1883,1\r\n";
                    match shape {
                        0 => u.expect(line, &[OK, CONNECTED].concat()),
                        1 => u.expect(line, &[b"\r\n", CONNECTED, OK].concat()),
                        _ => {
                            u.expect(line, OK);
                            u.schedule(300, CONNECTED);
                        }
                    }
                });
                let mut m: Mqtt = Mqtt::new();
                connect(&mut m, &mut c, true);
                // The +MQTTCONNECTED answered connect: no event left.
                assert_eq!(drain(&mut m, &mut c), vec![]);
                done(c);
            });
        }
    }
}

#[test]
fn connect_esp_failure_disconnected_then_error() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTUSERCFG=0,1,\"dev1\",\"\",\"\",0,0,\"\"\r\n", OK);
            u.expect(
                b"AT+MQTTCONN=0,\"broker\",1883,1\r\n",
                b"+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n",
            );
        });
        let mut m: Mqtt = Mqtt::new();
        m.configure(&mut c, &MqttOptions::new("dev1")).unwrap();
        let e = m.connect(&mut c, "broker", 1883, 5000).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Module {
                    word: FailWord::Error,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(m.state(), MqttState::Disconnected);
        // The +MQTTDISCONNECTED belonged to the failure.
        assert_eq!(drain(&mut m, &mut c), vec![]);
        done(c);
    });
}

#[test]
fn connect_esp_failure_after_ok() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(
                b"AT+MQTTCONN=0,\"broker\",1883,1\r\n",
                b"\r\nOK\r\n+MQTTDISCONNECTED:0\r\n",
            );
        });
        let mut m: Mqtt = Mqtt::new();
        let e = m.connect(&mut c, "broker", 1883, 5000).unwrap_err();
        assert!(matches!(e, Error::Module { .. }), "{e:?}");
        assert_eq!(m.state(), MqttState::Disconnected);
        assert_eq!(drain(&mut m, &mut c), vec![]);
        done(c);
    });
}

#[test]
fn connect_beken_success_and_failure() {
    for (reply, ok) in [
        (&b"\r\nOK\r\n\r\n+MQTTCONN:OK\r\n"[..], true),
        (&b"\r\n+MQTTCONN:OK\r\n\r\nOK\r\n"[..], true),
        (&b"\r\nOK\r\n\r\n+MQTTCONN:ERROR,-3\r\n"[..], false),
    ] {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, BEKEN, |u| {
                u.expect(b"AT+MQTTUSERCFG=0,1,dev1,user,pass,0,0\r\n", OK);
                u.expect(b"AT+MQTTCONN=0,broker,1883,1\r\n", reply);
            });
            let mut m: Mqtt = Mqtt::new();
            let opts = MqttOptions::new("dev1").credentials("user", "pass");
            m.configure(&mut c, &opts).unwrap();
            let r = m.connect(&mut c, "broker", 1883, 5000);
            if ok {
                r.unwrap();
                assert_eq!(m.state(), MqttState::Connected);
                assert_eq!(m.last_connect_error(), None);
            } else {
                assert!(matches!(r, Err(Error::Module { .. })), "{r:?}");
                assert_eq!(m.state(), MqttState::Disconnected);
                assert_eq!(m.last_connect_error(), Some(-3));
            }
            assert_eq!(drain(&mut m, &mut c), vec![]);
            done(c);
        });
    }
}

#[test]
fn connect_keeps_other_events_in_order() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            // Queued before connect is called.
            u.push_rx(b"WIFI GOT IP\r\n");
            let mut reply = OK.to_vec();
            reply.extend_from_slice(&subrecv("old", b"m1"));
            reply.extend_from_slice(b"+FOO:1\r\n");
            reply.extend_from_slice(CONNECTED);
            reply.extend_from_slice(&subrecv("new", b"m2"));
            u.expect(b"AT+MQTTCONN=0,\"broker\",1883,1\r\n", &reply);
        });
        let mut m: Mqtt = Mqtt::new();
        m.connect(&mut c, "broker", 1883, 5000).unwrap();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![
                other(Urc::WifiGotIp),
                msg("old", b"m1"),
                other(Urc::Line(b"+FOO:1")),
                msg("new", b"m2"),
            ]
        );
        done(c);
    });
}

#[test]
fn connect_timeout_then_late_outcome() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTCONN=0,\"broker\",1883,1\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let e = m.connect(&mut c, "broker", 1883, 200).unwrap_err();
        assert_eq!(e, Error::Timeout { ms: 200 });
        assert_eq!(m.state(), MqttState::Connecting);
        c.uart_mut().push_rx(CONNECTED);
        assert_eq!(drain(&mut m, &mut c), vec![Ev::Connected]);
        assert_eq!(m.state(), MqttState::Connected);
        done(c);
    });
}

#[test]
fn connect_store_overflow_is_reported() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let mut reply = OK.to_vec();
            for _ in 0..5 {
                reply.extend_from_slice(b"WIFI GOT IP\r\n");
            }
            reply.extend_from_slice(CONNECTED);
            u.expect(b"AT+MQTTCONN=0,\"broker\",1883,1\r\n", &reply);
        });
        // Room for four records of no bytes of their own (`WIFI GOT IP` is stored typed).
        let mut m: Mqtt<2048, { 4 * RECORD_OVERHEAD }> = Mqtt::new();
        m.connect(&mut c, "broker", 1883, 5000).unwrap();
        // The fifth was lost after the four stored: its count comes after them.
        let mut expected = vec![other(Urc::WifiGotIp); 4];
        expected.push(Ev::Overflow(1));
        assert_eq!(drain(&mut m, &mut c), expected);
        done(c);
    });
}

#[test]
fn client_overflow_is_reported_where_events_were_lost() {
    each_chunk(|chunk| {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        // A client queue of 64 bytes: `WIFI GOT IP` (19) is kept, the 50-byte `+EVENT:` line
        // is lost, `WIFI DISCONNECT` is kept behind an overflow marker.
        let mut urcs = b"WIFI GOT IP\r\n+EVENT:".to_vec();
        urcs.extend_from_slice(&[b'x'; 43]);
        urcs.extend_from_slice(b"\r\nWIFI DISCONNECT\r\n");
        uart.push_rx(&urcs);
        let mut reply = OK.to_vec();
        reply.extend_from_slice(CONNECTED);
        uart.expect(b"AT+MQTTCONN=0,\"broker\",1883,1\r\n", &reply);
        let clock = uart.clock();
        let mut c: Client<MockUart, MockClock, 1100, 512, 296, 64> = Client::new(uart, clock, ESP);
        let mut m: Mqtt = Mqtt::new();
        m.connect(&mut c, "broker", 1883, 5000).unwrap();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![
                other(Urc::WifiGotIp),
                Ev::Overflow(1),
                other(Urc::WifiDisconnected),
            ]
        );
        done(c);
    });
}

#[test]
fn connect_refuses_bad_host_before_writing() {
    let (mut c, _) = mk(1, ESP, |_| {});
    let mut m: Mqtt = Mqtt::new();
    assert!(matches!(
        m.connect(&mut c, "", 1883, 100),
        Err(Error::Invalid { field: "host", .. })
    ));
    assert!(matches!(
        m.connect(&mut c, "h", 0, 100),
        Err(Error::Invalid { field: "port", .. })
    ));
    assert!(written(&mut c).is_empty());
}

// ---------------------------------------------------------------------------
// Publish
// ---------------------------------------------------------------------------

#[test]
fn publish_text_escaped() {
    for d in [ESP, W800] {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, d, |u| {
                u.expect(b"AT+MQTTPUB=0,\"t\",\"a\\,b\",1,0\r\n", OK);
                u.expect(b"AT+MQTTPUB=0,\"t\",\"{\\\"k\\\":\\\\1}\",0,1\r\n", OK);
            });
            let mut m: Mqtt = Mqtt::new();
            let p = m.publish(&mut c, "t", b"a,b", QoS::AtLeastOnce, false);
            assert_eq!(p, Ok(PublishPath::Text));
            let p = m.publish(&mut c, "t", br#"{"k":\1}"#, QoS::AtMostOnce, true);
            assert_eq!(p, Ok(PublishPath::Text));
            done(c);
        });
    }
}

#[test]
fn publish_text_only_never_goes_raw() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTPUB=0,\"t\",\"42\",1,0\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            m.publish_text(&mut c, "t", b"42", QoS::AtLeastOnce, false),
            Ok(())
        );
        // What `publish` would send raw is refused, and nothing is written.
        assert!(matches!(
            m.publish_text(&mut c, "t", b"a\nb", QoS::AtLeastOnce, false),
            Err(Error::Invalid { field: "data", .. })
        ));
        assert!(matches!(
            m.publish_text(&mut c, "t", &[b'x'; 250], QoS::AtLeastOnce, false),
            Err(Error::CommandTooLong { .. })
        ));
        assert!(matches!(
            m.publish_text(&mut c, "t", b"", QoS::AtLeastOnce, false),
            Err(Error::Invalid {
                field: "payload",
                ..
            })
        ));
        done(c);
    });
}

#[test]
fn publish_raw_exact_flow() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n", PROMPT);
            u.expect(b"hello", b"\r\n+MQTTPUB:OK\r\n");
        });
        let mut m: Mqtt = Mqtt::new();
        m.publish_raw(&mut c, "t", b"hello", QoS::AtMostOnce, false)
            .unwrap();
        done(c);
    });
}

#[test]
fn publish_binary_and_long_payloads_go_raw() {
    let long = "a".repeat(232);
    let payloads: [&[u8]; 4] = [b"a\0b", b"line\r\nbreak", &binary(300), long.as_bytes()];
    for payload in payloads {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, ESP, |u| {
                let line = format!("AT+MQTTPUBRAW=0,\"t\",{},2,0\r\n", payload.len());
                u.expect(line.as_bytes(), PROMPT);
                // ESP-AT prints the result with no blank line before it.
                u.expect(payload, b"+MQTTPUB:OK\r\n");
            });
            let mut m: Mqtt = Mqtt::new();
            let p = m.publish(&mut c, "t", payload, QoS::ExactlyOnce, false);
            assert_eq!(p, Ok(PublishPath::Raw));
            done(c);
        });
    }
}

#[test]
fn publish_text_line_limit_is_exact() {
    // `AT+MQTTPUB=0,"t","<data>",0,0\r\n` is 25 + data bytes.
    let fits = "a".repeat(231);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let line = format!("AT+MQTTPUB=0,\"t\",\"{fits}\",0,0\r\n");
            assert_eq!(line.len(), 256);
            u.expect(line.as_bytes(), OK);
        });
        let mut m: Mqtt = Mqtt::new();
        let p = m.publish(&mut c, "t", fits.as_bytes(), QoS::AtMostOnce, false);
        assert_eq!(p, Ok(PublishPath::Text));
        done(c);
    });
}

#[test]
fn publish_failure_and_empty_payload() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTPUBRAW=0,\"t\",1,0,0\r\n", PROMPT);
            u.expect(b"\0", b"\r\n+MQTTPUB:FAIL\r\n");
            u.expect(b"AT+MQTTPUB=0,\"t\",\"x\",0,0\r\n", b"\r\nERROR\r\n");
        });
        let mut m: Mqtt = Mqtt::new();
        let e = m.publish(&mut c, "t", b"\0", QoS::AtMostOnce, false);
        assert!(
            matches!(
                e,
                Err(Error::Module {
                    word: FailWord::SendFail,
                    ..
                })
            ),
            "{e:?}"
        );
        let e = m.publish(&mut c, "t", b"x", QoS::AtMostOnce, false);
        assert!(
            matches!(
                e,
                Err(Error::Module {
                    word: FailWord::Error,
                    ..
                })
            ),
            "{e:?}"
        );
        let before = written(&mut c).len();
        for r in [
            m.publish(&mut c, "t", b"", QoS::AtMostOnce, false)
                .map(|_| ()),
            m.publish_raw(&mut c, "t", b"", QoS::AtMostOnce, false),
        ] {
            assert!(
                matches!(
                    r,
                    Err(Error::Invalid {
                        field: "payload",
                        ..
                    })
                ),
                "{r:?}"
            );
        }
        assert!(matches!(
            m.publish(&mut c, "", b"x", QoS::AtMostOnce, false),
            Err(Error::Invalid { field: "topic", .. })
        ));
        assert_eq!(written(&mut c).len(), before);
        done(c);
    });
}

#[test]
fn publish_beken() {
    let big = ",".repeat(513);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, BEKEN, |u| {
            u.expect(b"AT+MQTTPUB=0,test/abc,987654321,1,0\r\n", OK);
            u.expect(b"AT+MQTTPUBRAW=0,test/abc,8,1,0\r\n", b"\r\nOK\r\n>");
            u.expect(b"good bye", b"\r\n+MQTTPUBRAW:OK\r\n");
            u.expect(b"AT+MQTTPUBRAW=0,t,3,0,0\r\n", b"\r\nOK\r\n>");
            u.expect(b"a,b", b"\r\n+MQTTPUBRAW:OK\r\n");
        });
        let mut m: Mqtt = Mqtt::new();
        let q1 = QoS::AtLeastOnce;
        assert_eq!(
            m.publish(&mut c, "test/abc", b"987654321", q1, false),
            Ok(PublishPath::Text)
        );
        // A space and a comma cannot be carried bare.
        assert_eq!(
            m.publish(&mut c, "test/abc", b"good bye", q1, false),
            Ok(PublishPath::Raw)
        );
        assert_eq!(
            m.publish(&mut c, "t", b"a,b", QoS::AtMostOnce, false),
            Ok(PublishPath::Raw)
        );
        // Over Beken's 512-byte PUBRAW limit: refused, nothing written.
        let before = written(&mut c).len();
        let e = m.publish(&mut c, "t", big.as_bytes(), QoS::AtMostOnce, false);
        assert!(
            matches!(
                e,
                Err(Error::Invalid {
                    field: "length",
                    ..
                })
            ),
            "{e:?}"
        );
        assert_eq!(written(&mut c).len(), before);
        done(c);
    });
}

// ---------------------------------------------------------------------------
// URCs interleaved with replies
// ---------------------------------------------------------------------------

#[test]
fn message_between_ok_and_prompt_of_pubraw() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let mut reply = OK.to_vec();
            reply.extend_from_slice(&subrecv("in", b"a,\r\nOK\r\n>"));
            reply.extend_from_slice(b"\r\n>");
            u.expect(b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n", &reply);
            u.expect(b"hello", b"\r\n+MQTTPUB:OK\r\n");
        });
        let mut m: Mqtt = Mqtt::new();
        m.publish_raw(&mut c, "t", b"hello", QoS::AtMostOnce, false)
            .unwrap();
        assert_eq!(drain(&mut m, &mut c), vec![msg("in", b"a,\r\nOK\r\n>")]);
        done(c);
    });
}

#[test]
fn own_message_before_the_ok_of_its_publish() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let mut reply = subrecv("t", b"x");
            reply.extend_from_slice(OK);
            u.expect(b"AT+MQTTPUB=0,\"t\",\"x\",0,0\r\n", &reply);
        });
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            m.publish(&mut c, "t", b"x", QoS::AtMostOnce, false),
            Ok(PublishPath::Text)
        );
        assert_eq!(drain(&mut m, &mut c), vec![msg("t", b"x")]);
        done(c);
    });
}

#[test]
fn disconnected_inside_a_subscribe_reply() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            script_connect(u, true);
            u.expect(
                b"AT+MQTTSUB=0,\"a\",1\r\n",
                b"AT+MQTTSUB=0,\"a\",1\r\n+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n",
            );
        });
        let mut m: Mqtt = Mqtt::new();
        connect(&mut m, &mut c, true);
        let e = m.subscribe(&mut c, "a", QoS::AtLeastOnce).unwrap_err();
        assert!(matches!(e, Error::Module { .. }), "{e:?}");
        // Known before the next poll.
        assert_eq!(m.state(), MqttState::Disconnected);
        assert_eq!(m.local_subscriptions().count(), 0);
        assert_eq!(drain(&mut m, &mut c), vec![Ev::Disconnected]);
        done(c);
    });
}

#[test]
fn other_events_pass_through() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.push_rx(b"WIFI DISCONNECT\r\nWIFI CONNECTED\r\n0,CONNECT\r\n+MQTTPUB:OK\r\n");
            u.push_rx(b"+IPD,0,4:ab\r\n0,CLOSED\r\nsomething else\r\n");
        });
        let mut m: Mqtt = Mqtt::new();
        let events = drain(&mut m, &mut c);
        assert_eq!(
            events,
            vec![
                other(Urc::WifiDisconnected),
                other(Urc::WifiConnected),
                other(Urc::SocketConnected { link: 0 }),
                other(Urc::MqttPublished { ok: true }),
                other(Urc::SocketData(at_wifi::urc::SocketData {
                    link: Some(0),
                    data: b"ab\r\n",
                    len: 4,
                    truncated: false
                })),
                other(Urc::SocketClosed { link: 0 }),
                other(Urc::Line(b"something else")),
            ]
        );
        done(c);
    });
}

#[test]
fn reset_is_reported_and_state_lost() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| script_connect(u, true));
        let mut m: Mqtt = Mqtt::new();
        connect(&mut m, &mut c, true);
        c.uart_mut().push_rx(b"\r\nready\r\n");
        assert_eq!(drain(&mut m, &mut c), vec![Ev::Reset]);
        assert_eq!(m.state(), MqttState::Idle);
        done(c);
    });
}

// ---------------------------------------------------------------------------
// Long messages
// ---------------------------------------------------------------------------

/// The notes' 2500-byte message on a 15-byte topic: pieces of 1004, 1024 and 472 bytes.
const TOPIC15: &str = "sensors/cam/raw";

fn split_2500() -> (Vec<u8>, Vec<u8>) {
    let payload = binary(2500);
    let mut wire = subrecv(TOPIC15, &payload[..1004]);
    wire.extend_from_slice(&subrecv(TOPIC15, &payload[1004..2028]));
    wire.extend_from_slice(&subrecv(TOPIC15, &payload[2028..]));
    (payload, wire)
}

#[test]
fn split_message_is_reassembled() {
    let (payload, wire) = split_2500();
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.push_rx(&wire);
            u.push_rx(&subrecv("next", b"after"));
        });
        let mut m: Mqtt<4096> = Mqtt::new();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![msg(TOPIC15, &payload), msg("next", b"after")]
        );
        done(c);
    });
}

#[test]
fn split_message_with_full_lines_is_reassembled() {
    // Pieces whose whole line is 1024 bytes: `+MQTTSUBRECV:0,"t",1000,` + 1000.
    let payload = binary(2500);
    let mut wire = subrecv("t", &payload[..1000]);
    assert_eq!(wire.len(), 1024 + 2);
    wire.extend_from_slice(&subrecv("t", &payload[1000..2000]));
    wire.extend_from_slice(&subrecv("t", &payload[2000..]));
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| u.push_rx(&wire));
        let mut m: Mqtt<4096> = Mqtt::new();
        assert_eq!(drain(&mut m, &mut c), vec![msg("t", &payload)]);
        done(c);
    });
}

#[test]
fn split_message_arriving_during_a_command() {
    let (payload, wire) = split_2500();
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            let mut reply = OK.to_vec();
            reply.extend_from_slice(&wire);
            u.expect(b"AT+MQTTPUB=0,\"x\",\"y\",0,0\r\n", &reply);
        });
        let mut m: Mqtt<4096> = Mqtt::new();
        m.publish(&mut c, "x", b"y", QoS::AtMostOnce, false)
            .unwrap();
        assert_eq!(drain(&mut m, &mut c), vec![msg(TOPIC15, &payload)]);
        done(c);
    });
}

#[test]
fn message_too_big_for_the_buffer_comes_as_fragments() {
    let (payload, wire) = split_2500();
    let t = TOPIC15.as_bytes().to_vec();
    each_chunk(|chunk| {
        // 2048 bytes hold the topic and the first two pieces.
        let (mut c, _) = mk(chunk, ESP, |u| u.push_rx(&wire));
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![
                Ev::Frag(t.clone(), 0, payload[..2028].to_vec(), false, false),
                Ev::Frag(t.clone(), 1, payload[2028..].to_vec(), true, false),
            ]
        );
        done(c);
        // 1024 bytes hold only the first piece.
        let (mut c, _) = mk(chunk, ESP, |u| u.push_rx(&wire));
        let mut m: Mqtt<1024> = Mqtt::new();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![
                Ev::Frag(t.clone(), 0, payload[..1004].to_vec(), false, false),
                Ev::Frag(t.clone(), 1, payload[1004..2028].to_vec(), false, false),
                Ev::Frag(t.clone(), 2, payload[2028..].to_vec(), true, false),
            ]
        );
        done(c);
    });
}

#[test]
fn full_sized_single_message_is_delivered_after_the_timeout() {
    let payload = binary(1000);
    each_chunk(|chunk| {
        let (mut c, clock) = mk(chunk, ESP, |u| u.push_rx(&subrecv("t", &payload)));
        let mut m: Mqtt = Mqtt::new();
        m.set_fragment_timeout_ms(100);
        // It looks like the first piece of a longer message: held back a while.
        assert!(m.poll(&mut c).unwrap().is_none());
        clock.advance(99);
        assert!(m.poll(&mut c).unwrap().is_none());
        clock.advance(1);
        assert_eq!(drain(&mut m, &mut c), vec![msg("t", &payload)]);
        done(c);
    });
}

#[test]
fn full_sized_message_followed_by_another_topic() {
    let payload = binary(1000);
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.push_rx(&subrecv("t", &payload));
            u.push_rx(&subrecv("u", b"small"));
        });
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![msg("t", &payload), msg("u", b"small")]
        );
        done(c);
    });
}

#[test]
fn truncated_frame_is_flagged() {
    let payload = binary(300);
    each_chunk(|chunk| {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        uart.push_rx(&subrecv("t", &payload));
        uart.push_rx(b"WIFI GOT IP\r\n");
        let clock = uart.clock();
        // A 128-byte receive buffer cannot hold the 300-byte payload.
        let mut c: Client<MockUart, MockClock, 128> = Client::new(uart, clock, ESP);
        let mut m: Mqtt = Mqtt::new();
        let events = drain(&mut m, &mut c);
        assert_eq!(events.len(), 2, "{events:?}");
        match &events[0] {
            Ev::Msg(t, p, true) => {
                assert_eq!(t, b"t");
                assert!(p.len() < 300 && payload.starts_with(p), "{}", p.len());
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(events[1], other(Urc::WifiGotIp));
        done(c);
    });
}

// ---------------------------------------------------------------------------
// Subscriptions and reconnection
// ---------------------------------------------------------------------------

#[test]
fn subscribe_notices_and_limits() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+MQTTSUB=0,\"a\",1\r\n", OK);
            u.expect(
                b"AT+MQTTSUB=0,\"a\",2\r\n",
                b"\r\nALREADY SUBSCRIBE\r\n\r\nOK\r\n",
            );
            u.expect(
                b"AT+MQTTSUB=0,\"b\",0\r\n",
                b"\r\nALREADY FULL SUBSCRIBE\r\n\r\nOK\r\n",
            );
            u.expect(
                b"AT+MQTTUNSUB=0,\"zz\"\r\n",
                b"\r\nNO UNSUBSCRIBE\r\n\r\nOK\r\n",
            );
            u.expect(
                b"AT+MQTTSUB?\r\n",
                b"\r\n+MQTTSUB:0,6,\"a\",2\r\n\r\nOK\r\n",
            );
            u.expect(b"AT+MQTTUNSUB=0,\"a\"\r\n", OK);
            for i in 0..10 {
                u.expect(format!("AT+MQTTSUB=0,\"t{i}\",0\r\n").as_bytes(), OK);
            }
        });
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(m.subscribe(&mut c, "a", QoS::AtLeastOnce), Ok(true));
        // ALREADY SUBSCRIBE is a success; the QoS is updated.
        assert_eq!(m.subscribe(&mut c, "a", QoS::ExactlyOnce), Ok(false));
        assert_eq!(
            m.local_subscriptions().collect::<Vec<_>>(),
            vec![("a", QoS::ExactlyOnce)]
        );
        let e = m.subscribe(&mut c, "b", QoS::AtMostOnce).unwrap_err();
        assert!(matches!(e, Error::Invalid { field: "topic", .. }), "{e:?}");
        assert_eq!(m.local_subscriptions().count(), 1);
        assert_eq!(m.unsubscribe(&mut c, "zz"), Ok(false));
        let subs = m.subscriptions(&mut c).unwrap();
        assert_eq!(subs.topics.len(), 1);
        assert_eq!(&subs.topics[0].topic[..], b"a");
        assert_eq!(m.unsubscribe(&mut c, "a"), Ok(true));
        assert_eq!(m.local_subscriptions().count(), 0);
        for i in 0..10 {
            assert_eq!(
                m.subscribe(&mut c, &format!("t{i}"), QoS::AtMostOnce),
                Ok(true)
            );
        }
        // An 11th topic: refused before writing.
        let before = written(&mut c).len();
        let e = m.subscribe(&mut c, "t10", QoS::AtMostOnce).unwrap_err();
        assert!(matches!(e, Error::Invalid { field: "topic", .. }), "{e:?}");
        assert_eq!(written(&mut c).len(), before);
        assert_eq!(m.local_subscriptions().count(), 10);
        done(c);
    });
}

#[test]
fn automatic_reconnection_resubscribes() {
    for d in [ESP, W800] {
        each_chunk(|chunk| {
            let (mut c, _) = mk(chunk, d, |u| {
                script_connect(u, true);
                u.expect(b"AT+MQTTSUB=0,\"a/b\",1\r\n", OK);
                u.expect(b"AT+MQTTSUB=0,\"c\\,d\",0\r\n", OK);
            });
            let mut m: Mqtt = Mqtt::new();
            connect(&mut m, &mut c, true);
            m.subscribe(&mut c, "a/b", QoS::AtLeastOnce).unwrap();
            m.subscribe(&mut c, "c,d", QoS::AtMostOnce).unwrap();

            c.uart_mut().push_rx(b"+MQTTDISCONNECTED:0\r\n");
            assert_eq!(drain(&mut m, &mut c), vec![Ev::Disconnected]);
            assert_eq!(m.state(), MqttState::Disconnected);

            // The module reconnects by itself; the session subscribes again, exactly so.
            c.uart_mut().expect(b"AT+MQTTSUB=0,\"a/b\",1\r\n", OK);
            c.uart_mut().expect(
                b"AT+MQTTSUB=0,\"c\\,d\",0\r\n",
                b"\r\nALREADY SUBSCRIBE\r\n\r\nOK\r\n",
            );
            let mut rx = CONNECTED.to_vec();
            rx.extend_from_slice(&subrecv("a/b", b"hi"));
            c.uart_mut().push_rx(&rx);
            assert_eq!(
                drain(&mut m, &mut c),
                vec![Ev::Reconnected(2, 0), msg("a/b", b"hi")]
            );
            assert_eq!(m.state(), MqttState::Connected);
            done(c);
        });
    }
}

#[test]
fn reconnection_that_drops_again_counts_failures() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            script_connect(u, true);
            u.expect(b"AT+MQTTSUB=0,\"a\",1\r\n", OK);
            u.expect(b"AT+MQTTSUB=0,\"b\",1\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        connect(&mut m, &mut c, true);
        m.subscribe(&mut c, "a", QoS::AtLeastOnce).unwrap();
        m.subscribe(&mut c, "b", QoS::AtLeastOnce).unwrap();
        c.uart_mut().push_rx(b"+MQTTDISCONNECTED:0\r\n");
        assert_eq!(drain(&mut m, &mut c), vec![Ev::Disconnected]);
        c.uart_mut().expect(
            b"AT+MQTTSUB=0,\"a\",1\r\n",
            b"\r\n+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n",
        );
        c.uart_mut().push_rx(CONNECTED);
        assert_eq!(
            drain(&mut m, &mut c),
            vec![Ev::Reconnected(0, 2), Ev::Disconnected]
        );
        assert_eq!(m.state(), MqttState::Disconnected);
        done(c);
    });
}

#[test]
fn recover_without_automatic_reconnection() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            script_connect(u, false);
            u.expect(b"AT+MQTTSUB=0,\"a/b\",1\r\n", OK);
        });
        let mut m: Mqtt = Mqtt::new();
        connect(&mut m, &mut c, false);
        m.subscribe(&mut c, "a/b", QoS::AtLeastOnce).unwrap();
        c.uart_mut().push_rx(b"+MQTTDISCONNECTED:0\r\n");
        assert_eq!(drain(&mut m, &mut c), vec![Ev::Disconnected]);
        assert_eq!(m.state(), MqttState::Disconnected);

        {
            let u = c.uart_mut();
            u.expect(b"AT+MQTTCLEAN=0\r\n", OK);
            script_connect(u, false);
            u.expect(b"AT+MQTTSUB=0,\"a/b\",1\r\n", OK);
        }
        let opts = MqttOptions::new("dev1").reconnect(false);
        assert_eq!(m.recover(&mut c, &opts, "broker", 1883, 5000), Ok(1));
        assert_eq!(m.state(), MqttState::Connected);
        assert_eq!(drain(&mut m, &mut c), vec![]);
        done(c);
    });
}

#[test]
fn recover_ignores_error_of_clean_and_disconnect_clears() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, W800, |u| {
            u.expect(b"AT+MQTTCLEAN=0\r\n", b"\r\nERROR\r\n");
            script_connect(u, true);
            u.expect(
                b"AT+MQTTCLEAN=0\r\n",
                b"\r\n+MQTTDISCONNECTED:0\r\n\r\nOK\r\n",
            );
        });
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            m.recover(&mut c, &MqttOptions::new("dev1"), "broker", 1883, 5000),
            Ok(0)
        );
        assert!(m.is_connected());
        m.disconnect(&mut c).unwrap();
        assert_eq!(m.state(), MqttState::Idle);
        // The +MQTTDISCONNECTED answered AT+MQTTCLEAN.
        assert_eq!(drain(&mut m, &mut c), vec![]);
        done(c);
    });
}

// ---------------------------------------------------------------------------
// SNTP
// ---------------------------------------------------------------------------

#[test]
fn sync_time_waits_for_a_real_date() {
    each_chunk(|chunk| {
        let (mut c, _) = mk(chunk, ESP, |u| {
            u.expect(b"AT+CIPSNTPCFG=1,8\r\n", OK);
            u.expect(
                b"AT+CIPSNTPTIME?\r\n",
                b"+CIPSNTPTIME:Thu Jan 01 00:00:08 1970\r\nOK\r\n",
            );
            u.expect(
                b"AT+CIPSNTPTIME?\r\n",
                b"WIFI GOT IP\r\n+CIPSNTPTIME:Tue Oct 19 17:47:56 2021\r\nOK\r\n",
            );
        });
        let mut m: Mqtt = Mqtt::new();
        let cfg = SetSntpConfig::new(Timezone::hours(8).unwrap());
        let t = m.sync_time(&mut c, &cfg, 5000).unwrap();
        assert_eq!((t.year, t.month, t.day), (2021, 10, 19));
        assert_eq!(drain(&mut m, &mut c), vec![other(Urc::WifiGotIp)]);
        done(c);
    });
}

#[test]
fn sync_time_refused_on_beken() {
    let (mut c, _) = mk(1, BEKEN, |_| {});
    let mut m: Mqtt = Mqtt::new();
    let r = m.sync_time(&mut c, &SetSntpConfig::new(Timezone::UTC), 100);
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
    assert!(written(&mut c).is_empty());
}

#[test]
fn oversized_line_is_reported() {
    each_chunk(|chunk| {
        let mut uart = MockUart::new();
        uart.set_chunk(chunk);
        let mut line = vec![b'x'; 200];
        line.extend_from_slice(b"\r\nWIFI GOT IP\r\n");
        uart.push_rx(&line);
        let clock = uart.clock();
        let mut c: Client<MockUart, MockClock, 128> = Client::new(uart, clock, ESP);
        let mut m: Mqtt = Mqtt::new();
        assert_eq!(
            drain(&mut m, &mut c),
            vec![Ev::Oversized(200), other(Urc::WifiGotIp)]
        );
        done(c);
    });
}
