/** `Client`: one Engine.IO connection and the namespace sockets multiplexed on it (socket.io/lib/client.ts). */
"use strict";

const url = require("node:url");
const debug = require("debug")("socket.io:client");
const { PacketType, encodeData, encodeText, decodeData, parseData, encodesInJs } = require("./parser");
const { NamespaceSockets } = require("./namespace-sockets");

/** Every connection's `close` listener (`this` is the connection): it tells the connection's Client. */
function onConnectionClose(reason, description) {
  const client = this._ioClient;
  if (client) client.onclose(reason, description);
}

class Client {
  /**
   * @param {import("./server").Server} server
   * @param {import("./engine/socket").Socket} conn
   */
  constructor(server, conn) {
    this.server = server;
    this.conn = conn;
    this.id = conn.id;
    /** The namespace sockets of this connection by namespace name (`sockets` names them by id). */
    this.nsps = new NamespaceSockets();
    conn.on("close", onConnectionClose);
    conn._ioClient = this;
    if (server._wireFormat !== "default") {
      // What Rust does not decode goes to the parser's own Decoder, as upstream's `ondata`.
      this.decoder = new server._parser.Decoder();
      this._onDecoderPacket = (packet) => this._route(packet);
      this.decoder.on("decoded", this._onDecoderPacket);
    }
    this.connectTimeout = setTimeout(() => {
      this.connectTimeout = undefined;
      if (this.nsps.size === 0) {
        debug("no namespace joined yet, close the client");
        this.close();
      } else {
        debug("the client has already joined a namespace, nothing to do");
      }
    }, server._connectTimeout);
    // Socket.IO v2 clients (Engine.IO v3) are in the main namespace without asking.
    if (conn.protocol === 3) this.connect("/");
  }

  /**
   * Upstream's map of this connection's sockets by id, made from `nsps` when read: one map per
   * connection fewer (~250 bytes), and the two can never disagree.
   */
  get sockets() {
    const sockets = new Map();
    for (const socket of this.nsps.values()) sockets.set(socket.id, socket);
    return sockets;
  }

  get request() {
    return this.conn.request;
  }

  connect(name, auth = {}) {
    if (this.server._nsps.has(name)) {
      debug("connecting to namespace %s", name);
      return this.doConnect(name, auth);
    }
    this.server._checkNamespace(name, auth, (dynamicNsp) => {
      if (dynamicNsp) {
        this.doConnect(name, auth);
      } else {
        debug("creation of namespace %s was denied", name);
        this._packet({
          type: PacketType.CONNECT_ERROR,
          nsp: name,
          data: { message: "Invalid namespace" },
        });
      }
    });
  }

  doConnect(name, auth) {
    const nsp = this.server.of(name);
    nsp._add(this, auth, (socket) => {
      this.nsps.set(nsp.name, socket);
      if (this.connectTimeout) {
        clearTimeout(this.connectTimeout);
        this.connectTimeout = undefined;
      }
    });
  }

  /** A message for the parser's own Decoder (only when the server's parser decodes in JS). */
  _onundecoded(data) {
    if (!this.decoder) return;
    try {
      this.decoder.add(data);
    } catch (err) {
      debug("invalid packet format");
      this.onerror(err);
    }
  }

  /** A packet Rust could not decode. */
  _onparseerror(message) {
    debug("invalid packet format");
    this.onerror(new Error(message));
  }

  /** Disconnects every namespace socket, then the connection. */
  _disconnect() {
    for (const socket of this.nsps.values()) socket.disconnect();
    this.nsps.clear();
    this.close();
  }

  _remove(socket) {
    if (this.nsps.get(socket.nsp.name) === socket) {
      this.nsps.delete(socket.nsp.name);
    } else {
      debug("ignoring remove for %s", socket.id);
    }
  }

  close() {
    if (this.conn.readyState === "open") {
      debug("forcing transport close");
      this.conn.close();
      this.onclose("forced server close");
    }
  }

  /** Encodes and queues one packet to this connection (Rust frames it). */
  _packet(packet, opts = {}) {
    if (this.conn.readyState !== "open") {
      debug("ignoring packet write %j", packet);
      return;
    }
    if (opts.volatile && !this.conn._writable) {
      debug("volatile packet is discarded since the transport is not currently writable");
      return;
    }
    const native = this.server.engine.native;
    const nsp = packet.nsp || "/";
    native.markBusy(this.conn);
    if (encodesInJs(this.server, packet.data, this.conn._packetCreateListened)) {
      const encoded = this.server.encoder.encode(packet);
      if (this.conn._packetCreateListened) {
        this.conn._socketIoPacketCreated(encoded[0], encoded.slice(1), opts.compress !== false);
      }
      native.sendEncoded(this.conn._target, nsp, encoded, undefined);
      return;
    }
    const { type, json, attachments } = encodeData(packet.type, packet.data);
    if (this.conn._packetCreateListened) {
      const text = encodeText(type, attachments, nsp, packet.id, json);
      this.conn._socketIoPacketCreated(text, attachments, opts.compress !== false);
    }
    const queued =
      attachments === null &&
      this.conn._transportName === "websocket" &&
      native.queuePacket(this.conn._handle, nsp, type, packet.id, json);
    if (!queued) native.sendPacket(this.conn._target, [nsp, type, packet.id, json, attachments, undefined]);
  }

  /**
   * Raw engine data. Packets are decoded in Rust and arrive through `_ondecoded`; what reaches this
   * path is data no decoder accepts, and upstream's answer to it is an error and a close.
   */
  ondata(data) {
    debug("invalid packet format");
    this.onerror(new Error("Unknown type: " + (data === null ? "null" : typeof data)));
  }

  /** Writes packets already encoded by `io.encoder` (the path of socket.io-adapter's adapters). */
  writeToEngine(encodedPackets, opts = {}) {
    if (opts.volatile && !this.conn._writable) {
      debug("volatile packet is discarded since the transport is not currently writable");
      return;
    }
    for (const encoded of Array.isArray(encodedPackets) ? encodedPackets : [encodedPackets]) {
      this.conn.write(encoded, opts);
    }
  }

  /**
   * A Socket.IO packet whose framing Rust decoded; its JSON data is parsed and checked here
   * (msgpack packets were checked in Rust, as socket.io-msgpack-parser checks them).
   */
  _ondecoded(type, nsp, id, json, attachments) {
    let data;
    try {
      data =
        this.server._wireFormat === "msgpack" ? parseData(json, attachments) : decodeData(type, json, attachments);
    } catch (err) {
      debug("invalid packet format");
      this.onerror(err);
      return;
    }
    const packet = { type, nsp, data };
    if (id !== undefined && id !== null) packet.id = id;
    this._route(packet);
  }

  /** A decoded packet to its namespace socket (upstream's `ondecoded`). */
  _route(packet) {
    let namespace = packet.nsp;
    let auth = packet.data;
    if (this.conn.protocol === 3) {
      // v2 clients put their query in the namespace: it is their auth.
      const parsed = url.parse(packet.nsp, true);
      namespace = parsed.pathname;
      auth = parsed.query;
    }
    const socket = this.nsps.get(namespace);
    if (!socket && packet.type === PacketType.CONNECT) {
      this.connect(namespace, auth);
    } else if (socket && packet.type !== PacketType.CONNECT && packet.type !== PacketType.CONNECT_ERROR) {
      process.nextTick(() => socket._onpacket(packet));
    } else {
      debug("invalid state (packet type: %s)", packet.type);
      this.close();
    }
  }

  onerror(err) {
    for (const socket of this.nsps.values()) socket._onerror(err);
    this.conn.close();
  }

  onclose(reason, description) {
    debug("client close with reason %s", reason);
    this.conn.removeListener("close", onConnectionClose);
    this.conn._ioClient = null;
    if (this.decoder) {
      this.decoder.removeListener("decoded", this._onDecoderPacket);
      this.decoder.destroy();
    }
    if (this.connectTimeout) {
      clearTimeout(this.connectTimeout);
      this.connectTimeout = undefined;
    }
    for (const socket of this.nsps.values()) socket._onclose(reason, description);
    this.nsps.clear();
  }
}

module.exports = { Client };
