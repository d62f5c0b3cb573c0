/**
 * Shared helpers for the Engine.IO behaviour tests (__test__/engine-*.test.js).
 *
 * Everything here talks to a real http.Server bound to 127.0.0.1 on an ephemeral port, using either the
 * real `engine.io-client`, the `ws` package, or plain `http` requests. No mocks.
 */
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");
const https = require("node:https");
const net = require("node:net");
const { execFileSync } = require("node:child_process");
const assert = require("node:assert/strict");
const { Server } = require("./impl");
const { Socket: EioClient } = require("engine.io-client");
const WebSocket = require("ws");

/** Default bound for a single await in a test (ms). A hang fails with a clear message instead of blocking. */
const WAIT_MS = 5000;
/** Per-test bound passed to node:test so a hang fails even without --test-timeout. */
const TEST_TIMEOUT = 20000;
/** Engine.IO record separator used in polling payloads. */
const SEP = "\x1e";

/** Rejects after `ms` unless `promise` settles first. */
function withTimeout(promise, ms = WAIT_MS, label = "operation") {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${label}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

function removeListener(emitter, event, fn) {
  if (typeof emitter.off === "function") emitter.off(event, fn);
  else emitter.removeListener(event, fn);
}

/**
 * Resolves with the arguments array of the next `event` emitted by `emitter` (Node EventEmitter or
 * the component-emitter used by engine.io-client). Rejects on timeout.
 * If `filter` is given, only emissions for which filter(...args) is truthy count.
 */
function waitFor(emitter, event, { timeout = WAIT_MS, filter } = {}) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      if (filter && !filter(...args)) return;
      clearTimeout(timer);
      removeListener(emitter, event, onEvent);
      resolve(args);
    };
    const timer = setTimeout(() => {
      removeListener(emitter, event, onEvent);
      reject(new Error(`timed out after ${timeout}ms waiting for "${event}"`));
    }, timeout);
    emitter.on(event, onEvent);
  });
}

/** Resolves with the first argument of the next `event`. */
async function waitFor1(emitter, event, opts) {
  const args = await waitFor(emitter, event, opts);
  return args[0];
}

/**
 * Collects the first argument of the next `count` emissions of `event`; resolves with the array.
 * Start collecting BEFORE triggering the events.
 */
function collect(emitter, event, count, { timeout = WAIT_MS, map = (x) => x } = {}) {
  const items = [];
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      items.push(map(...args));
      if (items.length === count) {
        clearTimeout(timer);
        removeListener(emitter, event, onEvent);
        resolve(items);
      }
    };
    const timer = setTimeout(() => {
      removeListener(emitter, event, onEvent);
      reject(new Error(`timed out after ${timeout}ms: got ${items.length}/${count} "${event}" events`));
    }, timeout);
    emitter.on(event, onEvent);
  });
}

/** Asserts that `event` is NOT emitted within `ms` (a bounded wait is the only way to assert absence). */
function assertNotEmitted(emitter, event, ms = 300) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      clearTimeout(timer);
      removeListener(emitter, event, onEvent);
      reject(new Error(`unexpected "${event}" event: ${JSON.stringify(args.map(String))}`));
    };
    const timer = setTimeout(() => {
      removeListener(emitter, event, onEvent);
      resolve();
    }, ms);
    emitter.on(event, onEvent);
  });
}

/** A small bounded delay; only used to assert that something does NOT happen. */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts an http.Server on 127.0.0.1:0 with a socket.io Server attached.
 *
 * - `opts`: socket.io / engine.io server options.
 * - `requestHandler`: optional user "request" listener registered BEFORE the io server is attached
 *   (requests outside the io path must reach it).
 * - `echo` (default true): every socket.io socket answers `echo` events through their ack, so a client
 *   can prove a full round trip with `421["echo",x]` -> `431[x]` (wire format).
 * - `credentials` ({ key, cert }): an https.Server instead; clients made by these helpers then
 *   accept its certificate.
 *
 * Returns { io, httpServer, port, base, wsBase, path, close }.
 */
async function startServer(opts = {}, { requestHandler, echo = true, credentials } = {}) {
  const httpServer = credentials
    ? https.createServer(credentials, requestHandler)
    : requestHandler
      ? http.createServer(requestHandler)
      : http.createServer();
  const io = new Server(httpServer, opts);
  if (echo) {
    io.on("connection", (socket) => {
      socket.on("echo", (...args) => {
        const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
        if (ack) ack(...args);
      });
    });
  }
  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => {
      httpServer.removeListener("error", reject);
      resolve();
    });
  });
  const { port } = httpServer.address();
  const path = (opts.path || "/socket.io").replace(/\/$/, "") + "/";
  const clients = new Set();
  let closed = false;
  const server = {
    io,
    httpServer,
    port,
    path,
    base: `${credentials ? "https" : "http"}://127.0.0.1:${port}`,
    wsBase: `${credentials ? "wss" : "ws"}://127.0.0.1:${port}`,
    /** Options every client of this server needs (a self-signed certificate is accepted). */
    clientOptions: credentials ? { rejectUnauthorized: false } : {},
    /** Tracks a client (engine.io-client socket, ws socket, ...) so close() disposes of it. */
    track(client) {
      clients.add(client);
      return client;
    },
    /** Closes tracked clients, the io server and the http server, and drops lingering connections. */
    async close() {
      for (const c of clients) {
        try {
          if (c instanceof WebSocket) c.terminate();
          else if (typeof c.destroy === "function") c.destroy();
          else if (typeof c.close === "function") c.close();
        } catch (_) {
          /* already closed */
        }
      }
      clients.clear();
      if (closed) return;
      closed = true;
      const done = withTimeout(
        new Promise((resolve) => io.close(() => resolve())),
        WAIT_MS,
        "io.close()",
      ).catch(() => {});
      if (typeof httpServer.closeAllConnections === "function") httpServer.closeAllConnections();
      await done;
    },
  };
  return server;
}

/** Query string for an Engine.IO request. */
function eioQuery({ transport = "polling", sid, EIO = "4", extra } = {}) {
  const q = new URLSearchParams();
  if (EIO !== null) q.set("EIO", EIO);
  if (transport !== null) q.set("transport", transport);
  if (sid) q.set("sid", sid);
  if (extra) for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

/**
 * Plain HTTP request. Resolves with { status, headers, body (Buffer), text } once the response ended,
 * or rejects on socket error / timeout. A fresh connection is used for each request (agent: false).
 */
function request(port, { method = "GET", path = "/", headers = {}, body, timeout = WAIT_MS } = {}) {
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    // explicit length: Node's client would otherwise send a GET body without any framing
    headers = { ...headers, "Content-Length": Buffer.byteLength(body) };
  }
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method, path, headers, agent: false },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const buf = Buffer.concat(chunks);
            resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString("utf8") });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (body !== undefined) req.end(body);
      else req.end();
    }),
    timeout,
    `${method} ${path}`,
  );
}

/** GET/POST on the engine path of `server` with the given query params. */
function eioRequest(server, { method = "GET", query = {}, headers, body, timeout } = {}) {
  return request(server.port, { method, path: `${server.path}?${eioQuery(query)}`, headers, body, timeout });
}

/**
 * Performs a polling handshake with a plain GET. Returns { sid, open, response } where `open` is the
 * parsed JSON of the "0" open packet.
 */
async function pollingHandshake(server, query = {}) {
  const res = await eioRequest(server, { query: { transport: "polling", ...query } });
  assert.equal(res.status, 200, `handshake failed: ${res.status} ${res.text}`);
  assert.equal(res.text[0], "0", `expected an open packet, got ${JSON.stringify(res.text)}`);
  const open = JSON.parse(res.text.slice(1).split(SEP)[0]);
  return { sid: open.sid, open, response: res };
}

/**
 * Polling handshake that also captures the server-side engine socket.
 * Returns { sid, open, response, conn }.
 */
async function pollingSession(server, query = {}) {
  const connP = nextEngineConnection(server);
  const hs = await pollingHandshake(server, query);
  const conn = await connP;
  assert.equal(conn.id, hs.sid);
  return { ...hs, conn };
}

/**
 * Raw WebSocket handshake (no polling) that also captures the engine socket and reads the open packet.
 * Returns { ws, open, conn }.
 */
async function wsSession(server, query = {}) {
  const connP = nextEngineConnection(server);
  const ws = await openRawWebSocket(server, query);
  const first = await ws.next();
  assert.equal(first[0], "0", `expected an open packet, got ${JSON.stringify(first)}`);
  const conn = await connP;
  return { ws, open: JSON.parse(first.slice(1)), conn };
}

/** Resolves with the next Socket.IO socket connected to the main namespace. */
function nextSioConnection(server, timeout = WAIT_MS) {
  return waitFor1(server.io, "connection", { timeout });
}

/** Normalises binary data received by engine.io-client / ws (Buffer, ArrayBuffer, views) to a Buffer. */
function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`not binary: ${typeof data}`);
}

/** Splits a polling payload into its packets. */
function decodePayload(text) {
  return text.split(SEP);
}

/** A polling GET for an existing session. */
function poll(server, sid, opts = {}) {
  return eioRequest(server, { query: { transport: "polling", sid }, ...opts });
}

/**
 * Resolves once the http server has received a request matching `predicate`. The engine's own "request"
 * listener is registered first, so by then the engine has seen the request too.
 */
async function serverSawRequest(server, predicate, timeout = WAIT_MS) {
  await waitFor(server.httpServer, "request", { filter: (req) => predicate(req), timeout });
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Starts a polling GET for `sid` and resolves once the server has received it (it is then parked, waiting
 * for data). Returns { response } where response is the promise of the GET's result.
 */
async function parkPoll(server, sid) {
  const seen = serverSawRequest(
    server,
    (req) => req.method === "GET" && new URL(req.url, "http://localhost").searchParams.get("sid") === sid,
  );
  const response = poll(server, sid);
  response.catch(() => {}); // observed by the caller
  await seen;
  return { response };
}

/** A polling POST of `payload` (string) for an existing session. */
function post(server, sid, payload, opts = {}) {
  return eioRequest(server, {
    method: "POST",
    query: { transport: "polling", sid },
    headers: { "Content-Type": "text/plain;charset=UTF-8", ...(opts.headers || {}) },
    body: payload,
    timeout: opts.timeout,
  });
}

/**
 * Polls until a packet satisfying `predicate` arrives (answering pings with pongs along the way).
 * Returns the list of all packets received, up to and including the matching one.
 */
async function pollUntil(server, sid, predicate, { timeout = WAIT_MS } = {}) {
  const deadline = Date.now() + timeout;
  const seen = [];
  while (Date.now() < deadline) {
    const res = await poll(server, sid, { timeout: deadline - Date.now() });
    assert.equal(res.status, 200, `poll failed: ${res.status} ${res.text}`);
    for (const p of decodePayload(res.text)) {
      seen.push(p);
      if (predicate(p)) return seen;
      if (p === "2") await post(server, sid, "3");
    }
  }
  throw new Error(`timed out polling; packets seen: ${JSON.stringify(seen)}`);
}

/** Connects a polling session to the main Socket.IO namespace ("40" then wait for "40{...}"). */
async function pollingSioConnect(server, sid) {
  const res = await post(server, sid, "40");
  assert.equal(res.status, 200);
  assert.equal(res.text, "ok");
  const packets = await pollUntil(server, sid, (p) => p.startsWith("40"));
  return JSON.parse(packets[packets.length - 1].slice(2));
}

/** Creates an engine.io-client socket pointed at `server` (path defaults to the server's path). */
function eioClient(server, opts = {}) {
  const client = new EioClient(server.base, { path: server.path, reconnection: false, ...server.clientOptions, ...opts });
  server.track(client);
  return client;
}

/** Creates an engine.io-client socket and waits for "open". */
async function openEioClient(server, opts = {}) {
  const client = eioClient(server, opts);
  await waitFor(client, "open");
  return client;
}

/**
 * Socket.IO CONNECT to "/" over an open engine.io-client socket and waits for the server's CONNECT ack.
 * Note: engine.io-client's send() adds the Engine.IO "4" (message) prefix itself, so the Socket.IO packet
 * sent is "0" (the wire carries "40") and the ack received is "0{...}" (wire: "40{...}").
 */
async function sioConnect(client) {
  const ack = waitFor1(client, "message", { filter: (m) => typeof m === "string" && m.startsWith("0") });
  client.send("0");
  return JSON.parse((await ack).slice(1));
}

/**
 * Proves a brand new client still gets full service: engine.io-client over `transports`, Socket.IO
 * CONNECT, then an `echo` event acknowledged by the server.
 */
async function assertHealthyClient(server, transports = ["polling"]) {
  const client = await openEioClient(server, { transports });
  try {
    await sioConnect(client);
    const reply = waitFor1(client, "message", { filter: (m) => typeof m === "string" && m.startsWith("3") });
    client.send('21["echo","still alive"]'); // Socket.IO EVENT with ack id 1 (wire: 421[...])
    assert.equal(await reply, '31["still alive"]');
  } finally {
    client.close();
  }
}

/** Opens a raw WebSocket to the engine path. Resolves once open; `ws.messages` is an async-ish queue. */
async function openRawWebSocket(server, query = {}, wsOpts = {}) {
  const ws = new WebSocket(`${server.wsBase}${server.path}?${eioQuery({ transport: "websocket", ...query })}`, wsOpts);
  server.track(ws);
  ws.on("error", () => {}); // errors are observed through "close" in the tests
  const queue = messageQueue(ws);
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (req, res) => {
        req.destroy();
        reject(new Error(`websocket handshake refused with HTTP ${res.statusCode}`));
      });
      ws.once("close", (code) => reject(new Error(`websocket closed (${code}) before open`)));
    }),
    WAIT_MS,
    "websocket open",
  );
  ws.next = queue.next;
  ws.received = queue.received;
  return ws;
}

/** Buffers messages of a ws socket; next() resolves with the next one (string for text frames). */
function messageQueue(ws) {
  const received = [];
  const pending = [];
  let readIndex = 0;
  ws.on("message", (data, isBinary) => {
    const msg = isBinary ? data : data.toString();
    received.push(msg);
    const waiter = pending.shift();
    if (waiter) {
      readIndex++;
      waiter(msg);
    }
  });
  function next(timeout = WAIT_MS) {
    if (readIndex < received.length) return Promise.resolve(received[readIndex++]);
    return withTimeout(new Promise((resolve) => pending.push(resolve)), timeout, "websocket message");
  }
  return { next, received };
}

/** Waits for the ws socket "close" and resolves with { code, reason }. */
async function wsClosed(ws, timeout = WAIT_MS) {
  if (ws.readyState === WebSocket.CLOSED) return { code: ws._closeCode, reason: String(ws._closeMessage || "") };
  const [code, reason] = await waitFor(ws, "close", { timeout });
  return { code, reason: reason.toString() };
}

/**
 * Sends a raw HTTP request over a TCP socket and resolves with everything the server wrote before
 * closing (or after `timeout` if it keeps the connection open). Useful for upgrade rejections.
 */
function rawHttp(port, text, { timeout = WAIT_MS } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
      const chunks = [];
      socket.on("data", (c) => chunks.push(c));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    }),
    timeout,
    "raw HTTP response",
  );
}

/** The text of a WebSocket upgrade request for `pathAndQuery`. */
function upgradeRequest(pathAndQuery, extraHeaders = {}) {
  const headers = {
    Host: "127.0.0.1",
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    ...extraHeaders,
  };
  return (
    `GET ${pathAndQuery} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("") +
    "\r\n"
  );
}

/** Resolves with [reason, description] of the next engine socket "close". */
function engineClosed(engineSocket, timeout = WAIT_MS) {
  return waitFor(engineSocket, "close", { timeout });
}

/** Resolves with the next raw engine socket the server accepts. */
function nextEngineConnection(server, timeout = WAIT_MS) {
  return waitFor1(server.io.engine, "connection", { timeout });
}

/** A throw-away self-signed certificate for `localhost`, or null where openssl is missing. */
function selfSignedCredentials() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "socket-io-rs-tls-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    return { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) };
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A loopback TCP proxy to `port` that delays what the server sends on HTTP connections by
 * `delayMs` (WebSocket connections pass at once): network latency on the polling transport only.
 * Resolves with { port, base, close }.
 */
async function pollingLatencyProxy(port, delayMs) {
  const sockets = new Set();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    let delay = 0;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("close", () => upstream.destroy());
    // What the server sent before it closed still arrives late.
    upstream.on("close", () => setTimeout(() => client.destroy(), delay));
    client.once("data", (first) => {
      if (!/transport=websocket/.test(first.toString("latin1").split("\r\n")[0])) delay = delayMs;
      upstream.write(first);
      client.pipe(upstream);
    });
    upstream.on("data", (chunk) => {
      if (delay) setTimeout(() => client.write(chunk), delay);
      else client.write(chunk);
    });
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = proxy.address().port;
  return {
    port: proxyPort,
    base: `http://127.0.0.1:${proxyPort}`,
    close() {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

module.exports = {
  Server,
  EioClient,
  WebSocket,
  WAIT_MS,
  TEST_TIMEOUT,
  SEP,
  withTimeout,
  waitFor,
  waitFor1,
  collect,
  assertNotEmitted,
  delay,
  startServer,
  eioQuery,
  request,
  eioRequest,
  pollingHandshake,
  pollingSession,
  wsSession,
  nextSioConnection,
  toBuffer,
  decodePayload,
  poll,
  parkPoll,
  serverSawRequest,
  post,
  pollUntil,
  pollingSioConnect,
  eioClient,
  openEioClient,
  sioConnect,
  assertHealthyClient,
  openRawWebSocket,
  wsClosed,
  rawHttp,
  upgradeRequest,
  engineClosed,
  nextEngineConnection,
  pollingLatencyProxy,
  selfSignedCredentials,
};
