/** Connection state recovery with the real client: sessions, missed packets, rooms, data, expiry, middlewares. */
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
  delay,
} = require("./support/sio-helpers");

/**
 * A recovery-enabled server and one client that already received an event (a client only
 * knows an offset once it got an event). Returns the first server-side socket too.
 */
async function setup(t, transport, recovery = {}, { clientOpts = {}, nsp = "/" } = {}) {
  const h = harness(t);
  const { io, port } = await h.server({ connectionStateRecovery: recovery });
  io.of(nsp);
  const connection = waitFor(io.of(nsp), "connection");
  const client = await h.connect(port, nsp, { transports: [transport], ...clientOpts });
  const [socket] = await connection;
  const hello = waitFor(client, "hello");
  socket.emit("hello");
  await hello;
  return { h, io, port, client, socket };
}

/** Closes the client's Engine.IO connection and waits until both sides saw the disconnection. */
async function dropConnection(client, socket) {
  const serverSide = waitFor(socket, "disconnect");
  const clientSide = waitFor(client, "disconnect");
  client.io.engine.close();
  const [[reason]] = await Promise.all([serverSide, clientSide]);
  return reason;
}

/** Records every event the client receives (name + args without the offset). */
function recordEvents(client) {
  const events = [];
  client.onAny((event, ...args) => {
    if (event === "__sync") return;
    if (typeof args[args.length - 1] === "string") args.pop(); // the offset
    events.push([event, ...args]);
  });
  return events;
}

/** Resolves once the client got every packet the server sent to `socket` before this call. */
async function sync(client, socket) {
  const got = waitFor(client, "__sync");
  socket.emit("__sync");
  await got;
}

for (const transport of TRANSPORTS) {
  describe(`connection state recovery (${transport})`, () => {
    it("restores id, rooms, data and the missed packets, in order and once", async (t) => {
      const { io, client, socket } = await setup(t, transport);
      assert.strictEqual(socket.recovered, false);
      assert.strictEqual(client.recovered, false);
      socket.join(["room1", "room2"]);
      socket.data.foo = "bar";
      const id = socket.id;

      assert.strictEqual(await dropConnection(client, socket), "transport close");

      // emitted while the client is away
      io.emit("missed", 1); // broadcast
      io.to("room1").emit("missed", 2); // room the socket was in
      socket.emit("missed", 3); // direct (the old socket object)
      io.to("other").emit("not-for-you", 4); // room it was not in
      io.except("room2").emit("not-for-you", 5); // excluded room
      io.emit("missed", 6, Buffer.from([6])); // binary
      for (let i = 7; i < 20; i++) io.to(id).emit("missed", i);

      const events = recordEvents(client);
      const order = [];
      client.once("connect", () => order.push("connect"));
      client.onAny((ev) => order.push(ev));
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;

      assert.strictEqual(recovered.recovered, true);
      assert.notStrictEqual(recovered, socket, "a new Socket object");
      assert.strictEqual(recovered.id, id);
      assert.deepStrictEqual([...recovered.rooms].sort(), [id, "room1", "room2"].sort());
      assert.deepStrictEqual(recovered.data, { foo: "bar" });
      assert.strictEqual(recovered.connected, true);
      assert.strictEqual(io.of("/").sockets.get(id), recovered);
      assert.strictEqual(client.recovered, true);
      assert.strictEqual(client.id, id);

      await sync(client, recovered);
      const expected = [["missed", 1], ["missed", 2], ["missed", 3]];
      assert.deepStrictEqual(events.slice(0, 3), expected);
      assert.strictEqual(events[3][0], "missed");
      assert.strictEqual(events[3][1], 6);
      assert.ok(Buffer.isBuffer(events[3][2]) && events[3][2].equals(Buffer.from([6])));
      assert.deepStrictEqual(
        events.slice(4),
        Array.from({ length: 13 }, (_, i) => ["missed", i + 7]),
      );
      const connectAt = order.indexOf("connect");
      assert.deepStrictEqual(order.slice(0, connectAt), Array(17).fill("missed"), "missed events come before 'connect'");

      // and the session keeps working
      recovered.on("echo", (v, cb) => cb(v));
      assert.strictEqual(await client.timeout(2000).emitWithAck("echo", "after"), "after");
    });

    it("restores exactly what was missed when the broadcasts of a turn went out together", async (t) => {
      const { io, client, socket } = await setup(t, transport);
      const events = recordEvents(client);
      for (let i = 1; i <= 5; i++) io.emit("m", i); // one turn: held back and queued together
      await sync(client, socket);
      await dropConnection(client, socket);
      for (let i = 6; i <= 10; i++) io.emit("m", i);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;
      assert.strictEqual(recovered.recovered, true);
      for (let i = 11; i <= 15; i++) io.emit("m", i);
      await sync(client, recovered);
      assert.deepStrictEqual(events, Array.from({ length: 15 }, (_, i) => ["m", i + 1]));
    });

    it("appends the offset as the last argument of each stored event", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      const got = successAfter(3);
      client.on("ev", (...args) => got(...args));
      socket.emit("ev", "a");
      io.emit("ev", "b", 2);
      io.to(socket.id).emit("ev");
      const calls = await got.promise;
      assert.deepStrictEqual(calls.map((c) => c.slice(0, -1)), [["a"], ["b", 2], []]);
      const offsets = calls.map((c) => c[c.length - 1]);
      offsets.forEach((o) => assert.strictEqual(typeof o, "string"));
      assert.strictEqual(new Set(offsets).size, 3, "each packet has its own offset");
    });

    it("does not store volatile packets nor packets expecting an acknowledgement", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      await dropConnection(client, socket);
      io.volatile.emit("volatile");
      socket.volatile.emit("volatile");
      io.timeout(50).emit("with-ack", () => {});
      socket.timeout(50).emit("with-ack", () => {});
      io.emit("stored");
      const events = recordEvents(client);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;
      assert.strictEqual(recovered.recovered, true);
      await sync(client, recovered);
      assert.deepStrictEqual(events, [["stored"]]);
    });

    it("recovers several times in a row", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      const id = socket.id;
      let current = socket;
      for (let round = 1; round <= 3; round++) {
        await dropConnection(client, current);
        io.emit("round", round);
        const events = recordEvents(client);
        const reconnection = waitFor(io, "connection");
        client.connect();
        await connected(client);
        [current] = await reconnection;
        assert.strictEqual(current.recovered, true, `round ${round}`);
        assert.strictEqual(current.id, id);
        await sync(client, current);
        assert.deepStrictEqual(events, [["round", round]]);
        client.offAny();
      }
    });

    it("recovers after the server closed the connection (forced close), with automatic reconnection", async (t) => {
      const { client, socket, io } = await setup(t, transport, {}, {
        clientOpts: { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 20 },
      });
      socket.join("r");
      const reconnection = waitFor(io, "connection");
      const serverSide = waitFor(socket, "disconnect");
      socket.conn.close();
      assert.strictEqual((await serverSide)[0], "forced close");
      io.to("r").emit("while-away");
      const events = recordEvents(client);
      const [recovered] = await reconnection;
      await connected(client);
      assert.strictEqual(recovered.recovered, true);
      assert.strictEqual(client.recovered, true);
      await sync(client, recovered);
      assert.deepStrictEqual(events, [["while-away"]]);
    });

    it("recovers every namespace of a multiplexed connection", async (t) => {
      const { h, client, socket, io } = await setup(t, transport);
      io.of("/chat");
      const chatConnection = waitFor(io.of("/chat"), "connection");
      const chat = h.trackClient(client.io.socket("/chat"));
      await connected(chat);
      const [chatSocket] = await chatConnection;
      const hello = waitFor(chat, "hello");
      chatSocket.emit("hello");
      await hello;

      const gone = Promise.all([waitFor(socket, "disconnect"), waitFor(chatSocket, "disconnect")]);
      client.io.engine.close();
      await gone;
      io.emit("main-missed");
      io.of("/chat").emit("chat-missed");
      const mainEvents = recordEvents(client);
      const chatEvents = recordEvents(chat);
      const reconnections = Promise.all([waitFor(io, "connection"), waitFor(io.of("/chat"), "connection")]);
      client.connect();
      chat.connect();
      await Promise.all([connected(client), connected(chat)]);
      const [[m], [c]] = await reconnections;
      assert.strictEqual(m.recovered, true);
      assert.strictEqual(c.recovered, true);
      assert.strictEqual(m.id, socket.id);
      assert.strictEqual(c.id, chatSocket.id);
      await sync(client, m);
      await sync(chat, c);
      assert.deepStrictEqual(mainEvents, [["main-missed"]]);
      assert.deepStrictEqual(chatEvents, [["chat-missed"]]);
    });

    it("does not persist the session on a client disconnect()", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      socket.join("room1");
      const serverSide = waitFor(socket, "disconnect");
      client.disconnect();
      assert.strictEqual((await serverSide)[0], "client namespace disconnect");
      io.emit("missed");
      const events = recordEvents(client);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [fresh] = await reconnection;
      assert.strictEqual(fresh.recovered, false);
      assert.strictEqual(client.recovered, false);
      assert.notStrictEqual(fresh.id, socket.id);
      assert.deepStrictEqual([...fresh.rooms], [fresh.id]);
      await sync(client, fresh);
      assert.deepStrictEqual(events, []);
    });

    it("does not persist the session on a server-side disconnect()", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      const clientSide = waitFor(client, "disconnect");
      socket.disconnect();
      assert.strictEqual((await clientSide)[0], "io server disconnect");
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [fresh] = await reconnection;
      assert.strictEqual(fresh.recovered, false);
      assert.notStrictEqual(fresh.id, socket.id);
    });

    it("gives a fresh session once maxDisconnectionDuration has elapsed", async (t) => {
      const { client, socket, io } = await setup(t, transport, { maxDisconnectionDuration: 100 });
      socket.data.foo = "bar";
      await dropConnection(client, socket);
      io.emit("missed");
      await delay(250); // let the session expire
      const events = recordEvents(client);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [fresh] = await reconnection;
      assert.strictEqual(fresh.recovered, false);
      assert.strictEqual(client.recovered, false);
      assert.notStrictEqual(fresh.id, socket.id);
      assert.deepStrictEqual(fresh.data, {});
      await sync(client, fresh);
      assert.deepStrictEqual(events, []);
    });

    it("recovers within maxDisconnectionDuration", async (t) => {
      const { client, socket, io } = await setup(t, transport, { maxDisconnectionDuration: 5000 });
      await dropConnection(client, socket);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      assert.strictEqual((await reconnection)[0].recovered, true);
    });

    // Beyond upstream, which gives such a client a fresh session: a client that never received an
    // event sends its pid without an offset, and is replayed everything since it connected.
    it("recovers a client that never received an event (no offset) from its connection's start", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const connection = waitFor(io, "connection");
      const client = await h.connect(port, "/", { transports: [transport] });
      const [socket] = await connection;
      socket.join("room1");
      await dropConnection(client, socket);
      const events = recordEvents(client);
      io.to("room1").emit("missed", 1);
      io.emit("missed", 2);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;
      assert.strictEqual(recovered.recovered, true);
      assert.strictEqual(client.recovered, true);
      assert.strictEqual(recovered.id, socket.id);
      assert.ok(recovered.rooms.has("room1"));
      await sync(client, recovered);
      assert.deepStrictEqual(events, [
        ["missed", 1],
        ["missed", 2],
      ]);
    });

    it("skips the middlewares upon recovery by default", async (t) => {
      const { client, socket, io } = await setup(t, transport);
      const calls = [];
      io.use((s, next) => {
        calls.push(s.recovered);
        s.data.middlewareWasCalled = true;
        next();
      });
      await dropConnection(client, socket);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;
      assert.strictEqual(recovered.recovered, true);
      assert.deepStrictEqual(calls, []);
      assert.strictEqual(recovered.data.middlewareWasCalled, undefined);
    });

    it("runs the middlewares upon recovery with skipMiddlewares: false (session already restored)", async (t) => {
      const { client, socket, io } = await setup(t, transport, { skipMiddlewares: false });
      socket.data.user = "alice";
      socket.join("room1");
      const calls = [];
      io.use((s, next) => {
        calls.push({ recovered: s.recovered, id: s.id, data: { ...s.data } });
        s.data.middlewareWasCalled = true;
        next();
      });
      await dropConnection(client, socket);
      const reconnection = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [recovered] = await reconnection;
      assert.strictEqual(recovered.recovered, true);
      assert.deepStrictEqual(calls, [{ recovered: true, id: socket.id, data: { user: "alice" } }]);
      assert.strictEqual(recovered.data.middlewareWasCalled, true);
      assert.ok(recovered.rooms.has("room1"));
    });

    it("lets a middleware refuse a recovering client with skipMiddlewares: false", async (t) => {
      const { client, socket, io } = await setup(t, transport, { skipMiddlewares: false });
      io.use((s, next) => (s.recovered ? next(new Error("session revoked")) : next()));
      await dropConnection(client, socket);
      const noConnection = expectNoEvent(io, "connection", 100);
      client.connect();
      const [err] = await waitFor(client, "connect_error");
      assert.strictEqual(err.message, "session revoked");
      await noConnection;
      assert.strictEqual(io.of("/").sockets.size, 0);
    });
  });
}
