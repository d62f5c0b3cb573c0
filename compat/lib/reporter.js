/*
 * Mocha reporter used by compat/run-upstream.sh.
 *
 * It prints the usual "spec" output (kept in the per-file output log) and, as
 * each event happens, appends one JSON line to the file named by the
 * COMPAT_EVENTS environment variable:
 *
 *   {"event":"start","total":N}          N = tests mocha is about to run
 *   {"event":"begin","title":"..."}      a test started
 *   {"event":"pass","title":"..."}
 *   {"event":"fail","title":"...","type":"test"|"hook","error":"..."}
 *   {"event":"pending","title":"..."}
 *   {"event":"end"}
 *
 * The lines are written synchronously, so a run that is killed (timeout) or
 * crashes still leaves everything it did on disk for compat/lib/summarize.js.
 *
 * The harness copies this file into its throw-away workspace, so that
 * require("mocha") resolves to the mocha installed there.
 */
"use strict";

const fs = require("fs");
const Mocha = require("mocha");

const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_TEST_BEGIN, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } =
  Mocha.Runner.constants;

class CompatReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const out = process.env.COMPAT_EVENTS;
    if (!out) throw new Error("compat reporter: COMPAT_EVENTS is not set");
    const write = (obj) => fs.appendFileSync(out, JSON.stringify(obj) + "\n");
    const title = (t) => (typeof t.fullTitle === "function" ? t.fullTitle() : String(t.title));

    runner.once(EVENT_RUN_BEGIN, () => write({ event: "start", total: runner.total }));
    runner.on(EVENT_TEST_BEGIN, (t) => write({ event: "begin", title: title(t) }));
    runner.on(EVENT_TEST_PASS, (t) => write({ event: "pass", title: title(t) }));
    runner.on(EVENT_TEST_PENDING, (t) => write({ event: "pending", title: title(t) }));
    runner.on(EVENT_TEST_FAIL, (t, err) => {
      const error = err && (err.stack || err.message) ? String(err.stack || err.message) : String(err);
      write({ event: "fail", title: title(t), type: t.type === "hook" ? "hook" : "test", error });
    });
    runner.once(EVENT_RUN_END, () => write({ event: "end" }));
  }
}

module.exports = CompatReporter;
