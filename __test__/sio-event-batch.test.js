/**
 * What clients send reaches JS in batches packed by Rust (numbers, one string of every text, and
 * the binary buffers): events of one batch with texts of every width (ASCII, accented, emoji
 * beyond the Basic Multilingual Plane) and binary attachments between them come out whole and
 * in order, whatever the namespace's name.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, successAfter, connectedPair } = require("./support/sio-helpers");

const TEXTS = ["plain", "accentué ü", "emoji 😀 and 𝄞", "", "ends with \u001e", "日本語のテキスト"];

for (const transport of TRANSPORTS) {
  describe(`event batches (${transport})`, () => {
    for (const nsp of ["/", "/名前-😀"]) {
      it(`keeps texts of every width and binaries whole and in order (namespace ${nsp})`, async (t) => {
        const { client, socket } = await connectedPair(t, transport, { nsp });
        const expected = [];
        for (const [i, text] of TEXTS.entries()) {
          expected.push(["text", i, text, { nested: text }]);
          expected.push(["binary", i, Buffer.from(`${i}:${text}`)]);
        }
        const got = successAfter(expected.length);
        socket.on("text", (...args) => got(["text", ...args]));
        socket.on("binary", (...args) => got(["binary", ...args]));
        for (const [name, ...args] of expected) client.emit(name, ...args);
        const received = await got.promise;
        assert.deepStrictEqual(
          received.map(([[name, ...args]]) => [name, ...args.map((a) => (Buffer.isBuffer(a) ? a.toString() : a))]),
          expected.map(([name, ...args]) => [name, ...args.map((a) => (Buffer.isBuffer(a) ? a.toString() : a))]),
        );
        for (const [[name, , data]] of received) if (name === "binary") assert.ok(Buffer.isBuffer(data));
      });
    }

    it("acknowledges texts of every width in the namespace of their socket", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.of("/😀").on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));
      const client = await h.connect(port, "/😀", { transports: [transport] });
      const answers = await Promise.all(TEXTS.map((text) => client.timeout(5000).emitWithAck("echo", text)));
      assert.deepStrictEqual(answers, TEXTS);
    });
  });
}
