//! Instruction-count harness: runs ONE configuration per process so that
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=icount_measure` counts
//! exactly the instructions of the receive path (generating the stream is not counted).
//! `bash bench/callgrind.sh` drives it; see BENCHMARKS.md.
//!
//! ```text
//! icount                                   check + info
//! icount check [TOTAL]                     every path, stream, read size and stream size
//!                                          must frame the generated traffic exactly
//! icount info [TOTAL]                      composition of the streams
//! icount measure IMP KIND READ SIZE TOTAL  one configuration (IMP: framer|atat|copy|
//!                                          client|client-copy|driver,
//!                                          KIND: full|compat|msg64|msg1k; sizes in bytes,
//!                                          K or M)
//! icount report DIR                        the tables, from DIR/*.out and DIR/*.log
//! icount wall [TOTAL]                      wall-time throughput (best of several runs)
//! ```

#[path = "../../../benches/common/mod.rs"]
mod common;

use common::{
    generate, run, segments, verify, Imp, Outcome, Stream, StreamKind, EVENTS, READ_SIZES,
    STREAM_SIZES,
};
use std::collections::BTreeMap;
use std::ops::Range;
use std::process::ExitCode;
use std::time::Instant;

/// The function callgrind counts (by this exact, unmangled name).
#[no_mangle]
#[inline(never)]
pub fn icount_measure(imp: Imp, data: &[u8], segs: &[Range<usize>], read: usize) -> Outcome {
    run(imp, data, segs, read)
}

fn parse_size(s: &str) -> Option<usize> {
    let (num, mul) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1 << 10),
        b'M' | b'm' => (&s[..s.len() - 1], 1 << 20),
        _ => (s, 1),
    };
    num.parse::<usize>().ok().map(|n| n * mul)
}

fn size_name(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

fn info(total: usize) {
    for kind in [StreamKind::Full, StreamKind::Compat] {
        let s = generate(kind, total);
        let n = s.bytes.len() as f64;
        println!(
            "{} stream: {} bytes, {} events, data payload {:.1}% of bytes",
            kind.name(),
            s.bytes.len(),
            s.cuts.len() - 1,
            100.0 * s.payload_bytes as f64 / n
        );
        println!("  | event | events | bytes | share of bytes |");
        println!("  |---|---:|---:|---:|");
        for (i, e) in EVENTS.iter().enumerate() {
            let (count, bytes) = s.composition[i];
            if count > 0 {
                println!(
                    "  | {} | {count} | {bytes} | {:.1}% |",
                    e.name(),
                    100.0 * bytes as f64 / n
                );
            }
        }
        for size in STREAM_SIZES {
            let segs = segments(&s, size);
            if segs.len() > 1 || size <= total {
                println!(
                    "  cut into {}-streams: {} streams, mean {:.0} bytes",
                    size_name(size),
                    segs.len(),
                    n / segs.len() as f64
                );
            }
        }
    }
}

fn check(total: usize) -> bool {
    let mut ok = true;
    for kind in [
        StreamKind::Full,
        StreamKind::Compat,
        StreamKind::Msg64,
        StreamKind::Msg1k,
    ] {
        let s = generate(kind, total);
        let imps: &[Imp] = if kind.compat() {
            &[Imp::Framer, Imp::Client, Imp::Driver, Imp::Atat]
        } else {
            &[Imp::Framer, Imp::Client, Imp::Driver]
        };
        for &imp in imps {
            for read in READ_SIZES {
                for size in [STREAM_SIZES[0], total] {
                    let segs = segments(&s, size);
                    let out = run(imp, &s.bytes, &segs, read);
                    match verify(imp, &s, &out) {
                        Ok(()) => println!(
                            "check {} {} read {read} streams {}: ok",
                            imp.name(),
                            kind.name(),
                            size_name(size)
                        ),
                        Err(e) => {
                            ok = false;
                            println!("check FAILED: read {read}, size {size}: {e}");
                        }
                    }
                }
            }
        }
    }
    ok
}

fn measure(args: &[String]) -> Result<(), String> {
    let usage = || {
        "usage: icount measure framer|atat|copy|client|client-copy|driver full|compat|msg64|msg1k READ SIZE TOTAL".to_string()
    };
    let [imp, kind, read, size, total] = args else {
        return Err(usage());
    };
    let imp = Imp::parse(imp).ok_or_else(usage)?;
    let kind = StreamKind::parse(kind).ok_or_else(usage)?;
    let read = parse_size(read).filter(|r| (1..=common::MAX_READ).contains(r));
    let read = read.ok_or_else(usage)?;
    let size = parse_size(size).ok_or_else(usage)?;
    let total = parse_size(total).ok_or_else(usage)?;
    let s: Stream = generate(kind, total);
    let segs = segments(&s, size);
    let out = icount_measure(
        imp,
        std::hint::black_box(&s.bytes),
        std::hint::black_box(&segs),
        read,
    );
    verify(imp, &s, &out)?;
    println!(
        "imp={} kind={} read={read} size={size} total={total} bytes={} streams={}",
        imp.name(),
        kind.name(),
        s.bytes.len(),
        segs.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Key {
    imp: &'static str,
    kind: &'static str,
    read: usize,
    size: usize,
}

struct Row {
    instr: u64,
    bytes: u64,
}

impl Row {
    fn per_byte(&self) -> f64 {
        self.instr as f64 / self.bytes as f64
    }
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
}

fn load(dir: &str) -> Result<BTreeMap<Key, Row>, String> {
    let mut rows = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("out") {
            continue;
        }
        let out = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let log = std::fs::read_to_string(path.with_extension("log")).map_err(|e| e.to_string())?;
        let instr = out
            .lines()
            .find_map(|l| l.strip_prefix("summary:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("{}: no summary line", path.display()))?;
        let line = log
            .lines()
            .find(|l| l.starts_with("imp="))
            .ok_or_else(|| format!("{}: no result line", path.display()))?;
        let get = |n: &str| field(line, n).ok_or_else(|| format!("{}: no {n}", path.display()));
        let imp = Imp::parse(get("imp")?).ok_or("bad imp")?.name();
        let kind = StreamKind::parse(get("kind")?).ok_or("bad kind")?.name();
        let num =
            |n: &str| -> Result<usize, String> { get(n)?.parse().map_err(|_| format!("bad {n}")) };
        let key = Key {
            imp,
            kind,
            read: num("read")?,
            size: num("size")?,
        };
        let bytes = num("bytes")? as u64;
        rows.insert(key, Row { instr, bytes });
    }
    Ok(rows)
}

fn fmt_pb(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".to_string(),
    }
}

fn fmt_ratio(v: Option<f64>) -> String {
    match v {
        Some(v) if v < 0.01 => format!("{v:.4}"),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".to_string(),
    }
}

fn div(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn verdict(v: Option<f64>, ok: impl Fn(f64) -> bool) -> &'static str {
    match v {
        None => "not measured",
        Some(v) if ok(v) => "**PASS**",
        Some(_) => "**FAIL**",
    }
}

fn worst(vs: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    vs.into_iter().flatten().reduce(f64::max)
}

struct Table<'a> {
    rows: &'a BTreeMap<Key, Row>,
}

impl Table<'_> {
    /// Instructions per byte, UART read included.
    fn raw(&self, imp: &'static str, kind: &'static str, read: usize, size: usize) -> Option<f64> {
        let key = Key {
            imp,
            kind,
            read,
            size,
        };
        self.rows.get(&key).map(Row::per_byte)
    }

    /// Instructions per byte of the path alone: raw minus the UART reads alone (same stream,
    /// read size and stream size).
    fn net(&self, imp: &'static str, kind: &'static str, read: usize, size: usize) -> Option<f64> {
        let floor = if imp == "client" || imp == "driver" {
            "client-copy"
        } else {
            "copy"
        };
        Some(self.raw(imp, kind, read, size)? - self.raw(floor, kind, read, size)?)
    }

    fn by_size(&self, title: &str, imp: &'static str, kind: &'static str) {
        println!("\n### {title}\n");
        print!("| read size |");
        for s in STREAM_SIZES {
            print!(" {} streams |", size_name(s));
        }
        println!(
            " UART reads alone ({} streams) |",
            size_name(STREAM_SIZES[1])
        );
        println!("|---:|{}---:|", "---:|".repeat(STREAM_SIZES.len()));
        for read in READ_SIZES {
            print!("| {read} |");
            for s in STREAM_SIZES {
                print!(" {} |", fmt_pb(self.raw(imp, kind, read, s)));
            }
            println!(
                " {} |",
                fmt_pb(self.raw("copy", kind, read, STREAM_SIZES[1]))
            );
        }
    }
}

fn report(dir: &str) -> Result<(), String> {
    let rows = load(dir)?;
    let t = Table { rows: &rows };
    let mid = STREAM_SIZES[1];
    let (first, last) = (READ_SIZES[0], READ_SIZES[READ_SIZES.len() - 1]);

    println!("## Instructions per byte, UART reads included\n");
    println!(
        "Each figure: instructions callgrind counted in the receive path over the same ~1 MiB \
         of traffic, divided by its bytes. The last column is the harness's UART reads alone \
         (the floor every path pays)."
    );
    t.by_size("Framer, full ESP-AT stream", "framer", "full");
    t.by_size("Framer, atat-compatible stream", "framer", "compat");
    t.by_size(
        "atat `AtDigester` behind atat's ingress loop, atat-compatible stream",
        "atat",
        "compat",
    );

    println!(
        "\n## Side by side, {} streams, net of the UART reads (instructions per byte)\n",
        size_name(mid)
    );
    println!(
        "| read size | framer, full | framer, compat | atat, compat | framer/atat, same bytes | framer full / atat compat |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for read in READ_SIZES {
        let ff = t.net("framer", "full", read, mid);
        let fc = t.net("framer", "compat", read, mid);
        let ac = t.net("atat", "compat", read, mid);
        println!(
            "| {read} | {} | {} | {} | {} | {} |",
            fmt_pb(ff),
            fmt_pb(fc),
            fmt_pb(ac),
            fmt_ratio(div(fc, ac)),
            fmt_ratio(div(ff, ac))
        );
    }

    println!(
        "\n## Cost model: net instructions per byte = a + b / read size ({} streams)\n",
        size_name(mid)
    );
    println!(
        "a (per byte) and b (per read, beyond its bytes) are solved from the {first}- and \
         {last}-byte reads. For the framer b is a fixed cost per call; for atat it grows with \
         the bytes buffered (next section)."
    );
    println!();
    print!("| path | a: per byte | b: per read |");
    for read in &READ_SIZES[1..READ_SIZES.len() - 1] {
        print!(" {read}-byte reads: model / measured |");
    }
    println!("\n|---|---:|---:|{}", "---:|".repeat(READ_SIZES.len() - 2));
    for (imp, kind) in [("framer", "full"), ("framer", "compat"), ("atat", "compat")] {
        let (Some(c1), Some(cn)) = (t.net(imp, kind, first, mid), t.net(imp, kind, last, mid))
        else {
            continue;
        };
        let inv = 1.0 / last as f64;
        let b = (c1 - cn) / (1.0 - inv);
        let a = c1 - b;
        print!(
            "| {imp}, {kind} | {} | {} |",
            fmt_pb(Some(a)),
            fmt_pb(Some(b))
        );
        for &read in &READ_SIZES[1..READ_SIZES.len() - 1] {
            let model = a + b / read as f64;
            print!(
                " {} / {} |",
                fmt_pb(Some(model)),
                fmt_pb(t.net(imp, kind, read, mid))
            );
        }
        println!();
    }

    println!(
        "\n## Rescanning test: frames of 64 bytes vs 1 KiB of payload ({} streams, net)\n",
        size_name(mid)
    );
    println!(
        "Streams of nothing but compat `+MQTTSUBRECV` frames. A path that rescans its buffer \
         on every read pays more per byte for longer frames at small reads: the last column \
         is the extra cost per byte of 1 KiB frames over 64-byte frames, 1-byte reads."
    );
    println!();
    println!(
        "| path | 64-byte payloads, {last}-byte reads | 1 KiB payloads, {last}-byte reads | 64-byte payloads, {first}-byte reads | 1 KiB payloads, {first}-byte reads | 1 KiB / 64 B, {first}-byte reads | 1 KiB − 64 B, {first}-byte reads |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut rescan = Vec::new();
    for imp in ["framer", "atat"] {
        let s1 = t.net(imp, "msg64", first, mid);
        let b1 = t.net(imp, "msg1k", first, mid);
        rescan.push(div(b1, s1));
        println!(
            "| {imp} | {} | {} | {} | {} | {} | {} |",
            fmt_pb(t.net(imp, "msg64", last, mid)),
            fmt_pb(t.net(imp, "msg1k", last, mid)),
            fmt_pb(s1),
            fmt_pb(b1),
            fmt_ratio(div(b1, s1)),
            fmt_pb(b1.zip(s1).map(|(b, s)| b - s))
        );
    }

    println!(
        "\n## Client level: the framer driven as `Client::read_chunk` drives it ({} streams)\n",
        size_name(mid)
    );
    println!(
        "A 64-byte stack chunk; after the first read, more reads while `read_ready` says bytes \
         are waiting and the chunk has room; then `feed` until the chunk is used up. Floor: \
         the same reads and `read_ready` calls alone. Net = client − floor."
    );
    println!();
    println!("| read size | client, full | floor, full | net, full | client, compat | floor, compat | net, compat |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for read in READ_SIZES {
        println!(
            "| {read} | {} | {} | {} | {} | {} | {} |",
            fmt_pb(t.raw("client", "full", read, mid)),
            fmt_pb(t.raw("client-copy", "full", read, mid)),
            fmt_pb(t.net("client", "full", read, mid)),
            fmt_pb(t.raw("client", "compat", read, mid)),
            fmt_pb(t.raw("client-copy", "compat", read, mid)),
            fmt_pb(t.net("client", "compat", read, mid)),
        );
    }

    println!(
        "\n## Driver level: the real `Client::poll` ({} streams)\n",
        size_name(mid)
    );
    println!(
        "`at_wifi::Client` (default buffers) over an embedded-io UART that hands over at most \
         READ bytes per read, polled until the stream is used up: framing, routing, URC \
         parsing, the event queue and every event handed out. Floor: the client-level reads \
         and `read_ready` calls alone (as above). Net = driver − floor."
    );
    println!();
    println!("| read size | driver, full | net, full | driver, compat | net, compat |");
    println!("|---:|---:|---:|---:|---:|");
    for read in READ_SIZES {
        println!(
            "| {read} | {} | {} | {} | {} |",
            fmt_pb(t.raw("driver", "full", read, mid)),
            fmt_pb(t.net("driver", "full", read, mid)),
            fmt_pb(t.raw("driver", "compat", read, mid)),
            fmt_pb(t.net("driver", "compat", read, mid)),
        );
    }

    println!(
        "\n## Aims (net figures, {} streams unless stated)\n",
        size_name(mid)
    );
    println!("| aim | measured | verdict |");
    println!("|---|---|---|");
    let r = div(
        t.net("framer", "compat", last, mid),
        t.net("atat", "compat", last, mid),
    );
    println!(
        "| framer ≤ 0.5 × atat per byte, {last}-byte reads, on the bytes atat handles | {} | {} |",
        fmt_ratio(r),
        verdict(r, |r| r <= 0.5)
    );
    let r = div(
        t.net("framer", "full", last, mid),
        t.net("atat", "compat", last, mid),
    );
    println!(
        "| framer on the full stream ≤ 0.5 × atat on the part it handles, {last}-byte reads | {} | {} |",
        fmt_ratio(r),
        verdict(r, |r| r <= 0.5)
    );
    let per_read: Vec<Option<f64>> = READ_SIZES
        .iter()
        .map(|&rd| {
            div(
                t.net("framer", "compat", rd, mid),
                t.net("atat", "compat", rd, mid),
            )
        })
        .collect();
    let cells: Vec<String> = READ_SIZES
        .iter()
        .zip(&per_read)
        .map(|(rd, r)| format!("{rd}: {}", fmt_ratio(*r)))
        .collect();
    let w = worst(per_read.iter().copied());
    println!(
        "| framer ≤ 0.5 × atat at equal read sizes (read size: ratio) | {} | {} |",
        cells.join(", "),
        verdict(w, |r| r <= 0.5)
    );
    for kind in ["full", "compat"] {
        let net: Vec<Option<f64>> = STREAM_SIZES
            .iter()
            .map(|&s| {
                div(
                    t.net("framer", kind, first, s),
                    t.net("framer", kind, last, s),
                )
            })
            .collect();
        let raw: Vec<Option<f64>> = STREAM_SIZES
            .iter()
            .map(|&s| {
                div(
                    t.raw("framer", kind, first, s),
                    t.raw("framer", kind, last, s),
                )
            })
            .collect();
        let cells: Vec<String> = STREAM_SIZES
            .iter()
            .zip(net.iter().zip(&raw))
            .map(|(s, (n, r))| {
                format!(
                    "{}: {} (raw {})",
                    size_name(*s),
                    fmt_ratio(*n),
                    fmt_ratio(*r)
                )
            })
            .collect();
        let w = worst(net.iter().copied());
        println!(
            "| framer ({kind}): {first}-byte reads ≤ 1.5 × {last}-byte reads per byte | {} | {} |",
            cells.join(", "),
            verdict(w, |r| r <= 1.5)
        );
    }
    for kind in ["full", "compat"] {
        let r = div(
            t.net("client", kind, first, mid),
            t.net("client", kind, last, mid),
        );
        println!(
            "| client level ({kind}, `read_chunk` batching reads while `read_ready`): {first}-byte reads ≤ 1.5 × {last}-byte reads per byte | {} | {} |",
            fmt_ratio(r),
            verdict(r, |r| r <= 1.5)
        );
    }
    for kind in ["full", "compat"] {
        let r = div(
            t.net("driver", kind, first, mid),
            t.net("driver", kind, last, mid),
        );
        let raw = div(
            t.raw("driver", kind, first, mid),
            t.raw("driver", kind, last, mid),
        );
        println!(
            "| driver level ({kind}, the real `Client::poll`): {first}-byte reads ≤ 1.5 × {last}-byte reads per byte | {} (raw {}) | {} |",
            fmt_ratio(r),
            fmt_ratio(raw),
            verdict(r, |r| r <= 1.5)
        );
    }
    println!(
        "| (no rescanning) {first}-byte reads, cost per byte of 1 KiB frames / 64-byte frames | framer {}, atat {} | - |",
        fmt_ratio(rescan[0]),
        fmt_ratio(rescan[1])
    );
    let atat_r = div(
        t.net("atat", "compat", first, mid),
        t.net("atat", "compat", last, mid),
    );
    println!(
        "| (for reference) atat: {first}-byte / {last}-byte reads per byte | {} | - |",
        fmt_ratio(atat_r)
    );
    for kind in ["full", "compat"] {
        let mut all = Vec::new();
        let mut cells = Vec::new();
        for w in STREAM_SIZES.windows(2) {
            let rs: Vec<Option<f64>> = READ_SIZES
                .iter()
                .map(|&rd| {
                    div(
                        t.net("framer", kind, rd, w[1]),
                        t.net("framer", kind, rd, w[0]),
                    )
                })
                .collect();
            all.extend(rs.iter().copied());
            let rs: Vec<String> = rs.into_iter().map(fmt_ratio).collect();
            cells.push(format!(
                "{}/{}: {}",
                size_name(w[1]),
                size_name(w[0]),
                rs.join(" / ")
            ));
        }
        println!(
            "| framer ({kind}) grows linearly: per-byte cost of the larger streams ≤ 1.1 × the smaller (reads {}) | {} | {} |",
            READ_SIZES.map(|r| r.to_string()).join("/"),
            cells.join("; "),
            verdict(worst(all), |r| r <= 1.1)
        );
    }
    Ok(())
}

/// Wall time of one configuration: the best of several runs (at least 3, at least 0.3 s).
fn time_one(imp: Imp, s: &Stream, segs: &[Range<usize>], read: usize) -> Result<f64, String> {
    let out = run(imp, &s.bytes, segs, read);
    verify(imp, s, &out)?;
    let mut best = f64::INFINITY;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed().as_secs_f64() < 0.3 {
        let t = Instant::now();
        std::hint::black_box(run(imp, std::hint::black_box(&s.bytes), segs, read));
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    Ok(best)
}

fn wall(total: usize) -> Result<(), String> {
    let size = STREAM_SIZES[1];
    let full = generate(StreamKind::Full, total);
    let compat = generate(StreamKind::Compat, total);
    let full_segs = segments(&full, size);
    let compat_segs = segments(&compat, size);
    println!(
        "## Wall time, {} streams, {} of traffic: MB/s (best of at least 3 runs)\n",
        size_name(size),
        size_name(total)
    );
    println!(
        "| read size | framer, full | framer, compat | atat, compat | framer/atat speed, compat |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mbps = |s: &Stream, secs: f64| s.bytes.len() as f64 / secs / 1e6;
    for read in READ_SIZES {
        let ff = time_one(Imp::Framer, &full, &full_segs, read)?;
        let fc = time_one(Imp::Framer, &compat, &compat_segs, read)?;
        let ac = time_one(Imp::Atat, &compat, &compat_segs, read)?;
        let fmt = |v: f64| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        println!(
            "| {read} | {} | {} | {} | {} |",
            fmt(mbps(&full, ff)),
            fmt(mbps(&compat, fc)),
            fmt(mbps(&compat, ac)),
            fmt(ac / fc)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .collect();
    let total_arg =
        |i: usize, default: usize| words.get(i).and_then(|s| parse_size(s)).unwrap_or(default);
    let result = match words.first().map(String::as_str) {
        None => {
            info(64 << 10);
            if check(64 << 10) {
                Ok(())
            } else {
                Err("check failed".to_string())
            }
        }
        Some("check") => {
            if check(total_arg(1, 64 << 10)) {
                Ok(())
            } else {
                Err("check failed".to_string())
            }
        }
        Some("info") => {
            info(total_arg(1, 1 << 20));
            Ok(())
        }
        Some("measure") => measure(&words[1..]),
        Some("wall") => wall(total_arg(1, 1 << 20)),
        Some("report") => match words.get(1) {
            Some(dir) => report(dir),
            None => Err("usage: icount report DIR".to_string()),
        },
        Some(other) => Err(format!("unknown command {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("icount: {e}");
            ExitCode::FAILURE
        }
    }
}
