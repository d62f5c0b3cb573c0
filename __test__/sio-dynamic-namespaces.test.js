/** Socket.IO layer: dynamic namespaces (of(regex), of(fn)), parent namespaces, cleanupEmptyChildNamespaces. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  impl,
  Server,
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  connected,
  serverSocketOf,
  successAfter,
} = require("./support/sio-helpers");

for (const transport of TRANSPORTS) {
  const opts = { transports: [transport] };

  describe(`dynamic namespaces (${transport})`, () => {
    it("accepts namespaces matching a regex; the parent's middlewares and listeners apply", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const calls = [];
      const parent = io.of(/^\/dynamic-\d+$/);
      assert.ok(parent instanceof impl.Namespace);
      parent
        .use((socket, next) => {
          calls.push(["use", socket.nsp.name]);
          next();
        })
        .on("connect", (socket) => calls.push(["connect", socket.nsp.name]))
        .on("connection", (socket) => calls.push(["connection", socket.nsp.name]));
      const client = await h.connect(port, "/dynamic-101", opts);
      assert.deepStrictEqual(calls, [
        ["use", "/dynamic-101"],
        ["connect", "/dynamic-101"],
        ["connection", "/dynamic-101"],
      ]);
      const socket = serverSocketOf(io, client, "/dynamic-101");
      assert.strictEqual(socket.nsp.name, "/dynamic-101");
      assert.notStrictEqual(socket.nsp, parent, "the socket belongs to a child namespace");
      assert.strictEqual(io.of("/dynamic-101"), socket.nsp, "the child is then a regular namespace");
    });

    it("broadcasts from the parent to every child namespace (and to rooms in them)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const parent = io.of(/^\/dynamic-\d+$/);
      const a = await h.connect(port, "/dynamic-1", opts);
      const b = await h.connect(port, "/dynamic-2", opts);
      const got = successAfter(2);
      a.on("hello", (...args) => got("a", ...args));
      b.on("hello", (...args) => got("b", ...args));
      parent.emit("hello", 1, "2", { 3: "4" });
      const calls = (await got.promise).sort();
      assert.deepStrictEqual(calls, [
        ["a", 1, "2", { 3: "4" }],
        ["b", 1, "2", { 3: "4" }],
      ]);

      serverSocketOf(io, b, "/dynamic-2").join("some-room");
      const inRoom = waitFor(b, "room");
      const notA = expectNoEvent(a, "room", 100);
      parent.to("some-room").emit("room", 4);
      assert.deepStrictEqual(await inRoom, [4]);
      await notA;
    });

    it("accepts namespaces allowed by a function (name, auth, next)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const seen = [];
      io.of((name, auth, next) => {
        seen.push([name, auth]);
        next(null, name === "/dynamic-101");
      });
      await h.connect(port, "/dynamic-101", { ...opts, auth: { token: "t" } });
      assert.deepStrictEqual(seen, [["/dynamic-101", { token: "t" }]]);
      const denied = h.client(port, "/other", opts);
      const [err] = await waitFor(denied, "connect_error");
      assert.strictEqual(err.message, "Invalid namespace");
    });

    it("refuses with 'Invalid namespace' when no parent matches or the function errors", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of(/^\/dynamic-\d+$/);
      io.of((name, auth, next) => next(name === "/boom" ? new Error("boom") : null, name === "/boom"));
      for (const nsp of ["/abc", "/boom"]) {
        const client = h.client(port, nsp, opts);
        const [err] = await waitFor(client, "connect_error");
        assert.strictEqual(err.message, "Invalid namespace", nsp);
      }
    });

    it("emits 'new_namespace' for a created child namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of(/^\/dynamic-\d+$/);
      const created = waitFor(io, "new_namespace");
      await h.connect(port, "/dynamic-101", opts);
      const [nsp] = await created;
      assert.strictEqual(nsp.name, "/dynamic-101");
    });

    it("creates a child only once when two clients race for it", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      let created = 0;
      io.on("new_namespace", () => created++);
      const pending = [];
      const bothConnected = successAfter(2);
      io.of((name, auth, next) => {
        pending.push(next);
        if (pending.length === 2) pending.forEach((fn) => fn(null, true));
      }).on("connection", bothConnected);
      const one = h.client(port, "/dynamic-101", opts);
      const two = h.client(port, "/dynamic-101", opts);
      await Promise.all([connected(one), connected(two)]);
      const [[s1], [s2]] = await bothConnected.promise;
      assert.strictEqual(created, 1);
      assert.strictEqual(s1.nsp, s2.nsp);
      const got = successAfter(2);
      one.on("message", got);
      two.on("message", got);
      io.of("/dynamic-101").emit("message", "hi");
      await got.promise;
    });

    it("attaches a manually created matching namespace to its parent", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const parent = io.of(/^\/dynamic-\d+$/);
      const connections = [];
      parent.on("connection", (s) => connections.push(s.nsp.name));
      const child = io.of("/dynamic-101");
      assert.strictEqual(io.of("/dynamic-101"), child);
      const client = await h.connect(port, "/dynamic-101", opts);
      assert.deepStrictEqual(connections, ["/dynamic-101"]);
      const got = waitFor(client, "from-parent");
      parent.emit("from-parent", 1);
      assert.deepStrictEqual(await got, [1]);
    });

    it("does not support fetchSockets() on a parent namespace", async (t) => {
      const h = harness(t);
      const { io } = await h.server();
      const parent = io.of(/^\/dynamic-\d+$/);
      assert.throws(() => parent.fetchSockets(), { message: "fetchSockets() is not supported on parent namespaces" });
    });
  });

  describe(`cleanupEmptyChildNamespaces (${transport})`, () => {
    it("removes an emptied child namespace, and recreates it on the next connection", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ cleanupEmptyChildNamespaces: true });
      let created = 0;
      io.on("new_namespace", () => created++);
      io.of(/^\/dynamic-\d+$/);
      const first = await h.connect(port, "/dynamic-101", opts);
      const firstNsp = serverSocketOf(io, first, "/dynamic-101").nsp;
      const gone = waitFor(serverSocketOf(io, first, "/dynamic-101"), "disconnect");
      first.disconnect();
      await gone;
      assert.strictEqual(created, 1);

      const second = await h.connect(port, "/dynamic-101", opts);
      const secondNsp = serverSocketOf(io, second, "/dynamic-101").nsp;
      assert.strictEqual(created, 2, "a new child namespace was created");
      assert.notStrictEqual(secondNsp, firstNsp);
      assert.strictEqual(io.of("/dynamic-101"), secondNsp);
    });

    it("keeps an emptied child namespace when the option is off (default)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      let created = 0;
      io.on("new_namespace", () => created++);
      io.of(/^\/dynamic-\d+$/);
      const first = await h.connect(port, "/dynamic-101", opts);
      const nsp = serverSocketOf(io, first, "/dynamic-101").nsp;
      const gone = waitFor(serverSocketOf(io, first, "/dynamic-101"), "disconnect");
      first.disconnect();
      await gone;
      assert.strictEqual(nsp.sockets.size, 0);
      const second = await h.connect(port, "/dynamic-101", opts);
      assert.strictEqual(serverSocketOf(io, second, "/dynamic-101").nsp, nsp);
      assert.strictEqual(created, 1);
    });

    it("never removes a static namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ cleanupEmptyChildNamespaces: true });
      const chat = io.of("/chat");
      const c1 = await h.connect(port, "/chat", opts);
      const gone = waitFor(serverSocketOf(io, c1, "/chat"), "disconnect");
      c1.disconnect();
      await gone;
      assert.strictEqual(chat.sockets.size, 0);
      const c2 = await h.connect(port, "/chat", opts);
      assert.strictEqual(serverSocketOf(io, c2, "/chat").nsp, chat);
      assert.strictEqual(io.of("/chat"), chat);
    });

    it("removes the child when its only client is rejected by a middleware (option on)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ cleanupEmptyChildNamespaces: true });
      const created = [];
      io.on("new_namespace", (nsp) => created.push(nsp));
      io.of(/^\/dynamic-\d+$/).use((socket, next) => next(new Error("You shall not pass!")));
      for (let i = 0; i < 2; i++) {
        const client = h.client(port, "/dynamic-101", opts);
        const [err] = await waitFor(client, "connect_error");
        assert.strictEqual(err.message, "You shall not pass!");
      }
      assert.strictEqual(created.length, 2, "each attempt created a fresh child");
      assert.notStrictEqual(created[0], created[1]);
    });

    it("keeps the child when a client is rejected by a middleware (option off)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ cleanupEmptyChildNamespaces: false });
      const created = [];
      io.on("new_namespace", (nsp) => created.push(nsp));
      io.of(/^\/dynamic-\d+$/).use((socket, next) => next(new Error("You shall not pass!")));
      for (let i = 0; i < 2; i++) {
        const client = h.client(port, "/dynamic-101", opts);
        await waitFor(client, "connect_error");
      }
      assert.strictEqual(created.length, 1);
      assert.strictEqual(created[0].sockets.size, 0);
    });

    it("keeps the child when a rejected client leaves others connected (option on)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ cleanupEmptyChildNamespaces: true });
      const created = [];
      io.on("new_namespace", (nsp) => created.push(nsp));
      let attempts = 0;
      io.of(/^\/dynamic-\d+$/).use((socket, next) =>
        attempts++ ? next(new Error("You shall not pass!")) : next(),
      );
      const c1 = await h.connect(port, "/dynamic-101", opts);
      const c2 = h.client(port, "/dynamic-101", opts);
      await waitFor(c2, "connect_error");
      assert.strictEqual(created.length, 1);
      assert.strictEqual(created[0].sockets.size, 1);
      assert.strictEqual(io.of("/dynamic-101"), created[0]);
      assert.ok(created[0].sockets.has(c1.id));
    });
  });
}

describe("dynamic namespaces (no network)", () => {
  it("returns a new parent namespace for each regex or function", () => {
    const io = new Server();
    const a = io.of(/^\/a-\d+$/);
    const b = io.of(/^\/a-\d+$/);
    const c = io.of(() => {});
    assert.notStrictEqual(a, b);
    assert.ok(c instanceof impl.Namespace);
    for (const p of [a, b, c]) assert.strictEqual(typeof p.name, "string");
  });
});
