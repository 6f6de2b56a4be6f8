// The `pwru` dissector: one pwru record (extcap/record/pwru_record.h) per packet, its packet bytes
// handed to Wireshark's own Ethernet/IPv4/IPv6 dissectors.
//
// Wireshark exceptions are setjmp/longjmp: nothing below keeps an object with a destructor on
// the stack across tvb_*/proto_tree_add_*/call_dissector. Strings live in pinfo->pool.
#include "packet-pwru.h"

#include <wireshark.h>
#include <epan/etypes.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/to_str.h>
#include <epan/unit_strings.h>
#include <wsutil/str_util.h>
// These three lack the extern "C" guard the others have.
extern "C" {
#include <epan/exceptions.h>
#include <epan/ipproto.h>
#include <epan/show_exception.h>
}

#include "pwru_record.h"

static int proto_pwru = -1;

static int hf_pwru_version = -1;
static int hf_pwru_header_len = -1;
static int hf_pwru_skb = -1;
static int hf_pwru_func = -1;
static int hf_pwru_probe = -1;
static int hf_pwru_cpu = -1;
static int hf_pwru_pid = -1;
static int hf_pwru_comm = -1;
static int hf_pwru_netns = -1;
static int hf_pwru_mark = -1;
static int hf_pwru_ifindex = -1;
static int hf_pwru_ifname = -1;
static int hf_pwru_proto = -1;
static int hf_pwru_mtu = -1;
static int hf_pwru_len = -1;
static int hf_pwru_ip_src = -1;
static int hf_pwru_ip_dst = -1;
static int hf_pwru_ipv6_src = -1;
static int hf_pwru_ipv6_dst = -1;
static int hf_pwru_sport = -1;
static int hf_pwru_dport = -1;
static int hf_pwru_l4proto = -1;
static int hf_pwru_tcp_flags = -1;
static int hf_pwru_tcp_flags_fin = -1;
static int hf_pwru_tcp_flags_syn = -1;
static int hf_pwru_tcp_flags_rst = -1;
static int hf_pwru_tcp_flags_psh = -1;
static int hf_pwru_tcp_flags_ack = -1;
static int hf_pwru_tcp_flags_urg = -1;
static int hf_pwru_tcp_flags_ece = -1;
static int hf_pwru_tcp_flags_cwr = -1;
static int hf_pwru_drop_reason_code = -1;
static int hf_pwru_drop_reason = -1;
static int hf_pwru_caller = -1;
static int hf_pwru_caller_addr = -1;
static int hf_pwru_stack = -1;
static int hf_pwru_stack_frame = -1;
static int hf_pwru_ktime = -1;
static int hf_pwru_packet_layer = -1;
static int hf_pwru_packet = -1;
static int hf_pwru_unknown = -1;
static int hf_pwru_field_type = -1;
static int hf_pwru_field_length = -1;

static gint ett_pwru = -1;
static gint ett_pwru_tcp_flags = -1;
static gint ett_pwru_stack = -1;
static gint ett_pwru_field = -1;

static expert_field ei_pwru_drop = EI_INIT;
static expert_field ei_pwru_truncated = EI_INIT;
static expert_field ei_pwru_bad_version = EI_INIT;
static expert_field ei_pwru_bad_length = EI_INIT;
static expert_field ei_pwru_unknown_field = EI_INIT;
static expert_field ei_pwru_mixed_families = EI_INIT;

static dissector_handle_t eth_withoutfcs_handle;
static dissector_handle_t ip_handle;
static dissector_handle_t ipv6_handle;

// Preference: the same packet is seen at many kernel functions. Dissected as a normal packet,
// TCP would call every later event a retransmission, so by default the payload is dissected the
// way ICMP dissects the packet embedded in an error message.
static gboolean pwru_payload_is_embedded = TRUE;

static const value_string pwru_probe_vals[] = {
    { PWRU_PROBE_TRACEPOINT,   "tracepoint" },
    { PWRU_PROBE_KPROBE,       "kprobe" },
    { PWRU_PROBE_KPROBE_MULTI, "kprobe-multi" },
    { PWRU_PROBE_FENTRY,       "fentry" },
    { 0, NULL }
};

static const value_string pwru_packet_layer_vals[] = {
    { PWRU_PACKET_ETHERNET, "Ethernet" },
    { PWRU_PACKET_NETWORK,  "Network (IPv4 or IPv6)" },
    { 0, NULL }
};

static int * const pwru_tcp_flags_fields[] = {
    &hf_pwru_tcp_flags_cwr,
    &hf_pwru_tcp_flags_ece,
    &hf_pwru_tcp_flags_urg,
    &hf_pwru_tcp_flags_ack,
    &hf_pwru_tcp_flags_psh,
    &hf_pwru_tcp_flags_rst,
    &hf_pwru_tcp_flags_syn,
    &hf_pwru_tcp_flags_fin,
    NULL
};

// What the record format says about each known TLV: the field it fills and, for fixed-size
// values, the exact size (0: strings and bytes, any size).
struct pwru_tlv_spec {
    guint16 type;
    int *hf;
    guint16 size;
    guint encoding;
};

static const pwru_tlv_spec pwru_tlv_specs[] = {
    { PWRU_TLV_SKB,              &hf_pwru_skb,              8,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_FUNC,             &hf_pwru_func,             0,  ENC_UTF_8 },
    { PWRU_TLV_PROBE,            &hf_pwru_probe,            1,  ENC_NA },
    { PWRU_TLV_CPU,              &hf_pwru_cpu,              4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_PID,              &hf_pwru_pid,              4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_COMM,             &hf_pwru_comm,             0,  ENC_UTF_8 },
    { PWRU_TLV_NETNS,            &hf_pwru_netns,            4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_MARK,             &hf_pwru_mark,             4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_IFINDEX,          &hf_pwru_ifindex,          4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_IFNAME,           &hf_pwru_ifname,           0,  ENC_UTF_8 },
    { PWRU_TLV_PROTO,            &hf_pwru_proto,            2,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_MTU,              &hf_pwru_mtu,              4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_LEN,              &hf_pwru_len,              4,  ENC_LITTLE_ENDIAN },
    // Addresses are stored in network byte order.
    { PWRU_TLV_IPV4_SRC,         &hf_pwru_ip_src,           4,  ENC_BIG_ENDIAN },
    { PWRU_TLV_IPV4_DST,         &hf_pwru_ip_dst,           4,  ENC_BIG_ENDIAN },
    { PWRU_TLV_IPV6_SRC,         &hf_pwru_ipv6_src,         16, ENC_NA },
    { PWRU_TLV_IPV6_DST,         &hf_pwru_ipv6_dst,         16, ENC_NA },
    { PWRU_TLV_SPORT,            &hf_pwru_sport,            2,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_DPORT,            &hf_pwru_dport,            2,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_L4PROTO,          &hf_pwru_l4proto,          1,  ENC_NA },
    { PWRU_TLV_TCP_FLAGS,        &hf_pwru_tcp_flags,        1,  ENC_NA },
    { PWRU_TLV_DROP_REASON,      &hf_pwru_drop_reason_code, 4,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_DROP_REASON_NAME, &hf_pwru_drop_reason,      0,  ENC_UTF_8 },
    { PWRU_TLV_CALLER,           &hf_pwru_caller,           0,  ENC_UTF_8 },
    { PWRU_TLV_CALLER_ADDR,      &hf_pwru_caller_addr,      8,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_STACK_FRAME,      &hf_pwru_stack,            0,  ENC_UTF_8 },
    { PWRU_TLV_KTIME,            &hf_pwru_ktime,            8,  ENC_LITTLE_ENDIAN },
    { PWRU_TLV_PACKET_LAYER,     &hf_pwru_packet_layer,     1,  ENC_NA },
    { PWRU_TLV_PACKET,           &hf_pwru_packet,           0,  ENC_NA },
};

// What the Info column, the drop expert info and the payload hand-off need from the fields.
// Plain data: it lives on the stack across calls that may longjmp.
struct pwru_summary {
    const char *func;
    gboolean has_skb;
    guint64 skb;
    gboolean has_ifindex;
    guint32 ifindex;
    const char *ifname;
    const char *saddr;  // IPv6 already in brackets
    const char *daddr;
    address src;        // the tuple, for the Source and Destination columns
    address dst;
    guint32 sport;
    guint32 dport;
    gboolean has_l4proto;
    guint32 l4proto;
    gboolean has_drop_reason;
    guint32 drop_reason_code;
    const char *drop_reason;
    proto_item *drop_item;
    const char *caller;
    proto_tree *stack_tree;
    proto_item *stack_item;
    gboolean has_packet_layer;
    guint32 packet_layer;
    gboolean has_packet;
    int packet_offset;
    int packet_len;
};

static const pwru_tlv_spec *
pwru_find_tlv_spec(guint type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pwru_tlv_specs); i++) {
        if (pwru_tlv_specs[i].type == type)
            return &pwru_tlv_specs[i];
    }
    return NULL;
}

// "nf_hook_slow+0x9b" -> "nf_hook_slow": what users filter on, without the offset or module.
static const char *
pwru_frame_symbol(wmem_allocator_t *scope, const char *frame)
{
    return wmem_strndup(scope, frame, strcspn(frame, "+ \t["));
}

// The address family a TLV type carries, AT_NONE for other fields.
static int
pwru_tlv_family(guint type)
{
    switch (type) {
    case PWRU_TLV_IPV4_SRC:
    case PWRU_TLV_IPV4_DST:
        return AT_IPv4;
    case PWRU_TLV_IPV6_SRC:
    case PWRU_TLV_IPV6_DST:
        return AT_IPv6;
    default:
        return AT_NONE;
    }
}

// An address whose family differs from one already read: the tuple cannot be trusted.
static gboolean
pwru_mixes_families(guint type, const pwru_summary *summary)
{
    const int family = pwru_tlv_family(type);

    if (family == AT_NONE)
        return FALSE;
    return (summary->src.type != AT_NONE && summary->src.type != family) ||
           (summary->dst.type != AT_NONE && summary->dst.type != family);
}

// Header: u16 version, u16 header_len. Returns the offset of the first TLV, -1 if malformed.
static int
dissect_pwru_header(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset)
{
    const int remaining = tvb_reported_length_remaining(tvb, offset);
    proto_item *ti;
    guint32 version, header_len;

    if (remaining < PWRU_RECORD_HEADER_LEN) {
        proto_tree_add_expert_format(tree, pinfo, &ei_pwru_truncated, tvb, offset, remaining,
                                     "Truncated record: the header needs %d bytes, %d remain",
                                     PWRU_RECORD_HEADER_LEN, remaining);
        return -1;
    }
    ti = proto_tree_add_item_ret_uint(tree, hf_pwru_version, tvb, offset, 2, ENC_LITTLE_ENDIAN,
                                      &version);
    if (version != PWRU_RECORD_VERSION) {
        expert_add_info_format(pinfo, ti, &ei_pwru_bad_version,
                               "Unsupported record version %u (this dissector reads version %d)",
                               version, PWRU_RECORD_VERSION);
        return -1;
    }
    ti = proto_tree_add_item_ret_uint(tree, hf_pwru_header_len, tvb, offset + 2, 2,
                                      ENC_LITTLE_ENDIAN, &header_len);
    if (header_len < PWRU_RECORD_HEADER_LEN || header_len > (guint32)remaining) {
        expert_add_info_format(pinfo, ti, &ei_pwru_bad_length,
                               "Header length %u is outside %d..%d", header_len,
                               PWRU_RECORD_HEADER_LEN, remaining);
        return -1;
    }
    // A newer writer may grow the header: what lies past the part we know is skipped.
    return offset + header_len;
}

// A TLV of a type this dissector does not know: shown, skipped, parsing goes on.
static int
dissect_pwru_unknown(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                     guint type, guint length)
{
    proto_item *ti;
    proto_tree *field_tree;

    ti = proto_tree_add_item(tree, hf_pwru_unknown, tvb, offset + PWRU_TLV_HEADER_LEN, length,
                             ENC_NA);
    proto_item_prepend_text(ti, "Type %u, ", type);
    field_tree = proto_item_add_subtree(ti, ett_pwru_field);
    proto_tree_add_item(field_tree, hf_pwru_field_type, tvb, offset, 2, ENC_LITTLE_ENDIAN);
    proto_tree_add_item(field_tree, hf_pwru_field_length, tvb, offset + 2, 2, ENC_LITTLE_ENDIAN);
    expert_add_info_format(pinfo, ti, &ei_pwru_unknown_field,
                           "Unknown field type %u (%u bytes) skipped: written by a newer pwrudump?",
                           type, length);
    return offset + PWRU_TLV_HEADER_LEN + length;
}

// One stack frame: pwru.stack holds the bare symbol (so `pwru.stack == "nf_hook_slow"` matches)
// and shows the full frame; the full text is also in pwru.stack.frame.
static int
dissect_pwru_stack_frame(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                         int length, pwru_summary *summary)
{
    const char *frame;
    proto_item *ti;

    if (summary->stack_tree == NULL) {
        summary->stack_tree = proto_tree_add_subtree(tree, tvb, offset, length, ett_pwru_stack,
                                                     &summary->stack_item, "Stack");
    }
    frame = (const char *)tvb_get_string_enc(pinfo->pool, tvb, offset, length, ENC_UTF_8);
    proto_tree_add_string_format_value(summary->stack_tree, hf_pwru_stack, tvb, offset, length,
                                       pwru_frame_symbol(pinfo->pool, frame), "%s", frame);
    ti = proto_tree_add_string(summary->stack_tree, hf_pwru_stack_frame, tvb, offset, length,
                               frame);
    proto_item_set_hidden(ti);
    proto_item_set_end(summary->stack_item, tvb, offset + length);
    return offset + length;
}

// A known TLV whose size is right: adds its field, keeps what the columns need.
static int
dissect_pwru_known(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset, int length,
                   const pwru_tlv_spec *spec, pwru_summary *summary)
{
    const int hf = *spec->hf;
    const guint enc = spec->encoding;
    proto_item *ti;

    switch (spec->type) {
    case PWRU_TLV_SKB:
        summary->has_skb = TRUE;
        proto_tree_add_item_ret_uint64(tree, hf, tvb, offset, length, enc, &summary->skb);
        break;
    case PWRU_TLV_FUNC:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->func);
        break;
    case PWRU_TLV_IFINDEX:
        summary->has_ifindex = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->ifindex);
        break;
    case PWRU_TLV_IFNAME:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->ifname);
        break;
    case PWRU_TLV_IPV4_SRC:
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        set_address_tvb(&summary->src, AT_IPv4, length, tvb, offset);
        summary->saddr = address_to_str(pinfo->pool, &summary->src);
        break;
    case PWRU_TLV_IPV4_DST:
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        set_address_tvb(&summary->dst, AT_IPv4, length, tvb, offset);
        summary->daddr = address_to_str(pinfo->pool, &summary->dst);
        break;
    case PWRU_TLV_IPV6_SRC:
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        set_address_tvb(&summary->src, AT_IPv6, length, tvb, offset);
        summary->saddr = wmem_strdup_printf(pinfo->pool, "[%s]",
                                            address_to_str(pinfo->pool, &summary->src));
        break;
    case PWRU_TLV_IPV6_DST:
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        set_address_tvb(&summary->dst, AT_IPv6, length, tvb, offset);
        summary->daddr = wmem_strdup_printf(pinfo->pool, "[%s]",
                                            address_to_str(pinfo->pool, &summary->dst));
        break;
    case PWRU_TLV_SPORT:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->sport);
        break;
    case PWRU_TLV_DPORT:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->dport);
        break;
    case PWRU_TLV_L4PROTO:
        summary->has_l4proto = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->l4proto);
        break;
    case PWRU_TLV_TCP_FLAGS:
        proto_tree_add_bitmask(tree, tvb, offset, hf, ett_pwru_tcp_flags, pwru_tcp_flags_fields,
                               enc);
        break;
    case PWRU_TLV_DROP_REASON:
        summary->has_drop_reason = TRUE;
        ti = proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc,
                                          &summary->drop_reason_code);
        if (summary->drop_item == NULL)
            summary->drop_item = ti;
        break;
    case PWRU_TLV_DROP_REASON_NAME:
        summary->has_drop_reason = TRUE;
        summary->drop_item = proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc,
                                                            pinfo->pool,
                                                            (const guint8 **)&summary->drop_reason);
        break;
    case PWRU_TLV_CALLER:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->caller);
        break;
    case PWRU_TLV_STACK_FRAME:
        return dissect_pwru_stack_frame(tvb, pinfo, tree, offset, length, summary);
    case PWRU_TLV_PACKET_LAYER:
        summary->has_packet_layer = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->packet_layer);
        break;
    case PWRU_TLV_PACKET:
        summary->has_packet = TRUE;
        summary->packet_offset = offset;
        summary->packet_len = length;
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        break;
    default:
        proto_tree_add_item(tree, hf, tvb, offset, length, enc);
        break;
    }
    return offset + length;
}

// A field (TLV): u16 type, u16 length, value. Returns the offset of the next one, -1 if the
// record is malformed from here on (nothing after a bad length can be trusted).
static int
dissect_pwru_tlv(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                 pwru_summary *summary)
{
    const int remaining = tvb_reported_length_remaining(tvb, offset);
    const pwru_tlv_spec *spec;
    proto_tree *field_tree;
    proto_item *ti;
    guint type, length;

    if (remaining < PWRU_TLV_HEADER_LEN) {
        proto_tree_add_expert_format(tree, pinfo, &ei_pwru_truncated, tvb, offset, remaining,
                                     "Truncated record: a field header needs %d bytes, %d remain",
                                     PWRU_TLV_HEADER_LEN, remaining);
        return -1;
    }
    type = tvb_get_letohs(tvb, offset);
    length = tvb_get_letohs(tvb, offset + 2);
    spec = pwru_find_tlv_spec(type);

    if (length > (guint)(remaining - PWRU_TLV_HEADER_LEN)) {
        field_tree = proto_tree_add_subtree_format(tree, tvb, offset, remaining, ett_pwru_field,
                                                   &ti, "Truncated field (type %u)", type);
        proto_tree_add_item(field_tree, hf_pwru_field_type, tvb, offset, 2, ENC_LITTLE_ENDIAN);
        proto_tree_add_item(field_tree, hf_pwru_field_length, tvb, offset + 2, 2,
                            ENC_LITTLE_ENDIAN);
        expert_add_info_format(pinfo, ti, &ei_pwru_truncated,
                               "Truncated record: field type %u declares %u bytes, %d remain",
                               type, length, remaining - PWRU_TLV_HEADER_LEN);
        return -1;
    }
    if (spec == NULL)
        return dissect_pwru_unknown(tvb, pinfo, tree, offset, type, length);
    if (spec->size != 0 && length != spec->size) {
        field_tree = proto_tree_add_subtree_format(tree, tvb, offset, PWRU_TLV_HEADER_LEN + length,
                                                   ett_pwru_field, &ti, "Bad field: %s",
                                                   proto_registrar_get_name(*spec->hf));
        proto_tree_add_item(field_tree, hf_pwru_field_type, tvb, offset, 2, ENC_LITTLE_ENDIAN);
        proto_tree_add_item(field_tree, hf_pwru_field_length, tvb, offset + 2, 2,
                            ENC_LITTLE_ENDIAN);
        expert_add_info_format(pinfo, ti, &ei_pwru_bad_length,
                               "Field %s (type %u) has %u bytes, expected %u",
                               proto_registrar_get_name(*spec->hf), type, length, spec->size);
        return -1;
    }
    if (pwru_mixes_families(type, summary)) {
        proto_tree_add_expert_format(tree, pinfo, &ei_pwru_mixed_families, tvb, offset,
                                     PWRU_TLV_HEADER_LEN + length,
                                     "Field %s (type %u): IPv4 and IPv6 addresses in one record",
                                     proto_registrar_get_name(*spec->hf), type);
        return -1;
    }
    return dissect_pwru_known(tvb, pinfo, tree, offset + PWRU_TLV_HEADER_LEN, length, spec,
                              summary);
}

// A record with a drop reason is a drop, except SKB_CONSUMED: kernels that report every free
// through the kfree_skb tracepoint use it for packets that were delivered.
static void
pwru_add_drop_expert(packet_info *pinfo, proto_item *root, const pwru_summary *summary)
{
    const char *reason;

    if (!summary->has_drop_reason)
        return;
    if (summary->drop_reason != NULL && strcmp(summary->drop_reason, "CONSUMED") == 0)
        return;
    reason = summary->drop_reason != NULL
                 ? summary->drop_reason
                 : wmem_strdup_printf(pinfo->pool, "reason %u", summary->drop_reason_code);
    expert_add_info_format(pinfo, summary->drop_item != NULL ? summary->drop_item : root,
                           &ei_pwru_drop, "Packet dropped: %s%s%s", reason,
                           summary->caller != NULL ? " at " : "",
                           summary->caller != NULL ? summary->caller : "");
}

// Starts the next part of the Info text.
static wmem_strbuf_t *
pwru_info_part(wmem_strbuf_t *info)
{
    if (wmem_strbuf_get_len(info) > 0)
        wmem_strbuf_append_c(info, ' ');
    return info;
}

// The Info column, in pwru's own order:
// "kfree_skb skb=0xffff... veth1:5 10.0.0.1:0->10.0.0.2:0(icmp) NETFILTER_DROP".
static const char *
pwru_info_text(packet_info *pinfo, const pwru_summary *summary, gboolean malformed)
{
    wmem_strbuf_t *info = wmem_strbuf_new(pinfo->pool, "");

    if (summary->func != NULL)
        wmem_strbuf_append(pwru_info_part(info), summary->func);
    if (summary->has_skb)
        wmem_strbuf_append_printf(pwru_info_part(info), "skb=0x%" PRIx64, summary->skb);
    if (summary->has_ifindex || summary->ifname != NULL) {
        wmem_strbuf_append_printf(pwru_info_part(info), "%s:%u",
                                  summary->ifname != NULL ? summary->ifname : "",
                                  summary->ifindex);
    }
    if (summary->saddr != NULL && summary->daddr != NULL) {
        const char *l4 = summary->has_l4proto
                             ? wmem_ascii_strdown(pinfo->pool, ipprotostr(summary->l4proto), -1)
                             : "?";
        wmem_strbuf_append_printf(pwru_info_part(info), "%s:%u->%s:%u(%s)", summary->saddr,
                                  summary->sport, summary->daddr, summary->dport, l4);
    }
    if (summary->drop_reason != NULL)
        wmem_strbuf_append(pwru_info_part(info), summary->drop_reason);
    else if (summary->has_drop_reason)
        wmem_strbuf_append_printf(pwru_info_part(info), "drop_reason=%u",
                                  summary->drop_reason_code);
    if (malformed)
        wmem_strbuf_append(pwru_info_part(info), "[Malformed pwru record]");
    return wmem_strbuf_get_str(info);
}

// Source and Destination columns from the tuple. The payload's IP dissector does not set them
// for an embedded packet, and when it does they are the same addresses.
static void
pwru_set_addresses(packet_info *pinfo, const pwru_summary *summary)
{
    if (summary->src.type == AT_NONE || summary->src.type != summary->dst.type)
        return;
    copy_address_shallow(&pinfo->net_src, &summary->src);
    copy_address_shallow(&pinfo->src, &summary->src);
    copy_address_shallow(&pinfo->net_dst, &summary->dst);
    copy_address_shallow(&pinfo->dst, &summary->dst);
}

// Which of Wireshark's dissectors reads the captured packet bytes; NULL: show them as data.
static dissector_handle_t
pwru_payload_handle(tvbuff_t *payload_tvb, const pwru_summary *summary)
{
    if (!summary->has_packet_layer)
        return NULL;
    switch (summary->packet_layer) {
    case PWRU_PACKET_ETHERNET:
        return eth_withoutfcs_handle;
    case PWRU_PACKET_NETWORK:
        if (tvb_captured_length(payload_tvb) < 1)
            return NULL;
        switch (tvb_get_guint8(payload_tvb, 0) >> 4) {
        case 4:
            return ip_handle;
        case 6:
            return ipv6_handle;
        default:
            return NULL;
        }
    default:
        return NULL;
    }
}

// Hands the captured packet to Wireshark. Its dissectors must not take over the columns (pwru's
// Info column is the point of the capture) and, unless the preference says otherwise, must treat
// it as an embedded packet. Both states are restored whatever the payload throws.
static void
dissect_pwru_payload(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                     const pwru_summary *summary)
{
    tvbuff_t *payload_tvb = tvb_new_subset_length(tvb, summary->packet_offset,
                                                  summary->packet_len);
    dissector_handle_t handle = pwru_payload_handle(payload_tvb, summary);
    const gboolean saved_writable = col_get_writable(pinfo->cinfo, -1);
    const gboolean saved_in_error_pkt = pinfo->flags.in_error_pkt;

    col_set_writable(pinfo->cinfo, -1, FALSE);
    if (pwru_payload_is_embedded)
        pinfo->flags.in_error_pkt = TRUE;
    TRY {
        if (handle != NULL)
            call_dissector(handle, payload_tvb, pinfo, tree);
        else
            call_data_dissector(payload_tvb, pinfo, tree);
    }
    CATCH_NONFATAL_ERRORS {
        // A short or odd packet is the payload's problem: show it, keep the pwru fields.
        show_exception(payload_tvb, pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
    }
    FINALLY {
        pinfo->flags.in_error_pkt = saved_in_error_pkt;
        col_set_writable(pinfo->cinfo, -1, saved_writable);
    }
    ENDTRY;
}

static int
dissect_pwru(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    pwru_summary summary;
    proto_item *pwru_item;
    proto_tree *pwru_tree;
    int offset = 0;
    gboolean malformed;

    memset(&summary, 0, sizeof summary);

    /* Columns: the Info text needs every field, so it is set after the tree is built. */
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "PWRU");
    col_clear(pinfo->cinfo, COL_INFO);

    /* Tree */
    pwru_item = proto_tree_add_item(tree, proto_pwru, tvb, 0, -1, ENC_NA);
    pwru_tree = proto_item_add_subtree(pwru_item, ett_pwru);

    offset = dissect_pwru_header(tvb, pinfo, pwru_tree, offset);
    while (offset >= 0 && tvb_reported_length_remaining(tvb, offset) > 0)
        offset = dissect_pwru_tlv(tvb, pinfo, pwru_tree, offset, &summary);
    malformed = offset < 0;

    pwru_add_drop_expert(pinfo, pwru_item, &summary);
    if (summary.func != NULL)
        proto_item_append_text(pwru_item, ", %s", summary.func);
    col_add_str(pinfo->cinfo, COL_INFO, pwru_info_text(pinfo, &summary, malformed));
    pwru_set_addresses(pinfo, &summary);

    /* Payload last, so that whatever it throws, the pwru fields and columns are complete. */
    if (summary.has_packet)
        dissect_pwru_payload(tvb, pinfo, tree, &summary);

    return tvb_captured_length(tvb);
}

void
proto_register_pwru(void)
{
    module_t *pwru_module;
    expert_module_t *expert_pwru;

    static hf_register_info hf[] = {
        { &hf_pwru_version,
          { "Record version", "pwru.version", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_header_len,
          { "Header length", "pwru.header_len", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_skb,
          { "skb", "pwru.skb", FT_UINT64, BASE_HEX, NULL, 0x0,
            "Address of the struct sk_buff", HFILL } },
        { &hf_pwru_func,
          { "Function", "pwru.func", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            "Kernel function or tracepoint that saw the skb", HFILL } },
        { &hf_pwru_probe,
          { "Probe", "pwru.probe", FT_UINT8, BASE_DEC, VALS(pwru_probe_vals), 0x0,
            "How the function was attached", HFILL } },
        { &hf_pwru_cpu,
          { "CPU", "pwru.cpu", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_pid,
          { "PID", "pwru.pid", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Thread group id of the current task", HFILL } },
        { &hf_pwru_comm,
          { "Process", "pwru.comm", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            "Name of the current task", HFILL } },
        { &hf_pwru_netns,
          { "Network namespace", "pwru.netns", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Inode of the network namespace", HFILL } },
        { &hf_pwru_mark,
          { "Mark", "pwru.mark", FT_UINT32, BASE_HEX, NULL, 0x0,
            "skb->mark", HFILL } },
        { &hf_pwru_ifindex,
          { "Interface index", "pwru.ifindex", FT_UINT32, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_ifname,
          { "Interface", "pwru.ifname", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_proto,
          { "Protocol", "pwru.proto", FT_UINT16, BASE_HEX, VALS(etype_vals), 0x0,
            "skb->protocol (EtherType)", HFILL } },
        { &hf_pwru_mtu,
          { "MTU", "pwru.mtu", FT_UINT32, BASE_DEC, NULL, 0x0,
            "MTU of the interface", HFILL } },
        { &hf_pwru_len,
          { "Length", "pwru.len", FT_UINT32, BASE_DEC, NULL, 0x0,
            "skb->len", HFILL } },
        { &hf_pwru_ip_src,
          { "Source address", "pwru.ip.src", FT_IPv4, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_ip_dst,
          { "Destination address", "pwru.ip.dst", FT_IPv4, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_ipv6_src,
          { "Source address", "pwru.ipv6.src", FT_IPv6, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_ipv6_dst,
          { "Destination address", "pwru.ipv6.dst", FT_IPv6, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_sport,
          { "Source port", "pwru.sport", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_dport,
          { "Destination port", "pwru.dport", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_l4proto,
          { "Transport protocol", "pwru.l4proto", FT_UINT8, BASE_DEC | BASE_EXT_STRING,
            &ipproto_val_ext, 0x0, NULL, HFILL } },
        { &hf_pwru_tcp_flags,
          { "TCP flags", "pwru.tcp_flags", FT_UINT8, BASE_HEX, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_fin,
          { "FIN", "pwru.tcp_flags.fin", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x01,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_syn,
          { "SYN", "pwru.tcp_flags.syn", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x02,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_rst,
          { "RST", "pwru.tcp_flags.rst", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x04,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_psh,
          { "PSH", "pwru.tcp_flags.psh", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x08,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_ack,
          { "ACK", "pwru.tcp_flags.ack", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x10,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_urg,
          { "URG", "pwru.tcp_flags.urg", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x20,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_ece,
          { "ECE", "pwru.tcp_flags.ece", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x40,
            NULL, HFILL } },
        { &hf_pwru_tcp_flags_cwr,
          { "CWR", "pwru.tcp_flags.cwr", FT_BOOLEAN, 8, TFS(&tfs_set_notset), 0x80,
            NULL, HFILL } },
        { &hf_pwru_drop_reason_code,
          { "Drop reason code", "pwru.drop_reason_code", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Value of the running kernel's enum skb_drop_reason", HFILL } },
        { &hf_pwru_drop_reason,
          { "Drop reason", "pwru.drop_reason", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            "enum skb_drop_reason name without SKB_DROP_REASON_", HFILL } },
        { &hf_pwru_caller,
          { "Caller", "pwru.caller", FT_STRINGZPAD, BASE_NONE, NULL, 0x0,
            "Symbolized return address (symbol+offset)", HFILL } },
        { &hf_pwru_caller_addr,
          { "Caller address", "pwru.caller_addr", FT_UINT64, BASE_HEX, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_stack,
          { "Stack frame", "pwru.stack", FT_STRING, BASE_NONE, NULL, 0x0,
            "Function of a kernel stack frame, innermost first", HFILL } },
        { &hf_pwru_stack_frame,
          { "Stack frame text", "pwru.stack.frame", FT_STRING, BASE_NONE, NULL, 0x0,
            "Kernel stack frame as symbol+offset", HFILL } },
        { &hf_pwru_ktime,
          { "Kernel time", "pwru.ktime", FT_UINT64, BASE_DEC | BASE_UNIT_STRING,
            &units_nanoseconds, 0x0, "CLOCK_MONOTONIC time of the event", HFILL } },
        { &hf_pwru_packet_layer,
          { "Packet layer", "pwru.packet_layer", FT_UINT8, BASE_DEC,
            VALS(pwru_packet_layer_vals), 0x0, "What the packet data starts with", HFILL } },
        { &hf_pwru_packet,
          { "Packet data", "pwru.packet", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Linear packet data of the skb", HFILL } },
        { &hf_pwru_unknown,
          { "Unknown field", "pwru.unknown", FT_BYTES, BASE_NONE, NULL, 0x0,
            "Field of a type this dissector does not know", HFILL } },
        { &hf_pwru_field_type,
          { "Field type", "pwru.field.type", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_field_length,
          { "Field length", "pwru.field.length", FT_UINT16, BASE_DEC, NULL, 0x0,
            NULL, HFILL } },
    };

    static gint *ett[] = {
        &ett_pwru,
        &ett_pwru_tcp_flags,
        &ett_pwru_stack,
        &ett_pwru_field,
    };

    static ei_register_info ei[] = {
        { &ei_pwru_drop,
          { "pwru.drop", PI_SEQUENCE, PI_ERROR, "Packet dropped", EXPFILL } },
        { &ei_pwru_truncated,
          { "pwru.truncated", PI_MALFORMED, PI_ERROR, "Truncated pwru record", EXPFILL } },
        { &ei_pwru_bad_version,
          { "pwru.bad_version", PI_MALFORMED, PI_ERROR, "Unsupported pwru record version",
            EXPFILL } },
        { &ei_pwru_bad_length,
          { "pwru.bad_length", PI_MALFORMED, PI_ERROR, "Length field out of range",
            EXPFILL } },
        { &ei_pwru_unknown_field,
          { "pwru.unknown_field", PI_UNDECODED, PI_NOTE, "Unknown field skipped", EXPFILL } },
        { &ei_pwru_mixed_families,
          { "pwru.mixed_families", PI_MALFORMED, PI_ERROR, "IPv4 and IPv6 addresses in one record",
            EXPFILL } },
    };

    proto_pwru = proto_register_protocol("pwru", "PWRU", "pwru");
    proto_register_field_array(proto_pwru, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_pwru = expert_register_protocol(proto_pwru);
    expert_register_field_array(expert_pwru, ei, array_length(ei));

    pwru_module = prefs_register_protocol(proto_pwru, NULL);
    prefs_register_bool_preference(
        pwru_module, "payload_is_embedded", "Dissect payload as embedded packet",
        "Dissect the packet data of each event like the packet inside an ICMP error "
        "(prevents TCP retransmission analysis across events, which all show the same packet)",
        &pwru_payload_is_embedded);

    // The name pwrudump writes in the exported-PDU DISSECTOR_NAME tag.
    register_dissector(PWRU_DISSECTOR_NAME, dissect_pwru, proto_pwru);
}

void
proto_reg_handoff_pwru(void)
{
    eth_withoutfcs_handle = find_dissector_add_dependency("eth_withoutfcs", proto_pwru);
    ip_handle = find_dissector_add_dependency("ip", proto_pwru);
    ipv6_handle = find_dissector_add_dependency("ipv6", proto_pwru);
}
