/** Socket.IO layer: connection middlewares (io.use, namespace.use) and packet middlewares (socket.use). */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  impl,
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  connected,
  serverSocketOf,
  successAfter,
  deferred,
} = require("./support/sio-helpers");

for (const transport of TRANSPORTS) {
  const opts = { transports: [transport] };

  describe(`connection middlewares (${transport})`, () => {
    it("runs io.use() functions in order, with the socket, before 'connection'", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const order = [];
      io.use((socket, next) => {
        assert.ok(socket instanceof impl.Socket);
        order.push(1);
        socket.data.name = "guillermo";
        next();
      });
      io.use((socket, next) => {
        order.push(2);
        next();
      });
      const connection = waitFor(io, "connection");
      await h.connect(port, "/", opts);
      const [socket] = await connection;
      order.push("connection");
      assert.deepStrictEqual(order, [1, 2, "connection"]);
      assert.strictEqual(socket.data.name, "guillermo");
    });

    it("waits for an asynchronous middleware before connecting", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      let authenticated = false;
      io.use((socket, next) => {
        setTimeout(() => {
          authenticated = true;
          next();
        }, 100);
      });
      const client = h.client(port, "/", opts);
      await waitFor(client, "connect");
      assert.strictEqual(authenticated, true);
    });

    it("only marks the socket connected after the middlewares ran", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const during = deferred();
      io.use((socket, next) => {
        during.resolve({
          connected: socket.connected,
          disconnected: socket.disconnected,
          size: io.of("/").sockets.size,
          rooms: socket.rooms.size,
        });
        next();
      });
      const connection = waitFor(io, "connection");
      await h.connect(port, "/", opts);
      assert.deepStrictEqual(await during.promise, { connected: false, disconnected: true, size: 0, rooms: 0 });
      const [socket] = await connection;
      assert.strictEqual(socket.connected, true);
      assert.strictEqual(socket.disconnected, false);
      assert.strictEqual(io.of("/").sockets.size, 1);
    });

    it("exposes the handshake (auth, query, headers) to middlewares", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const seen = deferred();
      io.use((socket, next) => {
        seen.resolve({ ...socket.handshake, query: { ...socket.handshake.query } });
        next();
      });
      await h.connect(port, "/", { ...opts, auth: { token: "abc" }, query: { q: "1" } });
      const hs = await seen.promise;
      assert.deepStrictEqual(hs.auth, { token: "abc" });
      assert.strictEqual(hs.query.q, "1");
      assert.strictEqual(typeof hs.headers, "object");
    });

    it("rejects with next(err): connect_error with the message, later middlewares skipped", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.use((socket, next) => next(new Error("Authentication error")));
      io.use(() => assert.fail("must not run"));
      const noConnection = expectNoEvent(io, "connection", 100);
      const client = h.client(port, "/", opts);
      client.on("connect", () => assert.fail("must not connect"));
      const [err] = await waitFor(client, "connect_error");
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, "Authentication error");
      assert.strictEqual(err.data, undefined);
      await noConnection;
      assert.strictEqual(io.of("/").sockets.size, 0);
    });

    it("passes err.data to the client's connect_error", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.use((socket, next) => {
        const err = new Error("Authentication error");
        err.data = { a: "b", c: 3, nested: [1, { d: null }] };
        next(err);
      });
      const client = h.client(port, "/", opts);
      const [err] = await waitFor(client, "connect_error");
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, "Authentication error");
      assert.deepStrictEqual(err.data, { a: "b", c: 3, nested: [1, { d: null }] });
    });

    it("runs namespace middlewares only for that namespace, in order, even when asynchronous", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const result = [];
      io.use((socket, next) => {
        result.push("main");
        next();
      });
      for (const n of [1, 2, 3]) {
        io.of("/chat").use((socket, next) => {
          result.push(n);
          setTimeout(next, 20);
        });
      }
      await h.connect(port, "/chat", opts);
      assert.deepStrictEqual(result, [1, 2, 3]);
    });

    it("rejecting one namespace does not affect another on the same connection", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/private").use((socket, next) => next(new Error("no access")));
      const main = await h.connect(port, "/", opts);
      const priv = h.trackClient(main.io.socket("/private"));
      const [err] = await waitFor(priv, "connect_error");
      assert.strictEqual(err.message, "no access");
      assert.strictEqual(main.connected, true);
      serverSocketOf(io, main).on("echo", (v, cb) => cb(v));
      assert.strictEqual(await main.timeout(2000).emitWithAck("echo", 1), 1);
      assert.strictEqual(io.of("/private").sockets.size, 0);
    });

    it("lets the client retry after a rejection", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      let attempts = 0;
      io.use((socket, next) => (++attempts === 1 ? next(new Error("try again")) : next()));
      const client = h.client(port, "/", opts);
      const [err] = await waitFor(client, "connect_error");
      assert.strictEqual(err.message, "try again");
      client.connect();
      await connected(client);
      assert.strictEqual(attempts, 2);
    });

    it("leaves the rooms joined in a middleware that then fails", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.use((socket, next) => {
        socket.join("room1");
        next(new Error("nope"));
      });
      const client = h.client(port, "/", opts);
      await waitFor(client, "connect_error");
      assert.strictEqual(io.of("/").adapter.rooms.size, 0);
      assert.strictEqual(io.of("/").adapter.sids.size, 0);
    });

    it("ignores next() called after the client went away", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      let client;
      const closed = deferred();
      io.use((socket, next) => {
        socket.conn.on("close", () => {
          next();
          closed.resolve();
        });
        client.io.engine.close();
      });
      const noConnection = expectNoEvent(io, "connection", 150);
      client = h.client(port, "/", opts);
      await closed.promise;
      await noConnection;
      assert.strictEqual(io.of("/").sockets.size, 0);
    });
  });

  describe(`packet middlewares: socket.use (${transport})`, () => {
    it("runs in order with the event array, which can be modified", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const done = deferred();
      io.on("connection", (socket) => {
        let run = 0;
        socket.use((event, next) => {
          assert.deepStrictEqual(event, ["join", "woot"]);
          event.unshift("wrap");
          run++;
          next();
        });
        socket.use((event, next) => {
          assert.deepStrictEqual(event, ["wrap", "join", "woot"]);
          run++;
          next();
        });
        socket.on("wrap", (a, b) => done.resolve([a, b, run]));
      });
      const client = await h.connect(port, "/", opts);
      client.emit("join", "woot");
      assert.deepStrictEqual(await done.promise, ["join", "woot", 2]);
    });

    it("sees the acknowledgement callback as the last element", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.on("connection", (socket) => {
        socket.use((event, next) => {
          assert.strictEqual(typeof event[event.length - 1], "function");
          next();
        });
        socket.on("q", (a, cb) => cb(a * 2));
      });
      const client = await h.connect(port, "/", opts);
      assert.strictEqual(await client.timeout(2000).emitWithAck("q", 21), 42);
    });

    it("emits 'error' on the socket for next(err); the handler and later middlewares are skipped", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const error = deferred();
      let handled = false;
      io.on("connection", (socket) => {
        socket.use((event, next) => next(new Error("Authentication error")));
        socket.use(() => assert.fail("must not run"));
        socket.on("join", () => (handled = true));
        socket.on("error", (err) => error.resolve(err));
      });
      const client = await h.connect(port, "/", opts);
      client.emit("join", "woot");
      const err = await error.promise;
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, "Authentication error");
      assert.strictEqual(handled, false);
      // the socket stays connected
      await expectNoEvent(client, "disconnect", 50);
      assert.strictEqual(client.connected, true);
    });

    it("can reject only some events", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const got = successAfter(2);
      const errors = [];
      io.on("connection", (socket) => {
        socket.use(([event], next) => (event === "forbidden" ? next(new Error("forbidden")) : next()));
        socket.on("error", (err) => errors.push(err.message));
        socket.on("allowed", got);
        socket.on("forbidden", () => assert.fail("must not be handled"));
      });
      const client = await h.connect(port, "/", opts);
      client.emit("allowed", 1);
      client.emit("forbidden", 2);
      client.emit("allowed", 3);
      assert.deepStrictEqual(await got.promise, [[1], [3]]);
      assert.deepStrictEqual(errors, ["forbidden"]);
    });
  });
}

describe("connection middlewares (raw protocol)", () => {
  it("sends CONNECT_ERROR with message and data, and keeps the connection open", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.use((socket, next) => {
      const err = new Error("nope");
      if (socket.handshake.auth.withData) err.data = { a: "b", c: 3 };
      next(err);
    });
    const raw = await h.rawWebSocket(port);
    raw.send('40{"withData":true}');
    assert.strictEqual(await raw.next(), '44{"message":"nope","data":{"a":"b","c":3}}');
    raw.send("40");
    assert.strictEqual(await raw.next(), '44{"message":"nope"}');
    raw.send("40/other,");
    assert.strictEqual(await raw.next(), '44/other,{"message":"Invalid namespace"}');
    assert.strictEqual(raw.closeCode, null);
  });
});
