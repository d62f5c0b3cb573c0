/** Mixed clusters: socket.io-rs and upstream socket.io 4.8.4 nodes on one Redis stream (npm adapter). */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("mixed cluster, @socket.io/redis-streams-adapter (upstream, rs, upstream)", {
  adapter: "redis-streams",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  recovery: true,
  restarts: false,
});
