#!/usr/bin/env bash
# Tracing as an unprivileged user (nobody) with a copy of pwrudump that holds only the file
# capabilities the Debian package grants (cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search=ep,
# docs/privileges.md), in the drop scenario (iptables drops ICMP in B):
#   - on the command line: every ping is seen dropped at kfree_skb with NETFILTER_DROP in B;
#   - in tshark -i pwru run by nobody (the extcap in nobody's personal folder): the same drops;
#   - a copy without capabilities: exit 4 with the message naming CAP_BPF and CAP_PERFMON, on
#     the command line and in tshark's extcap error.
# usage: privileges_test.sh PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
PWRUDUMP=$1 BUILD=$2
CAPS=cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search
PINGS=3

require_root
require_cmd ip iptables ping tshark setpriv setcap getcap
e2e_hosts
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
mkdir -p "$WORK/caps" "$WORK/plain" "$WORK/out" "$WORK/home"
cp "$PWRUDUMP" "$WORK/caps/pwrudump" && cp "$PWRUDUMP" "$WORK/plain/pwrudump"
chmod 755 "$WORK/caps" "$WORK/plain" "$WORK/caps/pwrudump" "$WORK/plain/pwrudump"
chown nobody:nogroup "$WORK/out" "$WORK/home"
setcap "$CAPS=ep" "$WORK/caps/pwrudump" ||
  skip_or_fail "cannot set file capabilities in $WORK (a file system without extended attributes?)"
getcap "$WORK/caps/pwrudump" | grep -q cap_bpf || fail "setcap left no capability on the copy"
FILTER="icmp and host $IP_B"

ping_b() { ip netns exec "$NS_A" ping -c $PINGS -i 0.2 -W 1 "$IP_B" >/dev/null; }

# drops FILE: "ifname netns" of each kfree_skb NETFILTER_DROP event (tshark with the plugin).
drops() {
  fields "$1" -Y 'pwru.func == "kfree_skb" && pwru.drop_reason == "NETFILTER_DROP"' \
    -e pwru.ifname -e pwru.netns
}

# --- the command line, as nobody with the capabilities ---
"${AS_NOBODY[@]}" "$WORK/caps/pwrudump" -q -w "$WORK/out/cli.pcapng" --ready-file "$WORK/out/ready" \
  "$FILTER" 2>"$WORK/stderr" &
PWRU_PID=$!
wait_for_file "$WORK/out/ready" 60 || fail "pwrudump as nobody never got ready: $(cat "$WORK/stderr")"
ping_b
stop_trace
seen=$(drops "$WORK/out/cli.pcapng")
assert_eq "drops seen by pwrudump as nobody with $CAPS" "$PINGS" "$(count_lines "$seen")"
assert_eq "where (interface, netns)" "$VETH_B $NETNS_B_INODE" "$(sort -u <<<"$seen")"

# --- Wireshark's path: tshark run by nobody, the extcap in nobody's personal folder ---
# tshark_as_nobody EXTCAP SECONDS OUT [tshark args...]
tshark_as_nobody() {
  local extcap=$1 secs=$2 out=$3
  shift 3
  rm -rf "$WORK/home/.config" "$WORK/out/live.ready"
  "${AS_NOBODY[@]}" mkdir -p "$WORK/home/.config/wireshark/extcap"
  extcap_link "$WORK/home/.config/wireshark/extcap" "$extcap" "$WORK/out/live.ready"
  "${AS_NOBODY[@]}" env -u XDG_CONFIG_HOME HOME="$WORK/home" tshark -i pwru -f "$FILTER" \
    -o extcap.pwru.backend:tracepoint -a "duration:$secs" -w "$out" "$@" \
    >"$WORK/tshark.out" 2>"$WORK/tshark.err"
}
tshark_as_nobody "$WORK/caps/pwrudump" 8 "$WORK/out/live.pcapng" &
TSHARK_PID=$!
wait_attached "$WORK/out/live.ready" "pwrudump under tshark as nobody (stderr: $(cat "$WORK/tshark.err"))"
ping_b
wait "$TSHARK_PID"
rc=$?
assert_eq "tshark exit status (stderr: $(cat "$WORK/tshark.err"))" 0 "$rc"
grep -qi "error" "$WORK/tshark.err" && fail "tshark as nobody reported an error: $(cat "$WORK/tshark.err")"
n=$(count_lines "$(drops "$WORK/out/live.pcapng")")
assert_eq "drops seen by tshark -i pwru as nobody (stderr: $(cat "$WORK/tshark.err"))" "$PINGS" "$n"

# --- without capabilities: the Permission message and exit status ---
"${AS_NOBODY[@]}" "$WORK/plain/pwrudump" "$FILTER" >/dev/null 2>"$WORK/stderr"
rc=$?
assert_eq "exit status without capabilities (stderr: $(cat "$WORK/stderr"))" 4 "$rc"
grep -qx "pwrudump: cannot create the event ring buffer: Operation not permitted" "$WORK/stderr" ||
  fail "message without capabilities: $(cat "$WORK/stderr")"
grep -qx "hint: run as root, or grant pwrudump CAP_BPF and CAP_PERFMON" "$WORK/stderr" ||
  fail "hint without capabilities: $(cat "$WORK/stderr")"
tshark_as_nobody "$WORK/plain/pwrudump" 5 "$WORK/out/none.pcapng"
grep -qF "Error by extcap pipe: pwrudump: cannot create the event ring buffer: Operation not permitted" \
  "$WORK/tshark.err" || fail "tshark as nobody does not show the permission error: $(cat "$WORK/tshark.err")"
grep -qF "CAP_BPF and CAP_PERFMON" "$WORK/tshark.err" || fail "tshark does not show the hint: $(cat "$WORK/tshark.err")"

pass "nobody with $CAPS traced $PINGS drops (command line) and $n (tshark -i pwru); without" \
  "capabilities: exit 4 and the message, in tshark too"
