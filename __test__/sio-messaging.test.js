/** Socket.IO layer: events both ways, acknowledgements, binary, emitWithAck, timeouts. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const {
  TRANSPORTS,
  harness,
  waitFor,
  expectNoEvent,
  successAfter,
  deferred,
  delay,
  connectedPair,
} = require("./support/sio-helpers");

/** Server + one connected client + its server-side socket. */
function pair(t, transport, serverOpts = {}, clientOpts = {}) {
  return connectedPair(t, transport, { serverOpts, clientOpts });
}

for (const transport of TRANSPORTS) {
  describe(`messaging (${transport})`, () => {
    it("receives client events with their arguments (JSON types preserved)", async (t) => {
      const { client, socket } = await pair(t, transport);
      const got = waitFor(socket, "random");
      client.emit("random", 1, "2", [3], { a: { b: null } }, true, null, 1.5, -0);
      assert.deepStrictEqual(await got, [1, "2", [3], { a: { b: null } }, true, null, 1.5, 0]);
    });

    it("emits events to the client; socket.emit returns true", async (t) => {
      const { client, socket } = await pair(t, transport);
      const got = waitFor(client, "woot");
      assert.strictEqual(socket.emit("woot", "tobi", { n: 1 }), true);
      assert.deepStrictEqual(await got, ["tobi", { n: 1 }]);
    });

    it("delivers an event without arguments", async (t) => {
      const { client, socket } = await pair(t, transport);
      const toServer = waitFor(socket, "empty");
      const toClient = waitFor(client, "empty");
      client.emit("empty");
      socket.emit("empty");
      assert.deepStrictEqual(await toServer, []);
      assert.deepStrictEqual(await toClient, []);
    });

    it("maps send()/write() to the 'message' event, both ways (null included)", async (t) => {
      const { client, socket } = await pair(t, transport);
      const toServer = successAfter(2);
      socket.on("message", toServer);
      client.send(1337);
      client.send(null);
      assert.deepStrictEqual(await toServer.promise, [[1337], [null]]);

      const toClient = successAfter(2);
      client.on("message", toClient);
      assert.strictEqual(socket.send("a"), socket);
      assert.strictEqual(socket.write("b", 2), socket);
      assert.deepStrictEqual(await toClient.promise, [["a"], ["b", 2]]);
    });

    it("keeps UTF-8 multibyte strings intact", async (t) => {
      const { client, socket } = await pair(t, transport);
      const s = "utf8 — string ✓ 日本語 😀";
      const toClient = successAfter(3);
      client.on("hoot", toClient);
      socket.emit("hoot", s);
      socket.emit("hoot", s);
      socket.emit("hoot", s);
      assert.deepStrictEqual(await toClient.promise, [[s], [s], [s]]);
      const toServer = waitFor(socket, "hoot");
      client.emit("hoot", s, { [s]: s });
      assert.deepStrictEqual(await toServer, [s, { [s]: s }]);
    });

    it("keeps the order of many events in both directions", async (t) => {
      const { client, socket } = await pair(t, transport);
      const N = 100;
      const toServer = successAfter(N);
      socket.on("seq", toServer);
      const toClient = successAfter(N);
      client.on("seq", toClient);
      for (let i = 0; i < N; i++) {
        client.emit("seq", i);
        socket.emit("seq", i);
      }
      const expected = Array.from({ length: N }, (_, i) => [i]);
      assert.deepStrictEqual(await toServer.promise, expected);
      assert.deepStrictEqual(await toClient.promise, expected);
    });

    it("sends binary data to the client as Buffers", async (t) => {
      const { client, socket } = await pair(t, transport);
      const data = Buffer.alloc(200 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = i % 251;
      const got = waitFor(client, "doge");
      socket.emit("doge", data);
      const [a] = await got;
      assert.ok(Buffer.isBuffer(a));
      assert.ok(a.equals(data));
    });

    it("sends several kinds of data, binary included (nested, typed arrays)", async (t) => {
      const { client, socket } = await pair(t, transport);
      const buf = Buffer.from("asdfasdf", "utf8");
      const got = waitFor(client, "multiple");
      socket.emit("multiple", 1, buf, "3", [4], Uint8Array.of(1, 2, 3), [buf, "swag", { deep: buf }]);
      const [a, b, c, d, e, f] = await got;
      assert.strictEqual(a, 1);
      assert.ok(Buffer.isBuffer(b) && b.equals(buf));
      assert.strictEqual(c, "3");
      assert.deepStrictEqual(d, [4]);
      assert.ok(Buffer.isBuffer(e) && e.equals(Buffer.from([1, 2, 3])));
      assert.ok(Buffer.isBuffer(f[0]) && f[0].equals(buf));
      assert.strictEqual(f[1], "swag");
      assert.ok(Buffer.isBuffer(f[2].deep) && f[2].deep.equals(buf));
    });

    it("receives binary data from the client as Buffers (nested too)", async (t) => {
      const { client, socket } = await pair(t, transport);
      const buf = Buffer.from("abcdefg", "utf8");
      const got = waitFor(socket, "multiple");
      client.emit("multiple", 1, buf, "3", [4], Buffer.alloc(0), [buf, "swag", { x: Buffer.from([0, 255]) }]);
      const [a, b, c, d, e, f] = await got;
      assert.strictEqual(a, 1);
      assert.ok(Buffer.isBuffer(b) && b.equals(buf));
      assert.strictEqual(c, "3");
      assert.deepStrictEqual(d, [4]);
      assert.ok(Buffer.isBuffer(e) && e.length === 0, "empty buffers are binary too");
      assert.ok(Buffer.isBuffer(f[0]) && f[0].equals(buf));
      assert.strictEqual(f[1], "swag");
      assert.ok(Buffer.isBuffer(f[2].x) && f[2].x.equals(Buffer.from([0, 255])));
    });

    it("handles large JSON and binary payloads both ways", async (t) => {
      const { client, socket } = await pair(t, transport, { perMessageDeflate: false });
      const json = { list: Array.from({ length: 5000 }, (_, i) => ({ i, s: "x".repeat(20) })) };
      const image = Buffer.alloc(300 * 1024, 7);
      socket.on("big", (payload) => socket.emit("big", payload));
      const back = waitFor(client, "big");
      client.emit("big", { json, image });
      const [payload] = await back;
      assert.deepStrictEqual(payload.json, json);
      assert.ok(Buffer.isBuffer(payload.image) && payload.image.equals(image));
    });

    it("acknowledges client events (several arguments)", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.on("woot", (a, b, fn) => {
        assert.strictEqual(typeof fn, "function");
        fn(a + b, "ok", { c: 3 });
      });
      const reply = deferred();
      client.emit("woot", 1, 2, (...args) => reply.resolve(args));
      assert.deepStrictEqual(await reply.promise, [3, "ok", { c: 3 }]);
    });

    it("acknowledges client events with an empty ack", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.on("woot", (fn) => fn());
      const reply = deferred();
      client.emit("woot", (...args) => reply.resolve(args));
      assert.deepStrictEqual(await reply.promise, []);
    });

    it("ignores a second call of the same ack function", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.on("twice", (fn) => {
        fn(1);
        fn(2);
      });
      const acks = [];
      const first = deferred();
      client.emit("twice", (v) => {
        acks.push(v);
        first.resolve();
      });
      await first.promise;
      // the next round trip proves nothing else was pending in between
      socket.on("sync", (fn) => fn());
      await client.timeout(2000).emitWithAck("sync");
      assert.deepStrictEqual(acks, [1]);
    });

    it("gets acknowledgements from the client for server events", async (t) => {
      const { client, socket } = await pair(t, transport);
      client.on("hi", (a, b, fn) => fn(a * b, "done"));
      const reply = deferred();
      socket.emit("hi", 6, 7, (...args) => reply.resolve(args));
      assert.deepStrictEqual(await reply.promise, [42, "done"]);
    });

    it("carries binary data in acknowledgements, both ways", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.on("woot", (buf, fn) => {
        assert.ok(Buffer.isBuffer(buf));
        fn(Buffer.concat([buf, Buffer.from([9])]), "x");
      });
      const fromServer = deferred();
      client.emit("woot", Buffer.from([1, 2]), (a, b) => fromServer.resolve([a, b]));
      const [a, b] = await fromServer.promise;
      assert.ok(Buffer.isBuffer(a) && a.equals(Buffer.from([1, 2, 9])));
      assert.strictEqual(b, "x");

      client.on("hi", (buf, fn) => fn({ got: buf.length, data: Buffer.alloc(3, 1) }));
      const fromClient = deferred();
      socket.emit("hi", Buffer.alloc(4), (res) => fromClient.resolve(res));
      const res = await fromClient.promise;
      assert.strictEqual(res.got, 4);
      assert.ok(Buffer.isBuffer(res.data) && res.data.equals(Buffer.alloc(3, 1)));
    });

    it("emitWithAck() resolves with the first argument of the client's ack", async (t) => {
      const { client, socket } = await pair(t, transport);
      client.on("hi", (a, b, fn) => fn(a + b, "ignored"));
      assert.strictEqual(await socket.emitWithAck("hi", 1, 2), 3);
    });

    it("lets the client use emitWithAck() against a server handler", async (t) => {
      const { client, socket } = await pair(t, transport);
      socket.on("sum", (a, b, fn) => fn(a + b));
      assert.strictEqual(await client.emitWithAck("sum", 20, 22), 42);
    });

    it("timeout(): calls the ack with an Error when the client does not acknowledge", async (t) => {
      const { socket } = await pair(t, transport);
      const result = deferred();
      const started = Date.now();
      socket.timeout(50).emit("unknown", (...args) => result.resolve(args));
      const args = await result.promise;
      assert.ok(Date.now() - started >= 45);
      assert.strictEqual(args.length, 1);
      assert.ok(args[0] instanceof Error);
      assert.strictEqual(args[0].message, "operation has timed out");
    });

    it("timeout(): calls the ack with (null, ...args) when the client acknowledges in time", async (t) => {
      const { client, socket } = await pair(t, transport);
      client.on("echo", (arg, cb) => cb(arg, "second"));
      const result = deferred();
      socket.timeout(2000).emit("echo", 42, (...args) => result.resolve(args));
      assert.deepStrictEqual(await result.promise, [null, 42, "second"]);
    });

    it("timeout(0): errors once and ignores the late acknowledgement", async (t) => {
      const { client, socket } = await pair(t, transport);
      const late = deferred();
      client.on("echo", (arg, cb) =>
        setTimeout(() => {
          cb(arg);
          late.resolve();
        }, 20),
      );
      const calls = [];
      socket.timeout(0).emit("echo", 42, (...args) => calls.push(args));
      await late.promise;
      // the ack packet is on its way back; a later round trip guarantees it has been processed
      socket.on("sync", (fn) => fn());
      await client.timeout(2000).emitWithAck("sync");
      assert.strictEqual(calls.length, 1);
      assert.ok(calls[0][0] instanceof Error);
      assert.strictEqual(calls[0][0].message, "operation has timed out");
    });

    it("timeout() only applies to the next emit", async (t) => {
      const { client, socket } = await pair(t, transport);
      const first = deferred();
      socket.timeout(20).emit("nobody-answers", (err) => first.resolve(err));
      assert.ok((await first.promise) instanceof Error);
      client.on("slow", (cb) => setTimeout(() => cb("late but fine"), 100));
      const second = deferred();
      socket.emit("slow", (v) => second.resolve(v));
      assert.strictEqual(await second.promise, "late but fine");
    });

    it("timeout().emitWithAck() rejects on timeout and resolves otherwise", async (t) => {
      const { client, socket } = await pair(t, transport);
      await assert.rejects(socket.timeout(50).emitWithAck("unknown"), (err) => {
        assert.ok(err instanceof Error);
        assert.strictEqual(err.message, "operation has timed out");
        return true;
      });
      client.on("echo", (arg, cb) => cb(arg));
      assert.strictEqual(await socket.timeout(2000).emitWithAck("echo", 42), 42);
    });

    it("throws on reserved event names when emitting to a socket", async (t) => {
      const { socket } = await pair(t, transport);
      for (const ev of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
        assert.throws(() => socket.emit(ev), { message: `"${ev}" is a reserved event name` });
        assert.throws(() => socket.to("room").emit(ev), { message: `"${ev}" is a reserved event name` });
      }
    });

    it("does not crash on events without a listener, and keeps working", async (t) => {
      const { client, socket } = await pair(t, transport);
      client.emit("nobody-listens", 1, Buffer.from([1]));
      client.emit("nobody-listens-with-ack", () => {});
      socket.on("ok", (fn) => fn("alive"));
      assert.strictEqual(await client.timeout(2000).emitWithAck("ok"), "alive");
    });

    it("delivers events of a namespaced client immediately and in order", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const got = successAfter(2);
      io.of("/chat", (s) => s.on("hi", got));
      const chat = h.client(port, "/chat", { transports: [transport] });
      chat.emit("hi", "a");
      chat.once("connect", () => setTimeout(() => chat.emit("hi", "b"), 20));
      assert.deepStrictEqual(await got.promise, [["a"], ["b"]]);
    });
  });
}

describe("messaging (edge cases)", () => {
  it("drops an event that arrives in the same payload as the DISCONNECT packet", async (t) => {
    // polling only: the client sends both packets in a single HTTP request
    const { client, socket } = await pair(t, "polling");
    let received = false;
    socket.on("test", () => (received = true));
    const disconnect = waitFor(socket, "disconnect");
    client.emit("test", Buffer.alloc(10));
    client.disconnect();
    const [reason] = await disconnect;
    assert.strictEqual(reason, "client namespace disconnect");
    await delay(50);
    assert.strictEqual(received, false);
  });

  it("sends a single ACK packet even if the ack function is called twice (raw)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.on("connection", (s) =>
      s.on("twice", (fn) => {
        if (typeof fn !== "function") return;
        fn("a");
        fn("b");
      }),
    );
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    assert.match(await raw.next(), /^40\{"sid":/);
    raw.send('427["twice"]');
    assert.strictEqual(await raw.next(), '437["a"]');
    raw.send('42["twice"]'); // no ack id: no ACK packet at all
    raw.send('428["twice"]');
    assert.strictEqual(await raw.next(), '438["a"]');
  });

  it("encodes server acks and binary packets like upstream (raw)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.on("connection", (s) => {
      s.on("bin", (buf, fn) => fn(buf.length, Buffer.from([4, 5])));
    });
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    await raw.next();
    raw.send('451-3["bin",{"_placeholder":true,"num":0}]');
    raw.send(Buffer.from([1, 2, 3]));
    assert.strictEqual(await raw.next(), '461-3[3,{"_placeholder":true,"num":0}]');
    const attachment = await raw.next();
    assert.ok(Buffer.isBuffer(attachment));
    assert.ok(attachment.equals(Buffer.from([4, 5])));
  });

  it("acknowledges a server emit sent to a client that answers over the raw protocol", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const connection = waitFor(io, "connection");
    const raw = await h.rawWebSocket(port);
    raw.send("40");
    await raw.next();
    const [socket] = await connection;
    const reply = deferred();
    socket.emit("question", "q", (...args) => reply.resolve(args));
    const msg = await raw.next();
    const m = /^42(\d+)\["question","q"\]$/.exec(msg);
    assert.ok(m, msg);
    raw.send(`43${m[1]}["answer",1]`);
    assert.deepStrictEqual(await reply.promise, ["answer", 1]);
    // an ack for an unknown id is ignored
    raw.send("43999[]");
    const still = waitFor(socket, "still");
    raw.send('42["still"]');
    await still;
    await expectNoEvent(socket, "disconnect", 50);
  });
});
