#!/usr/bin/env bash
# Dissector tests: pwru-mkcapture writes captures through the real record encoder and pcapng
# writer (see tests/tools/pwru-mkcapture.cpp for what each frame holds), tshark with the pwru
# plugin of the build tree reads them back.
# usage: dissector_test.sh CASE PWRU_MKCAPTURE BUILD_DIR [fresh|kept]
#   CASE: plugin journey drop columns ipv6 unknown malformed retransmission fuzz wrapper
#   fresh (default): the capture is written now; kept: the one kept in data/ is read, so that
#   captures written by an older pwrudump stay readable.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
[ $# -eq 3 ] || [ $# -eq 4 ] ||
  fail "usage: dissector_test.sh CASE PWRU_MKCAPTURE BUILD_DIR [fresh|kept]"
CASE=$1 MKCAPTURE=$2 BUILD=$3 SOURCE=${4:-fresh}
TSHARK_PLUGIN="$here/../lib/tshark-plugin.sh"

require_cmd tshark
[ "$(id -u)" -ne 0 ] || require_cmd setpriv
WORK=$(mktemp -d /tmp/pwru-dissector.XXXXXX) || fail "cannot create a temporary folder"
trap 'rm -rf "$WORK"' EXIT

# capture SCENARIO: puts the capture in $WORK/SCENARIO.pcapng.
capture() {
  if [ "$SOURCE" = kept ] && [ "$1" != fuzz ]; then
    cp "$here/data/$1.pcapng" "$WORK/" || fail "cannot copy the kept capture data/$1.pcapng"
  else
    "$MKCAPTURE" "$WORK/$1.pcapng" "$1" || fail "pwru-mkcapture $1 failed"
  fi
}

# tshark_on SCENARIO [tshark args...]: tshark on that capture; the test fails if tshark does.
tshark_on() {
  local scenario=$1
  shift
  "$TSHARK_PLUGIN" "$BUILD" -r "$WORK/$scenario.pcapng" "$@" 2>"$WORK/tshark.err"
  local rc=$?
  if [ $rc -ne 0 ]; then
    cat "$WORK/tshark.err" >&2
    echo "FAIL: tshark exited with $rc: tshark -r $scenario.pcapng $*" >&2
    return 1
  fi
}

# fields SCENARIO FILTER FIELD... [-- TSHARK_ARG...]: one line per frame matching FILTER,
# the fields separated by '|'.
fields() {
  local scenario=$1 filter=$2
  shift 2
  local args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=(-e "$1")
    shift
  done
  [ $# -gt 0 ] && shift
  tshark_on "$scenario" -Y "$filter" -T fields -E separator='|' "${args[@]}" "$@"
}

# assert_tree SCENARIO FRAME REGEX WHAT: the pwru tree of that frame (tshark -O pwru) has a line
# matching REGEX.
assert_tree() {
  local out
  out=$(tshark_on "$1" -Y "frame.number == $2" -O pwru) || exit 1
  grep -q -- "$3" <<<"$out" || fail "the tree does not show $4: $out"
}

# assert_lines WHAT EXPECTED ACTUAL: like assert_eq, printing both sides in full on failure.
assert_lines() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}

PING_SKB=0xffff888004a1b200
SYN_SKB=0xffff888006c3d400
NETNS_B=4026532100

# Every field the record format names is registered under the filter name users type.
case_plugin() {
  local out missing=() f
  "$TSHARK_PLUGIN" "$BUILD" -G fields >"$WORK/fields" || fail "tshark -G fields failed"
  awk -F'\t' '$1 == "F" && $3 ~ /^pwru\./ { print $3 }' "$WORK/fields" >"$WORK/pwru-fields"
  for f in pwru.version pwru.skb pwru.func pwru.probe pwru.cpu pwru.pid pwru.comm pwru.netns \
           pwru.mark pwru.ifindex pwru.ifname pwru.proto pwru.mtu pwru.len pwru.ip.src \
           pwru.ip.dst pwru.ipv6.src pwru.ipv6.dst pwru.sport pwru.dport pwru.l4proto \
           pwru.tcp_flags pwru.tcp_flags.fin pwru.tcp_flags.syn pwru.tcp_flags.rst \
           pwru.tcp_flags.psh pwru.tcp_flags.ack pwru.tcp_flags.urg pwru.tcp_flags.ece \
           pwru.tcp_flags.cwr pwru.drop_reason pwru.drop_reason_code pwru.caller \
           pwru.caller_addr pwru.stack pwru.stack.frame pwru.ktime pwru.packet_layer \
           pwru.packet pwru.unknown; do
    grep -qxF "$f" "$WORK/pwru-fields" || missing+=("$f")
  done
  [ ${#missing[@]} -eq 0 ] || fail "fields not registered: ${missing[*]}"
  out=$("$TSHARK_PLUGIN" "$BUILD" -G protocols) || fail "tshark -G protocols failed"
  grep -qx $'pwru\tPWRU\tpwru' <<<"$out" || fail "protocol pwru/PWRU/pwru not registered"
  out=$("$TSHARK_PLUGIN" "$BUILD" -G defaultprefs) || fail "tshark -G defaultprefs failed"
  grep -qx '#pwru.payload_is_embedded: TRUE' <<<"$out" ||
    fail "preference pwru.payload_is_embedded (default TRUE) not registered"
  pass "protocol, every field and the preference are registered"
}

# The ping's skb, followed through the veth pair from netns A to netns B.
case_journey() {
  capture sample
  local out
  out=$(fields sample "pwru.skb == $PING_SKB" frame.number pwru.func pwru.probe pwru.netns \
          pwru.ifindex pwru.ifname pwru.proto pwru.len pwru.ip.src pwru.ip.dst pwru.l4proto \
          pwru.comm pwru.pid pwru.cpu) || exit 1
  assert_lines "ping journey" \
"1|net_dev_queue|1|4026532000|4|veth0|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
2|net_dev_start_xmit|1|4026532000|4|veth0|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
3|netif_rx|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
4|netif_receive_skb|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
5|kfree_skb|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1" "$out"
  out=$(fields sample "pwru.skb == $PING_SKB" pwru.ktime eth.type ip.dst icmp.type icmp.seq) ||
    exit 1
  assert_lines "payload of every event dissected as Ethernet/IPv4/ICMP echo request" \
"5000000000|0x0800|10.0.0.2|8|1
5000001000|0x0800|10.0.0.2|8|1
5000002000|0x0800|10.0.0.2|8|1
5000003000|0x0800|10.0.0.2|8|1
5000004000|0x0800|10.0.0.2|8|1" "$out"
  pass "5 events of the ping's skb, netns and veth as written, ICMP echo request in each"
}

# The drop: found by function and reason, every value right, an expert error naming it.
case_drop() {
  capture sample
  local out
  out=$(fields sample 'pwru.func == "kfree_skb" && pwru.drop_reason == "NETFILTER_DROP"' \
          pwru.skb pwru.ip.dst pwru.netns pwru.ifname icmp.type) || exit 1
  assert_eq "the drop (skb, dst, netns, ifname, icmp.type)" \
    "$PING_SKB|10.0.0.2|$NETNS_B|veth1|8" "$out"
  out=$(fields sample 'pwru.drop_reason' frame.number pwru.drop_reason_code pwru.caller \
          pwru.caller_addr) || exit 1
  assert_eq "drop reason code, caller" "5|12|nf_hook_slow+0x9b|0xffffffff81c4a2eb" "$out"
  # Expert info: error severity (0x00800000), sequence group (0x02000000).
  out=$(fields sample '_ws.expert.message == "Packet dropped: NETFILTER_DROP at nf_hook_slow+0x9b"' \
          frame.number _ws.expert.severity _ws.expert.group) || exit 1
  assert_eq "drop expert info (frame, severity, group)" "5|8388608|33554432" "$out"
  out=$(fields sample '_ws.expert.severity == error' frame.number) || exit 1
  assert_eq "frames with an error expert info" "5" "$out"
  # The stack: pwru.stack is the symbol, pwru.stack.frame the full text.
  out=$(fields sample 'pwru.stack == "nf_hook_slow"' frame.number) || exit 1
  assert_eq 'frames matching pwru.stack == "nf_hook_slow"' "5" "$out"
  out=$(fields sample 'pwru.stack == "nf_hook_slow+0x9b"' frame.number) || exit 1
  assert_eq 'pwru.stack holds the bare symbol: frames matching "nf_hook_slow+0x9b"' "" "$out"
  out=$(fields sample 'pwru.stack.frame == "nf_hook_slow+0x9b"' pwru.stack) || exit 1
  assert_eq "stack symbols, innermost first" \
    "kfree_skb_reason,nf_hook_slow,ip_rcv,__netif_receive_skb_one_core,process_backlog" "$out"
  assert_tree sample 5 'Stack frame: __netif_receive_skb_one_core+0x91$' "the full frame text"
  pass "NETFILTER_DROP at kfree_skb found with skb, dst, netns, veth, ICMP payload, expert error, stack"
}

# Columns: Protocol is PWRU and Info is pwru's line, whatever the payload dissectors write.
case_columns() {
  capture sample
  local out
  out=$(fields sample '' _ws.col.Protocol _ws.col.Info _ws.col.Source _ws.col.Destination) ||
    exit 1
  assert_lines "Protocol, Info, Source, Destination columns" \
"PWRU|net_dev_queue skb=$PING_SKB veth0:4 10.0.0.1:0->10.0.0.2:0(icmp)|10.0.0.1|10.0.0.2
PWRU|net_dev_start_xmit skb=$PING_SKB veth0:4 10.0.0.1:0->10.0.0.2:0(icmp)|10.0.0.1|10.0.0.2
PWRU|netif_rx skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp)|10.0.0.1|10.0.0.2
PWRU|netif_receive_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp)|10.0.0.1|10.0.0.2
PWRU|kfree_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP|10.0.0.1|10.0.0.2
PWRU|ip6_output skb=$SYN_SKB [fd00::1]:40000->[fd00::2]:80(tcp)|fd00::1|fd00::2
PWRU|ip6_finish_output skb=$SYN_SKB [fd00::1]:40000->[fd00::2]:80(tcp)|fd00::1|fd00::2
PWRU|ip6_finish_output2 skb=$SYN_SKB [fd00::1]:40000->[fd00::2]:80(tcp)|fd00::1|fd00::2
PWRU|ip6_rcv_core skb=$SYN_SKB [fd00::1]:40000->[fd00::2]:80(tcp)|fd00::1|fd00::2" "$out"
  # With TCP analysis on, TCP would write "[TCP Retransmission]...": the Info stays pwru's.
  out=$(fields sample 'frame.number == 7' _ws.col.Protocol _ws.col.Info \
          -- -o pwru.payload_is_embedded:FALSE) || exit 1
  assert_eq "columns with pwru.payload_is_embedded:FALSE" \
    "PWRU|ip6_finish_output skb=$SYN_SKB [fd00::1]:40000->[fd00::2]:80(tcp)" "$out"
  pass "Protocol PWRU, pwru's Info line and the tuple's addresses on every frame"
}

# IPv6 tuple, ports, TCP flags, mark, probe kinds; raw IPv6 payload (layer NETWORK) dissected.
case_ipv6() {
  capture sample
  local out
  out=$(fields sample 'pwru.ipv6.src == fd00::1' frame.number pwru.func pwru.probe \
          pwru.ipv6.src pwru.ipv6.dst pwru.sport pwru.dport pwru.l4proto pwru.proto pwru.mark \
          pwru.packet_layer) || exit 1
  assert_lines "IPv6 events" \
"6|ip6_output|2|fd00::1|fd00::2|40000|80|6|0x86dd|0x0000002a|2
7|ip6_finish_output|3|fd00::1|fd00::2|40000|80|6|0x86dd|0x0000002a|2
8|ip6_finish_output2|4|fd00::1|fd00::2|40000|80|6|0x86dd|0x0000002a|2
9|ip6_rcv_core|2|fd00::1|fd00::2|40000|80|6|0x86dd|0x0000002a|" "$out"
  out=$(fields sample 'pwru.tcp_flags.syn == 1 && pwru.tcp_flags.ack == 0' frame.number \
          pwru.tcp_flags pwru.tcp_flags.fin pwru.tcp_flags.rst pwru.tcp_flags.cwr) || exit 1
  assert_lines "TCP flags (SYN only)" \
"6|0x02|0|0|0
7|0x02|0|0|0
8|0x02|0|0|0
9|0x02|0|0|0" "$out"
  out=$(fields sample 'pwru.packet_layer == 2' ipv6.src ipv6.dst tcp.srcport tcp.dstport \
          tcp.flags.syn tcp.options.mss_val) || exit 1
  assert_lines "raw IPv6 payload dissected as IPv6/TCP" \
"fd00::1|fd00::2|40000|80|1|1440
fd00::1|fd00::2|40000|80|1|1440
fd00::1|fd00::2|40000|80|1|1440" "$out"
  out=$(fields sample 'pwru.probe == 3' pwru.func) || exit 1
  assert_eq "kprobe-multi events" "ip6_finish_output" "$out"
  assert_tree sample 8 'Probe: fentry (4)' "the probe kind's name"
  pass "IPv6 tuple, ports, TCP flags, mark and probe kinds; IPv6/TCP payload dissected"
}

# An unknown TLV (type 999) is shown with its type and skipped; the fields after it are read.
case_unknown() {
  capture sample
  local out
  out=$(fields sample 'pwru.unknown' frame.number pwru.unknown pwru.field.type \
          pwru.field.length pwru.func pwru.skb _ws.expert.group _ws.expert.severity) || exit 1
  # Undecoded group (0x05000000), note severity (0x00400000); the record is not malformed.
  assert_eq "unknown field (frame, bytes, type, length, then the known fields)" \
    "9|deadbeef|999|4|ip6_rcv_core|$SYN_SKB|83886080|4194304" "$out"
  out=$(fields sample '_ws.malformed' frame.number) || exit 1
  assert_eq "malformed frames in the sample" "" "$out"
  assert_tree sample 9 'Type 999, Unknown field: deadbeef' "the unknown field's type"
  pass "TLV 999 shown as pwru.unknown with its type, an undecoded note, the rest of the record read"
}

# Broken records are marked malformed with a reason, never crash tshark, and what follows them
# is dissected again.
case_malformed() {
  capture malformed
  local out
  tshark_on malformed >/dev/null || exit 1
  out=$(fields malformed '_ws.expert.group == 0x07000000' frame.number _ws.expert.message) ||
    exit 1
  # The expert messages of a frame also list its drop (frames 2 and 7 decoded that far).
  out=$(printf '%s\n' "$out" | sed 's/Packet dropped: NETFILTER_DROP at nf_hook_slow+0x9b,//')
  assert_lines "malformed frames and why" \
"2|Truncated record: field type 29 declares 98 bytes, 10 remain
3|Field skb (type 1) has 7 bytes, expected 8
4|Unsupported record version 2 (this dissector reads version 1)
5|Truncated record: the header needs 4 bytes, 2 remain
6|Header length 435 is outside 4..434
7|Truncated record: a field header needs 4 bytes, 2 remain
8|Field Destination address (type 17): IPv4 and IPv6 addresses in one record" "$out"
  out=$(fields malformed '_ws.malformed' frame.number) || exit 1
  assert_lines "frames with _ws.malformed" "2
3
4
5
6
7
8" "$out"
  out=$(fields malformed '' frame.number _ws.col.Info) || exit 1
  assert_lines "Info of malformed records" \
"1|kfree_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP
2|kfree_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP [Malformed pwru record]
3|[Malformed pwru record]
4|[Malformed pwru record]
5|[Malformed pwru record]
6|[Malformed pwru record]
7|kfree_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP [Malformed pwru record]
8|kfree_skb skb=$PING_SKB veth1:5 [Malformed pwru record]
9|kfree_skb skb=$PING_SKB veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP" "$out"
  out=$(fields malformed 'frame.number == 9' pwru.skb pwru.netns icmp.type) || exit 1
  assert_eq "the good record after the broken ones" "$PING_SKB|$NETNS_B|8" "$out"
  pass "7 broken records marked malformed with their reason, tshark exits 0, the next record reads"
}

# The same TCP SYN seen at three functions: not a retransmission by default, one with
# pwru.payload_is_embedded:FALSE (plain TCP analysis across events).
case_retransmission() {
  capture sample
  local out
  out=$(fields sample 'tcp' frame.number tcp.analysis.retransmission) || exit 1
  assert_lines "default: TCP frames and retransmission flags" "6|
7|
8|" "$out"
  out=$(fields sample 'tcp.analysis.retransmission' frame.number \
          -- -o pwru.payload_is_embedded:TRUE) || exit 1
  assert_eq "retransmissions with pwru.payload_is_embedded:TRUE" "" "$out"
  out=$(fields sample 'tcp.analysis.retransmission' frame.number \
          -- -o pwru.payload_is_embedded:FALSE) || exit 1
  assert_lines "retransmissions with pwru.payload_is_embedded:FALSE" "7
8" "$out"
  pass "repeated SYN: no retransmission by default, frames 7-8 flagged with the preference off"
}

# Random damage to valid records: tshark must dissect every frame without a dissector bug.
case_fuzz() {
  capture fuzz
  local out frames
  out=$(tshark_on fuzz -V) || exit 1
  frames=$(printf '%s\n' "$out" | grep -c '^Frame [0-9]*:')
  assert_eq "frames dissected" 2000 "$frames"
  if grep -m3 -i 'dissector bug' <<<"$out"; then
    fail "a damaged record hit a dissector bug"
  fi
  grep -i 'warn\|crit\|error' "$WORK/tshark.err" && fail "tshark complained on stderr"
  pass "2000 damaged records dissected without a dissector bug"
}

# The wrapper itself fails loudly when the plugin cannot be loaded (so no test above can pass
# against a stock tshark by accident).
case_wrapper() {
  local fake="$WORK/fake-build" rc
  mkdir -p "$fake/dissector/plugins/4.0/epan"
  "$TSHARK_PLUGIN" "$fake" -v >/dev/null 2>"$WORK/err"
  rc=$?
  assert_eq "exit code without pwru.so" 125 "$rc"
  grep -q 'cannot find' "$WORK/err" || fail "no message without pwru.so: $(cat "$WORK/err")"
  printf 'not an ELF file\n' >"$fake/dissector/plugins/4.0/epan/pwru.so"
  chmod -R a+rX "$WORK"
  "$TSHARK_PLUGIN" "$fake" -v >/dev/null 2>"$WORK/err"
  rc=$?
  assert_eq "exit code with a broken pwru.so" 125 "$rc"
  grep -q 'did not load' "$WORK/err" || fail "no message for a broken pwru.so: $(cat "$WORK/err")"
  pass "tshark-plugin.sh exits 125 with a message when pwru.so is missing or does not load"
}

case "$CASE" in
  plugin | journey | drop | columns | ipv6 | unknown | malformed | retransmission | fuzz | wrapper)
    "case_$CASE" ;;
  *) fail "unknown case '$CASE'" ;;
esac
