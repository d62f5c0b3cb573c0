"use strict";

const test = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

test("index.d.ts types upstream-style code with generic event maps, and refuses wrong events", { timeout: 60000 }, () => {
  const tsc = require.resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(__dirname, "types", "tsconfig.json")], {
    encoding: "utf8",
  });
  // Each `@ts-expect-error` in usage.ts must meet an error, so loose types fail this test too.
  assert.strictEqual(result.status, 0, result.stdout + result.stderr);
});
