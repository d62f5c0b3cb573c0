//! Stream entries of a Redis Streams cluster as other nodes (or anyone with access to Redis)
//! write them: a plain broadcast is recognised only when its data is an upstream broadcast, and
//! the packet delivered from it is the broadcast's JSON array with the entry id appended.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socket_io_rs::cluster::redis_streams::entry::{PlainBroadcast, StreamEntry};

fuzz_target!(|data: String| {
    let entry = StreamEntry {
        id: "1700000000000-3".into(),
        uid: "other".into(),
        nsp: "/".into(),
        kind: 3,
        data: Some(data),
    };
    let Some(broadcast) = PlainBroadcast::from_entry(&entry) else {
        return;
    };
    let packet = broadcast.packet("/", Some(&entry.id));
    let arguments: Vec<serde_json::Value> =
        serde_json::from_str(&packet.data).expect("the delivered data is a JSON array");
    assert_eq!(
        arguments.last().and_then(|last| last.as_str()),
        Some(entry.id.as_str()),
        "the entry id is the last argument"
    );
});
