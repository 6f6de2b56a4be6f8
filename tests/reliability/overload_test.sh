#!/usr/bin/env bash
# Overload: a 4 KiB ring buffer (room for about 17 events of its 74-byte frames) and a UDP
# flood from A to B, where iptables drops it. pwrudump traces only the kfree_skb tracepoint
# with a pcap filter for the flood's port, so every datagram that left the sender makes exactly
# one event: the count of events the kernel made is the count of datagrams sent. Checked:
#   - lost events are counted exactly: events in the file + lost == datagrams sent (+ the
#     markers below), and the lost count is the same on stderr ("N events, L lost" and the
#     WARNING), in the pcapng statistics block (isb_ifdrop, with isb_usrdeliv the events
#     written), and in Wireshark: the pwru dissector's expert warning on the first event
#     (tshark -2 with the plugin);
#   - memory stays bounded: pwrudump's RSS sampled through the flood grows by less than 16 MiB;
#   - the tracer keeps running: 5 marker datagrams sent one by one after the flood are all seen.
# usage: overload_test.sh PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=reliability-lib.sh
. "$here/reliability-lib.sh"
PWRUDUMP=$1 BUILD=$2

require_root
require_cmd ip iptables ping tshark setpriv python3
e2e_hosts
PORT=9 MARK_PORT=7 DATAGRAMS=100000 MARKERS=5 RSS_SLACK_KIB=16384
ip netns exec "$NS_B" iptables -I INPUT -p udp -j DROP || fail "cannot add the iptables rule"
ip netns exec "$NS_A" ping -c 1 -W 1 "$IP_B" >/dev/null || fail "B does not answer pings"

# send_udp PORT COUNT INTERVAL_S: datagrams from A to B; prints how many the kernel took.
send_udp() {
  ip netns exec "$NS_A" python3 - "$IP_B" "$@" <<'EOF'
import socket, sys, time
ip, port, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent, payload = 0, b"x" * 32
for _ in range(count):
    try:
        s.sendto(payload, (ip, port))
        sent += 1
    except OSError:  # ENOBUFS: never left this host, so no event either
        pass
    if interval:
        time.sleep(interval)
print(sent)
EOF
}

"$PWRUDUMP" -w "$WORK/trace.pcapng" --ready-file "$WORK/ready" --ringbuf-size 4K --snaplen 1024 \
  --backend tracepoint --filter-func kfree_skb \
  "udp and dst host $IP_B and (dst port $PORT or dst port $MARK_PORT)" \
  >/dev/null 2>"$WORK/stderr" &
PWRU_PID=$!
wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
base_kib=$(rss_kib "$PWRU_PID")

# The sampler writes "MAX SAMPLES"; a sampler that never ran must not read as no growth.
( max=0 samples=0
  while kill -0 "$PWRU_PID" 2>/dev/null && [ ! -e "$WORK/flood.done" ]; do
    r=$(rss_kib "$PWRU_PID")
    if [ "$r" -gt "$max" ]; then max=$r; fi
    samples=$((samples + 1))
    echo "$max $samples" >"$WORK/rss.max"
    sleep 0.05
  done ) &
SAMPLER=$!
sent=$(send_udp $PORT $DATAGRAMS 0) || fail "the flood failed"
touch "$WORK/flood.done"
wait "$SAMPLER"
read -r max_kib samples <"$WORK/rss.max" || fail "the RSS sampler wrote nothing"
[ "$samples" -ge 5 ] || fail "the RSS sampler took $samples samples during the flood: too few"
if [ "$base_kib" -le 0 ] || [ "$max_kib" -lt "$base_kib" ]; then
  fail "no RSS read: $base_kib KiB before the flood, max $max_kib KiB during it"
fi

markers=$(send_udp $MARK_PORT $MARKERS 0.2) || fail "the markers failed"
assert_eq "marker datagrams sent" "$MARKERS" "$markers"
stop_trace

blocks=$(pcapng_blocks "$WORK/trace.pcapng") || fail "not a pcapng file"
read -r _ ifrecv ifdrop usrdeliv <<<"$(grep '^stats ' <<<"$blocks")"
epb=$(block_field "$blocks" epb)
assert_eq "isb_usrdeliv (events written)" "$epb" "$usrdeliv"
assert_eq "isb_ifrecv (written + lost)" $(( epb + ifdrop )) "$ifrecv"
[ "$ifdrop" -gt 0 ] || fail "no event lost: the flood did not overload a 4 KiB ring buffer ($epb events)"
assert_eq "events written + lost == datagrams sent ($sent) + markers ($MARKERS)" \
  $(( sent + MARKERS )) $(( epb + ifdrop ))

# On stop, on the command line.
grep -qx "$epb events, $ifdrop lost" "$WORK/stderr" ||
  fail "no summary '$epb events, $ifdrop lost' on stderr: $(cat "$WORK/stderr")"
grep -q "^pwrudump: WARNING: $ifdrop events lost: the ring buffer (--ringbuf-size 4K) was full" "$WORK/stderr" ||
  fail "no lost-event warning on stderr: $(cat "$WORK/stderr")"
grep -q "^hint: pass a larger ring buffer, e.g. --ringbuf-size 16K" "$WORK/stderr" ||
  fail "no hint with the warning: $(cat "$WORK/stderr")"

# Every event is the flood's or a marker's drop; all markers arrived after the flood.
funcs=$(fields "$WORK/trace.pcapng" -e pwru.func -e pwru.drop_reason | sort -u)
assert_eq "events (function, reason)" "$(printf 'kfree_skb NETFILTER_DROP')" "$funcs"
seen=$(count_lines "$(fields "$WORK/trace.pcapng" -Y "udp.dstport == $MARK_PORT" -e frame.number)")
assert_eq "marker events after the flood" "$MARKERS" "$seen"

# In Wireshark: the dissector's expert warning on the first event, read from isb_ifdrop.
expert=$(fields "$WORK/trace.pcapng" -2 -Y pwru.lost_events -e frame.number -e _ws.expert.message \
           -E separator='|')
assert_eq "frames with the lost-events expert info" 1 "$(cut -d'|' -f1 <<<"$expert")"
grep -qF "$ifdrop events were lost in the kernel (ring buffer full)" <<<"$expert" ||
  fail "Wireshark's expert info does not count $ifdrop lost events: $expert"

growth=$(( max_kib - base_kib ))
[ "$growth" -lt "$RSS_SLACK_KIB" ] ||
  fail "pwrudump's RSS grew by $growth KiB during the flood (from $base_kib KiB to $max_kib KiB)"
pass "$sent datagrams: $epb events written + $ifdrop lost, exact on stderr, in isb_ifdrop and" \
  "Wireshark's expert info; RSS $base_kib -> max $max_kib KiB; $MARKERS markers seen after the flood"
