//! Connection-state recovery as JS drives it: the packet log's options, stored packets, replay.
use super::engine::BindingEngine;
use super::error::invalid_arg;
use crate::protocol::engine_packet::Message;
use crate::recovery::log::{MemoryPacketLog, Retention};
use crate::recovery::{PacketStore, StoredPacket};
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

#[napi(object, object_to_js = false)]
pub struct BindingRecoveryOptions {
    pub max_disconnection_duration: f64,
    /// Upper bound on the bytes of packets kept per namespace.
    pub max_buffered_bytes: f64,
}

impl BindingRecoveryOptions {
    pub(super) fn to_store(&self) -> napi::Result<Arc<dyn PacketStore>> {
        let valid = |value: f64| value.is_finite() && value >= 0.0;
        if !valid(self.max_disconnection_duration) || !valid(self.max_buffered_bytes) {
            return Err(invalid_arg(
                "connectionStateRecovery: maxDisconnectionDuration and maxBufferedBytes must be non-negative numbers"
                    .into(),
            ));
        }
        Ok(Arc::new(MemoryPacketLog::new(Retention {
            max_age: Duration::from_millis(self.max_disconnection_duration as u64),
            max_bytes: self.max_buffered_bytes as usize,
        })))
    }
}

/// How a sent packet is kept: its offset (the number behind the string the client echoes back)
/// and the broadcast's rooms and exclusions.
#[napi(object, object_to_js = false)]
pub struct BindingStoredPacket {
    pub offset: f64,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
}

impl BindingStoredPacket {
    pub(super) fn into_stored(self, frames: Arc<[Message]>) -> StoredPacket {
        StoredPacket {
            offset: self.offset as u64,
            frames,
            rooms: self.rooms.into_iter().map(Arc::from).collect(),
            except: self.except.into_iter().map(Arc::from).collect(),
        }
    }
}

#[napi]
impl BindingEngine {
    /// Whether a session of namespace `nsp` can be restored from `offset`: nothing stored after
    /// it was dropped, and the offset was issued.
    #[napi]
    pub fn recoverable(&self, nsp: String, offset: f64) -> bool {
        let Some(store) = &self.recovery else {
            return false;
        };
        offset.is_finite() && offset >= 0.0 && store.covers(&nsp, offset as u64).is_ok()
    }

    /// Queues to session `handle` every packet of namespace `nsp` stored after `offset` that its
    /// `rooms` would have received, in order. Returns the offset of the last packet queued
    /// (`offset` when none), or null when that cannot be done completely (packets were dropped,
    /// or the offset is unknown): the client then gets a fresh session.
    #[napi]
    pub fn replay(&self, handle: f64, nsp: String, offset: f64, rooms: Vec<String>) -> Option<f64> {
        let store = self.recovery.as_ref()?;
        if !(offset.is_finite() && offset >= 0.0) {
            return None;
        }
        let rooms: Vec<Arc<str>> = rooms.into_iter().map(Arc::from).collect();
        let missed = store.missed_since(&nsp, offset as u64, &rooms).ok()?;
        let mut last = offset;
        for packet in missed {
            self.engine.send_to(handle as u64, &packet.frames);
            last = packet.offset as f64;
        }
        Some(last)
    }
}
