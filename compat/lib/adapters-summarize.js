/*
 * Planning and counting for compat/run-adapters.sh.
 *
 *   node adapters-summarize.js plan <dry-run events.jsonl> <plan dir>
 *     Groups the tests that a `mocha --dry-run` listed (events written by
 *     compat/lib/adapters-reporter.js) into suites, and writes, for the harness:
 *       <plan dir>/suites.tsv   one line per suite: index, test count, name
 *       <plan dir>/N.grep       a mocha --grep that selects exactly suite N's tests
 *       <plan dir>/N.json       suite N's name and the title paths of its tests
 *     A suite is a describe block two levels deep (under the adapter's
 *     top-level describe: one per Redis client or topology, or per feature),
 *     or the top-level describe itself when its tests sit directly in it.
 *
 *   node adapters-summarize.js suite <plan dir> <N> <events.jsonl> <exit code> <timeout secs> \
 *                               <failures.log> <results.jsonl> <output.log>
 *     Counts one suite's run, prints "<name>: P passed, F failed, S pending"
 *     (plus why, if the run timed out or crashed), appends the failing tests'
 *     titles and errors to failures.log and one JSON line to results.jsonl.
 *
 *   node adapters-summarize.js total <results.jsonl>
 *     Prints the pending total and, last, "N passed, M failed".
 *
 *   node adapters-summarize.js table <label>=<results.jsonl>...
 *     Prints a Markdown table of runs side by side, one column each (for
 *     compat/ADAPTERS.md), e.g. "socket.io 4.8.4=base/results.jsonl".
 *
 * Counting rule (as compat/run-upstream.sh's): passed and pending are what
 * was seen; failed is the larger of the failures seen (tests and hooks) and
 * (tests planned - passed - pending), so tests that never ran because the
 * run timed out, crashed or a hook failed count as failed.
 */
"use strict";

const fs = require("fs");
const path = require("path");

const SEP = " > ";

function readJsonLines(file) {
  if (!file || !fs.existsSync(file)) return [];
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

function suiteOf(testPath) {
  const describes = testPath.slice(0, -1);
  return describes.slice(0, Math.min(2, describes.length)).join(SEP);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function plan([eventsFile, planDir]) {
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

// the message and the stack frames of the test itself (not mocha's, expect.js's or node's)
function shortError(text) {
  return String(text || "")
    .split("\n")
    .filter((l) => !/^\s+at .*(node_modules|\(node:|at node:|<anonymous>\)?$)/.test(l))
    .slice(0, 12)
    .map((l) => "      " + l)
    .join("\n");
}

// a load failure's cause is at the top of the output (e.g. ts-node's type errors); a crash's at the end
function excerpt(file, lines, fromStart) {
  if (!fs.existsSync(file)) return "";
  const all = fs.readFileSync(file, "utf8").trim().split("\n");
  return (fromStart ? all.slice(0, lines) : all.slice(-lines)).map((l) => "      | " + l).join("\n");
}

function suite([planDir, index, eventsFile, rcText, timeoutSecs, failuresLog, resultsFile, outputLog]) {
  const { name, tests } = JSON.parse(fs.readFileSync(path.join(planDir, `${index}.json`), "utf8"));
  const events = readJsonLines(eventsFile);
  const rc = Number(rcText);
  const timedOut = rc === 124 || rc === 137; // timeout(1): 124 after TERM, 137 after the follow-up KILL
  const start = events.find((e) => e.event === "start");
  const ended = events.some((e) => e.event === "end");
  const key = (p) => p.join(SEP);
  const passes = events.filter((e) => e.event === "pass");
  const pendings = events.filter((e) => e.event === "pending");
  const fails = events.filter((e) => e.event === "fail");

  // the test that was running when the process died: begun, never finished
  const finished = new Set([...passes, ...pendings, ...fails].map((e) => key(e.path)));
  const running =
    timedOut || !ended
      ? events
          .filter((e) => e.event === "begin" && !finished.has(key(e.path)))
          .map((e) => e.path)
          .pop()
      : undefined;

  const planned = tests.length;
  const passed = passes.length;
  const pending = pendings.length;
  let failed = Math.max(fails.length + (running ? 1 : 0), planned - passed - pending);
  if (failed === 0 && (!start || !ended)) failed = 1; // something went wrong; never report it as clean

  const notRun = Math.max(0, planned - passed - pending - fails.length - (running ? 1 : 0));
  const notRunNote = notRun ? `; ${notRun} test${notRun === 1 ? "" : "s"} did not run` : "";
  let status = "ok";
  let why = "";
  if (timedOut) {
    status = "timed out";
    why = ` (timed out after ${timeoutSecs}s${notRunNote})`;
  } else if (!start) {
    status = "crashed";
    why = ` (crashed: failed to load, exit code ${rc}${notRunNote})`;
  } else if (!ended) {
    status = "crashed";
    why = ` (crashed: exit code ${rc} before the run ended${notRunNote})`;
  } else if (notRun) {
    why = ` (${notRun} test${notRun === 1 ? "" : "s"} did not run)`;
  }

  const line = `${name}: ${passed} passed, ${failed} failed, ${pending} pending${why}`;
  console.log(line);

  if (status !== "ok" || failed > 0) {
    const log = [`== ${line}`];
    for (const f of fails) {
      const title = f.type === "hook" ? `${key(f.path)}${f.test ? ` (for ${f.test[f.test.length - 1]})` : ""}` : key(f.path);
      log.push(`  FAIL${f.type === "hook" ? " (hook)" : ""}: ${title}\n${shortError(f.error)}`);
    }
    if (running) log.push(`  FAIL: ${key(running)}\n      (still running when the suite ${timedOut ? "timed out" : "crashed"})`);
    if (notRun) log.push(`  ${notRun} more test(s) did not run`);
    if (status === "crashed" && !start) log.push(`  first lines of the output:\n${excerpt(outputLog, 20, true)}`);
    else if (status === "crashed") log.push(`  last lines of the output:\n${excerpt(outputLog, 20, false)}`);
    log.push(`  full output: ${outputLog}`, "");
    fs.appendFileSync(failuresLog, log.join("\n") + "\n");
  }
  fs.appendFileSync(resultsFile, JSON.stringify({ name, planned, passed, failed, pending, status }) + "\n");
}

function total([resultsFile]) {
  const rows = readJsonLines(resultsFile);
  const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
  const bad = rows.filter((r) => r.status !== "ok").map((r) => `${r.name} ${r.status}`);
  if (bad.length) console.log(`incomplete suites: ${bad.join(", ")}`);
  console.log(`pending: ${sum("pending")}`);
  console.log(`${sum("passed")} passed, ${sum("failed")} failed`);
}

function table(columns) {
  const cell = (r) =>
    r
      ? `${r.passed} passed, ${r.failed} failed${r.pending ? `, ${r.pending} pending` : ""}${r.status !== "ok" ? ` (${r.status})` : ""}`
      : "not run";
  const runs = columns.map((c) => {
    const eq = c.indexOf("=");
    if (eq < 1) throw new Error(`table: expected LABEL=results.jsonl, got ${c}`);
    return { label: c.slice(0, eq), rows: new Map(readJsonLines(c.slice(eq + 1)).map((r) => [r.name, r])) };
  });
  const names = [...new Set(runs.flatMap((run) => [...run.rows.keys()]))];
  const totals = (rows) => {
    const sum = (k) => [...rows.values()].reduce((n, r) => n + r[k], 0);
    return { passed: sum("passed"), failed: sum("failed"), pending: sum("pending"), status: "ok" };
  };
  console.log(`| Suite | ${runs.map((run) => run.label).join(" | ")} |`);
  console.log(`| --- |${" --- |".repeat(runs.length)}`);
  for (const n of names) console.log(`| ${n} | ${runs.map((run) => cell(run.rows.get(n))).join(" | ")} |`);
  console.log(`| **total** | ${runs.map((run) => `**${cell(totals(run.rows))}**`).join(" | ")} |`);
}

const [mode, ...args] = process.argv.slice(2);
const modes = { plan, suite, total, table };
if (modes[mode]) modes[mode](args);
else {
  console.error("usage: adapters-summarize.js plan|suite|total|table ... (see the comment at the top)");
  process.exit(2);
}
