/** The in-memory adapter: rooms and sids, and broadcast encoded once and fanned out by Rust (socket.io-adapter's `Adapter`). */
"use strict";

const { EventEmitter } = require("node:events");
const { PacketType, encodeData, encodeText, encodesInJs } = require("./parser");

class Adapter extends EventEmitter {
  /** @param {import("./namespace").Namespace} nsp */
  constructor(nsp) {
    super();
    this.nsp = nsp;
    this.rooms = new Map();
    this.sids = new Map();
  }

  init() {}

  close() {}

  serverCount() {
    return Promise.resolve(1);
  }

  /** The engine's Rust core (lib/engine/native-server.js), which mirrors this adapter's rooms. */
  get _rust() {
    return this.nsp.server.engine.native;
  }

  addAll(id, rooms) {
    if (!this.sids.has(id)) this.sids.set(id, new Set());
    this._rust.join(this.nsp.name, id, [...rooms]);
    for (const room of rooms) {
      this.sids.get(id).add(room);
      if (!this.rooms.has(room)) {
        this.rooms.set(room, new Set());
        this.emit("create-room", room);
      }
      if (!this.rooms.get(room).has(id)) {
        this.rooms.get(room).add(id);
        this.emit("join-room", room, id);
      }
    }
  }

  del(id, room) {
    if (this.sids.has(id)) this.sids.get(id).delete(room);
    this._rust.leave(this.nsp.name, id, [room]);
    this._del(room, id);
  }

  _del(room, id) {
    const members = this.rooms.get(room);
    if (members != null) {
      if (members.delete(id)) this.emit("leave-room", room, id);
      if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
    }
  }

  delAll(id) {
    this._rust.disconnectSocket(this.nsp.name, id);
    if (!this.sids.has(id)) return;
    this._rust.leave(this.nsp.name, id, [...this.sids.get(id)]);
    for (const room of this.sids.get(id)) this._del(room, id);
    this.sids.delete(id);
  }

  /** A socket of the namespace is connected: broadcasts reach it from now on. */
  socketConnected(socket) {
    this._rust.connectSocket(this.nsp.name, socket.id, socket.conn._handle);
  }

  /** One native call for all recipients: Rust encodes the packet once and queues it to each. */
  broadcast(packet, opts, stored) {
    const flags = opts.flags || {};
    const engine = this.nsp.server.engine;
    if (!engine) return; // never attached: no client can be connected
    if (
      !flags.volatile &&
      this.nsp._outgoingListenerSockets === 0 &&
      !engine._packetCreateListened &&
      !encodesInJs(this.nsp.server, packet.data, false)
    ) {
      // Nothing to do per recipient in JS: Rust finds them in its room index.
      const { type, json, attachments } = encodeData(packet.type, packet.data);
      engine.native.broadcast([...opts.rooms], [...(opts.except || [])], [
        this.nsp.name,
        type,
        packet.id,
        json,
        attachments,
        stored,
      ]);
      return;
    }
    const recipients = [];
    this.apply(opts, (socket) => {
      if (flags.volatile && !socket.conn._writable) return;
      recipients.push(socket);
    });
    this._send(recipients, packet, flags, stored);
  }

  broadcastWithAck(packet, opts, clientCountCallback, ack) {
    packet.id = this.nsp._ids++;
    const recipients = [];
    this.apply(opts, (socket) => {
      socket.acks.set(packet.id, ack);
      recipients.push(socket);
    });
    this._send(recipients, packet, opts.flags || {});
    clientCountCallback(recipients.length);
  }

  /** `stored` (offset, rooms, except) keeps the packet for connection-state recovery. */
  _send(recipients, packet, flags, stored) {
    if (recipients.length === 0 && !stored) return;
    const engine = this.nsp.server.engine;
    if (encodesInJs(this.nsp.server, packet.data, engine._packetCreateListened)) {
      this._sendEncoded(recipients, packet, flags, stored);
      return;
    }
    const { type, json, attachments } = encodeData(packet.type, packet.data);
    const handles = new Float64Array(recipients.length);
    let text;
    let frame;
    for (let i = 0; i < recipients.length; i++) {
      const socket = recipients[i];
      const conn = socket.conn;
      handles[i] = conn._handle;
      if (stored) socket._lastStoredOffset = stored.offset;
      engine.native.markBusy(conn);
      if (socket._anyOutgoingListeners && socket._anyOutgoingListeners.length) socket.notifyOutgoingListeners(packet);
      if (conn._packetCreateListened) {
        text = text || encodeText(type, attachments, this.nsp.name, packet.id, json);
        // As upstream, a text broadcast reports the WebSocket frame it is sent as (built once in
        // Rust; rebuilt here only for listeners).
        frame = frame || (attachments ? undefined : webSocketTextFrame("4" + text));
        conn._socketIoPacketCreated(text, attachments, flags.compress !== false, frame);
      }
    }
    engine.native.sendPacket(handles, [this.nsp.name, type, packet.id, json, attachments, stored]);
  }

  /** `_send` for a packet the server's parser encodes in JS (see parser.js `encodesInJs`). */
  _sendEncoded(recipients, packet, flags, stored) {
    const engine = this.nsp.server.engine;
    packet.nsp = this.nsp.name;
    const encoded = this.nsp.server.encoder.encode(packet);
    const handles = new Float64Array(recipients.length);
    for (let i = 0; i < recipients.length; i++) {
      const socket = recipients[i];
      handles[i] = socket.conn._handle;
      if (stored) socket._lastStoredOffset = stored.offset;
      engine.native.markBusy(socket.conn);
      if (socket._anyOutgoingListeners && socket._anyOutgoingListeners.length) socket.notifyOutgoingListeners(packet);
      if (socket.conn._packetCreateListened) {
        socket.conn._socketIoPacketCreated(encoded[0], encoded.slice(1), flags.compress !== false);
      }
    }
    engine.native.sendEncoded(handles, this.nsp.name, encoded, stored);
  }

  sockets(rooms) {
    const sids = new Set();
    this.apply({ rooms }, (socket) => sids.add(socket.id));
    return Promise.resolve(sids);
  }

  socketRooms(id) {
    return this.sids.get(id);
  }

  fetchSockets(opts) {
    const sockets = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return Promise.resolve(sockets);
  }

  addSockets(opts, rooms) {
    this.apply(opts, (socket) => socket.join(rooms));
  }

  delSockets(opts, rooms) {
    this.apply(opts, (socket) => rooms.forEach((room) => socket.leave(room)));
  }

  disconnectSockets(opts, close) {
    this.apply(opts, (socket) => socket.disconnect(close));
  }

  apply(opts, callback) {
    const rooms = opts.rooms || new Set();
    const except = this.computeExceptSids(opts.except);
    if (rooms.size) {
      const ids = new Set();
      for (const room of rooms) {
        if (!this.rooms.has(room)) continue;
        for (const id of this.rooms.get(room)) {
          if (ids.has(id) || except.has(id)) continue;
          const socket = this.nsp.sockets.get(id);
          if (socket) {
            callback(socket);
            ids.add(id);
          }
        }
      }
    } else {
      for (const [id] of this.sids) {
        if (except.has(id)) continue;
        const socket = this.nsp.sockets.get(id);
        if (socket) callback(socket);
      }
    }
  }

  computeExceptSids(exceptRooms) {
    const exceptSids = new Set();
    if (exceptRooms && exceptRooms.size > 0) {
      for (const room of exceptRooms) {
        const members = this.rooms.get(room);
        if (members) members.forEach((sid) => exceptSids.add(sid));
      }
    }
    return exceptSids;
  }

  /** A single node has no other server: events go nowhere, acks get no responses. */
  serverSideEmit(packet) {
    if (typeof packet[packet.length - 1] === "function") packet.pop()(null, []);
  }

  persistSession() {}

  restoreSession() {
    return Promise.resolve(null);
  }
}

/**
 * The adapter used with `connectionStateRecovery`: broadcast EVENTs without ack and not volatile
 * carry an offset and are kept (in Rust) for replay; sessions of sockets that dropped
 * unexpectedly are kept here until `maxDisconnectionDuration` has passed.
 */
class SessionAwareAdapter extends Adapter {
  constructor(nsp) {
    super(nsp);
    this.maxDisconnectionDuration = nsp.server.opts.connectionStateRecovery.maxDisconnectionDuration;
    this.sessions = new Map();
    this._sweep = setInterval(() => {
      const threshold = Date.now() - this.maxDisconnectionDuration;
      for (const [pid, session] of this.sessions) {
        if (session.disconnectedAt < threshold) this.sessions.delete(pid);
      }
    }, 60 * 1000);
    this._sweep.unref();
  }

  close() {
    clearInterval(this._sweep);
  }

  persistSession(session) {
    const socket = this.nsp.sockets.get(session.sid);
    this.sessions.set(session.pid, {
      ...session,
      startOffset: socket && socket._startOffset,
      // Whatever path they took (Rust's room index, JS, a replay), the last stored packet sent
      // to the socket, and the newest offset at its disconnection (see restoreSession).
      lastStoredOffset: Math.max(
        (socket && socket._lastStoredOffset) || 0,
        this._rust.lastStoredOffset(this.nsp.name, session.sid),
      ),
      disconnectOffset: this.nsp.server._currentOffset(),
      disconnectedAt: Date.now(),
    });
  }

  /**
   * Restores a session once, synchronously (no packet can be broadcast between this answer and
   * the replay): what the client missed since `offset` (or, with no offset, since its
   * connection began) is queued by Rust when the socket is rebuilt (`replayMissedPackets`),
   * ahead of anything else. Null for a fresh session.
   */
  restoreSession(pid, offset) {
    const session = this.sessions.get(pid);
    if (!session) return null;
    if (session.disconnectedAt + this.maxDisconnectionDuration < Date.now()) {
      this.sessions.delete(pid);
      return null;
    }
    let from = offset === undefined ? session.startOffset : parseOffset(offset);
    if (from === null || from === undefined) return null;
    // A client that got every stored packet sent to it missed only what came after its
    // disconnection, even if the packets in between (all for others) have left the log since: a
    // quiet client in a busy namespace (socket.io#5282).
    if (from >= session.lastStoredOffset) from = Math.max(from, session.disconnectOffset);
    if (!this._rust.recoverable(this.nsp.name, from)) return null;
    const engine = this.nsp.server.engine;
    this.sessions.delete(pid);
    const { disconnectedAt, ...restored } = session;
    return {
      ...restored,
      missedPackets: [],
      [replayMissedPackets]: (socket) => engine.native.replay(socket.conn._handle, this.nsp.name, from, session.rooms),
    };
  }

  broadcast(packet, opts) {
    const flags = opts.flags || {};
    if (packet.type === PacketType.EVENT && packet.id === undefined) {
      if (flags.volatile) {
        // Not stored, but the client takes the last string argument of any event as its
        // offset: it gets the newest offset issued, from which it can still be restored (every
        // stored packet it should have had was sent to it before this one).
        packet.data.push(String(this.nsp.server._currentOffset()));
        super.broadcast(packet, opts);
        return;
      }
      const offset = this.nsp.server._nextOffset();
      packet.data.push(String(offset));
      super.broadcast(packet, opts, { offset, rooms: [...opts.rooms], except: [...(opts.except || [])] });
      return;
    }
    super.broadcast(packet, opts);
  }
}

/**
 * Set on a session this package's adapter restored: Rust queues the missed packets from its own
 * log, instead of the `missedPackets` array other adapters fill.
 */
const replayMissedPackets = Symbol("replayMissedPackets");

/** An unmasked, final WebSocket text frame, as `[header, payload]` (the `ws` package's form). */
function webSocketTextFrame(text) {
  const payload = Buffer.from(text);
  const length = payload.length;
  let header;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65536) {
    header = Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return [header, payload];
}

function parseOffset(offset) {
  return /^\d{1,15}$/.test(offset) ? Number(offset) : null;
}

module.exports = { Adapter, SessionAwareAdapter, PacketType, replayMissedPackets };
