//! Reassembly of binary Socket.IO packets (socket.io-parser's `BinaryReconstructor`): a packet
//! whose header announces N attachments is complete once the next N binary messages arrived.
use super::socketio_packet::{self, PacketHeader, PacketType, ParseError};
use bytes::Bytes;

/// An incoming Socket.IO packet with its attachments, owning its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPacket {
    pub kind: PacketType,
    pub nsp: String,
    pub id: Option<u64>,
    /// The JSON data, unparsed.
    pub data: String,
    /// The binary attachments in the order they arrived; empty for a packet that has none.
    pub attachments: Vec<Bytes>,
}

impl IncomingPacket {
    /// Its framing, as debug lines show it.
    pub fn header(&self) -> PacketHeader<'_> {
        PacketHeader {
            kind: self.kind,
            attachments: self.attachments.len(),
            nsp: &self.nsp,
            id: self.id,
            data: &self.data,
        }
    }
}

/// Why a message was refused; socket.io-parser throws these, and the connection closes with
/// "parse error".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReassemblyError {
    Parse(ParseError),
    /// A text message while a packet still waits for attachments.
    UnexpectedText,
    /// A binary message while no packet waits for one.
    UnexpectedBinary,
}

impl std::fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReassemblyError::Parse(err) => err.fmt(f),
            ReassemblyError::UnexpectedText => {
                f.write_str("got plaintext data when reconstructing a packet")
            }
            ReassemblyError::UnexpectedBinary => {
                f.write_str("got binary data when not reconstructing a packet")
            }
        }
    }
}

impl std::error::Error for ReassemblyError {}

/// One connection's reassembly: idle, or waiting for a packet's attachments. An error leaves it
/// as it was (the connection closes anyway).
#[derive(Debug, Default)]
pub struct Reassembler {
    waiting: Option<Waiting>,
}

#[derive(Debug)]
struct Waiting {
    packet: IncomingPacket,
    expected: usize,
}

impl Reassembler {
    /// Whether no packet waits for attachments.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_none()
    }

    /// Takes a text message: a packet, complete unless it announces attachments.
    pub fn text(
        &mut self,
        text: &str,
        max_attachments: usize,
    ) -> Result<Option<IncomingPacket>, ReassemblyError> {
        if self.waiting.is_some() {
            return Err(ReassemblyError::UnexpectedText);
        }
        let header =
            socketio_packet::decode(text, max_attachments).map_err(ReassemblyError::Parse)?;
        let packet = IncomingPacket {
            kind: header.kind,
            nsp: header.nsp.to_owned(),
            id: header.id,
            data: header.data.to_owned(),
            attachments: Vec::with_capacity(header.attachments),
        };
        if header.attachments == 0 {
            return Ok(Some(packet));
        }
        self.waiting = Some(Waiting {
            packet,
            expected: header.attachments,
        });
        Ok(None)
    }

    /// Takes a binary message: the next attachment of the waiting packet, which it may complete.
    pub fn binary(&mut self, data: Bytes) -> Result<Option<IncomingPacket>, ReassemblyError> {
        let waiting = self
            .waiting
            .as_mut()
            .ok_or(ReassemblyError::UnexpectedBinary)?;
        waiting.packet.attachments.push(data);
        if waiting.packet.attachments.len() < waiting.expected {
            return Ok(None);
        }
        Ok(self.waiting.take().map(|waiting| waiting.packet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_without_attachments_is_complete_at_once() {
        let mut reassembler = Reassembler::default();
        let packet = reassembler
            .text("2/chat,7[\"hello\"]", 10)
            .expect("valid")
            .expect("complete");
        assert_eq!(packet.kind, PacketType::Event);
        assert_eq!(packet.nsp, "/chat");
        assert_eq!(packet.id, Some(7));
        assert_eq!(packet.data, "[\"hello\"]");
        assert!(packet.attachments.is_empty());
        assert!(reassembler.is_idle());
    }

    #[test]
    fn a_binary_packet_completes_with_its_last_attachment() {
        let mut reassembler = Reassembler::default();
        let header =
            "52-[\"upload\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
        assert_eq!(reassembler.text(header, 10), Ok(None));
        assert!(!reassembler.is_idle());
        assert_eq!(reassembler.binary(Bytes::from_static(b"one")), Ok(None));
        let packet = reassembler
            .binary(Bytes::from_static(b"two"))
            .expect("valid")
            .expect("complete");
        assert_eq!(packet.kind, PacketType::BinaryEvent);
        assert_eq!(
            packet.attachments,
            vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]
        );
        assert!(reassembler.is_idle());
        assert!(reassembler.text("2[]", 10).expect("valid").is_some());
    }

    #[test]
    fn refuses_messages_out_of_turn_with_socket_io_parser_texts() {
        let mut reassembler = Reassembler::default();
        let err = reassembler
            .binary(Bytes::from_static(b"stray"))
            .expect_err("no packet waits");
        assert_eq!(
            err.to_string(),
            "got binary data when not reconstructing a packet"
        );
        assert_eq!(reassembler.text("51-[\"a\"]", 10), Ok(None));
        let err = reassembler.text("2[]", 10).expect_err("waiting");
        assert_eq!(
            err.to_string(),
            "got plaintext data when reconstructing a packet"
        );
        assert!(
            !reassembler.is_idle(),
            "an error leaves the state as it was"
        );
    }

    #[test]
    fn parse_errors_keep_socket_io_parser_texts_and_leave_it_idle() {
        let mut reassembler = Reassembler::default();
        let err = reassembler.text("511-[\"a\"]", 10).expect_err("too many");
        assert_eq!(err, ReassemblyError::Parse(ParseError::TooManyAttachments));
        assert_eq!(err.to_string(), "too many attachments");
        assert!(reassembler.is_idle());
    }
}
