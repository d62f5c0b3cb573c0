/** Mixed clusters: socket.io-rs nodes and upstream socket.io 4.8.4 nodes on one Redis stream or channel. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("mixed cluster, @socket.io/redis-streams-adapter (rs, upstream, rs)", {
  adapter: "redis-streams",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  recovery: true,
});
describeCluster("mixed cluster, @socket.io/redis-streams-adapter (upstream, rs, upstream)", {
  adapter: "redis-streams",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  recovery: true,
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/redis-adapter (rs, upstream, rs)", {
  adapter: "redis",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/postgres-adapter (upstream, rs, upstream)", {
  adapter: "postgres",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/redis-adapter sharded (upstream, rs, upstream)", {
  adapter: "redis-sharded",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/cluster-adapter (rs, upstream, rs)", {
  adapter: "cluster",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  restarts: false,
});
