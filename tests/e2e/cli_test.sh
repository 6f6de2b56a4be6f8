#!/usr/bin/env bash
# pwru's command line on the running kernel, between two namespaces of the test's own, with
# pings from A to B:
#   json:     iptables drops ICMP in B; --output-json: every line is JSON (python3 json.loads)
#             with pwru's keys and ours, the pings' kfree_skb lines carry drop_reason
#             NETFILTER_DROP, its drop_reason_help and a netfilter caller_func, and each line's
#             "journey" is the pwru.journey Wireshark gives the same event in the pcapng written
#             alongside (-w).
#   hints:    iptables drops ICMP in B; the text (--output-hints by default) has each drop line
#             followed by its hint, what NETFILTER_DROP means and what to check, and no other
#             line has one; with --output-hints=false no line has one.
#   limit:    --output-limit-lines 5 ends pwrudump by itself, exit 0, after exactly 5 events.
#   ready:    --ready-file appears only once attached: never when attaching fails, and a single
#             ping sent the moment it appears is traced.
#   relative: --timestamp relative: the first event of each skb is 0, and the running sum of an
#             skb's values is non-decreasing and equals its kernel time since its first event
#             (pwru.ktime of the same events in the pcapng written alongside).
#   stack:    --output-stack: each event line is followed by its stack, one symbol+0xoff a line
#             (after a drop's hint); the netfilter drop's stack passes through nf_hook_slow.
#   ringsize: --ringbuf-size 4K --snaplen 4096: an event takes the ring buffer room its own bytes
#             need, not the snaplen's (header and snaplen alone are more than 4 KiB). iptables
#             drops ICMP in B and only kfree_skb is traced: each ping is one event, none lost,
#             each with the whole packet (Wireshark finds all 48 bytes of the echo's data).
#   netns:    --output-netns-names: the NETNS NAME column names A's and B's namespaces (the names
#             `ip netns` knows), under pwru's default header.
#   summary:  --output-summary: iptables drops ICMP in B and a TCP SYN goes to a closed port of B;
#             stopped by SIGINT, the text ends with a line per dropped journey (each ping: A's
#             veth then B's, NETFILTER_DROP and its hint; the SYN: NO_SOCKET and its hint) and
#             the totals, and those lines are tshark's -z pwru_drop_journeys on the pcapng
#             written alongside, word for word.
# usage: cli_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping python3 timeout
case "$mode" in json | relative | summary) require_cmd tshark setpriv ;; esac
e2e_hosts
PINGS=3

ping_b() { ip netns exec "$NS_A" ping -c "${1:-$PINGS}" -i 0.2 -W 1 "$IP_B" >/dev/null; }

# The events of the pings as pwrudump's lines in $WORK/out (and pcapng in $WORK/trace.pcapng).
trace_pings() {
  start_trace "$WORK/trace.pcapng" --output-file "$WORK/out" "$@" "icmp and host $IP_B"
  ping_b
  stop_trace
  [ -s "$WORK/out" ] || fail "pwrudump printed nothing: $(cat "$WORK/stderr")"
}

case "$mode" in
json)
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
  trace_pings --output-json
  fields "$WORK/trace.pcapng" -e pwru.journey >"$WORK/journeys"
  IP_B=$IP_B PINGS=$PINGS python3 - "$WORK/out" "$WORK/journeys" <<'EOF' || fail "JSON checks failed"
import json, os, re, sys
ip_b, pings = os.environ["IP_B"], int(os.environ["PINGS"])
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
wireshark_journeys = open(sys.argv[2]).read().split()
assert lines, "no JSON lines"
types = {"skb": str, "cpu": int, "process": str, "func": str, "netns": int, "mark": int,
         "iface": str, "proto": int, "mtu": int, "len": int, "tuple": dict, "probe": str,
         "journey": int}
drops = 0
for n, line in enumerate(lines, 1):
    ev = json.loads(line)  # raises on anything that is not JSON
    assert isinstance(ev, dict), f"line {n} is not an object"
    for key, kind in types.items():
        assert isinstance(ev.get(key), kind), f"line {n}: {key} missing or not {kind.__name__}: {line}"
    assert "drop_reason" in ev, f"line {n}: no drop_reason key"
    assert re.fullmatch(r"0x[0-9a-f]+", ev["skb"]), f"line {n}: skb {ev['skb']}"
    assert re.fullmatch(r".+:\d+", ev["process"]), f"line {n}: process {ev['process']}"
    for key in ("saddr", "daddr", "sport", "dport", "proto"):
        assert key in ev["tuple"], f"line {n}: tuple has no {key}"
    if ev["func"] == "kfree_skb" and ev["tuple"]["daddr"] == ip_b:
        assert ev["drop_reason"] == "NETFILTER_DROP", f"line {n}: {line}"
        assert ev.get("drop_reason_help", "").startswith("a netfilter rule"), f"line {n}: {line}"
        assert re.match(r"(nf|nft|ipt)_\w+\+0x", ev.get("caller_func") or ""), f"line {n}: {line}"
        drops += 1
assert drops == pings, f"{drops} kfree_skb NETFILTER_DROP lines, expected {pings}"
assert len(wireshark_journeys) == len(lines), \
    f"{len(lines)} JSON lines but {len(wireshark_journeys)} pcapng records"
for n, (line, want) in enumerate(zip(lines, wireshark_journeys), 1):
    got = json.loads(line)["journey"]
    assert got == int(want), f"line {n}: journey {got}, Wireshark's pwru.journey {want}"
print(f"{len(lines)} JSON lines, {drops} drops, {len(set(wireshark_journeys))} journeys")
EOF
  pass "--output-json: valid JSON, keys, NETFILTER_DROP at kfree_skb, journeys as Wireshark's"
  ;;
hints)
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
  trace_pings
  hint="  hint: a netfilter rule or chain policy dropped it; check: nft list ruleset / iptables -S in the netns where it was dropped (--nf-trace names the rule)"
  HINT=$hint PINGS=$PINGS python3 - "$WORK/out" <<'EOF' || fail "hint checks failed: $(head -n 40 "$WORK/out")"
import os, sys
lines = open(sys.argv[1]).read().splitlines()[1:]
hint, drops = os.environ["HINT"], 0
for n, line in enumerate(lines):
    before = lines[n - 1] if n > 0 else ""
    follows_drop = "(SKB_DROP_REASON_" in before and not before.startswith("  hint: ")
    if line.startswith("  hint: "):
        assert follows_drop, f"line {n + 2}: {line!r} after {before!r}"
        if " kfree_skb(SKB_DROP_REASON_NETFILTER_DROP) " in before:
            assert line == hint, f"line {n + 2}: {line!r}"
            drops += 1
    else:
        assert not follows_drop, f"line {n + 2}: a drop without its hint: {before!r}"
assert drops == int(os.environ["PINGS"]), f"{drops} hints"
print(f"{len(lines)} lines, {drops} drops with their hint")
EOF
  trace_pings --output-hints=false
  grep -q 'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)' "$WORK/out" || fail "no drop: $(cat "$WORK/out")"
  ! grep -q 'hint:' "$WORK/out" || fail "a hint with --output-hints=false: $(grep 'hint:' "$WORK/out")"
  pass "the pings' drops each followed by NETFILTER_DROP's hint, none with --output-hints=false"
  ;;
limit)
  # Pings keep going until pwrudump has seen 5 events and left by itself.
  ip netns exec "$NS_A" ping -i 0.2 -W 1 "$IP_B" >/dev/null &
  pinger=$!
  timeout 60 "$PWRUDUMP" -q --output-limit-lines 5 --output-file "$WORK/out" \
    "icmp and host $IP_B" 2>"$WORK/stderr"
  rc=$?
  kill "$pinger" 2>/dev/null
  wait "$pinger" 2>/dev/null
  [ "$rc" -ne 124 ] || fail "pwrudump was still running after 60 s with --output-limit-lines 5"
  assert_eq "exit code with --output-limit-lines (stderr: $(cat "$WORK/stderr"))" 0 "$rc"
  # A drop's hint line is no event (a ping's reply may be dropped at ping_rcv).
  assert_eq "lines: the header and 5 events" 6 "$(grep -vc '^  hint: ' "$WORK/out")"
  head -n 1 "$WORK/out" | grep -q '^SKB ' || fail "no header: $(head -n 1 "$WORK/out")"
  pass "--output-limit-lines 5: exited by itself after 5 events"
  ;;
ready)
  # Attaching fails: the file must never appear.
  "$PWRUDUMP" -q --filter-func 'no_such_function_[0-9]+' --ready-file "$WORK/never" icmp \
    >/dev/null 2>"$WORK/stderr"
  rc=$?
  [ "$rc" -ne 0 ] || fail "pwrudump attached nothing yet exited 0"
  [ ! -e "$WORK/never" ] || fail "the ready file exists although attaching failed"
  # Attaching works: the moment the file appears, the probes trace.
  rm -f "$WORK/ready"
  "$PWRUDUMP" -q --ready-file "$WORK/ready" --output-file "$WORK/out" "icmp and host $IP_B" \
    2>"$WORK/stderr" &
  PWRU_PID=$!
  for _ in $(seq 1 600); do
    [ -e "$WORK/ready" ] && break
    kill -0 "$PWRU_PID" 2>/dev/null || fail "pwrudump died before ready: $(cat "$WORK/stderr")"
    sleep 0.1
  done
  [ -e "$WORK/ready" ] || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
  ping_b 1 || fail "the ping failed"
  stop_trace
  grep -q "$IP_A:0->$IP_B:0(icmp)" "$WORK/out" \
    || fail "the ping sent once ready was not traced: $(cat "$WORK/out")"
  pass "--ready-file: absent when attaching fails, and once present the first ping is traced"
  ;;
relative)
  trace_pings --timestamp relative
  fields "$WORK/trace.pcapng" -e pwru.skb -e pwru.ktime >"$WORK/ktimes"
  python3 - "$WORK/out" "$WORK/ktimes" <<'EOF' || fail "--timestamp relative checks failed"
import sys
lines = open(sys.argv[1]).read().splitlines()
# A drop's hint (--output-hints) is no event.
header, events = lines[0], [l for l in lines[1:] if not l.startswith("  hint: ")]
assert header.split()[:4] == ["SKB", "CPU", "PROCESS", "TIMESTAMP"], header
col = header.index("TIMESTAMP")
kernel = [l.split() for l in open(sys.argv[2]).read().splitlines()]
assert len(kernel) == len(events), f"{len(events)} lines, {len(kernel)} pcapng records"
first, total, nonzero = {}, {}, 0
for n, (line, (skb_hex, ktime)) in enumerate(zip(events, kernel), 1):
    skb, rel = line.split()[0], int(line[col:].split()[0])
    ktime = int("".join(c for c in ktime if c.isdigit()))
    assert int(skb, 16) == int(skb_hex, 16), f"line {n}: {skb} vs record {skb_hex}"
    if skb not in first:
        assert rel == 0, f"line {n}: first event of {skb} has {rel}, not 0"
        first[skb], total[skb] = ktime, 0
    before = total[skb]
    total[skb] += rel
    assert total[skb] >= before, f"line {n}: the time of {skb} went back"
    assert total[skb] == ktime - first[skb], \
        f"line {n}: {skb} sums to {total[skb]} ns, its kernel time says {ktime - first[skb]}"
    nonzero += rel > 0
assert nonzero > 0, "every relative timestamp is 0"
print(f"{len(events)} events of {len(first)} skbs")
EOF
  pass "--timestamp relative: per skb from 0, sums equal the kernel's time since its first event"
  ;;
stack)
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
  trace_pings --output-stack
  python3 - "$WORK/out" <<'EOF' || fail "--output-stack checks failed: $(head -n 40 "$WORK/out")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()[1:]
frame = re.compile(r"[A-Za-z_.][\w.]*\+0x[0-9a-f]+|0x[0-9a-f]+")  # bare: no symbol
events, stacks = [], []
for line in lines:
    if line.startswith("0x") and " " in line:
        events.append(line)
        stacks.append([])
    elif line.startswith("  hint: "):
        assert events and "(SKB_DROP_REASON_" in events[-1] and not stacks[-1], \
            f"a hint not right after a drop: {line}"
    else:
        assert events, f"a stack line before any event: {line}"
        assert frame.fullmatch(line), f"not a symbol+0xoff frame: {line!r}"
        stacks[-1].append(line)
assert events, "no events"
assert all(len(s) >= 3 for s in stacks), "an event with fewer than 3 frames"
drops = [s for e, s in zip(events, stacks) if " kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)" in e]
assert drops, "no NETFILTER_DROP event"
assert all(any(f.startswith("nf_hook_slow+") for f in s) for s in drops), \
    f"a drop's stack misses nf_hook_slow: {drops}"
print(f"{len(events)} events, {sum(map(len, stacks))} frames, {len(drops)} drops")
EOF
  pass "--output-stack: every event followed by its frames; the drops pass through nf_hook_slow"
  ;;
ringsize)
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
  start_trace "$WORK/trace.pcapng" --ringbuf-size 4K --snaplen 4096 --backend tracepoint \
    --filter-func kfree_skb "icmp and dst host $IP_B"
  ping_b  # no reply: B drops them
  stop_trace
  ! grep -q "lost" "$WORK/stderr" || fail "events lost: $(cat "$WORK/stderr")"
  whole=$(fields "$WORK/trace.pcapng" -Y 'icmp.type == 8 && data.len == 48' \
            -e icmp.seq | grep -c .)
  assert_eq "echo requests captured whole (events: $(fields "$WORK/trace.pcapng" -e pwru.func \
             -e ip.len | tr '\n' ' '))" "$PINGS" "$whole"
  pass "--ringbuf-size 4K --snaplen 4096: every event written, none lost, packets whole"
  ;;
netns)
  trace_pings --output-netns-names
  expected="SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN      NETNS NAME    TUPLE FUNC"
  assert_eq "header with --output-netns-names" "$expected" "$(head -n 1 "$WORK/out")"
  python3 - "$WORK/out" "$NETNS_A_INODE=$NS_A" "$NETNS_B_INODE=$NS_B" <<'EOF' \
    || fail "--output-netns-names checks failed: $(head -n 20 "$WORK/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
header = lines[0]
col = header.index("NETNS NAME") - 3  # centred in 16 characters
names = dict(arg.split("=", 1) for arg in sys.argv[2:])
seen = set()
for line in lines[1:]:
    netns = line.split()[3]
    name = line[col:col + 16].strip()
    if netns in names:
        assert name == names[netns], f"netns {netns} named {name!r}, not {names[netns]!r}: {line}"
        seen.add(name)
assert seen == set(names.values()), f"names seen: {seen}, expected {set(names.values())}"
print(f"{len(lines) - 1} events, named {sorted(seen)}")
EOF
  pass "--output-netns-names: $NS_A and $NS_B named in their events"
  ;;
summary)
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
  start_trace "$WORK/trace.pcapng" --output-file "$WORK/out" --output-summary \
    "host $IP_B and (icmp or tcp port 4444)"
  ping_b
  # Nothing listens on 4444: B answers the SYN with a reset and drops it (NO_SOCKET).
  ip netns exec "$NS_A" timeout 5 bash -c "exec 3<>/dev/tcp/$IP_B/4444" 2>/dev/null \
    && fail "a connection to the closed port 4444 succeeded"
  stop_trace
  # The summary: after the last event's lines and a blank line.
  sed -n '/^$/,$p' "$WORK/out" | sed 1d >"$WORK/summary"
  chmod 644 "$WORK/trace.pcapng"
  "$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -q -z pwru_drop_journeys,tree >"$WORK/tree" ||
    fail "tshark could not read the capture"
  sed -n 's/^ \(journey [0-9]*: .*[^ ]\)  *1 .*/\1/p' "$WORK/tree" >"$WORK/tshark"
  VETH_A=$VETH_A VETH_B=$VETH_B IP_A=$IP_A IP_B=$IP_B PINGS=$PINGS NETNS_A=$NETNS_A_INODE \
    NETNS_B=$NETNS_B_INODE python3 - "$WORK/summary" "$WORK/tshark" <<'EOF' \
    || fail "--output-summary checks failed: $(cat "$WORK/out")"
import os, re, sys
e = {k: re.escape(v) for k, v in os.environ.items()}
nf_hint = ("a netfilter rule or chain policy dropped it; check: nft list ruleset / iptables -S in "
           "the netns where it was dropped (--nf-trace names the rule)")
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no summary"
*journeys, totals = lines
via = (rf" via {e['VETH_A']} \(netns {e['NETNS_A']}\) > {e['VETH_B']} \(netns {e['NETNS_B']}\), "
       "dropped at ")
pings = [l for l in journeys if re.fullmatch(
    rf"journey \d+: {e['IP_A']}:0->{e['IP_B']}:0\(icmp\)" + via +
    r"kfree_skb from (nf|nft|ipt)_\w+\+0x[0-9a-f]+: NETFILTER_DROP; hint: " + re.escape(nf_hint), l)]
assert len(pings) == int(os.environ["PINGS"]), f"{len(pings)} ping lines"
syns = [l for l in journeys if re.fullmatch(
    rf"journey \d+: {e['IP_A']}:\d+->{e['IP_B']}:4444\(tcp\)" + via +
    r"kfree_skb from tcp_v4_rcv\+0x[0-9a-f]+: NO_SOCKET; hint: no socket wanted the packet: .+", l)]
assert len(syns) == 1, f"{len(syns)} SYN lines"
assert len(journeys) == len(pings) + len(syns), f"other drops: {journeys}"
m = re.fullmatch(r"(\d+) journeys: (\d+) ended in a drop, (\d+) ended without one, (\d+) had not "
                 r"ended when the capture stopped", totals)
assert m and int(m[2]) == len(journeys) and int(m[1]) == sum(map(int, m.groups()[1:])), totals
wireshark = open(sys.argv[2]).read().splitlines()
assert sorted(wireshark) == sorted(journeys), f"tshark's lines differ: {wireshark}"
print(totals)
EOF
  pass "--output-summary: the pings' and the SYN's drops, interfaces, reasons and hints, as tshark's"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
