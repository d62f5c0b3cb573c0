/** `BroadcastOperator`: to/in/except and flags, then one emit to many sockets (socket.io/lib/broadcast-operator.ts). */
"use strict";

const { PacketType } = require("./parser");
const { RESERVED_EVENTS } = require("./reserved-events");

class BroadcastOperator {
  constructor(adapter, rooms = new Set(), exceptRooms = new Set(), flags = {}) {
    this.adapter = adapter;
    this.rooms = rooms;
    this.exceptRooms = exceptRooms;
    this.flags = flags;
  }

  to(room) {
    const rooms = new Set(this.rooms);
    for (const r of Array.isArray(room) ? room : [room]) rooms.add(r);
    return new BroadcastOperator(this.adapter, rooms, this.exceptRooms, this.flags);
  }

  in(room) {
    return this.to(room);
  }

  except(room) {
    const exceptRooms = new Set(this.exceptRooms);
    for (const r of Array.isArray(room) ? room : [room]) exceptRooms.add(r);
    return new BroadcastOperator(this.adapter, this.rooms, exceptRooms, this.flags);
  }

  compress(compress) {
    return this._withFlags({ compress });
  }

  get volatile() {
    return this._withFlags({ volatile: true });
  }

  get local() {
    return this._withFlags({ local: true });
  }

  timeout(timeout) {
    return this._withFlags({ timeout });
  }

  _withFlags(flags) {
    return new BroadcastOperator(this.adapter, this.rooms, this.exceptRooms, Object.assign({}, this.flags, flags));
  }

  emit(ev, ...args) {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${String(ev)}" is a reserved event name`);
    const data = [ev, ...args];
    const packet = { type: PacketType.EVENT, data };
    const opts = { rooms: this.rooms, except: this.exceptRooms, flags: this.flags };
    if (typeof data[data.length - 1] !== "function") {
      this.adapter.broadcast(packet, opts);
      return true;
    }
    const ack = data.pop();
    let timedOut = false;
    const responses = [];
    const timer = setTimeout(() => {
      timedOut = true;
      // Late answers must not reach the array the caller already received.
      if (packet.id !== undefined) this.adapter.nsp.sockets.forEach((socket) => socket.acks.delete(packet.id));
      ack.apply(this, [new Error("operation has timed out"), this.flags.expectSingleResponse ? null : responses]);
    }, this.flags.timeout);
    let expectedServerCount = -1;
    let actualServerCount = 0;
    let expectedClientCount = 0;
    const checkCompleteness = () => {
      if (!timedOut && expectedServerCount === actualServerCount && responses.length === expectedClientCount) {
        clearTimeout(timer);
        ack.apply(this, [null, this.flags.expectSingleResponse ? responses[0] : responses]);
      }
    };
    this.adapter.broadcastWithAck(
      packet,
      opts,
      (clientCount) => {
        expectedClientCount += clientCount;
        actualServerCount++;
        checkCompleteness();
      },
      (clientResponse) => {
        responses.push(clientResponse);
        checkCompleteness();
      },
    );
    this.adapter.serverCount().then((serverCount) => {
      expectedServerCount = serverCount;
      checkCompleteness();
    });
    return true;
  }

  emitWithAck(ev, ...args) {
    return collectResponses((ack) => this.emit(ev, ...args, ack));
  }

  allSockets() {
    if (!this.adapter) throw new Error("No adapter for this namespace, are you trying to get the list of clients of a dynamic namespace?");
    return this.adapter.sockets(this.rooms);
  }

  fetchSockets() {
    return this.adapter
      .fetchSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags })
      .then((sockets) => sockets.map((socket) => (socket.server ? socket : new RemoteSocket(this.adapter, socket))));
  }

  socketsJoin(room) {
    this.adapter.addSockets(
      { rooms: this.rooms, except: this.exceptRooms, flags: this.flags },
      Array.isArray(room) ? room : [room],
    );
  }

  socketsLeave(room) {
    this.adapter.delSockets(
      { rooms: this.rooms, except: this.exceptRooms, flags: this.flags },
      Array.isArray(room) ? room : [room],
    );
  }

  disconnectSockets(close = false) {
    this.adapter.disconnectSockets({ rooms: this.rooms, except: this.exceptRooms, flags: this.flags }, close);
  }
}

/**
 * Sends with `send(ack)` and settles with the responses the ack gets; on error (a timeout), rejects
 * with the error, which carries the responses received so far.
 */
function collectResponses(send) {
  return new Promise((resolve, reject) => {
    send((err, responses) => {
      if (err) {
        err.responses = responses;
        reject(err);
      } else {
        resolve(responses);
      }
    });
  });
}

/** A socket of another node, as `fetchSockets` returns it (only with a cluster adapter). */
class RemoteSocket {
  constructor(adapter, details) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.operator = new BroadcastOperator(adapter, new Set([this.id]), new Set(), { expectSingleResponse: true });
  }

  emit(ev, ...args) {
    return this.operator.emit(ev, ...args);
  }

  timeout(timeout) {
    return this.operator.timeout(timeout);
  }

  join(room) {
    return this.operator.socketsJoin(room);
  }

  leave(room) {
    return this.operator.socketsLeave(room);
  }

  disconnect(close = false) {
    this.operator.disconnectSockets(close);
    return this;
  }
}

module.exports = { BroadcastOperator, RemoteSocket, collectResponses };
