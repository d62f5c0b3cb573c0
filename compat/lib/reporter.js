/*
 * Mocha reporter used by compat/run-upstream.sh and compat/run-adapters.sh.
 *
 * It prints the usual "spec" output (kept in the per-file or per-suite output
 * log) and, as each event happens, appends one JSON line to the file named by
 * the COMPAT_EVENTS environment variable:
 *
 *   {"event":"start","total":N}                      N = tests mocha is about to run
 *   {"event":"begin","path":[...]}                   a test started
 *   {"event":"pass","path":[...]}
 *   {"event":"fail","path":[...],"type":"test"|"hook","error":"...","test":[...]}
 *   {"event":"pending","path":[...]}
 *   {"event":"end"}
 *
 * "path" is the title path (describe titles, then the test's or hook's title):
 * joined by spaces it is mocha's full title, and it lets results be grouped by
 * describe block, as the adapters' suites repeat the same test titles under
 * one describe block per Redis client or topology. A failing "each" hook also
 * names, as "test", the path of the test it ran for, since the hook itself may
 * belong to an outer describe block. Under `mocha --dry-run` the same events
 * list the tests without running them.
 *
 * The lines are written synchronously, so a run that is killed (timeout) or
 * crashes still leaves everything it did on disk for compat/lib/summarize.js.
 *
 * The harnesses copy this file into their throw-away workspace, so that
 * require("mocha") resolves to the mocha pinned there.
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

    runner.once(EVENT_RUN_BEGIN, () => write({ event: "start", total: runner.total }));
    runner.on(EVENT_TEST_BEGIN, (t) => write({ event: "begin", path: t.titlePath() }));
    runner.on(EVENT_TEST_PASS, (t) => write({ event: "pass", path: t.titlePath() }));
    runner.on(EVENT_TEST_PENDING, (t) => write({ event: "pending", path: t.titlePath() }));
    runner.on(EVENT_TEST_FAIL, (t, err) => {
      const error = err && (err.stack || err.message) ? String(err.stack || err.message) : String(err);
      const hook = t.type === "hook";
      const forTest = hook && t.ctx && t.ctx.currentTest ? t.ctx.currentTest.titlePath() : undefined;
      write({ event: "fail", path: t.titlePath(), type: hook ? "hook" : "test", error, test: forTest });
    });
    runner.once(EVENT_RUN_END, () => write({ event: "end" }));
  }
}

module.exports = CompatReporter;
