# Debian's pwru beside pwrudump inside the guest, for bench/peer-pwru.sh (sourced by /init as
# the scenario "bench-peer-pwru", which provides report, send, uptime_s and hosts). Not a
# test: no checks. Both trace every skb function with kprobe-multi and write text (pwru with
# --output-meta --output-tuple, the columns pwrudump prints by default). From /scenario.env:
# PINGS, FLOOD_RATE and FLOOD_S (datagrams/s and seconds of the flood), IPERF_ROUNDS and
# IPERF_S, READY_TIMEOUT. Timed by the guest clock (/proc/uptime, 10 ms).
# Reports one line per traced run ("PWRU-VM bench-..." facts), each with the run's times
# (start, ready: the tracer attached; stop: SIGINT; exited), hwm (VmHWM, KiB, just before the
# SIGINT), lost (what pwrudump counted lost; none for pwru, which counts nothing) and rc:
#   bench-ping tool= events= pings=                 'icmp and host B', dropped in B
#   bench-flood tool= sent= ip_output= events=     'udp and host B', dropped in B
#   bench-iperf round= mode= kbps= written=   mode: none (untraced, no times or events),
#                                  TOOL-nomatch, TOOL-match; written: events TOOL wrote
# shellcheck shell=dash
set +x  # a traced wait loop would slow the guest it times
IP=/usr/bin/ip IPTABLES=/usr/sbin/iptables
PWRU=/usr/bin/pwru PWRUDUMP=/usr/bin/pwrudump IPERF3=/usr/bin/iperf3
hosts  # IP_A, IP_B
# The pings and the flood are dropped in the receiver, which then sends nothing back (no port
# unreachable that would make the flood's connected socket fail).
$IP netns exec b $IPTABLES -I INPUT -p icmp -j DROP
$IP netns exec b $IPTABLES -I INPUT -p udp -j DROP
$IP netns exec b $IPERF3 -s -B "$IP_B" -D
sleep 1

# start TOOL FILTER [OUT]: TOOL (pwru or pwrudump) tracing FILTER in the background, text into
# OUT (default /tmp/TOOL.out); back once it is ready. Sets pid, t_start, t_ready (none if it never was).
start() {
  # Neither the last run's ready file nor its stderr may say this one is ready.
  rm -f /tmp/ready "/tmp/$1.err"
  _out=${3:-/tmp/$1.out}
  t_start=$(uptime_s)
  if [ "$1" = pwru ]; then
    $PWRU --backend kprobe-multi --output-meta --output-tuple "$2" >"$_out" 2>/tmp/pwru.err &
    pid=$!
    ready() { grep -q 'Listening for events' /tmp/pwru.err; }
  else
    $PWRUDUMP --backend kprobe-multi --ready-file /tmp/ready "$2" >"$_out" \
      2>/tmp/pwrudump.err &
    pid=$!
    ready() { [ -e /tmp/ready ]; }
  fi
  _i=0
  while ! ready && kill -0 "$pid" 2>/dev/null && [ "$_i" -lt $((READY_TIMEOUT * 20)) ]; do
    sleep 0.05
    _i=$((_i + 1))
  done
  t_ready=$(uptime_s)
  ready || t_ready=none
}
# stop: peak RSS (VmHWM, KiB) into hwm, SIGINT, wait. Sets t_stop, t_exited, rc.
stop() {
  hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
  t_stop=$(uptime_s)
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  t_exited=$(uptime_s)
  # pwrudump's last line: "N events, M lost" (pwru counts nothing).
  lost=$(sed -n 's/^[0-9]* events, \([0-9]*\) lost$/\1/p' "/tmp/$tool.err")
  timed="start=$t_start ready=$t_ready stop=$t_stop exited=$t_exited hwm=$hwm lost=${lost:-none} rc=$rc"
}
# func_events FILE FUNC: lines of FILE with the function FUNC as a column of its own.
func_events() { awk -v f="$2" '{ for (i = 1; i <= NF; i++) if ($i == f) { n++; break } } END { print n + 0 }' "$1"; }
events() { grep -c '^0x' "$1"; }

for tool in pwru pwrudump; do
  start $tool "icmp and host $IP_B"
  # The same path for both: from an empty neighbour cache (see scenario-pwru.sh).
  $IP -n a neigh flush all
  $IP -n b neigh flush all
  $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/dev/null 2>&1
  sleep 1
  stop
  report "bench-ping tool=$tool events=$(events /tmp/$tool.out) pings=$PINGS $timed"
  send "ping-$tool" "/tmp/$tool.out"
done

for tool in pwru pwrudump; do
  start $tool "udp and host $IP_B"
  sent=$($IP netns exec a /usr/bin/udp-flood "$IP_B" 9 "$FLOOD_S" 1 "$FLOOD_RATE")
  sleep 2
  stop
  report "bench-flood tool=$tool sent=$sent ip_output=$(func_events /tmp/$tool.out ip_output) events=$(events /tmp/$tool.out) $timed"
  send "stderr-$tool-flood" "/tmp/$tool.err"
done

# iperf_kbps: one client run of IPERF_S seconds from a to b; the receiver's Kbit/s.
iperf_kbps() {
  $IP netns exec a $IPERF3 -c "$IP_B" -t "$IPERF_S" -f k 2>&1 |
    awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Kbits/sec") v = $i } END { print v + 0 }'
}
for round in $(seq "$IPERF_ROUNDS"); do
  report "bench-iperf round=$round mode=none kbps=$(iperf_kbps)"
  for filter in nomatch match; do
    for tool in pwru pwrudump; do
      f="host 192.0.2.1"
      [ $filter = match ] && f="tcp and port 5201"
      # Counted, not kept: a matching flow's text would fill the guest's memory.
      rm -f /tmp/count.fifo
      mkfifo /tmp/count.fifo
      grep -c '^0x' </tmp/count.fifo >/tmp/count &
      start $tool "$f" /tmp/count.fifo
      kbps=$(iperf_kbps)
      stop
      wait
      report "bench-iperf round=$round mode=$tool-$filter kbps=$kbps written=$(cat /tmp/count) $timed"
    done
  done
done
