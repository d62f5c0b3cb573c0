/** Closing sessions and the server, and the exact close reasons on each side. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const {
  TEST_TIMEOUT,
  SEP,
  startServer,
  pollingSession,
  pollingSioConnect,
  wsSession,
  nextSioConnection,
  openEioClient,
  sioConnect,
  poll,
  parkPoll,
  serverSawRequest,
  post,
  pollUntil,
  request,
  wsClosed,
  waitFor,
  waitFor1,
  assertNotEmitted,
  engineClosed,
  withTimeout,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** engine.io-client socket connected to "/" plus its server-side engine and Socket.IO sockets. */
async function connectedClient(s, transports) {
  const connP = waitFor1(s.io.engine, "connection");
  const sockP = nextSioConnection(s);
  const client = await openEioClient(s, { transports });
  await sioConnect(client);
  return { client, conn: await connP, socket: await sockP };
}

/** Raw WebSocket session connected to "/". */
async function connectedWs(s) {
  const session = await wsSession(s);
  const sockP = nextSioConnection(s);
  session.ws.send("40");
  assert.match(await session.ws.next(), /^40\{/);
  return { ...session, socket: await sockP };
}

/** Raw polling session connected to "/". */
async function connectedPolling(s) {
  const session = await pollingSession(s);
  const sockP = nextSioConnection(s);
  await pollingSioConnect(s, session.sid);
  return { ...session, socket: await sockP };
}

test('io.close() closes every session ("forced close"), tells clients, and stops the http server', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const wsClient = await connectedClient(s, ["websocket"]);
  const polling = await connectedPolling(s);
  const { response: parked } = await parkPoll(s, polling.sid);

  const closes = [wsClient.conn, polling.conn].map((c) => engineClosed(c));
  const disconnects = [wsClient.socket, polling.socket].map((sock) => waitFor(sock, "disconnect"));
  const clientClosed = waitFor(wsClient.client, "close");

  await withTimeout(s.io.close(), 5000, "io.close()");

  for (const [reason] of await Promise.all(closes)) assert.equal(reason, "forced close");
  for (const [reason] of await Promise.all(disconnects)) assert.equal(reason, "server shutting down");
  assert.equal((await clientClosed)[0], "transport close");
  assert.equal((await parked).text, "1", "a parked GET receives the close packet");
  assert.equal(s.io.engine.clientsCount, 0);
  assert.equal(s.httpServer.listening, false);
  await assert.rejects(request(s.port, { path: "/socket.io/?EIO=4&transport=polling" }), { code: "ECONNREFUSED" });
});

test('socket.conn.close() over WebSocket: "forced close" on the server, "transport close" on the client, pending data first', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { client, conn, socket } = await connectedClient(s, ["websocket"]);

  const messages = [];
  client.on("message", (m) => messages.push(m));
  const serverClosed = engineClosed(conn);
  const disconnect = waitFor(socket, "disconnect");
  const clientClosed = waitFor(client, "close");
  socket.emit("bye", 1);
  socket.conn.close();
  assert.equal((await serverClosed)[0], "forced close");
  assert.equal((await disconnect)[0], "forced close");
  assert.equal((await clientClosed)[0], "transport close");
  assert.deepEqual(messages, ['2["bye",1]']);
  assert.equal(conn.readyState, "closed");
  assert.equal(s.io.engine.clientsCount, 0);
});

test("socket.conn.close() over polling: buffered packets are flushed, then the close packet", T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn, socket } = await connectedPolling(s);

  const serverClosed = engineClosed(conn);
  socket.emit("bye", 1); // no GET parked: stays in the write buffer
  conn.close();
  const packets = await pollUntil(s, sid, (p) => p === "1");
  assert.deepEqual(
    packets.filter((p) => p !== "6"),
    ['42["bye",1]', "1"],
  );
  assert.equal((await serverClosed)[0], "forced close");
  const after = await poll(s, sid);
  assert.equal(after.status, 400);
  assert.deepEqual(JSON.parse(after.text), { code: 1, message: "Session ID unknown" });
});

test('socket.disconnect(true): Socket.IO DISCONNECT then the engine closes ("forced close")', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { client, conn, socket } = await connectedClient(s, ["websocket"]);

  const messages = [];
  client.on("message", (m) => messages.push(m));
  const serverClosed = engineClosed(conn);
  const disconnect = waitFor(socket, "disconnect");
  const clientClosed = waitFor(client, "close");
  socket.disconnect(true);
  assert.equal((await disconnect)[0], "server namespace disconnect");
  assert.equal((await serverClosed)[0], "forced close");
  assert.equal((await clientClosed)[0], "transport close");
  assert.deepEqual(messages, ["1"], "the Socket.IO DISCONNECT packet (wire: 41)");
});

test("socket.disconnect() without close keeps the engine session open", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { client, conn, socket } = await connectedClient(s, ["websocket"]);

  const disconnectPacket = waitFor1(client, "message");
  const noClose = assertNotEmitted(conn, "close", 300);
  socket.disconnect();
  assert.equal(await disconnectPacket, "1");
  await noClose;
  assert.equal(conn.readyState, "open");
});

test('a client closing its engine.io socket is a "transport close" on the server (polling and websocket)', T, async (t) => {
  const s = await startServer({ allowUpgrades: false });
  t.after(() => s.close());

  for (const transports of [["polling"], ["websocket"]]) {
    const { client, conn, socket } = await connectedClient(s, transports);
    const serverClosed = engineClosed(conn);
    const disconnect = waitFor(socket, "disconnect");
    const clientClosed = waitFor(client, "close");
    client.close();
    assert.equal((await clientClosed)[0], "forced close", "the client-side reason");
    assert.equal((await serverClosed)[0], "transport close", `${transports}`);
    assert.equal((await disconnect)[0], "transport close");
  }
  assert.equal(s.io.engine.clientsCount, 0);
});

test('polling: a POSTed close packet "1" closes with "transport close" and releases the parked GET with a noop', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn } = await connectedPolling(s);

  const { response: parked } = await parkPoll(s, sid);
  const closed = engineClosed(conn);
  assert.equal((await post(s, sid, "1")).text, "ok");
  assert.equal((await closed)[0], "transport close");
  assert.equal((await parked).text, "6");
});

test('WebSocket: an abrupt TCP close is a "transport close"', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn, socket } = await connectedWs(s);

  const closed = engineClosed(conn);
  const disconnect = waitFor(socket, "disconnect");
  ws.terminate();
  assert.equal((await closed)[0], "transport close");
  assert.equal((await disconnect)[0], "transport close");
});

test('WebSocket: an Engine.IO close packet "1" is ignored (only the WebSocket close ends the session)', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { ws, conn } = await connectedWs(s);

  const noClose = assertNotEmitted(conn, "close", 300);
  ws.send("1");
  await noClose;
  assert.equal(conn.readyState, "open");
  ws.send('421["echo","still here"]');
  assert.equal(await ws.next(), '431["still here"]');
  const closed = engineClosed(conn);
  ws.close();
  assert.equal((await closed)[0], "transport close");
});

test('polling: a parked GET aborted by the client is a "transport error"', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn } = await connectedPolling(s);

  const closed = engineClosed(conn);
  const path = `${s.path}?EIO=4&transport=polling&sid=${sid}`;
  const parked = serverSawRequest(s, (req) => req.url === path);
  const req = http.get({ host: "127.0.0.1", port: s.port, path, agent: false });
  req.on("error", () => {});
  await parked;
  req.destroy();
  const [reason, description] = await closed;
  assert.equal(reason, "transport error");
  assert.equal(description.message, "poll connection closed prematurely");
});

test('concurrent GETs on one sid: the second gets an empty 400, the first gets "1", the session closes with "transport error"', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn, socket } = await connectedPolling(s);

  const closed = engineClosed(conn);
  const disconnect = waitFor(socket, "disconnect");
  const { response: first } = await parkPoll(s, sid);
  const second = await poll(s, sid);
  assert.equal(second.status, 400);
  assert.equal(second.text, "");
  const [reason, description] = await closed;
  assert.equal(reason, "transport error");
  assert.equal(description.message, "overlap from client");
  assert.equal((await disconnect)[0], "transport error");
  const firstRes = await first;
  assert.equal(firstRes.status, 200);
  assert.equal(firstRes.text, "1");
  assert.equal(s.io.engine.clientsCount, 0);
});

test('an invalid Engine.IO packet is a "parse error" (WebSocket and polling)', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());

  const ws = await connectedWs(s);
  const wsClosedP = engineClosed(ws.conn);
  const wsDisconnect = waitFor(ws.socket, "disconnect");
  ws.ws.send("x");
  assert.equal((await wsClosedP)[0], "parse error");
  assert.equal((await wsDisconnect)[0], "parse error");
  await wsClosed(ws.ws);

  const p = await connectedPolling(s);
  const { response: parked } = await parkPoll(s, p.sid);
  const pClosed = engineClosed(p.conn);
  assert.equal((await post(s, p.sid, "x")).text, "ok");
  assert.equal((await pClosed)[0], "parse error");
  assert.equal((await parked).text, "1");
});

test('an invalid Socket.IO packet closes the engine session with "forced close"', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { ws, conn, socket } = await connectedWs(s);

  const closed = engineClosed(conn);
  const disconnect = waitFor(socket, "disconnect");
  ws.send('42["unterminated",');
  assert.equal((await closed)[0], "forced close");
  assert.equal((await disconnect)[0], "forced close");
  await wsClosed(ws);
});

test('Socket.IO closing a polling session without a parked GET: "forced server close", then the next GET gets the close', T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, conn, socket } = await connectedPolling(s);

  const disconnect = waitFor(socket, "disconnect");
  const closed = engineClosed(conn);
  // a second CONNECT to an already connected namespace is an invalid state: the server closes the client
  assert.equal((await post(s, sid, "40")).text, "ok");
  assert.equal((await disconnect)[0], "forced server close");
  const res = await poll(s, sid);
  const packets = res.text.split(SEP);
  assert.equal(packets[packets.length - 1], "1");
  assert.ok(packets.slice(0, -1).every((p) => p === "6"), JSON.stringify(res.text));
  assert.equal((await closed)[0], "forced close");
});
