#!/usr/bin/env bash
# Runs the upstream socket.io server test suite (packages/socket.io/test of the
# socketio/socket.io monorepo) against this package, or against upstream
# socket.io 4.8.4 from npm as the baseline.
#
#   compat/run-upstream.sh <socket.io checkout or bare git dir> [options] [test files...]
#
#   --impl socket.io-rs   the package this script lives in (default): the tests'
#                         `import ... from ".."` gets its index.js
#   --impl socket.io      upstream socket.io 4.8.4 from npm (the baseline)
#   --ref REF             commit to take the tests from (default: the work tree
#                         of a checkout, HEAD of a bare git dir)
#   --file-timeout SECS   bound on each test file's mocha process (default 300)
#   --log-dir DIR         where logs go (default: a new temp dir; printed)
#   --keep                keep the throw-away workspace (path printed)
#   test files            e.g. socket.ts namespaces.ts (default: all of test/*.ts)
#
# How: the test directory is copied into a workspace made with mktemp (never
# inside the repo) as <ws>/packages/socket.io/test, next to the implementation's
# own package.json and a stub at its "main" that re-exports the implementation,
# so `..` (and the fixture's `../..`) resolves to it. <ws>/node_modules links to
# a cached install of the pinned test dependencies (compat/deps, installed once
# with `npm ci` into ~/.cache/socket.io-rs-compat/upstream-<hash of the pins>).
# Each test file then runs in its own `mocha` process under `timeout`, without
# --bail, with compat/lib/reporter.js recording every result as it happens, and
# compat/lib/summarize.js turns that into one line per file:
#   test/FILE.ts: P passed, F failed, S pending [(timed out|crashed...)]
# The failing tests' titles and errors go to <log dir>/failures.log; the last
# line is "N passed, M failed". Exit code: 0 if nothing failed, 1 if something
# did, 2 if the harness itself could not run.
#
# Not run: test/uws.ts (needs uWebSockets.js, which is not on npm),
# test/index.ts (only require()s the other files), *.test-d.ts (type tests for
# tsd, not mocha). Missing fixtures are generated (compat/lib/make-fixtures.js).
#
# Environment: SOCKET_IO_RS_COMPAT_CACHE overrides the cache directory.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PKG_REL="packages/socket.io"   # where the server package lives in the monorepo

. "$HERE/lib/common.sh"

# ---------------------------------------------------------------- arguments
IMPL="socket.io-rs" REF="" FILE_TIMEOUT=300 LOG_DIR="" KEEP=0
declare -A VALUE_OPTIONS=([--impl]=IMPL [--ref]=REF [--file-timeout]=FILE_TIMEOUT [--log-dir]=LOG_DIR)
declare -A FLAG_OPTIONS=([--keep]=KEEP=1)
parse_args "$@"
[ -n "${ARGS[0]:-}" ] || usage
SRC="${ARGS[0]}"
ONLY=("${ARGS[@]:1}")
paths_from_npm_cwd SRC LOG_DIR
check_source_and_impl
require_seconds --file-timeout "$FILE_TIMEOUT"

# --------------------------------------------------------------- workspace
WS="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-compat.XXXXXX")" || die "mktemp failed"
if [ "$KEEP" = 1 ]; then trap 'echo "workspace kept: $WS"' EXIT; else trap 'rm -rf "$WS"' EXIT; fi
PKG="$WS/$PKG_REL"
mkdir -p "$PKG"

# copy packages/socket.io/test (+ tsconfig.json) from a work tree or from git
locate_upstream_tests "$PKG_REL/test"
if [ "$FROM" = "work tree" ]; then
  cp -R "$SRC/$PKG_REL/test" "$PKG/test"
  [ -f "$SRC/$PKG_REL/tsconfig.json" ] && cp "$SRC/$PKG_REL/tsconfig.json" "$PKG/"
else
  while IFS= read -r path; do
    echo "missing from the checkout: ${path#"$PKG_REL"/}"
  done < <(export_from_git "${REF:-HEAD}" "$PKG_REL" "$PKG" "$PKG_REL/test" "$PKG_REL/tsconfig.json")
fi
[ -d "$PKG/test" ] || die "no $PKG_REL/test in $SRC"
node "$HERE/lib/make-fixtures.js" "$PKG/test" || die "could not generate the missing fixtures"

# ------------------------------------------- pinned test dependencies (cached)
install_pinned_deps "$HERE/deps" upstream 600
MOCHA="$DEPS/node_modules/mocha/bin/_mocha"   # _mocha: runs in-process, so timeout's kill reaches it
BASELINE="$DEPS/node_modules/socket.io"
ln -s "$DEPS/node_modules" "$WS/node_modules"
cp "$HERE/lib/reporter.js" "$WS/reporter.js"   # there, require("mocha") finds the installed mocha

# ------------------------------------------------ the implementation under test
if [ "$IMPL" = socket.io ]; then IMPL_DIR="$BASELINE"; else IMPL_DIR="$REPO"; fi
# `..` (and the fixture's `../..`) is the package directory: it holds the
# implementation's own package.json, copied as it is (server-attachment.ts
# expects the served bundle's ETag to be require("../package.json").version,
# as upstream serves its own version), and a re-export of the implementation
# at that package.json's "main". COMPAT_IMPL lets the harness point a dry run
# at the baseline.
cp "$IMPL_DIR/package.json" "$PKG/package.json" || die "cannot copy $IMPL_DIR/package.json"
read -r IMPL_VERSION IMPL_MAIN < <(node -p '
  const pkg = require(process.argv[1] + "/package.json");
  let main = require("path").normalize(pkg.main || "index.js");
  if (!require("path").extname(main)) main += ".js";
  pkg.version + " " + main
' "$IMPL_DIR") || die "cannot read $IMPL_DIR/package.json"
mkdir -p "$(dirname "$PKG/$IMPL_MAIN")"
printf '// generated by compat/run-upstream.sh: the implementation under test\nmodule.exports = require(process.env.COMPAT_IMPL || %s);\n' \
  "$(node -p 'JSON.stringify(process.argv[1])' "$IMPL_DIR")" >"$PKG/$IMPL_MAIN"

# ------------------------------------------------------------ test files
[ -n "$LOG_DIR" ] || LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-compat-logs.XXXXXX")"
mkdir -p "$LOG_DIR/events" "$LOG_DIR/output" || die "cannot create $LOG_DIR"
FAILURES="$LOG_DIR/failures.log" RESULTS="$LOG_DIR/results.jsonl"
: >"$FAILURES"; : >"$RESULTS"

echo "impl: $IMPL $IMPL_VERSION ($IMPL_DIR)"
FILES=()
for f in "$PKG"/test/*.ts; do
  [ -e "$f" ] || continue
  name="test/${f##*/}"
  case "$name" in
    test/uws.ts) echo "skipped $name: needs uWebSockets.js, which is not on npm"; continue ;;
    test/index.ts) echo "skipped $name: it only require()s the other files, which run one by one"; continue ;;
    *.test-d.ts) echo "skipped $name: type-level tests for tsd, not mocha"; continue ;;
  esac
  if [ ${#ONLY[@]} -gt 0 ]; then
    keep=0
    for o in "${ONLY[@]}"; do [ "$name" = "test/${o#test/}" ] && keep=1; done
    [ "$keep" = 1 ] || continue
  fi
  FILES+=("$name")
done
[ ${#FILES[@]} -gt 0 ] || die "no test files to run in $SRC/$PKG_REL/test"

# ------------------------------------------------------------------- run
for name in "${FILES[@]}"; do
  base="${name#test/}"; base="${base%.ts}"
  events="$LOG_DIR/events/$base.jsonl" output="$LOG_DIR/output/$base.log"
  rm -f "$events"
  (cd "$PKG" && COMPAT_EVENTS="$events" exec timeout -k 10 "$FILE_TIMEOUT" \
    node --import tsx "$MOCHA" --reporter "$WS/reporter.js" --slow 200 --timeout 10000 --exit "$name") \
    >"$output" 2>&1 </dev/null
  rc=$?
  dry="-"
  if ! grep -q '"event":"start"' "$events" 2>/dev/null; then
    # failed to load: count its tests with a dry run against the baseline
    dry="$LOG_DIR/events/$base.dry-run.jsonl"
    rm -f "$dry"
    (cd "$PKG" && COMPAT_EVENTS="$dry" COMPAT_IMPL="$BASELINE" exec timeout -k 5 60 \
      node --import tsx "$MOCHA" --reporter "$WS/reporter.js" --dry-run "$name") >/dev/null 2>&1 </dev/null
  fi
  node "$HERE/lib/summarize.js" file "$name" "$events" "$rc" "$FILE_TIMEOUT" "$dry" "$FAILURES" "$RESULTS" "$output"
done

echo "failing tests: $FAILURES (per-file output: $LOG_DIR/output/)"
node "$HERE/lib/summarize.js" total file "$RESULTS"
if grep -q '"failed":0,' "$RESULTS" && ! grep -qv '"failed":0,' "$RESULTS"; then exit 0; else exit 1; fi
