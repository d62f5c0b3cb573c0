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

die() { echo "run-types: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '/^set -uo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- arguments
SRC="" IMPL="socket.io-rs" REF="" LOG_DIR="" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --impl) IMPL="${2:-}"; shift 2 ;;
    --impl=*) IMPL="${1#*=}"; shift ;;
    --ref) REF="${2:-}"; shift 2 ;;
    --ref=*) REF="${1#*=}"; shift ;;
    --log-dir) LOG_DIR="${2:-}"; shift 2 ;;
    --log-dir=*) LOG_DIR="${1#*=}"; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (try --help)" ;;
    *) [ -z "$SRC" ] || die "one upstream path only (got '$SRC' and '$1')"; SRC="$1"; shift ;;
  esac
done
[ -n "$SRC" ] || usage
# under `npm run compat:types`, cwd is the repo root: take relative paths from where npm was run
if [ -n "${npm_lifecycle_event:-}" ] && [ -n "${INIT_CWD:-}" ]; then
  case "$SRC" in /*) ;; *) SRC="$INIT_CWD/$SRC" ;; esac
  case "$LOG_DIR" in /*|'') ;; *) LOG_DIR="$INIT_CWD/$LOG_DIR" ;; esac
fi
[ -e "$SRC" ] || die "no such path: $SRC"
case "$IMPL" in socket.io-rs|socket.io) ;; *) die "--impl must be socket.io-rs or socket.io, not '$IMPL'" ;; esac
for tool in node npm git timeout sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is needed and not on PATH"
done
SRC="$(cd "$SRC" && pwd)"

# --------------------------------------------------------------- workspace
WS="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-types.XXXXXX")" || die "mktemp failed"
if [ "$KEEP" = 1 ]; then trap 'echo "workspace kept: $WS"' EXIT; else trap 'rm -rf "$WS"' EXIT; fi
PKG="$WS/$PKG_REL"
mkdir -p "$PKG/test" "$PKG/lib"

# the type tests, upstream's tsconfig.json, and the names of upstream's lib/*.ts modules
is_type_test() { case "$1" in "$PKG_REL"/test/*.test-d.ts|"$PKG_REL"/test/*.test-d.tsx) return 0 ;; esac; return 1; }
LIB_MODULES=()
if [ -z "$REF" ] && [ -d "$SRC/$PKG_REL/test" ]; then
  COMMIT="$(git -C "$SRC" log -1 --format=%h 2>/dev/null || echo "unknown, not a git checkout")"
  echo "upstream: $SRC (work tree, commit $COMMIT)"
  while IFS= read -r -d '' f; do
    rel="${f#"$SRC"/}"
    is_type_test "$rel" || continue
    mkdir -p "$(dirname "$WS/$rel")" && cp "$f" "$WS/$rel"
  done < <(find "$SRC/$PKG_REL/test" -type f -print0)
  [ -f "$SRC/$PKG_REL/tsconfig.json" ] && cp "$SRC/$PKG_REL/tsconfig.json" "$PKG/"
  for f in "$SRC/$PKG_REL"/lib/*.ts; do [ -e "$f" ] && LIB_MODULES+=("$(basename "$f" .ts)"); done
else
  if [ "$(git -C "$SRC" rev-parse --is-inside-work-tree 2>/dev/null)" = true ]; then GIT=(git -C "$SRC"); else GIT=(git --git-dir="$SRC"); fi
  "${GIT[@]}" rev-parse -q --verify "${REF:-HEAD}^{commit}" >/dev/null 2>&1 \
    || die "$SRC is neither a checkout with $PKG_REL/test nor a git dir with commit ${REF:-HEAD}"
  COMMIT="$("${GIT[@]}" log -1 --format=%h "${REF:-HEAD}")"
  echo "upstream: $SRC (git ${REF:-HEAD}, commit $COMMIT)"
  while IFS=$'\t' read -r meta path; do
    read -r _mode type sha <<<"$meta"
    [ "$type" = blob ] || continue
    case "$path" in
      "$PKG_REL"/lib/*.ts) [ "$(dirname "$path")" = "$PKG_REL/lib" ] && LIB_MODULES+=("$(basename "$path" .ts)"); continue ;;
      "$PKG_REL"/tsconfig.json) ;;
      *) is_type_test "$path" || continue ;;
    esac
    mkdir -p "$(dirname "$WS/$path")"
    "${GIT[@]}" cat-file blob "$sha" >"$WS/$path" 2>/dev/null || die "missing from the checkout: $path"
  done < <("${GIT[@]}" ls-tree -r "${REF:-HEAD}" -- "$PKG_REL/test" "$PKG_REL/lib" "$PKG_REL/tsconfig.json")
fi
TESTS="$(cd "$PKG" && find test -name '*.test-d.ts*' | sort)"
[ -n "$TESTS" ] || die "no $PKG_REL/test/*.test-d.ts in $SRC"
echo "type tests: $(paste -sd" " <<<"$TESTS")"

# ------------------------------------------- pinned dependencies (cached)
CACHE_ROOT="${SOCKET_IO_RS_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/socket.io-rs-compat}"
KEY="$( { cat "$HERE/types-deps/package.json" "$HERE/types-deps/package-lock.json"; node -p 'process.platform + process.arch'; } | sha256sum | cut -c1-16)"
DEPS="$CACHE_ROOT/types-$KEY"
if [ ! -f "$DEPS/.complete" ]; then
  mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT"
  echo "installing the pinned type-test dependencies into $DEPS (once) ..."
  TMP_DEPS="$(mktemp -d "$CACHE_ROOT/.install.XXXXXX")"
  cp "$HERE/types-deps/package.json" "$HERE/types-deps/package-lock.json" "$TMP_DEPS/"
  if ! (cd "$TMP_DEPS" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) >"$TMP_DEPS/npm.log" 2>&1; then
    cat "$TMP_DEPS/npm.log" >&2
    rm -rf "$TMP_DEPS"
    die "npm ci of compat/types-deps failed"
  fi
  touch "$TMP_DEPS/.complete"
  # atomic publish; if another run got there first, keep theirs
  mv -T "$TMP_DEPS" "$DEPS" 2>/dev/null || rm -rf "$TMP_DEPS"
  [ -f "$DEPS/.complete" ] || die "could not publish the install to $DEPS"
fi
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
