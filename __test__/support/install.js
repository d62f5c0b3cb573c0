/**
 * Helpers for the install tests (__test__/install.test.js, __test__/slow/install-from-source.test.js):
 * the packages packed as a release makes them, an empty project to install them into, and a real
 * server and client run there. Every command is bounded, so that a hang fails the test.
 */
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { prebuiltTarget } = require("../../lib/prebuilt");
const { name } = require("../../package.json");

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE_PREBUILT = path.join(ROOT, "scripts", "package-prebuilt.js");

/** `npm install` as the tests run it: output of the install scripts shown, the cache first. */
const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--foreground-scripts"];

/**
 * Runs a command to its end, within `timeout` ms; resolves with its stdout and all its output,
 * rejects with the output if it fails. It leads a process group of its own, so that a timeout
 * also ends what it started (npm's cargo build).
 */
function run(command, args, { cwd = ROOT, env = process.env, timeout }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group ended meanwhile.
      }
    }, timeout);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, output });
      const how = timedOut ? `was killed after ${timeout} ms` : `exited with ${code}`;
      reject(Object.assign(new Error(`${command} ${args.join(" ")} ${how}:\n${output}`), { output }));
    });
  });
}

/** process.env with PATH stripped of every directory that holds cargo or rustc. */
function envWithoutRust() {
  const hasRust = (dir) => ["cargo", "rustc"].some((tool) => fs.existsSync(path.join(dir, tool)));
  const dirs = process.env.PATH.split(path.delimiter).filter((dir) => !hasRust(dir));
  return { ...process.env, PATH: dirs.join(path.delimiter) };
}

/** `npm pack`s `dir` into `destination`; resolves with the tarball's path. */
async function pack(dir, destination) {
  fs.mkdirSync(destination, { recursive: true });
  const { stdout } = await run("npm", ["pack", dir, "--json", "--pack-destination", destination], { timeout: 60000 });
  return path.join(destination, JSON.parse(stdout)[0].filename);
}

/**
 * Packs, into a new temporary directory, this machine's platform package made from this
 * checkout's build (as on a build machine), and the main package as `npm publish` sends it: with
 * the optionalDependencies its prepublishOnly script adds. Resolves with their paths.
 */
async function packRelease() {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "socket-io-rs-install-")));
  const npmDir = path.join(tmp, "npm");
  await run(process.execPath, [PACKAGE_PREBUILT, "--npm-dir", npmDir], { timeout: 30000 });
  const platform = await pack(path.join(npmDir, prebuiltTarget()), tmp);

  const unpacked = path.join(tmp, "unpacked");
  const plain = await pack(ROOT, unpacked);
  await run("tar", ["-xzf", plain, "-C", unpacked], { timeout: 30000 });
  const packageJson = path.join(unpacked, "package", "package.json");
  const addDependencies = [PACKAGE_PREBUILT, "--optional-dependencies", "--npm-dir", npmDir, "--package-json", packageJson];
  await run(process.execPath, addDependencies, { timeout: 30000 });
  const main = await pack(path.dirname(packageJson), tmp);
  return { tmp, platform, main };
}

/** An empty project in `dir`, as a user starts from. */
function emptyProject(dir, projectName) {
  const project = path.join(dir, projectName);
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: projectName, private: true }));
  return project;
}

/**
 * In `project`: a Server on a free loopback port, and a client over each transport emitting an
 * event with an ack. Resolves with the acks and the addon files the process loaded; the process
 * must end by itself once both are closed.
 */
async function exchangeEvents(project, env) {
  const script = `
    const { createServer } = require("node:http");
    const { Server } = require(${JSON.stringify(name)});
    const { io } = require("socket.io-client");
    const httpServer = createServer();
    const server = new Server(httpServer);
    server.on("connection", (socket) => socket.on("add", (a, b, ack) => ack(a + b)));
    httpServer.listen(0, "127.0.0.1", async () => {
      const url = "http://127.0.0.1:" + httpServer.address().port;
      const acks = [];
      for (const transport of ["polling", "websocket"]) {
        const client = io(url, { transports: [transport], reconnection: false });
        acks.push(await client.timeout(5000).emitWithAck("add", 40, 2));
        client.disconnect();
      }
      server.close();
      const addons = Object.keys(require.cache).filter((file) => file.endsWith(".node"));
      console.log(JSON.stringify({ acks, addons }));
    });`;
  const { stdout } = await run(process.execPath, ["-e", script], { cwd: project, env, timeout: 30000 });
  return JSON.parse(stdout);
}

/**
 * Packs the release once before the file's tests and removes it after them; returns a getter of
 * what `packRelease` made.
 */
function usePackedRelease() {
  const test = require("node:test");
  let release;
  test.before(async () => {
    release = await packRelease();
  });
  test.after(() => {
    if (release) fs.rmSync(release.tmp, { recursive: true, force: true });
  });
  return () => release;
}

module.exports = { NPM_INSTALL, run, envWithoutRust, packRelease, usePackedRelease, emptyProject, exchangeEvents };
