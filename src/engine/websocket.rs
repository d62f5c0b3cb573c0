//! The WebSocket transport: a connection handed over by Node's HTTP server, its handshake
//! response, the probe/upgrade exchange and the read/write loop.
use super::close_reason::CloseReason;
use super::connection_lease::ConnectionLease;
use super::frame_writer::{copied_when_written, encode_frames, write_frames, Frame, Frames};
use super::handler::ConnectionId;
use super::outbox::{Outbox, Outgoing};
use super::session::Session;
use super::stream::{ByteStream, HandedStream};
use super::Engine;
use crate::protocol::engine_packet::{Message as EngineMessage, Packet};
use crate::protocol::Revision;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

/// How long a closing connection waits for the peer's Close frame before dropping it.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Read buffer per connection: tungstenite zero-fills and keeps all of it, so it is resident for
/// every idle connection (4 KiB cost ~7 KB of RSS per connection here, 1 KiB ~1 KB). Larger frames
/// still arrive whole (the buffer grows to the frame), in reads of this size.
const READ_BUFFER_SIZE: usize = 1024;

/// A connection taken over from Node after its HTTP upgrade request was read.
pub struct WebSocketHandoff {
    pub stream: HandedStream,
    /// Bytes Node had already read past the request head.
    pub head: Vec<u8>,
    /// The complete `101 Switching Protocols` response, extra headers included.
    pub response: Vec<u8>,
    /// The size from which messages are compressed, when permessage-deflate was negotiated.
    pub deflate_threshold: Option<usize>,
    /// Reported to the handler once the connection is closed (see `ConnectionLease`).
    pub connection: ConnectionId,
}

/// Completes the handshake and then closes: the session it named cannot take a WebSocket now
/// (upstream completes the WebSocket handshake, then closes it).
pub(super) async fn refuse(handoff: WebSocketHandoff, _lease: ConnectionLease) {
    if let Ok(mut ws) = accept(handoff, WebSocketConfig::default()).await {
        let _closed = ws.close(None).await;
        drain_until_closed(&mut ws).await;
    }
}

async fn accept(
    handoff: WebSocketHandoff,
    config: WebSocketConfig,
) -> std::io::Result<WebSocketStream<ByteStream>> {
    let mut stream = handoff.stream.into_async()?;
    stream.write_all(&handoff.response).await?;
    let (stream, head) = match handoff.deflate_threshold {
        Some(threshold) => {
            let limit = config.max_message_size.unwrap_or(usize::MAX);
            (
                stream.deflating(threshold, limit, &handoff.head)?,
                Vec::new(),
            )
        }
        None => (stream, handoff.head),
    };
    Ok(WebSocketStream::from_partially_read(stream, head, Role::Server, Some(config)).await)
}

async fn drain_until_closed(ws: &mut WebSocketStream<ByteStream>) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// What a batch writes, borrowed from its queue items: a packet, or a message shared with other
/// connections.
enum Queued<'a> {
    Packet(&'a Packet),
    Message(&'a EngineMessage),
    /// Frames encoded once for every connection that writes them.
    Encoded(&'a [u8]),
}

/// Queued packets and messages as the frames of a connection's protocol revision.
struct QueuedFrames<'a> {
    queued: &'a [Queued<'a>],
    revision: Revision,
}

impl Frames for QueuedFrames<'_> {
    fn count(&self) -> usize {
        self.queued.len()
    }

    fn frame(&self, index: usize) -> Frame<'_> {
        match self.queued[index] {
            Queued::Packet(Packet::Message(message)) | Queued::Message(message) => {
                message_frame(message, self.revision)
            }
            Queued::Encoded(bytes) => Frame::encoded(bytes),
            Queued::Packet(other) => Frame::made_text(
                other
                    .encode_text()
                    .map_or_else(|| Bytes::from_static(b"6"), Bytes::from),
            ),
        }
    }
}

fn message_frame(message: &EngineMessage, revision: Revision) -> Frame<'_> {
    match message {
        EngineMessage::Text(text) => Frame::text(None, text.frame().as_bytes()),
        // Engine.IO v3 binary frames start with the packet type.
        EngineMessage::Binary(data) if revision == Revision::V3 => Frame::binary(Some(4), data),
        EngineMessage::Binary(data) => Frame::binary(None, data),
    }
}

/// Messages as the frames an Engine.IO v4 connection writes, if they are small enough to gain
/// from being encoded once for every connection (see `copied_when_written`).
fn encode_v4(messages: &[EngineMessage]) -> Option<Vec<u8>> {
    let queued: Vec<Queued<'_>> = messages.iter().map(Queued::Message).collect();
    let frames = QueuedFrames {
        queued: &queued,
        revision: Revision::V4,
    };
    copied_when_written(&frames).then(|| encode_frames(&frames))
}

/// Writes packets past tungstenite, straight to the stream (see frame_writer.rs). A pong or a
/// Close reply that tungstenite queued while reading goes first, whole, so that no frame is
/// written into the middle of it; tungstenite writes nothing else meanwhile, as it writes only
/// while reading, and reading waits for this to end.
async fn write(
    ws: &mut WebSocketStream<ByteStream>,
    revision: Revision,
    queued: &[Queued<'_>],
) -> Result<(), WsError> {
    ws.flush().await?;
    write_frames(ws.get_mut(), &QueuedFrames { queued, revision }).await?;
    Ok(())
}

/// How the read/write loop ended.
enum Ending {
    /// The session is closed or this transport was replaced: close the connection quietly.
    Told,
    /// The peer broke the rules (too big a message, a bad frame): close with the code the `ws`
    /// package sends, and end the session with "transport error".
    Refused(CloseCode, String),
    Reason(CloseReason),
}

pub(super) async fn run(
    engine: Arc<Engine>,
    session: Arc<Session>,
    handoff: WebSocketHandoff,
    own: Arc<Outbox>,
    upgrading: bool,
    _lease: ConnectionLease,
) {
    let max = engine.config().max_payload;
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = READ_BUFFER_SIZE;
    config.max_message_size = Some(max);
    config.max_frame_size = Some(max);
    let mut ws = match Box::pin(accept(handoff, config)).await {
        Ok(ws) => ws,
        Err(err) => {
            debug!(target: "engine:ws", sid = %session.sid, %err, "websocket handshake failed");
            finish(
                &engine,
                &session,
                &own,
                upgrading,
                Ending::Reason(transport_error(&err.to_string())),
            );
            return;
        }
    };
    // A session born on this WebSocket beats here; an upgraded one keeps its polling heartbeat.
    let heartbeat = super::heartbeat::run(Arc::clone(&engine), Arc::clone(&session));
    tokio::pin!(heartbeat);
    let mut beating = !upgrading;
    // Boxed: only an upgrade has one, and every idle connection's task would carry its room.
    let mut upgrade_deadline =
        upgrading.then(|| Box::pin(tokio::time::sleep(engine.config().upgrade_timeout)));
    let mut upgrading = upgrading;

    let ending = loop {
        tokio::select! {
            frame = ws.next() => {
                let packet = match frame {
                    Some(Ok(Message::Text(text))) => {
                        debug!(
                            target: "engine:ws",
                            sid = %session.sid,
                            "received \"{}\"",
                            text.as_str(),
                        );
                        let decoded = match session.revision {
                            Revision::V4 => Packet::decode_text(text),
                            Revision::V3 => Packet::decode_text_v3(text),
                        };
                        match decoded {
                            Ok(packet) => packet,
                            Err(_) => break Ending::Reason(CloseReason::ParseError),
                        }
                    }
                    Some(Ok(Message::Binary(data))) if session.revision == Revision::V3 => {
                        debug!(
                            target: "engine:ws",
                            sid = %session.sid,
                            "received <{} bytes>",
                            data.len(),
                        );
                        match data.first() {
                            Some(4) => Packet::Message(EngineMessage::Binary(data.slice(1..))),
                            _ => break Ending::Reason(CloseReason::ParseError),
                        }
                    }
                    Some(Ok(Message::Binary(data))) => {
                        debug!(
                            target: "engine:ws",
                            sid = %session.sid,
                            "received <{} bytes>",
                            data.len(),
                        );
                        Packet::Message(EngineMessage::Binary(data))
                    }
                    Some(Ok(Message::Close(_))) | None => break Ending::Reason(CloseReason::TransportClose),
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => {
                        debug!(target: "engine:ws", sid = %session.sid, %err, "websocket error");
                        break read_error(err);
                    }
                };
                if !upgrading {
                    // Over WebSocket only the WebSocket's own close ends the session, as upstream.
                    if packet != Packet::Close {
                        engine.on_packet(&session, packet);
                    }
                    if let Some(capacity) = engine.handler.wait_for_capacity() {
                        capacity.await;
                    }
                    continue;
                }
                match packet {
                    Packet::Ping { probe: true } => {
                        debug!(
                            target: "engine:socket",
                            sid = %session.sid,
                            "got probe ping packet, sending pong",
                        );
                        // Recorded before the pong goes out: once the client has it, a close of
                        // the session must leave this connection open (see `release_candidate`).
                        let Ok(answer) = session.probe_answered(&own) else { break Ending::Told };
                        if answer.is_some() {
                            debug!(
                                target: "engine:socket",
                                sid = %session.sid,
                                "writing a noop packet to polling for fast upgrade",
                            );
                        }
                        let pong = Box::pin(write(&mut ws, session.revision, &[Queued::Packet(&Packet::Pong { probe: true })])).await;
                        engine.deliver(session.handle, answer);
                        if pong.is_err() {
                            break Ending::Told;
                        }
                        engine.handler.on_upgrading(session.handle);
                    }
                    Packet::Upgrade => {
                        debug!(
                            target: "engine:socket",
                            sid = %session.sid,
                            "got upgrade packet - upgrading",
                        );
                        let Ok(answer) = session.finish_upgrade(&own) else {
                            // Closed, or closing, while the client paused polling for this
                            // upgrade: the upgrade completes, then the session ends (upstream
                            // does so for a closing session; a closed one stays as it is).
                            engine.close_session(&session, CloseReason::ForcedClose);
                            break Ending::Told;
                        };
                        engine.deliver(session.handle, answer);
                        upgrading = false;
                        upgrade_deadline = None;
                        engine.handler.on_upgrade(session.handle);
                    }
                    other => {
                        debug!(
                            target: "engine:socket",
                            sid = %session.sid,
                            "client did not complete upgrade - unexpected packet {}",
                            other.type_name(),
                        );
                        break Ending::Told;
                    }
                }
            }
            batch = own.next_batch() => {
                if let Err(ending) = Box::pin(write_batch(&mut ws, session.revision, batch)).await {
                    break ending;
                }
            }
            // It returns only after closing the session, whose Close then ends this loop.
            () = &mut heartbeat, if beating => beating = false,
            () = expiry(&mut upgrade_deadline), if upgrading => {
                debug!(
                    target: "engine:socket",
                    sid = %session.sid,
                    "client did not complete upgrade - closing transport",
                );
                break Ending::Told;
            }
        }
    };
    // Whatever ended the session, the peer is told with a Close frame (it fails harmlessly on a
    // connection that is already gone).
    let close_frame = match &ending {
        Ending::Refused(code, _) => Some(CloseFrame {
            code: *code,
            reason: "".into(),
        }),
        Ending::Told | Ending::Reason(_) => None,
    };
    finish(&engine, &session, &own, upgrading, ending);
    debug!(target: "engine:ws", sid = %session.sid, "closing");
    Box::pin(async move {
        let _closed = ws.close(close_frame).await;
        drain_until_closed(&mut ws).await;
    })
    .await;
}

/// Completes when `deadline` passes; never without one.
async fn expiry(deadline: &mut Option<Pin<Box<Sleep>>>) {
    match deadline {
        Some(deadline) => deadline.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Writes a batch, gathered into as few writes as the socket allows; a Close in it ends the
/// connection after what precedes it.
async fn write_batch(
    ws: &mut WebSocketStream<ByteStream>,
    revision: Revision,
    batch: Vec<Outgoing>,
) -> Result<(), Ending> {
    let closing = batch.iter().any(|item| matches!(item, Outgoing::Close));
    let mut queued = Vec::with_capacity(batch.len());
    for item in &batch {
        match item {
            Outgoing::Packet(packet) => queued.push(Queued::Packet(packet)),
            // Engine.IO v3 frames binary messages otherwise (see `message_frame`): its
            // connections frame each message.
            Outgoing::Messages(shared) => match revision {
                Revision::V4 => match shared.encoded(encode_v4) {
                    Some(encoded) => queued.push(Queued::Encoded(encoded)),
                    None => queued.extend(shared.messages().iter().map(Queued::Message)),
                },
                Revision::V3 => queued.extend(shared.messages().iter().map(Queued::Message)),
            },
            Outgoing::Close => break,
        }
    }
    write(ws, revision, &queued)
        .await
        .map_err(|err| Ending::Reason(transport_error(&format!("write error: {err}"))))?;
    if closing {
        return Err(Ending::Told);
    }
    Ok(())
}

fn transport_error(description: &str) -> CloseReason {
    CloseReason::TransportError(description.to_owned())
}

fn read_error(err: WsError) -> Ending {
    match err {
        WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Ending::Reason(CloseReason::TransportClose)
        }
        WsError::Io(ref io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            Ending::Reason(CloseReason::TransportClose)
        }
        WsError::Capacity(err) => Ending::Refused(CloseCode::Size, err.to_string()),
        WsError::Protocol(err) => Ending::Refused(CloseCode::Protocol, err.to_string()),
        WsError::Utf8(err) => Ending::Refused(CloseCode::Invalid, err),
        other => Ending::Reason(transport_error(&other.to_string())),
    }
}

/// Settles the session once this connection's loop has ended.
fn finish(
    engine: &Arc<Engine>,
    session: &Arc<Session>,
    own: &Arc<Outbox>,
    upgrading: bool,
    ending: Ending,
) {
    own.shut();
    let reason = match ending {
        Ending::Told => None,
        Ending::Refused(_, description) => Some(transport_error(&description)),
        Ending::Reason(reason) => Some(reason),
    };
    if upgrading {
        if let Some(reason) = &reason {
            debug!(
                target: "engine:socket",
                sid = %session.sid,
                "client did not complete upgrade - {}",
                reason.description().unwrap_or(reason.as_str()),
            );
        }
        session.abandon_upgrade(own);
        return;
    }
    let Some(reason) = reason else {
        return;
    };
    if session.is_carried_by(own) {
        engine.close_session(session, reason);
    }
}
