/** Socket.IO layer: socket.handshake, attaching to servers (attach/listen/port), path, serving the client bundle. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");
const {
  impl,
  Server,
  TRANSPORTS,
  harness,
  waitFor,
  connected,
  createHttpServer,
  listen,
  httpRequest,
  RawPolling,
} = require("./support/sio-helpers");

// As upstream, the bundle's ETag is the serving package's own version.
const SERVER_VERSION = require(impl.implName === "socket.io" ? "socket.io/package.json" : "../package.json").version;
const CLIENT_DIST = path.join(path.dirname(require.resolve("socket.io-client/package.json")), "dist");

for (const transport of TRANSPORTS) {
  describe(`handshake (${transport})`, () => {
    it("describes the connection in socket.handshake", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const connection = waitFor(io, "connection");
      const before = Date.now();
      await h.connect(port, "/", {
        transports: [transport],
        query: { key1: 1, key2: "x y" },
        extraHeaders: { "x-custom": "yes" },
      });
      const [socket] = await connection;
      const after = Date.now();
      const hs = socket.handshake;

      assert.deepStrictEqual(
        Object.keys(hs).sort(),
        ["address", "auth", "headers", "issued", "query", "secure", "time", "url", "xdomain"],
      );
      assert.strictEqual(hs.headers["x-custom"], "yes");
      assert.strictEqual(hs.headers.host, `127.0.0.1:${port}`);
      assert.strictEqual(typeof hs.time, "string");
      assert.strictEqual(hs.time, new Date(hs.issued) + "", "time is the Date string of issued");
      assert.strictEqual(typeof hs.issued, "number");
      assert.ok(hs.issued >= before - 1000 && hs.issued <= after + 1000);
      assert.strictEqual(hs.address, "127.0.0.1");
      assert.strictEqual(hs.xdomain, false, "no Origin header");
      assert.strictEqual(hs.secure, false);
      assert.ok(hs.url.startsWith("/socket.io/?"), hs.url);
      assert.match(hs.url, /[?&]EIO=4(&|$)/);
      assert.match(hs.url, new RegExp(`[?&]transport=${transport}(&|$)`));
      assert.match(hs.url, /[?&]key1=1(&|$)/);
      const query = { ...hs.query };
      assert.strictEqual(query.key1, "1");
      assert.strictEqual(query.key2, "x y");
      assert.strictEqual(query.EIO, "4");
      assert.strictEqual(query.transport, transport);
      assert.deepStrictEqual(hs.auth, {});
    });

    it("sets xdomain when the request has an Origin header", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const connection = waitFor(io, "connection");
      await h.connect(port, "/", { transports: [transport], extraHeaders: { origin: "http://example.com" } });
      const [socket] = await connection;
      assert.strictEqual(socket.handshake.xdomain, true);
      assert.strictEqual(socket.handshake.headers.origin, "http://example.com");
    });

    it("carries the per-namespace auth, and the connection's query, for each namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const mainConnection = waitFor(io, "connection");
      const otherConnection = waitFor(io.of("/connection2"), "connection");
      const main = await h.connect(port, "/", {
        transports: [transport],
        query: { key1: "q" },
        auth: { token: "main" },
      });
      const second = h.trackClient(main.io.socket("/connection2", { auth: { key1: "aa", key2: "&=bb" } }));
      await connected(second);
      const [[s1], [s2]] = await Promise.all([mainConnection, otherConnection]);
      assert.deepStrictEqual(s1.handshake.auth, { token: "main" });
      assert.deepStrictEqual(s2.handshake.auth, { key1: "aa", key2: "&=bb" });
      assert.strictEqual(s2.handshake.query.key1, "q", "the query comes from the Engine.IO handshake");
      assert.strictEqual(s2.handshake.query.EIO, "4");
      assert.strictEqual(s2.handshake.url, s1.handshake.url);
    });

    it("accepts the auth payload from a function", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const connection = waitFor(io, "connection");
      await h.connect(port, "/", { transports: [transport], auth: (cb) => cb({ token: "from-fn" }) });
      const [socket] = await connection;
      assert.deepStrictEqual(socket.handshake.auth, { token: "from-fn" });
    });
  });
}

describe("handshake without an HTTP request", () => {
  // e.g. a WebTransport-only connection: the Engine.IO socket has no `request`
  it("falls back to secure, empty headers and empty query", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    io.engine.on("connection", (conn) => {
      delete conn.request;
    });
    const connection = waitFor(io, "connection");
    await h.connect(port, "/", { transports: ["websocket"] });
    const [socket] = await connection;
    assert.strictEqual(socket.handshake.secure, true);
    assert.deepStrictEqual(socket.handshake.headers, {});
    assert.deepStrictEqual(socket.handshake.query, {});
    assert.strictEqual(socket.handshake.xdomain, false);
  });
});

describe("attachment", () => {
  async function roundTrip(h, io, port, opts = {}) {
    io.on("connection", (s) => s.on("echo", (v, cb) => cb(v)));
    const client = await h.connect(port, "/", { transports: ["websocket"], ...opts });
    assert.strictEqual(await client.timeout(2000).emitWithAck("echo", "ok"), "ok");
  }

  it("works with new Server(httpServer)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    assert.ok(io.httpServer, "io.httpServer is exposed");
    await roundTrip(h, io, port);
  });

  it("works with new Server() then attach(httpServer), and attach() returns the server", async (t) => {
    const h = harness(t);
    const httpServer = createHttpServer();
    const io = new Server();
    h.trackServer(io, httpServer);
    assert.strictEqual(io.attach(httpServer), io);
    assert.strictEqual(io.httpServer, httpServer);
    const port = await listen(httpServer);
    await roundTrip(h, io, port);
  });

  it("works with new Server().listen(httpServer)", async (t) => {
    const h = harness(t);
    const httpServer = createHttpServer();
    const io = new Server();
    h.trackServer(io, httpServer);
    assert.strictEqual(io.listen(httpServer), io);
    const port = await listen(httpServer);
    await roundTrip(h, io, port);
  });

  it("creates and binds its own HTTP server with new Server(port)", async (t) => {
    const h = harness(t);
    const io = h.trackServer(new Server(0));
    if (!io.httpServer.listening) await waitFor(io.httpServer, "listening");
    const { port } = io.httpServer.address();
    assert.ok(port > 0);
    await roundTrip(h, io, port);
    const res = await httpRequest(port, { path: "/socket.io/socket.io.js" });
    assert.strictEqual(res.status, 200);
    const other = await httpRequest(port, { path: "/elsewhere" });
    assert.strictEqual(other.status, 404, "the created server answers 404 to other requests");
  });

  it("accepts the port as a string, and listen(port)", async (t) => {
    const h = harness(t);
    const a = h.trackServer(new Server("0"));
    const b = new Server();
    h.trackServer(b);
    assert.strictEqual(b.listen(0), b);
    for (const io of [a, b]) {
      if (!io.httpServer.listening) await waitFor(io.httpServer, "listening");
      assert.ok(io.httpServer.address().port > 0);
    }
    await roundTrip(h, b, b.httpServer.address().port);
  });

  it("is also exported as a factory function", async (t) => {
    const h = harness(t);
    assert.strictEqual(typeof impl, "function");
    const httpServer = createHttpServer();
    const io = impl(httpServer);
    h.trackServer(io, httpServer);
    assert.ok(io instanceof Server);
    const port = await listen(httpServer);
    await roundTrip(h, io, port);
  });

  it("merges constructor options with attach() options (constructor wins)", async (t) => {
    const h = harness(t);
    const httpServer = createHttpServer();
    const io = new Server({ pingTimeout: 6000, pingInterval: 1000 });
    h.trackServer(io, httpServer);
    io.attach(httpServer, { pingInterval: 24000, maxHttpBufferSize: 5000 });
    const port = await listen(httpServer);
    const raw = await RawPolling.open(port);
    assert.strictEqual(raw.handshake.pingTimeout, 6000);
    assert.strictEqual(raw.handshake.pingInterval, 1000);
    assert.strictEqual(raw.handshake.maxPayload, 5000);
  });

  it("refuses to attach to a request handler function", () => {
    const io = new Server();
    assert.throws(() => io.attach((req, res) => res.end()), {
      message:
        "You are trying to attach socket.io to an express request handler function. Please pass a http.Server instance.",
    });
  });

  it("leaves the other requests to the HTTP server's own handler", async (t) => {
    const h = harness(t);
    const httpServer = require("node:http").createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`app:${req.url}`);
    });
    const io = new Server(httpServer);
    h.trackServer(io, httpServer);
    const port = await listen(httpServer);
    const res = await httpRequest(port, { path: "/hello" });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.body, "app:/hello");
    await roundTrip(h, io, port);
  });

  it("serves Socket.IO under a custom path (trailing slash ignored)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ path: "/my-path/" });
    assert.strictEqual(io.path(), "/my-path");
    await roundTrip(h, io, port, { path: "/my-path" });
    const js = await httpRequest(port, { path: "/my-path/socket.io.js" });
    assert.strictEqual(js.status, 200);
    const old = await httpRequest(port, { path: "/socket.io/?EIO=4&transport=polling" });
    assert.strictEqual(old.status, 404);
  });

  it("exposes path() and serveClient() as getters/setters", () => {
    const io = new Server();
    assert.strictEqual(io.path(), "/socket.io");
    assert.strictEqual(io.serveClient(), true);
    assert.strictEqual(io.path("/other/"), io);
    assert.strictEqual(io.path(), "/other");
    assert.strictEqual(io.serveClient(false), io);
    assert.strictEqual(io.serveClient(), false);
    assert.strictEqual(new Server({ serveClient: false }).serveClient(), false);
  });
});

describe("serving the client bundle", () => {
  const files = [
    ["socket.io.js", "application/javascript; charset=utf-8"],
    ["socket.io.js.map", "application/json; charset=utf-8"],
    ["socket.io.min.js", "application/javascript; charset=utf-8"],
    ["socket.io.min.js.map", "application/json; charset=utf-8"],
    ["socket.io.msgpack.min.js", "application/javascript; charset=utf-8"],
    ["socket.io.msgpack.min.js.map", "application/json; charset=utf-8"],
    ["socket.io.esm.min.js", "application/javascript; charset=utf-8"],
    ["socket.io.esm.min.js.map", "application/json; charset=utf-8"],
  ];

  it("serves the socket.io-client bundles with type, ETag and cache headers", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    for (const [file, type] of files) {
      const res = await httpRequest(port, { path: `/socket.io/${file}` });
      assert.strictEqual(res.status, 200, file);
      assert.strictEqual(res.headers["content-type"], type, file);
      assert.strictEqual(res.headers.etag, `"${SERVER_VERSION}"`, file);
      assert.strictEqual(res.headers["cache-control"], "public, max-age=0", file);
      assert.strictEqual(res.headers["x-sourcemap"], undefined, file);
      assert.ok(res.raw.equals(fs.readFileSync(path.join(CLIENT_DIST, file))), `${file}: same bytes as socket.io-client`);
    }
  });

  it("pins socket.io-client to one version, so that the ETag names one bundle", { skip: impl.implName === "socket.io" }, () => {
    // upstream builds the bundle into each release; this package takes it from its dependency,
    // so a range would let the bundle change under an unchanged version (and ETag)
    const { dependencies } = require("../package.json");
    assert.match(dependencies["socket.io-client"], /^\d+\.\d+\.\d+$/);
  });

  it("ignores the query string", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    const res = await httpRequest(port, { path: `/socket.io/socket.io.js?buster=${Date.now()}` });
    assert.strictEqual(res.status, 200);
    assert.match(res.body, /engine\.io/);
  });

  it("answers 304 to a matching If-None-Match (strong or weak)", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    for (const etag of [`"${SERVER_VERSION}"`, `W/"${SERVER_VERSION}"`]) {
      const res = await httpRequest(port, { path: "/socket.io/socket.io.js", headers: { "if-none-match": etag } });
      assert.strictEqual(res.status, 304, etag);
      assert.strictEqual(res.raw.length, 0);
    }
    const stale = await httpRequest(port, { path: "/socket.io/socket.io.js", headers: { "if-none-match": '"0.0.1"' } });
    assert.strictEqual(stale.status, 200);
  });

  it("compresses with gzip, br or deflate when accepted", async (t) => {
    const h = harness(t);
    const { port } = await h.server();
    const original = fs.readFileSync(path.join(CLIENT_DIST, "socket.io.js"));
    const decoders = { gzip: zlib.gunzipSync, br: zlib.brotliDecompressSync, deflate: zlib.inflateSync };
    for (const encoding of ["gzip", "br", "deflate"]) {
      // brotli at its default quality is slow: allow for a loaded machine
      const res = await httpRequest(
        port,
        { path: "/socket.io/socket.io.js", headers: { "accept-encoding": encoding } },
        20000,
      );
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.headers["content-encoding"], encoding);
      assert.ok(decoders[encoding](res.raw).equals(original), encoding);
    }
  });

  it("adds CORS headers to the bundle when cors is configured", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ cors: { origin: "https://good-origin.com" } });
    const res = await httpRequest(port, { path: "/socket.io/socket.io.js", headers: { origin: "https://good-origin.com" } });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.headers["access-control-allow-origin"], "https://good-origin.com");
  });

  it("does not serve the bundle with serveClient: false, nor unknown files", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ serveClient: false });
    const res = await httpRequest(port, { path: "/socket.io/socket.io.js" });
    assert.strictEqual(res.status, 400);
    assert.deepStrictEqual(JSON.parse(res.body), { code: 0, message: "Transport unknown" });

    const h2 = await h.server();
    const unknown = await httpRequest(h2.port, { path: "/socket.io/socket.io.esm.js" });
    assert.strictEqual(unknown.status, 400);
    const elsewhere = await httpRequest(h2.port, { path: "/abcdefghij/socket.io.js" });
    assert.strictEqual(elsewhere.status, 404);
  });
});

describe("handshake requests (CORS, allowRequest)", () => {
  it("answers the CORS preflight with the configured headers", async (t) => {
    const h = harness(t);
    const { port } = await h.server({
      cors: {
        origin: "http://localhost:54023",
        methods: ["GET", "POST"],
        allowedHeaders: ["content-type"],
        credentials: true,
      },
    });
    const res = await httpRequest(port, {
      method: "OPTIONS",
      path: "/socket.io/default/?EIO=4&transport=polling",
      headers: { origin: "http://localhost:54023" },
    });
    assert.strictEqual(res.status, 204);
    assert.strictEqual(res.headers["access-control-allow-origin"], "http://localhost:54023");
    assert.strictEqual(res.headers["access-control-allow-methods"], "GET,POST");
    assert.strictEqual(res.headers["access-control-allow-headers"], "content-type");
    assert.strictEqual(res.headers["access-control-allow-credentials"], "true");
  });

  it("adds the CORS headers to the handshake response", async (t) => {
    const h = harness(t);
    const { port } = await h.server({ cors: { origin: "http://localhost:54024", credentials: true } });
    const res = await httpRequest(port, {
      path: "/socket.io/?EIO=4&transport=polling",
      headers: { origin: "http://localhost:54024" },
    });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.headers["access-control-allow-origin"], "http://localhost:54024");
    assert.strictEqual(res.headers["access-control-allow-credentials"], "true");
  });

  it("lets allowRequest accept or refuse the handshake", async (t) => {
    const h = harness(t);
    const yes = await h.server({ allowRequest: (req, cb) => cb(null, true) });
    assert.strictEqual((await httpRequest(yes.port, { path: "/socket.io/?EIO=4&transport=polling" })).status, 200);
    const no = await h.server({ allowRequest: (req, cb) => cb(null, false) });
    const res = await httpRequest(no.port, {
      path: "/socket.io/?EIO=4&transport=polling",
      headers: { origin: "http://foo.example" },
    });
    assert.strictEqual(res.status, 403);
    assert.deepStrictEqual(JSON.parse(res.body), { code: 4, message: "Forbidden" });
    const client = h.client(no.port, "/", { transports: ["polling"] });
    const [err] = await waitFor(client, "connect_error");
    assert.ok(err instanceof Error);
  });
});
