//! The socket.io layer's events as they cross to JavaScript: a whole batch as three values, so
//! that crossing costs a few conversions per batch rather than one per field (crossing as objects
//! cost twice as much per event as flat slots, and flat slots cost one element each):
//! - numbers (a Float64Array): per event its `EventKind`, its session's handle (an exact f64),
//!   then the kind's fields in the order below, where a text stands as its length in UTF-16 code
//!   units (-1 for none), a binary as -2, and attachments as their count;
//! - texts: every text of the batch, one after the other;
//! - buffers: every binary of the batch, in order.
//!
//! lib/engine/native-server.js reads them back into one object per event, tagged by `kind`.
use crate::io::event::IoEvent;
use crate::protocol::engine_packet::{Message, Packet};
use napi::bindgen_prelude::{Buffer, Float64Array};
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
    /// (the connection's id in the session slot) descriptor, the bytes read (a binary)
    ConnectionHandedBack,
}

/// The length that stands for a binary (a text stands as its own length, none as -1).
const BINARY: f64 = -2.0;

/// A batch of events as it crosses: `[numbers, texts, buffers]` (see the top of this file).
pub type Batch = (Float64Array, String, Vec<Buffer>);

#[derive(Default)]
struct Packer {
    numbers: Vec<f64>,
    texts: String,
    buffers: Vec<Buffer>,
}

impl Packer {
    fn number(&mut self, value: f64) {
        self.numbers.push(value);
    }

    fn text(&mut self, value: &str) {
        let length = if value.is_ascii() {
            value.len()
        } else {
            value.encode_utf16().count()
        };
        self.numbers.push(length as f64);
        self.texts.push_str(value);
    }

    fn optional_text(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.text(value),
            None => self.numbers.push(-1.0),
        }
    }

    fn binary(&mut self, data: &[u8]) {
        self.numbers.push(BINARY);
        self.buffers.push(data.to_vec().into());
    }

    fn message(&mut self, message: &Message) {
        match message {
            Message::Text(data) => self.text(data.data()),
            Message::Binary(data) => self.binary(data),
        }
    }

    /// An event's kind and session, which come first.
    fn head(&mut self, kind: EventKind, session: u64) {
        self.number(f64::from(kind as u32));
        self.number(session as f64);
    }

    fn event(&mut self, event: IoEvent) {
        match event {
            IoEvent::SocketIoPacket { session, packet } => {
                self.head(EventKind::SocketIoPacket, session);
                self.text(&packet.nsp);
                self.number(f64::from(packet.kind as u32));
                self.number(packet.id.map_or(-1.0, |id| id as f64));
                self.text(&packet.data);
                self.number(packet.attachments.len() as f64);
                for attachment in &packet.attachments {
                    self.buffers.push(attachment.to_vec().into());
                }
            }
            IoEvent::ParseError { session, message } => {
                self.head(EventKind::ParseError, session);
                self.text(&message);
            }
            IoEvent::Undecoded { session, message } => {
                self.head(EventKind::Undecoded, session);
                self.message(&message);
            }
            IoEvent::Message { session, message } => {
                self.head(EventKind::Message, session);
                self.message(&message);
            }
            IoEvent::Packet {
                session,
                packet,
                incoming,
            } => {
                self.head(EventKind::Packet, session);
                self.number(if incoming { 1.0 } else { 0.0 });
                self.text(packet.type_name());
                match &packet {
                    Packet::Message(message) => self.message(message),
                    Packet::Open(json) => self.text(json),
                    Packet::Ping { probe: true } | Packet::Pong { probe: true } => {
                        self.text("probe")
                    }
                    _ => self.optional_text(None),
                }
            }
            IoEvent::Upgrading { session } => self.head(EventKind::Upgrading, session),
            IoEvent::Upgrade { session } => self.head(EventKind::Upgrade, session),
            IoEvent::Close { session, reason } => {
                self.head(EventKind::Close, session);
                self.text(reason.as_str());
                self.optional_text(reason.description());
            }
            IoEvent::PollAnswer { session, body } => {
                self.head(EventKind::PollAnswer, session);
                self.text(&body);
            }
            IoEvent::ConnectionClosed { connection } => {
                self.head(EventKind::ConnectionClosed, connection)
            }
            IoEvent::ConnectionHandedBack {
                connection,
                fd,
                read,
            } => {
                self.head(EventKind::ConnectionHandedBack, connection);
                self.number(f64::from(fd));
                self.binary(&read);
            }
        }
    }
}

/// A batch of events as it crosses to JS.
pub fn pack(events: Vec<IoEvent>) -> Batch {
    let mut packer = Packer::default();
    for event in events {
        packer.event(event);
    }
    (
        Float64Array::new(packer.numbers),
        packer.texts,
        packer.buffers,
    )
}
