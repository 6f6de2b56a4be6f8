#!/usr/bin/env bash
# Least privilege: a capture run as an unprivileged user (nobody) with the file capabilities the
# Debian package grants (cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search=ep) gives them up
# once its probes are attached, as dumpcap does (docs/privileges.md). While it runs, read from
# /proc/PID/task/*/status: no thread holds any capability (the capture's thread keeps CAP_BPF
# only on a kernel before 5.19 with kernel.unprivileged_bpf_disabled set, which refuses it the
# lost count's map read otherwise), no_new_privs is set; and the capture still sees every ping,
# detaches and exits 0 (its lost count was readable).
# Once with the tracepoint backend and a pcapng file (a direct-I/O writer thread), once with
# --backend auto and text (whatever auto picks as nobody, detached without privileges).
# usage: capabilities_test.sh PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
PWRUDUMP=$1 BUILD=$2
CAPS=cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search
NONE=0000000000000000  # as /proc/PID/status prints a capability set
PINGS=3

require_root
require_cmd ip ping tshark setpriv setcap getcap
e2e_hosts
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
mkdir -p "$WORK/caps" "$WORK/out"
cp "$PWRUDUMP" "$WORK/caps/pwrudump"
chmod 755 "$WORK/caps" "$WORK/caps/pwrudump"
chown nobody:nogroup "$WORK/out"
setcap "$CAPS=ep" "$WORK/caps/pwrudump" ||
  skip_or_fail "cannot set file capabilities in $WORK (a file system without extended attributes?)"
getcap "$WORK/caps/pwrudump" | grep -q cap_bpf || fail "setcap left no capability on the copy"
FILTER="icmp[icmptype] = icmp-echo and host $IP_B"
# What the capture's thread keeps: 5.19 lets a process use the BPF objects it holds without
# CAP_BPF whatever kernel.unprivileged_bpf_disabled says; before, that sysctl refuses bpf().
KEPT=$NONE
IFS=.- read -r major minor _ <<<"$(uname -r)"
if [ "$major" -lt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -lt 19 ]; }; then
  [ "$(sysctl -n kernel.unprivileged_bpf_disabled)" != 0 ] && KEPT=0000008000000000  # CAP_BPF
fi

# status_field FILE NAME: the value of "NAME:" in a /proc status file.
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }

# check_capabilities: what every thread of the running capture holds now.
check_capabilities() {
  local main="/proc/$PWRU_PID/status" status tid
  [ -r "$main" ] || fail "pwrudump (pid $PWRU_PID) is not running: $(cat "$WORK/stderr")"
  assert_eq "CapEff of the capture's thread" "$KEPT" "$(status_field "$main" CapEff)"
  assert_eq "CapPrm of the capture's thread" "$KEPT" "$(status_field "$main" CapPrm)"
  assert_eq "CapInh of the capture's thread" "$NONE" "$(status_field "$main" CapInh)"
  assert_eq "CapAmb of the capture's thread" "$NONE" "$(status_field "$main" CapAmb)"
  assert_eq "NoNewPrivs of the capture's thread" 1 "$(status_field "$main" NoNewPrivs)"
  THREADS=0
  for status in /proc/"$PWRU_PID"/task/*/status; do
    tid=$(status_field "$status" Pid)
    THREADS=$((THREADS + 1))
    [ "$tid" = "$PWRU_PID" ] && continue
    assert_eq "CapEff of thread $tid" "$NONE" "$(status_field "$status" CapEff)"
    assert_eq "CapPrm of thread $tid" "$NONE" "$(status_field "$status" CapPrm)"
  done
}

# run_capture LABEL [pwrudump args...]: as nobody, until attached; checks; pings; stops (exit 0).
run_capture() {
  local label=$1
  shift
  rm -f "$WORK/out/ready"
  "${AS_NOBODY[@]}" "$WORK/caps/pwrudump" -q --ready-file "$WORK/out/ready" "$@" "$FILTER" \
    2>"$WORK/stderr" &
  PWRU_PID=$!
  wait_for_file "$WORK/out/ready" 120 || fail "$label: pwrudump as nobody never got ready: $(cat "$WORK/stderr")"
  check_capabilities
  ip netns exec "$NS_A" ping -c $PINGS -i 0.2 -W 1 "$IP_B" >/dev/null || fail "$label: ping failed"
  stop_trace
}

# 1. tracepoints into a pcapng file: the writer thread must hold nothing either.
run_capture "tracepoint, pcapng" --backend tracepoint -w "$WORK/out/cap.pcapng"
[ "$THREADS" -ge 2 ] || fail "the pcapng file was written without its writer thread ($THREADS threads)"
tp_threads=$THREADS
seen=$(fields "$WORK/out/cap.pcapng" -Y 'pwru.func == "net_dev_queue"' -e pwru.ifname)
assert_eq "echo requests queued on $VETH_A, seen with only CAP_BPF" "$PINGS" \
  "$(grep -cx "$VETH_A" <<<"$seen")"

# 2. whatever auto picks as nobody, with text lines: detached and drained without privileges.
run_capture "auto, text" --output-file "$WORK/out/cap.txt"
n=$(grep -c " net_dev_queue" "$WORK/out/cap.txt")
[ "$n" -ge "$PINGS" ] || fail "auto as nobody saw $n net_dev_queue events of $PINGS pings: $(cat "$WORK/stderr")"

pass "nobody with $CAPS: once attached CapEff=CapPrm=$KEPT in the capture's thread, nothing in" \
  "the $((tp_threads - 1)) other(s), no_new_privs; $PINGS pings traced and exit 0 (tracepoint, auto)"
