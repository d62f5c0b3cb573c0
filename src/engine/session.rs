//! One Engine.IO session: which transport carries it (one state machine), its write buffer and
//! the pending long-poll.
use super::shared_messages::SharedMessages;
use crate::protocol::engine_packet::Packet;
use crate::protocol::{payload, payload_v3, Revision};
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};
use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;
use tracing::debug;

/// A session id, shared by every structure that names the session.
pub type Sid = Arc<str>;

use super::outbox::{Closed, Outbox, Outgoing};

/// A polling response body in the session's protocol revision.
fn encode_payload(revision: Revision, packets: &[Packet]) -> String {
    match revision {
        Revision::V4 => payload::encode(packets),
        Revision::V3 => payload_v3::encode(packets),
    }
}

/// Who answers a waiting long-poll GET: the JS HTTP layer, told by
/// `EngineHandler::on_poll_answer`, or a connection Rust serves itself (polling_connection.rs).
#[derive(Debug)]
pub enum PollWaiter {
    Js,
    Connection(oneshot::Sender<String>),
}

/// The body for a waiting GET, on its way to whoever answers that GET (`Engine::deliver`).
#[derive(Debug)]
pub struct PollAnswer {
    pub waiter: PollWaiter,
    pub body: String,
}

/// The long-polling side of a session: at most one GET waits for data.
#[derive(Debug, Default)]
pub struct Polling {
    waiter: Option<PollWaiter>,
}

impl Polling {
    /// The answer for the waiting GET, if one waits.
    fn answer(&mut self, revision: Revision, packets: &[Packet]) -> Option<PollAnswer> {
        self.waiter.take().map(|waiter| PollAnswer {
            waiter,
            body: encode_payload(revision, packets),
        })
    }

    fn get_waiting(&self) -> bool {
        self.waiter.is_some()
    }
}

/// The session's one state machine (upstream spreads it over `readyState`, `upgrading` and
/// `upgraded`).
#[derive(Debug)]
pub enum SessionState {
    Polling(Polling),
    /// A WebSocket arrived to replace polling; polling carries the session until it sends `5`.
    Upgrading {
        polling: Polling,
        websocket: Arc<Outbox>,
        /// The WebSocket answered the `2probe` ping.
        probed: bool,
    },
    WebSocket(Arc<Outbox>),
    /// `close()` was called with no GET to carry the close packet: the next GET will. A probed
    /// upgrade candidate stays open meanwhile (see `Session::shut`): that GET closes it.
    ClosingPolling {
        candidate: Option<Arc<Outbox>>,
    },
    Closed,
}

impl SessionState {
    pub fn name(&self) -> &'static str {
        match self {
            SessionState::Polling(_) => "polling",
            SessionState::Upgrading { .. } => "upgrading",
            SessionState::WebSocket(_) => "websocket",
            SessionState::ClosingPolling { .. } => "closing",
            SessionState::Closed => "closed",
        }
    }

    /// The transport carrying the session, as upstream's `transport.name`.
    pub fn transport_name(&self) -> &'static str {
        match self {
            SessionState::WebSocket(_) => "websocket",
            _ => "polling",
        }
    }
}

pub struct Session {
    pub sid: Sid,
    pub revision: Revision,
    /// See `Engine::send_to`.
    pub handle: u64,
    inner: Mutex<Inner>,
    /// The WebSocket carrying the session once one does for good (a session never goes back to
    /// polling), so that sends reach its outbox without taking the session's lock: the outbox
    /// itself refuses them once the session closes it.
    websocket: OnceLock<Arc<Outbox>>,
    /// Signalled by each pong, waited on by the heartbeat.
    pub(crate) pong: Notify,
    /// Signalled by any other packet: a sign of life that delays the ping timeout once.
    pub(crate) activity: Notify,
}

struct Inner {
    state: SessionState,
    /// Packets waiting for a polling GET (a WebSocket gets them at once through its channel).
    buffer: Vec<Packet>,
    heartbeat: Option<AbortHandle>,
}

/// What became of a long-poll GET.
#[derive(Debug, PartialEq, Eq)]
pub enum PollReply {
    /// Data was ready: the body to answer with.
    Now(String),
    /// The body is delivered when data arrives (`EngineHandler::on_poll_answer`).
    Waiting,
}

/// Why a request could not be served by this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollError {
    /// A second GET while one is pending: upstream closes the session.
    Overlap,
    /// The session is carried by WebSocket; HTTP requests are a transport mismatch.
    TransportMismatch,
    UnknownSid,
}

/// What a send leaves for the engine to do once the session's lock is released.
#[derive(Debug)]
pub enum Sent {
    /// Nothing: the packet waits for the next GET, or its writer is already due to wake.
    Queued,
    /// The answer for the waiting long-poll GET.
    PollAnswer(PollAnswer),
    /// The WebSocket's outbox was empty: its writer must be woken, now or at the next flush.
    Wake(Arc<Outbox>),
}

impl PartialEq for Sent {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Sent::Queued, Sent::Queued) => true,
            (Sent::PollAnswer(a), Sent::PollAnswer(b)) => a.body == b.body,
            (Sent::Wake(a), Sent::Wake(b)) => Outbox::same(a, b),
            _ => false,
        }
    }
}

/// What the state machine asks the engine to do after a GET, once the lock is released.
pub(crate) enum PollOutcome {
    Reply(PollReply),
    ReplyThenClose(String),
    Overlap,
    Err(PollError),
}

impl Session {
    pub(crate) fn new(sid: Sid, revision: Revision, handle: u64, state: SessionState) -> Self {
        let websocket = OnceLock::new();
        if let SessionState::WebSocket(outbox) = &state {
            let _first = websocket.set(Arc::clone(outbox));
        }
        Self {
            sid,
            revision,
            handle,
            websocket,
            inner: Mutex::new(Inner {
                state,
                buffer: Vec::new(),
                heartbeat: None,
            }),
            pong: Notify::new(),
            activity: Notify::new(),
        }
    }

    pub(crate) fn set_heartbeat(&self, heartbeat: AbortHandle) {
        self.inner.lock().heartbeat = Some(heartbeat);
    }

    pub fn transport_name(&self) -> &'static str {
        self.inner.lock().state.transport_name()
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.inner.lock().state, SessionState::Closed)
    }

    fn transition(&self, inner: &mut Inner, next: SessionState) -> SessionState {
        self.log_transition(inner.state.name(), next.name());
        std::mem::replace(&mut inner.state, next)
    }

    /// Moves to the state that `next` makes of the current one, which it takes by value.
    fn transition_with(&self, inner: &mut Inner, next: impl FnOnce(SessionState) -> SessionState) {
        let from = inner.state.name();
        let current = std::mem::replace(&mut inner.state, SessionState::Closed);
        inner.state = next(current);
        self.log_transition(from, inner.state.name());
    }

    fn log_transition(&self, from: &str, to: &str) {
        if from != to {
            debug!(target: "engine:socket", sid = %self.sid, "state updated from {from} to {to}");
        }
    }

    /// Queues a packet on whatever transport carries the session (Err once it is closing), and
    /// says what the engine must do next, outside this session's lock.
    pub fn send(&self, packet: Packet) -> Result<Sent, Closed> {
        self.send_all(std::iter::once(packet))
    }

    /// `send` for several packets, in order, under one lock.
    pub fn send_all(&self, packets: impl Iterator<Item = Packet>) -> Result<Sent, Closed> {
        self.queue(
            packets,
            |websocket, packets| websocket.push_all(packets.map(Outgoing::Packet)),
            |buffer, packets| buffer.extend(packets),
        )
    }

    /// `send_all` for messages shared with other sessions: a WebSocket queues them as one item.
    pub fn send_shared(&self, shared: &Arc<SharedMessages>) -> Result<Sent, Closed> {
        self.queue(
            shared,
            |websocket, shared| websocket.push(Outgoing::Messages(Arc::clone(shared))),
            |buffer, shared| {
                buffer.extend(shared.messages().iter().cloned().map(Packet::Message));
            },
        )
    }

    /// Queues `items` with `to_websocket` on a WebSocket's outbox (its writer is to be woken if
    /// it was idle), or with `to_polling` into polling's buffer, for the waiting GET if any.
    fn queue<T>(
        &self,
        items: T,
        to_websocket: impl FnOnce(&Outbox, T) -> Result<bool, Closed>,
        to_polling: impl FnOnce(&mut Vec<Packet>, T),
    ) -> Result<Sent, Closed> {
        if let Some(websocket) = self.websocket.get() {
            return wake_if_idle(websocket, to_websocket(websocket, items));
        }
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        match &mut inner.state {
            SessionState::WebSocket(ws) => wake_if_idle(ws, to_websocket(ws, items)),
            SessionState::Polling(polling) | SessionState::Upgrading { polling, .. } => {
                to_polling(&mut inner.buffer, items);
                Ok(match polling.answer(self.revision, &inner.buffer) {
                    Some(answer) => {
                        inner.buffer.clear();
                        Sent::PollAnswer(answer)
                    }
                    None => Sent::Queued,
                })
            }
            SessionState::ClosingPolling { .. } | SessionState::Closed => Err(Closed),
        }
    }

    /// A long-poll GET arrived; `waiter` answers it if it has to wait.
    pub(crate) fn poll(&self, waiter: PollWaiter) -> PollOutcome {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let probed = matches!(inner.state, SessionState::Upgrading { probed: true, .. });
        match &mut inner.state {
            SessionState::Polling(polling) | SessionState::Upgrading { polling, .. }
                if polling.get_waiting() =>
            {
                PollOutcome::Overlap
            }
            SessionState::Polling(polling) | SessionState::Upgrading { polling, .. } => {
                if !inner.buffer.is_empty() {
                    let body = encode_payload(self.revision, &inner.buffer);
                    inner.buffer.clear();
                    return PollOutcome::Reply(PollReply::Now(body));
                }
                if probed {
                    // Releases the client's last poll so that it can send the upgrade packet.
                    return PollOutcome::Reply(PollReply::Now(encode_payload(
                        self.revision,
                        &[Packet::Noop],
                    )));
                }
                polling.waiter = Some(waiter);
                PollOutcome::Reply(PollReply::Waiting)
            }
            // As upstream: what was queued before the close drains first, then a GET of its
            // own carries the close packet.
            SessionState::ClosingPolling { .. } if !inner.buffer.is_empty() => {
                let body = encode_payload(self.revision, &inner.buffer);
                inner.buffer.clear();
                PollOutcome::Reply(PollReply::Now(body))
            }
            SessionState::ClosingPolling { candidate } => {
                // This answer tells the client: it drops its upgrade, so the candidate can go.
                if let Some(websocket) = candidate.take() {
                    let _already_gone = websocket.send(Outgoing::Close);
                }
                PollOutcome::ReplyThenClose(encode_payload(
                    self.revision,
                    &[Packet::Noop, Packet::Close],
                ))
            }
            SessionState::WebSocket(_) => PollOutcome::Err(PollError::TransportMismatch),
            SessionState::Closed => PollOutcome::Err(PollError::UnknownSid),
        }
    }

    /// Whether HTTP requests still reach this session (POSTs are refused once upgraded).
    pub(crate) fn accepts_polling(&self) -> Result<(), PollError> {
        match self.inner.lock().state {
            SessionState::Polling(_)
            | SessionState::Upgrading { .. }
            | SessionState::ClosingPolling { .. } => Ok(()),
            SessionState::WebSocket(_) => Err(PollError::TransportMismatch),
            SessionState::Closed => Err(PollError::UnknownSid),
        }
    }

    /// A WebSocket wants to take over a polling session. False when the session cannot upgrade
    /// (not on polling, or another WebSocket is already trying).
    pub(crate) fn begin_upgrade(&self, websocket: Arc<Outbox>) -> bool {
        let mut inner = self.inner.lock();
        if !matches!(inner.state, SessionState::Polling(_)) {
            return false;
        }
        self.transition_with(&mut inner, |state| match state {
            SessionState::Polling(polling) => SessionState::Upgrading {
                polling,
                websocket,
                probed: false,
            },
            other => other,
        });
        true
    }

    /// The candidate WebSocket answered the probe. The waiting GET, if any, is released with a
    /// noop so the client can pause polling and send `5`. Err if `websocket` is not the candidate.
    pub(crate) fn probe_answered(
        &self,
        websocket: &Arc<Outbox>,
    ) -> Result<Option<PollAnswer>, Closed> {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        match &mut inner.state {
            SessionState::Upgrading {
                polling,
                websocket: candidate,
                probed,
            } if Outbox::same(candidate, websocket) => {
                *probed = true;
                Ok(if inner.buffer.is_empty() {
                    polling.answer(self.revision, &[Packet::Noop])
                } else {
                    None
                })
            }
            _ => Err(Closed),
        }
    }

    /// The client sent `5` on the candidate WebSocket: it carries the session from now on, and
    /// what polling had buffered is sent on it. Ok with the answer for a GET still waiting.
    pub(crate) fn finish_upgrade(
        &self,
        websocket: &Arc<Outbox>,
    ) -> Result<Option<PollAnswer>, Closed> {
        let mut inner = self.inner.lock();
        let is_candidate = matches!(
            &inner.state,
            SessionState::Upgrading { websocket: candidate, .. } if Outbox::same(candidate, websocket)
        );
        if !is_candidate {
            return Err(Closed);
        }
        let answer = match self.transition(&mut inner, SessionState::WebSocket(websocket.clone())) {
            SessionState::Upgrading { mut polling, .. } => {
                polling.answer(self.revision, &[Packet::Noop])
            }
            _ => None,
        };
        for packet in inner.buffer.drain(..) {
            websocket.send(Outgoing::Packet(packet))?;
        }
        // After what polling had buffered, and under the lock: later sends queue behind it.
        let _first = self.websocket.set(Arc::clone(websocket));
        Ok(answer)
    }

    /// The candidate WebSocket failed, timed out or closed: polling goes on alone.
    pub(crate) fn abandon_upgrade(&self, websocket: &Arc<Outbox>) {
        let mut inner = self.inner.lock();
        let is_candidate = matches!(
            &inner.state,
            SessionState::Upgrading { websocket: candidate, .. } if Outbox::same(candidate, websocket)
        );
        if is_candidate {
            self.transition_with(&mut inner, |state| match state {
                SessionState::Upgrading { polling, .. } => SessionState::Polling(polling),
                other => other,
            });
        }
    }

    /// Whether `websocket` is the transport carrying this session.
    pub(crate) fn is_carried_by(&self, websocket: &Arc<Outbox>) -> bool {
        matches!(&self.inner.lock().state, SessionState::WebSocket(ws) if Outbox::same(ws, websocket))
    }

    /// Starts an orderly close requested by the server. Returns true when the session can be
    /// closed now; false when it waits for the next GET to carry the close packet.
    pub(crate) fn begin_close(&self) -> bool {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        match &mut inner.state {
            SessionState::Polling(polling) | SessionState::Upgrading { polling, .. }
                if !polling.get_waiting() =>
            {
                let candidate = match &inner.state {
                    SessionState::Upgrading {
                        websocket, probed, ..
                    } => release_candidate(websocket, *probed),
                    _ => None,
                };
                self.transition(inner, SessionState::ClosingPolling { candidate });
                false
            }
            SessionState::ClosingPolling { .. } => false,
            _ => true,
        }
    }

    /// Moves the session to `Closed` and releases its transports. Err if it already was; else
    /// the last answer for a waiting GET. `closing_packet` is what that GET gets (upstream sends a
    /// noop when the client closed, a close packet otherwise).
    pub(crate) fn shut(&self, closing_packet: Packet) -> Result<Option<PollAnswer>, Closed> {
        let mut inner = self.inner.lock();
        let previous = self.transition(&mut inner, SessionState::Closed);
        if let Some(heartbeat) = inner.heartbeat.take() {
            heartbeat.abort();
        }
        inner.buffer.clear();
        match previous {
            SessionState::Closed => Err(Closed),
            SessionState::Polling(mut polling) => {
                Ok(polling.answer(self.revision, &[closing_packet]))
            }
            SessionState::Upgrading {
                mut polling,
                websocket,
                probed,
            } => {
                let _left_to_its_connection = release_candidate(&websocket, probed);
                Ok(polling.answer(self.revision, &[closing_packet]))
            }
            SessionState::WebSocket(websocket) => {
                let _already_gone = websocket.send(Outgoing::Close);
                Ok(None)
            }
            // No GET carried the close: a candidate still waits for the client's `5`.
            SessionState::ClosingPolling { .. } => Ok(None),
        }
    }
}

/// What a push on a WebSocket's outbox asks of the sender: its writer is to be woken if the
/// outbox was empty.
fn wake_if_idle(websocket: &Arc<Outbox>, pushed: Result<bool, Closed>) -> Result<Sent, Closed> {
    Ok(if pushed? {
        Sent::Wake(Arc::clone(websocket))
    } else {
        Sent::Queued
    })
}

/// What becomes of an upgrade candidate when its session stops. Before the probe's pong the
/// client still polls, and polling tells it: the candidate is closed now. After it, the client
/// pauses polling until its last GET returns and then sends `5` on the candidate, which alone can
/// still tell it (upstream closes the candidate now, and a client whose close frame overtakes that
/// GET stays paused for good): the candidate is left open, returned for a GET that may yet carry
/// the close, and its connection closes it on `5` or at the upgrade deadline.
fn release_candidate(websocket: &Arc<Outbox>, probed: bool) -> Option<Arc<Outbox>> {
    if probed {
        return Some(Arc::clone(websocket));
    }
    let _already_gone = websocket.send(Outgoing::Close);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polling_session() -> Session {
        Session::new(
            Arc::from("sid"),
            Revision::V4,
            1,
            SessionState::Polling(Polling::default()),
        )
    }

    /// What a call that may release the waiting GET released, by its body.
    fn bodies(answer: Result<Option<PollAnswer>, Closed>) -> Result<Option<String>, Closed> {
        answer.map(|answer| answer.map(|answer| answer.body))
    }

    fn now(outcome: PollOutcome) -> String {
        match outcome {
            PollOutcome::Reply(PollReply::Now(body)) => body,
            _ => panic!("expected an immediate reply"),
        }
    }

    #[test]
    fn buffered_packets_answer_the_next_get() {
        let session = polling_session();
        assert_eq!(session.send(Packet::text("a")), Ok(Sent::Queued));
        assert_eq!(session.send(Packet::text("b")), Ok(Sent::Queued));
        assert_eq!(now(session.poll(PollWaiter::Js)), "4a\x1e4b");
    }

    #[test]
    fn a_waiting_get_is_answered_by_the_next_send() {
        let session = polling_session();
        assert!(matches!(
            session.poll(PollWaiter::Js),
            PollOutcome::Reply(PollReply::Waiting)
        ));
        assert_eq!(
            session.send(Packet::text("x")),
            Ok(Sent::PollAnswer(PollAnswer {
                waiter: PollWaiter::Js,
                body: "4x".to_owned()
            }))
        );
        assert_eq!(
            session.send(Packet::text("y")),
            Ok(Sent::Queued),
            "buffered for the next GET"
        );
    }

    #[test]
    fn a_second_get_while_one_waits_is_an_overlap() {
        let session = polling_session();
        let _first = session.poll(PollWaiter::Js);
        assert!(matches!(session.poll(PollWaiter::Js), PollOutcome::Overlap));
    }

    #[test]
    fn upgrade_moves_buffered_packets_to_the_websocket() {
        let session = polling_session();
        let ws = Outbox::new();
        assert!(session.begin_upgrade(ws.clone()));
        assert!(
            !session.begin_upgrade(ws.clone()),
            "only one upgrade at a time"
        );
        assert!(matches!(
            session.poll(PollWaiter::Js),
            PollOutcome::Reply(PollReply::Waiting)
        ));
        assert_eq!(
            bodies(session.probe_answered(&ws)),
            Ok(Some("6".to_owned()))
        );
        assert_eq!(
            now(session.poll(PollWaiter::Js)),
            "6",
            "a probed session releases GETs at once"
        );
        assert_eq!(session.send(Packet::text("late")), Ok(Sent::Queued));
        assert_eq!(bodies(session.finish_upgrade(&ws)), Ok(None));
        assert_eq!(session.transport_name(), "websocket");
        match ws.take_queued().as_slice() {
            [Outgoing::Packet(packet)] => assert_eq!(packet, &Packet::text("late")),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            session.send(Packet::text("next")),
            Ok(Sent::Wake(Arc::clone(&ws))),
            "an empty outbox needs its writer woken"
        );
        assert!(matches!(
            session.poll(PollWaiter::Js),
            PollOutcome::Err(PollError::TransportMismatch)
        ));
    }

    #[test]
    fn an_abandoned_upgrade_returns_to_polling() {
        let session = polling_session();
        let ws = Outbox::new();
        assert!(session.begin_upgrade(ws.clone()));
        session.abandon_upgrade(&ws);
        assert!(matches!(
            session.inner.lock().state,
            SessionState::Polling(_)
        ));
    }

    fn is_close(queued: &[Outgoing]) -> bool {
        matches!(queued, [Outgoing::Close])
    }

    #[test]
    fn a_close_before_the_probe_closes_the_upgrade_candidate() {
        let session = polling_session();
        let ws = Outbox::new();
        assert!(session.begin_upgrade(ws.clone()));
        assert!(bodies(session.shut(Packet::Close)).is_ok());
        assert!(is_close(&ws.take_queued()));
    }

    #[test]
    fn a_close_after_the_probe_leaves_the_candidate_to_its_connection() {
        let session = polling_session();
        let ws = Outbox::new();
        assert!(session.begin_upgrade(ws.clone()));
        assert_eq!(bodies(session.probe_answered(&ws)), Ok(None));
        assert_eq!(bodies(session.shut(Packet::Close)), Ok(None));
        assert!(
            ws.take_queued().is_empty(),
            "the paused client learns it on the candidate, after its `5`"
        );
        assert_eq!(bodies(session.finish_upgrade(&ws)), Err(Closed));
    }

    #[test]
    fn an_orderly_close_after_the_probe_closes_the_candidate_with_the_get_that_carries_it() {
        let session = polling_session();
        let ws = Outbox::new();
        assert!(session.begin_upgrade(ws.clone()));
        assert_eq!(bodies(session.probe_answered(&ws)), Ok(None));
        assert!(!session.begin_close());
        assert!(ws.take_queued().is_empty());
        assert!(matches!(
            session.poll(PollWaiter::Js),
            PollOutcome::ReplyThenClose(_)
        ));
        assert!(is_close(&ws.take_queued()));
    }

    #[test]
    fn orderly_close_waits_for_a_get_to_carry_the_close_packet() {
        let session = polling_session();
        assert_eq!(session.send(Packet::text("bye")), Ok(Sent::Queued));
        assert!(!session.begin_close());
        assert_eq!(session.send(Packet::text("ignored")), Err(Closed));
        assert_eq!(now(session.poll(PollWaiter::Js)), "4bye");
        match session.poll(PollWaiter::Js) {
            PollOutcome::ReplyThenClose(body) => assert_eq!(body, "6\x1e1"),
            _ => panic!("expected the close packet"),
        }
    }

    #[test]
    fn shutting_answers_the_waiting_get_and_happens_once() {
        let session = polling_session();
        assert!(matches!(
            session.poll(PollWaiter::Js),
            PollOutcome::Reply(PollReply::Waiting)
        ));
        assert_eq!(
            bodies(session.shut(Packet::Close)),
            Ok(Some("1".to_owned()))
        );
        assert_eq!(bodies(session.shut(Packet::Close)), Err(Closed));
        assert!(session.is_closed());
    }
}
