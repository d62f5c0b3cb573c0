// Two socket.io-rs nodes joined by socket.io-rs/redis-streams, behind a sticky load balancer.
//
//   redis-server --port 6379 &         (any Redis 6.2+; 7+ for the recovery of quiet clients)
//   node examples/cluster.js           then open http://localhost:3000 in two browsers
//
// The balancer pins each client to a node by its address (long-polling needs every request of a
// session on the same node, as upstream documents); WebSocket connections need no pinning.
// Connections to node 3001 and 3002 share broadcasts, rooms, remote operations and recovery.
"use strict";

const http = require("node:http");
const net = require("node:net");
const { Server } = require("socket.io-rs");
const { createAdapter } = require("socket.io-rs/redis-streams");

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const NODE_PORTS = [3001, 3002];

const page = `<!doctype html><script src="/socket.io/socket.io.js"></script>
<ul id="log"></ul><input id="msg" placeholder="say something, press Enter">
<script>
  const socket = io({ transports: ["polling", "websocket"] });
  const log = (text) => (document.getElementById("log").innerHTML += "<li>" + text + "</li>");
  socket.on("connect", () => log("connected to node " + (socket.recovered ? "(recovered)" : "")));
  socket.on("welcome", (node) => log("served by " + node));
  socket.on("chat", (node, text) => log(node + ": " + text));
  document.getElementById("msg").onkeydown = (e) => {
    if (e.key === "Enter") { socket.emit("chat", e.target.value); e.target.value = ""; }
  };
</script>`;

async function startNode(port) {
  const httpServer = http.createServer((req, res) => res.end(page));
  const io = new Server(httpServer, {
    adapter: await createAdapter(REDIS_URL),
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
  });
  io.on("connection", (socket) => {
    socket.emit("welcome", port);
    socket.on("chat", (text) => io.emit("chat", `node ${port}`, String(text)));
  });
  httpServer.listen(port, () => console.log(`node on http://localhost:${port}`));
}

/** A TCP balancer that sends each client address to the same node (sticky sessions). */
function startBalancer(port) {
  net
    .createServer((client) => {
      const address = client.remoteAddress || "";
      let hash = 0;
      for (const char of address) hash = (hash * 31 + char.charCodeAt(0)) | 0;
      const upstream = net.connect(NODE_PORTS[Math.abs(hash) % NODE_PORTS.length], "127.0.0.1");
      client.pipe(upstream).pipe(client);
      const close = () => (client.destroy(), upstream.destroy());
      client.on("error", close);
      upstream.on("error", close);
    })
    .listen(port, () => console.log(`balancer on http://localhost:${port}`));
}

(async () => {
  for (const port of NODE_PORTS) await startNode(port);
  startBalancer(3000);
})().catch((err) => {
  console.error("cannot start the cluster:", err.message);
  process.exit(1);
});
