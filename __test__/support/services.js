/**
 * Real Redis and PostgreSQL servers for the cluster tests: started on a free loopback port in a
 * temporary directory, waited for until they accept connections, stopped by their pid.
 *
 * `.ci/run` installs Debian's redis-server when missing; PostgreSQL's binaries are looked up in
 * /usr/lib/postgresql/<version>/bin. A missing binary fails the test that needs it.
 */
"use strict";

const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

/** Bound on a service's start (PostgreSQL's initdb takes a few seconds on a loaded machine). */
const START_TIMEOUT = 30000;

/** A loopback port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `child` prints a line matching `ready`; rejects if it exits or takes too long. */
function waitForOutput(child, ready, what) {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${START_TIMEOUT} ms:\n${output}`)), START_TIMEOUT);
    const onData = (chunk) => {
      output += chunk;
      if (ready.test(output)) done();
    };
    const onExit = (code) => fail(new Error(`${what} exited with code ${code}:\n${output}`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stderr.off("data", onData);
      child.off("exit", onExit);
    };
    const done = () => {
      cleanup();
      resolve();
    };
    const fail = (err) => {
      cleanup();
      reject(err);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Sends `signal` to `child` and resolves once it has exited. */
function stopProcess(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/**
 * A redis-server without persistence on a free port. `restart()` stops it and starts a new one on
 * the same port, with nothing of the old one's data (as a crashed Redis without persistence).
 */
async function startRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "socket.io-rs-redis-"));
  const port = await freePort();
  let child;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    await waitForOutput(child, /Ready to accept connections/, "redis-server");
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid;
    },
    async restart() {
      await stopProcess(child);
      await start();
    },
    /** The number of entries in stream `key` (redis-cli XLEN). */
    streamLength(key) {
      return Number(execFileSync("redis-cli", ["-p", String(port), "XLEN", key], { encoding: "utf8" }).trim());
    },
    async stop() {
      await stopProcess(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The directory of PostgreSQL's server binaries (Debian's layout), the newest version first. */
function postgresBinDir() {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = path.join(root, version, "bin");
    if (fs.existsSync(path.join(dir, "initdb"))) return dir;
  }
  throw new Error("PostgreSQL's server binaries (initdb, postgres) are not installed");
}

/**
 * A throw-away PostgreSQL cluster (initdb in a temporary directory) on a free port, trusting
 * local connections. PostgreSQL refuses to run as root: as root, it runs as the `postgres` user
 * Debian's packages create.
 */
async function startPostgres() {
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "socket.io-rs-pg-"));
  const data = path.join(dir, "data");
  const port = await freePort();
  // As root, the server runs as the `postgres` user (it refuses root); spawn's uid/gid rather
  // than runuser, so that signals reach postgres itself.
  const owner = process.getuid && process.getuid() === 0 ? userIds("postgres") : {};
  if (owner.uid !== undefined) fs.chownSync(dir, owner.uid, owner.gid);
  execFileSync(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], { stdio: "ignore", ...owner });
  const postgresArgs = ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off"];
  const child = spawn(path.join(bin, "postgres"), postgresArgs, { stdio: ["ignore", "pipe", "pipe"], ...owner });
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  await waitForOutput(child, /database system is ready to accept connections/, "postgres");
  return {
    port,
    connection: { host: "127.0.0.1", port, user: "postgres", database: "postgres" },
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (no waiting for clients).
      await stopProcess(child, "SIGINT");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function userIds(name) {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(name + ":"));
  if (!line) throw new Error(`no ${name} user to run PostgreSQL as`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

module.exports = { startRedis, startPostgres, freePort, stopProcess };
