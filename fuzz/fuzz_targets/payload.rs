//! Engine.IO v4 polling payloads: packets joined by the record separator.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socket_io_rs::protocol::payload;

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let (packets, err) = payload::decode(&body);
    let parts = body.split('\x1e').count();
    assert!(packets.len() + usize::from(err.is_some()) <= parts);
    if err.is_none() {
        assert_eq!(packets.len(), parts);
    }
    // What was decoded encodes into a body that decodes to the same packets.
    if !packets.is_empty() {
        assert_eq!(payload::decode(&payload::encode(&packets)), (packets, None));
    }
});
