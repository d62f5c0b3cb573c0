/** Socket.IO layer: connecting to the main namespace, socket identity, multiplexing. */
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
} = require("./support/sio-helpers");

for (const transport of TRANSPORTS) {
  describe(`connection (${transport})`, () => {
    it("fires both 'connect' and 'connection' with the same connected socket", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const onConnect = waitFor(io, "connect");
      const onConnection = waitFor(io, "connection");
      const client = await h.connect(port, "/", { transports: [transport] });
      const [[a], [b]] = await Promise.all([onConnect, onConnection]);

      assert.strictEqual(a, b);
      assert.ok(a instanceof impl.Socket, "socket is an instance of the exported Socket class");
      assert.strictEqual(a.id, client.id);
      assert.strictEqual(typeof a.id, "string");
      assert.strictEqual(a.connected, true);
      assert.strictEqual(a.disconnected, false);
      assert.strictEqual(a.recovered, false);
      assert.deepStrictEqual(a.data, {});
      assert.strictEqual(a.nsp, io.sockets);
      assert.strictEqual(a.nsp.name, "/");
      assert.strictEqual(io.of("/").sockets.get(a.id), a);
      assert.strictEqual(io.of("/").sockets.size, 1);
      assert.deepStrictEqual([...a.rooms], [a.id], "a socket is in its own room only");
    });

    it("exposes the underlying connection, which is not identified by the socket id", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const client = await h.connect(port, "/", { transports: [transport] });
      const socket = serverSocketOf(io, client);

      assert.strictEqual(typeof socket.conn, "object");
      assert.strictEqual(socket.client.conn, socket.conn);
      assert.strictEqual(socket.conn.id, client.io.engine.id, "conn.id is the Engine.IO session id");
      assert.notStrictEqual(socket.id, socket.conn.id, "the socket id must not reuse the Engine.IO id");
      assert.strictEqual(socket.conn.transport.name, transport);
      assert.strictEqual(typeof socket.request.headers, "object");
      assert.strictEqual(socket.request, socket.client.request);
    });

    it("gives each connection its own socket and id", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const c1 = await h.connect(port, "/", { transports: [transport] });
      const c2 = await h.connect(port, "/", { transports: [transport] });
      assert.notStrictEqual(c1.id, c2.id);
      assert.strictEqual(io.of("/").sockets.size, 2);
      assert.notStrictEqual(serverSocketOf(io, c1).conn.id, serverSocketOf(io, c2).conn.id);
    });

    it("multiplexes several namespaces over one connection, with one socket (and id) each", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/chat");
      const main = await h.connect(port, "/", { transports: [transport] });
      const chat = h.trackClient(main.io.socket("/chat"));
      await connected(chat);

      const s1 = serverSocketOf(io, main, "/");
      const s2 = serverSocketOf(io, chat, "/chat");
      assert.notStrictEqual(s1.id, s2.id);
      assert.strictEqual(s1.conn.id, s2.conn.id, "both namespaces share the Engine.IO connection");
      assert.strictEqual(s2.nsp.name, "/chat");
      assert.strictEqual(s2.nsp, io.of("/chat"));
    });

    it("does not connect the main namespace when the client only asks for another one", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const chatConnection = waitFor(io.of("/chat"), "connection");
      const noMain = expectNoEvent(io, "connection", 300);
      await h.connect(port, "/chat", { transports: [transport] });
      await chatConnection;
      await noMain;
      assert.strictEqual(io.of("/").sockets.size, 0);
    });

    it("delivers events emitted in the 'connection' handler after the client's 'connect'", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.on("connection", (socket) => {
        socket.emit("welcome", 1);
        socket.emit("welcome", 2);
      });
      const client = h.client(port, "/", { transports: [transport] });
      const order = [];
      client.on("connect", () => order.push("connect"));
      const got = successAfter(2);
      client.on("welcome", (n) => {
        order.push(n);
        got();
      });
      await got.promise;
      assert.deepStrictEqual(order, ["connect", 1, 2]);
    });

    it("delivers events the client emitted before being connected, in order", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const received = successAfter(3);
      io.on("connection", (socket) => socket.on("early", received));
      const client = h.client(port, "/", { transports: [transport] });
      client.emit("early", 1);
      client.emit("early", 2);
      client.emit("early", 3);
      const calls = await received.promise;
      assert.deepStrictEqual(calls, [[1], [2], [3]]);
    });

    it("does not fire events twice after the client reconnects by hand", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const connections = [];
      io.on("connection", (s) => connections.push(s));
      const client = await h.connect(port, "/", { transports: [transport] });
      const firstId = client.id;

      const disconnected = waitFor(client, "disconnect");
      client.io.engine.close();
      await disconnected;

      let connects = 0;
      client.on("connect", () => connects++);
      client.connect();
      await waitFor(client, "connect");
      await expectNoEvent(client, "connect", 200);
      assert.strictEqual(connects, 1);
      assert.strictEqual(connections.length, 2);
      assert.notStrictEqual(client.id, firstId, "a new session gets a new id (no recovery configured)");
      assert.strictEqual(connections[1].id, client.id);
    });

    it("reconnects automatically after the transport was closed, as a new socket", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const client = await h.connect(port, "/", {
        transports: [transport],
        reconnection: true,
        reconnectionDelay: 20,
        reconnectionDelayMax: 20,
      });
      const firstId = client.id;
      const serverSocket = serverSocketOf(io, client);
      const serverDisconnect = waitFor(serverSocket, "disconnect");
      const reconnection = waitFor(io, "connection");
      client.io.engine.close();
      const [reason] = await serverDisconnect;
      assert.strictEqual(reason, "transport close");
      const [socket] = await reconnection;
      await connected(client);
      assert.strictEqual(socket.id, client.id);
      assert.notStrictEqual(socket.id, firstId);
      assert.strictEqual(socket.recovered, false);
    });
  });
}

describe("connection (upgrade)", () => {
  it("keeps the socket when the client upgrades from polling to websocket", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const client = h.client(port, "/"); // default transports: polling, then upgrade
    const upgraded = waitFor(client.io, "open").then(() => waitFor(client.io.engine, "upgrade"));
    await connected(client);
    const socket = serverSocketOf(io, client);
    await upgraded;
    if (socket.conn.transport.name !== "websocket") await waitFor(socket.conn, "upgrade");
    assert.strictEqual(socket.conn.transport.name, "websocket");
    assert.strictEqual(io.of("/").sockets.get(client.id), socket);
    socket.on("ping-me", (n, ack) => ack(n + 1));
    const reply = await client.timeout(2000).emitWithAck("ping-me", 41);
    assert.strictEqual(reply, 42);
  });
});

describe("connection (raw protocol)", () => {
  it("answers a CONNECT with the socket id only (no pid without recovery)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    const packets = await raw.poll();
    const [socket] = await connection;
    assert.strictEqual(packets.length, 1);
    assert.ok(packets[0].startsWith("40{"), packets[0]);
    assert.deepStrictEqual(JSON.parse(packets[0].slice(2)), { sid: socket.id });
  });

  it("answers a CONNECT to a custom namespace with the namespace prefix", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io.of("/chat"), "connection");
    const raw = await h.rawWebSocket(port);
    raw.send("40/chat,");
    const msg = await raw.next();
    const [socket] = await connection;
    assert.strictEqual(msg, `40/chat,{"sid":"${socket.id}"}`);
  });

  it("passes the CONNECT payload as handshake.auth", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    raw.send('40{"token":"abc","n":1}');
    const [socket] = await connection;
    assert.deepStrictEqual(socket.handshake.auth, { token: "abc", n: 1 });
    const msg = await raw.next();
    assert.strictEqual(msg, `40{"sid":"${socket.id}"}`);
  });

  it("sends events as Engine.IO message packets with the Socket.IO EVENT encoding", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.of("/chat").on("connection", (socket) => {
      socket.emit("hello", "world", { a: [1, 2] });
      socket.on("from-client", (...args) => socket.emit("echo", ...args));
    });
    const raw = await h.rawWebSocket(port);
    raw.send("40/chat,");
    assert.match(await raw.next(), /^40\/chat,\{"sid":"[^"]+"\}$/);
    assert.strictEqual(await raw.next(), '42/chat,["hello","world",{"a":[1,2]}]');
    raw.send('42/chat,["from-client",null,true,1.5]');
    assert.strictEqual(await raw.next(), '42/chat,["echo",null,true,1.5]');
  });
});
