# Hosts made of network namespaces for tests/hosts and bench/hosts.sh (sourced after
# tests/lib/common.sh; sources tests/lib/sshd.sh): host hK (K = 1..N) is namespace $(host_ns K) with address 10.X.K.2 on a veth
# pair to the router namespace $R (10.X.K.1), its default route through r, and an sshd of its
# own (its config and host key, key authentication only) on its address. The "laptop" is r: its
# ssh reaches every host with $SSH_OPTS (the test's key pair and known_hosts, nothing of the
# user's). Everything started is killed, and the namespaces removed, on exit.
#   hosts_setup N          builds them; $WORK is the scratch folder (readable by nobody)
#   host_line NAME ARGS... the hosts-file line of host NAME running PWRUDUMP there, limited to its
#                          namespace, with ARGS before the arguments ({ssh})
#   pwrudump_in NS         the pwrudump processes in namespace NS
# shellcheck shell=bash
# shellcheck source=../lib/sshd.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/sshd.sh"

SSHD_PIDS=()
HOSTS_NS=()

hosts_cleanup() {
  local rc=$? ns pids pid
  for ns in "${HOSTS_NS[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    # shellcheck disable=SC2086  # one pid a word
    [ -n "$pids" ] && kill $pids 2>/dev/null
  done
  for pid in "${SSHD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "${HOSTS_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  exit $rc
}

# host_ns K: host hK's namespace; host_ip K: its address; router_ip K: r's address on its link.
host_ns() { echo "pwru-h$1-$$"; }
host_ip() { echo "10.$HOSTS_ID.$1.2"; }
router_ip() { echo "10.$HOSTS_ID.$1.1"; }

hosts_setup() {
  local n=$1 k ns
  HOSTS_ID=$(( $$ % 200 + 20 ))
  R="pwru-r-$$"
  WORK=$(mktemp -d /tmp/pwru-hosts.XXXXXX)
  chmod 755 "$WORK"
  trap hosts_cleanup EXIT
  ip netns add "$R" || fail "cannot add namespace $R"
  HOSTS_NS+=("$R")
  ip -n "$R" link set lo up
  ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
  mkdir -p "$WORK/client"
  ssh-keygen -q -t ed25519 -N '' -C pwru-test-client -f "$WORK/client/id" ||
    fail "cannot make the client key"
  : >"$WORK/client/known_hosts"
  SSH_OPTS="-F none -i $WORK/client/id -o IdentitiesOnly=yes -o IdentityAgent=none \
-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/client/known_hosts \
-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5"
  for k in $(seq "$n"); do
    ns=$(host_ns "$k")
    ip netns add "$ns" || fail "cannot add namespace $ns"
    HOSTS_NS+=("$ns")
    ip -n "$ns" link set lo up
    ip link add "h${k}r$$" netns "$ns" type veth peer name "rh$k$$" netns "$R" ||
      fail "cannot add a veth pair"
    ip -n "$ns" addr add "$(host_ip "$k")/24" dev "h${k}r$$"
    ip -n "$R" addr add "$(router_ip "$k")/24" dev "rh$k$$"
    ip -n "$ns" link set "h${k}r$$" up
    ip -n "$R" link set "rh$k$$" up
    ip -n "$ns" route add default via "$(router_ip "$k")"
    start_sshd "h$k" "$ns" "$(host_ip "$k")"
  done
  for k in $(seq "$n"); do wait_sshd "h$k" "$(host_ip "$k")"; done
}

start_sshd() {  # NAME NS IP
  sshd_server "$WORK/$1" "$3" "$WORK/client/id.pub"
  ip netns exec "$2" /usr/sbin/sshd -D -f "$WORK/$1/sshd_config" -E "$WORK/$1/sshd.log" &
  SSHD_PIDS+=($!)
  sshd_known_host "$WORK/$1" "$3" >>"$WORK/client/known_hosts"
}

wait_sshd() {  # NAME IP
  local _
  for _ in $(seq 50); do
    # shellcheck disable=SC2086  # the options are words
    ip netns exec "$R" ssh $SSH_OPTS "root@$2" true 2>"$WORK/ssh-up.err" && return 0
    sleep 0.2
  done
  fail "cannot log in to $1's sshd: $(cat "$WORK/ssh-up.err" "$WORK/$1/sshd.log")"
}

host_line() {  # NAME IP NS ARGS...
  local name=$1 ip=$2 ns=$3
  shift 3
  echo "$name ssh $SSH_OPTS root@$ip $PWRUDUMP --filter-netns /run/netns/$ns $* {ssh}"
}

pwrudump_in() {
  local p
  for p in $(ip netns pids "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = pwrudump ] && echo "$p"
  done
}
