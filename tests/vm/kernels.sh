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
  vm_nf_kernel "$1"
}

# What --nf-trace (scenario-nftrace.sh) must show on each kernel:
#   VM_NF_OWNED  1: the trace tables are owned (NFT_TABLE_F_OWNER, Linux 5.12); 0: 5.10 refuses
#                the flag, and pwrudump deletes the tables itself
#   VM_NF_TIE    how the drops are tied to their traces: exact on 5.10 (the trace id is a jhash
#                without a secret), and on 6.1 and later where nf_tables' trace_key shows in
#                /proc/kallsyms (Debian builds nf_tables as a module, CONFIG_KALLSYMS_ALL=y)
vm_nf_kernel() {
  case "$1" in
    5.10) VM_NF_OWNED=0 VM_NF_TIE=exact ;;
    *) VM_NF_OWNED=1 VM_NF_TIE=exact ;;
  esac
}

# The modules the guest scenario loads (their dependencies come along). iptables runs as
# iptables-legacy in the guest: it needs only x_tables, ip_tables and iptable_filter on every
# kernel, where iptables-nft would need nf_tables with a set of expression modules that changes
# between releases.
VM_MODULES="veth iptable_filter"
# --nf-trace's (scenario-nftrace.sh): nftables, and the xt_bpf match its trace tables run through
# nft_compat. nf_tables' expressions for `icmp type echo-request drop` are built into it;
# nfnetlink and x_tables come as dependencies where they are modules (7.2 builds nfnetlink in).
VM_MODULES+=" nf_tables nft_compat xt_bpf"

# The cache of downloaded kernel packages: outside the build tree so that fresh clones and new
# build folders reuse it.
VM_CACHE=${PWRU_VM_CACHE:-/var/cache/pwrudump-vm}
