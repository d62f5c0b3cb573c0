//! How the owner of a connection handed over by the HTTP server learns what became of it.
use super::handler::{ConnectionId, EngineHandler};
use std::os::fd::RawFd;
use std::sync::Arc;

/// Reports a handed-over connection closed when dropped, unless it was handed back. The HTTP
/// server that accepted the connection no longer sees it, so this is how its owner learns that
/// the connection is gone (Node's server keeps counting it until then, as it would its own
/// socket). The connection's task takes it as an argument, which an async fn drops after its
/// locals (the stream among them), or with the task when it is dropped without having run. (A
/// wrapping future would hold the task's future twice over: rustc does not overlap an async fn's
/// arguments with what it awaits.)
pub(super) struct ConnectionLease {
    /// None once the connection is handed back: it is the HTTP server's again.
    handler: Option<Arc<dyn EngineHandler>>,
    connection: ConnectionId,
}

impl ConnectionLease {
    pub(super) fn new(handler: &Arc<dyn EngineHandler>, connection: ConnectionId) -> Self {
        Self {
            handler: Some(Arc::clone(handler)),
            connection,
        }
    }

    /// Gives the connection (descriptor `fd`, whose ownership passes on) back to the HTTP server
    /// with the bytes read from it, which the server reads first.
    pub(super) fn hand_back(mut self, fd: RawFd, read: Vec<u8>) {
        if let Some(handler) = self.handler.take() {
            handler.on_connection_handed_back(self.connection, fd, read);
        }
    }
}

impl Drop for ConnectionLease {
    fn drop(&mut self) {
        if let Some(handler) = &self.handler {
            handler.on_connection_closed(self.connection);
        }
    }
}
