//! The Socket.IO layer, in plain Rust: the engine's sessions seen as Socket.IO clients
//! (`Clients` decodes what they send), namespaces with their rooms and fan-out (`Namespace`), the
//! packet log behind connection-state recovery, and the typed events for the consumer. The napi
//! binding (src/binding) only converts to and from JavaScript around `SocketIo`.
pub mod client;
pub mod error;
pub mod event;
pub mod event_queue;
pub mod namespace;
pub mod packet;
pub mod parser;

use crate::engine::config::EngineConfig;
use crate::engine::{Engine, SessionHandle};
use crate::protocol::engine_packet::Message;
use crate::recovery::log::{MemoryPacketLog, Retention};
use crate::recovery::PacketStore;
use client::Clients;
use dashmap::DashMap;
use event_queue::Wakeup;
use namespace::Namespace;
use packet::{OutgoingPacket, StoredAs};
use parser::{FramingError, PacketParts, Parser};
use std::sync::Arc;
use tokio::runtime::Handle;

pub struct IoConfig {
    pub engine: EngineConfig,
    /// Set when connection-state recovery is on: how long packets are kept.
    pub recovery: Option<Retention>,
    /// The wire format of Socket.IO packets (the `parser` option).
    pub parser: Parser,
}

/// One server: the engine, its clients, and the namespaces.
pub struct SocketIo {
    engine: Arc<Engine>,
    clients: Arc<Clients>,
    log: Option<Arc<dyn PacketStore>>,
    namespaces: DashMap<String, Arc<Namespace>>,
    parser: Parser,
}

impl SocketIo {
    /// Made on the consumer's thread (see `Clients`); `wakeup` is called whenever events wait in
    /// `clients().drain()`. Connections run on `runtime`.
    pub fn new(config: IoConfig, wakeup: Wakeup, runtime: Handle) -> Self {
        let clients = Arc::new(Clients::new(wakeup, config.parser));
        let engine = Engine::new(config.engine, clients.clone(), runtime);
        let log = config
            .recovery
            .map(|retention| Arc::new(MemoryPacketLog::new(retention)) as Arc<dyn PacketStore>);
        Self {
            engine,
            clients,
            log,
            namespaces: DashMap::new(),
            parser: config.parser,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The namespace `name`, made on first use.
    pub fn namespace(&self, name: &str) -> Arc<Namespace> {
        if let Some(namespace) = self.namespaces.get(name) {
            return Arc::clone(&namespace);
        }
        let namespace = self.namespaces.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Namespace::new(
                name,
                Arc::clone(&self.engine),
                self.log.clone(),
                self.parser,
            ))
        });
        Arc::clone(&namespace)
    }

    /// Sends `packet` to the sessions `targets` (see `Namespace::send`).
    pub fn send_packet(
        &self,
        targets: &[SessionHandle],
        packet: OutgoingPacket,
    ) -> Result<(), FramingError> {
        self.namespace(&packet.nsp).send(targets, packet)
    }

    /// Sends a packet that is not kept for recovery to the session `target`, framed from the
    /// caller's text: nothing to store, so no namespace to find (an ack, a `socket.emit`).
    pub fn send_unstored(
        &self,
        target: SessionHandle,
        packet: PacketParts<'_>,
    ) -> Result<(), FramingError> {
        let frames = self.parser.frames(packet)?;
        self.engine.send_to(target, &frames);
        Ok(())
    }

    /// Sends a packet of namespace `nsp` that a parser in JS framed (see `Namespace::send_frames`).
    pub fn send_frames(
        &self,
        targets: &[SessionHandle],
        nsp: &str,
        frames: Vec<Message>,
        stored: Option<StoredAs>,
    ) {
        self.namespace(nsp)
            .send_frames(targets, Arc::from(frames), stored);
    }

    /// Queues a raw engine message to each session of `targets`.
    pub fn send_message(&self, targets: &[SessionHandle], message: Message) {
        self.engine.send_to_each(targets, &Arc::from([message]));
    }
}

#[cfg(test)]
mod tests;
