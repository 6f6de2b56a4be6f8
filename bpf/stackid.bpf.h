/* --filter-track-skb-by-stackid and --filter-non-skb-funcs on the BPF side: pwru's "stack id".
 *
 * Every event names the kernel stack it ran on (stack_id). The last skb the filters passed on a
 * stack is remembered (stack_skb, and skb_stack back) until it is seen on another stack or freed.
 * While it is, an event of another skb on that stack is kept too (PWRU_KEPT_BY_STACKID: a packet
 * the kernel made anew for it, such as the ARP request its neighbour lookup sends), and so is an
 * event of a function without skb argument (PWRU_KEPT_NON_SKB), reported with that skb.
 *
 * pwru names a stack by the outermost frame of a frame-pointer walk, which needs
 * CONFIG_FRAME_POINTER (Debian's kernels unwind with ORC and have none). Here a stack is named by
 * its base: the task's stack (task_struct.stack) when the program runs on it, else the CPU's
 * (a softirq on the IRQ stack): the same "which stack" without walking frames. */
#ifndef PWRU_STACKID_BPF_H
#define PWRU_STACKID_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "pwru_event.h"

/* Set at load time; the programs of a run without it never touch the maps. */
const volatile __u8 track_by_stackid = 0;

/* x86-64's THREAD_SIZE without KASAN: a task's kernel stack. */
#define PWRU_TASK_STACK_BYTES 16384

/* The skb each stack last saw the filters pass, and back. LRU: an skb freed where no probe sees
 * it must not pin a slot. Shared by every object of a run: user space creates them once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* stack id */
	__type(value, __u64); /* skb */
} stack_skb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* skb */
	__type(value, __u64); /* stack id */
} skb_stack SEC(".maps");

/* An address on the stack this program runs on: its own frame, which the JIT keeps on the
 * kernel stack of the probed code. The verifier only lets a stack pointer be added to, so its
 * value is read back as a number. */
static __always_inline __u64 stack_address(void)
{
	__u64 here = 0, addr = 0;
	volatile __u64 *p = &here;

	bpf_probe_read_kernel(&addr, sizeof(addr), (const void *)&p);
	return addr;
}

static __always_inline __u64 stack_id(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 base = (__u64)BPF_CORE_READ(task, stack), sp = stack_address();

	if (base && sp - base < PWRU_TASK_STACK_BYTES)
		return base;
	return ~(__u64)bpf_get_smp_processor_id();
}

/* `skb` passed the filters on stack `id`: it is that stack's packet now, and no longer the one of
 * the stack it was seen on before. A probe that `frees` it forgets it. */
static __always_inline void stackid_note(__u64 skb, __u64 id, bool frees)
{
	__u64 *old = bpf_map_lookup_elem(&skb_stack, &skb);

	if (old && *old != id) {
		__u64 prev = *old, *owner = bpf_map_lookup_elem(&stack_skb, &prev);

		if (owner && *owner == skb)
			bpf_map_delete_elem(&stack_skb, &prev);
	}
	if (frees) {
		__u64 *owner = bpf_map_lookup_elem(&stack_skb, &id);

		if (owner && *owner == skb)
			bpf_map_delete_elem(&stack_skb, &id);
		bpf_map_delete_elem(&skb_stack, &skb);
		return;
	}
	bpf_map_update_elem(&stack_skb, &id, &skb, BPF_ANY);
	bpf_map_update_elem(&skb_stack, &skb, &id, BPF_ANY);
}

/* The packet stack `id` is following, 0 for none. */
static __always_inline __u64 stackid_skb(__u64 id)
{
	__u64 *skb = bpf_map_lookup_elem(&stack_skb, &id);

	return skb ? *skb : 0;
}

#endif /* PWRU_STACKID_BPF_H */
