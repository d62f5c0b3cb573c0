/** `Namespace`: sockets of one namespace, its middlewares and broadcast helpers (socket.io/lib/namespace.ts). */
"use strict";

const { EventEmitter } = require("node:events");
const debug = require("debug")("socket.io:namespace");
const { Socket } = require("./socket");
const { PacketType } = require("./parser");
const { Adapter, SessionAwareAdapter } = require("./adapter");
const { BroadcastOperator, collectResponses } = require("./broadcast-operator");

/** Names reserved on a namespace, which `serverSideEmit` refuses. */
const RESERVED_EVENTS = new Set(["connect", "connection", "new_namespace"]);

const emitLocally = EventEmitter.prototype.emit;

class Namespace extends EventEmitter {
  /**
   * @param {import("./server").Server} server
   * @param {string} name
   */
  constructor(server, name) {
    super();
    this.name = name;
    this.server = server;
    this.sockets = new Map();
    this._preConnectSockets = new Map();
    this._fns = [];
    this._ids = 0;
    /** How many sockets have outgoing listeners: broadcasts then notify them from JS. */
    this._outgoingListenerSockets = 0;
    this._initAdapter();
  }

  _initAdapter() {
    const AdapterClass = this.server.adapter();
    this.adapter = new AdapterClass(this);
    // A cluster adapter starts here (subscriptions, heartbeats), as upstream calls it.
    Promise.resolve(this.adapter.init()).catch((err) => debug("error while initializing adapter: %s", err));
  }

  use(fn) {
    this._fns.push(fn);
    return this;
  }

  run(socket, fn) {
    if (!this._fns.length) return fn();
    const fns = this._fns.slice(0);
    const run = (i) => {
      fns[i](socket, (err) => {
        if (err) return fn(err);
        if (!fns[i + 1]) return fn();
        run(i + 1);
      });
    };
    run(0);
  }

  to(room) {
    return new BroadcastOperator(this.adapter).to(room);
  }

  in(room) {
    return new BroadcastOperator(this.adapter).in(room);
  }

  except(room) {
    return new BroadcastOperator(this.adapter).except(room);
  }

  _add(client, auth, fn) {
    debug("adding socket to nsp %s", this.name);
    auth = auth || {};
    const session = this._restoreSession(auth);
    if (session && typeof session.then === "function") {
      // A cluster adapter looks the session up elsewhere (upstream awaits it the same way); a
      // rejection means no recovery, never an error.
      session
        .then(undefined, (err) => {
          debug("error while restoring session: %s", err);
          return null;
        })
        .then((restored) => this._addSocket(client, auth, restored, fn));
    } else {
      this._addSocket(client, auth, session, fn);
    }
  }

  _addSocket(client, auth, session, fn) {
    const recovery = this.server.opts.connectionStateRecovery;
    if (session) debug("connection state recovered for sid %s", session.sid);
    else if (recovery && typeof auth.pid === "string") debug("connection state not recovered for pid %s", auth.pid);
    const socket = session ? new Socket(this, client, auth, session) : new Socket(this, client, auth);
    this._preConnectSockets.set(socket.id, socket);
    if (recovery && recovery.skipMiddlewares && socket.recovered && client.conn.readyState === "open") {
      this._doConnect(socket, fn);
      return;
    }
    this.run(socket, (err) => {
      process.nextTick(() => {
        if (client.conn.readyState !== "open") {
          debug("next called after client was closed - ignoring socket");
          socket._cleanup();
          return;
        }
        if (err) {
          debug("middleware error, sending CONNECT_ERROR packet to the client");
          socket._cleanup();
          if (client.conn.protocol === 3) socket._error(err.data || err.message);
          else socket._error({ message: err.message, data: err.data });
          return;
        }
        this._doConnect(socket, fn);
      });
    });
  }

  /**
   * The session a CONNECT with a private id asks for, from the adapter: a session, null, or a
   * Promise of either (adapters of other packages). This package's adapter also restores a
   * client that has no offset yet (it had received no event).
   */
  _restoreSession(auth) {
    const { pid, offset } = auth;
    if (!this.server.opts.connectionStateRecovery || typeof pid !== "string") return null;
    const restoresWithoutOffset = this.adapter instanceof SessionAwareAdapter || this.adapter.restoresWithoutOffset === true;
    if (typeof offset !== "string" && !(restoresWithoutOffset && offset === undefined)) return null;
    this._takeOverStaleSocket(pid);
    try {
      return this.adapter.restoreSession(pid, offset);
    } catch (err) {
      debug("error while restoring session: %s", err);
      return null;
    }
  }

  /**
   * A client came back while its previous connection still looks alive here (a TCP cut not yet
   * noticed): that socket ends as a transport close, which persists its session, so the new one
   * restores it and gets what the old one never processed. Its client, if it is in fact alive
   * (a second client presenting the same pid), is told it is disconnected, so that it neither
   * waits for packets that now go elsewhere nor comes back to take the session again.
   */
  _takeOverStaleSocket(pid) {
    for (const socket of this.sockets.values()) {
      if (socket.pid !== pid) continue;
      socket.packet({ type: PacketType.DISCONNECT });
      socket._onclose("transport close");
      return;
    }
  }

  _doConnect(socket, fn) {
    this._preConnectSockets.delete(socket.id);
    this.sockets.set(socket.id, socket);
    // Adapters of other packages (socket.io-adapter's) keep no room index in Rust.
    if (typeof this.adapter.socketConnected === "function") this.adapter.socketConnected(socket);
    socket._onconnect();
    if (fn) fn(socket);
    emitLocally.call(this, "connect", socket);
    emitLocally.call(this, "connection", socket);
  }

  _remove(socket) {
    this.sockets.delete(socket.id) || this._preConnectSockets.delete(socket.id);
  }

  emit(ev, ...args) {
    return new BroadcastOperator(this.adapter).emit(ev, ...args);
  }

  send(...args) {
    this.emit("message", ...args);
    return this;
  }

  write(...args) {
    return this.send(...args);
  }

  serverSideEmit(ev, ...args) {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    args.unshift(ev);
    this.adapter.serverSideEmit(args);
    return true;
  }

  /** An event another node of the cluster sent with `serverSideEmit` (called by the adapter). */
  /**
   * Counts the sockets with outgoing listeners (`onAnyOutgoing`): broadcasts must then pass
   * through JS, and an adapter that delivers them without JS is told.
   */
  _countOutgoingListenerSocket(delta) {
    const listened = this._outgoingListenerSockets > 0;
    this._outgoingListenerSockets += delta;
    if (listened !== this._outgoingListenerSockets > 0 && typeof this.adapter.outgoingListenersChanged === "function") {
      this.adapter.outgoingListenersChanged(!listened);
    }
  }

  _onServerSideEmit(args) {
    emitLocally.apply(this, args);
  }

  serverSideEmitWithAck(ev, ...args) {
    return collectResponses((ack) => this.serverSideEmit(ev, ...args, ack));
  }

  allSockets() {
    return new BroadcastOperator(this.adapter).allSockets();
  }

  compress(compress) {
    return new BroadcastOperator(this.adapter).compress(compress);
  }

  get volatile() {
    return new BroadcastOperator(this.adapter).volatile;
  }

  get local() {
    return new BroadcastOperator(this.adapter).local;
  }

  timeout(timeout) {
    return new BroadcastOperator(this.adapter).timeout(timeout);
  }

  fetchSockets() {
    return new BroadcastOperator(this.adapter).fetchSockets();
  }

  socketsJoin(room) {
    return new BroadcastOperator(this.adapter).socketsJoin(room);
  }

  socketsLeave(room) {
    return new BroadcastOperator(this.adapter).socketsLeave(room);
  }

  disconnectSockets(close = false) {
    return new BroadcastOperator(this.adapter).disconnectSockets(close);
  }
}

/** A namespace matched by a RegExp or function: each matching name becomes a child namespace. */
class ParentNamespace extends Namespace {
  constructor(server) {
    super(server, "/_" + ParentNamespace.count++);
    this.children = new Set();
  }

  /** Its broadcasts go to the children's adapters; it joins no cluster itself (as upstream). */
  _initAdapter() {
    this.adapter = new ParentBroadcastAdapter(this);
  }

  emit(ev, ...args) {
    this.children.forEach((nsp) => nsp.emit(ev, ...args));
    return true;
  }

  createChild(name) {
    const namespace = new Namespace(this.server, name);
    this._fns.forEach((fn) => namespace.use(fn));
    this.listeners("connect").forEach((listener) => namespace.on("connect", listener));
    this.listeners("connection").forEach((listener) => namespace.on("connection", listener));
    this.children.add(namespace);
    if (this.server._opts.cleanupEmptyChildNamespaces) {
      const remove = namespace._remove;
      namespace._remove = (socket) => {
        remove.call(namespace, socket);
        if (namespace.sockets.size === 0) {
          namespace.adapter.close();
          this.server._nsps.delete(namespace.name);
          this.children.delete(namespace);
        }
      };
    }
    this.server._nsps.set(name, namespace);
    emitLocally.call(this.server.sockets, "new_namespace", namespace);
    return namespace;
  }

  fetchSockets() {
    throw new Error("fetchSockets() is not supported on parent namespaces");
  }
}
ParentNamespace.count = 0;

class ParentBroadcastAdapter extends Adapter {
  broadcast(packet, opts) {
    this.nsp.children.forEach((nsp) => nsp.adapter.broadcast(packet, opts));
  }
}

module.exports = { Namespace, ParentNamespace };
