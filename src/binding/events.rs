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
    // The kind and the session first, set once the kind's fields are appended.
    batch.extend([None, None]);
    let (kind, session) = match event {
        IoEvent::SocketIoPacket { session, packet } => {
            let attachments = (!packet.attachments.is_empty()).then(|| {
                Either5::E(
                    packet
                        .attachments
                        .iter()
                        .map(|data| data.to_vec().into())
                        .collect(),
                )
            });
            batch.extend([
                text(packet.nsp),
                number(f64::from(packet.kind as u32)),
                packet.id.and_then(|id| number(id as f64)),
                text(packet.data),
                attachments,
            ]);
            (EventKind::SocketIoPacket, session)
        }
        IoEvent::ParseError { session, message } => {
            batch.push(text(message));
            (EventKind::ParseError, session)
        }
        IoEvent::Undecoded { session, message } => {
            batch.extend(message_slots(message));
            (EventKind::Undecoded, session)
        }
        IoEvent::Message { session, message } => {
            batch.extend(message_slots(message));
            (EventKind::Message, session)
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
            batch.extend([Some(Either5::C(incoming)), name, data, binary]);
            (EventKind::Packet, session)
        }
        IoEvent::Upgrading { session } => (EventKind::Upgrading, session),
        IoEvent::Upgrade { session } => (EventKind::Upgrade, session),
        IoEvent::Close { session, reason } => {
            batch.extend([
                text(reason.as_str().to_owned()),
                reason
                    .description()
                    .map(|description| Either5::B(description.to_owned())),
            ]);
            (EventKind::Close, session)
        }
        IoEvent::PollAnswer { session, body } => {
            batch.push(text(body));
            (EventKind::PollAnswer, session)
        }
        IoEvent::ConnectionClosed { connection } => (EventKind::ConnectionClosed, connection),
    };
    batch[start] = number(f64::from(kind as u32));
    batch[start + 1] = number(session as f64);
    batch.resize_with(start + EVENT_SLOTS as usize, || None);
}
