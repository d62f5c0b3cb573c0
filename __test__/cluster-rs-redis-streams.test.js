/**
 * socket.io-rs/redis-streams, this package's Redis Streams adapter (Redis I/O and plain
 * broadcasts in Rust), over a real redis-server: alone, and in mixed clusters with upstream
 * socket.io 4.8.4 nodes on @socket.io/redis-streams-adapter, both ways, recovery included.
 */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("socket.io-rs/redis-streams", { adapter: "rs-redis-streams", recovery: true, beyondUpstream: true });
describeCluster("socket.io-rs/redis-streams with upstream nodes (rs, upstream, rs)", {
  adapter: "rs-redis-streams",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  recovery: true,
});
describeCluster("socket.io-rs/redis-streams with upstream nodes (upstream, rs, upstream)", {
  adapter: "rs-redis-streams",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  recovery: true,
  restarts: false,
});
