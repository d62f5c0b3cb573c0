/** Closing the HTTP server: established connections stay up until they end, as upstream. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { io: connect } = require("socket.io-client");
const {
  TEST_TIMEOUT,
  Server,
  startServer,
  request,
  waitFor,
  waitFor1,
  assertNotEmitted,
  withTimeout,
  engineClosed,
  pollingLatencyProxy,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** An official socket.io-client connected to `base`, with its server-side socket. */
async function connectedClient(io, base, transports) {
  const serverSocket = waitFor1(io, "connection");
  const client = connect(base, { transports, reconnection: false, forceNew: true });
  const upgraded = transports.length > 1 ? waitFor(client.io.engine, "upgrade") : null;
  await waitFor(client, "connect");
  await upgraded;
  return { client, serverSocket: await serverSocket };
}

function connectionsOf(httpServer) {
  return new Promise((resolve, reject) => httpServer.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

for (const transports of [["websocket"], ["polling", "websocket"]]) {
  test(`httpServer.close() keeps an established WebSocket client (${transports.join(" then ")}); "close" waits for it`, T, async (t) => {
    const s = await startServer();
    t.after(() => s.close());
    const { client, serverSocket } = await connectedClient(s.io, s.base, transports);
    s.track(client);
    serverSocket.on("later", (ack) => ack("still here"));
    assert.equal(await connectionsOf(s.httpServer), 1, "the WebSocket counts as a connection of the server");

    const httpClosed = waitFor(s.httpServer, "close");
    const serverDisconnect = waitFor1(serverSocket, "disconnect");
    s.httpServer.close();
    await assertNotEmitted(s.httpServer, "close", 500);
    assert.equal(await client.timeout(2000).emitWithAck("later"), "still here");
    assert.equal(client.connected, true);
    await assert.rejects(request(s.port), { code: "ECONNREFUSED" }, "new connections are refused");

    client.disconnect();
    assert.equal(await serverDisconnect, "client namespace disconnect");
    await httpClosed;
    assert.equal(s.io.engine.clientsCount, 0);
  });
}

test("a process whose server is closed lives on while a WebSocket client is connected, and ends when it leaves", T, async (t) => {
  // The server runs alone in a child process: only its own handles keep it alive.
  const serverScript = `
    const http = require("node:http");
    const { Server } = require(${JSON.stringify(path.join(__dirname, "support", "impl"))});
    const httpServer = http.createServer();
    const io = new Server(httpServer);
    io.on("connection", (socket) => {
      httpServer.close();
      socket.on("later", (ack) => ack("still here"));
    });
    httpServer.listen(0, "127.0.0.1", () => console.log(httpServer.address().port));
  `;
  const child = spawn(process.execPath, ["-e", serverScript], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  t.after(() => child.kill());
  const [port] = await waitFor(child.stdout, "data");
  const client = connect(`http://127.0.0.1:${Number(port)}`, { transports: ["websocket"], reconnection: false });
  t.after(() => client.disconnect());
  await waitFor(client, "connect");

  await assertNotEmitted(child, "exit", 500);
  assert.equal(await client.timeout(2000).emitWithAck("later"), "still here");
  client.disconnect();
  assert.equal(await withTimeout(exited, 5000, "the server process to exit"), 0);
});

test("crud-shaped rounds: two clients, httpServer.close() then disconnect(); every round ends, none is stuck", { timeout: 120000 }, async () => {
  const ROUNDS = 300;
  for (let round = 0; round < ROUNDS; round++) {
    const httpServer = http.createServer();
    // A client that disconnects between two polls leaves its session to the heartbeat (as
    // upstream): short beats keep such rounds short.
    const io = new Server(httpServer, { pingInterval: 300, pingTimeout: 300 });
    const serverEnds = [];
    io.on("connection", (socket) => {
      socket.on("create", (payload, ack) => ack({ data: payload.title }));
      serverEnds.push(new Promise((resolve) => socket.once("disconnect", resolve)));
    });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${httpServer.address().port}`;
    const clients = [0, 1].map(() => connect(base, { forceNew: true }));
    try {
      await Promise.all(clients.map((client) => waitFor(client, "connect")));
      assert.deepEqual(await clients[0].timeout(2000).emitWithAck("create", { title: "lorem" }), { data: "lorem" });

      const transportsAtClose = [...io.of("/").sockets.values()].map((socket) => socket.conn.transport.name);
      const httpClosed = waitFor(httpServer, "close");
      const enginesClosed = clients.map((client) => waitFor(client.io.engine, "close"));
      httpServer.close();
      for (const client of clients) client.disconnect();
      await withTimeout(Promise.all(enginesClosed), 5000, `round ${round}: the clients' disconnect()`);
      await withTimeout(httpClosed, 5000, `round ${round}: the http server's "close"`);
      const reasons = await withTimeout(Promise.all(serverEnds), 5000, `round ${round}: the server's sockets' "disconnect"`);
      reasons.forEach((reason, i) => {
        if (transportsAtClose[i] === "websocket") {
          assert.equal(reason, "client namespace disconnect", `round ${round}: a WebSocket session outlives httpServer.close()`);
        }
      });
    } finally {
      for (const client of clients) client.disconnect();
      io.close();
    }
  }
});

// Beyond upstream for io.engine.close() (a discarding close): upstream closes the upgrade's
// WebSocket at once, and this client then stays paused for good (COMPATIBILITY.md).
const closers = {
  "io.engine.close()": (s) => s.io.engine.close(),
  "conn.close()": (s, conn) => conn.close(),
};
for (const [closer, close] of Object.entries(closers)) {
  test(`${closer} while the client has paused polling for an upgrade: the upgrade completes, then the client learns the session ended`, T, async (t) => {
    const s = await startServer();
    // Polling answers arrive late: the client has the probe's pong, and pauses polling, before
    // the GET released for the upgrade comes back.
    const proxy = await pollingLatencyProxy(s.port, 300);
    t.after(() => {
      proxy.close();
      return s.close();
    });
    s.io.engine.on("connection", (conn) => conn.once("upgrading", () => close(s, conn)));
    const serverConn = waitFor1(s.io.engine, "connection");
    const client = s.track(connect(proxy.base, { reconnection: false, forceNew: true }));
    const clientClosed = waitFor(client.io.engine, "close");
    const disconnect = waitFor1(client, "disconnect");
    const [reason] = await engineClosed(await serverConn);
    assert.equal(reason, "forced close");
    assert.equal((await clientClosed)[0], "transport close");
    assert.equal(await disconnect, "transport close");
    assert.equal(client.io.engine.upgrading, false, "the client is not left upgrading");
    assert.equal(client.io.engine.transport.name, "websocket");
  });
}
