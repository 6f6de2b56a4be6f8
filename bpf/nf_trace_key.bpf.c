/* Reads nf_tables' trace_key, the secret its trace ids are made with (Linux 6.1 and later), for
 * --nf-trace's exact tie (docs/netfilter.md). Never attached: user space runs it on demand with
 * BPF_PROG_TEST_RUN and reads the result from the mapped .bss. */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* The key's address, from /proc/kallsyms (symbol trace_key.N of nf_tables). */
const volatile __u64 key_addr = 0;

__u8 key[16];
long read_error;

SEC("raw_tp")
int read_trace_key(void *ctx)
{
	read_error = bpf_probe_read_kernel(key, sizeof(key), (const void *)key_addr);
	return 0;
}
