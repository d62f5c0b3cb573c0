/*
 * Counting for compat/run-upstream.sh.
 *
 *   node summarize.js file  <name> <events.jsonl> <exit code> <timeout secs> <dry-run events.jsonl|-> \
 *                           <failures.log> <results.jsonl> <output.log>
 *     Reads the events compat/lib/reporter.js wrote for one test file, prints
 *     "<name>: P passed, F failed, S pending" (plus why, if the file timed out
 *     or crashed), appends the failing tests' titles and errors to failures.log
 *     and one JSON line of counts to results.jsonl.
 *
 *   node summarize.js total <results.jsonl>
 *     Prints the pending total and, last, "N passed, M failed".
 *
 * Counting rule: passed and pending are what was seen; failed is the larger of
 * the failures seen and (tests mocha meant to run - passed - pending), so tests
 * that never ran because the file timed out, crashed or a hook failed count as
 * failed. A file that failed to load has no test count of its own; the harness
 * then does a mocha --dry-run of it against upstream socket.io, and if that
 * cannot load it either, the file counts as 1 failure.
 */
"use strict";

const fs = require("fs");

function readEvents(file) {
  if (!file || file === "-" || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null; // a line cut short by a kill
      }
    })
    .filter(Boolean);
}

// the message and the stack frames of the test itself (not mocha's, expect.js's or node's)
function shortError(text) {
  return String(text || "")
    .split("\n")
    .filter((l) => !/^\s+at .*(node_modules|\(node:|at node:|<anonymous>\)?$)/.test(l))
    .slice(0, 12)
    .map((l) => "      " + l)
    .join("\n");
}

function tail(file, lines) {
  if (!fs.existsSync(file)) return "";
  const all = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  return all.slice(-lines).map((l) => "      | " + l).join("\n");
}

function summarizeFile([name, eventsFile, rcText, timeoutSecs, dryEventsFile, failuresLog, resultsFile, outputLog]) {
  const events = readEvents(eventsFile);
  const rc = Number(rcText);
  const timedOut = rc === 124 || rc === 137; // timeout(1): 124 after TERM, 137 after the follow-up KILL
  const start = events.find((e) => e.event === "start");
  const ended = events.some((e) => e.event === "end");
  const passes = events.filter((e) => e.event === "pass");
  const pendings = events.filter((e) => e.event === "pending");
  const fails = events.filter((e) => e.event === "fail");

  // the test that was running when the process died: begun, never finished
  const finished = new Set([...passes, ...pendings, ...fails].map((e) => e.title));
  const begun = events.filter((e) => e.event === "begin").map((e) => e.title);
  const running = timedOut || !ended ? begun.filter((t) => !finished.has(t)).pop() : undefined;

  let total = start ? start.total : undefined;
  let totalNote = "";
  if (total === undefined) {
    const dry = readEvents(dryEventsFile).find((e) => e.event === "start");
    if (dry) {
      total = dry.total;
      totalNote = ", test count from a dry run against socket.io";
    }
  }

  const passed = passes.length;
  const pending = pendings.length;
  let failed = Math.max(fails.length + (running ? 1 : 0), (total || 0) - passed - pending);
  if (failed === 0 && (!start || !ended)) failed = 1; // something went wrong; never report it as clean

  let status = "ok";
  let why = "";
  const notRun = Math.max(0, (total || 0) - passed - pending - fails.length - (running ? 1 : 0));
  const notRunNote = notRun ? `; ${notRun} test${notRun === 1 ? "" : "s"} did not run${totalNote}` : "";
  if (timedOut) {
    status = "timed out";
    why = ` (timed out after ${timeoutSecs}s${notRunNote})`;
  } else if (!start) {
    status = "crashed";
    why = ` (crashed: failed to load, exit code ${rc}${notRunNote})`;
  } else if (!ended) {
    status = "crashed";
    why = ` (crashed: exit code ${rc} before the run ended${notRunNote})`;
  }

  console.log(`${name}: ${passed} passed, ${failed} failed, ${pending} pending${why}`);

  const log = [];
  if (status !== "ok" || failed > 0) {
    log.push(`== ${name}: ${passed} passed, ${failed} failed, ${pending} pending${why}`);
    for (const f of fails) log.push(`  FAIL${f.type === "hook" ? " (hook)" : ""}: ${f.title}\n${shortError(f.error)}`);
    if (running) log.push(`  FAIL: ${running}\n      (still running when the file ${timedOut ? "timed out" : "crashed"})`);
    if (notRun) log.push(`  ${notRun} more test(s) did not run`);
    if (status === "crashed") log.push(`  last lines of the output:\n${tail(outputLog, 20)}`);
    log.push(`  full output: ${outputLog}`, "");
    fs.appendFileSync(failuresLog, log.join("\n") + "\n");
  }
  fs.appendFileSync(resultsFile, JSON.stringify({ name, passed, failed, pending, status }) + "\n");
}

function summarizeTotal([resultsFile]) {
  const rows = readEvents(resultsFile);
  const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
  const bad = rows.filter((r) => r.status !== "ok").map((r) => `${r.name} ${r.status}`);
  if (bad.length) console.log(`incomplete files: ${bad.join(", ")}`);
  console.log(`pending: ${sum("pending")}`);
  console.log(`${sum("passed")} passed, ${sum("failed")} failed`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "file") summarizeFile(args);
else if (mode === "total") summarizeTotal(args);
else {
  console.error("usage: summarize.js file ... | summarize.js total <results.jsonl>");
  process.exit(2);
}
