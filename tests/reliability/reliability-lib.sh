# Helpers of the reliability tests, on top of tests/lib/common.sh: the BPF objects a process
# holds and whether the kernel still lists them (bpftool), pcapng files read block by block.
# shellcheck shell=bash

# bpf_ids_of PID: "prog:ID" and "link:ID" lines for every BPF program and link that process PID
# holds, by the kernel's fdinfo of its descriptors (a link's also names its program). Debian's
# bpftool cannot show holders' pids (it is built without the pid iterator). Other BPF users on
# the machine are not ours.
bpf_ids_of() {
  local fdinfo link prog
  for fdinfo in /proc/"$1"/fdinfo/*; do
    link=$(awk '$1 == "link_id:" { print $2 }' "$fdinfo" 2>/dev/null)
    prog=$(awk '$1 == "prog_id:" { print $2 }' "$fdinfo" 2>/dev/null)
    [ -n "$link" ] && echo "link:$link"
    [ -n "$prog" ] && echo "prog:$prog"
  done | sort -u
}

# bpf_ids_alive IDS: the lines of IDS (as bpf_ids_of prints them) that the kernel still lists.
bpf_ids_alive() {
  local kind
  for kind in prog link; do
    bpftool -j "$kind" show | python3 -c '
import json, sys
kind, wanted = sys.argv[1], set(sys.argv[2].split())
for obj in json.load(sys.stdin):
    if kind + ":" + str(obj["id"]) in wanted:
        print(kind + ":" + str(obj["id"]))
' "$kind" "$1" || fail "bpftool $kind show failed"
  done
}

# assert_bpf_gone IDS WHAT: none of IDS is left. The kernel frees a program once its last
# reference is gone, some of it after an RCU grace period: a few seconds are allowed.
assert_bpf_gone() {
  local left
  for _ in $(seq 50); do
    left=$(bpf_ids_alive "$1")
    [ -z "$left" ] && return 0
    sleep 0.2
  done
  fail "$2: BPF objects of pwrudump still in the kernel: $(tr '\n' ' ' <<<"$left")"
}

# pcapng_blocks FILE: "TYPE COUNT" per block type among the complete blocks of FILE, then
# "tail BYTES" (bytes after the last complete block: a block cut short) and, when the last
# complete block is an Interface Statistics Block, "stats ifrecv ifdrop usrdeliv".
pcapng_blocks() {
  PYTHONPATH="$(dirname "${BASH_SOURCE[0]}")/../lib" python3 - "$1" <<'EOF'
import collections, sys
import pcapng
with open(sys.argv[1], "rb") as f:
    blocks = pcapng.Blocks(f)
    types, isb = collections.Counter(), None
    try:
        for btype, body in blocks:
            types[pcapng.NAMES.get(btype, hex(btype))] += 1
            isb = pcapng.isb_counters(body) if btype == pcapng.ISB else None
    except ValueError as e:
        sys.exit(str(e))
for name in ("shb", "idb", "epb", "isb"):
    print(name, types.get(name, 0))
print("tail", blocks.tail)
if isb is not None:
    print("stats", isb.get(pcapng.ISB_IFRECV, -1), isb.get(pcapng.ISB_IFDROP, -1),
          isb.get(pcapng.ISB_USRDELIV, -1))
EOF
}

# block_field BLOCKS NAME [N]: field N (default 2) of line NAME in pcapng_blocks' output.
block_field() {
  awk -v name="$2" -v n="${3:-2}" '$1 == name { print $n }' <<<"$1"
}

# tshark_read FILE: tshark (with the pwru plugin) reads FILE. Sets FRAMES (how many it read),
# TSHARK_RC and TSHARK_ERR (its stderr: a file cut short in a block is reported there).
tshark_read() {
  chmod 644 "$1"
  local out
  out=$("$TSHARK_PLUGIN" "$BUILD" -r "$1" -T fields -e frame.number 2>"$WORK/tshark.err")
  # shellcheck disable=SC2034  # the results, for the caller
  TSHARK_RC=$? TSHARK_ERR=$(cat "$WORK/tshark.err") FRAMES=$(grep -c . <<<"$out")
}

# rss_kib PID: resident memory of PID in KiB (0 once it is gone).
rss_kib() {
  awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}
