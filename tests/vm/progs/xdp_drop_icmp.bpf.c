/* vm.<kernel>.xdp: an XDP program of the tests' own, attached to the receiver's veth by `ip link
 * set ... xdp`: drops ICMP (XDP_DROP), passes the rest. Built with -g: BTF. */
#include "drop_icmp.h"

SEC("xdp")
int xdp_drop_icmp(struct xdp_md *ctx)
{
	return is_icmp((void *)(long)ctx->data, (void *)(long)ctx->data_end) ? XDP_DROP : XDP_PASS;
}
