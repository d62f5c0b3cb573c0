//! The client frame parser on whatever a client sends, in pieces of any size.
#![no_main]
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::client_frames::{FrameParser, Incoming};
use std::collections::VecDeque;

/// The longest frame header: 2 bytes, an 8-byte length and a mask key.
const MAX_HEADER: usize = 14;

#[derive(Arbitrary, Debug)]
struct Input {
    limit: u16,
    piece: u8,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let limit = usize::from(input.limit);
    let whole = parse(limit, input.bytes.len().max(1), &input.bytes);
    let pieces = parse(limit, usize::from(input.piece).max(1), &input.bytes);
    // How the bytes arrive changes nothing but when.
    assert_eq!(whole, pieces);
});

/// What parsing `bytes`, fed `piece` bytes at a time as a connection reads them, gives: the
/// messages, the replies owed, and the refusal's code if any.
fn parse(limit: usize, piece: usize, bytes: &[u8]) -> (Vec<Incoming>, Vec<u8>, Option<u16>) {
    let mut parser = FrameParser::new(limit);
    let mut pending = Vec::new();
    let mut messages = VecDeque::new();
    let mut replies = Vec::new();
    let mut refused = None;
    for chunk in bytes.chunks(piece) {
        pending.extend_from_slice(chunk);
        let parsed = parser.parse(&pending, &mut messages);
        replies.extend(parser.take_replies());
        match parsed {
            Ok(taken) => drop(pending.drain(..taken)),
            Err(refusal) => {
                refused = Some(refusal.code);
                break;
            }
        }
        if parser.ended() {
            break;
        }
        // A connection keeps at most one frame within the limit (a longer one is refused at its
        // header).
        if limit > 0 {
            assert!(pending.len() < MAX_HEADER + limit.max(125));
        }
    }
    for message in &messages {
        let len = match message {
            Incoming::Text(text) => text.len(),
            Incoming::Binary(data) => data.len(),
            Incoming::Ping | Incoming::Close => 0,
        };
        assert!(limit == 0 || len <= limit);
    }
    (Vec::from(messages), replies, refused)
}
