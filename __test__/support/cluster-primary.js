/**
 * The primary of a test cluster built on Node's cluster module: forks a worker per
 * implementation named in CLUSTER_IMPLS, each running cluster-node.js with @socket.io/cluster-adapter, sets up the adapter's relay, and
 * passes the test's messages to and from each worker.
 */
"use strict";

const cluster = require("node:cluster");
const path = require("node:path");
const { setupPrimary } = require("@socket.io/cluster-adapter");

const TAG = "socket.io-rs-test";

setupPrimary();
cluster.setupPrimary({ exec: path.join(__dirname, "cluster-node.js"), serialization: "advanced" });
const workers = [];
const config = JSON.parse(process.env.CLUSTER_NODE);
// One implementation per worker, so that a cluster can mix them.
for (const [i, impl] of JSON.parse(process.env.CLUSTER_IMPLS).entries()) {
  const worker = cluster.fork({ CLUSTER_NODE: JSON.stringify({ ...config, impl }) });
  worker.on("message", (message) => {
    if (message && message[TAG]) process.send({ worker: i, message });
  });
  workers.push(worker);
}
process.on("message", ({ worker, message }) => workers[worker].send(message));
// The test ends this process; its workers must not outlive it.
const stop = () => {
  for (const worker of workers) worker.process.kill("SIGKILL");
  process.exit(0);
};
process.on("disconnect", stop);
process.on("SIGTERM", stop);
