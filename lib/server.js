/** `Server`: the socket.io server object users create, as upstream's `Server` in socket.io/lib/index.ts. */
"use strict";

const http = require("node:http");
const { EventEmitter } = require("node:events");
const debug = require("debug")("socket.io:server");
const { Server: Engine } = require("./engine/server");
const { Client } = require("./client");
const { Namespace, ParentNamespace } = require("./namespace");
const { Adapter, SessionAwareAdapter } = require("./adapter");

/**
 * connectionStateRecovery.maxBufferedBytes: the bytes of packets kept per namespace for replay
 * (beyond upstream, which keeps every packet for maxDisconnectionDuration however many there are).
 */
const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const { BroadcastOperator } = require("./broadcast-operator");
const { Socket } = require("./socket");
const { attachServe } = require("./serve-client");
const parser = require("./parser");

class Server extends EventEmitter {
  /**
   * @param {import("http").Server | number | object} [srv]
   * @param {object} [opts]
   */
  constructor(srv, opts = {}) {
    super();
    if (typeof srv === "object" && srv instanceof Object && !srv.listen) {
      opts = srv;
      srv = undefined;
    }
    this._nsps = new Map();
    this._parser = opts.parser || parser;
    this.encoder = new this._parser.Encoder();
    /** How packets cross to Rust (see parser.js `wireFormatOf`). */
    this._wireFormat = parser.wireFormatOf(this._parser);
    this.parentNsps = new Map();
    this.parentNamespacesFromRegExp = new Map();
    this.path(opts.path || "/socket.io");
    this.connectTimeout(opts.connectTimeout || 45000);
    this.serveClient(opts.serveClient !== false);
    this.opts = opts;
    this._offset = 0;
    if (opts.connectionStateRecovery) {
      opts.connectionStateRecovery = Object.assign(
        {
          maxDisconnectionDuration: 2 * 60 * 1000,
          skipMiddlewares: true,
          maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
        },
        opts.connectionStateRecovery,
      );
      this.adapter(opts.adapter || SessionAwareAdapter);
    } else {
      this.adapter(opts.adapter || Adapter);
    }
    opts.cleanupEmptyChildNamespaces = !!opts.cleanupEmptyChildNamespaces;
    this.sockets = this.of("/");
    if (srv || typeof srv === "number") this.attach(srv);
    if (this.opts.cors) this._corsMiddleware = require("cors")(this.opts.cors);
  }

  get _opts() {
    return this.opts;
  }

  serveClient(v) {
    if (!arguments.length) return this._serveClient;
    this._serveClient = v;
    return this;
  }

  path(v) {
    if (!arguments.length) return this._path;
    this._path = v.replace(/\/$/, "");
    return this;
  }

  connectTimeout(v) {
    if (v === undefined) return this._connectTimeout;
    this._connectTimeout = v;
    return this;
  }

  adapter(v) {
    if (!arguments.length) return this._adapter;
    this._adapter = v;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  /** Offsets of stored packets: one sequence for the server, so that each log is ordered. */
  _nextOffset() {
    return ++this._offset;
  }

  _currentOffset() {
    return this._offset;
  }

  listen(srv, opts = {}) {
    return this.attach(srv, opts);
  }

  attach(srv, opts = {}) {
    if (typeof srv === "function") {
      throw new Error(
        "You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.",
      );
    }
    if (Number(srv) == srv) srv = Number(srv);
    if (typeof srv === "number") {
      const port = srv;
      debug("creating http server and binding to %d", port);
      srv = http.createServer((req, res) => {
        res.writeHead(404);
        res.end();
      });
      srv.listen(port);
    }
    Object.assign(opts, this.opts);
    opts.path = opts.path || this._path;
    debug("creating engine.io instance with opts %j", opts);
    const engine = new Engine(opts);
    engine.attach(srv, opts);
    this.eio = engine;
    if (this._serveClient) {
      debug("attaching client serving req handler");
      attachServe(srv, this._path, () => this._corsMiddleware);
    }
    this.httpServer = srv;
    this.bind(engine);
    return this;
  }

  bind(engine) {
    this.engine = engine;
    this.engine.on("connection", (conn) => {
      debug("incoming connection with id %s", conn.id);
      new Client(this, conn);
    });
    return this;
  }

  _checkNamespace(name, auth, fn) {
    if (this.parentNsps.size === 0) return fn(false);
    const keys = this.parentNsps.keys();
    const run = () => {
      const next = keys.next();
      if (next.done) return fn(false);
      next.value(name, auth, (err, allow) => {
        if (err || !allow) return run();
        if (this._nsps.has(name)) {
          debug("dynamic namespace %s already exists", name);
          return fn(this._nsps.get(name));
        }
        const namespace = this.parentNsps.get(next.value).createChild(name);
        debug("dynamic namespace %s was created", name);
        fn(namespace);
      });
    };
    run();
  }

  of(name, fn) {
    if (typeof name === "function" || name instanceof RegExp) {
      const parentNsp = new ParentNamespace(this);
      debug("initializing parent namespace %s", parentNsp.name);
      if (typeof name === "function") {
        this.parentNsps.set(name, parentNsp);
      } else {
        this.parentNsps.set((nsp, conn, next) => next(null, name.test(nsp)), parentNsp);
        this.parentNamespacesFromRegExp.set(name, parentNsp);
      }
      if (fn) parentNsp.on("connect", fn);
      return parentNsp;
    }
    if (String(name)[0] !== "/") name = "/" + name;
    let nsp = this._nsps.get(name);
    if (!nsp) {
      for (const [regex, parentNamespace] of this.parentNamespacesFromRegExp) {
        if (regex.test(name)) {
          debug("attaching namespace %s to parent namespace %s", name, regex);
          return parentNamespace.createChild(name);
        }
      }
      debug("initializing namespace %s", name);
      nsp = new Namespace(this, name);
      this._nsps.set(name, nsp);
      if (name !== "/") EventEmitter.prototype.emit.call(this.sockets, "new_namespace", nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  async close(fn) {
    await Promise.allSettled(
      [...this._nsps.values()].map(async (nsp) => {
        nsp.sockets.forEach((socket) => socket._onclose("server shutting down"));
        await nsp.adapter.close();
      }),
    );
    if (this.engine) this.engine.close();
    if (this.httpServer) {
      return new Promise((resolve) => {
        this.httpServer.close((err) => {
          if (fn) fn(err);
          if (err) debug("server was not running");
          resolve();
        });
      });
    }
    if (fn) fn();
  }

  use(fn) {
    this.sockets.use(fn);
    return this;
  }

  to(room) {
    return this.sockets.to(room);
  }

  in(room) {
    return this.sockets.in(room);
  }

  except(room) {
    return this.sockets.except(room);
  }

  send(...args) {
    this.sockets.emit("message", ...args);
    return this;
  }

  write(...args) {
    return this.send(...args);
  }

  serverSideEmit(ev, ...args) {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  serverSideEmitWithAck(ev, ...args) {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  allSockets() {
    return this.sockets.allSockets();
  }

  compress(compress) {
    return this.sockets.compress(compress);
  }

  get volatile() {
    return this.sockets.volatile;
  }

  get local() {
    return this.sockets.local;
  }

  timeout(timeout) {
    return this.sockets.timeout(timeout);
  }

  fetchSockets() {
    return this.sockets.fetchSockets();
  }

  socketsJoin(room) {
    return this.sockets.socketsJoin(room);
  }

  socketsLeave(room) {
    return this.sockets.socketsLeave(room);
  }

  disconnectSockets(close = false) {
    return this.sockets.disconnectSockets(close);
  }
}

// As upstream: the EventEmitter methods of the server act on the main namespace, so that
// io.on("connection") and io.emit(...) mean the "/" namespace.
for (const method of Object.keys(EventEmitter.prototype)) {
  if (typeof EventEmitter.prototype[method] === "function") {
    Server.prototype[method] = function (...args) {
      return this.sockets[method](...args);
    };
  }
}

module.exports = { Server, Namespace, Socket, BroadcastOperator };
