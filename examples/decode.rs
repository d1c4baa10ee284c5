//! Decodes a capture of a module's TX line (what the module sent) into frames, with the
//! crate's own framer, and prints one JSON object per frame, one per line.
//!
//! ```text
//! cargo run --example decode -- [--dialect esp-at|w800|beken|ai-thinker] FILE
//! ```
//!
//! `FILE` is a raw byte capture; `-` reads standard input. The dialect defaults to
//! `esp-at`. There is no client, so the framer runs in [`PromptMode::Always`]: a `>` that
//! starts a line and is followed by nothing, a space or more output on the same line is the
//! prompt.
//!
//! Output, one object per frame:
//!
//! ```text
//! {"kind":"ok"}
//! {"kind":"error","text":"ERROR"}
//! {"kind":"error_code","code":"0x010a6006"}
//! {"kind":"busy","text":"busy p..."}
//! {"kind":"prompt"}
//! {"kind":"data","header":"+MQTTSUBRECV:0,\"t\",5","len":5,"data_hex":"68656c6c6f"}
//! {"kind":"data","header":"+IPD,0,9000","len":9000,"data_hex":"…","truncated":true}
//! {"kind":"line","text":"+MQTTDISCONNECTED:0"}
//! {"kind":"line","text":"ready"}
//! {"kind":"line","text":"<first bytes>","truncated":true,"len":20000}
//! ```
//!
//! `ready` is printed as a line; a line longer than the buffer as a truncated line with its
//! full length; `data_hex` holds the payload bytes received (fewer than `len` when
//! truncated).
//!
//! Strings are exact, whatever the bytes: every byte becomes one character. `"` and `\` are
//! escaped as `\"` and `\\`, control bytes (0x00–0x1f and 0x7f) and every byte of 0x80 and
//! above as `\u00XX` — bytes above 0x7f are **not** decoded as UTF-8 but mapped to the code
//! point of the same value (Latin-1), so nothing is lost and each `\u00XX` is one byte of
//! the capture.
//!
//! Exit status: 0 on success, 2 on a usage error (unknown option or dialect, no file, a
//! file that cannot be read).

use at_wifi::framer::{Frame, Framer, PromptMode};
use at_wifi::Dialect;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

/// Buffer size of the framer: larger than any frame a module sends.
const BUF: usize = 16384;
/// Bytes handed to the framer at a time, to exercise its incremental path.
const CHUNK: usize = 4096;

const USAGE: &str = "\
usage: decode [--dialect esp-at|w800|beken|ai-thinker] FILE

Decodes a capture of a Wi-Fi module's TX line and prints one JSON object per frame.
FILE is a raw byte capture; `-` reads standard input. The dialect defaults to esp-at.";

/// Parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Decode { dialect: Dialect, file: String },
}

/// Parses the arguments (without the program name).
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut dialect = Dialect::EspAt;
    let mut file = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let name = match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--dialect" => Some(
                args.next()
                    .ok_or_else(|| "--dialect needs a value".to_string())?,
            ),
            _ => arg.strip_prefix("--dialect=").map(str::to_string),
        };
        if let Some(name) = name {
            dialect = name
                .parse()
                .map_err(|e| format!("--dialect {name:?}: {e}"))?;
        } else if arg.starts_with('-') && arg != "-" {
            return Err(format!("unknown option {arg:?}"));
        } else if file.replace(arg).is_some() {
            return Err("more than one FILE given".to_string());
        }
    }
    let file = file.ok_or_else(|| "no FILE given".to_string())?;
    Ok(Command::Decode { dialect, file })
}

/// Appends `bytes` as a JSON string, one character per byte (see the module docs).
fn push_json_str(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
    }
    out.push('"');
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

/// One frame as a JSON object (no line end).
fn frame_json(frame: &Frame<'_>) -> String {
    let mut s = String::new();
    match frame {
        Frame::Ok => s.push_str(r#"{"kind":"ok"}"#),
        Frame::Error(text) => {
            s.push_str(r#"{"kind":"error","text":"#);
            push_json_str(&mut s, text);
            s.push('}');
        }
        Frame::ErrorCode(code) => {
            let _ = write!(s, r#"{{"kind":"error_code","code":"0x{code:08x}"}}"#);
        }
        Frame::Busy(text) => {
            s.push_str(r#"{"kind":"busy","text":"#);
            push_json_str(&mut s, text);
            s.push('}');
        }
        Frame::Prompt => s.push_str(r#"{"kind":"prompt"}"#),
        Frame::Ready => s.push_str(r#"{"kind":"line","text":"ready"}"#),
        Frame::Line(text) => {
            s.push_str(r#"{"kind":"line","text":"#);
            push_json_str(&mut s, text);
            s.push('}');
        }
        Frame::Oversized { start, len } => {
            s.push_str(r#"{"kind":"line","text":"#);
            push_json_str(&mut s, start);
            let _ = write!(s, r#","truncated":true,"len":{len}}}"#);
        }
        Frame::Data(d) => {
            s.push_str(r#"{"kind":"data","header":"#);
            push_json_str(&mut s, d.header);
            let _ = write!(s, r#","len":{},"data_hex":""#, d.len);
            push_hex(&mut s, d.data);
            s.push('"');
            if d.truncated {
                s.push_str(r#","truncated":true"#);
            }
            s.push('}');
        }
    }
    s
}

/// Frames `input` and writes one JSON line per frame to `out`.
fn decode<W: Write>(dialect: Dialect, input: &[u8], out: &mut W) -> io::Result<()> {
    let mut framer: Box<Framer<BUF>> = Box::new(Framer::new(dialect));
    framer.set_prompt_mode(PromptMode::Always);
    for chunk in input.chunks(CHUNK) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let (used, frame) = framer.feed(rest);
            rest = &rest[used..];
            if let Some(f) = frame {
                writeln!(out, "{}", frame_json(&f))?;
            }
        }
    }
    if let Some(f) = framer.finish() {
        writeln!(out, "{}", frame_json(&f))?;
    }
    Ok(())
}

fn read_input(file: &str) -> io::Result<Vec<u8>> {
    if file == "-" {
        let mut v = Vec::new();
        io::stdin().lock().read_to_end(&mut v)?;
        Ok(v)
    } else {
        std::fs::read(file)
    }
}

fn main() -> ExitCode {
    let (dialect, file) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Decode { dialect, file }) => (dialect, file),
        Err(e) => {
            eprintln!("decode: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let input = match read_input(&file) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("decode: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match decode(dialect, &input, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`decode … | head`): not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode: writing output: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use at_wifi::framer::DataFrame;

    fn run(dialect: Dialect, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        decode(dialect, input, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn args(a: &[&str]) -> Result<Command, String> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn each_kind() {
        let cases: &[(Frame<'_>, &str)] = &[
            (Frame::Ok, r#"{"kind":"ok"}"#),
            (Frame::Error(b"ERROR"), r#"{"kind":"error","text":"ERROR"}"#),
            (
                Frame::Error(b"CMD PARSE ERR"),
                r#"{"kind":"error","text":"CMD PARSE ERR"}"#,
            ),
            (
                Frame::ErrorCode(0x010a_6006),
                r#"{"kind":"error_code","code":"0x010a6006"}"#,
            ),
            (
                Frame::ErrorCode(0xABCD),
                r#"{"kind":"error_code","code":"0x0000abcd"}"#,
            ),
            (
                Frame::Busy(b"busy p..."),
                r#"{"kind":"busy","text":"busy p..."}"#,
            ),
            (Frame::Prompt, r#"{"kind":"prompt"}"#),
            (Frame::Ready, r#"{"kind":"line","text":"ready"}"#),
            (
                Frame::Line(b"+MQTTDISCONNECTED:0"),
                r#"{"kind":"line","text":"+MQTTDISCONNECTED:0"}"#,
            ),
            (
                Frame::Oversized {
                    start: b"abc",
                    len: 20000,
                },
                r#"{"kind":"line","text":"abc","truncated":true,"len":20000}"#,
            ),
            (
                Frame::Data(DataFrame {
                    header: b"+MQTTSUBRECV:0,\"t\",5",
                    len: 5,
                    data: b"hello",
                    truncated: false,
                }),
                r#"{"kind":"data","header":"+MQTTSUBRECV:0,\"t\",5","len":5,"data_hex":"68656c6c6f"}"#,
            ),
            (
                Frame::Data(DataFrame {
                    header: b"+IPD,0,9000",
                    len: 9000,
                    data: b"\x00\xff",
                    truncated: true,
                }),
                r#"{"kind":"data","header":"+IPD,0,9000","len":9000,"data_hex":"00ff","truncated":true}"#,
            ),
            (
                Frame::Data(DataFrame {
                    header: b"+IPD,0,0",
                    len: 0,
                    data: b"",
                    truncated: false,
                }),
                r#"{"kind":"data","header":"+IPD,0,0","len":0,"data_hex":""}"#,
            ),
        ];
        for (frame, json) in cases {
            assert_eq!(frame_json(frame), *json, "{frame:?}");
        }
    }

    #[test]
    fn string_escaping_is_exact() {
        let mut s = String::new();
        push_json_str(&mut s, b"a\"b\\c/d\x00\x01\x1f \x7f~\x80\xe9\xff\t\r\n");
        assert_eq!(
            s,
            r#""a\"b\\c/d\u0000\u0001\u001f \u007f~\u0080\u00e9\u00ff\u0009\u000d\u000a""#
        );
        // Every byte value round-trips through the Latin-1 mapping.
        let all: Vec<u8> = (0..=255).collect();
        let mut s = String::new();
        push_json_str(&mut s, &all);
        assert!(s.is_ascii());
        let back = unescape(&s);
        assert_eq!(back, all);
    }

    /// A minimal JSON string decoder for the escapes `push_json_str` writes.
    fn unescape(s: &str) -> Vec<u8> {
        let s = s.strip_prefix('"').unwrap().strip_suffix('"').unwrap();
        let mut out = Vec::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(u8::try_from(u32::from(c)).unwrap());
                continue;
            }
            match it.next().unwrap() {
                '"' => out.push(b'"'),
                '\\' => out.push(b'\\'),
                'u' => {
                    let hex: String = it.by_ref().take(4).collect();
                    out.push(u8::try_from(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => panic!("unexpected escape {other}"),
            }
        }
        out
    }

    #[test]
    fn line_with_odd_bytes() {
        assert_eq!(
            run(Dialect::EspAt, b"\xe0\x82\"x\\\x01\r\n"),
            [r#"{"kind":"line","text":"\u00e0\u0082\"x\\\u0001"}"#]
        );
    }

    #[test]
    fn truncated_data_and_oversized_line() {
        let mut input = b"+IPD,0,8000:".to_vec();
        input.extend(std::iter::repeat_n(b'a', 8000));
        input.extend_from_slice(b"OK\r\n");
        // Fits in 16 KiB: complete.
        let out = run(Dialect::EspAt, &input);
        assert_eq!(out.len(), 2);
        assert!(out[0]
            .starts_with(r#"{"kind":"data","header":"+IPD,0,8000","len":8000,"data_hex":"6161"#));
        assert!(out[0].ends_with(r#"61"}"#));
        assert_eq!(out[1], r#"{"kind":"ok"}"#);

        // Input cut mid-payload: truncated by finish().
        let out = run(Dialect::EspAt, b"+IPD,0,10:abc");
        assert_eq!(
            out,
            [
                r#"{"kind":"data","header":"+IPD,0,10","len":10,"data_hex":"616263","truncated":true}"#
            ]
        );

        // A line longer than the buffer.
        let mut input = vec![b'x'; BUF + 100];
        input.extend_from_slice(b"\r\nOK\r\n");
        let out = run(Dialect::EspAt, &input);
        let expected = format!(
            r#"{{"kind":"line","text":"{}","truncated":true,"len":{}}}"#,
            "x".repeat(BUF),
            BUF + 100
        );
        assert_eq!(out, [expected.as_str(), r#"{"kind":"ok"}"#]);
    }

    #[test]
    fn prompt_is_always_recognised() {
        assert_eq!(
            run(Dialect::EspAt, b"OK\r\n\r\n>+MQTTPUB:OK\r\n> \r\n>"),
            [
                r#"{"kind":"ok"}"#,
                r#"{"kind":"prompt"}"#,
                r#"{"kind":"line","text":"+MQTTPUB:OK"}"#,
                r#"{"kind":"prompt"}"#,
                r#"{"kind":"prompt"}"#,
            ]
        );
        // Not in the middle of a line.
        assert_eq!(
            run(Dialect::EspAt, b"a>b\r\n"),
            [r#"{"kind":"line","text":"a>b"}"#]
        );
    }

    #[test]
    fn esp_at_capture() {
        let capture = include_bytes!("../tests/data/esp-at-capture.bin");
        let all_hex: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
        let subrecv = format!(
            r#"{{"kind":"data","header":"+MQTTSUBRECV:0,\"dev/2/cmd\",256","len":256,"data_hex":"{all_hex}"}}"#
        );
        let expected = [
            r#"{"kind":"line","text":"\u00e0\u0082\u009c\u00fc\u0013\u008c\u00f2n\u00ec\u008c\u0012\u0083\u0093\u00fe"}"#,
            r#"{"kind":"line","text":"ets Jan  8 2013,rst cause:2, boot mode:(3,6)"}"#,
            r#"{"kind":"line","text":"load 0x40100000, len 2592, room 16"}"#,
            r#"{"kind":"line","text":"ready"}"#,
            r#"{"kind":"line","text":"AT+CWJAP=\"lab\",\"secret\""}"#,
            r#"{"kind":"line","text":"WIFI CONNECTED"}"#,
            r#"{"kind":"line","text":"WIFI GOT IP"}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"line","text":"AT+MQTTCONN=0,\"192.168.1.2\",1883,1"}"#,
            r#"{"kind":"line","text":"+MQTTCONNECTED:0,1,\"192.168.1.2\",\"1883\",\"\",1"}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"line","text":"AT+MQTTSUB=0,\"dev/+/cmd\",1"}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"line","text":"AT+MQTTPUBRAW=0,\"dev/1/state\",5,0,0"}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"data","header":"+MQTTSUBRECV:0,\"dev/1/cmd\",9","len":9,"data_hex":"6f6e2c0d0a4f4b0d0a"}"#,
            r#"{"kind":"prompt"}"#,
            r#"{"kind":"line","text":"+MQTTPUB:OK"}"#,
            subrecv.as_str(),
            r#"{"kind":"line","text":"AT+MQTTPUB=0,\"x\",\"\",0,0"}"#,
            r#"{"kind":"error_code","code":"0x010a6006"}"#,
            r#"{"kind":"error_code","code":"0x010a6006"}"#,
            r#"{"kind":"error","text":"ERROR"}"#,
            r#"{"kind":"line","text":"AT+MQTTPUB=0,\"x\",\"1\",0,0"}"#,
            r#"{"kind":"busy","text":"busy p..."}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"line","text":"+MQTTDISCONNECTED:0"}"#,
        ];
        assert_eq!(run(Dialect::EspAt, capture), expected);
    }

    #[test]
    fn ai_thinker_capture() {
        let capture =
            b"\r\nready\r\nAT+SOCKET=4,192.168.1.2,8080\r\nconnect success ConID=1\r\nOK\r\n\
            +SOCKETREAD,1,7,a\r\nOK\r\n>+EVENT:SocketDown,1,2,\xff\x00ERROR: cmd is running\r\n\
            +EVENT:MQTT_SUB,dev/cmd,3,on!\r\n+EVENT:SocketDown,1\r\nERR CODE:0x010a6006\r\n";
        let expected = [
            r#"{"kind":"line","text":"ready"}"#,
            r#"{"kind":"line","text":"AT+SOCKET=4,192.168.1.2,8080"}"#,
            r#"{"kind":"line","text":"connect success ConID=1"}"#,
            r#"{"kind":"ok"}"#,
            r#"{"kind":"data","header":"+SOCKETREAD,1,7","len":7,"data_hex":"610d0a4f4b0d0a"}"#,
            r#"{"kind":"prompt"}"#,
            r#"{"kind":"data","header":"+EVENT:SocketDown,1,2","len":2,"data_hex":"ff00"}"#,
            r#"{"kind":"busy","text":"ERROR: cmd is running"}"#,
            r#"{"kind":"data","header":"+EVENT:MQTT_SUB,dev/cmd,3","len":3,"data_hex":"6f6e21"}"#,
            r#"{"kind":"line","text":"+EVENT:SocketDown,1"}"#,
            r#"{"kind":"line","text":"ERR CODE:0x010a6006"}"#,
        ];
        assert_eq!(run(Dialect::AiThinker, capture), expected);
        // The same bytes as ESP-AT: no data headers of its own, so lines throughout.
        let esp = run(Dialect::EspAt, capture);
        assert!(esp.iter().all(|l| !l.contains(r#""kind":"data""#)));
    }

    #[test]
    fn w800_error_words() {
        assert_eq!(
            run(Dialect::W800, b"CMD FORMAT ERR\r\nbusy ...\r\n"),
            [
                r#"{"kind":"error","text":"CMD FORMAT ERR"}"#,
                r#"{"kind":"busy","text":"busy ..."}"#,
            ]
        );
    }

    #[test]
    fn arguments() {
        assert_eq!(
            args(&["cap.bin"]),
            Ok(Command::Decode {
                dialect: Dialect::EspAt,
                file: "cap.bin".into()
            })
        );
        assert_eq!(
            args(&["--dialect", "ai-thinker", "-"]),
            Ok(Command::Decode {
                dialect: Dialect::AiThinker,
                file: "-".into()
            })
        );
        assert_eq!(
            args(&["-", "--dialect=w800"]),
            Ok(Command::Decode {
                dialect: Dialect::W800,
                file: "-".into()
            })
        );
        assert_eq!(args(&["--help"]), Ok(Command::Help));
        assert_eq!(args(&["x", "-h"]), Ok(Command::Help));
        assert!(args(&[]).is_err());
        assert!(args(&["--dialect", "esp8266", "x"]).is_err());
        assert!(args(&["--dialect"]).is_err());
        assert!(args(&["--verbose", "x"]).is_err());
        assert!(args(&["a", "b"]).is_err());
    }
}
