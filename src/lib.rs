//! socket.io-rs: the Rust core of a socket.io server for Node.js.
//!
//! # Layout
//! - `protocol`: wire formats (Engine.IO and Socket.IO packets, polling payloads); pure, no I/O.
//! - `engine`: the Engine.IO v4 server: sessions, transports, heartbeat, upgrade.
//! - `rooms`: the room index behind broadcasts.
//! - `recovery`: the packet log behind connection-state recovery.
//! - `io`: the Socket.IO layer on the engine: clients, namespaces, fan-out, events for JS.
//! - `cluster`: cluster adapters (Redis Streams) that fan other nodes' broadcasts out in Rust.
//! - `logs`: the core's `tracing` events as `debug` package lines, under upstream's namespaces.
//! - `binding`: the only module that speaks napi; conversions around `io::SocketIo`. Behind the
//!   `napi` feature (on by default), so that the core alone builds into executables (the fuzz
//!   targets).
pub mod cluster;
pub mod engine;
pub mod io;
pub mod logs;
pub mod protocol;
pub mod recovery;
pub mod rooms;

#[cfg(feature = "napi")]
pub mod binding;
