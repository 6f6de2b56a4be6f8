#!/usr/bin/env bash
# A live capture through SUITE's own `tshark -i pwru`, with the extcap and the plugin that
# distro.SUITE.build built in the suite's root: the drop scenario of tests/e2e/extcap_test.sh
# (pings dropped by iptables in a network namespace), decoded by the suite's tshark. The root
# shares this machine's kernel: tshark and pwrudump run inside it with /sys mounted (BTF,
# tracefs, bpffs); the namespaces and the pings are made outside it. This loads BPF objects that
# the suite's clang compiled into the running kernel.
#
# usage: live_test.sh SUITE BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 2 ] || fail "usage: live_test.sh SUITE BUILD_DIR"
suite=$1 build=$2
require_root
require_cmd debootstrap unshare ip iptables ping
distro_built "$suite" "$build"
root=$(distro_build_root "$suite")
# in_root COMMAND...: inside the root, with the test's folder at /mnt/work.
in_root() { distro_in_root "$root" "$build" --sys --bind "$WORK" work "$@"; }

e2e_hosts
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
# Root's tshark finds pwrudump in its personal extcap folder: $XDG_CONFIG_HOME/wireshark/extcap in
# 4.0, ~/.local/lib/wireshark/extcap from 4.4 on. The wrapper (as extcap_link's) has the paths the
# root sees.
for dir in home/.config/wireshark/extcap home/.local/lib/wireshark/extcap; do
  mkdir -p "$WORK/$dir"
  printf '#!/bin/sh\nexec /mnt/build/extcap/pwrudump --ready-file /mnt/work/ready "$@"\n' \
    >"$WORK/$dir/pwrudump"
  chmod 755 "$WORK/$dir/pwrudump"
done
PINGS=6

touch "$WORK/tshark.err"
in_root HOME=/mnt/work/home XDG_CONFIG_HOME=/mnt/work/home/.config tshark -i pwru -f "icmp and host $IP_B" \
  -o "extcap.pwru.filternetns:inode:$NETNS_B_INODE" -o extcap.pwru.backend:tracepoint \
  -a duration:10 -w /mnt/work/trace.pcapng >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
TSHARK_PID=$!
wait_attached "$WORK/ready" "pwrudump under $suite's tshark (stderr: $(cat "$WORK/tshark.err"))"
ip netns exec "$NS_A" ping -c $PINGS -i 0.3 -W 1 "$IP_B" >/dev/null
wait "$TSHARK_PID"
rc=$?
assert_eq "$suite's tshark exit code (stderr: $(cat "$WORK/tshark.err"))" 0 "$rc"
if grep -qi "error" "$WORK/tshark.err"; then
  fail "$suite's tshark reported an error from the extcap: $(cat "$WORK/tshark.err")"
fi
chmod 644 "$WORK/trace.pcapng"

# shellcheck disable=SC2016 # dpkg-query's format
version=$(in_root dpkg-query -W -f='${Version}' tshark)
drops=$(in_root /mnt/src/tests/lib/tshark-plugin.sh /mnt/build -r /mnt/work/trace.pcapng \
          -Y "$DROPPED_PING_FILTER" -T fields -E separator=' ' "${DROPPED_PING_FIELDS[@]}") ||
  fail "$suite's tshark $version with the plugin cannot read the capture (above)"
n=$(count_lines "$drops")
assert_eq "dropped pings decoded by $suite's tshark $version" "$PINGS" "$n"
assert_dropped_pings "$drops"
pass "$suite's tshark $version -i pwru captured $n netfilter drops (kfree_skb NETFILTER_DROP)" \
     "through the extcap built there, decoded by its plugin ($(uname -r))"
