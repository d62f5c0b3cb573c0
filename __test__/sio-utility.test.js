/** Socket.IO layer: utility methods (fetchSockets, socketsJoin/Leave, disconnectSockets, serverSideEmit) and the adapter. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  connectMany,
  serverSocketOf,
  successAfter,
} = require("./support/sio-helpers");

async function three(t, transport) {
  const h = harness(t);
  const { io, port } = await h.server();
  const clients = await connectMany(h, port, 3, "/", { transports: [transport] });
  const sockets = clients.map((c) => serverSocketOf(io, c));
  return { h, io, port, clients, sockets };
}

const ids = (list) => list.map((s) => s.id).sort();
const sorted = (set) => [...set].sort();

for (const transport of TRANSPORTS) {
  describe(`fetchSockets (${transport})`, () => {
    it("returns every socket of the namespace with id, handshake, rooms and data", async (t) => {
      const { io, sockets } = await three(t, transport);
      sockets[0].data.username = "john";
      sockets[0].join("room1");
      const fetched = await io.fetchSockets();
      assert.strictEqual(fetched.length, 3);
      assert.deepStrictEqual(ids(fetched), ids(sockets));
      const first = fetched.find((s) => s.id === sockets[0].id);
      assert.deepStrictEqual(first.data, { username: "john" });
      assert.ok(first.rooms instanceof Set);
      assert.deepStrictEqual(sorted(first.rooms), [sockets[0].id, "room1"].sort());
      assert.strictEqual(typeof first.handshake, "object");
      assert.strictEqual(first.handshake.query.EIO, "4");
    });

    it("filters by room and except", async (t) => {
      const { io, sockets } = await three(t, transport);
      sockets[0].join(["room1", "room2"]);
      sockets[1].join("room1");
      sockets[2].join("room2");
      assert.deepStrictEqual(ids(await io.in("room1").fetchSockets()), ids([sockets[0], sockets[1]]));
      assert.deepStrictEqual(ids(await io.to(["room1", "room2"]).fetchSockets()), ids(sockets));
      assert.deepStrictEqual(ids(await io.in("room1").except("room2").fetchSockets()), ids([sockets[1]]));
      assert.deepStrictEqual(ids(await io.except("room1").fetchSockets()), ids([sockets[2]]));
      assert.deepStrictEqual(await io.in("nobody").fetchSockets(), []);
    });

    it("only returns sockets of the given namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/admin");
      await h.connect(port, "/", { transports: [transport] });
      const admin = await h.connect(port, "/admin", { transports: [transport] });
      const fetched = await io.of("/admin").fetchSockets();
      assert.deepStrictEqual(fetched.map((s) => s.id), [admin.id]);
    });

    it("returns sockets that can emit, join, leave and disconnect", async (t) => {
      const { io, clients, sockets } = await three(t, transport);
      const [fetched] = await io.in(sockets[1].id).fetchSockets();
      assert.strictEqual(fetched.id, sockets[1].id);
      const got = waitFor(clients[1], "hello");
      fetched.emit("hello", "from fetchSockets");
      assert.deepStrictEqual(await got, ["from fetchSockets"]);
      fetched.join("r");
      assert.ok(sockets[1].rooms.has("r"));
      fetched.leave("r");
      assert.ok(!sockets[1].rooms.has("r"));
      const disconnect = waitFor(clients[1], "disconnect");
      fetched.disconnect();
      assert.strictEqual((await disconnect)[0], "io server disconnect");
    });
  });

  describe(`socketsJoin / socketsLeave (${transport})`, () => {
    it("makes all sockets join rooms", async (t) => {
      const { io, sockets } = await three(t, transport);
      io.socketsJoin("room1");
      io.socketsJoin(["room2", "room3"]);
      for (const s of sockets) assert.deepStrictEqual(sorted(s.rooms), [s.id, "room1", "room2", "room3"].sort());
    });

    it("makes the sockets of a room (minus exceptions) join a room", async (t) => {
      const { io, sockets } = await three(t, transport);
      sockets[0].join(["room1", "room2"]);
      sockets[1].join("room1");
      sockets[2].join("room2");
      io.in("room1").socketsJoin("room3");
      assert.ok(sockets[0].rooms.has("room3"));
      assert.ok(sockets[1].rooms.has("room3"));
      assert.ok(!sockets[2].rooms.has("room3"));
      io.except("room2").socketsJoin("room4");
      assert.deepStrictEqual(sockets.map((s) => s.rooms.has("room4")), [false, true, false]);
    });

    it("makes all sockets leave a room", async (t) => {
      const { io, sockets } = await three(t, transport);
      sockets[0].join(["room1", "room2"]);
      sockets[1].join("room1");
      sockets[2].join("room2");
      io.socketsLeave("room1");
      assert.deepStrictEqual(sorted(sockets[0].rooms), [sockets[0].id, "room2"].sort());
      assert.deepStrictEqual(sorted(sockets[1].rooms), [sockets[1].id]);
      assert.strictEqual(io.of("/").adapter.rooms.has("room1"), false);
    });

    it("makes the sockets of a room leave a room", async (t) => {
      const { io, sockets } = await three(t, transport);
      sockets[0].join(["room1", "room2"]);
      sockets[1].join("room1");
      sockets[2].join("room2");
      io.in("room2").socketsLeave(["room1"]);
      assert.deepStrictEqual(sorted(sockets[0].rooms), [sockets[0].id, "room2"].sort());
      assert.ok(sockets[1].rooms.has("room1"));
    });
  });

  describe(`disconnectSockets (${transport})`, () => {
    it("disconnects all sockets (namespace disconnect by default)", async (t) => {
      const { io, clients, sockets } = await three(t, transport);
      const serverReasons = successAfter(3);
      sockets.forEach((s) => s.on("disconnect", serverReasons));
      const clientReasons = Promise.all(clients.map((c) => waitFor(c, "disconnect")));
      io.disconnectSockets();
      const reasons = (await serverReasons.promise).map(([r]) => r);
      assert.deepStrictEqual(reasons, Array(3).fill("server namespace disconnect"));
      assert.deepStrictEqual((await clientReasons).map(([r]) => r), Array(3).fill("io server disconnect"));
      assert.strictEqual(io.of("/").sockets.size, 0);
    });

    it("closes the underlying connections with disconnectSockets(true)", async (t) => {
      const { io, clients, sockets } = await three(t, transport);
      const closed = Promise.all(sockets.map((s) => waitFor(s.conn, "close")));
      const clientReasons = Promise.all(clients.map((c) => waitFor(c, "disconnect")));
      io.disconnectSockets(true);
      await closed;
      await clientReasons;
      assert.ok(clients.every((c) => !c.connected));
    });

    it("only disconnects the sockets of a room", async (t) => {
      const { io, clients, sockets } = await three(t, transport);
      sockets[0].join(["room1", "room2"]);
      sockets[1].join("room1");
      sockets[2].join("room2");
      const gone = Promise.all([waitFor(clients[0], "disconnect"), waitFor(clients[2], "disconnect")]);
      const stays = expectNoEvent(clients[1], "disconnect", 150);
      io.in("room2").disconnectSockets();
      await gone;
      await stays;
      assert.deepStrictEqual([...io.of("/").sockets.keys()], [sockets[1].id]);
    });
  });

  describe(`adapter (${transport})`, () => {
    it("exposes rooms (room -> ids) and sids (id -> rooms)", async (t) => {
      const { io, sockets } = await three(t, transport);
      const { adapter } = io.of("/");
      assert.strictEqual(sockets[0].nsp.adapter, adapter);
      sockets[0].join("a");
      sockets[1].join(["a", "b"]);
      assert.ok(adapter.rooms instanceof Map);
      assert.ok(adapter.sids instanceof Map);
      assert.deepStrictEqual(sorted(adapter.rooms.get("a")), ids([sockets[0], sockets[1]]));
      assert.deepStrictEqual(sorted(adapter.rooms.get("b")), [sockets[1].id]);
      for (const s of sockets) assert.deepStrictEqual(sorted(adapter.rooms.get(s.id)), [s.id]);
      assert.strictEqual(adapter.rooms.size, 5);
      assert.deepStrictEqual(sorted(adapter.sids.get(sockets[1].id)), [sockets[1].id, "a", "b"].sort());
      assert.strictEqual(adapter.sids.size, 3);
    });

    it("emits create-room / join-room / leave-room / delete-room in order", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const events = [];
      const { adapter } = io.of("/");
      for (const ev of ["create-room", "join-room", "leave-room", "delete-room"]) {
        adapter.on(ev, (...args) => events.push([ev, ...args]));
      }
      const connection = waitFor(io, "connection");
      const client = await h.connect(port, "/", { transports: [transport] });
      const [s1] = await connection;
      assert.deepStrictEqual(events.splice(0), [
        ["create-room", s1.id],
        ["join-room", s1.id, s1.id],
      ]);
      s1.join("room");
      s1.join("room"); // already a member: nothing
      assert.deepStrictEqual(events.splice(0), [
        ["create-room", "room"],
        ["join-room", "room", s1.id],
      ]);
      s1.leave("room");
      assert.deepStrictEqual(events.splice(0), [
        ["leave-room", "room", s1.id],
        ["delete-room", "room"],
      ]);
      s1.join("other");
      events.splice(0);
      const disconnect = waitFor(s1, "disconnect");
      client.disconnect();
      await disconnect;
      assert.deepStrictEqual(
        events.slice().sort(),
        [
          ["leave-room", s1.id, s1.id],
          ["delete-room", s1.id],
          ["leave-room", "other", s1.id],
          ["delete-room", "other"],
        ].sort(),
      );
      // each leave-room comes before the matching delete-room
      for (const room of [s1.id, "other"]) {
        const leave = events.findIndex(([e, r]) => e === "leave-room" && r === room);
        const del = events.findIndex(([e, r]) => e === "delete-room" && r === room);
        assert.ok(leave < del);
      }
    });
  });
}

describe("custom adapter", () => {
  it("builds remote sockets from what a custom adapter's fetchSockets() returns", async (t) => {
    const { Adapter } = require("socket.io-adapter");
    class DummyAdapter extends Adapter {
      fetchSockets() {
        return Promise.resolve([
          {
            id: "42",
            handshake: { headers: { accept: "*/*" }, query: { transport: "polling", EIO: "4" } },
            rooms: ["42", "room1"],
            data: { username: "john" },
          },
        ]);
      }
    }
    const h = harness(t);
    const { io } = await h.server();
    assert.strictEqual(io.adapter(DummyAdapter), io);
    assert.strictEqual(io.adapter(), DummyAdapter);
    assert.ok(io.of("/").adapter instanceof DummyAdapter, "existing namespaces get the new adapter");
    const sockets = await io.fetchSockets();
    assert.strictEqual(sockets.length, 1);
    const [remote] = sockets;
    assert.strictEqual(remote.id, "42");
    assert.ok(remote.rooms instanceof Set);
    assert.deepStrictEqual(sorted(remote.rooms), ["42", "room1"]);
    assert.deepStrictEqual(remote.data, { username: "john" });
    assert.deepStrictEqual(remote.handshake.query, { transport: "polling", EIO: "4" });
    for (const method of ["emit", "join", "leave", "disconnect", "timeout"]) {
      assert.strictEqual(typeof remote[method], "function", method);
    }
  });

  it("accepts the adapter as a constructor option", async (t) => {
    const { Adapter } = require("socket.io-adapter");
    const created = [];
    class TrackingAdapter extends Adapter {
      constructor(nsp) {
        super(nsp);
        created.push(nsp.name);
      }
    }
    const h = harness(t);
    const { io, port } = await h.server({ adapter: TrackingAdapter });
    io.of("/chat");
    assert.deepStrictEqual(created, ["/", "/chat"]);
    const client = await h.connect(port, "/chat", { transports: ["websocket"] });
    const socket = serverSocketOf(io, client, "/chat");
    socket.join("r");
    assert.ok(io.of("/chat").adapter.rooms.get("r").has(socket.id));
  });
});

describe("serverSideEmit (single server)", () => {
  it("returns true and does not call local listeners", async (t) => {
    const h = harness(t);
    const { io } = await h.server();
    let called = false;
    io.on("hello", () => (called = true));
    io.of("/nsp").on("hello", () => (called = true));
    const warn = console.warn;
    console.warn = () => {}; // upstream's in-memory adapter warns that it cannot do this
    try {
      assert.strictEqual(io.serverSideEmit("hello", "world", 1), true);
      assert.strictEqual(io.of("/nsp").serverSideEmit("hello"), true);
    } finally {
      console.warn = warn;
    }
    await new Promise((r) => setImmediate(r));
    assert.strictEqual(called, false);
  });

  it("throws on reserved event names", async (t) => {
    const h = harness(t);
    const { io } = await h.server();
    for (const ev of ["connect", "connection", "new_namespace"]) {
      assert.throws(() => io.serverSideEmit(ev), { message: `"${ev}" is a reserved event name` });
    }
  });
});
