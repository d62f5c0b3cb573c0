/**
 * The `parser` option: socket.io-msgpack-parser (encoded and decoded in Rust) and a parser of the
 * test's own (run in JS), each with the official client using the same parser, over both
 * transports. Run with SOCKET_IO_IMPL=socket.io to see upstream do the same.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { EventEmitter } = require("node:events");
const msgpackParser = require("socket.io-msgpack-parser");
const { TRANSPORTS, harness, waitFor, expectNoEvent, serverSocketOf, successAfter } = require("./support/sio-helpers");

/**
 * A parser of this test's own: each packet one text message, "J" and the packet's JSON, Buffers
 * as their JSON form (`{ type: "Buffer", data }`) and back.
 */
const prefixedJsonParser = {
  Encoder: class {
    encode(packet) {
      return ["J" + JSON.stringify(packet)];
    }
  },
  Decoder: class extends EventEmitter {
    add(message) {
      if (typeof message !== "string" || message[0] !== "J") throw new Error("not a J packet");
      const packet = JSON.parse(message.slice(1), (key, value) =>
        value && value.type === "Buffer" && Array.isArray(value.data) ? Buffer.from(value.data) : value,
      );
      this.emit("decoded", packet);
    }
    destroy() {}
  },
};

const PARSERS = [
  ["socket.io-msgpack-parser", msgpackParser],
  ["a custom parser", prefixedJsonParser],
];

/** Server with `parser` + one connected client with the same parser + its server-side socket. */
async function pair(t, parser, transport, { serverOpts = {}, nsp = "/", clientOpts = {} } = {}) {
  const h = harness(t);
  const { io, port } = await h.server({ parser, ...serverOpts });
  const connection = waitFor(io.of(nsp), "connection");
  const client = await h.connect(port, nsp, { parser, transports: [transport], ...clientOpts });
  const [socket] = await connection;
  return { h, io, port, client, socket };
}

const NESTED = { a: { b: [1, "two", { c: null, d: true }] }, e: -1.5, f: "é\u2028\"", g: 2 ** 40 };

function nestedWithBuffers() {
  return { top: Buffer.from([1, 2, 3]), deep: { list: [Buffer.alloc(300, 7), { x: Buffer.from("x") }] }, n: 1 };
}

for (const [parserName, parser] of PARSERS) {
  for (const transport of TRANSPORTS) {
    describe(`parser: ${parserName} (${transport})`, () => {
      it("carries nested objects both ways", async (t) => {
        const { client, socket } = await pair(t, parser, transport);
        const toServer = waitFor(socket, "nested");
        const toClient = waitFor(client, "nested");
        client.emit("nested", NESTED, [NESTED], 3);
        socket.emit("nested", NESTED, "x");
        assert.deepStrictEqual(await toServer, [NESTED, [NESTED], 3]);
        assert.deepStrictEqual(await toClient, [NESTED, "x"]);
      });

      it("carries Buffers at any depth both ways", async (t) => {
        const { client, socket } = await pair(t, parser, transport);
        const toServer = waitFor(socket, "bin");
        const toClient = waitFor(client, "bin");
        client.emit("bin", nestedWithBuffers(), Buffer.from([255]));
        socket.emit("bin", nestedWithBuffers(), Buffer.from([254]));
        assert.deepStrictEqual(await toServer, [nestedWithBuffers(), Buffer.from([255])]);
        assert.deepStrictEqual(await toClient, [nestedWithBuffers(), Buffer.from([254])]);
      });

      it("acknowledges both ways, with binary", async (t) => {
        const { client, socket } = await pair(t, parser, transport);
        socket.on("ask", (question, ack) => ack({ answer: question.n + 1, file: Buffer.from([9]) }));
        const answer = await client.timeout(5000).emitWithAck("ask", { n: 41 });
        assert.deepStrictEqual(answer, { answer: 42, file: Buffer.from([9]) });

        client.on("ask", (question, ack) => ack({ upper: question.toUpperCase(), files: [Buffer.from([8])] }));
        const reply = await socket.timeout(5000).emitWithAck("ask", "hi");
        assert.deepStrictEqual(reply, { upper: "HI", files: [Buffer.from([8])] });
      });

      it("broadcasts to rooms, except the excepted, and acks from many", async (t) => {
        const { h, io, port, client, socket } = await pair(t, parser, transport);
        const others = [];
        for (let i = 0; i < 2; i++) {
          const connection = waitFor(io, "connection");
          others.push(await h.connect(port, "/", { parser, transports: [transport] }));
          await connection;
        }
        socket.join("room");
        serverSocketOf(io, others[0]).join(["room", "vip"]);
        const inRoom = [waitFor(client, "news"), waitFor(others[0], "news")];
        io.to("room").except("nobody").emit("news", { n: 1, bin: Buffer.from([1]) });
        for (const got of inRoom) assert.deepStrictEqual(await got, [{ n: 1, bin: Buffer.from([1]) }]);
        const notVip = waitFor(client, "only");
        io.to("room").except("vip").emit("only", "you");
        assert.deepStrictEqual(await notVip, ["you"]);
        await expectNoEvent(others[1], "news");

        for (const c of [client, ...others]) c.on("poll", (ack) => ack(c.id.length > 0));
        const answers = await io.timeout(5000).emitWithAck("poll");
        assert.deepStrictEqual(answers, [true, true, true]);
      });

      it("works in namespaces", async (t) => {
        const { h, io, port, client, socket } = await pair(t, parser, transport, { nsp: "/chat" });
        assert.strictEqual(socket.nsp.name, "/chat");
        const toServer = waitFor(socket, "hello");
        client.emit("hello", Buffer.from([1]));
        assert.deepStrictEqual(await toServer, [Buffer.from([1])]);
        const toClient = waitFor(client, "all");
        io.of("/chat").emit("all", { in: "/chat" });
        assert.deepStrictEqual(await toClient, [{ in: "/chat" }]);
        const refused = h.client(port, "/nowhere", { parser, transports: [transport] });
        const [err] = await waitFor(refused, "connect_error");
        assert.strictEqual(err.message, "Invalid namespace");
      });

      it("tells the client a middleware's error, with its data", async (t) => {
        const h = harness(t);
        const { io, port } = await h.server({ parser });
        io.use((socket, next) => {
          const err = new Error("not authorized");
          err.data = { code: 403, token: socket.handshake.auth.token };
          next(err);
        });
        const client = h.client(port, "/", { parser, transports: [transport], auth: { token: "t" } });
        const [err] = await waitFor(client, "connect_error");
        assert.strictEqual(err.message, "not authorized");
        assert.deepStrictEqual(err.data, { code: 403, token: "t" });
      });

      it("disconnects either way", async (t) => {
        const { h, io, port, client, socket } = await pair(t, parser, transport);
        const serverSide = waitFor(socket, "disconnect");
        client.disconnect();
        assert.deepStrictEqual((await serverSide)[0], "client namespace disconnect");

        const connection = waitFor(io, "connection");
        const second = await h.connect(port, "/", { parser, transports: [transport] });
        const [secondSocket] = await connection;
        const clientSide = waitFor(second, "disconnect");
        secondSocket.disconnect();
        assert.strictEqual((await clientSide)[0], "io server disconnect");
      });

      it("closes a connection whose message the parser refuses", async (t) => {
        const { client, socket } = await pair(t, parser, transport);
        const errored = waitFor(socket, "error");
        const disconnected = waitFor(socket, "disconnect");
        // Neither a msgpack packet nor a "J" one.
        client.io.engine.write(parser === msgpackParser ? Buffer.from([0xc1]) : "nonsense");
        assert.ok((await errored)[0] instanceof Error);
        assert.strictEqual((await disconnected)[0], "forced close");
      });

      it("carries what only the parser itself encodes: Dates, undefined, NaN, typed arrays", async (t) => {
        const { client, socket } = await pair(t, parser, transport);
        const date = new Date(1_700_000_000_123);
        const toServer = waitFor(socket, "odd");
        const toClient = waitFor(client, "odd");
        client.emit("odd", { date, nan: NaN, deep: [{ placeholder: { _placeholder: true, num: 0 } }] });
        socket.emit("odd", { date, nan: NaN, deep: [{ _placeholder: true, num: 0 }] }, new Uint8Array([1, 2]));
        const [atServer] = await toServer;
        const atClient = await toClient;
        if (parser === msgpackParser) {
          assert.ok(atServer.date instanceof Date && atServer.date.getTime() === date.getTime());
          assert.ok(Number.isNaN(atServer.nan));
          assert.ok(atClient[0].date instanceof Date && atClient[0].date.getTime() === date.getTime());
          assert.ok(Number.isNaN(atClient[0].nan));
          // notepack.io sends a typed array as an ArrayBuffer (its whole underlying buffer).
          assert.ok(atClient[1] instanceof ArrayBuffer);
          assert.deepStrictEqual([...new Uint8Array(atClient[1])], [1, 2]);
        } else {
          // JSON: a Date becomes its string, NaN null.
          assert.strictEqual(atServer.date, date.toISOString());
          assert.strictEqual(atServer.nan, null);
        }
        assert.deepStrictEqual(atServer.deep, [{ placeholder: { _placeholder: true, num: 0 } }]);
        assert.deepStrictEqual(atClient[0].deep, [{ _placeholder: true, num: 0 }]);
      });

      it("restores a session with the packets it missed (connectionStateRecovery)", async (t) => {
        const { io, client, socket } = await pair(t, parser, transport, {
          serverOpts: { connectionStateRecovery: {} },
          clientOpts: { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 },
        });
        socket.join("room");
        const first = waitFor(client, "news");
        io.to("room").emit("news", 1);
        await first;
        const gone = waitFor(socket, "disconnect");
        client.io.engine.close();
        await gone;
        io.to("room").emit("news", 2, Buffer.from([2]));
        const missed = successAfter(1);
        client.on("news", missed);
        const [[restored]] = await Promise.all([waitFor(io, "connection"), missed.promise]);
        assert.strictEqual(restored.recovered, true);
        assert.strictEqual(restored.id, socket.id);
        assert.deepStrictEqual(missed.calls[0].slice(0, 2), [2, Buffer.from([2])]);
      });
    });
  }
}
