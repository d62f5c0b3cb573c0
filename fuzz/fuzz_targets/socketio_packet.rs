//! Socket.IO packets as they arrive on a connection: text packets, and binary packets
//! reassembled from the binary messages that follow them.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::socketio_packet;
use socket_io_rs::protocol::socketio_reassembly::{IncomingPacket, Reassembler, ReassemblyError};

#[derive(Arbitrary, Debug)]
enum Incoming {
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Connection {
    max_attachments: u8,
    messages: Vec<Incoming>,
}

fuzz_target!(|connection: Connection| {
    let max = usize::from(connection.max_attachments % 16);
    let mut reassembler = Reassembler::default();
    // The attachments the waiting packet still expects, if one waits.
    let mut expected: Option<usize> = None;
    for message in connection.messages {
        match message {
            Incoming::Text(text) => {
                check_header(&text, max);
                let result = reassembler.text(&text, max);
                if expected.is_some() {
                    assert_eq!(result, Err(ReassemblyError::UnexpectedText));
                    continue;
                }
                match result {
                    Ok(Some(packet)) => {
                        assert!(!packet.kind.is_binary() && packet.attachments.is_empty());
                        check_round_trip(&packet, max);
                    }
                    Ok(None) => {
                        let header = socketio_packet::decode(&text, max).expect("it waits");
                        expected = Some(header.attachments);
                    }
                    Err(ReassemblyError::Parse(err)) => {
                        assert_eq!(socketio_packet::decode(&text, max), Err(err));
                    }
                    Err(other) => panic!("{other} while no packet waits"),
                }
            }
            Incoming::Binary(data) => {
                let result = reassembler.binary(Bytes::from(data));
                match expected {
                    None => assert_eq!(result, Err(ReassemblyError::UnexpectedBinary)),
                    Some(1) => {
                        let packet = result.expect("valid").expect("complete");
                        assert!(packet.kind.is_binary());
                        assert!((1..=max).contains(&packet.attachments.len()));
                        check_round_trip(&packet, max);
                        expected = None;
                    }
                    Some(more) => {
                        assert_eq!(result, Ok(None));
                        expected = Some(more - 1);
                    }
                }
            }
        }
        assert_eq!(reassembler.is_idle(), expected.is_none());
    }
});

/// A decoded header keeps within the limit, and its parts come from the text.
fn check_header(text: &str, max: usize) {
    let Ok(header) = socketio_packet::decode(text, max) else {
        return;
    };
    assert!(header.attachments <= max);
    assert_eq!(header.kind.is_binary(), header.attachments > 0);
    assert!(header.nsp.starts_with('/'));
    assert!(text.ends_with(header.data));
}

/// A packet encodes into messages that reassemble into the same packet.
fn check_round_trip(packet: &IncomingPacket, max: usize) {
    // Data that starts with '/' is not JSON (JS refuses it after parsing), and in the main
    // namespace it would be written where a namespace goes, as socket.io-parser writes it.
    if packet.nsp == "/" && packet.data.starts_with('/') {
        return;
    }
    let mut text = String::new();
    socketio_packet::encode_into(
        &mut text,
        packet.kind,
        packet.attachments.len(),
        &packet.nsp,
        packet.id,
        &packet.data,
    );
    let mut reassembler = Reassembler::default();
    let mut result = reassembler
        .text(&text, max)
        .expect("encoded packet decodes");
    for attachment in &packet.attachments {
        assert!(result.is_none());
        result = reassembler
            .binary(attachment.clone())
            .expect("attachment expected");
    }
    assert_eq!(result.as_ref(), Some(packet));
}
