/** Socket.IO layer: io.close() closes every socket, the engine and the HTTP server; processes exit by themselves. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const net = require("node:net");
const path = require("node:path");
const { spawn } = require("node:child_process");
const {
  Server,
  TRANSPORTS,
  harness,
  waitFor,
  createHttpServer,
  listen,
  httpRequest,
  serverSocketOf,
  successAfter,
  withTimeout,
  connected,
} = require("./support/sio-helpers");

/** Resolves once `port` can be bound again (i.e. the server really released it). */
function portIsFree(port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(port, "127.0.0.1", () => srv.close((err) => (err ? reject(err) : resolve())));
  });
}

for (const transport of TRANSPORTS) {
  describe(`io.close() (${transport})`, () => {
    it('disconnects every socket of every namespace with "server shutting down" and frees the port', async (t) => {
      const h = harness(t);
      const { io, port, httpServer } = await h.server();
      io.of("/chat");
      const main = await h.connect(port, "/", { transports: [transport] });
      const chat = await h.connect(port, "/chat", { transports: [transport] });
      const reasons = successAfter(2);
      serverSocketOf(io, main).on("disconnect", reasons);
      serverSocketOf(io, chat, "/chat").on("disconnect", reasons);
      const clientsGone = Promise.all([waitFor(main, "disconnect"), waitFor(chat, "disconnect")]);
      assert.strictEqual(io.sockets.sockets.size, 1);

      const closing = io.close();
      assert.ok(closing instanceof Promise);
      await withTimeout(closing, 5000, "io.close()");
      assert.deepStrictEqual((await reasons.promise).map(([r]) => r), ["server shutting down", "server shutting down"]);
      await clientsGone;
      assert.strictEqual(io.sockets.sockets.size, 0);
      assert.strictEqual(io.of("/chat").sockets.size, 0);
      assert.strictEqual(httpServer.listening, false);
      await portIsFree(port);
    });

    it("can listen again after close, and clients reconnect", async (t) => {
      const h = harness(t);
      const io = new Server(0);
      h.trackServer(io);
      if (!io.httpServer.listening) await waitFor(io.httpServer, "listening");
      const { port } = io.httpServer.address();
      const client = await h.connect(port, "/", {
        transports: [transport],
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 50,
      });
      await io.close();
      const reconnect = waitFor(client.io, "reconnect");
      const again = waitFor(io, "connection").then(([s]) => waitFor(s, "ev"));
      io.listen(port);
      await reconnect;
      await connected(client);
      client.emit("ev", "payload");
      assert.deepStrictEqual(await again, ["payload"]);
    });
  });
}

describe("io.close() (callback and errors)", () => {
  it("calls the callback once the HTTP server is closed", async (t) => {
    const h = harness(t);
    const { io, httpServer } = await h.server();
    const [err] = await new Promise((resolve) => io.close((...args) => resolve(args)));
    assert.strictEqual(err, undefined);
    assert.strictEqual(httpServer.listening, false);
  });

  it("reports ERR_SERVER_NOT_RUNNING to the callback when the HTTP server is not running", async () => {
    const httpServer = createHttpServer();
    const io = new Server(httpServer);
    const [err] = await withTimeout(new Promise((resolve) => io.close((...args) => resolve(args))), 2000);
    assert.ok(err instanceof Error);
    assert.strictEqual(err.code, "ERR_SERVER_NOT_RUNNING");
  });

  it("resolves (does not reject) when the HTTP server is not running", async () => {
    const httpServer = createHttpServer();
    const io = new Server(httpServer);
    await withTimeout(io.close(), 2000, "io.close()");
  });

  it("refuses new connections after close", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    await io.close();
    await assert.rejects(httpRequest(port, { path: "/socket.io/?EIO=4&transport=polling" }), { code: "ECONNREFUSED" });
  });

  it("closes the HTTP server it created for new Server(port)", async () => {
    const io = new Server(0);
    if (!io.httpServer.listening) await waitFor(io.httpServer, "listening");
    const { port } = io.httpServer.address();
    await withTimeout(io.close(), 5000, "io.close()");
    assert.strictEqual(io.httpServer.listening, false);
    await portIsFree(port);
  });

  it("closes an explicitly listening http.Server passed in", async (t) => {
    const httpServer = createHttpServer();
    const port = await listen(httpServer);
    const io = new Server(httpServer);
    const h = harness(t);
    await h.connect(port, "/", { transports: ["websocket"] });
    await withTimeout(io.close(), 5000, "io.close()");
    assert.strictEqual(httpServer.listening, false);
  });
});

describe("process exit", () => {
  const implPath = path.join(__dirname, "support", "impl.js");
  const clientPath = require.resolve("socket.io-client");

  /** Runs a child process and resolves with its exit code (fails if it does not exit by itself). */
  function runChild(source, ms = 10000) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", source], {
        env: process.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`child process did not exit by itself within ${ms}ms:\n${output}`));
      }, ms);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output });
      });
    });
  }

  for (const transport of TRANSPORTS) {
    it(`exits by itself after io.close() and client.close() (${transport})`, async () => {
      const source = `
        const { Server } = require(${JSON.stringify(implPath)});
        const { io: ioc } = require(${JSON.stringify(clientPath)});
        const httpServer = require("node:http").createServer();
        const io = new Server(httpServer);
        httpServer.listen(0, "127.0.0.1", () => {
          const socket = ioc("http://127.0.0.1:" + httpServer.address().port, { transports: [${JSON.stringify(transport)}] });
          socket.on("connect", () => {
            io.close();
            socket.close();
          });
        });
      `;
      const { code, output } = await runChild(source);
      assert.strictEqual(code, 0, output);
    });

    it(`exits by itself after io.close() alone, with a connected client (${transport})`, async () => {
      const source = `
        const { Server } = require(${JSON.stringify(implPath)});
        const { io: ioc } = require(${JSON.stringify(clientPath)});
        const io = new Server(0);
        io.httpServer.once("listening", () => {
          const socket = ioc("http://127.0.0.1:" + io.httpServer.address().port, {
            transports: [${JSON.stringify(transport)}],
            reconnection: false,
          });
          io.on("connection", (s) => s.on("ready", () => io.close()));
          socket.on("connect", () => socket.emit("ready"));
          socket.on("disconnect", (reason) => console.log("client disconnected:", reason));
        });
      `;
      const { code, output } = await runChild(source);
      assert.strictEqual(code, 0, output);
      assert.match(output, /client disconnected/);
    });
  }
});
