//! Why a session closed, with upstream engine.io's exact strings.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed its transport (close packet, WebSocket close, TCP end).
    TransportClose,
    /// The transport failed; the description says how (upstream's `description`).
    TransportError(String),
    ParseError,
    /// `socket.close()` from the server side.
    ForcedClose,
    PingTimeout,
}

impl CloseReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError(_) => "transport error",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::PingTimeout => "ping timeout",
        }
    }

    pub fn description(&self) -> Option<&str> {
        match self {
            CloseReason::TransportError(description) => Some(description),
            _ => None,
        }
    }
}
