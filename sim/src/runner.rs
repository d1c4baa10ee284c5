//! Running a [`Module`] against a byte stream: [`Sim`] over any [`Port`] (the in-process
//! pipe, a TCP connection), [`Server`] for TCP clients (QEMU's `-serial tcp:…`, users'
//! tools), one connection at a time.

use crate::config::SimConfig;
use crate::fault::Fault;
use crate::module::{Module, Snapshot};
use crate::pipe::{pipe, PipeEnd};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long the runner waits for input before it looks at timers and the network again.
const TICK: Duration = Duration::from_millis(2);

/// The module side of a byte stream.
pub trait Port: Send {
    /// Reads what is there, waiting at most `timeout`; `Ok(0)` when nothing came,
    /// `Err` when the stream is finished.
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Writes everything.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
}

impl Port for PipeEnd {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let n = self.recv_timeout(buf, timeout)?;
        if n == 0 && self.is_closed() && self.available() == 0 {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed"));
        }
        Ok(n)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        Ok(self.send(data)?)
    }
}

impl Port for TcpStream {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.read(buf) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed")),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        Write::write_all(self, data)
    }
}

enum Ctl {
    /// A fault, and who waits until it is in force.
    Fault(Fault, Option<Sender<()>>),
}

struct Shared {
    stop: AtomicBool,
    snapshot: Mutex<Snapshot>,
}

/// Drives `module` over `port` until `shared.stop` or the port ends.
fn run(mut module: Module, port: &mut dyn Port, ctl: &Receiver<Ctl>, shared: &Shared) {
    let mut buf = vec![0u8; 4096];
    while !shared.stop.load(Ordering::SeqCst) {
        match port.read_timeout(&mut buf, TICK) {
            Ok(0) => {}
            Ok(n) => module.input(&buf[..n]),
            Err(_) => break,
        }
        while let Ok(Ctl::Fault(f, ack)) = ctl.try_recv() {
            module.inject(f);
            if let Some(a) = ack {
                let _ = a.send(());
            }
        }
        let out = module.output();
        // The state first: whoever reads the output may look at it at once.
        if let Ok(mut s) = shared.snapshot.lock() {
            *s = module.snapshot();
        }
        if !out.is_empty() && port.write_all(&out).is_err() {
            break;
        }
    }
}

/// A simulated module running in its own thread over a [`Port`].
///
/// ```no_run
/// use at_wifi_sim::{broker, Dialect, Sim, SimConfig};
/// let broker = broker::start(0).unwrap();
/// let (sim, mut uart) = Sim::pipe(SimConfig::new(Dialect::EspAt).broker(broker.addr()));
/// // `uart` implements embedded-io 0.7 Read + ReadReady + Write: give it to the driver.
/// sim.busy_storm(2);
/// # drop(uart);
/// ```
pub struct Sim {
    ctl: Sender<Ctl>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Sim {
    /// Runs a module as `config` describes over `port`.
    pub fn spawn<P: Port + 'static>(config: SimConfig, mut port: P) -> Sim {
        let (ctl, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            snapshot: Mutex::default(),
        });
        let sh = shared.clone();
        let thread = thread::Builder::new()
            .name(format!("sim-{}", config.dialect))
            .spawn(move || {
                let module = Module::new(config);
                run(module, &mut port, &rx, &sh);
            })
            .expect("spawn simulator thread");
        Sim {
            ctl,
            shared,
            thread: Some(thread),
        }
    }

    /// Runs a module over a new in-process pipe and returns the driver's end.
    pub fn pipe(config: SimConfig) -> (Sim, PipeEnd) {
        let (driver, module) = pipe();
        (Sim::spawn(config, module), driver)
    }

    /// Injects a fault (see [`Fault`]) and returns once the module has taken it (a
    /// command written afterwards meets it).
    pub fn inject(&self, fault: Fault) {
        let (tx, rx) = mpsc::channel();
        if self.ctl.send(Ctl::Fault(fault, Some(tx))).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(2));
        }
    }

    /// The module's state, as of the runner's last turn (a few ms old at most).
    pub fn snapshot(&self) -> Snapshot {
        self.shared
            .snapshot
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// [`Fault::Garbage`].
    pub fn garbage_burst(&self, bytes: usize) {
        self.inject(Fault::Garbage(bytes));
    }

    /// [`Fault::DropBytes`].
    pub fn drop_bytes(&self, n: usize) {
        self.inject(Fault::DropBytes(n));
    }

    /// [`Fault::CorruptBytes`].
    pub fn corrupt_bytes(&self, n: usize) {
        self.inject(Fault::CorruptBytes(n));
    }

    /// [`Fault::BusyStorm`].
    pub fn busy_storm(&self, commands: usize) {
        self.inject(Fault::BusyStorm(commands));
    }

    /// [`Fault::DelayReply`].
    pub fn delay_next_reply(&self, ms: u64) {
        self.inject(Fault::DelayReply(ms));
    }

    /// [`Fault::RebootDuringNextCommand`].
    pub fn reboot_during_next_command(&self) {
        self.inject(Fault::RebootDuringNextCommand);
    }

    /// [`Fault::Reboot`].
    pub fn reboot(&self) {
        self.inject(Fault::Reboot);
    }

    /// [`Fault::BrokerDrop`].
    pub fn broker_drop(&self) {
        self.inject(Fault::BrokerDrop);
    }

    /// [`Fault::BrokerReturn`].
    pub fn broker_return(&self) {
        self.inject(Fault::BrokerReturn);
    }

    /// [`Fault::BrokerOutage`].
    pub fn broker_outage(&self, ms: u64) {
        self.inject(Fault::BrokerOutage(ms));
    }

    /// [`Fault::UrcBurst`].
    pub fn urc_burst(&self, lines: usize) {
        self.inject(Fault::UrcBurst(lines));
    }

    /// Stops the module and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP server playing a module to one client at a time; each connection meets a freshly
/// powered-on module.
///
/// ```no_run
/// use at_wifi_sim::{Dialect, Server, SimConfig};
/// let server = Server::bind("127.0.0.1:0", SimConfig::new(Dialect::W800)).unwrap();
/// println!("module on {}", server.local_addr());
/// server.wait();
/// ```
pub struct Server {
    addr: SocketAddr,
    ctl: Sender<Ctl>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` and serves connections in a thread.
    pub fn bind<A: ToSocketAddrs>(addr: A, config: SimConfig) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (ctl, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            snapshot: Mutex::default(),
        });
        let sh = shared.clone();
        let thread = thread::Builder::new()
            .name("sim-server".into())
            .spawn(move || {
                while !sh.stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _peer)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_nodelay(true);
                            while rx.try_recv().is_ok() {}
                            let module = Module::new(config.clone());
                            run(module, &mut stream, &rx, &sh);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(10))
                        }
                        Err(_) => thread::sleep(Duration::from_millis(50)),
                    }
                }
            })?;
        Ok(Server {
            addr: local,
            ctl,
            shared,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Injects a fault into the module of the current connection (without waiting: a
    /// fault sent while no client is connected is dropped when the next one connects).
    pub fn inject(&self, fault: Fault) {
        let _ = self.ctl.send(Ctl::Fault(fault, None));
    }

    /// The state of the current (or last) connection's module.
    pub fn snapshot(&self) -> Snapshot {
        self.shared
            .snapshot
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops serving (the current connection is closed).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
