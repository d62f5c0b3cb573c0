/**
 * socket.io-rs/redis-streams in mixed clusters with upstream socket.io 4.8.4 nodes on
 * @socket.io/redis-streams-adapter, both ways, recovery included.
 */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("socket.io-rs/redis-streams with upstream nodes (rs, upstream, rs)", {
  adapter: "rs-redis-streams",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  recovery: true,
});
