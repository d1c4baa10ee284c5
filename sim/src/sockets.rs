//! Real OS sockets on 127.0.0.1 behind Combo-AT's `AT+SOCKET` set, each read by a
//! thread that reports to the module through a channel.

use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The largest packet a read delivers (Combo-AT splits at 1024 bytes).
pub(crate) const PACKET: usize = 1024;

/// What the socket threads report.
#[derive(Debug)]
pub(crate) enum SockEvent {
    Data {
        id: u32,
        gen: u64,
        data: Vec<u8>,
        from: Option<SocketAddr>,
    },
    Closed {
        id: u32,
        gen: u64,
    },
    Accepted {
        server: u32,
        gen: u64,
        stream: TcpStream,
        peer: SocketAddr,
    },
}

/// The socket types of `AT+SOCKET`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SockKind {
    UdpServer = 1,
    UdpClient = 2,
    TcpServer = 3,
    TcpClient = 4,
    TcpSeed = 5,
}

pub(crate) enum SockIo {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Listener,
}

/// One socket of the module.
pub(crate) struct Sock {
    pub id: u32,
    pub gen: u64,
    pub kind: SockKind,
    /// 1 connected, 2 disconnected.
    pub status: u8,
    pub remote_host: String,
    pub remote_port: i64,
    pub local_port: i64,
    pub server: i64,
    /// UDP server: where the first datagram came from (the send target).
    pub peer: Option<SocketAddr>,
    pub io: SockIo,
    /// Passive receive mode: packets waiting for `AT+SOCKETREAD`.
    pub queue: std::collections::VecDeque<Vec<u8>>,
    stop: Arc<AtomicBool>,
}

impl Sock {
    pub(crate) fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let SockIo::Tcp(s) = &self.io {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.status = 2;
    }

    /// Sends `data` to the socket's peer.
    pub(crate) fn send(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.io {
            SockIo::Tcp(s) => s.write_all(data),
            SockIo::Udp(u) => {
                for chunk in data.chunks(PACKET.max(1)) {
                    match (self.kind, self.peer) {
                        (SockKind::UdpServer, Some(p)) => u.send_to(chunk, p)?,
                        (SockKind::UdpServer, None) => {
                            return Err(io::Error::new(io::ErrorKind::NotConnected, "no peer yet"))
                        }
                        _ => u.send(chunk)?,
                    };
                }
                Ok(())
            }
            SockIo::Listener => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a TCP server sends through its seeds",
            )),
        }
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        self.close();
    }
}

/// Resolves a host for a socket or a broker: only loopback answers. `localhost` goes
/// through the OS resolver (keeping its IPv4 loopback answer); a 127.x.x.x address is
/// taken as it is; any other name or address is refused without a lookup.
pub(crate) fn resolve_loopback(host: &str) -> Option<Ipv4Addr> {
    let h = host.trim();
    if let Ok(ip) = h.parse::<Ipv4Addr>() {
        return ip.is_loopback().then_some(ip);
    }
    if h.eq_ignore_ascii_case("localhost") {
        let found = (h, 0u16).to_socket_addrs().ok().and_then(|mut it| {
            it.find_map(|a| match a.ip() {
                IpAddr::V4(v4) if v4.is_loopback() => Some(v4),
                _ => None,
            })
        });
        return Some(found.unwrap_or(Ipv4Addr::LOCALHOST));
    }
    None
}

fn new_sock(id: u32, gen: u64, kind: SockKind, io: SockIo, stop: Arc<AtomicBool>) -> Sock {
    Sock {
        id,
        gen,
        kind,
        status: 1,
        remote_host: String::new(),
        remote_port: -1,
        local_port: -1,
        server: -1,
        peer: None,
        io,
        queue: Default::default(),
        stop,
    }
}

fn tcp_reader(mut s: TcpStream, id: u32, gen: u64, tx: Sender<SockEvent>, stop: Arc<AtomicBool>) {
    let _ = thread::Builder::new()
        .name("sim-sock-tcp".into())
        .spawn(move || {
            let mut buf = [0u8; PACKET];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let ev = SockEvent::Data {
                            id,
                            gen,
                            data: buf[..n].to_vec(),
                            from: None,
                        };
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                }
            }
            if !stop.load(Ordering::SeqCst) {
                let _ = tx.send(SockEvent::Closed { id, gen });
            }
        });
}

fn udp_reader(u: UdpSocket, id: u32, gen: u64, tx: Sender<SockEvent>, stop: Arc<AtomicBool>) {
    let _ = u.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = thread::Builder::new()
        .name("sim-sock-udp".into())
        .spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::SeqCst) {
                match u.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        for chunk in buf[..n].chunks(PACKET) {
                            let ev = SockEvent::Data {
                                id,
                                gen,
                                data: chunk.to_vec(),
                                from: Some(from),
                            };
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                    // A connected UDP socket reports ICMP port-unreachable as an error: ignore.
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
}

/// A TCP client connected to `ip:port`.
pub(crate) fn tcp_client(
    id: u32,
    gen: u64,
    host: &str,
    ip: Ipv4Addr,
    port: u16,
    tx: Sender<SockEvent>,
) -> io::Result<Sock> {
    let addr = SocketAddr::new(IpAddr::V4(ip), port);
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    let _ = s.set_nodelay(true);
    let stop = Arc::new(AtomicBool::new(false));
    tcp_reader(s.try_clone()?, id, gen, tx, stop.clone());
    let mut sock = new_sock(id, gen, SockKind::TcpClient, SockIo::Tcp(s), stop);
    sock.remote_host = host.to_string();
    sock.remote_port = i64::from(port);
    Ok(sock)
}

/// A TCP server listening on 127.0.0.1:`port`.
pub(crate) fn tcp_server(id: u32, gen: u64, port: u16, tx: Sender<SockEvent>) -> io::Result<Sock> {
    let l = TcpListener::bind(("127.0.0.1", port))?;
    l.set_nonblocking(true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    thread::Builder::new()
        .name("sim-sock-listen".into())
        .spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_nodelay(true);
                        if tx
                            .send(SockEvent::Accepted {
                                server: id,
                                gen,
                                stream,
                                peer,
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        })?;
    let mut sock = new_sock(id, gen, SockKind::TcpServer, SockIo::Listener, stop);
    sock.local_port = i64::from(port);
    Ok(sock)
}

/// The seed of an accepted connection.
pub(crate) fn tcp_seed(
    id: u32,
    gen: u64,
    server: u32,
    server_port: i64,
    stream: TcpStream,
    peer: SocketAddr,
    tx: Sender<SockEvent>,
) -> io::Result<Sock> {
    let stop = Arc::new(AtomicBool::new(false));
    tcp_reader(stream.try_clone()?, id, gen, tx, stop.clone());
    let mut sock = new_sock(id, gen, SockKind::TcpSeed, SockIo::Tcp(stream), stop);
    sock.remote_host = peer.ip().to_string();
    sock.remote_port = i64::from(peer.port());
    sock.local_port = server_port;
    sock.server = i64::from(server);
    Ok(sock)
}

/// A UDP socket sending to `ip:port`.
pub(crate) fn udp_client(
    id: u32,
    gen: u64,
    host: &str,
    ip: Ipv4Addr,
    port: u16,
    tx: Sender<SockEvent>,
) -> io::Result<Sock> {
    let u = UdpSocket::bind(("127.0.0.1", 0))?;
    u.connect(SocketAddr::new(IpAddr::V4(ip), port))?;
    let stop = Arc::new(AtomicBool::new(false));
    udp_reader(u.try_clone()?, id, gen, tx, stop.clone());
    let mut sock = new_sock(id, gen, SockKind::UdpClient, SockIo::Udp(u), stop);
    sock.remote_host = host.to_string();
    sock.remote_port = i64::from(port);
    Ok(sock)
}

/// A UDP socket bound to 127.0.0.1:`port`.
pub(crate) fn udp_server(id: u32, gen: u64, port: u16, tx: Sender<SockEvent>) -> io::Result<Sock> {
    let u = UdpSocket::bind(("127.0.0.1", port))?;
    let stop = Arc::new(AtomicBool::new(false));
    udp_reader(u.try_clone()?, id, gen, tx, stop.clone());
    let mut sock = new_sock(id, gen, SockKind::UdpServer, SockIo::Udp(u), stop);
    sock.local_port = i64::from(port);
    Ok(sock)
}
