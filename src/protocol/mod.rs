//! Wire formats, pure data and functions: no I/O, no tokio, no napi, so they are unit-tested and
//! fuzzed on their own.
pub mod engine_packet;
pub mod payload;
pub mod socketio_packet;
