# shellcheck shell=bash
# vm_test.sh's checks of --filter-track-skb-by-stackid and --filter-non-skb-funcs (the stackid
# cells, bpf/stackid.bpf.h), sourced when pwrudump ran with either; uses vm_test.sh's
# tshark_fields, assert_eq, fail, count_lines, PINGS and STACKID_ARGS (pwrudump's arguments).
# usage: stackid_checks BACKEND RECEIVER_IP. Sets what_stackid for the pass line.
#
# Checks: every event names its stack (pwru.stackid). With a function backend, the real case the
# drop scenario offers: the first ping waits for ARP, and the ARP request the kernel makes for it
# on the ping's stack (neigh_resolve_output, arp_solicit) is traced although the filter keeps
# ICMP only: kept by stack id (pwru.stackid.kept 1), on the stack of an event of an echo request.
# With --filter-non-skb-funcs fib_table_lookup (no skb argument, called by the receiver's input
# route lookup for every ping): its events are those of the echo requests (pwru.skb and the
# packet are theirs), kept as non-skb (2), on the stack of the request's own events, every ping.
stackid_checks() {
  local backend=$1 ip_b=$2 nostack stacks arp skb stack kept func requests fib seqs seq probe
  nostack=$(tshark_fields -Y '!pwru.stackid' -e frame.number -e pwru.func | head -n 5)
  assert_eq "events without pwru.stackid (first 5)" "" "$nostack"
  what_stackid="; every event with its stack id"
  [ "$backend" = tracepoint ] && return 0
  # Stacks and skbs of the echo requests' own events.
  requests=$(tshark_fields -Y "icmp.type == 8 && pwru.ip.dst == $ip_b && !pwru.stackid.kept" \
               -e pwru.skb -e pwru.stackid)
  stacks=$(cut -d'|' -f2 <<<"$requests" | sort -u)
  arp=$(tshark_fields -Y 'arp.opcode == 1' -e pwru.skb -e pwru.stackid -e pwru.stackid.kept \
          -e pwru.func)
  [ -n "$arp" ] || fail "no event of the ARP request made for the first ping"
  while IFS='|' read -r skb stack kept func; do
    assert_eq "pwru.stackid.kept of the ARP request at $func" 1 "$kept"
    grep -qx "$stack" <<<"$stacks" ||
      fail "ARP request at $func: stack $stack is no echo request's ($(tr '\n' ' ' <<<"$stacks"))"
  done <<<"$arp"
  what_stackid+=", the ARP request kept by it ($(count_lines "$arp") events)"
  case " $STACKID_ARGS " in *" --filter-non-skb-funcs "*) ;; *) return 0 ;; esac
  fib=$(tshark_fields -Y 'pwru.func == "fib_table_lookup"' -e pwru.skb -e pwru.stackid \
          -e pwru.stackid.kept -e icmp.seq -e pwru.probe)
  [ -n "$fib" ] || fail "no fib_table_lookup event (--filter-non-skb-funcs fib_table_lookup)"
  while IFS='|' read -r skb stack kept seq probe; do
    assert_eq "pwru.stackid.kept at fib_table_lookup (ping $seq)" 2 "$kept"
    grep -q "^$skb|$stack\$" <<<"$requests" ||
      fail "fib_table_lookup of ping $seq: skb $skb on stack $stack is no echo request's own"
    [ "$probe" -gt 1 ] || fail "fib_table_lookup from probe kind $probe, not a function probe"
  done <<<"$fib"
  seqs=$(cut -d'|' -f4 <<<"$fib" | sort -u | grep -c .)
  assert_eq "pings seen at fib_table_lookup (the receiver's input route)" "$PINGS" "$seqs"
  what_stackid+=", fib_table_lookup tied to all $PINGS pings"
}
