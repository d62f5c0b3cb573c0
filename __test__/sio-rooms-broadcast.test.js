/** Socket.IO layer: rooms, broadcasting (to/in/except, flags) and broadcast acknowledgements. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  connectMany,
  serverSocketOf,
  successAfter,
  deferred,
  delay,
} = require("./support/sio-helpers");

/** n clients on "/" plus their server-side sockets. */
async function group(t, n, transport, serverOpts = {}) {
  const h = harness(t);
  const { io, port } = await h.server(serverOpts);
  const clients = await connectMany(h, port, n, "/", { transports: [transport] });
  const sockets = clients.map((c) => serverSocketOf(io, c));
  return { h, io, port, clients, sockets };
}

/**
 * Counts `event` on each client after `fn` ran. No fixed wait: once `fn` returned, a "sync"
 * event is sent to every socket; since each connection keeps the order of its packets, a client
 * that got the sync would already have got `event`.
 */
async function receivers(clients, sockets, event, fn) {
  const counts = clients.map(() => 0);
  const handlers = clients.map((c, i) => {
    const hnd = () => counts[i]++;
    c.on(event, hnd);
    return hnd;
  });
  const synced = Promise.all(clients.map((c) => waitFor(c, "__sync")));
  await fn();
  sockets.forEach((s) => s.emit("__sync"));
  await synced;
  clients.forEach((c, i) => c.off(event, handlers[i]));
  return counts;
}

for (const transport of TRANSPORTS) {
  describe(`rooms (${transport})`, () => {
    it("tracks the rooms of a socket (join one, join many, leave, leave unknown)", async (t) => {
      const { io, sockets } = await group(t, 1, transport);
      const [s] = sockets;
      s.join("a");
      assert.deepStrictEqual([...s.rooms].sort(), [s.id, "a"].sort());
      s.join(["b", "c"]);
      assert.deepStrictEqual([...s.rooms].sort(), [s.id, "a", "b", "c"].sort());
      s.leave("b");
      assert.deepStrictEqual([...s.rooms].sort(), [s.id, "a", "c"].sort());
      s.leave("unknown");
      assert.deepStrictEqual([...s.rooms].sort(), [s.id, "a", "c"].sort());
      assert.ok(io.of("/").adapter.rooms.get("a").has(s.id));
    });

    it("deletes a room once its last member left", async (t) => {
      const { io, sockets } = await group(t, 2, transport);
      const [s1, s2] = sockets;
      const rooms = io.of("/").adapter.rooms;
      s1.join("a");
      s2.join("a");
      assert.strictEqual(rooms.get("a").size, 2);
      s1.leave("a");
      assert.deepStrictEqual([...rooms.get("a")], [s2.id]);
      s2.leave("a");
      assert.strictEqual(rooms.has("a"), false);
    });
  });

  describe(`broadcast (${transport})`, () => {
    it("io.emit reaches every socket of the namespace (binary too)", async (t) => {
      const { clients, io } = await group(t, 3, transport);
      const got = successAfter(3);
      clients.forEach((c) => c.on("bin", (a, b) => got(Buffer.isBuffer(b) && b.equals(Buffer.from([1, 2])), a)));
      io.emit("bin", "x", Buffer.from([1, 2]));
      assert.deepStrictEqual(await got.promise, [[true, "x"], [true, "x"], [true, "x"]]);
    });

    it("socket.broadcast.emit reaches everyone but the sender", async (t) => {
      const { clients, sockets } = await group(t, 3, transport);
      const counts = await receivers(clients, sockets, "a", () => sockets[0].broadcast.emit("a", "b"));
      assert.deepStrictEqual(counts, [0, 1, 1]);
    });

    it("io.to(room) and io.in(room) reach only the members of the room", async (t) => {
      const { clients, sockets, io } = await group(t, 3, transport);
      sockets[0].join("woot");
      sockets[2].join("woot");
      sockets[1].join("other");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.to("woot").emit("a")), [1, 0, 1]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.in("woot").emit("a")), [1, 0, 1]);
    });

    it("uses the socket id as a private room", async (t) => {
      const { clients, sockets, io } = await group(t, 3, transport);
      const counts = await receivers(clients, sockets, "dm", () => io.to(sockets[1].id).emit("dm", "hi"));
      assert.deepStrictEqual(counts, [0, 1, 0]);
    });

    it("targets the union of several rooms, each socket at most once", async (t) => {
      const { clients, sockets, io } = await group(t, 4, transport);
      sockets[0].join(["woot", "test"]);
      sockets[1].join("woot");
      sockets[2].join("test");
      sockets[3].join("third");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.to("woot").to("test").emit("a")), [1, 1, 1, 0]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.in(["woot", "test"]).emit("a")), [1, 1, 1, 0]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.to(["woot", "woot"]).emit("a")), [1, 1, 0, 0]);
    });

    it("excludes rooms and socket ids with except()", async (t) => {
      const { clients, sockets, io } = await group(t, 4, transport);
      sockets[1].join("room1");
      sockets[2].join(["room1", "room2"]);
      sockets[3].join("room2");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.except("room1").emit("a")), [1, 0, 0, 1]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.except(sockets[0].id).emit("a")), [0, 1, 1, 1]);
      assert.deepStrictEqual(
        await receivers(clients, sockets, "a", () => io.except(["room1", sockets[3].id]).emit("a")),
        [1, 0, 0, 0],
      );
      // exclusion wins over inclusion
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.to("room2").except("room1").emit("a")), [0, 0, 0, 1]);
    });

    it("socket.to(room) excludes the sender even when it is a member", async (t) => {
      const { clients, sockets } = await group(t, 3, transport);
      sockets.forEach((s) => s.join("test"));
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => sockets[0].to("test").emit("a")), [0, 1, 1]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => sockets[0].in("test").emit("a")), [0, 1, 1]);
    });

    it("socket.broadcast.to(room) plus socket.emit: each gets its own event", async (t) => {
      const { clients, sockets } = await group(t, 3, transport);
      sockets[1].join("test");
      sockets[2].join("test");
      const gotB = waitFor(clients[2], "b");
      const counts = await receivers(clients, sockets, "a", () => {
        sockets[2].broadcast.to("test").emit("a", Buffer.alloc(5));
        sockets[2].emit("b", Buffer.alloc(5));
      });
      assert.deepStrictEqual(counts, [0, 1, 0]);
      const [b] = await gotB;
      assert.ok(Buffer.isBuffer(b) && b.length === 5);
    });

    it("socket.except(room) and socket.broadcast.except(id) exclude the sender as well", async (t) => {
      const { clients, sockets } = await group(t, 4, transport);
      sockets[1].join("room1");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => sockets[0].except("room1").emit("a")), [0, 0, 1, 1]);
      assert.deepStrictEqual(
        await receivers(clients, sockets, "a", () => sockets[3].broadcast.except(sockets[2].id).emit("a")),
        [1, 1, 0, 0],
      );
    });

    it("keeps broadcast operators immutable", async (t) => {
      const { clients, sockets, io } = await group(t, 4, transport);
      sockets[0].join("room1");
      sockets[1].join("room2");
      sockets[2].join("room3");
      sockets[3].join("room4");
      const base = io.to("room1").except("room3");
      base.to("room2"); // derived operators must not change the base one
      base.except("room1");
      base.compress(false);
      base.volatile;
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => base.emit("a")), [1, 0, 0, 0]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => base.to("room4").emit("a")), [1, 0, 0, 1]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.emit("a")), [1, 1, 1, 1]);
      // a socket's flags are consumed by the operator they create
      const op = sockets[0].compress(false).to("room2");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => op.emit("a")), [0, 1, 0, 0]);
    });

    it("does not leak a broadcast into another namespace's room of the same name", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/other");
      const main = await h.connect(port, "/", { transports: [transport] });
      const other = await h.connect(port, "/other", { transports: [transport] });
      const sockets = [serverSocketOf(io, main), serverSocketOf(io, other, "/other")];
      sockets.forEach((s) => s.join("r"));
      const counts = await receivers([main, other], sockets, "a", () => io.to("r").emit("a"));
      assert.deepStrictEqual(counts, [1, 0]);
    });

    it("io.local behaves like io on a single server", async (t) => {
      const { clients, sockets, io } = await group(t, 3, transport);
      sockets[1].join("r");
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.local.emit("a")), [1, 1, 1]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.local.to("r").emit("a")), [0, 1, 0]);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => sockets[0].local.emit("a")), [0, 1, 1]);
    });

    it("sets the compress flag on the created packets (default true)", async (t) => {
      const { sockets, io } = await group(t, 1, transport);
      const [s] = sockets;
      const flags = [];
      s.conn.on("packetCreate", (packet) => {
        if (packet.type === "message") flags.push(packet.options.compress);
      });
      const got = successAfter(6);
      s.conn.on("packetCreate", (packet) => packet.type === "message" && got());
      s.emit("woot", "hi");
      s.compress(false).emit("woot", "hi");
      s.emit("woot", "hi"); // the flag is reset after each emit
      io.emit("woot", "hi");
      io.compress(false).emit("woot", "hi");
      io.to(s.id).compress(false).emit("woot", "hi");
      await got.promise;
      assert.deepStrictEqual(flags, [true, false, true, true, false, false]);
    });

    it("does nothing when broadcasting to an empty room", async (t) => {
      const { clients, sockets, io } = await group(t, 2, transport);
      assert.deepStrictEqual(await receivers(clients, sockets, "a", () => io.to("nobody").emit("a")), [0, 0]);
    });
  });

  describe(`volatile (${transport})`, () => {
    const opts = { transports: [transport] };

    async function volatileSetup(t, emitFn, { settle = true, nsp = "/" } = {}) {
      const h = harness(t);
      const { io, port } = await h.server(opts);
      io.of(nsp);
      const client = await h.connect(port, nsp, opts);
      const socket = serverSocketOf(io, client, nsp);
      // let the transport become writable again after the handshake (a pending long-poll, or the
      // websocket write completed); nothing observable to await for that
      if (settle) await delay(100);
      let counter = 0;
      client.on("ev", () => counter++);
      emitFn(socket, io);
      await delay(150);
      return counter;
    }

    it("drops a volatile event emitted right after a regular one", async (t) => {
      const counter = await volatileSetup(t, (s) => {
        s.emit("ev", "data");
        s.volatile.emit("ev", "data");
      });
      assert.strictEqual(counter, 1);
    });

    it("delivers a volatile event when the transport is writable", async (t) => {
      const counter = await volatileSetup(t, (s) => s.volatile.emit("ev", "data"));
      assert.strictEqual(counter, 1);
    });

    it("delivers only the first of two consecutive volatile events", async (t) => {
      const counter = await volatileSetup(t, (s) => {
        s.volatile.emit("ev", "data");
        s.volatile.emit("ev", "data");
      });
      assert.strictEqual(counter, 1);
    });

    it("delivers only the first of two consecutive volatile binary events", async (t) => {
      const counter = await volatileSetup(t, (s) => {
        s.volatile.emit("ev", Buffer.from([1, 2, 3]));
        s.volatile.emit("ev", Buffer.from([4, 5, 6]));
      });
      assert.strictEqual(counter, 1);
    });

    it("broadcasts only the first of two consecutive volatile binary events", async (t) => {
      const counter = await volatileSetup(t, (s, io) => {
        io.volatile.emit("ev", Buffer.from([1, 2, 3]));
        io.volatile.emit("ev", Buffer.from([4, 5, 6]));
      });
      assert.strictEqual(counter, 1);
    });

    it("still delivers regular events around a dropped volatile one", async (t) => {
      const counter = await volatileSetup(t, (s) => {
        s.emit("ev", "data");
        s.volatile.emit("ev", "data");
        s.emit("ev", "data");
      });
      assert.strictEqual(counter, 2);
    });

    it("applies to namespace broadcasts too", async (t) => {
      const counter = await volatileSetup(
        t,
        (s, io) => {
          io.of("/chat").emit("ev", "data");
          io.of("/chat").volatile.emit("ev", "data");
        },
        { nsp: "/chat" },
      );
      assert.strictEqual(counter, 1);
    });
  });

  describe(`broadcast acknowledgements (${transport})`, () => {
    it("collects one response per client (callback form)", async (t) => {
      const { clients, io } = await group(t, 3, transport);
      clients.forEach((c, i) => c.on("some event", (cb) => cb(i + 1)));
      const result = deferred();
      io.timeout(2000).emit("some event", (err, responses) => result.resolve([err, responses]));
      const [err, responses] = await result.promise;
      assert.strictEqual(err, null);
      assert.deepStrictEqual([...responses].sort(), [1, 2, 3]);
    });

    it("collects one response per client (emitWithAck)", async (t) => {
      const { clients, io } = await group(t, 3, transport);
      clients.forEach((c, i) => c.on("some event", (a, cb) => cb(a + i)));
      const responses = await io.timeout(2000).emitWithAck("some event", 10);
      assert.deepStrictEqual([...responses].sort(), [10, 11, 12]);
    });

    it("fails with the partial responses when a client does not answer in time", async (t) => {
      const { clients, io } = await group(t, 3, transport);
      clients[0].on("some event", (cb) => cb(1));
      clients[1].on("some event", (cb) => cb(2));
      clients[2].on("some event", () => {});
      const result = deferred();
      io.timeout(200).emit("some event", (err, responses) => result.resolve([err, responses]));
      const [err, responses] = await result.promise;
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, "operation has timed out");
      assert.deepStrictEqual([...responses].sort(), [1, 2]);
    });

    it("rejects emitWithAck with the partial responses attached", async (t) => {
      const { clients, io } = await group(t, 3, transport);
      clients[0].on("some event", (cb) => cb(1));
      clients[1].on("some event", (cb) => cb(2));
      clients[2].on("some event", () => {});
      await assert.rejects(io.timeout(200).emitWithAck("some event"), (err) => {
        assert.ok(err instanceof Error);
        assert.strictEqual(err.message, "operation has timed out");
        assert.deepStrictEqual([...err.responses].sort(), [1, 2]);
        return true;
      });
    });

    it("ignores answers arriving after the timeout", async (t) => {
      const { clients, io } = await group(t, 2, transport);
      const late = deferred();
      clients[0].on("q", (cb) => cb("fast"));
      clients[1].on("q", (cb) =>
        setTimeout(() => {
          cb("slow");
          late.resolve();
        }, 150),
      );
      const calls = [];
      io.timeout(50).emit("q", (...args) => calls.push(args));
      await late.promise;
      await delay(50);
      assert.strictEqual(calls.length, 1);
      assert.ok(calls[0][0] instanceof Error);
      assert.deepStrictEqual(calls[0][1], ["fast"]);
    });

    it("answers at once with no responses when nobody is targeted", async (t) => {
      const { clients, io } = await group(t, 2, transport);
      clients.forEach((c) => c.on("some event", () => assert.fail("should not be received")));
      const started = Date.now();
      const result = deferred();
      io.to("room123")
        .timeout(2000)
        .emit("some event", (err, responses) => result.resolve([err, responses]));
      const [err, responses] = await result.promise;
      assert.strictEqual(err, null);
      assert.deepStrictEqual(responses, []);
      assert.ok(Date.now() - started < 1000, "must not wait for the timeout");
      assert.deepStrictEqual(await io.to("room123").timeout(2000).emitWithAck("some event"), []);
    });

    it("works from a socket (others only) and in rooms, with binary answers", async (t) => {
      const { clients, sockets } = await group(t, 3, transport);
      clients.forEach((c, i) => c.on("q", (cb) => cb(Buffer.from([i]))));
      sockets[1].join("r");
      sockets[2].join("r");
      const fromBroadcast = await sockets[0].broadcast.timeout(2000).emitWithAck("q");
      assert.deepStrictEqual(fromBroadcast.map((b) => b[0]).sort(), [1, 2]);
      assert.ok(fromBroadcast.every((b) => Buffer.isBuffer(b)));
      const fromRoom = await sockets[1].to("r").timeout(2000).emitWithAck("q");
      assert.deepStrictEqual(fromRoom.map((b) => b[0]), [2]);
    });
  });
}
