/** Unguessable ids (15 random bytes, base64url, as upstream's base64id), drawn from a pooled buffer. */
"use strict";

const crypto = require("node:crypto");

const ID_BYTES = 15;
// One system call fills ids for 273 handshakes instead of one call per id.
const pool = Buffer.alloc(ID_BYTES * 273);
let offset = pool.length;

function generateId() {
  if (offset === pool.length) {
    crypto.randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

module.exports = { generateId };
