/** Workers of Node's cluster module joined by @socket.io/cluster-adapter. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

// The primary relays between workers; a worker is killed and forked anew (no service to restart).
describeCluster("@socket.io/cluster-adapter", { adapter: "cluster" });
