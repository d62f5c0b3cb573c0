/**
 * Recovery of a quiet client in a busy namespace (socket.io#5282): it received everything sent to
 * it long ago, while the packets after its offset (all for other rooms) aged out of the log.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor, delay } = require("./support/sio-helpers");

/** maxDisconnectionDuration: short, so that the quiet time outlasts it within a test. */
const MAX_DISCONNECTION = 600;

/**
 * A client in room "quiet" that got one event, then nothing for longer than
 * MAX_DISCONNECTION while room "busy" got an event every 20 ms; `beforeDrop` may then alter the
 * client. It drops, one event is sent to it while it is away, and it reconnects by itself.
 */
async function quietClient(t, transport, beforeDrop = () => {}) {
  const h = harness(t);
  const { io, port } = await h.server({ connectionStateRecovery: { maxDisconnectionDuration: MAX_DISCONNECTION } });
  const connection = waitFor(io, "connection");
  const client = await h.connect(port, "/", { transports: [transport], reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
  const [socket] = await connection;
  socket.join("quiet");
  const received = [];
  client.on("ev", (value) => received.push(value));
  const first = waitFor(client, "ev");
  io.to("quiet").emit("ev", "first");
  await first;
  const busy = setInterval(() => io.to("busy").emit("ev", "not for the quiet client"), 20);
  t.after(() => clearInterval(busy));
  // The quiet time is the scenario itself: it must outlast the log's retention.
  await delay(MAX_DISCONNECTION * 2);
  beforeDrop(client);
  const id = client.id;
  const gone = waitFor(socket, "disconnect");
  client.io.engine.close();
  await gone;
  io.to("quiet").emit("ev", "missed");
  await waitFor(client, "connect");
  clearInterval(busy);
  if (!client.recovered) return { recovered: false, received };
  const after = waitFor(client, "ev");
  io.to("quiet").emit("ev", "after");
  await after;
  return { recovered: client.recovered, sameId: client.id === id, received };
}

for (const transport of TRANSPORTS) {
  describe(`recovery of a quiet client (${transport})`, () => {
    it("recovers with what was sent to it while away, though its offset aged out", async (t) => {
      const { recovered, sameId, received } = await quietClient(t, transport);
      assert.strictEqual(recovered, true);
      assert.strictEqual(sameId, true);
      assert.deepStrictEqual(received, ["first", "missed", "after"]);
    });

    it("a client that lost a packet sent to it is not recovered past it", async (t) => {
      // It presents an offset older than the last packet sent to it, as if that one were lost in
      // flight: the log no longer holds what it lacks, so it gets a fresh session.
      const { recovered } = await quietClient(t, transport, (client) => {
        client._lastOffset = String(Number(client._lastOffset) - 1);
      });
      assert.strictEqual(recovered, false);
    });
  });
}
