/*
 * Runs tsd on a workspace made by compat/run-types.sh and counts its assertions.
 *
 *   node types-check.js <package dir> <diagnostics log>
 *
 * tsd itself only lists diagnostics. To say how many of upstream's checks hold, every assertion
 * in the test files is found and each diagnostic is charged to the assertion it falls in:
 *   - a call to one of tsd's assertion functions (expectType, expectError, ...), from the start
 *     of the call to its end (tsd reports a failed one inside that span);
 *   - a `// @ts-expect-error` comment: it fails when TypeScript reports it unused, at the comment.
 * An assertion passes when no diagnostic falls in it. A diagnostic outside every assertion (an
 * error in ordinary test code, in the types under test, or from tsd's package.json rules) is an
 * "error outside assertions": the run then fails too, as tsd would.
 *
 * Output, one line per test file, then the total:
 *   test/FILE.test-d.ts: P passed, F failed (N assertions: X tsd calls, Y @ts-expect-error)[, E errors outside assertions]
 *   [other files: E errors outside assertions (see the log)]
 *   diagnostics: LOG
 *   P passed, F failed[, E errors outside assertions]
 * Every diagnostic goes to the log with its position and the assertion it was charged to.
 * Exit code: 0 if tsd found nothing, 1 if it did, 2 if tsd could not run.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const [pkgDir, logFile] = process.argv.slice(2);
if (!pkgDir || !logFile) {
  console.error("usage: node types-check.js <package dir> <diagnostics log>");
  process.exit(2);
}

// tsd and its TypeScript come from the workspace's pinned install, not from this repo.
const fromWorkspace = (id) => require(require.resolve(id, { paths: [pkgDir] }));
const tsdModule = fromWorkspace("tsd");
const tsd = tsdModule.default;
const ts = fromWorkspace("@tsd/typescript");

// The functions tsd exports for test files: expectType, expectError, ... (printType only prints).
const ASSERTION_NAMES = new Set(Object.keys(tsdModule).filter((name) => name.startsWith("expect")));
// TypeScript's own test for a directive comment (see commentDirectiveRegExSingleLine in its scanner).
const EXPECT_ERROR_COMMENT = /^\/\/\/?\s*@ts-expect-error/;

/** Every assertion of one test file, as { kind, start, end, line }. */
function findAssertions(fileName) {
  const text = fs.readFileSync(fileName, "utf8");
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const assertions = [];
  const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line + 1;

  (function visit(node) {
    if (ts.isCallExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
      if (ts.isIdentifier(callee) && ASSERTION_NAMES.has(callee.text)) {
        const start = node.getStart(source);
        assertions.push({ kind: callee.text, start, end: node.getEnd(), line: lineOf(start) });
      }
    }
    ts.forEachChild(node, visit);
  })(source);

  // Comments hang before tokens: visit every token (getChildren includes them) and read the
  // comments that lead it, each once.
  const seen = new Set();
  (function comments(node) {
    for (const range of ts.getLeadingCommentRanges(text, node.getFullStart()) || []) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      if (range.kind === ts.SyntaxKind.SingleLineCommentTrivia && EXPECT_ERROR_COMMENT.test(text.slice(range.pos, range.end))) {
        assertions.push({ kind: "@ts-expect-error", start: range.pos, end: range.end, line: lineOf(range.pos) });
      }
    }
    for (const child of node.getChildren(source)) comments(child);
  })(source);
  return { source, assertions };
}

const outsideAssertions = (n) => `${n} error${n === 1 ? "" : "s"} outside assertions`;

/** The innermost assertion of `file` that holds `pos`, if any. */
function assertionAt(file, pos) {
  let found;
  for (const a of file.assertions) {
    if (a.start <= pos && pos <= a.end && (!found || a.end - a.start < found.end - found.start)) found = a;
  }
  return found;
}

async function main() {
  const diagnostics = await tsd({ cwd: pkgDir });
  const rel = (fileName) => path.relative(pkgDir, fileName);
  const testDir = path.join(pkgDir, "test");
  const testFiles = new Map();
  (function collect(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) collect(full);
      else if (/\.test-d\.tsx?$/.test(entry.name)) testFiles.set(full, { ...findAssertions(full), failed: new Set(), outside: 0 });
    }
  })(testDir);

  const log = [];
  let outsideTests = 0;
  for (const d of diagnostics) {
    const where = `${rel(d.fileName)}:${d.line ?? "?"}:${d.column ?? "?"}`;
    const file = testFiles.get(d.fileName);
    let charged = "outside assertions";
    if (!file) {
      outsideTests++;
    } else {
      const pos = d.line ? file.source.getPositionOfLineAndCharacter(d.line - 1, d.column ?? 0) : -1;
      const assertion = assertionAt(file, pos);
      if (assertion) {
        file.failed.add(assertion);
        charged = `${assertion.kind} at line ${assertion.line}`;
      } else {
        file.outside++;
      }
    }
    log.push(`${d.severity.toUpperCase()} ${where} (${charged})\n  ${d.message.replace(/\n/g, "\n  ")}`);
  }
  fs.writeFileSync(logFile, log.length ? log.join("\n") + "\n" : "");

  let passed = 0;
  let failed = 0;
  let outside = outsideTests;
  for (const [fileName, file] of [...testFiles].sort(([a], [b]) => a.localeCompare(b))) {
    const calls = file.assertions.filter((a) => a.kind !== "@ts-expect-error").length;
    const directives = file.assertions.length - calls;
    const filePassed = file.assertions.length - file.failed.size;
    passed += filePassed;
    failed += file.failed.size;
    outside += file.outside;
    const extra = file.outside ? `, ${outsideAssertions(file.outside)}` : "";
    console.log(
      `${rel(fileName)}: ${filePassed} passed, ${file.failed.size} failed ` +
        `(${file.assertions.length} assertions: ${calls} tsd calls, ${directives} @ts-expect-error)${extra}`,
    );
  }
  if (outsideTests) console.log(`other files: ${outsideAssertions(outsideTests)} (see the log)`);
  console.log(`diagnostics: ${logFile}`);
  console.log(`${passed} passed, ${failed} failed${outside ? `, ${outsideAssertions(outside)}` : ""}`);
  process.exit(diagnostics.some((d) => d.severity === "error") ? 1 : 0);
}

main().catch((err) => {
  console.error(`tsd could not run: ${err && err.message ? err.message : err}`);
  process.exit(2);
});
