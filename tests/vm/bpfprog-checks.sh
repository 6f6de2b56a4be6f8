# shellcheck shell=bash
# The host's checks of the tc/XDP scenario (guest/scenario-bpfprog.sh), sourced by vm_test.sh
# after the common ones (the VM ran, pwrudump attached and exited cleanly, the pcapng came back):
# PWRU_VM_BPF_HOOK's program of the tests' own, tc_drop_icmp (tc) or xdp_drop_icmp (xdp), was
# traced with no note against it, and every ping is seen at its entry and at its return, named
# `prog(hook)` with the program's name, id and hook, and the return with the verdict that drops it
# (TC_ACT_SHOT 2, XDP_DROP 1), which the dissector counts as a drop (pwru.drop); at tc, the skb's
# free follows in the same journey, with the kernel's drop reason. XDP events carry no skb: their
# skb field is the packet's data address, on the receiving veth in the receiver's namespace.
# Uses vm_test.sh's fact, tshark_fields, assert_eq, fail, count_lines, $ip_b, $netns_b and
# $ifname_b; sets what_bpf for the pass line.
# shellcheck disable=SC2154 # vm_test.sh's
bpfprog_checks() {
  local hook=${PWRU_VM_BPF_HOOK:?} prog verdict verdict_name prog_id events seq func id h v skb
  local ifname netns journey frame entries frees reasons
  prog=${hook}_drop_icmp
  if [ "$hook" = tc ]; then verdict=2 verdict_name=TC_ACT_SHOT; else verdict=1 verdict_name=XDP_DROP; fi
  assert_eq "$hook program loaded in the guest (exit code)" 0 "$(fact load rc)"
  prog_id=$(fact prog id)
  [ -n "$prog_id" ] || fail "the guest did not say which id its $hook program has"
  local notes
  notes=$(grep -E "BPF program .*not traced|no .*program with BTF" "$WORK/stderr.txt")
  assert_eq "notes of BPF programs not traced" "" "$notes"

  events=$(tshark_fields -Y "pwru.bpf.prog == \"$prog\" && pwru.bpf.verdict && icmp.type == 8" \
             -e icmp.seq -e pwru.func -e pwru.bpf.prog_id -e pwru.bpf.hook -e pwru.bpf.verdict \
             -e pwru.skb -e pwru.ifname -e pwru.netns -e pwru.journey -e frame.number)
  [ -n "$events" ] || fail "no return of $prog with a verdict for the pings"
  local hook_no=1
  [ "$hook" = xdp ] && hook_no=2
  frees=0 reasons=""
  while IFS='|' read -r seq func id h v skb ifname netns journey frame; do
    assert_eq "pwru.func of ping $seq's return" "$prog($hook)" "$func"
    assert_eq "pwru.bpf.prog_id of ping $seq" "$prog_id" "$id"
    assert_eq "pwru.bpf.hook of ping $seq" "$hook_no" "$h"
    assert_eq "pwru.bpf.verdict of ping $seq ($verdict_name)" "$verdict" "$v"
    assert_eq "pwru.ifname of ping $seq's return" "$ifname_b" "$ifname"
    assert_eq "pwru.netns of ping $seq's return" "$netns_b" "$netns"
    case "$skb" in 0x0 | "") fail "ping $seq's return has no skb (or XDP data address)" ;; esac
    if [ "$hook" = tc ]; then
      # The free of that skb after the verdict, in its journey, with the kernel's reason.
      local free
      free=$(tshark_fields -Y "frame.number > $frame && pwru.skb == $skb && pwru.func == \"kfree_skb\"" \
               -e pwru.journey -e pwru.drop_reason | head -n 1)
      [ -n "$free" ] || fail "ping $seq: no kfree_skb of skb $skb after $prog's TC_ACT_SHOT"
      assert_eq "ping $seq: journey of the free after TC_ACT_SHOT" "$journey" "${free%%|*}"
      [ -n "${free#*|}" ] || fail "ping $seq: the free after TC_ACT_SHOT has no drop reason"
      frees=$((frees + 1)) reasons="${free#*|}"
    fi
  done <<<"$events"
  assert_eq "pings seen at $prog's return" "$PINGS" "$(cut -d'|' -f1 <<<"$events" | sort -u | grep -c .)"
  entries=$(tshark_fields -Y "pwru.bpf.prog == \"$prog\" && !pwru.bpf.verdict && icmp.type == 8" \
              -e icmp.seq -e pwru.func)
  assert_eq "pings seen at $prog's entry" "$PINGS" "$(cut -d'|' -f1 <<<"$entries" | sort -u | grep -c .)"
  # The dissector's drop rule (pwru_rules.h): the verdict is the drop.
  assert_eq "returns the dissector counts as drops (pwru.drop)" "$(count_lines "$events")" \
    "$(count_lines "$(tshark_fields -Y "pwru.bpf.verdict == $verdict && pwru.drop && icmp.type == 8" -e frame.number)")"
  what_bpf="$prog($hook) id $prog_id: $PINGS pings at entry and return with $verdict_name"
  [ "$hook" = tc ] && what_bpf+=", each then freed in its journey ($reasons)"
}
