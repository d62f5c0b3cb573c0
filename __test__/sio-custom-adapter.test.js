"use strict";

const test = require("node:test");
const assert = require("node:assert");
const http = require("node:http");
const { Adapter } = require("socket.io-adapter");
const { Server } = require("./support/impl");
const { io: connect } = require("socket.io-client");

for (const transport of ["polling", "websocket"]) {
  test(`an adapter of the socket.io-adapter family broadcasts, with binary and acks (${transport})`, { timeout: 15000 }, async (t) => {
    const httpServer = http.createServer();
    const io = new Server(httpServer, { adapter: Adapter });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    t.after(() => io.close());
    const connected = new Promise((resolve) => io.on("connection", resolve));
    const client = connect(`http://127.0.0.1:${httpServer.address().port}`, {
      transports: [transport],
      forceNew: true,
      reconnection: false,
    });
    t.after(() => client.disconnect());
    const socket = await connected;
    assert.ok(io.of("/").adapter instanceof Adapter);
    socket.join("room");
    client.on("ask", (n, ack) => ack(n * 2));
    const got = new Promise((resolve) => client.once("news", (...args) => resolve(args)));
    io.to("room").emit("news", "hello", Buffer.from([7, 8]));
    const [text, bytes] = await got;
    assert.strictEqual(text, "hello");
    assert.deepStrictEqual([...bytes], [7, 8]);
    assert.deepStrictEqual(await io.timeout(5000).emitWithAck("ask", 21), [42]);
  });
}
