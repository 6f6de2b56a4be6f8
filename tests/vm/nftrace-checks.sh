# shellcheck shell=bash
# vm_test.sh's checks of --nf-trace's run in the guest (guest/scenario-nftrace.sh), sourced when
# PWRU_VM_NFTRACE=1; uses vm_test.sh's fact, blob, assert_eq, fail and the kernels.sh row.
# Sets what_nftrace for the pass line.
#
# Checks: the nftables rule is in place; both runs got ready; while running, the tables ip and ip6
# pwrudump_PID exist, owned as kernels.sh says (5.10: not owned, pwrudump deletes them); none is
# left after SIGINT, nor after SIGKILL (the kernel, or on 5.10 pwrudump's watcher, deletes them);
# each dropped ping's JSON line names table pwrutest, chain input, the rule's handle, verdict drop,
# the rule's text, a trace id, and the tie kernels.sh expects.
nftrace_checks() {
  local handle run pid drops tie_seen what_stale
  assert_eq "nft rule in the receiver (exit code)" 0 "$(fact nft-setup rc)"
  handle=$(fact nft-setup handle)
  [ -n "$handle" ] || fail "no handle for the receiver's nftables drop rule"
  for run in int kill; do
    assert_eq "--nf-trace run stopped by SIG${run^^} got ready" yes "$(fact "nftrace-$run" ready)"
    pid=$(fact "nftrace-$run" pid)
    assert_eq "trace tables in the receiver's namespace while tracing ($run run)" \
      "ip6_pwrudump_$pid,ip_pwrudump_$pid" "$(fact "nftrace-$run" during)"
    assert_eq "trace table ip pwrudump_$pid owned (flags owner) ($run run)" "$VM_NF_OWNED" \
      "$(fact "nftrace-$run" owned)"
    assert_eq "trace tables left after SIG${run^^}" none "$(fact "nftrace-$run" after)"
  done
  assert_eq "pwrudump --nf-trace exit code after SIGINT" 0 "$(fact nftrace-int rc)"
  if [ "$VM_NF_OWNED" = 0 ]; then
    # pwrudump and its watcher killed at once: the tables stay until the next run starts.
    pid=$(fact nftrace-stale pid)
    assert_eq "trace tables left when pwrudump and its watcher are killed at once" \
      "ip6_pwrudump_$pid,ip_pwrudump_$pid" "$(fact nftrace-stale left)"
    pid=$(fact nftrace-next pid)
    assert_eq "trace tables while the next run traces (the stale ones deleted)" \
      "ip6_pwrudump_$pid,ip_pwrudump_$pid" "$(fact nftrace-next during)"
    assert_eq "trace tables left after the next run's SIGINT" none "$(fact nftrace-next after)"
    what_stale=", stale tables deleted by the next run"
  fi
  blob nftrace-stderr >"$WORK/nftrace.stderr" || fail "the guest sent no --nf-trace stderr"
  blob nftrace-json >"$WORK/nftrace.json" || fail "the guest sent no --nf-trace JSON"
  # Before 5.17 kfree_skb has no reason: a netfilter drop is kfree_skb from nf_hook_slow.
  drops=$(jq -r 'select(.func == "kfree_skb" and .nf_table != null)
            | [.nf_family, .nf_hook, .nf_table, .nf_chain, .nf_handle, .nf_verdict, .nf_rule,
               .nf_tie, (.nf_trace_id | test("^[0-9a-f]{8}$"))] | map(tostring) | join("|")' \
            "$WORK/nftrace.json") || fail "pwrudump's --nf-trace JSON does not parse: $(head -3 "$WORK/nftrace.json")"
  [ -n "$drops" ] || fail "no drop named by --nf-trace; stderr: $(cat "$WORK/nftrace.stderr")"
  assert_eq "drops named by --nf-trace (family|hook|table|chain|handle|verdict|rule|tie|trace id)" \
    "$PINGS inet|input|pwrutest|input|$handle|drop|icmp type echo-request drop|$VM_NF_TIE|true" \
    "$(sort <<<"$drops" | uniq -c | sed 's/^ *//')"
  tie_seen=$VM_NF_TIE
  what_nftrace="; --nf-trace: $PINGS drops named (handle $handle, tie $tie_seen, trace_key in"
  what_nftrace+=" kallsyms: $(fact kallsyms trace_key)), tables owned=$VM_NF_OWNED, none left"
  what_nftrace+=" after SIGINT and SIGKILL${what_stale:-}"
}
