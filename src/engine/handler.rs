//! The seam between the engine and whatever consumes its sessions (the JS binding today, the
//! Socket.IO layer later): the engine knows nothing about namespaces or JavaScript.
use super::close_reason::CloseReason;
use super::SessionHandle;
use crate::protocol::engine_packet::{Message, Packet};
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;

/// Names a connection handed over by the HTTP server; the consumer chooses it, to learn when the
/// connection is gone (`on_connection_closed`).
pub type ConnectionId = u64;

/// Receives what happens to the engine's sessions, each named by its handle. Called from I/O
/// threads: implementations must be quick and must not block.
pub trait EngineHandler: Send + Sync + 'static {
    fn on_message(&self, session: SessionHandle, message: Message);
    /// A WebSocket answered the upgrade probe.
    fn on_upgrading(&self, session: SessionHandle);
    /// The session now runs over WebSocket.
    fn on_upgrade(&self, session: SessionHandle);
    fn on_close(&self, session: SessionHandle, reason: CloseReason);
    /// A handed-over connection is closed, whatever became of it (a session's WebSocket, a failed
    /// upgrade, a refused one): its socket is released. Reported once per connection.
    fn on_connection_closed(&self, connection: ConnectionId);
    /// A handed-over connection goes back to the HTTP server, for a request the engine does not
    /// serve itself: its descriptor `fd` (the consumer owns it now) and the bytes already read
    /// from it, which come first.
    fn on_connection_handed_back(&self, connection: ConnectionId, fd: RawFd, read: Vec<u8>);
    /// The body answering the session's waiting long-poll GET.
    fn on_poll_answer(&self, session: SessionHandle, body: String);
    /// Resolves once the consumer has capacity for more events (None: it has now); connections
    /// wait on it before reading further, so a flood cannot grow the process's memory without
    /// bound.
    fn wait_for_capacity(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> {
        None
    }
    /// Whether `on_packet` is wanted: forwarding every packet costs, so only when listened to.
    fn wants_packets(&self) -> bool {
        false
    }
    /// A packet was received (`incoming`) or created for sending.
    fn on_packet(&self, _session: SessionHandle, _packet: &Packet, _incoming: bool) {}
}
