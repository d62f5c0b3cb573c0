/**
 * The official client in a real browser (headless Chromium, /usr/bin/chromium; .ci/run installs
 * Debian's package): the page loads the client bundle this server serves, and runs acks with
 * binary and long payloads, then server pushes, over long-polling only and over the default
 * transports (polling, then the WebSocket upgrade). The browser keeps its HTTP connections alive,
 * so its polling requests are served by Rust after the first one on each connection: Node's HTTP
 * server must see only a few of them.
 */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { spawn } = require("node:child_process");
const { Server } = require("../..");

const CHROMIUM = "/usr/bin/chromium";
const ROUND_TRIPS = 300;
const PUSHES = 100;

/** The page: its report (what arrived, and how many requests its XHRs made) is its last event. */
function page(transports) {
  return `<!doctype html><script src="/socket.io/socket.io.js"></script><script>
performance.setResourceTimingBufferSize(100000);
const socket = io({ transports: ${JSON.stringify(transports)} });
socket.on("connect_error", (err) => socket.emit("report", { error: String(err) }));
socket.once("connect", async () => {
  let ok = 0;
  const failures = [];
  for (let i = 0; i < ${ROUND_TRIPS}; i++) {
    const payload = i % 10 === 0 ? { i, bin: new Uint8Array([i & 255, 1, 2, 3]), long: "é".repeat(3000) } : { i };
    const back = await socket.emitWithAck("echo", payload);
    const whole = back.i === i && (!payload.long || (back.long === payload.long && new Uint8Array(back.bin)[0] === (i & 255)));
    if (whole) ok++; else failures.push(i);
  }
  const pushed = [];
  const allPushed = new Promise((resolve) => socket.on("push", (n) => { pushed.push(n); if (pushed.length === ${PUSHES}) resolve(); }));
  socket.emit("pushMe", ${PUSHES});
  await allPushed;
  const xhrs = performance.getEntriesByType("resource").filter((e) => e.initiatorType === "xmlhttprequest").length;
  socket.emit("report", { ok, failures, pushed, xhrs });
});
</script>`;
}

/** Runs the page in Chromium against a fresh server; resolves with its report and what Node saw. */
async function runInBrowser(t, transports) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is needed (Debian's chromium package)`);
  const httpServer = http.createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(page(transports));
  });
  const io = new Server(httpServer);
  let nodeEngineRequests = 0;
  httpServer.on("request", (req) => {
    if (req.url.startsWith("/socket.io/?")) nodeEngineRequests++;
  });
  const reported = new Promise((resolve) => {
    io.on("connection", (socket) => {
      socket.on("echo", (payload, ack) => ack(payload));
      socket.on("pushMe", (count) => {
        for (let n = 0; n < count; n++) socket.emit("push", n);
      });
      socket.on("report", (report) => resolve({ ...report, transport: socket.conn.transport.name, nodeEngineRequests }));
    });
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "socket.io-rs-chromium-"));
  // As the machine's notes say: without the background-networking flags Chromium's own
  // connections fail on a closed network; --no-sandbox since CI runs as root.
  const browser = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${httpServer.address().port}/`,
    ],
    // Its own process group: the kill below ends Chromium's helper processes with it.
    { stdio: "ignore", detached: true },
  );
  const exited = new Promise((resolve) => browser.once("exit", resolve));
  t.after(async () => {
    process.kill(-browser.pid, "SIGKILL");
    await exited;
    io.close();
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10 });
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("no report from the page within 60 s")), 60000);
  });
  const gone = exited.then((code) => {
    throw new Error(`Chromium exited (${code}) before the page reported`);
  });
  try {
    return await Promise.race([reported, timeout, gone]);
  } finally {
    clearTimeout(timer);
  }
}

function assertDelivered(report) {
  assert.equal(report.error, undefined);
  assert.deepEqual(report.failures, []);
  assert.equal(report.ok, ROUND_TRIPS);
  assert.deepEqual(report.pushed, Array.from({ length: PUSHES }, (_, n) => n));
}

test("long-polling only: everything arrives, and Rust serves nearly every polling request", { timeout: 90000 }, async (t) => {
  const report = await runInBrowser(t, ["polling"]);
  assertDelivered(report);
  assert.equal(report.transport, "polling");
  assert.ok(report.xhrs >= ROUND_TRIPS, `the page made ${report.xhrs} polling requests`);
  // The handshake, and the first request on each of the browser's connections (a few).
  assert.ok(report.nodeEngineRequests <= 10, `Node saw ${report.nodeEngineRequests} of ${report.xhrs}`);
});

test("default transports: the upgrade to WebSocket happens, and everything arrives", { timeout: 90000 }, async (t) => {
  const report = await runInBrowser(t, ["polling", "websocket"]);
  assertDelivered(report);
  assert.equal(report.transport, "websocket");
});
