# shellcheck shell=bash disable=SC2034
# The kernel matrix: which Debian release provides each kernel, and what each kernel can show.
# Sourced by the VM scripts. One row per kernel; the expectations are per kernel on purpose, so a
# weaker assertion on an older kernel is written down here and never decided silently.

# The kernels of the matrix.
VM_KERNELS="5.10 6.1 6.12 7.2"

# vm_kernel KERNEL: sets VM_SUITE, VM_DROP_REASON, VM_AUTO_BACKEND for KERNEL (one of VM_KERNELS).
#   VM_SUITE         the Debian suite whose linux-image-amd64 metapackage names the kernel
#   VM_DROP_REASON   yes: the kfree_skb tracepoint carries `reason` (added in 5.17,
#                    "net: skb: introduce kfree_skb_reason()"), so the drop must be named
#                    NETFILTER_DROP; no: the drop is only seen at kfree_skb with its caller, and
#                    the event must carry no drop reason at all
#   VM_AUTO_BACKEND  what `--backend auto` must pick: kprobe-multi needs CONFIG_FPROBE, which
#                    Debian turns on from 6.12 (docs/testing-vms.md)
vm_kernel() {
  case "$1" in
    5.10) VM_SUITE=bullseye VM_DROP_REASON=no VM_AUTO_BACKEND=kprobe ;;
    6.1) VM_SUITE=bookworm VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe ;;
    6.12) VM_SUITE=trixie VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe-multi ;;
    7.2) VM_SUITE=sid VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe-multi ;;
    *) return 1 ;;
  esac
}

# The modules the guest scenario loads (their dependencies come along). iptables runs as
# iptables-legacy in the guest: it needs only x_tables, ip_tables and iptable_filter on every
# kernel, where iptables-nft would need nf_tables with a set of expression modules that changes
# between releases.
VM_MODULES="veth iptable_filter"

# The cache of downloaded kernel packages: outside the build tree so that fresh clones and new
# build folders reuse it.
VM_CACHE=${PWRU_VM_CACHE:-/var/cache/pwrudump-vm}
