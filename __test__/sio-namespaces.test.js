/** Socket.IO layer: static namespaces (io.of), isolation, namespace-level API. */
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

describe("namespaces (no network)", () => {
  it("exposes the main namespace as io.sockets, a Namespace named '/'", (t) => {
    const io = new Server(); // never attached: nothing to close
    assert.ok(io.sockets instanceof impl.Namespace);
    assert.strictEqual(io.sockets.name, "/");
    assert.strictEqual(io.of("/"), io.sockets);
    assert.strictEqual(io.of(""), io.sockets, '"" is the main namespace');
  });

  it("offers the namespace API on the server itself", (t) => {
    const io = new Server(); // never attached: nothing to close
    for (const method of [
      "use",
      "to",
      "in",
      "except",
      "emit",
      "send",
      "write",
      "allSockets",
      "compress",
      "timeout",
      "fetchSockets",
      "socketsJoin",
      "socketsLeave",
      "disconnectSockets",
      "serverSideEmit",
      "serverSideEmitWithAck",
      "of",
      "close",
      "listen",
      "attach",
      "on",
      "once",
      "off",
      "emit",
    ]) {
      assert.strictEqual(typeof io[method], "function", `io.${method} should be a function`);
    }
    assert.strictEqual(typeof io.volatile.emit, "function");
    assert.strictEqual(typeof io.local.emit, "function");
  });

  it("returns the same namespace for the same name, with or without the leading slash", (t) => {
    const io = new Server(); // never attached: nothing to close
    const a = io.of("/abc");
    assert.ok(a instanceof impl.Namespace);
    assert.strictEqual(a.name, "/abc");
    assert.strictEqual(io.of("/abc"), a);
    assert.strictEqual(io.of("abc"), a);
  });

  it("emits 'new_namespace' once per created namespace (not for '/')", (t) => {
    const io = new Server(); // never attached: nothing to close
    const created = [];
    io.on("new_namespace", (nsp) => created.push(nsp));
    const nsp = io.of("/nsp");
    io.of("/nsp");
    io.of("/");
    assert.strictEqual(created.length, 1);
    assert.strictEqual(created[0], nsp);
    assert.strictEqual(created[0].name, "/nsp");
  });

  it("throws on reserved event names", (t) => {
    const io = new Server(); // never attached: nothing to close
    for (const ev of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      assert.throws(() => io.emit(ev), { message: `"${ev}" is a reserved event name` });
      assert.throws(() => io.of("/x").emit(ev), { message: `"${ev}" is a reserved event name` });
      assert.throws(() => io.to("room").emit(ev), { message: `"${ev}" is a reserved event name` });
    }
  });
});

for (const transport of TRANSPORTS) {
  describe(`namespaces (${transport})`, () => {
    const opts = { transports: [transport] };

    it("connects clients to several namespaces", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/chat");
      io.of("/news");
      const chat = await h.connect(port, "/chat", opts);
      const news = await h.connect(port, "/news", opts);
      assert.strictEqual(serverSocketOf(io, chat, "/chat").nsp.name, "/chat");
      assert.strictEqual(serverSocketOf(io, news, "/news").nsp.name, "/news");
      assert.strictEqual(io.of("/chat").sockets.size, 1);
      assert.strictEqual(io.of("/news").sockets.size, 1);
      assert.strictEqual(io.of("/").sockets.size, 0);
    });

    it("treats '' and '/' (server side and client side) as the main namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const got = successAfter(2);
      io.of("").on("connection", got);
      await h.connect(port, "", opts);
      await h.connect(port, "/", opts);
      await got.promise;
      assert.strictEqual(io.of("/").sockets.size, 2);
    });

    it("fires 'connect' (incl. the of(name, fn) listener) then 'connection'", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const calls = [];
      io.of("/news").on("connection", (s) => calls.push(["connection", s.id]));
      io.of("/news", (s) => calls.push(["fn", s.id]));
      io.of("/news").on("connect", (s) => calls.push(["connect", s.id]));
      const client = await h.connect(port, "/news", opts);
      assert.deepStrictEqual(calls, [
        ["fn", client.id],
        ["connect", client.id],
        ["connection", client.id],
      ]);
    });

    it("creates a namespace on first connection only if it was declared (else 'Invalid namespace')", async (t) => {
      const h = harness(t);
      const { port } = await h.server();
      const client = h.client(port, "/doesnotexist", opts);
      const [err] = await waitFor(client, "connect_error");
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, "Invalid namespace");
      assert.strictEqual(client.connected, false);
    });

    it("keeps the other namespaces of a multiplexed connection working after an invalid one", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const main = await h.connect(port, "/", opts);
      const bad = h.trackClient(main.io.socket("/nope"));
      const [err] = await waitFor(bad, "connect_error");
      assert.strictEqual(err.message, "Invalid namespace");
      serverSocketOf(io, main).on("echo", (v, ack) => ack(v));
      assert.strictEqual(await main.timeout(2000).emitWithAck("echo", "still here"), "still here");
    });

    it("isolates namespaces: io.emit and namespace emits reach only their own namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/test");
      const main1 = await h.connect(port, "/", opts);
      const main2 = await h.connect(port, "/", opts);
      const test = await h.connect(port, "/test", opts);
      const mainGot = successAfter(2);
      main1.on("a", mainGot);
      main2.on("a", mainGot);
      const testGot = waitFor(test, "b");
      const noA = expectNoEvent(test, "a");
      const noB1 = expectNoEvent(main1, "b");
      io.emit("a", "x");
      io.of("/test").emit("b", "y");
      const calls = await mainGot.promise;
      assert.deepStrictEqual(calls, [["x"], ["x"]]);
      assert.deepStrictEqual(await testGot, ["y"]);
      await Promise.all([noA, noB1]);
    });

    it("does not reuse a socket across clients of the same namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const got = successAfter(2);
      io.on("connection", got);
      await h.connect(port, "/", opts);
      await h.connect(port, "/", opts);
      const [[s1], [s2]] = await got.promise;
      assert.notStrictEqual(s1, s2);
      assert.notStrictEqual(s1.id, s2.id);
    });

    it("lists the sockets of a namespace (and of a room) with allSockets()", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/chat");
      io.of("/other");
      const c1 = await h.connect(port, "/chat", opts);
      const c2 = await h.connect(port, "/chat", opts);
      const c3 = await h.connect(port, "/other", opts);
      serverSocketOf(io, c2, "/chat").join("foo");
      serverSocketOf(io, c3, "/other").join("foo");

      const all = await io.of("/chat").allSockets();
      assert.ok(all instanceof Set);
      assert.deepStrictEqual([...all].sort(), [c1.id, c2.id].sort());
      const inFoo = await io.of("/chat").in("foo").allSockets();
      assert.deepStrictEqual([...inFoo], [c2.id]);
      assert.deepStrictEqual([...(await io.allSockets())], []);
    });

    it("disconnect() (without true) leaves the other namespaces of the connection connected", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/foo");
      const main = await h.connect(port, "/", opts);
      const foo = h.trackClient(main.io.socket("/foo"));
      await connected(foo);
      const fooDisconnect = waitFor(foo, "disconnect");
      serverSocketOf(io, foo, "/foo").disconnect();
      assert.strictEqual((await fooDisconnect)[0], "io server disconnect");
      assert.strictEqual(main.connected, true);
      serverSocketOf(io, main).on("echo", (v, ack) => ack(v));
      assert.strictEqual(await main.timeout(2000).emitWithAck("echo", 5), 5);
    });

    it("excludes a given socket id or room from a namespace emit (except)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const nsp = io.of("/nsp");
      const c1 = await h.connect(port, "/nsp", opts);
      const c2 = await h.connect(port, "/nsp", opts);
      const c3 = await h.connect(port, "/nsp", opts);
      serverSocketOf(io, c3, "/nsp").join("room1");
      const got = waitFor(c1, "a");
      const no2 = expectNoEvent(c2, "a");
      const no3 = expectNoEvent(c3, "a");
      nsp.except(c2.id).except("room1").emit("a", 1);
      assert.deepStrictEqual(await got, [1]);
      await Promise.all([no2, no3]);
    });
  });
}
