//! The Engine.IO v4 server: the session table and every way a session opens, receives and closes.
//!
//! `close_session` is the only path that removes a session; transports and timers call it.
pub mod close_reason;
pub mod config;
mod connection_lease;
mod frame_reader;
mod frame_writer;
pub mod handler;
mod heartbeat;
mod outbox;
pub mod polling_connection;
pub mod session;
mod shared_messages;
pub mod stream;
mod websocket;

use crate::protocol::engine_packet::{Message, Packet};
use crate::protocol::{payload, payload_v3, Revision};
use close_reason::CloseReason;
use config::EngineConfig;
use connection_lease::ConnectionLease;
use dashmap::DashMap;
use handler::EngineHandler;
use outbox::{Closed, Outbox};
use parking_lot::Mutex;
use polling_connection::PollingHandoff;
use rustc_hash::FxBuildHasher;
use session::{
    PollAnswer, PollError, PollOutcome, PollReply, PollWaiter, Polling, Sent, Session,
    SessionState, Sid,
};
use shared_messages::SharedMessages;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tracing::debug;
pub use websocket::WebSocketHandoff;

/// How long a server-side close waits for a GET to carry the close packet (upstream's
/// `closeTimeout`).
const POLLING_CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Messages queued by `send_to` since the last flush past which their writers are woken without
/// waiting for the end of the JS turn. A turn that queues more (a loop of emits to many sockets)
/// then has its first packets on the wire while it runs, and writers that keep up drain what it
/// queues as it goes rather than after it. Above what a turn of paced traffic queues (the bench's
/// fan-out: 10 emits to 1000 sockets), whose packets keep leaving each connection in one write.
const EARLY_FLUSH_MESSAGES: usize = 16 * 1024;

pub struct Engine {
    config: EngineConfig,
    sessions: DashMap<Sid, Arc<Session>>,
    handler: Arc<dyn EngineHandler>,
    runtime: Handle,
    /// WebSocket writers with packets queued by `send`, woken together by `flush`.
    writers_to_wake: Mutex<Vec<Arc<Outbox>>>,
    /// Messages `send_to` queued since the last flush (see `EARLY_FLUSH_MESSAGES`).
    queued_since_flush: AtomicUsize,
    /// Sessions by handle: the number JS names a session by when it sends (no string to convert
    /// and hash per recipient). Handles are never reused, so a stale one finds nothing.
    by_handle: DashMap<SessionHandle, Arc<Session>, FxBuildHasher>,
    next_handle: AtomicU64,
    /// Set once every polling request must go through JS (a hook per request was added): the
    /// connections Rust serves hand their next request back.
    polling_by_js: AtomicBool,
    /// How many times the HTTP server closed its idle connections: a connection Rust serves closes
    /// as soon as it is idle once this changed since it was taken over (one busy at that moment,
    /// after its answer).
    polling_closes: AtomicU64,
    /// Wakes the idle connections Rust serves when `polling_closes` changes.
    polling_closing: Notify,
}

/// A session's number, unique for the engine's life (JS holds it as an exact f64).
pub type SessionHandle = u64;

/// Why a POST body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostError {
    Session(PollError),
    /// Binary POST bodies exist in Engine.IO v3 only.
    BinaryBody,
}

/// A POST body: text, or the binary framing of Engine.IO v3.
#[derive(Debug, Clone, Copy)]
pub enum PostBody<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        handler: Arc<dyn EngineHandler>,
        runtime: Handle,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            sessions: DashMap::new(),
            handler,
            runtime,
            writers_to_wake: Mutex::new(Vec::new()),
            queued_since_flush: AtomicUsize::new(0),
            by_handle: DashMap::with_hasher(FxBuildHasher),
            next_handle: AtomicU64::new(1),
            polling_by_js: AtomicBool::new(false),
            polling_closes: AtomicU64::new(0),
            polling_closing: Notify::new(),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    fn session(&self, sid: &str) -> Option<Arc<Session>> {
        self.sessions
            .get(sid)
            .map(|entry| Arc::clone(entry.value()))
    }

    fn open_packet(&self, sid: &str, on_polling: bool) -> Packet {
        let upgrades: &[&str] =
            if on_polling && self.config.allow_upgrades && self.config.websocket_enabled {
                &["websocket"]
            } else {
                &[]
            };
        let upgrades = if upgrades.is_empty() {
            "[]"
        } else {
            "[\"websocket\"]"
        };
        // Field order as upstream's, so the handshake is byte-for-byte the same.
        Packet::Open(format!(
            "{{\"sid\":{},\"upgrades\":{},\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{}}}",
            serde_json::Value::from(sid),
            upgrades,
            self.config.ping_interval.as_millis(),
            self.config.ping_timeout.as_millis(),
            self.config.max_payload,
        ))
    }

    /// Registers a new session in `state`, queues its open packet and starts its heartbeat.
    fn register(
        self: &Arc<Self>,
        sid: Sid,
        revision: Revision,
        state: SessionState,
    ) -> Arc<Session> {
        let on_polling = matches!(state, SessionState::Polling(_));
        debug!(
            target: "engine:socket",
            sid = %sid,
            transport = %state.transport_name(),
            ?revision,
            "session opened",
        );
        let handle = self.next_handle.fetch_add(1, Ordering::Relaxed);
        let session = Arc::new(Session::new(Arc::clone(&sid), revision, handle, state));
        self.sessions.insert(sid, Arc::clone(&session));
        self.by_handle.insert(handle, Arc::clone(&session));
        // Unreported: upstream creates the open packet in the socket's constructor, before anyone
        // can listen to its `packetCreate`.
        self.queue_unreported(&session, self.open_packet(&session.sid, on_polling));
        // A WebSocket session's heartbeat runs inside its connection's task (one task less per
        // connection); a polling session has no task of its own, so its heartbeat gets one.
        if on_polling {
            let heartbeat = self
                .runtime
                .spawn(heartbeat::run(Arc::clone(self), Arc::clone(&session)));
            session.set_heartbeat(heartbeat.abort_handle());
        }
        session
    }

    /// The handshake of a polling session; its first GET is then served by `poll`.
    pub fn open_polling(self: &Arc<Self>, sid: &str, revision: Revision) -> SessionHandle {
        self.register(
            Arc::from(sid),
            revision,
            SessionState::Polling(Polling::default()),
        )
        .handle
    }

    /// The handshake of a session on a WebSocket handed over by the HTTP server.
    pub fn open_websocket(
        self: &Arc<Self>,
        handoff: WebSocketHandoff,
        sid: &str,
        revision: Revision,
    ) -> SessionHandle {
        let lease = ConnectionLease::new(&self.handler, handoff.connection);
        let outbox = Outbox::new();
        let session = self.register(
            Arc::from(sid),
            revision,
            SessionState::WebSocket(Arc::clone(&outbox)),
        );
        let handle = session.handle;
        self.runtime.spawn(websocket::run(
            Arc::clone(self),
            session,
            handoff,
            outbox,
            false,
            lease,
        ));
        handle
    }

    /// A WebSocket handed over by the HTTP server to upgrade the polling session `sid`.
    pub fn upgrade_websocket(self: &Arc<Self>, handoff: WebSocketHandoff, sid: &str) {
        let lease = ConnectionLease::new(&self.handler, handoff.connection);
        let outbox = Outbox::new();
        let Some(session) = self.session(sid) else {
            debug!(target: "engine", sid = %sid, "upgrade attempt for closed client");
            self.runtime
                .spawn(websocket::refuse(handoff, self.config().max_payload, lease));
            return;
        };
        if !session.begin_upgrade(Arc::clone(&outbox)) {
            debug!(target: "engine", sid = %sid, "transport cannot be upgraded now");
            self.runtime
                .spawn(websocket::refuse(handoff, self.config().max_payload, lease));
            return;
        }
        debug!(target: "engine", sid = %sid, "upgrading existing transport");
        debug!(
            target: "engine:socket",
            sid = %sid,
            "might upgrade socket transport from \"polling\" to \"websocket\"",
        );
        self.runtime.spawn(websocket::run(
            Arc::clone(self),
            session,
            handoff,
            outbox,
            true,
            lease,
        ));
    }

    /// Serves the polling requests of a kept-alive connection from now on (see
    /// polling_connection.rs).
    pub fn take_polling_connection(self: &Arc<Self>, handoff: PollingHandoff) {
        let lease = ConnectionLease::new(&self.handler, handoff.connection);
        self.runtime
            .spawn(polling_connection::serve(Arc::clone(self), handoff, lease));
    }

    /// Every polling request goes through JS from now on: the connections served here hand their
    /// next request back (a hook that runs per request was added).
    pub fn serve_polling_in_js(&self) {
        self.polling_by_js.store(true, Ordering::Relaxed);
    }

    /// The HTTP server closes its idle connections (it is closing): so do the ones served here,
    /// now or, for one busy with a request, after its answer.
    pub fn close_idle_polling_connections(&self) {
        self.polling_closes.fetch_add(1, Ordering::Relaxed);
        self.polling_closing.notify_waiters();
    }

    /// Nothing in JS will serve this engine again (its binding object is gone: the worker
    /// thread or the process is ending): every session closes, as its connection would with
    /// the thread's own sockets, and so do the idle polling connections served here.
    pub fn close_all(&self) {
        let sessions: Vec<Arc<Session>> = self
            .sessions
            .iter()
            .map(|entry| Arc::clone(entry.value()))
            .collect();
        for session in &sessions {
            self.close_session(session, CloseReason::ForcedClose);
        }
        self.close_idle_polling_connections();
    }

    /// A long-poll GET that the JS HTTP layer answers (a wait ends in `on_poll_answer`).
    pub fn poll(self: &Arc<Self>, sid: &str) -> Result<PollReply, PollError> {
        self.poll_for(sid, PollWaiter::Js)
    }

    /// A long-poll GET; `waiter` answers it if it has to wait.
    pub(crate) fn poll_for(
        self: &Arc<Self>,
        sid: &str,
        waiter: PollWaiter,
    ) -> Result<PollReply, PollError> {
        let session = self.session(sid).ok_or(PollError::UnknownSid)?;
        match session.poll(waiter) {
            PollOutcome::Reply(reply) => Ok(reply),
            PollOutcome::ReplyThenClose(body) => {
                self.close_session(&session, CloseReason::ForcedClose);
                Ok(PollReply::Now(body))
            }
            PollOutcome::Overlap => {
                debug!(target: "engine:polling", sid = %sid, "request overlap");
                self.close_session(
                    &session,
                    CloseReason::TransportError("overlap from client".into()),
                );
                Err(PollError::Overlap)
            }
            PollOutcome::Err(err) => Err(err),
        }
    }

    /// A long-poll GET or a POST ended before it was answered.
    pub fn request_aborted(self: &Arc<Self>, sid: &str, description: &str) {
        if let Some(session) = self.session(sid) {
            self.close_session(&session, CloseReason::TransportError(description.into()));
        }
    }

    /// A POST body, already bounded by `max_payload` by the HTTP layer.
    pub fn post(self: &Arc<Self>, sid: &str, body: PostBody<'_>) -> Result<(), PostError> {
        let session = self
            .session(sid)
            .ok_or(PostError::Session(PollError::UnknownSid))?;
        session.accepts_polling().map_err(PostError::Session)?;
        let (packets, error) = match (session.revision, body) {
            (Revision::V4, PostBody::Text(text)) => payload::decode(text),
            (Revision::V3, PostBody::Text(text)) => payload_v3::decode(text),
            (Revision::V3, PostBody::Binary(bytes)) => payload_v3::decode_binary(bytes),
            (Revision::V4, PostBody::Binary(_)) => return Err(PostError::BinaryBody),
        };
        for packet in packets {
            if session.is_closed() {
                return Ok(());
            }
            self.on_packet(&session, packet);
        }
        if error.is_some() {
            self.close_session(&session, CloseReason::ParseError);
        }
        Ok(())
    }

    /// A packet from the client, on whichever transport carries the session.
    pub(crate) fn on_packet(self: &Arc<Self>, session: &Arc<Session>, packet: Packet) {
        debug!(
            target: "engine:socket",
            sid = %session.sid,
            "received packet {}",
            packet.type_name(),
        );
        if self.handler.wants_packets() {
            self.handler.on_packet(session.handle, &packet, true);
        }
        if !matches!(packet, Packet::Pong { .. }) {
            session.activity.notify_waiters();
        }
        // v4: the server pings and the client answers; v3 the other way round.
        match (packet, session.revision) {
            (Packet::Pong { .. }, Revision::V4) => session.pong.notify_waiters(),
            (Packet::Ping { .. }, Revision::V3) => {
                session.pong.notify_waiters();
                self.send_packet(session, Packet::Pong { probe: false });
            }
            (Packet::Message(message), _) => self.handler.on_message(session.handle, message),
            (Packet::Close, _) => self.close_session(session, CloseReason::TransportClose),
            (Packet::Ping { .. } | Packet::Pong { .. }, _) => self.close_session(
                session,
                CloseReason::TransportError("invalid heartbeat direction".into()),
            ),
            (Packet::Open(_) | Packet::Upgrade | Packet::Noop, _) => {}
        }
    }

    fn send_packet(&self, session: &Session, packet: Packet) -> bool {
        self.queue_packet(session, packet)
    }

    fn queue_packet(&self, session: &Session, packet: Packet) -> bool {
        // Messages come from the handler's side, which reports their creation itself (with
        // options such as `compress` that the engine does not see).
        if self.handler.wants_packets() && !matches!(packet, Packet::Message(_)) {
            self.handler.on_packet(session.handle, &packet, false);
        }
        self.queue_unreported(session, packet)
    }

    fn queue_unreported(&self, session: &Session, packet: Packet) -> bool {
        debug!(
            target: "engine:socket",
            sid = %session.sid,
            "sending packet \"{}\" ({})",
            packet.type_name(),
            packet.logged_data(),
        );
        match session.send(packet) {
            Ok(Sent::Queued) => true,
            Ok(Sent::PollAnswer(answer)) => {
                self.deliver(session.handle, Some(answer));
                true
            }
            Ok(Sent::Wake(writer)) => {
                writer.wake();
                true
            }
            Err(Closed) => false,
        }
    }

    /// Hands a waiting GET its body, outside the session's lock.
    fn deliver(&self, session: SessionHandle, answer: Option<PollAnswer>) {
        let Some(PollAnswer { waiter, body }) = answer else {
            return;
        };
        match waiter {
            PollWaiter::Js => self.handler.on_poll_answer(session, body),
            // A connection that is gone left nothing to answer.
            PollWaiter::Connection(connection) => {
                let _gone = connection.send(body);
            }
        }
    }

    /// Queues messages, in order, to the session named by `handle` (false if it is unknown or
    /// closing). See `send_to_each`.
    pub fn send_to(&self, handle: SessionHandle, messages: &Arc<[Message]>) -> bool {
        self.send_to_each(&[handle], messages) == 1
    }

    /// Queues messages, in order, to each session named in `targets`; returns how many took
    /// them (unknown and closing ones do not). See `Sending`.
    pub fn send_to_each(&self, targets: &[SessionHandle], messages: &Arc<[Message]>) -> usize {
        let mut sending = match targets {
            [_] => self.sending_to_one(messages),
            _ => self.sending(messages),
        };
        for handle in targets {
            if let Some(session) = self.session_by_handle(*handle) {
                sending.to(&session);
            }
        }
        sending.finish()
    }

    /// Starts queuing `messages` to sessions one by one (a broadcast is this loop).
    pub fn sending<'a>(&'a self, messages: &'a Arc<[Message]>) -> Sending<'a> {
        Sending {
            shared: Some(SharedMessages::new(Arc::clone(messages))),
            ..self.sending_to_one(messages)
        }
    }

    /// `sending` for one session: the messages are queued as they are, with nothing to share.
    fn sending_to_one<'a>(&'a self, messages: &'a Arc<[Message]>) -> Sending<'a> {
        Sending {
            engine: self,
            messages,
            shared: None,
            writers: Vec::new(),
            recipients: 0,
            queued: 0,
        }
    }

    /// The session named by `handle`, if it is open.
    pub fn session_by_handle(&self, handle: SessionHandle) -> Option<Arc<Session>> {
        self.by_handle
            .get(&handle)
            .map(|entry| Arc::clone(entry.value()))
    }

    /// Wakes the writer of every WebSocket that `send_to` queued to since the last flush.
    ///
    /// Called from outside the runtime (the JS thread), it hands the wake-ups to one task: each
    /// wake-up from a foreign thread unparks the I/O driver, a syscall, where one from the
    /// runtime's own thread is a queue push. A turn's flush then costs one syscall, not one per
    /// connection written to.
    pub fn flush(&self) {
        self.queued_since_flush.store(0, Ordering::Relaxed);
        let writers = std::mem::take(&mut *self.writers_to_wake.lock());
        if writers.is_empty() {
            return;
        }
        let wake_all = move || writers.iter().for_each(|writer| writer.wake());
        if Handle::try_current().is_ok() {
            wake_all();
        } else {
            self.runtime.spawn(async move { wake_all() });
        }
    }

    /// Closes a session from the server side (`socket.close()`): what is queued is sent first.
    /// With `discard`, the transport is dropped without waiting for a poll to carry the close.
    pub fn close(self: &Arc<Self>, sid: &str, discard: bool) {
        let Some(session) = self.session(sid) else {
            return;
        };
        if discard || session.begin_close() {
            self.close_session(&session, CloseReason::ForcedClose);
            return;
        }
        debug!(target: "engine:polling", sid = %sid, "transport not writable - buffering orderly close");
        let engine = Arc::clone(self);
        self.runtime.spawn(async move {
            tokio::time::sleep(POLLING_CLOSE_TIMEOUT).await;
            engine.close_session(&session, CloseReason::ForcedClose);
        });
    }

    /// The only way a session ends.
    pub(crate) fn close_session(&self, session: &Arc<Session>, reason: CloseReason) {
        let closing_packet = if reason == CloseReason::TransportClose {
            Packet::Noop
        } else {
            Packet::Close
        };
        let Ok(answer) = session.shut(closing_packet) else {
            return;
        };
        self.deliver(session.handle, answer);
        self.sessions.remove_if(&session.sid, |_, registered| {
            Arc::ptr_eq(registered, session)
        });
        self.by_handle.remove(&session.handle);
        debug!(
            target: "engine:socket",
            sid = %session.sid,
            reason = reason.as_str(),
            description = reason.description(),
            "session closed",
        );
        self.handler.on_close(session.handle, reason);
    }
}

/// Messages on their way to several sessions. Their WebSocket writers are woken by the next
/// `Engine::flush`, so that everything sent until then goes out in one write, or sooner when
/// much is queued (`EARLY_FLUSH_MESSAGES`); that bookkeeping is done once, by `finish`, not per
/// recipient.
pub struct Sending<'a> {
    engine: &'a Engine,
    messages: &'a Arc<[Message]>,
    /// What each WebSocket recipient queues: the messages, and their frames once encoded (None
    /// for a send to one session, which queues the messages themselves).
    shared: Option<Arc<SharedMessages>>,
    writers: Vec<Arc<Outbox>>,
    recipients: usize,
    queued: usize,
}

impl Sending<'_> {
    /// Queues the messages to `session`, in order (nothing if it is closing).
    pub fn to(&mut self, session: &Session) {
        self.recipients += 1;
        // Checked once per recipient: a broadcast's loop otherwise asks for every message.
        if tracing::enabled!(target: "engine:socket", tracing::Level::DEBUG) {
            for message in self.messages.iter() {
                debug!(
                    target: "engine:socket",
                    sid = %session.sid,
                    "sending packet \"message\" ({})",
                    Packet::Message(message.clone()).logged_data(),
                );
            }
        }
        let sent = match &self.shared {
            Some(shared) => session.send_shared(shared),
            None => session.send_all(self.messages.iter().cloned().map(Packet::Message)),
        };
        match sent {
            Ok(Sent::Queued) => {}
            Ok(Sent::PollAnswer(answer)) => self.engine.deliver(session.handle, Some(answer)),
            Ok(Sent::Wake(writer)) => self.writers.push(writer),
            Err(Closed) => return,
        }
        self.queued += 1;
    }

    /// Returns how many sessions took the messages.
    pub fn finish(mut self) -> usize {
        let engine = self.engine;
        if !self.writers.is_empty() {
            engine.writers_to_wake.lock().append(&mut self.writers);
        }
        let count = self.recipients * self.messages.len();
        let since_flush = engine
            .queued_since_flush
            .fetch_add(count, Ordering::Relaxed)
            + count;
        if since_flush >= EARLY_FLUSH_MESSAGES {
            engine.flush();
        }
        self.queued
    }
}

#[cfg(test)]
mod tests;
