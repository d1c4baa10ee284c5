//! Seed inputs of the three targets: the ESP-AT capture of the test suite
//! (`tests/data/esp-at-capture.bin`) and the shapes real modules were seen to send
//! (`real-module-behaviour.md` of the shared notes), in each target's input format.
//!
//! `examples/gen_seeds.rs` writes them to `fuzz/seeds/<target>/`; the replay test runs
//! them through the harnesses.

use crate::client::{self, Op};
use crate::framer;
use at_wifi::framer::PromptMode;
use at_wifi::Dialect;

/// The ESP-AT capture of the test suite.
pub const CAPTURE: &[u8] = include_bytes!("../../tests/data/esp-at-capture.bin");

/// Module output that steers framing and routing, as modules really sent it.
pub const SHAPES: &[(&str, &[u8])] = &[
    ("prompt-after-ok", b"\r\nOK\r\n\r\n>"),
    ("prompt-space", b"\r\n> "),
    ("prompt-glued", b"\r\nOK\r\n\r\n>+MQTTPUB:OK\r\n"),
    (
        "subrecv-crlf-ok",
        b"+MQTTSUBRECV:0,\"t\",7,a\r\nOK\r\n\r\nOK\r\n",
    ),
    (
        "subrecv-json",
        b"+MQTTSUBRECV:0,\"dev/1/cmd\",30,{\"a\":\"b,c\",\"u\":\"http://x/\\\"\"}\r\n",
    ),
    (
        "subrecv-quote-topic",
        b"+MQTTSUBRECV:0,\"a\"b,c\",3,xyz\r\n",
    ),
    ("subrecv-empty", b"+MQTTSUBRECV:0,\"t\",0,\r\n"),
    ("ipd-glued-closed", b"+IPD,0,5:hello0,CLOSED\r\n"),
    ("ipd-single", b"+IPD,5:hi\r\n0\r\n"),
    (
        "ipd-ip-port",
        b"+IPD,0,10,192.168.1.2,8080:0123456789\r\n",
    ),
    ("ipd-passive", b"+IPD,0,5\r\n"),
    ("ipd-huge", b"+IPD,0,99999:xx\r\nOK\r\n"),
    ("ipd-not-number", b"+IPD,0,5x:hello\r\nOK\r\n"),
    ("ipd-http", b"+IPD,0,24:HTTP/1.1 200\r\n\r\nOK\r\n>\r\n\r\n"),
    ("ciprecvdata-colon", b"+CIPRECVDATA:5,he\r\no\r\nOK\r\n"),
    ("ciprecvdata-comma", b"+CIPRECVDATA,5:hello\r\nOK\r\n"),
    ("socketread", b"+SOCKETREAD,1,5,hello\r\nOK\r\n"),
    ("socketdown", b"+EVENT:SocketDown,1,5,he,lo\r\n"),
    ("mqtt-sub-combo", b"+EVENT:MQTT_SUB,a,b/c,3,abc\r\n"),
    ("busy", b"\r\nbusy p...\r\n"),
    ("busy-then-ok", b"AT+RST\r\n\r\nbusy p...\r\n\r\nOK\r\n"),
    (
        "err-codes",
        b"\r\nERR CODE:0x01090000\r\nERR CODE:0x010b0000\r\n\r\nERROR\r\n",
    ),
    ("err-code-then-ok", b"ERR CODE:0x00000000\r\nOK\r\n"),
    ("echo-extra-cr", b"AT+CIFSR\r\r\n+CIFSR:STAIP,\"1.2.3.4\"\r\n\r\nOK\r\n"),
    ("echo-lower", b"at+gmr\r\nAT version:2.2.0.0\r\nOK\r\n"),
    ("echo-spliced", b"AT+CIPSEND=0,1,CONNECT\r\n98\r\n\r\nOK\r\n\r\n>"),
    (
        "send-two-results",
        b"\r\nRecv 5 bytes\r\n\r\nSEND FAIL\r\n\r\nSEND OK\r\n",
    ),
    ("lf-only", b"\nOK\n+MQTTSUBRECV:0,\"t\",2,\n\n\nERROR\n"),
    ("lf-lf-nul", b"OK\n\n\0ERROR\n\n\0"),
    ("blank-space-lines", b"\r\n   \r\n\t\r\nOK   \r\n  \r\n"),
    (
        "boot-noise",
        b"\xe0\x82\x9c\xfc\x13\x8c\xf2n\xec\x8c\x12\x83\x93\xfe\r\n\r\nets Jan  8 2013,rst cause:2\r\n\r\nWIFI DISCONNECT\r\nOK\r\nready\r\n",
    ),
    ("got-ip", b"WIFI GOT IP\r\n"),
    (
        "cwjap-urcs",
        b"AT+CWJAP=\"lab\",\"secret\"\r\r\nWIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n",
    ),
    ("cwjap-fail", b"+CWJAP:2\r\n\r\nERROR\r\n"),
    (
        "mqttconnected-quoted",
        b"+MQTTCONNECTED:0,1,\"host\",\"1883\",\"\",0\r\n",
    ),
    ("mqttdisconnected", b"+MQTTDISCONNECTED:0\r\n"),
    ("mqttsub-empty", b"+MQTTSUB:0,1,\"\",0\r\n\r\nOK\r\n"),
    (
        "sub-interleaved",
        b"AT+MQTTSUB=0,\"t\",1\r\n+MQTTDISCONNECTED:0\r\n\r\nERROR\r\n",
    ),
    (
        "pub-own-msg",
        b"+MQTTSUBRECV:0,\"t\",2,hi\r\nOK\r\n",
    ),
    (
        "pubraw-msg-before-prompt",
        b"\r\nOK\r\n+MQTTSUBRECV:0,\"t\",1,x\r\n\r\n>",
    ),
    ("combo-bare", b"1,4,3,192.168.31.239,8080\r\nOK\r\n"),
    ("combo-connect", b"connect success ConID=1\r\nOK\r\n"),
    ("combo-running", b"AT+WJAP cmd is running\r\n"),
    ("w800-errors", b"CMD FORMAT ERR\r\nCMD PARSE ERR\r\n"),
    (
        "beken-results",
        b"OK\r\n+MQTTCONN:OK\r\n+MQTTPUB:ERROR,3\r\n+MQTTPUBRAW:OK\r\n",
    ),
    (
        "corrupt-mid-line",
        b"+MQTTSUBRECV:0,\"t\",5,ab+MQTTSUBRECV:0,\"t\",3,xyz\r\nOK\r\n",
    ),
    ("header-mid-line", b"garbage+IPD,0,3:abc\r\nOK\r\n"),
    (
        "cwjap-query",
        b"+CWJAP:\"ho,me\"\",\"aa:bb:cc:dd:ee:ff\",6,-50,0,1,3,0,1\r\n\r\nOK\r\n",
    ),
    ("no-ap", b"No AP\r\n\r\nOK\r\n"),
    (
        "gmr",
        b"AT version:2.2.0.0-dev(ca41ec4 - ESP32 - Sep 16 2020 11:28:17)\r\nSDK version:v4.0.1-193-ge7ac221b4\r\ncompile time(98b95fc):Oct 29 2020 11:23:25\r\nBin version:2.1.0(MINI-1)\r\n\r\nOK\r\n",
    ),
    ("sntp-time", b"+CIPSNTPTIME:Tue Oct  9 17:47:56 2021\r\nOK\r\n"),
    ("sntp-time-iso", b"+CIPSNTPTIME:2022-10-21 19:20:39\r\nOK\r\n"),
    (
        "sntp-cfg",
        b"+CIPSNTPCFG:1,530,\"pool.ntp.org\",\"time.google.com\"\r\nOK\r\n",
    ),
    (
        "mqttconn-query",
        b"+MQTTCONN:0,4,1,\"192.168.10.234\",1883,\"\",0\r\n\r\nOK\r\n",
    ),
    (
        "mqttconn-beken",
        b"+MQTTCONN:OK\r\n+MQTTCONNSTATE:connected,5000,120,1,1\r\nOK\r\n",
    ),
    (
        "usercfg-query",
        b"+MQTTUSERCFG:0,5,\"w800\",\"WinnerMicro\",\"12\\,34\",0,0,\"\"\r\n\r\nOK\r\n",
    ),
    (
        "conncfg-query",
        b"+MQTTCONNCFG:0,120,1,\"lwt/t\",\"bye\\, now\",2,1\r\n\r\nOK\r\n",
    ),
    (
        "alpn-query",
        b"+MQTTALPN:0,\"mqtt-ca.cn\"\r\n+MQTTALPN:0,\"mqtt-ca.us\"\r\n\r\nOK\r\n",
    ),
];

/// A `+MQTTSUBRECV` message of `len` bytes split the way ESP-AT splits it (each line,
/// header included, within 1024 bytes).
pub fn split_message(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut left = len;
    let mut i = 0u8;
    while left > 0 {
        // `+MQTTSUBRECV:0,"t",1004,` is 20 bytes: 1004 + 20 = 1024.
        let n = left.min(1004);
        let header = format!("+MQTTSUBRECV:0,\"t\",{n},");
        out.extend_from_slice(header.as_bytes());
        out.extend((0..n).map(|k| b'a' + ((k + usize::from(i)) % 26) as u8));
        out.extend_from_slice(b"\r\n");
        left -= n;
        i = i.wrapping_add(1);
    }
    out
}

/// Every shape plus long ones (a split 2500-byte message, an oversized line, a flood of
/// URCs).
pub fn module_outputs() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = SHAPES
        .iter()
        .map(|(n, b)| ((*n).to_string(), b.to_vec()))
        .collect();
    v.push(("split-2500".into(), split_message(2500)));
    let mut long = vec![b'x'; 1500];
    long.extend_from_slice(b"\r\nOK\r\n");
    v.push(("oversized-line".into(), long));
    let mut topic = b"+MQTTSUBRECV:0,\"".to_vec();
    topic.extend(std::iter::repeat_n(b'/', 1200));
    topic.extend_from_slice(b"\",3,abc\r\nOK\r\n");
    v.push(("long-topic".into(), topic));
    v.push(("urc-flood".into(), b"WIFI GOT IP\r\n".repeat(200)));
    v.push(("capture".into(), CAPTURE.to_vec()));
    v
}

/// A named seed.
pub type Seed = (String, Vec<u8>);

/// Seeds of the `framer` target.
pub fn framer() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let chunkings: [&[usize]; 3] = [&[255], &[1], &[3, 0, 7, 1, 64]];
    for (name, out) in module_outputs() {
        for (ci, chunks) in chunkings.iter().enumerate() {
            for (di, &dialect) in Dialect::ALL.iter().enumerate() {
                // Not every combination: each output once per chunking, dialects and sizes
                // spread over them.
                if (di + ci) % 2 == 1 && name != "capture" {
                    continue;
                }
                let case = framer::Case {
                    dialect,
                    size: (di + ci) % 4,
                    mode: if ci == 1 {
                        PromptMode::Always
                    } else {
                        PromptMode::Once
                    },
                    chunks: chunks.to_vec(),
                    changes: if ci == 2 {
                        vec![(2, PromptMode::Never), (9, PromptMode::Once)]
                    } else {
                        Vec::new()
                    },
                    data: &out,
                };
                seeds.push((format!("{name}-{}-c{ci}", dialect.name()), case.encode()));
            }
        }
    }
    seeds
}

fn client_case(dialect: Dialect, small: bool, chunks: &[usize], ops: Vec<Op>) -> Vec<u8> {
    client::Case {
        dialect,
        small,
        chunks: chunks.to_vec(),
        // sync 400 ms, quiet 20 ms, prompt 400 ms, drain 4 KiB.
        config: [100, 20, 50, 63],
        ops,
    }
    .encode()
}

/// Seeds of the `client` target.
pub fn client() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let line = |s: &str| s.as_bytes().to_vec();
    for (ci, chunks) in [&[255usize][..], &[1], &[3, 5, 64]].iter().enumerate() {
        for (di, &d) in Dialect::ALL.iter().enumerate() {
            let small = (ci + di) % 3 == 2;
            let tag = format!("{}-c{ci}{}", d.name(), if small { "-small" } else { "" });
            // The capture, read as events, then a command.
            seeds.push((
                format!("capture-{tag}"),
                client_case(
                    d,
                    small,
                    chunks,
                    vec![
                        Op::Push(CAPTURE.to_vec()),
                        Op::Poll(255),
                        Op::Schedule(1, b"AT\r\n\r\nOK\r\n".to_vec()),
                        Op::SendAt,
                        Op::Wait(10),
                    ],
                ),
            ));
            // Each shape as the reply of a command, then polled.
            for (i, (name, out)) in module_outputs().into_iter().enumerate() {
                if (i + ci + di) % 4 != 0 {
                    continue;
                }
                let op = match i % 5 {
                    0 => Op::SendAt,
                    1 => Op::SendLine(300, line("AT+CIPSEND=0,5")),
                    2 => Op::SendData(1, b"hello".to_vec()),
                    3 => Op::Query(i as u8),
                    _ => Op::SendData(0, b"x\r\nOK\r\n".to_vec()),
                };
                seeds.push((
                    format!("shape-{name}-{tag}"),
                    client_case(
                        d,
                        small,
                        chunks,
                        vec![
                            Op::Schedule(1, out.clone()),
                            op,
                            Op::Schedule(3, b"\r\nSEND OK\r\n+MQTTPUB:OK\r\n".to_vec()),
                            Op::Poll(8),
                            Op::Wait(20),
                            Op::Poll(255),
                        ],
                    ),
                ));
            }
        }
    }
    // Timeouts and late replies, busy, resets, prompts that never come.
    let flows: Vec<(&str, Vec<Op>)> = vec![
        (
            "late-reply",
            vec![
                Op::SendLine(50, line("AT+GMR")),
                // The late reply answers the resynchronising `AT`; the `OK` after the
                // quiet time answers the `AT` sent.
                Op::Schedule(5, b"AT version:x\r\nOK\r\n".to_vec()),
                Op::Schedule(40, b"\r\nOK\r\n".to_vec()),
                Op::SendAt,
            ],
        ),
        (
            "busy-forever",
            vec![
                Op::Schedule(1, b"\r\nbusy p...\r\n".to_vec()),
                Op::SendLine(100, line("AT+MQTTCONN=0,\"h\",1883,1")),
                Op::Schedule(1, b"\r\nOK\r\n\r\nOK\r\n".to_vec()),
                Op::SendAt,
            ],
        ),
        (
            "no-prompt",
            vec![
                Op::SendData(0, b"data".to_vec()),
                Op::Push(b">\r\nSEND OK\r\n".to_vec()),
                Op::Poll(10),
                Op::Schedule(2, b"OK\r\n".to_vec()),
                Op::SendAt,
            ],
        ),
        (
            "reset-mid-command",
            vec![
                Op::Schedule(2, b"\r\nready\r\n".to_vec()),
                Op::Query(7),
                Op::Poll(4),
                Op::Schedule(1, b"OK\r\n".to_vec()),
                Op::SendAt,
            ],
        ),
        (
            "join-fail",
            vec![
                Op::Schedule(1, b"WIFI DISCONNECT\r\n+CWJAP:1\r\n\r\nERROR\r\n".to_vec()),
                Op::Query(7),
                Op::Poll(4),
            ],
        ),
        (
            "write-raw",
            vec![
                Op::Push(b"WIFI GOT IP\r\n".to_vec()),
                Op::WriteRaw(b"+++".to_vec()),
                Op::Advance(200),
                Op::Poll(3),
            ],
        ),
        (
            "mqttpubraw",
            vec![
                Op::Schedule(1, b"\r\nOK\r\n\r\n>".to_vec()),
                Op::Schedule(2, b"+MQTTSUBRECV:0,\"t/x\",5,hello+MQTTPUB:OK\r\n".to_vec()),
                Op::SendData(1, b"hello".to_vec()),
                Op::Poll(3),
            ],
        ),
    ];
    for (name, ops) in flows {
        for &d in &Dialect::ALL {
            seeds.push((
                format!("flow-{name}-{}", d.name()),
                client_case(d, false, &[255], ops.clone()),
            ));
        }
        seeds.push((
            format!("flow-{name}-small-bytewise"),
            client_case(Dialect::EspAt, true, &[1], ops),
        ));
    }
    seeds
}

/// Seeds of the `urc_parse` target.
pub fn urc() -> Vec<Seed> {
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, out) in module_outputs() {
        if out.len() <= 300 {
            texts.push((format!("reply-{name}"), out.clone()));
        }
        for (i, l) in out.split(|&b| b == b'\n').enumerate() {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if !l.is_empty() && l.len() <= 300 {
                texts.push((format!("line-{name}-{i}"), l.to_vec()));
            }
        }
    }
    let lines: &[&[u8]] = &[
        b"WIFI CONNECTED",
        b"+EVENT:WIFI_GOT_IP",
        b"+MQTTCONNECTED:0,1,\"broker\",1883,1",
        b"+MQTTCONNECTED:0,6,\"h\",\"443\",\"/mqtt\",\"1\"",
        b"+EVENT:SocketDissconnect,3",
        b"+EVENT:SocketDown,1,20",
        b"12,CONNECT",
        b"+MQTTPUB:FAIL",
        b"+MQTTPUBRAW:ERROR,-1",
        b"+CWJAP:\"ssid\",\"aa:bb:cc:dd:ee:ff\",11,-90",
        b"ERR CODE:0x0102abcd",
        b"\"2\"",
        b"\xe2\x80\x9c1\xe2\x80\x9d",
        b"disconnect",
    ];
    for (i, l) in lines.iter().enumerate() {
        texts.push((format!("urc-{i}"), l.to_vec()));
    }
    let mut seen = std::collections::HashSet::new();
    texts.retain(|(_, t)| seen.insert(t.clone()));
    let mut seeds = Vec::new();
    for (i, (name, text)) in texts.into_iter().enumerate() {
        // The header length of a data frame: up to the separator before the payload.
        let split = text
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b',' || b == b':')
            .map(|(k, _)| k)
            .nth(i % 4)
            .unwrap_or(text.len());
        let data_len = text.len().saturating_sub(split + 1) as u16;
        let mut w = crate::Writer::default();
        w.u8((i % 2) as u8).u16(data_len).u8(split.min(255) as u8);
        w.bytes(&text);
        seeds.push((name, w.out));
    }
    seeds
}

/// `(target, seeds)` for every target.
pub fn all() -> Vec<(&'static str, Vec<Seed>)> {
    vec![
        ("framer", framer()),
        ("client", client()),
        ("urc_parse", urc()),
    ]
}

#[cfg(test)]
mod tests {
    /// Every seed runs through its harness without a failure (the same checks as the fuzz
    /// targets, on stable).
    #[test]
    fn seeds_pass_the_harnesses() {
        for (target, seeds) in super::all() {
            for (name, input) in seeds {
                let run = match target {
                    "framer" => crate::framer::run,
                    "client" => crate::client::run,
                    _ => crate::urc::run,
                };
                let r = std::panic::catch_unwind(|| run(&input));
                assert!(r.is_ok(), "{target} seed {name} failed");
            }
        }
    }

    /// The client seeds do what they are for: the module output is read, commands are
    /// written, and mock time passes.
    #[test]
    fn client_seeds_drive_the_client() {
        let seeds = super::client();
        let find = |n: &str| {
            let (_, input) = seeds.iter().find(|(name, _)| name == n).unwrap();
            crate::client::summary(input)
        };
        let s = find("capture-esp-at-c0");
        assert_eq!(s.stats.bytes_read, super::CAPTURE.len() as u64 + 10);
        assert!(s.written.starts_with(b"AT\r\n"), "{:?}", s.written);
        let s = find("flow-late-reply-esp-at");
        assert_eq!(s.stats.timeouts, 1);
        assert!(s.mock_ms >= 50);
        assert!(crate::show(&s.written).contains("AT+GMR\\r\\nAT\\r\\n"));
        let s = find("flow-mqttpubraw-esp-at");
        assert!(
            crate::show(&s.written).ends_with("hello"),
            "{}",
            crate::show(&s.written)
        );
    }

    #[test]
    fn formats_round_trip() {
        for (_, input) in super::framer() {
            let case = crate::framer::Case::decode(&input);
            assert_eq!(case.encode(), input);
        }
        for (_, input) in super::client() {
            let case = crate::client::Case::decode(&input);
            assert_eq!(case.encode(), input);
        }
    }
}
