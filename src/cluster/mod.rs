//! Cluster adapters in Rust: nodes of one socket.io cluster share broadcasts, remote operations
//! and recovery sessions through a broker, wire-compatible with upstream's npm adapters.
pub mod redis_streams;
