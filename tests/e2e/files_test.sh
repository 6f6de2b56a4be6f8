#!/usr/bin/env bash
# Output files that rotate, on the running kernel, with flood pings from A to B (the tracepoint
# backend does here; any backend writes the same files):
#   ring:   -w ring.pcapng -b filesize:1000 (dumpcap's multiple files, none deleted) and
#           --output-json --output-file out.json --output-file-max-size 1 in the same run: the
#           pcapng files are named as dumpcap names a file set (ring_NNNNN_YYYYmmddHHMMSS.pcapng,
#           numbered from 1 without a gap), each a whole pcapng that capinfos and tshark with the
#           pwru plugin read cleanly, with one statistics block; their packets, the statistics
#           blocks' delivered and lost counts, and the JSON lines of out.json and its backups
#           (pwru's names: out-YYYY-mm-ddTHH-MM-SS.mmm.json) each add up to the run's own
#           "N events, L lost": nothing is lost or counted twice across files.
#   cap:    -b filesize:100 -b files:3, --output-file-max-backups 2 --output-file-compress: 3
#           pcapng files are left, the newest (highest numbers), each read cleanly with its own
#           counts; 2 text backups are left, gzipped, and read back whole.
#   lost:   -b packets:500 with --ringbuf-size 64K, which loses events of the flood: the files'
#           statistics blocks add up to the run's lost count (each file counts what was lost while
#           it was written), their packets to its events.
#   errors: (no root) a bad -b spec, -b without -w FILE, -b in extcap mode, and output files in a
#           folder that does not exist each fail with "cannot ...: cause" and a hint.
# usage: files_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

# expect_error WHAT EXIT_CODE PATTERN ARGS...: pwrudump ARGS fails with EXIT_CODE, and its stderr
# is "cannot ..." matching PATTERN, then a hint.
expect_error() {
  local what=$1 code=$2 pattern=$3 err rc
  shift 3
  err=$("$PWRUDUMP" "$@" 2>&1 >/dev/null)
  rc=$?
  assert_eq "$what: exit code (stderr: $err)" "$code" "$rc"
  grep -qE "^pwrudump: cannot $pattern" <<<"$err" || fail "$what: no 'cannot $pattern' in: $err"
  grep -q "^hint: " <<<"$err" || fail "$what: no hint in: $err"
  pass "$what"
}

if [ "$mode" = errors ]; then
  dir=$(mktemp -d /tmp/pwru-files.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  expect_error "-b with an unknown key" 2 "use -b size:10: unknown key" -w "$dir/x.pcapng" -b size:10
  expect_error "-b filesize not a number" 2 "use -b filesize:ten: not a positive integer" \
    -w "$dir/x.pcapng" -b filesize:ten
  expect_error "-b files alone" 2 "use -b files:3: nothing says when" -w "$dir/x.pcapng" -b files:3
  expect_error "-b without -w" 2 "use -b: it needs -w FILE" -b filesize:10
  expect_error "-b with -w -" 2 "use -b: it needs -w FILE" -w - -b filesize:10
  expect_error "-b in extcap mode" 2 "start the capture: -b is for -w files" --capture \
    --extcap-interface pwru --fifo "$dir/fifo" -b filesize:10
  expect_error "--output-file-max-size negative" 2 "use --output-file-max-size \"-1\"" \
    --output-file-max-size -1
  expect_error "a ring in a missing folder" 6 \
    "open the pcapng file $dir/none/ring_00001_[0-9]{14}\.pcapng: No such file or directory" \
    -w "$dir/none/ring.pcapng" -b filesize:10 icmp
  expect_error "a text file in a missing folder" 6 \
    "open the text output $dir/none/out: No such file or directory" --output-file "$dir/none/out" icmp
  [ -z "$(ls -A "$dir")" ] || fail "files were made: $(ls -A "$dir")"
  exit 0
fi

require_root
require_cmd ip ping python3 timeout capinfos tshark setpriv
e2e_hosts

# The run: flood pings, traced with the tracepoint backend into $WORK/ring.pcapng's files and
# $WORK/out.json's; then "N events, L lost" from its summary in $EVENTS and $LOST.
trace_flood() {
  TRACE_LOUD=1 start_trace "$WORK/ring.pcapng" --backend tracepoint --output-json \
    --output-file "$WORK/out.json" --output-file-max-size 1 "$@" "icmp and host $IP_B"
  ip netns exec "$NS_A" ping -f -c 1500 -s 500 "$IP_B" >/dev/null || fail "the pings failed"
  stop_trace
  read -r EVENTS LOST < <(sed -n 's/^\([0-9]*\) events, \([0-9]*\) lost$/\1 \2/p' "$WORK/stderr")
  [ -n "${EVENTS:-}" ] || fail "no summary: $(cat "$WORK/stderr")"
  [ -e "$WORK/ring.pcapng" ] && fail "-b made the file named by -w itself"
  echo "the run: $EVENTS events, $LOST lost"
}

# pcapng_counts FILE...: per file "PACKETS DELIVERED LOST ISBS", the packets counted, the rest from
# its statistics blocks (isb_usrdeliv, isb_ifdrop).
pcapng_counts() {
  python3 - "$@" <<'PY'
import struct, sys
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    at, packets, isbs, delivered, lost = 0, 0, 0, None, None
    assert data[:4] == b"\x0a\x0d\x0d\x0a", f"{name}: no section header first"
    while at < len(data):
        kind, size = struct.unpack_from("<II", data, at)
        assert size >= 12 and at + size <= len(data), f"{name}: block at {at} cut short"
        assert struct.unpack_from("<I", data, at + size - 4)[0] == size, f"{name}: bad block at {at}"
        if kind == 6:
            packets += 1
        elif kind == 5:
            isbs += 1
            opt = at + 20
            while opt + 4 <= at + size - 4:
                code, length = struct.unpack_from("<HH", data, opt)
                if code == 0:
                    break
                if code == 5:
                    lost = struct.unpack_from("<Q", data, opt + 4)[0]
                if code == 8:
                    delivered = struct.unpack_from("<Q", data, opt + 4)[0]
                opt += 4 + (length + 3) // 4 * 4
        at += size
    print(packets, delivered, lost, isbs)
PY
}

# check_pcapng FILE: capinfos and tshark with the plugin read it without an error, every packet
# dissected as pwru.
check_pcapng() {
  local f=$1 read_by_tshark
  capinfos -c "$f" >/dev/null 2>"$WORK/capinfos.err" || fail "capinfos cannot read $f: $(cat "$WORK/capinfos.err")"
  read_by_tshark=$(fields "$f" -e pwru.func 2>"$WORK/tshark.err" | grep -c .)
  [ -s "$WORK/tshark.err" ] && fail "tshark complained about $f: $(cat "$WORK/tshark.err")"
  echo "$read_by_tshark"
}

# ring_files: the pcapng files of the run, oldest first; each named as dumpcap names a file set.
ring_files() {
  local f
  for f in "$WORK"/ring*; do
    [[ $(basename "$f") =~ ^ring_[0-9]{5}_[0-9]{14}\.pcapng$ ]] || fail "not a file set name: $f"
    echo "$f"
  done
}

# matching REGEX: the names in $WORK that match REGEX, sorted.
matching() {
  local f
  for f in "$WORK"/*; do
    [[ $(basename "$f") =~ $1 ]] && basename "$f"
  done
}

# json_lines FILE...: the lines of text files, gzipped or not.
json_lines() {
  local f
  for f in "$@"; do
    case $f in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac
  done | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    json.loads(line)
    n += 1
print(n)'
}

# check_ring_sums: the run's pcapng files, numbered from 1 without a gap, each whole with one
# statistics block; their packets and statistics add up to the run's own counts.
check_ring_sums() {
  mapfile -t files < <(ring_files)
  [ "${#files[@]}" -ge 3 ] || fail "only ${#files[@]} pcapng files: no rotation"
  local f n=0 num p d l isbs packets=0 delivered=0 lost=0
  for f in "${files[@]}"; do
    n=$((n + 1))
    num=$(basename "$f" | cut -d_ -f2)
    assert_eq "number of file $n" "$(printf %05d "$n")" "$num"
    read -r p d l isbs < <(pcapng_counts "$f")
    assert_eq "$f: statistics blocks" 1 "$isbs"
    assert_eq "$f: packets read by tshark" "$p" "$(check_pcapng "$f")"
    assert_eq "$f: isb_usrdeliv against its packets" "$p" "$d"
    packets=$((packets + p)) delivered=$((delivered + d)) lost=$((lost + l))
  done
  assert_eq "packets in all ${#files[@]} files" "$EVENTS" "$packets"
  assert_eq "isb_usrdeliv of all files" "$EVENTS" "$delivered"
  assert_eq "isb_ifdrop of all files" "$LOST" "$lost"
}

case "$mode" in
ring)
  trace_flood -b filesize:1000
  check_ring_sums
  pass "${#files[@]} pcapng files, each whole, with all $EVENTS events and $LOST lost between them"

  mapfile -t backups < <(matching '^out-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}\.json$')
  [ "${#backups[@]}" -ge 2 ] || fail "text backups: $(ls "$WORK")"
  for b in "${backups[@]}"; do
    size=$(stat -c %s "$WORK/$b")
    [ "$size" -le $((1 << 20)) ] || fail "$b: $size bytes, over --output-file-max-size 1"
  done
  assert_eq "JSON lines in out.json and its ${#backups[@]} backups" "$EVENTS" \
    "$(json_lines "${backups[@]/#/$WORK/}" "$WORK/out.json")"
  pass "out.json rotated into ${#backups[@]} backups named as pwru's, no line lost"
  ;;
cap)
  trace_flood -b filesize:100 -b files:3 --output-file-max-backups 2 --output-file-compress
  mapfile -t files < <(ring_files)
  assert_eq "pcapng files left by files:3" 3 "${#files[@]}"
  nums=$(for f in "${files[@]}"; do basename "$f" | cut -d_ -f2; done | sort -n | tr '\n' ' ')
  last=$(basename "${files[2]}" | cut -d_ -f2)
  [ "$((10#$last))" -gt 3 ] || fail "no file was ever deleted: $nums"
  assert_eq "the newest three" "$(printf '%05d %05d %05d ' $((10#$last - 2)) $((10#$last - 1)) $((10#$last)))" "$nums"
  for f in "${files[@]}"; do
    read -r p d _ isbs < <(pcapng_counts "$f")
    assert_eq "$f: statistics blocks" 1 "$isbs"
    assert_eq "$f: packets read by tshark" "$p" "$(check_pcapng "$f")"
    assert_eq "$f: isb_usrdeliv against its packets" "$p" "$d"
  done
  pass "files:3 left the newest 3 of $((10#$last)) files, each whole"

  mapfile -t backups < <(matching '^out-.*\.json(\.gz)?$')
  assert_eq "text backups left by --output-file-max-backups 2: ${backups[*]}" 2 "${#backups[@]}"
  for b in "${backups[@]}"; do
    [[ $b == *.json.gz ]] || fail "$b was not compressed"
    gzip -t "$WORK/$b" || fail "$b is not a whole gzip file"
    lines=$(json_lines "$WORK/$b")
    [ "$lines" -gt 0 ] || fail "$b holds no line"
  done
  pass "2 text backups kept, gzipped, each whole"
  ;;
lost)
  trace_flood -b packets:500 --ringbuf-size 64K
  [ "$LOST" -gt 0 ] || fail "a 64K ring buffer lost no event of a flood: the test shows nothing"
  check_ring_sums
  pass "${#files[@]} pcapng files, each whole, with all $EVENTS events and $LOST lost between them"
  ;;
*) fail "unknown mode $mode" ;;
esac
