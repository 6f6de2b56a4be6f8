#!/usr/bin/env bash
# Runs tshark with the pwru plugin of a build tree; fails (exit 125) if the plugin did not load.
#
# Usage: tshark-plugin.sh BUILD_DIR [tshark args...]
#   BUILD_DIR is the CMake build folder; the plugin is BUILD_DIR/dissector/plugins/<x.y>/epan/pwru.so.
#
# Wireshark ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder when run as root, so as
# root tshark runs as nobody:nogroup (setpriv) instead. nobody must then read the plugin and every
# file tshark opens: the plugin and each `-r FILE` are copied to a private folder first (the build
# tree may sit where nobody cannot look, e.g. under /root); other file arguments (-w, -o
# pref:path...) must already be accessible to nobody.
# HOME is a fresh empty folder in every case, so personal preferences and plugins (an installed
# pwru.so) cannot change the result. tshark's own exit status is returned.
set -uo pipefail

die() {
  echo "tshark-plugin.sh: $*" >&2
  exit 125
}

[[ $# -ge 1 ]] || die "usage: tshark-plugin.sh BUILD_DIR [tshark args...]"
build_dir=$1
shift
plugin_dir=$(cd "$build_dir/dissector/plugins" 2>/dev/null && pwd) ||
  die "cannot open $build_dir/dissector/plugins: pass the build folder and build the pwru target"
shopt -s nullglob
plugins=("$plugin_dir"/*/epan/pwru.so)
shopt -u nullglob
[[ ${#plugins[@]} -gt 0 ]] ||
  die "cannot find $plugin_dir/<major.minor>/epan/pwru.so: build the pwru target first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tshark-plugin.XXXXXX") || die "cannot create a temporary folder"
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
mkdir "$tmp/home"

as_root=0
if [[ $EUID -eq 0 ]]; then
  as_root=1
  chown nobody:nogroup "$tmp/home" || die "cannot give $tmp/home to nobody"
  { cp -r -- "$plugin_dir" "$tmp/plugins" && chmod -R a+rX "$tmp/plugins"; } ||
    die "cannot copy $plugin_dir for user nobody"
  plugin_dir="$tmp/plugins"
  plugins=("$plugin_dir"/*/epan/pwru.so)
fi

run_tshark() {
  local env_args=(env -u XDG_CONFIG_HOME HOME="$tmp/home" WIRESHARK_PLUGIN_DIR="$plugin_dir")
  if [[ $as_root -eq 1 ]]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups "${env_args[@]}" tshark "$@"
  else
    "${env_args[@]}" tshark "$@"
  fi
}

# Rewrite `-r FILE` so that nobody can read the capture.
args=()
copies=0
while [[ $# -gt 0 ]]; do
  if [[ $1 == -r && $# -ge 2 && $2 != - && $as_root -eq 1 ]]; then
    copies=$((copies + 1))
    copy="$tmp/$copies-$(basename -- "$2")"
    { cp -- "$2" "$copy" && chmod 0644 "$copy"; } || die "cannot copy capture $2 for user nobody"
    args+=(-r "$copy")
    shift 2
  else
    args+=("$1")
    shift
  fi
done

# The plugin must have loaded from this build tree, not from anywhere else.
loaded=$(run_tshark -G plugins 2>"$tmp/plugins.err" | awk -F'\t' '$1 ~ /^pwru\.so/ { print $4 }')
if [[ $loaded != "$plugin_dir"/*/epan/pwru.so ]]; then
  cat "$tmp/plugins.err" >&2
  if [[ $as_root -eq 1 ]] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
      test -r "${plugins[0]}"; then
    die "user nobody cannot read ${plugins[0]}: build in a folder others can read"
  fi
  die "tshark did not load ${plugins[0]} (loaded: '${loaded:-nothing}'); see the errors above"
fi

run_tshark "${args[@]}"
