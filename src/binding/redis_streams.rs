//! `BindingRedisStreams`: a Redis Streams cluster node (src/cluster/redis_streams) as
//! lib/cluster/redis-streams.js drives it. Conversions only.
use super::convert::{self, BindingPacket};
use super::js_wakeup::JsWakeup;
use super::server::BindingServer;
use crate::cluster::redis_streams::{reply_to_json, ClusterEvent, StreamsNode, StreamsOptions};
use napi::bindgen_prelude::{Buffer, Either, Function, Object};
use napi::Env;
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

/// Upstream's option names; lib/ fills in the defaults.
#[napi(object, object_to_js = false)]
pub struct BindingStreamsOptions {
    pub url: String,
    pub stream_name: String,
    pub stream_count: u32,
    pub channel_prefix: String,
    pub max_len: f64,
    pub read_count: u32,
    pub block_time_in_ms: f64,
}

#[napi(discriminant = "kind", use_nullable = true, object_from_js = false)]
pub enum BindingClusterEvent {
    Entry {
        id: String,
        uid: String,
        nsp: String,
        #[napi(js_name = "type")]
        kind: u32,
        data: Option<String>,
    },
    Published {
        nsp: String,
        payload: Buffer,
    },
}

impl From<ClusterEvent> for BindingClusterEvent {
    fn from(event: ClusterEvent) -> Self {
        match event {
            ClusterEvent::Entry(entry) => BindingClusterEvent::Entry {
                id: entry.id,
                uid: entry.uid,
                nsp: entry.nsp,
                kind: entry.kind,
                data: entry.data,
            },
            ClusterEvent::Published { nsp, payload } => BindingClusterEvent::Published {
                nsp,
                payload: payload.into(),
            },
        }
    }
}

#[napi]
pub struct BindingRedisStreams {
    node: Arc<StreamsNode>,
    _wakeup: JsWakeup,
}

fn redis_error(err: redis::RedisError) -> napi::Error {
    napi::Error::from_reason(format!("redis: {err}"))
}

type Resolve<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// A promise settled by `work`, which runs on the I/O runtime.
fn promise<'env, T, F>(env: &'env Env, work: F) -> napi::Result<Object<'env>>
where
    T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
    F: std::future::Future<Output = redis::RedisResult<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Resolve<T>>()?;
    super::runtime()?.spawn(async move {
        match work.await {
            Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
            Err(err) => deferred.reject(redis_error(err)),
        }
    });
    Ok(promise)
}

impl Drop for BindingRedisStreams {
    /// As `close`: nothing in JS reads this node any more (the env that made it is torn down:
    /// the wake-up's reference to `on_events` keeps it alive until then).
    fn drop(&mut self) {
        self.node.close();
    }
}

#[napi]
impl BindingRedisStreams {
    /// Starts connecting to `options.url`; `on_events` is called (with no argument) whenever
    /// events wait in `drainEvents`.
    #[napi(constructor)]
    pub fn new(
        options: BindingStreamsOptions,
        on_events: Function<'_, (), ()>,
    ) -> napi::Result<Self> {
        let options = StreamsOptions {
            url: options.url,
            stream_name: options.stream_name,
            stream_count: options.stream_count,
            channel_prefix: options.channel_prefix,
            max_len: options.max_len.max(0.0) as u64,
            read_count: options.read_count,
            block_time: Duration::from_millis(options.block_time_in_ms.max(0.0) as u64),
        };
        let (js_wakeup, wakeup) = JsWakeup::new(&on_events)?;
        let node = StreamsNode::start(options, wakeup, super::runtime()?).map_err(redis_error)?;
        Ok(Self {
            node,
            _wakeup: js_wakeup,
        })
    }

    /// Resolves once Redis answers and the readers are connected.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn ready<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let node = Arc::clone(&self.node);
        promise(env, async move { node.ready().await })
    }

    /// The stream of namespace `nsp`.
    #[napi]
    pub fn stream_of(&self, nsp: String) -> String {
        self.node.stream_of(&nsp)
    }

    /// The newest entry id the node saw in the stream of `nsp`.
    #[napi]
    pub fn newest_offset(&self, nsp: String) -> Option<String> {
        self.node.newest_offset(&nsp)
    }

    /// The pub/sub channel of namespace `nsp`: every node's, or adapter `uid`'s (its responses).
    #[napi]
    pub fn channel(&self, nsp: String, uid: Option<String>) -> String {
        match uid {
            Some(uid) => self.node.private_channel(&nsp, &uid),
            None => self.node.public_channel(&nsp),
        }
    }

    /// Namespace `nsp` has an adapter, `uid`, on this node.
    #[napi]
    pub fn register(&self, nsp: String, uid: String) {
        self.node.register(&nsp, &uid);
    }

    /// The sockets of `server` get the broadcasts of `nsp` from now on.
    #[napi]
    pub fn serve(&self, server: &BindingServer, nsp: String, recovery: bool) {
        self.node.serve(server.io(), &nsp, recovery);
    }

    /// Appends a message (not a plain broadcast) of adapter `uid` to the stream of `nsp`, in
    /// order with the broadcasts; resolves with its id.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn publish<'env>(
        &self,
        env: &'env Env,
        uid: String,
        nsp: String,
        kind: u32,
        data: Option<String>,
    ) -> napi::Result<Object<'env>> {
        let node = Arc::clone(&self.node);
        promise(
            env,
            async move { node.publish(&uid, &nsp, kind, data).await },
        )
    }

    #[napi]
    pub fn unregister(&self, nsp: String) {
        self.node.unregister(&nsp);
    }

    /// Whether broadcasts to `nsp` must pass through JS (some socket has outgoing listeners).
    #[napi]
    pub fn set_needs_js(&self, nsp: String, needed: bool) {
        self.node.set_needs_js(&nsp, needed);
    }

    /// A plain broadcast of adapter `uid`: appended to the stream with `entryData` as its data,
    /// then delivered to the local sockets in `rooms` and not in `except`.
    #[napi]
    pub fn broadcast(
        &self,
        uid: String,
        entry_data: String,
        rooms: Vec<String>,
        except: Vec<String>,
        packet: BindingPacket,
    ) -> napi::Result<()> {
        let packet = convert::packet(packet)?;
        self.node.broadcast(&uid, entry_data, rooms, except, packet);
        Ok(())
    }

    /// Runs a Redis command; resolves with its reply as JSON text.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn command<'env>(
        &self,
        env: &'env Env,
        args: Vec<Either<String, Buffer>>,
    ) -> napi::Result<Object<'env>> {
        let args: Vec<Vec<u8>> = args
            .into_iter()
            .map(|arg| match arg {
                Either::A(text) => text.into_bytes(),
                Either::B(bytes) => bytes.to_vec(),
            })
            .collect();
        let node = Arc::clone(&self.node);
        promise(env, async move {
            let reply = node.command(args).await?;
            Ok(reply_to_json(&reply).to_string())
        })
    }

    #[napi]
    pub fn drain_events(&self) -> Vec<BindingClusterEvent> {
        self.node
            .drain()
            .into_iter()
            .map(BindingClusterEvent::from)
            .collect()
    }

    /// Stops reading and publishing.
    #[napi]
    pub fn close(&self) {
        self.node.close();
    }
}
