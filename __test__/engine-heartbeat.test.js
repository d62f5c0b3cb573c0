/** Engine.IO v4 heartbeat: the server pings every pingInterval and closes after pingTimeout without a pong. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  startServer,
  wsSession,
  pollingSession,
  nextSioConnection,
  openEioClient,
  sioConnect,
  poll,
  post,
  wsClosed,
  waitFor,
  waitFor1,
  collect,
  engineClosed,
  delay,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };
// timer slack: a timer never fires early, but allow a little scheduling jitter on the measuring side
const EARLY_SLACK = 20;

test('WebSocket: the server sends "2" after pingInterval, and again pingInterval after each "3"', T, async (t) => {
  const s = await startServer({ pingInterval: 200, pingTimeout: 1000 });
  t.after(() => s.close());

  const opened = Date.now();
  const { ws, conn } = await wsSession(s);
  assert.equal(await ws.next(), "2");
  const firstPing = Date.now();
  assert.ok(firstPing - opened >= 200 - EARLY_SLACK, `first ping after ${firstPing - opened}ms`);

  const heartbeat = waitFor(conn, "heartbeat");
  const pong = waitFor1(conn, "packet", { filter: (p) => p.type === "pong" });
  ws.send("3");
  await Promise.all([heartbeat, pong]);
  const ponged = Date.now();
  assert.equal(await ws.next(), "2");
  assert.ok(Date.now() - ponged >= 200 - EARLY_SLACK, "next ping is scheduled pingInterval after the pong");
  ws.send("3");
  assert.equal(conn.readyState, "open");
});

test('polling: a parked GET receives "2" after pingInterval and a POSTed "3" keeps the session', T, async (t) => {
  const s = await startServer({ pingInterval: 200, pingTimeout: 2000 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  for (let i = 0; i < 3; i++) {
    const res = await poll(s, sid);
    assert.equal(res.text, "2");
    const heartbeat = waitFor(conn, "heartbeat");
    assert.equal((await post(s, sid, "3")).text, "ok");
    await heartbeat;
  }
  assert.equal(conn.readyState, "open");
});

test('WebSocket client that never answers pings is closed with "ping timeout"', T, async (t) => {
  const s = await startServer({ pingInterval: 300, pingTimeout: 150 });
  t.after(() => s.close());

  const sockP = nextSioConnection(s);
  const { ws, conn } = await wsSession(s);
  ws.send("40");
  await ws.next();
  const socket = await sockP;
  const disconnect = waitFor(socket, "disconnect");
  const closed = engineClosed(conn);
  const start = Date.now();
  assert.equal(await ws.next(), "2"); // received, deliberately not answered
  const [reason] = await closed;
  assert.equal(reason, "ping timeout");
  assert.ok(Date.now() - start >= 150 - EARLY_SLACK, "closed pingTimeout after the ping");
  assert.equal((await disconnect)[0], "ping timeout");
  await wsClosed(ws);
  assert.equal(s.io.engine.clientsCount, 0);
});

test('polling client that never answers pings is closed with "ping timeout"; its sid is then unknown', T, async (t) => {
  const s = await startServer({ pingInterval: 100, pingTimeout: 150 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const closed = engineClosed(conn);
  assert.equal((await poll(s, sid)).text, "2"); // not answered
  const parked = poll(s, sid);
  const [reason] = await closed;
  assert.equal(reason, "ping timeout");
  assert.equal((await parked).text, "1", "a parked GET receives the close packet");
  assert.equal(s.io.engine.clientsCount, 0);
  const res = await poll(s, sid);
  assert.equal(res.status, 400);
  assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" });
});

test("engine.io-client answers pings and stays connected across several intervals", T, async (t) => {
  const s = await startServer({ pingInterval: 100, pingTimeout: 2000 });
  t.after(() => s.close());

  for (const transports of [["polling"], ["websocket"]]) {
    const connP = waitFor1(s.io.engine, "connection");
    const client = await openEioClient(s, { transports });
    const conn = await connP;
    await sioConnect(client);
    const closes = [];
    conn.on("close", (reason) => closes.push(`server: ${reason}`));
    client.on("close", (reason) => closes.push(`client: ${reason}`));
    const pings = collect(client, "ping", 4);
    await collect(conn, "heartbeat", 4); // four full ping/pong rounds
    await pings;
    assert.deepEqual(closes, [], `${transports}`);
    assert.equal(conn.readyState, "open");
    client.close();
  }
});

test('a ping sent by the client (wrong direction in EIO 4) closes the session with "transport error"', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const { ws, conn } = await wsSession(s);
  const closed = engineClosed(conn);
  ws.send("2");
  const [reason, description] = await closed;
  assert.equal(reason, "transport error");
  assert.equal(description.message, "invalid heartbeat direction");
  await wsClosed(ws);
});

test("any packet received while a pong is awaited delays the ping timeout once", T, async (t) => {
  const s = await startServer({ pingInterval: 100, pingTimeout: 600 });
  t.after(() => s.close());

  const { ws, conn } = await wsSession(s);
  const closed = engineClosed(conn, 5000);
  assert.equal(await ws.next(), "2");
  const pinged = Date.now();
  await delay(300); // half-way through pingTimeout, still no pong
  ws.send("40"); // any packet refreshes the pending ping timeout (once): it now expires ~600ms from here
  const [reason] = await closed;
  assert.equal(reason, "ping timeout");
  // without the refresh it would have closed ~600ms after the ping, with it ~900ms
  const elapsed = Date.now() - pinged;
  assert.ok(elapsed >= 800, `closed ${elapsed}ms after the ping`);
});
