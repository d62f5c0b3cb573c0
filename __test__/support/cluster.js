/**
 * Test clusters: Socket.IO server processes (cluster-node.js) joined by an npm adapter over a real
 * Redis or PostgreSQL, or workers of Node's cluster module (cluster-primary.js), each driven from
 * the test with `node.run(code)`.
 */
"use strict";

const { fork } = require("node:child_process");
const net = require("node:net");
const { EventEmitter } = require("node:events");
const path = require("node:path");
const { stopProcess } = require("./services");

const TAG = "socket.io-rs-test";
/** Bound on a node's start and on each `run`. */
const TIMEOUT = 15000;

/**
 * The test's handle on one node: `run(code)` evaluates `code` as the body of an async function of
 * (io, state, report) inside the node; what the node reports arrives as events of this emitter.
 */
class ClusterNode extends EventEmitter {
  constructor(send) {
    super();
    this._send = send;
    this._pending = new Map();
    this._nextId = 0;
    this.port = undefined;
  }

  run(code) {
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new Error(`node did not answer within ${TIMEOUT} ms: ${code}`));
      }, TIMEOUT);
      this._pending.set(id, { resolve, reject, timer });
      this._send({ [TAG]: { id, run: code } });
    });
  }

  /** A message of the node's process. */
  _receive(message) {
    if (message.id !== undefined) {
      const pending = this._pending.get(message.id);
      if (!pending) return;
      this._pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.value);
    } else {
      if (message.event === "listening") this.port = message.args[0];
      this.emit(message.event, ...message.args);
    }
  }

  /** The next `event` this node reports, within `ms`. */
  next(event, ms = TIMEOUT) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(event, listener);
        reject(new Error(`no "${event}" from the node within ${ms} ms`));
      }, ms);
      const listener = (...args) => {
        clearTimeout(timer);
        resolve(args);
      };
      this.once(event, listener);
    });
  }

  _started() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start within ${TIMEOUT} ms`)), TIMEOUT);
      this.once("listening", () => {
        clearTimeout(timer);
        resolve(this);
      });
      this.once("startup-error", (err) => {
        clearTimeout(timer);
        reject(new Error(err));
      });
    });
  }
}

/**
 * Starts one node in its own process. `options`: { impl: "socket.io-rs" | "socket.io", adapter,
 * redisUrl, postgres, key (stream/channel name shared by the cluster), port, recovery (ms) }.
 */
async function startNode(options) {
  const child = fork(path.join(__dirname, "cluster-node.js"), {
    env: { ...process.env, CLUSTER_NODE: JSON.stringify(options) },
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const node = new ClusterNode((message) => child.connected && child.send(message));
  child.on("message", (message) => message && message[TAG] && node._receive(message[TAG]));
  node.process = child;
  node.options = options;
  /** Ends the process at once, as a crash would (nothing is persisted, no client told). */
  node.kill = () => stopProcess(child, "SIGKILL");
  /** A restarted node on the same port, with the same options. */
  node.restart = () => startNode({ ...options, port: node.port });
  await Promise.race([node._started(), new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`node exited with ${code}`))))]);
  return node;
}

/**
 * Workers of Node's cluster module, one per implementation in `impls`, joined by
 * @socket.io/cluster-adapter (its primary relays between them), each on its own port.
 */
async function startNodeCluster(impls, options) {
  const count = impls.length;
  const primary = fork(path.join(__dirname, "cluster-primary.js"), {
    env: { ...process.env, CLUSTER_NODE: JSON.stringify({ ...options, adapter: "cluster" }), CLUSTER_IMPLS: JSON.stringify(impls) },
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const nodes = [];
  const exits = new EventEmitter();
  const workerNode = (worker) => {
    const node = new ClusterNode((message) => primary.connected && primary.send({ worker, message }));
    /** Ends the worker at once, as a crash would; the primary and the other workers go on. */
    node.kill = () => {
      const exited = new Promise((resolve) => exits.once(String(worker), resolve));
      primary.send({ worker, kill: true });
      return exited;
    };
    /** A new worker in its place, on the same port. */
    node.restart = async () => {
      const fresh = workerNode(worker);
      nodes[worker] = fresh;
      primary.send({ worker, restart: node.port });
      return fresh._started();
    };
    return node;
  };
  for (let worker = 0; worker < count; worker++) nodes.push(workerNode(worker));
  primary.on("message", ({ worker, message, exited }) => {
    if (exited) exits.emit(String(worker));
    else if (message && message[TAG]) nodes[worker]._receive(message[TAG]);
  });
  await Promise.all(nodes.map((node) => node._started()));
  nodes.stop = () => stopProcess(primary);
  return nodes;
}

/**
 * A TCP load balancer in front of the nodes, as users deploy them: every new connection goes to
 * the current target (sticky for long-polling, since the target changes only on `failOver`).
 * `failOver(port)` cuts every open connection (a node lost from the clients' view) and sends new
 * ones to `port`; until then (`hold()`), new connections are refused.
 */
async function startBalancer(targetPort) {
  let target = targetPort;
  const open = new Set();
  const server = net.createServer((client) => {
    if (target === undefined) return client.destroy();
    const upstream = net.connect(target, "127.0.0.1");
    open.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", cut).on("close", cut);
    upstream.on("error", cut).on("close", cut);
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    hold() {
      target = undefined;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    failOver(port) {
      this.hold();
      target = port;
    },
    close() {
      this.hold();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startNode, startNodeCluster, startBalancer };
