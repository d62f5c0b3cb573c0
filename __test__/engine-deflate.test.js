"use strict";

const test = require("node:test");
const assert = require("node:assert");
const http = require("node:http");
const { Server } = require("./support/impl");
const { io: connect } = require("socket.io-client");

async function start(options, t) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, options);
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  t.after(() => io.close());
  return { io, port: httpServer.address().port };
}

function client(port, t) {
  const socket = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"], forceNew: true, reconnection: false });
  t.after(() => socket.disconnect());
  return socket;
}

const LARGE = "z".repeat(100_000);

test("perMessageDeflate: large messages travel compressed both ways, small ones as they are", { timeout: 15000 }, async (t) => {
  const { io, port } = await start({ perMessageDeflate: { threshold: 1024 } }, t);
  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => ack(data));
    socket.emit("large", LARGE);
  });
  const socket = client(port, t);
  const [large] = await new Promise((resolve) => socket.once("large", (...args) => resolve(args)));
  assert.strictEqual(large, LARGE);
  const ws = socket.io.engine.transport.ws;
  assert.ok(ws.extensions.includes("permessage-deflate"), `negotiated: ${ws.extensions}`);
  const received = ws._socket.bytesRead;
  assert.ok(received < 10_000, `${received} bytes read for a 100 kB message`);
  assert.strictEqual(await socket.timeout(5000).emitWithAck("echo", LARGE), LARGE);
  assert.strictEqual(await socket.timeout(5000).emitWithAck("echo", "small"), "small");
  assert.ok(ws._socket.bytesWritten < 10_000, `${ws._socket.bytesWritten} bytes written`);
});

test("perMessageDeflate off (the default): nothing is negotiated", { timeout: 15000 }, async (t) => {
  const { io, port } = await start({}, t);
  io.on("connection", (socket) => socket.emit("large", LARGE));
  const socket = client(port, t);
  const [large] = await new Promise((resolve) => socket.once("large", (...args) => resolve(args)));
  assert.strictEqual(large, LARGE);
  const ws = socket.io.engine.transport.ws;
  assert.strictEqual(ws.extensions, "");
  assert.ok(ws._socket.bytesRead > 100_000);
});

test("perMessageDeflate: a message larger than the socket takes at once arrives whole with nothing sent after it", { timeout: 15000 }, async (t) => {
  // Deflated, it stays larger than what the kernel accepts in one write: the rest must follow
  // as the socket drains, not wait for the next packet (the heartbeat's is a minute away here).
  const big = require("node:crypto").randomBytes(3_000_000).toString("base64");
  const { io, port } = await start({ perMessageDeflate: { threshold: 0 }, pingInterval: 60_000 }, t);
  io.on("connection", (socket) => socket.emit("big", big));
  const socket = client(port, t);
  const [received] = await new Promise((resolve) => socket.once("big", (...args) => resolve(args)));
  assert.strictEqual(received.length, big.length);
  assert.ok(received === big, "the message arrives unchanged");
});
