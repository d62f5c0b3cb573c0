/**
 * socket.io-rs/redis-streams in mixed clusters with upstream socket.io 4.8.4 nodes on
 * @socket.io/redis-streams-adapter, both ways, recovery included.
 */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("socket.io-rs/redis-streams with upstream nodes (upstream, rs, upstream)", {
  adapter: "rs-redis-streams",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  recovery: true,
  restarts: false,
});
