//! JavaScript values into the core's types: options, outgoing packets, handed-over connections.
//! Numbers arrive as f64; each is checked once here.
use super::error::to_js;
use crate::engine::config::EngineConfig;
use crate::engine::polling_connection::{
    Compression, Encoding, HeaderTerm, PollingHandoff, PollingTerms,
};
use crate::engine::stream::{self, HandedStream};
use crate::engine::{SessionHandle, WebSocketHandoff};
use crate::io::error::IoError;
use crate::io::packet::{OutgoingPacket, StoredAs};
use crate::io::parser::{PacketParts, Parser};
use crate::io::IoConfig;
use crate::protocol::engine_packet::{Message, TextMessage};
use crate::protocol::socketio_packet::PacketType;
use crate::recovery::log::Retention;
use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Either, Float64Array};
use napi_derive::napi;
use std::time::Duration;

#[napi(object, object_to_js = false)]
pub struct BindingServerOptions {
    pub ping_interval: f64,
    pub ping_timeout: f64,
    pub upgrade_timeout: f64,
    pub max_http_buffer_size: f64,
    pub allow_upgrades: bool,
    pub websocket: bool,
    /// Set when `connectionStateRecovery` is on.
    pub recovery: Option<BindingRecoveryOptions>,
    /// The `parser` option's wire format: "default", "msgpack", or "custom" (decoded and encoded
    /// in JS).
    pub parser: String,
}

#[napi(object, object_to_js = false)]
pub struct BindingRecoveryOptions {
    pub max_disconnection_duration: f64,
    /// Upper bound on the bytes of packets kept per namespace.
    pub max_buffered_bytes: f64,
}

/// How a sent packet is kept for recovery (see `StoredAs`).
#[napi(object, object_to_js = false)]
pub struct BindingStoredPacket {
    pub offset: f64,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
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

/// Separates the texts of the packets JS queued for a turn (see `queued_packets`): JSON text never
/// holds it raw (JSON.stringify escapes control characters), and JS queues no packet whose
/// namespace holds it.
#[napi]
pub const QUEUED_TEXT_SEPARATOR: &str = "\u{1e}";
/// The separator as a `char`: splitting by one is a `memchr`, by a `&str` a substring search.
const QUEUED_TEXT_SEPARATOR_CHAR: char = QUEUED_TEXT_SEPARATOR.as_bytes()[0] as char;

/// The packets JS queued for one recipient each, without attachments or recovery record:
/// `records` holds `[session handle, packet type, ack id or -1]` per packet, and `texts` the
/// namespace then the JSON text of the data of each, all joined by `QUEUED_TEXT_SEPARATOR`.
pub fn queued_packets<'a>(
    records: &'a [f64],
    texts: &'a str,
) -> impl Iterator<Item = napi::Result<(SessionHandle, PacketParts<'a>)>> + 'a {
    let mut texts = texts.split(QUEUED_TEXT_SEPARATOR_CHAR);
    records.chunks(3).map(move |record| {
        let (Some(nsp), Some(data), [handle, packet_type, ack_id]) =
            (texts.next(), texts.next(), record)
        else {
            return Err(to_js(IoError::InvalidArgument(
                "queued packets: records and texts disagree".into(),
            )));
        };
        let kind = PacketType::from_number(*packet_type as u32).ok_or_else(|| {
            to_js(IoError::InvalidArgument(format!(
                "unknown packet type {packet_type}"
            )))
        })?;
        Ok((
            *handle as SessionHandle,
            PacketParts {
                kind,
                nsp,
                id: (*ack_id >= 0.0).then_some(*ack_id as u64),
                data,
                attachments: &[],
            },
        ))
    })
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

/// A kept-alive connection Node hands over after answering one of its polling requests, with
/// the terms of that answer (see src/engine/polling_connection.rs).
#[napi(object, object_to_js = false)]
pub struct BindingPollingHandoff {
    /// The connection's descriptor (Rust takes a duplicate; Node closes its own afterwards).
    pub fd: i32,
    /// Names the connection in the event that reports it closed or handed back.
    pub connection: f64,
    /// The engine's path.
    pub path: String,
    /// Whether the answer depended on the request's Origin (CORS), and that Origin.
    pub match_origin: bool,
    pub origin: Option<String>,
    /// Whether the answer depended on the request's Accept-Encoding (compression), and its value.
    pub match_accept_encoding: bool,
    pub accept_encoding: Option<String>,
    /// The answer's head as Node wrote it (`res._header`).
    pub answer_head: String,
    /// How GET answers are compressed; none: not at all.
    pub compression: Option<BindingCompression>,
    /// Node's `keepAliveTimeout` in ms; 0: none.
    pub keep_alive_ms: u32,
    pub max_body: f64,
}

/// How a handed-over connection's GET answers are compressed, as JS negotiated it.
#[napi(object, object_to_js = false)]
pub struct BindingCompression {
    /// "gzip" or "deflate".
    pub encoding: String,
    /// Answers from this many bytes on are compressed.
    pub threshold: u32,
    /// zlib's level; -1 or none for zlib's default.
    pub level: Option<i32>,
}

/// zlib's default level (Z_DEFAULT_COMPRESSION, -1, stands for it).
const DEFAULT_COMPRESSION_LEVEL: u32 = 6;

pub fn polling_handoff(handoff: BindingPollingHandoff) -> napi::Result<PollingHandoff> {
    if handoff.fd < 0 {
        return Err(to_js(IoError::InvalidArgument(
            "a polling connection is handed over by its descriptor".to_owned(),
        )));
    }
    let stream = stream::duplicate(handoff.fd).map_err(|err| to_js(IoError::TakeOver(err)))?;
    let compression = handoff.compression.map(compression).transpose()?;
    Ok(PollingHandoff {
        stream,
        connection: non_negative("connection", handoff.connection)? as u64,
        terms: PollingTerms {
            path: handoff.path,
            origin: header_term(handoff.match_origin, handoff.origin),
            accept_encoding: header_term(handoff.match_accept_encoding, handoff.accept_encoding),
            headers: PollingTerms::repeated_headers(&handoff.answer_head),
            compression,
            keep_alive: (handoff.keep_alive_ms > 0)
                .then(|| Duration::from_millis(u64::from(handoff.keep_alive_ms))),
            max_body: non_negative("maxBody", handoff.max_body)? as usize,
        },
    })
}

fn compression(compression: BindingCompression) -> napi::Result<Compression> {
    let encoding = match compression.encoding.as_str() {
        "gzip" => Encoding::Gzip,
        "deflate" => Encoding::Deflate,
        other => {
            return Err(to_js(IoError::InvalidArgument(format!(
                "unknown compression {other:?}"
            ))))
        }
    };
    Ok(Compression {
        encoding,
        threshold: compression.threshold as usize,
        level: match compression.level {
            Some(level @ 0..=9) => level as u32,
            _ => DEFAULT_COMPRESSION_LEVEL,
        },
    })
}

fn header_term(matters: bool, value: Option<String>) -> HeaderTerm {
    if matters {
        HeaderTerm::Exactly(value)
    } else {
        HeaderTerm::Any
    }
}

fn non_negative(name: &str, value: f64) -> napi::Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(to_js(IoError::InvalidArgument(format!(
            "{name} must be a non-negative number"
        ))))
    }
}

fn millis(name: &str, value: f64) -> napi::Result<Duration> {
    Ok(Duration::from_millis(non_negative(name, value)? as u64))
}

pub fn config(options: &BindingServerOptions) -> napi::Result<IoConfig> {
    let recovery = match &options.recovery {
        None => None,
        Some(recovery) => Some(Retention {
            max_age: millis(
                "connectionStateRecovery.maxDisconnectionDuration",
                recovery.max_disconnection_duration,
            )?,
            max_bytes: non_negative(
                "connectionStateRecovery.maxBufferedBytes",
                recovery.max_buffered_bytes,
            )? as usize,
        }),
    };
    Ok(IoConfig {
        engine: EngineConfig {
            ping_interval: millis("pingInterval", options.ping_interval)?,
            ping_timeout: millis("pingTimeout", options.ping_timeout)?,
            upgrade_timeout: millis("upgradeTimeout", options.upgrade_timeout)?,
            max_payload: non_negative("maxHttpBufferSize", options.max_http_buffer_size)? as usize,
            allow_upgrades: options.allow_upgrades,
            websocket_enabled: options.websocket,
        },
        recovery,
        parser: match options.parser.as_str() {
            "default" => Parser::Default,
            "msgpack" => Parser::Msgpack,
            "custom" => Parser::Custom,
            other => {
                return Err(to_js(IoError::InvalidArgument(format!(
                    "unknown parser {other}"
                ))))
            }
        },
    })
}

fn stored(stored: BindingStoredPacket) -> StoredAs {
    StoredAs {
        offset: stored.offset as u64,
        rooms: stored.rooms,
        except: stored.except,
    }
}

/// Messages a parser in JS encoded.
pub fn frames(messages: Vec<Either<String, Buffer>>) -> Vec<Message> {
    messages.into_iter().map(message).collect()
}

/// A raw engine message from JS: a text, or a Buffer (copied: JS may reuse it).
pub fn message(data: Either<String, Buffer>) -> Message {
    match data {
        Either::A(text) => Message::Text(TextMessage::new(&text)),
        Either::B(buffer) => Message::Binary(Bytes::copy_from_slice(&buffer)),
    }
}

/// Session handles from JS, which passes them as a Float64Array.
pub fn handles(targets: &Float64Array) -> Vec<SessionHandle> {
    targets
        .iter()
        .map(|&target| target as SessionHandle)
        .collect()
}

/// A packet's recovery record, if any (see `BindingPacket`).
pub fn stored_as(stored_packet: Option<BindingStoredPacket>) -> Option<StoredAs> {
    stored_packet.map(stored)
}

pub fn packet(packet: BindingPacket) -> napi::Result<OutgoingPacket> {
    let (nsp, packet_type, ack_id, data, attachments, stored) = packet;
    let kind = PacketType::from_number(packet_type).ok_or_else(|| {
        to_js(IoError::InvalidArgument(format!(
            "unknown packet type {packet_type}"
        )))
    })?;
    Ok(OutgoingPacket {
        nsp,
        kind,
        ack_id: ack_id.map(|id| id as u64),
        data,
        attachments: attachments
            .unwrap_or_default()
            .iter()
            .map(|buffer| Bytes::copy_from_slice(buffer))
            .collect(),
        stored: stored_as(stored),
    })
}

/// The connection as the engine takes it, and for a bridged one the descriptor of the socket
/// pair's end for Node (-1 otherwise).
pub fn handoff(handoff: BindingHandoff) -> napi::Result<(WebSocketHandoff, i32)> {
    let (stream, bridge) =
        HandedStream::take_over(handoff.fd).map_err(|err| to_js(IoError::TakeOver(err)))?;
    let taken = WebSocketHandoff {
        stream,
        head: handoff.head.to_vec(),
        response: handoff.response.into_bytes(),
        deflate_threshold: handoff
            .deflate_threshold
            .map(|threshold| threshold as usize),
        connection: handoff.connection as u64,
    };
    Ok((taken, bridge.unwrap_or(-1)))
}

/// An offset from JS: None unless a non-negative finite number.
pub fn offset(value: f64) -> Option<u64> {
    (value.is_finite() && value >= 0.0).then_some(value as u64)
}
