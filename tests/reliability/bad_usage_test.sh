#!/usr/bin/env bash
# Bad usage: each mistake gets one message that names the cause, a hint that names the fix, and
# its own exit status (the table of `pwrudump --help`), nothing attached, no ready file:
#   pcap filter 3, unknown backend 2, backend this kernel does not offer 5, bad --filter-func
#   regex 7, --filter-netns that does not exist 8, no privileges (user nobody) 4, missing or
#   garbage --kernel-btf 9.
# The same through Wireshark's extcap path, as `tshark -i pwru` with the option as preference:
# tshark's error ("Error by extcap pipe: ...", what Wireshark's error dialog shows) carries the
# message and the hint, and pwrudump run in extcap mode (--capture --fifo, as Wireshark runs it)
# exits with the same status. --kernel-btf is not an extcap option.
# usage: bad_usage_test.sh PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
PWRUDUMP=$1 BUILD=$2

require_root
require_cmd tshark setpriv timeout
WORK=$(mktemp -d /tmp/pwru-bad.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
# User nobody runs a copy it can read, wherever the build tree is.
cp "$PWRUDUMP" "$WORK/pwrudump" && chmod 755 "$WORK/pwrudump"
mkdir -p "$WORK/config/wireshark/extcap"
ln -s "$WORK/pwrudump" "$WORK/config/wireshark/extcap/pwrudump"
head -c 4096 /dev/urandom >"$WORK/garbage.btf"
MISSING_NETNS=/run/netns/pwru-missing-$$

# expect_error NAME CODE MESSAGE HINT [as-nobody] -- ARGS...: the command line.
expect_error() {
  local name=$1 code=$2 message=$3 hint=$4
  shift 4
  local as=()
  if [ "$1" = as-nobody ]; then
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    shift
  fi
  [ "$1" = -- ] && shift
  rm -f "$WORK/ready"
  timeout 60 "${as[@]}" "$WORK/pwrudump" --ready-file "$WORK/ready" "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  assert_eq "$name: exit status (stderr: $(cat "$WORK/err"))" "$code" "$rc"
  local first second lines
  first=$(sed -n 1p "$WORK/err")
  second=$(sed -n 2p "$WORK/err")
  lines=$(grep -c . "$WORK/err")
  assert_eq "$name: lines on stderr (message and hint): $(cat "$WORK/err")" 2 "$lines"
  [[ $first == "pwrudump: $message"* ]] || fail "$name: message '$first', expected 'pwrudump: $message...'"
  [[ $second == "hint: "*"$hint"* ]] || fail "$name: hint '$second', expected one with '$hint'"
  [ -e "$WORK/ready" ] && fail "$name: the ready file exists: something was attached"
  assert_eq "$name: stdout" "" "$(cat "$WORK/out")"
  echo "ok: $name: exit $code: $first / $second"
}

# expect_extcap_error NAME CODE MESSAGE HINT -- PWRUDUMP-ARGS -- TSHARK-ARGS
expect_extcap_error() {
  local name=$1 code=$2 message=$3 hint=$4
  shift 5
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  # As Wireshark runs it, with a reader on the fifo.
  rm -f "$WORK/fifo" && mkfifo "$WORK/fifo"
  cat "$WORK/fifo" >"$WORK/fifo.out" &
  local reader=$!
  timeout 60 "$WORK/pwrudump" --capture --extcap-interface pwru --fifo "$WORK/fifo" "${args[@]}" \
    2>"$WORK/err"
  local rc=$?
  kill "$reader" 2>/dev/null
  wait "$reader" 2>/dev/null
  assert_eq "$name (extcap mode): exit status (stderr: $(cat "$WORK/err"))" "$code" "$rc"
  grep -q "^pwrudump: $message" "$WORK/err" || fail "$name (extcap mode): stderr: $(cat "$WORK/err")"
  # Through tshark: root's tshark reads the personal extcap folder under XDG_CONFIG_HOME.
  XDG_CONFIG_HOME="$WORK/config" timeout 60 tshark -i pwru -a duration:5 -w "$WORK/t.pcapng" "$@" \
    >/dev/null 2>"$WORK/tshark.err"
  grep -qF "Error by extcap pipe: pwrudump: $message" "$WORK/tshark.err" ||
    fail "$name: tshark does not show the message: $(cat "$WORK/tshark.err")"
  grep -qF -- "$hint" "$WORK/tshark.err" || fail "$name: tshark does not show the hint: $(cat "$WORK/tshark.err")"
  grep -q "no device named" "$WORK/tshark.err" &&
    fail "$name: tshark reports the fifo as a missing device: $(cat "$WORK/tshark.err")"
  echo "ok: $name through tshark -i pwru: $(grep -F 'Error by extcap pipe' "$WORK/tshark.err")"
}

expect_error "pcap filter" 3 'cannot compile pcap filter "tcp port"' "man 7 pcap-filter" -- tcp port
expect_extcap_error "pcap filter" 3 'cannot compile pcap filter "tcp port"' "man 7 pcap-filter" \
  -- --extcap-capture-filter "tcp port" -- -f "tcp port"

expect_error "unknown backend" 2 "cannot use --backend uprobe: no such backend" \
  "pass --backend with one of auto," -- --backend uprobe
expect_extcap_error "unknown backend" 2 "cannot use --backend uprobe: no such backend" \
  "pass --backend with one of auto," -- --backend uprobe -- -o extcap.pwru.backend:uprobe

# Each function backend this kernel does not offer (here: all three); one that attaches is
# offered, and noted.
offered=
for backend in kprobe-multi kprobe fentry; do
  rm -f "$WORK/ready"
  "$WORK/pwrudump" --backend "$backend" --ready-file "$WORK/ready" icmp >/dev/null 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ ! -e "$WORK/ready" ]; do sleep 0.1; done
  if [ -e "$WORK/ready" ]; then
    kill -INT "$pid"; wait "$pid"
    offered="$offered $backend"
    continue
  fi
  wait "$pid"
  name=$backend
  [ "$backend" = kprobe ] && name=kprobes
  expect_error "backend $backend not offered" 5 "cannot use $name" "--backend" -- --backend "$backend" icmp
  expect_extcap_error "backend $backend not offered" 5 "cannot use $name" "--backend" \
    -- --backend "$backend" -- -o "extcap.pwru.backend:$backend"
done
[ -n "$offered" ] && echo "NOTE: this kernel offers$offered: not checked as refused"

expect_error "bad regex" 7 'cannot compile --filter-func "("' "regular expression" -- --filter-func '(' icmp
expect_extcap_error "bad regex" 7 'cannot compile --filter-func "("' "regular expression" \
  -- --filter-func '(' -- -o 'extcap.pwru.filterfunc:('

expect_error "netns that does not exist" 8 "cannot open --filter-netns $MISSING_NETNS: No such file" \
  "/run/netns/NAME" -- --filter-netns "$MISSING_NETNS" icmp
expect_extcap_error "netns that does not exist" 8 "cannot open --filter-netns $MISSING_NETNS: No such file" \
  "/run/netns/NAME" -- --filter-netns "$MISSING_NETNS" -- -o "extcap.pwru.filternetns:$MISSING_NETNS"

expect_error "no privileges" 4 "cannot create the event ring buffer: Operation not permitted" \
  "CAP_BPF and CAP_PERFMON" as-nobody -- icmp

expect_error "missing BTF" 9 "cannot load --kernel-btf $WORK/none.btf: No such file" \
  "leave --kernel-btf out" -- --kernel-btf "$WORK/none.btf" icmp
expect_error "garbage BTF" 9 "cannot load --kernel-btf $WORK/garbage.btf" \
  "leave --kernel-btf out" -- --kernel-btf "$WORK/garbage.btf" icmp

pass "each mistake: its message, its hint, its exit status; in tshark's extcap error too"
