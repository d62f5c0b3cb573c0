//! The socket.io layer driven as the JS API drives it, over polling sessions (no network): each
//! session parks a GET, and what a send releases comes back from `Clients::take_answers`.
use super::event::IoEvent;
use super::packet::{OutgoingPacket, StoredAs};
use super::*;
use crate::engine::session::PollReply;
use crate::protocol::socketio_packet::PacketType;
use crate::protocol::Revision;
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

/// A server whose sessions are polling ones, known by their handles.
struct Harness {
    io: SocketIo,
    sids: RefCell<BTreeMap<SessionHandle, String>>,
}

impl std::ops::Deref for Harness {
    type Target = SocketIo;
    fn deref(&self) -> &SocketIo {
        &self.io
    }
}

fn server(recovery: Option<Retention>) -> Harness {
    server_with(recovery, Parser::Default)
}

fn server_with(recovery: Option<Retention>, parser: Parser) -> Harness {
    let io = SocketIo::new(
        IoConfig {
            engine: EngineConfig::default(),
            recovery,
            parser,
        },
        Box::new(|| {}),
        Handle::current(),
    );
    Harness {
        io,
        sids: RefCell::default(),
    }
}

/// Opens a polling session named `sid` whose next answer waits for a send.
fn connect(io: &Harness, sid: &str) -> SessionHandle {
    let handle = io.engine().open_polling(sid, Revision::V4);
    assert!(
        matches!(io.engine().poll(sid), Ok(PollReply::Now(body)) if body.starts_with("0{")),
        "the first GET carries the handshake"
    );
    assert!(matches!(io.engine().poll(sid), Ok(PollReply::Waiting)));
    io.sids.borrow_mut().insert(handle, sid.to_owned());
    handle
}

/// Everything sent to each session since the last call, by session: the body its parked GET was
/// answered with and whatever waited for the next GET, which is then parked again.
fn answers(io: &Harness) -> BTreeMap<SessionHandle, String> {
    io.clients()
        .take_answers()
        .into_iter()
        .map(|(session, mut body)| {
            let sid = io.sids.borrow()[&session].clone();
            while let Ok(PollReply::Now(more)) = io.engine().poll(&sid) {
                body.push('\x1e');
                body.push_str(&more);
            }
            (session, body)
        })
        .collect()
}

fn event(nsp: &str, data: &str) -> OutgoingPacket {
    OutgoingPacket::new(nsp, PacketType::Event, data)
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

#[tokio::test]
async fn a_broadcast_reaches_the_rooms_minus_the_excepted_each_once() {
    let io = server(None);
    let nsp = io.namespace("/");
    let a = connect(&io, "a");
    let b = connect(&io, "b");
    let c = connect(&io, "c");
    let d = connect(&io, "d");
    for (id, session, rooms) in [
        ("a", a, &["red"][..]),
        ("b", b, &["red", "blue"][..]),
        ("c", c, &["blue"][..]),
        ("d", d, &[][..]),
    ] {
        nsp.connect(id, session);
        nsp.join(id, &strings(&[id]));
        nsp.join(id, &strings(rooms));
    }

    assert_eq!(
        nsp.broadcast(&strings(&["red", "blue"]), &[], event("/", "[\"x\"]"))
            .expect("framed"),
        3
    );
    let got = answers(&io);
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), vec![a, b, c]);
    assert!(got.values().all(|body| body == "42[\"x\"]"), "{got:?}");

    nsp.broadcast(
        &strings(&["red", "blue"]),
        &strings(&["blue"]),
        event("/", "[1]"),
    )
    .expect("framed");
    assert_eq!(answers(&io).keys().copied().collect::<Vec<_>>(), vec![a]);
    nsp.broadcast(&[], &strings(&["red"]), event("/", "[2]"))
        .expect("framed");
    assert_eq!(answers(&io).keys().copied().collect::<Vec<_>>(), vec![c, d]);

    nsp.leave("b", &strings(&["red"]));
    nsp.broadcast(&strings(&["red"]), &[], event("/", "[3]"))
        .expect("framed");
    assert_eq!(answers(&io), BTreeMap::from([(a, "42[3]".to_owned())]));
}

#[tokio::test]
async fn namespaces_and_disconnected_sockets_are_apart() {
    let io = server(None);
    let one = connect(&io, "one");
    let two = connect(&io, "two");
    io.namespace("/").connect("s", one);
    io.namespace("/chat").connect("s", two);
    io.namespace("/chat").join("s", &strings(&["room"]));
    io.namespace("/chat")
        .broadcast(&strings(&["room"]), &[], event("/chat", "[\"hi\"]"))
        .expect("framed");
    assert_eq!(
        answers(&io),
        BTreeMap::from([(two, "42/chat,[\"hi\"]".to_owned())])
    );
    io.namespace("/").disconnect("s");
    assert_eq!(
        io.namespace("/")
            .broadcast(&[], &[], event("/", "[]"))
            .expect("framed"),
        0
    );
}

#[tokio::test]
async fn attachments_follow_their_packet_as_binary_messages() {
    let io = server(None);
    let session = connect(&io, "bin");
    let mut packet = OutgoingPacket::new(
        "/",
        PacketType::BinaryEvent,
        "[\"file\",{\"_placeholder\":true,\"num\":0}]",
    );
    packet.attachments = vec![Bytes::from_static(b"\x01\x02\x03")];
    packet.ack_id = Some(4);
    io.send_packet(&[session], packet).expect("framed");
    assert_eq!(
        answers(&io),
        BTreeMap::from([(
            session,
            "451-4[\"file\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID".to_owned()
        )])
    );
}

fn stored(offset: u64, rooms: &[&str], except: &[&str], data: &str) -> OutgoingPacket {
    let mut packet = event("/", data);
    packet.stored = Some(StoredAs {
        offset,
        rooms: strings(rooms),
        except: strings(except),
    });
    packet
}

#[tokio::test]
async fn broadcasts_sent_together_reach_each_recipient_in_order_and_are_each_stored() {
    let io = server(Some(KEEP));
    let nsp = io.namespace("/");
    let red = connect(&io, "red");
    let blue = connect(&io, "blue");
    for (id, session) in [("red", red), ("blue", blue)] {
        nsp.connect(id, session);
        nsp.join(id, &strings(&[id]));
    }
    let recipients = nsp
        .broadcast_all(
            &strings(&["red"]),
            &[],
            vec![
                stored(1, &["red"], &[], "[1]"),
                event("/", "[\"not stored\"]"),
                stored(2, &["red"], &[], "[2]"),
                event("/", "[3]"),
            ],
        )
        .expect("framed");
    assert_eq!(recipients, 1);
    assert_eq!(
        answers(&io),
        BTreeMap::from([(
            red,
            "42[1]\x1e42[\"not stored\"]\x1e42[2]\x1e42[3]".to_owned()
        )])
    );
    assert_eq!(
        nsp.last_stored_offset("red"),
        2,
        "the last stored packet of those sent"
    );
    assert_eq!(nsp.last_stored_offset("blue"), 0);
    let back = connect(&io, "back");
    assert_eq!(nsp.replay(back, 1, &strings(&["red"])), Some(2));
    assert_eq!(answers(&io), BTreeMap::from([(back, "42[2]".to_owned())]));
}

const KEEP: Retention = Retention {
    max_age: Duration::from_secs(60),
    max_bytes: 1 << 20,
};

#[tokio::test]
async fn a_restored_session_gets_what_its_rooms_missed_in_order() {
    let io = server(Some(KEEP));
    let nsp = io.namespace("/");
    nsp.broadcast(&[], &[], stored(1, &[], &[], "[\"before\"]"))
        .expect("framed");
    nsp.broadcast(
        &strings(&["red"]),
        &[],
        stored(2, &["red"], &[], "[\"red\"]"),
    )
    .expect("framed");
    nsp.broadcast(
        &strings(&["blue"]),
        &[],
        stored(3, &["blue"], &[], "[\"blue\"]"),
    )
    .expect("framed");
    nsp.broadcast(
        &[],
        &strings(&["red"]),
        stored(4, &[], &["red"], "[\"not red\"]"),
    )
    .expect("framed");
    nsp.broadcast(&[], &[], stored(5, &[], &[], "[\"all\"]"))
        .expect("framed");

    assert!(nsp.recoverable(1));
    assert!(!nsp.recoverable(6), "an offset never issued");
    assert!(
        io.namespace("/other").recoverable(1),
        "offsets are one sequence for the server: a client may hold one from another namespace"
    );

    let back = connect(&io, "back");
    assert_eq!(nsp.replay(back, 1, &strings(&["id", "red"])), Some(5));
    assert_eq!(
        answers(&io),
        BTreeMap::from([(back, "42[\"red\"]\x1e42[\"all\"]".to_owned())])
    );
    let quiet = connect(&io, "quiet");
    assert_eq!(
        nsp.replay(quiet, 5, &strings(&["id"])),
        Some(5),
        "nothing missed"
    );
    assert!(answers(&io).is_empty());
}

#[tokio::test]
async fn packets_past_their_age_or_the_byte_budget_end_recovery() {
    let io = server(Some(Retention {
        max_age: Duration::from_millis(20),
        max_bytes: 1 << 20,
    }));
    let nsp = io.namespace("/");
    nsp.broadcast(&[], &[], stored(1, &[], &[], "[1]"))
        .expect("framed");
    nsp.broadcast(&[], &[], stored(2, &[], &[], "[2]"))
        .expect("framed");
    assert!(nsp.recoverable(1));
    std::thread::sleep(Duration::from_millis(30));
    assert!(!nsp.recoverable(1), "packet 2 aged out");
    assert_eq!(nsp.replay(connect(&io, "late"), 1, &[]), None);

    let io = server(Some(Retention {
        max_age: Duration::from_secs(60),
        max_bytes: 300,
    }));
    let nsp = io.namespace("/");
    let big = format!("[\"{}\"]", "x".repeat(200));
    for offset in 1..=3 {
        nsp.broadcast(&[], &[], stored(offset, &[], &[], &big))
            .expect("framed");
    }
    assert!(!nsp.recoverable(1), "the budget holds one packet");
    assert!(nsp.recoverable(2));
    assert_eq!(nsp.replay(connect(&io, "c"), 2, &[]), Some(3));
}

#[tokio::test]
async fn a_restored_socket_takes_over_its_id_and_offsets_follow_it() {
    let io = server(Some(KEEP));
    let nsp = io.namespace("/");
    let stale = connect(&io, "stale");
    nsp.connect("pid", stale);
    nsp.join("pid", &strings(&["room"]));
    nsp.broadcast(&strings(&["room"]), &[], stored(1, &["room"], &[], "[1]"))
        .expect("framed");
    assert_eq!(nsp.last_stored_offset("pid"), 1);
    answers(&io);

    let restored = connect(&io, "restored");
    nsp.connect("pid", restored);
    assert_eq!(
        nsp.last_stored_offset("pid"),
        0,
        "nothing sent to the new session yet"
    );
    nsp.broadcast(&strings(&["room"]), &[], stored(2, &["room"], &[], "[2]"))
        .expect("framed");
    assert_eq!(
        answers(&io),
        BTreeMap::from([(restored, "42[2]".to_owned())]),
        "the stale session gets nothing more"
    );
    assert_eq!(nsp.last_stored_offset("pid"), 2);
}

/// A binary message in a v4 polling body: "b" and its base64.
fn polling_binary(message: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "b{}",
        base64::engine::general_purpose::STANDARD.encode(message)
    )
}

#[tokio::test]
async fn a_msgpack_server_sends_each_packet_as_one_binary_message_and_decodes_them() {
    let io = server_with(None, Parser::Msgpack);
    let session = connect(&io, "m");
    io.namespace("/").connect("s", session);
    let mut packet = event("/", "[\"hi\",{\"_placeholder\":true,\"num\":0}]");
    packet.kind = PacketType::BinaryEvent;
    packet.attachments = vec![Bytes::from_static(b"\x01")];
    io.namespace("/")
        .broadcast(&[], &[], packet)
        .expect("framed");
    // {type:2, data:["hi",<01>], nsp:"/"}, as socket.io-msgpack-parser encodes it.
    let expected = b"\x83\xa4type\x02\xa4data\x92\xa2hi\xc4\x01\x01\xa3nsp\xa1/";
    assert_eq!(
        answers(&io),
        BTreeMap::from([(session, polling_binary(expected))])
    );

    // {type:2, data:["e",<09>], nsp:"/", id:1} from the client, then the same with undefined.
    let sent = b"\x84\xa4type\x02\xa4data\x92\xa1e\xc4\x01\x09\xa3nsp\xa1/\xa2id\x01";
    let undefined = b"\x83\xa4type\x02\xa4data\x91\xd4\x00\x00\xa3nsp\xa1/";
    let body = format!("{}\x1e{}", polling_binary(sent), polling_binary(undefined));
    io.engine()
        .post("m", crate::engine::PostBody::Text(&body))
        .expect("posted");
    let events = io.clients().drain();
    let [IoEvent::SocketIoPacket { packet, .. }, IoEvent::Undecoded { message, .. }] =
        events.as_slice()
    else {
        panic!("a packet, then one for JS: {events:?}");
    };
    assert_eq!(packet.data, "[\"e\",{\"_placeholder\":true,\"num\":0}]");
    assert_eq!(packet.attachments, vec![Bytes::from_static(b"\x09")]);
    assert_eq!(packet.id, Some(1));
    assert!(matches!(message, Message::Binary(bytes) if bytes[..] == undefined[..]));
}

#[tokio::test]
async fn a_custom_parser_gets_every_message_and_sends_what_js_framed() {
    let io = server_with(None, Parser::Custom);
    let session = connect(&io, "c");
    io.engine()
        .post("c", crate::engine::PostBody::Text("4J{}"))
        .expect("posted");
    let events = io.clients().drain();
    assert!(
        matches!(events.as_slice(), [IoEvent::Undecoded { message: Message::Text(text), .. }] if text.data() == "J{}"),
        "{events:?}"
    );
    assert!(
        io.send_packet(&[session], event("/", "[]")).is_err(),
        "its packets come framed from JS"
    );
    io.send_frames(
        &[session],
        "/",
        vec![Message::Text(
            crate::protocol::engine_packet::TextMessage::new("J[]"),
        )],
        None,
    );
    assert_eq!(answers(&io), BTreeMap::from([(session, "4J[]".to_owned())]));
}
