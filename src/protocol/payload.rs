//! HTTP long-polling payloads: packets joined by the record separator, binary as `b` + base64
//! (engine.io-parser 5.x `encodePayload` / `decodePayload`).
use super::engine_packet::{DecodeError, Message, Packet};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use tokio_tungstenite::tungstenite::Utf8Bytes;

const SEPARATOR: char = '\x1e';

/// Joins packets into one polling response body.
pub fn encode(packets: &[Packet]) -> String {
    let mut body = String::new();
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            body.push(SEPARATOR);
        }
        match packet {
            Packet::Message(Message::Binary(data)) => {
                body.push('b');
                BASE64.encode_string(data, &mut body);
            }
            other => {
                if let Some(text) = other.encode_text() {
                    body.push_str(&text);
                }
            }
        }
    }
    body
}

/// Splits a POST body into packets. Like upstream, decoding stops at the first bad packet: the
/// packets before it are returned with the error, so they are processed before the session closes.
pub fn decode(body: &str) -> (Vec<Packet>, Option<DecodeError>) {
    let mut packets = Vec::new();
    for part in body.split(SEPARATOR) {
        match Packet::decode_text(Utf8Bytes::from(part)) {
            Ok(packet) => packets.push(packet),
            Err(err) => return (packets, Some(err)),
        }
    }
    (packets, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn encodes_packets_joined_by_the_separator() {
        let body = encode(&[
            Packet::text("hello"),
            Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
            Packet::Ping { probe: false },
        ]);
        assert_eq!(body, "4hello\x1ebAQIDBA==\x1e2");
    }

    #[test]
    fn decodes_text_binary_and_control_packets() {
        let (packets, err) = decode("4hello\x1ebAQIDBA==\x1e3\x1e1");
        assert_eq!(err, None);
        assert_eq!(
            packets,
            vec![
                Packet::text("hello"),
                Packet::Message(Message::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
                Packet::Pong { probe: false },
                Packet::Close,
            ]
        );
    }

    #[test]
    fn stops_at_the_first_bad_packet() {
        let (packets, err) = decode("4a\x1e9x\x1e4b");
        assert_eq!(packets, vec![Packet::text("a")]);
        assert_eq!(err, Some(DecodeError::UnknownType('9')));
        let (packets, err) = decode("4a\x1e\x1e4b");
        assert_eq!(packets.len(), 1);
        assert_eq!(err, Some(DecodeError::Empty));
    }

    #[test]
    fn invalid_base64_is_decoded_leniently_as_upstream() {
        let (packets, err) = decode("bnot base64!");
        assert_eq!(err, None);
        assert!(matches!(packets[0], Packet::Message(Message::Binary(_))));
    }

    #[test]
    fn empty_body_is_a_parse_error() {
        assert_eq!(decode("").1, Some(DecodeError::Empty));
    }
}
