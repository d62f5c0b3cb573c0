/** Mixed clusters: socket.io-rs and upstream socket.io 4.8.4 nodes on Redis pub/sub, classic and sharded. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("mixed cluster, @socket.io/redis-adapter (rs, upstream, rs)", {
  adapter: "redis",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/redis-adapter sharded (upstream, rs, upstream)", {
  adapter: "redis-sharded",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  restarts: false,
});
