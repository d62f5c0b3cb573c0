/**
 * Servers in worker threads: each worker's events reach that worker's JS (the wake-up is a handle
 * on the worker's own event loop), a worker whose server is closed exits by itself, and a worker
 * terminated with live connections leaves the process and the other servers unharmed.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const { Worker } = require("node:worker_threads");
const { io: ioc } = require("socket.io-client");
const { Server, withTimeout, listen, createHttpServer } = require("./support/sio-helpers");

const implPath = path.join(__dirname, "support", "impl.js");

/** A worker whose server answers `double` with twice its argument and posts its port. */
function serverWorker() {
  const source = `
    const { parentPort } = require("node:worker_threads");
    const { Server } = require(${JSON.stringify(implPath)});
    const io = new Server(0);
    io.on("connection", (socket) => socket.on("double", (n, ack) => ack(n * 2)));
    io.httpServer.once("listening", () => parentPort.postMessage({ port: io.httpServer.address().port }));
    parentPort.on("message", (message) => {
      if (message === "close") {
        io.close();
        parentPort.close();
      }
    });
  `;
  const worker = new Worker(source, { eval: true });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  const port = new Promise((resolve, reject) => {
    worker.once("message", (message) => resolve(message.port));
    worker.once("error", reject);
  });
  return { worker, exited, port };
}

/** A connected client of `port`, closed when the test ends. */
async function client(t, port, transport) {
  const socket = ioc(`http://127.0.0.1:${port}`, { transports: [transport], reconnection: false });
  t.after(() => socket.close());
  await withTimeout(new Promise((resolve) => socket.once("connect", resolve)), 5000, "connect");
  return socket;
}

for (const transport of ["polling", "websocket"]) {
  describe(`servers in worker threads (${transport})`, () => {
    it("answer their clients, each on its own thread, and exit by themselves once closed", async (t) => {
      const workers = [serverWorker(), serverWorker()];
      const ports = await Promise.all(workers.map((w) => w.port));
      const sockets = await Promise.all(ports.map((port) => client(t, port, transport)));
      const answers = await Promise.all(sockets.map((socket, i) => socket.timeout(5000).emitWithAck("double", i + 1)));
      assert.deepStrictEqual(answers, [2, 4]);
      for (const { worker } of workers) worker.postMessage("close");
      const codes = await withTimeout(Promise.all(workers.map((w) => w.exited)), 10000, "the workers' exit");
      assert.deepStrictEqual(codes, [0, 0]);
    });

    it("can be terminated with connected clients, leaving the main thread's server serving", async (t) => {
      const httpServer = createHttpServer();
      const port = await listen(httpServer);
      const io = new Server(httpServer);
      t.after(() => io.close());
      io.on("connection", (socket) => socket.on("double", (n, ack) => ack(n * 2)));
      const mainClient = await client(t, port, transport);

      const { worker, exited, port: workerPort } = serverWorker();
      const workerClient = await client(t, await workerPort, transport);
      assert.strictEqual(await workerClient.timeout(5000).emitWithAck("double", 5), 10);
      const disconnected = new Promise((resolve) => workerClient.once("disconnect", resolve));
      await worker.terminate();
      assert.strictEqual(await exited, 1);
      await withTimeout(disconnected, 10000, "the worker's client disconnecting");

      assert.strictEqual(await mainClient.timeout(5000).emitWithAck("double", 21), 42);
    });
  });
}
