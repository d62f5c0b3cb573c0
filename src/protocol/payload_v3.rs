//! Engine.IO v3 long-polling payloads (engine.io's parser-v3), for `allowEIO3`: each packet
//! prefixed by its length in UTF-16 code units and `:`, binary as `b4` + base64; POST bodies may
//! also come in the binary framing (`[0|1] digits 0xff data`).
use super::engine_packet::{DecodeError, Message, Packet};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Joins packets into one text payload (a v3 client accepts base64 binaries in it, so the binary
/// framing is never needed for answers).
pub fn encode(packets: &[Packet]) -> String {
    let mut body = String::new();
    for packet in packets {
        let text = match packet {
            Packet::Message(Message::Binary(data)) => format!("b4{}", BASE64.encode(data)),
            other => other
                .encode_text()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        };
        body.push_str(&text.encode_utf16().count().to_string());
        body.push(':');
        body.push_str(&text);
    }
    body
}

/// Splits a text POST body; as upstream, decoding stops at the first bad packet.
pub fn decode(body: &str) -> (Vec<Packet>, Option<DecodeError>) {
    let mut packets = Vec::new();
    let mut rest = body;
    if rest.is_empty() {
        return (packets, Some(DecodeError::Empty));
    }
    while !rest.is_empty() {
        let Some((length, tail)) = rest.split_once(':') else {
            return (packets, Some(DecodeError::Empty));
        };
        let Ok(length) = length.parse::<usize>() else {
            return (packets, Some(DecodeError::Empty));
        };
        let Some(end) = utf16_offset(tail, length) else {
            return (packets, Some(DecodeError::Empty));
        };
        let (message, remainder) = tail.split_at(end);
        rest = remainder;
        if message.is_empty() {
            continue;
        }
        match Packet::decode_text_v3(Utf8Bytes::from(message)) {
            Ok(packet) => packets.push(packet),
            Err(err) => return (packets, Some(err)),
        }
    }
    (packets, None)
}

/// The byte offset in `text` after `units` UTF-16 code units, if it has that many.
fn utf16_offset(text: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (offset, c) in text.char_indices() {
        if counted == units {
            return Some(offset);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(text.len())
}

/// Splits a binary POST body (`application/octet-stream`).
pub fn decode_binary(body: &[u8]) -> (Vec<Packet>, Option<DecodeError>) {
    let mut packets = Vec::new();
    let mut rest = body;
    while let Some((&kind, tail)) = rest.split_first() {
        let Some(end_of_length) = tail.iter().position(|&b| b == 0xff) else {
            return (packets, Some(DecodeError::Empty));
        };
        let digits = &tail[..end_of_length];
        if digits.is_empty() || digits.len() > 10 || digits.iter().any(|&d| d > 9) {
            return (packets, Some(DecodeError::Empty));
        }
        let length = digits.iter().fold(0usize, |n, &d| n * 10 + usize::from(d));
        let data = &tail[end_of_length + 1..];
        if data.len() < length {
            return (packets, Some(DecodeError::Empty));
        }
        let (message, remainder) = data.split_at(length);
        rest = remainder;
        let packet = if kind == 0 {
            Packet::decode_text_v3(Utf8Bytes::from(
                String::from_utf8_lossy(message).into_owned(),
            ))
        } else {
            match message.split_first() {
                Some((4, data)) => Ok(Packet::Message(Message::Binary(Bytes::copy_from_slice(
                    data,
                )))),
                _ => Err(DecodeError::Empty),
            }
        };
        match packet {
            Ok(packet) => packets.push(packet),
            Err(err) => return (packets, Some(err)),
        }
    }
    (packets, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lengths_in_utf16_units() {
        assert_eq!(encode(&[Packet::text("é€😀"), Packet::Noop]), "5:4é€😀1:6");
        assert_eq!(
            encode(&[Packet::Message(Message::Binary(Bytes::from_static(&[
                1, 2, 3
            ])))]),
            "6:b4AQID"
        );
    }

    #[test]
    fn decodes_what_it_encodes() {
        let packets = vec![Packet::text("héllo 😀"), Packet::Ping { probe: false }];
        assert_eq!(decode(&encode(&packets)), (packets, None));
        let (packets, err) = decode("6:b4AQID");
        assert_eq!(err, None);
        assert_eq!(
            packets,
            vec![Packet::Message(Message::Binary(Bytes::from_static(&[
                1, 2, 3
            ])))]
        );
    }

    #[test]
    fn refuses_bad_lengths_and_stops_at_the_first_bad_packet() {
        assert!(decode("").1.is_some());
        assert!(decode("x:4a").1.is_some());
        assert!(decode("9:4a").1.is_some());
        let (packets, err) = decode("2:4a2:9x");
        assert_eq!(packets, vec![Packet::text("a")]);
        assert!(err.is_some());
    }

    #[test]
    fn decodes_the_binary_framing() {
        let mut body = vec![0, 2, 0xff];
        body.extend_from_slice(b"4a");
        body.extend_from_slice(&[1, 3, 0xff, 4, 9, 8]);
        let (packets, err) = decode_binary(&body);
        assert_eq!(err, None);
        assert_eq!(
            packets,
            vec![
                Packet::text("a"),
                Packet::Message(Message::Binary(Bytes::from_static(&[9, 8])))
            ]
        );
        assert!(decode_binary(&[0, 5, 0xff, b'4']).1.is_some());
        assert!(decode_binary(&[0, 12, 0xff]).1.is_some());
    }
}
