/** `Socket`: one client in one namespace, with events, acks, rooms and middlewares (socket.io/lib/socket.ts). */
"use strict";

const { EventEmitter } = require("node:events");
// Lines on the per-packet path check `debug.enabled` first: a disabled call still allocates its
// arguments array, which cost about 3% of the CPU per echo in bench/run.js.
const debug = require("debug")("socket.io:socket");
const { generateId } = require("./ids");
const { PacketType } = require("./parser");
const { RESERVED_EVENTS } = require("./reserved-events");
const { BroadcastOperator } = require("./broadcast-operator");
const { replayMissedPackets } = require("./adapter");

const emitLocally = EventEmitter.prototype.emit;
const noop = () => {};

/**
 * The flags of a socket's next emit while none is set: one frozen object for every socket (an
 * object per socket, and one more per emit, cost ~56 bytes each); `_settableFlags` gives the
 * socket its own before a flag is set.
 */
const NO_FLAGS = Object.freeze({});

/** `new Date() + ""`, which changes once a second: one string for every handshake of a second. */
let lastTime = { second: -1, text: "" };
function timeNow() {
  const now = new Date();
  const second = Math.floor(now.getTime() / 1000);
  if (second !== lastTime.second) lastTime = { second, text: now + "" };
  return lastTime.text;
}

/** Disconnections after which a session is kept for recovery: the client did not choose them. */
const RECOVERABLE_DISCONNECT_REASONS = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

class Socket extends EventEmitter {
  /**
   * @param {import("./namespace").Namespace} nsp
   * @param {import("./client").Client} client
   * @param {object} auth
   */
  constructor(nsp, client, auth, previousSession) {
    super();
    this.nsp = nsp;
    this.server = nsp.server;
    this.adapter = nsp.adapter;
    this.client = client;
    this.recovered = false;
    this.data = {};
    this.connected = false;
    /** See `acks`. */
    this._acks = undefined;
    this.fns = [];
    this.flags = NO_FLAGS;
    /** The offset of the last packet stored for recovery that JS sent or replayed to it. */
    this._lastStoredOffset = 0;
    if (previousSession) {
      this.id = previousSession.sid;
      this.pid = previousSession.pid;
      this._startOffset = previousSession.startOffset;
      previousSession.rooms.forEach((room) => this.join(room));
      this.data = previousSession.data;
      // What it missed goes out ahead of the CONNECT answer.
      if (previousSession[replayMissedPackets]) this._lastStoredOffset = previousSession[replayMissedPackets](this);
      for (const data of previousSession.missedPackets || []) this.packet({ type: PacketType.EVENT, data });
      this.recovered = true;
    } else {
      // Socket.IO v2 clients expect ids derived from the Engine.IO id.
      if (client.conn.protocol === 3) this.id = nsp.name !== "/" ? nsp.name + "#" + client.id : client.id;
      else this.id = generateId();
      if (this.server.opts.connectionStateRecovery) {
        this.pid = generateId();
        this._startOffset = this.server._currentOffset();
      }
    }
    this.handshake = this.buildHandshake(auth);
    this._anyListeners = undefined;
    this._anyOutgoingListeners = undefined;
    // As upstream: an "error" with no user listener must not throw.
    this.on("error", noop);
  }

  buildHandshake(auth) {
    const req = this.request;
    return {
      headers: (req && req.headers) || {},
      time: timeNow(),
      address: this.conn.remoteAddress,
      xdomain: !!(req && req.headers.origin),
      secure: !req || !!(req.connection && req.connection.encrypted),
      issued: +new Date(),
      url: req && req.url,
      query: (req && req._query) || {},
      auth,
    };
  }

  get conn() {
    return this.client.conn;
  }

  /** The callbacks of the acks this socket awaits, by id: made on first use, as most sockets never await one. */
  get acks() {
    return (this._acks ??= new Map());
  }

  get request() {
    return this.client.request;
  }

  get disconnected() {
    return !this.connected;
  }

  get rooms() {
    return this.adapter.socketRooms(this.id) || new Set();
  }

  emit(ev, ...args) {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const data = [ev, ...args];
    const packet = { type: PacketType.EVENT, data };
    if (typeof data[data.length - 1] === "function") {
      const id = this.nsp._ids++;
      if (debug.enabled) debug("emitting packet with ack id %d", id);
      this.registerAckCallback(id, data.pop());
      packet.id = id;
    }
    const flags = this.flags;
    this.flags = NO_FLAGS;
    if (this.server.opts.connectionStateRecovery) {
      // Through the adapter, so that the packet is stored and replayed after a reconnection.
      this.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
    } else {
      this.notifyOutgoingListeners(packet);
      this.packet(packet, flags);
    }
    return true;
  }

  emitWithAck(ev, ...args) {
    const withErr = this.flags.timeout !== undefined;
    return new Promise((resolve, reject) => {
      args.push((arg1, arg2) => {
        if (withErr) return arg1 ? reject(arg1) : resolve(arg2);
        return resolve(arg1);
      });
      this.emit(ev, ...args);
    });
  }

  registerAckCallback(id, ack) {
    const timeout = this.flags.timeout;
    if (timeout === undefined) {
      this.acks.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      debug("event with ack id %d has timed out after %d ms", id, timeout);
      this.acks.delete(id);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    this.acks.set(id, (...args) => {
      clearTimeout(timer);
      ack.apply(this, [null, ...args]);
    });
  }

  to(room) {
    return this.newBroadcastOperator().to(room);
  }

  in(room) {
    return this.newBroadcastOperator().in(room);
  }

  except(room) {
    return this.newBroadcastOperator().except(room);
  }

  send(...args) {
    this.emit("message", ...args);
    return this;
  }

  write(...args) {
    return this.send(...args);
  }

  packet(packet, opts = {}) {
    packet.nsp = this.nsp.name;
    this.client._packet(packet, opts);
  }

  join(rooms) {
    debug("join room %s", rooms);
    return this.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  leave(room) {
    debug("leave room %s", room);
    return this.adapter.del(this.id, room);
  }

  leaveAll() {
    this.adapter.delAll(this.id);
  }

  _onconnect() {
    debug("socket connected - writing packet");
    this.connected = true;
    this.join(this.id);
    if (this.conn.protocol === 3) this.packet({ type: PacketType.CONNECT });
    else this.packet({ type: PacketType.CONNECT, data: this.pid ? { sid: this.id, pid: this.pid } : { sid: this.id } });
  }

  _onpacket(packet) {
    if (debug.enabled) debug("got packet %j", packet);
    if (!this.connected) return;
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.onack(packet);
        break;
      case PacketType.DISCONNECT:
        debug("got disconnect packet");
        this._onclose("client namespace disconnect");
        break;
    }
  }

  onevent(packet) {
    const args = packet.data || [];
    if (debug.enabled) debug("emitting event %j", args);
    if (packet.id != null) {
      if (debug.enabled) debug("attaching ack callback to event");
      args.push(this.ack(packet.id));
    }
    if (this._anyListeners && this._anyListeners.length) {
      for (const listener of this._anyListeners.slice()) listener.apply(this, args);
    }
    this.dispatch(args);
  }

  ack(id) {
    let sent = false;
    return (...args) => {
      if (sent) return;
      if (debug.enabled) debug("sending ack %j", args);
      this.packet({ id, type: PacketType.ACK, data: args });
      sent = true;
    };
  }

  onack(packet) {
    const ack = this.acks.get(packet.id);
    if (typeof ack === "function") {
      if (debug.enabled) debug("calling ack %s with %j", packet.id, packet.data);
      this.acks.delete(packet.id);
      ack.apply(this, packet.data);
    } else {
      debug("bad ack %s", packet.id);
    }
  }

  _onerror(err) {
    emitLocally.call(this, "error", err);
  }

  _onclose(reason, description) {
    if (!this.connected) return this;
    debug("closing socket - reason %s", reason);
    emitLocally.call(this, "disconnecting", reason, description);
    if (this.server.opts.connectionStateRecovery && RECOVERABLE_DISCONNECT_REASONS.has(reason)) {
      debug("connection state recovery is enabled for sid %s", this.id);
      this._persistSession();
    }
    this._cleanup();
    this.client._remove(this);
    this.connected = false;
    emitLocally.call(this, "disconnect", reason, description);
  }

  /**
   * Hands the session to the adapter, which may store it elsewhere (a cluster adapter's
   * `persistSession` may be async): a failure there loses this session's recovery, never the
   * disconnection.
   */
  _persistSession() {
    const session = { sid: this.id, pid: this.pid, rooms: [...this.rooms], data: this.data };
    try {
      const persisted = this.adapter.persistSession(session);
      if (persisted && typeof persisted.then === "function") {
        persisted.then(undefined, (err) => debug("could not persist session %s: %s", this.id, err));
      }
    } catch (err) {
      debug("could not persist session %s: %s", this.id, err);
    }
  }

  _cleanup() {
    this.offAnyOutgoing();
    this.leaveAll();
    this.nsp._remove(this);
    this.join = () => {};
  }

  _error(err) {
    this.packet({ type: PacketType.CONNECT_ERROR, data: err });
  }

  disconnect(close = false) {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else {
      this.packet({ type: PacketType.DISCONNECT });
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  compress(compress) {
    this._settableFlags().compress = compress;
    return this;
  }

  get volatile() {
    this._settableFlags().volatile = true;
    return this;
  }

  /** The flags of the next emit, made this socket's own before one is set (see NO_FLAGS). */
  _settableFlags() {
    if (this.flags === NO_FLAGS) this.flags = {};
    return this.flags;
  }

  get broadcast() {
    return this.newBroadcastOperator();
  }

  get local() {
    return this.newBroadcastOperator().local;
  }

  timeout(timeout) {
    this._settableFlags().timeout = timeout;
    return this;
  }

  dispatch(event) {
    if (debug.enabled) debug("dispatching an event %j", event);
    this.run(event, (err) => {
      process.nextTick(() => {
        if (err) return this._onerror(err);
        if (this.connected) emitLocally.apply(this, event);
        else debug("ignore packet received after disconnection");
      });
    });
  }

  use(fn) {
    this.fns.push(fn);
    return this;
  }

  run(event, fn) {
    if (!this.fns.length) return fn();
    const fns = this.fns.slice(0);
    const run = (i) => {
      fns[i](event, (err) => {
        if (err) return fn(err);
        if (!fns[i + 1]) return fn();
        run(i + 1);
      });
    };
    run(0);
  }

  onAny(listener) {
    this._anyListeners = this._anyListeners || [];
    this._anyListeners.push(listener);
    return this;
  }

  prependAny(listener) {
    this._anyListeners = this._anyListeners || [];
    this._anyListeners.unshift(listener);
    return this;
  }

  offAny(listener) {
    if (!this._anyListeners) return this;
    if (listener) {
      const i = this._anyListeners.indexOf(listener);
      if (i !== -1) this._anyListeners.splice(i, 1);
    } else {
      this._anyListeners = [];
    }
    return this;
  }

  listenersAny() {
    return this._anyListeners || [];
  }

  onAnyOutgoing(listener) {
    this._outgoingListenersChanging();
    this._anyOutgoingListeners.push(listener);
    return this;
  }

  prependAnyOutgoing(listener) {
    this._outgoingListenersChanging();
    this._anyOutgoingListeners.unshift(listener);
    return this;
  }

  offAnyOutgoing(listener) {
    if (!this._anyOutgoingListeners || this._anyOutgoingListeners.length === 0) return this;
    if (listener) {
      const i = this._anyOutgoingListeners.indexOf(listener);
      if (i !== -1) this._anyOutgoingListeners.splice(i, 1);
    } else {
      this._anyOutgoingListeners = [];
    }
    if (this._anyOutgoingListeners.length === 0) this.nsp._countOutgoingListenerSocket(-1);
    return this;
  }

  /** Keeps the namespace's count of sockets with outgoing listeners (see Adapter#broadcast). */
  _outgoingListenersChanging() {
    this._anyOutgoingListeners = this._anyOutgoingListeners || [];
    if (this._anyOutgoingListeners.length === 0) this.nsp._countOutgoingListenerSocket(1);
  }

  listenersAnyOutgoing() {
    return this._anyOutgoingListeners || [];
  }

  notifyOutgoingListeners(packet) {
    if (this._anyOutgoingListeners && this._anyOutgoingListeners.length) {
      for (const listener of this._anyOutgoingListeners.slice()) listener.apply(this, packet.data);
    }
  }

  newBroadcastOperator() {
    const flags = Object.assign({}, this.flags);
    this.flags = NO_FLAGS;
    return new BroadcastOperator(this.adapter, new Set(), new Set([this.id]), flags);
  }
}

module.exports = { Socket };
