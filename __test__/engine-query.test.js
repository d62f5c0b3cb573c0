/** `req._query` (and so `socket.handshake.query`): what upstream's URL parse makes of every request URL. */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { TEST_TIMEOUT, startServer, request } = require("./support/engine-helpers");

const T = { timeout: TEST_TIMEOUT };

/** Upstream's reading of a request's query (engine.io's `prepare`). */
function upstreamQuery(url) {
  return Object.fromEntries(new URL(url, "https://socket.io").searchParams.entries());
}

/** Sends a GET for `url` and resolves with the `req._query` the engine gave it. */
async function queryOf(s, url) {
  const seen = new Promise((resolve) => s.io.engine.once("headers", (headers, req) => resolve(req._query)));
  const res = await request(s.port, { path: url });
  assert.equal(res.status, 200, `${url}: ${res.status} ${res.text}`);
  return seen;
}

/** The same entries in the same order, on a plain object, with no inherited surprises. */
function assertSameQuery(actual, url) {
  const expected = upstreamQuery(url);
  assert.equal(Object.getPrototypeOf(actual), Object.prototype, url);
  assert.deepEqual(Object.entries(actual), Object.entries(expected), url);
  assert.deepEqual(Object.getOwnPropertyNames(actual), Object.getOwnPropertyNames(expected), url);
}

test("every query reads as upstream's URL parse: plain, escaped, repeated, empty and odd parameters", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const base = "/socket.io/?EIO=4&transport=polling";
  const tails = [
    "",
    "&t=PZx3Fzq.0&token=abc-_~",
    "&a=1&a=2&b",
    "&&&=x&c==d&e=",
    "&__proto__=polluted&constructor=c&toString=s",
    "&0=zero&1=one&x=letter",
    "&q=a%20b&r=a+b&s=%41%zz&u=%E2%82%AC",
    "&path=/a/b?c:d@e!$'()*,;",
    "&frag=1#ignored=2",
    "&tilde=~&dot=.",
  ];
  for (const tail of tails) {
    const url = base + tail;
    assertSameQuery(await queryOf(s, url), url);
  }
  // A fragment hides what follows it, so these have no transport: unknown transport.
  for (const url of ["/socket.io/#x?EIO=4&transport=polling", "/socket.io/?EIO=4#&transport=polling"]) {
    const res = await request(s.port, { path: url });
    assert.equal(res.status, 400, url);
    assert.deepEqual(JSON.parse(res.text), { code: 0, message: "Transport unknown" }, url);
  }
});

test("random queries read as upstream's URL parse", T, async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  // Printable ASCII that Node's HTTP client sends as it is, with the separators more often.
  const alphabet = "&&==aA0-._~!$'()*,;:@/?%+#Z9";
  let seed = 7;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 300; i++) {
    let tail = "&";
    for (let j = random(16); j > 0; j--) tail += alphabet[random(alphabet.length)];
    const url = `/socket.io/?EIO=4&transport=polling${tail}`;
    const expected = upstreamQuery(url);
    if (expected.EIO !== "4" || expected.transport !== "polling") continue;
    assertSameQuery(await queryOf(s, url), url);
  }
});
