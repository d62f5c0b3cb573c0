/**
 * `@socket.io/admin-ui` on this server: `instrument(io, ...)`, then an official client on "/admin"
 * as the dashboard connects, asserting what the dashboard would show (config, socket list, server
 * stats, live events) and that its actions (join, leave, emit, disconnect) reach the regular
 * clients. SOCKET_IO_IMPL=socket.io runs the same file against upstream.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const os = require("node:os");
const { instrument } = require("@socket.io/admin-ui");
// The bcrypt implementation admin-ui itself checks passwords with (its own dependency).
const bcrypt = require(require.resolve("bcryptjs", { paths: [require.resolve("@socket.io/admin-ui")] }));
const { TIMEOUT, harness, connected, waitFor, withTimeout } = require("./support/sio-helpers");

/** admin-ui's feature list for a server with the v4 API (`socketsJoin`, `disconnectSockets`, ...). */
const ACTIONS = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"];

/** Server stats come every 2 s (admin-ui's interval): waits for them get two intervals and more. */
const STATS_TIMEOUT = 7000;

/**
 * What the dashboard's socket receives, in order. `until` waits for a condition over everything
 * received so far, so no event is missed however early it came.
 */
class Dashboard {
  constructor(socket) {
    this.socket = socket;
    this.received = [];
    this._checks = new Set();
    socket.onAny((event, ...args) => {
      this.received.push({ event, args });
      for (const check of [...this._checks]) check();
    });
  }

  /** Resolves with the first truthy value of `condition()`, checked now and after each event. */
  until(condition, what, ms = TIMEOUT) {
    let check;
    const found = new Promise((resolve) => {
      check = () => {
        const value = condition();
        if (value) {
          this._checks.delete(check);
          resolve(value);
        }
      };
      this._checks.add(check);
      check();
    });
    return withTimeout(found, ms, () => `${what}; the dashboard got ${this.names()}`).finally(() =>
      this._checks.delete(check),
    );
  }

  /** The arguments of the first `event` (from index `from` on) whose arguments match `predicate`. */
  find(event, predicate = () => true, from = 0, ms = TIMEOUT) {
    return this.until(() => {
      const hit = this.received.slice(from).find((e) => e.event === event && predicate(...e.args));
      return hit && hit.args;
    }, `"${event}"`, ms);
  }

  /** The arguments of every `event` received so far. */
  all(event) {
    return this.received.filter((e) => e.event === event).map((e) => e.args);
  }

  /** The first server stats received after this call. */
  nextStats() {
    return this.find("server_stats", () => true, this.received.length, STATS_TIMEOUT).then(([stats]) => stats);
  }

  /** The first server stats, from the latest received on, for which `predicate` holds. */
  statsUntil(predicate, what) {
    return this.until(() => {
      const all = this.all("server_stats");
      const latest = all.length > 0 && all[all.length - 1][0];
      return latest && predicate(latest) && latest;
    }, what, STATS_TIMEOUT);
  }

  /** Every aggregated event of the stats so far, summed by "type" or "type:subType". */
  totals() {
    const totals = {};
    for (const [stats] of this.all("server_stats")) {
      for (const { type, subType, count } of stats.aggregatedEvents) {
        const key = subType === undefined ? type : `${type}:${subType}`;
        totals[key] = (totals[key] || 0) + count;
      }
    }
    return totals;
  }

  names() {
    return JSON.stringify(this.received.map((e) => e.event));
  }
}

/**
 * A server with admin-ui on it (development mode unless told) and namespaces "/" and "/chat" whose
 * sockets answer "rooms" (their rooms), "join" and "leave" (a room) with an ack, and "echo" with
 * "echoed"; with helpers for the dashboard and regular clients.
 */
async function instrumented(t, instrumentOpts = {}, serverOpts = {}) {
  const h = harness(t);
  const { io, port } = await h.server(serverOpts);
  for (const nsp of [io.of("/"), io.of("/chat")]) {
    nsp.on("connection", (socket) => {
      socket.on("rooms", (ack) => ack([...socket.rooms].sort()));
      socket.on("echo", (...args) => socket.emit("echoed", ...args));
      socket.on("join", (room, ack) => {
        socket.join(room);
        ack();
      });
      socket.on("leave", (room, ack) => {
        socket.leave(room);
        ack();
      });
    });
  }
  instrument(io, { auth: false, mode: "development", ...instrumentOpts });
  return {
    h,
    io,
    port,
    /** The dashboard's socket, as the UI opens it ("WebSocket only" ticked), and what it receives. */
    async dashboard(opts = {}) {
      const socket = h.client(port, "/admin", { transports: ["websocket"], ...opts });
      const dashboard = new Dashboard(socket);
      await connected(socket);
      return dashboard;
    },
    client: (nsp, opts) => h.client(port, nsp, opts),
    connect: (nsp, opts) => h.connect(port, nsp, opts),
  };
}

/** Emits `event` from a regular client and resolves with the server's acknowledgement. */
function ask(client, event, ...args) {
  return withTimeout(new Promise((resolve) => client.emit(event, ...args, resolve)), TIMEOUT, `the ack of "${event}"`);
}

/** The rooms a regular client's server-side socket is in, asked over its own connection. */
function roomsOf(client) {
  return ask(client, "rooms");
}

/** Resolves once the client's connection has upgraded to WebSocket. */
function upgraded(client) {
  const engine = client.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return waitFor(engine, "upgrade");
}

/**
 * Counts the packets with data a client's engine sends (the server's packetsIn) and receives (its
 * packetsOut), as admin-ui counts them on the server.
 */
function countPackets(client) {
  const counts = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, lastIn: 0 };
  const size = (data) => (typeof data === "string" ? Buffer.byteLength(data) : data.byteLength);
  // Created synchronously by io(): nothing has been sent or received yet.
  const engine = client.io.engine;
  engine.on("packetCreate", ({ data }) => {
    if (!data) return;
    counts.packetsIn++;
    counts.bytesIn += size(data);
  });
  engine.on("packet", ({ type, data }) => {
    // The handshake's open packet is sent before the server socket exists: admin-ui never sees it.
    if (!data || type === "open") return;
    counts.packetsOut++;
    counts.bytesOut += size(data);
    counts.lastIn = size(data);
  });
  return counts;
}

describe("@socket.io/admin-ui", () => {
  it("lists every socket with its namespace, transport, handshake, rooms and data", async (t) => {
    const s = await instrumented(t);
    s.io.of("/chat").use((socket, next) => {
      socket.data.user = "bob";
      next();
    });
    const onPolling = await s.connect("/", { transports: ["polling"] });
    const onWebSocket = await s.connect("/chat", {
      transports: ["websocket"],
      query: { token: "abc" },
      extraHeaders: { "x-forwarded-for": "203.0.113.7" },
    });
    await ask(onWebSocket, "join", "lobby");

    const dashboard = await s.dashboard();
    const [config] = await dashboard.find("config");
    assert.deepStrictEqual(config.supportedFeatures, [...ACTIONS, "AGGREGATED_EVENTS", "ALL_EVENTS"]);
    const [sockets] = await dashboard.find("all_sockets");
    const byId = new Map(sockets.map((socket) => [socket.id, socket]));
    assert.deepStrictEqual([...byId.keys()].sort(), [onPolling.id, onWebSocket.id, dashboard.socket.id].sort());

    const polling = byId.get(onPolling.id);
    assert.strictEqual(polling.nsp, "/");
    assert.strictEqual(polling.transport, "polling");
    assert.strictEqual(polling.clientId, onPolling.io.engine.id.slice(0, 12));
    assert.deepStrictEqual(polling.rooms, [onPolling.id]);
    assert.deepStrictEqual(polling.data, {});
    assert.strictEqual(polling.handshake.address, "127.0.0.1");
    assert.strictEqual(polling.handshake.headers.host, `127.0.0.1:${s.port}`);
    assert.strictEqual(polling.handshake.query.transport, "polling");
    assert.match(polling.handshake.url, /^\/socket\.io\/\?EIO=4&transport=polling&t=/);
    assert.strictEqual(polling.handshake.secure, false);
    assert.strictEqual(polling.handshake.xdomain, false);
    assert.strictEqual(typeof polling.handshake.issued, "number");
    assert.ok(!Number.isNaN(Date.parse(polling.handshake.time)), polling.handshake.time);
    assert.strictEqual(polling.handshake.auth, undefined, "admin-ui leaves auth out");

    const websocket = byId.get(onWebSocket.id);
    assert.strictEqual(websocket.nsp, "/chat");
    assert.strictEqual(websocket.transport, "websocket");
    assert.strictEqual(websocket.clientId, onWebSocket.io.engine.id.slice(0, 12));
    assert.deepStrictEqual(websocket.rooms.sort(), [onWebSocket.id, "lobby"].sort());
    assert.deepStrictEqual(websocket.data, { user: "bob" });
    assert.strictEqual(websocket.handshake.address, "203.0.113.7", "x-forwarded-for comes first");
    assert.strictEqual(websocket.handshake.headers["x-forwarded-for"], "203.0.113.7");
    assert.strictEqual(websocket.handshake.query.token, "abc");
    assert.match(websocket.handshake.url, /^\/socket\.io\/\?token=abc&EIO=4&transport=websocket$/);

    const own = byId.get(dashboard.socket.id);
    assert.strictEqual(own.nsp, "/admin");
    assert.strictEqual(own.transport, "websocket");
  });

  it("server stats: clients, polling clients, and sockets per namespace, dynamic ones included", async (t) => {
    const s = await instrumented(t);
    s.io.of(/^\/room-\d+$/);
    const dashboard = await s.dashboard();
    await s.connect("/", { transports: ["polling"] });
    const upgrading = await s.connect("/chat");
    await upgraded(upgrading);
    const dynamic = await s.connect("/room-7", { transports: ["websocket"] });
    await s.connect("/chat", { transports: ["websocket"] });

    // The upgrade reaches the server on a connection of its own: it may come after the next stats.
    const stats = await dashboard.statsUntil(
      (latest) => latest.clientsCount === 5 && latest.pollingClientsCount === 1,
      "stats with five clients, one of them polling (the upgraded one no longer counts)",
    );
    assert.strictEqual(stats.serverId, os.hostname());
    assert.strictEqual(stats.hostname, os.hostname());
    assert.strictEqual(stats.pid, process.pid);
    assert.strictEqual(typeof stats.uptime, "number");
    const namespaces = stats.namespaces.slice().sort((a, b) => a.name.localeCompare(b.name));
    assert.deepStrictEqual(namespaces, [
      { name: "/", socketsCount: 1 },
      { name: "/admin", socketsCount: 1 },
      { name: "/chat", socketsCount: 2 },
      { name: "/room-7", socketsCount: 1 },
    ]);

    dynamic.disconnect();
    const after = await dashboard.statsUntil((stats) => stats.clientsCount === 4, "stats without the disconnected client");
    assert.deepStrictEqual(after.namespaces.find((nsp) => nsp.name === "/room-7"), { name: "/room-7", socketsCount: 0 });
  });

  it("aggregated events: connections, disconnections by reason, packets and bytes as the clients counted them", async (t) => {
    const s = await instrumented(t);
    const dashboardClient = s.client("/admin", { transports: ["websocket"] });
    const dashboardCounts = countPackets(dashboardClient);
    const dashboard = new Dashboard(dashboardClient);
    await connected(dashboardClient);

    const polling = s.client("/", { transports: ["polling"] });
    const pollingCounts = countPackets(polling);
    const upgrading = s.client("/chat");
    const upgradingCounts = countPackets(upgrading);
    await Promise.all([connected(polling), connected(upgrading)]);
    await upgraded(upgrading);
    for (const client of [polling, upgrading]) {
      const echoed = waitFor(client, "echoed");
      client.emit("echo", "text", Buffer.from([1, 2, 3]));
      const [text, bytes] = await echoed;
      assert.strictEqual(text, "text");
      assert.deepStrictEqual([...bytes], [1, 2, 3]);
    }
    const closed = waitFor(upgrading.io.engine, "close");
    upgrading.disconnect();
    await closed;

    // The stats count what happened before they were sent; the dashboard's own last packet (the
    // stats themselves) is counted by the next ones.
    await dashboard.nextStats();
    const last = await dashboard.nextStats();
    const totals = dashboard.totals();
    const clients = [dashboardCounts, pollingCounts, upgradingCounts];
    const sum = (key) => clients.reduce((acc, counts) => acc + counts[key], 0);
    assert.strictEqual(totals.rawConnection, 3);
    assert.strictEqual(totals["rawDisconnection:transport close"], 1);
    assert.strictEqual(totals.packetsIn, sum("packetsIn"));
    assert.strictEqual(totals.bytesIn, sum("bytesIn"));
    assert.strictEqual(totals.packetsOut, sum("packetsOut") - 1);
    assert.strictEqual(totals.bytesOut, sum("bytesOut") - dashboardCounts.lastIn);
    assert.strictEqual(last.clientsCount, 2);
    assert.strictEqual(last.pollingClientsCount, 1);
  });

  it("live events: connection, upgrade, data, rooms, events both ways, disconnection with its reason", async (t) => {
    const s = await instrumented(t);
    s.io.of("/chat").on("connection", (socket) => {
      socket.on("score", (n) => {
        socket.data.score = n;
      });
    });
    const dashboard = await s.dashboard();
    const client = s.client("/chat");
    await connected(client);
    const id = client.id;

    const [connectedSocket, connectedAt] = await dashboard.find("socket_connected", (socket) => socket.id === id);
    assert.strictEqual(connectedSocket.nsp, "/chat");
    assert.strictEqual(connectedSocket.transport, "polling");
    assert.deepStrictEqual(connectedSocket.rooms, [id]);
    assert.ok(!Number.isNaN(Date.parse(connectedAt)), connectedAt);
    await dashboard.find("room_joined", (nsp, room, socketId) => nsp === "/chat" && room === id && socketId === id);

    await upgraded(client);
    const [update] = await dashboard.find("socket_updated", (socket) => socket.id === id && "transport" in socket);
    assert.deepStrictEqual(update, { id, nsp: "/chat", transport: "websocket" });

    client.emit("score", 42);
    const [dataUpdate] = await dashboard.find("socket_updated", (socket) => socket.id === id && "data" in socket);
    assert.deepStrictEqual(dataUpdate, { id, nsp: "/chat", data: { score: 42 } });

    const echoed = waitFor(client, "echoed");
    client.emit("echo", "hi", { n: 1 });
    await echoed;
    const [, , received] = await dashboard.find("event_received", (nsp, socketId, args) => socketId === id && args[0] === "echo");
    assert.deepStrictEqual(received, ["echo", "hi", { n: 1 }]);
    const [, , sent] = await dashboard.find("event_sent", (nsp, socketId, args) => socketId === id && args[0] === "echoed");
    assert.deepStrictEqual(sent, ["echoed", "hi", { n: 1 }]);
    // An acknowledgement callback is not part of what the dashboard shows.
    await roomsOf(client);
    const [, , withAck] = await dashboard.find("event_received", (nsp, socketId, args) => socketId === id && args[0] === "rooms");
    assert.deepStrictEqual(withAck, ["rooms"]);

    await ask(client, "join", "room1");
    await dashboard.find("room_joined", (nsp, room, socketId) => nsp === "/chat" && room === "room1" && socketId === id);
    await ask(client, "leave", "room1");
    await dashboard.find("room_left", (nsp, room, socketId) => nsp === "/chat" && room === "room1" && socketId === id);

    client.disconnect();
    const [nsp, , reason] = await dashboard.find("socket_disconnected", (n, socketId) => socketId === id);
    assert.strictEqual(nsp, "/chat");
    assert.strictEqual(reason, "client namespace disconnect");
    await dashboard.find("room_left", (n, room, socketId) => room === id && socketId === id);

    const dropped = await s.connect("/", { transports: ["websocket"] });
    const droppedId = dropped.id;
    dropped.io.engine.close();
    const [, , droppedReason] = await dashboard.find("socket_disconnected", (n, socketId) => socketId === droppedId);
    assert.strictEqual(droppedReason, "transport close");
  });

  it("connection state recovery: a restored socket comes back with its id, rooms and data", async (t) => {
    const s = await instrumented(t, {}, { connectionStateRecovery: {} });
    s.io.on("connection", (socket) => {
      if (!socket.recovered) socket.data.visits = 1;
    });
    const dashboard = await s.dashboard();
    const client = s.client("/", { transports: ["websocket"], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    await connected(client);
    const id = client.id;
    await ask(client, "join", "room1");
    const echoed = waitFor(client, "echoed");
    client.emit("echo", "before");
    await echoed;
    // The outgoing event carries the offset the client recovers from, as upstream's does.
    const [, , sent] = await dashboard.find("event_sent", (nsp, socketId, args) => socketId === id && args[0] === "echoed");
    assert.deepStrictEqual(sent.slice(0, 2), ["echoed", "before"]);
    assert.strictEqual(sent.length, 3);
    assert.strictEqual(typeof sent[2], "string");

    const from = dashboard.received.length;
    const reconnected = waitFor(client, "connect");
    client.io.engine.close();
    const [, , reason] = await dashboard.find("socket_disconnected", (nsp, socketId) => socketId === id, from);
    assert.strictEqual(reason, "transport close");
    await reconnected;
    assert.strictEqual(client.recovered, true);
    const [restored] = await dashboard.find("socket_connected", (socket) => socket.id === id, from);
    assert.deepStrictEqual(restored.rooms.sort(), [id, "room1"].sort());
    assert.deepStrictEqual(restored.data, { visits: 1 });
  });

  it("actions: join, leave, emit and disconnect, as the regular clients see them", async (t) => {
    const s = await instrumented(t);
    const dashboard = await s.dashboard();
    const alice = await s.connect("/chat", { transports: ["polling"] });
    const bob = await s.connect("/chat", { transports: ["websocket"] });
    const carol = await s.connect("/", { transports: ["websocket"] });
    const admin = dashboard.socket;

    // One socket, by its own room.
    admin.emit("join", "/chat", "vip", alice.id);
    await dashboard.find("room_joined", (nsp, room, id) => room === "vip" && id === alice.id);
    assert.deepStrictEqual(await roomsOf(alice), [alice.id, "vip"].sort());
    assert.deepStrictEqual(await roomsOf(bob), [bob.id]);

    const news = waitFor(alice, "news");
    admin.emit("emit", "/chat", "vip", "news", "for vips", 1);
    assert.deepStrictEqual(await news, ["for vips", 1]);

    // Every socket of a namespace.
    admin.emit("join", "/chat", "everyone");
    await dashboard.find("room_joined", (nsp, room, id) => room === "everyone" && id === bob.id);
    assert.deepStrictEqual(await roomsOf(bob), [bob.id, "everyone"].sort());
    assert.deepStrictEqual(await roomsOf(alice), [alice.id, "everyone", "vip"].sort());
    assert.deepStrictEqual(await roomsOf(carol), [carol.id], "another namespace is left alone");

    // The sockets of a room.
    admin.emit("leave", "/chat", "everyone", "vip");
    await dashboard.find("room_left", (nsp, room, id) => room === "everyone" && id === alice.id);
    assert.deepStrictEqual(await roomsOf(alice), [alice.id, "vip"].sort());
    assert.deepStrictEqual(await roomsOf(bob), [bob.id, "everyone"].sort());

    const toAll = Promise.all([waitFor(alice, "hello"), waitFor(bob, "hello")]);
    admin.emit("emit", "/chat", undefined, "hello", { from: "admin" });
    assert.deepStrictEqual(await toAll, [[{ from: "admin" }], [{ from: "admin" }]]);

    const bobId = bob.id;
    const bobGone = waitFor(bob, "disconnect");
    admin.emit("_disconnect", "/chat", false, bobId);
    assert.strictEqual((await bobGone)[0], "io server disconnect");
    const [, , reason] = await dashboard.find("socket_disconnected", (nsp, id) => id === bobId);
    assert.strictEqual(reason, "server namespace disconnect");
    assert.deepStrictEqual(await roomsOf(alice), [alice.id, "vip"].sort(), "alice stays");
  });

  it("disconnect with close: the client's whole connection ends, every namespace on it", async (t) => {
    const s = await instrumented(t);
    const dashboard = await s.dashboard();
    const main = await s.connect("/", { transports: ["polling"] });
    const chat = s.h.trackClient(main.io.socket("/chat"));
    await connected(chat);
    const other = await s.connect("/chat", { transports: ["websocket"] });

    const ids = [main.id, chat.id];
    const mainGone = waitFor(main, "disconnect");
    const chatGone = waitFor(chat, "disconnect");
    const engineClosed = waitFor(main.io.engine, "close");
    dashboard.socket.emit("_disconnect", "/", true, main.id);
    assert.strictEqual((await mainGone)[0], "io server disconnect");
    assert.strictEqual((await chatGone)[0], "io server disconnect");
    await engineClosed;
    for (const id of ids) {
      const [, , reason] = await dashboard.find("socket_disconnected", (nsp, socketId) => socketId === id);
      assert.strictEqual(reason, "server namespace disconnect");
    }
    assert.deepStrictEqual(await roomsOf(other), [other.id], "another connection stays");

    const stats = await dashboard.until(() => {
      const totals = dashboard.totals();
      return totals["rawDisconnection:forced close"] && totals;
    }, "a forced close in the stats", STATS_TIMEOUT);
    assert.strictEqual(stats["rawDisconnection:forced close"], 1);
  });

  it("production mode: the features and stats only, no socket list or live events", async (t) => {
    const s = await instrumented(t, { mode: "production" });
    const dashboard = await s.dashboard();
    const [config] = await dashboard.find("config");
    assert.deepStrictEqual(config.supportedFeatures, [...ACTIONS, "AGGREGATED_EVENTS"]);
    const client = await s.connect("/chat");
    const echoed = waitFor(client, "echoed");
    client.emit("echo", 1);
    await echoed;
    // The stats come after anything admin-ui would have sent about that client.
    const stats = await dashboard.statsUntil(
      (latest) => latest.namespaces.some((nsp) => nsp.name === "/chat" && nsp.socketsCount === 1),
      "stats with the client",
    );
    assert.strictEqual(stats.clientsCount, 2);
    assert.deepStrictEqual(
      [...new Set(dashboard.received.map((e) => e.event))].sort(),
      ["config", "server_stats"],
    );
  });

  it("basic authentication: a bcrypt password, then the session id it hands out", async (t) => {
    const password = bcrypt.hashSync("changeit", 4);
    const s = await instrumented(t, { auth: { type: "basic", username: "admin", password } });

    const wrong = s.client("/admin", { auth: { username: "admin", password: "guess" } });
    const [err] = await waitFor(wrong, "connect_error");
    assert.strictEqual(err.message, "invalid credentials");

    const dashboard = await s.dashboard({ auth: { username: "admin", password: "changeit" } });
    const [sessionId] = await dashboard.find("session");
    assert.match(sessionId, /^[0-9a-f]{16}$/);
    await dashboard.find("config");

    const again = await s.dashboard({ auth: { sessionId } });
    await again.find("all_sockets");
    const unknown = s.client("/admin", { auth: { sessionId: "0123456789abcdef" } });
    const [unknownErr] = await waitFor(unknown, "connect_error");
    assert.strictEqual(unknownErr.message, "invalid credentials");
  });
});
