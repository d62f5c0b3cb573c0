/*
 * Self-check of the adapters harness (compat/run-adapters.sh), for CI, which
 * has neither the adapters' repositories nor Redis or PostgreSQL.
 *
 * It writes a tiny fake socket.io monorepo whose packages/socket.io-cluster-adapter
 * holds a TypeScript lib (which the harness must compile, as for the real
 * cluster adapter) and a test file with four describe blocks: one that passes
 * (and starts a child that outlives mocha, which the harness must end), one
 * with a failure, one that hangs, one pending only. It runs the harness on it
 * and checks the per-suite lines, the totals, the failures log, the exit code
 * and that no process of the suite is left:
 *   1. from the git dir, against upstream socket.io (--impl socket.io);
 *   2. from the work tree, against this package (the default impl), with --grep.
 * The first run may `npm ci` the cluster suite's pinned deps into the
 * harness's cache (~30 s cold); everything is bounded by timeouts.
 */
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { REPO, scratchDir, makeGitRepo, runHarness, escapeRegExp } = require("./support/compat-fixtures");

const PKG = "packages/socket.io-cluster-adapter";

const FAKE_FILES = {
  "package.json": JSON.stringify({ name: "socket.io", private: true }),
  [`${PKG}/package.json`]: JSON.stringify({ name: "@socket.io/cluster-adapter", version: "0.0.0-fake", main: "./dist/index.js" }),
  [`${PKG}/tsconfig.json`]: JSON.stringify({
    compilerOptions: { rootDir: "lib/", outDir: "./dist", target: "es2017", module: "commonjs", types: ["node"] },
    include: ["./lib/**/*"],
  }),
  [`${PKG}/lib/index.ts`]: `export const marker: string = "compiled from lib";\n`,
  [`${PKG}/test/index.ts`]: `
import expect = require("expect.js");
import { spawn } from "node:child_process";
import { realpathSync, writeFileSync } from "node:fs";
import { marker } from "..";

describe("@socket.io/cluster-adapter", () => {
  describe("passing", () => {
    it("loads the compiled adapter through its package.json", () => {
      expect(marker).to.be("compiled from lib");
    });
    it("gets the implementation chosen with --impl", () => {
      const resolved = realpathSync(require.resolve("socket.io"));
      if (process.env.COMPAT_SELFCHECK_IMPL === "socket.io") {
        expect(resolved).to.contain("/node_modules/socket.io/");
        expect(require("socket.io/package.json").version).to.be("4.8.4");
      } else {
        expect(resolved.startsWith(process.env.COMPAT_SELFCHECK_REPO + "/")).to.be(true);
      }
    });
    it("leaves a child process running", () => {
      const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      writeFileSync(process.env.COMPAT_SELFCHECK_PIDFILE, String(child.pid));
    });
  });
  describe("failing", () => {
    it("passes", () => expect(1).to.be(1));
    it("fails on purpose", () => expect(1).to.be(2));
  });
  describe("hanging", () => {
    it("hangs forever", function () {
      this.timeout(0);
      return new Promise(() => setInterval(() => {}, 1000));
    });
  });
  describe("pending", () => {
    it.skip("is pending", () => {});
  });
});
`,
};

// a killed orphan can stay a zombie until init reaps it (some sandboxes' init never does): not alive
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

const tmp = scratchDir("adapters-selfcheck-");
const fake = path.join(tmp, "fake-socket.io");
makeGitRepo(fake, [{ message: "fake cluster adapter", files: FAKE_FILES }]);

test("adapters harness on a fake cluster adapter from a git dir, against socket.io", { timeout: 150_000 }, async () => {
  const logDir = path.join(tmp, "logs-baseline");
  const pidFile = path.join(tmp, "child-baseline.pid");
  const { code, out, lines } = await runHarness(
    "run-adapters.sh",
    [path.join(fake, ".git"), "--impl", "socket.io", "--suite-timeout", "8", "--log-dir", logDir],
    { env: { COMPAT_SELFCHECK_IMPL: "socket.io", COMPAT_SELFCHECK_PIDFILE: pidFile }, limitMs: 140_000 },
  );
  const has = (re) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re} in:\n${out}`);
  has(/^adapter: @socket\.io\/cluster-adapter 0\.0\.0-fake \(.*, commit [0-9a-f]{7,} \d{4}-\d\d-\d\d\)$/);
  has(/^impl: socket\.io 4\.8\.4 from npm /);
  has(/^@socket\.io\/cluster-adapter > passing: 3 passed, 0 failed, 0 pending$/);
  has(/^@socket\.io\/cluster-adapter > failing: 1 passed, 1 failed, 0 pending$/);
  has(/^@socket\.io\/cluster-adapter > hanging: 0 passed, 1 failed, 0 pending \(timed out after 8s\)$/);
  has(/^@socket\.io\/cluster-adapter > pending: 0 passed, 0 failed, 1 pending$/);
  has(/^pending: 1$/);
  assert.strictEqual(lines.at(-1), "4 passed, 2 failed", out);
  assert.strictEqual(code, 1, `exit code with failures\n${out}`);

  const failures = fs.readFileSync(path.join(logDir, "failures.log"), "utf8");
  assert.match(failures, /FAIL: @socket\.io\/cluster-adapter > failing > fails on purpose\n.*expected 1 to equal 2/);
  assert.match(failures, /FAIL: @socket\.io\/cluster-adapter > hanging > hangs forever\n.*still running when the suite timed out/);
  assert.doesNotMatch(failures, /passing/);
  has(new RegExp(`^failing tests: ${escapeRegExp(logDir)}/failures\\.log`));

  const childPid = Number(fs.readFileSync(pidFile, "utf8"));
  assert.ok(childPid > 0 && !isAlive(childPid), `the child started by a test (pid ${childPid}) outlived the harness`);
});

test("adapters harness on a fake cluster adapter from a work tree, against this package", { timeout: 100_000 }, async () => {
  const pidFile = path.join(tmp, "child-rs.pid");
  const { code, out, lines } = await runHarness("run-adapters.sh", [fake, "--grep", "passing", "--log-dir", path.join(tmp, "logs-rs")], {
    env: { COMPAT_SELFCHECK_IMPL: "socket.io-rs", COMPAT_SELFCHECK_REPO: fs.realpathSync(REPO), COMPAT_SELFCHECK_PIDFILE: pidFile },
    limitMs: 90_000,
  });
  const has = (re) => assert.ok(lines.some((l) => re.test(l)), `no line matching ${re} in:\n${out}`);
  has(new RegExp(`^impl: socket\\.io-rs \\S+.* \\(${escapeRegExp(REPO)}\\)$`));
  has(/^@socket\.io\/cluster-adapter > passing: 3 passed, 0 failed, 0 pending$/);
  assert.strictEqual(lines.filter((l) => /: \d+ passed, \d+ failed, \d+ pending/.test(l)).length, 1, out);
  assert.strictEqual(lines.at(-1), "3 passed, 0 failed", out);
  assert.strictEqual(code, 0, out);
  assert.ok(!isAlive(Number(fs.readFileSync(pidFile, "utf8"))), "the child started by a test outlived the harness");
});

test("--adapter-impl socket.io-rs is refused where socket.io-rs has no adapter to put in", { timeout: 30_000 }, async () => {
  const fakeStreams = path.join(tmp, "fake-redis-streams");
  makeGitRepo(fakeStreams, [
    { message: "fake redis-streams adapter", files: { "package.json": JSON.stringify({ name: "@socket.io/redis-streams-adapter" }) } },
  ]);
  const refusals = [
    [[fake, "--adapter-impl", "socket.io-rs"], /--adapter-impl socket\.io-rs is for the redis-streams suite/],
    [[fakeStreams, "--adapter-impl", "socket.io-rs", "--impl", "socket.io"], /--adapter-impl socket\.io-rs needs --impl socket\.io-rs/],
    [[fakeStreams, "--adapter-impl", "npm"], /--adapter-impl must be upstream or socket\.io-rs, not 'npm'/],
  ];
  for (const [args, message] of refusals) {
    const { code, out } = await runHarness("run-adapters.sh", args, { limitMs: 20_000 });
    assert.strictEqual(code, 2, `exit code of ${args.join(" ")}\n${out}`);
    assert.match(out, message);
  }
});

test("the redis-streams shim aims socket.io-rs's adapter at the server of the test's node-redis client", () => {
  const { createClient, createCluster } = require("redis");
  const { redisServerOf } = require("../compat/lib/redis-streams-shim");
  assert.deepStrictEqual(redisServerOf(createClient()), { host: "localhost", port: 6379, username: undefined, password: undefined, db: undefined });
  assert.strictEqual(redisServerOf(createClient({ url: "redis://localhost:6389" })), "redis://localhost:6389");
  assert.deepStrictEqual(
    redisServerOf(createClient({ socket: { host: "127.0.0.1", port: 6390 }, username: "user", password: "secret", database: 2 })),
    { host: "127.0.0.1", port: 6390, username: "user", password: "secret", db: 2 },
  );
  const cluster = createCluster({ rootNodes: [{ url: "redis://localhost:7000" }, { url: "redis://localhost:7001" }] });
  assert.strictEqual(redisServerOf(cluster), "redis://localhost:7000");
});
