/** `socket.request`: what users read from the handshake's HTTP request, on each transport. */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor, connectedPair } = require("./support/sio-helpers");

for (const transport of TRANSPORTS) {
  describe(`socket.request (${transport})`, () => {
    it("carries the handshake's method, URL, headers, query and the connection's addresses", async (t) => {
      const { port, socket } = await connectedPair(t, transport, {
        clientOpts: { query: { room: "a b" }, extraHeaders: { "x-user": "u1" } },
      });
      const req = socket.request;

      assert.strictEqual(req.method, "GET");
      assert.strictEqual(req.httpVersion, "1.1");
      assert.match(req.url, /^\/socket\.io\/\?/);
      assert.strictEqual(req.headers["x-user"], "u1");
      assert.strictEqual(req._query.room, "a b");
      assert.strictEqual(req._query.transport, transport);
      assert.strictEqual(req.connection, req.socket);
      assert.strictEqual(req.client, req.socket);
      assert.strictEqual(socket.handshake.address, "127.0.0.1");
      assert.strictEqual(socket.handshake.secure, false);
      assert.strictEqual(socket.conn.remoteAddress, "127.0.0.1");
      if (transport === "websocket") {
        // The polling handshake's socket may be closed or serving another request by now.
        assert.strictEqual(req.socket.remoteAddress, "127.0.0.1");
        assert.strictEqual(req.socket.remoteFamily, "IPv4");
        assert.strictEqual(typeof req.socket.remotePort, "number");
        assert.strictEqual(req.socket.localAddress, "127.0.0.1");
        assert.strictEqual(req.socket.localFamily, "IPv4");
        assert.strictEqual(req.socket.localPort, port);
        assert.deepStrictEqual(req.socket.address(), { address: "127.0.0.1", family: "IPv4", port });
      }
    });

    it("keeps every header as sent, from one session to the next (shared strings change nothing)", async (t) => {
      const sent = [
        { "User-Agent": "agent-1", Origin: "https://a.example", "Accept-Language": "en", "X-Id": "1" },
        { "User-Agent": "agent-2", Origin: "https://a.example", "Accept-Language": "en", "X-Id": "2" },
        { "User-Agent": "agent-1", Origin: "https://b.example", "Accept-Language": "fr", "X-Id": "3" },
      ];
      for (const extraHeaders of sent) {
        const { socket } = await connectedPair(t, transport, { clientOpts: { extraHeaders } });
        const req = socket.request;
        for (const [name, value] of Object.entries(extraHeaders)) {
          assert.strictEqual(req.headers[name.toLowerCase()], value);
          const at = req.rawHeaders.findIndex((raw, i) => i % 2 === 0 && raw.toLowerCase() === name.toLowerCase());
          assert.strictEqual(req.rawHeaders[at + 1], value);
        }
        assert.strictEqual(req.httpVersion, "1.1");
        assert.strictEqual(req.rawHeaders.length % 2, 0);
      }
    });

    it("keeps what engine middlewares put on the request", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      io.engine.use((req, res, next) => {
        req.session = { user: "u1" };
        next();
      });
      const onConnection = waitFor(io, "connection");
      await h.connect(port, "/", { transports: [transport] });
      const [socket] = await onConnection;
      assert.deepStrictEqual(socket.request.session, { user: "u1" });
    });

    it("can be destroyed by the user without closing the connection", async (t) => {
      const { client, socket } = await connectedPair(t, transport);
      socket.request.destroy();
      const echoed = new Promise((resolve) => client.emit("ping", resolve));
      socket.on("ping", (ack) => ack("pong"));
      assert.strictEqual(await echoed, "pong");
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`socket.conn.transport (${transport})`, () => {
    it("is the open transport while connected, and closed when first read after the close", async (t) => {
      const { h, io, port, client, socket } = await connectedPair(t, transport);
      const conn = socket.conn;
      assert.strictEqual(conn.transport.name, transport);
      assert.strictEqual(conn.transport.readyState, "open");
      assert.strictEqual(conn.transport.writable, true);
      assert.strictEqual(conn.transport, conn.transport);

      const second = waitFor(io, "connection");
      const client2 = await h.connect(port, "/", { transports: [transport], forceNew: true });
      const [socket2] = await second;
      const closed = waitFor(socket2.conn, "close");
      client2.disconnect();
      await closed;
      assert.strictEqual(socket2.conn.transport.name, transport);
      assert.strictEqual(socket2.conn.transport.readyState, "closed");
      assert.strictEqual(socket2.conn.transport.writable, false);
      assert.ok(client.connected);
    });
  });
}

describe("socket.client", () => {
  it("names each namespace socket of the connection by id (sockets) and by namespace (nsps)", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server();
    const onMain = waitFor(io, "connection");
    const onChat = waitFor(io.of("/chat"), "connection");
    const main = await h.connect(port, "/", { transports: ["websocket"] });
    const chat = main.io.socket("/chat");
    t.after(() => chat.disconnect());
    const [[mainSocket], [chatSocket]] = await Promise.all([onMain, onChat]);
    const client = mainSocket.client;
    assert.strictEqual(chatSocket.client, client, "one connection carries both namespaces");
    assert.deepStrictEqual([...client.sockets].sort(), [[mainSocket.id, mainSocket], [chatSocket.id, chatSocket]].sort());
    assert.deepStrictEqual([...client.nsps], [["/", mainSocket], ["/chat", chatSocket]]);

    const left = waitFor(chatSocket, "disconnect");
    chatSocket.disconnect();
    await left;
    assert.deepStrictEqual([...client.sockets], [[mainSocket.id, mainSocket]]);
    assert.deepStrictEqual([...client.nsps], [["/", mainSocket]]);
    assert.ok(main.connected);
  });
});
