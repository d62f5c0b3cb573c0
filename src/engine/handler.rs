//! The seam between the engine and whatever consumes its sessions (the JS binding today, the
//! Socket.IO layer later): the engine knows nothing about namespaces or JavaScript.
use super::close_reason::CloseReason;
use crate::protocol::engine_packet::{Message, Packet};

/// Receives what happens to the engine's sessions. Called from I/O threads: implementations
/// must be quick and must not block.
pub trait EngineHandler: Send + Sync + 'static {
    fn on_message(&self, sid: &str, message: Message);
    /// A WebSocket answered the upgrade probe.
    fn on_upgrading(&self, sid: &str);
    /// The session now runs over WebSocket.
    fn on_upgrade(&self, sid: &str);
    fn on_close(&self, sid: &str, reason: CloseReason);
    /// The body answering the session's waiting long-poll GET.
    fn on_poll_answer(&self, sid: &str, body: String);
    /// Whether `on_packet` is wanted: forwarding every packet costs, so only when listened to.
    fn wants_packets(&self) -> bool {
        false
    }
    /// A packet was received (`incoming`) or created for sending.
    fn on_packet(&self, _sid: &str, _packet: &Packet, _incoming: bool) {}
}
