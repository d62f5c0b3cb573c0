/** Clusters joined by @socket.io/postgres-adapter over a real, throw-away PostgreSQL cluster. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

// LISTEN/NOTIFY keeps no packets: the adapter has no cross-node recovery (as on upstream).
describeCluster("@socket.io/postgres-adapter", { adapter: "postgres" });
