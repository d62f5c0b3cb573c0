//! The benchmark fixture (bench/server.js) written with socketioxide, the published Rust
//! socket.io server, so that bench/run.js can measure it beside upstream socket.io and
//! socket.io-rs with the same load generator.
//!
//!   socketioxide-bench [--recovery]
//!
//! Same events and conventions as bench/server.js: listens on 127.0.0.1 (ephemeral ports) and
//! prints one JSON line on stdout once ready,
//!   {"ready":true,"impl":"socketioxide","port":<socket.io port>,"control":<control port>,"pid":...}
//! and answers the same HTTP control port (/broadcast, /stats, /gc, /quit; see bench/server.js).
//! Clients join the room named by the handshake query `room`; every socket acks "echo" with what
//! it was sent; `io.emit("m", seq, pad)` or `io.to("r" + k % R).emit("m", seq, pad)` broadcast.
//!
//! Asked for something socketioxide does not have (`--recovery`: it has no connection state
//! recovery), it prints `{"unsupported":"<reason>"}` instead of the ready line and exits 0, so
//! the harness can show "n/a" with the reason rather than a number for something else.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;
use tokio::net::TcpListener;

/// Sockets connected now (what bench/server.js counts as `live`).
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Connections since start.
static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// Upstream socket.io and socket.io-rs queue a connection's outgoing packets without bound; at
/// socketioxide's default (128 packets) `emit` fails with `InternalChannelFull` as soon as a
/// burst queues more than that for one client (the burst scenario queues 1000). tokio's bounded
/// channel allocates its slots as they fill, so a high bound costs nothing while unused.
const MAX_BUFFERED_PACKETS: usize = 1 << 20;
/// Upstream's default `maxHttpBufferSize` (socketioxide's default payload limit is 100 kB).
const MAX_PAYLOAD: u64 = 1_000_000;

/// Same padding as bench/loadgen (make_pad) and bench/server.js: the alphabet rotated by `rot`.
fn make_pad(len: usize, rot: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|i| ALPHABET[(i + rot) % ALPHABET.len()] as char)
        .collect()
}

/// The value of `name` in a URL query string. The fixture's parameters (numbers, room names
/// like `r7`, `paced`) need no percent-decoding.
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

fn query_number(query: Option<&str>, name: &str, default: u64) -> u64 {
    query_param(query, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn on_connect(socket: SocketRef) {
    LIVE.fetch_add(1, Ordering::Relaxed);
    CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    if let Some(room) =
        query_param(socket.req_parts().uri.query(), "room").filter(|r| !r.is_empty())
    {
        socket.join(room.to_string());
    }
    socket.on("echo", async |Data::<Value>(x), ack: AckSender| {
        // a client that asked for no ack gets none; a client gone before the ack loses it
        let _unacked = ack.send(&x);
    });
    socket.on_disconnect(async || {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    });
}

/// `/broadcast?n=N&pad=LEN&seq0=S&rooms=R&batch=B&mode=paced|burst`, as in bench/server.js:
/// paced yields to the runtime after every B emits (bench/server.js: B emits per event-loop
/// turn), burst emits all N without yielding.
async fn broadcast(io: &SocketIo, query: Option<&str>) -> Result<Value, String> {
    let n = query_number(query, "n", 0);
    let pad_len = query_number(query, "pad", 1) as usize;
    let seq0 = query_number(query, "seq0", 0);
    let rooms = query_number(query, "rooms", 0);
    let batch = query_number(query, "batch", 10).max(1);
    let burst = query_param(query, "mode") == Some("burst");
    let pads: Vec<String> = (0..rooms.max(1) as usize)
        .map(|r| make_pad(pad_len, r))
        .collect();
    let names: Vec<String> = (0..rooms).map(|r| format!("r{r}")).collect();
    let started = std::time::Instant::now();
    for k in 0..n {
        let sent = if rooms > 0 {
            let r = (k % rooms) as usize;
            io.to(names[r].clone())
                .emit("m", &(seq0 + k / rooms, pads[r].as_str()))
                .await
        } else {
            io.emit("m", &(seq0 + k, pads[0].as_str())).await
        };
        sent.map_err(|e| format!("emit {k}: {e}"))?;
        if !burst && (k + 1) % batch == 0 {
            tokio::task::yield_now().await;
        }
    }
    Ok(json!({ "emitted": n, "ms": started.elapsed().as_secs_f64() * 1e3 }))
}

/// Resident set size in bytes, from /proc/self/status (bench/server.js reports Node's rss).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    kb * 1024
}

fn reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    res
}

async fn control(
    io: SocketIo,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let query = req.uri().query();
    Ok(match req.uri().path() {
        "/broadcast" => match broadcast(&io, query).await {
            Ok(v) => reply(StatusCode::OK, &v),
            Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "error": e })),
        },
        "/stats" => reply(
            StatusCode::OK,
            &json!({
                "live": LIVE.load(Ordering::Relaxed),
                "connections": CONNECTIONS.load(Ordering::Relaxed),
                "rss": rss_bytes(),
            }),
        ),
        // no garbage collector: nothing to run before the idle scenario reads RSS
        "/gc" => reply(StatusCode::OK, &json!({ "gc": false })),
        "/quit" => {
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                std::process::exit(0);
            });
            reply(StatusCode::OK, &json!({ "bye": true }))
        }
        _ => reply(StatusCode::NOT_FOUND, &json!({ "error": "not found" })),
    })
}

async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Accept connections until the process exits, serving each with hyper's HTTP/1.1 (with
/// upgrades, for WebSocket). An accept error (e.g. out of descriptors) pauses briefly rather than
/// spinning.
async fn serve<S, F>(listener: TcpListener, make_service: F)
where
    F: Fn() -> S,
    S: hyper::service::HttpService<Incoming> + Send + 'static,
    S::Future: Send,
    S::ResBody: Send,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("socketioxide-bench: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Node's http.Server and socket.io-rs both turn Nagle's algorithm off
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("socketioxide-bench: TCP_NODELAY: {e}");
        }
        let service = make_service();
        tokio::spawn(async move {
            // an error here is a client that went away mid-request: nothing to do
            let _closed = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    if let Some(arg) = std::env::args().nth(1) {
        if arg != "--recovery" || std::env::args().count() > 2 {
            eprintln!("socketioxide-bench: unexpected argument {arg:?} (usage: socketioxide-bench [--recovery])");
            std::process::exit(2);
        }
        println!(
            "{}",
            json!({ "unsupported": "socketioxide 0.18 has no connection state recovery" })
        );
        return Ok(());
    }

    let (svc, io) = SocketIo::builder()
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .max_payload(MAX_PAYLOAD)
        .build_svc();
    io.ns("/", on_connect);

    let (sio_listener, sio_addr) = bind().await?;
    let (control_listener, control_addr) = bind().await?;
    tokio::spawn(serve(sio_listener, move || svc.clone()));
    tokio::spawn(serve(control_listener, move || {
        let io = io.clone();
        service_fn(move |req| control(io.clone(), req))
    }));
    println!(
        "{}",
        json!({
            "ready": true,
            "impl": "socketioxide",
            "recovery": false,
            "port": sio_addr.port(),
            "control": control_addr.port(),
            "pid": std::process::id(),
        })
    );
    std::future::pending::<()>().await;
    Ok(())
}
