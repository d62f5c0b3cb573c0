/**
 * Bad input never crashes the process nor disturbs other sessions. Each test keeps a healthy session open
 * across the abuse and checks it still gets full service afterwards, plus a brand new client.
 * (An uncaught exception in the server would fail the test run.)
 */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const {
  TEST_TIMEOUT,
  SEP,
  startServer,
  pollingSession,
  pollingSioConnect,
  wsSession,
  openRawWebSocket,
  collect,
  openEioClient,
  sioConnect,
  assertHealthyClient,
  parkPoll,
  serverSawRequest,
  post,
  eioRequest,
  request,
  rawHttp,
  wsClosed,
  waitFor,
  waitFor1,
  engineClosed,
  withTimeout,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** A healthy engine.io-client session kept open during the test; check() proves it still works. */
async function bystander(s, transports = ["websocket"]) {
  const client = await openEioClient(s, { transports });
  await sioConnect(client);
  let n = 0;
  return {
    client,
    async check() {
      const id = ++n;
      const reply = waitFor1(client, "message", { filter: (m) => m.startsWith(`3${id}[`) });
      client.send(`2${id}["echo","ok ${id}"]`);
      assert.equal(await reply, `3${id}["ok ${id}"]`);
    },
  };
}

/** Closes a polling session's abused state deterministically: the close must reach a parked GET. */
async function postWithParkedGet(s, sid, payload) {
  const { response: parked } = await parkPoll(s, sid); // a resulting close is delivered through it
  const res = await post(s, sid, payload);
  return { res, parked };
}

// payload POSTed on a polling session connected to "/" -> [engine close reason, Socket.IO disconnect reason]
const MALFORMED_POLLING = [
  ["unknown packet type", "x", "parse error"],
  ["empty body", "", "parse error"],
  ["lone separator", SEP, "parse error"],
  ["valid packet then garbage", `42["echo"]${SEP}zzz`, "parse error"],
  ["message without data", "4", "forced close"],
  ["truncated Socket.IO JSON", '42["x",', "forced close"],
  ["unknown Socket.IO packet type", "4z", "forced close"],
  ["Socket.IO CONNECT_ERROR sent by a client", "44{}", "forced close"],
  ["binary attachment without header", "bAQID", "forced close"],
  ["invalid base64 (decoded leniently into unexpected binary)", "b!!!@@@", "forced close"],
  ["client ping (wrong heartbeat direction)", "2", "transport error"],
  ["NUL and control bytes", "\u0000\u0001\u0002", "parse error"],
];

for (const [name, payload, expected] of MALFORMED_POLLING) {
  test(`malformed polling POST (${name}) closes that session only ("${expected}")`, T, async (t) => {
    const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
    t.after(() => s.close());
    const other = await bystander(s);

    const { sid, conn } = await pollingSession(s);
    await pollingSioConnect(s, sid);
    const closed = engineClosed(conn);
    const { res, parked } = await postWithParkedGet(s, sid, payload);
    assert.equal(res.status, 200);
    assert.equal(res.text, "ok", "the POST itself is acknowledged");
    assert.equal((await closed)[0], expected);
    assert.equal((await parked).text, "1");

    await other.check();
    await assertHealthyClient(s, ["polling"]);
  });
}

// text frame sent on a WebSocket session connected to "/" -> engine close reason
const MALFORMED_WS = [
  ["unknown packet type", "x", "parse error"],
  ["empty frame", "", "parse error"],
  ["truncated Socket.IO JSON", '42["x",', "forced close"],
  ["invalid base64", "b!!!@@@", "forced close"],
  ["huge Socket.IO attachment count", '451000000000-["x",{"_placeholder":true,"num":0}]', "forced close"],
];

for (const [name, frame, expected] of MALFORMED_WS) {
  test(`malformed WebSocket frame (${name}) closes that session only ("${expected}")`, T, async (t) => {
    const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
    t.after(() => s.close());
    const other = await bystander(s, ["polling"]);

    const { ws, conn } = await wsSession(s);
    ws.send("40");
    await ws.next();
    const closed = engineClosed(conn);
    ws.send(frame);
    assert.equal((await closed)[0], expected);
    await wsClosed(ws);

    await other.check();
    await assertHealthyClient(s, ["websocket"]);
  });
}

test("unexpected binary frame on a WebSocket is rejected by Socket.IO (forced close)", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const other = await bystander(s);

  const { ws, conn } = await wsSession(s);
  ws.send("40");
  await ws.next();
  const closed = engineClosed(conn);
  ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  assert.equal((await closed)[0], "forced close");
  await wsClosed(ws);
  await other.check();
});

test("garbage bytes at the WebSocket framing level close that connection with a protocol error", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const other = await bystander(s, ["polling"]);

  const cases = [
    ["unmasked client frame", Buffer.from([0x81, 0x02, 0x34, 0x30]), 1002],
    ["invalid UTF-8 in a text frame", Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x34, 0xff]), 1007],
  ];
  for (const [name, bytes, code] of cases) {
    const { ws, conn } = await wsSession(s);
    const closed = engineClosed(conn);
    ws._socket.write(bytes); // bypass the ws library's framing
    assert.equal((await closed)[0], "transport error", name);
    assert.equal((await wsClosed(ws)).code, code, name);
  }
  await other.check();
  await assertHealthyClient(s, ["websocket"]);
});

test(
  "a frame header with reserved bits set is refused before it is complete (1002)",
  T,
  async (t) => {
    const s = await startServer();
    t.after(() => s.close());
    const { ws, conn } = await wsSession(s);
    const closed = engineClosed(conn);
    ws._socket.write(Buffer.from([0xff, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]));
    assert.equal((await closed)[0], "transport error");
    assert.equal((await wsClosed(ws)).code, 1002);
  },
);

test("wrong or forged sids get code 1 and leave existing sessions alone", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const other = await bystander(s, ["polling"]);
  const { sid } = await pollingSession(s);

  const forged = [
    "nope",
    sid.slice(0, -1),
    sid + "x",
    sid.toLowerCase() === sid ? sid.toUpperCase() : sid.toLowerCase(),
    "%00",
    "a".repeat(2000),
    "__proto__",
  ];
  for (const bad of forged) {
    for (const method of ["GET", "POST"]) {
      const res = await eioRequest(s, { method, query: { sid: bad }, body: method === "POST" ? "40" : undefined });
      assert.equal(res.status, 400, `${method} sid=${bad}`);
      assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" });
    }
  }
  // the real session and the bystander are untouched
  await pollingSioConnect(s, sid);
  await other.check();
});

test("a huge body on the handshake GET and on a POST do not crash the server", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const other = await bystander(s);
  const { sid } = await pollingSession(s);

  const huge = "4" + "z".repeat(3 * 1024 * 1024);
  assert.equal((await post(s, sid, huge, { timeout: 15000 })).status, 413);
  // a body on a GET handshake is ignored
  const hs = await eioRequest(s, { body: huge, timeout: 15000, headers: { "Content-Type": "text/plain" } });
  assert.equal(hs.status, 200);
  assert.equal(hs.text[0], "0");
  await other.check();
  await assertHealthyClient(s, ["polling"]);
});

test("non-HTTP garbage on the listening port is rejected by the HTTP layer; the server keeps serving", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const other = await bystander(s);

  const answer = await rawHttp(s.port, "\u0000\u0001garbage\r\n\r\nmore garbage\r\n\r\n");
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const answer2 = await rawHttp(s.port, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  assert.match(answer2, /^HTTP\/1\.1 400 Bad Request\r\n/);
  await other.check();
  await assertHealthyClient(s, ["polling"]);
});

test("a client vanishing mid-request (truncated POST body, half-open upgrade) is tolerated", T, async (t) => {
  const s = await startServer({ pingInterval: 5000, pingTimeout: 5000 });
  t.after(() => s.close());
  const other = await bystander(s);
  const { sid, conn } = await pollingSession(s);

  // POST announcing 1000 bytes, sending 10, then disappearing
  const closed = engineClosed(conn);
  const { response: parked } = await parkPoll(s, sid); // the resulting close is delivered through it
  const sock = net.connect(s.port, "127.0.0.1");
  await waitFor1(sock, "connect");
  const posted = serverSawRequest(s, (req) => req.method === "POST");
  sock.write(
    `POST ${s.path}?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n40${"a".repeat(8)}`,
  );
  await posted;
  sock.destroy();
  const [reason, description] = await closed;
  assert.equal(reason, "transport error");
  assert.equal(description.message, "data request connection closed prematurely");
  assert.equal((await parked).text, "1");

  // an upgrade request cut before the headers end
  const accepted = waitFor(s.httpServer, "connection");
  const half = net.connect(s.port, "127.0.0.1");
  await accepted;
  half.write(`GET ${s.path}?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n`, () => half.destroy());

  await other.check();
  await assertHealthyClient(s, ["websocket"]);
});

test("many sessions opened and abandoned at once do not disturb a healthy one", T, async (t) => {
  const s = await startServer({ pingInterval: 400, pingTimeout: 1000 });
  t.after(() => s.close());
  const other = await bystander(s);

  // WebSocket sessions that never answer pings
  const connsP = collect(s.io.engine, "connection", 30);
  const sockets = await Promise.all(Array.from({ length: 30 }, () => openRawWebSocket(s)));
  const conns = await connsP;
  const closesP = Promise.all(conns.map((c) => engineClosed(c)));
  assert.equal(new Set(conns.map((c) => c.id)).size, 30);
  assert.equal(s.io.engine.clientsCount, 31);
  const closes = await withTimeout(closesP, 5000, "expiry");
  assert.equal(sockets.length, 30);
  assert.ok(closes.every(([reason]) => reason === "ping timeout"));
  assert.equal(s.io.engine.clientsCount, 1);
  await other.check();
  const res = await request(s.port, { path: `${s.path}?EIO=4&transport=polling&sid=${conns[0].id}` });
  assert.equal(res.status, 400);
  assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" });
});
