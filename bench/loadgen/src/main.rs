//! Load generator for the socket.io-rs benchmarks.
//!
//! Speaks Engine.IO v4 / Socket.IO v5 directly (no socket.io-client), over WebSocket or, with
//! `--transport polling`, over HTTP long-polling only (polling.rs); one single-threaded tokio
//! runtime, one task per connection. It drives the fixture
//! (bench/server.js) through its HTTP control port, measures the server's CPU time from
//! /proc/<pid> around the measured phase only, verifies every delivery (every client gets every
//! message exactly once, in order, with the right content) and prints one JSON object on stdout.
//! Any verification failure is fatal: a JSON object with "ok": false and exit status 1.
//!
//! Usage: loadgen <fanout|burst|rooms|echo|idle|recovery|cluster> --port P --control C --pid PID [options]

mod cluster;
mod polling;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, Semaphore};
pub(crate) type Res<T> = Result<T, String>;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Deterministic padding; `rot` makes every room's padding different, so a message delivered
/// to the wrong room fails the content check. bench/server.js builds the same string.
fn make_pad(len: usize, rot: usize) -> Vec<u8> {
    (0..len).map(|i| ALPHABET[(i + rot) % ALPHABET.len()]).collect()
}

/// Padding length that makes `42["m",<seq>,"<pad>"]` about `size` bytes (3-digit seq).
fn pad_len_for(size: usize) -> usize {
    size.saturating_sub(14).max(1)
}

// ---------------------------------------------------------------------------------------------
// Arguments

#[derive(Clone, Debug)]
struct Args {
    scenario: String,
    port: u16,
    control: u16,
    pid: u32,
    clients: usize,
    emits: usize,
    size: usize,
    rooms: usize,
    inflight: usize,
    acks: usize,
    batch: usize,
    concurrency: usize,
    timeout_s: u64,
    hold_ms: u64,
    grace_ms: u64,
    transport: Transport,
    /// cluster scenario (cluster.rs): the receiving node's control port, the other node's pid,
    /// redis-server's port and pid
    local_control: Option<u16>,
    peer_pid: Option<u32>,
    redis_port: Option<u16>,
    redis_pid: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    WebSocket,
    Polling,
}

fn parse_args() -> Res<Args> {
    let mut it = std::env::args().skip(1);
    let scenario = it.next().ok_or("usage: loadgen <scenario> --port P --control C --pid PID [--clients N] [--emits N] [--size BYTES] [--rooms N] [--inflight N] [--acks N] [--batch N] [--concurrency N] [--timeout-s S] [--hold-ms MS] [--grace-ms MS] [--transport websocket|polling] [--local-control C --peer-pid PID --redis-port P --redis-pid PID]")?;
    let mut map: HashMap<String, String> = HashMap::new();
    while let Some(k) = it.next() {
        let key = k.strip_prefix("--").ok_or_else(|| format!("unexpected argument {k:?}"))?.to_string();
        let v = it.next().ok_or_else(|| format!("missing value for --{key}"))?;
        map.insert(key, v);
    }
    fn num<T: std::str::FromStr>(m: &HashMap<String, String>, k: &str, def: Option<T>) -> Res<T> {
        match m.get(k) {
            Some(v) => v.parse().map_err(|_| format!("--{k}: not a number: {v:?}")),
            None => def.ok_or_else(|| format!("--{k} is required")),
        }
    }
    fn opt<T: std::str::FromStr>(m: &HashMap<String, String>, k: &str) -> Res<Option<T>> {
        m.get(k).map(|v| v.parse().map_err(|_| format!("--{k}: not a number: {v:?}"))).transpose()
    }
    let a = Args {
        scenario,
        port: num(&map, "port", None)?,
        control: num(&map, "control", None)?,
        pid: num(&map, "pid", None)?,
        clients: num(&map, "clients", Some(1000))?,
        emits: num(&map, "emits", Some(1000))?,
        size: num(&map, "size", Some(50))?,
        rooms: num(&map, "rooms", Some(100))?,
        inflight: num(&map, "inflight", Some(4))?,
        acks: num(&map, "acks", Some(1000))?,
        batch: num(&map, "batch", Some(10))?,
        concurrency: num(&map, "concurrency", Some(100))?,
        timeout_s: num(&map, "timeout-s", Some(120))?,
        hold_ms: num(&map, "hold-ms", Some(1000))?,
        grace_ms: num(&map, "grace-ms", Some(300))?,
        transport: match map.get("transport").map(String::as_str) {
            None | Some("websocket") => Transport::WebSocket,
            Some("polling") => Transport::Polling,
            Some(t) => return Err(format!("--transport: websocket or polling, not {t:?}")),
        },
        local_control: opt(&map, "local-control")?,
        peer_pid: opt(&map, "peer-pid")?,
        redis_port: opt(&map, "redis-port")?,
        redis_pid: opt(&map, "redis-pid")?,
    };
    for k in map.keys() {
        const KNOWN: &[&str] = &[
            "port", "control", "pid", "clients", "emits", "size", "rooms", "inflight", "acks", "batch",
            "concurrency", "timeout-s", "hold-ms", "grace-ms", "transport", "local-control", "peer-pid",
            "redis-port", "redis-pid",
        ];
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!("unknown option --{k}"));
        }
    }
    if a.transport == Transport::Polling && a.scenario == "recovery" {
        // closing a long-polling client's TCP connections ends no Engine.IO session
        return Err("the recovery scenario drops WebSocket connections: --transport websocket only".into());
    }
    if a.clients == 0 || a.concurrency == 0 || a.batch == 0 {
        return Err("--clients, --concurrency and --batch must be > 0".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// Server probes: CPU time and memory of the server process, read from /proc.

struct CpuSample {
    ticks: u64,
    /// per-thread on-CPU nanoseconds from /proc/<pid>/task/<tid>/schedstat
    tasks: HashMap<u32, u64>,
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if v > 0 { v as f64 } else { 100.0 }
}

fn read_cpu(pid: u32) -> Res<CpuSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("server process {pid} is gone ({e})"))?;
    let rest = stat.rsplit_once(')').map(|x| x.1).ok_or("bad /proc stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // fields after the command name start at field 3 (state); utime is field 14, stime 15
    let utime: u64 = f.get(11).and_then(|x| x.parse().ok()).ok_or("bad utime")?;
    let stime: u64 = f.get(12).and_then(|x| x.parse().ok()).ok_or("bad stime")?;
    let mut tasks = HashMap::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for e in dir.flatten() {
            let Some(tid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            if let Ok(s) = std::fs::read_to_string(e.path().join("schedstat")) {
                if let Some(ns) = s.split_whitespace().next().and_then(|x| x.parse::<u64>().ok()) {
                    tasks.insert(tid, ns);
                }
            }
        }
    }
    Ok(CpuSample { ticks: utime + stime, tasks })
}

/// CPU seconds between two samples. Nanosecond precision from schedstat when every thread that
/// existed at the start still exists (threads born in between count whole); otherwise the
/// process-wide utime+stime (clock-tick precision), which also counts threads that exited.
fn cpu_delta(a: &CpuSample, b: &CpuSample) -> (f64, &'static str) {
    let ticks = (b.ticks.saturating_sub(a.ticks)) as f64 / clk_tck();
    if a.tasks.is_empty() || a.tasks.keys().any(|t| !b.tasks.contains_key(t)) {
        return (ticks, "stat");
    }
    let mut ns: u64 = 0;
    for (tid, end) in &b.tasks {
        ns += end.saturating_sub(*a.tasks.get(tid).unwrap_or(&0));
    }
    (ns as f64 / 1e9, "schedstat")
}

/// Busy and steal seconds from /proc/stat: the whole machine, and each core.
struct MachineSample {
    all_busy: f64,
    steal: f64,
    /// per core: (busy seconds without softirq, softirq seconds)
    cores: Vec<(f64, f64)>,
}

fn read_machine() -> MachineSample {
    let tck = clk_tck();
    let mut m = MachineSample { all_busy: 0.0, steal: 0.0, cores: Vec::new() };
    let Ok(s) = std::fs::read_to_string("/proc/stat") else { return m };
    for l in s.lines() {
        let mut it = l.split_whitespace();
        let Some(name) = it.next() else { continue };
        if !name.starts_with("cpu") {
            continue;
        }
        let v: Vec<f64> = it.map(|x| x.parse::<f64>().unwrap_or(0.0) / tck).collect();
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = v.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, x)| x).sum::<f64>();
        if name == "cpu" {
            m.all_busy = busy;
            m.steal = v.get(7).copied().unwrap_or(0.0);
        } else if let Ok(i) = name[3..].parse::<usize>() {
            if m.cores.len() <= i {
                m.cores.resize(i + 1, (0.0, 0.0));
            }
            let softirq = v.get(6).copied().unwrap_or(0.0);
            m.cores[i] = (busy - softirq, softirq);
        }
    }
    m
}

/// Cores this process may run on (to tell which core the server is pinned to).
fn affinity(pid: u32) -> Vec<usize> {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return vec![] };
    let Some(list) = s.lines().find(|l| l.starts_with("Cpus_allowed_list:")).and_then(|l| l.split_whitespace().nth(1)) else {
        return vec![];
    };
    let mut out = vec![];
    for part in list.split(',') {
        let mut ab = part.split('-').map(|x| x.parse::<usize>().ok());
        match (ab.next().flatten(), ab.next().flatten()) {
            (Some(a), Some(b)) => out.extend(a..=b),
            (Some(a), None) => out.push(a),
            _ => {}
        }
    }
    out
}

fn read_mem(pid: u32) -> Res<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("server process {pid} is gone ({e})"))?;
    let field = |name: &str| -> u64 {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|x| x.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// CPU seconds used by this process (all threads) so far.
fn self_cpu() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        t(ru.ru_utime) + t(ru.ru_stime)
    }
}

fn raise_nofile(needed: u64) -> Res<u64> {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return Err("getrlimit failed".into());
        }
        if rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        }
        if (rl.rlim_cur as u64) < needed {
            return Err(format!(
                "file descriptor limit too low: need about {needed}, `ulimit -n` allows {} (raise it with `ulimit -n {needed}`)",
                rl.rlim_cur
            ));
        }
        Ok(rl.rlim_cur as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// Control channel of bench/server.js: HTTP/1.1 GET on 127.0.0.1, JSON answers.

static CONTROL_TIMEOUT_S: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(120);

async fn control(port: u16, path: &str) -> Res<Value> {
    let limit = Duration::from_secs(CONTROL_TIMEOUT_S.load(Ordering::Relaxed));
    tokio::time::timeout(limit, control_inner(port, path))
        .await
        .map_err(|_| format!("control {path}: no answer within {limit:?}"))?
}

async fn control_inner(port: u16, path: &str) -> Res<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("control {path}: connect: {e}"))?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.map_err(|e| format!("control {path}: {e}"))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.map_err(|e| format!("control {path}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("control {path}: bad answer {text:?}"))?;
    let status = head.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("control {path}: {status}: {body}"));
    }
    serde_json::from_str(body).map_err(|e| format!("control {path}: bad JSON {body:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Shared state between the coordinator and the client tasks.

struct Counter {
    n: AtomicUsize,
    at: Mutex<Option<Instant>>,
}

impl Counter {
    fn new() -> Self {
        Counter { n: AtomicUsize::new(0), at: Mutex::new(None) }
    }
}

struct Shared {
    clients: usize,
    ready: Counter,
    warm: Counter,
    done: Counter,
    dropped: Counter,
    done2: Counter,
    failed: AtomicBool,
    failures: AtomicUsize,
    errors: Mutex<Vec<String>>,
    notify: Notify,
    connect_gate: Semaphore,
    latencies_us: Mutex<Vec<u32>>,
    /// The same, without each client's first `ECHO_WARMUP_ACKS`.
    warm_latencies_us: Mutex<Vec<u32>>,
    /// When the first client got its first broadcast.
    first_delivery: Mutex<Option<Instant>>,
}

impl Shared {
    fn new(clients: usize, concurrency: usize) -> Self {
        Shared {
            clients,
            ready: Counter::new(),
            warm: Counter::new(),
            done: Counter::new(),
            dropped: Counter::new(),
            done2: Counter::new(),
            failed: AtomicBool::new(false),
            failures: AtomicUsize::new(0),
            errors: Mutex::new(Vec::new()),
            notify: Notify::new(),
            connect_gate: Semaphore::new(concurrency),
            latencies_us: Mutex::new(Vec::new()),
            warm_latencies_us: Mutex::new(Vec::new()),
            first_delivery: Mutex::new(None),
        }
    }

    fn delivered_first(&self) {
        self.first_delivery.lock().unwrap().get_or_insert_with(Instant::now);
    }

    fn bump(&self, c: &Counter) {
        if c.n.fetch_add(1, Ordering::Relaxed) + 1 == self.clients {
            *c.at.lock().unwrap() = Some(Instant::now());
            self.notify.notify_one();
        }
    }

    fn fail(&self, msg: String) {
        let mut e = self.errors.lock().unwrap();
        if e.len() < 3 {
            e.push(msg);
        }
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.failed.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }

    fn check(&self) -> Res<()> {
        if self.failed.load(Ordering::Relaxed) {
            let e = self.errors.lock().unwrap();
            let n = self.failures.load(Ordering::Relaxed);
            let more = if n > e.len() { format!(" (and {} more clients)", n - e.len()) } else { String::new() };
            return Err(format!("delivery check failed: {}{more}", e.join("; ")));
        }
        Ok(())
    }

    /// Wait until every client has bumped `c`; returns the moment the last one did.
    async fn wait_all(&self, c: &Counter, what: &str, timeout: Duration) -> Res<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.check()?;
            if c.n.load(Ordering::Relaxed) >= self.clients {
                return Ok(c.at.lock().unwrap().unwrap_or_else(Instant::now));
            }
            if tokio::time::timeout_at(deadline, self.notify.notified()).await.is_err() {
                self.check()?;
                return Err(format!(
                    "timed out after {:?} waiting for {what}: {}/{} clients",
                    timeout,
                    c.n.load(Ordering::Relaxed),
                    self.clients
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket client: the upgrade handshake uses tungstenite's key helpers; frames are read with a
// minimal codec straight out of one read buffer per connection. Measured on this machine,
// tokio-tungstenite's per-message path cost the load generator ~0.4 µs of user time per delivery
// (stream/waker plumbing, Bytes splitting, a buffer memset per read); this path costs a header
// parse and a memcmp, so the load generator stays far below one core.

struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// reassembly of a fragmented text message (servers rarely fragment; supported anyway)
    frag: Vec<u8>,
    fragmented: bool,
    assembled: Vec<u8>,
    mask: u32,
}

const READ_CHUNK: usize = 32 * 1024;
const MAX_MESSAGE: usize = 64 << 20;

enum Parsed {
    Need,
    Frame { fin: bool, opcode: u8, p0: usize, p1: usize },
}

impl Conn {
    async fn handshake(port: u16, path: &str) -> Res<Conn> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| format!("TCP connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let key = tungstenite::handshake::client::generate_key();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.map_err(|e| format!("upgrade request: {e}"))?;
        let mut c = Conn {
            s,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            frag: Vec::new(),
            fragmented: false,
            assembled: Vec::new(),
            mask: (port as u32).wrapping_mul(2654435761) | 1,
        };
        let head_end = loop {
            if let Some(i) = c.buf[..c.end].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if c.end > 16 * 1024 {
                return Err("upgrade response head too large".into());
            }
            c.fill().await?;
        };
        let head = String::from_utf8_lossy(&c.buf[..head_end]).to_string();
        let status = head.lines().next().unwrap_or("");
        if !status.starts_with("HTTP/1.1 101") {
            return Err(format!("upgrade refused: {status}"));
        }
        let accept = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("sec-websocket-accept").then(|| v.trim().to_string())
        });
        if accept.as_deref() != Some(tungstenite::handshake::derive_accept_key(key.as_bytes()).as_str()) {
            return Err(format!("bad Sec-WebSocket-Accept in {head:?}"));
        }
        c.start = head_end;
        Ok(c)
    }

    /// Read more bytes into the buffer (compacting or growing it first when it is full).
    async fn fill(&mut self) -> Res<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                if self.buf.len() >= MAX_MESSAGE {
                    return Err("frame larger than 64 MiB".into());
                }
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.s.read(&mut self.buf[self.end..]).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed by the server".into());
        }
        self.end += n;
        Ok(())
    }

    fn parse(&self) -> Res<Parsed> {
        let b = &self.buf[self.start..self.end];
        if b.len() < 2 {
            return Ok(Parsed::Need);
        }
        let (fin, rsv, opcode) = (b[0] & 0x80 != 0, b[0] & 0x70, b[0] & 0x0f);
        if rsv != 0 {
            return Err(format!("frame with RSV bits {rsv:#x} (no extension was negotiated)"));
        }
        if b[1] & 0x80 != 0 {
            return Err("masked frame from the server".into());
        }
        let (hlen, len) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (4, u16::from_be_bytes([b[2], b[3]]) as usize),
            127 if b.len() >= 10 => (10, u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize),
            126 | 127 => return Ok(Parsed::Need),
            n => (2, n as usize),
        };
        if len > MAX_MESSAGE {
            return Err(format!("frame of {len} bytes"));
        }
        if b.len() < hlen + len {
            return Ok(Parsed::Need);
        }
        Ok(Parsed::Frame { fin, opcode, p0: self.start + hlen, p1: self.start + hlen + len })
    }

    /// Next text message. WebSocket pings are answered; close, binary or a closed connection fail.
    async fn recv(&mut self) -> Res<&[u8]> {
        loop {
            let (fin, opcode, p0, p1) = match self.parse()? {
                Parsed::Need => {
                    self.fill().await?;
                    continue;
                }
                Parsed::Frame { fin, opcode, p0, p1 } => (fin, opcode, p0, p1),
            };
            self.start = p1;
            match opcode {
                1 if fin && !self.fragmented => return Ok(&self.buf[p0..p1]),
                1 if !self.fragmented => {
                    self.fragmented = true;
                    self.frag.clear();
                    self.frag.extend_from_slice(&self.buf[p0..p1]);
                }
                0 if self.fragmented => {
                    self.frag.extend_from_slice(&self.buf[p0..p1]);
                    if self.frag.len() > MAX_MESSAGE {
                        return Err("message larger than 64 MiB".into());
                    }
                    if fin {
                        self.fragmented = false;
                        std::mem::swap(&mut self.assembled, &mut self.frag);
                        return Ok(&self.assembled);
                    }
                }
                8 => {
                    let code = if p1 - p0 >= 2 { u16::from_be_bytes([self.buf[p0], self.buf[p0 + 1]]) } else { 1005 };
                    let reason = String::from_utf8_lossy(&self.buf[(p0 + 2).min(p1)..p1]).to_string();
                    return Err(format!("server closed the WebSocket ({code} {reason:?})"));
                }
                9 => {
                    let payload = self.buf[p0..p1].to_vec();
                    self.send_frame(0x8a, &payload).await?;
                }
                10 => {}
                2 => return Err("unexpected binary frame".into()),
                op => return Err(format!("unexpected frame opcode {op}")),
            }
        }
    }

    async fn send_frame(&mut self, b0: u8, payload: &[u8]) -> Res<()> {
        let mut f = Vec::with_capacity(payload.len() + 14);
        f.push(b0);
        match payload.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n <= 0xffff => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        // xorshift: masking keys need not be secret here, only present
        self.mask ^= self.mask << 13;
        self.mask ^= self.mask >> 17;
        self.mask ^= self.mask << 5;
        let key = self.mask.to_be_bytes();
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
        self.s.write_all(&f).await.map_err(|e| format!("send failed: {e}"))
    }

    async fn send(&mut self, text: &[u8]) -> Res<()> {
        self.send_frame(0x81, text).await
    }
}

/// A connected Engine.IO client on either transport.
enum Client {
    Ws(Conn),
    Polling(polling::Polling),
}

impl Client {
    /// Next Engine.IO packet (a text frame, or one packet of a long-polling payload).
    async fn recv(&mut self) -> Res<&[u8]> {
        match self {
            Client::Ws(c) => c.recv().await,
            Client::Polling(c) => c.recv().await,
        }
    }

    async fn send(&mut self, packet: &[u8]) -> Res<()> {
        match self {
            Client::Ws(c) => c.send(packet).await,
            Client::Polling(c) => c.send(packet),
        }
    }
}

/// Where and how clients connect.
#[derive(Clone, Copy)]
struct Endpoint {
    port: u16,
    transport: Transport,
}

fn lossy(s: &[u8]) -> String {
    let t = String::from_utf8_lossy(s);
    if t.len() > 120 {
        let mut end = 120;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…({} bytes)", &t[..end], s.len())
    } else {
        t.to_string()
    }
}

/// A frame that is not a data frame of the current phase: Ok(true) for an Engine.IO ping (the
/// caller answers "3"), Ok(false) for a noop, an error for anything else.
fn other(s: &[u8]) -> Res<bool> {
    match s {
        b"2" => Ok(true),
        b"6" => Ok(false),
        b"1" => Err("server sent an Engine.IO close packet".into()),
        b"41" => Err("server sent a Socket.IO DISCONNECT".into()),
        _ if s.starts_with(b"44") => Err(format!("CONNECT_ERROR: {}", lossy(s))),
        _ => Err(format!("unexpected frame {:?}", lossy(s))),
    }
}

async fn handle_other(c: &mut Client, s_is_ping: bool) -> Res<()> {
    if s_is_ping {
        c.send(b"3").await?;
    }
    Ok(())
}

/// Open a connection, read the Engine.IO open packet and send the Socket.IO CONNECT for "/".
async fn open(to: Endpoint, query: &str, auth: Option<&str>) -> Res<Client> {
    let (mut c, t) = match to.transport {
        Transport::WebSocket => {
            let mut c = Conn::handshake(to.port, &format!("/socket.io/?EIO=4&transport=websocket{query}")).await?;
            let t = c.recv().await?.to_vec();
            (Client::Ws(c), t)
        }
        Transport::Polling => {
            let (c, t) = polling::Polling::open(to.port, query).await?;
            (Client::Polling(c), t)
        }
    };
    let open: Value = t
        .strip_prefix(b"0")
        .and_then(|j| serde_json::from_slice(j).ok())
        .ok_or_else(|| format!("expected Engine.IO open packet, got {:?}", lossy(&t)))?;
    if !open["sid"].is_string() {
        return Err(format!("open packet without sid: {open}"));
    }
    let connect = match auth {
        Some(a) => format!("40{a}"),
        None => "40".to_string(),
    };
    c.send(connect.as_bytes()).await?;
    Ok(c)
}

/// Socket.IO CONNECT reply `40{"sid":...}` for the main namespace.
fn parse_connect(s: &[u8]) -> Option<Value> {
    let j: Value = serde_json::from_slice(s.strip_prefix(b"40")?).ok()?;
    j["sid"].is_string().then_some(j)
}

/// Wait for the CONNECT reply (no data frame may come first).
async fn await_connect(c: &mut Client) -> Res<Value> {
    loop {
        let t = c.recv().await?;
        if let Some(j) = parse_connect(t) {
            return Ok(j);
        }
        let ping = other(t)?;
        handle_other(c, ping).await?;
    }
}

/// Connect, bounded by the shared connect gate (permit held until the CONNECT reply).
async fn connect(sh: &Shared, to: Endpoint, query: &str) -> Res<(Client, Value)> {
    let _permit = sh.connect_gate.acquire().await.map_err(|e| e.to_string())?;
    let fut = async {
        let mut c = open(to, query, None).await?;
        let j = await_connect(&mut c).await?;
        Ok::<_, String>((c, j))
    };
    tokio::time::timeout(Duration::from_secs(30), fut).await.map_err(|_| "connect timed out (30 s)".to_string())?
}

/// Parse `42["m",<seq>,"<pad>"]` or `42["m",<seq>,"<pad>","<offset>"]`, checking the padding
/// byte for byte. Returns the sequence number and the offset, if any.
fn parse_m<'a>(b: &'a [u8], pad: &[u8]) -> Res<(u64, Option<&'a [u8]>)> {
    let bad = || format!("malformed event {:?}", lossy(b));
    let rest = b.strip_prefix(b"42[\"m\",").ok_or_else(bad)?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return Err(bad());
    }
    let seq = rest[..digits].iter().fold(0u64, |a, c| a * 10 + (c - b'0') as u64);
    let rest = rest[digits..].strip_prefix(b",\"").ok_or_else(bad)?;
    if rest.len() < pad.len() || &rest[..pad.len()] != pad {
        return Err(format!("wrong payload content for seq {seq}: {:?}", lossy(b)));
    }
    let rest = rest[pad.len()..]
        .strip_prefix(b"\"")
        .ok_or_else(|| format!("wrong payload length for seq {seq}: {:?}", lossy(b)))?;
    if rest == b"]" {
        return Ok((seq, None));
    }
    let off = rest.strip_prefix(b",\"").and_then(|r| r.strip_suffix(b"\"]")).ok_or_else(bad)?;
    if off.is_empty() || off.iter().any(|&c| c == b'"' || c == b'\\' || c < 0x20 || c > 0x7e) {
        return Err(bad());
    }
    Ok((seq, Some(off)))
}

/// After a client's phase is complete: keep answering pings, and fail on any further data frame
/// (a duplicate or extra delivery) until the coordinator moves the phase to `until`.
async fn tail(c: &mut Client, phase: &mut watch::Receiver<u32>, until: u32) -> Res<()> {
    loop {
        let ping = tokio::select! {
            biased;
            r = async { phase.wait_for(|p| *p >= until).await.map(|_| ()).map_err(|e| e.to_string()) } => return r,
            t = c.recv() => {
                let s = t?;
                if s.starts_with(b"42") || s.starts_with(b"43") {
                    return Err(format!("extra delivery after the expected ones: {:?}", lossy(s)));
                }
                other(s)?
            }
        };
        handle_other(c, ping).await?;
    }
}

/// Receive exactly `count` events `m` with sequence numbers first..first+count, in order.
/// Returns the last offset seen (recovery mode) and the CONNECT reply if `want_connect` (it may
/// come before, between or after the events).
async fn receive_seq(
    c: &mut Client,
    pad: &[u8],
    first: u64,
    count: u64,
    want_offset: bool,
    mut want_connect: bool,
) -> Res<(Option<String>, Option<Value>)> {
    let mut next = first;
    let end = first + count;
    let mut last_off: Option<String> = None;
    let mut connect = None;
    while next < end || want_connect {
        let s = c.recv().await?;
        if s.starts_with(b"42") {
            let (seq, off) = parse_m(s, pad)?;
            if seq != next {
                return Err(if seq < next {
                    format!("duplicate or out-of-order delivery: got seq {seq}, expected {next}")
                } else if seq >= end {
                    format!("extra delivery: got seq {seq}, expected {next}")
                } else {
                    format!("lost delivery: got seq {seq}, expected {next}")
                });
            }
            match (want_offset, off) {
                (true, Some(o)) => {
                    if next + 1 == end {
                        last_off = Some(String::from_utf8_lossy(o).into_owned());
                    }
                }
                (true, None) => return Err(format!("seq {seq} carries no offset (connectionStateRecovery)")),
                (false, Some(_)) => return Err(format!("unexpected offset on seq {seq}")),
                (false, None) => {}
            }
            next += 1;
        } else if want_connect && s.starts_with(b"40") {
            connect = Some(parse_connect(s).ok_or_else(|| format!("bad CONNECT reply {:?}", lossy(s)))?);
            want_connect = false;
        } else {
            let ping = other(s)?;
            handle_other(c, ping).await?;
        }
    }
    Ok((last_off, connect))
}

// ---------------------------------------------------------------------------------------------
// Scenarios

struct Ctx {
    a: Args,
    sh: Arc<Shared>,
    phase: watch::Sender<u32>,
    timeout: Duration,
}

impl Ctx {
    fn new(a: Args) -> Self {
        let sh = Arc::new(Shared::new(a.clients, a.concurrency));
        let (phase, _) = watch::channel(0u32);
        let timeout = Duration::from_secs(a.timeout_s);
        Ctx { a, sh, phase, timeout }
    }

    fn spawn<F, Fut>(&self, f: F)
    where
        F: Fn(usize, Arc<Shared>, watch::Receiver<u32>) -> Fut,
        Fut: std::future::Future<Output = Res<()>> + Send + 'static,
    {
        for i in 0..self.a.clients {
            let sh = self.sh.clone();
            let fut = f(i, sh.clone(), self.phase.subscribe());
            tokio::spawn(async move {
                if let Err(e) = fut.await {
                    sh.fail(format!("client {i}: {e}"));
                }
            });
        }
    }

    async fn grace(&self) -> Res<()> {
        tokio::time::sleep(Duration::from_millis(self.a.grace_ms)).await;
        self.sh.check()
    }
}

struct Measure {
    cpu0: CpuSample,
    mach0: MachineSample,
    self0: f64,
    t0: Instant,
    pid: u32,
}

impl Measure {
    fn start(pid: u32) -> Res<Self> {
        Ok(Measure { cpu0: read_cpu(pid)?, mach0: read_machine(), self0: self_cpu(), t0: Instant::now(), pid })
    }

    /// Returns (server CPU seconds, wall seconds, JSON details).
    fn stop(&self, t_end: Instant) -> Res<(f64, f64, Value)> {
        let cpu1 = read_cpu(self.pid)?;
        let (cpu, src) = cpu_delta(&self.cpu0, &cpu1);
        let ticks = (cpu1.ticks.saturating_sub(self.cpu0.ticks)) as f64 / clk_tck();
        let wall = t_end.duration_since(self.t0).as_secs_f64().max(1e-9);
        let lg = self_cpu() - self.self0;
        let mach1 = read_machine();
        // CPU used by anything other than the server and this load generator: contention
        let other = (mach1.all_busy - self.mach0.all_busy - cpu - lg).max(0.0);
        let steal = (mach1.steal - self.mach0.steal).max(0.0);
        // on the server's core, if it is pinned to exactly one
        let aff = affinity(self.pid);
        // softirq on the server's core is mostly loopback TCP delivery of what the server sends:
        // the kernel charges it to no process, so it is reported apart from the server's CPU
        let (server_core_other, server_core_softirq) = match aff.as_slice() {
            [c] if *c < mach1.cores.len() && *c < self.mach0.cores.len() => {
                let busy = mach1.cores[*c].0 - self.mach0.cores[*c].0;
                let sirq = mach1.cores[*c].1 - self.mach0.cores[*c].1;
                (Value::from(((busy - cpu).max(0.0) / wall).min(1.0)), Value::from(sirq.max(0.0)))
            }
            _ => (Value::Null, Value::Null),
        };
        let d = json!({
            "other_cpu_s": other,
            "other_util": other / wall,
            "steal_s": steal,
            "server_core_other_util": server_core_other,
            "server_core_softirq_s": server_core_softirq,
            "cpu_s": cpu,
            "cpu_s_ticks": ticks,
            "cpu_source": src,
            "wall_s": wall,
            "server_util": cpu / wall,
            "loadgen_cpu_s": lg,
            "loadgen_util": lg / wall,
        });
        Ok((cpu, wall, d))
    }
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        for (k, v) in b {
            a.insert(k, v);
        }
    }
    a
}

/// fan-out (paced io.emit), burst (one synchronous loop) and rooms (io.to(room).emit).
async fn broadcast_scenario(a: Args) -> Res<Value> {
    let kind = a.scenario.clone();
    let rooms = if kind == "rooms" { a.rooms } else { 0 };
    if rooms > 0 && (a.emits % rooms != 0 || a.clients % rooms != 0) {
        return Err("--emits and --clients must be multiples of --rooms".into());
    }
    let per_client = if rooms > 0 { a.emits / rooms } else { a.emits } as u64;
    let plen = pad_len_for(a.size);
    let ctx = Ctx::new(a.clone());
    let to = Endpoint { port: a.port, transport: a.transport };
    ctx.spawn(move |i, sh, mut phase| async move {
        let (room, query) = if rooms > 0 { (i % rooms, format!("&room=r{}", i % rooms)) } else { (0, String::new()) };
        let pad = make_pad(plen, room);
        let (mut conn, _) = connect(&sh, to, &query).await?;
        sh.bump(&sh.ready);
        let first = per_client.min(1);
        receive_seq(&mut conn, &pad, 0, first, false, false).await?;
        if first == 1 {
            sh.delivered_first();
        }
        receive_seq(&mut conn, &pad, first, per_client - first, false, false).await?;
        sh.bump(&sh.done);
        tail(&mut conn, &mut phase, u32::MAX).await
    });
    ctx.sh.wait_all(&ctx.sh.ready, "connections", ctx.timeout).await?;
    tokio::time::sleep(Duration::from_millis(200)).await; // let the server settle after the handshakes
    let (rss0, _) = read_mem(a.pid)?;
    let mode = if kind == "burst" { "burst" } else { "paced" };
    let path = format!("/broadcast?n={}&pad={plen}&seq0=0&rooms={rooms}&batch={}&mode={mode}", a.emits, a.batch);
    let m = Measure::start(a.pid)?;
    let mut ctl = tokio::spawn(async move { control(a.control, &path).await });
    // a failed control request fails the step at once instead of waiting for the timeout
    let mut ctl_answer = None;
    let t_end = tokio::select! {
        r = ctx.sh.wait_all(&ctx.sh.done, "all deliveries", ctx.timeout) => r?,
        c = &mut ctl => {
            ctl_answer = Some(c.map_err(|e| e.to_string())??);
            ctx.sh.wait_all(&ctx.sh.done, "all deliveries", ctx.timeout).await?
        }
    };
    let (cpu, wall, d) = m.stop(t_end)?;
    let (rss1, hwm) = read_mem(a.pid)?;
    let ctl = match ctl_answer {
        Some(v) => v,
        None => ctl.await.map_err(|e| e.to_string())??,
    };
    ctx.grace().await?;
    let deliveries = per_client * a.clients as u64;
    let first_delivery = ctx.sh.first_delivery.lock().unwrap().map(|at| at.saturating_duration_since(m.t0));
    Ok(merge(
        d,
        json!({
            "scenario": kind,
            "first_delivery_ms": first_delivery.map(|d| d.as_secs_f64() * 1e3),
            "clients": a.clients,
            "emits": a.emits,
            "rooms": rooms,
            "frame_bytes": a.size,
            "deliveries": deliveries,
            "cpu_s_per_million": cpu / deliveries as f64 * 1e6,
            "deliveries_per_s": deliveries as f64 / wall,
            "emit_loop_ms": ctl["ms"],
            "rss_before_kb": rss0,
            "rss_after_kb": rss1,
            "hwm_kb": hwm,
            "peak_growth_kb": hwm.saturating_sub(rss0),
        }),
    ))
}

/// echo with ack: each client keeps `inflight` requests outstanding.
/// Acks per client left out of `p99_warm_us`: every client starts at once, so the first rounds
/// measure the server's start (its JIT compiling the path, buffers growing) more than its pace.
const ECHO_WARMUP_ACKS: usize = 100;

async fn echo_scenario(a: Args) -> Res<Value> {
    let ctx = Ctx::new(a.clone());
    let to = Endpoint { port: a.port, transport: a.transport };
    let (inflight, total) = (a.inflight.max(1), a.acks as u64);
    let pad = String::from_utf8(make_pad(pad_len_for(a.size).saturating_sub(10).max(1), 0)).unwrap();
    ctx.spawn(move |_i, sh, mut phase| {
        let pad = pad.clone();
        async move {
            let (mut conn, _) = connect(&sh, to, "").await?;
            sh.bump(&sh.ready);
            tail(&mut conn, &mut phase, 1).await?;
            // requests awaiting their ack: (id, seq, sent at). Acks may come back in any order
            // (socketioxide runs each event handler in a task of its own), so each is looked up.
            let mut pending: Vec<(u64, u64, Instant)> = Vec::with_capacity(inflight);
            let mut lat = Vec::with_capacity(total as usize);
            let (mut sent, mut acked) = (0u64, 0u64);
            let mut next_id = 1u64;
            let mut prepare = |pending: &mut Vec<(u64, u64, Instant)>, seq: u64| {
                let id = next_id;
                next_id += 1;
                pending.push((id, seq, Instant::now()));
                format!("42{id}[\"echo\",[{seq},\"{pad}\"]]")
            };
            while sent < total.min(inflight as u64) {
                let f = prepare(&mut pending, sent);
                conn.send(f.as_bytes()).await?;
                sent += 1;
            }
            while acked < total {
                let s = conn.recv().await?;
                if let Some(rest) = s.strip_prefix(b"43") {
                    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                    let id: u64 = std::str::from_utf8(&rest[..digits])
                        .ok()
                        .and_then(|d| d.parse().ok())
                        .ok_or_else(|| format!("bad ack {:?}", lossy(s)))?;
                    let at = pending.iter().position(|p| p.0 == id).ok_or_else(|| format!("ack for unknown id {id}"))?;
                    let (_, seq, t0) = pending.swap_remove(at);
                    // expected: [[seq,"pad"]]
                    let body = &rest[digits..];
                    let ok = body
                        .strip_prefix(b"[[")
                        .and_then(|b| b.strip_suffix(b"\"]]"))
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .and_then(|b| b.split_once(",\""));
                    match ok {
                        Some((n, p)) if n.parse::<u64>().ok() == Some(seq) && p == pad => {}
                        _ => return Err(format!("wrong ack content for id {id} seq {seq}: {:?}", lossy(s))),
                    }
                    lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    acked += 1;
                    if sent < total {
                        let f = prepare(&mut pending, sent);
                        conn.send(f.as_bytes()).await?;
                        sent += 1;
                    }
                } else {
                    let ping = other(s)?;
                    handle_other(&mut conn, ping).await?;
                }
            }
            sh.latencies_us.lock().unwrap().extend_from_slice(&lat);
            sh.warm_latencies_us.lock().unwrap().extend_from_slice(&lat[ECHO_WARMUP_ACKS.min(lat.len())..]);
            sh.bump(&sh.done);
            tail(&mut conn, &mut phase, u32::MAX).await
        }
    });
    ctx.sh.wait_all(&ctx.sh.ready, "connections", ctx.timeout).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = Measure::start(a.pid)?;
    ctx.phase.send_replace(1);
    let t_end = ctx.sh.wait_all(&ctx.sh.done, "all acks", ctx.timeout).await?;
    let (cpu, wall, d) = m.stop(t_end)?;
    ctx.grace().await?;
    let mut lat = std::mem::take(&mut *ctx.sh.latencies_us.lock().unwrap());
    lat.sort_unstable();
    let n = lat.len() as u64;
    if n != total * a.clients as u64 {
        return Err(format!("expected {} acks, counted {n}", total * a.clients as u64));
    }
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let mut warm = std::mem::take(&mut *ctx.sh.warm_latencies_us.lock().unwrap());
    warm.sort_unstable();
    let warm_p99 = warm.get(((warm.len() as f64 * 0.99) as usize).min(warm.len().saturating_sub(1))).copied();
    Ok(merge(
        d,
        json!({
            "scenario": "echo",
            "clients": a.clients,
            "inflight": inflight,
            "acks": n,
            "cpu_s_per_million": cpu / n as f64 * 1e6,
            "acks_per_s": n as f64 / wall,
            "p50_us": pct(0.50),
            "p90_us": pct(0.90),
            "p99_us": pct(0.99),
            "p99_warm_us": warm_p99,
            "max_us": lat[lat.len() - 1],
        }),
    ))
}

/// idle: hold many connections; memory per connection and CPU per handshake.
async fn idle_scenario(a: Args) -> Res<Value> {
    let ctx = Ctx::new(a.clone());
    let to = Endpoint { port: a.port, transport: a.transport };
    control(a.control, "/gc").await?;
    let (rss0, _) = read_mem(a.pid)?;
    let m = Measure::start(a.pid)?;
    ctx.spawn(move |_i, sh, mut phase| async move {
        let (mut conn, _) = connect(&sh, to, "").await?;
        sh.bump(&sh.ready);
        tail(&mut conn, &mut phase, u32::MAX).await
    });
    let t_end = ctx.sh.wait_all(&ctx.sh.ready, "connections", ctx.timeout).await?;
    let (cpu, wall, d) = m.stop(t_end)?;
    let stats = control(a.control, "/stats").await?;
    if stats["live"].as_u64() != Some(a.clients as u64) {
        return Err(format!("server counts {} live sockets, expected {}", stats["live"], a.clients));
    }
    let hold = Measure::start(a.pid)?;
    tokio::time::sleep(Duration::from_millis(a.hold_ms)).await;
    let (hold_cpu, _, _) = hold.stop(Instant::now())?;
    control(a.control, "/gc").await?;
    let (rss1, hwm) = read_mem(a.pid)?;
    ctx.sh.check()?;
    let n = a.clients as f64;
    Ok(merge(
        d,
        json!({
            "scenario": "idle",
            "clients": a.clients,
            "cpu_us_per_handshake": cpu / n * 1e6,
            "handshakes_per_s": n / wall,
            "rss_before_kb": rss0,
            "rss_after_kb": rss1,
            "hwm_kb": hwm,
            "rss_kb_per_conn": (rss1 as f64 - rss0 as f64) / n,
            "hold_ms": a.hold_ms,
            "hold_cpu_s": hold_cpu,
        }),
    ))
}

/// recovery storm: every client drops its TCP connection, broadcasts happen while they are
/// away, then all reconnect with {pid, offset} and must get every missed packet, in order.
async fn recovery_scenario(a: Args) -> Res<Value> {
    const DROP: u32 = 1;
    const RECONNECT: u32 = 2;
    let ctx = Ctx::new(a.clone());
    let to = Endpoint { port: a.port, transport: a.transport };
    let plen = pad_len_for(a.size);
    let missed = a.emits as u64;
    ctx.spawn(move |_i, sh, mut phase| async move {
        let pad = make_pad(plen, 0);
        let (mut conn, c) = connect(&sh, to, "").await?;
        let sid = c["sid"].as_str().unwrap_or("").to_string();
        let pid = c["pid"]
            .as_str()
            .ok_or_else(|| format!("CONNECT reply has no pid (connectionStateRecovery not enabled?): {c}"))?
            .to_string();
        sh.bump(&sh.ready);
        let (off, _) = receive_seq(&mut conn, &pad, 0, 1, true, false).await?;
        let off = off.ok_or("no offset")?;
        sh.bump(&sh.done);
        tail(&mut conn, &mut phase, DROP).await?;
        drop(conn); // close the TCP connection without a WebSocket close: an unexpected disconnect
        sh.bump(&sh.dropped);
        phase.wait_for(|p| *p >= RECONNECT).await.map(|_| ()).map_err(|e| e.to_string())?;
        let auth = json!({ "pid": pid, "offset": off }).to_string();
        let mut conn = {
            let _permit = sh.connect_gate.acquire().await.map_err(|e| e.to_string())?;
            tokio::time::timeout(Duration::from_secs(30), open(to, "", Some(&auth)))
                .await
                .map_err(|_| "reconnect timed out (30 s)".to_string())??
        };
        // upstream replays the missed packets before the CONNECT reply; accept either order
        let (_, c2) = receive_seq(&mut conn, &pad, 1, missed, true, true).await?;
        let c2 = c2.ok_or("no CONNECT reply")?;
        if c2["sid"].as_str() != Some(sid.as_str()) || c2["pid"].as_str() != Some(pid.as_str()) {
            return Err(format!("session not recovered: was sid {sid} pid {pid}, now {c2}"));
        }
        sh.bump(&sh.done2);
        tail(&mut conn, &mut phase, u32::MAX).await
    });
    ctx.sh.wait_all(&ctx.sh.ready, "connections", ctx.timeout).await?;
    let plen_s = plen;
    control(a.control, &format!("/broadcast?n=1&pad={plen_s}&seq0=0&rooms=0&batch=1&mode=burst")).await?;
    ctx.sh.wait_all(&ctx.sh.done, "the first broadcast", ctx.timeout).await?;
    ctx.phase.send_replace(DROP);
    ctx.sh.wait_all(&ctx.sh.dropped, "drops", ctx.timeout).await?;
    // wait for the server to see every disconnect
    let deadline = Instant::now() + ctx.timeout;
    loop {
        let s = control(a.control, "/stats").await?;
        if s["live"].as_u64() == Some(0) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("server still counts {} live sockets after the drop", s["live"]));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = Measure::start(a.pid)?;
    let path = format!("/broadcast?n={missed}&pad={plen}&seq0=1&rooms=0&batch={}&mode=paced", a.batch);
    control(a.control, &path).await?;
    let (store_cpu, store_wall, _) = store.stop(Instant::now())?;
    let (rss0, _) = read_mem(a.pid)?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = Measure::start(a.pid)?;
    ctx.phase.send_replace(RECONNECT);
    let t_end = ctx.sh.wait_all(&ctx.sh.done2, "every missed packet", ctx.timeout).await?;
    let (cpu, _wall, d) = m.stop(t_end)?;
    let (rss1, hwm) = read_mem(a.pid)?;
    ctx.grace().await?;
    let deliveries = missed * a.clients as u64;
    Ok(merge(
        d,
        json!({
            "scenario": "recovery",
            "clients": a.clients,
            "missed_per_client": missed,
            "deliveries": deliveries,
            "frame_bytes": a.size,
            "cpu_s_per_million": cpu / deliveries as f64 * 1e6,
            "store_cpu_s": store_cpu,
            "store_wall_s": store_wall,
            "rss_before_kb": rss0,
            "rss_after_kb": rss1,
            "hwm_kb": hwm,
        }),
    ))
}

async fn run(a: Args) -> Res<Value> {
    CONTROL_TIMEOUT_S.store(a.timeout_s, Ordering::Relaxed);
    raise_nofile(a.clients as u64 + 64)?;
    read_cpu(a.pid)?;
    match a.scenario.as_str() {
        "fanout" | "burst" | "rooms" => broadcast_scenario(a).await,
        "echo" => echo_scenario(a).await,
        "idle" => idle_scenario(a).await,
        "recovery" => recovery_scenario(a).await,
        "cluster" => cluster::cluster_scenario(a).await,
        s => Err(format!("unknown scenario {s:?} (fanout, burst, rooms, echo, idle, recovery, cluster)")),
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let scenario = args.scenario.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let out = rt.block_on(run(args));
    match out {
        Ok(v) => {
            let v = merge(json!({ "ok": true }), v);
            println!("{v}");
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("loadgen FAILED ({scenario}): {e}");
            println!("{}", json!({ "ok": false, "scenario": scenario, "error": e }));
            std::process::exit(1);
        }
    }
}
