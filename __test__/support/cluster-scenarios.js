/**
 * What a user of an npm cluster adapter relies on, asserted with the official client against
 * real multi-process clusters (cluster.js) over a real Redis or PostgreSQL (services.js).
 * `describeCluster` defines the same tests for each adapter and each mix of implementations.
 */
"use strict";

const { describe, it, before, after, afterEach } = require("node:test");
const assert = require("node:assert");
const { io: ioc } = require("socket.io-client");
const { startRedis, startPostgres } = require("./services");
const { startNode, startNodeCluster, startBalancer } = require("./cluster");

/** Bound on anything awaited from a client. */
const TIMEOUT = 10000;
/** maxDisconnectionDuration of the nodes with recovery. */
const RECOVERY = 10000;

/** Handlers every node gets: the test reads what happens through `report`. */
function instrument(name) {
  return `
    state.name = ${JSON.stringify(name)};
    io.on("connection", (socket) => {
      const rooms = socket.handshake.auth.rooms;
      if (!socket.recovered) {
        if (rooms) socket.join(rooms);
        socket.data.joinedOn = state.name;
      }
      socket.on("echo", (value, ack) => ack(value));
      socket.on("disconnect", (reason) => report("disconnect", socket.id, reason));
      report("connection", { id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms].sort(), data: socket.data });
    });
    io.on("whoami", (ack) => ack(state.name));
    io.on("note", (value) => report("note", value));
  `;
}

/** Resolves with the value of `poll()` once `accept` holds for it, polling every 50 ms. */
async function eventually(poll, accept, what, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await poll();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
}

function once(emitter, event, ms = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** An official client that records every event it receives, in order. */
async function connectClient(port, { transport = "websocket", rooms, ...opts } = {}) {
  const socket = ioc(`http://127.0.0.1:${port}`, {
    transports: [transport],
    auth: rooms ? { rooms } : {},
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    forceNew: true,
    ...opts,
  });
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push([event, ...args]));
  await once(socket, "connect");
  return socket;
}

/**
 * Resolves once every socket got a "warm" event that `node` sent to `rooms`, re-sending until
 * then: an adapter may subscribe to a room's channel only when a socket joins it (the sharded
 * Redis adapter), and a broadcast published before that subscription is active reaches nobody.
 */
async function warm(node, rooms, sockets) {
  await eventually(
    async () => {
      await node.run(`io.to(${JSON.stringify(rooms)}).emit("warm")`);
      return sockets.map((socket) => socket.received.some(([event]) => event === "warm"));
    },
    (got) => got.every(Boolean),
    "room subscriptions",
  );
}

/** The values of the `event` events `socket` received. */
function valuesOf(socket, event) {
  return socket.received.filter(([name]) => name === event).map(([, value]) => value);
}

/**
 * Defines the cluster tests for one adapter.
 * - `adapter`: the kind cluster-node.js knows (redis-streams, redis, redis-sharded, postgres,
 *   cluster);
 * - `impls`: the implementation of each node (three nodes; "socket.io" is upstream);
 * - `recovery`: whether the adapter restores sessions across nodes (connection state recovery);
 * - `restarts`: whether to test a node and the service restarted;
 * - `beyondUpstream`: whether to test the recoveries upstream cannot do (a client with no event
 *   yet, a quiet client whose offset left the stream); with every node on socket.io-rs only.
 */
function describeCluster(
  title,
  { adapter, impls = ["socket.io-rs", "socket.io-rs", "socket.io-rs"], recovery = false, restarts = true, beyondUpstream = false },
) {
  // SOCKET_IO_IMPL=socket.io runs every node on upstream, proving what the tests assert.
  if (process.env.SOCKET_IO_IMPL === "socket.io") impls = impls.map(() => "socket.io");
  describe(title, () => {
    const service = adapter === "postgres" ? "postgres" : adapter === "cluster" ? undefined : "redis";
    let server;
    let nodes = [];
    let clients = [];
    let testIndex = 0;
    /** The stream/channel key of the running test's cluster. */
    let clusterKey;

    before(async () => {
      if (service === "redis") server = await startRedis();
      if (service === "postgres") server = await startPostgres();
    });

    after(async () => {
      if (server) await server.stop();
    });

    afterEach(async () => {
      for (const client of clients) client.disconnect();
      clients = [];
      if (nodes.stop) await nodes.stop();
      else await Promise.all(nodes.map((node) => node.kill()));
      nodes = [];
    });

    /** Starts the cluster of this test (a fresh stream/channel each time) and waits until it is one. */
    async function startCluster(options = {}) {
      const base = {
        adapter,
        key: `test${process.pid}-${testIndex++}`,
        redisUrl: service === "redis" ? server.url : undefined,
        postgres: service === "postgres" ? server.connection : undefined,
        recovery: recovery || options.recovery ? RECOVERY : undefined,
        maxLen: options.maxLen,
      };
      clusterKey = base.key;
      if (adapter === "cluster") {
        nodes = await startNodeCluster(impls, base);
      } else {
        nodes = [];
        for (const impl of impls) nodes.push(await startNode({ ...base, impl }));
      }
      await Promise.all(nodes.map((node, i) => node.run(instrument("node" + i))));
      await joined(nodes);
      return nodes;
    }

    /**
     * Waits until every node counts all the others (heartbeats or subscriptions are in place); a
     * killed node may still be counted until its heartbeats are missed.
     */
    async function joined(members) {
      for (const node of members) {
        await eventually(() => node.run("return io.of('/').adapter.serverCount()"), (count) => count >= members.length, "serverCount");
      }
    }

    async function client(port, options) {
      const socket = await connectClient(port, options);
      clients.push(socket);
      return socket;
    }

    it("broadcasts reach the clients of every node, by rooms and exceptions", async () => {
      await startCluster();
      const [a, b, c] = await Promise.all([
        client(nodes[0].port, { rooms: ["red"] }),
        client(nodes[1].port, { rooms: ["red", "blue"] }),
        client(nodes[2].port, { rooms: ["blue"] }),
      ]);
      await warm(nodes[0], ["red", "blue"], [a, b, c]);
      await warm(nodes[2], ["blue"], [b, c]);
      await nodes[0].run(`
        io.emit("ev", "all");
        io.to("red").emit("ev", "red");
        io.to("blue").except("red").emit("ev", "blue-not-red");
        io.except("blue").emit("ev", "not-blue");
      `);
      // Binary packets may take another path (the PostgreSQL adapter's attachment table), and two
      // nodes' events may interleave: each step waits for the previous one's deliveries.
      await eventually(() => [a, b, c].map((s) => valuesOf(s, "ev").length), (n) => n.join() === "3,2,2", "deliveries");
      await nodes[0].run(`io.to("red").emit("ev", { binary: Buffer.from([1, 2, 3]) })`);
      await eventually(() => [a, b, c].map((s) => valuesOf(s, "ev").length), (n) => n.join() === "4,3,2", "deliveries");
      await nodes[2].run(`io.to("blue").emit("ev", "from-node2")`);
      await eventually(() => [a, b, c].map((s) => valuesOf(s, "ev").length), (n) => n.join() === "4,4,3", "deliveries");
      // One emit's packets may overtake another's within a step: a cluster adapter delivers
      // locally once its publish resolves (the PostgreSQL adapter publishes on a pool).
      assert.deepStrictEqual(valuesOf(a, "ev").slice(0, 3).sort(), ["all", "not-blue", "red"]);
      assert.deepStrictEqual(Buffer.from(valuesOf(a, "ev")[3].binary), Buffer.from([1, 2, 3]));
      assert.deepStrictEqual(valuesOf(b, "ev").slice(0, 2).sort(), ["all", "red"]);
      assert.deepStrictEqual(Buffer.from(valuesOf(b, "ev")[2].binary), Buffer.from([1, 2, 3]));
      assert.strictEqual(valuesOf(b, "ev")[3], "from-node2");
      assert.deepStrictEqual(valuesOf(c, "ev").slice(0, 2).sort(), ["all", "blue-not-red"]);
      assert.strictEqual(valuesOf(c, "ev")[2], "from-node2");
    });

    it("remote operations: fetchSockets, socketsJoin, socketsLeave, disconnectSockets", async () => {
      await startCluster();
      const a = await client(nodes[0].port, { rooms: ["red"] });
      const b = await client(nodes[1].port, { rooms: ["red"] });
      const c = await client(nodes[2].port);
      const fetched = await nodes[2].run(`
        const sockets = await io.in("red").fetchSockets();
        return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data }));
      `);
      assert.deepStrictEqual(fetched.map((s) => s.id).sort(), [a.id, b.id].sort());
      assert.deepStrictEqual(fetched.find((s) => s.id === b.id).data, { joinedOn: "node1" });
      await nodes[2].run(`io.in("red").socketsJoin("green"); io.in(${JSON.stringify(a.id)}).socketsLeave("red");`);
      await eventually(
        () => nodes[1].run(`return (await io.in("green").fetchSockets()).map((s) => s.id).sort()`),
        (ids) => ids.join() === [a.id, b.id].sort().join(),
        "socketsJoin",
      );
      await warm(nodes[1], ["green", "red"], [a, b]);
      await nodes[1].run(`io.to("green").emit("ev", "green")`);
      await eventually(() => [a, b].map((s) => valuesOf(s, "ev").join("+")), (v) => v.join() === "green,green", "socketsJoin");
      await nodes[1].run(`io.to("red").emit("ev", "red")`);
      await eventually(() => [a, b].map((s) => valuesOf(s, "ev").join("+")), (v) => v.join() === "green,green+red", "socketsLeave");
      // A remote socket answers as a local one does.
      b.on("question", (ack) => ack("answer from b"));
      const answer = await nodes[0].run(`
        const [remote] = await io.in(${JSON.stringify(b.id)}).fetchSockets();
        return remote.timeout(5000).emitWithAck("question");
      `);
      assert.strictEqual(answer, "answer from b");
      const disconnected = once(c, "disconnect");
      await nodes[0].run(`io.in(${JSON.stringify(c.id)}).disconnectSockets()`);
      assert.strictEqual((await disconnected)[0], "io server disconnect");
    });

    it("serverSideEmit reaches the other nodes, with and without acknowledgements", async () => {
      await startCluster();
      const notes = Promise.all([once(nodes[1], "note"), once(nodes[2], "note")]);
      await nodes[0].run(`io.serverSideEmit("note", { from: state.name })`);
      assert.deepStrictEqual(await notes, [[{ from: "node0" }], [{ from: "node0" }]]);
      for (const [i, node] of nodes.entries()) {
        const names = await node.run(`return io.serverSideEmitWithAck("whoami")`);
        assert.deepStrictEqual(names.sort(), ["node0", "node1", "node2"].filter((_, j) => j !== i));
      }
    });

    it("emitWithAck gathers the acknowledgements of clients on every node", async () => {
      await startCluster();
      const sockets = await Promise.all(nodes.map((node) => client(node.port)));
      sockets.forEach((socket, i) => socket.on("question", (ack) => ack("answer" + i)));
      const answers = await nodes[1].run(`return io.timeout(5000).emitWithAck("question")`);
      assert.deepStrictEqual(answers.sort(), ["answer0", "answer1", "answer2"]);
    });

    if (recovery) {
      for (const transport of ["websocket", "polling"]) {
        for (const [from, to] of [
          [0, 1],
          [1, 0],
        ]) {
          it(`a client recovers on another node (node${from} -> node${to}, ${transport})`, async () => {
            await startCluster();
            const balancer = await startBalancer(nodes[from].port);
            try {
              const socket = await client(balancer.port, { transport, rooms: ["red"] });
              const id = socket.id;
              // Two nodes' events may interleave: each node emits once a witness has the previous
              // node's, so that the order is known.
              const witness = await client(nodes[2].port, { rooms: ["red"] });
              const witnessed = (value) => eventually(() => valuesOf(witness, "ev"), (v) => v.includes(value), "witness");
              await nodes[from].run(`io.emit("ev", 0)`);
              await eventually(() => valuesOf(socket, "ev"), (v) => v.length === 1, "first event");
              // The node is lost from the client's view: what is emitted meanwhile must follow it.
              const gone = once(nodes[from], "disconnect");
              balancer.hold();
              await gone;
              await nodes[from].run(`io.to("red").emit("ev", 1); io.to(${JSON.stringify(id)}).emit("ev", 2)`);
              await witnessed(1);
              await nodes[to].run(`io.emit("ev", 3); io.to("blue").emit("ev", "not-for-red"); io.except("red").emit("ev", "not-for-red")`);
              await witnessed(3);
              await nodes[2].run(`io.to("red").emit("ev", 4)`);
              await witnessed(4);
              const reconnected = once(socket, "connect");
              balancer.failOver(nodes[to].port);
              await reconnected;
              assert.strictEqual(socket.recovered, true);
              assert.strictEqual(socket.id, id);
              await nodes[to].run(`io.emit("ev", 5)`);
              await eventually(() => valuesOf(socket, "ev"), (v) => v.includes(5), "event after recovery");
              assert.deepStrictEqual(valuesOf(socket, "ev"), [0, 1, 2, 3, 4, 5]);
              const [state] = await nodes[to].run(`return [...io.of("/").sockets.values()].map((s) => ({ rooms: [...s.rooms].sort(), data: s.data }))`);
              assert.deepStrictEqual(state, { rooms: [id, "red"].sort(), data: { joinedOn: "node" + from } });
            } finally {
              await balancer.close();
            }
          });
        }
      }
    }

    if (beyondUpstream && impls.every((impl) => impl === "socket.io-rs")) {
      /** A client on node0 (through a balancer), cut off and sent to node1 after `meanwhile`. */
      async function recoverAfter(socket, balancer, meanwhile) {
        const gone = once(nodes[0], "disconnect");
        balancer.hold();
        await gone;
        await meanwhile();
        const reconnected = once(socket, "connect");
        balancer.failOver(nodes[1].port);
        await reconnected;
      }

      it("a client that got no event yet recovers on another node", async () => {
        await startCluster();
        const balancer = await startBalancer(nodes[0].port);
        try {
          const socket = await client(balancer.port, { rooms: ["red"] });
          const id = socket.id;
          const witness = await client(nodes[2].port, { rooms: ["red"] });
          await recoverAfter(socket, balancer, async () => {
            await nodes[1].run(`io.to("red").emit("ev", "missed")`);
            await eventually(() => valuesOf(witness, "ev"), (v) => v.includes("missed"), "witness");
          });
          assert.strictEqual(socket.recovered, true);
          assert.strictEqual(socket.id, id);
          await nodes[1].run(`io.emit("ev", "after")`);
          await eventually(() => valuesOf(socket, "ev"), (v) => v.includes("after"), "event after recovery");
          assert.deepStrictEqual(valuesOf(socket, "ev"), ["missed", "after"]);
        } finally {
          await balancer.close();
        }
      });

      it("a quiet client recovers after its offset left the stream, and gets what it missed", async () => {
        // MAXLEN ~ trims whole macro nodes (100 entries each): 600 entries leave 200 at most.
        await startCluster({ maxLen: 100 });
        const balancer = await startBalancer(nodes[0].port);
        try {
          const socket = await client(balancer.port, { rooms: ["quiet"] });
          const busy = await client(nodes[2].port, { rooms: ["busy"] });
          await nodes[1].run(`io.to("quiet").emit("ev", "first")`);
          await eventually(() => valuesOf(socket, "ev"), (v) => v.length === 1, "first event");
          // In batches that the readers keep up with: an entry trimmed before it is read is lost.
          for (let batch = 1; batch <= 12; batch++) {
            await nodes[1].run(`for (let i = 0; i < 50; i++) io.to("busy").emit("busy", i)`);
            await eventually(() => valuesOf(busy, "busy").length, (n) => n === batch * 50, "busy traffic");
          }
          await recoverAfter(socket, balancer, async () => {
            await nodes[1].run(`io.to("quiet").emit("ev", "missed")`);
            await eventually(() => server.streamLength(clusterKey), (n) => n <= 300, "the stream trimmed");
          });
          assert.strictEqual(socket.recovered, true);
          await nodes[1].run(`io.to("quiet").emit("ev", "after")`);
          await eventually(() => valuesOf(socket, "ev"), (v) => v.includes("after"), "event after recovery");
          assert.deepStrictEqual(valuesOf(socket, "ev"), ["first", "missed", "after"]);
        } finally {
          await balancer.close();
        }
      });
    }

    if (restarts) {
      it("a node killed and restarted gets its clients back, and the cluster reaches them", async () => {
        await startCluster();
        const balancer = await startBalancer(nodes[1].port);
        try {
          const socket = await client(balancer.port, { rooms: ["red"] });
          const lost = once(socket, "disconnect");
          await nodes[1].kill();
          await lost;
          nodes[1] = await nodes[1].restart();
          await nodes[1].run(instrument("node1"));
          const back = once(socket, "connect");
          await back;
          await joined(nodes);
          await warm(nodes[0], ["red"], [socket]);
          await nodes[0].run(`io.to("red").emit("ev", "after restart")`);
          await eventually(() => valuesOf(socket, "ev"), (v) => v.includes("after restart"), "broadcast after the restart");
        } finally {
          await balancer.close();
        }
      });

      if (service === "redis") {
        it("after redis-server restarts, cross-node broadcasts resume and local clients lose nothing", async () => {
          await startCluster();
          const a = await client(nodes[0].port);
          const b = await client(nodes[1].port);
          await server.restart();
          // Local emits must reach local clients at once, whatever the adapter's connection.
          await nodes[0].run(`io.local.emit("ev", "local")`);
          await eventually(() => valuesOf(a, "ev"), (v) => v.includes("local"), "local emit during the outage");
          // Cross-node traffic resumes, both ways, once the adapters have reconnected.
          await eventually(
            async () => {
              await nodes[0].run(`io.emit("probe", 0)`);
              await nodes[1].run(`io.emit("probe", 1)`);
              return [valuesOf(a, "probe").includes(1), valuesOf(b, "probe").includes(0)];
            },
            (v) => v.every(Boolean),
            "cross-node broadcasts after the restart",
            20000,
          );
          await nodes[1].run(`io.emit("ev", "after")`);
          await eventually(() => [a, b].map((s) => valuesOf(s, "ev").includes("after")), (v) => v.every(Boolean), "broadcast after the restart");
        });
      }
    }
  });
}

module.exports = { describeCluster };
