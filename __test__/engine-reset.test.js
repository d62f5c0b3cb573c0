/**
 * Faults that must cost one session at most: a TCP reset at each stage of each kind of request
 * (plain and TLS), and an exception while a batch of events from Rust is dispatched. The process
 * and every other client live on, and the session concerned ends as it should.
 */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const tls = require("node:tls");
const path = require("node:path");
const { spawn } = require("node:child_process");
const {
  TEST_TIMEOUT,
  startServer,
  upgradeRequest,
  eioQuery,
  waitFor,
  waitFor1,
  withTimeout,
  assertHealthyClient,
  engineClosed,
  openEioClient,
  nextEngineConnection,
  selfSignedCredentials,
} = require("./support/engine-helpers");

const credentials = selfSignedCredentials();
const SECURITY = [
  { name: "plain", credentials: undefined, skip: false },
  { name: "TLS", credentials, skip: credentials ? false : "openssl is not installed" },
];

/**
 * A raw client connection that can end with a TCP reset (RST): plain, or TLS over a TCP socket
 * that it resets.
 */
async function openConnection(server) {
  const raw = net.connect(server.port, "127.0.0.1");
  raw.on("error", () => {});
  await waitFor(raw, "connect");
  if (!server.base.startsWith("https:")) return { stream: raw, reset: () => raw.resetAndDestroy() };
  const stream = tls.connect({ socket: raw, rejectUnauthorized: false });
  stream.on("error", () => {});
  await waitFor(stream, "secureConnect");
  return { stream, reset: () => raw.resetAndDestroy() };
}

/** Resolves once `stream` has received `text` (in one chunk or over several). */
function received(stream, text) {
  let seen = "";
  return withTimeout(
    new Promise((resolve) => {
      const onData = (chunk) => {
        seen += chunk.toString("latin1");
        if (!seen.includes(text)) return;
        stream.off("data", onData);
        resolve();
      };
      stream.on("data", onData);
    }),
    undefined,
    JSON.stringify(text),
  );
}

/** A gate a server hook waits at: `reached` resolves when it does, `open()` lets it through. */
function gate() {
  let arrive;
  let open;
  const reached = new Promise((resolve) => (arrive = resolve));
  const opened = new Promise((resolve) => (open = resolve));
  return { reached, open, wait: () => (arrive(), opened) };
}

/** The server-side socket of the next `event` ("upgrade" or "request") on the HTTP server. */
function nextServerSocket(server, event) {
  return waitFor(server.httpServer, event).then(([req, socketOrRes]) => (event === "upgrade" ? socketOrRes : req.socket));
}

/** Resolves once everything already queued behind the current I/O callback has run. */
function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

function rawGet(pathAndQuery, extraHeaders = {}) {
  return `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(extraHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
}

for (const { name, credentials: tlsCredentials, skip } of SECURITY) {
  const T = { timeout: TEST_TIMEOUT, skip };
  const start = (opts) => startServer(opts, { credentials: tlsCredentials });

  test(`${name}: an h2c upgrade outside the engine path, reset at once`, T, async (t) => {
    const s = await start();
    t.after(() => s.close());
    const { stream, reset } = await openConnection(s);
    const serverSocket = nextServerSocket(s, "upgrade");
    stream.write(rawGet("/", { Connection: "Upgrade, HTTP2-Settings", Upgrade: "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA" }));
    const socket = await serverSocket;
    reset();
    await waitFor(socket, "close");
    await assertHealthyClient(s, ["polling", "websocket"]);
  });

  for (const stage of ["allowRequest", "generateId"]) {
    test(`${name}: a WebSocket handshake reset while ${stage} runs (before the hand-off)`, T, async (t) => {
      const held = gate();
      const s = await start(
        stage === "allowRequest"
          ? { allowRequest: (req, callback) => held.wait().then(() => callback(null, true)) }
          : {},
      );
      t.after(() => s.close());
      if (stage === "generateId") {
        const generateId = s.io.engine.generateId.bind(s.io.engine);
        s.io.engine.generateId = async (req) => (await held.wait(), generateId(req));
      }
      const connections = [];
      s.io.engine.on("connection", (conn) => connections.push(conn));
      const { stream, reset } = await openConnection(s);
      const serverSocket = nextServerSocket(s, "upgrade");
      stream.write(upgradeRequest(`${s.path}?${eioQuery({ transport: "websocket" })}`));
      const socket = await serverSocket;
      await held.reached;
      reset();
      if (tlsCredentials) await waitFor(socket, "close"); // Node reads TLS connections itself
      held.open();
      await settle();
      if (tlsCredentials) {
        assert.equal(connections.length, 0, "no session for a connection already gone");
      } else {
        // Rust learns of the reset when it writes the 101 (upstream's session stays until its
        // heartbeat fails).
        assert.equal(connections.length, 1);
        const [reason] = await engineClosed(connections[0]);
        assert.equal(reason, "transport error");
      }
      await assertHealthyClient(s, ["polling", "websocket"]);
    });
  }

  test(`${name}: an upgrade of a polling session reset during its handshake; the session goes on polling`, T, async (t) => {
    const s = await start();
    t.after(() => s.close());
    const held = gate();
    s.io.engine.use((req, res, next) => {
      if (req.url.includes("transport=websocket")) held.wait().then(() => next());
      else next();
    });
    const connP = nextEngineConnection(s);
    const client = await openEioClient(s, { transports: ["polling"] });
    const conn = await connP;
    const { stream, reset } = await openConnection(s);
    const serverSocket = nextServerSocket(s, "upgrade");
    stream.write(upgradeRequest(`${s.path}?${eioQuery({ transport: "websocket", sid: conn.id })}`));
    const socket = await serverSocket;
    await held.reached;
    reset();
    if (tlsCredentials) await waitFor(socket, "close");
    held.open();
    await settle();
    const reply = waitFor1(client, "message");
    conn.send("still polling");
    assert.equal(await reply, "still polling");
    assert.equal(conn.readyState, "open");
    assert.equal(conn.transport.name, "polling");
  });

  test(`${name}: a parked long-poll GET reset: the session ends with "transport error"`, T, async (t) => {
    const s = await start({ pingInterval: 5000, pingTimeout: 5000 });
    t.after(() => s.close());
    const connP = nextEngineConnection(s);
    const handshake = await openConnection(s);
    handshake.stream.write(rawGet(`${s.path}?${eioQuery()}`));
    const conn = await connP;
    const { stream, reset } = await openConnection(s);
    const parked = waitFor(s.httpServer, "request", { filter: (req) => req.url.includes(`sid=${conn.id}`) });
    stream.write(rawGet(`${s.path}?${eioQuery({ sid: conn.id })}`));
    await parked;
    const closed = engineClosed(conn);
    reset();
    const [reason, description] = await closed;
    assert.equal(reason, "transport error");
    assert.equal(description.message, "poll connection closed prematurely");
    await assertHealthyClient(s);
  });

  test(`${name}: a POST reset mid-body: the session ends with "transport error"`, T, async (t) => {
    const s = await start({ pingInterval: 5000, pingTimeout: 5000 });
    t.after(() => s.close());
    const connP = nextEngineConnection(s);
    const handshake = await openConnection(s);
    handshake.stream.write(rawGet(`${s.path}?${eioQuery()}`));
    const conn = await connP;
    const { stream, reset } = await openConnection(s);
    const requested = waitFor1(s.httpServer, "request");
    stream.write(
      `POST ${s.path}?${eioQuery({ sid: conn.id })} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n",
    );
    const bodyStarted = waitFor(await requested, "data");
    stream.write("4part");
    await bodyStarted;
    const closed = engineClosed(conn);
    reset();
    const [reason, description] = await closed;
    assert.equal(reason, "transport error");
    assert.equal(description.message, "data request connection closed prematurely");
    await assertHealthyClient(s);
  });

  test(`${name}: a polling handshake reset while allowRequest runs`, T, async (t) => {
    const held = gate();
    const s = await start({ allowRequest: (req, callback) => held.wait().then(() => callback(null, true)) });
    t.after(() => s.close());
    const { stream, reset } = await openConnection(s);
    const serverSocket = nextServerSocket(s, "request");
    stream.write(rawGet(`${s.path}?${eioQuery()}`));
    const socket = await serverSocket;
    await held.reached;
    reset();
    await waitFor(socket, "close");
    held.open();
    await settle();
    await assertHealthyClient(s);
  });

  test(`${name}: an established WebSocket reset: the session ends with "transport close"`, T, async (t) => {
    const s = await start();
    t.after(() => s.close());
    const connP = nextEngineConnection(s);
    const { stream, reset } = await openConnection(s);
    const opened = received(stream, '"sid"');
    stream.write(upgradeRequest(`${s.path}?${eioQuery({ transport: "websocket" })}`));
    const conn = await connP;
    await opened;
    const closed = engineClosed(conn);
    reset();
    assert.equal((await closed)[0], "transport close");
    await assertHealthyClient(s, ["websocket"]);
  });
}

/**
 * Runs `scenario`, an async function of ({ http, Server, connect, spin, within, twoClients }), in
 * a process of its own (where an uncaught exception can be watched for without failing this
 * test) and resolves with what it returns. `spin(ms)` keeps the JS thread busy, so that what
 * clients send meanwhile reaches JS in one batch of events; `within(promise)` resolves with
 * "timed out" after 3 s.
 */
async function inChildProcess(scenario) {
  const source = `
    const http = require("node:http");
    const { Server } = require(${JSON.stringify(path.join(__dirname, "support", "impl"))});
    const { io: connect } = require("socket.io-client");
    const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
    const within = (promise, ms = 3000) => Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms, "timed out"))]);
    (${scenario})({ http, Server, connect, spin, within, twoClients: ${twoClients} }).then(
      (result) => { console.log(JSON.stringify(result)); process.exit(0); },
      (error) => { console.error(error); process.exit(1); },
    );
  `;
  const child = spawn(process.execPath, ["-e", source], { cwd: path.join(__dirname, ".."), stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    assert.equal(await withTimeout(exited, 10000, "the scenario's process"), 0, "the scenario ran to its end");
  } finally {
    child.kill();
  }
  return JSON.parse(output);
}

/** Two official clients, "a" and "b", of a new server (runs in the scenario's process). */
async function twoClients({ http, Server, connect }, transport) {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  const serverSockets = {};
  io.on("connection", (socket) => (serverSockets[socket.handshake.auth.name] = socket));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${httpServer.address().port}`;
  const open = (name) =>
    new Promise((resolve) => {
      const client = connect(base, { auth: { name }, transports: [transport], reconnection: false, forceNew: true });
      client.once("connect", () => resolve(client));
    });
  const a = await open("a");
  const b = await open("b");
  return { httpServer, io, a, b, serverA: serverSockets.a, serverB: serverSockets.b };
}

test("an engine listener that throws costs its own session only: the rest of the batch is handled, then the error is thrown again", { timeout: TEST_TIMEOUT }, async () => {
  const result = await inChildProcess(async (env) => {
    const { a, b, serverA, serverB } = await env.twoClients(env, "websocket");
    const uncaught = [];
    let bHandled = false;
    process.on("uncaughtException", (error) => uncaught.push({ message: error.message, bHandled }));
    serverB.on("work", (ack) => {
      bHandled = true;
      ack("done");
    });
    serverA.conn.once("message", () => {
      throw new Error("boom");
    });
    const serverADisconnect = new Promise((resolve) => serverA.once("disconnect", resolve));
    const aDisconnect = new Promise((resolve) => a.once("disconnect", resolve));
    a.emit("work");
    env.spin(50); // a's message is queued first
    const bAck = b.timeout(3000).emitWithAck("work").catch((error) => `no ack (${error.message})`);
    env.spin(200); // then b's, in the same batch
    return {
      bAck: await bAck,
      aDisconnect: await env.within(aDisconnect),
      serverADisconnect: await env.within(serverADisconnect),
      uncaught,
    };
  });
  assert.deepEqual(result, {
    bAck: "done",
    aDisconnect: "transport close",
    serverADisconnect: "forced close",
    uncaught: [{ message: "boom", bHandled: true }],
  });
});

test("a poll answer that fails costs its own session only: the GETs answered by the same send are all answered, then the sender's call throws", { timeout: TEST_TIMEOUT }, async () => {
  const result = await inChildProcess(async (env) => {
    const { httpServer, io, a, b, serverA, serverB } = await env.twoClients(env, "polling");
    const uncaught = [];
    process.on("uncaughtException", (error) => uncaught.push(error.message));
    // Both clients' next GETs parked: each sends one once it has "sync".
    const nextGet = (serverSocket) =>
      new Promise((resolve) => {
        httpServer.on("request", function onRequest(req) {
          if (req.method !== "GET" || !req.url.includes(`sid=${serverSocket.conn.id}`)) return;
          httpServer.off("request", onRequest);
          resolve();
        });
      });
    const parked = [a, b].map((client, i) => new Promise((resolve) => client.once("sync", resolve)).then(() => nextGet([serverA, serverB][i])));
    io.emit("sync");
    await Promise.all(parked);

    let victim = null;
    io.engine.on("headers", (headers, req) => {
      if (victim !== null) return;
      victim = req._query.sid;
      throw new Error("boom");
    });
    const news = [a, b].map((client) => env.within(new Promise((resolve) => client.once("news", resolve))));
    const disconnects = [a, b].map((client) => env.within(new Promise((resolve) => client.once("disconnect", resolve))));
    const serverDisconnects = [serverA, serverB].map((socket) => env.within(new Promise((resolve) => socket.once("disconnect", resolve))));
    let thrown = null;
    try {
      io.emit("news", 1);
    } catch (error) {
      thrown = error.message;
    }
    const [v, other] = victim === serverA.conn.id ? [0, 1] : [1, 0];
    return {
      thrown,
      otherGotNews: await news[other],
      victimDisconnect: await disconnects[v],
      serverVictimDisconnect: await serverDisconnects[v],
      uncaught,
    };
  });
  assert.deepEqual(result, {
    thrown: "boom",
    otherGotNews: 1,
    victimDisconnect: "transport error",
    serverVictimDisconnect: "forced close",
    uncaught: [],
  });
});
