//! Plain broadcasts to one audience that follow one another in the stream (read from other nodes,
//! or appended by this one): delivered together, so that each recipient's queue is taken once
//! for all of them rather than once per broadcast, as the JS side holds a turn's broadcasts to
//! one audience (lib/engine/native-server.js `broadcast`).
//!
//! The ids read or appended meanwhile are recorded as seen (`StreamsNode::saw`) only once the
//! run is delivered: the newest id a node reports (a session's `disconnectOffset`) never runs
//! ahead of what it delivered, or a session restored from it would skip the run.
use super::StreamsNode;
use crate::io::SocketIo;
use crate::protocol::engine_packet::Message;
use std::sync::Arc;

/// Broadcasts delivered together at most: a long run still reaches the writers, which start on
/// it, while the rest of the batch is read.
const MAX_RUN: usize = 16;

/// Where a run goes: a server's namespace, and the rooms and exceptions of its broadcasts.
struct Audience {
    io: Arc<SocketIo>,
    nsp: String,
    rooms: Vec<String>,
    except: Vec<String>,
}

pub(super) struct BroadcastRun<'a> {
    node: &'a StreamsNode,
    audience: Option<Audience>,
    frames: Vec<Arc<[Message]>>,
    /// The stream offset of the run's last broadcast, when recovery marks it.
    offset: Option<u64>,
    /// Ids seen while the run waits, by stream: recorded once it is delivered.
    seen: Vec<(String, String)>,
}

impl<'a> BroadcastRun<'a> {
    pub(super) fn new(node: &'a StreamsNode) -> Self {
        Self {
            node,
            audience: None,
            frames: Vec::new(),
            offset: None,
            seen: Vec::new(),
        }
    }

    /// Entry `id` of `stream` was read or appended, and handled: recorded as seen now, or once
    /// the waiting run is delivered.
    pub(super) fn saw(&mut self, stream: &str, id: &str) {
        if self.audience.is_some() {
            self.seen.push((stream.to_owned(), id.to_owned()));
        } else {
            self.node.saw(stream, id);
        }
    }

    /// Adds a broadcast, framed already; the run so far is delivered first if it goes elsewhere
    /// or is full.
    pub(super) fn add(
        &mut self,
        io: &Arc<SocketIo>,
        nsp: &str,
        rooms: Vec<String>,
        except: Vec<String>,
        frames: Arc<[Message]>,
        offset: Option<u64>,
    ) {
        let same = self.audience.as_ref().is_some_and(|audience| {
            Arc::ptr_eq(&audience.io, io)
                && audience.nsp == nsp
                && audience.rooms == rooms
                && audience.except == except
        });
        if !same || self.frames.len() >= MAX_RUN {
            self.deliver();
            self.audience = Some(Audience {
                io: Arc::clone(io),
                nsp: nsp.to_owned(),
                rooms,
                except,
            });
        }
        self.frames.push(frames);
        if offset.is_some() {
            self.offset = offset;
        }
    }

    /// Delivers the run so far, then records the ids seen meanwhile: before anything that must
    /// come after it (an entry for JS, the writers' wake-up).
    pub(super) fn deliver(&mut self) {
        if let Some(audience) = self.audience.take() {
            audience.io.namespace(&audience.nsp).broadcast_frames(
                &audience.rooms,
                &audience.except,
                &self.frames,
                self.offset.take(),
            );
            self.frames.clear();
        }
        for (stream, id) in self.seen.drain(..) {
            self.node.saw(&stream, &id);
        }
    }
}
