/** Socket.IO layer: malformed or out-of-place packets close the offending connection only. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { harness, waitFor, expectNoEvent, serverSocketOf, deferred, SEP } = require("./support/sio-helpers");

/** A healthy client, to check the server keeps serving others. */
async function bystander(h, io, port) {
  const client = await h.connect(port, "/", { transports: ["websocket"] });
  serverSocketOf(io, client).on("echo", (v, cb) => cb(v));
  return async () => {
    assert.strictEqual(client.connected, true, "the other client stays connected");
    assert.strictEqual(await client.timeout(2000).emitWithAck("echo", "still fine"), "still fine");
  };
}

/** Raw websocket session connected to "/", with its server-side socket and recorded events. */
async function rawConnected(h, io, port) {
  const connection = deferred();
  const onConnection = (s) => {
    if (s.handshake.headers["x-raw"] === "1") connection.resolve(s);
  };
  io.on("connection", onConnection);
  const raw = await h.rawWebSocket(port, { headers: { "x-raw": "1" } });
  raw.send("40");
  assert.match(await raw.next(), /^40\{"sid":"[^"]+"\}$/);
  const socket = await connection.promise;
  io.off("connection", onConnection);
  const errors = [];
  socket.on("error", (err) => errors.push(err));
  const disconnected = waitFor(socket, "disconnect");
  return { raw, socket, errors, disconnected };
}

describe("malformed packets from a connected client (raw websocket)", () => {
  const cases = [
    ["an unknown packet type", "49", "unknown packet type 9"],
    ["a non-numeric packet type", "4abc", "unknown packet type NaN"],
    ["an EVENT whose payload is not an array", '42{"a":1}', "invalid payload"],
    ["an EVENT with invalid JSON", '42["x"', "invalid payload"],
    ["an EVENT with a reserved event name", '42["disconnect"]', "invalid payload"],
    ["an EVENT without an event name", "42[]", "invalid payload"],
    ["a DISCONNECT with a payload", '41{"a":1}', "invalid payload"],
    ["a CONNECT_ERROR with an array payload", '44["handle me please"]', "invalid payload"],
    ["a BINARY_EVENT with illegal attachments", "45woooot", "Illegal attachments"],
    ["an empty BINARY_EVENT", "45", "Illegal attachments"],
    ["a BINARY_EVENT with too many attachments", '4511-["x"]', "too many attachments"],
  ];

  for (const [what, packet, message] of cases) {
    it(`closes the connection on ${what} (${JSON.stringify(packet)})`, async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const check = await bystander(h, io, port);
      const { raw, errors, disconnected } = await rawConnected(h, io, port);
      let handled = false;
      io.of("/").sockets.forEach((s) => s.onAny(() => (handled = true)));
      raw.send(packet);
      const [reason] = await disconnected;
      assert.strictEqual(reason, "forced close");
      assert.strictEqual(errors.length, 1);
      assert.ok(errors[0] instanceof Error);
      assert.strictEqual(errors[0].message, message);
      assert.strictEqual(handled, false);
      await raw.waitClosed();
      await check();
    });
  }

  it("closes the connection on a binary frame that no packet announced", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const check = await bystander(h, io, port);
    const { raw, errors, disconnected } = await rawConnected(h, io, port);
    raw.send(Buffer.from([1, 2, 3]));
    const [reason] = await disconnected;
    assert.strictEqual(reason, "forced close");
    assert.strictEqual(errors[0].message, "got binary data when not reconstructing a packet");
    await raw.waitClosed();
    await check();
  });

  it("closes the connection on a text packet while attachments are expected", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const { raw, errors, disconnected } = await rawConnected(h, io, port);
    raw.send('451-["x",{"_placeholder":true,"num":0}]');
    raw.send('42["y"]');
    const [reason] = await disconnected;
    assert.strictEqual(reason, "forced close");
    assert.strictEqual(errors[0].message, "got plaintext data when reconstructing a packet");
    await raw.waitClosed();
  });

  it("closes the connection on a CONNECT_ERROR sent by the client", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const { raw, disconnected } = await rawConnected(h, io, port);
    raw.send('44{"message":"from the client"}');
    const [reason] = await disconnected;
    // the connection is closed as an invalid state (see the disconnect tests for the reason)
    assert.ok(["forced close", "forced server close"].includes(reason), reason);
    await raw.waitClosed();
  });

  it("closes the connection on an EVENT for a namespace it did not join", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.of("/chat");
    const { raw, disconnected } = await rawConnected(h, io, port);
    raw.send('42/chat,["x"]');
    const [reason] = await disconnected;
    assert.ok(["forced close", "forced server close"].includes(reason), reason);
    await raw.waitClosed();
  });

  it("accepts numeric event names", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const { raw, socket } = await rawConnected(h, io, port);
    const got = deferred();
    socket.onAny((...args) => got.resolve(args));
    raw.send('42[1,"a"]');
    assert.deepStrictEqual(await got.promise, [1, "a"]);
    await expectNoEvent(socket, "disconnect", 50);
  });
});

describe("out-of-place packets before connecting (raw)", () => {
  it("closes a websocket session that sends an EVENT before any CONNECT", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const check = await bystander(h, io, port);
    const raw = await h.rawWebSocket(port);
    raw.send('42["some event"]');
    await raw.waitClosed();
    await check();
  });

  it("closes a websocket session whose CONNECT payload is not an object", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    const raw = await h.rawWebSocket(port);
    raw.send('40"a string"');
    await raw.waitClosed();
  });

  it("answers CONNECT_ERROR 'Invalid namespace' and keeps the session usable", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const raw = await h.rawWebSocket(port);
    raw.send("40/doesnotexist,");
    assert.strictEqual(await raw.next(), '44/doesnotexist,{"message":"Invalid namespace"}');
    const connection = waitFor(io, "connection");
    raw.send("40");
    const [socket] = await connection;
    assert.strictEqual(await raw.next(), `40{"sid":"${socket.id}"}`);
  });

  it("gives a real client connect_error 'Invalid namespace' without affecting others", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const check = await bystander(h, io, port);
    const client = h.client(port, "/doesnotexist");
    const [err] = await waitFor(client, "connect_error");
    assert.strictEqual(err.message, "Invalid namespace");
    assert.strictEqual(err.data, undefined);
    await check();
  });
});

describe("protocol violations over polling (raw)", () => {
  it("closes the session on a second CONNECT for the same namespace", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    const [socket] = await connection;
    const disconnected = waitFor(socket, "disconnect");
    await raw.send("40");
    // the CONNECT answer, then (orderly close) a noop and the close packet
    const first = await raw.poll();
    assert.deepStrictEqual(first, [`40{"sid":"${socket.id}"}`]);
    assert.deepStrictEqual(await raw.poll(), ["6", "1"]);
    assert.strictEqual((await disconnected)[0], "forced server close");
  });

  it("closes the session on an EVENT while not connected", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    const raw = await h.rawPolling(port);
    await raw.send('42["some event"]');
    assert.deepStrictEqual(await raw.poll(), ["6", "1"]);
    const after = await raw.pollResponse();
    assert.strictEqual(after.status, 400);
  });

  it("closes the session on an invalid packet", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    const [socket] = await connection;
    const errors = [];
    socket.on("error", (e) => errors.push(e.message));
    const disconnected = waitFor(socket, "disconnect");
    await raw.send("4abc");
    assert.deepStrictEqual(await raw.poll(), [`40{"sid":"${socket.id}"}`]);
    assert.deepStrictEqual(await raw.poll(), ["6", "1"]);
    assert.strictEqual((await disconnected)[0], "forced close");
    assert.deepStrictEqual(errors, ["unknown packet type NaN"]);
  });

  it("decodes several packets of one polling payload, in order", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawPolling(port);
    await raw.send("40");
    const [socket] = await connection;
    const seen = [];
    const all = deferred();
    socket.onAny((...args) => {
      seen.push(args);
      if (seen.length === 3) all.resolve();
    });
    const res = await raw.send(['42["a",1]', '42["b",2]', '42["c",3]'].join(SEP));
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.body, "ok");
    await all.promise;
    assert.deepStrictEqual(seen, [["a", 1], ["b", 2], ["c", 3]]);
    await raw.poll(); // CONNECT answer
  });
});
