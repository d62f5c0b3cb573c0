/**
 * The WebSocket transport, as upstream engine.io's `transports/websocket`: an HTTP upgrade's
 * connection is handed to Rust, which answers `101` and runs the WebSocket.
 */
"use strict";

const crypto = require("node:crypto");
const net = require("node:net");
const debug = require("debug")("engine");
const { errors, errorMessages, abortUpgrade } = require("../errors");
const { share } = require("../shared-strings");
const { descriptorOf } = require("../handed-off");

const kResponseHeaders = Symbol("responseHeaders");
const kHandedOffSocket = Symbol("handedOffSocket");

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/** The checks the `ws` package makes before it accepts a handshake. */
function validateUpgradeRequest(req) {
  const upgrade = req.headers.upgrade;
  const version = Number(req.headers["sec-websocket-version"]);
  return (
    req.method === "GET" &&
    typeof upgrade === "string" &&
    upgrade.toLowerCase() === "websocket" &&
    KEY_PATTERN.test(req.headers["sec-websocket-key"] || "") &&
    (version === 8 || version === 13)
  );
}

/**
 * Whether the client offers permessage-deflate in a form this server speaks: any offer that does
 * not cap the server's window below the default (Rust compresses with a 32 KiB window).
 */
function acceptsDeflate(req) {
  const offers = String(req.headers["sec-websocket-extensions"] || "").split(",");
  return offers.some((offer) => {
    const [name, ...params] = offer.split(";").map((part) => part.trim());
    return name === "permessage-deflate" && !params.some((p) => /^server_max_window_bits=(?!15$)/.test(p));
  });
}

function switchingProtocols(req, extraHeaders, deflate) {
  const accept = crypto
    .createHash("sha1")
    .update(req.headers["sec-websocket-key"] + WEBSOCKET_GUID)
    .digest("base64");
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  // Each server message is compressed on its own; the client keeps its context if it wants.
  if (deflate) lines.push("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover");
  for (const [name, value] of Object.entries(extraHeaders)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

/**
 * What `req.socket` (and `req.connection`) of a request whose connection was handed to Rust by
 * its descriptor reads: the addresses users read from it. The destroyed net.Socket would keep its
 * stream states, buffers and Node's HTTP listeners alive for as long as `socket.request` lives
 * (~1.5 KB per connection); upstream's socket there is the live one of its WebSocket.
 */
class HandedOffSocket {
  /** Reads the addresses while `socket` still has its descriptor. */
  constructor(socket) {
    const peer = socket._getpeername();
    const local = socket._getsockname();
    this.remoteAddress = peer.address;
    this.remoteFamily = peer.family;
    this.remotePort = peer.port;
    // The server's own address, the same for all its connections.
    this.localAddress = share(local.address);
    this.localFamily = local.family;
    this.localPort = local.port;
    // As the destroyed socket's: `req.destroy()` leaves a destroyed socket alone.
    this.destroyed = true;
  }

  /** As net.Socket's: the local end. */
  address() {
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }
}

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

/**
 * Passes the upgraded connection of `req` to Rust for the session `session.sid` (a new one, or
 * an upgrade of a polling one when `session.isUpgrade`), after the user's `initial_headers` /
 * `headers` hooks. Returns the new session's handle (0 for an upgrade), or null (and the
 * connection refused) if it cannot be.
 *
 * @param {import("../server").Server} server
 */
function handOver(server, req, socket, head, session) {
  // Gone while the request was verified (a reset): nothing to hand over, as upstream's `ws`
  // refuses a socket that is no longer readable and writable.
  if (socket.destroyed) return null;
  const extraHeaders = req[kResponseHeaders] || {};
  delete req[kResponseHeaders];
  if (!req._query.sid) server.emit("initial_headers", extraHeaders, req);
  server.emit("headers", extraHeaders, req);
  debug("writing headers: %j", extraHeaders);
  try {
    return transfer(server.native, server._handedOff, req, socket, head, extraHeaders, session);
  } catch (error) {
    server.emit("connection_error", {
      req,
      code: errors.BAD_REQUEST,
      message: errorMessages[errors.BAD_REQUEST],
      context: { name: "TRANSPORT_HANDSHAKE_ERROR", error },
    });
    abortUpgrade(socket, errors.BAD_REQUEST);
    return null;
  }
}

/**
 * Hands the upgraded connection to Rust, which answers 101 and runs the WebSocket. A plain TCP
 * connection is handed over by its descriptor: Rust duplicates it, and Node closing its own
 * (socket.destroy) leaves the connection up, since closing a duplicated descriptor sends no FIN;
 * `handedOff` keeps it counted by its server meanwhile. A connection Node must keep (TLS: Node
 * decrypts) is bridged instead: Rust speaks through one end of a socket pair, and Node pipes the
 * connection to the other. Returns the new session's handle (0 for an upgrade, whose session
 * already has one).
 */
function transfer(native, handedOff, req, socket, head, extraHeaders, session) {
  let bytes = head;
  const buffered = socket.read();
  if (buffered) bytes = Buffer.concat([head, buffered]);
  // `session.deflateThreshold` is set when the server enables perMessageDeflate.
  const threshold = session.deflateThreshold !== undefined && acceptsDeflate(req) ? session.deflateThreshold : undefined;
  const response = switchingProtocols(req, extraHeaders, threshold !== undefined);
  const fd = descriptorOf(socket);
  const handoff = { fd, head: bytes, response, deflateThreshold: threshold, connection: handedOff.nextId() };
  let handle = 0;
  let bridge;
  if (session.isUpgrade) bridge = native.upgradeWebsocket(handoff, session.sid);
  else [handle, bridge] = native.openWebsocket(handoff, session.sid, session.protocol);
  if (fd >= 0) {
    // Before the destroy: the server must not see a moment without the connection.
    handedOff.hold(handoff.connection, socket);
    socket.destroy();
    // `client` is IncomingMessage's old name for its socket.
    req.socket = req.client = req[kHandedOffSocket];
    delete req[kHandedOffSocket];
  } else {
    pipeTo(socket, bridge);
  }
  return handle;
}

function pipeTo(socket, bridgeFd) {
  const bridge = new net.Socket({ fd: bridgeFd, readable: true, writable: true });
  const closeBoth = () => {
    socket.destroy();
    bridge.destroy();
  };
  for (const end of [socket, bridge]) {
    end.on("error", closeBoth);
    end.on("close", closeBoth);
  }
  socket.pipe(bridge);
  bridge.pipe(socket);
}

/**
 * Readies `socket` of an upgrade request for its hand-off to Rust: Node must not read what now
 * belongs to the WebSocket (unless the connection is bridged, when Node keeps reading it for
 * Rust), and its addresses are read now, before a reset during the request's checks could lose
 * them (see HandedOffSocket).
 */
function prepareHandOff(req, socket) {
  if (descriptorOf(socket) < 0) return;
  socket._handle.readStop();
  req[kHandedOffSocket] = new HandedOffSocket(socket);
}

module.exports = {
  WebSocketResponse,
  handOver,
  prepareHandOff,
  validateUpgradeRequest,
};
