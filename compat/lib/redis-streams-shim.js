/**
 * Stands in for @socket.io/redis-streams-adapter's `lib/` when compat/run-adapters.sh runs that
 * adapter's test suite with `--adapter-impl socket.io-rs`: the tests' unmodified
 * `createAdapter(redisClient, opts)` becomes socket.io-rs/redis-streams's
 * `createAdapter(server, opts)`, aimed at the Redis server the test's client was made for.
 * socket.io-rs opens its own connections: the client is only read, never used.
 */
"use strict";

const { createAdapter: createRsAdapter } = require("socket.io-rs/redis-streams");

/**
 * @param {object} redisClient a node-redis (v4, v5) or ioredis client, or a cluster client of either
 * @param {object} [opts] the adapter's options, passed on as they are
 */
function createAdapter(redisClient, opts) {
  return createRsAdapter(redisServerOf(redisClient), opts);
}

/**
 * The URL, or `{ host, port, username, password, db }`, of the server `client` talks to. A cluster
 * client gives its first startup node: socket.io-rs/redis-streams speaks to a single Redis server.
 */
function redisServerOf(client) {
  // ioredis Cluster: its startup nodes, each `{ host, port }`, a port or a URL
  if (client.isCluster) return ioredisNode(client.startupNodes[0]);
  // node-redis cluster (v5): the root nodes it was created with, each node-redis client options
  const rootNodes = client._options && client._options.rootNodes;
  if (rootNodes) return nodeRedisServer(rootNodes[0]);
  const options = client.options || {};
  // ioredis: host and port are always set (defaults included)
  if (typeof options.port === "number" && !options.socket) {
    const { host, port, username, password, db } = options;
    return { host, port, username: username || undefined, password: password || undefined, db };
  }
  return nodeRedisServer(options);
}

function ioredisNode(node) {
  if (typeof node === "number") return { host: "localhost", port: node };
  if (typeof node === "string") return /^rediss?:\/\//.test(node) ? node : { host: node, port: 6379 };
  return { host: node.host || "localhost", port: node.port || 6379 };
}

/** node-redis client options: `url`, or `socket.host`/`socket.port` and the credentials. */
function nodeRedisServer(options) {
  if (options.url) return options.url;
  const socket = options.socket || {};
  return {
    host: socket.host || "localhost",
    port: socket.port || 6379,
    username: options.username,
    password: options.password,
    db: options.database,
  };
}

module.exports = { createAdapter, redisServerOf };
