/** perMessageDeflate and maxHttpBufferSize: a frame over the limit is refused by its header, over raw TCP. */
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const zlib = require("node:zlib");
const {
  startServer,
  upgradeRequest,
  withTimeout,
  waitFor1,
  engineClosed,
  nextEngineConnection,
  TEST_TIMEOUT,
} = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** The server's frames (unmasked) in `bytes`, as far as they are complete. */
function serverFrames(bytes) {
  const frames = [];
  let at = 0;
  while (bytes.length - at >= 2) {
    let length = bytes[at + 1] & 0x7f;
    let headerLength = 2;
    if (length === 126) [length, headerLength] = [bytes.readUInt16BE(at + 2), 4];
    else if (length === 127) [length, headerLength] = [Number(bytes.readBigUInt64BE(at + 2)), 10];
    if (bytes.length - at < headerLength + length) break;
    frames.push({ opcode: bytes[at] & 0x0f, payload: bytes.subarray(at + headerLength, at + headerLength + length) });
    at += headerLength + length;
  }
  return frames;
}

/**
 * Opens a WebSocket that negotiates permessage-deflate over a raw TCP socket, writes `frameStart`
 * after the 101, and resolves with the close frame's code once the server closes the socket.
 */
function closeCodeAfter(server, frameStart) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1", () =>
        socket.write(
          upgradeRequest(`${server.path}?EIO=4&transport=websocket`, {
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
          }),
        ),
      );
      server.track(socket);
      let received = Buffer.alloc(0);
      let head = null;
      socket.on("data", (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (head !== null) return;
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        head = received.subarray(0, end).toString("latin1");
        received = received.subarray(end + 4);
        if (!/^HTTP\/1\.1 101 /.test(head) || !/permessage-deflate/i.test(head)) {
          return reject(new Error(`no permessage-deflate upgrade:\n${head}`));
        }
        socket.write(frameStart);
      });
      socket.on("error", reject);
      socket.on("close", () => {
        const close = serverFrames(received).find((frame) => frame.opcode === 8);
        if (!close) return reject(new Error(`closed without a close frame (${received.length} bytes after the 101)`));
        resolve(close.payload.readUInt16BE(0));
      });
    }),
    5000,
    "the server to close the connection",
  );
}

/** The header of a masked text frame of `length` bytes, its mask key and the first payload bytes. */
function startOfTextFrame(length) {
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([header, Buffer.from([1, 2, 3, 4]), Buffer.from("4xxxxxxx")]);
}

test("on a compressed connection, a plain frame over maxHttpBufferSize is refused by its header (1009)", T, async (t) => {
  const s = await startServer({ perMessageDeflate: true, maxHttpBufferSize: 1000 });
  t.after(() => s.close());
  const connection = nextEngineConnection(s);
  // The rest of a 1 GiB frame never comes: the server must not wait for it.
  const code = closeCodeAfter(s, startOfTextFrame(2 ** 30));
  const [reason] = await engineClosed(await connection);
  assert.equal(reason, "transport error");
  assert.equal(await code, 1009);
});

test("on a compressed connection, a plain frame of exactly maxHttpBufferSize bytes is read", T, async (t) => {
  const s = await startServer({ perMessageDeflate: true, maxHttpBufferSize: 1000 });
  t.after(() => s.close());
  const connection = nextEngineConnection(s);
  const payload = Buffer.from("4" + "y".repeat(999));
  const mask = Buffer.from([9, 8, 7, 6]);
  const header = Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = payload.map((byte, i) => byte ^ mask[i % 4]);
  const socket = net.connect(s.port, "127.0.0.1", () =>
    socket.write(
      upgradeRequest(`${s.path}?EIO=4&transport=websocket`, {
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
      }),
    ),
  );
  s.track(socket);
  socket.once("data", () => socket.write(Buffer.concat([header, mask, masked])));
  assert.equal(await waitFor1(await connection, "message"), "y".repeat(999));
});

/** A masked, compressed (RSV1) text frame whose payload is `deflated`. */
function compressedFrame(deflated) {
  const mask = Buffer.from([5, 6, 7, 8]);
  const header =
    deflated.length < 126
      ? Buffer.from([0xc1, 0x80 | deflated.length])
      : Buffer.from([0xc1, 0x80 | 126, deflated.length >> 8, deflated.length & 0xff]);
  return Buffer.concat([header, mask, deflated.map((byte, i) => byte ^ mask[i % 4])]);
}

test("on a compressed connection, a message that inflates past maxHttpBufferSize is refused (1009, as ws)", T, async (t) => {
  const s = await startServer({ perMessageDeflate: true, maxHttpBufferSize: 1000 });
  t.after(() => s.close());
  const connection = nextEngineConnection(s);
  const deflated = zlib.deflateRawSync("4" + "a".repeat(5000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(deflated.length < 1000, "the compressed frame itself is within the limit");
  const code = closeCodeAfter(s, compressedFrame(deflated.subarray(0, deflated.length - 4)));
  const [reason] = await engineClosed(await connection);
  assert.equal(reason, "transport error");
  assert.equal(await code, 1009);
});

test("on a compressed connection, a message that is not deflate data is refused (1007, as ws)", T, async (t) => {
  const s = await startServer({ perMessageDeflate: true });
  t.after(() => s.close());
  const connection = nextEngineConnection(s);
  const code = closeCodeAfter(s, compressedFrame(Buffer.from([0xff, 0xff, 0xff, 0xff])));
  const [reason] = await engineClosed(await connection);
  assert.equal(reason, "transport error");
  assert.equal(await code, 1007);
});
