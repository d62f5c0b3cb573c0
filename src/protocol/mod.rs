//! Wire formats, pure data and functions: no I/O, no tokio, no napi, so they are unit-tested and
//! fuzzed on their own.
pub mod engine_packet;
pub mod payload;
pub mod payload_v3;
pub mod permessage_deflate;
pub mod socketio_packet;
pub mod socketio_reassembly;

/// The Engine.IO protocol revision a session speaks: 4, or 3 for socket.io-client 2.x
/// (`allowEIO3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    V3,
    V4,
}
