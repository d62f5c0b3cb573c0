//! What the engine tells JS, batched (see event_queue.rs): each event crosses as a positional
//! array, so that no property name is looked up per event. Incoming messages are decoded as
//! Socket.IO packets and binary ones reassembled (protocol/socketio_reassembly.rs) on their way.
use super::event_queue::EventQueue;
use crate::engine::close_reason::CloseReason;
use crate::engine::handler::{ConnectionId, EngineHandler};
use crate::engine::SessionHandle;
use crate::protocol::engine_packet::{Message, Packet};
use crate::protocol::socketio_reassembly::{IncomingPacket, Reassembler, ReassemblyError};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use napi::bindgen_prelude::{Buffer, Function};
use parking_lot::Mutex;
use rustc_hash::FxBuildHasher;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

/// Event kinds, as lib/engine/server.js names them.
const EVENT_MESSAGE: u32 = 0;
const EVENT_CLOSE: u32 = 1;
const EVENT_UPGRADING: u32 = 2;
const EVENT_UPGRADE: u32 = 3;
const EVENT_PACKET: u32 = 4;
const EVENT_PACKET_CREATE: u32 = 5;
const EVENT_POLL_ANSWER: u32 = 6;
const EVENT_SOCKETIO_PACKET: u32 = 7;
const EVENT_SOCKETIO_PARSE_ERROR: u32 = 8;
const EVENT_CONNECTION_CLOSED: u32 = 9;

/// socket.io-parser's default `maxAttachments`.
const MAX_ATTACHMENTS: usize = 10;

/// `[kind, session handle, text, binary, detail, packet type, ack id, attachments]` (a connection
/// id instead of the session handle for a closed connection):
/// - text: a message, a close reason, a packet type, a poll answer, a Socket.IO packet's JSON data;
/// - detail: a close description, a packet's data, a Socket.IO packet's namespace.
pub type BindingEvent = (
    u32,
    f64,
    Option<String>,
    Option<Buffer>,
    Option<String>,
    Option<u32>,
    Option<f64>,
    Option<Vec<Buffer>>,
);

#[derive(Default)]
struct Event {
    kind: u32,
    /// The connection's id instead, for `EVENT_CONNECTION_CLOSED`.
    session: SessionHandle,
    text: Option<String>,
    binary: Option<Buffer>,
    detail: Option<String>,
    packet_type: Option<u32>,
    ack_id: Option<f64>,
    attachments: Option<Vec<Buffer>>,
}

impl Event {
    fn new(kind: u32, session: SessionHandle) -> Self {
        Self {
            kind,
            session,
            ..Self::default()
        }
    }

    fn socketio_packet(session: SessionHandle, packet: IncomingPacket) -> Self {
        let mut event = Event::new(EVENT_SOCKETIO_PACKET, session);
        event.detail = Some(packet.nsp);
        event.packet_type = Some(packet.kind as u32);
        event.ack_id = packet.id.map(|id| id as f64);
        event.text = Some(packet.data);
        if !packet.attachments.is_empty() {
            event.attachments = Some(
                packet
                    .attachments
                    .iter()
                    .map(|data| data.to_vec().into())
                    .collect(),
            );
        }
        event
    }

    fn into_binding(self) -> BindingEvent {
        (
            self.kind,
            self.session as f64,
            self.text,
            self.binary,
            self.detail,
            self.packet_type,
            self.ack_id,
            self.attachments,
        )
    }
}

/// The engine's handler on the binding's side: every event becomes a queued `BindingEvent`.
pub struct JsHandler {
    events: EventQueue<Event>,
    pub(super) packets_listened: AtomicBool,
    /// Raw engine messages are forwarded only when JS listens to them on an engine socket.
    pub(super) messages_listened: AtomicBool,
    /// The sessions whose binary packet waits for attachments.
    reassembling: DashMap<SessionHandle, Reassembler, FxBuildHasher>,
    /// The thread JS runs on (where the handler is made), and the poll answers released there.
    js_thread: std::thread::ThreadId,
    answers: Mutex<Vec<(f64, String)>>,
}

impl JsHandler {
    /// `on_events` is called (with no argument) whenever events wait in `drain`.
    pub fn new(on_events: &Function<'_, (), ()>) -> napi::Result<Self> {
        Ok(Self {
            events: EventQueue::new(on_events)?,
            packets_listened: AtomicBool::new(false),
            messages_listened: AtomicBool::new(false),
            reassembling: DashMap::with_hasher(FxBuildHasher),
            js_thread: std::thread::current().id(),
            answers: Mutex::new(Vec::new()),
        })
    }

    /// Poll answers released by JS's own calls: `[session handle, body]` each.
    pub fn take_answers(&self) -> Vec<(f64, String)> {
        std::mem::take(&mut *self.answers.lock())
    }

    /// How many poll answers wait for `take_answers`.
    pub fn answers_waiting(&self) -> u32 {
        self.answers.lock().len() as u32
    }

    /// Everything queued so far, for JS.
    pub fn drain(&self) -> Vec<BindingEvent> {
        self.events
            .drain()
            .into_iter()
            .map(Event::into_binding)
            .collect()
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
            Ok(Some(packet)) => self.events.push(Event::socketio_packet(session, packet)),
            Ok(None) => {}
            Err(err) => self.parse_error(session, &err.to_string()),
        }
    }

    fn parse_error(&self, session: SessionHandle, message: &str) {
        let mut event = Event::new(EVENT_SOCKETIO_PARSE_ERROR, session);
        event.text = Some(message.to_owned());
        self.events.push(event);
    }
}

impl EngineHandler for JsHandler {
    fn on_message(&self, session: SessionHandle, message: Message) {
        if self.messages_listened.load(Ordering::Relaxed) {
            let mut event = Event::new(EVENT_MESSAGE, session);
            match &message {
                Message::Text(text) => event.text = Some(text.data().to_owned()),
                Message::Binary(data) => event.binary = Some(data.to_vec().into()),
            }
            self.events.push(event);
        }
        match message {
            Message::Text(text) => self.reassemble(session, |reassembler| {
                reassembler.text(text.data(), MAX_ATTACHMENTS)
            }),
            Message::Binary(data) => {
                self.reassemble(session, |reassembler| reassembler.binary(data))
            }
        }
    }

    fn on_upgrading(&self, session: SessionHandle) {
        self.events.push(Event::new(EVENT_UPGRADING, session));
    }

    fn on_upgrade(&self, session: SessionHandle) {
        self.events.push(Event::new(EVENT_UPGRADE, session));
    }

    fn on_close(&self, session: SessionHandle, reason: CloseReason) {
        self.reassembling.remove(&session);
        let mut event = Event::new(EVENT_CLOSE, session);
        event.text = Some(reason.as_str().to_owned());
        event.detail = reason.description().map(str::to_owned);
        self.events.push(event);
    }

    fn on_connection_closed(&self, connection: ConnectionId) {
        self.events
            .push(Event::new(EVENT_CONNECTION_CLOSED, connection));
    }

    fn on_poll_answer(&self, session: SessionHandle, body: String) {
        // Released by a send from JS: JS answers the GET as soon as that call returns, as
        // upstream writes the response within `send`. The wake-up covers a caller that does not
        // look (the next drain takes them).
        if std::thread::current().id() == self.js_thread {
            self.answers.lock().push((session as f64, body));
            self.events.wake();
            return;
        }
        let mut event = Event::new(EVENT_POLL_ANSWER, session);
        event.text = Some(body);
        self.events.push(event);
    }

    fn room(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> {
        let backlog = self.events.backlog();
        backlog.is_full().then(|| {
            Box::pin(backlog.wait_for_room()) as Pin<Box<dyn Future<Output = ()> + Send + '_>>
        })
    }

    fn wants_packets(&self) -> bool {
        self.packets_listened.load(Ordering::Relaxed)
    }

    fn on_packet(&self, session: SessionHandle, packet: &Packet, incoming: bool) {
        let kind = if incoming {
            EVENT_PACKET
        } else {
            EVENT_PACKET_CREATE
        };
        let mut event = Event::new(kind, session);
        event.text = Some(packet.type_name().to_owned());
        match packet {
            Packet::Message(Message::Text(text)) => event.detail = Some(text.data().to_owned()),
            Packet::Message(Message::Binary(data)) => event.binary = Some(data.to_vec().into()),
            Packet::Open(json) => event.detail = Some(json.clone()),
            Packet::Ping { probe: true } | Packet::Pong { probe: true } => {
                event.detail = Some("probe".to_owned())
            }
            _ => {}
        }
        self.events.push(event);
    }
}
