/** Socket.IO layer: connectTimeout closes an Engine.IO connection that never joins a namespace. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { Manager } = require("socket.io-client");
const { Server, TRANSPORTS, harness, waitFor, expectNoEvent, serverSocketOf } = require("./support/sio-helpers");

const CONNECT_TIMEOUT = 300;

describe("connectTimeout (no network)", () => {
  it("defaults to 45000 ms and can be read and set", () => {
    const io = new Server();
    assert.strictEqual(io.connectTimeout(), 45000);
    assert.strictEqual(io.connectTimeout(1234), io);
    assert.strictEqual(io.connectTimeout(), 1234);
    assert.strictEqual(new Server({ connectTimeout: 10 }).connectTimeout(), 10);
  });
});

for (const transport of TRANSPORTS) {
  describe(`connectTimeout (${transport})`, () => {
    it("closes a connection that joined no namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
      const engineConnection = waitFor(io.engine, "connection");
      // a Manager opens the Engine.IO connection without connecting any namespace
      const manager = new Manager(`http://127.0.0.1:${port}`, {
        transports: [transport],
        reconnection: false,
        autoConnect: false,
      });
      h.cleanup(() => manager.engine && manager.engine.close());
      const opened = waitFor(manager, "open");
      const started = Date.now();
      manager.open();
      await opened;
      const [conn] = await engineConnection;
      const [reason] = await waitFor(conn, "close");
      assert.ok(Date.now() - started >= CONNECT_TIMEOUT - 5, "not before connectTimeout");
      assert.strictEqual(reason, "forced close");
      await waitFor(manager, "close");
    });

    it("keeps a connection that joined a namespace in time", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
      const client = await h.connect(port, "/", { transports: [transport] });
      await expectNoEvent(client, "disconnect", CONNECT_TIMEOUT + 200);
      assert.strictEqual(serverSocketOf(io, client).connected, true);
    });

    it("still closes a connection whose only CONNECT was rejected by a middleware", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
      io.use((socket, next) => next(new Error("nope")));
      const engineConnection = waitFor(io.engine, "connection");
      const client = h.client(port, "/", { transports: [transport] });
      const [conn] = await engineConnection;
      const closed = waitFor(conn, "close");
      await waitFor(client, "connect_error");
      await closed;
    });
  });
}

describe("connectTimeout (raw protocol)", () => {
  it("closes a raw websocket session that never sends CONNECT", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
    const started = Date.now();
    const raw = await h.rawWebSocket(port);
    await raw.waitClosed();
    assert.ok(Date.now() - started >= CONNECT_TIMEOUT - 5);
  });

  it("sends the close packet to a raw polling session that never sends CONNECT", async (t) => {
    const h = harness(t);
    const { port, httpServer } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
    const raw = await h.rawPolling(port);
    const { response } = await raw.pendingPoll(httpServer);
    assert.deepStrictEqual(await response, ["1"]);
    const after = await raw.pollResponse();
    assert.strictEqual(after.status, 400);
    assert.deepStrictEqual(JSON.parse(after.body), { code: 1, message: "Session ID unknown" });
  });

  it("closes a session whose only CONNECT targeted an invalid namespace", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
    const raw = await h.rawWebSocket(port);
    raw.send("40/nope,");
    assert.strictEqual(await raw.next(), '44/nope,{"message":"Invalid namespace"}');
    await raw.waitClosed();
  });

  it("keeps the session after its only namespace was left", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ connectTimeout: CONNECT_TIMEOUT });
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    assert.match(await raw.next(), /^40\{"sid":/);
    const [socket] = await connection;
    socket.disconnect(); // the namespace only; the Engine.IO connection stays
    assert.strictEqual(await raw.next(), "41");
    await expectNoEvent(socket.conn, "close", CONNECT_TIMEOUT + 200);
    assert.strictEqual(raw.closeCode, null);
    raw.send("40"); // and it can connect again
    assert.match(await raw.next(), /^40\{"sid":/);
  });

  it("does not close a session that connected in time", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ connectTimeout: CONNECT_TIMEOUT, pingInterval: 40, pingTimeout: 1000 });
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    assert.match(await raw.next(), /^40\{"sid":/);
    const deadline = Date.now() + CONNECT_TIMEOUT + 200;
    while (Date.now() < deadline) {
      const msg = await raw.next(1000); // pings keep arriving
      assert.strictEqual(msg, "2");
      raw.send("3");
    }
    assert.strictEqual(raw.closeCode, null);
  });
});
