//! Connection-state recovery: the packets a disconnected client may miss, kept so that it can be
//! replayed on its return. Sessions themselves (pid, rooms, `socket.data`) live in JS, which
//! owns `socket.data`; the packets, which can be many, live here.
//!
//! The storage sits behind `PacketStore` so that a cluster backend can take the in-memory log's
//! place.
pub mod log;

use crate::protocol::engine_packet::Message;
use std::sync::Arc;

/// A stored packet: the frames exactly as sent (the text frame already carries the offset as the
/// last data element) and the broadcast's room filter.
#[derive(Debug, Clone)]
pub struct StoredPacket {
    /// Monotonic per store, so that lookups are a binary search.
    pub offset: u64,
    pub frames: Arc<[Message]>,
    pub rooms: Vec<Arc<str>>,
    pub except: Vec<Arc<str>>,
}

impl StoredPacket {
    /// Whether a session in `session_rooms` would have received this packet (upstream's
    /// `shouldIncludePacket`).
    pub fn reaches(&self, session_rooms: &[Arc<str>]) -> bool {
        let included =
            self.rooms.is_empty() || session_rooms.iter().any(|room| self.rooms.contains(room));
        let excluded = session_rooms.iter().any(|room| self.except.contains(room));
        included && !excluded
    }

    fn weight(&self) -> usize {
        let frames: usize = self
            .frames
            .iter()
            .map(|frame| match frame {
                Message::Text(text) => text.frame().len(),
                Message::Binary(data) => data.len(),
            })
            .sum();
        let rooms: usize = self
            .rooms
            .iter()
            .chain(&self.except)
            .map(|room| room.len())
            .sum();
        frames + rooms + std::mem::size_of::<Self>()
    }
}

/// Why a client cannot be given what it missed: it gets a fresh session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrecoverable {
    /// Packets after its offset were already dropped (by age or by the byte budget).
    Evicted,
    /// The offset was never issued by this store.
    UnknownOffset,
}

/// Where a namespace's packets are kept for recovery.
pub trait PacketStore: Send + Sync {
    fn append(&self, nsp: &str, packet: StoredPacket);
    /// Whether everything stored after `offset` is still here, so that a session can be restored
    /// from it.
    fn covers(&self, nsp: &str, offset: u64) -> Result<(), Unrecoverable>;
    /// Every stored packet after `offset` that reaches `rooms`, in order.
    fn missed_since(
        &self,
        nsp: &str,
        offset: u64,
        rooms: &[Arc<str>],
    ) -> Result<Vec<StoredPacket>, Unrecoverable>;
}
