/** Socket.IO layer: compatibility with v2 clients (Engine.IO protocol 3) when allowEIO3 is set. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const WebSocket = require("ws");
const { harness, waitFor, httpRequest, withTimeout } = require("./support/sio-helpers");

/** A raw Engine.IO v3 WebSocket client: resolves once open, with a message queue. */
async function openV3(h, port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=3&transport=websocket`);
  const queue = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    const msg = isBinary ? Buffer.from(data) : data.toString();
    const w = waiters.shift();
    if (w) w(msg);
    else queue.push(msg);
  });
  ws.on("error", () => {});
  h.cleanup(() => ws.terminate());
  await withTimeout(new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  }), 5000, "v3 websocket");
  const next = () =>
    queue.length ? Promise.resolve(queue.shift()) : withTimeout(new Promise((r) => waiters.push(r)), 5000, "v3 message");
  return { ws, next, send: (m) => ws.send(m) };
}

describe("v2 compatibility (allowEIO3)", () => {
  it("refuses Engine.IO v3 clients by default", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    const res = await httpRequest(port, { path: "/socket.io/?EIO=3&transport=polling" });
    assert.strictEqual(res.status, 400);
    assert.deepStrictEqual(JSON.parse(res.body), { code: 5, message: "Unsupported protocol version" });
  });

  it("answers a v3 polling handshake in the v3 payload format", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ allowEIO3: true });
    const res = await httpRequest(port, { path: "/socket.io/?EIO=3&transport=polling" });
    assert.strictEqual(res.status, 200);
    const m = /^(\d+):0(\{.*\})/.exec(res.body);
    assert.ok(m, res.body);
    assert.strictEqual(Number(m[1]), m[2].length + 1, "length prefix covers the packet");
    assert.strictEqual(typeof JSON.parse(m[2]).sid, "string");
  });

  it("connects a v3 client to the main namespace automatically, with the Engine.IO id as socket id", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ allowEIO3: true });
    const connection = waitFor(io, "connection");
    const client = await openV3(h, port);
    const open = await client.next();
    assert.ok(open.startsWith("0{"), open);
    const { sid } = JSON.parse(open.slice(1));
    assert.strictEqual(await client.next(), "40", "a v3 CONNECT answer carries no payload");
    const [socket] = await connection;
    assert.strictEqual(socket.id, sid);
    assert.strictEqual(socket.conn.protocol, 3);

    socket.on("hi", (a, cb) => cb(`got ${a}`));
    client.send('421["hi","there"]');
    assert.strictEqual(await client.next(), '431["got there"]');
    socket.emit("yo", 1);
    assert.strictEqual(await client.next(), '42["yo",1]');
  });

  // A broadcast's frames are encoded once for the v4 connections; a v3 one frames each message,
  // its binary ones starting with the packet type.
  it("broadcasts to v3 and v4 WebSocket clients alike, a v3 attachment after its packet type", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ allowEIO3: true });
    const v3 = await openV3(h, port);
    assert.ok((await v3.next()).startsWith("0{"));
    assert.strictEqual(await v3.next(), "40");
    const v4 = await h.connect(port, "/", { transports: ["websocket"] });
    const v4Got = [];
    const v4Done = new Promise((resolve) => {
      v4.onAny((...args) => {
        v4Got.push(args);
        if (args[0] === "b") resolve();
      });
    });

    io.emit("t", 1);
    io.emit("t", 2); // held with the one before, and queued with it as one item
    io.emit("b", Buffer.from([1, 2, 3]));

    assert.deepStrictEqual(
      [await v3.next(), await v3.next(), await v3.next(), await v3.next()],
      ['42["t",1]', '42["t",2]', '451-["b",{"_placeholder":true,"num":0}]', Buffer.from([4, 1, 2, 3])],
    );
    await withTimeout(v4Done, 5000, "the v4 client's events");
    assert.deepStrictEqual(v4Got, [["t", 1], ["t", 2], ["b", Buffer.from([1, 2, 3])]]);
  });

  it("reads the v3 namespace query as auth, and prefixes the socket id with the namespace", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ allowEIO3: true });
    const connection = waitFor(io.of("/the-namespace"), "connection");
    const client = await openV3(h, port);
    const { sid } = JSON.parse((await client.next()).slice(1));
    assert.strictEqual(await client.next(), "40");
    client.send("40/the-namespace?test=123,");
    assert.strictEqual(await client.next(), "40/the-namespace,");
    const [socket] = await connection;
    assert.deepStrictEqual({ ...socket.handshake.auth }, { test: "123" });
    assert.strictEqual(socket.id, `/the-namespace#${sid}`);
  });

  it("sends the error data (or message) as the v3 CONNECT_ERROR payload", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ allowEIO3: true });
    io.of("/private").use((socket, next) => {
      const err = new Error("nope");
      if (socket.handshake.auth.withData) err.data = { x: 1 };
      next(err);
    });
    const client = await openV3(h, port);
    await client.next(); // open
    await client.next(); // 40
    client.send("40/private?withData=1,");
    assert.strictEqual(await client.next(), '44/private,{"x":1}');
    client.send("40/private,");
    assert.strictEqual(await client.next(), '44/private,"nope"');
  });
});
