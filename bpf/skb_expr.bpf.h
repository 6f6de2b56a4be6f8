/* skb fields chosen on the command line, for every backend (included by common.bpf.h):
 * --output-skb-metadata and --filter-skb-expr run the steps user space resolved from an
 * expression through the kernel's BTF (struct pwru_expr, extcap/core/skb_expr.cpp);
 * --output-skb-shared-info and --output-skb-cb copy fixed parts of the skb. Each is an optional
 * section of the event's data[] (pwru_event.h's flags2), in the order of its bit. */
#ifndef PWRU_SKB_EXPR_BPF_H
#define PWRU_SKB_EXPR_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "pwru_event.h"
#include "compat.bpf.h"

/* Set by user space before load (frozen: the verifier sees them as constants, so the steps of an
 * expression not asked for are never walked). */
const volatile __u8 meta_count = 0; /* expressions in meta_expr */
const volatile struct pwru_expr meta_expr[PWRU_META_MAX] = {};
const volatile struct pwru_expr_filter expr_filter = {};
const volatile __u8 output_shinfo = 0;
const volatile __u8 output_cb = 0;

/* Bytes the sections of this header take in an event, a load-time constant. */
static __always_inline __u32 skb_expr_room(void)
{
	return (meta_count ? sizeof(struct pwru_meta) : 0) +
	       (output_shinfo ? sizeof(struct pwru_shinfo) : 0) + (output_cb ? PWRU_CB_BYTES : 0);
}

/* Runs expression `e` from the skb at `addr`: the integer into `*num` (shifted, masked and
 * sign-extended), or a string's bytes into `str` (PWRU_META_BYTES of room; null `str`: no
 * string wanted). False when a pointer on the way is null or a read fails. */
static __always_inline bool skb_expr_run(__u64 addr, const volatile struct pwru_expr *e,
					 __u64 *num, __u8 *str)
{
	__u64 v = 0;
	__u32 n, w;

#pragma unroll
	for (int i = 0; i < PWRU_EXPR_DEREFS; i++) {
		if (i >= e->nderef)
			break;
		if (bpf_probe_read_kernel(&addr, sizeof(addr), (void *)(addr + e->deref[i])) || !addr)
			return false;
	}
	n = e->size;
	if (e->is_string) {
		if (!str || n > PWRU_META_BYTES)
			return false;
		return !bpf_probe_read_kernel(str, n, (void *)(addr + e->offset));
	}
	if (n > sizeof(v))
		return false;
	if (bpf_probe_read_kernel(&v, n, (void *)(addr + e->offset)))
		return false;
	v >>= e->bit_shift;
	w = e->bit_width;
	if (w && w < 64) {
		v &= (1ULL << w) - 1;
		if (e->is_signed)
			v = (__u64)((__s64)(v << (64 - w)) >> (64 - w));
	}
	*num = v;
	return true;
}

/* --filter-skb-expr: whether (field & mask) op value holds; a field that cannot be read (a null
 * pointer on the way) does not match. */
static __always_inline bool skb_expr_wanted(struct sk_buff *skb)
{
	__u64 v = 0, want = expr_filter.value;
	int cmp;

	if (!skb_expr_run((__u64)skb, &expr_filter.expr, &v, 0))
		return false;
	v &= expr_filter.mask;
	/* -1, 0 or 1 as v is below, at or above the value, compared as the field's type is. */
	if (expr_filter.expr.is_signed)
		cmp = (__s64)v < (__s64)want ? -1 : (__s64)v > (__s64)want;
	else
		cmp = v < want ? -1 : v > want;
	switch (expr_filter.op) {
	case PWRU_EXPR_EQ: return cmp == 0;
	case PWRU_EXPR_NE: return cmp != 0;
	case PWRU_EXPR_LT: return cmp < 0;
	case PWRU_EXPR_LE: return cmp <= 0;
	case PWRU_EXPR_GT: return cmp > 0;
	case PWRU_EXPR_GE: return cmp >= 0;
	}
	return false;
}

/* Writes the sections this header owns at `out` (skb_expr_room() bytes) and returns their
 * flags2 bits. `head`: skb->head, as skb_layout read it. */
static __always_inline __u8 skb_expr_fill(struct sk_buff *skb, unsigned char *head, __u8 *out,
					  enum read_mode mode)
{
	__u8 flags2 = 0;

	if (meta_count) {
		struct pwru_meta *m = (struct pwru_meta *)out;

		__builtin_memset(m, 0, sizeof(*m));
#pragma unroll
		for (int i = 0; i < PWRU_META_MAX; i++) {
			__u64 v = 0;

			if (i >= meta_count)
				break;
			if (!skb_expr_run((__u64)skb, &meta_expr[i], &v, m->value[i]))
				continue;
			if (!meta_expr[i].is_string)
				__builtin_memcpy(m->value[i], &v, sizeof(v));
			m->valid |= 1U << i;
		}
		out += sizeof(*m);
		flags2 |= PWRU_EV2_HAS_META;
	}
	if (output_shinfo) {
		struct pwru_shinfo *s = (struct pwru_shinfo *)out;
		/* skb->end is an offset from head on 64-bit kernels (NET_SKBUFF_DATA_USES_OFFSET). */
		struct skb_shared_info *sh =
			(struct skb_shared_info *)(head + KREAD(mode, skb, end));

		__builtin_memset(s, 0, sizeof(*s));
		if (head) {
			s->gso_type = BPF_CORE_READ(sh, gso_type);
			s->tskey = BPF_CORE_READ(sh, tskey);
			s->dataref = BPF_CORE_READ(sh, dataref.counter);
			s->gso_size = BPF_CORE_READ(sh, gso_size);
			s->gso_segs = BPF_CORE_READ(sh, gso_segs);
			s->nr_frags = BPF_CORE_READ(sh, nr_frags);
			s->tx_flags = BPF_CORE_READ(sh, tx_flags);
			if (bpf_core_field_exists(sh->flags))
				s->flags = BPF_CORE_READ(sh, flags);
			s->meta_len = BPF_CORE_READ(sh, meta_len);
			s->frag_list = (__u64)BPF_CORE_READ(sh, frag_list);
		}
		out += sizeof(*s);
		flags2 |= PWRU_EV2_HAS_SHINFO;
	}
	if (output_cb) {
		if (bpf_core_read(out, PWRU_CB_BYTES, &skb->cb))
			__builtin_memset(out, 0, PWRU_CB_BYTES);
		flags2 |= PWRU_EV2_HAS_CB;
	}
	return flags2;
}

#endif /* PWRU_SKB_EXPR_BPF_H */
