#!/usr/bin/env bash
# Wireshark on another machine: the server is an sshd of the test's own in namespace B (its own
# config, host key and key pair; no system sshd touched), the laptop is namespace A, and the
# netns drop scenario (pings from A, ICMP dropped by iptables in B) is traced on the server:
#   sshdump: tshark -i sshdump (Wireshark's own extcap) runs `pwrudump -q -w - FILTER` over ssh;
#            the capture stops after a fixed time (-a duration).
#   pipe:    ssh server pwrudump -q -w - FILTER | tshark -i -; it stops after N packets (-c N),
#            with nothing traced afterwards: ssh learns that tshark left only from pwrudump's
#            keep-alive blocks.
#   hangup:  ssh -tt server pwrudump -q -w FILE (a terminal); the client goes away, the terminal
#            hangs up (SIGHUP), and pwrudump still completes FILE with its statistics block.
# tshark runs as nobody with the build tree's plugin and decodes every drop. When the capture
# stops, nothing is left on the server side: no pwrudump, no ssh session, no BPF program or link
# pwrudump held, and stderr stayed empty. The sshd is killed on exit.
# usage: remote_test.sh sshdump|pipe|hangup PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/sshd.sh
. "$here/../lib/sshd.sh"
# shellcheck source=../reliability/reliability-lib.sh
. "$here/../reliability/reliability-lib.sh"
mode=$1 PWRUDUMP=$(readlink -f "$2") BUILD=$(readlink -f "$3")
SSHDUMP=/usr/lib/x86_64-linux-gnu/wireshark/extcap/sshdump

require_root
require_cmd ip iptables ping tshark setpriv bpftool python3 ssh ssh-keygen /usr/sbin/sshd
[ "$mode" != sshdump ] || [ -x "$SSHDUMP" ] ||
  skip_or_fail "needs Wireshark's sshdump ($SSHDUMP, package wireshark-common)"
e2e_hosts
SSHD_PID=
# Whatever the test started runs in its two namespaces: the sshd, its sessions and what they
# run (pwrudump) in B, ssh and tshark in A. On a failure some may still run: all are killed.
remote_cleanup() {
  local rc=$? ns pids
  for ns in "$NS_B" "$NS_A"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    # shellcheck disable=SC2086  # one pid a word
    [ -n "$pids" ] && kill $pids 2>/dev/null
  done
  [ -n "$SSHD_PID" ] && wait "$SSHD_PID" 2>/dev/null
  (exit $rc)
  netns_cleanup
}
trap remote_cleanup EXIT
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
PINGS=3
# tshark runs as nobody: it must be able to stand in the folder it starts in.
cd "$WORK" || fail "cannot enter $WORK"

# The server: host key, the client's key in authorized_keys, and only what the test needs.
mkdir -p "$WORK/client"
ssh-keygen -q -t ed25519 -N '' -C pwru-test-client -f "$WORK/client/id" ||
  fail "cannot make the client key"
sshd_server "$WORK/server" "$IP_B" "$WORK/client/id.pub"
ip netns exec "$NS_B" /usr/sbin/sshd -D -f "$WORK/server/sshd_config" -E "$WORK/sshd.log" &
SSHD_PID=$!
sshd_known_host "$WORK/server" "$IP_B" >"$WORK/client/known_hosts"
SSH=(ssh -F none -i "$WORK/client/id" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes
     -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/client/known_hosts"
     -o GlobalKnownHostsFile=/dev/null "root@$IP_B")
up=0
for _ in $(seq 50); do
  if ip netns exec "$NS_A" "${SSH[@]}" true 2>"$WORK/ssh-up.err"; then up=1; break; fi
  kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd exited: $(cat "$WORK/sshd.log")"
  sleep 0.2
done
[ "$up" = 1 ] || fail "cannot log in to the test's sshd: $(cat "$WORK/ssh-up.err" "$WORK/sshd.log")"

# What the server runs; the ready file also names this test's pwrudump among all processes.
READY=$WORK/ready
FILTER="icmp and host $IP_B"
remote_pwrudump() { printf '%q -q --ready-file %q %s %q' "$PWRUDUMP" "$READY" "$*" "$FILTER"; }
# The server's pwrudump, not the client-side commands that carry its command line (ssh, tshark).
ours() { pgrep "$@" -f -- "^$PWRUDUMP -q --ready-file $READY "; }

# wait_attached_remote WHAT: back once the server's pwrudump attached; its BPF objects in $IDS.
wait_attached_remote() {
  wait_attached "$READY" "$1 (stderr: $(cat "$WORK"/*.err 2>/dev/null))"
  local pid
  # The oldest: pwrudump forks its namespace broker (--diagnose), which has the same command line.
  pid=$(ours -o) ||
    fail "no pwrudump on the server although it is attached"
  IDS=$(bpf_ids_of "$pid")
  grep -q '^link:' <<<"$IDS" || fail "the server's pwrudump (pid $pid) holds no BPF link: '$IDS'"
}

# assert_server_clean WHAT: within 10 s of the capture's stop, no pwrudump of ours is left, no
# process but the sshd listener in the server's namespace, none of pwrudump's BPF objects.
assert_server_clean() {
  local left=
  for _ in $(seq 50); do
    left=$(ip netns pids "$NS_B" | grep -vx "$SSHD_PID"; ours)
    [ -z "$left" ] && break
    sleep 0.2
  done
  [ -z "$left" ] || fail "$1: still running on the server: $(ps -o pid=,args= -p "$(one_line "$left" | tr ' ' ,)")"
  assert_bpf_gone "$IDS" "$1"
}

# check_drops LINES: one line per ping (DROPPED_PING_FIELDS), each a netfilter drop in B seen on
# B's veth, as ICMP.
check_drops() {
  assert_eq "netfilter drops decoded (tshark: $(cat "$WORK/tshark.err"))" "$PINGS" "$(count_lines "$1")"
  assert_dropped_pings "$1"
}

ping_b() {
  ip netns exec "$NS_A" ping -c "$PINGS" -i 0.3 -W 1 "$IP_B" >/dev/null &&
    fail "pings got through although ICMP is dropped"
}

case "$mode" in
sshdump)
  # The client's key, readable by nobody, who runs tshark and so sshdump.
  chown -R nobody:nogroup "$WORK/client"
  # Options as tshark passes them (-o extcap.sshdump.<option without dashes>). "other" is the
  # capture command selection of the dialog; with a command of its own sshdump passes neither
  # the capture filter nor --remote-filter on: the filter is in the command.
  ip netns exec "$NS_A" "$TSHARK_PLUGIN" "$BUILD" -i sshdump \
    -o "extcap.sshdump.remotehost:$IP_B" -o extcap.sshdump.remoteport:22 \
    -o extcap.sshdump.remoteusername:root -o "extcap.sshdump.sshkey:$WORK/client/id" \
    -o extcap.sshdump.remotecapturecommandselect:other \
    -o "extcap.sshdump.remotecapturecommand:$(remote_pwrudump -w -)" \
    -a duration:15 -Y "$DROPPED_PING_FILTER" -T fields -E separator=' ' "${DROPPED_PING_FIELDS[@]}" \
    >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
  TSHARK_PID=$!
  wait_attached_remote "pwrudump run by sshdump"
  ping_b
  wait "$TSHARK_PID"
  assert_eq "tshark exit code (stderr: $(cat "$WORK/tshark.err"))" 0 "$?"
  # sshdump shows what the server's command writes on stderr: pwrudump -q writes nothing.
  if grep -qi "error\|pwrudump" "$WORK/tshark.err"; then
    fail "tshark reported an error through sshdump: $(cat "$WORK/tshark.err")"
  fi
  check_drops "$(cat "$WORK/tshark.out")"
  assert_server_clean "after tshark -i sshdump -a duration stopped"
  pass "tshark -i sshdump decoded $PINGS netfilter drops traced over ssh; nothing left on the server"
  ;;
pipe)
  # Only drops are traced, so that -c counts the pings; after the last, nothing more is.
  (
    ip netns exec "$NS_A" "${SSH[@]}" \
      "$(remote_pwrudump -w - --backend tracepoint --filter-func kfree_skb)" 2>"$WORK/ssh.err" |
      ip netns exec "$NS_A" "$TSHARK_PLUGIN" "$BUILD" -i - -c "$PINGS" -T fields -E separator=' ' \
        -e pwru.func -e pwru.drop_reason "${DROPPED_PING_FIELDS[@]}" >"$WORK/tshark.out" 2>"$WORK/tshark.err"
    echo "${PIPESTATUS[*]}" >"$WORK/pipestatus"
  ) &
  PIPE_PID=$!
  wait_attached_remote "pwrudump run over ssh"
  ping_b
  # The pipeline ends once ssh does, when pwrudump's next write (a keep-alive block) fails.
  for _ in $(seq 100); do kill -0 "$PIPE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$PIPE_PID" 2>/dev/null && fail "ssh still runs 10 s after tshark -c $PINGS stopped"
  wait "$PIPE_PID"
  assert_eq "exit codes of ssh and tshark (tshark: $(cat "$WORK/tshark.err"))" "0 0" \
    "$(cat "$WORK/pipestatus")"
  assert_eq "ssh's stderr (the server's pwrudump's)" "" "$(cat "$WORK/ssh.err")"
  drops=$(awk '$1 == "kfree_skb" && $2 == "NETFILTER_DROP" { $1 = $2 = ""; print }' "$WORK/tshark.out")
  assert_eq "packets that are no netfilter drop" "" \
    "$(awk '!($1 == "kfree_skb" && $2 == "NETFILTER_DROP")' "$WORK/tshark.out")"
  check_drops "$drops"
  assert_server_clean "after ssh ... | tshark -i - -c $PINGS stopped"
  pass "ssh server pwrudump -w - | tshark -i - decoded $PINGS netfilter drops; nothing left on the server"
  ;;
hangup)
  TRACE=$WORK/hangup.pcapng
  ip netns exec "$NS_A" "${SSH[@]}" -tt "$(remote_pwrudump -w "$TRACE")" \
    </dev/null >"$WORK/ssh.out" 2>&1 &
  SSH_PID=$!
  wait_attached_remote "pwrudump run in an ssh terminal"
  ping_b
  kill "$SSH_PID"
  wait "$SSH_PID"
  assert_server_clean "after the ssh client went away"
  # SIGHUP stopped it as Ctrl-C does: the statistics block is last and counts every event.
  blocks=$(pcapng_blocks "$TRACE")
  epb=$(block_field "$blocks" epb 2)
  assert_eq "bytes after the last complete block" 0 "$(block_field "$blocks" tail 2)"
  usrdeliv=$(block_field "$blocks" stats 4)
  [ -n "$usrdeliv" ] || fail "the last block is not the statistics block: $(one_line "$blocks")"
  assert_eq "isb_usrdeliv (events in the file)" "$epb" "$usrdeliv"
  check_drops "$(fields "$TRACE" -Y "$DROPPED_PING_FILTER" "${DROPPED_PING_FIELDS[@]}")"
  pass "ssh -tt: the hang-up stopped pwrudump with a complete file ($epb events, $PINGS drops)"
  ;;
*) fail "unknown mode '$mode'" ;;
esac
