/** HTTP-level options of the engine: CORS, the session cookie, and the initial_headers / headers events. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  startServer,
  pollingHandshake,
  pollingSession,
  eioRequest,
  poll,
  post,
  waitFor,
  WebSocket,
  SEP,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };
const CORS = { cors: { origin: "http://example.com", credentials: true } };

/** Opens a ws client with extra request headers; resolves with { ws, response } once open. */
async function wsWithResponse(s, headers = {}) {
  const ws = new WebSocket(`${s.wsBase}${s.path}?EIO=4&transport=websocket`, { headers });
  s.track(ws);
  ws.on("error", () => {});
  const upgraded = waitFor(ws, "upgrade");
  await waitFor(ws, "open");
  const [response] = await upgraded;
  return { ws, response };
}

test("CORS preflight (OPTIONS) is answered 204 with the Access-Control-* headers", T, async (t) => {
  const s = await startServer(CORS);
  t.after(() => s.close());

  const res = await eioRequest(s, {
    method: "OPTIONS",
    headers: {
      Origin: "http://example.com",
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "content-type",
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.text, "");
  assert.equal(res.headers["access-control-allow-origin"], "http://example.com");
  assert.equal(res.headers["access-control-allow-credentials"], "true");
  assert.equal(res.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
  assert.equal(res.headers["access-control-allow-headers"], "content-type");
  assert.equal(res.headers.vary, "Origin, Access-Control-Request-Headers");
  assert.equal(res.headers["content-length"], "0");
});

test("CORS headers are on the handshake GET, on later GET/POST and on error responses", T, async (t) => {
  const s = await startServer(CORS);
  t.after(() => s.close());
  const origin = { Origin: "http://example.com" };

  const assertCors = (res) => {
    assert.equal(res.headers["access-control-allow-origin"], "http://example.com");
    assert.equal(res.headers["access-control-allow-credentials"], "true");
    assert.equal(res.headers.vary, "Origin");
    assert.equal(res.headers["access-control-allow-methods"], undefined, "only on preflight");
  };

  const handshake = await eioRequest(s, { headers: origin });
  assert.equal(handshake.status, 200);
  assertCors(handshake);
  const sid = JSON.parse(handshake.text.slice(1)).sid;

  const p = await post(s, sid, "40", { headers: origin });
  assert.equal(p.text, "ok");
  assertCors(p);
  const g = await poll(s, sid, { headers: origin });
  assert.match(g.text, /^40\{"sid":/);
  assertCors(g);

  const err = await eioRequest(s, { query: { transport: "foo" }, headers: origin });
  assert.equal(err.status, 400);
  assertCors(err);
});

test("with a fixed origin, the configured origin is returned whatever the request Origin", T, async (t) => {
  const s = await startServer(CORS);
  t.after(() => s.close());

  const res = await eioRequest(s, {
    method: "OPTIONS",
    headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "GET" },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers["access-control-allow-origin"], "http://example.com");
});

test("CORS headers are added to the WebSocket upgrade response", T, async (t) => {
  const s = await startServer(CORS);
  t.after(() => s.close());

  const { response } = await wsWithResponse(s, { Origin: "http://example.com" });
  assert.equal(response.headers["access-control-allow-origin"], "http://example.com");
  assert.equal(response.headers["access-control-allow-credentials"], "true");
});

test("without the cors option, no Access-Control-* header is sent", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const res = await eioRequest(s, { headers: { Origin: "http://example.com" } });
  assert.equal(res.status, 200);
  for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith("access-control-"), name);
});

test("cookie: true sets io=<sid> with Path=/; HttpOnly; SameSite=Lax on the handshake only", T, async (t) => {
  const s = await startServer({ cookie: true });
  t.after(() => s.close());

  const { sid, response } = await pollingHandshake(s);
  assert.deepEqual(response.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
  const p = await post(s, sid, "40");
  assert.equal(p.headers["set-cookie"], undefined);
  const g = await poll(s, sid);
  assert.equal(g.headers["set-cookie"], undefined);
});

test("cookie options: custom name, path and attributes", T, async (t) => {
  const s = await startServer({ cookie: { name: "sess", path: "/app", httpOnly: false, sameSite: "strict", maxAge: 60 } });
  t.after(() => s.close());

  const { sid, response } = await pollingHandshake(s);
  assert.deepEqual(response.headers["set-cookie"], [`sess=${sid}; Max-Age=60; Path=/app; SameSite=Strict`]);
});

test("without the cookie option no cookie is set", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const { response } = await pollingHandshake(s);
  assert.equal(response.headers["set-cookie"], undefined);
});

test("the cookie is not set on a direct WebSocket handshake", T, async (t) => {
  const s = await startServer({ cookie: true });
  t.after(() => s.close());

  const { response } = await wsWithResponse(s);
  assert.equal(response.headers["set-cookie"], undefined);
});

test('"initial_headers" adds headers to the handshake response only; "headers" to every polling response', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const initialCalls = [];
  s.io.engine.on("initial_headers", (headers, req) => {
    initialCalls.push(req.url);
    headers["X-Initial"] = "first";
  });
  let headersCalls = 0;
  s.io.engine.on("headers", (headers, req) => {
    headersCalls++;
    headers["X-Every"] = `n${headersCalls}`;
    assert.ok(req.url.startsWith(s.path));
  });

  const { sid, conn, response } = await pollingSession(s);
  assert.equal(response.headers["x-initial"], "first");
  assert.equal(response.headers["x-every"], "n1");
  assert.equal(initialCalls.length, 1);

  const p = await post(s, sid, "40");
  assert.equal(p.headers["x-initial"], undefined);
  assert.equal(p.headers["x-every"], "n2");
  const g = await poll(s, sid);
  assert.equal(g.headers["x-initial"], undefined);
  assert.equal(g.headers["x-every"], "n3");
  assert.equal(initialCalls.length, 1, "a single initial_headers per session");
  assert.equal(conn.readyState, "open");
});

test('"initial_headers" and "headers" also apply to the WebSocket upgrade response', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  s.io.engine.on("initial_headers", (headers) => {
    headers["X-Initial"] = "ws-first";
  });
  s.io.engine.on("headers", (headers) => {
    headers["X-Every"] = "ws";
  });
  const { ws, response } = await wsWithResponse(s);
  assert.equal(response.headers["x-initial"], "ws-first");
  assert.equal(response.headers["x-every"], "ws");
  ws.close();
});

test('"headers" can override the header values the engine sets', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  s.io.engine.on("headers", (headers) => {
    headers["cache-control"] = "private";
  });
  const { response } = await pollingHandshake(s);
  assert.equal(response.headers["cache-control"], "private");
  assert.ok(!response.text.includes(SEP));
});
