/**
 * Sends to one socket are held back until the end of the turn and cross to Rust together (acks,
 * `socket.emit`): what a turn sends still reaches the client in the order it was sent, whatever
 * else the turn does (broadcasts, raw engine messages, a disconnection), and in any namespace.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor, successAfter, connectedPair } = require("./support/sio-helpers");
const { startRedis } = require("./support/services");
const { createAdapter } = require("../lib/cluster/redis-streams");


for (const transport of TRANSPORTS) {
  describe(`send order (${transport})`, () => {
    it("keeps a turn's emits, broadcasts and acks in the order they were sent", async (t) => {
      const { io, client, socket } = await connectedPair(t, transport);
      const got = successAfter(6);
      client.on("m", (n) => got(n));
      socket.on("go", (ack) => {
        socket.emit("m", 1);
        io.emit("m", 2);
        socket.emit("m", 3);
        io.to(socket.id).emit("m", 4);
        ack("acked");
        socket.emit("m", 5);
        io.emit("m", 6);
      });
      const acked = new Promise((resolve) => client.emit("go", resolve));
      assert.deepStrictEqual(await got.promise, [[1], [2], [3], [4], [5], [6]]);
      assert.strictEqual(await acked, "acked");
    });

    it("delivers what was sent before a disconnection in the same turn", async (t) => {
      const { client, socket } = await connectedPair(t, transport);
      const got = successAfter(3);
      client.on("m", (n) => got(n));
      const disconnected = waitFor(client, "disconnect");
      socket.emit("m", 1);
      socket.emit("m", 2);
      socket.emit("m", 3);
      socket.disconnect();
      assert.deepStrictEqual(await got.promise, [[1], [2], [3]]);
      assert.strictEqual((await disconnected)[0], "io server disconnect");
    });

    it("answers many acks of one turn, each to its own request", async (t) => {
      const { client, socket } = await connectedPair(t, transport);
      socket.on("double", (n, ack) => ack(n * 2));
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, n) => client.timeout(5000).emitWithAck("double", n)),
      );
      assert.deepStrictEqual(answers, Array.from({ length: 50 }, (_, n) => n * 2));
    });
  });
}

// WebSocket only: over long-polling, U+001E separates the packets of a payload.
it("answers in a namespace whose name holds control characters and non-ASCII text (websocket)", async (t) => {
  const h = harness(t);
  const { io, port } = await h.server();
  const nsp = "/a\u001eb\u001ec-ü";
  io.of(nsp).on("connection", (socket) => {
    socket.on("echo", (value, ack) => ack(value, "\u001e"));
  });
  const client = await h.connect(port, nsp, { transports: ["websocket"] });
  const answer = await client.timeout(5000).emitWithAck("echo", { text: "x\u001ey ✓" });
  assert.deepStrictEqual(answer, { text: "x\u001ey ✓" });
});

// A broadcast of the Redis Streams adapter is delivered locally once Redis has it (upstream's
// cluster adapters too, after their publish): it comes after what the turn sent before it, and
// before what the turn sends after its delivery. (Upstream also has each emit that follows it
// in the turn first; here Rust may deliver it while the turn still runs.)
it("delivers a Redis Streams broadcast after the emits sent before it (websocket)", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const adapter = await createAdapter(redis.url, { streamName: "send-order" });
  const h = harness(t);
  const { io, port } = await h.server({ adapter });
  const connection = waitFor(io, "connection");
  const client = await h.connect(port, "/", { transports: ["websocket"] });
  const [socket] = await connection;
  const got = successAfter(4);
  client.on("m", (n) => got(n));
  socket.emit("m", 1);
  io.emit("m", 2);
  socket.emit("m", 3);
  io.emit("m", 4);
  const order = (await got.promise).map(([n]) => n);
  const at = (n) => order.indexOf(n);
  assert.ok(at(1) < at(2) && at(2) < at(4) && at(1) < at(3) && at(3) < at(4), `order: ${order}`);
});
