/** Chat demo: `npm start`, then open http://localhost:3000 in two browser tabs. */
"use strict";

const { createServer } = require("node:http");
const { Server } = require("..");

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>socket.io-rs chat</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}#log{list-style:none;padding:0}</style>
<h1>socket.io-rs chat</h1>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  const log = document.getElementById("log");
  const add = (text) => { const li = document.createElement("li"); li.textContent = text; log.append(li); };
  socket.on("connect", () => add(socket.recovered ? "(reconnected, nothing missed)" : "(connected as " + socket.id + ")"));
  socket.on("chat", (from, text) => add(from + ": " + text));
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (input.value) socket.emit("chat", input.value, (status) => status !== "ok" && add("(not sent)"));
    input.value = "";
  });
</script>`;

const httpServer = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(PAGE);
});
const io = new Server(httpServer, { connectionStateRecovery: {} });

io.on("connection", (socket) => {
  socket.on("chat", (text, ack) => {
    if (typeof text !== "string" || typeof ack !== "function") return;
    io.emit("chat", socket.id.slice(0, 6), text.slice(0, 500));
    ack("ok");
  });
});

const port = Number(process.env.PORT) || 3000;
httpServer.listen(port, () => console.log(`socket.io-rs chat demo on http://localhost:${port}`));
