# What compat/run-upstream.sh, run-types.sh and run-adapters.sh share: reading
# their command line, finding the upstream code in a checkout or a git dir, and
# the cached install of their pinned dependencies. Sourced by each of them after
# `set -uo pipefail` and after setting REPO (the package under test).
#
# Errors name the script ("run-upstream: ..."); its header comment, up to its
# `set -uo pipefail` line, is its --help.

HARNESS="$(basename "$0" .sh)"

die() { echo "$HARNESS: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '/^set -uo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }

# Reads the command line by the caller's two tables: VALUE_OPTIONS maps an
# option to the variable it sets ("--opt V" or "--opt=V"), FLAG_OPTIONS maps a
# flag to the "VARIABLE=value" it sets. The other arguments go to ARGS.
parse_args() { # <arguments...>
  local name
  ARGS=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help) usage ;;
      -*)
        name="${1%%=*}"
        if [ -n "${VALUE_OPTIONS[$name]+set}" ]; then
          if [ "$name" != "$1" ]; then
            printf -v "${VALUE_OPTIONS[$name]}" '%s' "${1#*=}"; shift
          else
            [ $# -ge 2 ] || die "$1 needs a value (try --help)"
            printf -v "${VALUE_OPTIONS[$name]}" '%s' "$2"; shift 2
          fi
        elif [ -n "${FLAG_OPTIONS[$1]+set}" ]; then
          printf -v "${FLAG_OPTIONS[$1]%%=*}" '%s' "${FLAG_OPTIONS[$1]#*=}"; shift
        else
          die "unknown option $1 (try --help)"
        fi ;;
      *) ARGS+=("$1"); shift ;;
    esac
  done
}

# Under `npm run compat...`, cwd is the repo root: relative paths given on the
# command line are taken from where npm was run.
paths_from_npm_cwd() { # <names of the variables that hold paths...>
  [ -n "${npm_lifecycle_event:-}" ] && [ -n "${INIT_CWD:-}" ] || return 0
  local var
  for var in "$@"; do
    case "${!var}" in /*|'') ;; *) printf -v "$var" '%s' "$INIT_CWD/${!var}" ;; esac
  done
}

# The checks of SRC, IMPL and the tools every harness makes; SRC becomes absolute.
check_source_and_impl() {
  [ -e "$SRC" ] || die "no such path: $SRC"
  case "$IMPL" in socket.io-rs|socket.io) ;; *) die "--impl must be socket.io-rs or socket.io, not '$IMPL'" ;; esac
  local tool
  for tool in node npm git timeout sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is needed and not on PATH"
  done
  SRC="$(cd "$SRC" && pwd)"
}

require_seconds() { # <option> <value>
  case "$2" in ''|*[!0-9]*) die "$1 needs a number of seconds" ;; esac
}

# GIT: the git command for SRC, a checkout or a git dir (bare mirror or .git).
open_git() {
  if [ "$(git -C "$SRC" rev-parse --is-inside-work-tree 2>/dev/null)" = true ]; then
    GIT=(git -C "$SRC")
  else
    GIT=(git --git-dir="$SRC")
  fi
}

# Where the tests of upstream's socket.io package come from: the work tree of a
# checkout that has <dir> when no --ref is given (FROM="work tree"), else git
# at --ref or HEAD (FROM=git, with GIT set). Says which on an "upstream:" line.
locate_upstream_tests() { # <dir, relative to SRC>
  local commit
  if [ -z "$REF" ] && [ -d "$SRC/$1" ]; then
    FROM="work tree"
    commit="$(git -C "$SRC" log -1 --format=%h 2>/dev/null || echo "unknown, not a git checkout")"
    echo "upstream: $SRC (work tree, commit $commit)"
  else
    FROM=git
    open_git
    "${GIT[@]}" rev-parse -q --verify "${REF:-HEAD}^{commit}" >/dev/null 2>&1 \
      || die "$SRC is neither a checkout with $1 nor a git dir with commit ${REF:-HEAD}"
    commit="$("${GIT[@]}" log -1 --format=%h "${REF:-HEAD}")"
    echo "upstream: $SRC (git ${REF:-HEAD}, commit $commit)"
  fi
}

# Writes the files under <paths> at <ref> of GIT into <dest dir>, each at its
# path less "<prefix>/". Blob by blob rather than with git archive: a blob
# missing from a partial mirror must only lose that file, not the whole export.
# Prints the path of each file it could not read.
export_from_git() { # <ref> <prefix|""> <dest dir> <paths...>
  local ref="$1" prefix="$2" dest_dir="$3" meta path _mode type sha dest
  shift 3
  while IFS=$'\t' read -r meta path; do
    read -r _mode type sha <<<"$meta"
    [ "$type" = blob ] || continue
    dest="$dest_dir/${path#"${prefix:+$prefix/}"}"
    mkdir -p "$(dirname "$dest")"
    "${GIT[@]}" cat-file blob "$sha" >"$dest" 2>/dev/null || { rm -f "$dest"; echo "$path"; }
  done < <("${GIT[@]}" ls-tree -r "$ref" -- "$@")
}

# Installs the dependencies pinned in <pins dir> (package.json and
# package-lock.json) with `npm ci`, once, into a cache that every checkout
# shares: <cache>/<name>-<hash of the pins and of Node's platform, arch and
# ABI>, published with an atomic rename, so concurrent runs never see half an
# install. Sets DEPS to that directory.
install_pinned_deps() { # <pins dir> <name> <timeout secs>
  local pins="$1" name="$2" secs="$3" cache key tmp
  cache="${SOCKET_IO_RS_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/socket.io-rs-compat}"
  key="$( { cat "$pins/package.json" "$pins/package-lock.json"; node -p 'process.platform + process.arch + process.versions.modules'; } | sha256sum | cut -c1-16)"
  DEPS="$cache/$name-$key"
  [ ! -f "$DEPS/.complete" ] || return 0
  mkdir -p "$cache" || die "cannot create $cache"
  echo "installing the dependencies pinned in ${pins#"$REPO"/} into $DEPS (once) ..."
  tmp="$(mktemp -d "$cache/.install.XXXXXX")" || die "mktemp in $cache failed"
  cp "$pins/package.json" "$pins/package-lock.json" "$tmp/"
  if ! (cd "$tmp" && timeout "$secs" npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
    cat "$tmp/npm.log" >&2
    rm -rf "$tmp"
    die "npm ci of ${pins#"$REPO"/} failed"
  fi
  touch "$tmp/.complete"
  # if another run got there first, keep theirs
  mv -T "$tmp" "$DEPS" 2>/dev/null || rm -rf "$tmp"
  [ -f "$DEPS/.complete" ] || die "could not publish the install to $DEPS"
}
