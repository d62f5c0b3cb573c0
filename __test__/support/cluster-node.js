/**
 * One node of a test cluster, in its own process: a Socket.IO server (this package, or upstream
 * socket.io for mixed clusters) joined to the others by one of the npm adapters, driven by the
 * test over IPC (see cluster.js).
 *
 * Configuration comes as JSON in CLUSTER_NODE: { impl, adapter, redisUrl, postgres, key, port,
 * recovery, maxLen }. The adapter `rs-redis-streams` is this package's own (socket.io-rs/redis-streams) on
 * socket.io-rs nodes and `@socket.io/redis-streams-adapter` on upstream ones. The test sends `{ run: code, id }`: `code` is the body of an async function of
 * (io, state, report), whose result comes back as `{ id, value }` or `{ id, error }`. `report(event,
 * ...args)` sends `{ event, args }` to the test at any time.
 */
"use strict";

const http = require("node:http");
const cluster = require("node:cluster");
const path = require("node:path");

const config = JSON.parse(process.env.CLUSTER_NODE);
const { Server } = require(config.impl === "socket.io" ? "socket.io" : path.join(__dirname, "..", ".."));

/** Messages of this harness, told apart from the cluster adapter's own over the same channel. */
const TAG = "socket.io-rs-test";

function report(event, ...args) {
  process.send({ [TAG]: { event, args } });
}

/** The options of both Redis Streams adapters: this test's stream and keys. */
function streamsOptions() {
  const options = { streamName: config.key, sessionKeyPrefix: config.key + ":session:" };
  if (config.maxLen) options.maxLen = config.maxLen;
  return options;
}

/** The adapter option for the configured kind, connected to its service. */
async function createAdapter() {
  switch (config.adapter) {
    case "rs-redis-streams": {
      // socket.io-rs's own Redis Streams adapter; an upstream node of the same cluster takes the
      // npm one, which shares its stream, channels and session keys.
      if (config.impl !== "socket.io") {
        const { createAdapter } = require(path.join(__dirname, "..", "..", "lib", "cluster", "redis-streams.js"));
        return await createAdapter(config.redisUrl, streamsOptions());
      }
    }
    // falls through
    case "redis-streams": {
      const { createClient } = require("redis");
      const { createAdapter } = require("@socket.io/redis-streams-adapter");
      const client = createClient({ url: config.redisUrl });
      client.on("error", (err) => report("service-error", String(err)));
      await client.connect();
      return createAdapter(client, streamsOptions());
    }
    case "redis":
    case "redis-sharded": {
      const { createClient } = require("redis");
      const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
      const pubClient = createClient({ url: config.redisUrl });
      const subClient = pubClient.duplicate();
      for (const client of [pubClient, subClient]) client.on("error", (err) => report("service-error", String(err)));
      await Promise.all([pubClient.connect(), subClient.connect()]);
      return config.adapter === "redis"
        ? createAdapter(pubClient, subClient, { key: config.key })
        : createShardedAdapter(pubClient, subClient, { channelPrefix: config.key });
    }
    case "postgres": {
      const { Pool } = require("pg");
      const { createAdapter } = require("@socket.io/postgres-adapter");
      const pool = new Pool(config.postgres);
      pool.on("error", (err) => report("service-error", String(err)));
      await pool.query(
        "CREATE TABLE IF NOT EXISTS socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)",
      );
      return createAdapter(pool, { channelPrefix: config.key, heartbeatInterval: 1000 });
    }
    case "cluster":
      return require("@socket.io/cluster-adapter").createAdapter();
    default:
      throw new Error("unknown adapter " + config.adapter);
  }
}

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    adapter: await createAdapter(),
    ...(config.recovery ? { connectionStateRecovery: { maxDisconnectionDuration: config.recovery } } : {}),
  });
  const state = {};
  process.on("message", async (message) => {
    const request = message && message[TAG];
    if (!request || request.run === undefined) return;
    try {
      const body = new Function("io", "state", "report", `return (async () => {\n${request.run}\n})();`);
      const value = await body(io, state, report);
      process.send({ [TAG]: { id: request.id, value } });
    } catch (err) {
      process.send({ [TAG]: { id: request.id, error: String((err && err.stack) || err) } });
    }
  });
  // In a worker of Node's cluster module, `exclusive` gives each node its own port, so that a
  // client can be sent to one node in particular.
  httpServer.listen({ port: config.port || 0, host: "127.0.0.1", exclusive: cluster.isWorker }, () => {
    report("listening", httpServer.address().port);
  });
}

main().catch((err) => report("startup-error", String((err && err.stack) || err)));
