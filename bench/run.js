#!/usr/bin/env node
// Benchmarks: socket.io-rs against upstream socket.io and socketioxide (the published Rust
// server), side by side in the same run.
//
//   node bench/run.js                    full run (npm run bench): every scenario, A B C A B C x 3,
//                                        then the table, bench/results/ and BENCHMARKS.md
//   node bench/run.js --smoke            seconds-long version of every scenario with tiny counts,
//                                        correctness only (for CI), plus the verifier self-test;
//                                        socketioxide only if bench/socketioxide is built already
//   node bench/run.js --impl socket.io   some implementations only (comma-separated: socket.io,
//                                        socket.io-rs, socketioxide)
//   node bench/run.js --reps 5           repetitions per implementation (default 3)
//   node bench/run.js --only echo,idle   some scenarios only (then BENCHMARKS.md is left alone, but
//                                        for its cluster section when `cluster` is among them)
//   node bench/run.js --selftest         only check that the load generator catches bad deliveries
//   node bench/run.js --no-write         do not rewrite BENCHMARKS.md / latest results
//   node bench/run.js --rs-path DIR      load socket.io-rs from DIR (default: this checkout)
//   node bench/run.js --rs-before DIR    also measure the socket.io-rs in DIR (a checkout of an
//                                        earlier commit, built) as "socket.io-rs@before", in the
//                                        same run: before and after side by side
//   node bench/run.js --quiet-wait S     wait up to S s before each step for other load on the
//                                        machine to settle (default 0: each step records it anyway)
//   node bench/run.js --nice N           run server and load generator under `nice -n N` (N < 0
//                                        needs root): on a shared machine, other work then
//                                        takes less of the measured cores (and gets less itself)
//   node bench/run.js --scale F          multiply message counts by F (e.g. 0.3 for a quicker
//                                        full-size run; clients and payload sizes stay)
//
// Each step is a fresh server (bench/server.js, or bench/socketioxide's binary, pinned to core 0
// with taskset) and a fresh load generator (bench/loadgen, pinned to core 1); both cargo projects
// are built here when needed (`cargo build --release --locked`). The load generator measures the
// server's CPU time from /proc for the measured phase only and verifies every delivery; it exits
// non-zero on any loss, duplicate, reordering or corruption, and then this script exits non-zero
// too.
//
// The cluster scenario compares configurations instead of servers (CLUSTER_VARIANTS): per step a
// fresh redis-server (bench/redis-server.js) and two fixture nodes joined by a Redis Streams
// adapter. The receiving node, which holds every client, is the measured server on core 0; the
// sending node and redis-server share core 1 with the load generator. It needs redis-server on
// PATH and is skipped, with the reason, without it.
"use strict";

const { spawn, spawnSync, execFileSync } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { redisServerVersion, startRedisServer } = require("./redis-server");

const ROOT = path.resolve(__dirname, "..");
const BENCH = __dirname;
const LOADGEN_DIR = path.join(BENCH, "loadgen");
const LOADGEN = path.join(LOADGEN_DIR, "target", "release", "loadgen");
const SERVER = path.join(BENCH, "server.js");
const OXIDE_DIR = path.join(BENCH, "socketioxide");
const OXIDE = path.join(OXIDE_DIR, "target", "release", "socketioxide-bench");
const RESULTS = path.join(BENCH, "results");
const IMPLS = ["socket.io", "socket.io-rs", "socketioxide"];
// The earlier socket.io-rs of `--rs-before`: a column of its own, added to IMPLS when asked for.
const BEFORE = "socket.io-rs@before";
const PROFILE_NOTES = path.join(BENCH, "cluster-profile.md");
// Hand-written: the performance targets, and what profiles say about the ones not met.
const TARGET_NOTES = path.join(BENCH, "targets.md");

// The cluster scenario's columns: a server implementation and the cluster adapter of its nodes.
// `--impl` selects them by `impl`; the smoke test runs the `smoke` ones.
const CLUSTER_VARIANTS = [
  { id: "socket.io", impl: "socket.io", adapter: "redis-streams", smoke: true, label: "socket.io + @socket.io/redis-streams-adapter" },
  { id: "socket.io-rs+npm", impl: "socket.io-rs", adapter: "redis-streams", smoke: false, label: "socket.io-rs + @socket.io/redis-streams-adapter" },
  { id: "socket.io-rs", impl: "socket.io-rs", adapter: "rs-redis-streams", smoke: true, label: "socket.io-rs + socket.io-rs/redis-streams" },
];

// ----------------------------------------------------------------------------------------------
// Scenarios. `full` and `smoke` are load generator options; metrics name keys of its JSON output.

const SCENARIOS = [
  {
    id: "fanout-50",
    title: "fan-out, ~50 B",
    what: "1000 clients; `io.emit` 1000 times (10 emits per event-loop turn), ~50 B frames: 1 M deliveries",
    kind: "fanout",
    full: { clients: 1000, emits: 1000, size: 50, batch: 10 },
    smoke: { clients: 20, emits: 20, size: 50, batch: 10 },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU-s / 1M deliveries", better: "lower", digits: 2 },
      { key: "deliveries_per_s", label: "deliveries/s", better: "higher", si: true },
    ],
  },
  {
    id: "fanout-1k",
    title: "fan-out, ~1 KB",
    what: "1000 clients; `io.emit` 1000 times (10 emits per event-loop turn), ~1 KB frames: 1 M deliveries",
    kind: "fanout",
    full: { clients: 1000, emits: 1000, size: 1024, batch: 10 },
    smoke: { clients: 20, emits: 20, size: 1024, batch: 10 },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU-s / 1M deliveries", better: "lower", digits: 2 },
      { key: "deliveries_per_s", label: "deliveries/s", better: "higher", si: true },
      { key: "rss_after_kb", label: "RSS after the last delivery (MB)", better: "lower", scale: 1 / 1024, digits: 0 },
    ],
  },
  {
    id: "rooms",
    title: "rooms",
    what: "1000 clients in 100 rooms (10 each); `io.to(room).emit` 20000 times round-robin, ~50 B: 200 k deliveries",
    kind: "rooms",
    full: { clients: 1000, rooms: 100, emits: 20000, size: 50, batch: 10 },
    smoke: { clients: 20, rooms: 4, emits: 40, size: 50, batch: 10 },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU µs / delivery", better: "lower", digits: 2 },
      { key: "deliveries_per_s", label: "deliveries/s", better: "higher", si: true },
    ],
  },
  {
    id: "echo",
    title: "echo with ack",
    what: '100 clients, 4 requests in flight each, `socket.on("echo", (x, ack) => ack(x))`, 1000 acks per client: 100 k acks',
    kind: "echo",
    full: { clients: 100, inflight: 4, acks: 1000, size: 50 },
    smoke: { clients: 5, inflight: 4, acks: 20, size: 50 },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU-s / 1M acks", better: "lower", digits: 2 },
      { key: "p50_us", label: "latency p50 (ms)", better: "lower", scale: 1e-3, digits: 2 },
      { key: "p99_us", label: "latency p99 (ms)", better: "lower", scale: 1e-3, digits: 2 },
      { key: "p99_warm_us", label: "latency p99 after each client's first 100 acks (ms)", better: "lower", scale: 1e-3, digits: 2 },
    ],
  },
  {
    id: "polling-fanout",
    title: "fan-out, long-polling",
    what: "500 clients on HTTP long-polling only (never upgrading); `io.emit` 1000 times (10 emits per event-loop turn), ~50 B: 500 k deliveries",
    kind: "fanout",
    full: { clients: 500, emits: 1000, size: 50, batch: 10, transport: "polling" },
    smoke: { clients: 10, emits: 20, size: 50, batch: 10, transport: "polling" },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU-s / 1M deliveries", better: "lower", digits: 2 },
      { key: "deliveries_per_s", label: "deliveries/s", better: "higher", si: true },
    ],
  },
  {
    id: "polling-echo",
    title: "echo with ack, long-polling",
    what: "100 clients on HTTP long-polling only, 4 requests in flight each (queued ones share a POST), `ack(x)`, 500 acks per client: 50 k acks",
    kind: "echo",
    full: { clients: 100, inflight: 4, acks: 500, size: 50, transport: "polling" },
    smoke: { clients: 5, inflight: 4, acks: 20, size: 50, transport: "polling" },
    metrics: [
      { key: "cpu_s_per_million", label: "server CPU-s / 1M acks", better: "lower", digits: 2 },
      { key: "p50_us", label: "latency p50 (ms)", better: "lower", scale: 1e-3, digits: 2 },
      { key: "p99_us", label: "latency p99 (ms)", better: "lower", scale: 1e-3, digits: 2 },
      { key: "p99_warm_us", label: "latency p99 after each client's first 100 acks (ms)", better: "lower", scale: 1e-3, digits: 2 },
    ],
  },
  {
    id: "idle",
    title: "idle connections",
    what: "5000 WebSocket connections opened (100 handshakes in flight) and held; RSS after `global.gc()` (Node) before and after",
    kind: "idle",
    full: { clients: 5000, concurrency: 100, "hold-ms": 1000 },
    smoke: { clients: 50, concurrency: 20, "hold-ms": 100 },
    metrics: [
      { key: "rss_kb_per_conn", label: "server RSS KB / connection", better: "lower", digits: 1 },
      { key: "cpu_us_per_handshake", label: "server CPU µs / handshake (WebSocket)", better: "lower", digits: 0 },
    ],
  },
  {
    id: "burst",
    title: "burst",
    what: "1000 clients; 1000 `io.emit` in one synchronous loop (1 M deliveries queued at once), ~50 B",
    kind: "burst",
    full: { clients: 1000, emits: 1000, size: 50 },
    smoke: { clients: 20, emits: 20, size: 50 },
    metrics: [
      { key: "hwm_kb", label: "peak RSS (VmHWM, MB)", better: "lower", scale: 1 / 1024, digits: 0 },
      { key: "rss_after_kb", label: "RSS after the burst (MB)", better: "lower", scale: 1 / 1024, digits: 0 },
      { key: "first_delivery_ms", label: "first delivery after the emit loop starts (ms)", better: "lower", digits: 1 },
      { key: "wall_s", label: "time to deliver all (s)", better: "lower", digits: 2 },
    ],
  },
  {
    id: "cluster",
    title: "cluster (Redis Streams)",
    what:
      "one redis-server, node A (sender) and node B (receiver, all 1000 clients); A broadcasts `io.emit` 1000 times (10 per event-loop turn), ~50 B, " +
      "every delivery crossing Redis (1 M cross-node deliveries); then B broadcasts 1000 times itself (1 M local deliveries, the adapter in place)",
    kind: "cluster",
    full: { clients: 1000, emits: 1000, size: 50, batch: 10 },
    smoke: { clients: 20, emits: 20, size: 50, batch: 10 },
    metrics: [
      { key: "cpu_s_per_million", label: "receiving node CPU-s / 1M cross-node deliveries", better: "lower", digits: 2 },
      { key: "local_cpu_s_per_million", label: "receiving node CPU-s / 1M local deliveries", better: "lower", digits: 2 },
      { key: "cross_over_local", label: "receiving node CPU per delivery: cross-node / local", better: "lower", digits: 2 },
      { key: "peer_cpu_s_per_k_broadcasts", label: "sending node CPU-s / 1k broadcasts", better: "lower", digits: 3 },
      { key: "deliveries_per_s", label: "cross-node deliveries/s", better: "higher", si: true },
      { key: "redis_calls_per_broadcast", label: "Redis commands / broadcast", better: "lower", digits: 2 },
      { key: "redis_cpu_s_per_k_broadcasts", label: "redis-server CPU-s / 1k broadcasts", better: "lower", digits: 3 },
    ],
  },
  {
    id: "recovery",
    title: "recovery storm",
    what: "1000 clients with `connectionStateRecovery` drop their TCP connections, 1000 broadcasts, all reconnect with `{pid, offset}`: 1 M missed packets replayed",
    kind: "recovery",
    serverArgs: ["--recovery"],
    full: { clients: 1000, emits: 1000, size: 50, batch: 10, concurrency: 200 },
    smoke: { clients: 20, emits: 20, size: 50, batch: 10, concurrency: 20 },
    metrics: [
      { key: "cpu_s", label: "server CPU-s until all recovered", better: "lower", digits: 2 },
      { key: "wall_s", label: "wall s until all recovered", better: "lower", digits: 2 },
    ],
  },
];

// Faults for the verifier self-test: the fixture breaks one delivery, the load generator must fail
// (in the first scenario of that kind, or the one named).
const SELFTEST = [
  { fault: "drop", kind: "fanout", expect: "lost delivery" },
  { fault: "dup", kind: "fanout", expect: "duplicate" },
  { fault: "swap", kind: "fanout", expect: "lost delivery" },
  { fault: "corrupt", kind: "fanout", expect: "wrong payload" },
  { fault: "extra", kind: "fanout", expect: "extra delivery" },
  { fault: "wrongroom", kind: "rooms", expect: "wrong payload" },
  { fault: "badack", kind: "echo", expect: "wrong ack content" },
  { fault: "dup", scenario: "polling-fanout", expect: "duplicate" },
  { fault: "corrupt", scenario: "polling-fanout", expect: "wrong payload" },
  { fault: "badack", scenario: "polling-echo", expect: "wrong ack content" },
  { fault: "drop", scenario: "cluster", expect: "lost delivery" },
  { fault: "dup", scenario: "cluster", expect: "duplicate" },
];

// ----------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const o = { smoke: false, impls: IMPLS.slice(), reps: null, only: null, write: true, selftest: false, explicitImpl: false, quietWait: null, rsPath: ROOT, rsBefore: null, scale: 1, nice: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--smoke") o.smoke = true;
    else if (a === "--selftest") o.selftest = true;
    else if (a === "--no-write") o.write = false;
    else if (a === "--impl") {
      const v = val().split(",");
      for (const impl of v) if (!IMPLS.includes(impl)) usage(`--impl takes ${IMPLS.join(", ")} (comma-separated), not ${impl}`);
      o.impls = IMPLS.filter((impl) => v.includes(impl));
      o.explicitImpl = true;
    } else if (a === "--reps") {
      o.reps = Number(val());
      if (!Number.isInteger(o.reps) || o.reps < 1 || o.reps > 20) usage("--reps must be 1..20");
    } else if (a === "--nice") {
      o.nice = Number(val());
      if (!Number.isInteger(o.nice) || o.nice < -20 || o.nice > 19) usage("--nice must be an integer in -20..19");
    } else if (a === "--scale") {
      o.scale = Number(val());
      if (!(o.scale > 0 && o.scale <= 10)) usage("--scale must be in (0, 10]");
    } else if (a === "--rs-path") {
      o.rsPath = path.resolve(val());
    } else if (a === "--rs-before") {
      o.rsBefore = path.resolve(val());
    } else if (a === "--quiet-wait") {
      o.quietWait = Number(val());
      if (!(o.quietWait >= 0 && o.quietWait <= 60)) usage("--quiet-wait must be 0..60 seconds");
    } else if (a === "--only") {
      o.only = val().split(",");
      for (const id of o.only) if (!SCENARIOS.some((s) => s.id === id)) usage(`unknown scenario ${id}`);
    } else if (a === "-h" || a === "--help") usage();
    else usage(`unknown argument ${a}`);
  }
  if (o.rsBefore) {
    // Right after socket.io-rs, so that the two alternate in each repetition.
    IMPLS.splice(IMPLS.indexOf("socket.io-rs") + 1, 0, BEFORE);
    RATIOS.push({ of: "socket.io-rs", to: BEFORE, short: "rs/before" });
    SERVERS.columns = IMPLS.map((id) => ({ id, label: id }));
    if (o.impls.includes("socket.io-rs")) o.impls.splice(o.impls.indexOf("socket.io-rs") + 1, 0, BEFORE);
  }
  if (o.reps === null) o.reps = o.smoke ? 1 : 3;
  if (o.quietWait === null) o.quietWait = 0;
  return o;
}

function usage(err) {
  if (err) console.error(`bench/run.js: ${err}`);
  console.error(
    "usage: node bench/run.js [--smoke] [--impl socket.io,socket.io-rs,socketioxide] [--reps N] [--only id,id] [--selftest] [--no-write] [--rs-path DIR] [--rs-before DIR] [--quiet-wait S] [--scale F] [--nice N]\n" +
      `scenarios: ${SCENARIOS.map((s) => s.id).join(", ")}`,
  );
  process.exit(err ? 2 : 0);
}

// ----------------------------------------------------------------------------------------------
// Environment

function sh(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], ...opts }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model || "unknown";
  const meminfo = fs.readFileSync("/proc/meminfo", "utf8");
  const memKb = Number((meminfo.match(/^MemTotal:\s*(\d+)/m) || [])[1] || 0);
  let upstream = "?";
  try {
    upstream = require(path.join(ROOT, "node_modules", "socket.io", "package.json")).version;
  } catch {}
  return {
    nproc: Number(sh("nproc", [])) || os.cpus().length,
    cpu: model,
    mem_gib: Math.round((memKb / 1048576) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    rustc: sh("rustc", ["--version"]) || "?",
    socketio: upstream,
    socketioxide: (() => {
      try {
        const lock = fs.readFileSync(path.join(OXIDE_DIR, "Cargo.lock"), "utf8");
        return (lock.match(/name = "socketioxide"\nversion = "([^"]+)"/) || [])[1] || "?";
      } catch {
        return "?";
      }
    })(),
    commit: (sh("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]) || "?") + (sh("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"]) ? " + uncommitted changes" : ""),
    addon_built: (() => {
      try {
        return fs.statSync(path.join(ROOT, "socket-io-rs.node")).mtime.toISOString().replace(/\.\d+Z$/, "Z");
      } catch {
        return null;
      }
    })(),
    ulimit_n: Number(sh("sh", ["-c", "ulimit -n"])) || null,
  };
}

function canPin(nproc) {
  if (nproc < 2) return false;
  const r = spawnSync("taskset", ["-c", "1", "true"], { stdio: "ignore" });
  return r.status === 0;
}

// `cargo build --release --locked` of one of bench/'s own cargo projects.
function cargoBuild(dir, name) {
  const t0 = Date.now();
  const r = spawnSync("cargo", ["build", "--release", "--locked", "--manifest-path", path.join(dir, "Cargo.toml")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.error || r.status !== 0) {
    return { ok: false, output: (r.stdout || "") + (r.stderr || "") + (r.error ? String(r.error) : "") };
  }
  console.log(`${name}: ${/Compiling/.test(r.stderr || "") ? "built" : "up to date"} (${seconds} s)`);
  return { ok: true };
}

function buildLoadgen() {
  const r = cargoBuild(LOADGEN_DIR, "loadgen");
  if (!r.ok) {
    process.stderr.write(r.output);
    console.error("bench: building the load generator failed");
    process.exit(1);
  }
}

// socketioxide is a third-party crate tree (rustc >= 1.94, a minute's build): a failed build
// skips it, with the reason in the output. The smoke test (CI) never builds it from nothing: it
// runs socketioxide only when its binary is there already (brought up to date by cargo), or when
// asked for with --impl.
function prepareSocketioxide(opt) {
  if (opt.smoke && !opt.explicitImpl && !fs.existsSync(OXIDE)) {
    return { ok: false, reason: "not built, and the smoke test does not build it (`node bench/run.js --smoke --impl socketioxide` does)" };
  }
  const r = cargoBuild(OXIDE_DIR, "socketioxide");
  if (r.ok) return { ok: true };
  const lines = r.output.trim().split("\n");
  process.stderr.write(lines.slice(-15).join("\n") + "\n");
  return { ok: false, reason: `building bench/socketioxide failed: ${lines.filter((l) => /^error/.test(l))[0] || lines[lines.length - 1]}` };
}

// Is `require("..").Server` there? Checked in a child so a broken addon cannot take us down.
function rsStatus(rsPath) {
  const shown = JSON.stringify(rsPath === ROOT ? ".." : rsPath);
  const code = `let m; try { m = require(${JSON.stringify(rsPath)}); } catch (e) { console.log(${JSON.stringify(`cannot load socket.io-rs (require(${shown})): `)} + e.message); process.exit(3); }
if (typeof m.Server !== "function") { console.log(${JSON.stringify(`require(${shown}).Server is `)} + typeof m.Server + ": the socket.io-rs Server API has not landed yet"); process.exit(3); }`;
  const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 30000 });
  if (r.status === 0) return { ok: true };
  return { ok: false, reason: ((r.stdout || "") + (r.stderr || "")).trim() || `exit ${r.status}` };
}

// Busy cores right now (whole machine), from two /proc/stat samples `ms` apart.
function procStatBusy() {
  const l = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = l[3] + l[4];
  const total = l.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function busyCores(ms) {
  const a = procStatBusy();
  await new Promise((r) => setTimeout(r, ms));
  const b = procStatBusy();
  const ticks = Math.max(1, b.total - a.total);
  return ((b.busy - a.busy) / ticks) * os.cpus().length;
}

// Other work on this machine skews every number; wait (bounded) for a quiet moment.
async function waitQuiet(maxS) {
  const t0 = Date.now();
  let busy = await busyCores(300);
  while (busy > 0.3 && Date.now() - t0 < maxS * 1000) busy = await busyCores(500);
  return { background_cores: Math.round(busy * 100) / 100, quiet_wait_s: (Date.now() - t0) / 1000 };
}

// ----------------------------------------------------------------------------------------------
// One step: a fresh server and a fresh load generator.

let NICE = 0;

function pinned(core, cmd, args, pin) {
  let c = pin ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args];
  if (NICE) c = ["nice", ["-n", String(NICE), c[0], ...c[1]]];
  return c;
}

function httpGet(port, p, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: p, timeout: timeoutMs }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve(b));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

let RS_PATH = ROOT;
let RS_BEFORE = null;

// The ready line is `{"ready":true,"port":...,"control":...,"pid":...}`, or `{"unsupported":
// "<reason>"}` when the implementation lacks what the scenario needs (then the step shows n/a).
function startServer(impl, extra, pin, core = 0) {
  return new Promise((resolve, reject) => {
    const rs = impl === "socket.io-rs" ? ["--rs-path", RS_PATH] : impl === BEFORE ? ["--rs-path", RS_BEFORE] : [];
    const fixtureImpl = impl === BEFORE ? "socket.io-rs" : impl;
    const [cmd, args] =
      impl === "socketioxide"
        ? pinned(core, OXIDE, extra, pin)
        : pinned(core, process.execPath, ["--expose-gc", SERVER, "--impl", fixtureImpl, ...rs, ...extra], pin);
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let settled = false;
    const timer = setTimeout(() => fail(new Error("server did not report ready within 20 s")), 20000);
    const fail = (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      e.message += err ? `\n${err.trim().split("\n").slice(-10).join("\n")}` : "";
      reject(e);
    };
    child.stderr.on("data", (d) => {
      err = (err + d).slice(-8000);
    });
    child.stdout.on("data", (d) => {
      if (settled) return;
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      try {
        const info = JSON.parse(out.slice(0, nl));
        settled = true;
        clearTimeout(timer);
        resolve({ child, info, stderr: () => err });
      } catch (e) {
        fail(new Error(`bad ready line from server: ${out.slice(0, nl)}`));
      }
    });
    child.on("exit", (code, sig) => fail(new Error(`server exited early (${sig || code})`)));
    child.on("error", fail);
  });
}

async function stopServer(srv) {
  if (srv.child.exitCode !== null || srv.child.signalCode !== null) return;
  const exited = new Promise((r) => srv.child.once("exit", r));
  try {
    await httpGet(srv.info.control, "/quit", 3000);
  } catch {}
  const t = setTimeout(() => srv.child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

// `peers`: more load generator options, or other values for --control (the cluster scenario).
function runLoadgen(kind, params, srv, pin, timeoutS, peers = {}) {
  return new Promise((resolve) => {
    const la = [kind];
    const opts = { port: srv.info.port, control: srv.info.control, pid: srv.info.pid, "timeout-s": timeoutS, ...peers, ...params };
    for (const [k, v] of Object.entries(opts)) la.push(`--${k}`, v);
    const [cmd, args] = pinned(1, LOADGEN, la.map(String), pin);
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err = (err + d).slice(-8000)));
    const killer = setTimeout(() => {
      err += `\nbench: load generator killed after ${timeoutS + 30} s`;
      child.kill("SIGKILL");
    }, (timeoutS + 30) * 1000);
    child.on("error", (e) => {
      clearTimeout(killer);
      resolve({ ok: false, error: `cannot run ${LOADGEN}: ${e.message}` });
    });
    child.on("exit", (code, sig) => {
      clearTimeout(killer);
      const line = out.trim().split("\n").pop() || "";
      let res = null;
      try {
        res = JSON.parse(line);
      } catch {}
      if (code === 0 && res && res.ok) return resolve(res);
      const error = (res && res.error) || err.trim() || `load generator exited with ${sig || code}`;
      resolve({ ...(res || {}), ok: false, error, exit: sig || code });
    });
  });
}

async function runStep(sc, impl, params, pin, timeoutS, extraServerArgs = []) {
  if (sc.kind === "cluster") return runClusterStep(sc, impl, params, pin, timeoutS, extraServerArgs);
  let srv;
  try {
    srv = await startServer(impl, [...(sc.serverArgs || []), ...extraServerArgs], pin);
  } catch (e) {
    return { ok: false, error: `server: ${e.message}` };
  }
  if (srv.info.unsupported) {
    await stopServer(srv);
    return { ok: true, na: String(srv.info.unsupported) };
  }
  const res = await runLoadgen(sc.kind, params, srv, pin, timeoutS);
  if (!res.ok) {
    const se = srv.stderr().trim();
    if (se) res.server_stderr = se.split("\n").slice(-10).join("\n");
  }
  await stopServer(srv);
  return res;
}

// One step of the cluster scenario (`variantId` names a CLUSTER_VARIANTS entry): a fresh
// redis-server and node A on core 1 with the load generator, node B (every client, the measured
// server) on core 0.
async function runClusterStep(sc, variantId, params, pin, timeoutS, extraServerArgs) {
  const variant = CLUSTER_VARIANTS.find((v) => v.id === variantId);
  let redis;
  try {
    redis = await startRedisServer((cmd, args) => pinned(1, cmd, args, pin));
  } catch (e) {
    return { ok: false, error: `redis-server: ${e.message}` };
  }
  const nodeArgs = ["--cluster", variant.adapter, "--redis-url", `redis://127.0.0.1:${redis.port}`, ...extraServerArgs];
  const nodes = [];
  try {
    const receiver = await startServer(variant.impl, nodeArgs, pin, 0);
    nodes.push(receiver);
    if (receiver.info.unsupported) return { ok: true, na: String(receiver.info.unsupported) };
    const sender = await startServer(variant.impl, nodeArgs, pin, 1);
    nodes.push(sender);
    const peers = { control: sender.info.control, "local-control": receiver.info.control, "peer-pid": sender.info.pid, "redis-port": redis.port, "redis-pid": redis.pid };
    const res = await runLoadgen(sc.kind, params, receiver, pin, timeoutS, peers);
    if (!res.ok) {
      const se = nodes.map((n, i) => [["receiving node", "sending node"][i], n.stderr().trim()]).filter(([, e]) => e);
      if (se.length) res.server_stderr = se.map(([who, e]) => `${who}: ${e.split("\n").slice(-10).join("\n")}`).join("\n");
    }
    return { ...res, adapter: variant.adapter, server_impl: variant.impl };
  } catch (e) {
    return { ok: false, error: `server: ${e.message}` };
  } finally {
    for (const n of nodes) await stopServer(n);
    await redis.stop();
  }
}

// ----------------------------------------------------------------------------------------------
// Formatting

function fmtNum(v, m) {
  if (v === undefined || v === null || Number.isNaN(v)) return "–";
  const x = v * (m.scale || 1);
  if (m.si) {
    if (Math.abs(x) >= 1e6) return (x / 1e6).toFixed(2) + " M";
    if (Math.abs(x) >= 1e3) return (x / 1e3).toFixed(1) + " k";
    return x.toFixed(0);
  }
  return x.toFixed(m.digits ?? 2);
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function summarize(results, scenarios, impls) {
  const rows = [];
  for (const sc of scenarios) {
    for (const m of sc.metrics) {
      const cell = {};
      for (const impl of impls) {
        const mine = results.filter((r) => r.scenario === sc.id && r.impl === impl);
        const vals = mine.filter((r) => r.ok && typeof r[m.key] === "number").map((r) => r[m.key]);
        const failed = mine.filter((r) => !r.ok).length;
        const na = mine.find((r) => r.na);
        if (na) cell[impl] = { na: na.na, failed };
        else cell[impl] = vals.length ? { med: median(vals), min: Math.min(...vals), max: Math.max(...vals), n: vals.length, failed } : { failed };
      }
      rows.push({ sc, m, cell });
    }
  }
  return rows;
}

function cellText(c, m) {
  if (c && c.na) return "n/a";
  if (!c || c.med === undefined) return c && c.failed ? "FAILED" : "pending";
  const range = c.n > 1 ? ` (${fmtNum(c.min, m)}–${fmtNum(c.max, m)})` : "";
  return fmtNum(c.med, m) + range + (c.failed ? ` [${c.failed} failed]` : "");
}

// The ratio columns: socket.io-rs divided by each of the others.
const RATIOS = [
  { of: "socket.io-rs", to: "socket.io", short: "rs/upstream" },
  { of: "socket.io-rs", to: "socketioxide", short: "rs/oxide" },
];

// A table's columns and ratio columns: the servers side by side, or the cluster configurations.
const SERVERS = { columns: IMPLS.map((id) => ({ id, label: id })), ratios: RATIOS };
const CLUSTER = {
  columns: CLUSTER_VARIANTS.map(({ id, label }) => ({ id, label })),
  ratios: [
    { of: "socket.io-rs", to: "socket.io", short: "rs/upstream", title: "socket.io-rs/redis-streams vs upstream" },
    { of: "socket.io-rs", to: "socket.io-rs+npm", short: "rs/rs+npm", title: "socket.io-rs/redis-streams vs the npm adapter on socket.io-rs" },
  ],
};

function groupOf(sc) {
  return sc.kind === "cluster" ? CLUSTER : SERVERS;
}

function ratioText(row, ratio) {
  const a = row.cell[ratio.to];
  const b = row.cell[ratio.of];
  if (!a || !b || a.med === undefined || b.med === undefined || !a.med) return "–";
  const r = b.med / a.med;
  return (r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toFixed(3)) + "×";
}

// One line per scenario and implementation that could not run it, with the reason.
function naNotes(rows, group = SERVERS) {
  const notes = new Map();
  for (const r of rows) for (const { id } of group.columns) if (r.cell[id] && r.cell[id].na) notes.set(`${id}|${r.sc.id}`, `${id}, ${r.sc.title}: ${r.cell[id].na}`);
  return [...notes.values()];
}

function textTable(rows, group = SERVERS) {
  const head = ["scenario", "metric", ...group.columns.map((c) => `${c.id}  median (min–max)`), ...group.ratios.map((x) => x.short)];
  const body = rows.map((r) => [
    r.sc.id,
    `${r.m.label} ${r.m.better === "lower" ? "↓" : "↑"}`,
    ...group.columns.map((c) => cellText(r.cell[c.id], r.m)),
    ...group.ratios.map((x) => ratioText(r, x)),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => c.padEnd(w[i])).join("  ");
  const notes = naNotes(rows, group).map((n) => `n/a: ${n}`);
  return [line(head), w.map((x) => "-".repeat(x)).join("  "), ...body.map(line), ...notes].join("\n");
}

function mdTable(rows, group = SERVERS) {
  const { columns, ratios } = group;
  const out = [
    `| scenario | metric | ${columns.map((c) => `${c.label}: median (min–max)`).join(" | ")} | ${ratios.map((x) => x.title || `${x.of} / ${x.to}`).join(" | ")} |`,
    `| --- | --- | ${columns.map(() => "---:").join(" | ")} | ${ratios.map(() => "---:").join(" | ")} |`,
  ];
  for (const r of rows) {
    out.push(
      `| ${r.sc.title} | ${r.m.label} (${r.m.better} is better) | ${columns.map((c) => cellText(r.cell[c.id], r.m)).join(" | ")} | ${ratios.map((x) => ratioText(r, x)).join(" | ")} |`,
    );
  }
  return out.join("\n");
}

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Small multiples: one panel per metric, one bar per implementation (median, min–max whisker).
function svgChart(rows, title, subtitle) {
  const W = 820;
  const panelH = 30 + 22 * IMPLS.length;
  const top = 58;
  const left = 150;
  const barW = 560;
  const colors = { "socket.io": "#7f8c8d", "socket.io-rs": "#e67e22", [BEFORE]: "#f5cba7", socketioxide: "#2e86c1" };
  const parts = [];
  let y = top;
  for (const r of rows) {
    const m = r.m;
    const vals = IMPLS.map((i) => r.cell[i]).filter((c) => c && c.med !== undefined);
    const max = Math.max(1e-12, ...vals.map((c) => c.max * (m.scale || 1)));
    const ratios = RATIOS.map((x) => [x.short, ratioText(r, x)]).filter(([, t]) => t !== "–");
    parts.push(
      `<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${esc(r.sc.title)} — ${esc(m.label)}</text>` +
        `<text x="${W - 10}" y="${y + 14}" font-size="11" text-anchor="end" fill="#555">${m.better} is better${ratios.map(([k, t]) => `; ${k} ${esc(t)}`).join("")}</text>`,
    );
    IMPLS.forEach((impl, k) => {
      const by = y + 22 + k * 22;
      const c = r.cell[impl];
      parts.push(`<text x="${left - 8}" y="${by + 13}" font-size="12" text-anchor="end">${impl}</text>`);
      if (!c || c.med === undefined) {
        const text = c && c.na ? `n/a: ${c.na}` : c && c.failed ? "failed" : "pending";
        parts.push(`<text x="${left + 4}" y="${by + 13}" font-size="12" fill="#999" font-style="italic">${esc(text)}</text>`);
        return;
      }
      const sx = (v) => left + (v * (m.scale || 1) / max) * barW;
      const w = Math.max(1, sx(c.med) - left);
      parts.push(`<rect x="${left}" y="${by + 2}" width="${w.toFixed(1)}" height="14" fill="${colors[impl]}"/>`);
      if (c.n > 1) {
        const x1 = sx(c.min).toFixed(1);
        const x2 = sx(c.max).toFixed(1);
        parts.push(
          `<line x1="${x1}" y1="${by + 9}" x2="${x2}" y2="${by + 9}" stroke="#222" stroke-width="1.2"/>` +
            `<line x1="${x1}" y1="${by + 4}" x2="${x1}" y2="${by + 14}" stroke="#222"/><line x1="${x2}" y1="${by + 4}" x2="${x2}" y2="${by + 14}" stroke="#222"/>`,
        );
      }
      const lx = Math.max(sx(c.max), sx(c.med)) + 6;
      parts.push(`<text x="${lx.toFixed(1)}" y="${by + 13}" font-size="12">${esc(fmtNum(c.med, m))}</text>`);
    });
    y += panelH;
  }
  const H = y + 10;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    `<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>\n` +
    `<text x="10" y="42" font-size="12" fill="#555">${esc(subtitle)}</text>\n` +
    parts.join("\n") +
    "\n</svg>\n"
  );
}

function stepSummary(sc, res) {
  if (!res.ok) return `FAILED: ${String(res.error).split("\n")[0]}`;
  if (res.na) return `n/a: ${res.na}`;
  const bits = sc.metrics.map((m) => `${fmtNum(res[m.key], m)} ${m.label.replace(/^server /, "")}`);
  const pct = (x) => `${Math.round((x || 0) * 100)}%`;
  let s = `${bits.join(", ")}  [cores: server ${pct(res.server_util)}, loadgen ${pct(res.loadgen_util)}, others ${pct(res.other_util)}]`;
  if (typeof res.server_core_other_util === "number" && res.server_core_other_util > 0.1 && res.wall_s >= 1) s += ` NOISY: ${pct(res.server_core_other_util)} of the server's core went elsewhere`;
  if (res.loadgen_util > 0.8) s += " LOADGEN-BOUND: wall-time numbers describe the load generator";
  return s;
}

// ----------------------------------------------------------------------------------------------

// Message counts times `f` (rooms: a whole number of rounds); clients and sizes stay.
function scaled(params, f, sc) {
  if (f === 1) return params;
  const p = { ...params };
  if (p.emits) {
    const unit = sc.kind === "rooms" ? p.rooms : 1;
    p.emits = Math.max(unit, Math.round((p.emits * f) / unit) * unit);
  }
  if (p.acks) p.acks = Math.max(1, Math.round(p.acks * f));
  return p;
}

function stamp(d) {
  return d.toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
}

async function selftest(pin, log) {
  let pass = 0;
  let fail = 0;
  const redis = redisServerVersion() !== null;
  for (const t of SELFTEST) {
    const sc = SCENARIOS.find((s) => (t.scenario ? s.id === t.scenario : s.kind === t.kind));
    if (sc.kind === "cluster" && !redis) {
      log(`selftest ${`${t.fault} (${sc.id})`.padEnd(26)} skipped: ${NO_REDIS}`);
      continue;
    }
    const params = { ...sc.smoke, "grace-ms": 300 };
    const res = await runStep(sc, "socket.io", params, pin, 15, ["--fault", t.fault]);
    const caught = !res.ok && String(res.error).includes(t.expect);
    if (caught) pass++;
    else fail++;
    log(
      `selftest ${`${t.fault} (${sc.id})`.padEnd(26)} ${caught ? "ok: loadgen failed as it must" : "NOT CAUGHT"} (${res.ok ? "run passed" : String(res.error).split("\n")[0].slice(0, 140)})`,
    );
  }
  return { pass, fail };
}

const NO_REDIS = "redis-server is not on PATH (apt-get install redis-server)";

// The columns of a scenario that can run: the implementations, or the cluster configurations
// whose implementation can.
function columnsOf(sc, impls, opt) {
  if (sc.kind !== "cluster") return impls;
  return CLUSTER_VARIANTS.filter((v) => impls.includes(v.impl) && (!opt.smoke || v.smoke)).map((v) => v.id);
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  RS_PATH = opt.rsPath;
  RS_BEFORE = opt.rsBefore;
  NICE = opt.nice;
  const t0 = Date.now();
  const mach = machine();
  const pin = canPin(mach.nproc);
  console.log(
    `bench: ${opt.smoke ? "SMOKE (correctness only, numbers mean nothing)" : "full run"}; ${mach.nproc} cores (${mach.cpu}), node ${mach.node}, ${mach.rustc}; ` +
      (pin ? "server on core 0, loadgen on core 1" : "NOT pinned (taskset missing or fewer than 2 cores)") +
      (opt.nice ? `, nice ${opt.nice}` : ""),
  );
  if (mach.ulimit_n && mach.ulimit_n < 5200) console.log(`bench: warning: ulimit -n is ${mach.ulimit_n}; the idle scenario needs about 5100 descriptors per process`);
  buildLoadgen();
  fs.mkdirSync(RESULTS, { recursive: true });

  if (opt.selftest) {
    const st = await selftest(pin, console.log);
    console.log(`selftest: ${st.pass} passed, ${st.fail} failed`);
    process.exit(st.fail ? 1 : 0);
  }

  // which implementations can run
  let impls = opt.impls.slice();
  const skipped = {};
  if (impls.includes("socket.io-rs")) {
    const st = rsStatus(opt.rsPath);
    if (!st.ok) {
      skipped["socket.io-rs"] = st.reason;
      console.log(`bench: socket.io-rs ${opt.explicitImpl ? "cannot run" : "skipped"}: ${st.reason}`);
      if (opt.explicitImpl) process.exit(1);
      impls = impls.filter((i) => i !== "socket.io-rs");
    }
  }
  // the cluster scenario has no socketioxide configuration: alone, it needs no build of it
  const serverScenarios = SCENARIOS.some((s) => (!opt.only || opt.only.includes(s.id)) && s.kind !== "cluster");
  if (!serverScenarios) impls = impls.filter((i) => i !== "socketioxide");
  if (impls.includes("socketioxide")) {
    const st = prepareSocketioxide(opt);
    if (!st.ok) {
      skipped.socketioxide = st.reason;
      console.log(`bench: socketioxide ${opt.explicitImpl ? "cannot run" : "skipped"}: ${st.reason}`);
      if (opt.explicitImpl) process.exit(1);
      impls = impls.filter((i) => i !== "socketioxide");
    }
  }
  if (!fs.existsSync(path.join(ROOT, "node_modules", "socket.io")) && impls.includes("socket.io")) {
    console.error("bench: node_modules/socket.io is missing: run `npm install` first");
    process.exit(1);
  }

  let scenarios = SCENARIOS.filter((s) => !opt.only || opt.only.includes(s.id));
  let clusterSkipped = null;
  if (scenarios.some((s) => s.kind === "cluster")) {
    mach.redis = redisServerVersion();
    if (mach.redis === null) {
      clusterSkipped = NO_REDIS;
      console.log(`bench: cluster scenario skipped: ${NO_REDIS}`);
      scenarios = scenarios.filter((s) => s.kind !== "cluster");
    }
  }
  const total = scenarios.reduce((n, sc) => n + columnsOf(sc, impls, opt).length * opt.reps, 0);
  const runId = stamp(new Date());
  const outFile = path.join(RESULTS, opt.smoke ? "smoke.jsonl" : `run-${runId}.jsonl`);
  fs.writeFileSync(outFile, "");
  const results = [];
  let step = 0;
  let failed = 0;
  let notApplicable = 0;
  const idWidth = Math.max(...scenarios.map((sc) => sc.id.length));
  const colWidth = Math.max(12, ...scenarios.flatMap((sc) => columnsOf(sc, impls, opt).map((c) => c.length)));
  const timeoutS = opt.smoke ? 20 : 150;
  for (const sc of scenarios) {
    const params = scaled(opt.smoke ? sc.smoke : sc.full, opt.scale, sc);
    for (let rep = 1; rep <= opt.reps; rep++) {
      for (const impl of columnsOf(sc, impls, opt)) {
        step++;
        const ts = Date.now();
        const quiet = opt.quietWait > 0 ? await waitQuiet(opt.quietWait) : {};
        const res = await runStep(sc, impl, params, pin, timeoutS);
        const rec = { run: runId, time: new Date(ts).toISOString(), smoke: opt.smoke, scenario: sc.id, impl, rep, params, pinned: pin, ...quiet, ...res, scenario_kind: sc.kind };
        rec.scenario = sc.id;
        results.push(rec);
        fs.appendFileSync(outFile, JSON.stringify(rec) + "\n");
        if (!res.ok) failed++;
        if (res.na) notApplicable++;
        const dt = ((Date.now() - ts) / 1000).toFixed(1);
        console.log(`[${String(step).padStart(String(total).length)}/${total}] ${sc.id.padEnd(idWidth)} ${impl.padEnd(colWidth)} rep ${rep}/${opt.reps}  ${stepSummary(sc, res)}  (${dt} s)`);
        if (!res.ok && res.server_stderr) console.log(`    server stderr: ${res.server_stderr.replace(/\n/g, "\n    ")}`);
      }
    }
  }

  let st = { pass: 0, fail: 0 };
  if (opt.smoke && impls.includes("socket.io") && !opt.only) st = await selftest(pin, console.log);

  const elapsed = (Date.now() - t0) / 1000;
  const rows = summarize(results, scenarios.filter((sc) => sc.kind !== "cluster"), IMPLS);
  const clusterRows = summarize(results, scenarios.filter((sc) => sc.kind === "cluster"), CLUSTER.columns.map((c) => c.id));
  // the smoke test runs some cluster configurations only: the table shows those
  const smokeCluster = (c) => !opt.smoke || CLUSTER_VARIANTS.some((v) => v.id === c && v.smoke);
  const clusterShown = { columns: CLUSTER.columns.filter((c) => smokeCluster(c.id)), ratios: CLUSTER.ratios.filter((x) => smokeCluster(x.to)) };
  for (const [r, group] of [[rows, SERVERS], [clusterRows, clusterShown]]) {
    if (!r.length) continue;
    console.log("");
    console.log(textTable(r, group));
  }
  console.log("");
  console.log(`raw results: ${path.relative(ROOT, outFile)}`);

  const complete = !opt.smoke && !opt.only && opt.write && opt.scale === 1;
  if (complete) {
    fs.copyFileSync(outFile, path.join(RESULTS, "latest.jsonl"));
    const sub = `${mach.nproc} cores (${mach.cpu}), node ${mach.node}, socket.io ${mach.socketio}, socketioxide ${mach.socketioxide}, ${opt.reps} reps, ${new Date().toISOString().slice(0, 10)}, commit ${mach.commit}`;
    fs.writeFileSync(path.join(RESULTS, "chart.svg"), svgChart(rows, "socket.io-rs vs socket.io and socketioxide — median with min–max", sub));
    const cluster = clusterSection({ rows: clusterRows, mach, pin, opt, results, clusterSkipped });
    writeBenchmarksMd({ rows, mach, pin, opt, elapsed, skipped, failed, impls, results, cluster });
    console.log("wrote BENCHMARKS.md, bench/results/latest.jsonl and bench/results/chart.svg");
  } else if (!opt.smoke && opt.write && clusterRows.length) {
    spliceClusterSection(clusterSection({ rows: clusterRows, mach, pin, opt, results, clusterSkipped }));
    console.log("wrote the cluster section of BENCHMARKS.md");
  }
  const steps = results.length;
  const skippedCols = (sc) => (sc.kind === "cluster" ? CLUSTER_VARIANTS.filter((v) => skipped[v.impl] && (!opt.smoke || v.smoke)).length : Object.keys(skipped).length);
  let skippedN = scenarios.reduce((n, sc) => n + skippedCols(sc) * opt.reps, 0);
  if (clusterSkipped) {
    skippedN += CLUSTER_VARIANTS.filter((v) => opt.impls.includes(v.impl) && (!opt.smoke || v.smoke)).length * opt.reps;
    skipped.cluster = clusterSkipped;
  }
  const label = opt.smoke ? "smoke" : "bench";
  console.log(`total ${elapsed.toFixed(1)} s`);
  console.log(
    `${label}: ${steps - failed - notApplicable + st.pass} passed, ${failed + st.fail} failed` +
      `${notApplicable ? `, ${notApplicable} n/a` : ""}${skippedN ? `, ${skippedN} skipped (${Object.keys(skipped).join(", ")})` : ""}`,
  );
  process.exit(failed + st.fail ? 1 : 0);
}

const CLUSTER_BEGIN = "<!-- cluster section: written by bench/run.js, also by a run of the cluster scenario alone (--only cluster) -->";
const CLUSTER_END = "<!-- end of the cluster section -->";

function packageVersion(name) {
  try {
    return require(path.join(ROOT, "node_modules", name, "package.json")).version;
  } catch {
    return "?";
  }
}

/** The cluster section now in BENCHMARKS.md (markers included), or null. */
function currentClusterSection() {
  let text;
  try {
    text = fs.readFileSync(path.join(ROOT, "BENCHMARKS.md"), "utf8");
  } catch {
    return null;
  }
  const a = text.indexOf(CLUSTER_BEGIN);
  const b = text.indexOf(CLUSTER_END);
  return a >= 0 && b > a ? text.slice(a, b + CLUSTER_END.length).split("\n") : null;
}

function spliceClusterSection(lines) {
  const file = path.join(ROOT, "BENCHMARKS.md");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const a = text.indexOf(CLUSTER_BEGIN);
  const b = text.indexOf(CLUSTER_END);
  const section = lines.join("\n");
  const out = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + CLUSTER_END.length) : text.replace(/\n*$/, "\n\n") + section + "\n";
  fs.writeFileSync(file, out);
}

// The "Cluster (Redis Streams)" section of BENCHMARKS.md, between markers so that a run of the
// cluster scenario alone can replace it; null when the scenario did not run.
function clusterSection({ rows, mach, pin, opt, results }) {
  if (!rows.length) return null;
  const mine = results.filter((r) => r.scenario_kind === "cluster");
  const ok = mine.filter((r) => r.ok && !r.na);
  const params = (mine[0] && mine[0].params) || {};
  const cell = (key, id) => (rows.find((r) => r.m.key === key) || { cell: {} }).cell[id];
  const med = (key, id) => (cell(key, id) || {}).med;
  const lines = [CLUSTER_BEGIN, "", "## Cluster (Redis Streams)", ""];
  lines.push(
    "Broadcasts crossing nodes through Redis Streams, three configurations side by side in one run: upstream socket.io nodes with `@socket.io/redis-streams-adapter`, " +
      "socket.io-rs nodes with the same npm adapter, and socket.io-rs nodes with its own `socket.io-rs/redis-streams`. " +
      `Node A broadcasts, node B holds all ${params.clients} clients; the figure that matters is B's CPU per delivery that crossed Redis, next to B's CPU per delivery of a broadcast it makes itself.`,
  );
  lines.push("");
  const up = med("cpu_s_per_million", "socket.io");
  const rs = med("cpu_s_per_million", "socket.io-rs");
  const col = med("cross_over_local", "socket.io-rs");
  if (up !== undefined && rs !== undefined && col !== undefined) {
    const r = rs / up;
    lines.push(
      `Target (issue 14): the receiving node spends at most 1/10 of upstream's CPU per cross-node delivery — here ${r.toFixed(3)}× (${r <= 0.1 ? "met" : "NOT met"}) — ` +
        `and no more than 1.5× what it spends per local broadcast delivery — here ${col.toFixed(2)}× (${col <= 1.5 ? "met" : "NOT met"}).`,
    );
    lines.push("");
  }
  const failedN = mine.filter((r) => !r.ok).length;
  if (failedN) {
    lines.push(`**${failedN} step(s) FAILED in this run** (see the raw results).`);
    lines.push("");
  }
  if (opt.scale !== 1) {
    lines.push(
      `**Indicative figures**: a bounded run (\`--scale ${opt.scale}\`: ${params.emits} broadcasts per phase instead of ${SCENARIOS.find((sc) => sc.id === "cluster").full.emits}, ${params.clients} clients) ` +
        "on a machine shared with other work; CPU per delivery holds up better than wall-time figures under such load.",
    );
    lines.push("");
  }
  lines.push(`Median of ${opt.reps} run(s) per configuration, (min–max) across them. The last two columns divide socket.io-rs/redis-streams's figure by the others'.`);
  lines.push("");
  lines.push(mdTable(rows, CLUSTER));
  lines.push("");
  lines.push("Redis commands per broadcast in the cross-node phase, by command (median over runs):");
  lines.push("");
  for (const v of CLUSTER_VARIANTS) {
    const steps = ok.filter((r) => r.impl === v.id && r.redis_calls_per_broadcast_by_command);
    if (!steps.length) continue;
    const names = [...new Set(steps.flatMap((r) => Object.keys(r.redis_calls_per_broadcast_by_command)))].sort();
    const by = names.map((n) => `${n} ${median(steps.map((r) => r.redis_calls_per_broadcast_by_command[n] || 0)).toFixed(3)}`);
    const local = steps.filter((r) => r.local_redis_calls_per_broadcast_by_command);
    const localNames = [...new Set(local.flatMap((r) => Object.keys(r.local_redis_calls_per_broadcast_by_command)))].sort();
    const localBy = localNames.map((n) => `${n} ${median(local.map((r) => r.local_redis_calls_per_broadcast_by_command[n] || 0)).toFixed(3)}`);
    lines.push(`- ${v.label}: ${by.join(", ")}${localBy.length ? ` (local phase: ${localBy.join(", ")})` : ""}`);
  }
  const fanout = results.filter((r) => r.scenario === "fanout-50" && r.ok && typeof r.cpu_s_per_million === "number");
  if (fanout.length) {
    const f = (impl) => {
      const v = fanout.filter((r) => r.impl === impl).map((r) => r.cpu_s_per_million);
      return v.length ? median(v).toFixed(2) : "–";
    };
    lines.push("");
    lines.push(
      `For comparison, the fan-out scenario (~50 B, one node, no adapter) in the same run: socket.io ${f("socket.io")}, socket.io-rs ${f("socket.io-rs")} CPU-s / 1M deliveries.`,
    );
  }
  lines.push("");
  lines.push("### Setup");
  lines.push("");
  lines.push(
    `- \`${["node bench/run.js", ...process.argv.slice(2)].join(" ")}\`, ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}; repository at commit ${mach.commit}; ` +
      `redis-server ${mach.redis || "?"}, @socket.io/redis-streams-adapter ${packageVersion("@socket.io/redis-streams-adapter")} on the \`redis\` client ${packageVersion("redis")}, ` +
      `upstream socket.io ${mach.socketio}, Node ${mach.node}, ${mach.nproc} cores (${mach.cpu})`,
  );
  lines.push(
    "- Each step: a fresh redis-server (loopback, no persistence) and two fresh fixture processes (`bench/server.js --cluster redis-streams|rs-redis-streams`, stream `bench`, the adapters' other defaults). " +
      (pin
        ? "Node B, which holds every client and is the one measured, is pinned alone to core 0; node A, redis-server and the load generator share core 1. " +
          "On two cores this is what keeps B's figure clean: A's work is per broadcast (one XADD each), not per delivery, and redis-server's is small; core 1's load is reported below."
        : "NOT pinned (no taskset or fewer than 2 cores).") +
      (opt.nice ? ` Every process of the step ran under \`nice -n ${opt.nice}\`, so that other work on the machine took less of both cores.` : ""),
  );
  lines.push(
    "- Phases: a warm-up broadcast from A that every client must receive (both nodes read the stream before anything is measured); " +
      `the cross-node phase (A broadcasts ${params.emits} times, ${params.batch} per event-loop turn, ~${params.size} B frames); then the local phase (B broadcasts ${params.emits} times itself, the adapter in place: B appends to the stream and A reads it).`,
  );
  lines.push(
    "- Per phase: B's CPU (every thread, `/proc/<pid>/task/*/schedstat`) from just before the first broadcast to the moment the last client has its last message; A's and redis-server's CPU over the same interval; " +
      "`INFO commandstats` before and after (its own INFO calls left out), so the command counts hold everything both nodes sent meanwhile: A's XADDs and both nodes' XREADs. " +
      "Every delivery is verified as in the other scenarios: each client gets every sequence number exactly once, in order, byte-exact, and nothing more.",
  );
  if (ok.length) {
    const core1 = ok.filter((r) => r.wall_s > 0).map((r) => ((r.loadgen_cpu_s || 0) + (r.peer_cpu_s || 0) + (r.redis_cpu_s || 0)) / r.wall_s);
    const others = ok.map((r) => r.other_util).filter((x) => typeof x === "number");
    lines.push(
      `- Core 1 (node A + redis-server + load generator) was busy a median of ${Math.round(median(core1) * 100)}% (max ${Math.round(Math.max(...core1) * 100)}%) during the cross-node phases; ` +
        `other processes on the machine used a median of ${median(others).toFixed(2)} cores (max ${Math.max(...others).toFixed(2)}).`,
    );
  }
  if (fs.existsSync(PROFILE_NOTES)) {
    lines.push("");
    lines.push(fs.readFileSync(PROFILE_NOTES, "utf8").trim());
  }
  lines.push("");
  lines.push(CLUSTER_END);
  return lines;
}

function writeBenchmarksMd({ rows, mach, pin, opt, elapsed, skipped, failed, impls, results, cluster }) {
  const cmd = ["node bench/run.js", ...process.argv.slice(2)].join(" ");
  const lines = [];
  lines.push("# Benchmarks");
  lines.push("");
  lines.push(
    `socket.io-rs against upstream \`socket.io\` ${mach.socketio} and against socketioxide ${mach.socketioxide} (the published Rust socket.io server), side by side in the same run, on the same machine, ` +
      "with the same fixture (`bench/server.js`, public socket.io API only; `bench/socketioxide`, the same events, acks and broadcasts written with socketioxide's API) " +
      "and the same load generator (`bench/loadgen`, Rust). Targets are ratios to upstream measured in the same run, never absolute numbers; " +
      "socketioxide, with no JavaScript at all, shows how much of what remains is the machine's.",
  );
  lines.push("");
  lines.push("_This file is rewritten by `npm run bench` (`node bench/run.js`); edit `bench/run.js` instead._");
  lines.push("");
  for (const impl of IMPLS.filter((i) => !impls.includes(i))) {
    const why = skipped[impl] ? `${skipped[impl]}.` : `this run was restricted to ${impls.join(", ")} (\`--impl\`); \`npm run bench\` measures all three side by side.`;
    lines.push(`**${impl} numbers are pending**: ${why}`);
    lines.push("");
  }
  if (failed) {
    lines.push(`**${failed} step(s) FAILED in this run** (see bench/results/latest.jsonl).`);
    lines.push("");
  }
  lines.push("## Results");
  lines.push("");
  lines.push(
    `Median of ${opt.reps} runs per implementation, (min–max) across them. The last two columns are socket.io-rs divided by socket.io and by socketioxide.`,
  );
  lines.push("");
  lines.push(mdTable(rows));
  const notes = naNotes(rows);
  if (notes.length) {
    lines.push("");
    for (const n of notes) lines.push(`n/a: ${n}.`);
  }
  lines.push("");
  lines.push("![socket.io-rs vs socket.io and socketioxide](bench/results/chart.svg)");
  lines.push("");
  lines.push("Raw results, one JSON line per step (every field the load generator reports): `bench/results/latest.jsonl`.");
  lines.push("");
  if (fs.existsSync(TARGET_NOTES)) {
    lines.push(fs.readFileSync(TARGET_NOTES, "utf8").trim());
    lines.push("");
  }
  lines.push("## Machine and command");
  lines.push("");
  lines.push(`- \`nproc\`: ${mach.nproc}; CPU: ${mach.cpu} (/proc/cpuinfo); ${mach.mem_gib} GiB RAM; Linux ${mach.kernel}`);
  lines.push(`- Node ${mach.node}; ${mach.rustc}; upstream socket.io ${mach.socketio}; repository at commit ${mach.commit}${impls.includes("socket.io-rs") && mach.addon_built ? ` (socket-io-rs.node built ${mach.addon_built})` : ""}`);
  if (impls.includes(BEFORE)) {
    const before = sh("git", ["-C", RS_BEFORE, "rev-parse", "--short", "HEAD"]) || "?";
    lines.push(`- ${BEFORE}: the same package at commit ${before} (\`--rs-before\`), built, measured in the same run`);
  }
  if (impls.includes("socketioxide")) {
    lines.push(
      `- socketioxide ${mach.socketioxide} (bench/socketioxide/Cargo.lock) on hyper 1, built with the root crate's release profile; ` +
        "tokio's multi-thread runtime, which on the one core the server is pinned to runs one worker thread",
    );
  }
  lines.push(
    `- ${pin ? "server pinned to core 0, load generator to core 1 (`taskset -c`)" : "NOT pinned (no taskset or fewer than 2 cores)"}` +
      `${opt.nice ? `, both under \`nice -n ${opt.nice}\`` : ""}; \`ulimit -n\` ${mach.ulimit_n}`,
  );
  const npmCmd = process.argv.length > 2 ? `npm run bench -- ${process.argv.slice(2).join(" ")}` : "npm run bench";
  lines.push(`- command: \`${cmd}\` (\`${npmCmd}\`), ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}, took ${Math.round(elapsed)} s`);
  const others = results.filter((r) => typeof r.other_util === "number").map((r) => r.other_util);
  if (others.length) {
    const noisy = results.filter((r) => typeof r.server_core_other_util === "number" && r.server_core_other_util > 0.1).length;
    lines.push(
      `- other processes on the machine used a median of ${median(others).toFixed(2)} cores (max ${Math.max(...others).toFixed(2)}) during the measured phases; ` +
        `in ${noisy} of ${results.length} steps they took more than 10% of the server's core. Wall-time numbers (deliveries/s, latency, burst and recovery times) suffer most from that; CPU-time numbers much less.`,
    );
    const steal = results.filter((r) => typeof r.steal_s === "number" && r.wall_s > 0).map((r) => r.steal_s / r.wall_s);
    if (steal.length && Math.max(...steal) > 0.01) {
      lines.push(
        `- the hypervisor took (steal time) a median of ${(median(steal) * 100).toFixed(0)}% (max ${(Math.max(...steal) * 100).toFixed(0)}%) of one core's time during the measured phases.`,
      );
    }
  }
  lines.push("");
  lines.push("## Scenarios");
  lines.push("");
  for (const sc of SCENARIOS) lines.push(`- **${sc.title}** (\`${sc.id}\`): ${sc.what}.`);
  lines.push("");
  lines.push("## How it is measured");
  lines.push("");
  lines.push(
    "- Each step is a fresh server process (`node --expose-gc bench/server.js --impl socket.io|socket.io-rs`, or `bench/socketioxide/target/release/socketioxide-bench`) " +
      "and a fresh load generator; implementations alternate A B C A B C for every scenario.",
  );
  lines.push(
    "- The load generator (one single-threaded tokio runtime, one task per connection) speaks Engine.IO v4 / Socket.IO v5 itself, over WebSocket " +
      "(`GET /socket.io/?EIO=4&transport=websocket`, open packet, `40` CONNECT, pings answered) or, in the long-polling scenarios, over HTTP long-polling only, never upgrading " +
      "(handshake GET, then one GET always outstanding on one keep-alive connection and, on a second one, POSTs carrying every packet queued meanwhile, packets separated by `\\x1e`, as engine.io-client sends them). " +
      "It drives the fixture over an HTTP control port on 127.0.0.1.",
  );
  lines.push(
    "- socketioxide is set up to run the same scenarios, nothing more: `max_buffer_size` 2^20 packets (its default of 128 per connection makes `emit` fail in the burst, " +
      "where upstream and socket.io-rs queue without bound), `max_payload` 1 MB (upstream's `maxHttpBufferSize`), TCP_NODELAY (as Node's http.Server). " +
      "It runs each event handler in a task of its own, so its acks may overtake each other: the load generator matches every ack to its request by id.",
  );
  lines.push(
    "- Server CPU is read from `/proc/<pid>/task/*/schedstat` (ns; falls back to utime+stime from `/proc/<pid>/stat`) right before the measured phase starts " +
      "and right after the last delivery arrives, so connection setup is not counted (except in `idle`, whose measured phase is the handshakes). " +
      "Memory is VmRSS / VmHWM from `/proc/<pid>/status`; RSS after is read once the last delivery has arrived. " +
      "First delivery is the time from the start of the measured phase (the load generator's request that starts the emit loop) to the first broadcast any client receives.",
  );
  lines.push(
    "- Every delivery is verified: each client must receive every message exactly once, in order (the payload carries a sequence number, per room in `rooms`), " +
      "with byte-exact content (padding rotated per room, so a message in the wrong room fails too), every ack must carry what was sent, every recovered session must " +
      "keep its sid and get every missed packet with its offset; nothing more may arrive in a grace period afterwards. Any violation fails the step and the run " +
      "(`node bench/run.js --selftest` shows the checks catching injected faults).",
  );
  lines.push(
    "- Not counted as server CPU: softirq time on the server's core (`server_core_softirq_s` in the raw results). On loopback it is mostly the kernel delivering " +
      "the server's segments into the load generator's sockets, work a real network puts on the client's machine; the kernel charges it to no process.",
  );
  lines.push(
    "- `server_util` / `loadgen_util` in the raw results are each process's CPU over the measured wall time: the load generator must stay well below one core " +
      "for the wall-time numbers (deliveries/s, latency) to describe the server.",
  );
  lines.push("");
  const clusterLines = cluster ||
    currentClusterSection() || [CLUSTER_BEGIN, "", "## Cluster (Redis Streams)", "", "Pending: the cluster scenario has not run yet (it needs redis-server).", "", CLUSTER_END];
  lines.push(...clusterLines);
  lines.push("");
  fs.writeFileSync(path.join(ROOT, "BENCHMARKS.md"), lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
