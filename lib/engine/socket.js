/** An Engine.IO session as JS sees it (upstream engine.io's `Socket`); the session lives in Rust. */
"use strict";

const { EventEmitter } = require("node:events");
const debug = require("debug")("engine:socket");
const { Transport, logTransportClosed } = require("./transport");

// "heartbeat" is derived from incoming pong packets, so it needs them forwarded too.
const PACKET_EVENTS = new Set(["packet", "packetCreate", "heartbeat"]);
const MESSAGE_EVENTS = new Set(["message", "data"]);

/**
 * The one-recipient target list of a packet sent to one socket: every socket shares it, as each
 * send reads it synchronously (an array per socket cost ~250 bytes per connection).
 */
const singleTarget = new Float64Array(1);

/** Forwards the engine events a listener is added for; shared by every socket (`this` is it). */
function onNewListener(event) {
  if (event === "packetCreate") this._packetCreateListened = this.server._packetCreateListened = true;
  if (PACKET_EVENTS.has(event)) this.server._packetListenerAdded();
  else if (MESSAGE_EVENTS.has(event)) this.server._messageListenerAdded();
}

class Socket extends EventEmitter {
  /**
   * @param {string} id
   * @param {import("./server").Server} server
   * @param {"polling" | "websocket"} transportName
   * @param {import("http").IncomingMessage} req
   * @param {string} [remoteAddress]
   * @param {number} handle the session's number in Rust
   * @param {3 | 4} protocol the Engine.IO revision (3 only with allowEIO3)
   */
  constructor(id, server, transportName, req, remoteAddress, handle, protocol) {
    super();
    this.id = id;
    this._handle = handle;
    this.server = server;
    this.request = req;
    this.protocol = protocol;
    this.remoteAddress = remoteAddress;
    this._transportName = transportName;
    /** See `transport`. */
    this._transport = null;
    this.upgrading = false;
    this.upgraded = false;
    this._readyState = "open";
    /** The waiting long-poll GET's response, answered when Rust has data. */
    this._pendingGet = null;
    this._pendingGetRequest = null;
    this._postInFlight = false;
    /** The engine's turn in which something was last sent here (volatile packets wait it out). */
    this._sentInTurn = -1;
    /** Set once a `packetCreate` listener is added: checked for every packet sent. */
    this._packetCreateListened = false;
    /** The Socket.IO client bound to this connection, which the engine hands its packets. */
    this._ioClient = null;
    this.on("newListener", onNewListener);
  }

  /** The target list of a packet for this socket alone; valid until the next call. */
  get _target() {
    singleTarget[0] = this._handle;
    return singleTarget;
  }

  get readyState() {
    return this._readyState;
  }

  /**
   * The transport's object, as upstream's `socket.transport`: made when first read, since most
   * sessions never read it (~200 bytes per connection); it is then in the state it would be in.
   */
  get transport() {
    if (this._transport === null) {
      const transport = new Transport(this._transportName, this.id, this.protocol);
      if (this._readyState === "closed") {
        transport._readyState = "closed";
        transport.writable = false;
      }
      this._transport = transport;
    }
    return this._transport;
  }

  set transport(transport) {
    this._transport = transport;
    this._transportName = transport.name;
  }

  send(data, options, callback) {
    return this.write(data, options, callback);
  }

  write(data, options, callback) {
    if (typeof options === "function") callback = options;
    if (this._readyState !== "open") return this;
    const payload = typeof data === "string" || Buffer.isBuffer(data) ? data : toBuffer(data);
    this._packetCreated(payload, !(options && options.compress === false));
    this.server.native.sendMessage(this._handle, payload);
    if (typeof callback === "function") setImmediate(() => callback(this.transport));
    return this;
  }

  /**
   * Whether a volatile packet may be sent now, as upstream's `transport.writable`: polling only
   * while a GET waits, and no transport while a send of this tick is still being written.
   */
  get _writable() {
    const { turn, broadcastTurn } = this.server.native;
    if (this._readyState !== "open" || this._sentInTurn === turn || broadcastTurn === turn) {
      return false;
    }
    return this._transportName === "websocket" || this._pendingGet !== null;
  }

  /**
   * Reports a Socket.IO packet's messages (its text, then each attachment) to `packetCreate`
   * listeners; only called when `_packetCreateListened`.
   */
  _socketIoPacketCreated(text, attachments, compress, wsPreEncodedFrame) {
    this._packetCreated(text, compress, wsPreEncodedFrame);
    if (attachments) for (const attachment of attachments) this._packetCreated(attachment, compress);
  }

  /** Reports a message packet about to be queued, to `packetCreate` listeners only. */
  _packetCreated(data, compress, wsPreEncodedFrame) {
    if (this._packetCreateListened) {
      const options = { compress };
      if (wsPreEncodedFrame) options.wsPreEncodedFrame = wsPreEncodedFrame;
      this.emit("packetCreate", { type: "message", data, options });
    }
  }

  close(discard) {
    if (this._readyState !== "open") return;
    debug("readyState updated from open to closing");
    this._readyState = "closing";
    debug("closing the transport (discard? %s)", !!discard);
    this.server.native.close(this.id, !!discard);
  }

  _onMessage(data) {
    this.emit("data", data);
    this.emit("message", data);
  }

  _onUpgrading() {
    this.upgrading = true;
    this._upgradingTransport = new Transport("websocket", this.id, this.protocol);
    this.emit("upgrading", this._upgradingTransport);
  }

  _onUpgrade() {
    this.upgrading = false;
    this.upgraded = true;
    // Polling is done with, as upstream closes its transport once the WebSocket carries the session.
    this._closeTransport();
    this.transport = this._upgradingTransport || new Transport("websocket", this.id, this.protocol);
    this._upgradingTransport = null;
    this.emit("upgrade", this.transport);
  }

  /** Closes the transport object, or logs what it would have logged if it was never made. */
  _closeTransport() {
    if (this._transport !== null) this._transport.readyState = "closed";
    else logTransportClosed(this._transportName);
  }

  _onClose(reason, description) {
    if (this._readyState === "closed") return;
    debug("readyState updated from %s to closed", this._readyState);
    this._readyState = "closed";
    this._closeTransport();
    if (this._transport !== null) this._transport.writable = false;
    // First, as upstream's server registers its close listener before anyone else can.
    this.server._unregister(this);
    this.emit("close", reason, description);
  }
}

function toBuffer(data) {
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return String(data);
}

module.exports = { Socket };
