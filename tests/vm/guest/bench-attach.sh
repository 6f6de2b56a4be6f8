# Attach and detach timing inside the guest, for bench/vm-attach.sh (sourced by /init as the
# scenario "bench-attach", which provides report, send and uptime_s). Not a test: no traffic,
# no checks. From /scenario.env: BENCH_BACKENDS (space-separated), READY_TIMEOUT (seconds per
# attach). For each backend, timed by the guest clock (/proc/uptime, 10 ms):
#   list   pwrudump --list-funcs: BTF and the probe search alone (the run's baseline)
#   attach pwrudump with every skb function (its default) until the ready file exists
#   detach SIGINT until it exited
# Reported as "PWRU-VM bench backend=B listed=N rc=N l0= l1= start= ready= stop= exited=", and
# pwrudump's stderr ("attached N probes (B)") as the file "stderr-B".
# shellcheck shell=dash
set +x  # /init traces the scenario; a traced wait loop would slow the guest it times
PWRUDUMP=/usr/bin/pwrudump
for backend in $BENCH_BACKENDS; do
  l0=$(uptime_s)
  n=$("$PWRUDUMP" --list-funcs --backend "$backend" 2>/dev/null | grep -c .)
  l1=$(uptime_s)
  rm -f /tmp/ready
  t0=$(uptime_s)
  "$PWRUDUMP" -w /tmp/bench.pcapng --ready-file /tmp/ready --backend "$backend" "host 192.0.2.1" \
    >/dev/null 2>/tmp/stderr &
  pid=$!
  i=0
  while [ ! -e /tmp/ready ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((READY_TIMEOUT * 20)) ]; do
    sleep 0.05
    i=$((i + 1))
  done
  t1=$(uptime_s)
  [ -e /tmp/ready ] || t1=none
  sleep 1
  t2=$(uptime_s)
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  t3=$(uptime_s)
  report "bench backend=$backend listed=$n rc=$rc l0=$l0 l1=$l1 start=$t0 ready=$t1 stop=$t2 exited=$t3"
  send "stderr-$backend" /tmp/stderr
done
