#!/usr/bin/env bash
# Dissector tests: pwru-mkcapture writes captures through the real record encoder and pcapng
# writer (see tests/tools/pwru-mkcapture.cpp for what each frame holds), tshark with the pwru
# plugin of the build tree reads them back.
# usage: dissector_test.sh CASE PWRU_MKCAPTURE BUILD_DIR [fresh|kept]
#   CASE: plugin journey drop columns ipv6 unknown malformed retransmission fuzz wrapper
#         journeys journeys_one_pass reset lost_events old_kernel stats conversation_filter
#         profile nftrace nftrace_stats nfpassed nfprobes drop_reason_help drop_journeys
#         changes flow diag skbexpr bpfprog flights flights_nat flights_vxlan flights_flow
#   fresh (default): the capture is written now; kept: the one kept in data/ is read, so that
#   captures written by an older pwrudump stay readable. The cases after `wrapper` read frames
#   the kept sample does not have (10-17) and run on fresh captures only; the nftrace cases
#   read the nftrace capture, kept too, and nfpassed the nfpassed capture, kept too;
#   drop_reason_help reads the fresh reasons capture, changes the fresh changes capture, diag
#   the fresh diag capture, skbexpr the kept capture pwrudump recorded (data/README.md),
#   bpfprog the kept captures of tc and XDP programs, which the VM recorded. The flights cases
#   read the captures of several hosts recorded by tests/e2e/flights_test.sh and kept in data/
#   (data/README.md), fresh or kept alike.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
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

# recorded NAME: puts data/NAME.pcapng, a capture recorded on a real kernel, in $WORK.
recorded() {
  cp "$here/data/$1.pcapng" "$WORK/" || fail "cannot copy the recorded capture data/$1.pcapng"
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
# the fields separated by '|', booleans as 1 or 0 in every Wireshark (tshark_booleans).
fields() {
  local scenario=$1 filter=$2
  shift 2
  local args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=(-e "$1")
    shift
  done
  [ $# -gt 0 ] && shift
  local out
  out=$(tshark_on "$scenario" -Y "$filter" -T fields -E separator='|' "${args[@]}" "$@") || return 1
  [ -z "$out" ] || tshark_booleans <<<"$out"
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
SYN4_SKB=0xffff888004a1c000
NETNS_B=4026532100
# Frames 1-9 are in every sample, the kept one (record version 1, first release) included.
V1='frame.number <= 9'
# What pwru_reasons.h says of NETFILTER_DROP: pwru.drop_reason.help, and the drop's note.
NF_HELP='a netfilter rule or chain policy dropped it; check: nft list ruleset / iptables -S in the netns where it was dropped (--nf-trace names the rule)'
NF_HELP_NOTE="NETFILTER_DROP: $NF_HELP"

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
           pwru.packet pwru.unknown pwru.journey pwru.journey.hop pwru.journey.prev \
           pwru.journey.next pwru.journey.delta pwru.journey.end pwru.journey.dropped \
           pwru.nf.family pwru.nf.hook pwru.nf.table pwru.nf.chain pwru.nf.handle pwru.nf.rule \
           pwru.nf.verdict pwru.nf.tie pwru.nf.rule_state pwru.nf.jump_target \
           pwru.nf.trace_type pwru.nf.trace_id pwru.flight pwru.flight.host pwru.flight.hop \
           pwru.flight.hosts pwru.flight.prev pwru.flight.next pwru.flight.dropped \
           pwru.flight.drop_frame pwru.flight.clock_offset; do
    grep -qxF "$f" "$WORK/pwru-fields" || missing+=("$f")
  done
  [ ${#missing[@]} -eq 0 ] || fail "fields not registered: ${missing[*]}"
  out=$("$TSHARK_PLUGIN" "$BUILD" -G protocols) || fail "tshark -G protocols failed"
  # Name, short name, filter name; 4.4 and later add columns (enabled, ...).
  grep -qx $'pwru\tPWRU\tpwru' <<<"$(cut -f 1-3 <<<"$out")" || fail "protocol pwru/PWRU/pwru not registered"
  out=$("$TSHARK_PLUGIN" "$BUILD" -G defaultprefs) || fail "tshark -G defaultprefs failed"
  grep -qx '#pwru.payload_is_embedded: TRUE' <<<"$out" ||
    fail "preference pwru.payload_is_embedded (default TRUE) not registered"
  grep -qx '#pwru.read_lost_events: TRUE' <<<"$out" ||
    fail "preference pwru.read_lost_events (default TRUE) not registered"
  grep -qx '#pwru.flight_window: 2000' <<<"$out" ||
    fail "preference pwru.flight_window (default 2000) not registered"
  # Journey links are frame numbers, drawn as related packets (previous/next chevrons).
  out=$(awk -F'\t' '$1 == "F" && $3 ~ /^pwru\.journey\.(prev|next|delta)$/ { print $3 ":" $4 }' \
          "$WORK/fields")
  assert_lines "journey link and time types" "pwru.journey.prev:FT_FRAMENUM
pwru.journey.next:FT_FRAMENUM
pwru.journey.delta:FT_RELATIVE_TIME" "$out"
  # tshark lists them on stderr.
  out=$("$TSHARK_PLUGIN" "$BUILD" -z help 2>&1) || fail "tshark -z help failed"
  for f in pwru_funcs,tree pwru_drops,tree pwru_journeys,tree pwru_drop_journeys,tree \
           pwru_flights,tree; do
    grep -qx "     $f" <<<"$out" || fail "stats tree $f is not offered by tshark -z"
  done
  pass "protocol, every field, the three preferences and the five stats trees are registered"
}

# The ping's skb, followed through the veth pair from netns A to netns B.
case_journey() {
  capture sample
  local out
  out=$(fields sample "pwru.skb == $PING_SKB && $V1" frame.number pwru.func pwru.probe pwru.netns \
          pwru.ifindex pwru.ifname pwru.proto pwru.len pwru.ip.src pwru.ip.dst pwru.l4proto \
          pwru.comm pwru.pid pwru.cpu) || exit 1
  assert_lines "ping journey" \
"1|net_dev_queue|1|4026532000|4|veth0|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
2|net_dev_start_xmit|1|4026532000|4|veth0|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
3|netif_rx|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
4|netif_receive_skb|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1
5|kfree_skb|1|4026532100|5|veth1|0x0800|98|10.0.0.1|10.0.0.2|1|ping|4242|1" "$out"
  out=$(fields sample "pwru.skb == $PING_SKB && $V1" pwru.ktime eth.type ip.dst icmp.type icmp.seq) ||
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
  out=$(fields sample "pwru.drop_reason && $V1" frame.number pwru.drop_reason_code pwru.caller \
          pwru.caller_addr) || exit 1
  assert_eq "drop reason code, caller" "5|12|nf_hook_slow+0x9b|0xffffffff81c4a2eb" "$out"
  # Expert info: error severity (0x00800000), sequence group (0x02000000); then the reason's
  # explanation, a note (0x00400000) in the same group.
  out=$(fields sample '_ws.expert.message == "Packet dropped: NETFILTER_DROP at nf_hook_slow+0x9b"' \
          frame.number _ws.expert.severity _ws.expert.group) || exit 1
  assert_eq "drop expert info (frame, severity, group)" \
    "5|8388608,4194304|33554432,33554432" "$out"
  # The explanation is derived from the name when read, so the kept capture, written before the
  # table existed, has it too.
  out=$(fields sample "pwru.drop_reason.help && $V1" frame.number pwru.drop_reason.help) || exit 1
  assert_eq "pwru.drop_reason.help" "5|$NF_HELP" "$out"
  out=$(fields sample "_ws.expert.message == \"$NF_HELP_NOTE\"" frame.number) || exit 1
  assert_eq "the drop's explanation as an expert note" "5" "$out"
  out=$(fields sample "pwru.drop.help && $V1" frame.number) || exit 1
  assert_eq "frames with pwru.drop.help" "5" "$out"
  out=$(fields sample "_ws.expert.severity == error && $V1" frame.number) || exit 1
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
  pass "NETFILTER_DROP at kfree_skb found with skb, dst, netns, veth, ICMP payload, expert error," \
       "its explanation, stack"
}

# Columns: Protocol is PWRU and Info is pwru's line, whatever the payload dissectors write.
case_columns() {
  capture sample
  local out
  out=$(fields sample "$V1" _ws.col.Protocol _ws.col.Info _ws.col.Source _ws.col.Destination) ||
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
  out=$(fields sample "pwru.tcp_flags.syn == 1 && pwru.tcp_flags.ack == 0 && $V1" frame.number \
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
  # The expert messages of a frame also list its drop and the drop's explanation (frames 2 and 7
  # decoded that far): before the malformed one in Wireshark 4.0, after it in 4.4 and later.
  out=$(printf '%s\n' "$out" | sed -e 's/Packet dropped: NETFILTER_DROP at nf_hook_slow+0x9b,//' \
                                   -e 's/,Packet dropped: NETFILTER_DROP at nf_hook_slow+0x9b$//')
  out=${out//"$NF_HELP_NOTE,"/}
  out=${out//",$NF_HELP_NOTE"/}
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
  out=$(fields sample "tcp && $V1" frame.number tcp.analysis.retransmission) || exit 1
  assert_lines "default: TCP frames and retransmission flags" "6|
7|
8|" "$out"
  out=$(fields sample "tcp.analysis.retransmission && $V1" frame.number \
          -- -o pwru.payload_is_embedded:TRUE) || exit 1
  assert_eq "retransmissions with pwru.payload_is_embedded:TRUE" "" "$out"
  out=$(fields sample "tcp.analysis.retransmission && $V1" frame.number \
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


# Journeys with the whole capture read (tshark -2, as in the GUI): the ping dropped after 5 hops,
# the IPv6 SYN never freed, the IPv4 SYN reset and dropped, and its RST in the ping's old skb
# address (a new journey), consumed then seen again at kfree_skbmem (the same free).
case_journeys() {
  capture sample
  local out
  out=$(fields sample '' frame.number pwru.journey pwru.journey.hop pwru.journey.prev \
          pwru.journey.next pwru.journey.delta pwru.journey.end pwru.journey.dropped -- -2) ||
    exit 1
  assert_lines "journey, hop, prev, next, delta, end, dropped (two passes)" \
"1|0|1||2|0.000000000||1
2|0|2|1|3|0.000001000||1
3|0|3|2|4|0.000002000||1
4|0|4|3|5|0.000003000||1
5|0|5|4||0.000004000|1|1
6|1|1||7|0.000000000||
7|1|2|6|8|0.000001000||
8|1|3|7|9|0.000002000||
9|1|4|8||0.000003000||
10|2|1||11|0.000000000||1
11|2|2|10|12|0.000001000||1
12|2|3|11|13|0.000002000||1
13|2|4|12||0.000003000|1|1
14|3|1||15|0.000000000||
15|3|2|14|16|0.000001000||
16|3|3|15|17|0.000002000|1|
17|3|4|16||0.000003000||" "$out"
  # Links both ways: every next is a frame whose prev points back, hops count up from 1, and the
  # time since the first event never goes down.
  out=$(printf '%s\n' "$out" | awk -F'|' '
    { prev[$1] = $4; next_[$1] = $5; j[$1] = $2; hop[$1] = $3; delta[$1] = $6 }
    END {
      for (f in next_) {
        n = next_[f]
        if (n != "" && (prev[n] != f || j[n] != j[f] || hop[n] != hop[f] + 1 || delta[n] < delta[f]))
          print "frame " f " -> " n " is not linked back"
        if (prev[f] == "" && hop[f] != 1) print "frame " f " has no prev but hop " hop[f]
      }
    }')
  assert_eq "prev/next/hop/delta consistency" "" "$out"
  out=$(fields sample 'pwru.journey.dropped' frame.number -- -2 -E occurrence=f) || exit 1
  assert_eq "pwru.journey.dropped: whole failed paths" "1 2 3 4 5 10 11 12 13" "$(one_line "$out")"
  out=$(fields sample 'pwru.journey.end' frame.number pwru.func -- -2) || exit 1
  assert_lines "pwru.journey.end" "5|kfree_skb
13|kfree_skb
16|consume_skb" "$out"
  out=$(fields sample "pwru.skb == $PING_SKB" pwru.journey -- -2) || exit 1
  assert_eq "journeys of the reused address $PING_SKB" "0 0 0 0 0 3 3 3 3" "$(one_line "$out")"
  out=$(fields sample 'pwru.journey == 3' frame.number -- -2) || exit 1
  assert_eq "frames of journey 3" "14 15 16 17" "$(one_line "$out")"
  assert_tree sample 5 'Journey: 0, hop 5 (frees the skb), ends in a drop' "the journey summary"
  pass "4 journeys: hops, prev/next links, delta, end and dropped on whole paths, address reuse"
}

# In one pass a frame cannot know what comes after it: no next link, and dropped only from the
# event that drops on.
case_journeys_one_pass() {
  capture sample
  local out
  out=$(fields sample 'pwru.journey.next' frame.number) || exit 1
  assert_eq "frames with pwru.journey.next in one pass" "" "$out"
  out=$(fields sample 'pwru.journey.dropped' frame.number) || exit 1
  assert_eq "frames with pwru.journey.dropped in one pass" "5 13" "$(one_line "$out")"
  out=$(fields sample '' pwru.journey pwru.journey.hop pwru.journey.prev) || exit 1
  assert_eq "journey/hop/prev in one pass" \
    "0|1| 0|2|1 0|3|2 0|4|3 0|5|4 1|1| 1|2|6 1|3|7 1|4|8 2|1| 2|2|10 2|3|11 2|4|12 3|1| 3|2|14 3|3|15 3|4|16" \
    "$(one_line "$out")"
  pass "one pass: journey, hop and prev as in two passes; no next; dropped from the drop on"
}

# tcp_send_reset: a warning naming the function, in the sequence group.
case_reset() {
  capture sample
  local out
  out=$(fields sample 'pwru.reset' frame.number _ws.expert.message _ws.expert.severity \
          _ws.expert.group) || exit 1
  # Warning severity 0x00600000, sequence group 0x02000000; the second expert info is TCP's.
  assert_eq "reset expert info (frame, messages, severities, groups)" \
    "12|TCP reset sent in reply to this packet (tcp_send_reset),Connection establish request (SYN): server port 8080|6291456,2097152|33554432,33554432" \
    "$out"
  pass "tcp_send_reset at frame 12 is a warning: TCP reset sent in reply to this packet"
}

# isb_ifdrop (3 in the sample): known once the whole file was read, shown on the first frame and
# in the stats trees; nothing while unknown, nothing for 0, nothing with the preference off.
case_lost_events() {
  capture sample
  capture malformed
  local out msg='3 events were lost in the kernel (ring buffer full): journeys may miss hops, drops may be missing'
  out=$(fields sample 'pwru.lost_events' frame.number _ws.expert.message _ws.expert.severity \
          _ws.expert.group -- -2) || exit 1
  assert_eq "lost events expert info (two passes)" "1|$msg|6291456|33554432" "$out"
  out=$(fields sample 'pwru.lost_events' frame.number) || exit 1
  assert_eq "lost events in one pass (the ISB is read after the last frame)" "" "$out"
  out=$(fields sample 'pwru.lost_events' frame.number -- -2 -o pwru.read_lost_events:FALSE) ||
    exit 1
  assert_eq "lost events with pwru.read_lost_events:FALSE" "" "$out"
  out=$(fields malformed 'pwru.lost_events' frame.number -- -2) || exit 1
  assert_eq "lost events of a capture that lost none" "" "$out"
  out=$(tshark_on sample -2 -q -z pwru_funcs,tree) || exit 1
  grep -q '^Lost events (isb_ifdrop) *3 ' <<<"$out" || fail "no lost events line: $out"
  out=$(tshark_on sample -q -z pwru_funcs,tree) || exit 1
  grep -q '^Lost events' <<<"$out" && fail "a lost events line in one pass: $out"
  pass "isb_ifdrop 3: a warning on frame 1 and a stats line in two passes, nothing otherwise"
}

# pwru.drop_reason.help and its note for reasons the table does not know: a newer kernel's name,
# a subsystem's value and a core value BTF did not name; SKB_CONSUMED is explained but no drop.
case_drop_reason_help() {
  capture reasons
  local out
  out=$(fields reasons '' frame.number pwru.drop_reason.help) || exit 1
  assert_lines "pwru.drop_reason.help" \
"1|no explanation is known yet
2|a subsystem's own reason (mac80211, openvswitch or a qdisc): the high 16 bits are the subsystem, the low 16 its reason; check: enum skb_drop_reason_subsys in this kernel's BTF, then that subsystem's reasons
3|no explanation is known yet
4|not a drop: the packet was delivered or used up normally" "$out"
  out=$(fields reasons 'pwru.drop.help' frame.number _ws.expert.message) || exit 1
  out=$(printf '%s\n' "$out" | sed -E 's/Packet dropped: [^,]* at nf_hook_slow\+0x9b,?//; s/,$//')
  assert_lines "the drops' notes" \
"1|SOME_FUTURE_REASON: no explanation is known yet
2|reason 196610: a subsystem's own reason (mac80211, openvswitch or a qdisc): the high 16 bits are the subsystem, the low 16 its reason; check: enum skb_drop_reason_subsys in this kernel's BTF, then that subsystem's reasons
3|reason 200: no explanation is known yet" "$out"
  pass "unknown reasons say no explanation is known yet, a subsystem's gets the generic words," \
       "SKB_CONSUMED is explained without a note"
}

# --diagnose's findings: pwru.diag with kind and text, each kind under its own expert info (a
# kind from the future under pwru.diag.other), nothing on a drop without one.
case_diag() {
  capture diag
  local out
  out=$(fields diag 'pwru.diag' frame.number pwru.diag.kind pwru.diag.text) || exit 1
  assert_lines "pwru.diag.kind and pwru.diag.text" \
"1|1|nothing listens on 10.0.0.2:8080/tcp in netns demo-b
2|2|no route to 10.0.0.2 in netns demo-b: \`ip route get 10.0.0.2\` fails: Network is unreachable
3|3|rp_filter is 1 (strict) for veth1 in netns demo-b (net.ipv4.conf.veth1.rp_filter=1, net.ipv4.conf.all.rp_filter=0: the higher counts)
4|4|10.0.0.2 is not an address of netns demo-b, so the packet needed forwarding, but forwarding is off for veth1
5|5|the packet is 1428 bytes, and the MTU towards 10.0.0.2 is 1280 (dev veth1's) in netns demo-b
6|6|10.0.0.2 on veth1 is FAILED in netns demo-b: nothing answered ARP
7|7|the rule drops what conntrack finds invalid; netns demo-b has net.netfilter.nf_conntrack_tcp_loose=0
8|200|a finding of a kind from the future" "$out"
  local ei frame=0 msg
  for ei in no_listener no_route rp_filter forwarding_off too_big neigh_failed ct_invalid other; do
    frame=$((frame + 1))
    out=$(fields diag "pwru.diag.$ei" frame.number) || exit 1
    assert_eq "frames with the expert info pwru.diag.$ei" "$frame" "$out"
  done
  out=$(fields diag 'frame.number == 4' _ws.expert.message) || exit 1
  msg="Forwarding is off: 10.0.0.2 is not an address of netns demo-b, so the packet needed forwarding, but forwarding is off for veth1"
  grep -qF "$msg" <<<"$out" || fail "no expert info '$msg' in frame 4: $out"
  out=$(fields diag 'frame.number == 8' _ws.expert.message) || exit 1
  grep -qF "Diagnosis: a finding of a kind from the future" <<<"$out" ||
    fail "the unknown kind's expert info: $out"
  assert_tree diag 1 'Diagnosis kind: no_listener (1)' "the kind's name"
  assert_tree diag 1 'Diagnosis: nothing listens on 10.0.0.2:8080/tcp in netns demo-b' \
    "the finding on the subtree's line"
  out=$(fields diag 'pwru.drop && !pwru.diag' frame.number) || exit 1
  assert_eq "drops without a diagnosis" 9 "$out"
  pass "7 kinds of diagnosis and an unknown one: kind, text and an expert info each"
}

# --filter-track-skb-by-stackid: every event's stack, why the others were kept; the non-skb
# function's event is in the ping's journey (its skb), the other skb's in a journey of its own.
case_stackid() {
  capture stackid
  local out
  out=$(fields stackid '' frame.number pwru.stackid pwru.stackid.kept pwru.journey \
          pwru.journey.hop) || exit 1
  assert_lines "pwru.stackid, pwru.stackid.kept and the journeys" \
"1|0xffffc90000a4c000||0|1
2|0xffffc90000a4c000|2|0|2
3|0xffffc90000a4c000|1|1|1
4|0xffffc90000a4c000||0|3" "$out"
  out=$(tshark_on stackid -V -Y 'pwru.stackid.kept' | grep -o 'Kept by: .*') || exit 1
  assert_lines "pwru.stackid.kept by name" "Kept by: non-skb (2)
Kept by: stackid (1)" "$out"
  pass "pwru.stackid on every event, kept non-skb and by stack id; fib_table_lookup in the" \
       "ping's journey"
}

# Before 5.17 the kfree_skb tracepoint had no reason: still a drop, and its journey a dropped one.
case_old_kernel() {
  capture old-kernel
  local out
  out=$(fields old-kernel '' frame.number pwru.journey.end pwru.journey.dropped \
          _ws.expert.message -- -2) || exit 1
  assert_lines "journey and expert info without a drop reason" "1||1|
2|1|1|Packet dropped: no reason recorded at udp_queue_rcv_one_skb+0x21c" "$out"
  out=$(tshark_on old-kernel -q -z pwru_drops,tree) || exit 1
  grep -q '^  no reason recorded  *1 ' <<<"$out" || fail "no 'no reason recorded' drop: $out"
  pass "kfree_skb without a reason: a drop, its journey dropped, counted as 'no reason recorded'"
}

# stats_tree NAME [tshark args...] [-- SCENARIO]: "name|count" per line, indentation kept, of
# `-z NAME,tree` on the capture of SCENARIO (sample by default).
stats_tree() {
  local name=$1 scenario=sample args=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=("$1")
    shift
  done
  [ $# -eq 2 ] && scenario=$2
  tshark_on "$scenario" -q -z "$name,tree" "${args[@]}" |
    awk '/^-+$/ { body = !body; next } body && NF { print }' |
    perl -ne 'print "$1$2|$3\n" if /^( *)(\S.*?) {2,}(\d+)/'
}

case_stats() {
  capture sample
  local out
  out=$(stats_tree pwru_funcs -2) || exit 1
  assert_lines "pwru_funcs" "Events|17
 netif_receive_skb|3
 net_dev_queue|3
 kfree_skb|2
 tcp_send_reset|1
 netif_rx|1
 net_dev_start_xmit|1
 kfree_skbmem|1
 ip6_rcv_core|1
 ip6_output|1
 ip6_finish_output2|1
 ip6_finish_output|1
 consume_skb|1
Lost events (isb_ifdrop)|3" "$out"
  out=$(stats_tree pwru_drops -2) || exit 1
  assert_lines "pwru_drops" "Drops|2
 By reason|2
  NO_SOCKET|1
  NETFILTER_DROP|1
 By interface|2
  veth1|2
 By function|2
  kfree_skb|2
 By caller|2
  tcp_v4_rcv|1
  nf_hook_slow|1" "$out"
  out=$(stats_tree pwru_journeys -2) || exit 1
  assert_lines "pwru_journeys (two passes)" "Journeys|4
 Ended by a drop|2
 Not ended in the capture (known in two passes)|1
 Ended by a free (not a drop)|1
Hops per journey|4
 1-1|0
 2-2|0
 3-4|3
 5-8|1
 9-16|0
 17-32|0
 33-|0
Time to drop (microseconds)|2
 0-9|2
 10-99|0
 100-999|0
 1000-9999|0
 10000-99999|0
 100000-|0
Lost events (isb_ifdrop)|3" "$out"
  # Average, min and max of the time to drop: 4 us for the ping, 3 us for the SYN.
  out=$(tshark_on sample -2 -q -z pwru_journeys,tree |
          perl -ne 'print "$1 $2 $3 $4" if /^Time to drop \S+ +(\d+) +(\S+) +(\d+) +(\d+)/') ||
    exit 1
  assert_eq "time to drop: count, average, min, max" "2 3.50 3 4" "$out"
  out=$(stats_tree pwru_journeys) || exit 1
  assert_eq "pwru_journeys in one pass: journeys, how they ended, lengths" \
    "Journeys|4 Ended by a drop|2 Ended by a free (not a drop)|1 Hops per journey|3" \
    "$(printf '%s\n' "$out" | grep -E '^(Journeys| Ended|Hops)' | sed 's/^ //' | paste -sd' ')"
  pass "pwru_funcs, pwru_drops and pwru_journeys count the sample's events, drops and journeys"
}

# The "pwru skb" conversation filter and View > Colorize Conversation select the event's journey;
# records without a journey (malformed) fall back to Wireshark's own conversations.
case_conversation_filter() {
  capture sample
  capture malformed
  local tool out
  tool="$(dirname "$MKCAPTURE")/pwru-convfilter"
  [ -x "$tool" ] || fail "cannot find $tool: build the pwru-convfilter target"
  mkdir -p "$WORK/home"
  out=$(HOME="$WORK/home" "$tool" "$WORK/sample.pcapng") || fail "pwru-convfilter failed"
  assert_lines "pwru skb filter and Colorize Conversation filter per frame" \
"$(for f in $(seq 1 17); do
     j=$(( f <= 5 ? 0 : f <= 9 ? 1 : f <= 13 ? 2 : 3 ))
     printf '%s\tpwru.journey == %s\tpwru.journey == %s\n' "$f" "$j" "$j"
   done)" "$out"
  out=$(HOME="$WORK/home" "$tool" "$WORK/malformed.pcapng") || fail "pwru-convfilter failed"
  assert_lines "conversation filters of malformed records" \
"1	pwru.journey == 0	pwru.journey == 0
2	-	-
3	-	-
4	-	-
5	-	-
6	-	-
7	-	ip.addr eq 10.0.0.1 and ip.addr eq 10.0.0.2
8	-	-
9	pwru.journey == 1	pwru.journey == 1" "$out"
  pass "\"pwru skb\" builds pwru.journey == N and Colorize Conversation takes it before TCP/IP"
}

# The "pwru" profile installed by cmake lands in Wireshark's global profiles folder, and
# `tshark -C pwru` copies it from there and uses its columns and colouring rules. Its Rule column
# shows the netfilter rule of drops --nf-trace named.
case_profile() {
  require_cmd cmake
  capture sample
  capture nftrace
  local global share out titles colors
  global=$(tshark -G folders 2>/dev/null | sed -n 's/^Global configuration:[[:space:]]*//p')
  [ -n "$global" ] || fail "tshark -G folders names no global configuration folder"
  DESTDIR="$WORK/stage" cmake --install "$BUILD" --component profile >"$WORK/install.log" 2>&1 ||
    fail "cmake --install --component profile failed: $(cat "$WORK/install.log")"
  for f in preferences colorfilters recent; do
    [ -f "$WORK/stage$global/profiles/pwru/$f" ] ||
      fail "the profile's $f is not installed in $global/profiles/pwru: $(cat "$WORK/install.log")"
  done
  # A global data folder like the real one, with the installed profile (WIRESHARK_DATA_DIR).
  share="$WORK/share"
  mkdir -p "$share/profiles"
  for f in "$global"/*; do
    [ "$(basename "$f")" = profiles ] || ln -s "$f" "$share/"
  done
  cp -r "$WORK/stage$global/profiles/pwru" "$share/profiles/"
  chmod a+rx "$WORK"
  chmod -R a+rX "$share"
  export WIRESHARK_DATA_DIR="$share"

  out=$(tshark_on sample -C pwru -T psml -2 --color) || exit 1
  titles=$(printf '%s\n' "$out" | sed -n '/<structure>/,/<\/structure>/s/<section>\(.*\)<\/section>/\1/p')
  assert_eq "profile columns, in order" \
    "No. Time skb Journey Hop CPU Process PID Netns Mark Interface Proto Len Info Function Reason Rule Caller" \
    "$(one_line "$titles")"
  out=$(tshark_on sample -C pwru -T tabs -2 -Y 'frame.number in {5, 12, 17}') || exit 1
  assert_lines "profile columns of frames 5, 12, 17" \
"$(printf '    5\t0.000004000\t%s\t0\t5\t1\tping\t4242\t4026532100\t0x00000000\tveth1\tIPv4\t98\tkfree_skb skb=%s veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP\tkfree_skb\tNETFILTER_DROP\t\tnf_hook_slow+0x9b' "$PING_SKB" "$PING_SKB")
$(printf '   12\t0.000011000\t%s\t2\t3\t1\tnc\t5151\t4026532100\t0x00000000\tveth1\tIPv4\t54\ttcp_send_reset skb=%s veth1:5 10.0.0.1:41000->10.0.0.2:8080(tcp)\ttcp_send_reset\t\t\t' "$SYN4_SKB" "$SYN4_SKB")
$(printf '   17\t0.000016000\t%s\t3\t4\t1\tnc\t5151\t4026532000\t0x00000000\tveth0\tIPv4\t54\tkfree_skbmem skb=%s veth0:4 10.0.0.2:8080->10.0.0.1:41000(tcp)\tkfree_skbmem\t\t\t' "$PING_SKB" "$PING_SKB")" \
    "$out"
  # Background per frame: drop red, reset yellow, the rest of a dropped journey pink, free grey,
  # transmit (queue, xmit, output) blue, receive (rx, receive, rcv) green.
  out=$(tshark_on sample -C pwru -T psml -2 --color) || exit 1
  colors=$(printf '%s\n' "$out" | sed -n "s/<packet foreground='[^']*' background='\([^']*\)'>/\1/p")
  assert_eq "row colours of frames 1-17" \
    "#ffdfdf #ffdfdf #ffdfdf #ffdfdf #ff9e9e #d8e9ff #d8e9ff #d8e9ff #dffada #ffdfdf #ffdfdf #fffc9c #ff9e9e #d8e9ff #dffada #dcdcdc #dcdcdc" \
    "$(one_line "$colors")"
  # Function, Reason, Rule and Caller of the nftrace capture's drops: two rules, none, a policy.
  out=$(tshark_on nftrace -C pwru -T tabs -Y 'frame.number in {2, 10, 12, 14}' | cut -f 1,15-) ||
    exit 1
  assert_lines "profile's Rule column of named drops" \
"$(printf '    2\tkfree_skb\tNETFILTER_DROP\tmeta l4proto icmp counter drop\tnft_do_chain+0x46f')
$(printf '   10\tkfree_skb\tNETFILTER_DROP\ttcp dport 4444 drop\tnft_do_chain+0x46f')
$(printf '   12\tkfree_skb\tNETFILTER_DROP\t\tnft_do_chain+0x46f')
$(printf '   14\tkfree_skb\tNETFILTER_DROP\t\tnft_do_chain+0x46f')" "$out"
  # NAT orange, a tunnel header pushed or popped purple (the changes capture).
  capture changes
  out=$(tshark_on changes -C pwru -T psml --color) || exit 1
  colors=$(printf '%s\n' "$out" | sed -n "s/<packet foreground='[^']*' background='\([^']*\)'>/\1/p")
  assert_eq "row colours of the changes capture" \
    "#d8e9ff #dffada #ffd7b0 #dffada #d8e9ff #e6d0ff #dffada #e6d0ff" "$(one_line "$colors")"
  pass "profile installed in $global/profiles/pwru; tshark -C pwru shows its 18 columns, the" \
       "netfilter rule in Rule, and its colours"
}

# Drops named by --nf-trace: every pwru.nf.* field, the Info column and the expert info name the
# rule; the drop without a rule has none of them.
case_nftrace() {
  capture nftrace
  local out rule4='"meta l4proto icmp counter drop" (table filter, chain INPUT, handle 4)'
  local rule7='"tcp dport 4444 drop" (table t, chain c2, handle 7)'
  out=$(fields nftrace 'pwru.drop' frame.number pwru.nf.family pwru.nf.hook pwru.nf.table \
          pwru.nf.chain pwru.nf.handle pwru.nf.rule pwru.nf.verdict pwru.nf.tie) || exit 1
  assert_lines "nf fields of every drop (family, hook, table, chain, handle, rule, verdict, tie)" \
"2|2|input|filter|INPUT|4|meta l4proto icmp counter drop|0|2
4|2|input|filter|INPUT|4|meta l4proto icmp counter drop|0|2
6|2|input|filter|INPUT|4|meta l4proto icmp counter drop|0|2
8|1|input|t|c2|7|tcp dport 4444 drop|0|2
10|1|input|t|c2|7|tcp dport 4444 drop|0|3
12||||||||
14|1|input|t|input|||0|2" "$out"
  out=$(fields nftrace 'pwru.nf.table' frame.number) || exit 1
  assert_eq "frames with pwru.nf.table" "2 4 6 8 10 14" "$(one_line "$out")"
  # NF_TRACE_ID is newer than the kept capture.
  if [ "$SOURCE" = fresh ]; then
    out=$(fields nftrace 'pwru.nf.trace_id' frame.number pwru.nf.trace_id) || exit 1
    assert_eq "the trace id, where the record has one" "14|0x0df8692e" "$out"
  fi
  out=$(fields nftrace 'pwru.drop' frame.number _ws.col.Info) || exit 1
  assert_lines "Info of the drops" \
"2|kfree_skb skb=0xffff888004a1b200 veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP by $rule4
4|kfree_skb skb=0xffff888004a1b300 veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP by $rule4
6|kfree_skb skb=0xffff888004a1b400 veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP by $rule4
8|kfree_skb skb=0xffff888004a1b500 veth1:5 10.0.0.1:41000->10.0.0.2:4444(tcp) NETFILTER_DROP by $rule7
10|kfree_skb skb=0xffff888004a1b600 veth1:5 10.0.0.1:41000->10.0.0.2:4444(tcp) NETFILTER_DROP by $rule7
12|kfree_skb skb=0xffff888004a1b700 veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP
14|kfree_skb skb=0xffff888004a1b800 veth1:5 10.0.0.1:41001->10.0.0.2:5555(tcp) NETFILTER_DROP by (table t, chain input)" "$out"
  out=$(fields nftrace '_ws.expert.severity == error' frame.number _ws.expert.message) || exit 1
  # The SYNs' second message is TCP's (4.0 lists every expert message of the frame), the
  # drop's explanation another (case_drop checks it).
  out=${out//",$NF_HELP_NOTE"/}
  out=$(printf '%s\n' "$out" | sed 's/,Connection establish request (SYN): server port [0-9]*$//')
  assert_lines "expert errors of the drops" \
"2|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by $rule4
4|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by $rule4
6|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by $rule4
8|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by $rule7
10|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by $rule7
12|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f
14|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by (table t, chain input)" "$out"
  assert_tree nftrace 10 'Netfilter trace tie: order (3)' "the tie's name"
  pass "5 drops named by 2 rules and 1 by a chain's policy: pwru.nf.* fields, Info and expert" \
       "info name them; 1 drop without"
}

# Rules passed (--nf-trace): records of probe kind nftrace in their skb's journey, never a drop,
# their Info naming the rule as nft does; a rule deleted or changed since says so, in the Info
# column and, for a drop, in its expert info.
case_nfpassed() {
  capture nfpassed
  local out
  out=$(fields nfpassed 'pwru' frame.number pwru.journey pwru.journey.end pwru.probe \
          pwru.nf.trace_type pwru.nf.verdict pwru.nf.jump_target pwru.nf.rule_state) || exit 1
  assert_lines "journey, end, probe, trace type, verdict, jump target, rule state of frames 1-9" \
"1|0||1||||
2|0||5|3|-1||
3|0||5|3|-3|c3|
4|0||5|2|-1||
5|0||5|1|1||
6|0|1|1||||
7|1||1||||
8|1||5|3|-3|c2|2
9|1|1|1|3|0||1" "$out"
  out=$(fields nfpassed 'pwru.probe == 5' frame.number _ws.col.Info |
          sed 's/|[^|]*(\(icmp\|tcp\)) /|/') || exit 1
  assert_lines "Info of the rules passed, from the rule on" \
'2|nft inet t input handle 4 continue "counter"
3|nft inet t input handle 6 jump c3 "ip protocol icmp jump c3"
4|nft inet t c3 return continue
5|nft inet t input policy accept
8|nft inet t input handle 5 jump c2 "ip protocol tcp jump c2" (rule changed since)' "$out"
  out=$(fields nfpassed 'pwru.drop' frame.number) || exit 1
  assert_eq "frames that are drops" "9" "$out"
  out=$(fields nfpassed '_ws.expert.severity == error' frame.number _ws.expert.message) || exit 1
  # The drop's explanation is a note of its own (case_drop checks it).
  out=${out//",$NF_HELP_NOTE"/}
  out=$(printf '%s\n' "$out" | sed 's/,Connection establish request (SYN): server port [0-9]*$//')
  assert_eq "expert error of the drop by a deleted rule" \
    '9|Packet dropped: NETFILTER_DROP at nft_do_chain+0x46f by "tcp dport 4444 drop" (table t, chain c2, handle 7, rule deleted since)' \
    "$out"
  assert_tree nfpassed 8 'Netfilter rule state: changed (2)' "the rule state's name"
  assert_tree nfpassed 5 'Netfilter trace type: policy (1)' "the trace type's name"
  assert_tree nfpassed 3 'Netfilter jump target: c3' "the jump target"
  pass "5 rules passed in their skbs' journeys, named in Info; a changed rule and a drop by a" \
       "deleted rule say so"
}

# A function backend's netfilter probes: a return that is not the drop says what its chain did
# (iptables' in iptables' words), the drop names its table and chain, all tied in the kernel.
case_nfprobes() {
  capture nfprobes
  local out
  out=$(fields nfprobes 'pwru' frame.number pwru.nf.tie _ws.col.Info |
          sed 's/|[a-z_]* skb=[^ ]* [^ ]* [^ ]*(icmp) /|/') || exit 1
  assert_lines "tie and Info of the netfilter probes' events" \
'1|4|nft inet pwruvm input accept
2|4|iptables filter INPUT drop
3|4|NETFILTER_DROP by (table filter, chain INPUT)' "$out"
  out=$(fields nfprobes 'pwru.drop' frame.number) || exit 1
  assert_eq "frames that are drops" "3" "$out"
  pass "netfilter probes' returns say what the chain did; the drop names table and chain"
}

# -z pwru_drops,tree counts the named drops by rule, the others as before.
case_nftrace_stats() {
  capture nftrace
  local out
  out=$(stats_tree pwru_drops -- nftrace) || exit 1
  assert_lines "pwru_drops of the nftrace capture" "Drops|7
 By reason|7
  NETFILTER_DROP|7
 By interface|7
  veth1|7
 By function|7
  kfree_skb|7
 By caller|7
  nft_do_chain|7
 By netfilter rule (--nf-trace)|6
  ip filter INPUT handle 4 \"meta l4proto icmp counter drop\"|3
  inet t c2 handle 7 \"tcp dport 4444 drop\"|2
  inet t input policy|1" "$out"
  out=$(stats_tree pwru_drops -2 -- nftrace) || exit 1
  grep -qxF '  inet t c2 handle 7 "tcp dport 4444 drop"|2' <<<"$out" ||
    fail "two passes do not count the rule's drops once: $out"
  pass "pwru_drops: 6 drops by 2 rules and a policy under 'By netfilter rule', the unnamed one" \
       "only by reason"
}

# pwru_drop_journeys: a line per journey that ended in a drop, pwrudump --output-summary's words
# (pwru_summary_line.h): the ping across veth0 (netns A) and veth1 (netns B) dropped by netfilter,
# the IPv4 SYN to a closed port; the same in one pass and in two.
case_drop_journeys() {
  capture sample
  local out expected
  expected="Journeys that ended in a drop|2
 journey 0: 10.0.0.1:0->10.0.0.2:0(icmp) via veth0 (netns 4026532000) > veth1 (netns $NETNS_B), dropped at kfree_skb from nf_hook_slow+0x9b: NETFILTER_DROP; hint: $NF_HELP|1
 journey 2: 10.0.0.1:41000->10.0.0.2:8080(tcp) via veth0 (netns 4026532000) > veth1 (netns $NETNS_B), dropped at kfree_skb from tcp_v4_rcv+0x1a5: NO_SOCKET; hint: no socket wanted the packet: nothing listens on its destination port (for an ICMP reply, at ping_rcv: no ping socket waits for it, usually harmless); check: ss -ltnu in the receiver's netns: is the service up and bound to this address and port?|1"
  out=$(stats_tree pwru_drop_journeys) || exit 1
  assert_lines "pwru_drop_journeys" "$expected" "$out"
  out=$(stats_tree pwru_drop_journeys -2) || exit 1
  assert_lines "pwru_drop_journeys (two passes)" "$expected" "$out"
  # Reasons the table does not know, named and not; SKB_CONSUMED is no drop.
  capture reasons
  local ping="10.0.0.1:0->10.0.0.2:0(icmp) via veth1 (netns $NETNS_B), dropped at kfree_skb from nf_hook_slow+0x9b"
  out=$(stats_tree pwru_drop_journeys -- reasons) || exit 1
  assert_lines "pwru_drop_journeys of unknown reasons" "Journeys that ended in a drop|3
 journey 0: $ping: SOME_FUTURE_REASON; hint: no explanation is known yet|1
 journey 1: $ping: reason_196610; hint: a subsystem's own reason (mac80211, openvswitch or a qdisc): the high 16 bits are the subsystem, the low 16 its reason; check: enum skb_drop_reason_subsys in this kernel's BTF, then that subsystem's reasons|1
 journey 2: $ping: reason_200; hint: no explanation is known yet|1" "$out"
  pass "pwru_drop_journeys: the ping's and the SYN's journeys, interfaces, reasons and hints;" \
       "unknown reasons"
}

# What changed since the journey's previous event: pwru.changed names the kinds, a field per kind
# says old -> new, Info shows the changes of the packet itself (not netns, interface, TTL), in
# one pass and in two alike; a filter finds each kind.
case_changes() {
  capture changes
  local out one_pass kinds=(dnat snat encap decap netns iface mark proto len ttl) k fieldargs=()
  for k in "${kinds[@]}"; do fieldargs+=("pwru.changed.$k"); done
  out=$(fields changes '' frame.number pwru.changed "${fieldargs[@]}" -- -2) || exit 1
  assert_lines "pwru.changed and its fields ($(IFS=,; echo "${kinds[*]}"))" \
"1|||||||||||
2|netns,iface|||||4026532000 -> 4026532050|veth0:4 -> veth1:5||||
3|dnat,snat,iface,mark,ttl|10.0.9.99:80 -> 10.0.1.2:8080|10.0.0.1:41000 -> 10.0.1.254:41000||||veth1:5 -> veth2:6|0x0 -> 0x2a|||64 -> 63
4|netns,iface,mark|||||4026532050 -> 4026532100|veth2:6 -> veth3:7|0x2a -> 0x0|||
5|||||||||||
6|encap,iface|||vxlan 172.16.0.1->172.16.0.2 vni 42|||vxlan0:8 -> eth0:9||||
7|netns,iface|||||4026532000 -> 4026532100|eth0:9 -> eth1:10||||
8|decap,iface||||vxlan 172.16.0.1->172.16.0.2 vni 42||eth1:10 -> vxlan1:11||||" "$out"
  one_pass=$(fields changes '' frame.number pwru.changed "${fieldargs[@]}") || exit 1
  assert_lines "the same in one pass" "$out" "$one_pass"
  out=$(fields changes 'pwru.changed' frame.number _ws.col.Info | sed 's/|[a-z_]* skb=0x[0-9a-f]* /|/') ||
    exit 1
  assert_lines "Info of the frames with changes" \
"2|veth1:5 10.0.0.1:41000->10.0.9.99:80(tcp)
3|veth2:6 10.0.1.254:41000->10.0.1.2:8080(tcp) DNAT 10.0.9.99:80 -> 10.0.1.2:8080, SNAT 10.0.0.1:41000 -> 10.0.1.254:41000, MARK 0x0 -> 0x2a
4|veth3:7 10.0.1.254:41000->10.0.1.2:8080(tcp) MARK 0x2a -> 0x0
6|eth0:9 172.16.0.1:41000->172.16.0.2:4789(udp) ENCAP vxlan 172.16.0.1->172.16.0.2 vni 42
7|eth1:10 172.16.0.1:41000->172.16.0.2:4789(udp)
8|vxlan1:11 192.168.0.1:0->192.168.0.2:0(icmp) DECAP vxlan 172.16.0.1->172.16.0.2 vni 42" "$out"
  assert_tree changes 3 'Changed: dnat,snat,iface,mark,ttl' "pwru.changed"
  assert_tree changes 3 'DNAT: 10.0.9.99:80 -> 10.0.1.2:8080' "the DNAT"
  assert_tree changes 6 'Tunnel header pushed: vxlan 172.16.0.1->172.16.0.2 vni 42' "the encap"
  out=$(fields changes 'pwru.changed.snat || pwru.changed.decap' frame.number) || exit 1
  assert_eq "frames with an SNAT or a decap" "3 8" "$(one_line "$out")"
  pass "pwru.changed: DNAT, SNAT, mark, TTL, netns and interface through a router, VXLAN pushed" \
       "and popped, never a NAT; in Info and in both passes"
}

# The journeys as a flow graph (tshark -z flow,pwru): one arrow per move between places (netns
# and interface) labelled with its function, and each drop an arrow into its reason's node,
# explained (with its rule, when --nf-trace named it). The text picture is read back as
# "COMMENT | FROM -> TO", nodes by name, from the columns tshark draws them in (20 characters
# apart).
case_flow() {
  capture sample
  local out
  out=$(tshark_on sample -q -z flow,pwru,standard) || exit 1
  out=$(awk '
    function reverse(t,   u, i) { for (i = length(t); i > 0; i--) u = u substr(t, i, 1); return u }
    NR == 1 { match($0, /Time *\|/); o = RSTART + RLENGTH - 2; l1 = $0; next }
    NR == 2 {
      for (k = 0; ; k++) {
        name = substr(k % 2 == 0 ? l1 : $0, o + 3 + 20 * k, 38)
        sub(/[ |]*$/, "", name)
        if (name == "") break
        node[k] = name
      }
      next
    }
    /-->|<--/ {
      s = substr($0, o + 1)
      l = match(s, /[-<]/) - 1
      r = length(s) - match(reverse(s), /[->]/)
      a = node[int(l / 20)]; b = node[int(r / 20)]
      print comment " | " (index(s, ">") ? a " -> " b : b " -> " a)
      next
    }
    { comment = $0; sub(/.*\|/, "", comment) }' <<<"$out")
  local a="netns 4026532000/veth0" b="netns $NETNS_B/veth1" no_socket
  no_socket=$(fields sample 'pwru.drop_reason == "NO_SOCKET"' pwru.drop_reason.help) || exit 1
  assert_lines "the flow graph's arrows" "journey 0 hop 3: netif_rx | $a -> $b
journey 0 hop 5: kfree_skb dropped it: $NF_HELP_NOTE | $b -> dropped: NETFILTER_DROP
journey 2 hop 2: netif_receive_skb | $a -> $b
journey 2 hop 4: kfree_skb dropped it: NO_SOCKET: $no_socket | $b -> dropped: NO_SOCKET
journey 3 hop 2: netif_receive_skb | $b -> $a" "$out"
  # A drop --nf-trace named says by which rule.
  capture nftrace
  out=$(tshark_on nftrace -q -z flow,pwru,standard) || exit 1
  local rule='inet t c2 handle 7 "tcp dport 4444 drop"'
  grep -qF "journey 3 hop 2: kfree_skb dropped it: NETFILTER_DROP by $rule: $NF_HELP" <<<"$out" ||
    fail "the nftrace capture's drop does not name its rule: $out"
  pass "tshark -z flow,pwru draws the moves veth0 (netns A) -> veth1 (netns B) and back, and" \
       "both drops into their reasons' nodes, explained"
}

# --output-skb-metadata, --output-skb-shared-info, --output-skb-cb, recorded by pwrudump from a
# ping on lo (data/README.md): a pwru.meta item per expression with its name and value, the value
# missing where a null pointer left nothing to read (skb->sk on the receive side); pwru.shinfo.*
# and the 48 bytes of pwru.cb on every frame.
case_skbexpr() {
  cp "$here/data/skbexpr.pcapng" "$WORK/" || fail "cannot copy data/skbexpr.pcapng"
  local out
  out=$(fields skbexpr 'pwru' pwru.meta.name -- -E occurrence=a | LC_ALL=C sort -u) || exit 1
  assert_eq "pwru.meta.name of every frame" \
    "skb->len,skb->dev->name,skb->sk->__sk_common.skc_family,skb->pkt_type" "$out"
  out=$(fields skbexpr 'pwru' frame.number pwru.len pwru.ifname pwru.meta.value) || exit 1
  assert_lines "pwru.meta.value: skb->len and skb->dev->name equal pwru.len and pwru.ifname; the
socket's family on the sending side only" "1|98|lo|98,lo,2,0
2|98|lo|98,lo,2,0
3|84|lo|84,lo,0
4|84|lo|84,lo,0
5|84|lo|84,lo,0
6|84|lo|84,lo,0" "$out"
  out=$(fields skbexpr 'pwru.meta.name == "skb->len" && pwru.meta.value == "84"' frame.number |
          tr '\n' ' ') || exit 1
  assert_eq "frames found by pwru.meta.value" "3 4 5 6 " "$out"
  assert_tree skbexpr 3 'Metadata: skb->dev->name = lo' "an item's name and value"
  assert_tree skbexpr 3 'Shared info: gso_size 0, gso_segs 0, nr_frags 0' "the shared info"
  assert_tree skbexpr 3 'Metadata: skb->sk->__sk_common.skc_family (not readable)' \
    "an item without a value"
  out=$(fields skbexpr 'pwru.shinfo.dataref == 1 && len(pwru.cb) == 48' frame.number | grep -c .) ||
    exit 1
  assert_eq "frames with pwru.shinfo.dataref 1 and 48 bytes of pwru.cb" 6 "$out"
  out=$(fields skbexpr 'frame.number == 1' pwru.cb pwru.shinfo.gso_size pwru.shinfo.frag_list) ||
    exit 1
  assert_eq "frame 1's cb, gso_size, frag_list" \
    "$(printf '62%094d' 0)|0|0x0000000000000000" "$out"
  pass "pwru.meta name/value items, pwru.shinfo.* and pwru.cb of a capture pwrudump recorded"
}

# The tc and XDP programs' events (--filter-trace-tc, --filter-trace-xdp), in captures recorded in
# the VM cells vm.7.2.tc and vm.7.2.xdp (data/README.md): each ping at the program's entry and
# return, the return's verdict named by its hook (TC_ACT_SHOT (2), XDP_DROP (1)) and a drop
# (pwru.drop, "Packet dropped: TC_ACT_SHOT", the Info column's verdict=); the entries no drop; at
# tc the skb's free with TC_INGRESS after it in the same journey; an XDP return ends its buffer's
# journey (pwru.journey.end).
case_bpfprog() {
  [ "$SOURCE" = kept ] || fail "the bpfprog captures are recorded in the VM: run it with 'kept'"
  capture bpf_tc
  capture bpf_xdp
  local out
  out=$(fields bpf_tc 'pwru.bpf.prog' frame.number pwru.func pwru.bpf.prog pwru.bpf.prog_id \
          pwru.bpf.hook pwru.bpf.verdict) || exit 1
  assert_lines "the tc program's events (frame|func|prog|id|hook|verdict)" "8|tc_drop_icmp(tc)|tc_drop_icmp|4|1|
9|tc_drop_icmp(tc)|tc_drop_icmp|4|1|2
17|tc_drop_icmp(tc)|tc_drop_icmp|4|1|
18|tc_drop_icmp(tc)|tc_drop_icmp|4|1|2
26|tc_drop_icmp(tc)|tc_drop_icmp|4|1|
27|tc_drop_icmp(tc)|tc_drop_icmp|4|1|2" "$out"
  assert_tree bpf_tc 9 "BPF program verdict: TC_ACT_SHOT (2)" "the verdict's name"
  assert_tree bpf_tc 9 "Packet dropped: TC_ACT_SHOT" "the drop, named by the verdict"
  assert_eq "tc returns that are drops" "9 18 27" \
    "$(fields bpf_tc 'pwru.bpf.verdict == 2 && pwru.drop' frame.number | paste -sd ' ')"
  assert_eq "tc entries that are drops" "" "$(fields bpf_tc 'pwru.bpf.prog && !pwru.bpf.verdict && pwru.drop' frame.number)"
  assert_eq "Info of frame 9 ends with" "verdict=TC_ACT_SHOT" \
    "$(tshark_on bpf_tc -Y 'frame.number == 9' -T fields -e _ws.col.Info | awk '{ print $NF }')"
  # The free after each verdict: the same skb and journey, the kernel's tc reason.
  out=$(fields bpf_tc 'frame.number == 9 || frame.number == 10 || frame.number == 18 ||
                        frame.number == 19 || frame.number == 27 || frame.number == 28' pwru.journey pwru.func pwru.drop_reason) || exit 1
  assert_lines "each TC_ACT_SHOT then its free (journey|func|reason)" "1|tc_drop_icmp(tc)|
1|kfree_skb|TC_INGRESS
2|tc_drop_icmp(tc)|
2|kfree_skb|TC_INGRESS
3|tc_drop_icmp(tc)|
3|kfree_skb|TC_INGRESS" "$out"

  out=$(fields bpf_xdp 'pwru.bpf.prog' frame.number pwru.bpf.hook pwru.bpf.verdict pwru.journey.end \
          pwru.ifname) || exit 1
  assert_lines "the XDP program's events (frame|hook|verdict|journey end|ifname)" "6|2|||vb
7|2|1|1|vb
13|2|||vb
14|2|1|1|vb
20|2|||vb
21|2|1|1|vb" "$out"
  assert_tree bpf_xdp 7 "BPF program verdict: XDP_DROP (1)" "the verdict's name"
  assert_tree bpf_xdp 7 "Packet dropped: XDP_DROP" "the drop, named by the verdict"
  pass "tc and XDP programs: entries and returns, TC_ACT_SHOT and XDP_DROP named and counted as" \
       "drops, the tc drop's free in its journey, an XDP return ends its buffer's journey"
}

# One packet across hosts (pwru.flight): h1 pinged h2, whose iptables dropped the requests;
# one pwrudump per namespace-host, merged (tests/e2e/flights_test.sh drop). Each request is a
# flight: a copy of the first one consumed on h1 (ARP), the request sent on h1, received and
# dropped on h2 with the same skb address (another host's journey); h1's skb is never freed in
# h1's capture (its veth's peer frees it), so its journey holds all three requests and the
# flights split it. Then the same with h2's clock 1.5 s behind: h2's events come first in the
# file, h2 is still hop 2. One pass has only the links back and the drop from its frame on.
case_flights() {
  recorded flights-drop
  recorded flights-drop-skew
  local out f='frame.number pwru.flight pwru.flight.host pwru.flight.hop pwru.journey pwru.flight.prev pwru.flight.next pwru.flight.dropped pwru.flight.drop_frame'
  # shellcheck disable=SC2086  # the field list
  out=$(fields flights-drop 'pwru.flight <= 1' $f -- -2) || exit 1
  assert_lines "flights 0 and 1 (frame|flight|host|hop|journey|prev|next|dropped|drop frame)" \
"1|0|h1|1|0||2|h2|8
2|0|h1|1|1|1||h2|8
3|0|h1|1|1||4|h2|8
4|0|h2|2|2|3||h2|8
5|0|h2|2|2|||h2|8
6|0|h2|2|2|||h2|8
7|0|h2|2|2|||h2|8
8|0|h2|2|2|||h2|8
9|1|h1|1|1|||h2|15
10|1|h1|1|1||11|h2|15
11|1|h2|2|3|10||h2|15
12|1|h2|2|3|||h2|15
13|1|h2|2|3|||h2|15
14|1|h2|2|3|||h2|15
15|1|h2|2|3|||h2|15" "$out"
  out=$(fields flights-drop '' pwru.flight.hosts -- -2 | sort | uniq -c | sed 's/^ *//') || exit 1
  assert_eq "pwru.flight.hosts of every frame" "22 h1 > h2" "$out"
  # shellcheck disable=SC2086
  out=$(fields flights-drop 'pwru.flight == 0' $f) || exit 1
  assert_lines "flight 0 in one pass: links back only, dropped from the drop on" \
"1|0|h1|1|0||||
2|0|h1|1|1|1|||
3|0|h1|1|1||||
4|0|h2|2|2|3|||
5|0|h2|2|2||||
6|0|h2|2|2||||
7|0|h2|2|2||||
8|0|h2|2|2|||h2|8" "$out"
  # shellcheck disable=SC2086
  out=$(fields flights-drop-skew 'pwru.flight == 0' $f -- -2) || exit 1
  assert_lines "flight 0 with h2's clock 1.5 s behind" \
"1|0|h2|2|0|18||h2|5
2|0|h2|2|0|||h2|5
3|0|h2|2|0|||h2|5
4|0|h2|2|0|||h2|5
5|0|h2|2|0|||h2|5
16|0|h1|1|3||17|h2|5
17|0|h1|1|4|16||h2|5
18|0|h1|1|4||1|h2|5" "$out"
  assert_tree flights-drop 8 'Flight: 0, hop 2 of 2 (h2), ends in a drop on h2' "the flight's line"
  assert_tree flights-drop 8 'Dropped on: h2 at kfree_skb: NETFILTER_DROP' "where it was dropped"
  local ping='10.231.188.1:0->10.231.188.2:0(icmp): h1 > h2, dropped on h2 at kfree_skb: NETFILTER_DROP'
  out=$(stats_tree pwru_flights -2 -- flights-drop) || exit 1
  assert_lines "pwru_flights" "Flights|3
 flight 0: $ping|1
 flight 1: $ping|1
 flight 2: $ping|1
Clocks (least time from a host's send to another's receive)|1
 h1 -> h2: least send to receive 0.000001 s|3" "$out"
  out=$(stats_tree pwru_flights -- flights-drop) || exit 1
  assert_lines "pwru_flights in one pass" "Flights|0
Events seen in one pass: flights are known once the whole capture was read (tshark -2)|22" "$out"
  pass "3 pings dropped on h2: flights h1 > h2, hops, links both ways, dropped on h2, also with" \
       "h2's clock behind; one pass; -z pwru_flights"
}

# A TCP connection from h1 to the router r's address, DNAT'd by r to h2 (flights_test.sh nat):
# the SYN's flight crosses the address change; with h2's clock 1.5 s behind, the offset of h2's
# clock from r's is measured from the packets both ways.
case_flights_nat() {
  recorded flights-nat
  recorded flights-nat-skew
  local out
  out=$(fields flights-nat 'pwru.flight == 0' frame.number pwru.flight.host pwru.flight.hop \
          pwru.func pwru.ip.dst pwru.dport pwru.flight.prev pwru.flight.next -- -2) || exit 1
  assert_lines "the SYN's flight (frame|host|hop|func|dst|dport|prev|next)" \
"1|h1|1|consume_skb|10.241.130.254|80||2
2|h1|1|net_dev_queue|10.241.130.254|80|1|
3|h1|1|net_dev_start_xmit|10.241.130.254|80||4
4|r|2|netif_rx_entry|10.241.130.254|80|3|
5|r|2|netif_rx|10.241.130.254|80||
6|r|2|net_dev_xmit|10.241.130.254|80||
7|r|2|netif_receive_skb|10.241.130.254|80||
8|r|2|consume_skb|10.242.130.2|8080|10|
9|r|2|net_dev_queue|10.242.130.2|8080||
10|r|2|net_dev_start_xmit|10.242.130.2|8080||11
11|h2|3|netif_rx_entry|10.242.130.2|8080|10|
12|h2|3|netif_rx|10.242.130.2|8080||
13|h2|3|net_dev_xmit|10.242.130.2|8080||
14|h2|3|netif_receive_skb|10.242.130.2|8080||" "$out"
  out=$(fields flights-nat '' pwru.flight.hosts -- -2 | sort | uniq -c | sed 's/^ *//') || exit 1
  assert_lines "pwru.flight.hosts: every packet crossed r" "64 h1 > r > h2
61 h2 > r > h1" "$out"
  out=$(fields flights-nat-skew 'pwru.flight.clock_offset' pwru.flight.host \
          pwru.flight.clock_offset -- -2 | sort -u) || exit 1
  assert_lines "pwru.flight.clock_offset per host (from the host before)" "h1|-0.000000090
h2|-1.500000180
r|0.000000090
r|1.500000180" "$out"
  out=$(stats_tree pwru_flights -2 -- flights-nat-skew | grep -v '^ flight') || exit 1
  assert_lines "the clocks of pwru_flights" "Flights|10
Clocks (least time from a host's send to another's receive)|1
 h1 -> r: least send to receive 0.000001 s|5
 h2 -> r: least send to receive 1.500001 s|5
 offset of r's clock from h1's: 0.000000 s +/- 0.000001 s|10
 offset of r's clock from h2's: 1.500000 s +/- 0.000001 s|10
 r -> h1: least send to receive 0.000001 s|5
 r -> h2: least send to receive -1.499999 s|5" "$out"
  out=$(stats_tree pwru_flights -2 -- flights-nat | grep '^ flight 0:') || exit 1
  assert_eq "the SYN's line" " flight 0: 10.241.130.1:53010->10.241.130.254:80(tcp): h1 > r > h2 (on h2: 10.241.130.1:53010->10.242.130.2:8080(tcp)), not ended in the capture (last seen on h2)|1" "$out"
  pass "TCP through r's DNAT: the SYN's flight h1 > r > h2 across the address change; every" \
       "packet crossed r; h2's clock measured 1.5 s behind r's"
}

# Pings over VXLAN (flights_test.sh vxlan): an echo request's flight holds the ICMP packet on
# h1's VXLAN device, its outer UDP packet on both veths and the ICMP packet out of the tunnel on
# h2, the tunnel header pushed and popped on the way.
case_flights_vxlan() {
  recorded flights-vxlan
  local out
  out=$(fields flights-vxlan 'pwru.flight == 2' frame.number pwru.flight.host pwru.func \
          pwru.l4proto pwru.changed pwru.flight.prev pwru.flight.next -- -2 |
          sed 's/[0-9]\{5\}|/N|/') || exit 1
  assert_lines "an echo request's flight (frame|host|func|l4proto|changed|prev|next)" \
"12|h1|consume_skb|1|||21
21|h1|net_dev_queue|1||12|
22|h1|net_dev_start_xmit|1|||
23|h1|net_dev_queue|17|encap,iface||
24|h1|net_dev_start_xmit|17|||25
25|h2|netif_rx_entry|17||24|
26|h2|netif_rx|17|||
27|h2|net_dev_xmit|17|||
28|h2|net_dev_xmit|17|||
29|h2|netif_receive_skb|17|||
30|h2|napi_gro_receive_entry|1|decap,iface||
31|h2|netif_receive_skb|1|||
40|h2|consume_skb|1|||" "$out"
  pass "VXLAN: the echo request's flight goes through the tunnel, ICMP on h1 to ICMP on h2"
}

# The flow graph of hosts: nodes named after their host, the move from h1's veth to h2's as the
# flight's arrow, the drop's node on h2.
case_flights_flow() {
  recorded flights-drop
  local out
  out=$(tshark_on flights-drop -2 -q -z flow,pwru,standard) || exit 1
  grep -qE '\| h1: netns [0-9]+/pwa[0-9]+ +\| h2: dropped: NETFILTER_DROP' <<<"$out" ||
    fail "no nodes named after h1 and h2's drop: $out"
  grep -qE '^ +\| +\| +\| h2: netns [0-9]+/pwb[0-9]+' <<<"$out" || fail "no node of h2's veth: $out"
  assert_eq "arrows of the flights from h1 to h2" 3 \
    "$(grep -cE '\|flight [012] hop 2: netif_rx_entry \(journey [234]\)$' <<<"$out")"
  # One host, no names: the sample's nodes are as they were.
  capture sample
  out=$(tshark_on sample -q -z flow,pwru,standard | head -1) || exit 1
  grep -q '| netns 4026532000/veth0 ' <<<"$out" || fail "the sample's nodes name a host: $out"
  pass "the flow graph names h1 and h2 in the nodes and draws each flight's move from h1 to h2;" \
       "a capture of one host names none"
}

case "$CASE" in
  plugin | journey | drop | columns | ipv6 | unknown | malformed | retransmission | fuzz | wrapper | \
    journeys | journeys_one_pass | reset | lost_events | old_kernel | stats | conversation_filter | \
    profile | nftrace | nftrace_stats | nfpassed | nfprobes | drop_reason_help | drop_journeys | \
    changes | flow | diag | skbexpr | bpfprog | flights | flights_nat | flights_vxlan | \
    flights_flow | stackid)
    "case_$CASE" ;;
  *) fail "unknown case '$CASE'" ;;
esac
