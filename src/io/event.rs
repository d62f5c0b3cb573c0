//! What the socket.io layer tells its consumer (the JS API, through the binding): one typed event
//! per happening, each naming the engine session it concerns by its handle.
use crate::engine::close_reason::CloseReason;
use crate::engine::handler::ConnectionId;
use crate::engine::SessionHandle;
use crate::protocol::engine_packet::{Message, Packet};
use crate::protocol::socketio_reassembly::IncomingPacket;
use std::os::fd::RawFd;

#[derive(Debug)]
pub enum IoEvent {
    /// A Socket.IO packet, attachments reassembled.
    SocketIoPacket {
        session: SessionHandle,
        packet: IncomingPacket,
    },
    /// A message that is not a valid Socket.IO packet: upstream closes the connection.
    ParseError {
        session: SessionHandle,
        message: String,
    },
    /// A message the parser in JS decodes: every message with a custom parser, and with the
    /// msgpack one those holding values JSON cannot carry.
    Undecoded {
        session: SessionHandle,
        message: Message,
    },
    /// A raw engine message, forwarded only while listened to (`Clients::set_messages_listened`).
    Message {
        session: SessionHandle,
        message: Message,
    },
    /// An engine packet received (`incoming`) or created for sending, forwarded only while
    /// listened to (`Clients::set_packets_listened`).
    Packet {
        session: SessionHandle,
        packet: Packet,
        incoming: bool,
    },
    /// A WebSocket answered the upgrade probe.
    Upgrading { session: SessionHandle },
    /// The session now runs over WebSocket.
    Upgrade { session: SessionHandle },
    Close {
        session: SessionHandle,
        reason: CloseReason,
    },
    /// The body answering the session's waiting long-poll GET, released on an I/O thread (a
    /// ping, a close); those released by the consumer's own sends are taken with
    /// `Clients::take_answers` instead.
    PollAnswer {
        session: SessionHandle,
        body: String,
    },
    /// A connection handed over by the HTTP server is released (see `EngineHandler`).
    ConnectionClosed { connection: ConnectionId },
    /// A handed-over connection goes back to the HTTP server (see `EngineHandler`).
    ConnectionHandedBack {
        connection: ConnectionId,
        fd: RawFd,
        read: Vec<u8>,
    },
}
