//! Wire formats, pure data and functions: no I/O, no tokio, no napi, so they are unit-tested and
//! fuzzed on their own (fuzz/). Text frames are tungstenite's `Utf8Bytes` (validated, shared
//! bytes), the one type borrowed from the WebSocket library, so that a frame encoded here is
//! written to every connection without a copy.
pub mod client_frames;
pub mod engine_packet;
pub mod payload;
pub mod payload_v3;
pub mod permessage_deflate;
pub mod socketio_msgpack;
pub mod socketio_packet;
pub mod socketio_reassembly;

/// The Engine.IO protocol revision a session speaks: 4, or 3 for socket.io-client 2.x
/// (`allowEIO3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    V3,
    V4,
}

impl Revision {
    /// The revision of the `EIO` query parameter the server accepted: 3 only with `allowEIO3`,
    /// anything else is 4.
    pub fn from_eio(eio: u32) -> Self {
        if eio == 3 {
            Revision::V3
        } else {
            Revision::V4
        }
    }
}
