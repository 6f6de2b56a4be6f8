// The `pwru` dissector: one pwru record (extcap/record/pwru_record.h) per packet, its packet bytes
// handed to Wireshark's own Ethernet/IPv4/IPv6 dissectors, each event placed in its skb's
// journey (first event to free), and everything handed to the "pwru" tap for the stats trees.
//
// Wireshark exceptions are setjmp/longjmp: nothing below keeps an object with a destructor on
// the stack across tvb_*/proto_tree_add_*/call_dissector. Strings live in pinfo->pool.
#include "packet-pwru.h"

#include <wireshark.h>
#include <cfile.h>
#include <epan/conversation_filter.h>
#include <epan/etypes.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <epan/to_str.h>
#include <epan/unit_strings.h>
#include <wiretap/wtap.h>
#include <wsutil/str_util.h>
// These three lack the extern "C" guard the others have.
extern "C" {
#include <epan/exceptions.h>
#include <epan/ipproto.h>
#include <epan/show_exception.h>
}

#include <array>
#include <iterator>
#include <string_view>

#include "pwru_record.h"
#include "pwru_rules.h"

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
static int hf_pwru_journey = -1;
static int hf_pwru_journey_hop = -1;
static int hf_pwru_journey_prev = -1;
static int hf_pwru_journey_next = -1;
static int hf_pwru_journey_delta = -1;
static int hf_pwru_journey_end = -1;
static int hf_pwru_journey_dropped = -1;

static gint ett_pwru = -1;
static gint ett_pwru_tcp_flags = -1;
static gint ett_pwru_stack = -1;
static gint ett_pwru_field = -1;
static gint ett_pwru_journey = -1;

static expert_field ei_pwru_drop = EI_INIT;
static expert_field ei_pwru_truncated = EI_INIT;
static expert_field ei_pwru_bad_version = EI_INIT;
static expert_field ei_pwru_bad_length = EI_INIT;
static expert_field ei_pwru_unknown_field = EI_INIT;
static expert_field ei_pwru_mixed_families = EI_INIT;
static expert_field ei_pwru_reset = EI_INIT;
static expert_field ei_pwru_lost_events = EI_INIT;

static int pwru_tap = -1;

static dissector_handle_t eth_withoutfcs_handle;
static dissector_handle_t ip_handle;
static dissector_handle_t ipv6_handle;

// Preference: the same packet is seen at many kernel functions. Dissected as a normal packet,
// TCP would call every later event a retransmission, so by default the payload is dissected the
// way ICMP dissects the packet embedded in an error message.
static gboolean pwru_payload_is_embedded = TRUE;

// Preference: read the lost-event count from the capture file (see pwru_lost_events()).
static gboolean pwru_read_lost_events = TRUE;

// The probe kinds' names, as pwrudump's text and JSON print them (pwru_rules.h).
static constexpr auto pwru_probe_vals = [] {
    std::array<value_string, std::size(pwru::rules::kProbeKinds) + 1> vals{};
    for (size_t i = 0; i < std::size(pwru::rules::kProbeKinds); i++)
        vals[i] = { pwru::rules::kProbeKinds[i].kind, pwru::rules::kProbeKinds[i].name };
    return vals;  // ends with { 0, NULL }
}();

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

// The field each known TLV fills, and how its value is encoded. Sizes are the format's
// (pwru::rules::tlv_spec).
struct pwru_tlv_spec {
    guint16 type;
    int *hf;
    guint encoding;
};

static const pwru_tlv_spec pwru_tlv_specs[] = {
    { PWRU_TLV_SKB,              &hf_pwru_skb,              ENC_LITTLE_ENDIAN },
    { PWRU_TLV_FUNC,             &hf_pwru_func,             ENC_UTF_8 },
    { PWRU_TLV_PROBE,            &hf_pwru_probe,            ENC_NA },
    { PWRU_TLV_CPU,              &hf_pwru_cpu,              ENC_LITTLE_ENDIAN },
    { PWRU_TLV_PID,              &hf_pwru_pid,              ENC_LITTLE_ENDIAN },
    { PWRU_TLV_COMM,             &hf_pwru_comm,             ENC_UTF_8 },
    { PWRU_TLV_NETNS,            &hf_pwru_netns,            ENC_LITTLE_ENDIAN },
    { PWRU_TLV_MARK,             &hf_pwru_mark,             ENC_LITTLE_ENDIAN },
    { PWRU_TLV_IFINDEX,          &hf_pwru_ifindex,          ENC_LITTLE_ENDIAN },
    { PWRU_TLV_IFNAME,           &hf_pwru_ifname,           ENC_UTF_8 },
    { PWRU_TLV_PROTO,            &hf_pwru_proto,            ENC_LITTLE_ENDIAN },
    { PWRU_TLV_MTU,              &hf_pwru_mtu,              ENC_LITTLE_ENDIAN },
    { PWRU_TLV_LEN,              &hf_pwru_len,              ENC_LITTLE_ENDIAN },
    // Addresses are stored in network byte order.
    { PWRU_TLV_IPV4_SRC,         &hf_pwru_ip_src,           ENC_BIG_ENDIAN },
    { PWRU_TLV_IPV4_DST,         &hf_pwru_ip_dst,           ENC_BIG_ENDIAN },
    { PWRU_TLV_IPV6_SRC,         &hf_pwru_ipv6_src,         ENC_NA },
    { PWRU_TLV_IPV6_DST,         &hf_pwru_ipv6_dst,         ENC_NA },
    { PWRU_TLV_SPORT,            &hf_pwru_sport,            ENC_LITTLE_ENDIAN },
    { PWRU_TLV_DPORT,            &hf_pwru_dport,            ENC_LITTLE_ENDIAN },
    { PWRU_TLV_L4PROTO,          &hf_pwru_l4proto,          ENC_NA },
    { PWRU_TLV_TCP_FLAGS,        &hf_pwru_tcp_flags,        ENC_NA },
    { PWRU_TLV_DROP_REASON,      &hf_pwru_drop_reason_code, ENC_LITTLE_ENDIAN },
    { PWRU_TLV_DROP_REASON_NAME, &hf_pwru_drop_reason,      ENC_UTF_8 },
    { PWRU_TLV_CALLER,           &hf_pwru_caller,           ENC_UTF_8 },
    { PWRU_TLV_CALLER_ADDR,      &hf_pwru_caller_addr,      ENC_LITTLE_ENDIAN },
    { PWRU_TLV_STACK_FRAME,      &hf_pwru_stack,            ENC_UTF_8 },
    { PWRU_TLV_KTIME,            &hf_pwru_ktime,            ENC_LITTLE_ENDIAN },
    { PWRU_TLV_PACKET_LAYER,     &hf_pwru_packet_layer,     ENC_NA },
    { PWRU_TLV_PACKET,           &hf_pwru_packet,           ENC_NA },
};
static_assert(G_N_ELEMENTS(pwru_tlv_specs) == std::size(pwru::rules::kTlvSpecs),
              "every field of the record format has a Wireshark field");

// What the Info column, the expert infos, the journey and the payload hand-off need from the
// fields. Plain data: it lives on the stack across calls that may longjmp.
struct pwru_summary {
    const char *func;
    gboolean has_skb;
    guint64 skb;
    gboolean has_probe;
    guint32 probe;
    gboolean has_cpu;
    guint32 cpu;
    gboolean has_ktime;
    guint64 ktime;
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
    case PWRU_TLV_PROBE:
        summary->has_probe = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->probe);
        break;
    case PWRU_TLV_CPU:
        summary->has_cpu = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->cpu);
        break;
    case PWRU_TLV_KTIME:
        summary->has_ktime = TRUE;
        proto_tree_add_item_ret_uint64(tree, hf, tvb, offset, length, enc, &summary->ktime);
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
    const guint16 size = pwru::rules::tlv_spec(type)->size;
    if (size != 0 && length != size) {
        field_tree = proto_tree_add_subtree_format(tree, tvb, offset, PWRU_TLV_HEADER_LEN + length,
                                                   ett_pwru_field, &ti, "Bad field: %s",
                                                   proto_registrar_get_name(*spec->hf));
        proto_tree_add_item(field_tree, hf_pwru_field_type, tvb, offset, 2, ENC_LITTLE_ENDIAN);
        proto_tree_add_item(field_tree, hf_pwru_field_length, tvb, offset + 2, 2,
                            ENC_LITTLE_ENDIAN);
        expert_add_info_format(pinfo, ti, &ei_pwru_bad_length,
                               "Field %s (type %u) has %u bytes, expected %u",
                               proto_registrar_get_name(*spec->hf), type, length, size);
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

// The record's function name for the shared rules: NULL (no FUNC field) is the empty name,
// which no rule lists.
static std::string_view
pwru_func(const pwru_summary *summary)
{
    return summary->func != NULL ? std::string_view(summary->func) : std::string_view();
}

// pwru::rules::is_drop; a malformed record's function alone does not make a drop.
static gboolean
pwru_is_drop(const pwru_summary *summary, gboolean malformed)
{
    return pwru::rules::is_drop(summary->has_drop_reason,
                                summary->drop_reason != NULL ? summary->drop_reason : "",
                                pwru_func(summary), !malformed);
}

// The reason as users read it: the kernel's name, else its number.
static const char *
pwru_drop_reason_text(packet_info *pinfo, const pwru_summary *summary)
{
    if (summary->drop_reason != NULL)
        return summary->drop_reason;
    if (summary->has_drop_reason)
        return wmem_strdup_printf(pinfo->pool, "reason %u", summary->drop_reason_code);
    return "no reason recorded";
}

static void
pwru_add_drop_expert(packet_info *pinfo, proto_item *root, const pwru_summary *summary,
                     gboolean malformed)
{
    if (!pwru_is_drop(summary, malformed))
        return;
    expert_add_info_format(pinfo, summary->drop_item != NULL ? summary->drop_item : root,
                           &ei_pwru_drop, "Packet dropped: %s%s%s",
                           pwru_drop_reason_text(pinfo, summary),
                           summary->caller != NULL ? " at " : "",
                           summary->caller != NULL ? summary->caller : "");
}

static void
pwru_add_reset_expert(packet_info *pinfo, proto_item *root, const pwru_summary *summary)
{
    if (pwru::rules::sends_reset(pwru_func(summary)))
        expert_add_info_format(pinfo, root, &ei_pwru_reset,
                               "TCP reset sent in reply to this packet (%s)", summary->func);
}

/* Journeys: one skb from its first event to its free. A file-scope map from skb address to the
 * address's latest journey makes each event O(1); each event's place is kept with its frame
 * (p_add_proto_data), so later passes, taps and the conversation filter read it back. Frames are
 * placed once, in the first pass and in capture order: a "next" link and a drop seen later reach
 * a frame's tree only when it is dissected again (tshark -2, the GUI). */

typedef struct pwru_journey pwru_journey;

// One event's place in its journey.
typedef struct {
    pwru_journey *journey;
    guint32 frame;
    guint32 hop;       // 1, 2, ...
    guint32 prev;      // frame of the previous event, 0 for the first
    guint32 next;      // frame of the next event, 0 until one is seen
    nstime_t delta;    // since the journey's first event
    gboolean ends;     // this event frees the skb
} pwru_hop;

struct pwru_journey {
    guint32 index;     // pwru.journey: 0, 1, ... in order of first events
    guint32 hops;
    pwru_hop *last;
    nstime_t first_ts;
    gboolean first_has_ktime;
    guint64 first_ktime;
    gboolean dropped;
    pwru::rules::Journey rule;  // whether it ended, and the teardown that may still follow
};

// State of the capture being read; reset with the file scope (pwru_init).
static struct {
    wmem_map_t *journeys;  // guint64 skb address -> pwru_journey *
    guint32 journey_count;
    guint32 first_frame;   // first frame with a pwru record
} pwru_capture;

static void
pwru_init(void)
{
    pwru_capture.journeys = wmem_map_new(wmem_file_scope(), g_int64_hash, g_int64_equal);
    pwru_capture.journey_count = 0;
    pwru_capture.first_frame = 0;
}

// Key of the per-frame data (p_add_proto_data).
#define PWRU_PROTO_DATA_HOP 0

static const pwru_hop *
pwru_get_hop(packet_info *pinfo)
{
    return (const pwru_hop *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pwru,
                                              PWRU_PROTO_DATA_HOP);
}

// What the shared journey rule reads from the event.
static pwru::rules::JourneyEvent
pwru_journey_event(const pwru_summary *summary)
{
    pwru::rules::JourneyEvent ev = {};
    ev.func = pwru_func(summary);
    ev.has_cpu = summary->has_cpu;
    ev.cpu = summary->cpu;
    ev.tracepoint = summary->has_probe && summary->probe == PWRU_PROBE_TRACEPOINT;
    ev.has_drop_reason = summary->has_drop_reason;
    return ev;
}

static pwru_journey *
pwru_journey_new(packet_info *pinfo, const pwru_summary *summary)
{
    pwru_journey *journey = wmem_new0(wmem_file_scope(), pwru_journey);
    guint64 *key = wmem_new(wmem_file_scope(), guint64);

    journey->index = pwru_capture.journey_count++;
    journey->first_ts = pinfo->abs_ts;
    journey->first_has_ktime = summary->has_ktime;
    journey->first_ktime = summary->ktime;
    *key = summary->skb;
    wmem_map_insert(pwru_capture.journeys, key, journey);
    return journey;
}

// Time since the journey's first event: from the kernel's monotonic clock when both events have
// it (wall-clock time may step), from the frame times otherwise.
static void
pwru_journey_delta(packet_info *pinfo, const pwru_summary *summary, const pwru_journey *journey,
                   nstime_t *delta)
{
    if (journey->first_has_ktime && summary->has_ktime && summary->ktime >= journey->first_ktime) {
        const guint64 ns = summary->ktime - journey->first_ktime;

        delta->secs = (time_t)(ns / 1000000000);
        delta->nsecs = (int)(ns % 1000000000);
    } else {
        nstime_delta(delta, &pinfo->abs_ts, &journey->first_ts);
    }
}

// Places the event in its skb's journey (first pass) or finds where it was placed (later ones).
// NULL: no journey (no skb address, or a malformed record whose fields cannot be trusted).
static const pwru_hop *
pwru_journey_step(packet_info *pinfo, const pwru_summary *summary, gboolean malformed)
{
    pwru_journey *journey;
    pwru_hop *hop;

    if (PINFO_FD_VISITED(pinfo))
        return pwru_get_hop(pinfo);
    if (pwru_capture.first_frame == 0)
        pwru_capture.first_frame = pinfo->num;
    if (malformed || !summary->has_skb)
        return NULL;

    const pwru::rules::JourneyEvent ev = pwru_journey_event(summary);
    journey = (pwru_journey *)wmem_map_lookup(pwru_capture.journeys, &summary->skb);
    if (pwru::rules::begins_journey(journey != NULL ? &journey->rule : NULL, ev))
        journey = pwru_journey_new(pinfo, summary);

    hop = wmem_new0(wmem_file_scope(), pwru_hop);
    hop->journey = journey;
    hop->frame = pinfo->num;
    hop->hop = ++journey->hops;
    if (journey->last != NULL) {
        hop->prev = journey->last->frame;
        journey->last->next = pinfo->num;
    }
    pwru_journey_delta(pinfo, summary, journey, &hop->delta);

    hop->ends = pwru::rules::add_to_journey(journey->rule, ev);
    if (pwru_is_drop(summary, malformed))
        journey->dropped = TRUE;
    journey->last = hop;

    p_add_proto_data(wmem_file_scope(), pinfo, proto_pwru, PWRU_PROTO_DATA_HOP, hop);
    return hop;
}

// The journey's fields, all generated: they come from the other events, not from this record.
static void
dissect_pwru_journey(tvbuff_t *tvb, proto_tree *tree, const pwru_hop *hop)
{
    const pwru_journey *journey;
    proto_item *journey_item, *ti;
    proto_tree *journey_tree;

    if (hop == NULL)
        return;
    journey = hop->journey;
    journey_item = proto_tree_add_uint(tree, hf_pwru_journey, tvb, 0, 0, journey->index);
    proto_item_set_generated(journey_item);
    proto_item_append_text(journey_item, ", hop %u%s%s", hop->hop,
                           hop->ends ? " (frees the skb)" : "",
                           journey->dropped ? ", ends in a drop" : "");
    journey_tree = proto_item_add_subtree(journey_item, ett_pwru_journey);

    ti = proto_tree_add_uint(journey_tree, hf_pwru_journey_hop, tvb, 0, 0, hop->hop);
    proto_item_set_generated(ti);
    if (hop->prev != 0) {
        ti = proto_tree_add_uint(journey_tree, hf_pwru_journey_prev, tvb, 0, 0, hop->prev);
        proto_item_set_generated(ti);
    }
    if (hop->next != 0) {
        ti = proto_tree_add_uint(journey_tree, hf_pwru_journey_next, tvb, 0, 0, hop->next);
        proto_item_set_generated(ti);
    }
    ti = proto_tree_add_time(journey_tree, hf_pwru_journey_delta, tvb, 0, 0, &hop->delta);
    proto_item_set_generated(ti);
    // Only when true: `pwru.journey.end` and `pwru.journey.dropped` alone are filters.
    if (hop->ends) {
        ti = proto_tree_add_boolean(journey_tree, hf_pwru_journey_end, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
    }
    if (journey->dropped) {
        ti = proto_tree_add_boolean(journey_tree, hf_pwru_journey_dropped, tvb, 0, 0, TRUE);
        proto_item_set_generated(ti);
    }
}

/* Conversation filter "pwru skb" (Analyze > Conversation Filter, Colorize Conversation): the
 * journey of the selected event. */

static gboolean
pwru_journey_filter_valid(packet_info *pinfo)
{
    return proto_is_frame_protocol(pinfo->layers, "pwru") && pwru_get_hop(pinfo) != NULL;
}

static gchar *
pwru_journey_filter_build(packet_info *pinfo)
{
    const pwru_hop *hop = pwru_get_hop(pinfo);

    if (hop == NULL)
        return NULL;
    return g_strdup_printf("pwru.journey == %u", hop->journey->index);
}

/* Lost events. pwrudump counts them in the Interface Statistics Block's isb_ifdrop, written once
 * after the last packet. Wireshark 4.0 gives dissectors no API to interface statistics: wiretap
 * keeps them with the interface descriptions of the open file (its wtap), which only the
 * application holds. Every 4.0 application that dissects files (Wireshark's file.c, tshark,
 * sharkd, rawshark, tfshark) creates its epan session with epan_new(&cf->provider, ...), a
 * struct packet_provider_data (cfile.h) whose first member is that wtap, and the session
 * (struct epan_session, private to epan.c) keeps that pointer as its first member. That layout
 * is read here and checked: the interface name the session reports through its public API must
 * be the very string wiretap holds for the interface. Since the ISB follows the last packet, the
 * count is known only once the whole file was read: in a later pass (tshark -2, the GUI).
 * Preference pwru.read_lost_events turns this off. */
static gboolean
pwru_lost_events(packet_info *pinfo, guint64 *lost)
{
    const struct packet_provider_data *prov;
    wtapng_iface_descriptions_t *idb_info;
    wtapng_if_descr_mandatory_t *idb_mand;
    wtap_block_t idb = NULL, isb;
    char *name = NULL;
    guint32 if_id;

    if (!pwru_read_lost_events || pinfo->epan == NULL || pinfo->rec == NULL ||
        pinfo->rec->rec_type != REC_TYPE_PACKET ||
        !(pinfo->rec->presence_flags & WTAP_HAS_INTERFACE_ID))
        return FALSE;
    if_id = pinfo->rec->rec_header.packet_header.interface_id;
    prov = *(const struct packet_provider_data *const *)pinfo->epan;
    if (prov == NULL || prov->wth == NULL)
        return FALSE;

    idb_info = wtap_file_get_idb_info(prov->wth);
    if (if_id < idb_info->interface_data->len)
        idb = g_array_index(idb_info->interface_data, wtap_block_t, if_id);
    g_free(idb_info);
    if (idb == NULL ||
        wtap_block_get_string_option_value(idb, OPT_IDB_NAME, &name) != WTAP_OPTTYPE_SUCCESS ||
        name != epan_get_interface_name(pinfo->epan, if_id))
        return FALSE;

    idb_mand = (wtapng_if_descr_mandatory_t *)wtap_block_get_mandatory_data(idb);
    if (idb_mand->interface_statistics == NULL || idb_mand->interface_statistics->len == 0)
        return FALSE;
    // The counters run from the start of the capture: the last ISB holds the total.
    isb = g_array_index(idb_mand->interface_statistics, wtap_block_t,
                        idb_mand->interface_statistics->len - 1);
    return wtap_block_get_uint64_option_value(isb, OPT_ISB_IFDROP, lost) == WTAP_OPTTYPE_SUCCESS;
}

// -1 while unknown.
static gint64
pwru_lost_events_or_unknown(packet_info *pinfo)
{
    guint64 lost;

    if (!pwru_lost_events(pinfo, &lost))
        return -1;
    return lost > G_MAXINT64 ? G_MAXINT64 : (gint64)lost;
}

// On the capture's first pwru frame, where it is seen first: the count concerns every event.
static void
pwru_add_lost_events_expert(packet_info *pinfo, proto_item *root, gint64 lost)
{
    if (lost > 0 && pinfo->num == pwru_capture.first_frame)
        expert_add_info_format(pinfo, root, &ei_pwru_lost_events,
                               "%" PRId64 " events were lost in the kernel (ring buffer full): "
                               "journeys may miss hops, drops may be missing", lost);
}

static const pwru_tap_info *
pwru_tap_info_new(packet_info *pinfo, const pwru_summary *summary, gboolean malformed,
                  const pwru_hop *hop, gint64 lost)
{
    pwru_tap_info *info = wmem_new0(pinfo->pool, pwru_tap_info);

    info->func = summary->func;
    info->ifname = summary->ifname;
    info->is_drop = pwru_is_drop(summary, malformed);
    if (info->is_drop) {
        info->drop_reason = pwru_drop_reason_text(pinfo, summary);
        if (summary->caller != NULL)
            info->caller = pwru_frame_symbol(pinfo->pool, summary->caller);
    }
    if (hop != NULL) {
        info->has_journey = TRUE;
        info->journey = hop->journey->index;
        info->hop = hop->hop;
        info->journey_ends = hop->ends;
        info->journey_dropped = hop->journey->dropped;
        info->journey_open_last = PINFO_FD_VISITED(pinfo) && hop->next == 0 &&
                                  !hop->journey->rule.ended;
        info->journey_delta = hop->delta;
    }
    info->lost_events = lost;
    return info;
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
    const pwru_hop *hop;
    gint64 lost;
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

    /* Journey: placed whether or not a tree is built, since later events link back to it. */
    hop = pwru_journey_step(pinfo, &summary, malformed);
    dissect_pwru_journey(tvb, pwru_tree, hop);

    /* Expert infos */
    lost = pwru_lost_events_or_unknown(pinfo);
    pwru_add_drop_expert(pinfo, pwru_item, &summary, malformed);
    pwru_add_reset_expert(pinfo, pwru_item, &summary);
    pwru_add_lost_events_expert(pinfo, pwru_item, lost);

    if (summary.func != NULL)
        proto_item_append_text(pwru_item, ", %s", summary.func);
    col_add_str(pinfo->cinfo, COL_INFO, pwru_info_text(pinfo, &summary, malformed));
    pwru_set_addresses(pinfo, &summary);

    /* Tap: queued before the payload, which must not keep the stats trees from counting it. */
    tap_queue_packet(pwru_tap, pinfo, pwru_tap_info_new(pinfo, &summary, malformed, hop, lost));

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
          { "Probe", "pwru.probe", FT_UINT8, BASE_DEC, VALS(pwru_probe_vals.data()), 0x0,
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
        { &hf_pwru_journey,
          { "Journey", "pwru.journey", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Index of the skb's journey (first event to free) in this capture", HFILL } },
        { &hf_pwru_journey_hop,
          { "Hop", "pwru.journey.hop", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Place of this event in its journey, from 1", HFILL } },
        { &hf_pwru_journey_prev,
          { "Previous event", "pwru.journey.prev", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
            "Frame of the journey's previous event", HFILL } },
        { &hf_pwru_journey_next,
          { "Next event", "pwru.journey.next", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_NEXT), 0x0,
            "Frame of the journey's next event (known once the whole capture was read)",
            HFILL } },
        { &hf_pwru_journey_delta,
          { "Time since the first event", "pwru.journey.delta", FT_RELATIVE_TIME, BASE_NONE,
            NULL, 0x0, "Time since the journey's first event (kernel clock when recorded)",
            HFILL } },
        { &hf_pwru_journey_end,
          { "Ends the journey", "pwru.journey.end", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "This event frees the skb (or drops it)", HFILL } },
        { &hf_pwru_journey_dropped,
          { "Journey ends in a drop", "pwru.journey.dropped", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "Set on every event of a journey that ends in a drop (on the earlier events only "
            "once the whole capture was read)", HFILL } },
    };

    static gint *ett[] = {
        &ett_pwru,
        &ett_pwru_tcp_flags,
        &ett_pwru_stack,
        &ett_pwru_field,
        &ett_pwru_journey,
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
        { &ei_pwru_reset,
          { "pwru.reset", PI_SEQUENCE, PI_WARN, "TCP reset sent in reply to this packet",
            EXPFILL } },
        { &ei_pwru_lost_events,
          { "pwru.lost_events", PI_SEQUENCE, PI_WARN, "Events lost in the kernel", EXPFILL } },
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
    prefs_register_bool_preference(
        pwru_module, "read_lost_events", "Read the lost-event count from the capture file",
        "Warn on the first event when the capture's statistics (isb_ifdrop) count events lost "
        "in the kernel. Known once the whole file was read (the GUI, tshark -2). Reads "
        "Wireshark 4.0's capture-file handle through its epan session (see the source).",
        &pwru_read_lost_events);

    register_init_routine(pwru_init);
    pwru_tap = register_tap("pwru");

    // The name pwrudump writes in the exported-PDU DISSECTOR_NAME tag.
    register_dissector(PWRU_DISSECTOR_NAME, dissect_pwru, proto_pwru);
}

void
proto_reg_handoff_pwru(void)
{
    eth_withoutfcs_handle = find_dissector_add_dependency("eth_withoutfcs", proto_pwru);
    ip_handle = find_dissector_add_dependency("ip", proto_pwru);
    ipv6_handle = find_dissector_add_dependency("ipv6", proto_pwru);

    // Plugin handoffs run after epan listed TCP, UDP, IP and Ethernet: pwru goes first in the
    // list View > Colorize Conversation tries.
    register_conversation_filter("pwru", "pwru skb", pwru_journey_filter_valid,
                                 pwru_journey_filter_build);
    add_conversation_filter_protocol("pwru");
}
