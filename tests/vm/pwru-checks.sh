# shellcheck shell=bash
# vm_test.sh's checks of Debian's pwru beside pwrudump (guest/scenario-pwru.sh), sourced when
# PWRU_VM_PWRU=1; uses vm_test.sh's fact, blob, assert_eq, fail, WORK, VM_DIR and PINGS.
# Sets what_pwru for the pass line.
#
# Both text outputs are read the same way: an event is a line starting with its skb address;
# the function is pwru's fourth column, and pwrudump's the column after the tuple (its default
# columns, meta and tuple, come before it). A function with a drop reason is written
# func(REASON) by both; the name before the parenthesis is compared.
# Checks: both got ready and exited 0 on SIGINT, the pings were dropped; both saw each ping freed
# by sk_skb_reason_drop (6.12; kfree_skb_reason before 6.11), pwrudump with the reason
# SKB_DROP_REASON_NETFILTER_DROP there and at the kfree_skb tracepoint; every function pwru
# reports for the pings, pwrudump reports too. What pwrudump shows beyond pwru is listed:
# tracepoints, module functions, functions with a drop reason, events with a caller.
pwru_checks() {
  local tool drop_re missing extra name n kind tps mods reasons pwru_reasons callers
  drop_re='^(sk_skb_reason_drop|kfree_skb_reason)'
  for tool in pwru side; do
    assert_eq "$tool beside the other got ready" yes "$(fact "side-$tool" ready)"
    assert_eq "$tool beside the other: exit code after SIGINT" 0 "$(fact "side-$tool" rc)"
    [ "$(fact "side-$tool" ping)" != 0 ] || fail "the pings got through while $tool traced"
    blob "$tool-out" >"$WORK/$tool.out" || fail "the guest sent no $tool output"
    blob "$tool-err" >"$WORK/$tool.err" || fail "the guest sent no $tool stderr"
  done
  # "count func" per function, func as written (with its drop reason).
  awk '/^0x/ { print $4 }' "$WORK/pwru.out" | sort | uniq -c >"$WORK/pwru.funcs"
  awk '/^0x/ { for (i = 1; i < NF; i++) if ($i ~ /->/) { print $(i + 1); break } }' \
    "$WORK/side.out" | sort | uniq -c >"$WORK/side.funcs"
  for tool in pwru side; do
    [ -s "$WORK/$tool.funcs" ] || fail "no event of the pings in $tool's output: $(head -c 2000 "$WORK/$tool.out")"
  done

  # The drop: each tool names the function that freed each ping.
  n=$(awk -v re="$drop_re" '$2 ~ re { n += $1 } END { print n + 0 }' "$WORK/pwru.funcs")
  assert_eq "pings pwru saw freed (sk_skb_reason_drop or kfree_skb_reason)" "$PINGS" "$n"
  for name in sk_skb_reason_drop kfree_skb; do
    n=$(awk -v f="$name(SKB_DROP_REASON_NETFILTER_DROP)" '$2 == f { print $1 }' "$WORK/side.funcs")
    assert_eq "pings pwrudump saw at $name with reason NETFILTER_DROP" "$PINGS" "${n:-0}"
  done

  # Every function of pwru's, in pwrudump's.
  sed 's/(.*//' "$WORK/pwru.funcs" | awk '{ print $2 }' | sort -u >"$WORK/pwru.names"
  sed 's/(.*//' "$WORK/side.funcs" | awk '{ print $2 }' | sort -u >"$WORK/side.names"
  missing=$(comm -23 "$WORK/pwru.names" "$WORK/side.names" | paste -sd ' ')
  assert_eq "functions pwru reports for the pings that pwrudump does not" "" "$missing"

  # What pwrudump shows beyond pwru, by kind: its tracepoints (--list-funcs --backend
  # tracepoint in the guest), functions of modules (pwru 1.0.5 probes vmlinux's unless --kmods
  # names them), others; then its functions with a drop reason, and events with a caller.
  blob tracepoints >"$WORK/tracepoints" || fail "the guest sent no tracepoint list"
  blob module-funcs >"$WORK/module-funcs" || fail "the guest sent no module function list"
  tps="" mods="" extra=""
  while read -r name; do
    n=$(awk -v f="$name" '{ sub(/\(.*/, "", $2) } $2 == f { n += $1 } END { print n }' "$WORK/side.funcs")
    if grep -qxF "$name" "$WORK/tracepoints"; then
      tps+=" $name($n)"
    elif kind=$(awk -v f="$name" '$1 == f { print $2; exit }' "$WORK/module-funcs") && [ -n "$kind" ]; then
      mods+=" $name$kind($n)"
    else
      extra+=" $name($n)"
    fi
  done < <(comm -13 "$WORK/pwru.names" "$WORK/side.names")
  reasons=$(awk '$2 ~ /\(/ { print $2 }' "$WORK/side.funcs" | paste -sd ' ')
  callers=$(awk '/^0x/ { for (i = 1; i < NF; i++) if ($i ~ /->/) { if ($(i + 2) ~ /\+0x/) n++; break } }
                 END { print n + 0 }' "$WORK/side.out")
  echo "pwrudump beside pwru ($(cat "$VM_DIR/pwru.deb" 2>/dev/null)), the pings' events:"
  echo "  pwru:     $(grep -c '^0x' "$WORK/pwru.out") events, $(wc -l <"$WORK/pwru.names") functions," \
       "of $(grep -o '/ [0-9]* \[' "$WORK/pwru.err" | head -n 1 | tr -dc 0-9) probed"
  echo "  pwrudump: $(grep -c '^0x' "$WORK/side.out") events, $(wc -l <"$WORK/side.names") functions and tracepoints," \
       "$(grep -Eo 'attached [0-9]+ probes' "$WORK/side.err" | head -n 1)"
  echo "  extra tracepoints:${tps:- none}"
  echo "  extra module functions:${mods:- none}"
  echo "  other extra functions:${extra:- none}"
  pwru_reasons=$(awk '$2 ~ /\(/ { print $2 }' "$WORK/pwru.funcs" | paste -sd ' ')
  echo "  drop reasons: pwrudump ${reasons:-none}; pwru ${pwru_reasons:-none}"
  echo "  caller (pwrudump --output-caller): $callers of $(grep -c '^0x' "$WORK/side.out") events"
  what_pwru="; beside pwru: its $(wc -l <"$WORK/pwru.names") functions all seen,"
  what_pwru+=" $(comm -13 "$WORK/pwru.names" "$WORK/side.names" | wc -l) more names, the drop's reason where pwru has none"
  what_pwru+=" (attach, guest clock: pwru $(fact side-pwru start | awk -v r="$(fact side-pwru ready_at)" '{ printf "%.1f", r - $1 }') s,"
  what_pwru+=" pwrudump $(fact side-side start | awk -v r="$(fact side-side ready_at)" '{ printf "%.1f", r - $1 }') s)"
}
