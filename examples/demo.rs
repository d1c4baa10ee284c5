//! The whole flow against the module simulator and a real MQTT broker.
//!
//! ```sh
//! cargo run --example demo                       # ESP-AT, embedded broker
//! cargo run --example demo -- --dialect w800     # or beken
//! cargo run --example demo -- --broker 127.0.0.1:1883   # an external broker
//! ```
//!
//! It starts the simulator (`at-wifi-sim`) on an in-process pipe and, unless `--broker`
//! is given, an MQTT broker embedded in the process; then it drives the module exactly as
//! firmware would — probe, Wi-Fi join, MQTT configure, connect, subscribe, publish text
//! (`AT+MQTTPUB`) and binary (`AT+MQTTPUBRAW`), receive both back, disconnect — and prints
//! each step. It exits with status 1 (and says why) if any step fails.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use at_wifi::command::basic::{At, GetVersion};
use at_wifi::command::mqtt::{QoS, Will};
use at_wifi::command::wifi::{join, JoinAp, SetWifiMode, WifiMode};
use at_wifi::mqtt::{Mqtt, MqttEvent, MqttOptions, PublishPath};
use at_wifi::{Client, Dialect, StdClock};
use at_wifi_sim::{broker, Sim, SimConfig};

const SSID: &str = "demo-lab";
const PASSWORD: &str = "demo-password";

struct Args {
    dialect: Dialect,
    broker: Option<SocketAddr>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dialect: Dialect::EspAt,
        broker: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dialect" => {
                let v = it.next().ok_or("--dialect needs a value")?;
                args.dialect = v.parse().map_err(|e| format!("{e}: {v}"))?;
            }
            "--broker" => {
                let v = it.next().ok_or("--broker needs HOST:PORT")?;
                args.broker = Some(v.parse().map_err(|_| format!("bad --broker {v}"))?);
            }
            "-h" | "--help" => {
                return Err("usage: demo [--dialect esp-at|w800|beken] [--broker HOST:PORT]".into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.dialect == Dialect::AiThinker {
        return Err(
            "the MQTT demo runs on esp-at, w800 or beken (Combo-AT has its own MQTT set)".into(),
        );
    }
    Ok(args)
}

fn sim_dialect(d: Dialect) -> at_wifi_sim::Dialect {
    d.name().parse().expect("the simulator knows every dialect")
}

fn step(n: &mut u32, what: &str) {
    *n += 1;
    println!("[{n:>2}] {what}");
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
        Ok(()) => {
            println!("demo finished: every step passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let mut n = 0;
    // The broker: embedded unless one was given.
    let (_broker, broker_addr) = match args.broker {
        Some(addr) => (None, addr),
        None => {
            let b = broker::start(0).map_err(|e| format!("embedded broker: {e}"))?;
            let addr = b.addr();
            (Some(b), addr)
        }
    };
    step(&mut n, &format!("MQTT broker on {broker_addr}"));

    let config = SimConfig::new(sim_dialect(args.dialect))
        .broker(broker_addr)
        .network(SSID, PASSWORD);
    let (_sim, uart) = Sim::pipe(config);
    step(
        &mut n,
        &format!("simulated {} module on an in-process UART", args.dialect),
    );

    let mut client: Client<_, _> = Client::new(uart, StdClock::new(), args.dialect);
    let e = |what: &'static str| move |err: at_wifi::Error| format!("{what}: {err}");

    // Probe: the module may still be booting; try for a few seconds.
    let start = Instant::now();
    loop {
        match client.send(&At) {
            Ok(_) => break,
            Err(err) if start.elapsed() < Duration::from_secs(5) => {
                let _ = err;
            }
            Err(err) => return Err(format!("probe: {err}")),
        }
    }
    step(&mut n, "AT -> OK");
    if args.dialect == Dialect::EspAt {
        let v = client.send(&GetVersion).map_err(e("AT+GMR"))?;
        step(&mut n, &format!("AT+GMR -> AT version {}", v.at));
    }

    client
        .send(&SetWifiMode::new(WifiMode::Station))
        .map_err(e("AT+CWMODE"))?;
    let jap = JoinAp::new(args.dialect, SSID, PASSWORD).map_err(e("JoinAp"))?;
    join(&mut client, &jap).map_err(|err| format!("AT+CWJAP: {err}"))?;
    step(&mut n, &format!("joined Wi-Fi \"{SSID}\""));

    let mut mqtt: Mqtt = Mqtt::new();
    let client_id = format!("at-wifi-demo-{}", std::process::id());
    let status_topic = format!("at-wifi/demo/{}/status", std::process::id());
    // Beken cannot send empty unquoted credentials, and needs a will with a keepalive.
    let opts = MqttOptions::new(&client_id)
        .credentials("demo", "demo-secret")
        .keepalive_s(60)
        .will(Will {
            topic: &status_topic,
            message: b"offline",
            qos: QoS::AtLeastOnce,
            retain: false,
        });
    mqtt.configure(&mut client, &opts).map_err(e("configure"))?;
    step(&mut n, &format!("configured MQTT client id {client_id}"));

    let host = broker_addr.ip().to_string();
    mqtt.connect(&mut client, &host, broker_addr.port(), 30_000)
        .map_err(e("connect"))?;
    step(&mut n, &format!("connected to {broker_addr}"));

    let topic = format!("at-wifi/demo/{}", std::process::id());
    mqtt.subscribe(&mut client, &topic, QoS::AtLeastOnce)
        .map_err(e("subscribe"))?;
    step(&mut n, &format!("subscribed to {topic}"));

    let text: &[u8] = b"hello, \"world\" \\ from at-wifi";
    let path = mqtt
        .publish(&mut client, &topic, text, QoS::AtLeastOnce, false)
        .map_err(e("publish text"))?;
    step(
        &mut n,
        &format!("published {} text bytes via {path:?}", text.len()),
    );
    expect(&mut mqtt, &mut client, &topic, text)?;
    step(&mut n, "received the text message back");

    let binary: Vec<u8> = (0..=255u8).chain(b"\r\nOK\r\n>".iter().copied()).collect();
    let path = mqtt
        .publish(&mut client, &topic, &binary, QoS::AtLeastOnce, false)
        .map_err(e("publish binary"))?;
    if path != PublishPath::Raw {
        return Err(format!("binary payload went via {path:?}, expected Raw"));
    }
    step(
        &mut n,
        &format!("published {} binary bytes via {path:?}", binary.len()),
    );
    expect(&mut mqtt, &mut client, &topic, &binary)?;
    step(&mut n, "received the binary message back, byte for byte");

    mqtt.disconnect(&mut client).map_err(e("disconnect"))?;
    step(&mut n, "disconnected (AT+MQTTCLEAN)");
    let stats = client.stats();
    println!(
        "client stats: {} bytes read, {} stale replies, {} events dropped, {} timeouts",
        stats.bytes_read, stats.stale_replies, stats.events_dropped, stats.timeouts
    );
    Ok(())
}

/// Polls until the message arrives on `topic` with exactly `payload` (10 s at most).
fn expect<U, C>(
    mqtt: &mut Mqtt,
    client: &mut Client<U, C>,
    topic: &str,
    payload: &[u8],
) -> Result<(), String>
where
    U: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write,
    C: at_wifi::Clock,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match mqtt.poll(client).map_err(|e| format!("poll: {e}"))? {
            Some(MqttEvent::Message {
                topic: t,
                payload: p,
                ..
            }) => {
                if t == topic.as_bytes() && p == payload {
                    return Ok(());
                }
                println!("     (other message on {})", String::from_utf8_lossy(t));
            }
            Some(other) => println!("     event: {other:?}"),
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    Err(format!(
        "no message with the expected payload on {topic} within 10 s"
    ))
}
