"use strict";

const test = require("node:test");
const assert = require("node:assert");
const https = require("node:https");
const { Server } = require("./support/impl");
const { io: connect } = require("socket.io-client");
const { selfSignedCredentials } = require("./support/engine-helpers");

const credentials = selfSignedCredentials();

for (const transports of [["websocket"], ["polling", "websocket"]]) {
  test(`WebSocket on an https.Server (${transports.join(" then ")}): events and acks both ways`, {
    timeout: 20000,
    skip: credentials ? false : "openssl is not installed",
  }, async (t) => {
    const httpsServer = https.createServer(credentials);
    const io = new Server(httpsServer);
    await new Promise((resolve) => httpsServer.listen(0, "127.0.0.1", resolve));
    t.after(() => io.close());
    const upgraded = transports.length > 1 ? new Promise((resolve) => {
      io.on("connection", (socket) => socket.conn.once("upgrade", resolve));
    }) : Promise.resolve();
    io.on("connection", (socket) => {
      socket.on("shout", (text, ack) => ack(text.toUpperCase()));
      socket.emit("welcome", Buffer.from([1, 2, 3]));
    });
    const client = connect(`https://localhost:${httpsServer.address().port}`, {
      transports,
      rejectUnauthorized: false,
      forceNew: true,
      reconnection: false,
    });
    t.after(() => client.disconnect());
    const [welcome] = await new Promise((resolve) => client.once("welcome", (...args) => resolve(args)));
    assert.deepStrictEqual([...welcome], [1, 2, 3]);
    await upgraded;
    assert.strictEqual(client.io.engine.transport.name, "websocket");
    assert.strictEqual(await client.timeout(5000).emitWithAck("shout", "over tls"), "OVER TLS");
  });
}
