//! `at-wifi-sim`: a simulated AT Wi-Fi module behind a TCP port.
//!
//! ```text
//! cargo run -p at-wifi-sim -- --dialect esp-at --listen 127.0.0.1:7000 --broker 127.0.0.1:1883
//! ```
//!
//! Faults are typed on standard input, one a line (`busy 5`, `delay 3000`, `reboot`,
//! `broker-drop`, … — see `--help`).

use at_wifi_sim::{broker, Dialect, Fault, Server, SimConfig, SplitMode};
use std::io::BufRead;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

const HELP: &str = "\
at-wifi-sim: a simulated Wi-Fi module running AT firmware, served over TCP

USAGE:
    at-wifi-sim [OPTIONS]

OPTIONS:
    --dialect NAME        esp-at (default), w800, beken, ai-thinker (alias combo-at)
    --listen ADDR         where the module's UART is served (default 127.0.0.1:0)
    --broker HOST:PORT    the MQTT broker every AT+MQTTCONN really connects to; without
                          it an MQTT broker is started in the process on a free port
                          (--embedded-broker PORT picks its port)
    --embedded-broker PORT  start the in-process broker on 127.0.0.1:PORT
    --no-broker           no broker: AT+MQTTCONN connects to the host it names, which
                          must be localhost or 127.x.x.x
    --echo on|off         echo at power-on (default on)
    --boot                print boot noise and `ready` when a client connects
    --wifi-connected      start joined to a network
    --network SSID:PASS   a network that exists (repeatable; default: any SSID joins)
    --split MODE          ESP-AT long-message split: chunk (default), chunk-empty-topic,
                          line-limit, none
    --join-ms MS          how long joining Wi-Fi takes (default 30)
    --boot-ms MS          how long a reboot takes (default 150)
    --fault FAULT         inject FAULT when a client connects (repeatable)
    -h, --help            this text

FAULTS (also typed on standard input while running, one a line):
    garbage N | drop N | corrupt N | busy N | delay MS | reboot-next | reboot |
    broker-drop | broker-return | outage MS | urc N
";

struct Args {
    cfg: SimConfig,
    listen: String,
    broker: Option<String>,
    embedded_port: u16,
    no_broker: bool,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        cfg: SimConfig::new(Dialect::EspAt),
        listen: "127.0.0.1:0".into(),
        broker: None,
        embedded_port: 0,
        no_broker: false,
    };
    let mut dialect = Dialect::EspAt;
    let mut rest: Vec<(String, Option<String>)> = Vec::new();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let takes = !matches!(
            flag.as_str(),
            "-h" | "--help" | "--boot" | "--wifi-connected" | "--no-broker"
        );
        let value = if takes {
            match inline {
                Some(v) => Some(v),
                None => Some(it.next().ok_or_else(|| format!("{flag} needs a value"))?),
            }
        } else {
            None
        };
        if flag == "--dialect" {
            dialect = value
                .unwrap_or_default()
                .parse()
                .map_err(|e| format!("{e}"))?;
        } else {
            rest.push((flag, value));
        }
    }
    a.cfg = SimConfig::new(dialect);
    for (flag, value) in rest {
        let v = value.unwrap_or_default();
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => a.listen = v,
            "--broker" => a.broker = Some(v),
            "--embedded-broker" => a.embedded_port = num(&v)? as u16,
            "--no-broker" => a.no_broker = true,
            "--echo" => {
                a.cfg.echo = match v.as_str() {
                    "on" | "1" | "true" => true,
                    "off" | "0" | "false" => false,
                    _ => return Err(format!("--echo: expected on or off, got {v}")),
                }
            }
            "--boot" => a.cfg.boot_on_start = true,
            "--wifi-connected" => a.cfg.wifi_connected = true,
            "--network" => {
                let (s, p) = v.split_once(':').unwrap_or((v.as_str(), ""));
                a.cfg = a.cfg.network(s, p);
            }
            "--split" => {
                a.cfg.split = match v.as_str() {
                    "chunk" => SplitMode::Chunk,
                    "chunk-empty-topic" => SplitMode::ChunkEmptyTopic,
                    "line-limit" => SplitMode::LineLimit,
                    "none" => SplitMode::None,
                    _ => return Err(format!("--split: unknown mode {v}")),
                }
            }
            "--join-ms" => a.cfg.join_ms = num(&v)?,
            "--boot-ms" => a.cfg.boot_ms = num(&v)?,
            "--fault" => a.cfg.faults.push(v.parse().map_err(|e| format!("{e}"))?),
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    Ok(Some(a))
}

fn resolve(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("{s}: {e}"))?
        .next()
        .ok_or_else(|| format!("{s}: no address"))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("at-wifi-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let mut cfg = args.cfg;
    let _embedded;
    if let Some(b) = &args.broker {
        match resolve(b) {
            Ok(addr) => cfg.broker = Some(addr),
            Err(e) => {
                eprintln!("at-wifi-sim: --broker {e}");
                return ExitCode::from(2);
            }
        }
    } else if !args.no_broker {
        match broker::start(args.embedded_port) {
            Ok(h) => {
                eprintln!("at-wifi-sim: embedded MQTT broker on {}", h.addr());
                cfg.broker = Some(h.addr());
                _embedded = h;
            }
            Err(e) => {
                eprintln!("at-wifi-sim: embedded broker: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let dialect = cfg.dialect;
    let server = match Server::bind(args.listen.as_str(), cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("at-wifi-sim: --listen {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "at-wifi-sim: {} module listening on {} (faults on stdin, --help lists them)",
        dialect,
        server.local_addr()
    );
    let server = std::sync::Arc::new(server);
    let s2 = server.clone();
    let _ = std::thread::Builder::new()
        .name("sim-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                match line.parse::<Fault>() {
                    Ok(f) => {
                        eprintln!("at-wifi-sim: injecting {f}");
                        s2.inject(f);
                    }
                    Err(e) => eprintln!("at-wifi-sim: {e}"),
                }
            }
        });
    loop {
        std::thread::park();
    }
}
