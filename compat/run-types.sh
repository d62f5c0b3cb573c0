#!/usr/bin/env bash
# Runs upstream socket.io's type tests (packages/socket.io/test/*.test-d.ts of the
# socketio/socket.io monorepo) with tsd against this package's index.d.ts, or
# against upstream socket.io 4.8.4's own types from npm as the baseline.
#
#   compat/run-types.sh <socket.io checkout or bare git dir> [options]
#
#   --impl socket.io-rs   the package this script lives in (default): its
#                         package.json "types" file (index.d.ts)
#   --impl socket.io      socket.io 4.8.4 from npm (dist/*.d.ts, the baseline)
#   --ref REF             commit to take the tests from (default: the work tree
#                         of a checkout, HEAD of a bare git dir)
#   --log-dir DIR         where the diagnostics log goes (default: a new temp dir)
#   --keep                keep the throw-away workspace (path printed)
#
# How: the *.test-d.ts files and upstream's tsconfig.json are copied into a
# workspace made with mktemp (never inside the repo) as <ws>/packages/socket.io,
# beside stubs for what they import: lib/NAME.d.ts for every lib/NAME.ts of
# upstream's package (the tests import "../lib/index" and "../lib/typed-events")
# re-exports the implementation's types, and package.json names lib/index.d.ts
# as "types", so ".." resolves there too. For socket.io-rs the stubs re-export
# a copy of its package.json and types file in <ws>/impl; for socket.io they
# re-export socket.io/dist/NAME. <ws>/node_modules links to a cached install of
# the pinned dependencies (compat/types-deps: tsd 0.31.1 as upstream's lock has
# it, with @types/node, @types/mocha, socket.io-adapter and socket.io 4.8.4),
# installed once with `npm ci` into ~/.cache/socket.io-rs-compat/types-<hash>.
#
# tsd reads upstream's tsconfig.json. Since upstream's TypeScript 6 upgrade
# (commit 8bead0f4, which also turned its `tsd` run off) that names only
# "node" in `types`; the tests call mocha's describe/it, which upstream's tsd
# run got from @types/mocha while no `types` was set. The workspace's
# package.json therefore gives tsd `types: ["node", "mocha"]`.
#
# compat/lib/types-check.js runs tsd and charges each diagnostic to the
# assertion it falls in (an expectType/expectError/... call, or a
# `// @ts-expect-error` comment that turned out unused). Output, one line per
# file, then the total:
#   test/FILE.test-d.ts: P passed, F failed (N assertions: ...)
#   P passed, F failed[, E errors outside assertions]
# Every diagnostic is in <log dir>/diagnostics.log. Exit code: 0 if tsd found
# nothing, 1 if it did, 2 if the harness itself could not run.
#
# Environment: SOCKET_IO_RS_COMPAT_CACHE overrides the cache directory.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PKG_REL="packages/socket.io"   # where the server package lives in the monorepo

. "$HERE/lib/common.sh"

# ---------------------------------------------------------------- arguments
IMPL="socket.io-rs" REF="" LOG_DIR="" KEEP=0
declare -A VALUE_OPTIONS=([--impl]=IMPL [--ref]=REF [--log-dir]=LOG_DIR)
declare -A FLAG_OPTIONS=([--keep]=KEEP=1)
parse_args "$@"
[ -n "${ARGS[0]:-}" ] || usage
[ ${#ARGS[@]} -eq 1 ] || die "one upstream path only (got '${ARGS[0]}' and '${ARGS[1]}')"
SRC="${ARGS[0]}"
paths_from_npm_cwd SRC LOG_DIR
check_source_and_impl

# --------------------------------------------------------------- workspace
WS="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-types.XXXXXX")" || die "mktemp failed"
if [ "$KEEP" = 1 ]; then trap 'echo "workspace kept: $WS"' EXIT; else trap 'rm -rf "$WS"' EXIT; fi
PKG="$WS/$PKG_REL"
mkdir -p "$PKG/test" "$PKG/lib"

# the type tests, upstream's tsconfig.json, and the names of upstream's lib/*.ts modules
is_type_test() { case "$1" in "$PKG_REL"/test/*.test-d.ts|"$PKG_REL"/test/*.test-d.tsx) return 0 ;; esac; return 1; }
LIB_MODULES=()
locate_upstream_tests "$PKG_REL/test"
if [ "$FROM" = "work tree" ]; then
  while IFS= read -r -d '' f; do
    rel="${f#"$SRC"/}"
    is_type_test "$rel" || continue
    mkdir -p "$(dirname "$WS/$rel")" && cp "$f" "$WS/$rel"
  done < <(find "$SRC/$PKG_REL/test" -type f -print0)
  [ -f "$SRC/$PKG_REL/tsconfig.json" ] && cp "$SRC/$PKG_REL/tsconfig.json" "$PKG/"
  for f in "$SRC/$PKG_REL"/lib/*.ts; do [ -e "$f" ] && LIB_MODULES+=("$(basename "$f" .ts)"); done
else
  TYPE_TESTS=()
  while IFS= read -r path; do
    is_type_test "$path" && TYPE_TESTS+=("$path")
  done < <("${GIT[@]}" ls-tree -r --name-only "${REF:-HEAD}" -- "$PKG_REL/test")
  MISSING="$(export_from_git "${REF:-HEAD}" "" "$WS" ${TYPE_TESTS[@]+"${TYPE_TESTS[@]}"} "$PKG_REL/tsconfig.json")"
  [ -z "$MISSING" ] || die "missing from the checkout: $MISSING"
  while IFS= read -r path; do
    case "$path" in *.ts) LIB_MODULES+=("$(basename "$path" .ts)") ;; esac
  done < <("${GIT[@]}" ls-tree --name-only "${REF:-HEAD}" -- "$PKG_REL/lib/")
fi
TESTS="$(cd "$PKG" && find test -name '*.test-d.ts*' | sort)"
[ -n "$TESTS" ] || die "no $PKG_REL/test/*.test-d.ts in $SRC"
echo "type tests: $(paste -sd" " <<<"$TESTS")"

# ------------------------------------------- pinned dependencies (cached)
install_pinned_deps "$HERE/types-deps" types 600
ln -s "$DEPS/node_modules" "$WS/node_modules"

# ------------------------------------------------ the implementation under test
if [ "$IMPL" = socket.io ]; then
  IMPL_DIR="$DEPS/node_modules/socket.io"
  stub_target() { echo "socket.io/dist/$1"; }
else
  IMPL_DIR="$REPO"
  # a copy inside the workspace, so its own imports ("events", "http") resolve to
  # the workspace's pinned @types/node rather than to the repo's node_modules
  TYPES_FILE="$(node -p 'const p = require(process.argv[1] + "/package.json"); p.types || p.typings || "index.d.ts"' "$REPO")" \
    || die "cannot read $REPO/package.json"
  mkdir -p "$WS/impl/$(dirname "$TYPES_FILE")"
  cp "$REPO/package.json" "$WS/impl/" && cp "$REPO/$TYPES_FILE" "$WS/impl/$TYPES_FILE" || die "cannot copy $REPO/$TYPES_FILE"
  stub_target() { echo "../../../impl"; }
fi
IMPL_VERSION="$(node -p 'require(process.argv[1] + "/package.json").version' "$IMPL_DIR")"
echo "impl: $IMPL $IMPL_VERSION ($IMPL_DIR)"
[ ${#LIB_MODULES[@]} -gt 0 ] || LIB_MODULES=(index)
for name in "${LIB_MODULES[@]}"; do
  printf '// generated by compat/run-types.sh: the types under test\nexport * from "%s";\n' "$(stub_target "$name")" >"$PKG/lib/$name.d.ts"
done
cat >"$PKG/package.json" <<'EOF'
{
  "name": "socket.io-type-tests",
  "private": true,
  "types": "lib/index.d.ts",
  "tsd": {
    "directory": "test",
    "compilerOptions": { "types": ["node", "mocha"] }
  }
}
EOF

# ------------------------------------------------------------------- run
[ -n "$LOG_DIR" ] || LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-types-logs.XXXXXX")"
mkdir -p "$LOG_DIR" || die "cannot create $LOG_DIR"
# from inside the workspace: TypeScript resolves `types` from the current directory up
(cd "$PKG" && exec node "$HERE/lib/types-check.js" "$PKG" "$LOG_DIR/diagnostics.log")
