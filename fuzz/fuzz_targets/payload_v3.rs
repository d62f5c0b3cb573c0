//! Engine.IO v3 polling payloads: the text form (UTF-16 lengths) and the binary POST form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::payload_v3;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the form, as a POST's content type does.
    let Some((&form, body)) = data.split_first() else {
        return;
    };
    let (packets, length) = if form % 2 == 0 {
        let text = String::from_utf8_lossy(body);
        (payload_v3::decode(&text).0, text.len())
    } else {
        (payload_v3::decode_binary(body).0, body.len())
    };
    // Every packet takes at least a length digit, a separator and a type.
    assert!(packets.len() * 3 <= length);
    // Answers use the text form, whatever form the packets came in.
    if !packets.is_empty() {
        assert_eq!(
            payload_v3::decode(&payload_v3::encode(&packets)),
            (packets, None)
        );
    }
});
