//! Rooms as JS drives them: the JS adapter mirrors its joins and leaves here, so that a broadcast
//! finds its recipients in Rust, with no JS work per recipient.
use super::engine::{BindingEngine, BindingPacket};
use crate::rooms::RoomIndex;
use napi_derive::napi;

#[napi]
impl BindingEngine {
    #[napi]
    pub fn join(&self, nsp: String, id: String, rooms: Vec<String>) {
        let index = self.room_index(&nsp);
        let mut index = index.lock();
        for room in &rooms {
            index.join(&id, room);
        }
    }

    #[napi]
    pub fn leave(&self, nsp: String, id: String, rooms: Vec<String>) {
        let index = self.room_index(&nsp);
        let mut index = index.lock();
        for room in &rooms {
            index.leave(&id, room);
        }
    }

    /// The socket `id` receives broadcasts from now on, through the session `handle`.
    #[napi]
    pub fn connect_socket(&self, nsp: String, id: String, handle: f64) {
        self.room_index(&nsp).lock().connect(&id, handle as u64);
    }

    /// The offset of the last stored packet a broadcast of `nsp` sent to the connected socket
    /// `id` (0 for none).
    #[napi]
    pub fn last_stored_offset(&self, nsp: String, id: String) -> f64 {
        self.room_index(&nsp).lock().last_stored_offset(&id) as f64
    }

    #[napi]
    pub fn disconnect_socket(&self, nsp: String, id: String) {
        self.room_index(&nsp).lock().disconnect(&id);
    }

    /// Sends `packet` to the connected sockets of `nsp` in any of `rooms` (all when empty) and in
    /// none of `except`: one call, whatever the number of recipients. Returns how many poll
    /// answers wait in `takePollAnswers`.
    #[napi]
    pub fn broadcast(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
        packet: BindingPacket,
    ) -> napi::Result<u32> {
        let stored_offset = packet.5.as_ref().map(|stored| stored.offset as u64);
        let recipients =
            self.room_index(&packet.0)
                .lock()
                .recipients(&rooms, &except, stored_offset);
        self.deliver_packet(&recipients, packet)?;
        Ok(self.handler.answers_waiting())
    }
}

impl BindingEngine {
    fn room_index(&self, nsp: &str) -> std::sync::Arc<parking_lot::Mutex<RoomIndex>> {
        if let Some(index) = self.rooms.get(nsp) {
            return std::sync::Arc::clone(&index);
        }
        std::sync::Arc::clone(&self.rooms.entry(nsp.to_owned()).or_default())
    }
}
