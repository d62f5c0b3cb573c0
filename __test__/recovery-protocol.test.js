/** Connection state recovery at the protocol level (raw Engine.IO sessions over both transports). */
"use strict";

const { describe, it } = require("node:test");
const assert = require("node:assert");
const { TRANSPORTS, harness, waitFor } = require("./support/sio-helpers");

/** Connects a raw session to `nsp` and returns { session, socket, sid, pid }. */
async function rawConnect(h, io, port, transport, nsp = "/", payload = "") {
  const connection = waitFor(io.of(nsp), "connection");
  const session = await h.rawSession(port, transport);
  const prefix = nsp === "/" ? "40" : `40${nsp},`;
  await session.send(prefix + payload);
  const answer = await session.next();
  assert.ok(answer.startsWith(prefix + "{"), answer);
  const data = JSON.parse(answer.slice(prefix.length));
  const [socket] = await connection;
  return { session, socket, answer, ...data };
}

/** Emits `hello` to the socket and returns the offset the client would remember. */
async function lastOffset(session, socket) {
  socket.emit("hello");
  const msg = await session.next();
  const data = JSON.parse(msg.slice(msg.indexOf("[")));
  assert.strictEqual(data[0], "hello");
  const offset = data[data.length - 1];
  assert.strictEqual(typeof offset, "string");
  return offset;
}

/** Parses an EVENT packet ("42[...]" or "42/nsp,[...]") into its data array. */
function eventData(packet) {
  assert.match(packet, /^42(\/[^,]*,)?\d*\[/);
  return JSON.parse(packet.slice(packet.indexOf("[")));
}

/** Closes the session from the client side and waits for the server-side disconnection. */
async function drop(session, socket) {
  const gone = waitFor(socket, "disconnect");
  await session.close();
  const [reason] = await gone;
  return reason;
}

for (const transport of TRANSPORTS) {
  describe(`recovery protocol (${transport})`, () => {
    it("answers CONNECT with the socket id and a private session id (pid)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const { socket, answer, sid, pid } = await rawConnect(h, io, port, transport);
      assert.strictEqual(sid, socket.id);
      assert.strictEqual(typeof pid, "string");
      assert.notStrictEqual(pid, sid);
      assert.strictEqual(answer, `40{"sid":"${sid}","pid":"${pid}"}`);
    });

    it("sends neither pid nor offsets when recovery is disabled (default)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const { session, socket, answer } = await rawConnect(h, io, port, transport);
      assert.strictEqual(answer, `40{"sid":"${socket.id}"}`);
      io.emit("hello", 1);
      assert.strictEqual(await session.next(), '42["hello",1]');
    });

    it("appends a string offset to stored EVENT packets only (not to packets expecting an ack)", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const { session, socket } = await rawConnect(h, io, port, transport);
      io.emit("broadcast", 1);
      const a = eventData(await session.next());
      assert.strictEqual(a.length, 3);
      assert.deepStrictEqual(a.slice(0, 2), ["broadcast", 1]);
      assert.strictEqual(typeof a[2], "string");

      socket.emit("direct", { x: 1 });
      const b = eventData(await session.next());
      assert.deepStrictEqual(b.slice(0, 2), ["direct", { x: 1 }]);
      assert.strictEqual(typeof b[2], "string");
      assert.notStrictEqual(b[2], a[2]);

      socket.emit("with-ack", "x", () => {});
      assert.match(await session.next(), /^42\d+\["with-ack","x"\]$/);
      io.timeout(1000).emit("broadcast-with-ack", () => {});
      assert.match(await session.next(), /^42\d+\["broadcast-with-ack"\]$/);
    });

    it("replays the missed packets before the CONNECT answer of the restored session", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const first = await rawConnect(h, io, port, transport);
      first.socket.join("room1");
      first.socket.data.foo = "bar";
      const offset = await lastOffset(first.session, first.socket);
      assert.strictEqual(await drop(first.session, first.socket), "transport close");

      io.emit("hello1"); // broadcast
      io.to("room1").emit("hello2"); // room
      first.socket.emit("hello3", "direct"); // direct message to the disconnected socket

      const connection = waitFor(io, "connection");
      const session = await h.rawSession(port, transport);
      assert.notStrictEqual(session.sid, first.session.sid, "a new Engine.IO session");
      await session.send(`40{"pid":"${first.pid}","offset":"${offset}"}`);
      const packets = [await session.next(), await session.next(), await session.next(), await session.next()];
      assert.deepStrictEqual(eventData(packets[0]).slice(0, -1), ["hello1"]);
      assert.deepStrictEqual(eventData(packets[1]).slice(0, -1), ["hello2"]);
      assert.deepStrictEqual(eventData(packets[2]).slice(0, -1), ["hello3", "direct"]);
      assert.strictEqual(packets[3], `40{"sid":"${first.sid}","pid":"${first.pid}"}`);

      const [socket] = await connection;
      assert.strictEqual(socket.recovered, true);
      assert.strictEqual(socket.id, first.sid);
      assert.deepStrictEqual([...socket.rooms].sort(), [first.sid, "room1"].sort());
      assert.deepStrictEqual(socket.data, { foo: "bar" });
      assert.deepStrictEqual(socket.handshake.auth, { pid: first.pid, offset });
    });

    it("only replays what the session's rooms would have received", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      io.of("/other");
      const first = await rawConnect(h, io, port, transport);
      const other = await rawConnect(h, io, port, transport);
      first.socket.join("r1");
      const offset = await lastOffset(first.session, first.socket);
      const sid = first.sid;
      await drop(first.session, first.socket);

      io.emit("a"); // yes
      io.to("r1").emit("b"); // yes
      io.to("r2").emit("no-c");
      io.to(["r2", "r1"]).emit("d"); // yes
      io.except("r1").emit("no-e");
      io.except("r2").emit("f"); // yes
      io.to("r1").except(sid).emit("no-g");
      io.to("r2").except("r1").emit("no-h");
      other.socket.broadcast.emit("i"); // yes (excludes the sender only)
      other.socket.to("r1").emit("j"); // yes
      io.of("/other").emit("no-k"); // another namespace
      io.volatile.emit("no-l");
      io.timeout(50).emit("no-m", () => {});
      io.to(sid).emit("n"); // yes
      io.local.emit("o"); // yes

      const session = await h.rawSession(port, transport);
      await session.send(`40{"pid":"${first.pid}","offset":"${offset}"}`);
      const names = [];
      for (;;) {
        const packet = await session.next();
        if (packet.startsWith("40")) {
          assert.strictEqual(packet, `40{"sid":"${sid}","pid":"${first.pid}"}`);
          break;
        }
        names.push(eventData(packet)[0]);
      }
      assert.deepStrictEqual(names, ["a", "b", "d", "f", "i", "j", "n", "o"]);
    });

    it("gives a fresh session for an unknown pid", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const { socket, sid, pid } = await rawConnect(h, io, port, transport, "/", '{"pid":"foo","offset":"bar"}');
      assert.strictEqual(socket.recovered, false);
      assert.notStrictEqual(sid, "foo");
      assert.notStrictEqual(pid, "foo");
      assert.notStrictEqual(pid, "bar");
      assert.deepStrictEqual(socket.handshake.auth, { pid: "foo", offset: "bar" });
    });

    it("gives a fresh session for a known pid with an unknown offset", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const first = await rawConnect(h, io, port, transport);
      await lastOffset(first.session, first.socket);
      await drop(first.session, first.socket);
      io.emit("missed");
      const { socket, sid, pid } = await rawConnect(h, io, port, transport, "/", `{"pid":"${first.pid}","offset":"unknown"}`);
      assert.strictEqual(socket.recovered, false);
      assert.notStrictEqual(sid, first.sid);
      assert.notStrictEqual(pid, first.pid);
    });

    it("ignores pid/offset values that are not strings", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const first = await rawConnect(h, io, port, transport);
      await lastOffset(first.session, first.socket);
      await drop(first.session, first.socket);
      const { socket } = await rawConnect(h, io, port, transport, "/", `{"pid":"${first.pid}","offset":12}`);
      assert.strictEqual(socket.recovered, false);
      assert.notStrictEqual(socket.id, first.sid);
    });

    it("does not persist a session closed by a client namespace disconnect", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      const first = await rawConnect(h, io, port, transport);
      const offset = await lastOffset(first.session, first.socket);
      const gone = waitFor(first.socket, "disconnect");
      await first.session.send("41");
      assert.strictEqual((await gone)[0], "client namespace disconnect");
      const { socket } = await rawConnect(h, io, port, transport, "/", `{"pid":"${first.pid}","offset":"${offset}"}`);
      assert.strictEqual(socket.recovered, false);
      assert.notStrictEqual(socket.id, first.sid);
    });

    it("keeps sessions per namespace", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server({ connectionStateRecovery: {} });
      io.of("/chat");
      const first = await rawConnect(h, io, port, transport);
      const offset = await lastOffset(first.session, first.socket);
      await drop(first.session, first.socket);
      const chat = await rawConnect(h, io, port, transport, "/chat", `{"pid":"${first.pid}","offset":"${offset}"}`);
      assert.strictEqual(chat.socket.recovered, false);
      assert.notStrictEqual(chat.sid, first.sid);
      const main = await rawConnect(h, io, port, transport, "/", `{"pid":"${first.pid}","offset":"${offset}"}`);
      assert.strictEqual(main.socket.recovered, true);
      assert.strictEqual(main.sid, first.sid);
    });

    it("ignores pid/offset when recovery is disabled", async (t) => {
      const h = harness(t);
      const { io, port } = await h.server();
      const first = await rawConnect(h, io, port, transport);
      await drop(first.session, first.socket);
      const { socket, answer } = await rawConnect(h, io, port, transport, "/", `{"pid":"${first.sid}","offset":"x"}`);
      assert.strictEqual(socket.recovered, false);
      assert.notStrictEqual(socket.id, first.sid);
      assert.strictEqual(answer, `40{"sid":"${socket.id}"}`);
      assert.deepStrictEqual(socket.handshake.auth, { pid: first.sid, offset: "x" });
    });
  });
}

describe("recovery disabled", () => {
  it("never calls the adapter's persistSession/restoreSession", async (t) => {
    const { Adapter } = require("socket.io-adapter");
    const calls = [];
    class SpyAdapter extends Adapter {
      persistSession(session) {
        calls.push(["persistSession", session]);
      }
      restoreSession(pid, offset) {
        calls.push(["restoreSession", pid, offset]);
        return Promise.reject(new Error("should not happen"));
      }
    }
    const h = harness(t);
    const { io, port } = await h.server({ adapter: SpyAdapter });
    const first = await rawConnect(h, io, port, "websocket", "/", '{"pid":"foo","offset":"bar"}');
    assert.strictEqual(first.socket.recovered, false);
    await drop(first.session, first.socket);
    assert.deepStrictEqual(calls, []);
  });
});

describe("recovery protocol (binary, websocket)", () => {
  it("replays binary events with their attachments", async (t) => {
    const h = harness(t);
    const { io, port } = await h.server({ connectionStateRecovery: {} });
    const first = await rawConnect(h, io, port, "websocket");
    const offset = await lastOffset(first.session, first.socket);
    await drop(first.session, first.socket);
    io.emit("bin", Buffer.from([1, 2, 3]), "text");
    const session = await h.rawSession(port, "websocket");
    await session.send(`40{"pid":"${first.pid}","offset":"${offset}"}`);
    const header = await session.next();
    const m = /^451-\["bin",\{"_placeholder":true,"num":0\},"text","([^"]+)"\]$/.exec(header);
    assert.ok(m, header);
    const attachment = await session.next();
    assert.ok(Buffer.isBuffer(attachment) && attachment.equals(Buffer.from([1, 2, 3])));
    assert.strictEqual(await session.next(), `40{"sid":"${first.sid}","pid":"${first.pid}"}`);
  });
});
