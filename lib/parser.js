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

/** Parses and checks a received packet's data; throws on what socket.io-parser refuses. */
function decodeData(type, json, attachments) {
  // As socket.io-parser, a packet without data is not checked.
  if (json === "") return undefined;
  let data;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error("invalid payload");
  }
  if (attachments && attachments.length) data = reconstruct(data, attachments);
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

module.exports = { PacketType, Encoder, encodeData, encodeText, decodeData, hasBinary };
