/** `io.engine`: the Engine.IO server as upstream's API shows it; sessions, transports and timers run in Rust. */
"use strict";

const { EventEmitter } = require("node:events");
const zlib = require("node:zlib");
const accepts = require("accepts");
const { BindingEngine } = require("../native");
const { Socket } = require("./socket");
const { generateId } = require("../ids");
const { errors, errorMessages, nativeErrorCodes, abortRequest, abortUpgrade } = require("./errors");
const { HandedOffConnections, descriptorOf, handOver, validateUpgradeRequest } = require("./websocket-handoff");

const EVENT_MESSAGE = 0;
const EVENT_CLOSE = 1;
const EVENT_UPGRADING = 2;
const EVENT_UPGRADE = 3;
const EVENT_PACKET = 4;
const EVENT_PACKET_CREATE = 5;
const EVENT_POLL_ANSWER = 6;
const EVENT_SOCKETIO_PACKET = 7;
const EVENT_SOCKETIO_PARSE_ERROR = 8;
const EVENT_CONNECTION_CLOSED = 9;
/** The events that carry what a client sent. */
const CLIENT_INPUT = new Set([EVENT_MESSAGE, EVENT_PACKET, EVENT_SOCKETIO_PACKET, EVENT_SOCKETIO_PARSE_ERROR]);

const kResponseHeaders = Symbol("responseHeaders");
const kSessionId = Symbol("sessionId");
const kRemoteAddress = Symbol("remoteAddress");

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
    /** Engine sockets by the handle Rust names their session with in events. */
    this._byHandle = new Map();
    this._handedOff = new HandedOffConnections();
    this.clientsCount = 0;
    this.middlewares = [];
    /** Counts flushes: a socket sent to in the current turn is busy (see Socket#_writable). */
    this._turn = 0;
    this._broadcastTurn = -1;
    /** Set once any socket listens to `packetCreate`: broadcasts then report every packet in JS. */
    this._packetCreateListened = false;
    this._flushScheduled = false;
    this._flush = () => {
      this._flushScheduled = false;
      this._turn++;
      this._native.flush();
    };
    this.opts = Object.assign({}, DEFAULTS, opts);
    if (opts.cookie) {
      this.opts.cookie = Object.assign(
        { name: "io", path: "/", httpOnly: true, sameSite: "lax" },
        opts.cookie,
      );
    }
    if (this.opts.cors) this.use(require("cors")(this.opts.cors));
    /** The size from which WebSocket messages are compressed; undefined: perMessageDeflate off. */
    this._deflateThreshold = opts.perMessageDeflate
      ? Object.assign({ threshold: 1024 }, opts.perMessageDeflate).threshold
      : undefined;
    this._native = new BindingEngine(
      {
        pingInterval: this.opts.pingInterval,
        pingTimeout: this.opts.pingTimeout,
        upgradeTimeout: this.opts.upgradeTimeout,
        maxHttpBufferSize: this.opts.maxHttpBufferSize,
        allowUpgrades: this.opts.allowUpgrades,
        websocket: this.opts.transports.includes("websocket"),
        recovery: this.opts.connectionStateRecovery
          ? {
              maxDisconnectionDuration: this.opts.connectionStateRecovery.maxDisconnectionDuration,
              maxBufferedBytes: this.opts.connectionStateRecovery.maxBufferedBytes,
            }
          : undefined,
      },
      () => this._drainEvents(),
    );
  }

  use(fn) {
    this.middlewares.push(fn);
  }

  /**
   * Queues a Socket.IO packet, `[nsp, type, ackId, json, attachments, stored]` (BindingPacket in
   * src/binding/engine.rs), to sessions named by their handles (a Float64Array: numbers cross to
   * Rust without a conversion per recipient).
   */
  _sendPacket(handles, packet) {
    this._scheduleFlush();
    if (this._native.sendPacket(handles, packet) > 0) this._answerPolls();
  }

  /**
   * Queues a Socket.IO packet to the connected sockets of its namespace in any of `rooms` (all
   * when empty) and in none of `except`, as Rust's room index finds them.
   */
  _broadcast(rooms, except, packet) {
    this._scheduleFlush();
    // Which sockets got it is not known here: all are busy for volatile packets this turn.
    this._broadcastTurn = this._turn;
    if (this._native.broadcast(rooms, except, packet) > 0) this._answerPolls();
  }

  /** Queues a raw engine message to one session. */
  _sendMessage(handle, data) {
    this._scheduleFlush();
    if (this._native.send(handle, data) > 0) this._answerPolls();
  }

  /**
   * Queues to a session what it missed since `offset` (connection-state recovery); returns the
   * offset of the last packet queued (`offset` when none), or null when that cannot be done.
   */
  _replay(handle, nsp, offset, rooms) {
    this._scheduleFlush();
    const lastReplayed = this._native.replay(handle, nsp, offset, rooms);
    this._answerPolls();
    return lastReplayed;
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
    for (const [handle, body] of this._native.takePollAnswers()) {
      const socket = this._byHandle.get(handle);
      if (!socket) continue;
      try {
        this._answerPoll(socket, body);
      } catch (error) {
        this._faulted(socket, error, faults);
      }
    }
  }

  _answerPoll(socket, body) {
    const res = socket._pendingGet;
    if (!res) return;
    socket._pendingGet = null;
    try {
      this._respond(socket, socket._pendingGetRequest, res, body);
    } catch (error) {
      // Left unanswered, the GET would hang the client: it fails, and the client learns.
      res.destroy();
      throw error;
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

  /**
   * Rust queues what JS sends without waking the connections' writers; they are woken once, after
   * this event-loop turn, so that a turn's packets leave each connection in one write.
   */
  _scheduleFlush() {
    if (this._flushScheduled) return;
    this._flushScheduled = true;
    setImmediate(this._flush);
  }

  /** Marks a socket written to in this turn: it is not writable until the turn's flush. */
  _markBusy(socket) {
    socket._sentInTurn = this._turn;
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
    for (const sid of Object.keys(this.clients)) this.clients[sid].close(true);
    return this;
  }

  /** Hooks this engine into an HTTP server, leaving requests outside `path` to their listeners. */
  attach(server, options = {}) {
    let path = (options.path || "/engine.io").replace(/\/$/, "");
    if (options.addTrailingSlash !== false) path += "/";
    const destroyUpgradeTimeout = options.destroyUpgradeTimeout || 1000;
    const check = (req) => path === req.url.slice(0, path.length);

    const listeners = server.listeners("request").slice(0);
    server.removeAllListeners("request");
    server.on("close", this.close.bind(this));
    server.on("request", (req, res) => {
      if (check(req)) {
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
    prepare(req);
    req.res = res;
    const callback = (code, context) => {
      if (code !== undefined) {
        this.emit("connection_error", { req, code, message: errorMessages[code], context });
        abortRequest(res, code, context);
        return;
      }
      if (req._query.sid) {
        this._onPollingRequest(this.clients[req._query.sid], req, res);
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
    // Read now: once the connection is handed to Rust, Node's socket no longer knows it.
    req[kRemoteAddress] = socket.remoteAddress;
    // Node must not read what now belongs to the WebSocket; Rust will (unless the connection is
    // bridged, when Node keeps reading it for Rust).
    if (descriptorOf(socket) >= 0) socket._handle.readStop();
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
        this._handOver(req, socket, head, sid, true);
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
      return fn(errors.UNKNOWN_TRANSPORT, { transport });
    }
    if (checkInvalidHeaderChar(req.headers.origin)) {
      const origin = req.headers.origin;
      req.headers.origin = null;
      return fn(errors.BAD_REQUEST, { name: "INVALID_ORIGIN", origin });
    }
    const sid = req._query.sid;
    if (sid) {
      if (!Object.prototype.hasOwnProperty.call(this.clients, sid)) {
        return fn(errors.UNKNOWN_SID, { sid });
      }
      const client = this.clients[sid];
      const previousTransport = client.transport.name;
      if (!upgrade && previousTransport !== transport) {
        return fn(errors.BAD_REQUEST, { name: "TRANSPORT_MISMATCH", transport, previousTransport });
      }
      const protocol = req._query.EIO === "4" ? 4 : 3;
      if (client.protocol !== protocol) {
        return fn(errors.BAD_REQUEST, { name: "PROTOCOL_MISMATCH", protocol, previousProtocol: client.protocol });
      }
    } else {
      if (req.method !== "GET") return fn(errors.BAD_HANDSHAKE_METHOD, { method: req.method });
      if (transport === "websocket" && !upgrade) {
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
    if (this.middlewares.length === 0) return callback();
    const apply = (i) => {
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
      this.emit("connection_error", {
        req,
        code: errors.BAD_REQUEST,
        message: errorMessages[errors.BAD_REQUEST],
        context: { name: "ID_GENERATION_ERROR", error },
      });
      closeConnection(errors.BAD_REQUEST);
      return;
    }
    req[kSessionId] = id;
    if (transportName === "polling") {
      const socket = this._register(id, "polling", req, this._native.openPolling(id, protocol), protocol);
      this._onPollingRequest(socket, req, req.res);
      this.emit("connection", socket);
    } else {
      const handle = this._handOver(req, upgrade.socket, upgrade.head, id, false, protocol);
      if (handle === null) return;
      this.emit("connection", this._register(id, "websocket", req, handle, protocol));
    }
  }

  _register(id, transportName, req, handle, protocol) {
    const remoteAddress = req[kRemoteAddress] || (req.socket && req.socket.remoteAddress);
    const socket = new Socket(id, this, transportName, req, remoteAddress, handle, protocol);
    this.clients[id] = socket;
    this._byHandle.set(handle, socket);
    this.clientsCount++;
    socket.once("close", () => {
      delete this.clients[id];
      this._byHandle.delete(handle);
      this.clientsCount--;
    });
    return socket;
  }

  /**
   * Passes the upgraded connection to Rust: the new session's handle (0 for an upgrade), or null
   * (and the connection refused) if it cannot be.
   */
  _handOver(req, socket, head, sid, isUpgrade, protocol) {
    // Gone while the request was verified (a reset): nothing to hand over, as upstream's `ws`
    // refuses a socket that is no longer readable and writable.
    if (socket.destroyed) return null;
    const extraHeaders = req[kResponseHeaders] || {};
    delete req[kResponseHeaders];
    if (!req._query.sid) this.emit("initial_headers", extraHeaders, req);
    this.emit("headers", extraHeaders, req);
    try {
      return handOver(this._native, this._handedOff, req, socket, head, extraHeaders, {
        sid,
        isUpgrade,
        protocol,
        deflateThreshold: this._deflateThreshold,
      });
    } catch (error) {
      this.emit("connection_error", {
        req,
        code: errors.BAD_REQUEST,
        message: errorMessages[errors.BAD_REQUEST],
        context: { name: "TRANSPORT_HANDSHAKE_ERROR", error },
      });
      abortUpgrade(socket, errors.BAD_REQUEST);
      return null;
    }
  }

  _onPollingRequest(socket, req, res) {
    if (req.method === "GET") this._onPoll(socket, req, res);
    else if (req.method === "POST") this._onData(socket, req, res);
    else {
      res.writeHead(500);
      res.end();
    }
  }

  _onPoll(socket, req, res) {
    let body;
    try {
      body = this._native.poll(socket.id);
    } catch (err) {
      this._refuse(req, res, err);
      return;
    }
    if (body !== null) {
      this._respond(socket, req, res, body);
      return;
    }
    socket._pendingGet = res;
    socket._pendingGetRequest = req;
    res.once("close", () => {
      if (socket._pendingGet === res) {
        socket._pendingGet = null;
        this._native.requestAborted(socket.id, "poll connection closed prematurely");
      }
    });
  }

  _onData(socket, req, res) {
    if (socket._postInFlight) {
      this._native.requestAborted(socket.id, "data request overlap from client");
      res.writeHead(400);
      res.end();
      return;
    }
    // Binary POST bodies exist in Engine.IO v3 only.
    const isBinary = req.headers["content-type"] === "application/octet-stream";
    if (isBinary && socket.protocol === 4) {
      this._native.requestAborted(socket.id, "invalid content");
      res.writeHead(400);
      res.end();
      return;
    }
    socket._postInFlight = true;
    const limit = this.opts.maxHttpBufferSize;
    let body = "";
    const buffers = [];
    let length = 0;
    let done = false;
    const finish = () => {
      done = true;
      socket._postInFlight = false;
      req.removeListener("data", onData);
    };
    const onData = (chunk) => {
      length += Buffer.byteLength(chunk);
      if (length > limit) {
        finish();
        res.writeHead(413).end();
        return;
      }
      if (isBinary) buffers.push(chunk);
      else body += chunk;
    };
    if (!isBinary) req.setEncoding("utf8");
    req.on("data", onData);
    req.once("end", () => {
      if (done) return;
      finish();
      try {
        this._native.post(socket.id, isBinary ? Buffer.concat(buffers, length) : body);
      } catch (err) {
        this._refuse(req, res, err);
        return;
      }
      const headers = { "Content-Type": "text/html", "Content-Length": "2" };
      res.writeHead(200, this._pollingHeaders(req, headers));
      res.end("ok");
    });
    req.once("close", () => {
      if (done) return;
      finish();
      this._native.requestAborted(socket.id, "data request connection closed prematurely");
    });
  }

  _refuse(req, res, err) {
    const code = nativeErrorCodes[err.message];
    if (code === undefined) throw err;
    this.emit("connection_error", { req, code, message: errorMessages[code], context: {} });
    if (err.message === "OVERLAP") {
      res.writeHead(400);
      res.end();
    } else {
      abortRequest(res, code);
    }
  }

  /** Answers a long-poll GET, compressed as upstream's `httpCompression` says. */
  _respond(socket, req, res, body) {
    const headers = { "Content-Type": "text/plain; charset=UTF-8" };
    const send = (data) => {
      headers["Content-Length"] = Buffer.byteLength(data);
      res.writeHead(200, this._pollingHeaders(req, headers));
      res.end(data);
    };
    const compression = this.opts.httpCompression;
    const encoding =
      compression && Buffer.byteLength(body) >= (compression.threshold ?? 1024)
        ? accepts(req).encodings(["gzip", "deflate"])
        : false;
    if (!encoding) return send(body);
    zlib[encoding === "gzip" ? "gzip" : "deflate"](body, compression, (err, compressed) => {
      if (err) {
        res.writeHead(500);
        res.end();
        return;
      }
      headers["Content-Encoding"] = encoding;
      send(compressed);
    });
  }

  /** Response headers of a polling request, after the user's `initial_headers`/`headers` hooks. */
  _pollingHeaders(req, headers) {
    const ua = req.headers["user-agent"];
    if (ua && (ua.includes(";MSIE") || ua.includes("Trident/"))) headers["X-XSS-Protection"] = "0";
    headers["cache-control"] = "no-store";
    if (!req._query.sid) {
      if (this.opts.cookie) {
        const { serialize } = require("cookie");
        headers["Set-Cookie"] = [serialize(this.opts.cookie.name, req[kSessionId], this.opts.cookie)];
      }
      this.emit("initial_headers", headers, req);
    }
    this.emit("headers", headers, req);
    return headers;
  }

  _packetListenerAdded() {
    this._native.setPacketsListened(true);
  }

  _messageListenerAdded() {
    this._native.setMessagesListened(true);
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
    // Sessions closed for a fault in this batch: the rest of what their clients sent is dropped,
    // as upstream reads nothing more from a connection whose handler threw.
    let faulted = null;
    this._answerTakenPolls(faults);
    for (const event of this._native.drainEvents()) {
      if (faulted !== null && CLIENT_INPUT.has(event[0]) && faulted.has(event[1])) continue;
      try {
        this._dispatch(event);
      } catch (error) {
        const socket = event[0] === EVENT_CONNECTION_CLOSED ? undefined : this._byHandle.get(event[1]);
        this._faulted(socket, error, faults);
        if (socket) (faulted ??= new Set()).add(event[1]);
      }
    }
    for (const error of faults) setImmediate(rethrow, error);
  }

  /**
   * One event, an array (see src/binding/events.rs):
   * [kind, session handle, text, binary, detail, packet type, ack id, attachments].
   */
  _dispatch(event) {
    if (event[0] === EVENT_CONNECTION_CLOSED) {
      this._handedOff.release(event[1]);
      return;
    }
    const socket = this._byHandle.get(event[1]);
    if (!socket) return;
    const text = event[2];
    switch (event[0]) {
      case EVENT_SOCKETIO_PACKET:
        // [.., JSON data, _, namespace, packet type, ack id, attachments]
        if (socket._onSocketIoPacket) socket._onSocketIoPacket(event[5], event[4], event[6], text, event[7]);
        break;
      case EVENT_MESSAGE:
        socket._onMessage(text !== undefined && text !== null ? text : event[3]);
        break;
      case EVENT_POLL_ANSWER:
        this._answerPoll(socket, text);
        break;
      case EVENT_SOCKETIO_PARSE_ERROR:
        if (socket._onSocketIoParseError) socket._onSocketIoParseError(text);
        break;
      case EVENT_CLOSE: {
        // After the packets of this batch already scheduled on the tick queue, as when the
        // close arrives in an I/O callback of its own upstream.
        const description = event[4] ? new Error(event[4]) : undefined;
        process.nextTick(() => socket._onClose(text, description));
        break;
      }
      case EVENT_UPGRADING:
        socket._onUpgrading();
        break;
      case EVENT_UPGRADE:
        socket._onUpgrade();
        break;
      case EVENT_PACKET:
      case EVENT_PACKET_CREATE: {
        const packet = { type: text };
        const data = event[3] || event[4];
        if (data !== undefined && data !== null) packet.data = data;
        socket.emit(event[0] === EVENT_PACKET ? "packet" : "packetCreate", packet);
        if (event[0] === EVENT_PACKET && packet.type === "pong") socket.emit("heartbeat");
        break;
      }
    }
  }
}

Server.errors = errors;
Server.errorMessages = errorMessages;

/** Collects headers set by middlewares (e.g. cors) during a WebSocket upgrade. */
class WebSocketResponse {
  constructor(req, socket) {
    this.req = req;
    this.socket = socket;
    req[kResponseHeaders] = {};
  }

  setHeader(name, value) {
    this.req[kResponseHeaders][name] = value;
  }

  getHeader(name) {
    return this.req[kResponseHeaders][name];
  }

  removeHeader(name) {
    delete this.req[kResponseHeaders][name];
  }

  write() {}

  writeHead() {}

  end() {
    this.socket.destroy();
  }
}

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

function prepare(req) {
  if (!req._query) {
    const url = new URL(req.url, "https://socket.io");
    req._query = Object.fromEntries(url.searchParams.entries());
  }
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
