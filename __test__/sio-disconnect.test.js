/** Socket.IO layer: disconnection, every server-side disconnect reason, 'disconnecting'. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  connected,
  serverSocketOf,
  successAfter,
  deferred,
  connectedPair,
} = require("./support/sio-helpers");

function pair(t, transport, serverOpts = {}, clientOpts = {}) {
  return connectedPair(t, transport, { serverOpts, clientOpts });
}

/** Records the server-side 'disconnecting' / 'disconnect' events of a socket. */
function record(socket) {
  const events = [];
  const done = deferred(5000, "server-side disconnect");
  socket.on("disconnecting", (reason) => {
    events.push({
      event: "disconnecting",
      reason,
      connected: socket.connected,
      rooms: [...socket.rooms].sort(),
      inNamespace: socket.nsp.sockets.has(socket.id),
    });
  });
  socket.on("disconnect", (reason, description) => {
    events.push({
      event: "disconnect",
      reason,
      connected: socket.connected,
      rooms: [...socket.rooms],
      inNamespace: socket.nsp.sockets.has(socket.id),
    });
    done.resolve({ reason, description, events });
  });
  return done.promise;
}

for (const transport of TRANSPORTS) {
  describe(`disconnect reasons (${transport}, real client)`, () => {
    it('"client namespace disconnect" when the client calls disconnect()', async (t) => {
      const { client, socket } = await pair(t, transport);
      const server = record(socket);
      const clientSide = waitFor(client, "disconnect");
      client.disconnect();
      assert.strictEqual((await server).reason, "client namespace disconnect");
      assert.strictEqual((await clientSide)[0], "io client disconnect");
    });

    it('"server namespace disconnect" on socket.disconnect(); the client does not reconnect', async (t) => {
      const { io, client, socket } = await pair(t, transport, {}, { reconnection: true, reconnectionDelay: 10 });
      const server = record(socket);
      const clientSide = waitFor(client, "disconnect");
      assert.strictEqual(socket.disconnect(), socket);
      assert.strictEqual((await server).reason, "server namespace disconnect");
      assert.strictEqual((await clientSide)[0], "io server disconnect");
      assert.strictEqual(socket.connected, false);
      assert.strictEqual(socket.disconnected, true);
      await expectNoEvent(io, "connection", 150);
    });

    it('"transport close" when the client closes the connection', async (t) => {
      const { client, socket } = await pair(t, transport);
      const server = record(socket);
      const clientSide = waitFor(client, "disconnect");
      client.io.engine.close();
      assert.strictEqual((await server).reason, "transport close");
      assert.strictEqual((await clientSide)[0], "forced close");
    });

    it('"forced close" when the server closes the underlying connection', async (t) => {
      const { client, socket } = await pair(t, transport);
      const server = record(socket);
      const clientSide = waitFor(client, "disconnect");
      socket.conn.close();
      assert.strictEqual((await server).reason, "forced close");
      assert.strictEqual((await clientSide)[0], "transport close");
    });

    it('"server shutting down" on io.close()', async (t) => {
      const { io, client, socket } = await pair(t, transport);
      const server = record(socket);
      const clientSide = waitFor(client, "disconnect");
      io.close();
      assert.strictEqual((await server).reason, "server shutting down");
      await clientSide;
      assert.strictEqual(client.connected, false);
    });

    it("'disconnecting' fires first, with the rooms still joined; 'disconnect' after cleanup", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.join(["a", "b"]);
      const server = record(socket);
      client.disconnect();
      const { events } = await server;
      assert.deepStrictEqual(events, [
        {
          event: "disconnecting",
          reason: "client namespace disconnect",
          connected: true,
          rooms: [socket.id, "a", "b"].sort(),
          inNamespace: true,
        },
        {
          event: "disconnect",
          reason: "client namespace disconnect",
          connected: false,
          rooms: [],
          inNamespace: false,
        },
      ]);
    });

    it("'disconnecting' also sees the rooms when the transport closes", async (t) => {
      const { client, socket, io } = await pair(t, transport);
      socket.join("a");
      const server = record(socket);
      client.io.engine.close();
      const { events } = await server;
      assert.deepStrictEqual(events[0].rooms, [socket.id, "a"].sort());
      assert.strictEqual(events[0].reason, "transport close");
      assert.deepStrictEqual(events[1].rooms, []);
      assert.strictEqual(io.of("/").adapter.rooms.size, 0);
    });

    it("is idempotent: a second disconnect() emits nothing", async (t) => {
      const { socket } = await pair(t, transport);
      const count = successAfter(1);
      socket.on("disconnect", count);
      socket.disconnect();
      await count.promise;
      assert.strictEqual(socket.disconnect(), socket);
      socket.disconnect(true);
      await expectNoEvent(socket, "disconnect", 50);
      count.assertExact();
    });

    it("does not join rooms after the disconnection", async (t) => {
      const { io, client, socket } = await pair(t, transport);
      const clientSide = waitFor(client, "disconnect");
      socket.disconnect();
      socket.join("room1");
      await clientSide;
      assert.strictEqual(io.of("/").adapter.rooms.size, 0);
      assert.strictEqual(socket.rooms.size, 0);
    });

    it("a namespace disconnect leaves the other namespaces of the connection alive", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/foo");
      const main = await h.connect(port, "/", { transports: [transport] });
      const foo = h.trackClient(main.io.socket("/foo"));
      await connected(foo);
      const fooServer = record(serverSocketOf(io, foo, "/foo"));
      const mainSocket = serverSocketOf(io, main);
      foo.disconnect();
      assert.strictEqual((await fooServer).reason, "client namespace disconnect");
      mainSocket.on("echo", (v, cb) => cb(v));
      assert.strictEqual(await main.timeout(2000).emitWithAck("echo", "alive"), "alive");
      assert.strictEqual(mainSocket.connected, true);
    });
  });
}

describe("disconnect reasons (transport-specific and raw protocol)", () => {
  it('"transport error" when a websocket message exceeds maxHttpBufferSize', async (t) => {
    const { client, socket } = await pair(t, "websocket", { maxHttpBufferSize: 1000 });
    const server = record(socket);
    const clientSide = waitFor(client, "disconnect");
    client.emit("big", "x".repeat(2000));
    const { reason, description } = await server;
    assert.strictEqual(reason, "transport error");
    assert.ok(description instanceof Error);
    await clientSide;
  });

  it('"transport error" when a (raw) websocket client sends a ping (wrong heartbeat direction)', async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    const [socket] = await connection;
    const server = record(socket);
    raw.send("2");
    const { reason, description } = await server;
    assert.strictEqual(reason, "transport error");
    assert.ok(description instanceof Error);
    assert.strictEqual(description.message, "invalid heartbeat direction");
    await raw.waitClosed();
  });

  it('"transport error" when a (raw) polling client overlaps two GET requests', async (t) => {
    const h = harness(t);
    const { io, port, httpServer } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    await raw.poll(); // CONNECT answer
    const [socket] = await connection;
    const server = record(socket);
    const { response: first } = await raw.pendingPoll(httpServer);
    const second = raw.pollResponse();
    const { reason } = await server;
    assert.strictEqual(reason, "transport error");
    assert.strictEqual((await second).status, 400);
    assert.deepStrictEqual(await first, ["1"], "the pending poll gets the close packet");
  });

  it('"ping timeout" when a (raw) websocket client does not answer pings', async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ pingInterval: 50, pingTimeout: 50 });
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    assert.strictEqual(raw.handshake.pingInterval, 50);
    assert.strictEqual(raw.handshake.pingTimeout, 50);
    raw.send("40");
    const [socket] = await connection;
    const server = record(socket);
    assert.strictEqual((await server).reason, "ping timeout");
    await raw.waitClosed();
  });

  it('"ping timeout" when a (raw) polling client does not answer pings', async (t) => {
    const h = harness(t);
    const { io, port, httpServer } = await h.server({ pingInterval: 200, pingTimeout: 800 });
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    await raw.poll(); // CONNECT answer
    const [socket] = await connection;
    const server = record(socket);
    assert.deepStrictEqual(await raw.poll(), ["2"], "the server pings");
    // keep polling without answering the ping
    const { response } = await raw.pendingPoll(httpServer);
    assert.strictEqual((await server).reason, "ping timeout");
    assert.deepStrictEqual(await response, ["1"]);
  });

  it("keeps the connection while the client answers pings", async (t) => {
    const { client, socket } = await pair(t, "websocket", { pingInterval: 50, pingTimeout: 2000 });
    await waitFor(socket.conn, "heartbeat");
    await waitFor(socket.conn, "heartbeat");
    await waitFor(socket.conn, "heartbeat");
    assert.strictEqual(socket.connected, true);
    assert.strictEqual(client.connected, true);
  });

  it('"parse error" on an invalid Engine.IO packet (raw websocket)', async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    const [socket] = await connection;
    const server = record(socket);
    raw.send("x-not-a-packet");
    assert.strictEqual((await server).reason, "parse error");
    await raw.waitClosed();
  });

  it('"parse error" on an invalid Engine.IO packet (raw polling)', async (t) => {
    const h = harness(t);
    const { io, port, httpServer } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    await raw.poll();
    const [socket] = await connection;
    const server = record(socket);
    const { response } = await raw.pendingPoll(httpServer);
    await raw.send("x-not-a-packet");
    assert.strictEqual((await server).reason, "parse error");
    assert.deepStrictEqual(await response, ["1"]);
  });

  it("disconnect(true) disconnects every namespace and closes the connection (websocket client)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.of("/foo");
    io.of("/bar");
    const main = await h.connect(port, "/", { transports: ["websocket"] });
    const foo = h.trackClient(main.io.socket("/foo"));
    const bar = h.trackClient(main.io.socket("/bar"));
    await Promise.all([connected(foo), connected(bar)]);
    const servers = [
      record(serverSocketOf(io, main, "/")),
      record(serverSocketOf(io, foo, "/foo")),
      record(serverSocketOf(io, bar, "/bar")),
    ];
    const clientSide = Promise.all([main, foo, bar].map((c) => waitFor(c, "disconnect")));
    const closed = waitFor(serverSocketOf(io, main).conn, "close");
    serverSocketOf(io, bar, "/bar").disconnect(true);
    const reasons = (await Promise.all(servers)).map((r) => r.reason);
    assert.deepStrictEqual(reasons, Array(3).fill("server namespace disconnect"));
    assert.deepStrictEqual((await clientSide).map(([r]) => r), Array(3).fill("io server disconnect"));
    await closed;
  });

  it("disconnect(true) sends a DISCONNECT per namespace, then closes (raw polling)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.of("/foo");
    const raw = await h.rawPolling(port);
    const connections = Promise.all([waitFor(io, "connection"), waitFor(io.of("/foo"), "connection")]);
    await raw.send(["40", "40/foo,"]);
    const { packet } = await raw.pollUntil((p) => p.startsWith("40/foo,"));
    assert.match(packet, /^40\/foo,\{"sid":"[^"]+"\}$/);
    const [[mainSocket], [fooSocket]] = await connections;
    const servers = Promise.all([record(mainSocket), record(fooSocket)]);
    fooSocket.disconnect(true);
    const received = [];
    for (;;) {
      const packets = await raw.poll();
      received.push(...packets);
      if (packets.includes("1")) break;
    }
    assert.deepStrictEqual(received.filter((p) => p !== "6"), ["41", "41/foo,", "1"]);
    assert.deepStrictEqual((await servers).map((r) => r.reason), Array(2).fill("server namespace disconnect"));
  });

  // upstream closes the Engine.IO connection and then reports "forced server close"; when the
  // transport closes synchronously (websocket) the engine's own "forced close" is seen first
  it("closes everything when the client sends a second CONNECT for a connected namespace", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.of("/chat");
    const connections = Promise.all([waitFor(io, "connection"), waitFor(io.of("/chat"), "connection")]);
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    raw.send("40/chat,");
    const [[mainSocket], [chatSocket]] = await connections;
    const servers = Promise.all([record(mainSocket), record(chatSocket)]);
    raw.send("40/chat,");
    const reasons = (await servers).map((r) => r.reason);
    assert.strictEqual(reasons[0], reasons[1]);
    assert.ok(["forced close", "forced server close"].includes(reasons[0]), reasons[0]);
    await raw.waitClosed();
  });

  it("does not keep the disconnected sockets anywhere", async (t) => {
    const { io, client, socket } = await pair(t, "websocket");
    socket.join("room");
    const server = record(socket);
    client.disconnect();
    await server;
    assert.strictEqual(io.of("/").sockets.size, 0);
    assert.strictEqual(io.of("/").adapter.rooms.size, 0);
    assert.strictEqual(io.of("/").adapter.sids.size, 0);
    assert.deepStrictEqual([...(await io.allSockets())], []);
    assert.deepStrictEqual(await io.fetchSockets(), []);
  });
});
