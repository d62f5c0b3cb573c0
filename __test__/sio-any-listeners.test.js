/** Socket.IO layer: catch-all listeners (onAny, prependAny, offAny, listenersAny and the outgoing variants). */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, connectMany, serverSocketOf, successAfter, deferred, connectedPair } = require("./support/sio-helpers");

function pair(t, transport) {
  return connectedPair(t, transport);
}

for (const transport of TRANSPORTS) {
  describe(`incoming catch-all listeners (${transport})`, () => {
    it("onAny() gets the event name and arguments, before the event's own listener", async (t) => {
      const { client, socket } = await pair(t, transport);
      const order = [];
      const done = deferred();
      assert.strictEqual(
        socket.onAny((event, ...args) => order.push(["any", event, ...args])),
        socket,
      );
      socket.on("my-event", (...args) => {
        order.push(["listener", ...args]);
        done.resolve();
      });
      client.emit("my-event", "123", { a: 1 });
      await done.promise;
      assert.deepStrictEqual(order, [
        ["any", "my-event", "123", { a: 1 }],
        ["listener", "123", { a: 1 }],
      ]);
    });

    it("onAny() also sees the acknowledgement callback, which can be used", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.onAny((event, n, cb) => {
        assert.strictEqual(event, "q");
        assert.strictEqual(typeof cb, "function");
        cb(n + 1);
      });
      assert.strictEqual(await client.timeout(2000).emitWithAck("q", 41), 42);
    });

    it("prependAny() puts listeners first", async (t) => {
      const { client, socket } = await pair(t, transport);
      const order = [];
      const done = deferred();
      socket.onAny(() => {
        order.push(3);
        done.resolve();
      });
      socket.prependAny(() => order.push(2));
      socket.prependAny(() => order.push(1));
      client.emit("my-event", "123");
      await done.promise;
      assert.deepStrictEqual(order, [1, 2, 3]);
    });

    it("offAny(fn) removes one listener, offAny() removes all; listenersAny() lists them", async (t) => {
      const { client, socket } = await pair(t, transport);
      const fail = () => assert.fail("removed listener called");
      const other = () => {};
      socket.onAny(fail);
      socket.onAny(other);
      assert.deepStrictEqual(socket.listenersAny(), [fail, other]);
      assert.strictEqual(socket.offAny(fail), socket);
      assert.deepStrictEqual(socket.listenersAny(), [other]);
      socket.offAny();
      assert.deepStrictEqual(socket.listenersAny(), []);
      const got = deferred();
      socket.onAny((event) => got.resolve(event));
      client.emit("my-event");
      assert.strictEqual(await got.promise, "my-event");
    });

    it("onAny() runs before socket.use() middlewares, even for rejected events", async (t) => {
      const { client, socket } = await pair(t, transport);
      const seen = [];
      const rejected = deferred();
      socket.use((event, next) => next(new Error("rejected")));
      socket.on("error", (err) => rejected.resolve(err.message));
      socket.onAny((event) => seen.push(event));
      client.emit("blocked", 1);
      assert.strictEqual(await rejected.promise, "rejected");
      assert.deepStrictEqual(seen, ["blocked"]);
    });
  });

  describe(`outgoing catch-all listeners (${transport})`, () => {
    it("onAnyOutgoing() sees socket.emit() (without the ack callback)", async (t) => {
      const { client, socket } = await pair(t, transport);
      const seen = [];
      assert.strictEqual(
        socket.onAnyOutgoing((...args) => seen.push(args)),
        socket,
      );
      client.on("with-ack", (cb) => cb());
      const acked = deferred();
      socket.emit("my-event", "123", { a: 1 });
      socket.emit("with-ack", () => acked.resolve());
      await acked.promise;
      assert.deepStrictEqual(seen, [["my-event", "123", { a: 1 }], ["with-ack"]]);
    });

    it("onAnyOutgoing() sees broadcasts reaching this socket (binary too)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const clients = await connectMany(h, port, 2, "/", { transports: [transport] });
      const [s1, s2] = clients.map((c) => serverSocketOf(io, c));
      const seen1 = [];
      const seen2 = [];
      s1.onAnyOutgoing((...args) => seen1.push(args));
      s2.onAnyOutgoing((...args) => seen2.push(args));
      io.emit("all", "123");
      io.emit("bin", Uint8Array.of(1, 2, 3));
      s1.broadcast.emit("others");
      io.to(s1.id).emit("only-1");
      assert.deepStrictEqual(seen1.map((a) => a[0]), ["all", "bin", "only-1"]);
      assert.deepStrictEqual(seen2.map((a) => a[0]), ["all", "bin", "others"]);
      assert.strictEqual(seen1[0][1], "123");
      assert.ok(seen1[1][1] instanceof Uint8Array);
      assert.deepStrictEqual([...seen1[1][1]], [1, 2, 3]);
    });

    it("prependAnyOutgoing() puts listeners first", async (t) => {
      const { socket } = await pair(t, transport);
      const order = [];
      socket.onAnyOutgoing(() => order.push(3));
      socket.prependAnyOutgoing(() => order.push(2));
      socket.prependAnyOutgoing(() => order.push(1));
      socket.emit("my-event", "123");
      assert.deepStrictEqual(order, [1, 2, 3]);
    });

    it("offAnyOutgoing(fn) / offAnyOutgoing() remove listeners; listenersAnyOutgoing() lists them", async (t) => {
      const { socket } = await pair(t, transport);
      const fail = () => assert.fail("removed listener called");
      const other = () => {};
      socket.onAnyOutgoing(fail);
      socket.onAnyOutgoing(other);
      assert.deepStrictEqual(socket.listenersAnyOutgoing(), [fail, other]);
      assert.strictEqual(socket.offAnyOutgoing(fail), socket);
      assert.deepStrictEqual(socket.listenersAnyOutgoing(), [other]);
      socket.offAnyOutgoing();
      assert.deepStrictEqual(socket.listenersAnyOutgoing(), []);
      const seen = successAfter(1);
      socket.onAnyOutgoing(seen);
      socket.emit("my-event");
      assert.deepStrictEqual(await seen.promise, [["my-event"]]);
    });

    it("does not call outgoing listeners for acknowledgements sent back to the client", async (t) => {
      const { client, socket } = await pair(t, transport);
      const seen = [];
      socket.onAnyOutgoing((...args) => seen.push(args));
      socket.on("q", (cb) => cb("answer"));
      assert.strictEqual(await client.timeout(2000).emitWithAck("q"), "answer");
      assert.deepStrictEqual(seen, []);
    });
  });
}
