// The pwru record's header and fields (TLVs, extcap/record/pwru_record.h) into the tree, with
// what the rest of the dissector needs kept in a pwru_summary. Sizes come from the format's one
// table (pwru_rules.h); a field of the wrong size, a truncated one or mixed address families
// make the record malformed.
#include "packet-pwru.h"

#include <epan/etypes.h>
#include <epan/tfs.h>
#include <epan/to_str.h>
#include <epan/unit_strings.h>
// This one lacks the extern "C" guard most have.
extern "C" {
#include <epan/ipproto.h>
}

#include <array>
#include <iterator>

#include "pwru_reasons.h"
#include "pwru_record.h"

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
static int hf_pwru_drop_reason_help = -1;
static int hf_pwru_caller = -1;
static int hf_pwru_caller_addr = -1;
static int hf_pwru_stack = -1;
static int hf_pwru_stack_frame = -1;
static int hf_pwru_ktime = -1;
static int hf_pwru_packet_layer = -1;
static int hf_pwru_packet = -1;
static int hf_pwru_nf_family = -1;
static int hf_pwru_nf_hook = -1;
static int hf_pwru_nf_table = -1;
static int hf_pwru_nf_chain = -1;
static int hf_pwru_nf_handle = -1;
static int hf_pwru_nf_rule = -1;
static int hf_pwru_nf_verdict = -1;
static int hf_pwru_nf_tie = -1;
static int hf_pwru_nf_rule_state = -1;
static int hf_pwru_nf_jump_target = -1;
static int hf_pwru_nf_trace_type = -1;
static int hf_pwru_nf_trace_lost = -1;
static int hf_pwru_nf_trace_id = -1;
static int hf_pwru_bpf_prog = -1;
static int hf_pwru_bpf_prog_id = -1;
static int hf_pwru_bpf_verdict = -1;
static int hf_pwru_bpf_hook = -1;
static int hf_pwru_stackid = -1;
static int hf_pwru_stackid_kept = -1;
static int hf_pwru_unknown = -1;
static int hf_pwru_field_type = -1;
static int hf_pwru_field_length = -1;

static gint ett_pwru_tcp_flags = -1;
static gint ett_pwru_stack = -1;
static gint ett_pwru_field = -1;

static expert_field ei_pwru_truncated = EI_INIT;
static expert_field ei_pwru_bad_version = EI_INIT;
static expert_field ei_pwru_bad_length = EI_INIT;
static expert_field ei_pwru_unknown_field = EI_INIT;
static expert_field ei_pwru_mixed_families = EI_INIT;
static expert_field ei_pwru_nf_trace_lost = EI_INIT;

// The probe kinds' names, as pwrudump's text and JSON print them (pwru_rules.h).
static constexpr auto pwru_probe_vals = [] {
    std::array<value_string, std::size(pwru::rules::kProbeKinds) + 1> vals{};
    for (size_t i = 0; i < std::size(pwru::rules::kProbeKinds); i++)
        vals[i] = { pwru::rules::kProbeKinds[i].kind, pwru::rules::kProbeKinds[i].name };
    return vals;  // ends with { 0, NULL }
}();

// nft's names of table families, verdicts and ties (pwru_rules.h). A verdict is signed; a
// value_string holds it as its 32-bit pattern, which is how Wireshark looks an FT_INT32 up.
template <size_t N>
static constexpr auto pwru_nf_vals(const pwru::rules::NfName (&names)[N]) {
    std::array<value_string, N + 1> vals{};
    for (size_t i = 0; i < N; i++)
        vals[i] = { static_cast<guint32>(names[i].value), names[i].name };
    return vals;  // ends with { 0, NULL }
}
static constexpr auto pwru_nf_family_vals = pwru_nf_vals(pwru::rules::kNfFamilies);
static constexpr auto pwru_nf_verdict_vals = pwru_nf_vals(pwru::rules::kNfVerdicts);
static constexpr auto pwru_nf_tie_vals = pwru_nf_vals(pwru::rules::kNfTies);
static constexpr auto pwru_nf_rule_state_vals = pwru_nf_vals(pwru::rules::kNfRuleStates);
static constexpr auto pwru_nf_trace_type_vals = pwru_nf_vals(pwru::rules::kNfTraceTypes);

// Where a traced BPF program runs (pwru_bpf.h's names).
static const value_string pwru_bpf_hook_vals[] = {
    { PWRU_BPF_HOOK_TC,  "tc" },
    { PWRU_BPF_HOOK_XDP, "xdp" },
    { 0, NULL }
};

// Why an event was kept (STACK_KEPT), as pwrudump's JSON names it (pwru_rules.h).
static constexpr auto pwru_stack_kept_vals = [] {
    std::array<value_string, std::size(pwru::rules::kStackKept) + 1> vals{};
    for (size_t i = 0; i < std::size(pwru::rules::kStackKept); i++)
        vals[i] = { pwru::rules::kStackKept[i].kind, pwru::rules::kStackKept[i].name };
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
    { PWRU_TLV_NF_FAMILY,        &hf_pwru_nf_family,        ENC_NA },
    { PWRU_TLV_NF_HOOK,          &hf_pwru_nf_hook,          ENC_UTF_8 },
    { PWRU_TLV_NF_TABLE,         &hf_pwru_nf_table,         ENC_UTF_8 },
    { PWRU_TLV_NF_CHAIN,         &hf_pwru_nf_chain,         ENC_UTF_8 },
    { PWRU_TLV_NF_HANDLE,        &hf_pwru_nf_handle,        ENC_LITTLE_ENDIAN },
    { PWRU_TLV_NF_RULE,          &hf_pwru_nf_rule,          ENC_UTF_8 },
    { PWRU_TLV_NF_VERDICT,       &hf_pwru_nf_verdict,       ENC_LITTLE_ENDIAN },
    { PWRU_TLV_NF_TIE,           &hf_pwru_nf_tie,           ENC_NA },
    { PWRU_TLV_NF_RULE_STATE,    &hf_pwru_nf_rule_state,    ENC_NA },
    { PWRU_TLV_NF_JUMP_TARGET,   &hf_pwru_nf_jump_target,   ENC_UTF_8 },
    { PWRU_TLV_NF_TRACE_TYPE,    &hf_pwru_nf_trace_type,    ENC_NA },
    { PWRU_TLV_NF_TRACE_LOST,    &hf_pwru_nf_trace_lost,    ENC_LITTLE_ENDIAN },
    { PWRU_TLV_NF_TRACE_ID,      &hf_pwru_nf_trace_id,      ENC_LITTLE_ENDIAN },
    { PWRU_TLV_DIAG_KIND,        &hf_pwru_diag_kind,        ENC_NA },
    { PWRU_TLV_DIAG_TEXT,        &hf_pwru_diag_text,        ENC_UTF_8 },
    { PWRU_TLV_META_NAME,        &hf_pwru_meta_name,        ENC_UTF_8 },
    { PWRU_TLV_META_VALUE,       &hf_pwru_meta_value,       ENC_UTF_8 },
    { PWRU_TLV_SHINFO,           &hf_pwru_shinfo,           ENC_NA },
    { PWRU_TLV_CB,               &hf_pwru_cb,               ENC_NA },
    { PWRU_TLV_BPF_PROG,         &hf_pwru_bpf_prog,         ENC_UTF_8 },
    { PWRU_TLV_BPF_PROG_ID,      &hf_pwru_bpf_prog_id,      ENC_LITTLE_ENDIAN },
    { PWRU_TLV_BPF_VERDICT,      &hf_pwru_bpf_verdict,      ENC_LITTLE_ENDIAN },
    { PWRU_TLV_BPF_HOOK,         &hf_pwru_bpf_hook,         ENC_NA },
    { PWRU_TLV_STACK_ID,         &hf_pwru_stackid,          ENC_LITTLE_ENDIAN },
    { PWRU_TLV_STACK_KEPT,       &hf_pwru_stackid_kept,     ENC_NA },
};
static_assert(G_N_ELEMENTS(pwru_tlv_specs) == std::size(pwru::rules::kTlvSpecs),
              "every field of the record format has a Wireshark field");

static const pwru_tlv_spec *
pwru_find_tlv_spec(guint type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pwru_tlv_specs); i++) {
        if (pwru_tlv_specs[i].type == type)
            return &pwru_tlv_specs[i];
    }
    return NULL;
}

const char *
pwru_frame_symbol(wmem_allocator_t *scope, const char *frame)
{
    return wmem_strndup(scope, frame, strcspn(frame, "+ \t["));
}

const char *
pwru_drop_reason_help(wmem_allocator_t *scope, const char *name)
{
    const pwru::reasons::ReasonHelp *help = pwru::reasons::reason_help(name);

    if (help == NULL)
        return pwru::reasons::kUnknownReasonMeaning;
    if (help->check == NULL)
        return help->meaning;
    return wmem_strdup_printf(scope, "%s%s%s", help->meaning, pwru::reasons::kCheckSeparator,
                              help->check);
}

// pwru.drop_reason.help after the reason: derived from the name now, not recorded, so a capture
// from any pwrudump gets this table's words. A record with only the number (a value BTF did not
// name) is looked up as pwrudump names such values, reason_N.
static void
dissect_pwru_drop_reason_help(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                              pwru_summary *summary)
{
    const char *name = summary->drop_reason;
    proto_item *ti;

    if (name == NULL)
        name = wmem_strdup_printf(pinfo->pool, "reason_%u", summary->drop_reason_code);
    summary->drop_reason_help = pwru_drop_reason_help(pinfo->pool, name);
    ti = proto_tree_add_string(tree, hf_pwru_drop_reason_help, tvb, 0, 0,
                               summary->drop_reason_help);
    proto_item_set_generated(ti);
    summary->drop_help_item = ti;
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
    case PWRU_TLV_NETNS:
        summary->has_netns = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->netns);
        break;
    case PWRU_TLV_IFINDEX:
        summary->has_ifindex = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->ifindex);
        break;
    case PWRU_TLV_MARK:
        summary->has_mark = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->mark);
        break;
    case PWRU_TLV_PROTO:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->proto);
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
        summary->has_ports = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->sport);
        break;
    case PWRU_TLV_DPORT:
        summary->has_ports = TRUE;
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
        dissect_pwru_drop_reason_help(tvb, pinfo, tree, summary);
        break;
    case PWRU_TLV_CALLER:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->caller);
        break;
    case PWRU_TLV_CALLER_ADDR:
        proto_tree_add_item_ret_uint64(tree, hf, tvb, offset, length, enc, &summary->caller_addr);
        break;
    case PWRU_TLV_STACK_FRAME:
        return dissect_pwru_stack_frame(tvb, pinfo, tree, offset, length, summary);
    case PWRU_TLV_DIAG_KIND:
    case PWRU_TLV_DIAG_TEXT:
        return dissect_pwru_diag_field(tvb, pinfo, tree, offset, length, spec->type, summary);
    case PWRU_TLV_META_NAME:
    case PWRU_TLV_META_VALUE:
    case PWRU_TLV_SHINFO:
    case PWRU_TLV_CB:
        return dissect_pwru_skb_field(tvb, pinfo, tree, offset, length, spec->type, summary);
    case PWRU_TLV_NF_FAMILY:
        summary->has_nf_family = TRUE;
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->nf_family);
        break;
    case PWRU_TLV_NF_TABLE:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->nf_table);
        break;
    case PWRU_TLV_NF_CHAIN:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->nf_chain);
        break;
    case PWRU_TLV_NF_RULE:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->nf_rule);
        break;
    case PWRU_TLV_NF_HANDLE:
        summary->has_nf_handle = TRUE;
        proto_tree_add_item_ret_uint64(tree, hf, tvb, offset, length, enc, &summary->nf_handle);
        break;
    case PWRU_TLV_NF_TIE:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->nf_tie);
        break;
    case PWRU_TLV_NF_VERDICT:
        summary->has_nf_verdict = TRUE;
        proto_tree_add_item_ret_int(tree, hf, tvb, offset, length, enc, &summary->nf_verdict);
        break;
    case PWRU_TLV_NF_RULE_STATE:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->nf_rule_state);
        break;
    case PWRU_TLV_NF_JUMP_TARGET:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->nf_jump_target);
        break;
    case PWRU_TLV_NF_TRACE_TYPE:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->nf_trace_type);
        break;
    case PWRU_TLV_NF_TRACE_LOST:
        // Never hidden: drops near it may lack their rule, and nothing else would say so.
        summary->has_nf_trace_lost = TRUE;
        ti = proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc,
                                          &summary->nf_trace_lost);
        expert_add_info_format(pinfo, ti, &ei_pwru_nf_trace_lost,
                               "Netfilter trace messages lost: the listener of this namespace "
                               "overflowed %u times; drops around here may not name their rule",
                               summary->nf_trace_lost);
        break;
    case PWRU_TLV_BPF_PROG:
        proto_tree_add_item_ret_string(tree, hf, tvb, offset, length, enc, pinfo->pool,
                                       (const guint8 **)&summary->bpf_prog);
        break;
    case PWRU_TLV_BPF_HOOK:
        proto_tree_add_item_ret_uint(tree, hf, tvb, offset, length, enc, &summary->bpf_hook);
        break;
    case PWRU_TLV_BPF_VERDICT: {
        // Its name depends on the hook, which pwrudump writes before it.
        summary->has_bpf_verdict = TRUE;
        summary->bpf_verdict = (gint32)tvb_get_letohl(tvb, offset);
        const char *name = pwru::bpf::verdict_name(summary->bpf_hook, summary->bpf_verdict);
        proto_tree_add_int_format_value(tree, hf, tvb, offset, length, summary->bpf_verdict,
                                        "%s (%d)", name != NULL ? name : "unknown",
                                        summary->bpf_verdict);
        break;
    }
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

gboolean
dissect_pwru_record(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, pwru_summary *summary)
{
    int offset = dissect_pwru_header(tvb, pinfo, tree, 0);

    while (offset >= 0 && tvb_reported_length_remaining(tvb, offset) > 0)
        offset = dissect_pwru_tlv(tvb, pinfo, tree, offset, summary);
    pwru_meta_done(summary);
    // A reason recorded by number alone: its help comes last.
    if (summary->has_drop_reason && summary->drop_reason_help == NULL)
        dissect_pwru_drop_reason_help(tvb, pinfo, tree, summary);
    return offset >= 0;
}

void
pwru_register_fields(int proto, expert_module_t *expert)
{
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
        { &hf_pwru_drop_reason_help,
          { "Drop reason help", "pwru.drop_reason.help", FT_STRING, BASE_NONE, NULL, 0x0,
            "What the drop reason means and what to check (pwrudump's table, by the reason's "
            "name)", HFILL } },
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
        { &hf_pwru_nf_family,
          { "Netfilter family", "pwru.nf.family", FT_UINT8, BASE_DEC,
            VALS(pwru_nf_family_vals.data()), 0x0,
            "Family of the netfilter table whose rule gave the verdict (--nf-trace)", HFILL } },
        { &hf_pwru_nf_hook,
          { "Netfilter hook", "pwru.nf.hook", FT_STRING, BASE_NONE, NULL, 0x0,
            "Hook of the table's base chain the packet entered", HFILL } },
        { &hf_pwru_nf_table,
          { "Netfilter table", "pwru.nf.table", FT_STRING, BASE_NONE, NULL, 0x0,
            NULL, HFILL } },
        { &hf_pwru_nf_chain,
          { "Netfilter chain", "pwru.nf.chain", FT_STRING, BASE_NONE, NULL, 0x0,
            "Chain of the rule (after a jump, the jumped-to chain)", HFILL } },
        { &hf_pwru_nf_handle,
          { "Netfilter rule handle", "pwru.nf.handle", FT_UINT64, BASE_DEC, NULL, 0x0,
            "As nft -a list shows it; absent when the chain's policy gave the verdict", HFILL } },
        { &hf_pwru_nf_rule,
          { "Netfilter rule", "pwru.nf.rule", FT_STRING, BASE_NONE, NULL, 0x0,
            "The rule as nft -a list prints it", HFILL } },
        { &hf_pwru_nf_verdict,
          { "Netfilter verdict", "pwru.nf.verdict", FT_INT32, BASE_DEC,
            VALS(pwru_nf_verdict_vals.data()), 0x0, NULL, HFILL } },
        { &hf_pwru_nf_tie,
          { "Netfilter trace tie", "pwru.nf.tie", FT_UINT8, BASE_DEC,
            VALS(pwru_nf_tie_vals.data()), 0x0,
            "How the netfilter trace was tied to this event", HFILL } },
        { &hf_pwru_nf_rule_state,
          { "Netfilter rule state", "pwru.nf.rule_state", FT_UINT8, BASE_DEC,
            VALS(pwru_nf_rule_state_vals.data()), 0x0,
            "The rule was deleted or replaced after it was traced; the rule text is the one it "
            "had then. Absent: the rule is as traced", HFILL } },
        { &hf_pwru_nf_jump_target,
          { "Netfilter jump target", "pwru.nf.jump_target", FT_STRING, BASE_NONE, NULL, 0x0,
            "The chain a jump or goto verdict goes to", HFILL } },
        { &hf_pwru_nf_trace_type,
          { "Netfilter trace type", "pwru.nf.trace_type", FT_UINT8, BASE_DEC,
            VALS(pwru_nf_trace_type_vals.data()), 0x0,
            "What the trace reported: a rule, the end of a chain (return) or a base chain's "
            "policy", HFILL } },
        { &hf_pwru_nf_trace_lost,
          { "Netfilter trace messages lost", "pwru.nf.trace_lost", FT_UINT32, BASE_DEC, NULL,
            0x0, "Overflows of this namespace's netfilter trace listener since the previous such "
            "record (--nf-trace): messages were lost, drops may not name their rule", HFILL } },
        { &hf_pwru_bpf_prog,
          { "BPF program", "pwru.bpf.prog", FT_STRING, BASE_NONE, NULL, 0x0,
            "The tc or XDP program traced (--filter-trace-tc, --filter-trace-xdp): its entry "
            "function's name", HFILL } },
        { &hf_pwru_bpf_prog_id,
          { "BPF program id", "pwru.bpf.prog_id", FT_UINT32, BASE_DEC, NULL, 0x0,
            "The kernel's id of the program, as bpftool prog show lists it", HFILL } },
        { &hf_pwru_bpf_verdict,
          { "BPF program verdict", "pwru.bpf.verdict", FT_INT32, BASE_DEC, NULL, 0x0,
            "The program's return value: TC_ACT_* at tc, XDP_* at XDP; only on its return",
            HFILL } },
        { &hf_pwru_bpf_hook,
          { "BPF program hook", "pwru.bpf.hook", FT_UINT8, BASE_DEC, VALS(pwru_bpf_hook_vals),
            0x0, "Where the program runs: tc (its context is the skb) or xdp (no skb: the "
            "event's skb is the XDP data address)", HFILL } },
        { &hf_pwru_nf_trace_id,
          { "Netfilter trace id", "pwru.nf.trace_id", FT_UINT32, BASE_HEX, NULL, 0x0,
            "The trace's id, as nft monitor trace prints it", HFILL } },
        { &hf_pwru_stackid,
          { "Stack id", "pwru.stackid", FT_UINT64, BASE_HEX, NULL, 0x0,
            "The kernel stack the event ran on (--filter-track-skb-by-stackid): a task stack's "
            "base address, or ~cpu for a CPU's IRQ stack", HFILL } },
        { &hf_pwru_stackid_kept,
          { "Kept by", "pwru.stackid.kept", FT_UINT8, BASE_DEC,
            VALS(pwru_stack_kept_vals.data()), 0x0,
            "Why an event the filters did not pass was kept: another skb on the stack of a "
            "packet they passed (stackid), or a function without skb argument there (non-skb), "
            "whose skb is that packet's", HFILL } },
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
        &ett_pwru_tcp_flags,
        &ett_pwru_stack,
        &ett_pwru_field,
    };

    static ei_register_info ei[] = {
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
        { &ei_pwru_nf_trace_lost,
          { "pwru.nf.messages_lost", PI_SEQUENCE, PI_WARN, "Netfilter trace messages lost",
            EXPFILL } },
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));
}
