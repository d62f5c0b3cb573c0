//! `BindingServer`: `io::SocketIo` as lib/engine/native-server.js drives it. Each method converts
//! its arguments, calls the core, and converts the result; nothing else.
use super::convert::{
    self, BindingHandoff, BindingPacket, BindingPollingHandoff, BindingServerOptions,
    BindingStoredPacket,
};
use super::error::to_js;
use super::events;
use super::js_wakeup::JsWakeup;
use crate::engine::session::PollReply;
use crate::engine::PostBody;
use crate::io::error::IoError;
use crate::io::SocketIo;
use crate::protocol::Revision;
use napi::bindgen_prelude::{Buffer, Either, Float64Array, Function};
use napi_derive::napi;
use std::sync::Arc;

#[napi]
pub struct BindingServer {
    io: Arc<SocketIo>,
    _wakeup: JsWakeup,
}

impl Drop for BindingServer {
    /// Dropped on the JS thread when the env that made it is torn down (its worker thread or
    /// the process ends): the wake-up's reference to `on_events` keeps it alive until then.
    fn drop(&mut self) {
        self.io.engine().close_all();
    }
}

impl BindingServer {
    /// The core, for a cluster node that delivers to this server's sockets.
    pub(super) fn io(&self) -> Arc<SocketIo> {
        Arc::clone(&self.io)
    }
}

#[napi]
impl BindingServer {
    /// `on_events` is called (with no argument) whenever events are waiting in `drainEvents`.
    #[napi(constructor)]
    pub fn new(
        options: BindingServerOptions,
        on_events: Function<'_, (), ()>,
    ) -> napi::Result<Self> {
        let config = convert::config(&options)?;
        let (js_wakeup, wakeup) = JsWakeup::new(&on_events)?;
        Ok(Self {
            io: Arc::new(SocketIo::new(config, wakeup, super::runtime()?)),
            _wakeup: js_wakeup,
        })
    }

    /// Everything queued so far, packed as events.rs says.
    #[napi]
    pub fn drain_events(&self) -> events::Batch {
        events::pack(self.io.clients().drain())
    }

    /// Whether JS listens to `packet` / `packetCreate` events.
    #[napi]
    pub fn set_packets_listened(&self, listened: bool) {
        self.io.clients().set_packets_listened(listened);
    }

    /// Whether JS listens to raw `message` events on engine sockets.
    #[napi]
    pub fn set_messages_listened(&self, listened: bool) {
        self.io.clients().set_messages_listened(listened);
    }

    /// Long-poll answers that sends from JS released: `[session handle, body]` each. The sending
    /// calls return how many wait here.
    #[napi]
    pub fn take_poll_answers(&self) -> Vec<(f64, String)> {
        self.io
            .clients()
            .take_answers()
            .into_iter()
            .map(|(session, body)| (session as f64, body))
            .collect()
    }

    fn answers_waiting(&self) -> u32 {
        self.io.clients().answers_waiting() as u32
    }

    /// Queues one Socket.IO packet to every session in `targets`. Returns how many poll answers
    /// wait in `takePollAnswers`.
    #[napi]
    pub fn send_packet(&self, targets: Float64Array, packet: BindingPacket) -> napi::Result<u32> {
        let targets = convert::handles(&targets);
        let packet = convert::packet(packet)?;
        self.io
            .clients()
            .answers_taken_after(|| self.io.send_packet(&targets, packet))
            .map_err(|err| to_js(err.into()))?;
        Ok(self.answers_waiting())
    }

    /// Queues the packets JS queued in a turn, one recipient each (see `convert::queued_packets`).
    /// Returns how many poll answers wait in `takePollAnswers`.
    #[napi]
    pub fn send_queued(&self, records: Float64Array, texts: String) -> napi::Result<u32> {
        self.io.clients().answers_taken_after(|| {
            convert::queued_packets(&records, &texts).try_for_each(|queued| {
                let (handle, packet) = queued?;
                self.io
                    .send_unstored(handle, packet)
                    .map_err(|err| to_js(err.into()))
            })
        })?;
        Ok(self.answers_waiting())
    }

    /// Queues to every session in `targets` a packet of namespace `nsp` that a parser in JS
    /// encoded as `messages`; `stored` as in `BindingPacket`. Returns how many poll answers wait
    /// in `takePollAnswers`.
    #[napi]
    pub fn send_encoded(
        &self,
        targets: Float64Array,
        nsp: String,
        messages: Vec<Either<String, Buffer>>,
        stored: Option<BindingStoredPacket>,
    ) -> u32 {
        let targets = convert::handles(&targets);
        let frames = convert::frames(messages);
        let stored = convert::stored_as(stored);
        self.io.clients().answers_taken_after(|| {
            self.io.send_frames(&targets, &nsp, frames, stored);
        });
        self.answers_waiting()
    }

    /// Queues `packet` to the connected sockets of its namespace in any of `rooms` (all when
    /// empty) and in none of `except`. Returns how many poll answers wait in `takePollAnswers`.
    #[napi]
    pub fn broadcast(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
        packet: BindingPacket,
    ) -> napi::Result<u32> {
        let packet = convert::packet(packet)?;
        self.io
            .clients()
            .answers_taken_after(|| {
                self.io
                    .namespace(&packet.nsp)
                    .broadcast(&rooms, &except, packet)
            })
            .map_err(|err| to_js(err.into()))?;
        Ok(self.answers_waiting())
    }

    /// `broadcast` for several packets, all of one namespace, in order: each recipient's queue is
    /// taken once for all of them.
    #[napi]
    pub fn broadcast_all(
        &self,
        rooms: Vec<String>,
        except: Vec<String>,
        packets: Vec<BindingPacket>,
    ) -> napi::Result<u32> {
        let packets = packets
            .into_iter()
            .map(convert::packet)
            .collect::<napi::Result<Vec<_>>>()?;
        let Some(nsp) = packets.first().map(|packet| packet.nsp.clone()) else {
            return Ok(self.answers_waiting());
        };
        if packets.iter().any(|packet| packet.nsp != nsp) {
            return Err(to_js(IoError::InvalidArgument(
                "broadcastAll: packets of several namespaces".into(),
            )));
        }
        self.io
            .clients()
            .answers_taken_after(|| {
                self.io
                    .namespace(&nsp)
                    .broadcast_all(&rooms, &except, packets)
            })
            .map_err(|err| to_js(err.into()))?;
        Ok(self.answers_waiting())
    }

    /// Queues a raw engine message to every session in `targets` (one session's handle, or those
    /// an adapter's broadcast wrote it to in turn: lib/engine/native-server.js `sendMessage`);
    /// returns how many poll answers wait in `takePollAnswers`.
    #[napi]
    pub fn send(&self, targets: Float64Array, data: Either<String, Buffer>) -> u32 {
        let message = convert::message(data);
        let targets = convert::handles(&targets);
        self.io
            .clients()
            .answers_taken_after(|| self.io.send_message(&targets, message));
        self.answers_waiting()
    }

    /// Wakes every WebSocket writer that packets were queued to since the last call: JS calls it
    /// once per event-loop turn, so a turn's packets leave each connection in one write.
    #[napi]
    pub fn flush(&self) {
        self.io.engine().flush();
    }

    #[napi]
    pub fn join(&self, nsp: String, id: String, rooms: Vec<String>) {
        self.io.namespace(&nsp).join(&id, &rooms);
    }

    #[napi]
    pub fn leave(&self, nsp: String, id: String, rooms: Vec<String>) {
        self.io.namespace(&nsp).leave(&id, &rooms);
    }

    /// The socket `id` receives broadcasts from now on, through the session `handle`.
    #[napi]
    pub fn connect_socket(&self, nsp: String, id: String, handle: f64) {
        self.io.namespace(&nsp).connect(&id, handle as u64);
    }

    #[napi]
    pub fn disconnect_socket(&self, nsp: String, id: String) {
        self.io.namespace(&nsp).disconnect(&id);
    }

    /// The offset of the last stored packet a broadcast of `nsp` sent to the connected socket
    /// `id` (0 for none).
    #[napi]
    pub fn last_stored_offset(&self, nsp: String, id: String) -> f64 {
        self.io.namespace(&nsp).last_stored_offset(&id) as f64
    }

    /// The stream id of the last cluster broadcast of `nsp` that Rust delivered to the connected
    /// socket `id` (null for none).
    #[napi]
    pub fn last_stream_offset(&self, nsp: String, id: String) -> Option<String> {
        let offset = self.io.namespace(&nsp).last_stored_offset(&id);
        (offset > 0).then(|| crate::cluster::redis_streams::entry::offset_id(offset))
    }

    /// Whether a session of namespace `nsp` can be restored from `offset`.
    #[napi]
    pub fn recoverable(&self, nsp: String, offset: f64) -> bool {
        convert::offset(offset).is_some_and(|offset| self.io.namespace(&nsp).recoverable(offset))
    }

    /// Queues to session `handle` what its `rooms` missed in `nsp` since `offset`; returns the
    /// offset of the last packet queued (`offset` when none), or null when that cannot be done
    /// completely: the client then gets a fresh session.
    #[napi]
    pub fn replay(&self, handle: f64, nsp: String, offset: f64, rooms: Vec<String>) -> Option<f64> {
        let offset = convert::offset(offset)?;
        self.io
            .clients()
            .answers_taken_after(|| {
                self.io
                    .namespace(&nsp)
                    .replay(handle as u64, offset, &rooms)
            })
            .map(|last| last as f64)
    }

    /// Opens a polling session; returns its handle.
    #[napi]
    pub fn open_polling(&self, sid: String, protocol: u32) -> f64 {
        self.io
            .engine()
            .open_polling(&sid, Revision::from_eio(protocol)) as f64
    }

    /// A long-poll GET: the body if data is ready, else null and the body comes later as a
    /// poll-answer event.
    #[napi]
    pub fn poll(&self, sid: String) -> napi::Result<Option<String>> {
        match self
            .io
            .engine()
            .poll(&sid)
            .map_err(|err| to_js(err.into()))?
        {
            PollReply::Now(body) => Ok(Some(body)),
            PollReply::Waiting => Ok(None),
        }
    }

    /// A POST body. Returns what it caused (as `drainEvents` does), for JS to dispatch at once,
    /// as upstream handles the packets of a POST within its request's `end` event: the poll
    /// answers released on this thread as `PollAnswer` events, then every event queued so far.
    /// Nothing of it woke JS.
    #[napi]
    pub fn post(&self, sid: String, body: Either<String, Buffer>) -> napi::Result<events::Batch> {
        let body = match &body {
            Either::A(text) => PostBody::Text(text),
            Either::B(bytes) => PostBody::Binary(bytes),
        };
        let clients = self.io.clients();
        // A refused body queued nothing, so nothing waits for this caller then.
        clients
            .drained_after(|| self.io.engine().post(&sid, body))
            .map_err(|err| to_js(err.into()))?;
        Ok(events::pack(clients.drain_with_answers()))
    }

    #[napi]
    pub fn request_aborted(&self, sid: String, description: String) {
        self.io.engine().request_aborted(&sid, &description);
    }

    #[napi]
    pub fn close(&self, sid: String, discard: bool) {
        self.io.engine().close(&sid, discard);
    }

    /// Opens a session on a WebSocket whose upgrade request Node read. Returns the session's
    /// handle and, for a bridged connection, the descriptor of the socket pair's end for Node to
    /// pipe the connection to (-1 otherwise).
    #[napi]
    pub fn open_websocket(
        &self,
        handoff: BindingHandoff,
        sid: String,
        protocol: u32,
    ) -> napi::Result<(f64, i32)> {
        let (handoff, bridge) = convert::handoff(handoff)?;
        let handle = self
            .io
            .engine()
            .open_websocket(handoff, &sid, Revision::from_eio(protocol));
        Ok((handle as f64, bridge))
    }

    /// Serves the polling requests of a kept-alive connection in Rust from now on.
    #[napi]
    pub fn take_polling_connection(&self, handoff: BindingPollingHandoff) -> napi::Result<()> {
        let handoff = convert::polling_handoff(handoff)?;
        self.io.engine().take_polling_connection(handoff);
        Ok(())
    }

    /// Every polling request goes through JS from now on (a hook per request was added).
    #[napi]
    pub fn serve_polling_in_js(&self) {
        self.io.engine().serve_polling_in_js();
    }

    /// The HTTP server closes its idle connections: so do the polling connections Rust serves.
    #[napi]
    pub fn close_idle_polling_connections(&self) {
        self.io.engine().close_idle_polling_connections();
    }

    /// Upgrades polling session `sid` to a WebSocket (see `openWebsocket`); returns the bridge's
    /// descriptor, or -1.
    #[napi]
    pub fn upgrade_websocket(&self, handoff: BindingHandoff, sid: String) -> napi::Result<i32> {
        let (handoff, bridge) = convert::handoff(handoff)?;
        self.io.engine().upgrade_websocket(handoff, &sid);
        Ok(bridge)
    }
}
