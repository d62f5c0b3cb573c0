//! permessage-deflate's transcoders: the inflater on whatever a client sends, and server frames
//! deflated then inflated back.
#![no_main]
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::permessage_deflate::{Deflater, Inflater};

/// The longest frame header: 2 bytes, an 8-byte length and a mask key.
const MAX_HEADER: usize = 14;

#[derive(Arbitrary, Debug)]
enum Input {
    /// Bytes from a client, arriving in pieces of at most `piece` bytes.
    FromClient {
        max_message: u16,
        piece: u8,
        bytes: Vec<u8>,
    },
    /// Whole data messages (binary or text) sent by the server, read back by a client.
    RoundTrip {
        threshold: u16,
        piece: u8,
        messages: Vec<(bool, Vec<u8>)>,
    },
}

fuzz_target!(|input: Input| match input {
    Input::FromClient {
        max_message,
        piece,
        bytes,
    } => from_client(usize::from(max_message), usize::from(piece).max(1), &bytes),
    Input::RoundTrip {
        threshold,
        piece,
        messages,
    } => round_trip(usize::from(threshold), usize::from(piece).max(1), &messages),
});

fn from_client(max_message: usize, piece: usize, bytes: &[u8]) {
    let mut inflater = Inflater::new(max_message);
    let mut out = Vec::new();
    for chunk in bytes.chunks(piece) {
        if inflater.push(chunk, &mut out).is_err() {
            break;
        }
        assert!(inflater.buffered() < MAX_HEADER + max_message);
    }
    // Whole frames within the limit, then at most the header of one over it, for the frame
    // reader to refuse.
    let (frames, rest) = frames(&out);
    for frame in &frames {
        assert!(frame.payload.len() <= max_message);
    }
    if !rest.is_empty() {
        let header = header(rest).expect("only a whole header is passed on alone");
        assert_eq!(header.payload_at, rest.len());
        assert!(header.payload_len > max_message as u64);
    }
}

fn round_trip(threshold: usize, piece: usize, messages: &[(bool, Vec<u8>)]) {
    let mut plain = Vec::new();
    for (binary, payload) in messages {
        let opcode = if *binary { 2 } else { 1 };
        write_frame(&mut plain, 0x80 | opcode, payload);
    }
    let mut deflater = Deflater::new(threshold);
    let mut sent = Vec::new();
    for chunk in plain.chunks(piece) {
        deflater.push(chunk, &mut sent);
    }
    let (sent_frames, rest) = frames(&sent);
    assert!(rest.is_empty());
    assert_eq!(sent_frames.len(), messages.len());
    for (frame, (_, payload)) in sent_frames.iter().zip(messages) {
        assert_eq!(frame.first & 0x40 != 0, payload.len() >= threshold);
    }

    // Room for what deflate adds to data it cannot compress.
    let mut inflater = Inflater::new(plain.len() + 1024);
    let mut read = Vec::new();
    for chunk in sent.chunks(piece) {
        inflater
            .push(chunk, &mut read)
            .expect("the server's frames inflate");
    }
    let (read_frames, rest) = frames(&read);
    assert!(rest.is_empty());
    let read: Vec<(u8, Vec<u8>)> = read_frames
        .iter()
        .map(|frame| (frame.first, frame.payload.clone()))
        .collect();
    let expected: Vec<(u8, Vec<u8>)> = messages
        .iter()
        .map(|(binary, payload)| (if *binary { 0x82 } else { 0x81 }, payload.clone()))
        .collect();
    assert_eq!(read, expected);
}

struct Header {
    payload_at: usize,
    payload_len: u64,
    mask: Option<[u8; 4]>,
}

struct Frame {
    first: u8,
    /// Unmasked.
    payload: Vec<u8>,
}

/// RFC 6455's frame header, parsed here independently of the code under test.
fn header(bytes: &[u8]) -> Option<Header> {
    let second = *bytes.get(1)?;
    let (payload_len, at) = match second & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    if second & 0x80 == 0 {
        return Some(Header {
            payload_at: at,
            payload_len,
            mask: None,
        });
    }
    Some(Header {
        payload_at: at + 4,
        payload_len,
        mask: Some(bytes.get(at..at + 4)?.try_into().ok()?),
    })
}

/// The whole frames at the start of `bytes`, and what follows them.
fn frames(mut bytes: &[u8]) -> (Vec<Frame>, &[u8]) {
    let mut frames = Vec::new();
    while let Some(header) = header(bytes) {
        let Some(end) = usize::try_from(header.payload_len)
            .ok()
            .and_then(|len| header.payload_at.checked_add(len))
            .filter(|end| *end <= bytes.len())
        else {
            break;
        };
        let payload = bytes[header.payload_at..end]
            .iter()
            .enumerate()
            .map(|(i, byte)| header.mask.map_or(*byte, |key| byte ^ key[i % 4]))
            .collect();
        frames.push(Frame {
            first: bytes[0],
            payload,
        });
        bytes = &bytes[end..];
    }
    (frames, bytes)
}

/// A server frame: unmasked.
fn write_frame(out: &mut Vec<u8>, first: u8, payload: &[u8]) {
    out.push(first);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}
