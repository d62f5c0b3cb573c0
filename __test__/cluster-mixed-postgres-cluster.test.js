/** Mixed clusters: socket.io-rs and upstream socket.io 4.8.4 nodes on PostgreSQL and on Node's cluster module. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("mixed cluster, @socket.io/postgres-adapter (upstream, rs, upstream)", {
  adapter: "postgres",
  impls: ["socket.io", "socket.io-rs", "socket.io"],
  restarts: false,
});
describeCluster("mixed cluster, @socket.io/cluster-adapter (rs, upstream, rs)", {
  adapter: "cluster",
  impls: ["socket.io-rs", "socket.io", "socket.io-rs"],
  restarts: false,
});
