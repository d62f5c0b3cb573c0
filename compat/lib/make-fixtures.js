/*
 * Generates the upstream test fixtures that a checkout may lack.
 *
 *   node make-fixtures.js <test dir>
 *
 * packages/socket.io/test/fixtures/big.json and big.jpg are large binary-ish
 * blobs that partial clones and mirrors often leave out (the mirror this
 * project uses has neither). socket.ts only needs "a very large JSON document"
 * and "a very large binary file" to bounce between server and client (it
 * checks Buffer.isBuffer, never the content), so stand-ins of the same kind
 * are generated, deterministically: big.json is a ~6 MB pretty-printed array
 * of records shaped like the original's (which is 6,168,664 characters);
 * big.jpg is 1.5 MB of pseudo-random bytes between JPEG start/end markers.
 * Existing non-empty files are left alone. Prints one line per generated file.
 */
"use strict";

const fs = require("fs");
const path = require("path");

const testDir = process.argv[2];
if (!testDir) {
  console.error("usage: make-fixtures.js <test dir>");
  process.exit(2);
}

// small deterministic PRNG (mulberry32), so every run uses the same bytes
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function missing(file) {
  return !fs.existsSync(file) || fs.statSync(file).size === 0;
}

function bigJson() {
  const rand = prng(1);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const words = "lorem ipsum dolor sit amet consectetur adipisicing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(" ");
  const names = ["Parks Mclaughlin", "Albert Booker", "Carney Ware", "Harris Avery", "Dixon Pope", "Mattie Prince", "Wendy Watson"];
  const records = [];
  for (let id = 0; id < 4350; id++) {
    const name = pick(names);
    records.push({
      id,
      guid: Array.from({ length: 4 }, () => Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0")).join("-"),
      isActive: rand() < 0.5,
      balance: "$" + (rand() * 4000).toFixed(2),
      picture: "http://placehold.it/32x32",
      age: 20 + Math.floor(rand() * 20),
      eyeColor: pick(["blue", "brown", "green"]),
      name,
      gender: pick(["male", "female"]),
      company: pick(["DECRATEX", "QUADEEBO", "ECRAZE", "MOBILDATA"]),
      email: name.toLowerCase().replace(" ", "") + "@example.com",
      phone: "+1 (" + (800 + Math.floor(rand() * 199)) + ") 555-" + String(Math.floor(rand() * 10000)).padStart(4, "0"),
      address: Math.floor(rand() * 999) + " Example Street, Springfield, Kansas, " + Math.floor(rand() * 9999),
      about: Array.from({ length: 30 }, () => pick(words)).join(" ") + ".\r\n",
      registered: "2014-0" + (1 + Math.floor(rand() * 5)) + "-1" + Math.floor(rand() * 9) + "T18:08:36 +08:00",
      latitude: Number((rand() * 180 - 90).toFixed(6)),
      longitude: Number((rand() * 360 - 180).toFixed(6)),
      tags: Array.from({ length: 7 }, () => pick(words)),
      friends: [0, 1, 2].map((fid) => ({ id: fid, name: pick(names) })),
      greeting: `Hello, ${name}! You have ${1 + Math.floor(rand() * 10)} unread messages.`,
      favoriteFruit: pick(["apple", "banana", "strawberry"]),
    });
  }
  return JSON.stringify(records, null, 4);
}

function bigJpg() {
  const rand = prng(2);
  const buf = Buffer.alloc(1_500_000);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rand() * 256);
  buf.set([0xff, 0xd8, 0xff, 0xe0], 0); // SOI + APP0
  buf.set([0xff, 0xd9], buf.length - 2); // EOI
  return buf;
}

const generators = {
  "fixtures/big.json": bigJson,
  "fixtures/big.jpg": bigJpg,
};

for (const [rel, make] of Object.entries(generators)) {
  const file = path.join(testDir, rel);
  if (!missing(file)) continue;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, make());
  console.log(`generated test/${rel} (${fs.statSync(file).size} bytes), a generated stand-in`);
}
