#!/usr/bin/env bash
# --nf-trace on the running kernel (tracepoint backend), in namespaces of the test's own:
#   drop:    native nftables in B: an inet table whose input chain jumps to c2, which drops
#            tcp dport 4444. A connects to B:4444; every kfree_skb(NETFILTER_DROP) of those SYNs
#            names family inet, hook input, table and chain c2, the handle `nft -a list` shows,
#            the rule as nft prints it and verdict drop: in JSON (nf_* keys), at the end of
#            the text drop line, and in the pcapng written alongside (pwru.nf.* in tshark). The
#            trace tables are in B while capturing, not in A, and mark packets by the capture
#            filter (an xt_bpf match before `meta nftrace set 1`).
#   own:     the same drop, pwrudump run inside B without --filter-netns: its own namespace gets
#            the tables, and the JSON drops are named as in drop.
#   iptables: iptables (iptables-nft) drops ICMP in B, after a rule inserted before it with -I
#            (so its handle is smaller than its position says); each dropped ping names family
#            ip, hook input, table filter, chain INPUT, verdict drop, the handle
#            `nft -a list chain ip filter INPUT` shows and the line `iptables -S INPUT` prints for
#            it (JSON).
#   ipv6:    ip6tables (iptables-nft) drops ICMPv6 echo requests in B; each dropped ping -6 names
#            family ip6, hook input, table filter, chain INPUT, the rule's handle as
#            `nft -a list chain ip6 filter INPUT` shows it and the line `ip6tables -S INPUT`
#            prints for it (JSON).
#   extcap:  the same drop through `tshark -i pwru` with the dialog's checkbox
#            (-o extcap.pwru.nftrace:true; lowercase: Wireshark compares the text): pwru.nf.*
#            fields, and the rule in the Info column.
#   extcap_iptables: iptables' ICMP drop of the iptables mode through `tshark -i pwru` with the
#            checkbox: pwru.nf.rule is the line `iptables -S INPUT` prints, with table filter,
#            chain INPUT, the handle nft shows and verdict drop.
#   cleanup: after SIGINT, SIGTERM and SIGKILL of pwrudump no pwrudump_ table is left, both in
#            the namespace of --filter-netns and in pwrudump's own (run inside A).
#   passed:  native nftables in B: input counts every packet, jumps to c2 for TCP (c2 drops
#            PORT) and to c3 for ICMP (c3 accepts echo requests). Each dropped SYN has, before
#            its drop and with its skb, the rules it passed: the counter (continue) and the jump
#            to c2 (nf_jump_target c2); each accepted ping the counter, the jump to c3 and c3's
#            accept, with the skb of an event of the same ping, and no drop (JSON; the pcapng's
#            pwru.nf.* fields and Info column).
#   deleted: iptables drops ICMP from A (rule 1), then all ICMP (rule 2). A ping is dropped by
#            rule 1; pwrudump stopped (SIGSTOP), a ping is dropped by rule 1, rule 1 is deleted,
#            pwrudump goes on: that drop keeps rule 1's handle and text and says deleted; a third
#            ping is dropped by rule 2, current. No record shows rule 2's text under rule 1's
#            handle.
#   changed: as deleted, with rule 1 replaced (iptables -R, the handle stays): the drop before
#            the replace keeps the old text and says changed, the one after has the new text.
#   replaced: as changed, with `nft replace rule` (the handle stays too).
# usage: nftrace_test.sh drop|own|iptables|ipv6|cleanup|extcap|extcap_iptables|passed|deleted|
#        changed|replaced PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip nft jq timeout tshark setpriv
e2e_hosts
PORT=4444

# The trace tables of pwrudump PID in namespace NS, as `nft list tables` names them.
tables_of() { ip netns exec "$1" nft list tables | grep -F "pwrudump_${2:-}" | sort; }

# B's ruleset: input jumps to c2 for TCP, c2 drops PORT. Sets $handle, as a user finds it with
# `nft -a list chain`.
add_rules() {
  ip netns exec "$NS_B" nft -f - <<EOF_NFT || fail "cannot add the nftables rules"
table inet pwrutest {
  chain input {
    type filter hook input priority 0; policy accept;
    ip protocol tcp jump c2
  }
  chain c2 {
    tcp dport $PORT drop
  }
}
EOF_NFT
  handle=$(ip netns exec "$NS_B" nft -a list chain inet pwrutest c2 |
             sed -n "s/.*tcp dport $PORT drop # handle \([0-9]*\)$/\1/p")
  [ -n "$handle" ] || fail "no handle for the drop rule in: $(ip netns exec "$NS_B" nft -a list ruleset)"
}

# connect_b: SYNs from A to B:PORT, dropped (the first and its retransmissions), for 2.5 s.
connect_b() {
  ip netns exec "$NS_A" timeout 2.5 bash -c "exec 3<>/dev/tcp/$IP_B/$PORT" 2>/dev/null \
    && fail "the connection to $IP_B:$PORT got through although c2 drops it"
}

# expect_named WHAT FAMILY VERDICT NAMED: NAMED, the drops' rule fields one line per distinct
# value with its count (uniq -c), must be one line: every drop named c2's rule, with FAMILY and
# VERDICT as WHAT writes them (JSON: inet, drop; tshark -T fields: 1, 0). Sets $n, the drops.
expect_named() {
  n=$(awk 'NR == 1 { print $1 }' <<<"$4")
  if [ -z "$n" ]; then fail "no NETFILTER_DROP event in $1"; fi
  assert_eq "rule of the $n drops in $1" \
    "$n $2|input|pwrutest|c2|$handle|$3|tcp dport $PORT drop" "$(one_line "$4")"
}

# The drops' nf_* keys in pwrudump's JSON lines FILE, as expect_named reads them.
json_drops() {
  jq -r 'select(.drop_reason == "NETFILTER_DROP") | [.nf_family, .nf_hook, .nf_table, .nf_chain,
         .nf_handle, .nf_verdict, .nf_rule] | map(tostring) | join("|")' "$1" | sort | uniq -c \
    || fail "pwrudump's JSON does not parse: $(head -3 "$1")"
}

# add_iptables_rules: iptables (iptables-nft) in B drops ICMP, after a rule inserted before it
# with -I (so its handle is smaller than its position says). Sets $handle and $rule, as
# `nft -a list chain` and `iptables -S INPUT` show them.
add_iptables_rules() {
  require_cmd iptables ping
  if ! ip netns exec "$NS_B" iptables -A INPUT -p icmp -j DROP \
     || ! ip netns exec "$NS_B" iptables -I INPUT -p tcp --dport 22 -j ACCEPT; then
    fail "cannot add the iptables rules"
  fi
  handle=$(ip netns exec "$NS_B" nft -a list chain ip filter INPUT 2>/dev/null |
             sed -n 's/.*icmp.* drop # handle \([0-9]*\)$/\1/p')
  rule=$(ip netns exec "$NS_B" iptables -S INPUT | grep -- '-j DROP$')
  if [ -z "$handle" ] || [ "$rule" != "-A INPUT -p icmp -j DROP" ]; then
    fail "no drop rule in: $(ip netns exec "$NS_B" nft -a list ruleset)"
  fi
}

# expect_pings_named FAMILY FILTER ADDR [PING_OPTION]: 3 pings from A to ADDR, captured with
# FILTER, are dropped in B, and each names FAMILY, hook input, table filter, chain INPUT, $handle,
# verdict drop and $rule in pwrudump's JSON; pwrudump -q writes nothing to stderr
# (iptables-nft-save's messages would fail a Wireshark capture).
expect_pings_named() {
  start_trace "$WORK/trace.pcapng" --nf-trace --filter-netns "/run/netns/$NS_B" --output-json \
    --output-file "$WORK/out.json" "$2"
  ip netns exec "$NS_A" ping ${4:+"$4"} -c 3 -i 0.2 -W 1 "$3" >/dev/null \
    && fail "pings to $3 got through although the rule drops them"
  stop_trace
  assert_eq "rule of the 3 dropped echo requests" \
    "$(one_line "3 $1|input|filter|INPUT|$handle|drop|$rule")" \
    "$(one_line "$(json_drops "$WORK/out.json")")"
  assert_eq "pwrudump's stderr" "" "$(cat "$WORK/stderr")"
}

# The drops' pwru.nf.* fields in the pcapng FILE, as expect_named reads them.
nf_fields() {
  fields "$1" -Y 'pwru.drop_reason == "NETFILTER_DROP"' -E separator='|' -e pwru.nf.family \
    -e pwru.nf.hook -e pwru.nf.table -e pwru.nf.chain -e pwru.nf.handle -e pwru.nf.verdict \
    -e pwru.nf.rule | sort | uniq -c
}

# tshark_capture FILTER TRAFFIC...: `tshark -i pwru` for 6 s with the dialog's options
# (--filter-netns B, the --nf-trace checkbox) and capture filter FILTER into $WORK/trace.pcapng,
# running TRAFFIC once pwrudump attached; tshark must end well and print no error.
tshark_capture() {
  local filter=$1
  shift
  # Root's tshark ignores WIRESHARK_EXTCAP_DIR but reads the personal extcap folder under
  # XDG_CONFIG_HOME.
  extcap_link "$WORK/config/wireshark/extcap" "$PWRUDUMP" "$WORK/ready"
  export XDG_CONFIG_HOME="$WORK/config"
  tshark -i pwru -f "$filter" -o "extcap.pwru.filternetns:/run/netns/$NS_B" \
    -o extcap.pwru.nftrace:true -a duration:6 -w "$WORK/trace.pcapng" \
    >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
  TSHARK_PID=$!
  wait_attached "$WORK/ready" "pwrudump under tshark (stderr: $(cat "$WORK/tshark.err"))"
  "$@"
  wait "$TSHARK_PID"
  assert_eq "tshark exit code (stderr: $(cat "$WORK/tshark.err"))" 0 "$?"
  if grep -qi "error" "$WORK/tshark.err"; then
    fail "tshark reported an error from the extcap: $(cat "$WORK/tshark.err")"
  fi
}

# handle_of NS FAMILY TABLE CHAIN TEXT: the handle `nft -a list chain` shows for the rule TEXT
# (a sed pattern).
handle_of() {
  ip netns exec "$1" nft -a list chain "$2" "$3" "$4" 2>/dev/null |
    sed -n "s/^[[:space:]]*$5 # handle \([0-9]*\)$/\1/p"
}

# The JSON lines of FILE as "skb|func|probe|chain|handle|verdict|target|state|rule", in order.
json_rules() {
  jq -r '[.skb, .func, .probe, .nf_chain, .nf_handle, .nf_verdict, .nf_jump_target,
          .nf_rule_state, .nf_rule] | map(tostring) | join("|")' "$1" \
    || fail "pwrudump's JSON does not parse: $(head -3 "$1")"
}

# expect_drops_named WHAT EXPECTED: the NETFILTER_DROP lines of $WORK/out.json, in order, as
# "handle|state|rule", must be EXPECTED (one per line).
expect_drops_named() {
  local got
  got=$(jq -r 'select(.drop_reason == "NETFILTER_DROP") |
               [.nf_handle, .nf_rule_state, .nf_rule] | map(tostring) | join("|")' \
          "$WORK/out.json") || fail "pwrudump's JSON does not parse: $(head -3 "$WORK/out.json")"
  assert_eq "$1" "$2" "$got"
}

# rule_gone_while_stopped WHAT CHANGE...: iptables in B drops ICMP from A (rule 1), then all ICMP
# (rule 2). One ping dropped by rule 1 with pwrudump running; one while pwrudump is stopped,
# after which the command CHANGE changes rule 1 (WHAT names it in messages); one after pwrudump
# went on. Sets $h1, $h2, $old,
# $new (rule 1's text after CHANGE) and $second (rule 2's).
rule_gone_while_stopped() {
  require_cmd iptables ping
  if ! ip netns exec "$NS_B" iptables -A INPUT -p icmp -s "$IP_A" -j DROP \
     || ! ip netns exec "$NS_B" iptables -A INPUT -p icmp -j DROP; then
    fail "cannot add the iptables rules"
  fi
  old=$(ip netns exec "$NS_B" iptables -S INPUT | grep -- "-s $IP_A/32")
  second=$(ip netns exec "$NS_B" iptables -S INPUT | grep -- '-A INPUT -p icmp -j DROP')
  h1=$(handle_of "$NS_B" ip filter INPUT "meta l4proto icmp ip saddr $IP_A .*drop")
  h2=$(handle_of "$NS_B" ip filter INPUT "meta l4proto icmp counter packets [0-9]* bytes [0-9]* drop")
  if [ -z "$h1" ] || [ -z "$h2" ] || [ -z "$old" ] || [ -z "$second" ]; then
    fail "no handles for the rules in: $(ip netns exec "$NS_B" nft -a list ruleset)"
  fi
  start_trace "$WORK/trace.pcapng" --nf-trace --filter-netns "/run/netns/$NS_B" --output-json \
    --output-file "$WORK/out.json" "icmp[icmptype] == icmp-echo"
  ping_dropped() {
    ip netns exec "$NS_A" ping -c 1 -W 1 "$IP_B" >/dev/null && fail "a ping got through"
  }
  local what=$1 rc
  shift
  ping_dropped
  sleep 0.5  # its drop is named before pwrudump stops
  kill -STOP "$PWRU_PID"
  ping_dropped
  "$@"
  rc=$?
  kill -CONT "$PWRU_PID"  # before any fail: a stopped pwrudump would not end
  [ "$rc" = 0 ] || fail "cannot $what rule 1"
  new=$(ip netns exec "$NS_B" iptables -S INPUT | sed -n 2p)
  ping_dropped
  stop_trace
}

case "$mode" in
passed)
  ip netns exec "$NS_B" nft -f - <<EOF_NFT || fail "cannot add the nftables rules"
table inet pwrutest {
  chain input {
    type filter hook input priority 0; policy accept;
    counter
    ip protocol tcp jump c2
    ip protocol icmp jump c3
  }
  chain c2 {
    tcp dport $PORT drop
  }
  chain c3 {
    icmp type echo-request accept
  }
}
EOF_NFT
  counter=$(handle_of "$NS_B" inet pwrutest input "counter packets [0-9]* bytes [0-9]*")
  jump2=$(handle_of "$NS_B" inet pwrutest input "ip protocol tcp jump c2")
  jump3=$(handle_of "$NS_B" inet pwrutest input "ip protocol icmp jump c3")
  drop=$(handle_of "$NS_B" inet pwrutest c2 "tcp dport $PORT drop")
  accept=$(handle_of "$NS_B" inet pwrutest c3 "icmp type echo-request accept")
  for h in "$counter" "$jump2" "$jump3" "$drop" "$accept"; do
    [ -n "$h" ] || fail "no handles in: $(ip netns exec "$NS_B" nft -a list ruleset)"
  done
  start_trace "$WORK/trace.pcapng" --nf-trace --filter-netns "/run/netns/$NS_B" --output-json \
    --output-file "$WORK/out.json" "(tcp and dst port $PORT) or icmp[icmptype] == icmp-echo"
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null \
    || fail "pings to $IP_B did not get through although c3 accepts them"
  connect_b
  stop_trace
  json_rules "$WORK/out.json" >"$WORK/rules"

  # Each SYN: the counter and the jump to c2, with the drop's skb, right before the drop.
  drops=$(grep -c '|kfree_skb|.*|c2|' "$WORK/rules")
  [ "$drops" -gt 0 ] || fail "no drop named in: $(cat "$WORK/rules")"
  passed_before_drop=$(awk -F'|' '
    $2 == "kfree_skb" && $4 == "c2" {
      if (prev2 == $1 "|nft_trace_packet|nftrace|input|'"$counter"'|continue|null|current|counter" &&
          prev1 == $1 "|nft_trace_packet|nftrace|input|'"$jump2"'|jump|c2|current|ip protocol tcp jump c2")
        n++
    }
    { prev2 = prev1; prev1 = $0 }
    END { print n + 0 }' "$WORK/rules")
  assert_eq "drops right after the counter and the jump to c2 of their skb ($(cat "$WORK/rules"))" \
    "$drops" "$passed_before_drop"
  pass "$drops dropped SYNs passed the counter and the jump to c2 (handle $jump2) before c2 dropped them"

  # Each ping: the counter, the jump to c3 and c3's accept, in this order, then the event they
  # were tied to: one of the same skb. No drop.
  pings=$(awk -F'|' '
    prev3 ~ /\|nftrace\|input\|'"$counter"'\|continue\|null\|current\|counter$/ &&
    prev2 ~ /\|nftrace\|input\|'"$jump3"'\|jump\|c3\|current\|ip protocol icmp jump c3$/ &&
    prev1 ~ /\|nftrace\|c3\|'"$accept"'\|accept\|null\|current\|icmp type echo-request accept$/ &&
    $3 == "tracepoint" {
      split(prev3, a); split(prev2, b); split(prev1, c)
      if (a[1] == $1 && b[1] == $1 && c[1] == $1) n++
    }
    { prev3 = prev2; prev2 = prev1; prev1 = $0 }
    END { print n + 0 }' "$WORK/rules")
  assert_eq "pings with the counter, the jump to c3 and c3's accept before an event of their skb
$(cat "$WORK/rules")" 3 "$pings"
  icmp_drops=$(jq -r 'select(.drop_reason == "NETFILTER_DROP" and .tuple.proto == 1)' "$WORK/out.json")
  assert_eq "netfilter drops of accepted pings" "" "$icmp_drops"
  pass "3 accepted pings passed the counter, the jump to c3 and c3's accept, no drop"

  # The pcapng: the same records, as Wireshark shows them (Info from its rule on).
  jumps=$(fields "$WORK/trace.pcapng" -Y 'pwru.probe == 5 && pwru.nf.jump_target == "c2"' \
            -E separator='|' -e pwru.nf.trace_type -e pwru.nf.verdict -e _ws.col.Info |
            sed 's/|[^|]*) nft /|nft /' | sort -u)
  assert_eq "the jumps to c2 in the pcapng (trace type|verdict|end of Info)" \
    "3|-3|nft inet pwrutest input handle $jump2 jump c2 \"ip protocol tcp jump c2\"" "$jumps"
  pass "the pcapng names the jumps to c2: pwru.nf.jump_target, pwru.nf.trace_type, Info"
  ;;

deleted)
  rule_gone_while_stopped delete ip netns exec "$NS_B" iptables -D INPUT 1
  expect_drops_named "drops by rule 1 ($h1), rule 1 deleted, then rule 2 ($h2)" \
    "$h1|current|$old
$h1|deleted|$old
$h2|current|$second"
  pass "the drop traced before rule 1 went keeps handle $h1 and its text, and says deleted"
  ;;

changed | replaced)
  if [ "$mode" = replaced ]; then
    # nft replace rule, on the handle the helper found: a comment iptables shows as -m comment.
    nft_replace() {
      ip netns exec "$NS_B" nft replace rule ip filter INPUT handle "$h1" \
        meta l4proto icmp ip saddr "$IP_A" counter drop comment '"new"'
    }
    rule_gone_while_stopped "replace (nft replace rule)" nft_replace
  else
    rule_gone_while_stopped "replace (iptables -R)" ip netns exec "$NS_B" \
      iptables -R INPUT 1 -p icmp -s "$IP_A" -m comment --comment new -j DROP
  fi
  [ "$new" != "$old" ] || fail "the replace did not change rule 1: $new"
  [ "$(handle_of "$NS_B" ip filter INPUT "meta l4proto icmp ip saddr $IP_A .*drop.*")" = "$h1" ] \
    || fail "the replace did not keep handle $h1: $(ip netns exec "$NS_B" nft -a list ruleset)"
  expect_drops_named "drops by rule 1 ($h1), rule 1 replaced" \
    "$h1|current|$old
$h1|changed|$old
$h1|current|$new"
  pass "the drop traced before rule 1 was replaced keeps its old text and says changed; later ones have the new"
  ;;

drop)
  add_rules
  for format in json text; do
    json=()
    [ "$format" = json ] && json=(--output-json)
    start_trace "$WORK/trace.pcapng" --nf-trace --filter-netns "/run/netns/$NS_B" \
      --output-file "$WORK/out.$format" "${json[@]}" "tcp and dst port $PORT"
    if [ "$format" = json ]; then
      expected=$(printf 'table ip pwrudump_%s\ntable ip6 pwrudump_%s' "$PWRU_PID" "$PWRU_PID")
      assert_eq "trace tables in $NS_B while capturing" "$expected" "$(tables_of "$NS_B" "$PWRU_PID")"
      assert_eq "trace tables in $NS_A" "" "$(tables_of "$NS_A")"
      marks=$(ip netns exec "$NS_B" nft list table ip "pwrudump_$PWRU_PID" 2>/dev/null | grep -c \
                "xt match bpf meta nftrace set 1 accept")
      assert_eq "rules marking by the capture filter in table ip pwrudump_$PWRU_PID" 2 "$marks"
    fi
    connect_b
    stop_trace
  done

  # JSON: every netfilter drop of the SYNs names the rule.
  expect_named "pwrudump's JSON" inet drop "$(json_drops "$WORK/out.json")"
  pass "$n SYNs dropped in $NS_B named in JSON: chain c2, handle $handle, rule 'tcp dport $PORT drop'"

  # The pcapng of the text run: the same in the record, as Wireshark reads it.
  expect_named "the pcapng (pwru.nf.*)" 1 0 "$(nf_fields "$WORK/trace.pcapng")"
  pass "$n drops named in the pcapng record (pwru.nf.*)"

  # Text: the drop line ends with the rule.
  drops=$(grep 'NETFILTER_DROP' "$WORK/out.text")
  [ -n "$drops" ] || fail "no NETFILTER_DROP line: $(cat "$WORK/out.text")"
  suffix="family=inet hook=input table=pwrutest chain=c2 handle=$handle verdict=drop rule=\"tcp dport $PORT drop\""
  while read -r line; do
    [[ "$line" == *" $suffix" ]] || fail "drop line does not end with '$suffix': $line"
  done <<<"$drops"
  pass "$(count_lines "$drops") text drop lines end with the rule"
  ;;

cleanup)
  for sig in INT TERM KILL; do
    # In B through --filter-netns, and in pwrudump's own namespace (A).
    for where in filter own; do
      rm -f "$WORK/ready"
      if [ "$where" = filter ]; then
        ns=$NS_B
        "$PWRUDUMP" -q --nf-trace --filter-netns "/run/netns/$NS_B" --output-file /dev/null \
          --ready-file "$WORK/ready" "tcp port $PORT" 2>"$WORK/stderr" &
      else
        ns=$NS_A
        # ip netns exec executes pwrudump in its own process: $! is pwrudump.
        ip netns exec "$NS_A" "$PWRUDUMP" -q --nf-trace --output-file /dev/null \
          --ready-file "$WORK/ready" "tcp port $PORT" 2>"$WORK/stderr" &
      fi
      PWRU_PID=$!
      wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
      [ "$(tables_of "$ns" "$PWRU_PID" | grep -c .)" -eq 2 ] \
        || fail "no trace tables in $ns while capturing: $(ip netns exec "$ns" nft list tables)"
      kill -"$sig" "$PWRU_PID"
      wait "$PWRU_PID"
      rc=$?
      PWRU_PID=
      if [ "$sig" != KILL ]; then
        assert_eq "exit code after SIG$sig (stderr: $(cat "$WORK/stderr"))" 0 "$rc"
      fi
      # The kernel deletes owned tables when the owner's socket is released: at once.
      left=$(tables_of "$ns")
      assert_eq "pwrudump_ tables in $ns after SIG$sig ($where)" "" "$left"
    done
  done
  pass "no pwrudump_ table left after SIGINT, SIGTERM and SIGKILL, in --filter-netns and own namespace"
  ;;
own)
  add_rules
  rm -f "$WORK/ready"
  # ip netns exec executes pwrudump in its own process: $! is pwrudump.
  ip netns exec "$NS_B" "$PWRUDUMP" -q --nf-trace --output-json --output-file "$WORK/out.json" \
    --ready-file "$WORK/ready" "tcp and dst port $PORT" 2>"$WORK/stderr" &
  PWRU_PID=$!
  wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
  [ "$(tables_of "$NS_B" "$PWRU_PID" | grep -c .)" -eq 2 ] \
    || fail "no trace tables in pwrudump's own namespace: $(ip netns exec "$NS_B" nft list tables)"
  connect_b
  stop_trace
  expect_named "pwrudump's JSON (own namespace)" inet drop "$(json_drops "$WORK/out.json")"
  pass "$n drops named by pwrudump in its own namespace, without --filter-netns"
  ;;

iptables)
  add_iptables_rules
  expect_pings_named ip "icmp[icmptype] == icmp-echo" "$IP_B"
  pass "3 ICMP echo requests dropped by iptables named: handle $handle, rule '$rule'"
  ;;

ipv6)
  require_cmd ip6tables ping
  IP6_A=fd00:231:$(( $$ % 200 + 20 ))::1 IP6_B=fd00:231:$(( $$ % 200 + 20 ))::2
  ip -n "$NS_A" addr add "$IP6_A/64" dev "$VETH_A" nodad
  ip -n "$NS_B" addr add "$IP6_B/64" dev "$VETH_B" nodad
  ip netns exec "$NS_B" ip6tables -A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP \
    || fail "cannot add the ip6tables rule"
  # The rule's handle as nft shows it, and its line as ip6tables -S prints it.
  line=$(ip netns exec "$NS_B" nft -a list chain ip6 filter INPUT 2>/dev/null | grep ' drop # handle ')
  handle=${line##* # handle }
  rule=$(ip netns exec "$NS_B" ip6tables -S INPUT | grep -- '-j DROP$')
  if [ -z "$handle" ] || [ -z "$rule" ]; then
    fail "no drop rule in: $(ip netns exec "$NS_B" nft -a list ruleset)"
  fi
  expect_pings_named ip6 "icmp6 and ip6[40] == 128" "$IP6_B" -6
  pass "3 ICMPv6 echo requests dropped by ip6tables named: handle $handle, rule '$rule'"
  ;;

extcap)
  add_rules
  tshark_capture "tcp and dst port $PORT" connect_b
  expect_named "tshark -i pwru's capture (stderr: $(cat "$WORK/tshark.err"))" 1 0 \
    "$(nf_fields "$WORK/trace.pcapng")"
  info=$(fields "$WORK/trace.pcapng" -Y 'pwru.drop && pwru.nf.rule' -e _ws.col.Info | sort -u)
  [[ "$info" == *"NETFILTER_DROP by \"tcp dport $PORT drop\" (table pwrutest, chain c2, handle $handle)" ]] \
    || fail "Info column does not name the rule: $info"
  # The capture ended: pwrudump's tables went with it.
  assert_eq "pwrudump_ tables in $NS_B after the capture" "" "$(tables_of "$NS_B")"
  pass "tshark -i pwru -o extcap.pwru.nftrace:true named $n drops: chain c2, handle $handle"
  ;;
extcap_iptables)
  add_iptables_rules
  ping_b() {
    ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null \
      && fail "pings to $IP_B got through although the rule drops them"
  }
  tshark_capture "icmp[icmptype] == icmp-echo" ping_b
  named=$(nf_fields "$WORK/trace.pcapng")
  assert_eq "rule of the dropped echo requests in tshark -i pwru's capture (stderr: $(cat "$WORK/tshark.err"))" \
    "$(one_line "3 2|input|filter|INPUT|$handle|0|$rule")" "$(one_line "$named")"
  assert_eq "pwrudump_ tables in $NS_B after the capture" "" "$(tables_of "$NS_B")"
  pass "tshark -i pwru -o extcap.pwru.nftrace:true named 3 iptables drops: '$rule', handle $handle"
  ;;
*) fail "unknown mode $mode" ;;
esac
