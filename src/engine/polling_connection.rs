//! A kept-alive HTTP connection whose long-polling requests Rust answers itself.
//!
//! Node's HTTP server and the JS layer answer a polling session's request (the user's hooks run
//! there). When nothing per request needs JS then (no engine middleware, no `headers` listener,
//! ...), JS hands the connection over with the terms of that answer (`PollingTerms`), and its
//! later requests are read here: a GET waits for its session's packets, a POST's packets go to the
//! engine, each answered with the headers JS answered with. A request that JS would serve
//! otherwise (another path or method, a session this cannot serve, request headers other than
//! those the terms were made for) goes back to Node with the bytes read, and Node's server serves
//! it as any other.
use super::connection_lease::ConnectionLease;
use super::session::{PollError, PollReply, PollWaiter};
use super::{Engine, PostBody};
use flate2::write::{GzEncoder, ZlibEncoder};
use std::io::Write;
use std::os::fd::IntoRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tracing::debug;

/// Longest request head read here; a longer one goes back to Node, which refuses it.
const MAX_HEAD: usize = 16 * 1024;
/// Headers a request may have here; one with more goes back to Node.
const MAX_HEADERS: usize = 32;
/// Bytes a client may send while its GET waits (engine.io clients send none then).
const MAX_AHEAD: usize = 64 * 1024;
/// How long the rest of a request head may take once it has started (Node's `headersTimeout`).
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a whole request may take (Node's `requestTimeout`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const READ_SIZE: usize = 4096;

/// A connection JS hands over after answering one of its polling requests.
pub struct PollingHandoff {
    /// A duplicate of Node's descriptor (`stream::duplicate`).
    pub stream: std::net::TcpStream,
    pub connection: super::handler::ConnectionId,
    pub terms: PollingTerms,
}

/// What JS's answer depended on, and what every answer on the connection repeats.
#[derive(Debug, Clone)]
pub struct PollingTerms {
    /// The engine's path: requests whose target starts with it are the engine's.
    pub path: String,
    /// Request headers JS's answer depended on: a request must carry the same ones to be served
    /// here. Origin matters with CORS, Accept-Encoding with compression. (The User-Agent matters
    /// only to old Internet Explorer's, whose requests JS keeps: see `is_internet_explorer`.)
    pub origin: HeaderTerm,
    pub accept_encoding: HeaderTerm,
    /// The header lines of JS's answer that every answer repeats (`Name: value\r\n` each): all
    /// but those made per answer.
    pub headers: String,
    pub compression: Option<Compression>,
    /// Node's `keepAliveTimeout`: how long the connection may wait idle for a request.
    pub keep_alive: Option<Duration>,
    /// `maxHttpBufferSize`: longer POST bodies go back to Node, which refuses them.
    pub max_body: usize,
}

impl PollingTerms {
    /// The header lines of an answer as Node wrote it (its status line first), less those each
    /// answer here writes itself.
    pub fn repeated_headers(answer_head: &str) -> String {
        const PER_ANSWER: [&str; 5] = [
            "content-type",
            "content-length",
            "content-encoding",
            "transfer-encoding",
            "date",
        ];
        answer_head
            .split("\r\n")
            .skip(1)
            .filter(|line| match line.split_once(':') {
                Some((name, _)) => !PER_ANSWER.iter().any(|p| name.eq_ignore_ascii_case(p)),
                None => false,
            })
            .fold(String::new(), |mut lines, line| {
                lines.push_str(line);
                lines.push_str("\r\n");
                lines
            })
    }
}

/// What a request header must be for a request to be served here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderTerm {
    Any,
    /// The very value (None: absent).
    Exactly(Option<String>),
}

impl HeaderTerm {
    fn allows(&self, seen: Option<&[u8]>) -> bool {
        match self {
            HeaderTerm::Any => true,
            HeaderTerm::Exactly(value) => seen == value.as_deref().map(str::as_bytes),
        }
    }
}

/// Whether a User-Agent is old Internet Explorer's, which upstream answers with one more header
/// (`X-XSS-Protection`, lib/engine/transports/polling.js).
pub fn is_internet_explorer(user_agent: &[u8]) -> bool {
    let has = |marker: &[u8]| user_agent.windows(marker.len()).any(|w| w == marker);
    has(b";MSIE") || has(b"Trident/")
}

/// How long answers are compressed, as upstream's `httpCompression` with the request's
/// `Accept-Encoding`.
#[derive(Debug, Clone, Copy)]
pub struct Compression {
    pub encoding: Encoding,
    /// Bodies from this many bytes are compressed.
    pub threshold: usize,
    /// zlib's level, 0-9.
    pub level: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gzip,
    Deflate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// A request this connection serves.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: Method,
    sid: String,
    head_len: usize,
    body_len: usize,
}

/// What the bytes read so far hold.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Request(Request),
    /// A request head still arriving.
    Partial,
    /// A request for Node's server.
    Foreign,
}

/// Reads the request at the start of `bytes` (see the top of this file for which are served).
fn parse(bytes: &[u8], terms: &PollingTerms) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let head_len = match head.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD => return Parsed::Partial,
        _ => return Parsed::Foreign,
    };
    let method = match head.method {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        _ => return Parsed::Foreign,
    };
    if head.version != Some(1) {
        return Parsed::Foreign;
    }
    let Some(sid) = head.path.and_then(|target| engine_sid(target, &terms.path)) else {
        return Parsed::Foreign;
    };
    let mut seen = SeenHeaders::default();
    for header in head.headers.iter() {
        if !seen.read(header.name, header.value, method) {
            return Parsed::Foreign;
        }
    }
    if !seen.host
        || !terms.origin.allows(seen.origin)
        || !terms.accept_encoding.allows(seen.accept_encoding)
        || seen.user_agent.is_some_and(is_internet_explorer)
    {
        return Parsed::Foreign;
    }
    let body_len = seen.content_length.unwrap_or(0);
    if (method == Method::Get && body_len != 0) || body_len > terms.max_body {
        return Parsed::Foreign;
    }
    if method == Method::Post && seen.content_length.is_none() {
        return Parsed::Foreign;
    }
    Parsed::Request(Request {
        method,
        sid: sid.to_owned(),
        head_len,
        body_len,
    })
}

/// The request headers that decide whether a request is served here.
#[derive(Default)]
struct SeenHeaders<'a> {
    /// Node refuses an HTTP/1.1 request without one (`requireHostHeader`).
    host: bool,
    origin: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    accept_encoding: Option<&'a [u8]>,
    content_length: Option<usize>,
}

impl<'a> SeenHeaders<'a> {
    /// False for a header that makes the request Node's: framing or connection handling other
    /// than a plain keep-alive request's, a binary (Engine.IO v3) body, or a header that matters
    /// here given twice (Node would join the values).
    fn read(&mut self, name: &str, value: &'a [u8], method: Method) -> bool {
        let slot = if name.eq_ignore_ascii_case("host") {
            return !std::mem::replace(&mut self.host, true);
        } else if name.eq_ignore_ascii_case("origin") {
            &mut self.origin
        } else if name.eq_ignore_ascii_case("user-agent") {
            &mut self.user_agent
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            &mut self.accept_encoding
        } else if name.eq_ignore_ascii_case("content-length") {
            let length = std::str::from_utf8(value)
                .ok()
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse().ok());
            return self.content_length.is_none() && {
                self.content_length = length;
                length.is_some()
            };
        } else if name.eq_ignore_ascii_case("connection") {
            return value.eq_ignore_ascii_case(b"keep-alive");
        } else if name.eq_ignore_ascii_case("content-type") {
            return !(method == Method::Post && value == b"application/octet-stream");
        } else {
            return !["transfer-encoding", "expect", "upgrade"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n));
        };
        slot.replace(value).is_none()
    }
}

/// The session id of a polling request of the engine at `path` (Engine.IO v4, `sid` set), or
/// None. Only targets that the JS layer would read the same way are read: characters that URL
/// parsing escapes or form decoding changes make the target Node's.
fn engine_sid<'t>(target: &'t str, path: &str) -> Option<&'t str> {
    if !target.starts_with(path) {
        return None;
    }
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$'()*,;:@/?&=".contains(&b);
    if !target.bytes().all(plain) || target.starts_with("//") {
        return None;
    }
    let (_, query) = target.split_once('?')?;
    let (mut eio, mut transport, mut sid) = (None, None, None);
    for parameter in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match name {
            "EIO" => eio = Some(value),
            "transport" => transport = Some(value),
            "sid" => sid = Some(value),
            "__proto__" => return None,
            _ => {}
        }
    }
    (eio == Some("4") && transport == Some("polling"))
        .then_some(sid)
        .flatten()
        .filter(|sid| !sid.is_empty())
}

/// How the connection's service ended.
enum End {
    Closed,
    /// A request for Node: the connection goes back with what was read of it.
    HandBack,
}

struct PollingConnection {
    engine: Arc<Engine>,
    /// `Engine::polling_closes` when the connection was taken over: the HTTP server closed its
    /// idle connections since if it differs.
    closes_seen: u64,
    stream: TcpStream,
    /// Read and not yet answered: the current request, from its first byte.
    read: Vec<u8>,
    terms: PollingTerms,
}

/// Serves the connection until it closes or goes back to Node.
pub(super) async fn serve(engine: Arc<Engine>, handoff: PollingHandoff, lease: ConnectionLease) {
    let stream = handoff.stream;
    let stream = match stream
        .set_nonblocking(true)
        .and_then(|()| TcpStream::from_std(stream))
    {
        Ok(stream) => stream,
        Err(err) => {
            debug!(target: "engine:polling", "cannot take the connection over: {err}");
            return;
        }
    };
    let mut connection = PollingConnection {
        closes_seen: engine.polling_closes.load(Ordering::Relaxed),
        engine,
        stream,
        read: Vec::new(),
        terms: handoff.terms,
    };
    if let End::HandBack = connection.run().await {
        let PollingConnection { stream, read, .. } = connection;
        debug!(
            target: "engine:polling",
            read = read.len(),
            "connection handed back to the HTTP server",
        );
        if let Ok(stream) = stream.into_std() {
            lease.hand_back(stream.into_raw_fd(), read);
        }
    }
}

/// What became of one request.
enum Served {
    Yes,
    Gone,
    Foreign,
}

impl PollingConnection {
    async fn run(&mut self) -> End {
        loop {
            let request = match self.next_request().await {
                Ok(request) => request,
                Err(end) => return end,
            };
            if self.engine.polling_by_js.load(Ordering::Relaxed) {
                return End::HandBack;
            }
            if let Some(capacity) = self.engine.handler.wait_for_capacity() {
                capacity.await;
            }
            let served = match request.method {
                Method::Get => self.serve_get(&request).await,
                Method::Post => self.serve_post(&request).await,
            };
            match served {
                Served::Yes if self.read.is_empty() => self.read = Vec::new(),
                Served::Yes => {}
                Served::Gone => return End::Closed,
                Served::Foreign => return End::HandBack,
            }
        }
    }

    /// The next request, once its head is read; else how the connection ends (the client closed
    /// it, it idled past the keep-alive timeout or the server is closing; or a request for Node).
    async fn next_request(&mut self) -> Result<Request, End> {
        loop {
            match parse(&self.read, &self.terms) {
                Parsed::Request(request) => return Ok(request),
                Parsed::Foreign => return Err(End::HandBack),
                Parsed::Partial => {}
            }
            let idle = self.read.is_empty();
            let closing = self.engine.polling_closing.notified();
            tokio::pin!(closing);
            closing.as_mut().enable();
            if idle && self.engine.polling_closes.load(Ordering::Relaxed) != self.closes_seen {
                return Err(End::Closed);
            }
            let limit = if idle {
                self.terms.keep_alive
            } else {
                Some(HEAD_TIMEOUT)
            };
            let read = tokio::select! {
                read = read_more(&mut self.stream, &mut self.read) => read,
                () = closing, if idle => return Err(End::Closed),
                () = sleep_for(limit) => return Err(End::Closed),
            };
            if !matches!(read, Ok(n) if n > 0) {
                return Err(End::Closed);
            }
        }
    }

    async fn serve_get(&mut self, request: &Request) -> Served {
        let (waiter, mut answer) = oneshot::channel();
        let reply = match self
            .engine
            .poll_for(&request.sid, PollWaiter::Connection(waiter))
        {
            // Unserved: JS answers it with upstream's error.
            Err(PollError::UnknownSid | PollError::TransportMismatch) => return Served::Foreign,
            served => served,
        };
        self.read.drain(..request.head_len);
        let body = match reply {
            // An overlap, the one error left: the session is closed, as upstream's.
            Err(_) => return self.answer("400 Bad Request", "", None, b"").await,
            Ok(PollReply::Now(body)) => body,
            Ok(PollReply::Waiting) => loop {
                tokio::select! {
                    biased;
                    body = &mut answer => match body {
                        Ok(body) => break body,
                        Err(_) => return Served::Gone,
                    },
                    read = read_more(&mut self.stream, &mut self.read) => {
                        if !matches!(read, Ok(n) if n > 0) || self.read.len() > MAX_AHEAD {
                            self.engine.request_aborted(&request.sid, "poll connection closed prematurely");
                            return Served::Gone;
                        }
                    }
                }
            },
        };
        self.answer_poll(&body).await
    }

    async fn serve_post(&mut self, request: &Request) -> Served {
        let end = request.head_len + request.body_len;
        let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
        while self.read.len() < end {
            let read =
                tokio::time::timeout_at(deadline, read_more(&mut self.stream, &mut self.read))
                    .await;
            if !matches!(read, Ok(Ok(n)) if n > 0) {
                self.engine
                    .request_aborted(&request.sid, "data request connection closed prematurely");
                return Served::Gone;
            }
        }
        let Ok(body) = std::str::from_utf8(&self.read[request.head_len..end]) else {
            return Served::Foreign;
        };
        // Refused with nothing done: JS answers it with upstream's error.
        if self
            .engine
            .post(&request.sid, PostBody::Text(body))
            .is_err()
        {
            return Served::Foreign;
        }
        self.read.drain(..end);
        self.answer("200 OK", "text/html", None, b"ok").await
    }

    /// Answers a GET with its payload, compressed as upstream's `httpCompression` says (only
    /// these answers are).
    async fn answer_poll(&mut self, body: &str) -> Served {
        let compressed = self
            .terms
            .compression
            .filter(|c| body.len() >= c.threshold)
            .and_then(|c| compress(c, body.as_bytes()).map(|bytes| (c.encoding, bytes)));
        let content_type = "text/plain; charset=UTF-8";
        match &compressed {
            Some((encoding, bytes)) => {
                self.answer("200 OK", content_type, Some(*encoding), bytes)
                    .await
            }
            None => {
                self.answer("200 OK", content_type, None, body.as_bytes())
                    .await
            }
        }
    }

    /// Writes an answer: the status line, its own headers, the repeated ones, then `body`.
    async fn answer(
        &mut self,
        status: &str,
        content_type: &str,
        encoding: Option<Encoding>,
        body: &[u8],
    ) -> Served {
        let encoding = match encoding {
            Some(Encoding::Gzip) => "Content-Encoding: gzip\r\n",
            Some(Encoding::Deflate) => "Content-Encoding: deflate\r\n",
            None => "",
        };
        let content_type = if content_type.is_empty() {
            String::new()
        } else {
            format!("Content-Type: {content_type}\r\n")
        };
        let mut message = format!(
            "HTTP/1.1 {status}\r\n{content_type}{encoding}Content-Length: {}\r\n{}Date: {}\r\n\r\n",
            body.len(),
            self.terms.headers,
            httpdate::fmt_http_date(SystemTime::now()),
        )
        .into_bytes();
        message.extend_from_slice(body);
        match self.stream.write_all(&message).await {
            Ok(()) => Served::Yes,
            Err(_) => Served::Gone,
        }
    }
}

fn compress(compression: Compression, body: &[u8]) -> Option<Vec<u8>> {
    let level = flate2::Compression::new(compression.level);
    match compression.encoding {
        Encoding::Gzip => {
            let mut encoder = GzEncoder::new(Vec::new(), level);
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
        Encoding::Deflate => {
            let mut encoder = ZlibEncoder::new(Vec::new(), level);
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
    }
}

/// Reads what the client sent next onto `read`. The buffer grows only once there is something to
/// read: an idle connection (or one whose GET waits) holds no room for it. The read itself goes
/// through `read_buf`, which takes a short read as the socket drained, where `try_read_buf` left
/// the socket marked readable and the next request's wait began with a read that found nothing.
async fn read_more(stream: &mut TcpStream, read: &mut Vec<u8>) -> std::io::Result<usize> {
    stream.readable().await?;
    read.reserve(READ_SIZE);
    stream.read_buf(read).await
}

async fn sleep_for(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> PollingTerms {
        PollingTerms {
            path: "/socket.io/".to_owned(),
            origin: HeaderTerm::Exactly(Some("https://example.com".to_owned())),
            accept_encoding: HeaderTerm::Exactly(Some("gzip".to_owned())),
            headers: String::new(),
            compression: None,
            keep_alive: None,
            max_body: 100,
        }
    }

    fn request(first_line: &str, headers: &str) -> Vec<u8> {
        format!("{first_line}\r\nHost: x\r\n{headers}\r\n").into_bytes()
    }

    const GET: &str = "GET /socket.io/?EIO=4&transport=polling&t=abc&sid=S1d-_ HTTP/1.1";
    const SAME: &str = "Origin: https://example.com\r\nAccept-Encoding: gzip\r\n";

    #[test]
    fn a_polling_get_with_the_same_headers_is_served() {
        let bytes = request(GET, SAME);
        assert_eq!(
            parse(&bytes, &terms()),
            Parsed::Request(Request {
                method: Method::Get,
                sid: "S1d-_".to_owned(),
                head_len: bytes.len(),
                body_len: 0,
            })
        );
        assert_eq!(parse(&bytes[..bytes.len() - 2], &terms()), Parsed::Partial);
    }

    #[test]
    fn a_post_needs_its_length_within_the_limit() {
        let post = "POST /socket.io/?EIO=4&transport=polling&sid=a HTTP/1.1";
        let with = |length: &str| request(post, &format!("{SAME}Content-Length: {length}\r\n"));
        assert!(matches!(
            parse(&with("100"), &terms()),
            Parsed::Request(Request { body_len: 100, .. })
        ));
        assert_eq!(parse(&with("101"), &terms()), Parsed::Foreign);
        assert_eq!(parse(&with("1x"), &terms()), Parsed::Foreign);
        assert_eq!(parse(&request(post, SAME), &terms()), Parsed::Foreign);
    }

    #[test]
    fn requests_that_js_would_answer_otherwise_are_foreign() {
        let foreign = |first_line: &str, headers: &str| {
            parse(&request(first_line, headers), &terms()) == Parsed::Foreign
        };
        assert!(foreign("GET /hello HTTP/1.1", SAME), "another path");
        assert!(foreign(
            "PUT /socket.io/?EIO=4&transport=polling&sid=a HTTP/1.1",
            SAME
        ));
        assert!(foreign(
            "GET /socket.io/?EIO=4&transport=polling&sid=a HTTP/1.0",
            SAME
        ));
        assert!(
            foreign("GET /socket.io/?EIO=4&transport=polling HTTP/1.1", SAME),
            "a handshake"
        );
        assert!(foreign(
            "GET /socket.io/?EIO=3&transport=polling&sid=a HTTP/1.1",
            SAME
        ));
        assert!(foreign(
            "GET /socket.io/?EIO=4&transport=websocket&sid=a HTTP/1.1",
            SAME
        ));
        assert!(
            foreign(
                "GET /socket.io/?EIO=4&transport=polling&sid=a%20 HTTP/1.1",
                SAME
            ),
            "an escape"
        );
        assert!(foreign(
            GET,
            "Origin: https://other.example\r\nAccept-Encoding: gzip\r\n"
        ));
        assert!(foreign(GET, "Accept-Encoding: gzip\r\n"), "no origin");
        assert!(
            foreign(GET, &format!("{SAME}Origin: https://example.com\r\n")),
            "twice"
        );
        assert!(!foreign(GET, &format!("{SAME}User-Agent: curl\r\n")));
        let explorer = "User-Agent: Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0)\r\n";
        assert!(foreign(GET, &format!("{SAME}{explorer}")));
        assert!(foreign(GET, &format!("{SAME}Connection: close\r\n")));
        assert!(foreign(
            GET,
            &format!("{SAME}Transfer-Encoding: chunked\r\n")
        ));
        assert!(!foreign(GET, &format!("{SAME}Connection: keep-alive\r\n")));
        assert!(foreign("garbage\r\n", ""));
        let no_host = format!("{GET}\r\n{SAME}\r\n").into_bytes();
        assert_eq!(parse(&no_host, &terms()), Parsed::Foreign, "no Host");
        assert!(foreign(GET, &format!("{SAME}Host: y\r\n")), "two Hosts");
    }

    /// Every prefix of a request, and every one-byte change of it, reads as something (no panic),
    /// and what is served has its head within the bytes read.
    #[test]
    fn any_bytes_read_as_a_request_partial_or_foreign() {
        let post = "POST /socket.io/?EIO=4&transport=polling&sid=a HTTP/1.1";
        let requests = [
            request(GET, SAME),
            request(post, &format!("{SAME}Content-Length: 9\r\n")),
        ];
        for bytes in &requests {
            for end in 0..=bytes.len() {
                if let Parsed::Request(request) = parse(&bytes[..end], &terms()) {
                    assert!(request.head_len <= end);
                }
            }
            for at in 0..bytes.len() {
                for byte in [
                    0, b'\r', b'\n', b' ', b'?', b'%', b'=', b'&', b':', 0x80, 0xff,
                ] {
                    let mut changed = bytes.clone();
                    changed[at] = byte;
                    if let Parsed::Request(request) = parse(&changed, &terms()) {
                        assert!(request.head_len <= changed.len());
                        assert!(request.body_len <= terms().max_body);
                    }
                }
            }
        }
    }

    #[test]
    fn headers_without_a_term_may_be_anything() {
        let terms = PollingTerms {
            origin: HeaderTerm::Any,
            accept_encoding: HeaderTerm::Any,
            ..terms()
        };
        for headers in ["", "Origin: https://a.example\r\nAccept-Encoding: br\r\n"] {
            let bytes = request(GET, headers);
            assert!(
                matches!(parse(&bytes, &terms), Parsed::Request(_)),
                "{headers}"
            );
        }
    }

    #[test]
    fn answers_repeat_all_but_the_per_answer_headers() {
        let node = "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://example.com\r\n\
                    Content-Type: text/html\r\nContent-Length: 2\r\ncache-control: no-store\r\n\
                    Date: Sun, 06 Dec 2026 22:30:00 GMT\r\nConnection: keep-alive\r\n\
                    Keep-Alive: timeout=5\r\n\r\n";
        assert_eq!(
            PollingTerms::repeated_headers(node),
            "Access-Control-Allow-Origin: https://example.com\r\ncache-control: no-store\r\n\
             Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
        );
    }
}
