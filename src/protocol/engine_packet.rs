//! Engine.IO v4 packets and their encoding over WebSocket frames (engine.io-parser 5.x).
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A text message kept in its encoded form (`"4"` + data), so that one message can be queued to
/// many sessions and written to any transport without being encoded again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextMessage(Utf8Bytes);

impl TextMessage {
    /// Encodes `data` as a message packet.
    pub fn new(data: &str) -> Self {
        Self::encode_with(data.len(), |frame| frame.push_str(data))
    }

    /// Encodes as a message packet the data that `write` appends (about `capacity` bytes), in
    /// place: no copy of it is made.
    pub fn encode_with(capacity: usize, write: impl FnOnce(&mut String)) -> Self {
        let mut frame = String::with_capacity(capacity + 1);
        frame.push('4');
        write(&mut frame);
        Self(Utf8Bytes::from(frame))
    }

    /// Wraps a frame that already starts with the message type, as received from a WebSocket.
    fn from_frame(frame: Utf8Bytes) -> Self {
        debug_assert!(frame.as_str().starts_with('4'));
        Self(frame)
    }

    /// The message data, without the packet type.
    pub fn data(&self) -> &str {
        &self.0.as_str()[1..]
    }

    /// The whole encoded packet, as sent in a WebSocket text frame or a polling payload.
    pub fn frame(&self) -> &Utf8Bytes {
        &self.0
    }
}

/// A message's content: text, or binary data (sent as a binary frame, or base64 over polling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Text(TextMessage),
    Binary(Bytes),
}

/// One Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// The handshake, carrying its JSON (`sid`, `upgrades`, `pingInterval`, ...).
    Open(String),
    Close,
    /// `probe` is set on the ping/pong pair that tests a transport during an upgrade.
    Ping {
        probe: bool,
    },
    Pong {
        probe: bool,
    },
    Message(Message),
    Upgrade,
    Noop,
}

/// See `Packet::logged_data`: formatted only when a debug line is printed.
pub struct LoggedData<'a>(&'a Packet);

impl std::fmt::Display for LoggedData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Packet::Open(json) => f.write_str(json),
            Packet::Ping { probe: true } | Packet::Pong { probe: true } => f.write_str("probe"),
            Packet::Message(Message::Text(text)) => f.write_str(text.data()),
            Packet::Message(Message::Binary(data)) => write!(f, "<{} bytes>", data.len()),
            Packet::Close
            | Packet::Ping { .. }
            | Packet::Pong { .. }
            | Packet::Upgrade
            | Packet::Noop => f.write_str("undefined"),
        }
    }
}

/// Why a frame could not be decoded: upstream answers all of them with a "parse error" close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Empty,
    UnknownType(char),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Empty => f.write_str("empty packet"),
            DecodeError::UnknownType(c) => write!(f, "unknown packet type {c:?}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes base64 as Node's `Buffer.from(text, "base64")` does, which engine.io-parser uses:
/// the URL-safe alphabet is accepted, other characters are skipped, decoding stops at `=`, and a
/// dangling last character is dropped. Never an error: a bad payload becomes unexpected bytes.
pub fn decode_base64_leniently(text: &str) -> Bytes {
    let mut clean: Vec<u8> = Vec::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'=' => break,
            b'-' => clean.push(b'+'),
            b'_' => clean.push(b'/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => clean.push(byte),
            _ => {}
        }
    }
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    Bytes::from(LENIENT_BASE64.decode(&clean).unwrap_or_default())
}

const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

impl Packet {
    /// Shorthand for a text message packet.
    pub fn text(data: &str) -> Self {
        Packet::Message(Message::Text(TextMessage::new(data)))
    }

    /// The packet type name, as upstream's `packet.type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Packet::Open(_) => "open",
            Packet::Close => "close",
            Packet::Ping { .. } => "ping",
            Packet::Pong { .. } => "pong",
            Packet::Message(_) => "message",
            Packet::Upgrade => "upgrade",
            Packet::Noop => "noop",
        }
    }

    /// The packet's data as upstream's debug lines show it: `sending packet "message" (2["a"])`.
    pub fn logged_data(&self) -> LoggedData<'_> {
        LoggedData(self)
    }

    /// Decodes a WebSocket text frame (or one packet of a polling payload).
    pub fn decode_text(frame: Utf8Bytes) -> Result<Self, DecodeError> {
        let s = frame.as_str();
        let first = s.chars().next().ok_or(DecodeError::Empty)?;
        let rest = &s[first.len_utf8()..];
        Ok(match first {
            '0' => Packet::Open(rest.to_owned()),
            '1' => Packet::Close,
            '2' => Packet::Ping {
                probe: rest == "probe",
            },
            '3' => Packet::Pong {
                probe: rest == "probe",
            },
            '4' => Packet::Message(Message::Text(TextMessage::from_frame(frame))),
            '5' => Packet::Upgrade,
            '6' => Packet::Noop,
            // engine.io-parser also accepts base64 binary in text form on any transport.
            'b' => Packet::Message(Message::Binary(decode_base64_leniently(rest))),
            other => return Err(DecodeError::UnknownType(other)),
        })
    }

    /// Decodes a text packet of Engine.IO v3, whose base64 binary form is `b` + type + base64.
    pub fn decode_text_v3(frame: Utf8Bytes) -> Result<Self, DecodeError> {
        match frame.as_str().strip_prefix('b') {
            Some(rest) => {
                let mut chars = rest.chars();
                match chars.next() {
                    Some('4') => Ok(Packet::Message(Message::Binary(decode_base64_leniently(
                        chars.as_str(),
                    )))),
                    Some(other) => Err(DecodeError::UnknownType(other)),
                    None => Err(DecodeError::Empty),
                }
            }
            None => Self::decode_text(frame),
        }
    }

    /// Encodes the packet as a WebSocket text frame; binary messages are not text.
    pub fn encode_text(&self) -> Option<Utf8Bytes> {
        Some(match self {
            Packet::Open(json) => Utf8Bytes::from(format!("0{json}")),
            Packet::Close => Utf8Bytes::from_static("1"),
            Packet::Ping { probe: false } => Utf8Bytes::from_static("2"),
            Packet::Ping { probe: true } => Utf8Bytes::from_static("2probe"),
            Packet::Pong { probe: false } => Utf8Bytes::from_static("3"),
            Packet::Pong { probe: true } => Utf8Bytes::from_static("3probe"),
            Packet::Message(Message::Text(text)) => text.frame().clone(),
            Packet::Message(Message::Binary(_)) => return None,
            Packet::Upgrade => Utf8Bytes::from_static("5"),
            Packet::Noop => Utf8Bytes::from_static("6"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_packets_round_trip() {
        for raw in [
            "0{\"sid\":\"x\"}",
            "1",
            "2",
            "2probe",
            "3",
            "3probe",
            "4hello",
            "4",
            "5",
            "6",
        ] {
            let packet = Packet::decode_text(Utf8Bytes::from(raw)).expect(raw);
            assert_eq!(packet.encode_text().as_deref(), Some(raw));
        }
    }

    #[test]
    fn message_keeps_its_data_without_the_type() {
        let packet = Packet::decode_text(Utf8Bytes::from("4héllo")).expect("valid");
        match packet {
            Packet::Message(Message::Text(text)) => assert_eq!(text.data(), "héllo"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(TextMessage::new("abc").data(), "abc");
    }

    #[test]
    fn rejects_empty_and_unknown_types() {
        assert_eq!(
            Packet::decode_text(Utf8Bytes::from("")),
            Err(DecodeError::Empty)
        );
        assert_eq!(
            Packet::decode_text(Utf8Bytes::from("9x")),
            Err(DecodeError::UnknownType('9'))
        );
        assert_eq!(
            Packet::decode_text(Utf8Bytes::from("é")),
            Err(DecodeError::UnknownType('é'))
        );
    }

    #[test]
    fn base64_is_decoded_as_leniently_as_node() {
        assert_eq!(&decode_base64_leniently("AQIDBA==")[..], &[1, 2, 3, 4]);
        assert_eq!(&decode_base64_leniently("AQIDBA")[..], &[1, 2, 3, 4]);
        assert_eq!(&decode_base64_leniently("A Q!I*D")[..], &[1, 2, 3]);
        assert_eq!(&decode_base64_leniently("_-8")[..], &[0xff, 0xef]);
        assert_eq!(&decode_base64_leniently("AQIDB")[..], &[1, 2, 3]);
        assert!(!decode_base64_leniently("not base64!").is_empty());
    }

    #[test]
    fn binary_messages_have_no_text_form() {
        let packet = Packet::Message(Message::Binary(Bytes::from_static(b"\x01\x02")));
        assert_eq!(packet.encode_text(), None);
    }
}
