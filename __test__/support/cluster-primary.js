/**
 * The primary of a test cluster built on Node's cluster module: forks a worker per
 * implementation named in CLUSTER_IMPLS, each running cluster-node.js with @socket.io/cluster-adapter, sets up the adapter's relay, and
 * passes the test's messages to and from each worker; on the test's word it kills a worker or
 * forks it anew.
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

/** Forks worker `i` running `impl` (on `port` when given, as a restarted node keeps its port). */
function forkWorker(i, impl, port) {
  const worker = cluster.fork({ CLUSTER_NODE: JSON.stringify({ ...config, impl, port }) });
  worker.on("message", (message) => {
    if (message && message[TAG]) process.send({ worker: i, message });
  });
  worker.on("exit", () => process.send({ worker: i, exited: true }));
  workers[i] = worker;
}

// One implementation per worker, so that a cluster can mix them.
const impls = JSON.parse(process.env.CLUSTER_IMPLS);
impls.forEach((impl, i) => forkWorker(i, impl));
process.on("message", ({ worker, message, kill, restart }) => {
  if (kill) workers[worker].process.kill("SIGKILL");
  else if (restart !== undefined) forkWorker(worker, impls[worker], restart);
  else workers[worker].send(message);
});
// The test ends this process; its workers must not outlive it.
const stop = () => {
  for (const worker of workers) worker.process.kill("SIGKILL");
  process.exit(0);
};
process.on("disconnect", stop);
process.on("SIGTERM", stop);
