# shellcheck shell=bash disable=SC2034
# The kernel matrix: which Debian release provides each kernel, and what each kernel can show.
# Sourced by the VM scripts. One row per kernel; the expectations are per kernel on purpose, so a
# weaker assertion on an older kernel is written down here and never decided silently.

# The kernels of the matrix.
VM_KERNELS="5.10 6.1 6.12 7.2"

# vm_kernel KERNEL: sets VM_SUITE, VM_DROP_REASON, VM_AUTO_BACKEND, VM_MODULE_BTF, VM_NFT_FREES,
# VM_PWRU and VM_MODULES for KERNEL (one of VM_KERNELS).
#   VM_SUITE         the Debian suite whose linux-image-amd64 metapackage names the kernel
#   VM_DROP_REASON   yes: the kfree_skb tracepoint carries `reason` (added in 5.17,
#                    "net: skb: introduce kfree_skb_reason()"), so the drop must be named
#                    NETFILTER_DROP; no: the drop is only seen at kfree_skb with its caller, and
#                    the event must carry no drop reason at all
#   VM_AUTO_BACKEND  what `--backend auto` must pick: kprobe-multi needs CONFIG_FPROBE, which
#                    Debian turns on from 6.12 (docs/testing-vms.md)
#   VM_MODULE_BTF    yes: modules have BTF (5.11, CONFIG_DEBUG_INFO_BTF_MODULES), so every function
#                    backend probes nft_do_chain and ipt_do_table; no: the kprobe backends probe
#                    ipt_do_table alone (struct xt_table is in vmlinux's BTF, nf_tables' types are
#                    not) and fentry neither (it needs the function's BTF), and pwrudump says so
#   VM_NFT_FREES     yes: nftables frees a packet it drops itself and returns (EPERM << 16) |
#                    NF_STOLEN (6.1.192 and later; the matrix's 6.1 is 6.1.176), so the drop comes
#                    before nft_do_chain's return, which makes no event; no: it returns NF_DROP
#   VM_MODULES       the modules the guest scenario loads (below)
vm_kernel() {
  case "$1" in
    5.10) VM_SUITE=bullseye VM_DROP_REASON=no VM_AUTO_BACKEND=kprobe VM_MODULE_BTF=no
      VM_NFT_FREES=no ;;
    6.1) VM_SUITE=bookworm VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe VM_MODULE_BTF=yes
      VM_NFT_FREES=no ;;
    6.12) VM_SUITE=trixie VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe-multi VM_MODULE_BTF=yes
      VM_NFT_FREES=yes ;;
    7.2) VM_SUITE=sid VM_DROP_REASON=yes VM_AUTO_BACKEND=kprobe-multi VM_MODULE_BTF=yes
      VM_NFT_FREES=yes ;;
    *) return 1 ;;
  esac
  # VM_PWRU=yes: prepare.sh adds Debian's pwru (trixie's 1.0.5, kprobes and kprobe-multi) for
  # vm.6.12.pwru and bench/peer-pwru.sh, which run it beside pwrudump.
  VM_PWRU=no
  [ "$1" = 6.12 ] && VM_PWRU=yes
  VM_MODULES="veth iptable_filter"
  # nf_tables needs crc32c: before 7.x from libcrc32c, which asks the crypto API for it at load
  # (a soft dependency: the guest has no modprobe to load crc32c_generic on demand).
  [ "$1" = 7.2 ] || VM_MODULES="$VM_MODULES crc32c_generic"
  # nf_tables for the scenario's nftables chain; nft_compat and xt_bpf for --nf-trace's trace
  # tables (scenario-nftrace.sh), whose xt_bpf match runs through nft_compat. nfnetlink and
  # x_tables come as dependencies where they are modules (7.2 builds nfnetlink in).
  VM_MODULES="$VM_MODULES nf_tables nft_compat xt_bpf"
  # The tc/XDP scenario's clsact qdisc and bpf classifier (scenario-bpfprog.sh).
  VM_MODULES="$VM_MODULES sch_ingress cls_bpf"
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

# The modules the guest scenario loads (VM_MODULES, their dependencies come along): iptables runs
# as iptables-legacy in the guest, which needs only x_tables, ip_tables and iptable_filter on every
# kernel, where iptables-nft would need nf_tables with a set of expression modules that changes
# between releases. nf_tables' expressions for the scenarios' rules (ip length, `icmp type
# echo-request drop`) are built into it.

# The cache of downloaded kernel packages: outside the build tree so that fresh clones and new
# build folders reuse it.
VM_CACHE=${PWRU_VM_CACHE:-/var/cache/pwrudump-vm}
