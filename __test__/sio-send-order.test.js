/**
 * Sends to one socket are held back until the end of the turn and cross to Rust together (acks,
 * `socket.emit`): what a turn sends still reaches the client in the order it was sent, whatever
 * else the turn does (broadcasts, raw engine messages, a disconnection), and in any namespace.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const http = require("node:http");
const {
  TRANSPORTS,
  harness,
  waitFor,
  withTimeout,
  successAfter,
  connectedPair,
  nextRequest,
  RawPolling,
} = require("./support/sio-helpers");
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

// The broadcasts of a turn to one namespace and the same rooms cross to Rust together, which then
// queues them to each recipient at once: what a socket receives must still be what it would have
// received with each broadcast sent on its own.
for (const transport of TRANSPORTS) {
  describe(`broadcasts of one turn (${transport})`, () => {
    /** Three connected clients, each recording the `m` events it receives. */
    async function threeClients(t, serverOpts = {}) {
      const h = harness(t);
      const { io, port } = await h.server(serverOpts);
      const sockets = [];
      io.on("connection", (socket) => sockets.push(socket));
      const clients = [];
      for (let i = 0; i < 3; i++) {
        const client = await h.connect(port, "/", { transports: [transport] });
        client.received = [];
        client.on("m", (...args) => client.received.push(args.length === 1 ? args[0] : args));
        clients.push(client);
      }
      return { io, clients, sockets };
    }

    /** Resolves once each client received `last` as an `m` event. */
    function untilEach(clients, last) {
      return Promise.all(
        clients.map((client) =>
          withTimeout(
            new Promise((resolve) => client.on("m", (value) => value === last && resolve())),
            5000,
            () => `"${last}" (got ${JSON.stringify(client.received)})`,
          ),
        ),
      );
    }

    it("follows the room changes made between them", async (t) => {
      const { io, clients, sockets } = await threeClients(t);
      const [a, b] = sockets;
      a.join("r");
      const done = untilEach(clients, "end");
      io.to("r").emit("m", 0);
      io.to("r").emit("m", 1); // same audience as the one before: held back
      b.join("r");
      io.to("r").emit("m", 2);
      a.leave("r");
      io.to("r").emit("m", 3);
      io.except("r").emit("m", 4);
      io.emit("m", "end");
      await done;
      assert.deepStrictEqual(
        clients.map((client) => client.received),
        [[0, 1, 2, 4, "end"], [2, 3, "end"], [4, "end"]],
      );
    });

    it("delivers a long burst in order, binary ones and direct emits among them", async (t) => {
      const { io, clients, sockets } = await threeClients(t);
      const done = untilEach(clients, "end");
      const buffer = Buffer.from([0]);
      for (let i = 0; i < 40; i++) {
        if (i % 10 === 5) {
          buffer[0] = i;
          io.emit("m", i, buffer); // the buffer is reused: each emit sends what it held then
        } else if (i % 10 === 7) {
          sockets[1].emit("m", i);
        } else {
          io.emit("m", i);
        }
      }
      io.emit("m", "end");
      await done;
      const expected = (who) =>
        Array.from({ length: 40 }, (_, i) => i)
          .filter((i) => i % 10 !== 7 || who === 1)
          .map((i) => (i % 10 === 5 ? [i, Buffer.from([i])] : i))
          .concat("end");
      clients.forEach((client, who) => assert.deepStrictEqual(client.received, expected(who)));
    });

    // socket.io-adapter's Adapter#broadcast (the npm cluster adapters' local delivery) encodes a
    // packet once and writes it to each socket in turn: those writes cross to Rust together.
    it("delivers a packet written to each socket in turn in order with the other sends", async (t) => {
      const { io, clients, sockets } = await threeClients(t);
      const done = untilEach(clients, "end");
      const encoded = (...data) => io.encoder.encode({ type: 2, nsp: "/", data: ["m", ...data] });
      const one = encoded(1);
      for (const socket of sockets) socket.client.writeToEngine(one, {});
      sockets[1].emit("m", 2);
      const three = encoded(3);
      sockets[0].client.writeToEngine(three, {});
      io.emit("m", 4);
      sockets[2].client.writeToEngine(three, {});
      const binary = encoded(5, Buffer.from([5]));
      for (const socket of sockets) socket.client.writeToEngine(binary, {});
      for (const socket of sockets) socket.client.writeToEngine(one, {});
      io.emit("m", "end");
      await done;
      const five = [5, Buffer.from([5])];
      assert.deepStrictEqual(
        clients.map((client) => client.received),
        [
          [1, 3, 4, five, 1, "end"],
          [1, 2, 4, five, 1, "end"],
          [1, 4, 3, five, 1, "end"],
        ],
      );
    });

    it("delivers the broadcasts sent before a disconnection in the same turn", async (t) => {
      const { io, clients, sockets } = await threeClients(t);
      const disconnected = waitFor(clients[0], "disconnect");
      const done = untilEach(clients.slice(1), 3);
      io.emit("m", 1);
      io.emit("m", 2);
      sockets[0].disconnect();
      io.emit("m", 3);
      assert.strictEqual((await disconnected)[0], "io server disconnect");
      await done;
      assert.deepStrictEqual(clients.map((client) => client.received), [[1, 2], [1, 2, 3], [1, 2, 3]]);
    });
  });
}

// Broadcasts are held back only while no long-poll GET waits in JS: a count that stayed above
// zero would silently stop the holding for the server's life.
it("counts the long-poll GETs waiting in JS back to none, however each ends", async (t) => {
  const h = harness(t);
  const { io, httpServer, port } = await h.server();
  const native = io.engine.native;
  const sessionsClosed = [];
  io.engine.on("connection", (conn) => sessionsClosed.push(waitFor(conn, "close")));

  // Answered by a send, then by the close of its session (client side, then server side).
  const closedByClient = await h.connect(port, "/", { transports: ["polling"] });
  const closedByServer = await h.connect(port, "/", { transports: ["polling"] });
  // Answered with a noop by an upgrade.
  const upgraded = await h.connect(port, "/");
  if (upgraded.io.engine.transport.name !== "websocket") await waitFor(upgraded.io.engine, "upgrade");
  // Left by its client while it waits.
  const raw = await RawPolling.open(port);
  const rawGetParked = nextRequest(httpServer, (req) => req.method === "GET" && req.url.includes(`sid=${raw.sid}`));
  const rawGet = http.get({ host: "127.0.0.1", port, path: `/socket.io/?EIO=4&transport=polling&sid=${raw.sid}`, agent: false });
  rawGet.on("error", () => {});
  await rawGetParked;
  assert.ok(native.parkedGets >= 1, `parked GETs: ${native.parkedGets}`);

  const got = waitFor(closedByClient, "m");
  io.emit("m", 1);
  await got;
  closedByClient.disconnect();
  io.of("/").sockets.get(closedByServer.id).disconnect(true);
  upgraded.disconnect();
  rawGet.destroy();
  assert.strictEqual(sessionsClosed.length, 4);
  await Promise.all(sessionsClosed);
  assert.strictEqual(native.parkedGets, 0);
});

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
