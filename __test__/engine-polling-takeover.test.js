/**
 * Long-polling take-over: once JS has answered a polling request with a `sid` on a keep-alive
 * HTTP/1.1 connection, Rust answers that connection's later GETs and POSTs itself, and hands the
 * connection back to Node for anything else. Node's HTTP server calls every "request" listener for
 * each request it parses, so a listener added after `new Server()` sees a take-over as a count that
 * stops growing while traffic goes on, and a hand-back as the count growing again.
 */
"use strict";

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const net = require("node:net");
const zlib = require("node:zlib");
const diagnostics = require("node:diagnostics_channel");
const { io: ioc } = require("socket.io-client");
const {
  TEST_TIMEOUT,
  WAIT_MS,
  withTimeout,
  waitFor,
  waitFor1,
  collect,
  startServer,
  eioQuery,
  nextEngineConnection,
  nextSioConnection,
  engineClosed,
  toBuffer,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };
const ORIGIN = "https://example.com";
const OTHER_ORIGIN = "https://other.example";
const TEXT = { "Content-Type": "text/plain;charset=UTF-8" };

/** startServer, with `s.nodeRequests`: every request Node's HTTP server parsed, as "METHOD url". */
async function startCountingServer(t, opts = {}, startOpts = {}) {
  const s = await startServer({ pingInterval: 60000, pingTimeout: 60000, ...opts }, startOpts);
  t.after(() => s.close());
  s.nodeRequests = [];
  // Added after `new Server()`: the engine's own listener runs first, this one is only a witness.
  s.httpServer.on("request", (req) => s.nodeRequests.push(`${req.method} ${req.url}`));
  return s;
}

function eioPath(s, sid) {
  return `${s.path}?${eioQuery({ sid })}`;
}

/**
 * One TCP connection driven by hand: a keep-alive agent with maxSockets 1 puts every request on
 * the same socket, one after the other. `sockets` collects the client sockets used, so a test can
 * prove that everything went over one connection (the take-over is per connection).
 */
function keepAliveConnection(s, t, defaultHeaders = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const sockets = new Set();
  function send({ method = "GET", path, headers = {}, body }) {
    const all = { ...defaultHeaders, ...headers };
    if (body !== undefined) all["Content-Length"] = Buffer.byteLength(body);
    const done = new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: s.port, method, path, headers: all, agent }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString("utf8") });
        });
      });
      req.on("socket", (socket) => sockets.add(socket));
      req.on("error", reject);
      req.end(body);
    });
    return withTimeout(done, WAIT_MS, `${method} ${path}`);
  }
  return {
    agent,
    sockets,
    send,
    get: (sid, headers) => send({ path: eioPath(s, sid), headers }),
    post: (sid, body, headers) =>
      send({ method: "POST", path: eioPath(s, sid), headers: { ...TEXT, ...headers }, body }),
  };
}

/**
 * A Socket.IO session on one keep-alive connection: the handshake (answered by JS, after which
 * Rust may take the connection over), the CONNECT POST, then the GET carrying the CONNECT ack.
 */
async function keepAliveSession(s, t, headers = {}) {
  const conn = keepAliveConnection(s, t, headers);
  const engineSocketP = nextEngineConnection(s);
  const socketP = nextSioConnection(s);
  const handshake = await conn.send({ path: eioPath(s) });
  assert.equal(handshake.status, 200, handshake.text);
  const sid = JSON.parse(handshake.text.slice(1)).sid;
  const connectPost = await conn.post(sid, "40");
  assert.equal(connectPost.text, "ok");
  const connectAck = await conn.get(sid);
  assert.match(connectAck.text, /^40\{"sid":/);
  return { conn, sid, handshake, connectPost, engineSocket: await engineSocketP, socket: await socketP };
}

/** POSTs an `echo` event with ack id `id` and GETs the ack: the server's echo handler answers it. */
async function echoRoundTrip(conn, sid, id, headers) {
  const posted = await conn.post(sid, `42${id}["echo","m${id}"]`, headers);
  assert.equal(posted.status, 200, posted.text);
  assert.equal(posted.text, "ok");
  const polled = await conn.get(sid, headers);
  assert.equal(polled.status, 200, polled.text);
  assert.equal(polled.text, `43${id}["m${id}"]`);
  return { posted, polled };
}

/**
 * What Node sees of a keepAliveSession: the handshake, after which Rust takes the connection over
 * (no cookie option, no `initial_headers` listener: the handshake's answer has the headers of the
 * session's later answers).
 */
function beforeTakeOver(s) {
  return [`GET ${eioPath(s)}`];
}

/** Headers that Rust computes per response; every other header is the last JS response's. */
const PER_RESPONSE = new Set(["date", "content-type", "content-length", "content-encoding"]);
function reusedHeaders(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE.has(name)));
}

describe("take-over: Rust answers the polling requests of a keep-alive connection", () => {
  test("socket.io-client over keep-alive polling: 200 round trips arrive whole and in order, few reach Node", { timeout: 60000 }, async (t) => {
    const s = await startCountingServer(t);
    // How many HTTP requests the client made to this server, whoever answered them.
    let clientRequests = 0;
    const host = `127.0.0.1:${s.port}`;
    const onRequestStart = ({ request }) => {
      if (request.getHeader("host") === host) clientRequests++;
    };
    diagnostics.subscribe("http.client.request.start", onRequestStart);
    t.after(() => diagnostics.unsubscribe("http.client.request.start", onRequestStart));

    const serverReceived = [];
    s.io.on("connection", (socket) => {
      socket.on("round", (i, payload, ack) => {
        serverReceived.push(i);
        socket.emit("push", i, payload);
        ack(payload);
      });
    });
    // socket.io-client makes its requests with `agent: false` unless given one; a GET and a POST
    // may be in flight at once, hence two sockets.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    t.after(() => agent.destroy());
    const client = ioc(s.base, { forceNew: true, reconnection: false, transports: ["polling"], agent });
    t.after(() => client.disconnect());
    await waitFor(client, "connect");

    const pushes = [];
    client.on("push", (i, payload) => pushes.push([i, payload]));
    const payloadOf = (i) => {
      if (i === 100) return "é".repeat(50 * 1024); // 100 KB of UTF-8
      if (i % 10 === 3) return Buffer.from(Array.from({ length: 1000 }, (_, k) => (k * 7 + i) & 0xff));
      return { i, text: `round ${i}` };
    };
    const same = (got, want) =>
      Buffer.isBuffer(want) ? assert.deepEqual(toBuffer(got), want) : assert.deepEqual(got, want);
    for (let i = 0; i < 200; i++) {
      const back = await client.timeout(WAIT_MS).emitWithAck("round", i, payloadOf(i));
      same(back, payloadOf(i));
    }
    // Each push was emitted before its ack, in the same turn: it has arrived by now.
    assert.deepEqual(pushes.map(([i]) => i), Array.from({ length: 200 }, (_, i) => i));
    for (const [i, payload] of pushes) same(payload, payloadOf(i));
    assert.deepEqual(serverReceived, Array.from({ length: 200 }, (_, i) => i));

    // A burst both ways at once, so that order does not just follow from waiting for each ack.
    const [socket] = s.io.of("/").sockets.values();
    const atServer = collect(socket, "seq", 50);
    const atClient = collect(client, "seq", 50);
    for (let i = 0; i < 50; i++) {
      client.emit("seq", i);
      socket.emit("seq", i);
    }
    assert.deepEqual(await atServer, Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(await atClient, Array.from({ length: 50 }, (_, i) => i));

    assert.ok(clientRequests >= 400, `the client made ${clientRequests} requests`);
    // Node answers the handshake and the first sid request of each connection, then Rust does.
    assert.ok(
      s.nodeRequests.length <= 10,
      `Node parsed ${s.nodeRequests.length} of the ${clientRequests} requests: the connections were not taken over`,
    );
  });

  test("raw keep-alive connection: Node sees only the requests before the take-over; Rust's answers carry Node's headers", T, async (t) => {
    const s = await startCountingServer(t, { cors: { origin: ORIGIN, credentials: true } });
    const { conn, sid, handshake } = await keepAliveSession(s, t, { Origin: ORIGIN });
    assert.equal(handshake.headers["access-control-allow-origin"], ORIGIN, "the reference: Node's own answer");

    for (let id = 1; id <= 5; id++) {
      const { posted, polled } = await echoRoundTrip(conn, sid, id);
      for (const res of [posted, polled]) {
        assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
        assert.equal(res.headers["access-control-allow-credentials"], "true");
        assert.equal(res.headers.vary, "Origin");
        assert.equal(res.headers["cache-control"], "no-store");
        assert.equal(res.headers.connection, "keep-alive");
        assert.equal(Number(res.headers["content-length"]), res.body.length);
        assert.ok(!Number.isNaN(Date.parse(res.headers.date)), `date: ${res.headers.date}`);
        assert.deepEqual(reusedHeaders(res.headers), reusedHeaders(handshake.headers));
      }
      assert.equal(posted.headers["content-type"], "text/html");
      assert.equal(polled.headers["content-type"], "text/plain; charset=UTF-8");
    }
    assert.equal(conn.sockets.size, 1, "every request went over one connection");
    assert.deepEqual(s.nodeRequests, beforeTakeOver(s), "requests after the handshake reached Node");
  });

  // The option sets the hand-back tests below rely on: each of them allows the take-over.
  for (const [name, opts] of Object.entries({
    "httpCompression: false": { httpCompression: false },
    "httpCompression: { threshold, level }": { httpCompression: { threshold: 2048, level: 1 } },
    "maxHttpBufferSize: 100": { maxHttpBufferSize: 100 },
    "cors with an array of origins": { cors: { origin: [ORIGIN, OTHER_ORIGIN] } },
  })) {
    test(`the take-over also happens with ${name}`, T, async (t) => {
      const s = await startCountingServer(t, opts);
      const { conn, sid } = await keepAliveSession(s, t, { Origin: ORIGIN, "Accept-Encoding": "gzip" });
      for (let id = 1; id <= 3; id++) await echoRoundTrip(conn, sid, id);
      assert.deepEqual(s.nodeRequests, beforeTakeOver(s));
    });
  }
});

// A handshake answer with headers of its own (a cookie, `initial_headers`) is no model for the
// session's later answers: Rust takes the connection over after the first request with a sid.
for (const [name, opts, install] of [
  ["the cookie option", { cookie: true }, () => {}],
  ["an initial_headers listener", {}, (io) => io.engine.on("initial_headers", (headers) => (headers["X-First"] = "1"))],
]) {
  test(`with ${name}, the handshake's own headers are not repeated on the answers Rust gives`, T, async (t) => {
    const s = await startCountingServer(t, opts);
    install(s.io);
    const { conn, sid, handshake } = await keepAliveSession(s, t);
    const own = opts.cookie ? "set-cookie" : "x-first";
    assert.ok(handshake.headers[own], `the handshake's answer has ${own}`);
    for (let id = 1; id <= 3; id++) {
      const { posted, polled } = await echoRoundTrip(conn, sid, id);
      assert.equal(posted.headers[own], undefined);
      assert.equal(polled.headers[own], undefined);
    }
    assert.deepEqual(s.nodeRequests, [`GET ${eioPath(s)}`, `POST ${eioPath(s, sid)}`]);
  });
}

/**
 * One raw TCP connection, for requests written in pieces: `request(text)` writes the parts given
 * one after the other (each flushed before the next) and resolves with the answer's status, head
 * and body (framed by Content-Length).
 */
async function rawConnection(s, t) {
  const socket = net.connect(s.port, "127.0.0.1");
  t.after(() => socket.destroy());
  await waitFor(socket, "connect");
  let buffered = Buffer.alloc(0);
  let onData = null;
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (onData) onData();
  });
  function nextAnswer() {
    return new Promise((resolve) => {
      onData = () => {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)[1]);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length).toString("utf8");
        buffered = buffered.subarray(end + 4 + length);
        onData = null;
        resolve({ status: Number(head.split(" ")[1]), head, body });
      };
      onData();
    });
  }
  return {
    async request(...parts) {
      const answer = withTimeout(nextAnswer(), WAIT_MS, "an answer");
      for (const part of parts) await new Promise((resolve) => socket.write(part, resolve));
      return answer;
    },
  };
}

test("a POST given back to Node before its body has all arrived is read whole by Node", T, async (t) => {
  const s = await startCountingServer(t, { cors: { origin: [ORIGIN, OTHER_ORIGIN] } });
  const raw = await rawConnection(s, t);
  const target = (sid) => `${s.path}?${eioQuery(sid ? { sid } : {})}`;
  const head = (method, path, origin, length) =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${origin}\r\n` +
    (length === undefined ? "" : `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${length}\r\n`) +
    "\r\n";
  const handshake = await raw.request(head("GET", target(), ORIGIN));
  const sid = JSON.parse(handshake.body.slice(1)).sid;
  const connected = nextSioConnection(s);
  assert.equal((await raw.request(head("POST", target(sid), ORIGIN, 2), "40")).body, "ok");
  const socket = await connected;
  const seen = s.nodeRequests.length;

  // Another Origin: Rust gives the connection back as soon as the head is read.
  const payload = `42["big","${"x".repeat(5000)}"]`;
  const received = waitFor1(socket, "big");
  const posted = await raw.request(
    head("POST", target(sid), OTHER_ORIGIN, Buffer.byteLength(payload)) + payload.slice(0, 10),
    payload.slice(10),
  );
  assert.equal(posted.status, 200);
  assert.equal(posted.body, "ok");
  assert.match(posted.head, new RegExp(`access-control-allow-origin: ${OTHER_ORIGIN}`, "i"));
  assert.equal(await received, "x".repeat(5000));
  assert.deepEqual(s.nodeRequests.slice(seen), [`POST ${target(sid)}`]);
});

describe("hand-back: Node serves what Rust does not handle, and the connection goes on", () => {
  test("a non-engine path goes to the user's handler; an unknown sid gets upstream's 400 and connection_error", T, async (t) => {
    const requestHandler = (req, res) => {
      res.writeHead(req.url === "/hello" ? 200 : 404, { "Content-Type": "text/plain" });
      res.end(req.url === "/hello" ? "hello from the user's handler" : "");
    };
    const s = await startCountingServer(t, {}, { requestHandler });
    const { conn, sid } = await keepAliveSession(s, t);
    await echoRoundTrip(conn, sid, 1);
    const seen = s.nodeRequests.length;

    const hello = await conn.send({ path: "/hello" });
    assert.equal(hello.status, 200);
    assert.equal(hello.text, "hello from the user's handler");
    assert.deepEqual(s.nodeRequests.slice(seen), ["GET /hello"]);

    const connectionError = waitFor1(s.io.engine, "connection_error");
    const unknown = await conn.get("not-a-session");
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers["content-type"], "application/json");
    assert.equal(unknown.text, '{"code":1,"message":"Session ID unknown"}');
    const error = await connectionError;
    assert.equal(error.code, 1);
    assert.equal(error.message, "Session ID unknown");
    assert.equal(error.req.url, eioPath(s, "not-a-session"));
    assert.deepEqual(s.nodeRequests.slice(seen), ["GET /hello", `GET ${eioPath(s, "not-a-session")}`]);

    for (let id = 2; id <= 4; id++) await echoRoundTrip(conn, sid, id);
    assert.equal(conn.sockets.size, 1, "the hand-backs kept the connection open");
  });

  test("a request with another Origin is served by Node, with the CORS headers of that Origin", T, async (t) => {
    const s = await startCountingServer(t, { cors: { origin: [ORIGIN, OTHER_ORIGIN] } });
    const { conn, sid } = await keepAliveSession(s, t, { Origin: ORIGIN });
    await echoRoundTrip(conn, sid, 1);
    const seen = s.nodeRequests.length;

    // Rust would answer with the headers it kept for ORIGIN; Node's cors answers OTHER_ORIGIN.
    const other = await echoRoundTrip(conn, sid, 2, { Origin: OTHER_ORIGIN });
    assert.equal(other.posted.headers["access-control-allow-origin"], OTHER_ORIGIN);
    assert.equal(other.polled.headers["access-control-allow-origin"], OTHER_ORIGIN);
    assert.equal(s.nodeRequests[seen], `POST ${eioPath(s, sid)}`, "the first request with another Origin reached Node");

    const back = await echoRoundTrip(conn, sid, 3, { Origin: ORIGIN });
    assert.equal(back.posted.headers["access-control-allow-origin"], ORIGIN);
    assert.equal(back.polled.headers["access-control-allow-origin"], ORIGIN);
    assert.equal(conn.sockets.size, 1);
  });

  test("an engine middleware added after the take-over sees the connection's next polling requests", T, async (t) => {
    const s = await startCountingServer(t);
    const { conn, sid } = await keepAliveSession(s, t);
    await echoRoundTrip(conn, sid, 1);

    const seenByMiddleware = [];
    s.io.engine.use((req, res, next) => {
      seenByMiddleware.push(`${req.method} ${req.url}`);
      next();
    });
    await echoRoundTrip(conn, sid, 2);
    await echoRoundTrip(conn, sid, 3);
    const post = `POST ${eioPath(s, sid)}`;
    const get = `GET ${eioPath(s, sid)}`;
    assert.deepEqual(seenByMiddleware, [post, get, post, get]);
    assert.equal(conn.sockets.size, 1);
  });

  // Hooks that must run for every polling request keep the connection with Node.
  const hooks = {
    'a "headers" listener': (io, count) => io.engine.on("headers", () => count()),
    "an engine middleware": (io, count) => io.engine.use((req, res, next) => (count(), next())),
  };
  for (const [name, install] of Object.entries(hooks)) {
    test(`with ${name} installed from the start, it runs for every polling request`, T, async (t) => {
      const s = await startCountingServer(t);
      let calls = 0;
      install(s.io, () => ++calls);
      const { conn, sid } = await keepAliveSession(s, t);
      const before = calls;
      for (let id = 1; id <= 3; id++) await echoRoundTrip(conn, sid, id);
      assert.equal(calls - before, 6);
    });
  }

  test("a cors.origin function is asked for every polling request", T, async (t) => {
    const asked = [];
    const origin = (requestOrigin, callback) => {
      asked.push(requestOrigin);
      callback(null, requestOrigin);
    };
    const s = await startCountingServer(t, { cors: { origin } });
    const { conn, sid } = await keepAliveSession(s, t, { Origin: ORIGIN });
    const before = asked.length;
    for (let id = 1; id <= 3; id++) await echoRoundTrip(conn, sid, id);
    assert.deepEqual(asked.slice(before), Array(6).fill(ORIGIN));
  });

  test("a POST over maxHttpBufferSize gets 413 as without take-over; the session and connection go on", T, async (t) => {
    const s = await startCountingServer(t, { maxHttpBufferSize: 100 });
    const { conn, sid, engineSocket } = await keepAliveSession(s, t);
    await echoRoundTrip(conn, sid, 1);

    const messages = [];
    engineSocket.on("message", (m) => messages.push(m));
    const tooBig = await conn.post(sid, "4" + "a".repeat(100));
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.text, "");
    assert.deepEqual(messages, [], "the oversized packet must not be delivered");
    assert.equal(engineSocket.readyState, "open");

    await echoRoundTrip(conn, sid, 2);
    assert.equal(conn.sockets.size, 1);
  });
});

describe("compression of long-poll answers on a taken-over connection", () => {
  const big = "x".repeat(2000);
  const bigPacket = `42["big","${big}"]`;

  for (const encoding of ["gzip", "deflate"]) {
    test(`an answer of 1 KB or more is compressed with ${encoding} when the request accepts it`, T, async (t) => {
      const s = await startCountingServer(t);
      const { conn, sid, socket } = await keepAliveSession(s, t, { "Accept-Encoding": encoding });
      await echoRoundTrip(conn, sid, 1);

      socket.emit("big", big);
      const res = await conn.get(sid);
      assert.equal(res.headers["content-encoding"], encoding);
      // Upstream streams it chunked, this package sends a Content-Length: either way a wrong framing
      // truncates the body (inflate fails) or leaves bytes that corrupt the next answer below.
      const inflate = encoding === "gzip" ? zlib.gunzipSync : zlib.inflateSync;
      assert.equal(inflate(res.body).toString(), bigPacket);

      socket.emit("small", 1); // under the threshold: plain
      const small = await conn.get(sid);
      assert.equal(small.headers["content-encoding"], undefined);
      assert.equal(small.text, '42["small",1]');
      assert.equal(Number(small.headers["content-length"]), small.body.length);
    });
  }

  test("with httpCompression: false the same answer comes uncompressed", T, async (t) => {
    const s = await startCountingServer(t, { httpCompression: false });
    const { conn, sid, socket } = await keepAliveSession(s, t, { "Accept-Encoding": "gzip" });
    await echoRoundTrip(conn, sid, 1);

    socket.emit("big", big);
    const res = await conn.get(sid);
    assert.equal(res.headers["content-encoding"], undefined);
    assert.equal(res.text, bigPacket);
    assert.equal(Number(res.headers["content-length"]), res.body.length);
  });

  for (const httpCompression of [{ threshold: 0 }, { level: 1 }, true]) {
    test(`with httpCompression: ${JSON.stringify(httpCompression)}, every GET answer is compressed and a POST's \`ok\` is not, as with Node`, T, async (t) => {
      const s = await startCountingServer(t, { httpCompression });
      const conn = keepAliveConnection(s, t, { "Accept-Encoding": "gzip" });
      const handshake = await conn.send({ path: eioPath(s) });
      assert.equal(handshake.headers["content-encoding"], "gzip");
      const sid = JSON.parse(zlib.gunzipSync(handshake.body).toString().slice(1)).sid;
      assert.equal((await conn.post(sid, "40")).text, "ok");
      assert.match(zlib.gunzipSync((await conn.get(sid)).body).toString(), /^40\{"sid":/);
      for (let id = 1; id <= 2; id++) {
        const posted = await conn.post(sid, `42${id}["echo","m${id}"]`);
        assert.equal(posted.headers["content-encoding"], undefined);
        assert.equal(posted.text, "ok");
        const polled = await conn.get(sid);
        assert.equal(polled.headers["content-encoding"], "gzip");
        assert.equal(zlib.gunzipSync(polled.body).toString(), `43${id}["m${id}"]`);
      }
      assert.deepEqual(s.nodeRequests, beforeTakeOver(s));
    });
  }
});

describe("closing a taken-over connection", () => {
  test('a parked GET whose client closes the connection ends the session with "transport error"', T, async (t) => {
    const s = await startCountingServer(t);
    const { conn, sid, engineSocket, socket } = await keepAliveSession(s, t);
    await echoRoundTrip(conn, sid, 1);
    const seen = s.nodeRequests.length;

    const closed = engineClosed(engineSocket);
    const disconnected = waitFor1(socket, "disconnect");
    const req = http.request({ host: "127.0.0.1", port: s.port, path: eioPath(s, sid), agent: conn.agent });
    req.on("error", () => {}); // the socket hang-up we cause
    req.end();
    // Once written, the GET reaches the server before the close: whoever reads the connection sees
    // a GET with nothing to answer, then the client gone, as a parked GET closed by its client.
    await waitFor(req, "finish");
    req.destroy();
    assert.equal(await disconnected, "transport error");
    const [reason, description] = await closed;
    assert.equal(reason, "transport error");
    assert.equal(description.message, "poll connection closed prematurely");
    // Without this, Node would have parked the GET and the test would prove nothing about Rust.
    assert.deepEqual(s.nodeRequests.slice(seen), [], "the parked GET reached Node: no take-over");
  });

  test('io.close() with an idle taken-over connection: the HTTP server\'s "close" comes within 1 s', T, async (t) => {
    const s = await startCountingServer(t);
    const { conn, sid } = await keepAliveSession(s, t);
    await echoRoundTrip(conn, sid, 1);

    const [clientSocket] = conn.sockets;
    const serverClosed = waitFor(s.httpServer, "close", { timeout: 1000 });
    const connectionClosed = waitFor(clientSocket, "close", { timeout: 1000 });
    s.io.close();
    await serverClosed;
    await connectionClosed; // as Node closes its idle keep-alive connections on close()
    // Last, so that the old path's behaviour is checked too: without a take-over this proves nothing.
    assert.deepEqual(s.nodeRequests, beforeTakeOver(s), "the connection was not taken over");
  });

  test("closeIdleConnections() closes the idle taken-over connections, not those taken over later", T, async (t) => {
    const s = await startCountingServer(t);
    const first = await keepAliveSession(s, t);
    await echoRoundTrip(first.conn, first.sid, 1);
    const [firstSocket] = first.conn.sockets;
    const firstClosed = waitFor(firstSocket, "close", { timeout: 1000 });
    s.httpServer.closeIdleConnections();
    await firstClosed;

    const seen = s.nodeRequests.length;
    const second = await keepAliveSession(s, t);
    for (let id = 1; id <= 3; id++) await echoRoundTrip(second.conn, second.sid, id);
    assert.equal(second.conn.sockets.size, 1, "the later connection stayed open");
    assert.deepEqual(s.nodeRequests.slice(seen), beforeTakeOver(s));
  });
});
