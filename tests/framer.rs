//! Host tests for `at_wifi::framer`: every test frames its input delivered in chunks of 1,
//! 2, 3, 7 and 64 bytes and all at once, and asserts the same exact frames for each.

use at_wifi::framer::{Framer, PromptMode, MAX_DECLARED_LEN};
use at_wifi::Dialect;
mod framer_common;
use framer_common::*;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

fn error(s: impl AsRef<[u8]>) -> F {
    F::Error(B(s.as_ref().to_vec()))
}

fn busy(s: impl AsRef<[u8]>) -> F {
    F::Busy(B(s.as_ref().to_vec()))
}

/// A complete data frame.
fn data(header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> F {
    F::Data {
        header: B(header.as_ref().to_vec()),
        len: payload.as_ref().len(),
        data: B(payload.as_ref().to_vec()),
        truncated: false,
    }
}

/// A truncated data frame.
fn trunc(header: impl AsRef<[u8]>, len: usize, received: impl AsRef<[u8]>) -> F {
    F::Data {
        header: B(header.as_ref().to_vec()),
        len,
        data: B(received.as_ref().to_vec()),
        truncated: true,
    }
}

fn oversized(start: impl AsRef<[u8]>, len: usize) -> F {
    F::Oversized {
        start: B(start.as_ref().to_vec()),
        len,
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The chunk sizes every test runs with; `usize::MAX` is "all at once".
const CHUNKS: [usize; 6] = [1, 2, 3, 7, 64, usize::MAX];

/// The frames (including `finish()`) and the prompt mode after the input.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    frames: Vec<F>,
    mode_after: PromptMode,
}

/// Frames `input` delivered in chunks of `chunk` bytes.
fn frame_chunked<const N: usize>(
    dialect: Dialect,
    mode: PromptMode,
    input: &[u8],
    chunk: usize,
) -> Run {
    let mut framer = Framer::<N>::new(dialect);
    framer.set_prompt_mode(mode);
    let mut frames = Vec::new();
    let mut calls = 0usize;
    for piece in input.chunks(chunk) {
        let mut rest = piece;
        while !rest.is_empty() {
            calls += 1;
            assert!(calls <= 2 * input.len() + 2, "feed stalls");
            let (used, frame) = framer.feed(rest);
            assert!(used <= rest.len());
            assert!(used > 0 || frame.is_some(), "feed made no progress");
            if let Some(f) = frame {
                frames.push(own(f));
            }
            rest = &rest[used..];
        }
    }
    let mode_after = framer.prompt_mode();
    if let Some(f) = framer.finish() {
        frames.push(own(f));
    }
    assert!(framer.is_idle());
    assert_eq!(framer.finish().map(own), None, "finish twice");
    Run { frames, mode_after }
}

/// Frames `input` with every chunk size; all must agree.
fn run<const N: usize>(dialect: Dialect, mode: PromptMode, input: &[u8]) -> Run {
    let whole = frame_chunked::<N>(dialect, mode, input, usize::MAX);
    for k in CHUNKS {
        let r = frame_chunked::<N>(dialect, mode, input, k);
        assert_eq!(
            r,
            whole,
            "chunk size {k} differs from all-at-once ({dialect}, N = {N}, {mode:?}) for input {:?}",
            input.escape_ascii().to_string()
        );
    }
    whole
}

/// Asserts the exact frames of `input` for every chunk size.
#[track_caller]
fn check<const N: usize>(dialect: Dialect, mode: PromptMode, input: &[u8], expected: &[F]) {
    let r = run::<N>(dialect, mode, input);
    assert_eq!(
        r.frames,
        expected,
        "{dialect}, N = {N}, {mode:?}, input {:?}",
        input.escape_ascii().to_string()
    );
}

/// ESP-AT, 256-byte buffer, no prompt expected.
#[track_caller]
fn esp(input: &[u8], expected: &[F]) {
    check::<256>(Dialect::EspAt, PromptMode::Never, input, expected);
}

/// Every dialect, 256-byte buffer, no prompt expected.
#[track_caller]
fn every_dialect(input: &[u8], expected: &[F]) {
    for d in Dialect::ALL {
        check::<256>(d, PromptMode::Never, input, expected);
    }
}

/// Deterministic pseudo-random bytes in `lo..=hi`.
fn noise(n: usize, seed: u32, lo: u8, hi: u8) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            lo + (x % (u32::from(hi - lo) + 1)) as u8
        })
        .collect()
}

/// `+MQTTSUBRECV:<id>,"<topic>",<len>,<payload>` and its expected frame.
fn subrecv(id: u8, topic: &str, payload: &[u8]) -> (Vec<u8>, F) {
    let header = format!("+MQTTSUBRECV:{id},\"{topic}\",{}", payload.len());
    (
        cat(&[header.as_bytes(), b",", payload]),
        data(header, payload),
    )
}

// ---------------------------------------------------------------------------
// Line ends, blank lines, spaces
// ---------------------------------------------------------------------------

#[test]
fn empty_input_gives_nothing() {
    every_dialect(b"", &[]);
    every_dialect(b"\r\n\r\n\n\r\0  \t", &[]);
}

#[test]
fn cr_lf_line_ends() {
    every_dialect(
        b"+MQTTCONNECTED:0,1,\"host\",\"1883\",\"\",0\r\nOK\r\n",
        &[line(b"+MQTTCONNECTED:0,1,\"host\",\"1883\",\"\",0"), F::Ok],
    );
    every_dialect(
        b"\r\nWIFI GOT IP\r\n\r\nOK\r\n",
        &[line("WIFI GOT IP"), F::Ok],
    );
}

#[test]
fn lf_only_line_ends() {
    every_dialect(
        b"WIFI CONNECTED\nWIFI GOT IP\n\nOK\n",
        &[line("WIFI CONNECTED"), line("WIFI GOT IP"), F::Ok],
    );
}

#[test]
fn cr_only_line_ends() {
    every_dialect(
        b"WIFI GOT IP\rOK\r\rERROR\r",
        &[line("WIFI GOT IP"), F::Ok, error("ERROR")],
    );
}

#[test]
fn blank_and_space_only_lines_are_dropped() {
    every_dialect(
        b"\r\n\r\n   \r\n\t\r\n \t \n\0\r\nOK\r\n  \r\n\r\n",
        &[F::Ok],
    );
}

#[test]
fn outer_spaces_are_trimmed() {
    every_dialect(
        b"OK  \r\nOK \r\n OK\r\n\tOK\t\r\nERROR \r\n  +MQTTPUB:OK  \r\n",
        &[
            F::Ok,
            F::Ok,
            F::Ok,
            F::Ok,
            error("ERROR"),
            line("+MQTTPUB:OK"),
        ],
    );
    // Inner spaces stay.
    every_dialect(b"SEND  OK\r\n", &[line("SEND  OK")]);
}

#[test]
fn stray_extra_cr_in_echo() {
    esp(
        b"AT+CIFSR\r\r\n+CIFSR:STAIP,\"192.168.1.5\"\r\n+CIFSR:STAMAC,\"aa:bb:cc:dd:ee:ff\"\r\n\r\nOK\r\n",
        &[
            line("AT+CIFSR"),
            line("+CIFSR:STAIP,\"192.168.1.5\""),
            line("+CIFSR:STAMAC,\"aa:bb:cc:dd:ee:ff\""),
            F::Ok,
        ],
    );
    // A lower-case, mistyped echo is a line like any other.
    esp(
        b"at+gmrr\r\r\nERROR\r\n",
        &[line("at+gmrr"), error("ERROR")],
    );
}

#[test]
fn lf_lf_nul_line_ends() {
    every_dialect(b"+CWMODE:1\n\n\0OK\n\n\0", &[line("+CWMODE:1"), F::Ok]);
    every_dialect(
        b"\0\0AT\n\n\0ERROR\n\n\0ready\n\n\0",
        &[line("AT"), error("ERROR"), F::Ready],
    );
}

#[test]
fn mixed_line_ends_in_one_stream() {
    every_dialect(
        b"a\r\nb\nc\rd\r\r\ne\n\n\0f",
        &[
            line("a"),
            line("b"),
            line("c"),
            line("d"),
            line("e"),
            line("f"),
        ],
    );
}

#[test]
fn line_without_line_end_is_given_by_finish() {
    every_dialect(b"OK", &[F::Ok]);
    every_dialect(b"\r\n+MQTTDISCONNECTED:0", &[line("+MQTTDISCONNECTED:0")]);
    every_dialect(b"WIFI GOT IP   ", &[line("WIFI GOT IP")]);
}

#[test]
fn nul_and_tab_inside_a_line_stay() {
    every_dialect(b"a\0b\tc\r\n", &[line(b"a\0b\tc")]);
}

// ---------------------------------------------------------------------------
// The prompt
// ---------------------------------------------------------------------------

#[test]
fn prompt_after_ok_without_line_end() {
    for mode in [PromptMode::Once, PromptMode::Always] {
        for d in Dialect::ALL {
            check::<256>(d, mode, b"\r\nOK\r\n\r\n>", &[F::Ok, F::Prompt]);
        }
    }
    let r = run::<256>(Dialect::EspAt, PromptMode::Once, b"\r\nOK\r\n\r\n>");
    assert_eq!(r.mode_after, PromptMode::Never);
    let r = run::<256>(Dialect::EspAt, PromptMode::Always, b"\r\nOK\r\n\r\n>");
    assert_eq!(r.mode_after, PromptMode::Always);
}

#[test]
fn prompt_with_trailing_space_then_later_output() {
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"AT+CIPSEND=0,5\r\n\r\nOK\r\n\r\n> \r\nRecv 5 bytes\r\n\r\nSEND OK\r\n",
        &[
            line("AT+CIPSEND=0,5"),
            F::Ok,
            F::Prompt,
            line("Recv 5 bytes"),
            line("SEND OK"),
        ],
    );
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"OK\r\n> +MQTTPUB:OK\r\n",
        &[F::Ok, F::Prompt, line("+MQTTPUB:OK")],
    );
}

#[test]
fn prompt_glued_to_the_next_output() {
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n\r\nOK\r\n\r\n>+MQTTPUB:OK\r\n",
        &[
            line("AT+MQTTPUBRAW=0,\"t\",5,0,0"),
            F::Ok,
            F::Prompt,
            line("+MQTTPUB:OK"),
        ],
    );
    // Glued to a data frame: the header is found right after the prompt.
    let (sub, sub_frame) = subrecv(0, "t", b"hi");
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        &cat(&[b"OK\r\n\r\n>", &sub, b"+MQTTPUB:OK\r\n"]),
        &[F::Ok, F::Prompt, sub_frame, line("+MQTTPUB:OK")],
    );
}

#[test]
fn prompt_mode_never_makes_gt_line_text() {
    every_dialect(b"\r\nOK\r\n\r\n>", &[F::Ok, line(">")]);
    every_dialect(b">+MQTTPUB:OK\r\n", &[line(">+MQTTPUB:OK")]);
    every_dialect(b"> \r\n", &[line(">")]);
    let r = run::<256>(Dialect::EspAt, PromptMode::Never, b">\r\n");
    assert_eq!(r.mode_after, PromptMode::Never);
}

#[test]
fn prompt_mode_once_turns_to_never() {
    let r = run::<256>(Dialect::EspAt, PromptMode::Once, b">\r\n>\r\n");
    assert_eq!(r.frames, [F::Prompt, line(">")]);
    assert_eq!(r.mode_after, PromptMode::Never);
    // Two prompts back to back: the second is text.
    let r = run::<256>(Dialect::EspAt, PromptMode::Once, b"> >x\r\n");
    assert_eq!(r.frames, [F::Prompt, line(">x")]);
    assert_eq!(r.mode_after, PromptMode::Never);
    // No prompt in the input: the mode stays Once.
    let r = run::<256>(Dialect::EspAt, PromptMode::Once, b"OK\r\n");
    assert_eq!(r.frames, [F::Ok]);
    assert_eq!(r.mode_after, PromptMode::Once);
}

#[test]
fn prompt_mode_always_keeps_giving_prompts() {
    let r = run::<256>(Dialect::EspAt, PromptMode::Always, b">>\r\n> >");
    assert_eq!(r.frames, [F::Prompt, F::Prompt, F::Prompt, F::Prompt]);
    assert_eq!(r.mode_after, PromptMode::Always);
}

#[test]
fn gt_in_the_middle_of_a_line_is_text() {
    for mode in [PromptMode::Never, PromptMode::Once, PromptMode::Always] {
        let r = run::<256>(Dialect::EspAt, mode, b"a>b\r\nSEND OK >\r\n->\r\n");
        assert_eq!(r.frames, [line("a>b"), line("SEND OK >"), line("->")]);
        assert_eq!(r.mode_after, mode, "no prompt was consumed");
    }
}

#[test]
fn gt_inside_a_payload_is_data() {
    for mode in [PromptMode::Once, PromptMode::Always] {
        let r = run::<256>(Dialect::EspAt, mode, b"+IPD,0,3:>>>\r\n");
        assert_eq!(r.frames, [data("+IPD,0,3", ">>>")]);
        assert_eq!(r.mode_after, mode, "no prompt was consumed");
        let (sub, sub_frame) = subrecv(0, "t", b"\r\n>");
        let r = run::<256>(Dialect::EspAt, mode, &sub);
        assert_eq!(r.frames, [sub_frame]);
        assert_eq!(r.mode_after, mode);
    }
    // A `>` right after the payload starts a line: it is the prompt when one may come.
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"+IPD,0,3:>>>>",
        &[data("+IPD,0,3", ">>>"), F::Prompt],
    );
}

// ---------------------------------------------------------------------------
// Data frames
// ---------------------------------------------------------------------------

#[test]
fn mqttsubrecv_reads_by_length() {
    esp(
        b"+MQTTSUBRECV:0,\"t\",5,hello\r\n",
        &[data("+MQTTSUBRECV:0,\"t\",5", "hello")],
    );
    // Topic with commas, colons and slashes; payload without a line end after it.
    esp(
        b"+MQTTSUBRECV:1,\"a,b:c/d,,:\",3,xyzOK\r\n",
        &[data("+MQTTSUBRECV:1,\"a,b:c/d,,:\",3", "xyz"), F::Ok],
    );
    for d in [Dialect::EspAt, Dialect::W800, Dialect::Beken] {
        check::<256>(
            d,
            PromptMode::Never,
            b"+MQTTSUBRECV:0,\"home/+/temp\",12,{\"t\":\"2,5\"}\r\n\r\nOK\r\n",
            &[
                data("+MQTTSUBRECV:0,\"home/+/temp\",12", b"{\"t\":\"2,5\"}\r"),
                F::Ok,
            ],
        );
    }
}

#[test]
fn payload_bytes_never_end_a_data_frame() {
    let nasty: &[&[u8]] = &[
        b"\r\nOK\r\n",
        b"\r\nERROR\r\n",
        b">",
        b"\r\n>",
        b"\"",
        b",,,",
        b"\0\0",
        b"\\\"\\,",
        b"\r\nready\r\n",
        b"+MQTTSUBRECV:0,\"t\",5,hello",
        b"+IPD,0,3:abc",
        b"ERR CODE:0x010a6006\r\n",
        b"busy p...\r\n",
        b" ",
        b"http://example.com/a?b=c,d:e \r\n",
    ];
    for payload in nasty {
        let (sub, frame) = subrecv(0, "t", payload);
        esp(&cat(&[&sub, b"\r\nOK\r\n"]), &[frame, F::Ok]);
        let header = format!("+IPD,0,{}", payload.len());
        esp(
            &cat(&[header.as_bytes(), b":", payload, b"\r\nOK\r\n"]),
            &[data(&header, payload), F::Ok],
        );
    }
}

#[test]
fn payload_of_all_256_byte_values() {
    let payload: Vec<u8> = (0..=255u8).collect();
    let (sub, frame) = subrecv(0, "bin", &payload);
    for mode in [PromptMode::Never, PromptMode::Once, PromptMode::Always] {
        check::<512>(
            Dialect::EspAt,
            mode,
            &cat(&[&sub, b"\r\nOK\r\n"]),
            &[frame.clone(), F::Ok],
        );
    }
    let mut rev = payload.clone();
    rev.reverse();
    let header = format!("+SOCKETREAD,2,{}", rev.len());
    check::<512>(
        Dialect::AiThinker,
        PromptMode::Once,
        &cat(&[header.as_bytes(), b",", &rev, b"OK\r\n"]),
        &[data(&header, &rev), F::Ok],
    );
}

#[test]
fn ipd_forms() {
    esp(b"+IPD,5:hello\r\n", &[data("+IPD,5", "hello")]);
    esp(b"+IPD,0,5:hello\r\n", &[data("+IPD,0,5", "hello")]);
    esp(
        b"+IPD,0,5,\"192.168.1.10\",8080:he:lo\r\n",
        &[data("+IPD,0,5,\"192.168.1.10\",8080", "he:lo")],
    );
    esp(
        b"+IPD,5,\"192.168.1.10\",8080:a\r\nbc",
        &[data("+IPD,5,\"192.168.1.10\",8080", "a\r\nbc")],
    );
    // IPv6 address in quotes containing ':'.
    esp(
        b"+IPD,1,4,\"fe80::1:2:3\",443:\r\n\r\nOK\r\n",
        &[data("+IPD,1,4,\"fe80::1:2:3\",443", "\r\n\r\n"), F::Ok],
    );
    esp(
        b"+IPD,2,\"2001:db8::ff\",5683:ab",
        &[data("+IPD,2,\"2001:db8::ff\",5683", "ab")],
    );
    // The same on W800 and Beken, whose tables also list `+IPD,`.
    for d in [Dialect::W800, Dialect::Beken] {
        check::<256>(
            d,
            PromptMode::Never,
            b"+IPD,0,4:\r\nOK\r\n",
            &[data("+IPD,0,4", "\r\nOK")],
        );
    }
}

#[test]
fn passive_ipd_line_has_no_data() {
    esp(
        b"+IPD,0,120\r\n+IPD,0,120,\"1.2.3.4\",80\r\nOK\r\n",
        &[line("+IPD,0,120"), line("+IPD,0,120,\"1.2.3.4\",80"), F::Ok],
    );
}

#[test]
fn ciprecvdata_forms() {
    esp(
        b"+CIPRECVDATA:5,he\r\no\r\nOK\r\n",
        &[data("+CIPRECVDATA:5", "he\r\no"), F::Ok],
    );
    esp(
        b"+CIPRECVDATA,5:a,b:c\r\nOK\r\n",
        &[data("+CIPRECVDATA,5", "a,b:c"), F::Ok],
    );
    // Not in the W800, Beken or Ai-Thinker tables: plain lines there.
    for d in [Dialect::W800, Dialect::Beken, Dialect::AiThinker] {
        check::<256>(
            d,
            PromptMode::Never,
            b"+CIPRECVDATA:5,hello\r\nOK\r\n",
            &[line("+CIPRECVDATA:5,hello"), F::Ok],
        );
    }
}

#[test]
fn ai_thinker_data_frames() {
    let ai = |input: &[u8], expected: &[F]| {
        check::<256>(Dialect::AiThinker, PromptMode::Never, input, expected)
    };
    ai(
        b"+SOCKETREAD,1,5,a\r\nb,\r\nOK\r\n",
        &[data("+SOCKETREAD,1,5", "a\r\nb,"), F::Ok],
    );
    ai(
        b"+EVENT:SocketDown,1,4,\r\n\r\n",
        &[data("+EVENT:SocketDown,1,4", "\r\n\r\n")],
    );
    // Passive form: no data on the line.
    ai(
        b"+EVENT:SocketDown,1,4\r\n+EVENT:SocketDown,1\r\n",
        &[line("+EVENT:SocketDown,1,4"), line("+EVENT:SocketDown,1")],
    );
    ai(
        b"+EVENT:MQTT_SUB,home/temp,7,{\"a\":1}\r\n",
        &[data("+EVENT:MQTT_SUB,home/temp,7", "{\"a\":1}")],
    );
    ai(
        b"+EVENT:MQTT_SUB,\"a,b:c\",3,x\r\n",
        &[data("+EVENT:MQTT_SUB,\"a,b:c\",3", "x\r\n")],
    );
    // Other `+EVENT:` lines are lines.
    ai(
        b"+EVENT:WIFI_CONNECT\r\n+EVENT:MQTT_CONNECT\r\n",
        &[line("+EVENT:WIFI_CONNECT"), line("+EVENT:MQTT_CONNECT")],
    );
    // ESP-AT headers are lines on Ai-Thinker, and the other way round.
    ai(
        b"+MQTTSUBRECV:0,\"t\",1,x\r\n+IPD,0,1:y\r\n",
        &[line("+MQTTSUBRECV:0,\"t\",1,x"), line("+IPD,0,1:y")],
    );
    esp(
        b"+SOCKETREAD,1,1,x\r\n+EVENT:SocketDown,1,1,y\r\n",
        &[line("+SOCKETREAD,1,1,x"), line("+EVENT:SocketDown,1,1,y")],
    );
}

#[test]
fn urc_glued_after_the_payload() {
    esp(
        b"+IPD,0,13:{\"temp\":21.5}0,CLOSED\r\n",
        &[data("+IPD,0,13", "{\"temp\":21.5}"), line("0,CLOSED")],
    );
    let (sub, frame) = subrecv(0, "t", b"}");
    esp(
        &cat(&[&sub, b"+MQTTDISCONNECTED:0\r\n"]),
        &[frame, line("+MQTTDISCONNECTED:0")],
    );
    // Two data frames back to back.
    esp(
        b"+IPD,0,2:ab+IPD,1,2:cd",
        &[data("+IPD,0,2", "ab"), data("+IPD,1,2", "cd")],
    );
}

#[test]
fn zero_length_payload() {
    esp(
        b"+MQTTSUBRECV:0,\"t\",0,\r\nOK\r\n",
        &[data("+MQTTSUBRECV:0,\"t\",0", ""), F::Ok],
    );
    esp(b"+IPD,0,0:OK\r\n", &[data("+IPD,0,0", ""), F::Ok]);
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"+IPD,0:>",
        &[data("+IPD,0", ""), F::Prompt],
    );
}

#[test]
fn data_frame_larger_than_the_buffer() {
    // Header `+MQTTSUBRECV:0,"t",50,` is 22 bytes: a 32-byte buffer keeps 10 payload bytes.
    let payload = b"0123\r\nOK\r\n>\r\nERROR\r\n>>,,\"\"\r\nready\r\n0123456789abcde";
    assert_eq!(payload.len(), 50);
    let input = cat(&[b"+MQTTSUBRECV:0,\"t\",50,", payload, b"\r\nOK\r\n"]);
    let expected = [trunc("+MQTTSUBRECV:0,\"t\",50", 50, &payload[..10]), F::Ok];
    for mode in [PromptMode::Never, PromptMode::Once, PromptMode::Always] {
        let r = run::<32>(Dialect::EspAt, mode, &input);
        assert_eq!(r.frames, expected);
        assert_eq!(
            r.mode_after, mode,
            "a `>` in the skipped payload is no prompt"
        );
    }
    // The next frame right after the payload, without a line end.
    check::<32>(
        Dialect::EspAt,
        PromptMode::Once,
        &cat(&[b"+MQTTSUBRECV:0,\"t\",50,", payload, b">OK\r\n"]),
        &[
            trunc("+MQTTSUBRECV:0,\"t\",50", 50, &payload[..10]),
            F::Prompt,
            F::Ok,
        ],
    );
    // The payload exactly fills the buffer: complete.
    check::<72>(
        Dialect::EspAt,
        PromptMode::Never,
        &input,
        &[data("+MQTTSUBRECV:0,\"t\",50", payload), F::Ok],
    );
    // One byte short.
    check::<71>(
        Dialect::EspAt,
        PromptMode::Never,
        &input,
        &[trunc("+MQTTSUBRECV:0,\"t\",50", 50, &payload[..49]), F::Ok],
    );
    // The header (with its separator) exactly fills the buffer: no payload kept.
    check::<22>(
        Dialect::EspAt,
        PromptMode::Never,
        &input,
        &[trunc("+MQTTSUBRECV:0,\"t\",50", 50, ""), F::Ok],
    );
    // Only the separator does not fit.
    check::<21>(
        Dialect::EspAt,
        PromptMode::Never,
        &input,
        &[trunc("+MQTTSUBRECV:0,\"t\",50", 50, ""), F::Ok],
    );
}

#[test]
fn data_header_longer_than_the_buffer_stays_in_step() {
    // The header is longer than the buffer: the frame is reported truncated with the first
    // N bytes of the header, and its payload is still skipped by count.
    let input = b"+MQTTSUBRECV:0,\"a/long/topic,with:commas\",11,\r\nOK\r\n>\r\n\r\nOK\r\n";
    check::<16>(
        Dialect::EspAt,
        PromptMode::Once,
        input,
        &[trunc("+MQTTSUBRECV:0,\"", 11, ""), F::Ok],
    );
    check::<20>(
        Dialect::AiThinker,
        PromptMode::Never,
        b"+EVENT:MQTT_SUB,some/long/topic,3,\r\n\r\nOK\r\n",
        &[trunc("+EVENT:MQTT_SUB,some", 3, ""), F::Ok],
    );
    // Zero-length payload behind a long header: nothing to skip.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"+IPD,0,0,\"192.168.100.100\",8080:OK\r\n",
        &[trunc("+IPD,0,0,\"192.16", 0, ""), F::Ok],
    );
    // A long line that only looks like a header start is an oversized line.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"+MQTTSUBRECV:0,\"a/long/topic\"\r\nOK\r\n",
        &[oversized("+MQTTSUBRECV:0,\"", 29), F::Ok],
    );
}

#[test]
fn input_ending_mid_payload() {
    esp(b"+IPD,0,10:hello", &[trunc("+IPD,0,10", 10, "hello")]);
    esp(b"+IPD,0,10:", &[trunc("+IPD,0,10", 10, "")]);
    esp(
        b"+MQTTSUBRECV:0,\"t\",4,\r\nO",
        &[trunc("+MQTTSUBRECV:0,\"t\",4", 4, "\r\nO")],
    );
    // Mid-header: still a line.
    esp(b"+IPD,0,1", &[line("+IPD,0,1")]);
    // Mid-skip of a truncated frame: nothing more to report.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"+IPD,0,100:0123456789abcdef",
        &[trunc("+IPD,0,100", 100, "01234")],
    );
}

#[test]
fn message_split_over_several_subrecv_frames() {
    // A 2500-byte message arrives as three URCs, each line within ~1 KiB.
    let msg = noise(2500, 7, 0, 255);
    let (a, fa) = subrecv(0, "t", &msg[..1004]);
    let (b, fb) = subrecv(0, "t", &msg[1004..2028]);
    let (c, fc) = subrecv(0, "t", &msg[2028..]);
    check::<1100>(
        Dialect::EspAt,
        PromptMode::Never,
        &cat(&[&a, &b, &c, b"\r\n"]),
        &[fa, fb, fc],
    );
    // 1262 bytes as 986 + 276, after the OK of a publish.
    let msg = noise(1262, 8, 0, 255);
    let (a, fa) = subrecv(0, "topic/x", &msg[..986]);
    let (b, fb) = subrecv(0, "topic/x", &msg[986..]);
    check::<1100>(
        Dialect::EspAt,
        PromptMode::Never,
        &cat(&[b"OK\r\n", &a, b"\r\n", &b, b"\r\n"]),
        &[F::Ok, fa, fb],
    );
}

#[test]
fn largest_declared_length_is_accepted() {
    let header = format!("+IPD,0,{MAX_DECLARED_LEN}");
    let payload = noise(MAX_DECLARED_LEN, 3, 0, 255);
    esp(
        &cat(&[header.as_bytes(), b":", &payload, b"OK\r\n"]),
        &[
            trunc(
                &header,
                MAX_DECLARED_LEN,
                &payload[..256 - header.len() - 1],
            ),
            F::Ok,
        ],
    );
}

// ---------------------------------------------------------------------------
// Final results, error codes, busy, ready
// ---------------------------------------------------------------------------

#[test]
fn ok_and_error_in_every_dialect() {
    every_dialect(b"OK\r\nERROR\r\n", &[F::Ok, error("ERROR")]);
    // Near misses are lines.
    every_dialect(
        b"OKAY\r\nok\r\nERRORS\r\nerror\r\nSEND OK\r\nSEND FAIL\r\n",
        &[
            line("OKAY"),
            line("ok"),
            line("ERRORS"),
            line("error"),
            line("SEND OK"),
            line("SEND FAIL"),
        ],
    );
}

#[test]
fn w800_error_words() {
    let input = b"CMD FORMAT ERR\r\nCMD PARSE ERR\r\n";
    check::<256>(
        Dialect::W800,
        PromptMode::Never,
        input,
        &[error("CMD FORMAT ERR"), error("CMD PARSE ERR")],
    );
    // Not error words in the other tables.
    for d in [Dialect::EspAt, Dialect::Beken, Dialect::AiThinker] {
        check::<256>(
            d,
            PromptMode::Never,
            input,
            &[line("CMD FORMAT ERR"), line("CMD PARSE ERR")],
        );
    }
}

#[test]
fn error_codes() {
    let input =
        b"ERR CODE:0x010a6006\r\nERR CODE:0x010a6006\r\nERROR\r\nERR CODE:0x01090000\r\nOK\r\n";
    for d in [Dialect::EspAt, Dialect::W800, Dialect::Beken] {
        check::<256>(
            d,
            PromptMode::Never,
            input,
            &[
                F::ErrorCode(0x010a_6006),
                F::ErrorCode(0x010a_6006),
                error("ERROR"),
                F::ErrorCode(0x0109_0000),
                F::Ok,
            ],
        );
    }
    // Ai-Thinker has no error-code lines.
    check::<256>(
        Dialect::AiThinker,
        PromptMode::Never,
        input,
        &[
            line("ERR CODE:0x010a6006"),
            line("ERR CODE:0x010a6006"),
            error("ERROR"),
            line("ERR CODE:0x01090000"),
            F::Ok,
        ],
    );
    // Malformed codes are lines.
    esp(
        b"ERR CODE:0xZZ\r\nERR CODE:0x123456789\r\nERR CODE:\r\nERR CODE:0x\r\n",
        &[
            line("ERR CODE:0xZZ"),
            line("ERR CODE:0x123456789"),
            line("ERR CODE:"),
            line("ERR CODE:0x"),
        ],
    );
    esp(b"ERR CODE:0xFFFFFFFF \r\n", &[F::ErrorCode(0xffff_ffff)]);
}

#[test]
fn busy_lines() {
    esp(
        b"\r\nbusy p...\r\n\r\nbusy s...\r\nbusy ...\r\n",
        &[busy("busy p..."), busy("busy s..."), busy("busy ...")],
    );
    for d in [Dialect::W800, Dialect::Beken] {
        check::<256>(
            d,
            PromptMode::Never,
            b"busy ...\r\nbusy p...\r\n",
            &[busy("busy ..."), busy("busy p...")],
        );
    }
    // Combo-AT refuses with "... is running".
    let combo = b"ERROR: cmd is running\r\ncmd is running\r\n";
    check::<256>(
        Dialect::AiThinker,
        PromptMode::Never,
        combo,
        &[busy("ERROR: cmd is running"), busy("cmd is running")],
    );
    for d in [Dialect::EspAt, Dialect::W800, Dialect::Beken] {
        check::<256>(
            d,
            PromptMode::Never,
            combo,
            &[line("ERROR: cmd is running"), line("cmd is running")],
        );
    }
}

#[test]
fn ready_line() {
    every_dialect(b"\r\nready\r\n", &[F::Ready]);
    every_dialect(b"  ready  \r\n", &[F::Ready]);
    every_dialect(b"ready.\r\nREADY\r\n", &[line("ready."), line("READY")]);
}

// ---------------------------------------------------------------------------
// Garbage and corruption
// ---------------------------------------------------------------------------

#[test]
fn boot_noise_then_ready() {
    let junk = noise(200, 1, 0x80, 0xff);
    let input = cat(&[&junk, b"\r\nready\r\n"]);
    check::<256>(
        Dialect::EspAt,
        PromptMode::Never,
        &input,
        &[line(&junk), F::Ready],
    );
    // More noise than the buffer holds: one oversized line, then `ready`.
    check::<64>(
        Dialect::EspAt,
        PromptMode::Always,
        &input,
        &[oversized(&junk[..64], 200), F::Ready],
    );
    // Noise with NULs and stray line ends: lines of junk, then `ready`.
    let mut junk2 = noise(300, 2, 0x80, 0xff);
    junk2[100] = b'\n';
    junk2[101] = 0;
    junk2[200] = b'\r';
    let input = cat(&[&junk2, b"\r\nready\r\n"]);
    for d in Dialect::ALL {
        check::<256>(
            d,
            PromptMode::Never,
            &input,
            &[
                line(&junk2[..100]),
                line(&junk2[102..200]),
                line(&junk2[201..]),
                F::Ready,
            ],
        );
    }
}

#[test]
fn header_starting_mid_line_is_a_line() {
    esp(
        b"xx+MQTTSUBRECV:0,\"t\",3,abc\r\nOK\r\n",
        &[line("xx+MQTTSUBRECV:0,\"t\",3,abc"), F::Ok],
    );
    esp(
        b"0,CONNECT+IPD,0,3:abc\r\nOK\r\n",
        &[line("0,CONNECT+IPD,0,3:abc"), F::Ok],
    );
}

#[test]
fn bytes_lost_from_a_line() {
    esp(
        b"+MQTTCONNECTED:0,1,\"ho883\",\"\",0\r\nOK\r\n",
        &[line("+MQTTCONNECTED:0,1,\"ho883\",\"\",0"), F::Ok],
    );
    // The length field and its commas were lost.
    esp(
        b"+MQTTSUBRECV:0,\"t\"hello\r\nOK\r\n",
        &[line("+MQTTSUBRECV:0,\"t\"hello"), F::Ok],
    );
    // The `:` of `+IPD` was lost.
    esp(b"+IPD,0,5hello\r\nOK\r\n", &[line("+IPD,0,5hello"), F::Ok]);
    // Bytes lost from the payload: the count runs on into what follows (here the line
    // end), and the next line is still found.
    esp(
        b"+MQTTSUBRECV:0,\"t\",5,hel\r\nOK\r\n",
        &[data("+MQTTSUBRECV:0,\"t\",5", "hel\r\n"), F::Ok],
    );
    // A wrong byte inside a payload whose length still matches: just data.
    esp(
        b"+IPD,0,5:he\xffo\r\nOK\r\n",
        &[data("+IPD,0,5", b"he\xffo\r"), F::Ok],
    );
}

#[test]
fn corrupted_length_field() {
    let cases: &[&[u8]] = &[
        b"+MQTTSUBRECV:0,\"t\",5x,hello",
        b"+MQTTSUBRECV:0,\"t\",x5,hello",
        b"+MQTTSUBRECV:0,\"t\",,hello",
        b"+MQTTSUBRECV:0,\"t\",-5,hello",
        b"+MQTTSUBRECV:0,\"t\", 5,hello",
        b"+MQTTSUBRECV:0,\"t\",5:hello",
        b"+MQTTSUBRECV:0,\"t\",99999,hello",
        b"+MQTTSUBRECV:0,\"t\",8193,hello",
        b"+MQTTSUBRECV:0,\"t\",12345678901234567890,hello",
        b"+IPD,0,99999999999:abc",
        b"+IPD,0,\xff:abc",
        b"+IPD,0,:abc",
        b"+IPD,:abc",
        b"+IPD,1,2,3,4,5,6,7,8,9,10:abc",
        b"+CIPRECVDATA:5x,hello",
        b"+CIPRECVDATA,5,hello",
    ];
    for c in cases {
        esp(&cat(&[c, b"\r\nOK\r\n"]), &[line(c), F::Ok]);
    }
    check::<256>(
        Dialect::AiThinker,
        PromptMode::Never,
        b"+SOCKETREAD,1,9999999,abc\r\n+EVENT:SocketDown,1,x,abc\r\nOK\r\n",
        &[
            line("+SOCKETREAD,1,9999999,abc"),
            line("+EVENT:SocketDown,1,x,abc"),
            F::Ok,
        ],
    );
}

// ---------------------------------------------------------------------------
// Oversized lines
// ---------------------------------------------------------------------------

#[test]
fn line_longer_than_the_buffer() {
    let long = b"AT+CWJAP=\"my-long-ssid\",\"password123\"";
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        &cat(&[long, b"\r\nOK\r\n"]),
        &[oversized(&long[..16], long.len()), F::Ok],
    );
    // Exactly N bytes is a line; N + 1 is oversized.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"0123456789abcdef\r\n0123456789abcdefg\rOK\n",
        &[
            line("0123456789abcdef"),
            oversized("0123456789abcdef", 17),
            F::Ok,
        ],
    );
    // Leading spaces are not part of the line; trailing ones count in the length.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"   0123456789abcdefgh  \r\nready\r\n",
        &[oversized("0123456789abcdef", 20), F::Ready],
    );
    // At the end of the input.
    check::<16>(
        Dialect::EspAt,
        PromptMode::Never,
        b"0123456789abcdefghij",
        &[oversized("0123456789abcdef", 20)],
    );
    // Much longer than the buffer, with `>` in it.
    let huge = noise(5000, 9, b' ', b'~');
    check::<64>(
        Dialect::EspAt,
        PromptMode::Always,
        &cat(&[b"x", &huge, b"\nOK\n"]),
        &[oversized(cat(&[b"x", &huge[..63]]), 5001), F::Ok],
    );
}

// ---------------------------------------------------------------------------
// Shapes seen on real modules
// ---------------------------------------------------------------------------

#[test]
fn urc_between_echo_and_error() {
    esp(
        b"AT+MQTTSUB=0,\"t\",1\r\n+MQTTDISCONNECTED:0\r\nERROR\r\n",
        &[
            line("AT+MQTTSUB=0,\"t\",1"),
            line("+MQTTDISCONNECTED:0"),
            error("ERROR"),
        ],
    );
}

#[test]
fn own_subscription_before_the_ok_of_the_publish() {
    let (sub, frame) = subrecv(0, "echo/t", b"hello,\"world\"");
    esp(
        &cat(&[
            b"AT+MQTTPUB=0,\"echo/t\",\"hello\\,\\\"world\\\"\",0,0\r\n",
            &sub,
            b"\r\nOK\r\n",
        ]),
        &[
            line("AT+MQTTPUB=0,\"echo/t\",\"hello\\,\\\"world\\\"\",0,0"),
            frame,
            F::Ok,
        ],
    );
}

#[test]
fn pubraw_flow_with_subrecv_between_ok_and_prompt() {
    let (sub, frame) = subrecv(0, "t", b"x>\r\n");
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        &cat(&[
            b"AT+MQTTPUBRAW=0,\"t\",5,0,0\r\n\r\nOK\r\n",
            &sub,
            b"\r\n>",
            b"busy p...\r\n",
            b"+MQTTPUB:OK\r\n",
        ]),
        &[
            line("AT+MQTTPUBRAW=0,\"t\",5,0,0"),
            F::Ok,
            frame,
            F::Prompt,
            busy("busy p..."),
            line("+MQTTPUB:OK"),
        ],
    );
}

#[test]
fn wifi_urcs_inside_cwjap() {
    esp(
        b"AT+CWJAP=\"ssid\",\"pw\"\r\nWIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n",
        &[
            line("AT+CWJAP=\"ssid\",\"pw\""),
            line("WIFI DISCONNECT"),
            line("WIFI CONNECTED"),
            line("WIFI GOT IP"),
            F::Ok,
        ],
    );
    esp(
        b"+CWJAP:1\r\n\r\nFAIL\r\n",
        &[line("+CWJAP:1"), line("FAIL")],
    );
}

#[test]
fn ipd_between_prompt_and_send_result() {
    check::<256>(
        Dialect::EspAt,
        PromptMode::Once,
        b"AT+CIPSEND=0,4\r\n\r\nOK\r\n\r\n>+IPD,0,6:OK\r\n>\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n",
        &[
            line("AT+CIPSEND=0,4"),
            F::Ok,
            F::Prompt,
            data("+IPD,0,6", "OK\r\n>\r"),
            line("Recv 4 bytes"),
            line("SEND OK"),
        ],
    );
}

#[test]
fn urc_spliced_into_an_echo() {
    esp(
        b"AT+CIPSEND=0,1,CONNECT\r\n98\r\n",
        &[line("AT+CIPSEND=0,1,CONNECT"), line("98")],
    );
}

#[test]
fn busy_shapes() {
    // The only reply to a hung command.
    esp(b"\r\nbusy p...\r\n", &[busy("busy p...")]);
    // Before the OK of AT+RST, then the reboot.
    esp(
        b"AT+RST\r\nbusy p...\r\n\r\nOK\r\n\xf0\x8c\x1e\x00\xff\r\nready\r\n",
        &[
            line("AT+RST"),
            busy("busy p..."),
            F::Ok,
            line(b"\xf0\x8c\x1e\x00\xff"),
            F::Ready,
        ],
    );
    // After an ERR CODE line, and the command still succeeds.
    esp(
        b"ERR CODE:0x010b0000\r\nbusy p...\r\n\r\nOK\r\n",
        &[F::ErrorCode(0x010b_0000), busy("busy p..."), F::Ok],
    );
}

#[test]
fn two_send_results() {
    esp(
        b"\r\nSEND FAIL\r\n\r\nSEND OK\r\n",
        &[line("SEND FAIL"), line("SEND OK")],
    );
}

#[test]
fn replies_without_echo_or_leading_line_end() {
    esp(
        b"+MQTTCONN:0,4,1,\"broker\",\"1883\",\"\",1\r\nOK\r\n+MQTTSUB:0,1,\"\",0\r\nOK\r\n",
        &[
            line("+MQTTCONN:0,4,1,\"broker\",\"1883\",\"\",1"),
            F::Ok,
            line("+MQTTSUB:0,1,\"\",0"),
            F::Ok,
        ],
    );
}

#[test]
fn reset_noise_banners_and_logs() {
    let rom = noise(60, 4, 0x80, 0xff);
    let input = cat(&[
        &rom,
        b"\r\n\r\nets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\n",
        b"load 0x40100000, len 2592, room 16\r\n",
        b"I (324) wifi: wifi driver task: 3ffc0000, prio:23\r\n",
        b"OK\r\nWIFI DISCONNECT\r\n",
        b"\r\nready\r\n",
        b"WIFI GOT IP\r\n",
    ]);
    esp(
        &input,
        &[
            line(&rom),
            line("ets Jan  8 2013,rst cause:2, boot mode:(3,6)"),
            line("load 0x40100000, len 2592, room 16"),
            line("I (324) wifi: wifi driver task: 3ffc0000, prio:23"),
            F::Ok,
            line("WIFI DISCONNECT"),
            F::Ready,
            line("WIFI GOT IP"),
        ],
    );
}

#[test]
fn quoted_numbers_and_combo_at_bare_replies() {
    check::<256>(
        Dialect::AiThinker,
        PromptMode::Never,
        b"1,4,3,192.168.31.239,80\r\nconnect success ConID=1\r\nOK\r\n",
        &[
            line("1,4,3,192.168.31.239,80"),
            line("connect success ConID=1"),
            F::Ok,
        ],
    );
}

#[test]
fn http_body_with_line_ends_over_ipd() {
    let body = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\r\nOK\r\n";
    let header = format!("+IPD,0,{}", body.len());
    esp(
        &cat(&[b"\r\n", header.as_bytes(), b":", body, b"0,CLOSED\r\n"]),
        &[data(&header, body), line("0,CLOSED")],
    );
}

// ---------------------------------------------------------------------------
// Framer state
// ---------------------------------------------------------------------------

#[test]
fn frame_borrows_until_next_call_and_reset_forgets() {
    let mut framer = Framer::<64>::new(Dialect::EspAt);
    assert_eq!(framer.capacity(), 64);
    assert!(framer.is_idle());
    let (used, f) = framer.feed(b"+IPD,0,10:abc");
    assert_eq!(used, 13);
    assert!(f.is_none());
    assert!(!framer.is_idle());
    framer.reset();
    assert!(framer.is_idle());
    let (used, f) = framer.feed(b"OK\r\nERROR\r\n");
    assert_eq!(used, 3);
    assert_eq!(f.map(own), Some(F::Ok));
    let (used, f) = framer.feed(b"\nERROR\r\n");
    assert_eq!(used, 7);
    assert_eq!(f.map(own), Some(error("ERROR")));
    assert_eq!(framer.finish().map(own), None);
}

// ---------------------------------------------------------------------------
// The capture file
// ---------------------------------------------------------------------------

#[test]
fn esp_at_capture_file() {
    let capture = include_bytes!("data/esp-at-capture.bin");
    let payload: Vec<u8> = (0..=255u8).collect();
    let expected = [
        line(b"\xe0\x82\x9c\xfc\x13\x8c\xf2n\xec\x8c\x12\x83\x93\xfe"),
        line("ets Jan  8 2013,rst cause:2, boot mode:(3,6)"),
        line("load 0x40100000, len 2592, room 16"),
        F::Ready,
        line("AT+CWJAP=\"lab\",\"secret\""),
        line("WIFI CONNECTED"),
        line("WIFI GOT IP"),
        F::Ok,
        line("AT+MQTTCONN=0,\"192.168.1.2\",1883,1"),
        line("+MQTTCONNECTED:0,1,\"192.168.1.2\",\"1883\",\"\",1"),
        F::Ok,
        line("AT+MQTTSUB=0,\"dev/+/cmd\",1"),
        F::Ok,
        line("AT+MQTTPUBRAW=0,\"dev/1/state\",5,0,0"),
        F::Ok,
        data("+MQTTSUBRECV:0,\"dev/1/cmd\",9", "on,\r\nOK\r\n"),
        F::Prompt,
        line("+MQTTPUB:OK"),
        data("+MQTTSUBRECV:0,\"dev/2/cmd\",256", &payload),
        line("AT+MQTTPUB=0,\"x\",\"\",0,0"),
        F::ErrorCode(0x010a_6006),
        F::ErrorCode(0x010a_6006),
        error("ERROR"),
        line("AT+MQTTPUB=0,\"x\",\"1\",0,0"),
        busy("busy p..."),
        F::Ok,
        line("+MQTTDISCONNECTED:0"),
    ];
    check::<1024>(Dialect::EspAt, PromptMode::Always, capture, &expected);
}

// ---------------------------------------------------------------------------
// Fast path (one byte per call) against the general path, at every split position
// ---------------------------------------------------------------------------

/// Frames `input` three ways for every split position `p`: `input[..p]` one byte per call
/// (the inlined one-byte path) then the rest in one call (the general path), the reverse,
/// and one byte per call throughout; each must give the all-at-once frames and prompt mode.
fn every_split<const N: usize>(dialect: Dialect, mode: PromptMode, input: &[u8]) -> Run {
    let whole = frame_chunked::<N>(dialect, mode, input, usize::MAX);
    let feed_all = |framer: &mut Framer<N>, mut rest: &[u8], frames: &mut Vec<F>| {
        while !rest.is_empty() {
            let (used, frame) = framer.feed(rest);
            assert!(used > 0 || frame.is_some(), "feed made no progress");
            if let Some(f) = frame {
                frames.push(own(f));
            }
            rest = &rest[used..];
        }
    };
    for p in 0..=input.len() {
        for bytewise_first in [true, false] {
            let mut framer = Framer::<N>::new(dialect);
            framer.set_prompt_mode(mode);
            let mut frames = Vec::new();
            let (a, b) = input.split_at(p);
            let (one, whole_part) = if bytewise_first { (a, b) } else { (b, a) };
            if bytewise_first {
                for byte in one.chunks(1) {
                    feed_all(&mut framer, byte, &mut frames);
                }
                feed_all(&mut framer, whole_part, &mut frames);
            } else {
                feed_all(&mut framer, whole_part, &mut frames);
                for byte in one.chunks(1) {
                    feed_all(&mut framer, byte, &mut frames);
                }
            }
            let mode_after = framer.prompt_mode();
            if let Some(f) = framer.finish() {
                frames.push(own(f));
            }
            let got = Run { frames, mode_after };
            assert_eq!(
                got,
                whole,
                "split at {p} (bytewise {}) differs for {:?}",
                if bytewise_first { "first" } else { "second" },
                input.escape_ascii().to_string()
            );
        }
    }
    whole
}

#[test]
fn one_byte_path_agrees_with_the_general_path_at_every_split() {
    let inputs: [&[u8]; 8] = [
        // CR LF, LF alone, CR alone, spaces and NULs between lines, result words.
        b"\r\nOK\r\n \t\0busy p...\rERROR\nERR CODE:0x00010203\r\nready\r\n+CWJAP:\"a,b\",1\r\n",
        // A data header (quoted topic with a quote and commas), payload with CR LF and OK,
        // a line glued to the payload's end, then an empty payload.
        b"+MQTTSUBRECV:0,\"t\\\"x,y\",7,ab\r\nOK}0,CLOSED\r\n+MQTTSUBRECV:0,\"t\",0,\r\nOK\r\n",
        // +IPD with and without link id and remote address; a line that only starts like one.
        b"+IPD,5:hello+IPD,0,3,\"1.2.3.4\",80:a\r\n+IP:1\r\n+IPD,1,2:\r\n",
        // Prompts: at a line start after CR LF, glued to the next line, and a later `>` text.
        b"OK\r\n\r\n>+MQTTPUB:OK\r\n> \r\n",
        // Corrupt headers: a non-numeric length, too many fields, a length that is too big.
        b"+MQTTSUBRECV:0,\"t\",x5,abc\r\n+IPD,1,2,3,4,5,6,7,8,9:\r\n+CIPRECVDATA:99999,z\r\n",
        // +CIPRECVDATA both ways, then a plain line.
        b"+CIPRECVDATA:3,a\r\n+CIPRECVDATA,2:\n\nx\r\n",
        // A line longer than the buffer, then a plain one.
        b"0123456789abcdefghijklmnopqrstuvwxyz0123456789\r\nOK\r\n",
        // A payload larger than the buffer (truncated, rest skipped), then a line.
        b"+IPD,40:0123456789abcdefghijklmnopqrstuvwxyz1234OK\r\n",
    ];
    for input in inputs {
        for mode in [PromptMode::Never, PromptMode::Once, PromptMode::Always] {
            every_split::<32>(Dialect::EspAt, mode, input);
            every_split::<256>(Dialect::EspAt, mode, input);
        }
    }
    // A header longer than the buffer that is decided after the buffer is full.
    let long = b"+MQTTSUBRECV:0,\"a-very-long-topic-name\",3,xyz\r\nOK\r\n";
    let r = every_split::<24>(Dialect::EspAt, PromptMode::Never, long);
    assert!(
        matches!(
            r.frames[0],
            F::Data {
                truncated: true,
                ..
            }
        ),
        "{r:?}"
    );
    assert_eq!(r.frames[1], F::Ok);
    // Combo-AT's data headers (prefix with a `:` inside) and busy text anywhere in a line.
    let combo = b"+EVENT:SocketDown,1,3,a\r\n+EVENT:MQTT_SUB,t,2,\r\n\r\nx cmd is running\r\n";
    for mode in [PromptMode::Never, PromptMode::Always] {
        every_split::<64>(Dialect::AiThinker, mode, combo);
    }
}

#[test]
fn one_byte_path_frames_what_it_should() {
    // Concrete frames, one byte per call, so that a fast path that agrees with a broken
    // general path is caught too.
    let input = b"\r\n+MQTTSUBRECV:0,\"t\",4,\r\nOK\r\nbusy p...\r\n+IPD,2:ab";
    let r = every_split::<64>(Dialect::EspAt, PromptMode::Never, input);
    assert_eq!(
        r.frames,
        vec![
            data("+MQTTSUBRECV:0,\"t\",4", "\r\nOK"),
            F::Busy(B(b"busy p...".to_vec())),
            data("+IPD,2", "ab"),
        ]
    );
}
