#!/usr/bin/env node
// Soak: thousands of socket.io-client connections, half long-polling and half WebSocket, churning
// against one server (bench/soak/server.js, its own process) for minutes, on loopback. Not a test:
// a bounded run that reports what it saw and exits 1 if a message was lost or duplicated or the
// server kept something after every client left.
//
//   node bench/soak/run.js [--impl socket.io-rs|socket.io] [--clients 2000] [--duration-s 300]
//        [--rooms 20] [--rooms-per-client 2] [--tick-ms 1000] [--drops-per-s 20]
//        [--transports polling,websocket] [--sample-ms 5000] [--warm-up-s 60]
//        [--max-disconnection-ms 60000]
//
// On a shared machine run it under `nice -n 19`: the server process inherits it.
//
// Each client joins `rooms-per-client` rooms; every `tick-ms` the server emits one numbered event
// to every room. Each second `drops-per-s` connected clients lose their connection abruptly (the
// client's TCP connections destroyed under it), and the client reconnects with connection-state
// recovery. Every event is counted per client and room: a recovered client must get every event
// exactly once and in order; a client that got a new session instead (counted) starts counting
// again. At the end the churn stops, the server stops emitting, and every client must hold the
// last event of each of its rooms. Then every client disconnects, and the server must be back to
// no engine session, socket, room or recovery session, with as many descriptors as before the
// clients came. Its RSS is sampled throughout; the slope after the warm-up is reported (least
// squares).
"use strict";

const { fork } = require("node:child_process");
const http = require("node:http");
const path = require("node:path");
const { io: connect } = require("socket.io-client");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const options = {
  impl: arg("--impl", "socket.io-rs"),
  clients: Number(arg("--clients", 2000)),
  transports: arg("--transports", "polling,websocket").split(","),
  durationS: Number(arg("--duration-s", 300)),
  rooms: Number(arg("--rooms", 20)),
  roomsPerClient: Number(arg("--rooms-per-client", 2)),
  tickMs: Number(arg("--tick-ms", 1000)),
  dropsPerS: Number(arg("--drops-per-s", 20)),
  sampleMs: Number(arg("--sample-ms", 5000)),
  warmUpS: Number(arg("--warm-up-s", 60)),
  maxDisconnectionMs: Number(arg("--max-disconnection-ms", 60000)),
};
/** Bound on each wait for a condition (all connected, all caught up, server emptied). */
const WAIT_MS = 60000;

function log(line) {
  process.stderr.write(`[soak ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
}

// ------------------------------------------------------------------------------------------
// The server process

function startServer() {
  const args = [
    "--impl", options.impl,
    "--rooms", String(options.rooms),
    "--tick-ms", String(options.tickMs),
    "--max-disconnection-ms", String(options.maxDisconnectionMs),
  ];
  const child = fork(path.join(__dirname, "server.js"), args);
  const pending = new Map();
  let nextId = 1;
  const ready = new Promise((resolve, reject) => {
    child.on("message", (message) => {
      if (message.ready) return resolve(message.port);
      const settle = pending.get(message.id);
      pending.delete(message.id);
      if (settle) settle(message);
    });
    child.on("exit", (code) => reject(new Error(`the server exited (${code})`)));
  });
  const request = (type) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, type });
    });
  return { child, ready, request };
}

// ------------------------------------------------------------------------------------------
// Clients

/** Resolves once `done()` holds, re-checked whenever `notify` fires; rejects after WAIT_MS. */
function until(what, done, subscribe) {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    const unsubscribe = subscribe(() => {
      if (!done()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

const changes = new Set();
const changed = () => changes.forEach((listener) => listener());
const onChange = (listener) => (changes.add(listener), () => changes.delete(listener));

function makeClient(index, port) {
  const transport = options.transports[index % options.transports.length];
  const rooms = [];
  for (let j = 0; rooms.length < options.roomsPerClient; j++) {
    const room = (index * 7 + j * 3) % options.rooms;
    if (!rooms.includes(room)) rooms.push(room);
  }
  // Each client's own agent keeps its open TCP connections, so that they can be cut under it.
  const connections = new Set();
  const agent = new http.Agent();
  agent.createConnection = (...args) => {
    const connection = http.Agent.prototype.createConnection.apply(agent, args);
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    return connection;
  };
  const client = {
    transport,
    rooms,
    connections,
    /** Per room: the next sequence number expected, or null until the first event of a session. */
    expected: new Map(),
    sessions: 0,
    recoveries: 0,
    /** Drops answered with a new session instead of a recovery. */
    freshSessions: 0,
    disconnects: 0,
    received: 0,
    lost: 0,
    duplicates: 0,
    stray: 0,
    joined: false,
  };
  const socket = connect(`http://127.0.0.1:${port}`, {
    transports: [transport],
    agent,
    reconnectionDelay: 100,
    reconnectionDelayMax: 2000,
  });
  client.socket = socket;
  socket.on("connect", () => {
    if (socket.recovered) {
      client.recoveries++;
      return changed();
    }
    if (client.sessions++ > 0) client.freshSessions++;
    client.joined = false;
    for (const room of rooms) client.expected.set(room, null);
    socket.emit("join", rooms, () => {
      client.joined = true;
      changed();
    });
  });
  socket.on("disconnect", () => {
    client.disconnects++;
    changed();
  });
  socket.on("m", (room, seq) => {
    const next = client.expected.get(room);
    if (next === undefined) {
      client.stray++;
    } else if (next === null || seq === next) {
      client.received++;
      client.expected.set(room, seq + 1);
    } else if (seq > next) {
      client.lost += seq - next;
      client.received++;
      client.expected.set(room, seq + 1);
    } else {
      client.duplicates++;
    }
    changed();
  });
  return client;
}

/** Cuts a client's TCP connections under it: no close packet, no WebSocket close frame. */
function drop(client) {
  for (const connection of client.connections) connection.destroy();
}

// ------------------------------------------------------------------------------------------
// Figures

/** Least-squares slope of `y` against `t` (ms), per minute. */
function slopePerMinute(points) {
  const n = points.length;
  if (n < 2) return null;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? null : (num / den) * 60000;
}

const sum = (clients, key) => clients.reduce((s, c) => s + c[key], 0);
const mb = (bytes) => (bytes / 1048576).toFixed(1);

// ------------------------------------------------------------------------------------------

let startedAt = Date.now();

async function main() {
  if (!(options.roomsPerClient >= 1 && options.roomsPerClient <= options.rooms)) {
    throw new Error("--rooms-per-client must be between 1 and --rooms");
  }
  const server = startServer();
  const port = await server.ready;
  const before = await server.request("stats");
  startedAt = Date.now();
  log(`${options.impl}: server on port ${port}; ${options.clients} clients, ${options.durationS} s, ` +
    `${options.rooms} rooms x ${options.roomsPerClient} per client, a tick every ${options.tickMs} ms, ` +
    `${options.dropsPerS} drops/s`);

  const clients = [];
  for (let i = 0; i < options.clients; i++) {
    clients.push(makeClient(i, port));
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 50)); // a gentle ramp
  }
  const allJoined = () => clients.every((c) => c.socket.connected && c.joined);
  await until("every client to connect and join", allJoined, onChange);
  log("all connected and joined");

  const samples = [];
  const sample = async () => {
    const stats = await server.request("stats");
    samples.push({ t: Date.now() - startedAt, ...stats });
    const connected = clients.filter((c) => c.socket.connected).length;
    log(`rss ${mb(stats.rss)} MB, heap ${mb(stats.heapUsed)} MB, fds ${stats.descriptors}, ` +
      `engine sessions ${stats.engineSessions}, sockets ${stats.sockets}, recovery sessions ${stats.recoverySessions}; ` +
      `clients connected ${connected}, disconnects ${sum(clients, "disconnects")}, recoveries ${sum(clients, "recoveries")}, ` +
      `new sessions ${sum(clients, "freshSessions")}, received ${sum(clients, "received")}, lost ${sum(clients, "lost")}`);
  };
  const sampler = setInterval(sample, options.sampleMs);
  await sample();

  const perTick = options.dropsPerS / 10;
  let owed = 0;
  let dropped = 0;
  const churn = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const client = clients[Math.floor(Math.random() * clients.length)];
      if (!client.socket.connected) continue;
      drop(client);
      dropped++;
    }
  }, 100);
  const endAt = startedAt + options.durationS * 1000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endAt - Date.now())));
  clearInterval(churn);
  log(`churn stopped after ${dropped} drops`);

  // Every client back, and past its first event in each room, before the server stops.
  const caughtUp = () => allJoined() && clients.every((c) => [...c.expected.values()].every((next) => next !== null));
  await until("every client to reconnect and receive an event in each of its rooms", caughtUp, onChange);
  const { emitted } = await server.request("stop");
  const holdsLast = () => clients.every((c) => c.rooms.every((room) => c.expected.get(room) >= emitted[room]));
  await until("every client to receive the last event of each of its rooms", holdsLast, onChange).catch(
    (err) => log(err.message),
  );
  clearInterval(sampler);
  await sample();
  let tailLost = 0;
  for (const c of clients) for (const room of c.rooms) tailLost += Math.max(0, emitted[room] - c.expected.get(room));

  // Another process's state: asked again every 200 ms until it holds, up to WAIT_MS.
  const serverReaches = async (done) => {
    const deadline = Date.now() + WAIT_MS;
    let stats = await server.request("stats");
    while (!done(stats) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      stats = await server.request("stats");
    }
    return stats;
  };
  for (const c of clients) c.socket.disconnect();
  const after = await serverReaches(
    (stats) => stats.engineSessions === 0 && stats.sockets === 0 && stats.descriptors <= before.descriptors,
  );

  const steady = samples.filter((s) => s.t >= options.warmUpS * 1000);
  const rssSlope = slopePerMinute(steady.map((s) => ({ t: s.t, y: s.rss })));
  const heapSlope = slopePerMinute(steady.map((s) => ({ t: s.t, y: s.heapUsed })));
  const result = {
    impl: options.impl,
    options,
    drops: dropped,
    disconnects: sum(clients, "disconnects"),
    recoveries: sum(clients, "recoveries"),
    freshSessions: sum(clients, "freshSessions"),
    received: sum(clients, "received"),
    lost: sum(clients, "lost") + tailLost,
    duplicates: sum(clients, "duplicates"),
    stray: sum(clients, "stray"),
    emittedPerRoom: emitted.reduce((a, b) => a + b, 0) / emitted.length,
    server: {
      before: { rss: before.rss, descriptors: before.descriptors },
      end: after,
      rssMB: { min: Math.min(...steady.map((s) => s.rss)) / 1048576, max: Math.max(...steady.map((s) => s.rss)) / 1048576 },
      rssSlopeKBPerMin: rssSlope === null ? null : rssSlope / 1024,
      heapSlopeKBPerMin: heapSlope === null ? null : heapSlope / 1024,
      samples: samples.map((s) => ({ t: s.t, rss: s.rss, heapUsed: s.heapUsed, descriptors: s.descriptors })),
    },
  };
  const leaks = [];
  if (after.engineSessions !== 0) leaks.push(`${after.engineSessions} engine sessions`);
  if (after.sockets !== 0) leaks.push(`${after.sockets} sockets`);
  if (after.rooms !== 0) leaks.push(`${after.rooms} rooms`);
  if (after.recoverySessions) leaks.push(`${after.recoverySessions} recovery sessions`);
  if (after.descriptors > before.descriptors) leaks.push(`${after.descriptors - before.descriptors} descriptors`);
  result.leaks = leaks;
  result.ok = result.lost === 0 && result.duplicates === 0 && result.stray === 0 && leaks.length === 0;

  log(`drops ${result.drops}, disconnects ${result.disconnects}, recoveries ${result.recoveries}, ` +
    `new sessions ${result.freshSessions}; received ${result.received}, lost ${result.lost}, ` +
    `duplicates ${result.duplicates}, stray ${result.stray}`);
  log(`server after the clients left: ${leaks.length ? "kept " + leaks.join(", ") : "nothing kept"} ` +
    `(fds ${before.descriptors} before, ${after.descriptors} after)`);
  log(`RSS after the warm-up: ${result.server.rssMB.min.toFixed(1)}-${result.server.rssMB.max.toFixed(1)} MB, ` +
    `slope ${rssSlope === null ? "n/a" : (rssSlope / 1024).toFixed(0) + " KB/min"}; heap slope ` +
    `${heapSlope === null ? "n/a" : (heapSlope / 1024).toFixed(0) + " KB/min"}`);
  process.stdout.write(JSON.stringify(result) + "\n");

  await server.request("quit");
  process.exit(result.ok ? 0 : 1);
}

const bound = setTimeout(() => {
  log("the run outlived its bound");
  process.exit(2);
}, (options.durationS + 5 * WAIT_MS / 1000) * 1000);
bound.unref();

main().catch((err) => {
  log(err.stack || String(err));
  process.exit(2);
});
