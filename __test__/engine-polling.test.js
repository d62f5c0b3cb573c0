/** Engine.IO HTTP long-polling transport: messages both ways, batching, binary as base64, raw engine API. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const {
  TEST_TIMEOUT,
  SEP,
  startServer,
  pollingSession,
  pollingSioConnect,
  nextSioConnection,
  poll,
  parkPoll,
  post,
  eioRequest,
  openEioClient,
  sioConnect,
  waitFor,
  waitFor1,
  collect,
  engineClosed,
  toBuffer,
  delay,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };
const BIN_HEADER = '451-["bin",{"_placeholder":true,"num":0}]';

/** A polling session already connected to the main namespace, with its Socket.IO socket. */
async function connectedPollingSession(s) {
  const session = await pollingSession(s);
  const sockP = nextSioConnection(s);
  await pollingSioConnect(s, session.sid);
  return { ...session, socket: await sockP };
}

test("server -> client: an emitted event is the body of the next GET", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  socket.emit("hello", "world");
  const res = await poll(s, sid);
  assert.equal(res.status, 200);
  assert.equal(res.text, '42["hello","world"]');
  assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
  assert.equal(res.headers["cache-control"], "no-store");
  assert.equal(Number(res.headers["content-length"]), Buffer.byteLength(res.text));
});

test("a pending GET is held open until there is something to send", T, async (t) => {
  const s = await startServer({ pingInterval: 10000, pingTimeout: 5000 });
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  let settled = false;
  const pending = poll(s, sid).finally(() => {
    settled = true;
  });
  await delay(200); // bounded wait: asserting the GET is NOT answered yet
  assert.equal(settled, false, "the GET must wait for data");
  socket.emit("late", 1);
  assert.equal((await pending).text, '42["late",1]');
});

test("several packets queued before a GET are batched in one response separated by \\x1e", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  socket.emit("a", 1);
  socket.emit("b", "two");
  socket.emit("c", { three: 3 });
  const res = await poll(s, sid);
  assert.equal(res.text, ['42["a",1]', '42["b","two"]', '42["c",{"three":3}]'].join(SEP));
});

test('server -> client binary: the attachment is a "b"+base64 packet in the polling payload', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  socket.emit("bin", Buffer.from([1, 2, 3]));
  const res = await poll(s, sid);
  assert.equal(res.text, `${BIN_HEADER}${SEP}bAQID`);
  assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
});

test('client -> server: a POSTed event reaches the handler and the POST is answered 200 "ok"', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket, conn } = await connectedPollingSession(s);

  const received = waitFor(socket, "msg");
  const engineMessage = waitFor1(conn, "message");
  const res = await post(s, sid, '42["msg",1,"two"]');
  assert.equal(res.status, 200);
  assert.equal(res.text, "ok");
  assert.equal(res.headers["content-type"], "text/html");
  assert.equal(res.headers["content-length"], "2");
  assert.equal(res.headers["cache-control"], "no-store");
  assert.deepEqual(await received, [1, "two"]);
  assert.equal(await engineMessage, '2["msg",1,"two"]', "the engine message is the packet without its type");
});

test("client -> server: several packets in one POST are delivered in order", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  const got = collect(socket, "n", 3);
  const res = await post(s, sid, ['42["n",1]', '42["n",2]', '42["n",3]'].join(SEP));
  assert.equal(res.text, "ok");
  assert.deepEqual(await got, [1, 2, 3]);
});

test("client -> server binary: a base64 attachment in a POST arrives as a Buffer", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket, conn } = await connectedPollingSession(s);

  const received = waitFor1(socket, "bin");
  const messagesP = collect(conn, "message", 2);
  const res = await post(s, sid, `${BIN_HEADER}${SEP}bAQID`);
  assert.equal(res.text, "ok");
  const buf = await received;
  const engineMessages = await messagesP;
  assert.ok(Buffer.isBuffer(buf));
  assert.deepEqual([...buf], [1, 2, 3]);
  assert.equal(engineMessages[0], '51-["bin",{"_placeholder":true,"num":0}]');
  assert.ok(Buffer.isBuffer(engineMessages[1]));
  assert.deepEqual([...engineMessages[1]], [1, 2, 3]);
});

test("UTF-8 text survives both directions and Content-Length counts bytes", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);

  const text = "héllo 中文 ✓";
  const received = waitFor1(socket, "utf8");
  await post(s, sid, `42["utf8",${JSON.stringify(text)}]`);
  assert.equal(await received, text);

  socket.emit("utf8", text);
  const res = await poll(s, sid);
  assert.equal(res.text, `42["utf8",${JSON.stringify(text)}]`);
  assert.equal(Number(res.headers["content-length"]), Buffer.byteLength(res.text));
});

test("engine-level send(): strings are message packets, Buffers are base64 over polling", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, conn } = await pollingSession(s);

  const created = [];
  conn.on("packetCreate", (p) => created.push({ type: p.type, data: p.data }));
  conn.send("raw text");
  conn.send(Buffer.from([0xff, 0x00, 0x10]));
  const res = await poll(s, sid);
  assert.equal(res.text, `4raw text${SEP}b/wAQ`);
  assert.equal(created.length, 2);
  assert.deepEqual(created[0], { type: "message", data: "raw text" });
  assert.equal(created[1].type, "message");
});

test('the engine socket emits "packet" for each received packet', T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, conn } = await pollingSession(s);

  const packets = collect(conn, "packet", 2, { map: (p) => ({ type: p.type, data: p.data }) });
  await post(s, sid, `3${SEP}40`);
  assert.deepEqual(await packets, [
    { type: "pong", data: undefined },
    { type: "message", data: "0" },
  ]);
});

test("the packets of a POST are handled before the POST is answered, as upstream handles them within the request", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, socket } = await connectedPollingSession(s);
  const conn = socket.conn;

  const responses = [];
  s.httpServer.prependListener("request", (req, res) => {
    if (req.method === "POST") responses.push(res);
  });
  const handled = [];
  conn.on("packet", (packet) => handled.push({ event: "packet", type: packet.type, answered: responses[0].headersSent }));
  conn.on("message", (data) => handled.push({ event: "message", data, answered: responses[0].headersSent }));
  const res = await post(s, sid, `42["a"]${SEP}42["b"]`);
  assert.equal(res.text, "ok");
  assert.deepEqual(handled, [
    { event: "packet", type: "message", answered: false },
    { event: "message", data: '2["a"]', answered: false },
    { event: "packet", type: "message", answered: false },
    { event: "message", data: '2["b"]', answered: false },
  ]);
});

test("engine.io-client over polling: text and binary both ways", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());

  const sockP = nextSioConnection(s);
  const client = await openEioClient(s, { transports: ["polling"] });
  await sioConnect(client);
  const socket = await sockP;

  // client -> server, text then binary (Socket.IO BINARY_EVENT header + attachment)
  const text = waitFor(socket, "text");
  client.send('2["text","abc"]');
  assert.deepEqual(await text, ["abc"]);
  const bin = waitFor1(socket, "bin");
  client.send('51-["bin",{"_placeholder":true,"num":0}]');
  client.send(Buffer.from([9, 8, 7]));
  assert.deepEqual([...(await bin)], [9, 8, 7]);

  // server -> client
  const two = collect(client, "message", 2);
  socket.emit("bin", Buffer.from([4, 5, 6]));
  const messages = await two;
  assert.equal(messages[0], '51-["bin",{"_placeholder":true,"num":0}]');
  assert.deepEqual([...toBuffer(messages[1])], [4, 5, 6]);
});

test("a POST with Content-Type application/octet-stream is refused (400) and closes the session", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid, conn } = await pollingSession(s);

  const closed = engineClosed(conn);
  const { response: pending } = await parkPoll(s, sid); // the close packet is delivered through it
  const res = await eioRequest(s, {
    method: "POST",
    query: { transport: "polling", sid },
    headers: { "Content-Type": "application/octet-stream" },
    body: Buffer.from([4, 1, 2, 3]),
  });
  assert.equal(res.status, 400);
  assert.equal(res.text, "");
  const [reason, description] = await closed;
  assert.equal(reason, "transport error");
  assert.equal(description.message, "invalid content");
  assert.equal((await pending).text, "1");
});

test("an unsupported method on an existing polling session is answered 500 with an empty body", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const { sid } = await pollingSession(s);

  const res = await eioRequest(s, { method: "PUT", query: { transport: "polling", sid }, body: "42" });
  assert.equal(res.status, 500);
  assert.equal(res.text, "");
});
