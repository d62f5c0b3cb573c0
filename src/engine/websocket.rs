//! The WebSocket transport: a connection handed over by Node's HTTP server, its handshake
//! response, the probe/upgrade exchange and the read/write loop.
use super::close_reason::CloseReason;
use super::connection_lease::ConnectionLease;
use super::frame_reader::{ClientReader, ReadError};
use super::frame_writer::{copied_when_written, encode_frames, write_frames, Frame, Frames};
use super::handler::ConnectionId;
use super::outbox::{Outbox, Outgoing};
use super::session::Session;
use super::stream::{ByteStream, HandedStream};
use super::Engine;
use crate::protocol::client_frames::{close_frame, Incoming};
use crate::protocol::engine_packet::{Message as EngineMessage, Packet};
use crate::protocol::Revision;
use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::Sleep;
use tracing::debug;

/// How long a closing connection waits for the peer's Close frame before dropping it.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

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
/// (upstream completes the WebSocket handshake, then closes it). `limit`: the largest message.
pub(super) async fn refuse(handoff: WebSocketHandoff, limit: usize, _lease: ConnectionLease) {
    if let Ok(mut connection) = accept(handoff, limit).await {
        connection.close(None).await;
    }
}

/// A WebSocket after its handshake: the stream, which frames are written to directly (see
/// frame_writer.rs), and its reading side.
struct Connection {
    stream: ByteStream,
    reader: ClientReader,
}

impl Connection {
    /// Writes the pongs, or the answer to a Close, owed to the client.
    async fn write_replies(&mut self) -> io::Result<()> {
        if !self.reader.parser().has_replies() {
            return Ok(());
        }
        let replies = self.reader.parser().take_replies();
        self.stream.write_all(&replies).await?;
        self.stream.flush().await
    }

    /// Ends the closing handshake: answers the client's Close, or sends ours (with `code`, after
    /// a refusal) and waits a while for the client's answer. The connection is dropped after.
    async fn close(&mut self, code: Option<u16>) {
        if self.write_replies().await.is_err() || self.reader.parser().close_received() {
            return;
        }
        if self.stream.write_all(&close_frame(code)).await.is_err()
            || self.stream.flush().await.is_err()
        {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(incoming)) = self.reader.next(&mut self.stream).await {
                if incoming == Incoming::Close {
                    break;
                }
            }
        })
        .await;
    }
}

async fn accept(handoff: WebSocketHandoff, limit: usize) -> io::Result<Connection> {
    let mut stream = handoff.stream.into_async()?;
    stream.write_all(&handoff.response).await?;
    let (stream, head) = match handoff.deflate_threshold {
        Some(threshold) => {
            let inflated_limit = if limit == 0 { usize::MAX } else { limit };
            (
                stream.deflating(threshold, inflated_limit, &handoff.head)?,
                Vec::new(),
            )
        }
        None => (stream, handoff.head),
    };
    Ok(Connection {
        stream,
        reader: ClientReader::new(limit, head),
    })
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

/// Writes packets straight to the stream (see frame_writer.rs), after any pong owed; the flush
/// sends what a compressing stream still holds.
async fn write(
    connection: &mut Connection,
    revision: Revision,
    queued: &[Queued<'_>],
) -> io::Result<()> {
    connection.write_replies().await?;
    write_frames(&mut connection.stream, &QueuedFrames { queued, revision }).await?;
    connection.stream.flush().await
}

/// How the read/write loop ended.
enum Ending {
    /// The session is closed or this transport was replaced: close the connection quietly.
    Told,
    /// The peer broke the rules (too big a message, a bad frame): close with the code the `ws`
    /// package sends, and end the session with "transport error".
    Refused(u16, String),
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
    let mut connection = match Box::pin(accept(handoff, engine.config().max_payload)).await {
        Ok(connection) => connection,
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
            incoming = connection.reader.next(&mut connection.stream) => {
                let packet = match incoming {
                    Some(Ok(Incoming::Text(text))) => {
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
                    Some(Ok(Incoming::Binary(data))) if session.revision == Revision::V3 => {
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
                    Some(Ok(Incoming::Binary(data))) => {
                        debug!(
                            target: "engine:ws",
                            sid = %session.sid,
                            "received <{} bytes>",
                            data.len(),
                        );
                        Packet::Message(EngineMessage::Binary(data))
                    }
                    Some(Ok(Incoming::Ping)) => {
                        if Box::pin(connection.write_replies()).await.is_err() {
                            break Ending::Reason(CloseReason::TransportClose);
                        }
                        continue;
                    }
                    Some(Ok(Incoming::Close)) | None => break Ending::Reason(CloseReason::TransportClose),
                    Some(Err(err)) => {
                        debug!(target: "engine:ws", sid = %session.sid, ?err, "websocket error");
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
                        let pong = Box::pin(write(&mut connection, session.revision, &[Queued::Packet(&Packet::Pong { probe: true })])).await;
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
                if let Err(ending) = Box::pin(write_batch(&mut connection, session.revision, batch)).await {
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
    let code = match &ending {
        Ending::Refused(code, _) => Some(*code),
        Ending::Told | Ending::Reason(_) => None,
    };
    finish(&engine, &session, &own, upgrading, ending);
    debug!(target: "engine:ws", sid = %session.sid, "closing");
    Box::pin(connection.close(code)).await;
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
    connection: &mut Connection,
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
    write(connection, revision, &queued)
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

fn read_error(err: ReadError) -> Ending {
    match err {
        ReadError::Refused(refusal) => Ending::Refused(refusal.code, refusal.description),
        ReadError::Io(err)
            if matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            ) =>
        {
            Ending::Reason(CloseReason::TransportClose)
        }
        ReadError::Io(err) => Ending::Reason(transport_error(&err.to_string())),
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
