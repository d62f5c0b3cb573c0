// Soak fixture: one socket.io server with connection-state recovery, forked by bench/soak/run.js
// (IPC channel), alone in its process so that its RSS and descriptors are its own.
//
//   node bench/soak/server.js --impl socket.io-rs|socket.io --rooms R --tick-ms T
//        --max-disconnection-ms D --ping-interval-ms I --ping-timeout-ms P
//
// Every `tick-ms` it emits one event to each room: `io.to("r<k>").emit("m", k, seq)`, seq counting
// from 0 per room. Clients ask to join rooms with `socket.emit("join", [k, ...], ack)`.
// IPC requests ({ id, type }) are answered with { id, ...answer }:
//   stats  memory, descriptors and what the server holds: engine sessions, sockets, rooms,
//          recovery sessions
//   stop   stops the ticks; answers with the number of events emitted to each room
//   quit   closes the server, then exits
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const impl = arg("--impl", "socket.io-rs");
const rooms = Number(arg("--rooms", 20));
const tickMs = Number(arg("--tick-ms", 1000));
const { Server } = require(impl === "socket.io" ? "socket.io" : path.join(__dirname, "..", ".."));

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(arg("--ping-interval-ms", 5000)),
  pingTimeout: Number(arg("--ping-timeout-ms", 5000)),
  connectionStateRecovery: {
    maxDisconnectionDuration: Number(arg("--max-disconnection-ms", 60000)),
    skipMiddlewares: true,
  },
});

let connections = 0;
let recovered = 0;
io.on("connection", (socket) => {
  connections++;
  if (socket.recovered) recovered++;
  socket.on("join", (wanted, ack) => {
    if (!Array.isArray(wanted) || typeof ack !== "function") return;
    socket.join(wanted.filter((k) => Number.isInteger(k) && k >= 0 && k < rooms).map((k) => "r" + k));
    ack();
  });
});

const emitted = new Array(rooms).fill(0);
const ticker = setInterval(() => {
  for (let k = 0; k < rooms; k++) io.to("r" + k).emit("m", k, emitted[k]++);
}, tickMs);

function stats() {
  const nsp = io.of("/");
  return {
    rss: process.memoryUsage.rss(),
    heapUsed: process.memoryUsage().heapUsed,
    descriptors: fs.readdirSync("/proc/self/fd").length,
    engineSessions: io.engine.clientsCount,
    sockets: nsp.sockets.size,
    rooms: [...nsp.adapter.rooms.keys()].filter((room) => !nsp.sockets.has(room)).length,
    recoverySessions: nsp.adapter.sessions ? nsp.adapter.sessions.size : null,
    connections,
    recovered,
  };
}

process.on("message", ({ id, type }) => {
  switch (type) {
    case "stats":
      return process.send({ id, ...stats() });
    case "stop":
      clearInterval(ticker);
      return process.send({ id, emitted });
    case "quit":
      return io.close(() => {
        process.send({ id });
        process.exit(0);
      });
  }
});

httpServer.listen(0, "127.0.0.1", () => process.send({ ready: true, port: httpServer.address().port }));
