//! The Socket.IO side of every engine session: the engine's handler. Incoming messages are decoded
//! as Socket.IO packets, binary ones reassembled (protocol/socketio_reassembly.rs), and each
//! happening is queued as an `IoEvent` for the consumer.
use super::event::IoEvent;
use super::event_queue::{EventQueue, Wakeup};
use super::parser::Parser;
use crate::engine::close_reason::CloseReason;
use crate::engine::handler::{ConnectionId, EngineHandler};
use crate::engine::SessionHandle;
use crate::protocol::engine_packet::{Message, Packet};
use crate::protocol::socketio_msgpack::{self, Decoded};
use crate::protocol::socketio_reassembly::{IncomingPacket, Reassembler, ReassemblyError};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use parking_lot::Mutex;
use rustc_hash::FxBuildHasher;
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread::ThreadId;
use tracing::debug;

/// socket.io-parser's default `maxAttachments`.
const MAX_ATTACHMENTS: usize = 10;

pub struct Clients {
    events: EventQueue<IoEvent>,
    parser: Parser,
    packets_listened: AtomicBool,
    messages_listened: AtomicBool,
    /// The sessions whose binary packet waits for attachments.
    reassembling: DashMap<SessionHandle, Reassembler, FxBuildHasher>,
    /// The consumer's thread (where `Clients` is made): a poll answer released by a send from
    /// there is handed back to that send's caller (`take_answers`) rather than queued.
    consumer_thread: ThreadId,
    answers: Mutex<Vec<(SessionHandle, String)>>,
    /// What the consumer's call in progress takes itself once it returns (a `CallerTakes`), so
    /// that what it queues wakes no one.
    caller_takes: AtomicU8,
}

/// What a call from the consumer takes itself as soon as it returns; each takes what the one
/// before it does.
#[derive(Clone, Copy)]
#[repr(u8)]
enum CallerTakes {
    Nothing,
    /// The poll answers it released (`take_answers`).
    PollAnswers,
    /// The poll answers and the events it queued (`drain`).
    Everything,
}

/// Restores what the consumer takes when the call that changed it returns.
struct CallerTakesGuard<'a> {
    clients: &'a Clients,
    previous: u8,
}

impl Drop for CallerTakesGuard<'_> {
    fn drop(&mut self) {
        self.clients
            .caller_takes
            .store(self.previous, Ordering::Relaxed);
    }
}

impl Clients {
    /// Made on the consumer's thread; `wakeup` is called whenever events wait in `drain`.
    /// Messages are decoded as `parser` says.
    pub fn new(wakeup: Wakeup, parser: Parser) -> Self {
        Self {
            events: EventQueue::new(wakeup),
            parser,
            packets_listened: AtomicBool::new(false),
            messages_listened: AtomicBool::new(false),
            reassembling: DashMap::with_hasher(FxBuildHasher),
            consumer_thread: std::thread::current().id(),
            answers: Mutex::new(Vec::new()),
            caller_takes: AtomicU8::new(CallerTakes::Nothing as u8),
        }
    }

    /// Runs `call`, made by the consumer, which takes the poll answers it releases
    /// (`take_answers`) as soon as it returns: they need no wake-up.
    pub fn answers_taken_after<R>(&self, call: impl FnOnce() -> R) -> R {
        let _guard = self.caller_taking(CallerTakes::PollAnswers);
        call()
    }

    /// Runs `call`, made by the consumer, which drains what it queues (`take_answers`, then
    /// `drain`) as soon as it returns: it needs no wake-up. Events that other threads queue
    /// meanwhile wake the consumer as usual.
    pub fn drained_after<R>(&self, call: impl FnOnce() -> R) -> R {
        let _guard = self.caller_taking(CallerTakes::Everything);
        call()
    }

    /// Only the consumer's thread changes what the caller takes, so a load and a store suffice.
    fn caller_taking(&self, takes: CallerTakes) -> CallerTakesGuard<'_> {
        let previous = self.caller_takes.load(Ordering::Relaxed);
        self.caller_takes
            .store(previous.max(takes as u8), Ordering::Relaxed);
        CallerTakesGuard {
            clients: self,
            previous,
        }
    }

    /// Whether the call in progress on this thread takes `what` itself.
    fn caller_takes(&self, what: CallerTakes) -> bool {
        self.caller_takes.load(Ordering::Relaxed) >= what as u8
            && std::thread::current().id() == self.consumer_thread
    }

    /// Queues an event, waking the consumer unless the call in progress drains it.
    fn queue(&self, event: IoEvent) {
        if self.caller_takes(CallerTakes::Everything) {
            self.events.push_quietly(event);
        } else {
            self.events.push(event);
        }
    }

    /// Everything queued so far.
    pub fn drain(&self) -> Vec<IoEvent> {
        self.events.drain()
    }

    /// The poll answers that wait for `take_answers`, as `PollAnswer` events, then everything
    /// queued so far: what a call `drained_after` leaves, in one.
    pub fn drain_with_answers(&self) -> Vec<IoEvent> {
        let answers = self.take_answers();
        if answers.is_empty() {
            return self.drain();
        }
        let mut events: Vec<IoEvent> = answers
            .into_iter()
            .map(|(session, body)| IoEvent::PollAnswer { session, body })
            .collect();
        events.append(&mut self.drain());
        events
    }

    /// Whether engine packets are forwarded (`IoEvent::Packet`): it costs, so only when listened.
    pub fn set_packets_listened(&self, listened: bool) {
        self.packets_listened.store(listened, Ordering::Relaxed);
    }

    /// Whether raw engine messages are forwarded (`IoEvent::Message`).
    pub fn set_messages_listened(&self, listened: bool) {
        self.messages_listened.store(listened, Ordering::Relaxed);
    }

    /// Poll answers released by the consumer's own sends: `(session, body)` each.
    pub fn take_answers(&self) -> Vec<(SessionHandle, String)> {
        std::mem::take(&mut *self.answers.lock())
    }

    /// How many poll answers wait for `take_answers`.
    pub fn answers_waiting(&self) -> usize {
        self.answers.lock().len()
    }

    /// Runs one step of the session's reassembly, which is kept only while it waits for
    /// attachments, and queues what it yields.
    fn reassemble(
        &self,
        session: SessionHandle,
        step: impl FnOnce(&mut Reassembler) -> Result<Option<IncomingPacket>, ReassemblyError>,
    ) {
        // The entry holds its shard's lock: a session's messages are reassembled one at a time
        // even when two transports deliver them during an upgrade.
        let result = match self.reassembling.entry(session) {
            Entry::Occupied(mut waiting) => {
                let result = step(waiting.get_mut());
                if waiting.get().is_idle() {
                    waiting.remove();
                }
                result
            }
            Entry::Vacant(vacant) => {
                let mut reassembler = Reassembler::default();
                let result = step(&mut reassembler);
                if !reassembler.is_idle() {
                    vacant.insert(reassembler);
                }
                result
            }
        };
        match result {
            Ok(Some(packet)) => {
                debug!(target: "socket.io-parser", "decoded {}", packet.header());
                self.queue(IoEvent::SocketIoPacket { session, packet });
            }
            Ok(None) => {}
            Err(err) => self.queue(IoEvent::ParseError {
                session,
                message: err.to_string(),
            }),
        }
    }
}

impl EngineHandler for Clients {
    fn on_message(&self, session: SessionHandle, message: Message) {
        if self.messages_listened.load(Ordering::Relaxed) {
            self.queue(IoEvent::Message {
                session,
                message: message.clone(),
            });
        }
        match (self.parser, message) {
            (Parser::Default, Message::Text(text)) => self.reassemble(session, |reassembler| {
                reassembler.text(text.data(), MAX_ATTACHMENTS)
            }),
            (Parser::Default, Message::Binary(data)) => {
                self.reassemble(session, |reassembler| reassembler.binary(data))
            }
            (Parser::Msgpack, Message::Binary(data)) => match socketio_msgpack::decode(&data) {
                Ok(Decoded::Packet(packet)) => {
                    self.queue(IoEvent::SocketIoPacket { session, packet })
                }
                Ok(Decoded::ForJs) => self.queue(IoEvent::Undecoded {
                    session,
                    message: Message::Binary(data),
                }),
                Err(err) => self.queue(IoEvent::ParseError {
                    session,
                    message: err.to_string(),
                }),
            },
            // A text message is no msgpack packet; what upstream's decoder makes of it (an
            // error, mostly) is left to the same decoder in JS.
            (Parser::Msgpack | Parser::Custom, message) => {
                self.queue(IoEvent::Undecoded { session, message })
            }
        }
    }

    fn on_upgrading(&self, session: SessionHandle) {
        self.queue(IoEvent::Upgrading { session });
    }

    fn on_upgrade(&self, session: SessionHandle) {
        self.queue(IoEvent::Upgrade { session });
    }

    fn on_close(&self, session: SessionHandle, reason: CloseReason) {
        self.reassembling.remove(&session);
        self.queue(IoEvent::Close { session, reason });
    }

    fn on_connection_closed(&self, connection: ConnectionId) {
        self.queue(IoEvent::ConnectionClosed { connection });
    }

    fn on_connection_handed_back(&self, connection: ConnectionId, fd: RawFd, read: Vec<u8>) {
        self.queue(IoEvent::ConnectionHandedBack {
            connection,
            fd,
            read,
        });
    }

    fn on_poll_answer(&self, session: SessionHandle, body: String) {
        if std::thread::current().id() != self.consumer_thread {
            self.events.push(IoEvent::PollAnswer { session, body });
            return;
        }
        // Released by a call from the consumer: a send answers the GET as soon as it returns, as
        // upstream writes the response within `send`. A call that does not take its answers (a
        // close, say) wakes the consumer, whose next drain takes them.
        self.answers.lock().push((session, body));
        if self.caller_takes.load(Ordering::Relaxed) < CallerTakes::PollAnswers as u8 {
            self.events.wake();
        }
    }

    fn wait_for_capacity(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> {
        let backlog = self.events.backlog();
        backlog.is_full().then(|| {
            Box::pin(backlog.wait_for_room()) as Pin<Box<dyn Future<Output = ()> + Send + '_>>
        })
    }

    fn wants_packets(&self) -> bool {
        self.packets_listened.load(Ordering::Relaxed)
    }

    fn on_packet(&self, session: SessionHandle, packet: &Packet, incoming: bool) {
        self.queue(IoEvent::Packet {
            session,
            packet: packet.clone(),
            incoming,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::engine_packet::TextMessage;
    use crate::protocol::socketio_packet::PacketType;
    use bytes::Bytes;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    fn clients() -> (Clients, Arc<AtomicUsize>) {
        let wakeups = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&wakeups);
        let clients = Clients::new(
            Box::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
            Parser::Default,
        );
        (clients, wakeups)
    }

    fn text(data: &str) -> Message {
        Message::Text(TextMessage::new(data))
    }

    #[test]
    fn a_binary_event_is_queued_once_its_attachments_arrived() {
        let (clients, _) = clients();
        clients.on_message(7, text(r#"52-/chat,3["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#));
        clients.on_message(7, Message::Binary(Bytes::from_static(b"\x01\x02")));
        assert!(
            clients.drain().is_empty(),
            "waits for the second attachment"
        );
        clients.on_message(7, Message::Binary(Bytes::from_static(b"\x03")));
        let events = clients.drain();
        let [IoEvent::SocketIoPacket { session: 7, packet }] = events.as_slice() else {
            panic!("one packet, got {events:?}");
        };
        assert_eq!(packet.kind, PacketType::BinaryEvent);
        assert_eq!(packet.nsp, "/chat");
        assert_eq!(packet.id, Some(3));
        assert_eq!(
            packet.attachments,
            vec![Bytes::from_static(b"\x01\x02"), Bytes::from_static(b"\x03")]
        );
    }

    #[test]
    fn sessions_reassemble_apart() {
        let (clients, _) = clients();
        clients.on_message(1, text(r#"51-["a",{"_placeholder":true,"num":0}]"#));
        clients.on_message(2, text(r#"2["b"]"#));
        clients.on_message(1, Message::Binary(Bytes::from_static(b"x")));
        let sessions: Vec<SessionHandle> = clients
            .drain()
            .iter()
            .map(|event| match event {
                IoEvent::SocketIoPacket { session, .. } => *session,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(sessions, vec![2, 1]);
    }

    #[test]
    fn bad_input_becomes_a_parse_error_and_leaves_no_state() {
        let (clients, _) = clients();
        clients.on_message(3, Message::Binary(Bytes::from_static(b"stray")));
        clients.on_message(4, text("51-[\"a\"]"));
        clients.on_message(4, text("2[\"b\"]"));
        let messages: Vec<String> = clients
            .drain()
            .into_iter()
            .map(|event| match event {
                IoEvent::ParseError { message, .. } => message,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            messages,
            vec![
                "got binary data when not reconstructing a packet",
                "got plaintext data when reconstructing a packet"
            ]
        );
        clients.on_close(4, CloseReason::ParseError);
        assert!(
            clients.reassembling.is_empty(),
            "closing drops the waiting packet"
        );
    }

    #[test]
    fn one_wakeup_per_batch() {
        let (clients, wakeups) = clients();
        clients.on_upgrading(1);
        clients.on_upgrade(1);
        assert_eq!(wakeups.load(Ordering::Relaxed), 1);
        assert_eq!(clients.drain().len(), 2);
        clients.on_close(1, CloseReason::TransportClose);
        assert_eq!(wakeups.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn raw_messages_and_packets_are_forwarded_only_while_listened() {
        let (clients, _) = clients();
        assert!(!clients.wants_packets());
        clients.on_message(1, text("2[\"a\"]"));
        assert_eq!(clients.drain().len(), 1, "the Socket.IO packet alone");
        clients.set_messages_listened(true);
        clients.set_packets_listened(true);
        assert!(clients.wants_packets());
        clients.on_message(1, text("2[\"a\"]"));
        let events = clients.drain();
        assert!(matches!(
            events.as_slice(),
            [IoEvent::Message { .. }, IoEvent::SocketIoPacket { .. }]
        ));
    }

    #[test]
    fn a_call_whose_caller_drains_wakes_no_one() {
        let (clients, wakeups) = clients();
        let clients = Arc::new(clients);
        clients.drained_after(|| {
            clients.on_message(1, text("2[\"a\"]"));
            clients.on_poll_answer(1, "4x".into());
            clients.on_close(1, CloseReason::TransportClose);
        });
        assert_eq!(wakeups.load(Ordering::Relaxed), 0);
        assert!(matches!(
            clients.drain_with_answers().as_slice(),
            [
                IoEvent::PollAnswer { session: 1, .. },
                IoEvent::SocketIoPacket { session: 1, .. },
                IoEvent::Close { session: 1, .. }
            ]
        ));
        clients.drained_after(|| {
            let other = Arc::clone(&clients);
            std::thread::spawn(move || other.on_upgrading(2))
                .join()
                .expect("the I/O thread");
        });
        assert_eq!(
            wakeups.load(Ordering::Relaxed),
            1,
            "an I/O thread's event wakes the consumer even then"
        );
        clients.on_upgrade(2);
        assert_eq!(wakeups.load(Ordering::Relaxed), 1, "once per batch");
    }

    #[test]
    fn a_send_takes_its_poll_answers_and_other_events_still_wake() {
        let (clients, wakeups) = clients();
        clients.answers_taken_after(|| clients.on_poll_answer(1, "4x".into()));
        assert_eq!(wakeups.load(Ordering::Relaxed), 0);
        assert_eq!(clients.take_answers(), vec![(1, "4x".to_owned())]);
        clients.answers_taken_after(|| clients.on_close(1, CloseReason::ForcedClose));
        assert_eq!(wakeups.load(Ordering::Relaxed), 1);
        clients.drain();
        clients.on_poll_answer(2, "1".into());
        assert_eq!(
            wakeups.load(Ordering::Relaxed),
            2,
            "a call that does not take its answers (a close) wakes the consumer"
        );
    }

    #[test]
    fn poll_answers_released_on_the_consumer_thread_go_back_to_the_caller() {
        let (clients, _) = clients();
        let clients = Arc::new(clients);
        clients.on_poll_answer(5, "4x".into());
        assert_eq!(clients.answers_waiting(), 1);
        assert_eq!(clients.take_answers(), vec![(5, "4x".to_owned())]);
        let other = Arc::clone(&clients);
        std::thread::spawn(move || other.on_poll_answer(6, "2".into()))
            .join()
            .expect("the I/O thread");
        assert!(matches!(
            clients.drain().as_slice(),
            [IoEvent::PollAnswer { session: 6, .. }]
        ));
    }
}
