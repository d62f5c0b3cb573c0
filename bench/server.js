#!/usr/bin/env node
// Benchmark fixture: one socket.io server, built only from the public socket.io API, run either
// with upstream `socket.io` or with this package.
//
//   node bench/server.js --impl socket.io|socket.io-rs [--recovery] [--rs-path DIR]
//                        [--cluster redis-streams|rs-redis-streams --redis-url URL]
//
// With --cluster, the node joins a Redis Streams cluster (stream "bench") through
// `@socket.io/redis-streams-adapter` on a `redis` v5 client (redis-streams), or through
// `socket.io-rs/redis-streams` (rs-redis-streams, socket.io-rs only); it reports ready once the
// adapter is connected.
//
// It listens on 127.0.0.1 (ephemeral ports) and prints one JSON line on stdout once ready:
//   {"ready":true,"impl":...,"port":<socket.io port>,"control":<control port>,"pid":...}
// The load generator drives it through the HTTP control port (GET, JSON answers):
//   /broadcast?n=N&pad=LEN&seq0=S&rooms=R&batch=B&mode=paced|burst
//        emits n events `io.emit("m", seq, pad)` (or `io.to("r" + k % R).emit(...)` when R > 0,
//        seq counting per room). mode=burst: one synchronous loop; mode=paced: B emits per
//        event-loop turn (setImmediate). Answers once the last emit call has returned.
//   /stats   {"live": sockets connected now, "connections": total since start}
//   /gc      runs global.gc() (start node with --expose-gc) and answers afterwards
//   /quit    answers, then exits
// Clients join the room named by the handshake query `room`, and every socket acks "echo".
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const impl = arg("--impl", "socket.io");
const recovery = process.argv.includes("--recovery");
// Harness self-test only (node bench/run.js --selftest): deliberately break one delivery so the
// load generator can show that it notices. Never set in a measured run.
const fault = arg("--fault", "");
// where socket.io-rs is loaded from: this checkout unless told otherwise
const rsPath = path.resolve(arg("--rs-path", path.join(__dirname, "..")));
const clusterAdapter = arg("--cluster", "");
const redisUrl = arg("--redis-url", "redis://127.0.0.1:6379");

function die(msg, code) {
  process.stderr.write(`bench/server.js: ${msg}\n`);
  process.exit(code);
}

let Server;
if (impl === "socket.io") {
  ({ Server } = require("socket.io"));
} else if (impl === "socket.io-rs") {
  let mod;
  try {
    mod = require(rsPath);
  } catch (e) {
    die(`cannot load socket.io-rs (require(${JSON.stringify(rsPath)})): ${e.message}`, 3);
  }
  Server = mod.Server;
  if (typeof Server !== "function") {
    die(`socket.io-rs does not export Server yet (require("..").Server is ${typeof Server}); the Server API has not landed`, 3);
  }
} else {
  die(`unknown --impl ${JSON.stringify(impl)} (socket.io or socket.io-rs)`, 2);
}

// Same padding as bench/loadgen (make_pad): the alphabet rotated by the room index.
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
function makePad(len, rot) {
  let s = "";
  for (let i = 0; i < len; i++) s += ALPHABET[(i + rot) % ALPHABET.length];
  return s;
}

/** The `adapter` option for --cluster, connected to redis-server. */
async function createClusterAdapter() {
  const options = { streamName: "bench" };
  if (clusterAdapter === "rs-redis-streams") {
    if (impl !== "socket.io-rs") die("--cluster rs-redis-streams needs --impl socket.io-rs", 2);
    const file = path.join(rsPath, "lib", "cluster", "redis-streams.js");
    if (!fs.existsSync(file)) {
      process.stdout.write(JSON.stringify({ unsupported: `no socket.io-rs/redis-streams in ${rsPath}` }) + "\n");
      return null;
    }
    return await require(file).createAdapter(redisUrl, options);
  }
  if (clusterAdapter === "redis-streams") {
    const { createClient } = require("redis");
    const client = createClient({ url: redisUrl });
    client.on("error", (err) => process.stderr.write(`bench/server.js: redis client: ${err}\n`));
    await client.connect();
    return require("@socket.io/redis-streams-adapter").createAdapter(client, options);
  }
  die(`unknown --cluster ${JSON.stringify(clusterAdapter)} (redis-streams or rs-redis-streams)`, 2);
}

const httpServer = http.createServer();
const opts = {};
if (recovery) opts.connectionStateRecovery = { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true };
let io;

let live = 0;
let connections = 0;
function onConnection(socket) {
  live++;
  connections++;
  const room = socket.handshake.query.room;
  if (typeof room === "string" && room && !socket.recovered) socket.join(room);
  if (fault === "badack") {
    let calls = 0;
    socket.on("echo", (x, ack) => ack(++calls === 3 ? [x[0] + 1, x[1]] : x));
  } else {
    socket.on("echo", (x, ack) => ack(x));
  }
  socket.on("disconnect", () => {
    live--;
  });
}

function broadcast(q, done) {
  const n = Number(q.get("n") || 0);
  const padLen = Number(q.get("pad") || 1);
  const seq0 = Number(q.get("seq0") || 0);
  const rooms = Number(q.get("rooms") || 0);
  const batch = Math.max(1, Number(q.get("batch") || 10));
  const mode = q.get("mode") || "paced";
  const pads = [];
  const names = [];
  for (let r = 0; r < Math.max(rooms, 1); r++) {
    pads.push(makePad(padLen, r));
    names.push("r" + r);
  }
  const emitNormal = (k) => {
    if (rooms > 0) {
      const r = k % rooms;
      io.to(names[r]).emit("m", seq0 + Math.floor(k / rooms), pads[r]);
    } else {
      io.emit("m", seq0 + k, pads[0]);
    }
  };
  const emitOne = !fault ? emitNormal : (k) => {
    if (n > 2 && k === 1) {
      if (fault === "drop") return;
      if (fault === "dup") emitNormal(k);
      if (fault === "corrupt") return io.emit("m", seq0 + k, pads[0].replace("a", "A"));
      if (fault === "wrongroom" && rooms > 1) return io.to(names[2]).emit("m", seq0, pads[1]);
      if (fault === "swap") {
        emitNormal(2);
        emitNormal(1);
        return;
      }
    }
    if (fault === "swap" && n > 2 && k === 2) return;
    emitNormal(k);
    if (fault === "extra" && k === n - 1) io.emit("m", seq0 + n, pads[0]);
  };
  const t0 = process.hrtime.bigint();
  const finish = () => done({ emitted: n, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  if (mode === "burst") {
    for (let k = 0; k < n; k++) emitOne(k);
    finish();
    return;
  }
  let k = 0;
  const step = () => {
    const end = Math.min(n, k + batch);
    for (; k < end; k++) emitOne(k);
    if (k < n) setImmediate(step);
    else finish();
  };
  step();
}

const control = http.createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  const reply = (obj, status = 200) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  switch (url.pathname) {
    case "/broadcast":
      return broadcast(url.searchParams, reply);
    case "/stats":
      return reply({ live, connections, rss: process.memoryUsage.rss() });
    case "/gc":
      if (typeof global.gc === "function") {
        global.gc();
        global.gc();
      }
      return setImmediate(() => reply({ gc: typeof global.gc === "function" }));
    case "/quit":
      reply({ bye: true });
      return setTimeout(() => process.exit(0), 20);
    default:
      return reply({ error: "not found" }, 404);
  }
});

async function main() {
  if (clusterAdapter) {
    opts.adapter = await createClusterAdapter();
    if (!opts.adapter) return;
  }
  io = new Server(httpServer, opts);
  io.on("connection", onConnection);
  httpServer.listen(0, "127.0.0.1", () => {
    control.listen(0, "127.0.0.1", () => {
      process.stdout.write(
        JSON.stringify({
          ready: true,
          impl,
          recovery,
          cluster: clusterAdapter || null,
          port: httpServer.address().port,
          control: control.address().port,
          pid: process.pid,
          node: process.version,
        }) + "\n",
      );
    });
  });
}

main().catch((err) => die(`cannot start: ${(err && err.stack) || err}`, 1));
