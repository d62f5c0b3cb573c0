/**
 * One string per value for what the requests of many sessions carry alike. A session keeps its
 * handshake request (`socket.request`) for as long as it lives, and Node's HTTP parser makes every
 * header name and value of every request a string of its own: ~20 copies of "Connection",
 * "Upgrade", a browser's User-Agent, its Origin... per connection.
 */
"use strict";

/** Headers whose values repeat across clients (not keys, cookies or tokens). */
const REPEATING_VALUES = new Set([
  "accept",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "connection",
  "host",
  "origin",
  "pragma",
  "sec-websocket-extensions",
  "sec-websocket-version",
  "upgrade",
  "user-agent",
]);

/** Bound on the strings kept: past it, new values stay the request's own. */
const MAX_SHARED = 4096;

const shared = new Map();
/** The lower-case form of each shared header name. */
const lowered = new Map();

function share(value) {
  const known = shared.get(value);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(value, value);
  return value;
}

/**
 * Replaces `req`'s header names and repeating values, its HTTP version and the Engine.IO query
 * parameters every client sends alike by shared ones.
 */
function shareRequestStrings(req) {
  const raw = req.rawHeaders;
  const headers = req.headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    raw[i] = share(raw[i]);
    let name = lowered.get(raw[i]);
    if (name === undefined) {
      name = raw[i].toLowerCase();
      if (lowered.size < MAX_SHARED) lowered.set(raw[i], name);
    }
    if (!REPEATING_VALUES.has(name)) continue;
    const value = share(raw[i + 1]);
    // A header given twice has its values joined in `headers`: that string stays as it is.
    if (headers[name] === value) headers[name] = value;
    raw[i + 1] = value;
  }
  req.httpVersion = share(req.httpVersion);
  const query = req._query;
  if (query && typeof query.transport === "string") query.transport = share(query.transport);
}

module.exports = { share, shareRequestStrings };
