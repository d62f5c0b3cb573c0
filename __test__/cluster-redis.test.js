/** Clusters joined by @socket.io/redis-adapter (classic and sharded pub/sub) over a real redis-server. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

// Pub/sub keeps no packets: the adapter has no cross-node recovery (as on upstream).
describeCluster("@socket.io/redis-adapter", { adapter: "redis" });
describeCluster("@socket.io/redis-adapter, sharded pub/sub", { adapter: "redis-sharded" });
