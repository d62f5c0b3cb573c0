/** The package as an ES module: `import { Server } from "socket.io-rs"` in JavaScript and in TypeScript (nodenext). */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { io: ioc } = require("socket.io-client");
const cjs = require("..");

test("import() of the package by name gives the CommonJS classes, and a server built from them serves the official client", async () => {
  // The package's own name resolves through its "exports" from inside it (self-reference).
  const esm = await import("socket.io-rs");
  assert.strictEqual(esm.Server, cjs.Server);
  assert.strictEqual(esm.Namespace, cjs.Namespace);
  assert.strictEqual(esm.Socket, cjs.Socket);
  const io = new esm.Server();
  const httpServer = require("node:http").createServer();
  io.attach(httpServer);
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const client = ioc(`http://127.0.0.1:${httpServer.address().port}`, { forceNew: true, reconnection: false });
  try {
    const connected = new Promise((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    await connected;
    assert.ok(client.id);
  } finally {
    client.disconnect();
    await io.close();
  }
});

test("TypeScript with module nodenext types an ES module import of the package", { timeout: 60000 }, () => {
  const tsc = require.resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(__dirname, "types", "esm", "tsconfig.json")], { encoding: "utf8" });
  assert.strictEqual(result.status, 0, result.stdout + result.stderr);
});
