//! Two nodes over a real redis-server (started here, on a free loopback port), each serving a
//! `SocketIo` whose sessions are polling ones: a broadcast crosses from one node's Rust to the
//! other's sockets with nothing queued for JavaScript.
use super::*;
use crate::engine::config::EngineConfig;
use crate::engine::session::PollReply;
use crate::engine::SessionHandle;
use crate::io::event::IoEvent;
use crate::io::IoConfig;
use crate::protocol::socketio_packet::PacketType;
use crate::protocol::Revision;
use std::process::{Child, Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

struct RedisServer {
    child: Child,
    url: String,
}

impl RedisServer {
    async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    async fn start_on(port: u16) -> Self {
        Self::start_with(port, &[]).await
    }

    async fn start_with(port: u16, extra: &[&str]) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _gone = self.child.kill();
        let _reaped = self.child.wait();
    }
}

struct Node {
    io: Arc<SocketIo>,
    streams: Arc<StreamsNode>,
}

async fn node(redis: &RedisServer, uid: &str, recovery: bool) -> Node {
    let io = Arc::new(SocketIo::new(
        IoConfig {
            engine: EngineConfig::default(),
            recovery: None,
            parser: crate::io::parser::Parser::Default,
        },
        Box::new(|| {}),
        Handle::current(),
    ));
    let options = StreamsOptions {
        url: redis.url.clone(),
        block_time: Duration::from_millis(200),
        ..StreamsOptions::default()
    };
    let streams =
        StreamsNode::start(options, Box::new(|| {}), Handle::current()).expect("a valid URL");
    streams.register("/", uid);
    streams.serve(Arc::clone(&io), "/", recovery);
    tokio::time::timeout(Duration::from_secs(10), streams.ready())
        .await
        .expect("connected in time")
        .expect("connected");
    Node { io, streams }
}

/// A polling session of `node` connected as socket `id` in `rooms`, its GET parked.
fn socket(node: &Node, id: &str, rooms: &[&str]) -> SessionHandle {
    let engine = node.io.engine();
    let session = engine.open_polling(id, Revision::V4);
    assert!(matches!(engine.poll(id), Ok(PollReply::Now(_))));
    assert!(matches!(engine.poll(id), Ok(PollReply::Waiting)));
    let nsp = node.io.namespace("/");
    nsp.connect(id, session);
    let rooms: Vec<String> = rooms.iter().map(|room| room.to_string()).collect();
    nsp.join(id, &rooms);
    session
}

/// The next poll answer of `node`, whichever thread released it.
async fn answer(node: &Node) -> (SessionHandle, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(answer) = node.io.clients().take_answers().pop() {
            return answer;
        }
        for event in node.io.clients().drain() {
            if let IoEvent::PollAnswer { session, body } = event {
                return (session, body);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn broadcast(from: &Node, uid: &str, rooms: &[&str], data: &str) {
    let rooms: Vec<String> = rooms.iter().map(|room| room.to_string()).collect();
    let entry_data = entry::broadcast_data("/", data, &rooms, &[], "{}");
    let packet = OutgoingPacket::new("/", PacketType::Event, data);
    from.streams
        .broadcast(uid, entry_data, rooms, Vec::new(), packet);
}

#[tokio::test]
async fn a_broadcast_crosses_nodes_in_rust_with_its_offset() {
    let redis = RedisServer::start().await;
    let a = node(&redis, "node-a", true).await;
    let b = node(&redis, "node-b", true).await;
    let local = socket(&a, "local", &["room"]);
    let remote = socket(&b, "remote", &["room"]);
    let _elsewhere = socket(&b, "elsewhere", &["other"]);

    broadcast(&a, "node-a", &["room"], r#"["news",1]"#);
    let (session, body) = answer(&b).await;
    assert_eq!(session, remote);
    let offset = body
        .strip_prefix(r#"42["news",1,""#)
        .and_then(|rest| rest.strip_suffix(r#""]"#))
        .unwrap_or_else(|| panic!("unexpected body {body}"));
    assert!(
        offset
            .split_once('-')
            .is_some_and(|(ms, seq)| ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok()),
        "the stream id is the offset: {offset}"
    );
    assert_eq!(
        answer(&a).await,
        (local, format!(r#"42["news",1,"{offset}"]"#)),
        "the sender's own socket gets the same offset"
    );
    assert!(
        b.streams.drain().is_empty(),
        "nothing for JS on the receiving node"
    );
    assert!(
        a.streams.drain().is_empty(),
        "a node ignores its own entries"
    );
}

#[tokio::test]
async fn other_messages_are_left_to_javascript_in_order() {
    let redis = RedisServer::start().await;
    let a = node(&redis, "node-a", false).await;
    let b = node(&redis, "node-b", false).await;
    let remote = socket(&b, "remote", &[]);
    // SOCKETS_JOIN, then a broadcast: the second is delivered in Rust, the first reaches JS.
    let id = a
        .streams
        .publish(
            "node-a",
            "/",
            4,
            Some(r#"{"opts":{"rooms":[],"except":[]},"rooms":["r"]}"#.into()),
        )
        .await
        .expect("appended");
    broadcast(&a, "node-a", &[], r#"["after"]"#);
    assert_eq!(
        answer(&b).await,
        (remote, r#"42["after"]"#.to_owned()),
        "no offset without recovery"
    );
    // Until JS takes the entry, no id at or after it is the newest: a session persisted now
    // must not resume past it.
    assert_eq!(b.streams.newest_offset("/"), None);
    let events = b.streams.drain();
    let newest = b
        .streams
        .newest_offset("/")
        .expect("seen once JS took the entry");
    assert!(
        entry::offset_number(&newest) > entry::offset_number(&id),
        "the broadcast after it is the newest: {newest}"
    );
    let [ClusterEvent::Entry(entry)] = events.as_slice() else {
        panic!("one entry for JS, got {events:?}");
    };
    assert_eq!(
        (entry.id.as_str(), entry.kind, entry.uid.as_str()),
        (id.as_str(), 4, "node-a")
    );
}

/// What `node`'s socket `id` (session `session`, its GET parked) received until it has `count`
/// packets: each packet's second argument and the stream offset appended after it. Poll answers
/// released for other sessions meanwhile are kept in `others`.
async fn packets(
    node: &Node,
    (id, session): (&str, SessionHandle),
    count: usize,
    others: &mut Vec<(SessionHandle, String)>,
) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    let mut parked = true;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: {} of {count} packets within 10 s",
            got.len()
        );
        let body =
            if parked {
                others.extend(node.io.clients().take_answers());
                others.extend(node.io.clients().drain().into_iter().filter_map(
                    |event| match event {
                        IoEvent::PollAnswer { session, body } => Some((session, body)),
                        _ => None,
                    },
                ));
                let Some(at) = others.iter().position(|(to, _)| *to == session) else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                others.remove(at).1
            } else {
                match node.io.engine().poll(id) {
                    Ok(PollReply::Now(body)) => body,
                    _ => {
                        parked = true;
                        continue;
                    }
                }
            };
        parked = false;
        for packet in body.split('\u{1e}') {
            let args: serde_json::Value = packet
                .strip_prefix("42")
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_else(|| panic!("{id}: not an event: {packet}"));
            let seq = args[1].as_u64().expect("a sequence number");
            let offset = args[2].as_str().expect("an offset").to_owned();
            got.push((seq, offset));
        }
    }
    got
}

#[tokio::test]
async fn runs_of_broadcasts_to_one_audience_arrive_in_order_with_the_last_offset_marked() {
    let redis = RedisServer::start().await;
    let a = node(&redis, "node-a", true).await;
    let b = node(&redis, "node-b", true).await;
    let sockets = [
        ("in-r1", socket(&b, "in-r1", &["r1"])),
        ("in-r2", socket(&b, "in-r2", &["r2"])),
        ("in-none", socket(&b, "in-none", &[])),
    ];
    // Made in one go, so that B reads them in batches: runs of 4 to r1, 4 to r2 and 2 to all.
    let audience = |seq: u64| match seq % 10 {
        0..=3 => vec!["r1"],
        4..=7 => vec!["r2"],
        _ => vec![],
    };
    for seq in 0..60 {
        broadcast(&a, "node-a", &audience(seq), &format!(r#"["m",{seq}]"#));
    }
    let nsp = b.io.namespace("/");
    let mut others = Vec::new();
    let mut last_offset = None;
    for (id, session) in sockets {
        let room = id.strip_prefix("in-").expect("a room");
        let expected: Vec<u64> = (0..60)
            .filter(|&seq| {
                let rooms = audience(seq);
                rooms.is_empty() || rooms.contains(&room)
            })
            .collect();
        let got = packets(&b, (id, session), expected.len(), &mut others).await;
        let order: Vec<u64> = got.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(
            order, expected,
            "{id}: every broadcast for it, in stream order"
        );
        let (seq, last) = got.last().expect("packets");
        if *seq == 59 {
            last_offset = Some(last.clone());
        }
        assert_eq!(
            Some(nsp.last_stored_offset(id)),
            entry::offset_number(last),
            "{id}: marked with the offset of the last broadcast it got"
        );
    }
    assert!(b.streams.drain().is_empty(), "nothing for JS");
    // Recorded once the runs were delivered: the newest id is the last broadcast's.
    let last = last_offset.expect("in-none got the last broadcast");
    assert_eq!(b.streams.newest_offset("/"), Some(last));
}

#[tokio::test]
async fn reading_resumes_after_redis_restarts() {
    let redis = RedisServer::start().await;
    let port: u16 = redis
        .url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port");
    let a = node(&redis, "node-a", false).await;
    let b = node(&redis, "node-b", false).await;
    let remote = socket(&b, "remote", &[]);
    drop(redis);
    let restarted = RedisServer::start_on(port).await;
    // Until both readers are back, a broadcast could be appended before B reads again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        broadcast(&a, "node-a", &[], r#"["again"]"#);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let delivered = b.io.clients().drain().into_iter().any(|event| {
            matches!(event, IoEvent::PollAnswer { session, ref body } if session == remote && body == r#"42["again"]"#)
        }) || b.io.clients().take_answers().iter().any(|(session, _)| *session == remote);
        if delivered {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery after the restart"
        );
    }
    drop(restarted);
}

#[tokio::test]
async fn broadcasts_reach_the_stream_in_the_order_they_were_made() {
    const COUNT: usize = 2_000;
    let redis = RedisServer::start().await;
    let a = node(&redis, "node-a", false).await;
    // Made in one go, as a JS loop of `io.emit` does: they all wait to be appended at once.
    for seq in 0..COUNT {
        broadcast(&a, "node-a", &[], &format!(r#"["m",{seq}]"#));
    }
    let command = |args: &[&str]| {
        a.streams
            .command(args.iter().map(|arg| arg.as_bytes().to_vec()).collect())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while command(&["XLEN", "socket.io"]).await.expect("XLEN") != redis::Value::Int(COUNT as i64) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all appended within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let entries = reply_to_json(
        &command(&["XRANGE", "socket.io", "-", "+"])
            .await
            .expect("XRANGE"),
    );
    let order: Vec<u64> = entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            let fields = entry[1].as_array().expect("fields");
            let data = fields
                .chunks(2)
                .find(|pair| pair[0] == "data")
                .and_then(|pair| pair[1].as_str())
                .expect("a data field");
            let data: serde_json::Value = serde_json::from_str(data).expect("JSON data");
            data["packet"]["data"][1]
                .as_u64()
                .expect("a sequence number")
        })
        .collect();
    let expected: Vec<u64> = (0..COUNT as u64).collect();
    assert!(
        order == expected,
        "stream order differs from broadcast order first at index {:?}",
        order
            .iter()
            .zip(&expected)
            .position(|(got, want)| got != want)
    );
}

#[tokio::test]
async fn a_redis_cluster_node_is_refused_with_a_clear_error() {
    let config = std::env::temp_dir().join(format!("socket-io-rs-cluster-{}.conf", free_port()));
    let config = config.to_string_lossy().into_owned();
    let redis = RedisServer::start_with(
        free_port(),
        &["--cluster-enabled", "yes", "--cluster-config-file", &config],
    )
    .await;
    let options = StreamsOptions {
        url: redis.url.clone(),
        ..StreamsOptions::default()
    };
    let node =
        StreamsNode::start(options, Box::new(|| {}), Handle::current()).expect("a valid URL");
    let refused = tokio::time::timeout(Duration::from_secs(10), node.ready())
        .await
        .expect("an answer in time");
    let _removed = std::fs::remove_file(&config);
    let err = refused.expect_err("a cluster node is refused");
    assert!(
        err.to_string().contains("Redis Cluster is not supported"),
        "{err}"
    );
}
