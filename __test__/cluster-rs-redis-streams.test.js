/**
 * socket.io-rs/redis-streams, this package's Redis Streams adapter (Redis I/O and plain
 * broadcasts in Rust), over a real redis-server, its nodes all socket.io-rs (mixed clusters:
 * cluster-rs-redis-streams-mixed.test.js).
 */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

describeCluster("socket.io-rs/redis-streams", { adapter: "rs-redis-streams", recovery: true, beyondUpstream: true });
