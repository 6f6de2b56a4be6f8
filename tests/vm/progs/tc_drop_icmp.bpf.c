/* vm.<kernel>.tc: a tc program of the tests' own, attached at the receiver's veth ingress by
 * `tc filter ... bpf da`: drops ICMP (TC_ACT_SHOT), lets the rest through. Built with -g: BTF. */
#include "drop_icmp.h"
#include <linux/pkt_cls.h>

SEC("tc")
int tc_drop_icmp(struct __sk_buff *skb)
{
	return is_icmp((void *)(long)skb->data, (void *)(long)skb->data_end) ? TC_ACT_SHOT : TC_ACT_OK;
}
