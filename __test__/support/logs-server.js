/**
 * A Socket.IO server in a process of its own, for __test__/logs.test.js to read its debug output:
 * the implementation named by argv[2] ("socket.io-rs" or upstream "socket.io"), with
 * connection-state recovery and a short heartbeat. It reports over IPC (`listening`, each
 * `connection` and `disconnect`), broadcasts "news" to the room every socket joins when told
 * `broadcast`, and closes on `close`, after which the process ends by itself.
 */
"use strict";

const http = require("node:http");
const path = require("node:path");

const impl = process.argv[2];
const { Server } = require(impl === "socket.io" ? "socket.io" : path.join(__dirname, "..", ".."));

const httpServer = http.createServer();
const io = new Server(httpServer, { connectionStateRecovery: {}, pingInterval: 300, pingTimeout: 2000 });

io.on("connection", (socket) => {
  socket.join("room");
  socket.on("hello", (value, ack) => ack(value + 1));
  socket.on("disconnect", (reason) => process.send({ event: "disconnect", reason }));
  process.send({ event: "connection", recovered: socket.recovered });
});

process.on("message", async (message) => {
  if (message === "broadcast") io.to("room").emit("news", "hi");
  if (message === "close") {
    await io.close();
    process.disconnect();
  }
});

httpServer.listen(0, "127.0.0.1", () => process.send({ event: "listening", port: httpServer.address().port }));
