//! One namespace: its room index, its share of the packet log, and the fan-out that uses both.
//! Sockets are named by their Socket.IO id and carried by an engine session (its handle).
use super::packet::{OutgoingPacket, StoredAs};
use super::parser::{FramingError, Parser};
use crate::engine::session::Session;
use crate::engine::{Engine, SessionHandle};
use crate::protocol::engine_packet::Message;
use crate::recovery::PacketStore;
use crate::rooms::RoomIndex;
use parking_lot::Mutex;
use std::sync::Arc;
use tracing::debug;

pub struct Namespace {
    name: String,
    rooms: Mutex<RoomIndex<Arc<Session>>>,
    engine: Arc<Engine>,
    /// The packet log (shared by every namespace, keyed by name): set when recovery is on.
    log: Option<Arc<dyn PacketStore>>,
    parser: Parser,
}

impl Namespace {
    pub(super) fn new(
        name: &str,
        engine: Arc<Engine>,
        log: Option<Arc<dyn PacketStore>>,
        parser: Parser,
    ) -> Self {
        Self {
            name: name.to_owned(),
            rooms: Mutex::new(RoomIndex::default()),
            engine,
            log,
            parser,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn join(&self, id: &str, rooms: &[String]) {
        let mut index = self.rooms.lock();
        for room in rooms {
            index.join(id, room);
        }
    }

    pub fn leave(&self, id: &str, rooms: &[String]) {
        let mut index = self.rooms.lock();
        for room in rooms {
            index.leave(id, room);
        }
    }

    /// The socket `id` receives broadcasts from now on, through `session`. A socket that takes
    /// over the id of another (a restored session) replaces it; one whose session is already
    /// gone receives nothing.
    pub fn connect(&self, id: &str, session: SessionHandle) {
        let mut index = self.rooms.lock();
        match self.engine.session_by_handle(session) {
            Some(session) => index.connect(id, session),
            None => index.disconnect(id),
        }
    }

    pub fn disconnect(&self, id: &str) {
        self.rooms.lock().disconnect(id);
    }

    /// The offset of the last stored packet a broadcast sent to the connected socket `id` (0 for
    /// none).
    pub fn last_stored_offset(&self, id: &str) -> u64 {
        self.rooms.lock().last_stored_offset(id)
    }

    /// Sends `packet` to the connected sockets in any of `rooms` (all when empty) and in none of
    /// `except`; framed once, whatever the number of recipients. Returns how many got it.
    pub fn broadcast(
        &self,
        rooms: &[String],
        except: &[String],
        packet: OutgoingPacket,
    ) -> Result<usize, FramingError> {
        let stored_offset = packet.stored.as_ref().map(|stored| stored.offset);
        let frames = self.frame(&packet)?;
        let recipients = self.queue_to_recipients(rooms, except, &frames, stored_offset);
        self.store(packet.stored, frames);
        Ok(recipients)
    }

    /// `broadcast` for several packets to the same sockets, in order. The recipients are found,
    /// and each one's queue taken, once for all of them rather than once per packet: what a
    /// burst of broadcasts to one audience costs per recipient is one queueing.
    pub fn broadcast_all(
        &self,
        rooms: &[String],
        except: &[String],
        packets: Vec<OutgoingPacket>,
    ) -> Result<usize, FramingError> {
        let framed = packets
            .into_iter()
            .map(|packet| Ok((self.frame(&packet)?, packet.stored)))
            .collect::<Result<Vec<_>, FramingError>>()?;
        let last_offset = framed
            .iter()
            .rev()
            .find_map(|(_, stored)| stored.as_ref().map(|stored| stored.offset));
        let frames = concatenated(framed.iter().map(|(frames, _)| frames));
        let recipients = self.queue_to_recipients(rooms, except, &frames, last_offset);
        for (frames, stored) in framed {
            self.store(stored, frames);
        }
        Ok(recipients)
    }

    /// A packet's frames under this namespace's parser.
    pub fn frame(&self, packet: &OutgoingPacket) -> Result<Arc<[Message]>, FramingError> {
        packet.frames(self.parser)
    }

    /// `broadcast` for packets framed already (`frame`) and kept elsewhere than this server's log
    /// (a cluster's stream), in order: each recipient's queue is taken once for all of them, and
    /// marked with `offset` (when set) as the last stored packet it was sent (see
    /// `last_stored_offset`), the last packet's.
    pub fn broadcast_frames<'a>(
        &self,
        rooms: &[String],
        except: &[String],
        frames: impl IntoIterator<Item = &'a Arc<[Message]>>,
        offset: Option<u64>,
    ) -> usize {
        self.queue_to_recipients(rooms, except, &concatenated(frames), offset)
    }

    /// Queues `frames` to the connected sockets in any of `rooms` (all when empty) and in none
    /// of `except`, marking `offset` on each (see `broadcast_frames`). Returns how many took
    /// them.
    fn queue_to_recipients(
        &self,
        rooms: &[String],
        except: &[String],
        frames: &Arc<[Message]>,
        offset: Option<u64>,
    ) -> usize {
        let mut sending = self.engine.sending(frames);
        self.rooms
            .lock()
            .for_each_recipient(rooms, except, offset, |session| sending.to(session));
        sending.finish()
    }

    /// Sends `packet` to the sessions `targets`, framed once, and keeps it for recovery when it
    /// says so.
    pub fn send(
        &self,
        targets: &[SessionHandle],
        packet: OutgoingPacket,
    ) -> Result<(), FramingError> {
        let frames = self.frame(&packet)?;
        self.send_frames(targets, frames, packet.stored);
        Ok(())
    }

    /// Sends a packet already framed (by a parser in JS) to the sessions `targets`, and keeps it
    /// for recovery when `stored` says so.
    pub fn send_frames(
        &self,
        targets: &[SessionHandle],
        frames: Arc<[Message]>,
        stored: Option<StoredAs>,
    ) {
        self.engine.send_to_each(targets, &frames);
        self.store(stored, frames);
    }

    /// Keeps a sent packet for recovery when it says so.
    fn store(&self, stored: Option<StoredAs>, frames: Arc<[Message]>) {
        if let (Some(stored), Some(log)) = (stored, &self.log) {
            log.append(&self.name, stored.into_stored(frames));
        }
    }

    /// Whether a session can be restored from `offset`: nothing stored after it was dropped, and
    /// the offset was issued.
    pub fn recoverable(&self, offset: u64) -> bool {
        self.log.as_ref().is_some_and(|log| {
            let covered = log.covers(&self.name, offset);
            if let Err(reason) = covered {
                debug!(
                    target: "socket.io:namespace",
                    nsp = %self.name,
                    offset,
                    ?reason,
                    "connection state not recoverable",
                );
            }
            covered.is_ok()
        })
    }

    /// Queues to `session` every packet stored after `offset` that a socket in `rooms` would
    /// have received, in order. Returns the offset of the last one (`offset` when none), or None
    /// when that cannot be done completely (packets were dropped, the offset is unknown): the
    /// client then gets a fresh session.
    pub fn replay(&self, session: SessionHandle, offset: u64, rooms: &[String]) -> Option<u64> {
        let log = self.log.as_ref()?;
        let rooms: Vec<Arc<str>> = rooms.iter().map(|room| Arc::from(room.as_str())).collect();
        let missed = log.missed_since(&self.name, offset, &rooms).ok()?;
        debug!(
            target: "socket.io:namespace",
            nsp = %self.name,
            offset,
            missed = missed.len(),
            "replaying missed packets",
        );
        let mut last = offset;
        for packet in missed {
            self.engine.send_to(session, &packet.frames);
            last = packet.offset;
        }
        Some(last)
    }
}

/// The frames of several packets, in order, as one list (the first packet's own when it is alone).
fn concatenated<'a>(frames: impl IntoIterator<Item = &'a Arc<[Message]>>) -> Arc<[Message]> {
    let mut frames = frames.into_iter().peekable();
    match frames.next() {
        Some(first) if frames.peek().is_none() => Arc::clone(first),
        Some(first) => first
            .iter()
            .chain(frames.flat_map(|more| more.iter()))
            .cloned()
            .collect(),
        None => Arc::from(Vec::new()),
    }
}
