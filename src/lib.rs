//! socket.io-rs: the Rust core of a socket.io server for Node.js.
mod binding;
