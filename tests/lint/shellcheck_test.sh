#!/usr/bin/env bash
# Every shell script of the project through shellcheck, clean: the scripts (*.sh, or a shell in
# their first line) under .ci, bench, packaging and tests, with the files they source.
# usage: shellcheck_test.sh SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 1 ] || fail "usage: shellcheck_test.sh SOURCE_DIR"
cd "$1" || fail "cannot enter $1"
require_cmd shellcheck

scripts=()
while IFS= read -r -d '' f; do
  case "$f" in
    *.sh) scripts+=("$f") ;;
    *) head -n 1 "$f" | grep -Eq '^#!.*[/ ](ba|da)?sh( |$)' && scripts+=("$f") ;;
  esac
done < <(find .ci bench packaging tests -type f -print0 | sort -z)
[ "${#scripts[@]}" -ge 40 ] || fail "found only ${#scripts[@]} shell scripts: $(one_line "${scripts[*]}")"

# -x with SCRIPTDIR: the `# shellcheck source=` paths are relative to each script.
shellcheck -x --source-path=SCRIPTDIR "${scripts[@]}" ||
  fail "shellcheck found problems (above) in these ${#scripts[@]} scripts"
pass "shellcheck: ${#scripts[@]} shell scripts clean"
