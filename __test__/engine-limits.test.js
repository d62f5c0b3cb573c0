/** maxHttpBufferSize: oversized polling POSTs and WebSocket messages. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  startServer,
  pollingSession,
  pollingSioConnect,
  wsSession,
  post,
  poll,
  openEioClient,
  sioConnect,
  assertHealthyClient,
  wsClosed,
  waitFor,
  waitFor1,
  assertNotEmitted,
  engineClosed,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** A valid Engine.IO + Socket.IO packet (`42["e","bbb…"]`) of exactly `bytes` bytes. */
function exactly(bytes) {
  const packet = `42["e","${"b".repeat(bytes - 10)}"]`;
  assert.equal(Buffer.byteLength(packet), bytes);
  return packet;
}

test("a POST body of exactly maxHttpBufferSize bytes is accepted", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100 });
  t.after(() => s.close());
  const { sid, conn } = await pollingSession(s);
  await pollingSioConnect(s, sid);

  const payload = exactly(100); // a valid Socket.IO packet of exactly 100 bytes
  const message = waitFor1(conn, "message");
  const res = await post(s, sid, payload);
  assert.equal(res.status, 200);
  assert.equal(res.text, "ok");
  assert.equal(await message, payload.slice(1));
});

test("a POST body larger than maxHttpBufferSize gets 413, is not delivered, and the session stays usable", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100, pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn } = await pollingSession(s);

  const messages = [];
  conn.on("message", (m) => messages.push(m));
  const noClose = assertNotEmitted(conn, "close", 300);
  const res = await post(s, sid, "4" + "a".repeat(100));
  assert.equal(res.status, 413);
  assert.equal(res.text, "");
  await noClose;
  assert.deepEqual(messages, []);
  assert.equal(conn.readyState, "open");

  // the server did not close the session: a normal POST is accepted afterwards
  const message = waitFor1(conn, "message");
  assert.equal((await post(s, sid, "40")).text, "ok");
  assert.equal(await message, "0");
  assert.match((await poll(s, sid)).text, /^40\{"sid":/);
});

test("the POST limit counts bytes, not characters", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100 });
  t.after(() => s.close());
  const { sid } = await pollingSession(s);

  const payload = "4" + "é".repeat(60); // 61 characters, 121 bytes
  assert.ok(payload.length <= 100 && Buffer.byteLength(payload) > 100);
  assert.equal((await post(s, sid, payload)).status, 413);
});

test("a huge POST (several MB) with the default limit gets 413 and does not disturb other sessions", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid } = await pollingSession(s);

  const res = await post(s, sid, "4" + "x".repeat(5 * 1024 * 1024), { timeout: 15000 });
  assert.equal(res.status, 413);
  await assertHealthyClient(s, ["polling"]);
  await assertHealthyClient(s, ["websocket"]);
});

test("engine.io-client sending an oversized message over polling gets closed, the server never sees it", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 50, allowUpgrades: false });
  t.after(() => s.close());

  const connP = waitFor1(s.io.engine, "connection");
  const client = await openEioClient(s, { transports: ["polling"] });
  const conn = await connP;
  const messages = [];
  conn.on("message", (m) => messages.push(m));
  const serverClosed = engineClosed(conn);
  const clientClosed = waitFor(client, "close");
  client.send("x".repeat(200));
  const [reason] = await clientClosed;
  assert.equal(reason, "transport error"); // the client's POST got 413
  // the client then sends a close packet, so the server sees an orderly "transport close"
  assert.equal((await serverClosed)[0], "transport close");
  assert.deepEqual(messages, []);
});

test("a WebSocket message of exactly maxHttpBufferSize bytes is accepted", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100 });
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);
  ws.send("40");
  assert.match(await ws.next(), /^40\{"sid":/);

  const payload = exactly(100);
  const message = waitFor1(conn, "message");
  ws.send(payload);
  assert.equal(await message, payload.slice(1));
  assert.equal(conn.readyState, "open");
});

test('a WebSocket message larger than maxHttpBufferSize closes the connection (1009, "transport error")', T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100 });
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);

  const messages = [];
  conn.on("message", (m) => messages.push(m));
  const closed = engineClosed(conn);
  ws.send("4" + "b".repeat(100));
  const [reason] = await closed;
  assert.equal(reason, "transport error");
  const { code } = await wsClosed(ws);
  assert.equal(code, 1009, "Message Too Big");
  assert.deepEqual(messages, []);
  assert.equal(s.io.engine.clientsCount, 0);
});

test("an oversized binary WebSocket frame closes the connection too", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 100 });
  t.after(() => s.close());
  const { ws, conn } = await wsSession(s);

  const closed = engineClosed(conn);
  ws.send(Buffer.alloc(101));
  assert.equal((await closed)[0], "transport error");
  assert.equal((await wsClosed(ws)).code, 1009);
});

test("engine.io-client over WebSocket sending an oversized message is disconnected; others are fine", T, async (t) => {
  const s = await startServer({ maxHttpBufferSize: 50 });
  t.after(() => s.close());

  const connP = waitFor1(s.io.engine, "connection");
  const client = await openEioClient(s, { transports: ["websocket"] });
  const conn = await connP;
  await sioConnect(client);
  const serverClosed = engineClosed(conn);
  const clientClosed = waitFor(client, "close");
  client.send("y".repeat(100));
  assert.equal((await serverClosed)[0], "transport error");
  assert.equal((await clientClosed)[0], "transport close");
  await assertHealthyClient(s, ["websocket"]);
});
