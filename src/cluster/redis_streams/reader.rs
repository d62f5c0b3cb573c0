//! The node's two readers, each on a connection of its own that is opened again (with backoff)
//! whenever Redis goes away: the stream reader (XREAD BLOCK, from where it stopped) and the
//! pub/sub subscriber (every channel subscribed so far, again).
use super::broadcast_run::BroadcastRun;
use super::entry::StreamEntry;
use super::StreamsNode;
use futures_util::StreamExt;
use redis::streams::StreamReadReply;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::debug;

const FIRST_RETRY: Duration = Duration::from_millis(50);
const LAST_RETRY: Duration = Duration::from_secs(2);

/// Tells the node that a reader is connected (`up`) or lost its connection.
fn report(node: &Weak<StreamsNode>, up: bool) {
    if let Some(node) = node.upgrade() {
        node.reader_connected(up);
    }
}

struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(FIRST_RETRY)
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(LAST_RETRY);
    }
}

/// Reads `stream` from its end (`$`, as upstream) for as long as the node lives.
pub(super) async fn read(node: Weak<StreamsNode>, stream: String) {
    let mut offset = "$".to_owned();
    let mut backoff = Backoff::new();
    loop {
        let Some((client, count, block)) = node.upgrade().map(|node| {
            let options = node.options();
            (node.client.clone(), options.read_count, options.block_time)
        }) else {
            return;
        };
        // No response timeout: XREAD BLOCK answers only when entries come or the block ends.
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let mut connection = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(connection) => connection,
            Err(err) => {
                debug!(
                    target: "socket.io-redis-streams-adapter",
                    %err,
                    stream,
                    "cannot connect the stream reader",
                );
                backoff.wait().await;
                continue;
            }
        };
        backoff = Backoff::new();
        report(&node, true);
        loop {
            let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&stream)
                .arg(&offset)
                .query_async(&mut connection)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(err) => {
                    debug!(
                        target: "socket.io-redis-streams-adapter",
                        %err,
                        stream,
                        "stream read failed; reconnecting",
                    );
                    report(&node, false);
                    break;
                }
            };
            let Some(node) = node.upgrade() else {
                return;
            };
            let mut run = BroadcastRun::new(&node);
            for key in reply.into_iter().flat_map(|reply| reply.keys) {
                for id in key.ids {
                    offset.clone_from(&id.id);
                    let fields = id.map.into_iter().filter_map(|(name, value)| {
                        let value: String = redis::from_redis_value(value).ok()?;
                        Some((name, value))
                    });
                    match StreamEntry::from_fields(&id.id, fields) {
                        Some(entry) => node.on_entry(&stream, entry, &mut run),
                        None => run.saw(&stream, &offset),
                    }
                }
            }
            run.deliver();
            node.flush_served();
        }
        backoff.wait().await;
    }
}

/// Subscribes to the channels sent on `requests`, and to all of them again after a reconnection.
pub(super) async fn subscribe(
    node: Weak<StreamsNode>,
    client: redis::Client,
    mut requests: mpsc::UnboundedReceiver<String>,
) {
    let mut channels: Vec<String> = Vec::new();
    let mut backoff = Backoff::new();
    loop {
        let pubsub = match client.get_async_pubsub().await {
            Ok(pubsub) => pubsub,
            Err(err) => {
                debug!(
                    target: "socket.io-redis-streams-adapter",
                    %err,
                    "cannot connect the subscriber",
                );
                backoff.wait().await;
                continue;
            }
        };
        let (mut sink, mut messages) = pubsub.split();
        if !channels.is_empty() && sink.subscribe(&channels).await.is_err() {
            backoff.wait().await;
            continue;
        }
        backoff = Backoff::new();
        report(&node, true);
        loop {
            tokio::select! {
                request = requests.recv() => {
                    let Some(channel) = request else { return };
                    let subscribed = sink.subscribe(&channel).await;
                    channels.push(channel);
                    if subscribed.is_err() {
                        break;
                    }
                }
                message = messages.next() => {
                    let Some(message) = message else { break };
                    let Some(node) = node.upgrade() else { return };
                    node.on_published(message.get_channel_name(), message.get_payload_bytes().to_vec());
                }
            }
        }
        debug!(target: "socket.io-redis-streams-adapter", "subscriber disconnected; reconnecting");
        report(&node, false);
        backoff.wait().await;
    }
}
