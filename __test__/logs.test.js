/**
 * Logs: `DEBUG=socket.io*,engine*` prints upstream's debug lines, from lib/ and from the Rust core
 * (engine sessions, upgrades, closes with their reason, recovery), under upstream's namespaces and
 * in the `debug` package's format; nothing without DEBUG. The server runs in a child process
 * whose stderr is read; the official client, in this process, drives it.
 */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const { fork } = require("node:child_process");
const { io: ioc } = require("socket.io-client");
const { waitFor, withTimeout } = require("./support/sio-helpers");

const SERVER = path.join(__dirname, "support", "logs-server.js");

/** A line as `debug` prints it to a stream that is not a terminal: `<ISO date> <namespace> <message>`. */
const PLAIN_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+) (.*)$/;
/** A colored line: `  <color>;1m<namespace> <reset><message> <color>m+<time><reset>`. */
const COLORED_LINE = /^ {2}\x1b\[(3\d|38;5;\d+);1m(\S+) \x1b\[0m(.*) \x1b\[(3\d|38;5;\d+)m\+\d+(ms|s|m|h|d)\x1b\[0m$/;

/**
 * Runs the server of `impl` with `env` through one client's life: handshake on polling, upgrade
 * to WebSocket, a heartbeat, an event with an ack, a broadcast, a cut connection that is
 * recovered, and a disconnection; then closes it. Resolves with what the server wrote to stderr, once it exited.
 */
async function runScenario(impl, env) {
  const child = fork(SERVER, [impl], {
    env: { ...process.env, DEBUG: undefined, DEBUG_COLORS: undefined, ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const events = [];
  const waiters = [];
  child.on("message", (message) => {
    events.push(message);
    for (const waiter of waiters.splice(0)) waiter();
  });
  /** The next reported event named `name` (those already reported count, in order). */
  const nextEvent = (name) =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          const index = events.findIndex((event) => event.event === name);
          if (index === -1) return waiters.push(check);
          resolve(events.splice(index, 1)[0]);
        };
        check();
      }),
      10000,
      `the server's "${name}"`,
    );
  let client;
  try {
    const { port } = await nextEvent("listening");
    client = ioc(`http://127.0.0.1:${port}`, { autoConnect: false, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    const upgraded = waitFor(client.io, "open").then(() => waitFor(client.io.engine, "upgrade"));
    client.connect();
    await waitFor(client, "connect");
    assert.strictEqual((await nextEvent("connection")).recovered, false);
    await withTimeout(upgraded, 5000, "the upgrade to WebSocket");
    await waitFor(client.io, "ping");
    assert.strictEqual(await withTimeout(client.emitWithAck("hello", 1), 5000, "the ack"), 2);
    const news = waitFor(client, "news");
    child.send("broadcast");
    await news;

    // A cut connection: the server keeps the session, and the client recovers it.
    client.io.engine.close();
    assert.strictEqual((await nextEvent("disconnect")).reason, "transport close");
    await waitFor(client, "connect");
    assert.strictEqual(client.recovered, true);
    assert.strictEqual((await nextEvent("connection")).recovered, true);

    client.disconnect();
    assert.strictEqual((await nextEvent("disconnect")).reason, "client namespace disconnect");
    child.send("close");
    const { code } = await withTimeout(exited, 10000, "the server process to exit");
    assert.strictEqual(code, 0, stderr);
    return stderr;
  } finally {
    if (client) client.close();
    child.kill();
  }
}

/** `[namespace, message]` of each plain line; fails on any line `debug` would not print. */
function parsePlain(stderr) {
  return stderr
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const match = PLAIN_LINE.exec(line);
      assert.ok(match, `not a debug line: ${JSON.stringify(line)}`);
      return [match[1], match[2]];
    });
}

function namespacesOf(lines) {
  return [...new Set(lines.map(([namespace]) => namespace))].sort();
}

/** Whether one of `lines` is in `namespace` and its message matches `pattern`. */
function hasLine(lines, namespace, pattern) {
  return lines.some(([ns, message]) => ns === namespace && pattern.test(message));
}

describe("debug logs", () => {
  it("DEBUG=socket.io*,engine* prints lib/'s lines and the core's under upstream's namespaces", async () => {
    const lines = parsePlain(await runScenario("socket.io-rs", { DEBUG: "socket.io*,engine*" }));
    const expected = [
      // lib/
      ["socket.io:server", /^incoming connection with id \S+$/],
      ["engine", /^handshaking client "\S+"$/],
      ["engine:polling", /^received "40\{/],
      ["socket.io:namespace", /^connection state recovered for sid \S+$/],
      ["socket.io:socket", /^got packet \{"type":2,"nsp":"\/","data":\["hello",1\],"id":0\}$/],
      ["socket.io:socket", /^closing socket - reason transport close$/],
      ["socket.io:socket", /^closing socket - reason client namespace disconnect$/],
      ["socket.io:client", /^client close with reason transport close$/],
      ["engine:transport", /^readyState updated from open to closed \(polling\)$/],
      // the core
      ["engine:socket", /^session opened sid=\S+ transport=polling revision=V4$/],
      ["engine:socket", /^might upgrade socket transport from "polling" to "websocket" sid=\S+$/],
      ["engine:ws", /^received "2probe" sid=\S+$/],
      ["engine:socket", /^got upgrade packet - upgrading sid=\S+$/],
      ["engine:socket", /^state updated from upgrading to websocket sid=\S+$/],
      ["engine:socket", /^writing ping packet - expecting pong within 2000ms sid=\S+$/],
      ["engine:socket", /^received packet pong sid=\S+$/],
      ["engine:socket", /^sending packet "message" \(30\[2\]\) sid=\S+$/],
      ["engine:socket", /^session closed sid=\S+ reason="transport close"$/],
      ["socket.io:namespace", /^replaying missed packets nsp=\/ offset=\d+ missed=0$/],
      ["socket.io-parser", /^decoded \{"type":2,"nsp":"\/","id":0,"data":\["hello",1\]\}$/],
      ["socket.io-parser", /^encoded \{"type":2,"nsp":"\/","data":\["news","hi","\d+"\]\} as 2\["news","hi","\d+"\]$/],
    ];
    const notFound = expected
      .filter(([namespace, pattern]) => !hasLine(lines, namespace, pattern))
      .map(([namespace, pattern]) => `${namespace} ${pattern}`);
    assert.deepStrictEqual(notFound, [], lines.map((line) => line.join(" ")).join("\n"));
  });

  it("prints nothing without DEBUG", async () => {
    assert.strictEqual(await runScenario("socket.io-rs", {}), "");
  });

  it("prints under the namespaces upstream socket.io prints in the same exchange", async () => {
    const ours = namespacesOf(parsePlain(await runScenario("socket.io-rs", { DEBUG: "socket.io*,engine*" })));
    const upstream = namespacesOf(parsePlain(await runScenario("socket.io", { DEBUG: "socket.io*,engine*" })));
    assert.deepStrictEqual(ours, upstream);
    assert.deepStrictEqual(ours, [
      "engine",
      "engine:polling",
      "engine:socket",
      "engine:transport",
      "engine:ws",
      "socket.io-parser",
      "socket.io:client",
      "socket.io:namespace",
      "socket.io:server",
      "socket.io:socket",
    ]);
  });

  it("enables exactly the namespaces DEBUG names, colored as `debug` colors them, in lib/ and in the core alike", async () => {
    const stderr = await runScenario("socket.io-rs", { DEBUG: "engine:ws,engine:socket", DEBUG_COLORS: "1" });
    const colors = new Map();
    const messages = new Map();
    for (const line of stderr.split("\n").filter((l) => l !== "")) {
      const match = COLORED_LINE.exec(line);
      assert.ok(match, `not a colored debug line: ${JSON.stringify(line)}`);
      const [, color, namespace, message, timeColor] = match;
      assert.strictEqual(timeColor, color);
      if (!colors.has(namespace)) colors.set(namespace, new Set());
      colors.get(namespace).add(color);
      messages.set(namespace, [...(messages.get(namespace) || []), message]);
    }
    assert.deepStrictEqual([...colors.keys()].sort(), ["engine:socket", "engine:ws"]);
    for (const [namespace, used] of colors) assert.strictEqual(used.size, 1, `${namespace}: ${[...used]}`);
    // engine:socket has lines from both sides: lib/engine/socket.js and src/engine.
    const socketLines = messages.get("engine:socket");
    assert.ok(socketLines.some((m) => m === "readyState updated from open to closed"), socketLines.join("\n"));
    assert.ok(socketLines.some((m) => /^session closed sid=/.test(m)), socketLines.join("\n"));
  });
});
