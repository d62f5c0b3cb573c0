/*
 * Counting for compat/run-upstream.sh (one mocha process per test file) and
 * compat/run-adapters.sh (one per suite of an adapter's tests), from the
 * events compat/lib/reporter.js wrote.
 *
 *   node summarize.js file <name> <events.jsonl> <exit code> <timeout secs> <dry-run events.jsonl|-> \
 *                          <failures.log> <results.jsonl> <output.log>
 *     One test file of run-upstream.sh. A file that failed to load has no test
 *     count of its own; the harness then does a mocha --dry-run of it against
 *     upstream socket.io, and if that cannot load it either, the file counts
 *     as 1 failure.
 *
 *   node summarize.js suite <plan dir> <N> <events.jsonl> <exit code> <timeout secs> \
 *                           <failures.log> <results.jsonl> <output.log>
 *     Suite N of run-adapters.sh, as compat/lib/adapters-plan.js planned it.
 *
 *   Both print "<name>: P passed, F failed, S pending" (plus why, if the run
 *   timed out or crashed), append the failing tests' titles and errors to
 *   failures.log and one JSON line of counts to results.jsonl.
 *
 *   node summarize.js total file|suite <results.jsonl>
 *     Prints the files or suites that did not complete, the pending total and,
 *     last, "N passed, M failed".
 *
 *   node summarize.js table <label>=<results.jsonl>...
 *     Prints a Markdown table of runs side by side, one column each (for
 *     compat/ADAPTERS.md), e.g. "socket.io 4.8.4=base/results.jsonl".
 *
 * Counting rule: passed and pending are what was seen; failed is the larger of
 * the failures seen (tests and hooks) and (tests planned - passed - pending),
 * so tests that never ran because the run timed out, crashed or a hook failed
 * count as failed.
 */
"use strict";

const fs = require("fs");
const path = require("path");

/**
 * Where the two harnesses' lines differ. run-upstream.sh shows a test by
 * mocha's full title; the adapters' suites repeat the same titles under one
 * describe block per client or topology, so their lines show the title path.
 * Only the adapters' per-suite lines say how many tests a failing hook kept
 * from running: run-upstream.sh's per-file lines never did, and keep their
 * format.
 */
const HARNESSES = {
  file: { unit: "file", separator: " ", sayTestsSkippedByHooks: false },
  suite: { unit: "suite", separator: " > ", sayTestsSkippedByHooks: true },
};

/** The JSON lines of `file` (none if it is "-" or missing), less any line cut short by a kill. */
function readJsonLines(file) {
  if (!file || file === "-" || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
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

/** The first `lines` lines of a file, or with a negative count the last ones. */
function excerpt(file, lines) {
  if (!fs.existsSync(file)) return "";
  const all = fs.readFileSync(file, "utf8").trim().split("\n");
  return (lines > 0 ? all.slice(0, lines) : all.slice(lines)).map((l) => "      | " + l).join("\n");
}

const testsCount = (n) => `${n} test${n === 1 ? "" : "s"}`;

/**
 * Counts one mocha run, prints its line and records it in failures.log and results.jsonl.
 * @param {object} run
 * @param {"file"|"suite"} run.kind  which harness ran it (see HARNESSES)
 * @param {string} run.name          first on its line
 * @param {object[]} run.events      what compat/lib/reporter.js wrote
 * @param {number} run.rc            the exit code of `timeout ... mocha`
 * @param {string} run.timeoutSecs
 * @param {number} run.planned       the tests mocha was to run (0 if unknown)
 * @param {string} [run.plannedNote] where `planned` came from, when not from the run itself
 * @param {string} run.failuresLog
 * @param {string} run.resultsFile
 * @param {string} run.outputLog     mocha's output
 * @param {object} [run.row]         more fields for results.jsonl
 */
function summarizeRun({ kind, name, events, rc, timeoutSecs, planned, plannedNote = "", failuresLog, resultsFile, outputLog, row = {} }) {
  const { unit, separator, sayTestsSkippedByHooks } = HARNESSES[kind];
  const title = (titlePath) => titlePath.join(separator);
  const timedOut = rc === 124 || rc === 137; // timeout(1): 124 after TERM, 137 after the follow-up KILL
  const start = events.find((e) => e.event === "start");
  const ended = events.some((e) => e.event === "end");
  const passes = events.filter((e) => e.event === "pass");
  const pendings = events.filter((e) => e.event === "pending");
  const fails = events.filter((e) => e.event === "fail");

  // the test that was running when the process died: begun, never finished
  const id = (e) => JSON.stringify(e.path);
  const finished = new Set([...passes, ...pendings, ...fails].map(id));
  const running =
    timedOut || !ended
      ? events
          .filter((e) => e.event === "begin" && !finished.has(id(e)))
          .map((e) => e.path)
          .pop()
      : undefined;

  const passed = passes.length;
  const pending = pendings.length;
  let failed = Math.max(fails.length + (running ? 1 : 0), planned - passed - pending);
  if (failed === 0 && (!start || !ended)) failed = 1; // something went wrong; never report it as clean

  const notRun = Math.max(0, planned - passed - pending - fails.length - (running ? 1 : 0));
  const notRunNote = notRun ? `; ${testsCount(notRun)} did not run${plannedNote}` : "";
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
  } else if (notRun && sayTestsSkippedByHooks) {
    why = ` (${testsCount(notRun)} did not run)`;
  }

  const line = `${name}: ${passed} passed, ${failed} failed, ${pending} pending${why}`;
  console.log(line);

  if (status !== "ok" || failed > 0) {
    const log = [`== ${line}`];
    for (const f of fails) {
      const hook = f.type === "hook";
      const forTest = hook && f.test ? ` (for ${f.test[f.test.length - 1]})` : "";
      log.push(`  FAIL${hook ? " (hook)" : ""}: ${title(f.path)}${forTest}\n${shortError(f.error)}`);
    }
    if (running) log.push(`  FAIL: ${title(running)}\n      (still running when the ${unit} ${timedOut ? "timed out" : "crashed"})`);
    if (notRun) log.push(`  ${notRun} more test(s) did not run`);
    // a load failure's cause is at the top of the output (e.g. ts-node's type errors); a crash's at the end
    if (status === "crashed" && !start) log.push(`  first lines of the output:\n${excerpt(outputLog, 20)}`);
    else if (status === "crashed") log.push(`  last lines of the output:\n${excerpt(outputLog, -20)}`);
    log.push(`  full output: ${outputLog}`, "");
    fs.appendFileSync(failuresLog, log.join("\n") + "\n");
  }
  fs.appendFileSync(resultsFile, JSON.stringify({ name, ...row, passed, failed, pending, status }) + "\n");
}

function file([name, eventsFile, rcText, timeoutSecs, dryEventsFile, failuresLog, resultsFile, outputLog]) {
  const events = readJsonLines(eventsFile);
  const start = events.find((e) => e.event === "start");
  const dryStart = start ? undefined : readJsonLines(dryEventsFile).find((e) => e.event === "start");
  summarizeRun({
    kind: "file",
    name,
    events,
    rc: Number(rcText),
    timeoutSecs,
    planned: (start || dryStart || { total: 0 }).total,
    plannedNote: dryStart ? ", test count from a dry run against socket.io" : "",
    failuresLog,
    resultsFile,
    outputLog,
  });
}

function suite([planDir, index, eventsFile, rcText, timeoutSecs, failuresLog, resultsFile, outputLog]) {
  const { name, tests } = JSON.parse(fs.readFileSync(path.join(planDir, `${index}.json`), "utf8"));
  summarizeRun({
    kind: "suite",
    name,
    events: readJsonLines(eventsFile),
    rc: Number(rcText),
    timeoutSecs,
    planned: tests.length,
    failuresLog,
    resultsFile,
    outputLog,
    row: { planned: tests.length },
  });
}

function total([kind, resultsFile]) {
  if (!Object.hasOwn(HARNESSES, kind)) usage();
  const rows = readJsonLines(resultsFile);
  const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
  const bad = rows.filter((r) => r.status !== "ok").map((r) => `${r.name} ${r.status}`);
  if (bad.length) console.log(`incomplete ${HARNESSES[kind].unit}s: ${bad.join(", ")}`);
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

function usage() {
  console.error("usage: summarize.js file|suite|total|table ... (see the comment at the top)");
  process.exit(2);
}

if (require.main === module) {
  const [mode, ...args] = process.argv.slice(2);
  const modes = { file, suite, total, table };
  if (Object.hasOwn(modes, mode)) modes[mode](args);
  else usage();
}

module.exports = { readJsonLines };
