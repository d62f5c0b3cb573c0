/**
 * `req._query`: a request's query as upstream reads it,
 * `Object.fromEntries(new URL(req.url, "https://socket.io").searchParams.entries())`.
 */
"use strict";

// What a character of a query is to `parseQuery`. OTHER: the URL parser may escape it, or
// form-urlencoded decoding may change it (`%`, `+`), so the URL parser reads the query.
const OTHER = 0;
const PLAIN = 1;
const AMPERSAND = 2;
const EQUALS = 3;
const KINDS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@/?") {
  KINDS[c.charCodeAt(0)] = PLAIN;
}
KINDS["&".charCodeAt(0)] = AMPERSAND;
KINDS["=".charCodeAt(0)] = EQUALS;

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Every request of a polling session parses its URL. Engine.IO's own parameters (`EIO`,
 * `transport`, `sid`, the client's `t`) have nothing to escape or decode: such a query is split
 * by hand, for a fraction of the URL parser's cost, into the same object.
 */
function parseQuery(url) {
  const start = url.indexOf("?");
  if (start < 0 || !isPlainPath(url, start)) return parseWithUrl(url);
  const query = {};
  let from = start + 1;
  let eq = -1;
  for (let i = from; i <= url.length; i++) {
    // The end of the URL ends the last parameter as `&` would.
    const kind = i === url.length ? AMPERSAND : kindOf(url.charCodeAt(i));
    if (kind === OTHER) return parseWithUrl(url);
    if (kind === EQUALS) {
      if (eq < 0) eq = i;
    } else if (kind === AMPERSAND) {
      if (i > from) {
        const name = eq < 0 ? url.slice(from, i) : url.slice(from, eq);
        // Object.fromEntries makes an own property of that name; an assignment would set the
        // prototype instead.
        if (name === "__proto__") return parseWithUrl(url);
        query[name] = eq < 0 ? "" : url.slice(eq + 1, i);
      }
      from = i + 1;
      eq = -1;
    }
  }
  return query;
}

function kindOf(c) {
  return c < 128 ? KINDS[c] : OTHER;
}

/**
 * Whether the URL's query starts at its first `?`: a path of its own (not `//host...`, nor `/\`,
 * which special URLs read as `//`), with no fragment before it, nor tabs or newlines, which the
 * URL parser removes before it reads the rest.
 */
function isPlainPath(url, queryStart) {
  if (url.charCodeAt(0) !== SLASH) return false;
  const second = url.charCodeAt(1);
  if (second === SLASH || second === BACKSLASH) return false;
  for (let i = 1; i < queryStart; i++) {
    const c = url.charCodeAt(i);
    if (c === HASH || c === TAB || c === LF || c === CR) return false;
  }
  return true;
}

function parseWithUrl(url) {
  return Object.fromEntries(new URL(url, "https://socket.io").searchParams.entries());
}

module.exports = { parseQuery };
