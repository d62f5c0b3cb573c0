/** Clusters joined by @socket.io/redis-streams-adapter over a real redis-server, recovery across nodes included. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("@socket.io/redis-streams-adapter", { adapter: "redis-streams", recovery: true });
