//! Socket.IO v5 packet framing (socket.io-parser 4.x): type, attachment count, namespace, ack id,
//! then the JSON data, which is handed on as text (JS parses it with V8's own `JSON.parse`).
use std::fmt::Write as _;

/// Packet types, numbered as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

impl PacketType {
    fn from_char(c: u8) -> Option<Self> {
        Some(match c {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    pub fn from_number(n: u32) -> Option<Self> {
        u8::try_from(n).ok().and_then(|n| Self::from_char(b'0' + n))
    }

    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// The framing of a decoded packet; `data` is the JSON text, unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketHeader<'a> {
    pub kind: PacketType,
    pub attachments: usize,
    pub nsp: &'a str,
    pub id: Option<u64>,
    pub data: &'a str,
}

/// As socket.io-parser's debug lines show a packet (`%j`): `{"type":2,"nsp":"/","id":1,"data":[...]}`,
/// with the count of binary attachments when there are some.
impl std::fmt::Display for PacketHeader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{{\"type\":{},\"nsp\":{}",
            self.kind as u8,
            serde_json::Value::from(self.nsp)
        )?;
        if let Some(id) = self.id {
            write!(f, ",\"id\":{id}")?;
        }
        if !self.data.is_empty() {
            write!(f, ",\"data\":{}", self.data)?;
        }
        if self.attachments > 0 {
            write!(f, ",\"attachments\":{}", self.attachments)?;
        }
        f.write_str("}")
    }
}

/// Why a packet was refused: socket.io-parser throws, and the connection closes with
/// "parse error".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The first character, which names no packet type.
    UnknownType(Option<char>),
    IllegalAttachments,
    TooManyAttachments,
    InvalidId,
    InvalidPayload,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            // socket.io-parser prints `Number(char)`: the digit, or NaN.
            ParseError::UnknownType(Some(c)) if c.is_ascii_digit() => {
                return write!(f, "unknown packet type {c}")
            }
            ParseError::UnknownType(_) => "unknown packet type NaN",
            ParseError::IllegalAttachments => "Illegal attachments",
            ParseError::TooManyAttachments => "too many attachments",
            ParseError::InvalidId => "invalid packet id",
            ParseError::InvalidPayload => "invalid payload",
        })
    }
}

impl std::error::Error for ParseError {}

/// Decodes the framing of a text packet. The data's JSON is checked only for the shape its type
/// requires at the first character (an array for events and acks, an object for CONNECT); JS
/// completes the check after parsing.
pub fn decode(text: &str, max_attachments: usize) -> Result<PacketHeader<'_>, ParseError> {
    let bytes = text.as_bytes();
    let kind = bytes
        .first()
        .and_then(|c| PacketType::from_char(*c))
        .ok_or_else(|| ParseError::UnknownType(text.chars().next()))?;
    let mut i = 1;
    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while i < bytes.len() && bytes[i] != b'-' {
            i += 1;
        }
        let count = &text[start..i];
        if i >= bytes.len() || count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::IllegalAttachments);
        }
        attachments = count.parse().map_err(|_| ParseError::TooManyAttachments)?;
        if attachments == 0 {
            return Err(ParseError::IllegalAttachments);
        }
        if attachments > max_attachments {
            return Err(ParseError::TooManyAttachments);
        }
        i += 1;
    }
    let mut nsp = "/";
    if bytes.get(i) == Some(&b'/') {
        let start = i;
        while i < bytes.len() && bytes[i] != b',' {
            i += 1;
        }
        nsp = &text[start..i];
        if i < bytes.len() {
            i += 1;
        }
    }
    let mut id = None;
    let start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        id = Some(text[start..i].parse().map_err(|_| ParseError::InvalidId)?);
    }
    let data = &text[i..];
    // As socket.io-parser, a packet without data is not checked at all.
    let first = data.trim_start().bytes().next();
    let valid = match kind {
        _ if data.is_empty() => true,
        PacketType::Connect => first == Some(b'{'),
        PacketType::Disconnect => false,
        PacketType::ConnectError => first.is_some(),
        PacketType::Event | PacketType::BinaryEvent | PacketType::Ack | PacketType::BinaryAck => {
            first == Some(b'[')
        }
    };
    if !valid {
        return Err(ParseError::InvalidPayload);
    }
    Ok(PacketHeader {
        kind,
        attachments,
        nsp,
        id,
        data,
    })
}

/// About the length of an encoded packet, for its buffer's capacity.
pub fn encoded_len_hint(nsp: &str, data: &str) -> usize {
    data.len() + nsp.len() + 12
}

/// Appends the encoding of a packet's text part to `out`; binary attachments follow it as
/// separate messages.
pub fn encode_into(
    out: &mut String,
    kind: PacketType,
    attachments: usize,
    nsp: &str,
    id: Option<u64>,
    data: &str,
) {
    out.push((b'0' + kind as u8) as char);
    if kind.is_binary() {
        let _infallible = write!(out, "{attachments}-");
    }
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(id) = id {
        let _infallible = write!(out, "{id}");
    }
    out.push_str(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(
        kind: PacketType,
        attachments: usize,
        nsp: &str,
        id: Option<u64>,
        data: &str,
    ) -> String {
        let mut out = String::new();
        encode_into(&mut out, kind, attachments, nsp, id, data);
        out
    }

    #[test]
    fn decodes_every_field() {
        let packet =
            decode("51-/chat,12[\"bin\",{\"_placeholder\":true,\"num\":0}]", 10).expect("valid");
        assert_eq!(packet.kind, PacketType::BinaryEvent);
        assert_eq!(packet.attachments, 1);
        assert_eq!(packet.nsp, "/chat");
        assert_eq!(packet.id, Some(12));
        assert_eq!(packet.data, "[\"bin\",{\"_placeholder\":true,\"num\":0}]");
    }

    #[test]
    fn defaults_to_the_main_namespace_and_no_id() {
        let packet = decode("2[\"hello\",1]", 10).expect("valid");
        assert_eq!((packet.nsp, packet.id), ("/", None));
        assert_eq!(decode("0", 10).expect("valid").data, "");
        assert_eq!(decode("0/admin,", 10).expect("valid").nsp, "/admin");
        assert_eq!(decode("0/admin", 10).expect("valid").nsp, "/admin");
        assert_eq!(
            decode("0{\"token\":1}", 10).expect("valid").data,
            "{\"token\":1}"
        );
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(decode("", 10), Err(ParseError::UnknownType(None)));
        assert_eq!(decode("9", 10), Err(ParseError::UnknownType(Some('9'))));
        assert_eq!(
            decode("9", 10).map_err(|e| e.to_string()),
            Err("unknown packet type 9".into())
        );
        assert_eq!(
            decode("x", 10).map_err(|e| e.to_string()),
            Err("unknown packet type NaN".into())
        );
        assert_eq!(
            decode("50-[\"a\"]", 10),
            Err(ParseError::IllegalAttachments)
        );
        assert_eq!(decode("5[\"a\"]", 10), Err(ParseError::IllegalAttachments));
        assert_eq!(
            decode("5x-[\"a\"]", 10),
            Err(ParseError::IllegalAttachments)
        );
        assert_eq!(
            decode("511-[\"a\"]", 10),
            Err(ParseError::TooManyAttachments)
        );
        assert_eq!(
            decode("2\"not an array\"", 10),
            Err(ParseError::InvalidPayload)
        );
        assert_eq!(
            decode("2", 10).map(|p| p.data),
            Ok(""),
            "no data is not checked"
        );
        assert_eq!(decode("1[1]", 10), Err(ParseError::InvalidPayload));
        assert_eq!(decode("0[1]", 10), Err(ParseError::InvalidPayload));
        assert_eq!(
            decode("299999999999999999999999[1]", 10),
            Err(ParseError::InvalidId)
        );
    }

    #[test]
    fn encodes_like_socket_io_parser() {
        assert_eq!(
            encode(PacketType::Event, 0, "/", None, "[\"a\"]"),
            "2[\"a\"]"
        );
        assert_eq!(
            encode(PacketType::Ack, 0, "/nsp", Some(3), "[]"),
            "3/nsp,3[]"
        );
        assert_eq!(
            encode(PacketType::BinaryEvent, 2, "/", Some(1), "[]"),
            "52-1[]"
        );
        assert_eq!(
            encode(PacketType::Connect, 0, "/", None, "{\"sid\":\"x\"}"),
            "0{\"sid\":\"x\"}"
        );
        assert_eq!(encode(PacketType::Disconnect, 0, "/a", None, ""), "1/a,");
    }
}
