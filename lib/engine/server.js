/** `io.engine`: the Engine.IO server as upstream's API shows it; sessions, transports and timers run in Rust. */
"use strict";

const { EventEmitter } = require("node:events");
const debug = require("debug")("engine");
const { NativeServer } = require("./native-server");
const { Socket } = require("./socket");
const { Polling } = require("./transports/polling");
const { HandedOffConnections } = require("./handed-off");
const {
  WebSocketResponse,
  handOver,
  prepareHandOff,
  validateUpgradeRequest,
} = require("./transports/websocket");
const { generateId } = require("../ids");
const { parseQuery } = require("./query");
const { shareRequestStrings } = require("./shared-strings");
const { errors, errorMessages, abortRequest, abortUpgrade } = require("./errors");

/** The events about a handed-over connection rather than a session. */
const CONNECTION_EVENTS = new Set(["ConnectionClosed", "ConnectionHandedBack"]);

/** The events that carry what a client sent. */
const CLIENT_INPUT = new Set(["SocketIoPacket", "Undecoded", "ParseError", "Message", "Packet"]);

const DEFAULTS = {
  pingTimeout: 20000,
  pingInterval: 25000,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6,
  transports: ["polling", "websocket"],
  allowUpgrades: true,
  httpCompression: { threshold: 1024 },
  cors: false,
  allowEIO3: false,
};

class Server extends EventEmitter {
  constructor(opts = {}) {
    super();
    this.clients = {};
    /**
     * `clients` as a Map, which every request of a session looks its sid up in: a fresh string
     * as an object key costs a lookup in V8's table of all strings, as a Map key a hash.
     */
    this._bySid = new Map();
    /** Engine sockets by the handle Rust names their session with in events. */
    this._byHandle = new Map();
    this._handedOff = new HandedOffConnections();
    this.clientsCount = 0;
    this.middlewares = [];
    /** Set once any socket listens to `packetCreate`: broadcasts then report every packet in JS. */
    this._packetCreateListened = false;
    this.opts = Object.assign({}, DEFAULTS, opts);
    if (opts.cookie) {
      this.opts.cookie = Object.assign(
        { name: "io", path: "/", httpOnly: true, sameSite: "lax" },
        opts.cookie,
      );
    }
    /** The `cors` option's middleware: its headers hang on the request's Origin alone. */
    this._corsMiddleware = null;
    if (this.opts.cors) this.use((this._corsMiddleware = require("cors")(this.opts.cors)));
    /**
     * Whether a kept-alive connection's polling requests may be served by Rust once JS answered
     * one (see transports/polling.js): not when the answer depends on more than the request's
     * Origin, User-Agent and Accept-Encoding, or on code that runs per request.
     */
    this._pollingInRust = pollingServableInRust(this.opts);
    this.on("newListener", (event) => {
      if (event === "headers") this._servePollingInJs();
    });
    /** The path `attach` serves (Rust serves it on the connections it takes over). */
    this._path = undefined;
    /** The size from which WebSocket messages are compressed; undefined: perMessageDeflate off. */
    this._deflateThreshold = opts.perMessageDeflate
      ? Object.assign({ threshold: 1024 }, opts.perMessageDeflate).threshold
      : undefined;
    this._polling = new Polling(this);
    /** The Rust core: every call into it goes through this object. */
    this.native = new NativeServer(this.opts, {
      onEvents: () => this._drainEvents(),
      onPollAnswers: () => this._answerPolls(),
    });
  }

  use(fn) {
    this.middlewares.push(fn);
    if (fn !== this._corsMiddleware) this._servePollingInJs();
  }

  /** Every polling request goes through JS from now on: a hook that runs per request was added. */
  _servePollingInJs() {
    if (!this._pollingInRust) return;
    this._pollingInRust = false;
    this.native.servePollingInJs();
  }

  /**
   * Answers the long-poll GETs that JS's own sends released, right away, as upstream writes the
   * response within `send` (the others arrive as events). Every one is answered even if one
   * fails (see `_drainEvents`); the first failure is then thrown to the sender, as upstream's
   * `send` throws it, and any further one as `_drainEvents` throws them.
   */
  _answerPolls() {
    const faults = [];
    this._answerTakenPolls(faults);
    if (faults.length === 0) return;
    for (const error of faults.slice(1)) setImmediate(rethrow, error);
    throw faults[0];
  }

  _answerTakenPolls(faults) {
    for (const [handle, body] of this.native.takePollAnswers()) {
      const socket = this._byHandle.get(handle);
      if (!socket) continue;
      try {
        this._polling.answer(socket, body);
      } catch (error) {
        this._faulted(socket, error, faults);
      }
    }
  }

  /**
   * A fault while `socket`'s event was handled: its session may be half-handled, so it ends now
   * (nothing of it waits on a client that may never ask again); `error` is kept for rethrowing.
   */
  _faulted(socket, error, faults) {
    faults.push(error);
    if (socket) socket.close(true);
  }

  /** Overridable, possibly async, as upstream: the default is 15 random bytes in base64url. */
  generateId() {
    return generateId();
  }

  upgrades(transport) {
    if (!this.opts.allowUpgrades || transport !== "polling") return [];
    return this.opts.transports.includes("websocket") ? ["websocket"] : [];
  }

  close() {
    debug("closing all open clients");
    for (const sid of Object.keys(this.clients)) this.clients[sid].close(true);
    return this;
  }

  /** Hooks this engine into an HTTP server, leaving requests outside `path` to their listeners. */
  attach(server, options = {}) {
    let path = (options.path || "/engine.io").replace(/\/$/, "");
    if (options.addTrailingSlash !== false) path += "/";
    const destroyUpgradeTimeout = options.destroyUpgradeTimeout || 1000;
    const check = (req) => req.url.startsWith(path);

    this._path = path;
    // Node's close() calls closeIdleConnections(); the connections Rust serves close with them.
    for (const method of ["closeIdleConnections", "closeAllConnections"]) {
      const own = server[method];
      if (typeof own !== "function") continue;
      const native = this.native;
      server[method] = function () {
        native.closeIdlePollingConnections();
        return own.apply(this, arguments);
      };
    }

    const listeners = server.listeners("request").slice(0);
    server.removeAllListeners("request");
    server.on("close", this.close.bind(this));
    server.on("request", (req, res) => {
      if (check(req)) {
        debug('intercepting request for path "%s"', path);
        this.handleRequest(req, res);
      } else {
        for (const listener of listeners) listener.call(server, req, res);
      }
    });

    if (this.opts.transports.includes("websocket")) {
      server.on("upgrade", (req, socket, head) => {
        if (check(req)) {
          this.handleUpgrade(req, socket, head);
        } else if (options.destroyUpgrade !== false) {
          // As upstream: ours to end unless another listener answers; with destroyUpgrade: false
          // it is left, errors included, to the other listeners.
          socket.on("error", destroyOnError);
          setTimeout(() => {
            if (socket.writable && socket.bytesWritten <= 0) socket.end();
          }, destroyUpgradeTimeout);
        }
      });
    }
  }

  handleRequest(req, res) {
    debug('handling "%s" http request "%s"', req.method, req.url);
    prepare(req);
    req.res = res;
    const callback = (code, context) => {
      if (code !== undefined) {
        this.emit("connection_error", { req, code, message: errorMessages[code], context });
        abortRequest(res, code, context);
        return;
      }
      if (req._query.sid) {
        debug("setting new request for existing client");
        this._polling.onRequest(this._bySid.get(req._query.sid), req, res);
      } else {
        this._handshake("polling", req, (errorCode, errorContext) =>
          abortRequest(res, errorCode, errorContext),
        );
      }
    };
    this._applyMiddlewares(req, res, (err) => {
      if (err) callback(errors.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE" });
      else this.verify(req, false, callback);
    });
  }

  handleUpgrade(req, socket, head) {
    prepare(req);
    socket.on("error", destroyOnError);
    prepareHandOff(req, socket);
    const res = new WebSocketResponse(req, socket);
    const callback = (code, context) => {
      if (code !== undefined) {
        this.emit("connection_error", { req, code, message: errorMessages[code], context });
        abortUpgrade(socket, code, context);
        return;
      }
      if (!validateUpgradeRequest(req)) {
        abortUpgrade(socket, errors.BAD_REQUEST);
        return;
      }
      const sid = req._query.sid;
      if (sid) {
        this._handOver(req, socket, head, { sid, isUpgrade: true });
      } else {
        this._handshake("websocket", req, (errorCode, errorContext) =>
          abortUpgrade(socket, errorCode, errorContext),
          { socket, head },
        );
      }
    };
    this._applyMiddlewares(req, res, (err) => {
      if (err) callback(errors.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE" });
      else this.verify(req, true, callback);
    });
  }

  verify(req, upgrade, fn) {
    const transport = req._query.transport;
    if (!this.opts.transports.includes(transport) || transport === "webtransport") {
      debug('unknown transport "%s"', transport);
      return fn(errors.UNKNOWN_TRANSPORT, { transport });
    }
    if (checkInvalidHeaderChar(req.headers.origin)) {
      const origin = req.headers.origin;
      req.headers.origin = null;
      debug("origin header invalid");
      return fn(errors.BAD_REQUEST, { name: "INVALID_ORIGIN", origin });
    }
    const sid = req._query.sid;
    if (sid) {
      const client = this._bySid.get(sid);
      if (client === undefined) {
        debug('unknown sid "%s"', sid);
        return fn(errors.UNKNOWN_SID, { sid });
      }
      const previousTransport = client._transportName;
      if (!upgrade && previousTransport !== transport) {
        debug("bad request: unexpected transport without upgrade");
        return fn(errors.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", transport, previousTransport });
      }
      const protocol = req._query.EIO === "4" ? 4 : 3;
      if (client.protocol !== protocol) {
        return fn(errors.BAD_REQUEST, { name: "PROTOCOL_MISMATCH", protocol, previousProtocol: client.protocol });
      }
    } else {
      if (req.method !== "GET") return fn(errors.BAD_HANDSHAKE_METHOD, { method: req.method });
      if (transport === "websocket" && !upgrade) {
        debug("invalid transport upgrade");
        return fn(errors.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
      }
      if (!this.opts.allowRequest) return fn();
      return this.opts.allowRequest(req, (message, success) => {
        if (!success) return fn(errors.FORBIDDEN, { message });
        fn();
      });
    }
    fn();
  }

  _applyMiddlewares(req, res, callback) {
    if (this.middlewares.length === 0) {
      debug("no middleware to apply, skipping");
      return callback();
    }
    const apply = (i) => {
      debug("applying middleware n°%d", i + 1);
      this.middlewares[i](req, res, (err) => {
        if (err) return callback(err);
        if (i + 1 < this.middlewares.length) apply(i + 1);
        else callback();
      });
    };
    apply(0);
  }

  async _handshake(transportName, req, closeConnection, upgrade) {
    const protocol = req._query.EIO === "4" ? 4 : 3;
    if (protocol === 3 && !this.opts.allowEIO3) {
      debug("unsupported protocol version");
      this.emit("connection_error", {
        req,
        code: errors.UNSUPPORTED_PROTOCOL_VERSION,
        message: errorMessages[errors.UNSUPPORTED_PROTOCOL_VERSION],
        context: { protocol },
      });
      closeConnection(errors.UNSUPPORTED_PROTOCOL_VERSION);
      return;
    }
    let id;
    try {
      id = await this.generateId(req);
    } catch (error) {
      debug("error while generating an id");
      this.emit("connection_error", {
        req,
        code: errors.BAD_REQUEST,
        message: errorMessages[errors.BAD_REQUEST],
        context: { name: "ID_GENERATION_ERROR", error },
      });
      closeConnection(errors.BAD_REQUEST);
      return;
    }
    debug('handshaking client "%s"', id);
    if (transportName === "polling") {
      const socket = this._register(id, "polling", req, this.native.openPolling(id, protocol), protocol);
      this._polling.onRequest(socket, req, req.res);
      this.emit("connection", socket);
    } else {
      const handle = this._handOver(req, upgrade.socket, upgrade.head, { sid: id, isUpgrade: false, protocol });
      if (handle === null) return;
      this.emit("connection", this._register(id, "websocket", req, handle, protocol));
    }
  }

  _register(id, transportName, req, handle, protocol) {
    shareRequestStrings(req);
    const remoteAddress = req.socket && req.socket.remoteAddress;
    const socket = new Socket(id, this, transportName, req, remoteAddress, handle, protocol);
    this.clients[id] = socket;
    this._bySid.set(id, socket);
    this._byHandle.set(handle, socket);
    this.clientsCount++;
    return socket;
  }

  /** `socket` closed (called by it, before its `close` listeners run). */
  _unregister(socket) {
    delete this.clients[socket.id];
    this._bySid.delete(socket.id);
    this._byHandle.delete(socket._handle);
    this.clientsCount--;
  }

  /** See transports/websocket.js `handOver`. */
  _handOver(req, socket, head, session) {
    return handOver(this, req, socket, head, { ...session, deflateThreshold: this._deflateThreshold });
  }

  _packetListenerAdded() {
    this.native.forwardPackets();
  }

  _messageListenerAdded() {
    this.native.forwardMessages();
  }

  /**
   * Dispatches what Rust queued. A fault while one event is handled (a user's listener, an
   * adapter, this code) costs neither the other events of the batch nor the consistency of the
   * session it concerns, which is closed; the error is thrown again once the batch and the ticks
   * it queued (handlers run a tick or two later) are done, so that the process meets it as it
   * meets upstream's: an uncaught exception, out of an I/O callback there.
   */
  _drainEvents() {
    const faults = [];
    this._answerTakenPolls(faults);
    this._dispatchBatch(this.native.drainEvents(), faults);
  }

  /**
   * Dispatches what a polling POST caused (`NativeServer#post`), before the POST is answered, as
   * upstream handles its packets within the request: faults as in `_drainEvents`.
   */
  _dispatchPosted(events) {
    this._dispatchBatch(events, []);
  }

  _dispatchBatch(events, faults) {
    // Sessions closed for a fault in this batch: the rest of what their clients sent is dropped,
    // as upstream reads nothing more from a connection whose handler threw.
    let faulted = null;
    for (const event of events) {
      if (faulted !== null && CLIENT_INPUT.has(event.kind) && faulted.has(event.session)) continue;
      try {
        this._dispatch(event);
      } catch (error) {
        const socket = CONNECTION_EVENTS.has(event.kind) ? undefined : this._byHandle.get(event.session);
        this._faulted(socket, error, faults);
        if (socket) (faulted ??= new Set()).add(event.session);
      }
    }
    for (const error of faults) setImmediate(rethrow, error);
  }

  /** One event, tagged by `kind` (lib/engine/native-server.js `decoders`). */
  _dispatch(event) {
    if (event.kind === "ConnectionClosed") {
      this._handedOff.release(event.connection);
      return;
    }
    if (event.kind === "ConnectionHandedBack") {
      this._handedOff.handBack(event.connection, event.fd, event.read);
      return;
    }
    const socket = this._byHandle.get(event.session);
    if (!socket) return;
    switch (event.kind) {
      case "SocketIoPacket":
        if (socket._ioClient) {
          socket._ioClient._ondecoded(event.packetType, event.nsp, event.ackId, event.data, event.attachments);
        }
        break;
      case "Undecoded":
        if (socket._ioClient) socket._ioClient._onundecoded(event.text ?? event.binary);
        break;
      case "Message":
        socket._onMessage(event.text ?? event.binary);
        break;
      case "PollAnswer":
        this._polling.answer(socket, event.body);
        break;
      case "ParseError":
        if (socket._ioClient) socket._ioClient._onparseerror(event.message);
        break;
      case "Close": {
        // After the packets of this batch already scheduled on the tick queue, as when the
        // close arrives in an I/O callback of its own upstream.
        const description = event.description ? new Error(event.description) : undefined;
        process.nextTick(() => socket._onClose(event.reason, description));
        break;
      }
      case "Upgrading":
        socket._onUpgrading();
        break;
      case "Upgrade":
        socket._onUpgrade();
        break;
      case "Packet": {
        const packet = { type: event.packetType };
        const data = event.binary ?? event.data;
        if (data !== null) packet.data = data;
        socket.emit(event.incoming ? "packet" : "packetCreate", packet);
        if (event.incoming && packet.type === "pong") socket.emit("heartbeat");
        break;
      }
    }
  }
}

Server.errors = errors;
Server.errorMessages = errorMessages;

/** Throws an error kept from a batch, from a callback of its own: uncaught, as upstream's is. */
function rethrow(error) {
  throw error;
}

/**
 * Node stops handling the errors of a socket it emits with `upgrade`: without a listener, a reset
 * (ECONNRESET) would be an uncaught `error` event and end the process.
 */
function destroyOnError() {
  this.destroy();
}

/**
 * Whether the options let Rust serve polling requests (see `_pollingInRust`): CORS decided by a
 * function may depend on anything, and zlib options other than the level are Node's alone.
 */
function pollingServableInRust(opts) {
  if (opts.cors && typeof opts.cors.origin === "function") return false;
  const compression = opts.httpCompression;
  return !compression || Object.keys(compression).every((key) => key === "threshold" || key === "level");
}

function prepare(req) {
  if (!req._query) req._query = parseQuery(req.url);
}

/** Upstream's check: a header value with a control character (other than tab) or DEL is invalid. */
function checkInvalidHeaderChar(value) {
  const s = value + "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return true;
  }
  return false;
}

module.exports = { Server };
