//! The room index of one namespace: which connected socket is in which room, so that a broadcast's
//! recipients are found without a call per recipient across the JS boundary. Pure data.
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

pub type SocketId = Arc<str>;
pub type Room = Arc<str>;

/// `S` is what carries a connected socket's packets: the engine's session itself, so that a
/// broadcast reaches it without a lookup per recipient.
pub struct RoomIndex<S> {
    rooms: FxHashMap<Room, FxHashSet<SocketId>>,
    /// Sockets that receive broadcasts (connected).
    connected: FxHashMap<SocketId, Member<S>>,
}

impl<S> Default for RoomIndex<S> {
    fn default() -> Self {
        Self {
            rooms: FxHashMap::default(),
            connected: FxHashMap::default(),
        }
    }
}

/// A connected socket: the session that carries it, and the offset of the last packet stored for
/// recovery that it was sent (0 for none), so that a client which had all of them can be told
/// apart from one that lost some.
struct Member<S> {
    session: S,
    last_stored_offset: u64,
}

impl<S> RoomIndex<S> {
    pub fn join(&mut self, id: &str, room: &str) {
        let id = self.shared_id(id);
        self.rooms.entry(Arc::from(room)).or_default().insert(id);
    }

    pub fn leave(&mut self, id: &str, room: &str) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    pub fn connect(&mut self, id: &str, session: S) {
        let id = self.shared_id(id);
        self.connected.insert(
            id,
            Member {
                session,
                last_stored_offset: 0,
            },
        );
    }

    /// The offset of the last stored packet sent to the connected socket `id` through a
    /// broadcast of this index (0 for none).
    pub fn last_stored_offset(&self, id: &str) -> u64 {
        self.connected
            .get(id)
            .map_or(0, |member| member.last_stored_offset)
    }

    pub fn disconnect(&mut self, id: &str) {
        self.connected.remove(id);
    }

    /// One allocation per socket id, whatever the number of rooms it is in.
    fn shared_id(&self, id: &str) -> SocketId {
        match self.connected.get_key_value(id) {
            Some((shared, _)) => Arc::clone(shared),
            None => Arc::from(id),
        }
    }

    /// Calls `deliver` with the session of each connected socket in any of `rooms` (every
    /// connected socket when `rooms` is empty) and in none of `except`, once each (upstream's
    /// `apply`). A packet stored for recovery under `stored_offset` is recorded as the last one
    /// each of them was sent.
    pub fn for_each_recipient(
        &mut self,
        rooms: &[String],
        except: &[String],
        stored_offset: Option<u64>,
        mut deliver: impl FnMut(&S),
    ) {
        let excluded: FxHashSet<&str> = except
            .iter()
            .filter_map(|room| self.rooms.get(room.as_str()))
            .flatten()
            .map(|id| &**id)
            .collect();
        let mut deliver_to = |member: &mut Member<S>| {
            if let Some(offset) = stored_offset {
                member.last_stored_offset = offset;
            }
            deliver(&member.session);
        };
        if rooms.is_empty() {
            self.connected
                .iter_mut()
                .filter(|(id, _)| !excluded.contains(&***id))
                .for_each(|(_, member)| deliver_to(member));
            return;
        }
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for members in rooms
            .iter()
            .filter_map(|room| self.rooms.get(room.as_str()))
        {
            for id in members {
                if excluded.contains(&**id) || !seen.insert(id) {
                    continue;
                }
                if let Some(member) = self.connected.get_mut(id) {
                    deliver_to(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RoomIndex<u64> {
        let mut index = RoomIndex::default();
        for (id, session, rooms) in [
            ("a", 1, ["a", "r1"]),
            ("b", 2, ["b", "r1"]),
            ("c", 3, ["c", "r2"]),
        ] {
            for room in rooms {
                index.join(id, room);
            }
            index.connect(id, session);
        }
        index
    }

    fn recipients(
        index: &mut RoomIndex<u64>,
        rooms: &[String],
        except: &[String],
        stored_offset: Option<u64>,
    ) -> Vec<u64> {
        let mut sessions = Vec::new();
        index.for_each_recipient(rooms, except, stored_offset, |&session| {
            sessions.push(session)
        });
        sessions
    }

    fn sorted(mut sessions: Vec<u64>) -> Vec<u64> {
        sessions.sort_unstable();
        sessions
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn everyone_when_no_room_is_named() {
        assert_eq!(
            sorted(recipients(&mut index(), &[], &[], None)),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn rooms_are_a_union_without_duplicates_and_except_excludes() {
        let mut index = index();
        assert_eq!(
            sorted(recipients(&mut index, &strings(&["r1", "a"]), &[], None)),
            vec![1, 2]
        );
        assert_eq!(
            sorted(recipients(
                &mut index,
                &strings(&["r1", "r2"]),
                &strings(&["b"]),
                None
            )),
            vec![1, 3]
        );
        assert_eq!(
            sorted(recipients(&mut index, &[], &strings(&["r1"]), None)),
            vec![3]
        );
        assert!(recipients(&mut index, &strings(&["nobody"]), &[], None).is_empty());
    }

    #[test]
    fn only_connected_sockets_receive() {
        let mut index = index();
        index.join("pending", "r1");
        index.disconnect("b");
        assert_eq!(
            sorted(recipients(&mut index, &strings(&["r1"]), &[], None)),
            vec![1]
        );
        index.leave("a", "r1");
        assert!(recipients(&mut index, &strings(&["r1"]), &[], None).is_empty());
    }

    #[test]
    fn a_stored_packet_is_recorded_for_its_recipients_only() {
        let mut index = index();
        recipients(&mut index, &strings(&["r1"]), &[], Some(4));
        recipients(&mut index, &strings(&["a"]), &[], None);
        recipients(&mut index, &[], &strings(&["r1"]), Some(7));
        assert_eq!(index.last_stored_offset("a"), 4);
        assert_eq!(index.last_stored_offset("b"), 4);
        assert_eq!(index.last_stored_offset("c"), 7);
        index.connect("a", 9);
        assert_eq!(index.last_stored_offset("a"), 0);
        assert_eq!(index.last_stored_offset("nobody"), 0);
    }
}
