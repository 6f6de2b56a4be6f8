# Debian's pwru and pwrudump side by side on the drop scenario (sourced by scenario-drop.sh when
# PWRU_SIDE=1, after its own run, so the kernel boots once): the receiver still drops ICMP with
# iptables-legacy; each tracer in turn traces PINGS pings with its text output and the same pcap
# filter, every skb function with kprobe-multi (pwru's default set: vmlinux's; pwrudump's: also
# the modules' and the skb tracepoints), stopped by SIGINT.
# Reports side-pwru and side-side (pwrudump: ready, start, ready_at, rc, ping rc); sends their
# stdout and stderr (pwru-out, pwru-err, side-out, side-err), pwrudump's tracepoints and the
# loaded modules' functions.
# shellcheck shell=dash
PWRU=/usr/bin/pwru
report "pwru version=$($PWRU --version 2>&1 | head -n 1 | tr ' ' _)"

# side_run NAME READY_PATTERN COMMAND...: COMMAND in the background, stdout and stderr in
# /tmp/NAME.out and .err, ready once its stderr has READY_PATTERN (pwru 1.0.5 has no ready file);
# then the pings, a second for the last events, SIGINT.
side_run() {
  _name=$1 _pattern=$2
  shift 2
  rm -f "/tmp/$_name.err"
  _t0=$(uptime_s)
  "$@" "icmp and host $IP_B" >"/tmp/$_name.out" 2>"/tmp/$_name.err" &
  _pid=$!
  set +x
  _i=0
  while ! grep -q "$_pattern" "/tmp/$_name.err" && kill -0 "$_pid" 2>/dev/null &&
        [ "$_i" -lt $((READY_TIMEOUT * 10)) ]; do
    sleep 0.1
    _i=$((_i + 1))
  done
  set -x
  if grep -q "$_pattern" "/tmp/$_name.err"; then
    _ready=$(uptime_s)
    # The same path for both: the pings start from an empty neighbour cache (pwru takes long
    # enough to attach for an entry to go stale, which changes the functions on the way out).
    $IP -n a neigh flush all
    $IP -n b neigh flush all
    $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/dev/null 2>&1
    _ping=$?
    sleep 1
    kill -INT "$_pid"
    wait "$_pid"
    report "side-$_name ready=yes start=$_t0 ready_at=$_ready rc=$? ping=$_ping"
  else
    kill -INT "$_pid" 2>/dev/null
    wait "$_pid"
    report "side-$_name ready=no start=$_t0 gave_up=$(uptime_s) rc=$?"
  fi
  set +x
  send "$_name-out" "/tmp/$_name.out"
  send "$_name-err" "/tmp/$_name.err"
  set -x
}

side_run pwru 'Listening for events' $PWRU --backend kprobe-multi --output-meta --output-tuple
side_run side 'attached [0-9]* probes' "$PWRUDUMP" --backend kprobe-multi --output-caller
# What the host needs to tell pwrudump's extra events apart: its tracepoints, and the functions
# of the loaded modules ("name [module]").
set +x
"$PWRUDUMP" --list-funcs --backend tracepoint >/tmp/tracepoints 2>&1
send tracepoints /tmp/tracepoints
awk '$2 ~ /^[tT]$/ && $4 ~ /^\[/ { print $3, $4 }' /proc/kallsyms >/tmp/module-funcs
send module-funcs /tmp/module-funcs
set -x
