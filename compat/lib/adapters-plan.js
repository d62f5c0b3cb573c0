/*
 * The suites of compat/run-adapters.sh: one mocha process each.
 *
 *   node adapters-plan.js <dry-run events.jsonl> <plan dir>
 *     Groups the tests that a `mocha --dry-run` listed (events written by
 *     compat/lib/reporter.js) into suites, and writes, for the harness:
 *       <plan dir>/suites.tsv   one line per suite: index, test count, name
 *       <plan dir>/N.grep       a mocha --grep that selects exactly suite N's tests
 *       <plan dir>/N.json       suite N's name and the title paths of its tests
 *                               (read by `compat/lib/summarize.js suite`)
 *     A suite is a describe block two levels deep (under the adapter's
 *     top-level describe: one per Redis client or topology, or per feature),
 *     or the top-level describe itself when its tests sit directly in it.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { readJsonLines } = require("./summarize");

function suiteOf(testPath) {
  const describes = testPath.slice(0, -1);
  return describes.slice(0, Math.min(2, describes.length)).join(" > ");
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function plan(eventsFile, planDir) {
  const events = readJsonLines(eventsFile);
  if (!events.some((e) => e.event === "end")) {
    console.error("the dry run did not complete: no test list");
    process.exit(1);
  }
  const suites = new Map(); // name -> test paths, in mocha's order
  for (const e of events) {
    if (e.event !== "begin" && e.event !== "pending") continue;
    const name = suiteOf(e.path);
    if (!suites.has(name)) suites.set(name, []);
    suites.get(name).push(e.path);
  }
  fs.mkdirSync(planDir, { recursive: true });
  const rows = [];
  [...suites].forEach(([name, tests], i) => {
    const index = i + 1;
    // mocha matches --grep against each test's full title (its title path joined by spaces)
    const grep = "^(?:" + tests.map((t) => escapeRegExp(t.join(" "))).join("|") + ")$";
    fs.writeFileSync(path.join(planDir, `${index}.grep`), grep);
    fs.writeFileSync(path.join(planDir, `${index}.json`), JSON.stringify({ name, tests }));
    rows.push(`${index}\t${tests.length}\t${name}`);
  });
  fs.writeFileSync(path.join(planDir, "suites.tsv"), rows.join("\n") + (rows.length ? "\n" : ""));
}

const [eventsFile, planDir] = process.argv.slice(2);
if (!eventsFile || !planDir) {
  console.error("usage: adapters-plan.js <dry-run events.jsonl> <plan dir>");
  process.exit(2);
}
plan(eventsFile, planDir);
