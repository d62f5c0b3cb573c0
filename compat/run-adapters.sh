#!/usr/bin/env bash
# Runs the test suite of an official Socket.IO cluster adapter against this
# package, or against upstream socket.io 4.8.4 from npm as the baseline, with
# the real services the suite needs (Redis, a Redis cluster, PostgreSQL)
# started here and stopped when it ends.
#
#   compat/run-adapters.sh <adapter git dir or checkout> [options]
#
#   --adapter KIND        redis-streams | redis | postgres | cluster (default:
#                         detected from the repository's package.json; for
#                         cluster, give the socket.io monorepo, whose
#                         packages/socket.io-cluster-adapter is tested)
#   --impl socket.io-rs   the package in --impl-dir (default)
#   --impl socket.io      upstream socket.io 4.8.4 from npm (the baseline)
#   --impl-dir DIR        the socket.io-rs checkout to test (default: the repo
#                         this script lives in; its addon must be built)
#   --adapter-impl upstream      the adapter of the repository (default)
#   --adapter-impl socket.io-rs  redis-streams suite only, with --impl socket.io-rs:
#                         socket.io-rs's own adapter (socket.io-rs/redis-streams)
#                         in place of the repository's, through
#                         compat/lib/redis-streams-shim.js, the tests unchanged
#   --grep PATTERN        only the tests whose full title matches (mocha --grep)
#   --no-typecheck        redis suite: ts-node without type-checking (upstream's
#                         runner type-checks the tests against the types of the
#                         implementation, so its types can keep every test from
#                         loading; this shows the run-time results regardless)
#   --suite-timeout SECS  bound on each suite's mocha process (default 600)
#   --log-dir DIR         where logs go (default: a new temp dir; printed)
#   --keep                keep the throw-away workspace (path printed)
#
# Suites: the tests are grouped by describe block two levels deep (one per
# Redis client or topology, or per feature), each run in its own mocha process
# under `timeout`, so a hang or crash loses one suite, not the run. Output: one
# line per suite, "<suite>: P passed, F failed, S pending", then the path of
# failures.log (each failing test's title and error), then "N passed, M failed".
# Exit code: 0 if nothing failed, 1 if something did, 2 if the harness could
# not run.
#
# How:
# - The adapter package (lib/, test/, package.json, tsconfig.json) is exported
#   from git HEAD into a workspace made with mktemp (never inside the repo):
#   <ws>/pkg. <ws>/node_modules links to a cached install of the suite's pinned
#   dependencies (compat/adapters/KIND, installed once with `npm ci` into
#   ~/.cache/socket.io-rs-compat/adapter-KIND-<hash of the pins>): the versions
#   of the adapter's own package-lock.json, except socket.io, which is 4.8.4.
# - With --impl socket.io-rs, <ws>/pkg/node_modules/socket.io is a symlink to
#   --impl-dir, so every `require("socket.io")` of the tests, the adapter and
#   the processes they fork resolves to it before the cached socket.io 4.8.4,
#   as an install of socket.io-rs under the name socket.io would. The suites
#   import socket.io/dist/* for types only; those imports vanish when compiled.
# - With --adapter-impl socket.io-rs, the workspace's lib/ (what the tests
#   import as "../lib") is compat/lib/redis-streams-shim.js alone, which calls
#   socket.io-rs/redis-streams's createAdapter with the server of the Redis
#   client each test passes; <ws>/pkg/node_modules/socket.io-rs links to
#   --impl-dir.
# - The test list comes from a `mocha --dry-run` against the baseline (so it
#   does not depend on the implementation loading); each suite is then run
#   with a --grep naming exactly its tests, with the suite's own runner as its
#   package.json's test script has it (tsx or ts-node; without --bail, with
#   --exit), reporting through compat/lib/reporter.js and counted by
#   compat/lib/summarize.js (the list is grouped by compat/lib/adapters-plan.js).
# - Services, on the ports the upstream tests hard-code (loopback only; the
#   harness refuses to run if one is taken), stopped by pid on exit:
#     redis-streams: Redis on 6379, a Redis cluster on 7000-7005 (3 masters,
#                    1 replica each, as upstream's compose file), and a
#                    "Valkey" node on 6389: valkey-server if installed, else
#                    redis-server (the harness says which)
#     redis:         Redis on 6379, the Redis cluster on 7000-7005
#     postgres:      PostgreSQL on 5432, user postgres, password "changeit"
#                    (upstream's compose file), in a throw-away cluster (initdb)
#                    run as "nobody" when the harness runs as root
#     cluster:       none (the test forks workers on ports 40001-40003)
#
# Environment: SOCKET_IO_RS_COMPAT_CACHE overrides the cache directory;
# PG_BIN the directory of initdb/postgres/pg_isready (default: the newest
# /usr/lib/postgresql/*/bin, else PATH); PG* variables are cleared for the
# tests, which connect with pg's defaults.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

. "$HERE/lib/common.sh"

# ---------------------------------------------------------------- arguments
KIND="" IMPL="socket.io-rs" ADAPTER_IMPL="upstream" IMPL_DIR="" GREP="" SUITE_TIMEOUT=600 LOG_DIR="" KEEP=0 TYPECHECK=1
declare -A VALUE_OPTIONS=([--adapter]=KIND [--impl]=IMPL [--adapter-impl]=ADAPTER_IMPL [--impl-dir]=IMPL_DIR [--grep]=GREP
  [--suite-timeout]=SUITE_TIMEOUT [--log-dir]=LOG_DIR)
declare -A FLAG_OPTIONS=([--keep]=KEEP=1 [--no-typecheck]=TYPECHECK=0)
parse_args "$@"
[ -n "${ARGS[0]:-}" ] || usage
[ ${#ARGS[@]} -eq 1 ] || die "one adapter repository at a time"
SRC="${ARGS[0]}"
paths_from_npm_cwd SRC LOG_DIR IMPL_DIR
check_source_and_impl
require_seconds --suite-timeout "$SUITE_TIMEOUT"
[ "$IMPL" = socket.io-rs ] || [ -z "$IMPL_DIR" ] || die "--impl-dir is for --impl socket.io-rs"
IMPL_DIR="${IMPL_DIR:-$REPO}"
open_git
"${GIT[@]}" rev-parse -q --verify "HEAD^{commit}" >/dev/null 2>&1 || die "$SRC is not a git repository with a HEAD commit"

# ---------------------------------------------------------- which adapter
pkg_field() { # <path of a package.json in HEAD> <field>
  "${GIT[@]}" show "HEAD:$1" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s)[process.argv[1]]||"")}catch{}})' "$2"
}
DETECTED=""
case "$(pkg_field package.json name)" in
  @socket.io/redis-streams-adapter) DETECTED=redis-streams ;;
  @socket.io/redis-adapter) DETECTED=redis ;;
  @socket.io/postgres-adapter) DETECTED=postgres ;;
  socket.io) [ -n "$(pkg_field packages/socket.io-cluster-adapter/package.json name)" ] && DETECTED=cluster ;;
esac
[ -n "$KIND" ] || KIND="$DETECTED"
[ -n "$KIND" ] || die "cannot tell which adapter $SRC holds; pass --adapter redis-streams|redis|postgres|cluster"
[ -z "$DETECTED" ] || [ "$DETECTED" = "$KIND" ] || die "--adapter $KIND, but $SRC holds the $DETECTED adapter"

# Per adapter: where the package is in its repository, the test files and the
# runner its package.json's "test" script uses, the services and ports.
PKG_PATH="" NODE_ARGS=(--import tsx) MOCHA_ARGS=() SPEC=(test/test-runner.ts) COMPILE=0 SERVICES=() PORTS=()
case "$KIND" in
  redis-streams) # "nyc mocha --import=tsx test/test-runner.ts"
    SERVICES=(redis redis-cluster valkey); PORTS=(6379 7000 7001 7002 7003 7004 7005 6389) ;;
  redis) # "nyc mocha --bail --require ts-node/register test/test-runner.ts"
    NODE_ARGS=(); MOCHA_ARGS=(--require ts-node/register)
    SERVICES=(redis redis-cluster); PORTS=(6379 7000 7001 7002 7003 7004 7005) ;;
  postgres) # "mocha --import=tsx test/**.ts", which the shell expands to test/*.ts
    SPEC=() SERVICES=(postgres); PORTS=(5432) ;;
  cluster) # "npm run compile && nyc mocha --import=tsx test/index.ts": test/worker.js requires ".." (dist/)
    PKG_PATH=packages/socket.io-cluster-adapter SPEC=(test/index.ts) COMPILE=1; PORTS=(40001 40002 40003) ;;
  *) die "--adapter must be redis-streams, redis, postgres or cluster, not '$KIND'" ;;
esac
case "$ADAPTER_IMPL" in
  upstream) ;;
  socket.io-rs)
    [ "$KIND" = redis-streams ] || die "--adapter-impl socket.io-rs is for the redis-streams suite (socket.io-rs has no other adapter)"
    [ "$IMPL" = socket.io-rs ] || die "--adapter-impl socket.io-rs needs --impl socket.io-rs (the adapter runs on socket.io-rs's core)" ;;
  *) die "--adapter-impl must be upstream or socket.io-rs, not '$ADAPTER_IMPL'" ;;
esac
if [ "$TYPECHECK" = 0 ]; then
  [ "$KIND" = redis ] || die "--no-typecheck is for the redis suite (ts-node); the others run with tsx, which never type-checks"
  export TS_NODE_TRANSPILE_ONLY=true
fi
PKG_JSON="${PKG_PATH:+$PKG_PATH/}package.json"
COMMIT="$("${GIT[@]}" log -1 --format='%h %cs' HEAD)"
echo "adapter: $(pkg_field "$PKG_JSON" name) $(pkg_field "$PKG_JSON" version) ($SRC, commit $COMMIT)"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "${PORTS[@]}"; do
  port_in_use "$port" && die "port $port on 127.0.0.1 is taken; the $KIND suite hard-codes it. Stop what listens there and retry."
done

# --------------------------------------------------------------- workspace
WS="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-adapters.XXXXXX")" || die "mktemp failed"
PKG="$WS/pkg" SVC="$WS/services"
mkdir -p "$PKG" "$SVC"
[ -n "$LOG_DIR" ] || LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/socket.io-rs-adapters-logs.XXXXXX")"
mkdir -p "$LOG_DIR/events" "$LOG_DIR/output" "$LOG_DIR/services" || die "cannot create $LOG_DIR"
LOG_DIR="$(cd "$LOG_DIR" && pwd)"

# Services are started in the background and listed here as "pid signal name":
# on exit (normal, error or interrupted) each gets its signal, then KILL if it
# has not exited within 10 s.
SVC_PIDS=()
stop_services() {
  local entry pid sig name
  for entry in "${SVC_PIDS[@]}"; do
    read -r pid sig name <<<"$entry"
    kill -"$sig" "$pid" 2>/dev/null
  done
  for entry in "${SVC_PIDS[@]}"; do
    read -r pid sig name <<<"$entry"
    if ! timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null; then
      echo "run-adapters: $name (pid $pid) did not stop on $sig; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  SVC_PIDS=()
}
# the process group of the suite being run (see run_mocha)
MOCHA_PGID=""
end_mocha_group() {
  [ -n "$MOCHA_PGID" ] || return 0
  kill -KILL -- "-$MOCHA_PGID" 2>/dev/null
  wait "$MOCHA_PGID" 2>/dev/null   # reaps it quietly if it was still running (interrupted harness)
  MOCHA_PGID=""
}
cleanup() {
  end_mocha_group
  stop_services
  if [ "$KEEP" = 1 ]; then echo "workspace kept: $WS"; else rm -rf "$WS"; fi
}
trap cleanup EXIT
trap 'echo "run-adapters: interrupted" >&2; exit 130' INT
trap 'echo "run-adapters: terminated" >&2; exit 143' TERM

# the adapter package, from HEAD
while IFS= read -r path; do
  echo "missing from the repository: $path"
done < <(export_from_git HEAD "$PKG_PATH" "$PKG" ${PKG_PATH:+"$PKG_PATH"})
[ -d "$PKG/test" ] && [ -d "$PKG/lib" ] || die "no lib/ and test/ in $SRC${PKG_PATH:+/$PKG_PATH}"
if [ ${#SPEC[@]} -eq 0 ]; then
  for f in "$PKG"/test/*.ts; do [ -e "$f" ] && SPEC+=("test/${f##*/}"); done
fi

# ------------------------------------------- pinned test dependencies (cached)
install_pinned_deps "$HERE/adapters/$KIND" "adapter-$KIND" 900
ln -s "$DEPS/node_modules" "$WS/node_modules"
MOCHA="$DEPS/node_modules/mocha/bin/_mocha"   # _mocha: runs in-process, so timeout's kill reaches it
cp "$HERE/lib/reporter.js" "$WS/reporter.js"   # there, require("mocha") finds the pinned mocha

if [ "$COMPILE" = 1 ]; then
  (cd "$PKG" && node "$DEPS/node_modules/typescript/bin/tsc" -p tsconfig.json) >"$LOG_DIR/output/compile.log" 2>&1 \
    || { cat "$LOG_DIR/output/compile.log" >&2; die "tsc of the adapter failed"; }
fi

# mocha for the selected tests: "$@" are extra mocha arguments. timeout(1)
# makes itself the leader of a new process group, which holds mocha and every
# process the tests fork; mocha --exit does not wait for those, so whatever of
# the group is left when mocha has exited is ended here, before the next suite
# (and before the services go away under it).
run_mocha() { # <events file> <output file> <timeout> <mocha args...>
  local events="$1" output="$2" secs="$3" rc
  shift 3
  rm -f "$events"
  (cd "$PKG" && COMPAT_EVENTS="$events" exec timeout -k 10 "$secs" \
    node ${NODE_ARGS[@]+"${NODE_ARGS[@]}"} "$MOCHA" ${MOCHA_ARGS[@]+"${MOCHA_ARGS[@]}"} \
      --reporter "$WS/reporter.js" --exit "$@" "${SPEC[@]}") >"$output" 2>&1 </dev/null &
  MOCHA_PGID=$!
  wait "$MOCHA_PGID"
  rc=$?
  end_mocha_group
  return "$rc"
}

# the test list, from a dry run against the baseline (socket.io from the cache:
# the symlink to socket.io-rs is not there yet)
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
run_mocha "$LOG_DIR/events/dry-run.jsonl" "$LOG_DIR/output/dry-run.log" 300 --dry-run ${GREP:+--grep "$GREP"}
node "$HERE/lib/adapters-plan.js" "$LOG_DIR/events/dry-run.jsonl" "$WS/plan" \
  || { tail -n 30 "$LOG_DIR/output/dry-run.log" >&2; die "could not list the tests (output: $LOG_DIR/output/dry-run.log)"; }
[ -s "$WS/plan/suites.tsv" ] || die "no test matches${GREP:+ --grep '$GREP'}"

# ------------------------------------------------ the implementation under test
if [ "$IMPL" = socket.io ]; then
  IMPL_DIR="$DEPS/node_modules/socket.io"
  IMPL_DESC="socket.io $(node -p 'require(process.argv[1] + "/package.json").version' "$IMPL_DIR") from npm"
else
  IMPL_DIR="$(cd "$IMPL_DIR" 2>/dev/null && pwd)" || die "no such directory: $IMPL_DIR"
  # load it once here, so that a missing or half-rebuilt addon is one clear error, not every test failing
  LOAD_ERR="$(cd "$IMPL_DIR" && node -e 'require(process.argv[1])' "$IMPL_DIR" 2>&1)" \
    || die "$IMPL_DIR does not load (build it with npm install or npm run build; retry if it is being rebuilt):
$LOAD_ERR"
  IMPL_DESC="socket.io-rs $(node -p 'require(process.argv[1] + "/package.json").version' "$IMPL_DIR")"
  IMPL_COMMIT="$(git -C "$IMPL_DIR" log -1 --format=%h 2>/dev/null)" \
    && IMPL_DESC+=", commit $IMPL_COMMIT$(git -C "$IMPL_DIR" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  mkdir -p "$PKG/node_modules"
  ln -s "$IMPL_DIR" "$PKG/node_modules/socket.io"
fi
# what the tests (and the workers they fork from test/) will get for require("socket.io")
RESOLVED="$(cd "$PKG/test" && node -e 'console.log(require("fs").realpathSync(require.resolve("socket.io")))')"
case "$RESOLVED" in "$(realpath "$IMPL_DIR")"/*) ;; *) die "require(\"socket.io\") resolves to $RESOLVED, not into $IMPL_DIR" ;; esac
echo "impl: $IMPL_DESC ($IMPL_DIR)"
if [ "$ADAPTER_IMPL" = socket.io-rs ]; then
  # after the dry run, which listed the tests with the repository's lib/
  rm -rf "$PKG/lib" && mkdir "$PKG/lib" && cp "$HERE/lib/redis-streams-shim.js" "$PKG/lib/index.js" \
    && ln -s "$IMPL_DIR" "$PKG/node_modules/socket.io-rs" || die "cannot put the socket.io-rs adapter in $PKG/lib"
  RESOLVED="$(cd "$PKG/lib" && node -e 'console.log(require("fs").realpathSync(require.resolve("socket.io-rs/redis-streams")))')"
  case "$RESOLVED" in "$(realpath "$IMPL_DIR")"/*) ;; *) die "require(\"socket.io-rs/redis-streams\") resolves to $RESOLVED, not into $IMPL_DIR" ;; esac
  echo "adapter impl: socket.io-rs/redis-streams ($RESOLVED), through compat/lib/redis-streams-shim.js"
fi
[ "$TYPECHECK" = 1 ] || echo "ts-node without type-checking (--no-typecheck)"

# ---------------------------------------------------------------- services
await() { # <what> <seconds> <pid that must stay alive> <command...>: poll the command until it succeeds
  local what="$1" secs="$2" pid="$3" deadline=$((SECONDS + $2))
  shift 3
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$what exited while starting (see $LOG_DIR/services/)"
    [ "$SECONDS" -lt "$deadline" ] || die "$what not ready within ${secs}s (see $LOG_DIR/services/)"
    sleep 0.1
  done
}
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

start_redis() { # <name> <port> [server arguments...]
  local name="$1" port="$2" server="${REDIS_SERVER:-redis-server}"
  shift 2
  mkdir -p "$SVC/$name"
  # "-::1": also IPv6 loopback where there is one, for clients that resolve localhost to it
  "$server" --bind 127.0.0.1 -::1 --port "$port" --dir "$SVC/$name" --save '' --appendonly no \
    --daemonize no "$@" >"$LOG_DIR/services/$name.log" 2>&1 </dev/null &
  SVC_PIDS+=("$! TERM $name")
  await "$name (port $port)" 30 "$!" redis_ready "$port"
}

cluster_ok() { # every node sees all slots served and agrees on the configuration
  local port
  for port in 7000 7001 7002 7003 7004 7005; do
    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  redis-cli --cluster check 127.0.0.1:7000
}

start_redis_cluster() {
  local port nodes=()
  for port in 7000 7001 7002 7003 7004 7005; do
    start_redis "redis-cluster-$port" "$port" --cluster-enabled yes --cluster-config-file nodes.conf
    nodes+=("127.0.0.1:$port")
  done
  # 3 masters with a replica each: upstream's grokzen/redis-cluster image's default
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
    >"$LOG_DIR/services/redis-cluster-create.log" 2>&1 || die "redis-cli --cluster create failed (see $LOG_DIR/services/redis-cluster-create.log)"
  await "the Redis cluster" 60 "${SVC_PIDS[-1]%% *}" cluster_ok
}

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; else dirname "$(command -v initdb || echo /initdb-not-found)"; fi
}

start_postgres() {
  local bin dir="$SVC/postgres" as=()
  bin="$(pg_bin)"
  [ -x "$bin/initdb" ] && [ -x "$bin/postgres" ] && [ -x "$bin/pg_isready" ] \
    || die "PostgreSQL (initdb, postgres, pg_isready) not found; install it (Debian: apt-get install postgresql) or set PG_BIN"
  mkdir -p "$dir"
  printf 'changeit\n' >"$dir/pwfile"
  if [ "$(id -u)" = 0 ]; then
    # postgres refuses to run as root: run it as nobody, who must reach its directory
    chown -R nobody:nogroup "$dir" && chmod 711 "$WS" "$SVC" || die "cannot hand $dir to nobody"
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  fi
  (cd "$dir" && exec ${as[@]+"${as[@]}"} "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --no-sync) >"$LOG_DIR/services/postgres-initdb.log" 2>&1 \
    || die "initdb failed (see $LOG_DIR/services/postgres-initdb.log)"
  (cd "$dir" && exec ${as[@]+"${as[@]}"} "$bin/postgres" -D "$dir/data" -p 5432 -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$dir" -c fsync=off) >"$LOG_DIR/services/postgres.log" 2>&1 </dev/null &
  SVC_PIDS+=("$! INT postgres")   # INT: PostgreSQL's fast shutdown
  await "postgres (port 5432)" 60 "$!" "$bin/pg_isready" -h 127.0.0.1 -p 5432
  echo "service: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:5432"
}

for service in ${SERVICES[@]+"${SERVICES[@]}"}; do
  case "$service" in
    redis|redis-cluster|valkey) command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
      || die "redis-server and redis-cli are needed (Debian: apt-get install redis-server)" ;;
  esac
  case "$service" in
    redis)
      start_redis redis 6379
      echo "service: Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:6379" ;;
    redis-cluster)
      start_redis_cluster
      echo "service: Redis cluster on 127.0.0.1:7000-7005 (3 masters, 3 replicas)" ;;
    valkey)
      if command -v valkey-server >/dev/null; then
        REDIS_SERVER=valkey-server start_redis valkey 6389
        echo "service: Valkey $(valkey-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:6389"
      else
        start_redis valkey 6389
        echo "service: no valkey-server here: the \"Valkey\" suites run against Redis on 127.0.0.1:6389"
      fi ;;
    postgres) start_postgres ;;
  esac
done

# ------------------------------------------------------------------- run
FAILURES="$LOG_DIR/failures.log" RESULTS="$LOG_DIR/results.jsonl"
: >"$FAILURES"; : >"$RESULTS"
while IFS=$'\t' read -r index count name; do
  slug="$(printf '%s' "$name" | tr -c 'A-Za-z0-9@.' '-' | tr -s '-' | cut -c1-80)"
  events="$LOG_DIR/events/$index-$slug.jsonl" output="$LOG_DIR/output/$index-$slug.log"
  run_mocha "$events" "$output" "$SUITE_TIMEOUT" --grep "$(cat "$WS/plan/$index.grep")"
  rc=$?
  node "$HERE/lib/summarize.js" suite "$WS/plan" "$index" "$events" "$rc" "$SUITE_TIMEOUT" "$FAILURES" "$RESULTS" "$output"
done <"$WS/plan/suites.tsv"

echo "failing tests: $FAILURES (per-suite output: $LOG_DIR/output/, service logs: $LOG_DIR/services/)"
node "$HERE/lib/summarize.js" total suite "$RESULTS"
if grep -qv '"failed":0,' "$RESULTS"; then exit 1; else exit 0; fi
