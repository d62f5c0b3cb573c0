/** Engine.IO transport upgrade polling -> websocket, and transport restrictions. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  SEP,
  startServer,
  pollingSession,
  pollingSioConnect,
  pollingHandshake,
  nextSioConnection,
  openRawWebSocket,
  wsClosed,
  poll,
  parkPoll,
  post,
  eioRequest,
  eioClient,
  openEioClient,
  sioConnect,
  waitFor,
  waitFor1,
  assertNotEmitted,
  engineClosed,
  WebSocket,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

test("engine.io-client upgrades from polling to websocket; the server socket emits upgrade and switches transport", T, async (t) => {
  const s = await startServer({ pingInterval: 1000, pingTimeout: 1000 });
  t.after(() => s.close());

  const connP = waitFor1(s.io.engine, "connection");
  const sockP = nextSioConnection(s);
  const client = eioClient(s, { transports: ["polling", "websocket"] });
  const conn = await connP;
  assert.equal(conn.transport.name, "polling");
  const serverUpgrade = waitFor1(conn, "upgrade");
  const clientUpgrade = waitFor1(client, "upgrade");
  await waitFor(client, "open");
  await sioConnect(client);
  const socket = await sockP;

  const transport = await serverUpgrade;
  assert.equal(transport.name, "websocket");
  assert.equal(conn.transport.name, "websocket");
  assert.equal(socket.conn.transport.name, "websocket");
  assert.equal((await clientUpgrade).name, "websocket");
  assert.equal(conn.readyState, "open");

  // messages keep flowing after the upgrade
  const reply = waitFor1(client, "message", { filter: (m) => m.startsWith("3") });
  client.send('21["echo","after upgrade"]');
  assert.equal(await reply, '31["after upgrade"]');
});

test("raw upgrade: 2probe/3probe, a noop releases the pending GET, 5 completes and buffered packets flush on the WebSocket", T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const sockP = nextSioConnection(s);
  await pollingSioConnect(s, sid);
  const socket = await sockP;

  const { response: pendingGet } = await parkPoll(s, sid);
  const upgrading = waitFor1(conn, "upgrading");
  const upgraded = waitFor1(conn, "upgrade");
  const ws = await openRawWebSocket(s, { sid });
  ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  assert.equal((await upgrading).name, "websocket");
  // the server forces a polling cycle so the client can pause polling: the parked GET gets a noop
  assert.equal((await pendingGet).text, "6");
  assert.equal(conn.transport.name, "polling", "not upgraded before the 5 packet");

  socket.emit("during", 1); // no GET pending: buffered until the upgrade completes
  ws.send("5");
  assert.equal((await upgraded).name, "websocket");
  assert.equal(conn.transport.name, "websocket");
  assert.equal(await ws.next(), '42["during",1]');

  ws.send('421["echo","via ws"]');
  assert.equal(await ws.next(), '431["via ws"]');
});

test("after an upgrade, polling requests for the session are rejected with TRANSPORT_MISMATCH (code 3)", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const ws = await openRawWebSocket(s, { sid });
  ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  const upgraded = waitFor(conn, "upgrade");
  ws.send("5");
  await upgraded;

  const errors = [];
  s.io.engine.on("connection_error", (e) => errors.push(e));
  const get = await poll(s, sid);
  assert.equal(get.status, 400);
  assert.equal(get.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(get.text), { code: 3, message: "Bad request" });
  const p = await post(s, sid, "40");
  assert.equal(p.status, 400);
  assert.deepEqual(JSON.parse(p.text), { code: 3, message: "Bad request" });
  assert.equal(errors.length, 2);
  assert.equal(errors[0].code, 3);
  assert.equal(errors[0].message, "Bad request");
  assert.deepEqual(errors[0].context, {
    name: "TRANSPORT_MISMATCH",
    transport: "polling",
    previousTransport: "websocket",
  });
  assert.equal(conn.readyState, "open", "the upgraded session is not affected");
});

test("a second WebSocket for an already upgraded session is closed; the session keeps working", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const ws = await openRawWebSocket(s, { sid });
  ws.send("2probe");
  await ws.next();
  const upgraded = waitFor(conn, "upgrade");
  ws.send("5");
  await upgraded;

  const second = await openRawWebSocket(s, { sid });
  await wsClosed(second);
  assert.deepEqual(second.received, [], "nothing is sent on the rejected WebSocket");

  ws.send("40");
  assert.match(await ws.next(), /^40\{"sid":/);
  assert.equal(conn.readyState, "open");
});

test("an upgrade that does not complete within upgradeTimeout is abandoned; the session stays on polling", T, async (t) => {
  const s = await startServer({ upgradeTimeout: 200, pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const ws = await openRawWebSocket(s, { sid });
  const start = Date.now();
  ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  await wsClosed(ws); // never sent "5"
  assert.ok(Date.now() - start >= 150, "closed by the upgrade timeout, not right away");
  assert.equal(conn.readyState, "open");
  assert.equal(conn.transport.name, "polling");

  // the session still works over polling, and a later upgrade may succeed
  await pollingSioConnect(s, sid);
  const ws2 = await openRawWebSocket(s, { sid });
  ws2.send("2probe");
  assert.equal(await ws2.next(), "3probe");
  const upgraded = waitFor(conn, "upgrade");
  ws2.send("5");
  await upgraded;
  assert.equal(conn.transport.name, "websocket");
});

test("a WebSocket upgrade whose first packet is not a probe is closed; the session stays on polling", T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const ws = await openRawWebSocket(s, { sid });
  ws.send('42["not","a probe"]');
  await wsClosed(ws);
  assert.equal(conn.readyState, "open");
  assert.equal(conn.transport.name, "polling");
  await pollingSioConnect(s, sid);
});

test("closing the session while an upgrade is in progress closes the upgrading WebSocket", T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const { sid, conn } = await pollingSession(s);
  const ws = await openRawWebSocket(s, { sid });
  ws.send("2probe");
  assert.equal(await ws.next(), "3probe");
  // while upgrading, a parked GET is released with a noop
  assert.equal((await poll(s, sid)).text, "6");
  const closed = engineClosed(conn);
  conn.close(); // no GET parked: the close packet waits for the next one
  const last = await poll(s, sid);
  const [reason] = await closed;
  assert.equal(reason, "forced close");
  assert.equal(last.text.split(SEP).pop(), "1");
  await wsClosed(ws);
});

test("allowUpgrades: false advertises no upgrade and engine.io-client stays on polling", T, async (t) => {
  const s = await startServer({ allowUpgrades: false, pingInterval: 200, pingTimeout: 1000 });
  t.after(() => s.close());

  const { open } = await pollingHandshake(s);
  assert.deepEqual(open.upgrades, []);

  const connP = waitFor1(s.io.engine, "connection");
  const client = await openEioClient(s, { transports: ["polling", "websocket"] });
  const conn = await connP;
  await sioConnect(client);
  await Promise.all([assertNotEmitted(conn, "upgrade", 500), assertNotEmitted(client, "upgrade", 500)]);
  assert.equal(client.transport.name, "polling");
  assert.equal(conn.transport.name, "polling");
});

test('transports: ["websocket"] rejects polling with code 0 "Transport unknown" and accepts WebSocket', T, async (t) => {
  const s = await startServer({ transports: ["websocket"] });
  t.after(() => s.close());

  const errors = [];
  s.io.engine.on("connection_error", (e) => errors.push(e));
  const res = await eioRequest(s, { query: { transport: "polling" } });
  assert.equal(res.status, 400);
  assert.deepEqual(JSON.parse(res.text), { code: 0, message: "Transport unknown" });
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 0);
  assert.deepEqual(errors[0].context, { transport: "polling" });

  // engine.io-client trying polling first fails with a transport error
  const failing = eioClient(s, { transports: ["polling", "websocket"] });
  const [reason] = await waitFor(failing, "close");
  assert.equal(reason, "transport error");

  const client = await openEioClient(s, { transports: ["websocket"] });
  assert.equal(client.transport.name, "websocket");
  await sioConnect(client);
});

test('transports: ["polling"] answers a WebSocket handshake with 400 code 0 "Transport unknown"', T, async (t) => {
  const s = await startServer({ transports: ["polling"] });
  t.after(() => s.close());

  const errors = [];
  s.io.engine.on("connection_error", (e) => errors.push(e));
  const ws = new WebSocket(`${s.wsBase}${s.path}?EIO=4&transport=websocket`);
  s.track(ws);
  ws.on("error", () => {});
  const [, res] = await waitFor(ws, "unexpected-response");
  const body = await new Promise((resolve) => {
    let b = "";
    res.on("data", (c) => (b += c));
    res.on("end", () => resolve(b));
  });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(JSON.parse(body), { code: 0, message: "Transport unknown" });
  assert.equal(errors[0].code, 0);
  assert.deepEqual(errors[0].context, { transport: "websocket" });

  // polling keeps working and advertises no upgrade
  const { open } = await pollingHandshake(s);
  assert.deepEqual(open.upgrades, []);
});
