"use strict";

const test = require("node:test");
const assert = require("node:assert");
const pkg = require("..");

test("the native addon loads and reports its version", () => {
  assert.strictEqual(pkg.nativeVersion(), require("../package.json").version);
});
