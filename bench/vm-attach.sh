#!/usr/bin/env bash
# Attach and detach time of every backend with all skb functions, in the stock Debian kernels
# of the VM tests (tests/vm, docs/testing-vms.md) booted under QEMU. TCG emulates the CPU, so
# absolute times are slow: read them per probe and beside the same boot's baselines (the
# tracepoint backend, and `pwrudump --list-funcs`, which reads BTF and finds the probes without
# loading anything).
#
# usage: bench/vm-attach.sh [KERNEL...]   (as root; default: 6.12 6.1; environment: see
#        bench/lib.sh, PWRU_VM_TIMEOUT seconds per boot (default 1200), BENCH_BACKENDS: the
#        backends to time (default: every one the kernel has))
# One boot per kernel runs tests/vm/guest/bench-attach.sh for each backend the kernel has.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
require_root
require_cmd qemu-system-x86_64 cpio gzip base64

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.12 6.1)
timeout_s=${PWRU_VM_TIMEOUT:-1200}
WORK=$(mktemp -d /tmp/pwru-bench-vm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

out ""
out "### Attach and detach in QEMU (TCG), all skb functions, one boot per kernel"
out ""
out "Guest clock, 10 ms resolution; ms/probe = attach seconds / probes attached."
out "pwrudump: $PWRUDUMP; host: $(machine_line)."
out ""
out "| kernel | backend | probes | --list-funcs s | attach s | detach s | attach ms/probe | detach / attach |"
out "|---|---|---|---|---|---|---|---|"
for kernel in "${kernels[@]}"; do
  vm_kernel "$kernel" || fail "unknown kernel $kernel (tests/vm/kernels.sh)"
  case "$kernel" in
    6.12) backends="tracepoint kprobe-multi kprobe fentry" ;;
    *) backends="tracepoint kprobe fentry" ;;  # no CONFIG_FPROBE: no kprobe-multi
  esac
  if [ -n "${BENCH_BACKENDS:-}" ]; then
    wanted=
    for b in $BENCH_BACKENDS; do
      case " $backends " in
        *" $b "*) wanted="$wanted $b" ;;
        *) echo "vm-attach: kernel $kernel has no backend $b: skipped" >&2 ;;
      esac
    done
    backends=${wanted# }
    [ -n "$backends" ] || continue
  fi
  vm_dir="$BUILD/bench-vm/$kernel"
  mkdir -p "$vm_dir"
  "$REPO/tests/vm/prepare.sh" "$kernel" "$PWRUDUMP" "$vm_dir" >"$WORK/prepare-$kernel.log" 2>&1 ||
    fail "cannot prepare kernel $kernel: $(tail -n 5 "$WORK/prepare-$kernel.log")"

  # The scenario and its settings, in a small cpio in front of the prepared initramfs.
  ov="$WORK/overlay-$kernel"
  mkdir -p "$ov/scenario"
  cp "$REPO/tests/vm/guest/bench-attach.sh" "$ov/scenario/scenario-bench-attach.sh"
  {
    echo "VM_SCENARIO=bench-attach"
    echo "BENCH_BACKENDS='$backends'"
    echo "READY_TIMEOUT=$((timeout_s / 4))"
  } >"$ov/scenario.env"
  (cd "$ov" && find . | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd-$kernel"
  cat "$vm_dir/initramfs.cpio.gz" >>"$WORK/initrd-$kernel"
  results="$WORK/results-$kernel.txt"
  echo "vm-attach: booting $(cat "$vm_dir/kernel/kver") under TCG for: $backends" >&2
  timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg -smp 2 -m 1536 -nographic -no-reboot \
    -nic none -monitor none -serial "file:$WORK/console-$kernel.log" -serial "file:$results" \
    -kernel "$vm_dir/kernel/vmlinuz" -initrd "$WORK/initrd-$kernel" \
    -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" >"$WORK/qemu.log" 2>&1 ||
    fail "qemu failed or timed out for $kernel: $(tail -n 20 "$WORK/console-$kernel.log")"
  grep -aq '^PWRU-VM-DONE' "$results" || fail "the guest of $kernel stopped early: $(tail -n 20 "$WORK/console-$kernel.log")"

  for backend in $backends; do
    line=$(tr -d '\r' <"$results" | grep -a "^PWRU-VM bench backend=$backend ")
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    stderr=$(tr -d '\r' <"$results" | awk -v n="stderr-$backend" '$0 == "PWRU-VM-END " n { on = 0 } on { print }
      $0 == "PWRU-VM-BEGIN " n { on = 1 }' | base64 -d | gzip -dc)
    probes=$(grep -Eo 'attached [0-9]+ probes' <<<"$stderr" | awk '{ print $2 }')
    if [ "$(get rc)" != 0 ] || [ "$(get ready)" = none ] || [ -z "$probes" ]; then
      out "| $kernel | $backend | failed (exit $(get rc)): $(head -n 1 <<<"$stderr" | tr '|' ' ') | | | | | |"
      continue
    fi
    list_s=$(awk -v a="$(get l0)" -v b="$(get l1)" 'BEGIN { printf "%.2f", b - a }')
    attach_s=$(awk -v a="$(get start)" -v b="$(get ready)" 'BEGIN { printf "%.2f", b - a }')
    detach_s=$(awk -v a="$(get stop)" -v b="$(get exited)" 'BEGIN { printf "%.2f", b - a }')
    out "| $(cat "$vm_dir/kernel/kver") | $backend | $probes | $list_s | $attach_s | $detach_s |" \
        "$(awk -v a="$attach_s" -v p="$probes" 'BEGIN { printf "%.1f", 1000 * a / p }') | $(ratio "$detach_s" "$attach_s" 2) |"
  done
done
out ""
out "Host load after: $(load_now)."
