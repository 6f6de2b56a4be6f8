/* --filter-track-skb follows clones: programs on skb_clone and skb_copy that track the new skb
 * when the original is tracked. Loaded once per run, beside whichever backend traces, in one of
 * two flavours: fexit where the kernel has BPF trampolines and its own BTF, else a kprobe at entry
 * (noting the original per task) and a kretprobe at return. */
#include "track_skb.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* skb_clone(skb, gfp) and skb_copy(skb, gfp): the new skb follows the two arguments. */
SEC("fexit/skb_clone")
int fexit_skb_clone(__u64 *ctx)
{
	track_clone(ctx[0], ctx[2]);
	return 0;
}

SEC("fexit/skb_copy")
int fexit_skb_copy(__u64 *ctx)
{
	track_clone(ctx[0], ctx[2]);
	return 0;
}

/* The tracked originals whose clone is being made, by task: a kretprobe no longer sees the
 * arguments. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* pid_tgid */
	__type(value, __u64); /* the tracked original */
} clone_pending SEC(".maps");

/* Attached to both functions. */
SEC("kprobe")
int kprobe_clone_entry(struct pt_regs *ctx)
{
	__u64 skb = ctx->di, task = bpf_get_current_pid_tgid();

	if (bpf_map_lookup_elem(&tracked, &skb))
		bpf_map_update_elem(&clone_pending, &task, &skb, BPF_ANY);
	return 0;
}

SEC("kretprobe")
int kretprobe_clone_exit(struct pt_regs *ctx)
{
	__u64 task = bpf_get_current_pid_tgid(), *orig = bpf_map_lookup_elem(&clone_pending, &task);
	__u64 skb;

	if (!orig)
		return 0;
	skb = *orig;
	bpf_map_delete_elem(&clone_pending, &task);
	track_clone(skb, ctx->ax);
	return 0;
}
