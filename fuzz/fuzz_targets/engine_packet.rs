//! Engine.IO text packets (v4, and v3's `b4` binary form) and the base64 Node decodes.
#![no_main]
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::engine_packet::{decode_base64_leniently, Message, Packet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let decoded = [
        Packet::decode_text(text.as_ref().into()),
        Packet::decode_text_v3(text.as_ref().into()),
    ];
    for packet in decoded.into_iter().flatten() {
        match packet.encode_text() {
            Some(frame) => assert_eq!(Packet::decode_text(frame), Ok(packet)),
            None => assert!(matches!(packet, Packet::Message(Message::Binary(_)))),
        }
    }

    // Node skips what is not base64, so at most 3 bytes come of 4 characters; an encoder's
    // output, standard or URL-safe, decodes back exactly.
    assert!(decode_base64_leniently(&text).len() <= text.len() * 3 / 4);
    assert_eq!(decode_base64_leniently(&STANDARD.encode(data)), data);
    assert_eq!(decode_base64_leniently(&URL_SAFE_NO_PAD.encode(data)), data);
});
