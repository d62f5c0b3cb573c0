/**
 * The connections Node's HTTP server handed to Rust (a WebSocket's, a kept-alive polling
 * connection's), as Node keeps seeing them.
 */
"use strict";

const net = require("node:net");

/** Longest timer Node accepts: the keep-alive timer below exists to be pending, not to fire. */
const KEEP_ALIVE_INTERVAL = 2 ** 31 - 1;

/**
 * The connections handed to Rust by descriptor, which Node no longer sees once its socket is
 * destroyed at the hand-off. Upstream's sockets stay Node's, so two things are kept as they would
 * be until Rust reports the connection closed:
 * - its server keeps counting it in `_connections` (a net.Server internal: what
 *   `getConnections()` reports and what `server.close()` waits for before it emits `close`, on
 *   which the engine closes what is left);
 * - the process stays alive, as a socket would keep it (Rust's threads do not).
 */
class HandedOffConnections {
  constructor() {
    /** The server counting each connection (null if none does), by the id Rust reports. */
    this._servers = new Map();
    this._nextId = 1;
    this._keepAlive = null;
  }

  /** An id for a connection about to be handed over. */
  nextId() {
    return this._nextId++;
  }

  /** Keeps connection `id` counted and the process alive after `socket` itself is destroyed. */
  hold(id, socket) {
    // `server`: a socket handed back (below) has no `_server`, which net.Server sets on accepting.
    const server = socket._server || socket.server;
    if (counts(server)) server._connections++;
    this._servers.set(id, server || null);
    if (!this._keepAlive) this._keepAlive = setInterval(() => {}, KEEP_ALIVE_INTERVAL);
  }

  /** Rust closed connection `id`: as for a destroyed socket of Node's own. */
  release(id) {
    if (!this._servers.has(id)) return;
    const server = this._servers.get(id);
    this._servers.delete(id);
    if (this._servers.size === 0) {
      clearInterval(this._keepAlive);
      this._keepAlive = null;
    }
    if (counts(server)) {
      server._connections--;
      server._emitCloseIfDrained();
    }
  }

  /**
   * Rust gives connection `id` back (descriptor `fd`, which Node now owns) for a request it does
   * not serve, with the bytes it read: Node's server reads them first and serves the connection
   * from then on, as one it accepted. It stays counted until that socket closes.
   */
  handBack(id, fd, read) {
    const server = this._servers.get(id);
    const socket = new net.Socket({ fd, readable: true, writable: true });
    socket.once("close", () => this.release(id));
    if (!server) {
      socket.destroy();
      return;
    }
    if (read.length > 0) socket.unshift(read);
    server.emit("connection", socket);
  }
}

/** The descriptor Rust can take over, or -1 for a connection Node must keep (TLS). */
function descriptorOf(socket) {
  const tcp = socket._handle;
  if (socket.encrypted || !tcp || typeof tcp.fd !== "number" || tcp.fd < 0) return -1;
  return tcp.fd;
}

/** Whether `server` is a net.Server that counts its connections (see HandedOffConnections). */
function counts(server) {
  return Boolean(server) && typeof server._connections === "number" && typeof server._emitCloseIfDrained === "function";
}

module.exports = { HandedOffConnections, descriptorOf };
