/** Engine.IO WebSocket transport: one packet per frame, text and binary both ways, raw engine API. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  startServer,
  wsSession,
  nextSioConnection,
  openEioClient,
  sioConnect,
  waitFor,
  waitFor1,
  collect,
  toBuffer,
  wsClosed,
  engineClosed,
  nextEngineConnection,
  openRawWebSocket,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** A raw WebSocket session connected to the main namespace: { ws, conn, socket, ack }. */
async function connectedWsSession(s) {
  const session = await wsSession(s);
  const sockP = nextSioConnection(s);
  session.ws.send("40");
  const ack = await session.ws.next();
  assert.match(ack, /^40\{"sid":"[^"]+"\}$/);
  return { ...session, socket: await sockP, ack: JSON.parse(ack.slice(2)) };
}

test('raw WebSocket: "40" is acknowledged with "40{sid}" in a text frame', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { socket, ack, conn } = await connectedWsSession(s);
  assert.equal(ack.sid, socket.id);
  assert.equal(socket.conn, conn);
});

test("server -> client: every packet is its own text frame (no \\x1e batching)", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket } = await connectedWsSession(s);

  socket.emit("a", 1);
  socket.emit("b", "two");
  socket.emit("c", { three: 3 });
  assert.equal(await ws.next(), '42["a",1]');
  assert.equal(await ws.next(), '42["b","two"]');
  assert.equal(await ws.next(), '42["c",{"three":3}]');
});

test("client -> server: text frames carrying events reach the handlers in order", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket, conn } = await connectedWsSession(s);

  const got = collect(socket, "n", 3);
  const engineMessages = collect(conn, "message", 3);
  ws.send('42["n",1]');
  ws.send('42["n",2]');
  ws.send('42["n",3]');
  assert.deepEqual(await got, [1, 2, 3]);
  assert.deepEqual(await engineMessages, ['2["n",1]', '2["n",2]', '2["n",3]']);
});

test("server -> client binary: header in a text frame, then the raw bytes in a binary frame", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket } = await connectedWsSession(s);

  socket.emit("bin", Buffer.from([1, 2, 3]));
  assert.equal(await ws.next(), '451-["bin",{"_placeholder":true,"num":0}]');
  const frame = await ws.next();
  assert.ok(Buffer.isBuffer(frame), "the attachment must be a binary frame");
  assert.deepEqual([...frame], [1, 2, 3], "no type prefix and no base64 in WebSocket binary frames");
});

test("client -> server binary: a binary frame completes a BINARY_EVENT", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket, conn } = await connectedWsSession(s);

  const received = waitFor1(socket, "bin");
  const engineMessages = collect(conn, "message", 2);
  ws.send('451-["bin",{"_placeholder":true,"num":0}]');
  ws.send(Buffer.from([7, 8, 9]));
  const buf = await received;
  assert.ok(Buffer.isBuffer(buf));
  assert.deepEqual([...buf], [7, 8, 9]);
  const [header, attachment] = await engineMessages;
  assert.equal(header, '51-["bin",{"_placeholder":true,"num":0}]');
  assert.ok(Buffer.isBuffer(attachment));
  assert.deepEqual([...attachment], [7, 8, 9]);
});

test('a "b"+base64 text frame is also accepted as binary on WebSocket', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket } = await connectedWsSession(s);

  const received = waitFor1(socket, "bin");
  ws.send('451-["bin",{"_placeholder":true,"num":0}]');
  ws.send("bAQID");
  assert.deepEqual([...(await received)], [1, 2, 3]);
});

test("engine-level send(): a string is a '4'-prefixed text frame, a Buffer a binary frame", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);

  conn.send("raw text");
  conn.send(Buffer.from([0xff, 0x00]));
  assert.equal(await ws.next(), "4raw text");
  const frame = await ws.next();
  assert.ok(Buffer.isBuffer(frame));
  assert.deepEqual([...frame], [0xff, 0x00]);
});

test("UTF-8 text survives both directions over WebSocket", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, socket } = await connectedWsSession(s);

  const text = "héllo 中文 ✓";
  const received = waitFor1(socket, "utf8");
  ws.send(`42["utf8",${JSON.stringify(text)}]`);
  assert.equal(await received, text);
  socket.emit("utf8", text);
  assert.equal(await ws.next(), `42["utf8",${JSON.stringify(text)}]`);
});

test("engine.io-client over WebSocket: text, binary and acks both ways", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const sockP = nextSioConnection(s);
  const client = await openEioClient(s, { transports: ["websocket"] });
  assert.equal(client.transport.name, "websocket");
  await sioConnect(client);
  const socket = await sockP;

  const text = waitFor(socket, "text");
  client.send('2["text","abc"]');
  assert.deepEqual(await text, ["abc"]);

  const bin = waitFor1(socket, "bin");
  client.send('51-["bin",{"_placeholder":true,"num":0}]');
  client.send(Buffer.from([9, 8, 7]));
  assert.deepEqual([...(await bin)], [9, 8, 7]);

  const two = collect(client, "message", 2);
  socket.emit("bin", Buffer.from([4, 5, 6]));
  const [header, attachment] = await two;
  assert.equal(header, '51-["bin",{"_placeholder":true,"num":0}]');
  assert.deepEqual([...toBuffer(attachment)], [4, 5, 6]);

  // ack round trip through the echo handler
  const reply = waitFor1(client, "message");
  client.send('27["echo",{"k":[1,2]}]');
  assert.equal(await reply, '37[{"k":[1,2]}]');
});

// The WebSocket protocol itself, as the `ws` package's server speaks it.

for (const perMessageDeflate of [false, true]) {
  test(`a client's ping gets a pong with its payload, and the session goes on (perMessageDeflate: ${perMessageDeflate})`, T, async (t) => {
    const s = await startServer({ perMessageDeflate });
    t.after(() => s.close());
    const connection = nextEngineConnection(s);
    const ws = await openRawWebSocket(s, {}, { perMessageDeflate });
    assert.equal(ws.extensions.includes("permessage-deflate"), perMessageDeflate);
    const conn = await connection;
    const pong = waitFor1(ws, "pong");
    ws.ping(Buffer.from("are you there"));
    assert.equal((await pong).toString(), "are you there");
    const message = waitFor1(conn, "message");
    ws.send("4after the ping");
    assert.equal(await message, "after the ping");
  });
}

test("a message sent in fragments, with a ping between them, arrives whole (text and binary)", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);
  const messages = collect(conn, "message", 2);
  ws.send("4first ", { fin: false });
  ws.ping();
  ws.send("and second", { fin: true });
  ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
  ws.send(Buffer.from([3]), { binary: true, fin: true });
  const [text, binary] = await messages;
  assert.equal(text, "first and second");
  assert.deepEqual([...toBuffer(binary)], [1, 2, 3]);
});

test("a client's Close is answered with its code, and the session ends with \"transport close\"", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);
  const closed = engineClosed(conn);
  ws.close(4321, "bye");
  const { code } = await wsClosed(ws);
  assert.equal(code, 4321);
  assert.equal((await closed)[0], "transport close");
});

test("a Close with a code no peer may send is refused with 1002", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);
  const closed = engineClosed(conn);
  // A masked Close frame carrying 1005, which is reserved for "no code".
  ws._socket.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xed]));
  assert.equal((await closed)[0], "transport error");
  assert.equal((await wsClosed(ws)).code, 1002);
});
