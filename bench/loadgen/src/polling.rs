//! Engine.IO v4 HTTP long-polling client, never upgrading: the handshake GET, then one GET always
//! outstanding (its own keep-alive connection, its own task) and POSTs on a second connection
//! (another task) that carry every packet queued meanwhile in one payload, as engine.io-client
//! does. Payloads are packets separated by \x1e; this client sends and expects text packets only.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::Res;

const SEPARATOR: u8 = 0x1e;
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 << 20;
/// Node's http.Server closes a keep-alive connection after 5 s idle (`keepAliveTimeout`); a
/// request written just then would be lost with it, so a connection idle this long is replaced.
const MAX_IDLE: Duration = Duration::from_secs(2);

/// One HTTP/1.1 keep-alive connection to the server, one request at a time.
struct Http {
    port: u16,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    last_used: Instant,
}

impl Http {
    fn new(port: u16) -> Self {
        Http {
            port,
            stream: None,
            buf: Vec::with_capacity(4096),
            last_used: Instant::now(),
        }
    }

    /// Send one request and return (status, body). Content-Length and chunked bodies are read;
    /// `Connection: close` in the answer makes the next request open a new connection.
    async fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Res<(u16, Vec<u8>)> {
        if self.stream.is_some() && self.last_used.elapsed() > MAX_IDLE {
            self.stream = None;
        }
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port))
                .await
                .map_err(|e| format!("TCP connect: {e}"))?;
            s.set_nodelay(true)
                .map_err(|e| format!("TCP_NODELAY: {e}"))?;
            self.stream = Some(s);
            self.buf.clear();
        }
        let port = self.port;
        let s = self.stream.as_mut().ok_or("no connection")?;
        let mut req = if method == "POST" {
            format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes()
        } else {
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes()
        };
        req.extend_from_slice(body);
        s.write_all(&req)
            .await
            .map_err(|e| format!("{method} request: {e}"))?;
        let answer = read_response(s, &mut self.buf)
            .await
            .map_err(|e| format!("{method} {path}: {e}"));
        self.last_used = Instant::now();
        match answer {
            Ok((status, body, keep_alive)) => {
                if !keep_alive {
                    self.stream = None;
                }
                Ok((status, body))
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

async fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) -> Res<()> {
    let len = buf.len();
    buf.resize(len + 16 * 1024, 0);
    let read = s.read(&mut buf[len..]).await;
    buf.truncate(len + *read.as_ref().unwrap_or(&0));
    match read {
        Ok(0) => Err("connection closed by the server".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("read: {e}")),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Read one response from `s`; `buf` keeps bytes read past it (none without pipelining).
/// Returns (status, body, whether the connection stays open).
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Res<(u16, Vec<u8>, bool)> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err("response head too large".into());
        }
        fill(s, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let keep_alive = header("connection").as_deref() != Some("close");
    buf.drain(..head_end);
    let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(s, buf).await?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            if body.len() + size > MAX_BODY {
                return Err("response body larger than 64 MiB".into());
            }
            while buf.len() < line_end + 2 + size + 2 {
                fill(s, buf).await?;
            }
            body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
            buf.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let len: usize = match header("content-length") {
            Some(v) => v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?,
            None => {
                return Err(format!(
                    "response without Content-Length or chunked body: {head:?}"
                ))
            }
        };
        if len > MAX_BODY {
            return Err(format!("response body of {len} bytes"));
        }
        while buf.len() < len {
            fill(s, buf).await?;
        }
        buf.drain(..len).collect()
    };
    Ok((status, body, keep_alive))
}

/// A connected long-polling client.
pub struct Polling {
    /// payloads from the GET loop, or the error that ended the GET or the POST loop
    inbound: mpsc::UnboundedReceiver<Res<Vec<u8>>>,
    outbound: mpsc::UnboundedSender<Vec<u8>>,
    /// the payload being read and where its next packet starts
    payload: Vec<u8>,
    next: usize,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Polling {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Polling {
    /// The handshake (`GET /socket.io/?EIO=4&transport=polling{query}`); returns the client and
    /// the Engine.IO open packet, with the GET and POST loops running.
    pub async fn open(port: u16, query: &str) -> Res<(Polling, Vec<u8>)> {
        let mut get = Http::new(port);
        let (status, body) = get
            .request(
                "GET",
                &format!("/socket.io/?EIO=4&transport=polling{query}"),
                b"",
            )
            .await?;
        if status != 200 {
            return Err(format!(
                "handshake refused: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let open_end = body
            .iter()
            .position(|&b| b == SEPARATOR)
            .unwrap_or(body.len());
        let open = body[..open_end].to_vec();
        let sid = open
            .strip_prefix(b"0")
            .and_then(|j| serde_json::from_slice::<serde_json::Value>(j).ok())
            .and_then(|v| v["sid"].as_str().map(String::from))
            .ok_or_else(|| {
                format!(
                    "expected an Engine.IO open packet with a sid, got {:?}",
                    String::from_utf8_lossy(&open)
                )
            })?;
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let (in_tx, inbound) = mpsc::unbounded_channel();
        let (outbound, out_rx) = mpsc::unbounded_channel();
        let get_loop = tokio::spawn(get_loop(get, path.clone(), in_tx.clone()));
        let post_loop = tokio::spawn(post_loop(Http::new(port), path, out_rx, in_tx));
        let c = Polling {
            inbound,
            outbound,
            payload: body,
            next: open_end + 1,
            tasks: [get_loop, post_loop],
        };
        Ok((c, open))
    }

    /// Next packet received. Cancel-safe: a packet is consumed only when returned.
    pub async fn recv(&mut self) -> Res<&[u8]> {
        while self.next > self.payload.len() {
            self.payload = match self.inbound.recv().await {
                Some(p) => p?,
                None => return Err("long-polling loops ended".into()),
            };
            self.next = 0;
        }
        let start = self.next;
        let end = self.payload[start..]
            .iter()
            .position(|&b| b == SEPARATOR)
            .map_or(self.payload.len(), |i| start + i);
        self.next = end + 1;
        Ok(&self.payload[start..end])
    }

    /// Queue a packet for the next POST.
    pub fn send(&mut self, packet: &[u8]) -> Res<()> {
        self.outbound
            .send(packet.to_vec())
            .map_err(|_| "the POST loop has ended (see the error before this one)".to_string())
    }
}

async fn get_loop(mut http: Http, path: String, to_client: mpsc::UnboundedSender<Res<Vec<u8>>>) {
    loop {
        let payload = match http.request("GET", &path, b"").await {
            Ok((200, body)) if !body.is_empty() => Ok(body),
            Ok((200, _)) => Err("empty long-polling payload".to_string()),
            Ok((status, body)) => Err(format!(
                "GET answered {status} {}",
                String::from_utf8_lossy(&body)
            )),
            Err(e) => Err(e),
        };
        let failed = payload.is_err();
        if to_client.send(payload).is_err() || failed {
            return;
        }
    }
}

/// POST whatever is queued, one request at a time (Engine.IO refuses overlapping POSTs).
async fn post_loop(
    mut http: Http,
    path: String,
    mut from_client: mpsc::UnboundedReceiver<Vec<u8>>,
    to_client: mpsc::UnboundedSender<Res<Vec<u8>>>,
) {
    let mut payload = Vec::new();
    while let Some(first) = from_client.recv().await {
        payload.clear();
        payload.extend_from_slice(&first);
        while let Ok(more) = from_client.try_recv() {
            payload.push(SEPARATOR);
            payload.extend_from_slice(&more);
        }
        let error = match http.request("POST", &path, &payload).await {
            Ok((200, body)) if body == b"ok" => continue,
            Ok((status, body)) => {
                format!("POST answered {status} {}", String::from_utf8_lossy(&body))
            }
            Err(e) => e,
        };
        let _client_gone = to_client.send(Err(error));
        return;
    }
}
