/*
 * Self-check of the type-test harness (compat/run-types.sh), for CI, which cannot fetch
 * upstream's type tests.
 *
 * It writes a tiny fake socket.io monorepo to a temp dir: packages/socket.io/test with type
 * tests for tsd (a first commit whose assertions all hold, a second that adds assertions that
 * fail on purpose, an unused `@ts-expect-error`, and an error outside any assertion), a mocha
 * file the harness must leave out, the lib/*.ts names the tests import, and a tsconfig.json that
 * names only "node" types, as upstream's does. Then it runs the harness and checks the counts,
 * the diagnostics log and the exit code:
 *   1. from the work tree, against this package (the default impl);
 *   2. from the git dir, second commit, against socket.io 4.8.4 (which has no nativeVersion);
 *   3. from the git dir, first commit (--ref), against socket.io 4.8.4: nothing fails, exit 0.
 * The first run may `npm ci` the pinned deps into the harness's cache (~15 s cold).
 */
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { REPO, scratchDir, makeGitRepo, runHarness, escapeRegExp } = require("./support/compat-fixtures");

const FIRST_COMMIT = {
  "packages/socket.io/tsconfig.json": JSON.stringify({ compilerOptions: { types: ["node"], strict: true } }),
  "packages/socket.io/lib/index.ts": "// only its name matters to the harness\n",
  "packages/socket.io/lib/typed-events.ts": "// only its name matters to the harness\n",
  "packages/socket.io/test/socket.ts": `throw new Error("a mocha file, not a type test");\n`,
  // 3 assertions, all holding with either implementation
  "packages/socket.io/test/holds.test-d.ts": `
import { expectType } from "tsd";
import { Server, type DisconnectReason } from "../lib/index";
import type { DefaultEventsMap } from "../lib/typed-events";
import * as fromPackage from "..";

describe("mocha's globals are declared", () => {
  it("types a server with the default maps", () => {
    expectType<Server<DefaultEventsMap, DefaultEventsMap>>(new Server());
    expectType<typeof Server>(fromPackage.Server);
    // @ts-expect-error not a disconnect reason
    const reason: DisconnectReason = "no such reason";
  });
});
`,
};

const SECOND_COMMIT = {
  // 5 assertions: 2 fail on purpose; 1 more holds only for socket.io-rs; 1 error outside them
  "packages/socket.io/test/mixed.test-d.ts": `
import { expectError, expectType } from "tsd";
import { Server } from "../lib/index";
import * as sio from "../lib/index";

const io = new Server();
expectType<number>(io.path());
expectType<string>(io.path());
// @ts-expect-error nothing is wrong on the next line
io.path("/elsewhere");
expectError(io.path(42));
expectType<string>(sio.nativeVersion());
const notANumber: number = "text";
`,
};

const tmp = scratchDir("compat-types-selfcheck-");
const fake = path.join(tmp, "fake-socket.io");
makeGitRepo(fake, [
  { message: "type tests that hold", files: FIRST_COMMIT },
  { message: "type tests that fail on purpose", files: SECOND_COMMIT },
]);

test("type harness from a work tree, against this package's index.d.ts", { timeout: 150_000 }, async () => {
  const logDir = path.join(tmp, "logs-rs");
  const { code, out, lines } = await runHarness("run-types.sh", [fake, "--log-dir", logDir], { limitMs: 140_000 });
  const has = (line) => assert.ok(lines.includes(line), `no line "${line}" in:\n${out}`);
  assert.ok(lines.some((l) => /^upstream: .*\(work tree, commit [0-9a-f]{7,}\)$/.test(l)), out);
  has("type tests: test/holds.test-d.ts test/mixed.test-d.ts");
  assert.ok(lines.some((l) => new RegExp(`^impl: socket\\.io-rs \\S+ \\(${escapeRegExp(REPO)}\\)$`).test(l)), out);
  has("test/holds.test-d.ts: 3 passed, 0 failed (3 assertions: 2 tsd calls, 1 @ts-expect-error)");
  has("test/mixed.test-d.ts: 3 passed, 2 failed (5 assertions: 4 tsd calls, 1 @ts-expect-error), 1 error outside assertions");
  assert.strictEqual(lines.at(-1), "6 passed, 2 failed, 1 error outside assertions", out);
  assert.strictEqual(code, 1, `exit code with failures\n${out}`);

  const log = fs.readFileSync(path.join(logDir, "diagnostics.log"), "utf8");
  assert.match(log, /^ERROR test\/mixed\.test-d\.ts:6:\d+ \(expectType at line 6\)\n {2}Argument of type 'string' is not assignable to parameter of type 'number'/m);
  assert.match(log, /^ERROR test\/mixed\.test-d\.ts:8:\d+ \(@ts-expect-error at line 8\)\n {2}Unused '@ts-expect-error' directive/m);
  assert.match(log, /^ERROR test\/mixed\.test-d\.ts:12:\d+ \(outside assertions\)\n {2}Type 'string' is not assignable to type 'number'/m);
  assert.doesNotMatch(log, /holds\.test-d\.ts|socket\.ts|describe/);
});

test("type harness from a git dir, against socket.io 4.8.4's own types", { timeout: 150_000 }, async () => {
  const { code, out, lines } = await runHarness("run-types.sh", [path.join(fake, ".git"), "--impl", "socket.io"], { limitMs: 140_000 });
  assert.ok(lines.some((l) => /^upstream: .*\(git HEAD, commit [0-9a-f]{7,}\)$/.test(l)), out);
  assert.ok(lines.some((l) => /^impl: socket\.io 4\.8\.4 \(/.test(l)), out);
  // socket.io has no nativeVersion: that assertion fails there, and only there
  assert.ok(lines.includes("test/mixed.test-d.ts: 2 passed, 3 failed (5 assertions: 4 tsd calls, 1 @ts-expect-error), 1 error outside assertions"), out);
  assert.strictEqual(lines.at(-1), "5 passed, 3 failed, 1 error outside assertions", out);
  assert.strictEqual(code, 1, out);
});

test("type harness at an earlier commit (--ref) where every assertion holds exits 0", { timeout: 150_000 }, async () => {
  const { code, out, lines } = await runHarness("run-types.sh", [path.join(fake, ".git"), "--ref", "HEAD~1", "--impl", "socket.io"], {
    limitMs: 140_000,
  });
  assert.ok(lines.some((l) => /^upstream: .*\(git HEAD~1, commit [0-9a-f]{7,}\)$/.test(l)), out);
  assert.ok(lines.includes("type tests: test/holds.test-d.ts"), out);
  assert.strictEqual(lines.at(-1), "3 passed, 0 failed", out);
  assert.strictEqual(code, 0, out);
});
