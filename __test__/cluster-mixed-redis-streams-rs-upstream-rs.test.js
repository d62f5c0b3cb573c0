/** Mixed clusters: socket.io-rs and upstream socket.io 4.8.4 nodes on one Redis stream (npm adapter). */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("mixed cluster, @socket.io/redis-streams-adapter (rs, upstream, rs)", {
  adapter: "redis-streams",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  recovery: true,
});
