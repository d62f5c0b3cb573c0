//! A Socket.IO packet on its way out: framed once, whatever the number of recipients.
use super::parser::{FramingError, PacketParts, Parser};
use crate::protocol::engine_packet::Message;
use crate::protocol::socketio_packet::PacketType;
use crate::recovery::StoredPacket;
use bytes::Bytes;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct OutgoingPacket {
    pub nsp: String,
    pub kind: PacketType,
    pub ack_id: Option<u64>,
    /// The JSON text of the data (attachments appear in it as placeholders).
    pub data: String,
    pub attachments: Vec<Bytes>,
    /// Set when the packet is kept for connection-state recovery.
    pub stored: Option<StoredAs>,
}

/// How a sent packet is kept for recovery: its offset (the number behind the string the client
/// echoes back) and the broadcast's rooms and exclusions.
#[derive(Debug, Clone, Default)]
pub struct StoredAs {
    pub offset: u64,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
}

impl OutgoingPacket {
    /// A packet of `kind` with `data` to namespace `nsp`, no ack, no attachment, not stored.
    pub fn new(nsp: &str, kind: PacketType, data: &str) -> Self {
        Self {
            nsp: nsp.to_owned(),
            kind,
            ack_id: None,
            data: data.to_owned(),
            attachments: Vec::new(),
            stored: None,
        }
    }

    /// Its frames in the wire format of `parser`.
    pub fn frames(&self, parser: Parser) -> Result<Arc<[Message]>, FramingError> {
        parser.frames(PacketParts {
            kind: self.kind,
            nsp: &self.nsp,
            id: self.ack_id,
            data: &self.data,
            attachments: &self.attachments,
        })
    }
}

impl StoredAs {
    pub(super) fn into_stored(self, frames: Arc<[Message]>) -> StoredPacket {
        StoredPacket {
            offset: self.offset,
            frames,
            rooms: self.rooms.into_iter().map(Arc::from).collect(),
            except: self.except.into_iter().map(Arc::from).collect(),
        }
    }
}
