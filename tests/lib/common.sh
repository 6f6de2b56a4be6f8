# Helpers shared by the shell tests: requirements, assertions, network namespaces.
# A test sources this file and calls `require_root` and friends first.
# shellcheck shell=bash

# ctest reads exit code 77 as "skipped" (SKIP_RETURN_CODE). A missing requirement is a skip on a
# developer's machine and a failure in CI, where everything must run.
skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL (CI must run this test): $*" >&2
    exit 1
  fi
  echo "SKIP: $*" >&2
  exit 77
}

require_root() {
  [ "$(id -u)" -eq 0 ] || skip_or_fail "needs root to load BPF programs and create network namespaces"
}

require_cmd() {
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip_or_fail "needs '$c' (run packaging/install-deps.sh)"
  done
}

# `fail` inside a subshell (`$(...)`, a pipeline, a background job) ends the whole test, not only
# the subshell, whose status the caller may never read: it signals the test's own shell.
PWRU_TEST_PID=$$
trap 'exit 1' USR1
fail() {
  echo "FAIL: $*" >&2
  if [ "$BASH_SUBSHELL" -gt 0 ]; then kill -USR1 "$PWRU_TEST_PID"; fi
  exit 1
}

pass() {
  echo "PASS: $*"
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# The pwru plugin wrapper next to this file (tshark with the build tree's plugin).
TSHARK_PLUGIN="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tshark-plugin.sh"

# e2e_hosts: the two test hosts (netns_pair) and $WORK, a scratch folder that user nobody can
# read (tshark runs as nobody), all removed on exit.
e2e_hosts() {
  netns_pair
  WORK=$(mktemp -d /tmp/pwru-e2e.XXXXXX)
  chmod 755 "$WORK"
}

# vxlan_hosts: e2e_hosts joined by a VXLAN tunnel (VNI 42, port 4789) over their veth pair too:
#   $NS_A ($VX_A, $IN_A)  <->  $NS_B ($VX_B, $IN_B)
vxlan_hosts() {
  e2e_hosts
  local id=$(( $$ % 200 + 20 )) side ns_var in_var veth_var peer
  # shellcheck disable=SC2034  # the tests read them
  IN_A="192.168.$id.1" IN_B="192.168.$id.2" VX_A="vxA$$" VX_B="vxB$$"
  for side in A B; do
    ns_var="NS_$side" in_var="IN_$side" veth_var="VETH_$side"
    peer=$([ $side = A ] && echo "$IP_B" || echo "$IP_A")
    ip -n "${!ns_var}" link add "vx$side$$" type vxlan id 42 remote "$peer" dstport 4789 \
      dev "${!veth_var}" || fail "cannot add the VXLAN device (vxlan module)"
    ip -n "${!ns_var}" addr add "${!in_var}/24" dev "vx$side$$"
    ip -n "${!ns_var}" link set "vx$side$$" up
  done
}

# router_hosts: e2e_hosts with a router between them, each host routing through R:
#   $NS_A ($IP_A) - ($IP_RA) $NS_R ($IP_RB) - $NS_B ($IP_B)
# Removed on exit with netns_pair's.
router_hosts() {
  e2e_hosts
  local id=$(( $$ % 200 + 20 ))
  NS_R="pwru-r-$$"
  IP_A="10.241.$id.1" IP_RA="10.241.$id.254" IP_RB="10.242.$id.254" IP_B="10.242.$id.2"
  # shellcheck disable=SC2034  # for the tests: an address no host has, for a DNAT to B
  VIP="10.243.$id.99"
  # shellcheck disable=SC2154  # rc is the trap's own
  trap 'rc=$?; ip netns del "$NS_R" 2>/dev/null; (exit $rc); netns_cleanup' EXIT
  ip netns add "$NS_R"
  ip -n "$NS_R" link set lo up
  # The pair netns_pair made joins A to R now; B gets a pair of its own to R.
  ip -n "$NS_B" link set "$VETH_B" netns "$NS_R" || fail "cannot move $VETH_B to $NS_R"
  VETH_RA=$VETH_B VETH_RB="pwr$$" VETH_B="pwc$$"
  ip link add "$VETH_RB" netns "$NS_R" type veth peer name "$VETH_B" netns "$NS_B" ||
    fail "cannot add the veth pair R-B"
  ip -n "$NS_A" addr flush dev "$VETH_A"
  ip -n "$NS_A" addr add "$IP_A/24" dev "$VETH_A"
  ip -n "$NS_R" addr add "$IP_RA/24" dev "$VETH_RA"
  ip -n "$NS_R" addr add "$IP_RB/24" dev "$VETH_RB"
  ip -n "$NS_B" addr add "$IP_B/24" dev "$VETH_B"
  ip -n "$NS_R" link set "$VETH_RA" up
  ip -n "$NS_R" link set "$VETH_RB" up
  ip -n "$NS_B" link set "$VETH_B" up
  ip -n "$NS_A" route add default via "$IP_RA"
  ip -n "$NS_B" route add default via "$IP_RB"
  ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 || fail "cannot turn on forwarding in R"
}

# Two hosts joined by a veth pair, in namespaces named after this test run:
#   $NS_A ($VETH_A, $IP_A)  <->  $NS_B ($VETH_B, $IP_B)
# Only these two addresses ever receive traffic. Removed on exit.
netns_pair() {
  local id=$(( $$ % 200 + 20 ))
  NS_A="pwru-a-$$"
  NS_B="pwru-b-$$"
  VETH_A="pwa$$"
  VETH_B="pwb$$"
  IP_A="10.231.$id.1"
  IP_B="10.231.$id.2"
  trap netns_cleanup EXIT
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
  ip -n "$NS_A" addr add "$IP_A/24" dev "$VETH_A"
  ip -n "$NS_B" addr add "$IP_B/24" dev "$VETH_B"
  ip -n "$NS_A" link set lo up
  ip -n "$NS_B" link set lo up
  ip -n "$NS_A" link set "$VETH_A" up
  ip -n "$NS_B" link set "$VETH_B" up
  # shellcheck disable=SC2034  # for the tests: the inodes that events carry as pwru.netns
  NETNS_B_INODE=$(stat -L -c %i "/run/netns/$NS_B") NETNS_A_INODE=$(stat -L -c %i "/run/netns/$NS_A")
}

netns_cleanup() {
  local rc=$?
  [ -n "${PWRU_PID:-}" ] && kill "$PWRU_PID" 2>/dev/null && wait "$PWRU_PID" 2>/dev/null
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  exit $rc
}

# descendants PID: the processes under PID, deepest last.
descendants() {
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}

# wait_for_file PATH SECONDS
wait_for_file() {
  for _ in $(seq 1 $(( $2 * 10 ))); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# start_trace OUT.pcapng [pwrudump args...]: pwrudump -w OUT in the background, back once attached.
# Quiet, unless TRACE_LOUD=1: then $WORK/stderr also says what was attached and what skipped.
start_trace() {
  local out=$1 quiet=(-q)
  shift
  [ "${TRACE_LOUD:-}" = 1 ] && quiet=()
  rm -f "$WORK/ready"
  "$PWRUDUMP" "${quiet[@]}" -w "$out" --ready-file "$WORK/ready" "$@" >"$WORK/stdout" 2>"$WORK/stderr" &
  PWRU_PID=$!
  wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
}

# extcap_link DIR PWRUDUMP READY: DIR/pwrudump, the extcap that Wireshark finds in DIR: it runs
# PWRUDUMP, which creates READY once its probes are attached, so a test that starts a capture
# through Wireshark knows when traffic will be seen (wait_for_file READY) instead of guessing.
extcap_link() {
  mkdir -p "$1"
  printf '#!/bin/sh\nexec %q --ready-file %q "$@"\n' "$(readlink -f "$2")" "$3" >"$1/pwrudump"
  chmod 755 "$1/pwrudump"
}

# wait_attached READY WHAT: back once READY exists (extcap_link), or fail after 60 s.
wait_attached() {
  wait_for_file "$1" 60 || fail "$2 never attached its probes (no $1)"
}

# stop_trace: SIGINT, as a user's Ctrl-C; pwrudump must exit 0 with a complete file.
stop_trace() {
  sleep 0.5
  kill -INT "$PWRU_PID"
  wait "$PWRU_PID"
  local rc=$?
  PWRU_PID=
  assert_eq "pwrudump exit code after SIGINT (stderr: $(cat "$WORK/stderr"))" 0 "$rc"
}

# fields FILE [tshark args...]: tshark with the build tree's pwru plugin, one line per packet.
fields() {
  local file=$1
  shift
  chmod 644 "$file"
  "$TSHARK_PLUGIN" "$BUILD" -r "$file" -T fields -E separator=' ' "$@" \
    || fail "tshark could not read $file"
}

count_lines() { grep -c . <<<"$1"; }

# tshark_booleans: tshark -T fields output with boolean fields as Wireshark 4.0 prints them (1 or
# 0); 4.2 and later print True or False.
tshark_booleans() {
  sed -e 's/\bTrue\b/1/g' -e 's/\bFalse\b/0/g'
}

# The tshark fields of a dropped ping (assert_dropped_pings), and a filter for those drops.
# shellcheck disable=SC2034  # for the tests
DROPPED_PING_FILTER='pwru.func == "kfree_skb" && pwru.drop_reason == "NETFILTER_DROP"'
# shellcheck disable=SC2034  # for the tests
DROPPED_PING_FIELDS=(-e pwru.ip.dst -e pwru.netns -e pwru.ifname -e icmp.type -e pwru.caller)
# assert_dropped_pings LINES: each line (DROPPED_PING_FIELDS, space-separated) is an echo request
# to netns_pair's receiver, dropped there on its veth by a netfilter function.
assert_dropped_pings() {
  local dst netns ifname icmp_type caller
  while read -r dst netns ifname icmp_type caller; do
    assert_eq "pwru.ip.dst" "$IP_B" "$dst"
    assert_eq "pwru.netns (the receiver's namespace)" "$NETNS_B_INODE" "$netns"
    assert_eq "pwru.ifname (the receiver's veth)" "$VETH_B" "$ifname"
    assert_eq "icmp.type of the dissected payload" 8 "$icmp_type"
    # The netfilter function that freed it: nf_hook_slow, or nft_do_chain where iptables runs
    # on nftables (as on Debian 12). Named, not a bare address.
    case "$caller" in nf_*+0x* | nft_*+0x* | ipt_*+0x*) ;;
      *) fail "pwru.caller: expected a netfilter function+0x..., got '$caller'" ;; esac
  done <<<"$1"
}

# one_line TEXT: the words of TEXT on one line, one space apart (`echo $TEXT` without globbing).
one_line() {
  local words
  read -r -d '' -a words <<<"$1"
  echo "${words[*]}"
}
