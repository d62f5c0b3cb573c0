//! The server's `parser` option as the socket.io layer knows it: the wire format Rust decodes
//! and encodes, or none when the parser runs in JS.
use crate::protocol::engine_packet::{Message, TextMessage};
use crate::protocol::{socketio_msgpack, socketio_packet};
use bytes::Bytes;
use std::sync::Arc;
use tracing::debug;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parser {
    /// socket.io-parser: a text message, then each binary attachment as a message of its own.
    #[default]
    Default,
    /// socket.io-msgpack-parser: one binary message per packet, binary values inline.
    Msgpack,
    /// Any other parser: its `Decoder` and `Encoder` run in JS, Rust passes messages through.
    Custom,
}

/// Why a packet could not be framed.
#[derive(Debug)]
pub enum FramingError {
    Msgpack(socketio_msgpack::EncodeError),
    /// A custom parser's packets come encoded from JS.
    EncodedInJs,
}

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FramingError::Msgpack(err) => err.fmt(f),
            FramingError::EncodedInJs => f.write_str("a custom parser's packets are encoded in JS"),
        }
    }
}

impl std::error::Error for FramingError {}

/// The parts of a packet to frame: its JSON data's placeholders stand for `attachments`.
pub struct PacketParts<'a> {
    pub kind: socketio_packet::PacketType,
    pub nsp: &'a str,
    pub id: Option<u64>,
    pub data: &'a str,
    pub attachments: &'a [Bytes],
}

impl PacketParts<'_> {
    /// Its framing, as debug lines show it.
    fn header(&self) -> socketio_packet::PacketHeader<'_> {
        socketio_packet::PacketHeader {
            kind: self.kind,
            attachments: self.attachments.len(),
            nsp: self.nsp,
            id: self.id,
            data: self.data,
        }
    }
}

impl Parser {
    /// The messages that carry a packet.
    pub fn frames(self, packet: PacketParts<'_>) -> Result<Arc<[Message]>, FramingError> {
        match self {
            Parser::Default => {
                let message = TextMessage::encode_with(
                    socketio_packet::encoded_len_hint(packet.nsp, packet.data),
                    |frame| {
                        socketio_packet::encode_into(
                            frame,
                            packet.kind,
                            packet.attachments.len(),
                            packet.nsp,
                            packet.id,
                            packet.data,
                        )
                    },
                );
                debug!(target: "socket.io-parser", "encoded {} as {}", packet.header(), message.data());
                let mut frames = Vec::with_capacity(1 + packet.attachments.len());
                frames.push(Message::Text(message));
                frames.extend(packet.attachments.iter().cloned().map(Message::Binary));
                Ok(Arc::from(frames))
            }
            Parser::Msgpack => {
                let message = socketio_msgpack::encode(
                    packet.kind,
                    packet.nsp,
                    packet.id,
                    packet.data,
                    packet.attachments,
                )
                .map_err(FramingError::Msgpack)?;
                Ok(Arc::from([Message::Binary(Bytes::from(message))]))
            }
            Parser::Custom => Err(FramingError::EncodedInJs),
        }
    }
}
