/**
 * Engine.IO request errors: for each error code, the exact HTTP status and JSON body on polling, the raw
 * HTTP answer to a refused WebSocket upgrade, and the "connection_error" event fields.
 */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const {
  TEST_TIMEOUT,
  startServer,
  pollingSession,
  eioRequest,
  eioQuery,
  rawHttp,
  upgradeRequest,
  waitFor1,
  assertNotEmitted,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** Records connection_error events of the server. */
function recordErrors(s) {
  const errors = [];
  s.io.engine.on("connection_error", (e) => errors.push(e));
  return errors;
}

/** Asserts a polling error response: status, JSON body, content type. */
function assertJsonError(res, status, code, message) {
  assert.equal(res.status, status);
  assert.equal(res.headers["content-type"], "application/json");
  assert.equal(res.text, JSON.stringify({ code, message }));
}

/** Asserts a connection_error event's fields. */
function assertConnectionError(err, { code, message, context, url, method = "GET" }) {
  assert.ok(err, "connection_error was emitted");
  assert.deepEqual(Object.keys(err).sort(), ["code", "context", "message", "req"]);
  assert.equal(err.code, code);
  assert.equal(err.message, message);
  assert.deepEqual(err.context, context);
  assert.ok(err.req instanceof http.IncomingMessage, "req is the IncomingMessage");
  assert.equal(err.req.method, method);
  if (url) assert.equal(err.req.url, url);
}

/** Raw upgrade request and its full answer (the server closes the connection after it). */
function upgrade(s, query) {
  return rawHttp(s.port, upgradeRequest(`${s.path}?${eioQuery(query)}`));
}

/** The refusal written on the raw TCP socket for an upgrade. */
function upgradeRefusal(message) {
  return (
    "HTTP/1.1 400 Bad Request\r\n" +
    "Connection: close\r\n" +
    "Content-type: text/html\r\n" +
    `Content-Length: ${Buffer.byteLength(message)}\r\n` +
    "\r\n" +
    message
  );
}

test('code 0 "Transport unknown": 400 for an unknown transport name', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const res = await eioRequest(s, { query: { transport: "foo" } });
  assertJsonError(res, 400, 0, "Transport unknown");
  assertConnectionError(errors[0], {
    code: 0,
    message: "Transport unknown",
    context: { transport: "foo" },
    url: `${s.path}?EIO=4&transport=foo`,
  });
});

test('code 0 "Transport unknown": missing transport and prototype names are unknown too', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  assertJsonError(await eioRequest(s, { query: { transport: null } }), 400, 0, "Transport unknown");
  assert.deepEqual(errors[0].context, { transport: undefined });
  for (const name of ["constructor", "__proto__", "toString", "webtransport"]) {
    assertJsonError(await eioRequest(s, { query: { transport: name } }), 400, 0, "Transport unknown");
  }
  assert.equal(errors.length, 5);
  assert.ok(errors.every((e) => e.code === 0));
});

test('code 0 "Transport unknown" on a WebSocket upgrade: raw 400 with the message as text/html body', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  assert.equal(await upgrade(s, { transport: "foo" }), upgradeRefusal("Transport unknown"));
  assertConnectionError(errors[0], { code: 0, message: "Transport unknown", context: { transport: "foo" } });
});

test('code 1 "Session ID unknown": 400 for GET and POST with an unknown sid', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  assertJsonError(await eioRequest(s, { query: { sid: "nope" } }), 400, 1, "Session ID unknown");
  assertConnectionError(errors[0], { code: 1, message: "Session ID unknown", context: { sid: "nope" } });
  const post = await eioRequest(s, { method: "POST", query: { sid: "nope" }, body: "40" });
  assertJsonError(post, 400, 1, "Session ID unknown");
  assertConnectionError(errors[1], {
    code: 1,
    message: "Session ID unknown",
    context: { sid: "nope" },
    method: "POST",
  });
  // prototype property names are not sessions
  for (const sid of ["__proto__", "constructor", "hasOwnProperty"]) {
    assertJsonError(await eioRequest(s, { query: { sid } }), 400, 1, "Session ID unknown");
  }
});

test('code 1 "Session ID unknown" on a WebSocket upgrade', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  assert.equal(await upgrade(s, { transport: "websocket", sid: "nope" }), upgradeRefusal("Session ID unknown"));
  assertConnectionError(errors[0], { code: 1, message: "Session ID unknown", context: { sid: "nope" } });
});

test('code 2 "Bad handshake method": 400 for a handshake that is not a GET', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const res = await eioRequest(s, { method: "POST", body: "40" });
  assertJsonError(res, 400, 2, "Bad handshake method");
  assertConnectionError(errors[0], {
    code: 2,
    message: "Bad handshake method",
    context: { method: "POST" },
    method: "POST",
  });
  // without CORS configured, OPTIONS is just another non-GET handshake
  assertJsonError(await eioRequest(s, { method: "OPTIONS" }), 400, 2, "Bad handshake method");
  assert.deepEqual(errors[1].context, { method: "OPTIONS" });
  assertJsonError(await eioRequest(s, { method: "PUT", body: "x" }), 400, 2, "Bad handshake method");
  assert.deepEqual(errors[2].context, { method: "PUT" });
});

test('code 3 "Bad request": a websocket handshake via a plain GET (TRANSPORT_HANDSHAKE_ERROR)', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const res = await eioRequest(s, { query: { transport: "websocket" } });
  assertJsonError(res, 400, 3, "Bad request");
  assertConnectionError(errors[0], {
    code: 3,
    message: "Bad request",
    context: { name: "TRANSPORT_HANDSHAKE_ERROR" },
  });
});

test('code 3 "Bad request": a request whose transport differs from the session transport (TRANSPORT_MISMATCH)', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const { sid, conn } = await pollingSession(s);
  const res = await eioRequest(s, { query: { transport: "websocket", sid } });
  assertJsonError(res, 400, 3, "Bad request");
  assertConnectionError(errors[0], {
    code: 3,
    message: "Bad request",
    context: { name: "TRANSPORT_MISMATCH", transport: "websocket", previousTransport: "polling" },
  });
  assert.equal(conn.readyState, "open", "the session itself is not closed");
});

test('code 3 "Bad request": a request with another protocol version than the session (PROTOCOL_MISMATCH)', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const { sid } = await pollingSession(s);
  const res = await eioRequest(s, { query: { sid, EIO: "3" } });
  assertJsonError(res, 400, 3, "Bad request");
  assertConnectionError(errors[0], {
    code: 3,
    message: "Bad request",
    context: { name: "PROTOCOL_MISMATCH", protocol: 3, previousProtocol: 4 },
  });
});

test('code 3 "Bad request": generateId throwing (ID_GENERATION_ERROR), no session is created', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  const boom = new Error("no id for you");
  s.io.engine.generateId = () => {
    throw boom;
  };
  const noConnection = assertNotEmitted(s.io.engine, "connection", 200);
  const res = await eioRequest(s, {});
  assertJsonError(res, 400, 3, "Bad request");
  assertConnectionError(errors[0], {
    code: 3,
    message: "Bad request",
    context: { name: "ID_GENERATION_ERROR", error: boom },
  });
  await noConnection;
  assert.equal(s.io.engine.clientsCount, 0);
});

test('code 4 "Forbidden": 403 whose body message is the one given by allowRequest', T, async (t) => {
  const s = await startServer({ allowRequest: (req, callback) => callback("not allowed here", false) });
  t.after(() => s.close());
  const errors = recordErrors(s);

  const res = await eioRequest(s, {});
  assertJsonError(res, 403, 4, "not allowed here");
  // the event's message is the generic one, the custom message is in the context
  assertConnectionError(errors[0], { code: 4, message: "Forbidden", context: { message: "not allowed here" } });
});

test('code 4 "Forbidden": async refusal without a message, the body says "Forbidden"', T, async (t) => {
  const s = await startServer({ allowRequest: (req, callback) => setTimeout(() => callback(null, false), 20) });
  t.after(() => s.close());
  const errors = recordErrors(s);

  assertJsonError(await eioRequest(s, {}), 403, 4, "Forbidden");
  assertConnectionError(errors[0], { code: 4, message: "Forbidden", context: { message: null } });
});

test('code 4 "Forbidden" on a WebSocket upgrade is a raw 400 (not 403) carrying the allowRequest message', T, async (t) => {
  const s = await startServer({ allowRequest: (req, callback) => callback("no websocket for you", false) });
  t.after(() => s.close());
  const errors = recordErrors(s);

  assert.equal(await upgrade(s, { transport: "websocket" }), upgradeRefusal("no websocket for you"));
  assertConnectionError(errors[0], { code: 4, message: "Forbidden", context: { message: "no websocket for you" } });
});

test('code 5 "Unsupported protocol version": 400 for EIO=3 (and for a missing EIO) without allowEIO3', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);

  assertJsonError(await eioRequest(s, { query: { EIO: "3" } }), 400, 5, "Unsupported protocol version");
  assertConnectionError(errors[0], {
    code: 5,
    message: "Unsupported protocol version",
    context: { protocol: 3 },
  });
  // any EIO value other than "4" counts as protocol 3
  assertJsonError(await eioRequest(s, { query: { EIO: null } }), 400, 5, "Unsupported protocol version");
  assertJsonError(await eioRequest(s, { query: { EIO: "5" } }), 400, 5, "Unsupported protocol version");
  assert.equal(errors.length, 3);
  assert.ok(errors.every((e) => e.code === 5 && e.context.protocol === 3));
});

test('code 5 "Unsupported protocol version" on a WebSocket handshake: the connection is refused and closed', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const errors = recordErrors(s);
  const noConnection = assertNotEmitted(s.io.engine, "connection", 200);

  const answer = await upgrade(s, { transport: "websocket", EIO: "3" });
  assert.ok(answer.endsWith("\r\n\r\nUnsupported protocol version"), JSON.stringify(answer));
  assertConnectionError(errors[0], {
    code: 5,
    message: "Unsupported protocol version",
    context: { protocol: 3 },
  });
  await noConnection;
});

test("allowRequest runs before the protocol version check", T, async (t) => {
  const s = await startServer({ allowRequest: (req, callback) => callback("nope", false) });
  t.after(() => s.close());
  const errors = recordErrors(s);

  assertJsonError(await eioRequest(s, { query: { EIO: "3" } }), 403, 4, "nope");
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 4);
});

test("errors are checked in order: transport, then sid, then method", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  // unknown transport wins over an unknown sid and a bad method
  assertJsonError(
    await eioRequest(s, { method: "POST", query: { transport: "foo", sid: "nope" }, body: "x" }),
    400,
    0,
    "Transport unknown",
  );
  // unknown sid wins over the method (POST is fine with a sid)
  assertJsonError(await eioRequest(s, { method: "DELETE", query: { sid: "nope" } }), 400, 1, "Session ID unknown");
});

test("allowRequest accepting (sync or async) lets the handshake through and sees the request", T, async (t) => {
  const seen = [];
  const s = await startServer({
    allowRequest: (req, callback) => {
      seen.push(req.headers["x-token"]);
      if (req.headers["x-token"] === "later") setTimeout(() => callback(null, true), 20);
      else callback(null, req.headers["x-token"] === "now");
    },
  });
  t.after(() => s.close());

  const connected = waitFor1(s.io.engine, "connection");
  const sync = await eioRequest(s, { headers: { "X-Token": "now" } });
  assert.equal(sync.status, 200);
  assert.equal(sync.text[0], "0");
  await connected;
  const async_ = await eioRequest(s, { headers: { "X-Token": "later" } });
  assert.equal(async_.status, 200);
  assertJsonError(await eioRequest(s, { headers: { "X-Token": "bad" } }), 403, 4, "Forbidden");
  assert.deepEqual(seen, ["now", "later", "bad"]);

  // allowRequest is only consulted for handshakes, not for the later requests of a session
  const sid = JSON.parse(sync.text.slice(1)).sid;
  const res = await eioRequest(s, { method: "POST", query: { sid }, body: "40" });
  assert.equal(res.status, 200);
  assert.equal(res.text, "ok");
  assert.deepEqual(seen, ["now", "later", "bad"]);
});
