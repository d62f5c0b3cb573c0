//! Messages on their way to several sessions (a broadcast's frames), queued to each WebSocket as
//! one reference. Small ones are encoded as WebSocket frames once, by the first writer that writes
//! them, and every other connection writes those same bytes: no frame is copied per recipient.
use crate::protocol::engine_packet::Message;
use bytes::Bytes;
use std::sync::{Arc, OnceLock};

pub struct SharedMessages {
    messages: Arc<[Message]>,
    /// The messages as Engine.IO v4 WebSocket frames, headers included; None when they are not
    /// worth encoding once (large payloads are written from where they are).
    encoded: OnceLock<Option<Bytes>>,
}

impl SharedMessages {
    pub fn new(messages: Arc<[Message]>) -> Arc<Self> {
        Arc::new(Self {
            messages,
            encoded: OnceLock::new(),
        })
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Their frames, encoded by `encode` on the first call (None if it declines).
    pub fn encoded(&self, encode: impl FnOnce(&[Message]) -> Option<Vec<u8>>) -> Option<&[u8]> {
        self.encoded
            .get_or_init(|| encode(&self.messages).map(Bytes::from))
            .as_deref()
    }
}

impl std::fmt::Debug for SharedMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMessages")
            .field("messages", &self.messages.len())
            .finish()
    }
}
