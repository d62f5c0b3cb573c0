//! The socket.io layer's events as JavaScript receives them: one object per event, tagged by
//! `kind` (the variant's name), with the session's handle as an exact f64.
use crate::io::event::IoEvent;
use crate::protocol::engine_packet::{Message, Packet};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

#[napi(discriminant = "kind", use_nullable = true, object_from_js = false)]
pub enum BindingEvent {
    SocketIoPacket {
        session: f64,
        nsp: String,
        packet_type: u32,
        ack_id: Option<f64>,
        /// The JSON data, unparsed.
        data: String,
        attachments: Option<Vec<Buffer>>,
    },
    ParseError {
        session: f64,
        message: String,
    },
    Undecoded {
        session: f64,
        text: Option<String>,
        binary: Option<Buffer>,
    },
    Message {
        session: f64,
        text: Option<String>,
        binary: Option<Buffer>,
    },
    Packet {
        session: f64,
        incoming: bool,
        /// Upstream's packet type name ("ping", "message", ...).
        packet_type: String,
        /// A text message's data, the handshake's JSON, or "probe".
        data: Option<String>,
        binary: Option<Buffer>,
    },
    Upgrading {
        session: f64,
    },
    Upgrade {
        session: f64,
    },
    Close {
        session: f64,
        reason: String,
        description: Option<String>,
    },
    PollAnswer {
        session: f64,
        body: String,
    },
    ConnectionClosed {
        connection: f64,
    },
}

fn buffer(data: &[u8]) -> Buffer {
    data.to_vec().into()
}

/// A message as `[text, binary]`, one of them set.
fn message_parts(message: Message) -> (Option<String>, Option<Buffer>) {
    match message {
        Message::Text(text) => (Some(text.data().to_owned()), None),
        Message::Binary(data) => (None, Some(buffer(&data))),
    }
}

impl From<IoEvent> for BindingEvent {
    fn from(event: IoEvent) -> Self {
        match event {
            IoEvent::SocketIoPacket { session, packet } => BindingEvent::SocketIoPacket {
                session: session as f64,
                nsp: packet.nsp,
                packet_type: packet.kind as u32,
                ack_id: packet.id.map(|id| id as f64),
                data: packet.data,
                attachments: (!packet.attachments.is_empty())
                    .then(|| packet.attachments.iter().map(|data| buffer(data)).collect()),
            },
            IoEvent::ParseError { session, message } => BindingEvent::ParseError {
                session: session as f64,
                message,
            },
            IoEvent::Undecoded { session, message } => {
                let (text, binary) = message_parts(message);
                BindingEvent::Undecoded {
                    session: session as f64,
                    text,
                    binary,
                }
            }
            IoEvent::Message { session, message } => {
                let (text, binary) = message_parts(message);
                BindingEvent::Message {
                    session: session as f64,
                    text,
                    binary,
                }
            }
            IoEvent::Packet {
                session,
                packet,
                incoming,
            } => {
                let packet_type = packet.type_name().to_owned();
                let (data, binary) = match packet {
                    Packet::Message(Message::Text(text)) => (Some(text.data().to_owned()), None),
                    Packet::Message(Message::Binary(data)) => (None, Some(buffer(&data))),
                    Packet::Open(json) => (Some(json), None),
                    Packet::Ping { probe: true } | Packet::Pong { probe: true } => {
                        (Some("probe".to_owned()), None)
                    }
                    _ => (None, None),
                };
                BindingEvent::Packet {
                    session: session as f64,
                    incoming,
                    packet_type,
                    data,
                    binary,
                }
            }
            IoEvent::Upgrading { session } => BindingEvent::Upgrading {
                session: session as f64,
            },
            IoEvent::Upgrade { session } => BindingEvent::Upgrade {
                session: session as f64,
            },
            IoEvent::Close { session, reason } => BindingEvent::Close {
                session: session as f64,
                reason: reason.as_str().to_owned(),
                description: reason.description().map(str::to_owned),
            },
            IoEvent::PollAnswer { session, body } => BindingEvent::PollAnswer {
                session: session as f64,
                body,
            },
            IoEvent::ConnectionClosed { connection } => BindingEvent::ConnectionClosed {
                connection: connection as f64,
            },
        }
    }
}
