/** Engine.IO handshake: open packet over polling and WebSocket, the engine "connection" event, generateId. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  SEP,
  startServer,
  pollingHandshake,
  pollingSession,
  wsSession,
  nextEngineConnection,
  nextSioConnection,
  eioClient,
  openEioClient,
  sioConnect,
  engineClosed,
  pollingSioConnect,
  poll,
  waitFor,
  waitFor1,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };
const SID_RE = /^[A-Za-z0-9_-]+$/;

test("polling handshake: open packet carries sid, upgrades, pingInterval, pingTimeout, maxPayload from the options", T, async (t) => {
  const s = await startServer({ pingInterval: 1234, pingTimeout: 567, maxHttpBufferSize: 8910 });
  t.after(() => s.close());

  const { sid, open, response } = await pollingHandshake(s);
  assert.equal(response.status, 200);
  // the handshake response is exactly one open packet ("0" + JSON), nothing batched after it
  assert.ok(!response.text.includes(SEP), `unexpected extra packets: ${JSON.stringify(response.text)}`);
  assert.deepEqual(open, {
    sid,
    upgrades: ["websocket"],
    pingInterval: 1234,
    pingTimeout: 567,
    maxPayload: 8910,
  });
  assert.deepEqual(Object.keys(open), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]);
  assert.equal(typeof sid, "string");
  assert.match(sid, SID_RE);
  assert.equal(response.headers["content-type"], "text/plain; charset=UTF-8");
  assert.equal(response.headers["cache-control"], "no-store");
  assert.equal(Number(response.headers["content-length"]), Buffer.byteLength(response.text));
});

test("polling handshake: default options are pingInterval 25000, pingTimeout 20000, maxPayload 1000000", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const { sid, open } = await pollingHandshake(s);
  assert.deepEqual(open, {
    sid,
    upgrades: ["websocket"],
    pingInterval: 25000,
    pingTimeout: 20000,
    maxPayload: 1000000,
  });
});

test("each handshake gets a distinct sid", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const sids = new Set();
  for (let i = 0; i < 5; i++) sids.add((await pollingHandshake(s)).sid);
  assert.equal(sids.size, 5);
});

test("no upgrade is advertised when allowUpgrades is false or websocket is not an allowed transport", T, async (t) => {
  const a = await startServer({ allowUpgrades: false });
  t.after(() => a.close());
  assert.deepEqual((await pollingHandshake(a)).open.upgrades, []);

  const b = await startServer({ transports: ["polling"] });
  t.after(() => b.close());
  assert.deepEqual((await pollingHandshake(b)).open.upgrades, []);
});

test('the engine emits "connection" with an open polling socket whose id is the sid', T, async (t) => {
  const s = await startServer({ pingInterval: 1000, pingTimeout: 500 });
  t.after(() => s.close());

  assert.equal(s.io.engine.clientsCount, 0);
  const connP = nextEngineConnection(s);
  const { sid } = await pollingHandshake(s, { extra: { foo: "bar" } });
  const conn = await connP;
  assert.equal(conn.id, sid);
  assert.equal(conn.transport.name, "polling");
  assert.equal(conn.readyState, "open");
  assert.equal(conn.protocol, 4);
  // the handshake request is kept, with its query string
  const url = new URL(conn.request.url, "http://localhost");
  assert.equal(url.pathname, "/socket.io/");
  assert.equal(url.searchParams.get("foo"), "bar");
  assert.equal(url.searchParams.get("transport"), "polling");
  assert.equal(s.io.engine.clientsCount, 1);
});

test("clientsCount follows sessions opening and closing", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const a = await pollingSession(s);
  const b = await wsSession(s);
  assert.equal(s.io.engine.clientsCount, 2);
  // a polling session closed by the server delivers the close packet on the next GET
  const closed = engineClosed(a.conn);
  const pending = poll(s, a.sid);
  a.conn.close();
  await closed;
  assert.equal((await pending).text.split(SEP).pop(), "1");
  assert.equal(s.io.engine.clientsCount, 1);
  const closedB = engineClosed(b.conn);
  b.ws.close();
  await closedB;
  assert.equal(s.io.engine.clientsCount, 0);
});

test("direct WebSocket handshake: open packet with no upgrades and the configured timings", T, async (t) => {
  const s = await startServer({ pingInterval: 1500, pingTimeout: 700, maxHttpBufferSize: 4321 });
  t.after(() => s.close());

  const { open, conn } = await wsSession(s);
  assert.deepEqual(open, {
    sid: conn.id,
    upgrades: [],
    pingInterval: 1500,
    pingTimeout: 700,
    maxPayload: 4321,
  });
  assert.match(open.sid, SID_RE);
  assert.equal(conn.transport.name, "websocket");
  assert.equal(conn.readyState, "open");
  assert.equal(s.io.engine.clientsCount, 1);
});

test("engine.io-client opens over polling by default and shares the sid with the server socket", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const connP = nextEngineConnection(s);
  const client = await openEioClient(s, { transports: ["polling"], query: { hello: "world" } });
  const conn = await connP;
  assert.equal(client.id, conn.id);
  assert.equal(client.transport.name, "polling");
  assert.equal(conn.transport.name, "polling");
  assert.equal(new URL(conn.request.url, "http://localhost").searchParams.get("hello"), "world");
});

test("engine.io-client can open with WebSocket directly", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const connP = nextEngineConnection(s);
  const handshake = [];
  const client = eioClient(s, { transports: ["websocket"] });
  client.on("handshake", (data) => handshake.push(data));
  await waitFor(client, "open");
  const conn = await connP;
  assert.equal(client.transport.name, "websocket");
  assert.equal(conn.transport.name, "websocket");
  assert.equal(client.id, conn.id);
  assert.equal(handshake.length, 1);
  assert.deepEqual(handshake[0].upgrades, []);
});

for (const transport of ["polling", "websocket"]) {
  test(`"packetCreate" never reports the open packet, which is made before the socket is handed out (${transport})`, T, async (t) => {
    const s = await startServer();
    t.after(() => s.close());

    // As monitoring tools (@socket.io/admin-ui) listen: on every connection, so that packets are
    // reported from the second handshake on.
    const created = [];
    s.io.engine.on("connection", (conn) => conn.on("packetCreate", (packet) => created.push(packet.type)));
    for (let i = 0; i < 2; i++) {
      const connP = nextEngineConnection(s);
      const client = await openEioClient(s, { transports: [transport] });
      const conn = await connP;
      const message = waitFor1(client, "message");
      conn.send("hello");
      assert.equal(await message, "hello");
    }
    assert.deepEqual(created, ["message", "message"]);
  });
}

test("Socket.IO sockets are bound to the engine socket (socket.conn)", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const connP = nextEngineConnection(s);
  const sockP = nextSioConnection(s);
  const client = await openEioClient(s, { transports: ["websocket"] });
  const ack = await sioConnect(client);
  const conn = await connP;
  const socket = await sockP;
  assert.equal(socket.conn, conn);
  assert.equal(socket.conn.id, client.id);
  assert.equal(socket.id, ack.sid);
  assert.notEqual(socket.id, conn.id, "the Socket.IO id is distinct from the Engine.IO sid");
  assert.equal(socket.conn.transport.name, "websocket");
});

test("generateId override (sync) sets the sid over polling and WebSocket", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  let n = 0;
  const seen = [];
  s.io.engine.generateId = (req) => {
    seen.push(new URL(req.url, "http://localhost").searchParams.get("transport"));
    return `custom-${++n}`;
  };

  const polling = await pollingSession(s);
  assert.equal(polling.sid, "custom-1");
  assert.equal(polling.conn.id, "custom-1");

  const ws = await wsSession(s);
  assert.equal(ws.open.sid, "custom-2");
  assert.equal(ws.conn.id, "custom-2");
  assert.deepEqual(seen, ["polling", "websocket"]);

  // the custom id is a working session id
  const sio = await pollingSioConnect(s, "custom-1");
  assert.equal(typeof sio.sid, "string");
});

test("generateId override may return a Promise", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  s.io.engine.generateId = () => new Promise((resolve) => setImmediate(() => resolve("async-id")));
  const sockP = nextSioConnection(s);
  const client = await openEioClient(s, { transports: ["polling"] });
  assert.equal(client.id, "async-id");
  await sioConnect(client);
  const socket = await sockP;
  assert.equal(socket.conn.id, "async-id");
});
