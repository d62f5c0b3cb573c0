//! The engine over a real loopback WebSocket: when what `send_to` queues leaves, and in what order.
//! The test plays Node's part (it hands over an accepted connection with its `101` response) and
//! reads the other end with tungstenite as a client.
use super::*;
use crate::protocol::engine_packet::TextMessage;
use futures_util::StreamExt;
use std::os::fd::{FromRawFd, RawFd};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::WebSocketStream;

/// How long a frame may take to arrive before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

struct Quiet;

impl EngineHandler for Quiet {
    fn on_message(&self, _: SessionHandle, _: Message) {}
    fn on_upgrading(&self, _: SessionHandle) {}
    fn on_upgrade(&self, _: SessionHandle) {}
    fn on_close(&self, _: SessionHandle, _: CloseReason) {}
    fn on_connection_closed(&self, _: handler::ConnectionId) {}
    fn on_connection_handed_back(&self, _: handler::ConnectionId, _: RawFd, _: Vec<u8>) {}
    fn on_poll_answer(&self, _: SessionHandle, _: String) {}
}

/// Keeps what a polling connection tells its owner: the messages of its POSTs, and a hand-back.
#[derive(Default)]
struct Owner {
    messages: Mutex<Vec<String>>,
    handed_back: Mutex<Option<(RawFd, Vec<u8>)>>,
    news: Notify,
}

impl EngineHandler for Owner {
    fn on_message(&self, _: SessionHandle, message: Message) {
        if let Message::Text(text) = message {
            self.messages.lock().push(text.data().to_owned());
            self.news.notify_one();
        }
    }
    fn on_upgrading(&self, _: SessionHandle) {}
    fn on_upgrade(&self, _: SessionHandle) {}
    fn on_close(&self, _: SessionHandle, _: CloseReason) {}
    fn on_connection_closed(&self, _: handler::ConnectionId) {}
    fn on_connection_handed_back(&self, _: handler::ConnectionId, fd: RawFd, read: Vec<u8>) {
        *self.handed_back.lock() = Some((fd, read));
        self.news.notify_one();
    }
    fn on_poll_answer(&self, _: SessionHandle, _: String) {}
}

type Client = WebSocketStream<tokio::net::TcpStream>;

/// A WebSocket session, and its client past the `101` response and the open packet.
async fn websocket_session() -> (Arc<Engine>, SessionHandle, Client) {
    let engine = Engine::new(EngineConfig::default(), Arc::new(Quiet), Handle::current());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let address = listener.local_addr().expect("has an address");
    let mut client = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let (accepted, _) = listener.accept().expect("accepts");
    let handoff = WebSocketHandoff {
        stream: stream::HandedStream::Tcp(accepted),
        head: Vec::new(),
        response: b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec(),
        deflate_threshold: None,
        connection: 1,
    };
    let handle = engine.open_websocket(handoff, "sid", Revision::V4);
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let byte = tokio::time::timeout(PATIENCE, client.read_u8())
            .await
            .expect("the 101 response in time")
            .expect("reads");
        response.push(byte);
    }
    let mut client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    let open = next_text(&mut client).await;
    assert!(open.starts_with("0{\"sid\":\"sid\""), "{open}");
    (engine, handle, client)
}

async fn next_text(client: &mut Client) -> String {
    match tokio::time::timeout(PATIENCE, client.next()).await {
        Ok(Some(Ok(Frame::Text(text)))) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn numbered(n: usize) -> [Message; 1] {
    [Message::Text(TextMessage::new(&n.to_string()))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn closing_all_ends_every_session_and_its_connection() {
    let (engine, handle, mut client) = websocket_session().await;
    engine.close_all();
    assert!(engine.session("sid").is_none());
    assert!(engine.session_by_handle(handle).is_none());
    // A WebSocket ends with its close frame, as upstream's forced close ends it.
    match tokio::time::timeout(PATIENCE, client.next()).await {
        Ok(None | Some(Err(_)) | Some(Ok(Frame::Close(_)))) => {}
        Ok(Some(Ok(frame))) => panic!("expected the end, got {frame:?}"),
        Err(_) => panic!("the connection did not end in time"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_turn_that_queues_much_starts_writing_before_its_flush_and_keeps_the_order() {
    let (engine, handle, mut client) = websocket_session().await;
    let count = EARLY_FLUSH_MESSAGES * 3 + 5;
    for n in 0..count {
        assert!(engine.send_to(handle, &Arc::from(numbered(n))));
    }
    // No flush yet: what arrives was written on an early one.
    for n in 0..EARLY_FLUSH_MESSAGES * 3 {
        assert_eq!(next_text(&mut client).await, format!("4{n}"));
    }
    engine.flush();
    for n in EARLY_FLUSH_MESSAGES * 3..count {
        assert_eq!(next_text(&mut client).await, format!("4{n}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn large_and_small_messages_arrive_whole_and_in_order() {
    let (engine, handle, mut client) = websocket_session().await;
    let sizes = [10, 100_000, 3, 5000, 70_000, 1];
    let bodies: Vec<String> = sizes
        .iter()
        .enumerate()
        .map(|(k, &size)| char::from(b'a' + k as u8).to_string().repeat(size))
        .collect();
    for body in &bodies {
        assert!(engine.send_to(handle, &Arc::from([Message::Text(TextMessage::new(body))])));
    }
    engine.flush();
    for body in &bodies {
        assert!(next_text(&mut client).await == format!("4{body}"));
    }
}

/// Every idle connection's memory is mostly its task: the future of `websocket::run`, which holds
/// the WebSocket and the heartbeat across the read loop. Whatever a connection needs only once
/// (the handshake, the close) or rarely (a write, an upgrade, a wait for a pong) is boxed while it
/// runs, so that its room is not carried by every idle connection (3.9 KB before, 1.0 KB after).
#[tokio::test]
async fn an_idle_connections_task_stays_small() {
    let engine = Engine::new(EngineConfig::default(), Arc::new(Quiet), Handle::current());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let _client = std::net::TcpStream::connect(listener.local_addr().expect("has an address"))
        .expect("connects");
    let (accepted, _) = listener.accept().expect("accepts");
    let handoff = WebSocketHandoff {
        stream: stream::HandedStream::Tcp(accepted),
        head: Vec::new(),
        response: Vec::new(),
        deflate_threshold: None,
        connection: 1,
    };
    let outbox = Outbox::new();
    let session = engine.register(
        Arc::from("sid"),
        Revision::V4,
        SessionState::WebSocket(Arc::clone(&outbox)),
    );
    let lease = ConnectionLease::new(&engine.handler, 1);
    let task = websocket::run(Arc::clone(&engine), session, handoff, outbox, false, lease);
    let size = std::mem::size_of_val(&task);
    assert!(size <= 960, "the connection task takes {size} bytes");
}

/// Reads one HTTP answer (Content-Length framed) and returns its head and body.
async fn http_answer(client: &mut tokio::net::TcpStream) -> (String, String) {
    let mut read = Vec::new();
    loop {
        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(read[..end + 4].to_vec()).expect("a text head");
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("Content-Length: "))
                .and_then(|n| n.parse().ok())
                .expect("a Content-Length");
            if read.len() >= end + 4 + length {
                let body = String::from_utf8(read[end + 4..end + 4 + length].to_vec());
                return (head, body.expect("a text body"));
            }
        }
        let mut chunk = [0; 4096];
        let n = tokio::time::timeout(PATIENCE, client.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("reads");
        assert!(n > 0, "the connection closed before its answer");
        read.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_polling_connection_answers_its_requests_and_hands_back_the_others() {
    let owner = Arc::new(Owner::default());
    let engine = Engine::new(EngineConfig::default(), owner.clone(), Handle::current());
    let handle = engine.open_polling("s1", Revision::V4);
    assert!(matches!(engine.poll("s1"), Ok(PollReply::Now(open)) if open.starts_with("0{")));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let mut client = tokio::net::TcpStream::connect(listener.local_addr().expect("an address"))
        .await
        .expect("connects");
    let (accepted, _) = listener.accept().expect("accepts");
    engine.take_polling_connection(PollingHandoff {
        stream: accepted,
        connection: 7,
        terms: polling_connection::PollingTerms {
            path: "/socket.io/".to_owned(),
            origin: polling_connection::HeaderTerm::Any,
            accept_encoding: polling_connection::HeaderTerm::Any,
            headers: "Connection: keep-alive\r\n".to_owned(),
            compression: None,
            keep_alive: None,
            max_body: 1000,
        },
    });
    let target = "/socket.io/?EIO=4&transport=polling&sid=s1";

    // A GET is answered with the session's next packet, whether it waited for it or not.
    let get = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    client.write_all(get.as_bytes()).await.expect("writes");
    assert!(engine.send_to(handle, &Arc::from(numbered(1))));
    let (head, body) = http_answer(&mut client).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    assert!(head.contains("\r\nConnection: keep-alive\r\n"), "{head}");
    assert_eq!(body, "41");

    // A POST's packets reach the engine, and the POST is answered "ok".
    let post = format!("POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n4a\x1e4bcd");
    client.write_all(post.as_bytes()).await.expect("writes");
    let (head, body) = http_answer(&mut client).await;
    assert!(head.contains("Content-Type: text/html\r\n"), "{head}");
    assert_eq!(body, "ok");
    assert_eq!(*owner.messages.lock(), ["a", "bcd"]);

    // Anything else goes back with what was read of it, and the connection with it.
    let other = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    client.write_all(other).await.expect("writes");
    let (fd, read) = loop {
        let news = owner.news.notified();
        if let Some(handed_back) = owner.handed_back.lock().take() {
            break handed_back;
        }
        tokio::time::timeout(PATIENCE, news)
            .await
            .expect("a hand-back in time");
    };
    assert_eq!(read, other);
    // SAFETY: the hand-back passed the descriptor's ownership on; this test is its owner now.
    let mut returned = std::net::TcpStream::from(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
    std::io::Write::write_all(&mut returned, b"HTTP/1.1 204 No Content\r\n\r\n").expect("writes");
    let mut answer = [0; 25];
    client
        .read_exact(&mut answer)
        .await
        .expect("the answer through the returned descriptor");
    assert_eq!(&answer, b"HTTP/1.1 204 No Content\r\n");
}
