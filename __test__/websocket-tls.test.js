"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const https = require("node:https");
const { execFileSync } = require("node:child_process");
const { Server } = require("./support/impl");
const { io: connect } = require("socket.io-client");

/** A throw-away self-signed certificate, or null where openssl is missing. */
function selfSigned() {
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

const credentials = selfSigned();

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
