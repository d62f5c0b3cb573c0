/** Connection-state recovery guarantees beyond upstream's: restored at most once, stale connections taken over, bounded memory. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor, connected } = require("./support/sio-helpers");

/** A recovery-enabled server and a client that already holds an offset. */
async function setup(t, transport, recovery = {}) {
  const h = harness(t);
  const { io, port } = await h.server({ connectionStateRecovery: recovery });
  const connection = waitFor(io, "connection");
  const client = await h.connect(port, "/", { transports: [transport] });
  const [socket] = await connection;
  const hello = waitFor(client, "hello");
  socket.emit("hello");
  await hello;
  return { h, io, port, client, socket };
}

/** Raw Socket.IO over a WebSocket, to replay a CONNECT with a chosen pid and offset. */
function rawConnect(port, auth) {
  return new Promise((resolve, reject) => {
    const WebSocket = require("ws");
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const frames = [];
    ws.on("message", (data) => {
      const text = data.toString();
      frames.push(text);
      if (text.startsWith("0")) ws.send("40" + JSON.stringify(auth));
      if (text.startsWith("40") || text.startsWith("44")) resolve({ ws, frames, connect: text });
    });
    ws.on("error", reject);
  });
}

for (const transport of TRANSPORTS) {
  describe(`recovery beyond upstream (${transport})`, () => {
    it("restores a session at most once", async (t) => {
      const { io, port, client, socket } = await setup(t, transport);
      const pid = client._pid;
      const offset = client._lastOffset;
      const disconnected = waitFor(socket, "disconnect");
      client.io.engine.close();
      await disconnected;

      const first = waitFor(io, "connection");
      client.connect();
      await connected(client);
      const [restored] = await first;
      assert.strictEqual(restored.recovered, true);
      client.disconnect();

      // the same pid and offset a second time: a fresh session, never a second socket with that id
      const second = await rawConnect(port, { pid, offset });
      t.after(() => second.ws.close());
      const answer = JSON.parse(second.connect.slice(2));
      assert.notStrictEqual(answer.sid, socket.id);
    });

    it("takes over a connection the server has not yet seen die, replaying what it did not process", async (t) => {
      const { io, port, client, socket } = await setup(t, transport);
      const pid = client._pid;
      const offset = client._lastOffset;
      socket.join("room1");
      // The client stops processing without a word (as after a TCP cut): its connection still
      // looks alive to the server.
      client.io.reconnection(false);
      client.io.engine.removeAllListeners();
      io.to("room1").emit("missed", 1);
      const oldDisconnect = waitFor(socket, "disconnect");
      const takeover = await rawConnect(port, { pid, offset });
      t.after(() => takeover.ws.close());
      const [reason] = await oldDisconnect;
      assert.strictEqual(reason, "transport close");
      assert.strictEqual(JSON.parse(takeover.connect.slice(2)).sid, socket.id);
      const missed = takeover.frames.filter((f) => f.startsWith("42"));
      assert.strictEqual(missed.length, 1);
      assert.match(missed[0], /^42\["missed",1,"\d+"\]$/);
      const restored = io.of("/").sockets.get(socket.id);
      assert.ok(restored && restored.recovered && restored.rooms.has("room1"));
      client.io.engine.close();
    });

    it("of two live clients presenting one pid, the first is told it is disconnected and stays so", async (t) => {
      const { h, io, port, client: first, socket } = await setup(t, transport);
      // Both reconnect by themselves, as users run them: a transport close would have them take
      // the session from each other forever.
      first.io.reconnection(true);
      first.io.reconnectionDelay(50);
      let connections = 0;
      io.on("connection", () => connections++);
      const firstDisconnect = waitFor(first, "disconnect");
      const second = h.client(port, "/", { transports: [transport], autoConnect: false, reconnection: true, reconnectionDelay: 50 });
      second._pid = first._pid;
      second._lastOffset = first._lastOffset;
      second.connect();
      await connected(second);
      assert.strictEqual(second.recovered, true);
      assert.strictEqual(second.id, socket.id);
      assert.deepStrictEqual(await firstDisconnect, ["io server disconnect", undefined]);
      assert.strictEqual(first.active, false, "the first client does not reconnect by itself");
      const later = waitFor(second, "later");
      io.emit("later", 1);
      await later;
      assert.strictEqual(first.connected, false);
      assert.strictEqual(connections, 1, "no connection since the takeover");
    });
  });
}

describe("recovery memory bound", () => {
  it("drops the oldest packets past maxBufferedBytes; a client that missed dropped ones gets a fresh session", async (t) => {
    const { io, port, client, socket } = await setup(t, "websocket", { maxBufferedBytes: 2000 });
    const pid = client._pid;
    const offset = client._lastOffset;
    const disconnected = waitFor(socket, "disconnect");
    client.io.reconnection(false);
    client.io.engine.close();
    await disconnected;
    for (let i = 0; i < 100; i++) io.emit("filler", "x".repeat(100));
    const late = await rawConnect(port, { pid, offset });
    t.after(() => late.ws.close());
    assert.notStrictEqual(JSON.parse(late.connect.slice(2)).sid, socket.id);
    assert.strictEqual(late.frames.filter((f) => f.startsWith("42")).length, 0);
  });

  it("a quiet client whose last packet aged out still recovers when nothing after it was dropped", async (t) => {
    const { port, client, socket } = await setup(t, "websocket", { maxBufferedBytes: 1 });
    const pid = client._pid;
    const offset = client._lastOffset;
    const disconnected = waitFor(socket, "disconnect");
    client.io.reconnection(false);
    client.io.engine.close();
    await disconnected;
    const back = await rawConnect(port, { pid, offset });
    t.after(() => back.ws.close());
    assert.strictEqual(JSON.parse(back.connect.slice(2)).sid, socket.id);
  });
});
