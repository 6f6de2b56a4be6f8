#!/usr/bin/env bash
# Long run (label longrun, not in the default test command): ten minutes of mixed traffic from A
# to B (10 pings a second, 2 TCP connections of 1 KiB a second, 20 UDP datagrams a second, see
# traffic.py) traced with `pwrudump -w` (default 16 MiB ring buffer, --snaplen 128). Every 10 s
# pwrudump's RSS and the file's size are sampled and printed. Checked:
#   - RSS stays flat: after the first minute it never exceeds the first minute's by 8 MiB;
#   - the file grows steadily: every 10 s by something, and by no less than half and no more
#     than twice the median growth (the traffic is constant);
#   - no event is lost: isb_ifdrop and the summary say 0, and every ping, UDP datagram and TCP
#     connection the senders counted is in the file at net_dev_start_xmit on A's veth;
#   - a clean stop: SIGINT, exit 0, the statistics block last and tshark reads every event, no
#     BPF program or link of pwrudump's left in the kernel.
# usage: longrun_test.sh PWRUDUMP BUILD_DIR [SECONDS]   (default 600)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=reliability-lib.sh
. "$here/reliability-lib.sh"
PWRUDUMP=$1 BUILD=$2 SECONDS_RUN=${3:-600}
PORT=8080 SAMPLE_S=10 RSS_SLACK_KIB=8192

require_root
require_cmd ip ping tshark setpriv python3 bpftool
e2e_hosts
TRACE=$WORK/trace.pcapng
SERVER_PID="" PING_PID=""
trap 'rc=$?; kill $SERVER_PID $PING_PID 2>/dev/null; (exit $rc); netns_cleanup' EXIT

ip netns exec "$NS_B" python3 "$here/traffic.py" serve "$IP_B" $PORT &
SERVER_PID=$!
"$PWRUDUMP" -w "$TRACE" --snaplen 128 --ready-file "$WORK/ready" "host $IP_B" \
  >/dev/null 2>"$WORK/stderr" &
PWRU_PID=$!
wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
ids=$(bpf_ids_of "$PWRU_PID")
[ -n "$ids" ] || fail "pwrudump holds no BPF program or link"

ip netns exec "$NS_A" ping -q -i 0.1 -w "$SECONDS_RUN" "$IP_B" >"$WORK/ping.out" 2>&1 &
PING_PID=$!
ip netns exec "$NS_A" python3 "$here/traffic.py" send "$IP_B" $PORT "$SECONDS_RUN" \
  >"$WORK/send.out" 2>&1 &
SEND_PID=$!

echo "seconds rss_kib file_bytes"
start=$(date +%s)
while kill -0 "$SEND_PID" 2>/dev/null; do
  sleep "$SAMPLE_S"
  kill -0 "$PWRU_PID" 2>/dev/null || fail "pwrudump died during the run: $(cat "$WORK/stderr")"
  echo "$(( $(date +%s) - start )) $(rss_kib "$PWRU_PID") $(stat -c %s "$TRACE")" | tee -a "$WORK/samples"
done
wait "$SEND_PID" || fail "the TCP/UDP sender failed: $(cat "$WORK/send.out")"
wait "$PING_PID"
PING_PID=
sleep 0.5
stop_trace
assert_bpf_gone "$ids" "after the long run"

# Memory and file growth from the samples.
python3 - "$WORK/samples" "$RSS_SLACK_KIB" <<'EOF' || fail "RSS or file growth out of bounds (samples above)"
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
slack = int(sys.argv[2])
assert len(rows) >= 6, f"only {len(rows)} samples"
after_minute = [r for r in rows if r[0] >= 60] or rows[-1:]
rss_ref = after_minute[0][1]
rss_max = max(r[1] for r in after_minute)
assert rss_max - rss_ref < slack, f"RSS grew from {rss_ref} to {rss_max} KiB after the first minute"
growth = [b[2] - a[2] for a, b in zip(rows, rows[1:])][:-1]  # the last interval may be short
med = statistics.median(growth)
assert all(g > 0 for g in growth), f"the file stopped growing: {growth}"
odd = [g for g in growth if not med / 2 <= g <= med * 2]
assert not odd, f"file growth per {rows[1][0] - rows[0][0]} s off the median {med}: {odd}"
print(f"RSS {rows[0][1]} KiB at {rows[0][0]} s, {rss_ref} at {after_minute[0][0]} s, max after "
      f"that {rss_max}; file growth median {med} bytes per interval, from {min(growth)} to {max(growth)}")
EOF

blocks=$(pcapng_blocks "$TRACE") || fail "not a pcapng file"
read -r _ ifrecv ifdrop usrdeliv <<<"$(grep '^stats ' <<<"$blocks")"
epb=$(block_field "$blocks" epb)
assert_eq "bytes after the statistics block" 0 "$(block_field "$blocks" tail)"
assert_eq "isb_ifdrop (lost events)" 0 "$ifdrop"
assert_eq "isb_usrdeliv" "$epb" "$usrdeliv"
assert_eq "isb_ifrecv (written + lost)" "$((epb + ifdrop))" "$ifrecv"
grep -qx "$epb events, 0 lost" "$WORK/stderr" || fail "no '$epb events, 0 lost' summary: $(cat "$WORK/stderr")"

# Every packet the senders counted, leaving A.
pings=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$WORK/ping.out")
read -r _ tcp_done _ udp_sent <"$WORK/send.out"
counts=$("$TSHARK_PLUGIN" "$BUILD" -r "$TRACE" -Y "pwru.func == \"net_dev_start_xmit\" && pwru.ifname == \"$VETH_A\"" \
           -T fields -e frame.number -e icmp.type -e udp.dstport -e tcp.flags.syn -e tcp.flags.ack \
           -E separator=/t -E occurrence=f 2>"$WORK/tshark.err" | awk -F'\t' -v port=$PORT '
  { frames++ }
  $2 == 8 { ping++ }
  $2 == "" && $3 == port { udp++ }
  $4 == 1 && $5 == 0 { syn++ }
  END { print frames + 0, ping + 0, udp + 0, syn + 0 }')
read -r frames ping_ev udp_ev syn_ev <<<"$counts"
[ "$frames" -gt 0 ] || fail "tshark read no event: $(cat "$WORK/tshark.err")"
assert_eq "echo requests leaving A (ping transmitted $pings)" "$pings" "$ping_ev"
assert_eq "UDP datagrams leaving A" "$udp_sent" "$udp_ev"
[ "$syn_ev" -ge "$tcp_done" ] || fail "$syn_ev SYNs leaving A, but $tcp_done TCP connections were made"
all=$(tshark_read "$TRACE"; echo "$FRAMES $TSHARK_RC")
assert_eq "frames tshark reads, its exit status" "$epb 0" "$all"
pass "$SECONDS_RUN s: $epb events, 0 lost; $pings pings, $udp_sent UDP datagrams, $tcp_done TCP" \
  "connections all traced; $(stat -c %s "$TRACE") bytes; clean stop"
