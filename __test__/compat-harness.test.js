/*
 * Self-check of the upstream-suite harness (compat/run-upstream.sh), for CI,
 * which cannot fetch the real upstream suite.
 *
 * It writes a tiny fake socket.io monorepo to a temp dir (packages/socket.io/test
 * with a passing file, a file that fails on purpose, one that hangs, one that
 * cannot load, plus uws.ts and index.ts that the harness must skip, and a
 * fixture whose git blob is deleted so the harness must generate it), runs the
 * harness on it, and checks the per-file lines, the final totals, the failures
 * log and the exit code:
 *   1. from the git dir, against upstream socket.io (--impl socket.io);
 *   2. from the work tree, against this package (the default impl), one file.
 * The first run may `npm ci` the pinned test deps into the harness's cache
 * (~15 s cold); everything is bounded by timeouts.
 */
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { REPO, scratchDir, git, makeGitRepo, runHarness, escapeRegExp } = require("./support/compat-fixtures");

const FAKE_TESTS = {
  "pass.ts": `
import * as sio from "..";
import expect from "expect.js";
import { statSync } from "fs";
import { join } from "path";

describe("fake suite: passing file", () => {
  it("imports the package under test from '..'", () => {
    expect(sio).to.be.an("object");
  });
  it("gets the implementation chosen with --impl, beside its own package.json", () => {
    if (process.env.COMPAT_SELFCHECK_IMPL === "socket.io") {
      expect(require("..").Server).to.be.a("function");
      expect(require("../package.json")).to.eql(require("socket.io/package.json"));
      expect(require("../package.json").version).to.be("4.8.4");
    } else {
      expect(require("..")).to.be(require(process.env.COMPAT_SELFCHECK_REPO));
      expect(require("../package.json")).to.eql(require(process.env.COMPAT_SELFCHECK_REPO + "/package.json"));
    }
  });
  it("has the generated fixture", () => {
    expect(statSync(join(__dirname, "fixtures", "big.json")).size).to.be.greaterThan(1e6);
  });
  it.skip("is pending", () => {});
});
`,
  "fail.ts": `
import expect from "expect.js";

describe("fake suite: failing file", () => {
  it("passes", () => expect(1).to.be(1));
  it("fails on purpose", () => expect(1).to.be(2));
});
`,
  "hang.ts": `
describe("fake suite: hanging file", () => {
  it("passes before the hang", () => {});
  it("hangs forever", function () {
    this.timeout(0);
    return new Promise(() => setInterval(() => {}, 1000));
  });
});
`,
  "broken.ts": `
throw new Error("broken on purpose at load time");
`,
  "uws.ts": `
import { App } from "uWebSockets.js";
describe("uws", () => it("must be skipped", () => { throw new Error("uws.ts ran"); }));
`,
  "index.ts": `
require("./pass");
require("./fail");
`,
  "support/util.ts": `
export const notATestFile = true;
`,
  "fixtures/big.json": `placeholder whose blob gets deleted`,
};

function makeFakeRepo(dir) {
  const testDir = path.join(dir, "packages", "socket.io", "test");
  const files = Object.fromEntries(Object.entries(FAKE_TESTS).map(([rel, text]) => [path.join("packages/socket.io/test", rel), text]));
  makeGitRepo(dir, [{ message: "fake upstream suite", files }]);
  // a blob missing from the git dir (as in partial mirrors) and from the work tree
  const bigJson = path.join(testDir, "fixtures", "big.json");
  const sha = git(dir, "hash-object", bigJson);
  fs.rmSync(path.join(dir, ".git", "objects", sha.slice(0, 2), sha.slice(2)));
  fs.rmSync(bigJson);
}

const tmp = scratchDir("compat-selfcheck-");
const fake = path.join(tmp, "fake-socket.io");
makeFakeRepo(fake);

test("harness on a fake suite from a git dir, against socket.io", { timeout: 100_000 }, async () => {
  const logDir = path.join(tmp, "logs-baseline");
  const { code, out, lines } = await runHarness(
    "run-upstream.sh",
    [path.join(fake, ".git"), "--impl", "socket.io", "--file-timeout", "6", "--log-dir", logDir],
    { env: { COMPAT_SELFCHECK_IMPL: "socket.io" }, limitMs: 90_000 },
  );
  const has = (re) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re} in:\n${out}`);
  has(/^upstream: .*\(git HEAD, commit [0-9a-f]{7,}\)$/);
  has(/^impl: socket\.io 4\.8\.4 /);
  has(/^missing from the checkout: test\/fixtures\/big\.json$/);
  has(/^generated test\/fixtures\/big\.json \(\d+ bytes\)/);
  has(/^skipped test\/uws\.ts: needs uWebSockets\.js, which is not on npm$/);
  has(/^skipped test\/index\.ts: /);
  has(/^test\/pass\.ts: 3 passed, 0 failed, 1 pending$/);
  has(/^test\/fail\.ts: 1 passed, 1 failed, 0 pending$/);
  has(/^test\/hang\.ts: 1 passed, 1 failed, 0 pending \(timed out after 6s\)$/);
  has(/^test\/broken\.ts: 0 passed, 1 failed, 0 pending \(crashed: failed to load, exit code \d+\)$/);
  assert.ok(!lines.some((l) => /^test\/(uws|index|support)/.test(l)), `a skipped file ran:\n${out}`);
  assert.strictEqual(lines.filter((l) => /^test\/.*: \d+ passed/.test(l)).length, 4, out);
  assert.strictEqual(lines.at(-1), "5 passed, 3 failed", out);
  assert.strictEqual(code, 1, `exit code with failures\n${out}`);

  const failures = fs.readFileSync(path.join(logDir, "failures.log"), "utf8");
  assert.match(failures, /FAIL: fake suite: failing file fails on purpose/);
  assert.match(failures, /expected 1 to equal 2/);
  assert.match(failures, /FAIL: fake suite: hanging file hangs forever\n.*still running when the file timed out/);
  assert.match(failures, /broken on purpose at load time/);
  assert.doesNotMatch(failures, /passing file/);
  has(new RegExp(`^failing tests: ${escapeRegExp(logDir)}/failures\\.log`));
});

test("harness on a fake suite from a work tree, against this package", { timeout: 100_000 }, async () => {
  const { code, out, lines } = await runHarness("run-upstream.sh", [fake, "pass.ts", "--log-dir", path.join(tmp, "logs-rs")], {
    env: { COMPAT_SELFCHECK_IMPL: "socket.io-rs", COMPAT_SELFCHECK_REPO: REPO },
    limitMs: 90_000,
  });
  const has = (re) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re} in:\n${out}`);
  has(/^upstream: .*\(work tree, commit [0-9a-f]{7,}\)$/);
  has(new RegExp(`^impl: socket\\.io-rs \\S+ \\(${escapeRegExp(REPO)}\\)$`));
  has(/^test\/pass\.ts: 3 passed, 0 failed, 1 pending$/);
  assert.strictEqual(lines.filter((l) => /^test\/.*: \d+ passed/.test(l)).length, 1, out);
  assert.strictEqual(lines.at(-1), "3 passed, 0 failed", out);
  assert.strictEqual(code, 0, out);
});
