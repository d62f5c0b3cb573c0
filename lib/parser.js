/** Socket.IO packet data in JS: binary placeholders out and in, and payload checks (socket.io-parser 4.x). Framing is in Rust. */
"use strict";

const { RESERVED_EVENTS } = require("./reserved-events");

const PacketType = Object.freeze({
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
});

function isBinary(obj) {
  return Buffer.isBuffer(obj) || obj instanceof ArrayBuffer || ArrayBuffer.isView(obj);
}

function hasBinary(obj, depth = 0) {
  if (!obj || typeof obj !== "object" || depth > 64) return false;
  if (isBinary(obj)) return true;
  if (Array.isArray(obj)) {
    for (const item of obj) if (hasBinary(item, depth + 1)) return true;
    return false;
  }
  if (typeof obj.toJSON === "function" && arguments.length === 1) {
    return hasBinary(obj.toJSON(), depth + 1);
  }
  for (const key in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, key) && hasBinary(obj[key], depth + 1)) return true;
  }
  return false;
}

function deconstruct(data, buffers) {
  if (isBinary(data)) {
    const placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(Buffer.isBuffer(data) ? data : toBuffer(data));
    return placeholder;
  }
  if (Array.isArray(data)) return data.map((item) => deconstruct(item, buffers));
  if (data && typeof data === "object" && !(data instanceof Date)) {
    const out = {};
    for (const key in data) {
      if (Object.prototype.hasOwnProperty.call(data, key)) out[key] = deconstruct(data[key], buffers);
    }
    return out;
  }
  return data;
}

function toBuffer(data) {
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function reconstruct(data, buffers) {
  if (!data || typeof data !== "object") return data;
  if (data._placeholder === true) {
    if (typeof data.num === "number" && data.num >= 0 && data.num < buffers.length) return buffers[data.num];
    throw new Error("illegal attachments");
  }
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = reconstruct(data[i], buffers);
  } else {
    for (const key in data) {
      if (Object.prototype.hasOwnProperty.call(data, key)) data[key] = reconstruct(data[key], buffers);
    }
  }
  return data;
}

/**
 * The wire form of a packet's data: JSON text plus binary attachments, and the type with the
 * binary variant chosen when attachments exist.
 */
function encodeData(type, data) {
  if (data === undefined) return { type, json: "", attachments: null };
  if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data)) {
    const attachments = [];
    const json = JSON.stringify(deconstruct(data, attachments));
    return { type: type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK, json, attachments };
  }
  return { type, json: JSON.stringify(data), attachments: null };
}

function isObject(value) {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/** A received packet's data, its placeholders replaced by the attachments; undefined for none. */
function parseData(json, attachments) {
  if (json === "") return undefined;
  let data;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error("invalid payload");
  }
  if (attachments && attachments.length) data = reconstruct(data, attachments);
  return data;
}

/** Parses and checks a received packet's data; throws on what socket.io-parser refuses. */
function decodeData(type, json, attachments) {
  // As socket.io-parser, a packet without data is not checked.
  if (json === "") return undefined;
  const data = parseData(json, attachments);
  let valid;
  switch (type) {
    case PacketType.CONNECT:
      valid = isObject(data);
      break;
    case PacketType.DISCONNECT:
      valid = false;
      break;
    case PacketType.CONNECT_ERROR:
      valid = typeof data === "string" || isObject(data);
      break;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      valid =
        Array.isArray(data) &&
        (typeof data[0] === "number" || (typeof data[0] === "string" && !RESERVED_EVENTS.has(data[0])));
      break;
    default:
      valid = Array.isArray(data);
  }
  if (!valid) throw new Error("invalid payload");
  return data;
}

/**
 * The text frame Rust builds for a packet (src/protocol/socketio_packet.rs), rebuilt here only
 * for `packetCreate` listeners, which see what goes on the wire.
 */
function encodeText(type, attachments, nsp, id, json) {
  let text = String(type);
  if (attachments) text += attachments.length + "-";
  if (nsp !== "/") text += nsp + ",";
  if (id !== undefined && id !== null) text += id;
  return text + json;
}

/**
 * socket.io-parser's `Encoder` shape (`io.encoder`), for adapters of the socket.io-adapter family,
 * which encode a packet once and write it to each client with `client.writeToEngine`.
 */
class Encoder {
  encode(packet) {
    const { type, json, attachments } = encodeData(packet.type, packet.data);
    const text = encodeText(type, attachments, packet.nsp || "/", packet.id, json);
    return attachments ? [text, ...attachments] : [text];
  }
}

/** What socket.io-parser's Encoder makes of `probePacket()`. */
const PROBE_DEFAULT = '51-/probe,7["probe",{"n":1.5,"b":{"_placeholder":true,"num":0}}]';
/** What socket.io-msgpack-parser's Encoder makes of `probePacket()` (notepack.io 2.2). */
const PROBE_MSGPACK = "84a47479706502a46461746192a570726f626582a16ecb3ff8000000000000a162c4020102a2696407a36e7370a62f70726f6265";

function probePacket() {
  return { type: PacketType.EVENT, data: ["probe", { n: 1.5, b: Buffer.from([1, 2]) }], id: 7, nsp: "/probe" };
}

const wireFormats = new WeakMap();

/**
 * The wire format of a `parser` option, as Rust takes it (src/io/parser.rs): "default"
 * (socket.io-parser's), "msgpack" (socket.io-msgpack-parser's), both encoded and decoded in Rust,
 * or "custom": the parser's own Encoder and Decoder run in JS. A parser is known by what its
 * Encoder makes of a probe packet, so that a copy or fork of either counts as it.
 */
function wireFormatOf(parser) {
  if (!parser || parser === module.exports) return "default";
  if (!wireFormats.has(parser)) wireFormats.set(parser, probeWireFormat(parser));
  return wireFormats.get(parser);
}

function probeWireFormat(parser) {
  let encoded;
  try {
    encoded = new parser.Encoder().encode(probePacket());
  } catch {
    return "custom";
  }
  if (!Array.isArray(encoded)) return "custom";
  const hex = (message) => (isBinary(message) ? toHex(message) : null);
  if (encoded.length === 1 && hex(encoded[0]) === PROBE_MSGPACK && typeof parser.Decoder === "function") {
    return "msgpack";
  }
  if (encoded.length === 2 && encoded[0] === PROBE_DEFAULT && hex(encoded[1]) === "0102") return "default";
  return "custom";
}

function toHex(data) {
  return (Buffer.isBuffer(data) ? data : toBuffer(data)).toString("hex");
}

/** Deeper data is encoded in JS: Rust's JSON reader stops at 128 levels. */
const MAX_MSGPACK_DEPTH = 100;

/**
 * Whether `value` holds what JSON does not carry as notepack.io (socket.io-msgpack-parser's
 * encoder) does, so that the parser's own Encoder must encode it: undefined, non-finite numbers,
 * Dates, ArrayBuffers and views other than Buffers, objects with `toJSON`, boxed primitives,
 * lone surrogates, an own `_placeholder` key (Rust would take it for an attachment), very deep
 * or circular data.
 */
function msgpackNeedsJs(value, depth = 0) {
  switch (typeof value) {
    case "string":
      return !value.isWellFormed();
    case "number":
      return !Number.isFinite(value);
    case "boolean":
      return false;
    case "object":
      break;
    default:
      // undefined, bigint, symbol, function.
      return true;
  }
  if (value === null || Buffer.isBuffer(value)) return false;
  if (depth >= MAX_MSGPACK_DEPTH || isBinary(value) || typeof value.toJSON === "function") return true;
  if (value instanceof Date || value instanceof String || value instanceof Number || value instanceof Boolean) {
    return true;
  }
  if (Array.isArray(value)) {
    for (const item of value) if (msgpackNeedsJs(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const item = value[key];
    // Both JSON and notepack.io leave out functions that are values of an object.
    if (typeof item === "function") continue;
    if (key === "_placeholder" || !key.isWellFormed() || msgpackNeedsJs(item, depth + 1)) return true;
  }
  return false;
}

/**
 * Whether the server's parser encodes a packet of `data` itself (`server.encoder`), rather than
 * Rust: always a custom parser; the msgpack one when the data needs it or when `packetCreate`
 * listeners are to see the messages.
 */
function encodesInJs(server, data, packetCreateListened) {
  const format = server._wireFormat;
  return format === "custom" || (format === "msgpack" && (packetCreateListened || msgpackNeedsJs(data)));
}

module.exports = {
  PacketType,
  Encoder,
  encodeData,
  encodeText,
  decodeData,
  parseData,
  hasBinary,
  wireFormatOf,
  encodesInJs,
};
