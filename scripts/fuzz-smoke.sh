#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a few seconds (FUZZ_SECONDS, default 8) on the stable
# toolchain, without a sanitizer; fails if one of them finds a crash. Installs cargo-fuzz first
# when it is missing. Long runs: see ARCHITECTURE.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-8}"

command -v c++ >/dev/null || { echo "fuzz-smoke: libFuzzer is built from C++: c++ is needed" >&2; exit 1; }
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo fuzz build -s none
for target in $(cargo fuzz list); do
  echo "fuzzing $target for ${SECONDS_PER_TARGET}s"
  # libFuzzer's progress goes to stderr: keep its last status line, and everything on a crash.
  log="$(mktemp)"
  if ! cargo fuzz run -s none "$target" -- -max_total_time="$SECONDS_PER_TARGET" 2>"$log"; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || tail -n 3 "$log"
  rm -f "$log"
done
