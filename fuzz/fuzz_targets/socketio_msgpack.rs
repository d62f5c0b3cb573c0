//! socket.io-msgpack-parser messages as a client may send them: decoded without panicking, and
//! every packet decoded encodes back into a message that decodes to the same packet.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::socketio_msgpack::{decode, encode, Decoded};

fuzz_target!(|message: &[u8]| {
    let message = Bytes::copy_from_slice(message);
    let Ok(Decoded::Packet(packet)) = decode(&message) else {
        return;
    };
    assert!(
        !packet.kind.is_binary(),
        "msgpack packets carry binary values inline"
    );
    let data: Option<serde_json::Value> = (!packet.data.is_empty())
        .then(|| serde_json::from_str(&packet.data).expect("the data is JSON"));
    assert_eq!(
        data.is_some(),
        !packet.data.is_empty(),
        "no data is an empty text"
    );
    let placeholders = packet.data.matches("\"_placeholder\":true").count();
    assert_eq!(
        placeholders,
        packet.attachments.len(),
        "one placeholder per binary value"
    );
    let encoded = encode(
        packet.kind,
        &packet.nsp,
        packet.id,
        &packet.data,
        &packet.attachments,
    )
    .expect("a decoded packet encodes");
    assert_eq!(
        decode(&Bytes::from(encoded)),
        Ok(Decoded::Packet(packet)),
        "and decodes back to itself"
    );
});
