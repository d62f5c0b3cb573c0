/**
 * Connection state recovery after volatile events: the official client takes the last string
 * argument of every event as its offset, so a volatile event must not leave it with one the
 * server cannot restore from (upstream socket.io loses the session there; see COMPATIBILITY.md).
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor } = require("./support/sio-helpers");

/** The ways to send a volatile event whose last argument is a string, to the socket `socket`. */
const VOLATILE_EMITS = {
  "io.volatile.emit": (io) => io.volatile.emit("status", "online"),
  "socket.volatile.emit": (io, socket) => socket.volatile.emit("status", "online"),
  "io.to(room).volatile.emit": (io) => io.to("room1").volatile.emit("status", "online"),
};

/**
 * Repeats a volatile emit until the client got one, as a periodic presence ping would: a volatile
 * packet is dropped while the transport is busy (on polling, while no GET is waiting).
 */
async function volatileUntilReceived(client, emit) {
  const received = waitFor(client, "status");
  emit();
  const timer = setInterval(emit, 20);
  try {
    return await received;
  } finally {
    clearInterval(timer);
  }
}

/**
 * A client that received one ordinary event, then (if `volatileEmit`) a volatile one, then lost
 * its connection while two events were emitted; resolves with what it has after reconnecting.
 */
async function scenario(t, transport, volatileEmit, nsp = "/") {
  const h = harness(t);
  const { io, port } = await h.server({ connectionStateRecovery: {} });
  const connection = waitFor(io.of(nsp), "connection");
  // The client reconnects by itself, as users run it.
  const client = await h.connect(port, nsp, { transports: [transport], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
  const [socket] = await connection;
  socket.join("room1");
  const events = [];
  client.onAny((event, ...args) => events.push([event, ...args]));
  const first = waitFor(client, "first");
  io.of(nsp).emit("first", 1);
  await first;
  if (volatileEmit) await volatileUntilReceived(client, () => volatileEmit(io.of(nsp), socket));
  const id = client.id;
  const gone = waitFor(socket, "disconnect");
  client.io.engine.close();
  await gone;
  io.of(nsp).emit("missed", 2);
  io.of(nsp).to("room1").emit("missed", 3);
  await waitFor(client, "connect");
  const third = waitFor(client, "after");
  io.of(nsp).emit("after", 4);
  await third;
  return { recovered: client.recovered, sameId: client.id === id, events };
}

/** Event names and first arguments, in order (offsets left out). */
function names(events) {
  return events.map(([event, value]) => `${event}:${value}`);
}

for (const transport of TRANSPORTS) {
  describe(`recovery after volatile events (${transport})`, () => {
    for (const [title, volatileEmit] of Object.entries(VOLATILE_EMITS)) {
      it(`recovers every missed event after ${title} with a string argument`, async (t) => {
        const result = await scenario(t, transport, volatileEmit);
        assert.strictEqual(result.recovered, true);
        assert.strictEqual(result.sameId, true);
        assert.deepStrictEqual(names(result.events), ["first:1", "status:online", "missed:2", "missed:3", "after:4"]);
      });
    }

    it("recovers in a namespace other than the main one", async (t) => {
      const result = await scenario(t, transport, VOLATILE_EMITS["io.volatile.emit"], "/chat");
      assert.strictEqual(result.recovered, true);
      assert.deepStrictEqual(names(result.events), ["first:1", "status:online", "missed:2", "missed:3", "after:4"]);
    });

    it("recovers with no volatile event too", async (t) => {
      const result = await scenario(t, transport, null);
      assert.strictEqual(result.recovered, true);
      assert.deepStrictEqual(names(result.events), ["first:1", "missed:2", "missed:3", "after:4"]);
    });

    it("a volatile event's handler gets an offset after its arguments, as an ordinary event's does", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const client = await h.connect(port, "/", { transports: [transport] });
      const ordinary = waitFor(client, "ordinary");
      io.emit("ordinary", "a");
      const ordinaryArgs = await ordinary;
      const volatileArgs = await volatileUntilReceived(client, () => io.volatile.emit("status", "online"));
      assert.strictEqual(ordinaryArgs.length, 2);
      assert.strictEqual(volatileArgs.length, 2);
      assert.match(volatileArgs[1], /^\d+$/);
    });

    it("nothing is appended to volatile events without recovery", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({});
      const client = await h.connect(port, "/", { transports: [transport] });
      assert.deepStrictEqual(await volatileUntilReceived(client, () => io.volatile.emit("status", "online")), ["online"]);
    });
  });
}
