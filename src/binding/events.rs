//! The socket.io layer's events as they cross to JavaScript: one flat array for a whole batch,
//! `EVENT_SLOTS` values per event (its `EventKind`, its session's handle as an exact f64, then the
//! kind's fields in the order below, unused slots null). lib/engine/native-server.js turns each
//! into an object tagged by `kind`; crossing as objects cost twice as much per event (every
//! property name is looked up in V8 per object), crossing flat costs one element per value.
use crate::io::event::IoEvent;
use crate::protocol::engine_packet::{Message, Packet};
use napi::bindgen_prelude::{Buffer, Either5};
use napi_derive::napi;

/// What happened; exported to JS, which reads the numbers from here only.
#[napi]
pub enum EventKind {
    /// nsp, packet type, ack id, JSON data, attachments
    SocketIoPacket,
    /// message
    ParseError,
    /// text, binary (a custom parser's message)
    Undecoded,
    /// text, binary
    Message,
    /// incoming, packet type name, data, binary
    Packet,
    Upgrading,
    Upgrade,
    /// reason, description
    Close,
    /// body
    PollAnswer,
    /// (the connection's id in the session slot)
    ConnectionClosed,
}

/// Values per event in a batch.
#[napi]
pub const EVENT_SLOTS: u32 = 7;

pub type Slot = Option<Either5<f64, String, bool, Buffer, Vec<Buffer>>>;

fn buffer(data: &[u8]) -> Slot {
    Some(Either5::D(data.to_vec().into()))
}

fn text(value: String) -> Slot {
    Some(Either5::B(value))
}

fn number(value: f64) -> Slot {
    Some(Either5::A(value))
}

/// A message as `[text, binary]`, one of them set.
fn message_slots(message: Message) -> [Slot; 2] {
    match message {
        Message::Text(data) => [text(data.data().to_owned()), None],
        Message::Binary(data) => [None, buffer(&data)],
    }
}

/// A batch of events as slots.
pub fn flatten(events: Vec<IoEvent>) -> Vec<Slot> {
    let mut batch = Vec::with_capacity(events.len() * EVENT_SLOTS as usize);
    for event in events {
        push(&mut batch, event);
    }
    batch
}

/// Appends `event`'s slots to `batch`.
fn push(batch: &mut Vec<Slot>, event: IoEvent) {
    let start = batch.len();
    let mut put = |kind: EventKind, session: u64, fields: Vec<Slot>| {
        batch.push(number(f64::from(kind as u32)));
        batch.push(number(session as f64));
        batch.extend(fields);
    };
    match event {
        IoEvent::SocketIoPacket { session, packet } => put(
            EventKind::SocketIoPacket,
            session,
            vec![
                text(packet.nsp),
                number(f64::from(packet.kind as u32)),
                packet.id.and_then(|id| number(id as f64)),
                text(packet.data),
                (!packet.attachments.is_empty()).then(|| {
                    Either5::E(
                        packet
                            .attachments
                            .iter()
                            .map(|data| data.to_vec().into())
                            .collect(),
                    )
                }),
            ],
        ),
        IoEvent::ParseError { session, message } => {
            put(EventKind::ParseError, session, vec![text(message)])
        }
        IoEvent::Undecoded { session, message } => {
            put(EventKind::Undecoded, session, message_slots(message).into())
        }
        IoEvent::Message { session, message } => {
            put(EventKind::Message, session, message_slots(message).into())
        }
        IoEvent::Packet {
            session,
            packet,
            incoming,
        } => {
            let name = text(packet.type_name().to_owned());
            let [data, binary] = match packet {
                Packet::Message(message) => message_slots(message),
                Packet::Open(json) => [text(json), None],
                Packet::Ping { probe: true } | Packet::Pong { probe: true } => {
                    [text("probe".to_owned()), None]
                }
                _ => [None, None],
            };
            put(
                EventKind::Packet,
                session,
                vec![Some(Either5::C(incoming)), name, data, binary],
            )
        }
        IoEvent::Upgrading { session } => put(EventKind::Upgrading, session, Vec::new()),
        IoEvent::Upgrade { session } => put(EventKind::Upgrade, session, Vec::new()),
        IoEvent::Close { session, reason } => put(
            EventKind::Close,
            session,
            vec![
                text(reason.as_str().to_owned()),
                reason
                    .description()
                    .map(|description| Either5::B(description.to_owned())),
            ],
        ),
        IoEvent::PollAnswer { session, body } => {
            put(EventKind::PollAnswer, session, vec![text(body)])
        }
        IoEvent::ConnectionClosed { connection } => {
            put(EventKind::ConnectionClosed, connection, Vec::new())
        }
    }
    batch.resize_with(start + EVENT_SLOTS as usize, || None);
}
