#!/usr/bin/env bash
# One cell of the kernel matrix: boots a stock Debian kernel under QEMU (TCG), runs the drop
# scenario of tests/e2e/drop_test.sh in it with pwrudump on one backend, and checks the pcapng
# that comes back with tshark and the pwru plugin.
#
# usage: vm_test.sh KERNEL BACKEND VM_DIR BUILD_DIR [-- PWRUDUMP_ARGS...]
#   KERNEL   5.10, 6.1, 6.12 or 7.2 (kernels.sh); VM_DIR was prepared by prepare.sh
#   BACKEND  passed as --backend; with auto, the backend pwrudump reports must be the one
#            kernels.sh expects for KERNEL, otherwise BACKEND itself
# Environment: PWRU_VM_TIMEOUT (seconds for the whole VM run, default 300), PWRU_VM_SCENARIO (drop,
# the default, privileges: guest/scenario-privileges.sh, or bpfprog: guest/scenario-bpfprog.sh
# with PWRU_VM_BPF_HOOK tc or xdp, checked by bpfprog-checks.sh), PWRU_VM_NFTRACE=1 and
# PWRU_VM_PWRU=1 (after the drop scenario, the same boot runs --nf-trace's, or Debian's pwru
# beside pwrudump: nftrace-checks.sh, pwru-checks.sh), PWRU_VM_KEEP=1 keeps the work folder
# (console log, results, pcapng) and prints where it is.
#
# Checks: the VM ran the scenario to its end; pwrudump attached with the expected backend and
# exited cleanly; the pings were dropped; the pcapng decodes; the echo requests to the receiver
# are in it; every ping is seen at kfree_skb in the receiver's netns and veth with a netfilter
# caller, and with drop reason NETFILTER_DROP where the kernel has drop reasons (none before 5.17);
# the capture left the rulesets as they were; with a function backend, its netfilter probes name
# iptables-legacy's table filter, chain INPUT and verdict drop at the drop and at ipt_do_table's
# return, and the scenario's nftables chain with its accept at nft_do_chain's.
# The privileges scenario also checks what CAP_DAC_READ_SEARCH changes (docs/privileges.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=kernels.sh
. "$here/kernels.sh"
TSHARK_PLUGIN="$here/../lib/tshark-plugin.sh"

[ $# -ge 4 ] || fail "usage: vm_test.sh KERNEL BACKEND VM_DIR BUILD_DIR [-- PWRUDUMP_ARGS...]"
kernel=$1 backend=$2 VM_DIR=$3 BUILD=$4
shift 4
[ "${1:-}" = -- ] && shift
vm_kernel "$kernel" || fail "unknown kernel '$kernel'"
expect_backend=$backend
[ "$backend" = auto ] && expect_backend=$VM_AUTO_BACKEND
timeout_s=${PWRU_VM_TIMEOUT:-300}
scenario=${PWRU_VM_SCENARIO:-drop}
# The privileges scenario: the Debian package's file capabilities (docs/privileges.md), and the
# same without CAP_DAC_READ_SEARCH.
PWRU_CAPS=cap_bpf,cap_perfmon,cap_syslog,cap_dac_read_search=ep
PWRU_CAPS_NODAC=cap_bpf,cap_perfmon,cap_syslog=ep
PINGS=3

require_cmd qemu-system-x86_64 tshark setpriv timeout cpio gzip base64 jq
{ [ -f "$VM_DIR/kernel/vmlinuz" ] && [ -f "$VM_DIR/initramfs.cpio.gz" ]; } ||
  skip_or_fail "$VM_DIR holds no prepared kernel: the fixture vm.$kernel.prepare did not run or failed"

WORK=$(mktemp -d /tmp/pwru-vm.XXXXXX)
chmod 755 "$WORK"
results="$WORK/results.txt" console="$WORK/console.log"

# On failure: what the guest printed and what pwrudump said, so the log alone explains it.
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    echo "--- guest console (last 40 lines of $console) ---" >&2
    tail -n 40 "$console" 2>/dev/null | tr -d '\r' >&2
    echo "--- results (facts) ---" >&2
    grep -a '^PWRU-VM ' "$results" 2>/dev/null | tr -d '\r' >&2
    if blob stderr >"$WORK/stderr.txt" 2>/dev/null; then
      echo "--- pwrudump stderr in the guest ---" >&2
      cat "$WORK/stderr.txt" >&2
    fi
  fi
  if [ "${PWRU_VM_KEEP:-}" = 1 ]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap on_exit EXIT

# fact KEY FIELD: FIELD=value from the results line "PWRU-VM KEY ... FIELD=value ...".
# Both readers take the whole file themselves: an awk that exits early would kill a feeding
# `tr` with SIGPIPE, which pipefail reports as a failure once the file is large (long runs).
fact() {
  awk -v k="$1" -v f="$2" '{ sub(/\r$/, "") }
    $1 == "PWRU-VM" && $2 == k && !done { for (i = 3; i <= NF; i++) if (index($i, f "=") == 1) {
      print substr($i, length(f) + 2); done = 1; break } }' "$results"
}
# blob NAME: the file the guest sent as NAME.
blob() {
  awk -v n="$1" '{ sub(/\r$/, "") } $0 == "PWRU-VM-END " n { on = 0 } on { print }
    $0 == "PWRU-VM-BEGIN " n { on = 1 }' "$results" | base64 -d | gzip -dc
}

# --- the guest's instructions, as a small cpio in front of the prepared initramfs ---
mkdir -p "$WORK/overlay"
{
  echo "VM_SCENARIO=$scenario"
  if [ "$scenario" = privileges ]; then
    echo "PWRU_CAPS=$PWRU_CAPS"
    echo "PWRU_CAPS_NODAC=$PWRU_CAPS_NODAC"
  fi
  echo "PINGS=$PINGS"
  [ "${PWRU_VM_NFTRACE:-}" = 1 ] && echo "NFTRACE=1"
  [ -n "${PWRU_VM_BPF_HOOK:-}" ] && echo "BPF_HOOK=$PWRU_VM_BPF_HOOK"
  [ "${PWRU_VM_PWRU:-}" = 1 ] && echo "PWRU_SIDE=1"
  # The guest gives up on pwrudump first, so that its stderr still comes back.
  echo "READY_TIMEOUT=$((timeout_s * 2 / 3))"
  printf 'PWRU_ARGS=%q\n' "$(printf '%q ' --backend "$backend" "$@")"
} >"$WORK/overlay/scenario.env"
(cd "$WORK/overlay" && echo scenario.env | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd"
cat "$VM_DIR/initramfs.cpio.gz" >>"$WORK/initrd"
# Debian's pwru (prepare.sh, VM_PWRU in kernels.sh) after it, for the cells that run it.
if [ "${PWRU_VM_PWRU:-}" = 1 ]; then
  [ -f "$VM_DIR/pwru.cpio.gz" ] || fail "$VM_DIR holds no pwru.cpio.gz: prepare.sh adds it where kernels.sh says VM_PWRU=yes, when it can fetch Debian's pwru (see vm.$kernel.prepare's output)"
  cat "$VM_DIR/pwru.cpio.gz" >>"$WORK/initrd"
fi

# --- the VM: software emulation (KVM hangs here), console and results on two serial ports ---
echo "vm.$kernel.$backend: booting $(cat "$VM_DIR/kernel/kver") under TCG (timeout ${timeout_s}s)," \
     "pwrudump --backend $backend $*"
start=$(date +%s)
# One host thread for both vCPUs: with a thread each (MTTCG), a vCPU can run a stale translation
# of kernel text that another vCPU is patching with int3 (static keys; text_poke_bp), and the
# guest dies of "Oops: int3" (seen at boot in sched_clock_cpu on 6.12).
timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=single -smp 2 -m 1536 \
  -nographic -no-reboot -nic none -monitor none -serial "file:$console" -serial "file:$results" \
  -kernel "$VM_DIR/kernel/vmlinuz" -initrd "$WORK/initrd" \
  -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" >"$WORK/qemu.log" 2>&1
qemu_rc=$?
wall=$(( $(date +%s) - start ))
[ "$qemu_rc" -eq 124 ] && fail "the VM did not finish in ${timeout_s}s (qemu killed); raise PWRU_VM_TIMEOUT if it was only slow"
[ "$qemu_rc" -eq 0 ] || fail "qemu exited with $qemu_rc: $(cat "$WORK/qemu.log")"
grep -aq '^PWRU-VM-DONE' "$results" || fail "the guest stopped before the scenario's end (kernel panic or crash?)"

# --- what the guest reports ---
guest_kver=$(fact boot kernel)
case "$guest_kver" in "$kernel".*) ;; *) fail "the guest runs kernel '$guest_kver', not $kernel.x" ;; esac
failed_mod=$(fact module-failed name)
[ -z "$failed_mod" ] || fail "the guest could not load module $failed_mod"
[ "$scenario" = bpfprog ] ||
  assert_eq "iptables in the receiver's namespace (exit code)" 0 "$(fact iptables rc)"
[ "$(fact attach ok)" = yes ] ||
  fail "pwrudump never got ready in the guest (exit code $(fact pwrudump rc)); its stderr is below"
attach_s=$(awk -v a="$(fact attach start)" -v b="$(fact attach ready)" 'BEGIN { printf "%.1f", b - a }')
assert_eq "pwrudump exit code after SIGINT" 0 "$(fact pwrudump rc)"
blob stderr >"$WORK/stderr.txt" || fail "the guest sent no pwrudump stderr"
summary=$(grep -Eo 'attached [0-9]+ probes \([a-z-]+\)' "$WORK/stderr.txt" | head -n 1)
[ -n "$summary" ] || fail "no 'attached N probes (<backend>)' line in pwrudump's stderr"
attached=$(echo "$summary" | awk '{ print $2 }')
got_backend=${summary##*(} got_backend=${got_backend%)}
assert_eq "backend pwrudump attached with (--backend $backend)" "$expect_backend" "$got_backend"
[ "$attached" -gt 0 ] || fail "pwrudump attached no probes: $summary"
# From 6.2 the pcap filter reads packets by plain loads (docs/filters.md); older kernels never
# try, so no kernel here may refuse them.
refused=$(grep -o "the kernel refused the pcap filter's plain packet loads.*" "$WORK/stderr.txt")
assert_eq "note of refused plain filter loads" "" "$refused"
[ "$(fact ping rc)" != 0 ] || fail "the pings got through although ICMP is dropped in the receiver"
# Every kernel here has trampolines and its own BTF: with --filter-track-skb, clones are followed
# (bpf/track_clones.bpf.c), whatever the backend; pwrudump lists it as skipped where not.
case " $* " in
  *" --filter-track-skb "*)
    clones=$(grep -o "[a-z_]* (following clones)[^;]*" "$WORK/stderr.txt")
    assert_eq "clone followers not attached" "" "$clones" ;;
esac

# As nobody with the package's capabilities (docs/privileges.md): the run above and a trace with
# its ftrace list; without CAP_DAC_READ_SEARCH, tracefs (mode 0700) is closed, pwrudump takes
# every function in /proc/kallsyms, and kprobe-multi refuses the set.
if [ "$scenario" = privileges ]; then
  assert_eq "tracefs mode in the guest (why CAP_DAC_READ_SEARCH is needed)" 700 "$(fact tracefs mode)"
  assert_eq "uid of pwrudump tracing the drop scenario (nobody)" 65534 "$(fact attach uid)"
  for set in full nodac; do
    assert_eq "setcap of the $set copy (exit code)" 0 "$(fact "caps-$set" setcap)"
    assert_eq "--list-funcs as nobody, $set capabilities (exit code)" 0 "$(fact "caps-$set" list_rc)"
  done
  assert_eq "--list-funcs as nobody with the package's capabilities (stderr)" "" "$(blob list-full)"
  listed=$(fact caps-full listed) listed_nodac=$(fact caps-nodac listed)
  kallsyms_only=$(fact funcs kallsyms_only)
  assert_eq "functions in ftrace's list that /proc/kallsyms lacks" 0 "$(fact funcs ftrace_only)"
  [ "$listed" -gt 0 ] || fail "--list-funcs found no function with the package's capabilities"
  [ "$kallsyms_only" -gt 0 ] ||
    fail "--list-funcs found no more functions without CAP_DAC_READ_SEARCH than with it ($listed)"
  assert_eq "functions listed without CAP_DAC_READ_SEARCH" "$((listed + kallsyms_only))" "$listed_nodac"
  # With the list: attached, and no note of an unreadable one.
  assert_eq "trace with the package's capabilities got ready" yes "$(fact caps-full ready)"
  assert_eq "trace with the package's capabilities, exit code after SIGINT" 0 "$(fact caps-full attach_rc)"
  grep -Eq "^attached [0-9]+ probes \($expect_backend\)" <(blob attach-full) ||
    fail "no 'attached N probes ($expect_backend)' from the trace with the package's capabilities: $(blob attach-full)"
  notes=$(blob attach-full; cat "$WORK/stderr.txt")
  notes=$(grep -E "cannot read .*available_filter_functions|using /proc/kallsyms" <<<"$notes")
  assert_eq "notes of an unreadable ftrace list with CAP_DAC_READ_SEARCH" "" "$notes"
  # Without it: kallsyms' set, which the kernel refuses as one link.
  assert_eq "trace without CAP_DAC_READ_SEARCH got ready" no "$(fact caps-nodac ready)"
  assert_eq "trace without CAP_DAC_READ_SEARCH, exit code (kernel feature)" 5 "$(fact caps-nodac attach_rc)"
  unread="ftrace's list, available_filter_functions, cannot be read: Permission denied"
  assert_eq "trace without CAP_DAC_READ_SEARCH, stderr" \
    "pwrudump: cannot use $expect_backend: Invalid argument (the kernel was offered every skb function of /proc/kallsyms: $unread)" \
    "$(blob attach-nodac | head -n 1)"
  grep -q '^hint: grant pwrudump CAP_DAC_READ_SEARCH too' <(blob attach-nodac) ||
    fail "no hint to grant CAP_DAC_READ_SEARCH after the refusal: $(blob attach-nodac)"
  grep -qx 'pwrudump: note: cannot read /sys/kernel/tracing/available_filter_functions: Permission denied' \
    <(blob list-nodac) || fail "--list-funcs without CAP_DAC_READ_SEARCH did not say which list it could not read: $(blob list-nodac)"
  what_privileges="; as nobody: $listed functions, $listed_nodac without CAP_DAC_READ_SEARCH,"
  what_privileges+=" which $expect_backend refuses (exit 5, Invalid argument)"
fi

ip_b=$(fact receiver ip) netns_b=$(fact receiver netns) ifname_b=$(fact receiver ifname)
{ blob pcapng >"$WORK/trace.pcapng" && [ -s "$WORK/trace.pcapng" ]; } || fail "the guest sent no pcapng"

# tshark_fields ARGS: one line per event; a tshark error fails the test (also inside $(...),
# where a count or a head would otherwise read it as "no events").
tshark_fields() {
  "$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -T fields -E separator='|' "$@" ||
    fail "tshark cannot read the pcapng ($*)"
}

# The tc/XDP scenario has checks of its own (bpfprog-checks.sh).
if [ "$scenario" = bpfprog ]; then
  malformed=$(tshark_fields -Y '_ws.malformed' -e frame.number)
  assert_eq "malformed events" "" "$malformed"
  # shellcheck source=bpfprog-checks.sh
  . "$here/bpfprog-checks.sh"
  bpfprog_checks
  pass "$guest_kver, $summary: $what_bpf; pwrudump attached in ${attach_s}s (guest clock)," \
       "VM ran ${wall}s"
  exit 0
fi
# The capture decodes: tshark reads every record, none malformed.
n_events=$(count_lines "$(tshark_fields -e frame.number)")
[ "$n_events" -gt 0 ] || fail "the pcapng holds no events"
malformed=$(tshark_fields -Y '_ws.malformed' -e frame.number)
assert_eq "malformed events" "" "$malformed"
# The pings' tuple.
n_tuple=$(count_lines "$(tshark_fields -Y "pwru.ip.dst == $ip_b && icmp.type == 8" -e frame.number)")
[ "$n_tuple" -gt 0 ] || fail "no event of the echo requests to $ip_b (pwru.ip.dst)"

# The drop, with what this kernel can tell (kernels.sh).
drops=$(tshark_fields -Y "pwru.func == \"kfree_skb\" && pwru.ip.dst == $ip_b && icmp.type == 8" \
          -e icmp.seq -e pwru.netns -e pwru.ifname -e pwru.caller -e pwru.drop_reason)
[ -n "$drops" ] || fail "no echo request to $ip_b seen at kfree_skb"
named=""
while IFS='|' read -r seq netns ifname caller reason; do
  assert_eq "pwru.netns at kfree_skb (receiver's namespace)" "$netns_b" "$netns"
  assert_eq "pwru.ifname at kfree_skb (receiving veth)" "$ifname_b" "$ifname"
  # nf_hook_slow frees what a hook dropped (nft_do_chain where it is inlined). The tracepoint
  # has no caller where its location is unknown, but a caller that is there must be that one.
  case "$caller" in
    nf_*+0x* | nft_*+0x* | ipt_*+0x*) named="$named $seq" ;;
    "") ;;
    *) fail "pwru.caller of ping $seq: expected a netfilter function+0x..., got '$caller'" ;;
  esac
  if [ "$VM_DROP_REASON" = yes ]; then
    assert_eq "pwru.drop_reason of ping $seq" NETFILTER_DROP "$reason"
  else
    assert_eq "pwru.drop_reason of ping $seq (kfree_skb has no reason before 5.17)" "" "$reason"
  fi
done <<<"$drops"
n_seq=$(echo "$drops" | cut -d'|' -f1 | sort -u | grep -c .)
assert_eq "pings seen dropped at kfree_skb" "$PINGS" "$n_seq"
n_named=$(echo "$named" | tr ' ' '\n' | sort -u | grep -c .)
assert_eq "pings seen at kfree_skb with a named netfilter caller (pwru.caller)" "$PINGS" "$n_named"
# The meta cells (--output-skb-metadata skb->hash,skb->dev->ifindex,skb->pkt_type,skb->dev->name,
# shared info, cb): at each drop the device's index and name read through the expressions are
# the event's own, and the shared info and cb came with it.
if [[ " $* " == *" --output-skb-metadata "* ]]; then
  metas=$(tshark_fields -Y "pwru.func == \"kfree_skb\" && pwru.ip.dst == $ip_b && icmp.type == 8" \
            -e pwru.ifindex -e pwru.ifname -e pwru.meta.value -e pwru.shinfo.dataref -e pwru.cb)
  while IFS='|' read -r ifindex ifname values dataref cb; do
    IFS=, read -r _ meta_ifindex _ meta_name <<<"$values"
    assert_eq "skb->dev->ifindex at kfree_skb" "$ifindex" "$meta_ifindex"
    assert_eq "skb->dev->name at kfree_skb" "$ifname" "$meta_name"
    [ -n "$dataref" ] || fail "no pwru.shinfo at kfree_skb"
    assert_eq "bytes of pwru.cb" 96 "${#cb}"
  done <<<"$metas"
fi
# Function probes (pwru.probe > 1: kprobe, kprobe-multi, fentry) always know their caller: the
# return address at entry, or for fentry the frame after the function's own in a stack walk.
if [ "$expect_backend" != tracepoint ]; then
  n_func=$(count_lines "$(tshark_fields -Y "pwru.probe > 1 && pwru.ip.dst == $ip_b" -e frame.number)")
  [ "$n_func" -gt 0 ] || fail "no event of the pings from a $expect_backend function probe"
  no_caller=$(tshark_fields -Y "pwru.probe > 1 && pwru.ip.dst == $ip_b && !pwru.caller" \
                -e frame.number -e pwru.func)
  no_caller=$(head -n 5 <<<"$no_caller")
  assert_eq "function-probe events of the pings without a caller (first 5 shown)" "" "$no_caller"
  what_func="; all $n_func function-probe events of the pings with a caller"
fi

# No backend changes a ruleset: iptables-legacy's and nftables', in the receiver's namespace and
# pwrudump's own, are the same after the capture as before it.
assert_eq "nft in the receiver's namespace (exit code)" 0 "$(fact nft rc)"
[ "$(fact rulesets same)" = yes ] ||
  fail "the rulesets changed during the capture: $(diff <(blob rules-before) <(blob rules-after))"
grep -q '^-A INPUT -p icmp -j DROP$' <(blob rules-before) ||
  fail "the rulesets before the capture lack iptables-legacy's drop: $(blob rules-before)"

# The function backends' netfilter probes (docs/netfilter.md), on by default; as nobody (the
# privileges scenario) they need what only root has (a module's BTF, perf kprobes).
# Without module BTF (kernels.sh) fewer functions are probed, which pwrudump must say.
nf_ipt=no nf_nft=no
if [ "$expect_backend" != tracepoint ] && [ "$scenario" = drop ]; then
  nf_ipt=yes nf_nft=$VM_MODULE_BTF
  [ "$expect_backend" = fentry ] && nf_ipt=$VM_MODULE_BTF
fi
nf_note() { grep -E "^note: netfilter: (no probes|$1 not probed)" "$WORK/stderr.txt"; }
# nf_events FILTER: "seq|family|hook|table|chain|verdict|tie|handle|rule" per event of the
# echo requests that FILTER keeps.
nf_events() {
  tshark_fields -Y "$1 && pwru.ip.dst == $ip_b && icmp.type == 8" -e icmp.seq -e pwru.nf.family \
    -e pwru.nf.hook -e pwru.nf.table -e pwru.nf.chain -e pwru.nf.verdict -e pwru.nf.tie \
    -e pwru.nf.handle -e pwru.nf.rule
}
# expect_nf WHAT FILTER FIELDS [PINGS]: every event FILTER keeps is "seq|FIELDS", and PINGS
# (default: all) pings have one or more.
expect_nf() {
  local events seq rest
  events=$(nf_events "$2")
  while IFS='|' read -r seq rest; do
    [ -n "$seq" ] || continue
    assert_eq "$1, ping $seq (family|hook|table|chain|verdict|tie|handle|rule)" "$3" "$rest"
  done <<<"$events"
  assert_eq "pings with a $1" "${4:-$PINGS}" "$(cut -d'|' -f1 <<<"$events" | sort -u | grep -c .)"
}
small="ip.len < 1000" large="ip.len > 1000"  # the pings iptables drops, the one nftables drops
if [ "$nf_ipt" = yes ]; then
  assert_eq "notes of ipt_do_table not probed" "" "$(nf_note ipt_do_table)"
  # iptables-legacy (family ip = 2): its drop at the kfree_skb tracepoint and at ipt_do_table's
  # return, verdict drop (0), seen by the probe itself (tie kernel = 4), no handle, no rule text.
  expect_nf "drop named by the netfilter probes (kfree_skb)" \
    "pwru.probe == 1 && pwru.func == \"kfree_skb\" && $small" "2|input|filter|INPUT|0|4||"
  expect_nf "ipt_do_table return" "pwru.func == \"ipt_do_table\" && pwru.nf.table && $small" \
    "2|input|filter|INPUT|0|4||"
  what_nf="; named by the netfilter probes: filter/INPUT drop"
elif [ "$expect_backend" = fentry ] && [ "$scenario" = drop ]; then
  [ -n "$(nf_note ipt_do_table)" ] || fail "no note that fentry did not probe ipt_do_table"
fi
if [ "$nf_nft" = yes ]; then
  assert_eq "notes of nft_do_chain not probed" "" "$(nf_note nft_do_chain)"
  # The nftables chain before it (family inet = 1): accept (1), and its drop (0) of the large
  # ping, named at kfree_skb whether nftables frees it itself or nf_hook_slow does; only in the
  # latter case is there a return, nftables' own free being before it (kernels.sh).
  expect_nf "nft_do_chain return" "pwru.func == \"nft_do_chain\" && $small" \
    "1|input|pwruvm|input|1|4||"
  expect_nf "drop by nftables named by the netfilter probes (kfree_skb)" \
    "pwru.probe == 1 && pwru.func == \"kfree_skb\" && $large" "1|input|pwruvm|input|0|4||" 1
  returns=1
  [ "$VM_NFT_FREES" = yes ] && returns=0
  expect_nf "nft_do_chain return of the dropped large ping" \
    "pwru.func == \"nft_do_chain\" && $large" "1|input|pwruvm|input|0|4||" "$returns"
  what_nf+=", pwruvm/input accept and drop"
elif [ "$nf_ipt" = yes ]; then
  [ -n "$(nf_note nft_do_chain)" ] || fail "no note that nft_do_chain was not probed"
fi
what_rules="; rulesets unchanged"

# --filter-track-skb-by-stackid, --filter-non-skb-funcs (the stackid cells).
STACKID_ARGS="$*"
case " $* " in
  *" --filter-track-skb-by-stackid "* | *" --filter-non-skb-funcs "*)
    # shellcheck source=stackid-checks.sh
    . "$here/stackid-checks.sh"
    stackid_checks "$expect_backend" "$ip_b" ;;
esac

# --nf-trace (PWRU_VM_NFTRACE=1): the same boot's scenario-nftrace.sh.
if [ "${PWRU_VM_NFTRACE:-}" = 1 ]; then
  # shellcheck source=nftrace-checks.sh
  . "$here/nftrace-checks.sh"
  nftrace_checks
fi

# Debian's pwru beside pwrudump (PWRU_VM_PWRU=1): the same boot's scenario-pwru.sh.
if [ "${PWRU_VM_PWRU:-}" = 1 ]; then
  # shellcheck source=pwru-checks.sh
  . "$here/pwru-checks.sh"
  pwru_checks
fi

what="with a netfilter caller"
[ "$VM_DROP_REASON" = yes ] && what="as NETFILTER_DROP with a netfilter caller"
pass "$guest_kver, $summary: $PINGS pings seen dropped at kfree_skb $what;" \
     "$n_events events${what_func:-}${what_nf:-}${what_rules}${what_stackid:-}${what_privileges:-}${what_nftrace:-}${what_pwru:-}; pwrudump attached in ${attach_s}s (guest clock), VM ran ${wall}s"
