# --nf-trace in the guest (sourced by scenario-drop.sh when NFTRACE=1, after its own run, so the
# kernel boots once): the receiver's pings are dropped by an nftables rule instead of
# iptables-legacy's, traced by `pwrudump --nf-trace` twice: stopped by SIGINT, then by SIGKILL,
# each time listing the trace tables while it runs and after it is gone.
# Reports nft-setup (rc, handle), nftrace-int and nftrace-kill (ready, rc, tables during and
# after, owned), kallsyms (nf_tables' trace_key listed); sends nftrace-json and nftrace-stderr.
# Where the tables are not owned, also nftrace-stale (the tables left when pwrudump and its
# watcher are killed at once) and nftrace-next (the run after, which deletes them).
# shellcheck shell=dash
NFT=/usr/sbin/nft
$IP netns exec b "$IPTABLES" -D INPUT -p icmp -j DROP
$IP netns exec b "$NFT" -f - <<EOF_NFT
table inet pwrutest {
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request drop
  }
}
EOF_NFT
nft_rc=$?
handle=$($IP netns exec b "$NFT" -a list chain inet pwrutest input | awk '/drop # handle/ { print $NF }')
report "nft-setup rc=$nft_rc handle=$handle"

# pwrudump's trace tables in b: "ip NAME ip6 NAME" sorted, or "none".
nf_tables_of_b() {
  _t=$($IP netns exec b "$NFT" list tables | awk '$3 ~ /^pwrudump_/ { print $2 "_" $3 }' | sort | tr '\n' ' ')
  echo "${_t:-none}" | sed 's/ $//; s/ /,/g'
}

# nftrace_run NAME SIGNAL PWRUDUMP_ARGS...: one traced run in b, stopped by SIGNAL.
nftrace_run() {
  _name=$1 _sig=$2
  shift 2
  rm -f /tmp/ready
  "$PWRUDUMP" "$@" --nf-trace --filter-netns /run/netns/b --output-json \
    --output-file "/tmp/$_name.json" --ready-file /tmp/ready "icmp and host $IP_B" \
    2>"/tmp/$_name.stderr" &
  _pid=$!
  wait_ready /tmp/ready "$_pid" "$READY_TIMEOUT"
  _ready=no
  [ -e /tmp/ready ] && _ready=yes
  _during=$(nf_tables_of_b)
  _owned=$($IP netns exec b "$NFT" list table ip "pwrudump_$_pid" 2>/dev/null | grep -c 'flags owner')
  [ "$_ready" = yes ] && $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/dev/null 2>&1
  sleep 1
  kill "-$_sig" "$_pid"
  wait "$_pid"
  _rc=$?
  # The watcher of a table that is not owned (Linux before 5.12) deletes it once pwrudump died.
  sleep 1
  report "nftrace-$_name ready=$_ready rc=$_rc pid=$_pid during=$_during owned=$_owned after=$(nf_tables_of_b)"
}

eval "set -- $PWRU_ARGS"
nftrace_run int INT "$@"
eval "set -- $PWRU_ARGS"
nftrace_run kill KILL "$@"

# Tables that are not owned (Linux before 5.12): pwrudump and its watcher killed at once leave
# them; the next run deletes them as it starts.
if [ "$_owned" = 0 ]; then
  eval "set -- $PWRU_ARGS"
  rm -f /tmp/ready
  "$PWRUDUMP" "$@" --nf-trace --filter-netns /run/netns/b --output-file /dev/null \
    --ready-file /tmp/ready icmp 2>/tmp/stale.stderr &
  _stale=$!
  wait_ready /tmp/ready "$_stale" "$READY_TIMEOUT"
  # Its descendants (the broker, the watcher under it) first, the deepest first: killed after
  # its parent, the watcher could delete the tables in between.
  _level=$_stale _all=""
  while [ -n "$_level" ]; do
    _level=$(for _p in $_level; do
               awk -v p="$_p" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null
             done)
    _all="$_level $_all"
  done
  # shellcheck disable=SC2086  # one pid a word
  kill -KILL $_all "$_stale"
  wait "$_stale"
  sleep 1
  _left=$(nf_tables_of_b)
  nftrace_run next INT "$@"
  report "nftrace-stale pid=$_stale left=$_left"
fi
report "kallsyms trace_key=$(grep -c ' trace_key\.' /proc/kallsyms)"
set +x
send nftrace-json /tmp/int.json
send nftrace-stderr /tmp/int.stderr
set -x
