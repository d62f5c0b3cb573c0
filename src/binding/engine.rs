//! `BindingEngine`: the Engine.IO core as the JS facade (lib/engine) drives it.
use super::error::{invalid_arg, poll_error, post_error};
use super::events::{BindingEvent, JsHandler};
use super::recovery::{BindingRecoveryOptions, BindingStoredPacket};
use crate::engine::config::EngineConfig;
use crate::engine::session::PollReply;
use crate::engine::stream::HandedStream;
use crate::engine::{Engine, PostBody, WebSocketHandoff};
use crate::protocol::engine_packet::{Message, TextMessage};
use crate::protocol::socketio_packet::{self, PacketType};
use crate::protocol::Revision;
use crate::recovery::PacketStore;
use crate::rooms::RoomIndex;
use bytes::Bytes;
use dashmap::DashMap;
use napi::bindgen_prelude::{Buffer, Either, Float64Array, Function};
use napi_derive::napi;
use std::os::fd::{BorrowedFd, IntoRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[napi(object, object_to_js = false)]
pub struct BindingEngineOptions {
    pub ping_interval: f64,
    pub ping_timeout: f64,
    pub upgrade_timeout: f64,
    pub max_http_buffer_size: f64,
    pub allow_upgrades: bool,
    pub websocket: bool,
    /// Set when `connectionStateRecovery` is on.
    pub recovery: Option<BindingRecoveryOptions>,
}

/// One Socket.IO packet to send, positional so that crossing costs no property lookups:
/// `[namespace, packet type, ack id, JSON text of the data, binary attachments, stored]`, where
/// `stored` is set when the packet is kept for connection-state recovery.
pub type BindingPacket = (
    String,
    u32,
    Option<f64>,
    String,
    Option<Vec<Buffer>>,
    Option<BindingStoredPacket>,
);

fn normalize_options(options: &BindingEngineOptions) -> napi::Result<EngineConfig> {
    let millis = |name: &str, value: f64| {
        if value.is_finite() && value >= 0.0 {
            Ok(Duration::from_millis(value as u64))
        } else {
            Err(invalid_arg(format!(
                "{name} must be a non-negative number of milliseconds"
            )))
        }
    };
    if !(options.max_http_buffer_size.is_finite() && options.max_http_buffer_size >= 0.0) {
        return Err(invalid_arg(
            "maxHttpBufferSize must be a non-negative number".into(),
        ));
    }
    Ok(EngineConfig {
        ping_interval: millis("pingInterval", options.ping_interval)?,
        ping_timeout: millis("pingTimeout", options.ping_timeout)?,
        upgrade_timeout: millis("upgradeTimeout", options.upgrade_timeout)?,
        max_payload: options.max_http_buffer_size as usize,
        allow_upgrades: options.allow_upgrades,
        websocket_enabled: options.websocket,
    })
}

#[napi]
pub struct BindingEngine {
    pub(super) engine: Arc<Engine>,
    pub(super) handler: Arc<JsHandler>,
    pub(super) recovery: Option<Arc<dyn PacketStore>>,
    /// Room indexes, by namespace.
    pub(super) rooms: DashMap<String, Arc<parking_lot::Mutex<RoomIndex>>>,
}

#[napi]
impl BindingEngine {
    /// `on_events` is called (with no argument) whenever events are waiting in `drainEvents`.
    #[napi(constructor)]
    pub fn new(
        options: BindingEngineOptions,
        on_events: Function<'_, (), ()>,
    ) -> napi::Result<Self> {
        let config = normalize_options(&options)?;
        let handler = Arc::new(JsHandler::new(&on_events)?);
        let engine = Engine::new(config, handler.clone(), super::runtime()?);
        let recovery = options
            .recovery
            .as_ref()
            .map(|recovery| recovery.to_store())
            .transpose()?;
        Ok(Self {
            engine,
            handler,
            recovery,
            rooms: DashMap::new(),
        })
    }

    #[napi]
    pub fn drain_events(&self) -> Vec<BindingEvent> {
        self.handler.drain()
    }

    /// Whether JS listens to `packet` / `packetCreate` events.
    #[napi]
    pub fn set_packets_listened(&self, listened: bool) {
        self.handler
            .packets_listened
            .store(listened, Ordering::Relaxed);
    }

    /// Whether JS listens to raw `message` events on engine sockets.
    #[napi]
    pub fn set_messages_listened(&self, listened: bool) {
        self.handler
            .messages_listened
            .store(listened, Ordering::Relaxed);
    }

    /// Encodes one Socket.IO packet once and queues it to every session in `targets`: a
    /// broadcast costs one call, whatever the number of recipients. A packet with `stored` is also
    /// kept for connection-state recovery. Returns how many poll answers wait in
    /// `takePollAnswers`.
    #[napi]
    pub fn send_packet(&self, targets: Float64Array, packet: BindingPacket) -> napi::Result<u32> {
        let targets: Vec<u64> = targets.iter().map(|&target| target as u64).collect();
        self.deliver_packet(&targets, packet)?;
        Ok(self.handler.answers_waiting())
    }

    /// Long-poll answers that sends from JS released: `[session handle, body]` each. The sending
    /// calls return how many wait here.
    #[napi]
    pub fn take_poll_answers(&self) -> Vec<(f64, String)> {
        self.handler.take_answers()
    }

    /// Frames `packet` once, queues it to every session in `targets`, and stores it for recovery
    /// when it says so.
    pub(super) fn deliver_packet(
        &self,
        targets: &[u64],
        packet: BindingPacket,
    ) -> napi::Result<()> {
        let frames = encode_frames(&packet)?;
        for &target in targets {
            self.engine.send_to(target, &frames);
        }
        let (nsp, _, _, _, _, stored) = packet;
        if let (Some(stored), Some(store)) = (stored, &self.recovery) {
            store.append(&nsp, stored.into_stored(frames));
        }
        Ok(())
    }

    /// Wakes every WebSocket writer that packets were queued to since the last call: JS calls it
    /// once per event-loop turn, so a turn's packets leave each connection in one write.
    #[napi]
    pub fn flush(&self) {
        self.engine.flush();
    }

    /// Opens a polling session; returns its handle (see `sendPacket`).
    #[napi]
    pub fn open_polling(&self, sid: String, protocol: u32) -> f64 {
        self.engine.open_polling(&sid, revision(protocol)) as f64
    }

    /// A long-poll GET: the body if data is ready, else null and the body comes later as a
    /// poll-answer event.
    #[napi]
    pub fn poll(&self, sid: String) -> napi::Result<Option<String>> {
        Ok(match self.engine.poll(&sid).map_err(poll_error)? {
            PollReply::Now(body) => Some(body),
            PollReply::Waiting => None,
        })
    }

    #[napi]
    pub fn post(&self, sid: String, body: Either<String, Buffer>) -> napi::Result<()> {
        let body = match &body {
            Either::A(text) => PostBody::Text(text),
            Either::B(bytes) => PostBody::Binary(bytes),
        };
        self.engine.post(&sid, body).map_err(post_error)
    }

    #[napi]
    pub fn request_aborted(&self, sid: String, description: String) {
        self.engine.request_aborted(&sid, &description);
    }

    /// Queues a raw engine message to the session `handle`; returns how many poll answers wait in
    /// `takePollAnswers`.
    #[napi]
    pub fn send(&self, handle: f64, data: Either<String, Buffer>) -> u32 {
        let message = match data {
            Either::A(text) => Message::Text(TextMessage::new(&text)),
            Either::B(buffer) => Message::Binary(Bytes::copy_from_slice(&buffer)),
        };
        self.engine.send_to(handle as u64, &[message]);
        self.handler.answers_waiting()
    }

    #[napi]
    pub fn close(&self, sid: String, discard: bool) {
        self.engine.close(&sid, discard);
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
        let (handoff, bridge) = take_over(handoff)?;
        let handle = self
            .engine
            .open_websocket(handoff, &sid, revision(protocol));
        Ok((handle as f64, bridge))
    }

    /// Upgrades polling session `sid` to a WebSocket (see `openWebsocket`); returns the bridge's
    /// descriptor, or -1.
    #[napi]
    pub fn upgrade_websocket(&self, handoff: BindingHandoff, sid: String) -> napi::Result<i32> {
        let (handoff, bridge) = take_over(handoff)?;
        self.engine.upgrade_websocket(handoff, &sid);
        Ok(bridge)
    }
}

/// A connection Node hands over after reading its upgrade request.
#[napi(object, object_to_js = false)]
pub struct BindingHandoff {
    /// The connection's descriptor (Rust takes a duplicate; Node closes its own afterwards), or -1
    /// when Node must keep the connection (TLS): Rust then speaks through a socket pair.
    pub fd: i32,
    /// What Node read past the request.
    pub head: Buffer,
    /// The complete 101 answer.
    pub response: String,
    /// Set when the 101 answer accepted permessage-deflate.
    pub deflate_threshold: Option<u32>,
    /// Names the connection in the event that reports it closed.
    pub connection: f64,
}

/// The stream Rust will own: a duplicate of the descriptor, or (for -1) one end of a new socket
/// pair whose other end's descriptor is returned for Node.
fn take_over(handoff: BindingHandoff) -> napi::Result<(WebSocketHandoff, i32)> {
    let refused =
        |err: std::io::Error| invalid_arg(format!("cannot take over the connection: {err}"));
    let fd = handoff.fd;
    let (stream, bridge) = if fd >= 0 {
        // SAFETY: `fd` is the descriptor of a socket Node keeps open for the duration of this
        // call; we only duplicate it (CLOEXEC) and never close the original.
        let owned = unsafe { BorrowedFd::borrow_raw(fd as RawFd) }
            .try_clone_to_owned()
            .map_err(refused)?;
        (HandedStream::Tcp(std::net::TcpStream::from(owned)), -1)
    } else {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(refused)?;
        (HandedStream::Bridged(ours), theirs.into_raw_fd())
    };
    let taken = WebSocketHandoff {
        stream,
        head: handoff.head.to_vec(),
        response: handoff.response.into_bytes(),
        deflate_threshold: handoff
            .deflate_threshold
            .map(|threshold| threshold as usize),
        connection: handoff.connection as u64,
    };
    Ok((taken, bridge))
}

/// The frames of a Socket.IO packet: its text, then each binary attachment.
fn encode_frames(packet: &BindingPacket) -> napi::Result<Arc<[Message]>> {
    let (nsp, packet_type, ack_id, data, attachments, _) = packet;
    let kind = PacketType::from_number(*packet_type)
        .ok_or_else(|| invalid_arg(format!("unknown packet type {packet_type}")))?;
    let attachments = attachments.as_deref().unwrap_or_default();
    let text = socketio_packet::encode(
        kind,
        attachments.len(),
        nsp,
        ack_id.map(|id| id as u64),
        data,
    );
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(Message::Text(TextMessage::new(&text)));
    frames.extend(
        attachments
            .iter()
            .map(|buffer| Message::Binary(Bytes::copy_from_slice(buffer))),
    );
    Ok(Arc::from(frames))
}

/// The Engine.IO revision JS negotiated (`EIO` query parameter): 3 only with `allowEIO3`.
fn revision(protocol: u32) -> Revision {
    if protocol == 3 {
        Revision::V3
    } else {
        Revision::V4
    }
}
