/**
 * Shared helpers for the Socket.IO behaviour tests (__test__/sio-*.test.js, __test__/recovery-*.test.js).
 *
 * Everything here talks to the implementation under test only through its public API
 * (`require("./impl")`), real HTTP servers on 127.0.0.1, the real socket.io-client, and raw
 * HTTP / `ws` for protocol-level checks. Every wait is bounded so that a hang fails the test.
 */
"use strict";

const http = require("node:http");
const assert = require("node:assert");
const WebSocket = require("ws");
const { io: ioc } = require("socket.io-client");
const impl = require("./impl");

const { Server } = impl;

/** Both Engine.IO transports; most behaviours are asserted over each of them. */
const TRANSPORTS = ["polling", "websocket"];

/** Default bound for anything awaited in a test. */
const TIMEOUT = 5000;

/** Engine.IO payload separator used by the polling transport (EIO v4). */
const SEP = "\x1e";

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a descriptive error when `promise` does not settle within `ms`. */
function withTimeout(promise, ms = TIMEOUT, what = "operation") {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        const label = typeof what === "function" ? what() : what;
        reject(new Error(`timed out after ${ms}ms waiting for ${label}`));
      }, ms);
      // a forgotten wait must not keep the process alive (an awaited one fails the test anyway)
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the array of arguments of the next `event` emitted by `emitter` (a Node.js
 * EventEmitter or a socket.io-client emitter). Rejects after `ms`.
 */
function waitFor(emitter, event, ms = TIMEOUT) {
  let listener;
  const p = new Promise((resolve) => {
    listener = (...args) => resolve(args);
    emitter.once(event, listener);
  });
  return withTimeout(p, ms, `"${event}" event`).catch((err) => {
    emitter.off(event, listener);
    throw err;
  });
}

/**
 * Asserts that `event` is NOT emitted by `emitter` during a small bounded window.
 * This is the only place a fixed wait is used: to assert that something does not happen.
 */
async function expectNoEvent(emitter, event, ms = 200) {
  let fired = null;
  const listener = (...args) => {
    if (!fired) fired = args;
  };
  emitter.on(event, listener);
  await delay(ms);
  emitter.off(event, listener);
  if (fired) {
    throw new assert.AssertionError({
      message: `expected no "${event}" event, got one with ${safeStringify(fired)}`,
    });
  }
}

function safeStringify(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * "Success after N calls": returns a function to call from handlers; `fn.promise` resolves with
 * the list of argument arrays once it has been called `n` times (rejects after `ms`). Calls
 * beyond `n` are recorded in `fn.extra`; `fn.assertExact()` fails if there were any.
 */
function successAfter(n, ms = TIMEOUT) {
  const calls = [];
  let resolve;
  const inner = new Promise((r) => (resolve = r));
  const fn = (...args) => {
    calls.push(args);
    if (calls.length === n) resolve(calls.slice());
  };
  fn.calls = calls;
  fn.promise = withTimeout(inner, ms, () => `${n} calls (got ${calls.length})`);
  fn.promise.catch(() => {}); // reported when awaited
  fn.assertExact = () =>
    assert.strictEqual(calls.length, n, `expected exactly ${n} calls, got ${calls.length}`);
  if (n === 0) resolve([]);
  return fn;
}

/** Creates a deferred promise, bounded by `ms`. */
function deferred(ms = TIMEOUT, what = "deferred") {
  let resolve, reject;
  const p = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const bounded = withTimeout(p, ms, what);
  bounded.catch(() => {}); // avoid unhandled rejections when nobody awaits it
  return { promise: bounded, resolve, reject };
}

function listen(httpServer, port = 0, host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(port, host, () => {
      httpServer.off("error", reject);
      resolve(httpServer.address().port);
    });
  });
}

/** An http.Server that answers 404 to anything the Socket.IO server does not handle. */
function createHttpServer() {
  return http.createServer((req, res) => {
    res.writeHead(404);
    res.end();
  });
}

/**
 * Closes a Socket.IO server (and its HTTP server), bounded in time and idempotent.
 */
async function closeServer(io, httpServer) {
  const srv = httpServer || io.httpServer;
  try {
    const p = Promise.resolve(io.close());
    if (srv && typeof srv.closeAllConnections === "function") srv.closeAllConnections();
    await withTimeout(p, 3000, "io.close()").catch(() => {});
  } catch {
    // already closed
  }
  if (srv && srv.listening) {
    if (typeof srv.closeAllConnections === "function") srv.closeAllConnections();
    await withTimeout(new Promise((r) => srv.close(() => r())), 2000, "http close").catch(() => {});
  }
}

/**
 * Per-test harness: creates servers and clients and closes them all when the test ends
 * (clients first, then servers), so that the process can exit.
 */
function harness(t) {
  const clients = [];
  const servers = [];
  const cleanups = [];
  t.after(async () => {
    for (const c of clients) {
      try {
        c.disconnect();
        if (c.io && c.io.engine) c.io.engine.close();
      } catch {
        // ignore
      }
    }
    for (const fn of cleanups) {
      try {
        await fn();
      } catch {
        // ignore
      }
    }
    for (const { io, httpServer } of servers) await closeServer(io, httpServer);
  });

  const h = {
    /**
     * Starts `new Server(httpServer, opts)` on a real http.Server bound to 127.0.0.1:0.
     * Returns { io, httpServer, port, url }.
     */
    async server(opts = {}) {
      const httpServer = createHttpServer();
      const io = new Server(httpServer, opts);
      servers.push({ io, httpServer });
      const port = await listen(httpServer);
      return { io, httpServer, port, url: `http://127.0.0.1:${port}` };
    },

    /** Registers an already-built server for cleanup. */
    trackServer(io, httpServer) {
      servers.push({ io, httpServer });
      return io;
    },

    /** Registers a cleanup function. */
    cleanup(fn) {
      cleanups.push(fn);
    },

    /**
     * A socket.io-client socket (new Manager each time), not connected yet.
     * `target` is a port number or a base URL. Reconnection is off unless asked for.
     */
    client(target, nsp = "/", opts = {}) {
      const base = typeof target === "number" ? `http://127.0.0.1:${target}` : target;
      const socket = ioc(base + nsp, { forceNew: true, reconnection: false, ...opts });
      clients.push(socket);
      return socket;
    },

    /** Like client(), but resolves once the namespace is connected (rejects on connect_error). */
    async connect(target, nsp = "/", opts = {}) {
      const socket = h.client(target, nsp, opts);
      await connected(socket);
      return socket;
    },

    /** Tracks a client created elsewhere (e.g. with manager.socket()). */
    trackClient(socket) {
      clients.push(socket);
      return socket;
    },

    /** Raw Engine.IO polling session (see RawPolling). */
    async rawPolling(port, opts) {
      const raw = await RawPolling.open(port, opts);
      return raw;
    },

    /**
     * A raw session over either transport with one interface:
     *   send(packet) / next() -> next Engine.IO packet / close() (client-side close).
     * Over polling, binary attachments arrive as "b<base64>" packets.
     */
    async rawSession(port, transport, opts) {
      if (transport === "websocket") {
        const ws = await h.rawWebSocket(port, opts);
        return {
          transport,
          sid: ws.sid,
          handshake: ws.handshake,
          send: async (packet) => ws.send(packet),
          next: (ms) => ws.next(ms),
          close: async () => {
            ws.terminate();
            await ws.waitClosed();
          },
        };
      }
      const raw = await h.rawPolling(port, opts);
      const queue = [];
      return {
        transport,
        sid: raw.sid,
        handshake: raw.handshake,
        raw,
        send: async (packet) => {
          const res = await raw.send(packet);
          assert.strictEqual(res.status, 200, res.body);
        },
        next: async (ms) => {
          while (queue.length === 0) queue.push(...(await raw.poll(ms)));
          return queue.shift();
        },
        close: async () => {
          await raw.send("1");
        },
      };
    },

    /** Raw Engine.IO WebSocket session (see RawWebSocket). */
    async rawWebSocket(port, opts) {
      const raw = await RawWebSocket.open(port, opts);
      cleanups.push(() => raw.terminate());
      return raw;
    },
  };
  return h;
}

/** Resolves when a client socket is connected; rejects on connect_error or timeout. */
function connected(socket, ms = TIMEOUT) {
  if (socket.connected) return Promise.resolve(socket);
  return withTimeout(
    new Promise((resolve, reject) => {
      const onConnect = () => {
        socket.off("connect_error", onError);
        resolve(socket);
      };
      const onError = (err) => {
        socket.off("connect", onConnect);
        reject(err);
      };
      socket.once("connect", onConnect);
      socket.once("connect_error", onError);
    }),
    ms,
    `client connection to ${socket.nsp}`,
  );
}

/**
 * Connects `n` clients and resolves with { clients, sockets } where sockets[i] is the server
 * side socket of clients[i] (matched by id).
 */
async function connectMany(h, port, n, nsp = "/", opts = {}) {
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(h.client(port, nsp, opts));
  await Promise.all(clients.map((c) => connected(c)));
  return clients;
}

/**
 * A server (`serverOpts`), one client connected to namespace `nsp` over `transport`
 * (`clientOpts` added), and its server-side socket: `{ h, io, port, ..., client, socket }`, with
 * everything `h.server()` returns.
 */
async function connectedPair(t, transport, { serverOpts = {}, clientOpts = {}, nsp = "/" } = {}) {
  const h = harness(t);
  const srv = await h.server(serverOpts);
  const connection = waitFor(srv.io.of(nsp), "connection");
  const client = await h.connect(srv.port, nsp, { transports: [transport], ...clientOpts });
  const [socket] = await connection;
  return { h, ...srv, client, socket };
}

/** Finds the server-side socket for a connected client socket. */
function serverSocketOf(io, client, nsp = client.nsp) {
  const s = io.of(nsp).sockets.get(client.id);
  assert.ok(s, `no server socket for client ${client.id} in ${nsp}`);
  return s;
}

/** Plain HTTP request (no keep-alive). Resolves with { status, headers, body (string), raw (Buffer) }. */
function httpRequest(port, { method = "GET", path = "/", headers = {}, body } = {}, ms = TIMEOUT) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method, path, headers, agent: false },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const raw = Buffer.concat(chunks);
            resolve({ status: res.statusCode, headers: res.headers, raw, body: raw.toString("utf8") });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    }),
    ms,
    `${method} ${path}`,
  );
}

/** Resolves with the next request received by `httpServer` that matches `predicate`. */
function nextRequest(httpServer, predicate = () => true, ms = TIMEOUT) {
  let listener;
  const p = new Promise((resolve) => {
    listener = (req) => {
      if (predicate(req)) {
        httpServer.off("request", listener);
        resolve(req);
      }
    };
    httpServer.on("request", listener);
  });
  return withTimeout(p, ms, "http request").finally(() => httpServer.off("request", listener));
}

/**
 * A raw Engine.IO v4 long-polling session, for protocol-level checks.
 *   const raw = await RawPolling.open(port);  // raw.sid, raw.handshake (the open packet data)
 *   await raw.send("40");                     // one or more Engine.IO packets (strings)
 *   const packets = await raw.poll();         // array of Engine.IO packets (strings)
 */
class RawPolling {
  constructor(port, path, sid, handshake, query) {
    this.port = port;
    this.path = path;
    this.sid = sid;
    this.handshake = handshake;
    this.query = query;
  }

  static async open(port, { path = "/socket.io/", query = "", headers = {} } = {}) {
    const res = await httpRequest(port, {
      path: `${path}?EIO=4&transport=polling${query ? "&" + query : ""}`,
      headers,
    });
    assert.strictEqual(res.status, 200, `handshake failed: ${res.status} ${res.body}`);
    assert.strictEqual(res.body[0], "0", `unexpected open packet ${res.body}`);
    const handshake = JSON.parse(res.body.slice(1));
    return new RawPolling(port, path, handshake.sid, handshake, query);
  }

  url() {
    return `${this.path}?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
  }

  /** POSTs one packet or an array of packets; resolves with the response. */
  async send(packets) {
    const body = Array.isArray(packets) ? packets.join(SEP) : packets;
    return httpRequest(this.port, {
      method: "POST",
      path: this.url(),
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body,
    });
  }

  /** GETs (long-polls) the next payload; resolves with the array of packets. */
  async poll(ms = TIMEOUT) {
    const res = await httpRequest(this.port, { path: this.url() }, ms);
    if (res.status !== 200) {
      const err = new Error(`poll failed with ${res.status}: ${res.body}`);
      err.status = res.status;
      err.body = res.body;
      throw err;
    }
    return res.body.split(SEP);
  }

  /**
   * Starts a long-poll GET and resolves once `httpServer` has received it (so the server holds a
   * pending poll), with { response } where `response` resolves with the packets.
   */
  async pendingPoll(httpServer, ms = TIMEOUT) {
    const sidParam = `sid=${encodeURIComponent(this.sid)}`;
    const seen = nextRequest(httpServer, (req) => req.method === "GET" && req.url.includes(sidParam), ms);
    const response = this.poll(ms);
    response.catch(() => {}); // reported when awaited
    await seen;
    return { response };
  }

  /** Raw GET returning the full response (status/body), e.g. to assert on 400s. */
  pollResponse(ms = TIMEOUT) {
    return httpRequest(this.port, { path: this.url() }, ms);
  }

  /**
   * Polls until a packet matching `predicate` arrives (answering pings); resolves with
   * { packet, before } where `before` lists the packets received earlier.
   */
  async pollUntil(predicate, ms = TIMEOUT) {
    const deadline = Date.now() + ms;
    const before = [];
    while (Date.now() < deadline) {
      const packets = await this.poll(Math.max(100, deadline - Date.now()));
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i];
        if (predicate(p)) return { packet: p, before, after: packets.slice(i + 1) };
        before.push(p);
        if (p === "2") await this.send("3");
      }
    }
    throw new Error(`no matching packet within ${ms}ms (got ${JSON.stringify(before)})`);
  }
}

/**
 * A raw Engine.IO v4 WebSocket session.
 *   const raw = await RawWebSocket.open(port);  // raw.handshake
 *   raw.send("40"); const msg = await raw.next();
 */
class RawWebSocket {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.closeCode = null;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code) => {
        this.closeCode = code;
        resolve(code);
        for (const w of this.waiters.splice(0)) w.reject(new Error("websocket closed"));
      });
    });
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      const msg = isBinary ? Buffer.from(data) : data.toString();
      const w = this.waiters.shift();
      if (w) w.resolve(msg);
      else this.queue.push(msg);
    });
  }

  static async open(port, { path = "/socket.io/", query = "", headers = {} } = {}) {
    const ws = new WebSocket(
      `ws://127.0.0.1:${port}${path}?EIO=4&transport=websocket${query ? "&" + query : ""}`,
      { headers },
    );
    const raw = new RawWebSocket(ws);
    await withTimeout(
      new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
        ws.once("unexpected-response", (req, res) =>
          reject(new Error(`unexpected response ${res.statusCode}`)),
        );
      }),
      TIMEOUT,
      "websocket open",
    );
    const open = await raw.next();
    assert.strictEqual(open[0], "0", `unexpected open packet ${open}`);
    raw.handshake = JSON.parse(open.slice(1));
    raw.sid = raw.handshake.sid;
    return raw;
  }

  send(data) {
    this.ws.send(data);
  }

  /** Next message (string for text frames, Buffer for binary frames). */
  next(ms = TIMEOUT) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeCode !== null) return Promise.reject(new Error("websocket closed"));
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, "websocket message").catch((err) => {
      const i = this.waiters.indexOf(waiter);
      if (i !== -1) this.waiters.splice(i, 1);
      throw err;
    });
  }

  /** Waits for a message matching `predicate`, answering pings; resolves with it. */
  async nextMatching(predicate, ms = TIMEOUT) {
    const deadline = Date.now() + ms;
    for (;;) {
      const msg = await this.next(Math.max(50, deadline - Date.now()));
      if (predicate(msg)) return msg;
      if (msg === "2") this.send("3");
    }
  }

  waitClosed(ms = TIMEOUT) {
    return withTimeout(this.closed, ms, "websocket close");
  }

  terminate() {
    try {
      this.ws.terminate();
    } catch {
      // ignore
    }
  }
}

module.exports = {
  impl,
  Server,
  TRANSPORTS,
  TIMEOUT,
  SEP,
  delay,
  withTimeout,
  waitFor,
  expectNoEvent,
  successAfter,
  deferred,
  listen,
  createHttpServer,
  closeServer,
  harness,
  connected,
  connectMany,
  connectedPair,
  serverSocketOf,
  httpRequest,
  nextRequest,
  RawPolling,
  RawWebSocket,
};
