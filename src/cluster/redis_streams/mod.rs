//! A node of a Redis Streams cluster, wire-compatible with `@socket.io/redis-streams-adapter`:
//! broadcasts and remote operations travel as entries of a Redis stream (read by every node with
//! XREAD), answers and ephemeral messages by pub/sub.
//!
//! Plain broadcasts never reach JavaScript: a local one is appended to the stream (XADD) and then
//! fanned out to this node's sockets (with the entry's id as offset when recovery is on, as
//! upstream orders it); one from another node is read, decoded and fanned out here. Everything
//! else is queued as a `ClusterEvent` for the JS adapter, which runs socket.io-adapter's
//! `ClusterAdapter` logic.
mod broadcast_run;
pub mod entry;
mod reader;

use crate::io::event_queue::{EventQueue, Wakeup};
use crate::io::packet::OutgoingPacket;
use crate::io::SocketIo;
use broadcast_run::BroadcastRun;
use dashmap::DashMap;
use entry::{PlainBroadcast, StreamEntry};
use parking_lot::Mutex;
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::debug;

/// Upstream's options, with its defaults.
#[derive(Debug, Clone)]
pub struct StreamsOptions {
    pub url: String,
    pub stream_name: String,
    pub stream_count: u32,
    pub channel_prefix: String,
    pub max_len: u64,
    pub read_count: u32,
    pub block_time: Duration,
}

impl Default for StreamsOptions {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            stream_name: "socket.io".into(),
            stream_count: 1,
            channel_prefix: "socket.io".into(),
            max_len: 10_000,
            read_count: 100,
            block_time: Duration::from_millis(5_000),
        }
    }
}

/// What the JS adapter of a namespace handles.
#[derive(Debug)]
pub enum ClusterEvent {
    /// A stream entry of another node that is not a plain broadcast.
    Entry(StreamEntry),
    /// A pub/sub message (a response, or an ephemeral message) on one of the namespace's
    /// channels: msgpack, decoded in JS.
    Published { nsp: String, payload: Vec<u8> },
}

/// A namespace of this node.
struct Registered {
    /// The `uid` of its adapter: entries with it are this node's own.
    uid: String,
    /// The server whose sockets get the namespace's broadcasts, once it has an engine: until
    /// then every entry goes to JS.
    served: std::sync::OnceLock<Served>,
    /// Some socket of the namespace has outgoing listeners (`onAnyOutgoing`): broadcasts must
    /// pass through JS.
    needs_js: AtomicBool,
}

struct Served {
    io: Arc<SocketIo>,
    /// Connection-state recovery is on: delivered broadcasts carry their entry id.
    recovery: bool,
}

/// An entry of this node on its way to the stream, and what follows its append.
struct Append {
    stream: String,
    fields: Vec<(String, String)>,
    then: AfterAppend,
}

enum AfterAppend {
    /// A plain broadcast: delivered to the local sockets.
    Deliver {
        served: Arc<SocketIo>,
        recovery: bool,
        rooms: Vec<String>,
        except: Vec<String>,
        packet: Box<OutgoingPacket>,
    },
    /// Any other message (from JS): its id goes back.
    Reply(oneshot::Sender<redis::RedisResult<String>>),
}

pub struct StreamsNode {
    options: StreamsOptions,
    client: redis::Client,
    /// Publishing and commands: one multiplexed connection that reconnects by itself, opened
    /// on first use.
    commands: tokio::sync::OnceCell<ConnectionManager>,
    /// How many readers (stream readers and the subscriber) are connected.
    readers: tokio::sync::watch::Sender<usize>,
    namespaces: DashMap<String, Registered>,
    /// Pub/sub channel -> namespace.
    channels: DashMap<String, String>,
    /// The newest entry id seen (read or appended) and handled, by stream.
    newest: DashMap<String, String>,
    /// Ids read or appended after an entry left to JS that JS has not taken yet (`drain`), in
    /// order, that entry's first: recorded in `newest` once JS takes it, so that the newest id (a
    /// session's `disconnectOffset`) never covers an entry no one has handled. Its lock is held
    /// while such an entry is queued and while JS takes the queue.
    unseen: Mutex<Vec<(String, String)>>,
    events: EventQueue<ClusterEvent>,
    appends: mpsc::UnboundedSender<Append>,
    subscriptions: mpsc::UnboundedSender<String>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl StreamsNode {
    /// Starts connecting to Redis and reading; `wakeup` is called whenever events wait in
    /// `drain`. Fails only on a malformed URL; `ready` tells when Redis answers.
    pub fn start(
        options: StreamsOptions,
        wakeup: Wakeup,
        runtime: Handle,
    ) -> redis::RedisResult<Arc<Self>> {
        let client = redis::Client::open(options.url.as_str())?;
        let (appends, pending) = mpsc::unbounded_channel();
        let (subscriptions, subscribe) = mpsc::unbounded_channel();
        let node = Arc::new(Self {
            options,
            client,
            commands: tokio::sync::OnceCell::new(),
            readers: tokio::sync::watch::Sender::new(0),
            namespaces: DashMap::new(),
            channels: DashMap::new(),
            newest: DashMap::new(),
            unseen: Mutex::new(Vec::new()),
            events: EventQueue::new(wakeup),
            appends,
            subscriptions,
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = vec![
            runtime.spawn(append_in_order(Arc::downgrade(&node), pending)),
            runtime.spawn(reader::subscribe(
                Arc::downgrade(&node),
                node.client.clone(),
                subscribe,
            )),
        ];
        for stream in node.streams() {
            tasks.push(runtime.spawn(reader::read(Arc::downgrade(&node), stream)));
        }
        *node.tasks.lock() = tasks;
        Ok(node)
    }

    /// The shared connection, opened on first use (and reopened by itself after).
    async fn commands(&self) -> redis::RedisResult<ConnectionManager> {
        let manager = self
            .commands
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_max_delay(Duration::from_secs(2))
                    .set_response_timeout(Some(Duration::from_secs(5)));
                self.client.get_connection_manager_with_config(config).await
            })
            .await?;
        Ok(manager.clone())
    }

    /// Resolves once Redis answers commands and every reader is connected. Fails on a Redis
    /// Cluster node: one connection per node is not how a cluster is served (entries and keys on
    /// other nodes would answer MOVED), and saying so beats broadcasts that silently stay local.
    pub async fn ready(&self) -> redis::RedisResult<()> {
        let info: String = redis::cmd("INFO")
            .arg("cluster")
            .query_async(&mut self.commands().await?)
            .await?;
        if info.lines().any(|line| line.trim() == "cluster_enabled:1") {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "Redis Cluster is not supported by socket.io-rs/redis-streams: use one Redis server",
            )));
        }
        let readers = self.streams().len() + 1;
        let mut connected = self.readers.subscribe();
        // Only fails once the node is dropped, which `&self` rules out.
        let _dropped = connected.wait_for(|count| *count >= readers).await;
        Ok(())
    }

    /// A reader connected (`up`) or lost its connection.
    fn reader_connected(&self, up: bool) {
        self.readers.send_modify(|count| {
            if up {
                *count += 1;
            } else {
                *count = count.saturating_sub(1);
            }
        });
    }

    fn streams(&self) -> Vec<String> {
        let options = &self.options;
        if options.stream_count <= 1 {
            return vec![options.stream_name.clone()];
        }
        (0..options.stream_count)
            .map(|i| format!("{}-{i}", options.stream_name))
            .collect()
    }

    pub fn options(&self) -> &StreamsOptions {
        &self.options
    }

    /// The stream of namespace `nsp`.
    pub fn stream_of(&self, nsp: &str) -> String {
        entry::stream_name(&self.options.stream_name, self.options.stream_count, nsp)
    }

    /// The pub/sub channel every node of namespace `nsp` listens to.
    pub fn public_channel(&self, nsp: &str) -> String {
        format!("{}#{nsp}#", self.options.channel_prefix)
    }

    /// The pub/sub channel of adapter `uid` of namespace `nsp` (its responses).
    pub fn private_channel(&self, nsp: &str, uid: &str) -> String {
        format!("{}#{nsp}#{uid}#", self.options.channel_prefix)
    }

    /// The newest entry id this node saw in the stream of `nsp` (None before the first).
    pub fn newest_offset(&self, nsp: &str) -> Option<String> {
        self.newest
            .get(&self.stream_of(nsp))
            .map(|id| id.value().clone())
    }

    /// Entry `id` of `stream`, read or appended, was handled here (delivered, or not for this
    /// node): recorded as seen now, or behind an entry JS has not taken yet.
    fn saw(&self, stream: &str, id: &str) {
        let mut unseen = self.unseen.lock();
        if unseen.is_empty() {
            self.record(stream, id);
        } else {
            unseen.push((stream.to_owned(), id.to_owned()));
        }
    }

    /// Queues `entry`, of `stream`, for JS: seen once JS takes it (`drain`).
    fn leave_to_js(&self, stream: &str, entry: StreamEntry) {
        let mut unseen = self.unseen.lock();
        unseen.push((stream.to_owned(), entry.id.clone()));
        self.events.push(ClusterEvent::Entry(entry));
    }

    fn record(&self, stream: &str, id: &str) {
        let newer = |known: &String| entry::offset_number(id) > entry::offset_number(known);
        match self.newest.get_mut(stream) {
            Some(mut known) if newer(&known) => id.clone_into(&mut known),
            Some(_) => {}
            None => {
                self.newest.insert(stream.to_owned(), id.to_owned());
            }
        }
    }

    /// Namespace `nsp` has an adapter, `uid`, on this node: its messages are read from now on.
    pub fn register(&self, nsp: &str, uid: &str) {
        for channel in [self.public_channel(nsp), self.private_channel(nsp, uid)] {
            self.channels.insert(channel.clone(), nsp.to_owned());
            let _closed = self.subscriptions.send(channel);
        }
        self.namespaces.insert(
            nsp.to_owned(),
            Registered {
                uid: uid.to_owned(),
                served: std::sync::OnceLock::new(),
                needs_js: AtomicBool::new(false),
            },
        );
    }

    /// The sockets of `io` get the broadcasts of namespace `nsp` from now on.
    pub fn serve(&self, io: Arc<SocketIo>, nsp: &str, recovery: bool) {
        if let Some(registered) = self.namespaces.get(nsp) {
            let _served_already = registered.served.set(Served { io, recovery });
        }
    }

    pub fn unregister(&self, nsp: &str) {
        self.namespaces.remove(nsp);
        self.channels.retain(|_, served| served != nsp);
    }

    /// Whether broadcasts to namespace `nsp` must pass through JS (outgoing listeners).
    pub fn set_needs_js(&self, nsp: &str, needed: bool) {
        if let Some(registered) = self.namespaces.get(nsp) {
            registered.needs_js.store(needed, Ordering::Relaxed);
        }
    }

    /// A plain broadcast of this node: appended to the namespace's stream as upstream's adapter
    /// does (`uid`, `nsp`, `type` 3, `data` = `entry_data`), then sent to the local sockets in
    /// any of `rooms` and none of `except`, in the order of the appends. A failed append still
    /// delivers locally, without offset, as upstream does.
    pub fn broadcast(
        &self,
        uid: &str,
        entry_data: String,
        rooms: Vec<String>,
        except: Vec<String>,
        packet: OutgoingPacket,
    ) {
        let Some(registered) = self.namespaces.get(&packet.nsp) else {
            return;
        };
        let Some(served) = registered.served.get() else {
            return;
        };
        let stream = self.stream_of(&packet.nsp);
        let fields = entry_fields(uid, &packet.nsp, entry::BROADCAST, Some(entry_data));
        let then = AfterAppend::Deliver {
            served: Arc::clone(&served.io),
            recovery: served.recovery,
            rooms,
            except,
            packet: Box::new(packet),
        };
        self.append(&stream, fields, then);
    }

    /// Appends a message of adapter `uid` to the stream of `nsp`, after everything appended
    /// before; resolves with its id.
    pub async fn publish(
        &self,
        uid: &str,
        nsp: &str,
        kind: u32,
        data: Option<String>,
    ) -> redis::RedisResult<String> {
        let (reply, id) = oneshot::channel();
        self.append(
            &self.stream_of(nsp),
            entry_fields(uid, nsp, kind, data),
            AfterAppend::Reply(reply),
        );
        id.await.unwrap_or_else(|_closed| {
            Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "the cluster node is closed",
            )))
        })
    }

    fn append(&self, stream: &str, fields: Vec<(String, String)>, then: AfterAppend) {
        let _closed = self.appends.send(Append {
            stream: stream.to_owned(),
            fields,
            then,
        });
    }

    /// Runs one Redis command on the shared connection (the JS adapter's other operations).
    pub async fn command(&self, args: Vec<Vec<u8>>) -> redis::RedisResult<redis::Value> {
        let mut args = args.into_iter();
        let Some(name) = args.next() else {
            return Ok(redis::Value::Nil);
        };
        let mut command = redis::cmd(&String::from_utf8_lossy(&name));
        for arg in args {
            command.arg(arg);
        }
        command.query_async(&mut self.commands().await?).await
    }

    /// Everything queued for JS so far. JS handles what it takes before anything else runs on
    /// its thread, so the ids waiting behind those entries are seen from now on.
    pub fn drain(&self) -> Vec<ClusterEvent> {
        let mut unseen = self.unseen.lock();
        let events = self.events.drain();
        for (stream, id) in unseen.drain(..) {
            self.record(&stream, &id);
        }
        events
    }

    /// Stops reading and publishing; what was queued is dropped.
    pub fn close(&self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        self.namespaces.clear();
    }

    /// An entry read from `stream`: a plain broadcast joins `run`, which is delivered before
    /// any entry for JS.
    fn on_entry(&self, stream: &str, entry: StreamEntry, run: &mut BroadcastRun<'_>) {
        let Some(registered) = self.namespaces.get(&entry.nsp) else {
            run.saw(stream, &entry.id);
            return;
        };
        if entry.uid == registered.uid {
            run.saw(stream, &entry.id);
            return;
        }
        if let Some(served) = registered.served.get() {
            if !registered.needs_js.load(Ordering::Relaxed) {
                if let Some(broadcast) = PlainBroadcast::from_entry(&entry) {
                    let offset = served.recovery.then_some(entry.id.as_str());
                    let packet = broadcast.packet(&entry.nsp, offset);
                    // A custom parser frames in JS: the entry goes there.
                    if let Ok(frames) = served.io.namespace(&entry.nsp).frame(&packet) {
                        run.add(
                            &served.io,
                            &entry.nsp,
                            broadcast.rooms,
                            broadcast.except,
                            frames,
                            offset.and_then(entry::offset_number),
                        );
                        run.saw(stream, &entry.id);
                        return;
                    }
                }
            }
        }
        drop(registered);
        run.deliver();
        self.leave_to_js(stream, entry);
    }

    /// Wakes the writers of every server this node delivered to (`Engine::flush`): once per
    /// batch of entries read or appended, so that a connection writes a batch's packets
    /// together, as JS's sends are flushed once per turn.
    fn flush_served(&self) {
        let mut flushed: Vec<Arc<SocketIo>> = Vec::new();
        for registered in self.namespaces.iter() {
            if let Some(served) = registered.served.get() {
                if !flushed.iter().any(|io| Arc::ptr_eq(io, &served.io)) {
                    served.io.engine().flush();
                    flushed.push(Arc::clone(&served.io));
                }
            }
        }
    }

    /// A pub/sub message.
    fn on_published(&self, channel: &str, payload: Vec<u8>) {
        if let Some(nsp) = self.channels.get(channel) {
            self.events.push(ClusterEvent::Published {
                nsp: nsp.clone(),
                payload,
            });
        }
    }
}

fn entry_fields(uid: &str, nsp: &str, kind: u32, data: Option<String>) -> Vec<(String, String)> {
    let mut fields = vec![
        ("uid".to_owned(), uid.to_owned()),
        ("nsp".to_owned(), nsp.to_owned()),
        ("type".to_owned(), kind.to_string()),
    ];
    if let Some(data) = data {
        fields.push(("data".to_owned(), data));
    }
    fields
}

impl Drop for StreamsNode {
    fn drop(&mut self) {
        self.close();
    }
}

/// At most this many appends go in one pipeline.
const MAX_APPENDS_PER_PIPELINE: usize = 512;

/// Appends this node's entries to their streams in the order they were made: whatever waits is
/// sent as one pipeline (its commands leave in order, in one write), the next once its answers
/// are in, and each answer is handled in the order of the appends. Commands sent concurrently
/// would reach Redis in whatever order their futures first ran, and the stream, which every
/// node reads, would not have the broadcasts in the order they were made.
async fn append_in_order(
    node: std::sync::Weak<StreamsNode>,
    mut pending: mpsc::UnboundedReceiver<Append>,
) {
    let mut batch = Vec::with_capacity(MAX_APPENDS_PER_PIPELINE);
    while pending
        .recv_many(&mut batch, MAX_APPENDS_PER_PIPELINE)
        .await
        > 0
    {
        let Some(node) = node.upgrade() else { break };
        let mut run = BroadcastRun::new(&node);
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors();
        for append in &batch {
            let command = pipeline
                .cmd("XADD")
                .arg(&append.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(node.options.max_len)
                .arg("*");
            for (name, value) in &append.fields {
                command.arg(name).arg(value);
            }
        }
        let ids: redis::RedisResult<Vec<redis::RedisResult<String>>> = match node.commands().await {
            Ok(mut connection) => pipeline.query_async(&mut connection).await,
            Err(err) => Err(err),
        };
        let mut ids = match ids {
            Ok(ids) => ids.into_iter(),
            Err(err) => vec![Err(err); batch.len()].into_iter(),
        };
        for append in batch.drain(..) {
            let id = ids.next().unwrap_or_else(|| {
                Err(redis::RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "fewer answers than appends",
                )))
            });
            settle(append.then, &append.stream, id, &mut run);
        }
        run.deliver();
        node.flush_served();
    }
}

/// What follows an append to `stream`, once its id (or its failure) is known: a local
/// broadcast joins `run`, which is delivered before any reply to JS; the id is recorded as seen
/// once what it carries is delivered or handed over.
fn settle(
    then: AfterAppend,
    stream: &str,
    id: redis::RedisResult<String>,
    run: &mut BroadcastRun<'_>,
) {
    match then {
        AfterAppend::Reply(reply) => {
            run.deliver();
            if let Ok(id) = &id {
                run.saw(stream, id);
            }
            let _gone = reply.send(id);
        }
        AfterAppend::Deliver {
            served,
            recovery,
            rooms,
            except,
            mut packet,
        } => {
            let mut mark = None;
            let seen = match id {
                Ok(id) if recovery => {
                    packet.data = entry::with_offset(&packet.data, &id);
                    mark = entry::offset_number(&id);
                    Some(id)
                }
                Ok(id) => Some(id),
                Err(err) => {
                    debug!(
                        target: "socket.io-redis-streams-adapter",
                        %err,
                        "cannot append a broadcast to the stream; delivered locally only",
                    );
                    None
                }
            };
            // JS sends here only what Rust can frame (lib/cluster/redis-streams.js).
            match served.namespace(&packet.nsp).frame(&packet) {
                Ok(frames) => run.add(&served, &packet.nsp, rooms, except, frames, mark),
                Err(err) => debug!(
                    target: "socket.io-redis-streams-adapter",
                    %err,
                    "a local broadcast could not be framed",
                ),
            }
            if let Some(id) = seen {
                run.saw(stream, &id);
            }
        }
    }
}

/// A Redis reply as JSON, for JS: bulk strings as (lossy) UTF-8 text.
pub fn reply_to_json(value: &redis::Value) -> serde_json::Value {
    use redis::Value;
    match value {
        Value::Nil => serde_json::Value::Null,
        Value::Int(n) => (*n).into(),
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into(),
        Value::Array(items) | Value::Set(items) => items.iter().map(reply_to_json).collect(),
        Value::SimpleString(text) => text.clone().into(),
        Value::Okay => "OK".into(),
        Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(key, value)| [reply_to_json(key), reply_to_json(value)])
            .collect(),
        Value::Double(n) => (*n).into(),
        Value::Boolean(b) => (*b).into(),
        Value::VerbatimString { text, .. } => text.clone().into(),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests;
