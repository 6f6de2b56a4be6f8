# The distro tests' way into a suite's root: the mounts every tests/distro script shares, with
# tests/lib/common.sh and tests/lib/debootstrap.sh. Sets $src, the source folder.
# shellcheck shell=bash

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/common.sh
. "$src/tests/lib/common.sh"
die() { fail "$*"; }
# shellcheck source=../lib/debootstrap.sh
. "$src/tests/lib/debootstrap.sh"

# distro_in_root ROOT BUILD [--sys] [--bind|--ro HOSTDIR NAME]... COMMAND...: COMMAND inside ROOT
# (tests/lib/debootstrap.sh's debootstrap_run) with the source read-only at /mnt/src, the build
# folder BUILD at /mnt/build, and the suite's compiler cache (next to its roots) at /mnt/ccache;
# --sys and further folders as debootstrap_run takes them. CI passes through, so that a test run
# inside the root fails in CI where it would skip elsewhere (tests/lib/common.sh).
distro_in_root() {
  local root=$1 build=$2 sys=() mounts=() cache
  shift 2
  if [ "${1:-}" = --sys ]; then
    sys=(--sys)
    shift
  fi
  while [ "${1:-}" = --bind ] || [ "${1:-}" = --ro ]; do
    mounts+=("$1" "$2" "$3")
    shift 3
  done
  cache=$(dirname "$root")/ccache
  mkdir -p "$cache"
  debootstrap_run "$root" "${sys[@]}" --ro "$src" src --bind "$build" build \
    --bind "$cache" ccache "${mounts[@]}" \
    env CCACHE_DIR=/mnt/ccache CCACHE_BASEDIR=/mnt CI="${CI:-}" "$@"
}

# distro_build_root SUITE: the root that distro.SUITE.build built the project in (build.sh
# installs its packages; the tests that require that fixture only find it).
distro_build_root() {
  "$src/tests/distro/root.sh" "$1" build || fail "cannot find the $1 root (above)"
}

# distro_built SUITE BUILD: fails unless BUILD holds the project built in SUITE's root.
distro_built() {
  grep -qs '^CMAKE_HOME_DIRECTORY:INTERNAL=/mnt/src$' "$2/CMakeCache.txt" ||
    fail "cannot find the project built in $1's root at $2
hint: run the fixture first: ctest -R '^distro\\.$1\\.build\$'"
}
