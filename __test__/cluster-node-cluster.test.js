/** Workers of Node's cluster module joined by @socket.io/cluster-adapter. */
"use strict";

const { describeCluster } = require("./support/cluster-scenarios");

// The primary relays between workers; there is no service to restart, and a killed worker takes
// the whole test cluster down with it here, so restarts are not exercised.
describeCluster("@socket.io/cluster-adapter", { adapter: "cluster", restarts: false });
