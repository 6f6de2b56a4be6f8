# The drop scenario of tests/e2e/drop_test.sh inside the guest (sourced by /init, which provides
# report, send, uptime_s and wait_ready): two network namespaces joined by veth, iptables
# dropping ICMP in the receiver, pings across, traced by pwrudump into a pcapng that goes back to
# the host.
# From /scenario.env: PWRU_ARGS (extra pwrudump arguments, shell-quoted: --backend ...),
# PINGS, READY_TIMEOUT (seconds pwrudump may take to attach).
# PWRUDUMP, when set, is the command to trace with (scenario-privileges.sh: as another user).
# Busybox runs its own applets before PATH: the real tools are called by their paths.
# shellcheck shell=dash
IP=/usr/bin/ip IPTABLES=/usr/sbin/iptables PWRUDUMP=${PWRUDUMP:-/usr/bin/pwrudump}
IP_A=10.231.0.1
IP_B=10.231.0.2
$IP netns add a
$IP netns add b
$IP link add va netns a type veth peer name vb netns b
$IP -n a addr add "$IP_A/24" dev va
$IP -n b addr add "$IP_B/24" dev vb
$IP -n a link set lo up
$IP -n b link set lo up
$IP -n a link set va up
$IP -n b link set vb up
$IP netns exec b $IPTABLES -I INPUT -p icmp -j DROP
report "iptables rc=$? version=$($IPTABLES --version | tr ' ' _)"
report "receiver ip=$IP_B netns=$(stat -L -c %i /run/netns/b) ifname=vb"

eval "set -- $PWRU_ARGS"
t0=$(uptime_s)
"$PWRUDUMP" -w /tmp/trace.pcapng --ready-file /tmp/ready "$@" "icmp and host $IP_B" \
  >/tmp/stdout 2>/tmp/stderr &
pid=$!
wait_ready /tmp/ready "$pid" "$READY_TIMEOUT"
if [ -e /tmp/ready ]; then
  # uid: the user tracing, pwrudump's real uid (root unless PWRUDUMP switches).
  uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
  report "attach ok=yes start=$t0 ready=$(uptime_s) uid=$uid"
  $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/tmp/ping.out 2>&1
  report "ping rc=$?"
  sleep 1
  t1=$(uptime_s)
  kill -INT "$pid"
else
  report "attach ok=no start=$t0 gave_up=$(uptime_s)"
  kill -INT "$pid" 2>/dev/null
fi
wait "$pid"
report "pwrudump rc=$? stop=${t1:-} exited=$(uptime_s)"
set +x
send stderr /tmp/stderr
send stdout /tmp/stdout
[ -e /tmp/ping.out ] && send ping /tmp/ping.out
[ -e /tmp/trace.pcapng ] && send pcapng /tmp/trace.pcapng
# With NFTRACE=1, the same drop named by --nf-trace (scenario-nftrace.sh).
set -x
# shellcheck source=scenario-nftrace.sh
[ "${NFTRACE:-}" = 1 ] && . /scenario/scenario-nftrace.sh
set +x
dmesg >/tmp/dmesg
send dmesg /tmp/dmesg
