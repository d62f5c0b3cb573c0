/**
 * `require("socket.io-rs/redis-streams")`: the Redis Streams adapter, wire-compatible with
 * `@socket.io/redis-streams-adapter` (same stream entries, channels and session keys, so nodes of
 * either kind serve one cluster), with its Redis connections and its plain broadcasts in Rust
 * (src/cluster/redis_streams): a broadcast from another node reaches this node's sockets with no
 * JavaScript. Everything else runs socket.io-adapter's `ClusterAdapter`, as upstream's does.
 */
"use strict";

const { ClusterAdapter, MessageType } = require("socket.io-adapter");
const { encode, decode } = require("@msgpack/msgpack");
const debug = require("debug")("socket.io-redis-streams-adapter");
const { BindingRedisStreams } = require("../native");
const { PacketType, encodeData, encodesInJs, hasBinary } = require("../parser");

/** Upstream's options and defaults. */
const DEFAULTS = {
  streamName: "socket.io",
  streamCount: 1,
  channelPrefix: "socket.io",
  useShardedPubSub: false,
  maxLen: 10000,
  readCount: 100,
  blockTimeInMs: 5000,
  sessionKeyPrefix: "sio:session:",
  heartbeatInterval: 5000,
  heartbeatTimeout: 10000,
  onlyPlaintext: false,
};

const RESTORE_SESSION_MAX_XRANGE_CALLS = 100;

/**
 * Returns the adapter factory for the `adapter` option. It may be awaited: it resolves (to the
 * same factory) once Redis answers and the node reads.
 *
 * @param {string | {url?: string, host?: string, port?: number, username?: string, password?: string, db?: number}} [redis]
 *   a Redis URL, or its parts (default `redis://127.0.0.1:6379`)
 * @param {Partial<typeof DEFAULTS>} [opts] upstream's options
 */
function createAdapter(redis = "redis://127.0.0.1:6379", opts = {}) {
  const options = Object.assign({}, DEFAULTS, opts);
  if (options.useShardedPubSub) throw new Error("socket.io-rs/redis-streams: useShardedPubSub is not supported");
  /** @type {Map<string, RedisStreamsAdapter>} */
  const adapters = new Map();
  const node = new BindingRedisStreams(
    {
      url: redisUrl(redis),
      streamName: options.streamName,
      streamCount: options.streamCount,
      channelPrefix: options.channelPrefix,
      maxLen: options.maxLen,
      readCount: options.readCount,
      blockTimeInMs: options.blockTimeInMs,
    },
    () => {
      for (const event of node.drainEvents()) adapters.get(event.nsp)?._onClusterEvent(event);
    },
  );
  const ready = node.ready();
  // Awaiting the factory is optional: a failure is the awaiter's, or nobody's.
  ready.catch((err) => debug("cannot connect to Redis: %s", err.message));

  // Plain functions: the namespace calls the factory with `new`, as upstream's.
  const factory = function (nsp) {
    const adapter = new RedisStreamsAdapter(nsp, node, options);
    adapters.set(nsp.name, adapter);
    const close = adapter.close;
    adapter.close = () => {
      adapters.delete(nsp.name);
      node.unregister(nsp.name);
      if (adapters.size === 0) node.close();
      return close.call(adapter);
    };
    return adapter;
  };
  // Awaited, it resolves to a factory that is not itself awaitable (else `await` would loop).
  const awaitable = function (nsp) {
    return factory(nsp);
  };
  awaitable.then = (resolve, reject) => ready.then(() => factory).then(resolve, reject);
  return awaitable;
}

function redisUrl(redis) {
  if (typeof redis === "string") return redis;
  if (redis.url) return redis.url;
  const auth = redis.password
    ? `${encodeURIComponent(redis.username || "")}:${encodeURIComponent(redis.password)}@`
    : "";
  return `redis://${auth}${redis.host || "127.0.0.1"}:${redis.port || 6379}/${redis.db || 0}`;
}

/** Messages sent by pub/sub, not kept in the stream (upstream's `isEphemeral`). */
function isEphemeral(message) {
  const isBroadcastWithAck = message.type === MessageType.BROADCAST && message.data.requestId !== undefined;
  return isBroadcastWithAck || [MessageType.SERVER_SIDE_EMIT, MessageType.FETCH_SOCKETS].includes(message.type);
}

const MAY_CONTAIN_BINARY = [
  MessageType.BROADCAST,
  MessageType.FETCH_SOCKETS_RESPONSE,
  MessageType.SERVER_SIDE_EMIT,
  MessageType.SERVER_SIDE_EMIT_RESPONSE,
  MessageType.BROADCAST_ACK,
];

class RedisStreamsAdapter extends ClusterAdapter {
  #node;
  #opts;
  #publicChannel;
  #streamName;
  /** The engine whose core delivers this namespace's broadcasts (set once it exists). */
  #servedBy = null;

  constructor(nsp, node, opts) {
    super(nsp);
    this.#node = node;
    this.#opts = opts;
    this.#publicChannel = node.channel(nsp.name);
    this.#streamName = node.streamOf(nsp.name);
    node.register(nsp.name, this.uid);
    this.#core();
  }

  /** The engine's Rust core, once the server has an engine (it is made by `attach`/`listen`). */
  #core() {
    const engine = this.nsp.server.engine;
    if (!engine) return null;
    if (this.#servedBy !== engine) {
      this.#servedBy = engine;
      engine.native.serveCluster(this.#node, this.nsp.name, !!this.nsp.server.opts.connectionStateRecovery);
      this.#updateNeedsJs();
    }
    return engine.native;
  }

  // Rooms are mirrored into the core, which finds the recipients of broadcasts from Redis.

  addAll(id, rooms) {
    super.addAll(id, rooms);
    this.#core()?.join(this.nsp.name, id, [...rooms]);
  }

  del(id, room) {
    super.del(id, room);
    this.#core()?.leave(this.nsp.name, id, [room]);
  }

  delAll(id) {
    const core = this.#core();
    if (core) {
      core.disconnectSocket(this.nsp.name, id);
      const rooms = this.sids.get(id);
      if (rooms) core.leave(this.nsp.name, id, [...rooms]);
    }
    super.delAll(id);
  }

  /**
   * A socket of the namespace is connected: broadcasts from Redis reach it from now on. A new
   * one starts at the stream's newest entry, from which it can be restored even if it gets no
   * event before it drops (the client then has no offset to give).
   */
  socketConnected(socket) {
    this.#core()?.connectSocket(this.nsp.name, socket.id, socket.conn._handle);
    // `packetCreate` listeners are added on the engine's "connection", before this.
    if (socket.conn._packetCreateListened) this.#updateNeedsJs();
    if (!socket.recovered) socket._startOffset = this.#node.newestOffset(this.nsp.name);
  }

  /** Sessions are restored without an offset too (see `restoreSession`). */
  get restoresWithoutOffset() {
    return true;
  }

  /** Some socket listens to outgoing packets (`onAnyOutgoing`) or stopped. */
  outgoingListenersChanged() {
    this.#updateNeedsJs();
  }

  /**
   * Broadcasts from other nodes need JS while a socket has outgoing listeners or an engine socket
   * listens to `packetCreate` (the admin UI does both): Rust then hands them to JS.
   */
  #updateNeedsJs() {
    const engine = this.nsp.server.engine;
    const needed = this.nsp._outgoingListenerSockets > 0 || !!(engine && engine._packetCreateListened);
    this.#node.setNeedsJs(this.nsp.name, needed);
  }

  /**
   * A plain broadcast (an event without ack, not volatile, not local, no binary, nobody listening
   * to outgoing packets) is appended to the stream and delivered locally by Rust in one call; the
   * rest takes `ClusterAdapter`'s path.
   */
  broadcast(packet, opts) {
    const flags = opts.flags || {};
    const core = this.#core();
    const plain =
      core !== null &&
      packet.type === PacketType.EVENT &&
      packet.id === undefined &&
      !flags.local &&
      !flags.volatile &&
      this.nsp._outgoingListenerSockets === 0 &&
      !this.nsp.server.engine._packetCreateListened &&
      !hasBinary(packet.data) &&
      !encodesInJs(this.nsp.server, packet.data, false);
    if (!plain) return super.broadcast(packet, opts).then(() => this.#delivered(packet, opts));
    const rooms = [...opts.rooms];
    const except = [...(opts.except || [])];
    const { type, json } = encodeData(packet.type, packet.data);
    const entryData =
      `{"packet":{"type":${PacketType.EVENT},"data":${json},"nsp":${JSON.stringify(this.nsp.name)}},` +
      `"opts":${JSON.stringify({ rooms, except, flags })}}`;
    // Rust delivers it locally once Redis has it, as upstream's adapter does after its publish.
    this.nsp.server.engine.native.sendNowThisTurn();
    this.#node.broadcast(this.uid, entryData, rooms, except, [this.nsp.name, type, undefined, json, undefined, undefined]);
    return Promise.resolve();
  }

  onMessage(message, offset) {
    super.onMessage(message, offset);
    if (offset !== undefined && message.type === MessageType.BROADCAST && message.data.requestId === undefined) {
      const { packet, opts } = message.data;
      this.#delivered(packet, { rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags });
    }
  }

  /**
   * Records, on each recipient, the offset a broadcast delivered by JS carried (Rust records
   * those it delivers): a client that had every packet sent to it can be restored even after its
   * own offset left the stream (see `restoreSession`).
   */
  #delivered(packet, opts) {
    const offset = packet.data && packet.data[packet.data.length - 1];
    const stored =
      this.nsp.server.opts.connectionStateRecovery &&
      packet.type === PacketType.EVENT &&
      packet.id === undefined &&
      !(opts.flags && opts.flags.volatile) &&
      typeof offset === "string" &&
      STREAM_ID.test(offset);
    if (!stored) return;
    this.apply(opts, (socket) => {
      if (compareIds(offset, socket._lastStreamOffset) > 0) socket._lastStreamOffset = offset;
    });
  }

  doPublish(message) {
    debug("publishing %o", message);
    if (isEphemeral(message)) {
      return this.#command(["PUBLISH", this.#publicChannel, Buffer.from(encode(message))]).then(() => "");
    }
    const { data } = this.#encode(message);
    return this.#node.publish(message.uid, message.nsp, message.type, data);
  }

  doPublishResponse(requesterUid, response) {
    const channel = this.#node.channel(this.nsp.name, requesterUid);
    return this.#command(["PUBLISH", channel, Buffer.from(encode(response))]).then(() => {});
  }

  /** `data` as upstream encodes it: JSON, or base64 msgpack when it holds binary. */
  #encode(message) {
    if (!message.data) return {};
    const binary = !this.#opts.onlyPlaintext && MAY_CONTAIN_BINARY.includes(message.type) && hasBinary(message.data);
    return { data: binary ? Buffer.from(encode(message.data)).toString("base64") : JSON.stringify(message.data) };
  }

  static decode(raw) {
    const message = { uid: raw.uid, nsp: raw.nsp, type: parseInt(raw.type, 10) };
    if (raw.data) {
      message.data = raw.data.startsWith("{") ? JSON.parse(raw.data) : decode(Buffer.from(raw.data, "base64"));
    }
    return message;
  }

  /** What Rust did not handle itself: a stream entry, or a pub/sub message. */
  _onClusterEvent(event) {
    let message;
    try {
      message = event.kind === "Entry" ? RedisStreamsAdapter.decode(event) : decode(event.payload);
    } catch (err) {
      debug("invalid format: %s", err.message);
      return;
    }
    if (event.kind === "Entry") this.onMessage(message, event.id);
    else this.onMessage(message);
  }

  async serverCount() {
    const [, count] = await this.#command(["PUBSUB", "NUMSUB", this.#publicChannel]);
    return Number(count);
  }

  /**
   * Stores the session as upstream does (base64 msgpack under `sessionKeyPrefix` + pid, expiring
   * after `maxDisconnectionDuration`), with three more fields that upstream nodes ignore:
   * `startOffset` (the stream's newest entry when the socket connected), `lastDeliveredOffset`
   * (the last stored packet sent to it) and `disconnectOffset` (the stream's newest entry now).
   */
  persistSession(session) {
    debug("persisting session %o", session);
    const key = this.#opts.sessionKeyPrefix + session.pid;
    const socket = this.nsp.sockets.get(session.sid);
    // The newest id first: Rust may deliver more between the two reads, and a delivery counted
    // in `lastDeliveredOffset` but not in `disconnectOffset` only stops the resume from the
    // disconnection, where the reverse would have it skip what was delivered meanwhile.
    const disconnectOffset = this.#node.newestOffset(this.nsp.name);
    const offsets = {
      startOffset: socket && socket._startOffset,
      lastDeliveredOffset: [this.#core()?.lastStreamOffset(this.nsp.name, session.sid), socket && socket._lastStreamOffset]
        .filter((offset) => typeof offset === "string")
        .sort(compareIds)
        .pop(),
      disconnectOffset,
    };
    for (const [name, offset] of Object.entries(offsets)) if (typeof offset === "string") session[name] = offset;
    const encoded = Buffer.from(encode(session)).toString("base64");
    const ttl = this.nsp.server.opts.connectionStateRecovery.maxDisconnectionDuration;
    return this.#command(["SET", key, encoded, "PX", String(ttl)]);
  }

  /**
   * Restores a session as upstream does, and beyond it where the session's offsets allow:
   * - a client that got no event has no offset: it resumes from where its socket started;
   * - a quiet client whose offset left the stream (trimmed by `maxLen` while the traffic was for
   *   others) but which had every packet sent to it resumes from its disconnection
   *   (socket.io#5282).
   * Nothing is skipped: a resume point is accepted only if no entry after it was ever deleted
   * (Redis 7's `max-deleted-entry-id`; with an older Redis, if the entry itself is still there,
   * as upstream checks).
   */
  async restoreSession(pid, offset) {
    debug("restoring session %s from offset %s", pid, offset);
    if (offset !== undefined && !STREAM_ID.test(offset)) throw new Error("invalid offset");
    const [rawSession, info] = await Promise.all([
      this.#command(["GETDEL", this.#opts.sessionKeyPrefix + pid]),
      this.#command(["XINFO", "STREAM", this.#streamName]).catch(() => null),
    ]);
    if (!rawSession) throw new Error("session or offset not found");
    const session = decode(Buffer.from(rawSession, "base64"));
    const maxDeleted = info && Object.fromEntries(pairs(info))["max-deleted-entry-id"];
    const complete = async (id) => {
      if (typeof id !== "string") return false;
      if (typeof maxDeleted === "string") return compareIds(id, maxDeleted) >= 0;
      return (await this.#command(["XRANGE", this.#streamName, id, id])).length > 0;
    };
    const delivered = session.lastDeliveredOffset;
    // No offset and no start: the stream was empty when the socket connected.
    if (offset === undefined) offset = session.startOffset ?? (delivered === undefined ? "0-0" : undefined);
    if (!(await complete(offset))) {
      const hadEverything = offset !== undefined && (delivered === undefined || compareIds(offset, delivered) >= 0);
      const resume = session.disconnectOffset;
      if (!hadEverything || compareIds(resume, offset) < 0 || !(await complete(resume))) {
        throw new Error("session or offset not found");
      }
      debug("session %s resumes from its disconnection (%s)", pid, resume);
      offset = resume;
    }
    // Where the restored socket starts, should it drop again before its next event.
    session.startOffset = offset;
    delete session.lastDeliveredOffset;
    delete session.disconnectOffset;
    session.missedPackets = [];
    for (let i = 0; i < RESTORE_SESSION_MAX_XRANGE_CALLS; i++) {
      const entries = await this.#command(["XRANGE", this.#streamName, nextOffset(offset), "+"]);
      if (entries.length === 0) break;
      for (const [id, fields] of entries) {
        const raw = Object.fromEntries(pairs(fields));
        if (raw.nsp === this.nsp.name && raw.type === String(MessageType.BROADCAST)) {
          const { packet, opts } = RedisStreamsAdapter.decode(raw).data;
          if (shouldIncludePacket(session.rooms, opts)) {
            packet.data.push(id);
            session.missedPackets.push(packet.data);
          }
        }
        offset = id;
      }
    }
    return session;
  }

  /** A Redis command on the node's shared connection; resolves with the reply. */
  async #command(args) {
    return JSON.parse(await this.#node.command(args));
  }
}

const STREAM_ID = /^[0-9]+-[0-9]+$/;

/** Orders stream ids (`<ms>-<seq>`); an absent one comes first. */
function compareIds(a, b) {
  if (a === b) return 0;
  if (typeof a !== "string") return -1;
  if (typeof b !== "string") return 1;
  const [msA, seqA] = a.split("-").map(Number);
  const [msB, seqB] = b.split("-").map(Number);
  return msA - msB || seqA - seqB;
}

function pairs(flat) {
  const result = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push([flat[i], flat[i + 1]]);
  return result;
}

/** Exclusive ranges came with Redis 6.2: the next possible id instead, as upstream. */
function nextOffset(offset) {
  const [timestamp, sequence] = offset.split("-");
  return timestamp + "-" + (parseInt(sequence, 10) + 1);
}

function shouldIncludePacket(sessionRooms, opts) {
  const included = opts.rooms.length === 0 || sessionRooms.some((room) => opts.rooms.includes(room));
  const notExcluded = sessionRooms.every((room) => !opts.except.includes(room));
  return included && notExcluded;
}

module.exports = { createAdapter, RedisStreamsAdapter };
