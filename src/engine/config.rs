//! Engine.IO server options, validated and typed.
use std::time::Duration;

/// The options of upstream's engine.io `ServerOptions` that the Rust core acts on.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub upgrade_timeout: Duration,
    /// `maxHttpBufferSize`: the largest message or polling body accepted, in bytes.
    pub max_payload: usize,
    /// Whether polling sessions are told they may upgrade to WebSocket.
    pub allow_upgrades: bool,
    /// Whether the `websocket` transport is enabled at all.
    pub websocket_enabled: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            allow_upgrades: true,
            websocket_enabled: true,
        }
    }
}
