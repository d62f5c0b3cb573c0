"use strict";

const test = require("node:test");
const assert = require("node:assert");
const http = require("node:http");
const zlib = require("node:zlib");
const { Server } = require("./support/impl");

function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, headers }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

async function openSession(options) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, options);
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = httpServer.address().port;
  const open = await get(port, "/socket.io/?EIO=4&transport=polling");
  const sid = JSON.parse(open.body.toString().slice(1)).sid;
  return { io, port, sid, conn: io.engine.clients[sid] };
}

for (const encoding of ["gzip", "deflate"]) {
  test(`a long-poll answer of 1 KB or more is compressed with ${encoding} when accepted`, { timeout: 10000 }, async (t) => {
    const { io, port, sid, conn } = await openSession();
    t.after(() => io.close());
    conn.send("x".repeat(2000));
    const res = await get(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { "accept-encoding": encoding });
    assert.strictEqual(res.headers["content-encoding"], encoding);
    const inflate = encoding === "gzip" ? zlib.gunzipSync : zlib.inflateSync;
    assert.strictEqual(inflate(res.body).toString(), "4" + "x".repeat(2000));
  });
}

test("small answers, clients that accept no compression, and httpCompression: false get plain text", { timeout: 10000 }, async (t) => {
  const small = await openSession();
  t.after(() => small.io.close());
  small.conn.send("tiny");
  let res = await get(small.port, `/socket.io/?EIO=4&transport=polling&sid=${small.sid}`, { "accept-encoding": "gzip" });
  assert.strictEqual(res.headers["content-encoding"], undefined);
  assert.strictEqual(res.body.toString(), "4tiny");

  small.conn.send("y".repeat(2000));
  res = await get(small.port, `/socket.io/?EIO=4&transport=polling&sid=${small.sid}`, { "accept-encoding": "identity" });
  assert.strictEqual(res.headers["content-encoding"], undefined);

  const off = await openSession({ httpCompression: false });
  t.after(() => off.io.close());
  off.conn.send("z".repeat(2000));
  res = await get(off.port, `/socket.io/?EIO=4&transport=polling&sid=${off.sid}`, { "accept-encoding": "gzip" });
  assert.strictEqual(res.headers["content-encoding"], undefined);
  assert.strictEqual(res.body.toString(), "4" + "z".repeat(2000));
});

// Upstream answers plain only when `length < threshold`, and its default threshold applies only
// when the option is omitted: without a threshold, even a tiny answer is compressed.
for (const httpCompression of [true, { level: 1 }]) {
  test(`with httpCompression: ${JSON.stringify(httpCompression)}, a small answer is compressed too`, { timeout: 10000 }, async (t) => {
    const { io, port, sid, conn } = await openSession({ httpCompression });
    t.after(() => io.close());
    conn.send("tiny");
    const res = await get(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { "accept-encoding": "gzip" });
    assert.strictEqual(res.headers["content-encoding"], "gzip");
    assert.strictEqual(zlib.gunzipSync(res.body).toString(), "4tiny");
  });
}

test("a threshold given as a string is compared as upstream compares it, as a number", { timeout: 10000 }, async (t) => {
  const { io, port, sid, conn } = await openSession({ httpCompression: { threshold: "100" } });
  t.after(() => io.close());
  conn.send("a".repeat(50));
  let res = await get(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { "accept-encoding": "gzip" });
  assert.strictEqual(res.headers["content-encoding"], undefined);
  conn.send("b".repeat(150));
  res = await get(port, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { "accept-encoding": "gzip" });
  assert.strictEqual(res.headers["content-encoding"], "gzip");
  assert.strictEqual(zlib.gunzipSync(res.body).toString(), "4" + "b".repeat(150));
});
