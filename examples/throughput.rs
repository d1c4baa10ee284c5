//! Publish throughput of binary payloads (`AT+MQTTPUBRAW`) through the simulator over a
//! UART paced to a baud rate.
//!
//! ```sh
//! cargo run --release --example throughput -- --baud 115200            # 20 publishes
//! cargo run --release --example throughput -- --baud 921600            # 100 publishes
//! cargo run --release --example throughput -- --baud 921600 --count 300 --size 4096
//! ```
//!
//! It starts the embedded MQTT broker and the ESP-AT simulator on an in-process pipe, and
//! puts [`PacedUart`] between the driver and the pipe: a byte costs 10 bit times (8N1) in
//! each direction. Host-to-module writes block for `len × 10 / baud` seconds and reach the
//! module as they finish on the line; module-to-host bytes become readable no faster than
//! the baud rate, one after another, from when they were seen on the pipe.
//!
//! After the Wi-Fi join and the MQTT connect it publishes `--count` payloads of `--size`
//! bytes (default 4096; binary, so [`Mqtt::publish`] takes `AT+MQTTPUBRAW`) at QoS 0 and
//! times them from the completion of the first publish (its `+MQTTPUB:OK`) to the
//! completion of the last: the window holds `count - 1` publishes. It reports payload
//! bytes/s, the UART bytes written and read in the window, and two efficiencies against the
//! line rate (`baud / 10` bytes/s):
//!
//! - payload efficiency: payload bytes / (line rate × elapsed);
//! - UART-byte efficiency: bytes written (command lines + payloads) / (line rate × elapsed).
//!
//! Exit status 1 if a step fails.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use at_wifi::command::basic::At;
use at_wifi::command::mqtt::QoS;
use at_wifi::command::wifi::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::mqtt::{Mqtt, MqttOptions, PublishPath};
use at_wifi::{Client, Dialect, StdClock};
use at_wifi_sim::{broker, Sim, SimConfig};
use at_wifi_sim::{PipeEnd, PipeError};

const SSID: &str = "bench-lab";
const PASSWORD: &str = "bench-password";
/// Bits on the line per byte: start, 8 data, stop.
const BITS_PER_BYTE: u64 = 10;

struct Args {
    baud: u64,
    count: Option<usize>,
    size: usize,
    echo: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        baud: 115_200,
        count: None,
        size: 4096,
        echo: true,
    };
    let usage = "usage: throughput [--baud BAUD] [--count N] [--size BYTES] [--no-echo]";
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            v.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("bad {name} {v}"))
        };
        match a.as_str() {
            "--baud" => args.baud = num("--baud")?,
            "--count" => args.count = Some(num("--count")? as usize),
            "--size" => args.size = num("--size")? as usize,
            "--no-echo" => args.echo = false,
            "-h" | "--help" => return Err(usage.into()),
            other => return Err(format!("unknown argument {other}\n{usage}")),
        }
    }
    if args.count == Some(1) {
        return Err(
            "--count must be at least 2 (the window runs from the first completion)".into(),
        );
    }
    Ok(args)
}

/// Time on the line for `bytes` bytes at `baud`.
fn line_time(bytes: u64, baud: u64) -> Duration {
    Duration::from_nanos(bytes * BITS_PER_BYTE * 1_000_000_000 / baud)
}

/// Sleeps until `t`: the OS sleep for the bulk, then a yielding spin for the last 200 µs
/// (a plain sleep overshoots by 50–100 µs, a third of a 32-byte chunk at 921600 baud).
fn sleep_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > Duration::from_micros(300) {
            std::thread::sleep(left - Duration::from_micros(200));
        } else {
            std::thread::yield_now();
        }
    }
}

/// The driver's UART: the driver-side [`PipeEnd`] paced to `baud` in both directions.
struct PacedUart {
    inner: PipeEnd,
    baud: u64,
    /// Bytes per chunk handed to the module: about 0.25 ms of line time.
    chunk: usize,
    /// When the transmit line is free again.
    tx_free: Instant,
    /// When the receive line is free again (the last queued byte's arrival).
    rx_free: Instant,
    /// Bytes taken from the pipe, each with the time it is fully received.
    rx: VecDeque<(Instant, u8)>,
    rx_eof: bool,
    written: u64,
    read: u64,
}

impl PacedUart {
    fn new(inner: PipeEnd, baud: u64) -> Self {
        let now = Instant::now();
        PacedUart {
            inner,
            baud,
            chunk: ((baud / BITS_PER_BYTE / 4000) as usize).max(1),
            tx_free: now,
            rx_free: now,
            rx: VecDeque::new(),
            rx_eof: false,
            written: 0,
            read: 0,
        }
    }

    /// Stamps `bytes`, just seen on the pipe, with their arrival times: one after
    /// another, the first no earlier than one byte time from now.
    fn stamp(&mut self, bytes: &[u8]) {
        let now = Instant::now();
        let byte = line_time(1, self.baud);
        let mut t = self.rx_free.max(now);
        for &b in bytes {
            t += byte;
            self.rx.push_back((t, b));
        }
        self.rx_free = t;
    }

    /// Takes whatever the module has written, without blocking.
    fn pull(&mut self) -> Result<(), PipeError> {
        let mut buf = [0u8; 512];
        while self.inner.available() > 0 {
            let n = self.inner.recv_timeout(&mut buf, Duration::ZERO)?;
            if n == 0 {
                break;
            }
            self.stamp(&buf[..n]);
        }
        if self.inner.available() == 0 && self.inner.is_closed() {
            self.rx_eof = true;
        }
        Ok(())
    }

    fn due(&self, now: Instant) -> bool {
        self.rx.front().is_some_and(|&(t, _)| t <= now)
    }
}

impl embedded_io::ErrorType for PacedUart {
    type Error = PipeError;
}

impl embedded_io::Read for PacedUart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.pull()?;
            let now = Instant::now();
            if self.due(now) {
                let mut n = 0;
                while n < buf.len() && self.due(now) {
                    buf[n] = self.rx.pop_front().expect("due").1;
                    n += 1;
                }
                self.read += n as u64;
                return Ok(n);
            }
            if let Some(&(t, _)) = self.rx.front() {
                sleep_until(t);
            } else if self.rx_eof {
                return Ok(0);
            } else {
                // Nothing on the way: wait on the pipe itself and stamp on arrival.
                let mut tmp = [0u8; 512];
                let n = self
                    .inner
                    .recv_timeout(&mut tmp, Duration::from_millis(5))?;
                self.stamp(&tmp[..n]);
            }
        }
    }
}

impl embedded_io::ReadReady for PacedUart {
    fn read_ready(&mut self) -> Result<bool, PipeError> {
        self.pull()?;
        Ok(self.due(Instant::now()) || (self.rx.is_empty() && self.rx_eof))
    }
}

impl embedded_io::Write for PacedUart {
    /// Blocks until all of `buf` is on the line; the module gets each chunk as its last
    /// byte finishes. Chunks of one call follow each other back to back (a late wake-up
    /// does not add up); a call that finds the line idle starts now.
    fn write(&mut self, buf: &[u8]) -> Result<usize, PipeError> {
        let mut t = self.tx_free.max(Instant::now());
        for c in buf.chunks(self.chunk) {
            t += line_time(c.len() as u64, self.baud);
            // Keep the receive stamps honest while we wait.
            self.pull()?;
            sleep_until(t);
            self.inner.send(c)?;
        }
        self.tx_free = t;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), PipeError> {
        Ok(())
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let baud = args.baud;
    let count = args.count.unwrap_or(if baud >= 460_800 { 100 } else { 20 });
    let _broker = broker::start(0).map_err(|e| format!("embedded broker: {e}"))?;
    let broker_addr = _broker.addr();
    let config = SimConfig::new(at_wifi_sim::Dialect::EspAt)
        .broker(broker_addr)
        .network(SSID, PASSWORD)
        .echo(args.echo);
    let (_sim, pipe_end) = Sim::pipe(config);
    let uart = PacedUart::new(pipe_end, baud);

    let mut client: Client<_, _> = Client::new(uart, StdClock::new(), Dialect::EspAt);
    let e = |what: &'static str| move |err: at_wifi::Error| format!("{what}: {err}");
    let start = Instant::now();
    loop {
        match client.send(&At) {
            Ok(_) => break,
            Err(_) if start.elapsed() < Duration::from_secs(5) => {}
            Err(err) => return Err(format!("probe: {err}")),
        }
    }
    client
        .send(&SetWifiMode::new(WifiMode::Station))
        .map_err(e("AT+CWMODE"))?;
    let jap = JoinAp::new(Dialect::EspAt, SSID, PASSWORD).map_err(e("JoinAp"))?;
    join(&mut client, &jap).map_err(|err| format!("AT+CWJAP: {err}"))?;

    let mut mqtt: Mqtt = Mqtt::new();
    let client_id = format!("tp-{}", std::process::id());
    let opts = MqttOptions::new(&client_id).keepalive_s(120);
    mqtt.configure(&mut client, &opts).map_err(e("configure"))?;
    let host = broker_addr.ip().to_string();
    mqtt.connect(&mut client, &host, broker_addr.port(), 30_000)
        .map_err(e("connect"))?;

    // Binary (NUL, CR, LF inside): the raw path whatever the size.
    let payload: Vec<u8> = (0..args.size).map(|i| (i % 256) as u8).collect();
    let topic = "tp/b";

    let mut t0 = None;
    let (mut w0, mut r0) = (0, 0);
    let mut slowest = Duration::ZERO;
    let mut last = Instant::now();
    for i in 0..count {
        let path = mqtt
            .publish(&mut client, topic, &payload, QoS::AtMostOnce, false)
            .map_err(|err| format!("publish {}: {err}", i + 1))?;
        if path != PublishPath::Raw {
            return Err(format!("publish went via {path:?}, expected Raw"));
        }
        let now = Instant::now();
        match t0 {
            None => {
                t0 = Some(now);
                w0 = client.uart_mut().written;
                r0 = client.uart_mut().read;
            }
            Some(_) => slowest = slowest.max(now - last),
        }
        last = now;
    }
    let t0 = t0.expect("count >= 2");
    let elapsed = last - t0;
    let written = client.uart_mut().written - w0;
    let read = client.uart_mut().read - r0;
    let _ = mqtt.disconnect(&mut client);

    let n = (count - 1) as u64;
    let payload_bytes = n * args.size as u64;
    let secs = elapsed.as_secs_f64();
    let line_rate = baud as f64 / BITS_PER_BYTE as f64;
    let capacity = line_rate * secs;
    let per_pub = elapsed / n as u32;
    println!(
        "baud {baud} (line rate {line_rate:.0} B/s), {count} publishes of {} B, QoS 0, AT+MQTTPUBRAW, echo {}",
        args.size,
        if args.echo { "on" } else { "off" }
    );
    println!(
        "window: publishes 2..={count} ({n}), {:.3} s, {:.2} ms a publish (slowest {:.2} ms), payload alone on the line {:.2} ms",
        secs,
        per_pub.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3,
        line_time(args.size as u64, baud).as_secs_f64() * 1e3
    );
    println!(
        "payload: {payload_bytes} B, {:.0} B/s",
        payload_bytes as f64 / secs
    );
    println!(
        "uart: written {written} B ({:.1} a publish beyond the payload), read {read} B ({:.1} a publish)",
        (written - payload_bytes) as f64 / n as f64,
        read as f64 / n as f64
    );
    println!(
        "efficiency: payload {:.1} %, UART bytes written {:.1} %, written + read {:.1} %",
        100.0 * payload_bytes as f64 / capacity,
        100.0 * written as f64 / capacity,
        100.0 * (written + read) as f64 / capacity
    );
    Ok(())
}
