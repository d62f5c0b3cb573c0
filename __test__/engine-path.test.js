/** The engine's request path: what it intercepts, and what it leaves to the user's own "request" handler. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  startServer,
  request,
  rawHttp,
  upgradeRequest,
  openEioClient,
  sioConnect,
  assertHealthyClient,
  WebSocket,
  waitFor,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** A user handler answering 404 with the URL it saw. */
function userHandler(req, res) {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end(`user 404 ${req.method} ${req.url}`);
}

test("default path /socket.io/ is intercepted; other URLs reach the user's request handler", T, async (t) => {
  const s = await startServer({}, { requestHandler: userHandler });
  t.after(() => s.close());

  const hs = await request(s.port, { path: "/socket.io/?EIO=4&transport=polling" });
  assert.equal(hs.status, 200);
  assert.equal(hs.text[0], "0");

  for (const path of ["/", "/hello", "/socket.iox/?EIO=4&transport=polling", "/other/socket.io/?EIO=4"]) {
    const res = await request(s.port, { path });
    assert.equal(res.status, 404, path);
    assert.equal(res.text, `user 404 GET ${path}`);
  }
  const p = await request(s.port, { method: "POST", path: "/api", body: "x" });
  assert.equal(p.text, "user 404 POST /api");
});

test("the path is matched as a prefix with its trailing slash: /socket.io without the slash is not intercepted", T, async (t) => {
  const s = await startServer({}, { requestHandler: userHandler });
  t.after(() => s.close());

  const res = await request(s.port, { path: "/socket.io?EIO=4&transport=polling" });
  assert.equal(res.status, 404);
  assert.equal(res.text, "user 404 GET /socket.io?EIO=4&transport=polling");
});

test("path option: the engine answers on the custom path only", T, async (t) => {
  const s = await startServer({ path: "/custom" }, { requestHandler: userHandler });
  t.after(() => s.close());
  assert.equal(s.path, "/custom/");

  const hs = await request(s.port, { path: "/custom/?EIO=4&transport=polling" });
  assert.equal(hs.status, 200);
  assert.equal(JSON.parse(hs.text.slice(1)).upgrades[0], "websocket");

  const def = await request(s.port, { path: "/socket.io/?EIO=4&transport=polling" });
  assert.equal(def.status, 404);
  assert.equal(def.text, "user 404 GET /socket.io/?EIO=4&transport=polling");

  // engine errors are produced on the custom path as well
  const err = await request(s.port, { path: "/custom/?EIO=4&transport=nope" });
  assert.equal(err.status, 400);
  assert.deepEqual(JSON.parse(err.text), { code: 0, message: "Transport unknown" });

  // engine.io-client works over polling and websocket on the custom path
  for (const transports of [["polling"], ["websocket"]]) {
    const client = await openEioClient(s, { transports });
    await sioConnect(client);
    client.close();
  }
});

test("requests outside the path are not answered by the engine: a listener added after attaching answers them", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  s.httpServer.on("request", (req, res) => {
    if (req.url.startsWith(s.path)) return; // engine requests are the engine's business
    res.writeHead(418, { "Content-Type": "text/plain" });
    res.end(`late listener ${req.url}`);
  });
  const res = await request(s.port, { path: "/not-engine" });
  assert.equal(res.status, 418);
  assert.equal(res.text, "late listener /not-engine");
  await assertHealthyClient(s);
});

test("a WebSocket upgrade outside the path is closed without any response", T, async (t) => {
  const s = await startServer({}, { requestHandler: userHandler });
  t.after(() => s.close());

  const answer = await rawHttp(s.port, upgradeRequest("/elsewhere?EIO=4&transport=websocket"), { timeout: 5000 });
  assert.equal(answer, "");

  const ws = new WebSocket(`${s.wsBase}/elsewhere`);
  s.track(ws);
  ws.on("error", () => {});
  await waitFor(ws, "close");
  assert.equal(ws.readyState, WebSocket.CLOSED);

  await assertHealthyClient(s, ["websocket"]);
});
