// The `pwru` dissector: one pwru record (extcap/record/pwru_record.h) per packet. Here: the
// protocol's registration, the columns, the drop (with its explanation) and reset expert infos,
// the "pwru" tap, and the packet bytes handed to Wireshark's own Ethernet/IPv4/IPv6 dissectors.
// The record's fields, journeys and lost events are parts of their own (packet-pwru.h lists
// them, with the rule every part keeps about setjmp/longjmp).
#include "packet-pwru.h"

#include <epan/tap.h>
#include <wsutil/str_util.h>
// These lack the extern "C" guard the others have.
extern "C" {
#include <epan/exceptions.h>
#include <epan/ipproto.h>
#include <epan/show_exception.h>
}

#include "pwru-compat.h"
#include "pwru_record.h"

int proto_pwru = -1;

static gint ett_pwru = -1;

static expert_field ei_pwru_drop = EI_INIT;
static expert_field ei_pwru_drop_help = EI_INIT;
static expert_field ei_pwru_reset = EI_INIT;

static int pwru_tap = -1;

static dissector_handle_t eth_withoutfcs_handle;
static dissector_handle_t ip_handle;
static dissector_handle_t ipv6_handle;

// Preference: the same packet is seen at many kernel functions. Dissected as a normal packet,
// TCP would call every later event a retransmission, so by default the payload is dissected the
// way ICMP dissects the packet embedded in an error message.
static pwru_pref_bool pwru_payload_is_embedded = TRUE;

// The reason as users read it: the kernel's name, else its number.
static const char *
pwru_drop_reason_text(packet_info *pinfo, const pwru_summary *summary)
{
    if (summary->drop_reason != NULL)
        return summary->drop_reason;
    if (summary->has_drop_reason)
        return wmem_strdup_printf(pinfo->pool, "reason %u", summary->drop_reason_code);
    // A tc or XDP program's drop: its verdict says it (TC_ACT_SHOT, XDP_DROP).
    if (summary->has_bpf_verdict) {
        const char *name = pwru::bpf::verdict_name(summary->bpf_hook, summary->bpf_verdict);
        return name != NULL ? name
                            : wmem_strdup_printf(pinfo->pool, "verdict %d", summary->bpf_verdict);
    }
    return "no reason recorded";
}

// What became of a traced rule since, or NULL when it is as traced.
static const char *
pwru_nf_state_text(const pwru_summary *summary)
{
    switch (summary->nf_rule_state) {
    case 0: return NULL;
    case PWRU_NF_RULE_DELETED: return "rule deleted since";
    case PWRU_NF_RULE_CHANGED: return "rule changed since";
    default: return "rule state unknown";
    }
}

// The netfilter rule that dropped it (--nf-trace): `by "tcp dport 4444 drop" (table t, chain
// c2, handle 4)`, `..., handle 4, rule deleted since)` when it no longer is; empty when none was
// named.
static const char *
pwru_nf_rule_text(packet_info *pinfo, const pwru_summary *summary)
{
    if (summary->nf_table == NULL)
        return "";
    wmem_strbuf_t *text = wmem_strbuf_new(pinfo->pool, "by ");
    if (summary->nf_rule != NULL)
        wmem_strbuf_append_printf(text, "\"%s\" ", summary->nf_rule);
    wmem_strbuf_append_printf(text, "(table %s, chain %s", summary->nf_table,
                              summary->nf_chain != NULL ? summary->nf_chain : "?");
    if (summary->has_nf_handle)
        wmem_strbuf_append_printf(text, ", handle %" PRIu64, summary->nf_handle);
    const char *state = pwru_nf_state_text(summary);
    if (state != NULL)
        wmem_strbuf_append_printf(text, ", %s", state);
    wmem_strbuf_append_c(text, ')');
    return wmem_strbuf_get_str(text);
}

// A rule the packet passed (--nf-trace, probe kind nftrace), as nft names its parts:
// `nft inet t input handle 3 jump c2 "ip protocol tcp jump c2"`, `nft inet t input policy
// accept`, `nft inet t c2 return continue` for the end of a chain. A function backend's return
// of ipt_do_table or ip6t_do_table (not a drop) reads `iptables filter INPUT accept`, one of
// nft_do_chain `nft inet t input accept`.
static const char *
pwru_nf_passed_text(packet_info *pinfo, const pwru_summary *summary)
{
    const std::string_view func = pwru_func(summary);
    const char *tool = func == "ipt_do_table"    ? "iptables"
                       : func == "ip6t_do_table" ? "ip6tables"
                                                 : "nft";
    wmem_strbuf_t *text = wmem_strbuf_new(pinfo->pool, tool);
    wmem_strbuf_append_c(text, ' ');
    const char *family =
        summary->has_nf_family
            ? pwru::rules::nf_name(pwru::rules::kNfFamilies, (gint32)summary->nf_family)
            : NULL;
    // iptables' tool names its family already.
    if (family != NULL && tool[0] == 'n')
        wmem_strbuf_append_printf(text, "%s ", family);
    wmem_strbuf_append_printf(text, "%s %s", summary->nf_table,
                              summary->nf_chain != NULL ? summary->nf_chain : "?");
    if (summary->has_nf_handle)
        wmem_strbuf_append_printf(text, " handle %" PRIu64, summary->nf_handle);
    else if (summary->nf_trace_type == PWRU_NF_TRACE_POLICY)
        wmem_strbuf_append(text, " policy");
    else if (summary->nf_trace_type == PWRU_NF_TRACE_RETURN)
        wmem_strbuf_append(text, " return");
    if (summary->has_nf_verdict) {
        const char *verdict = pwru::rules::nf_name(pwru::rules::kNfVerdicts, summary->nf_verdict);
        if (verdict != NULL)
            wmem_strbuf_append_printf(text, " %s", verdict);
        else
            wmem_strbuf_append_printf(text, " verdict %d", summary->nf_verdict);
    }
    if (summary->nf_jump_target != NULL)
        wmem_strbuf_append_printf(text, " %s", summary->nf_jump_target);
    // A policy's text only repeats the verdict.
    if (summary->nf_rule != NULL && summary->nf_trace_type != PWRU_NF_TRACE_POLICY)
        wmem_strbuf_append_printf(text, " \"%s\"", summary->nf_rule);
    const char *state = pwru_nf_state_text(summary);
    if (state != NULL)
        wmem_strbuf_append_printf(text, " (%s)", state);
    return wmem_strbuf_get_str(text);
}

// The rule as the stats tree names it, one node per rule: "inet t c2 handle 4 \"tcp dport 4444
// drop\"". The family tells iptables' and ip6tables' "filter INPUT" apart; handles count per
// table. NULL when no rule was named.
static const char *
pwru_nf_rule_key(packet_info *pinfo, const pwru_summary *summary)
{
    if (summary->nf_table == NULL)
        return NULL;
    const char *family =
        summary->has_nf_family
            ? pwru::rules::nf_name(pwru::rules::kNfFamilies, (gint32)summary->nf_family)
            : NULL;
    wmem_strbuf_t *key = wmem_strbuf_new(pinfo->pool, "");
    if (family != NULL)
        wmem_strbuf_append_printf(key, "%s ", family);
    else if (summary->has_nf_family)
        wmem_strbuf_append_printf(key, "family %u ", summary->nf_family);
    wmem_strbuf_append_printf(key, "%s %s", summary->nf_table,
                              summary->nf_chain != NULL ? summary->nf_chain : "?");
    // A function backend's netfilter probes know no rule: no handle, yet not the policy either.
    if (summary->has_nf_handle)
        wmem_strbuf_append_printf(key, " handle %" PRIu64, summary->nf_handle);
    else if (summary->nf_tie != PWRU_NF_TIE_KERNEL)
        wmem_strbuf_append(key, " policy");
    if (summary->nf_rule != NULL)
        wmem_strbuf_append_printf(key, " \"%s\"", summary->nf_rule);
    return wmem_strbuf_get_str(key);
}

static void
pwru_add_drop_expert(packet_info *pinfo, proto_item *root, const pwru_summary *summary,
                     gboolean malformed)
{
    if (!pwru_is_drop(summary, malformed))
        return;
    const char *rule = pwru_nf_rule_text(pinfo, summary);
    expert_add_info_format(pinfo, summary->drop_item != NULL ? summary->drop_item : root,
                           &ei_pwru_drop, "Packet dropped: %s%s%s%s%s",
                           pwru_drop_reason_text(pinfo, summary),
                           summary->caller != NULL ? " at " : "",
                           summary->caller != NULL ? summary->caller : "",
                           *rule != '\0' ? " " : "", rule);
}

// The drop's explanation, beside the error: a note, so Expert Information groups the drops by
// what to do about them. Only for a recorded reason; a drop without one has nothing to explain.
static void
pwru_add_drop_help_expert(packet_info *pinfo, const pwru_summary *summary, gboolean malformed)
{
    if (!pwru_is_drop(summary, malformed) || summary->drop_help_item == NULL)
        return;
    expert_add_info_format(pinfo, summary->drop_help_item, &ei_pwru_drop_help, "%s: %s",
                           pwru_drop_reason_text(pinfo, summary), summary->drop_reason_help);
}

static void
pwru_add_reset_expert(packet_info *pinfo, proto_item *root, const pwru_summary *summary)
{
    if (pwru::rules::sends_reset(pwru_func(summary)))
        expert_add_info_format(pinfo, root, &ei_pwru_reset,
                               "TCP reset sent in reply to this packet (%s)", summary->func);
}

static const pwru_tap_info *
pwru_tap_info_new(packet_info *pinfo, const pwru_summary *summary, gboolean malformed,
                  const pwru_hop *hop, const pwru_flight_member *member, gint64 lost)
{
    pwru_tap_info *info = wmem_new0(pinfo->pool, pwru_tap_info);

    info->func = summary->func;
    info->ifname = summary->ifname;
    info->is_drop = pwru_is_drop(summary, malformed);
    if (info->is_drop) {
        info->drop_reason = pwru_drop_reason_text(pinfo, summary);
        if (summary->caller != NULL)
            info->caller = pwru_frame_symbol(pinfo->pool, summary->caller);
        info->nf_rule = pwru_nf_rule_key(pinfo, summary);
        info->drop_reason_help = summary->drop_reason_help;
    }
    pwru_journey_tap_info(pinfo, hop, info);
    pwru_flight_tap_info(pinfo, member, info);
    pwru_flow_tap_info(pinfo, summary, info);
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
    // A rule passed, or a function probe's return that is not the drop: what the chain did.
    if (summary->nf_table != NULL &&
        ((summary->has_probe && summary->probe == PWRU_PROBE_NFTRACE) ||
         !pwru_is_drop(summary, malformed)))
        wmem_strbuf_append(pwru_info_part(info), pwru_nf_passed_text(pinfo, summary));
    else if (summary->nf_table != NULL)
        wmem_strbuf_append(pwru_info_part(info), pwru_nf_rule_text(pinfo, summary));
    if (summary->has_bpf_verdict) {
        const char *name = pwru::bpf::verdict_name(summary->bpf_hook, summary->bpf_verdict);
        if (name != NULL)
            wmem_strbuf_append_printf(pwru_info_part(info), "verdict=%s", name);
        else
            wmem_strbuf_append_printf(pwru_info_part(info), "verdict=%d", summary->bpf_verdict);
    }
    if (summary->has_nf_trace_lost)
        wmem_strbuf_append_printf(pwru_info_part(info),
                                  "netfilter trace messages lost (%u overflows)",
                                  summary->nf_trace_lost);
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
        switch (pwru_tvb_get_u8(payload_tvb, 0) >> 4) {
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
    const pwru_changed *changed;
    const pwru_flight_member *member;
    gint64 lost;
    gboolean malformed;

    memset(&summary, 0, sizeof summary);

    /* Columns: the Info text needs every field, so it is set after the tree is built. */
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "PWRU");
    col_clear(pinfo->cinfo, COL_INFO);

    /* Tree */
    pwru_item = proto_tree_add_item(tree, proto_pwru, tvb, 0, -1, ENC_NA);
    pwru_tree = proto_item_add_subtree(pwru_item, ett_pwru);

    malformed = !dissect_pwru_record(tvb, pinfo, pwru_tree, &summary);

    /* Journey: placed whether or not a tree is built, since later events link back to it. */
    hop = pwru_journey_step(pinfo, &summary, malformed);
    dissect_pwru_journey(tvb, pwru_tree, hop);
    changed = pwru_changes_step(tvb, pinfo, &summary, hop);
    dissect_pwru_changes(tvb, pwru_tree, changed);
    member = pwru_flight_step(tvb, pinfo, &summary, hop, malformed);
    dissect_pwru_flight(tvb, pinfo, pwru_tree, member);

    /* Expert infos */
    lost = pwru_lost_events(pinfo);
    pwru_add_drop_expert(pinfo, pwru_item, &summary, malformed);
    pwru_add_drop_help_expert(pinfo, &summary, malformed);
    pwru_add_reset_expert(pinfo, pwru_item, &summary);
    pwru_add_lost_events_expert(pinfo, pwru_item, lost);

    if (summary.func != NULL)
        proto_item_append_text(pwru_item, ", %s", summary.func);
    col_add_str(pinfo->cinfo, COL_INFO, pwru_info_text(pinfo, &summary, malformed));
    pwru_changes_col_info(pinfo, changed);
    pwru_set_addresses(pinfo, &summary);

    /* Tap: queued before the payload, which must not keep the stats trees from counting it. */
    tap_queue_packet(pwru_tap, pinfo, pwru_tap_info_new(pinfo, &summary, malformed, hop, member, lost));

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

    static gint *ett[] = {
        &ett_pwru,
    };

    static ei_register_info ei[] = {
        { &ei_pwru_drop,
          { "pwru.drop", PI_SEQUENCE, PI_ERROR, "Packet dropped", EXPFILL } },
        { &ei_pwru_drop_help,
          { "pwru.drop.help", PI_SEQUENCE, PI_NOTE,
            "What the drop reason means and what to check", EXPFILL } },
        { &ei_pwru_reset,
          { "pwru.reset", PI_SEQUENCE, PI_WARN, "TCP reset sent in reply to this packet",
            EXPFILL } },
    };

    proto_pwru = proto_register_protocol("pwru", "PWRU", "pwru");
    proto_register_subtree_array(ett, array_length(ett));
    expert_pwru = expert_register_protocol(proto_pwru);
    expert_register_field_array(expert_pwru, ei, array_length(ei));

    pwru_module = prefs_register_protocol(proto_pwru, NULL);
    prefs_register_bool_preference(
        pwru_module, "payload_is_embedded", "Dissect payload as embedded packet",
        "Dissect the packet data of each event like the packet inside an ICMP error "
        "(prevents TCP retransmission analysis across events, which all show the same packet)",
        &pwru_payload_is_embedded);

    pwru_register_fields(proto_pwru, expert_pwru);
    pwru_register_journey(proto_pwru);
    pwru_register_changes(proto_pwru);
    pwru_register_flights(proto_pwru, pwru_module);
    pwru_register_lost_events(expert_pwru, pwru_module);
    pwru_register_diag(proto_pwru, expert_pwru);
    pwru_register_skb(proto_pwru);

    pwru_tap = register_tap("pwru");
    pwru_register_flow(proto_pwru);

    // The name pwrudump writes in the exported-PDU DISSECTOR_NAME tag.
    register_dissector(PWRU_DISSECTOR_NAME, dissect_pwru, proto_pwru);
}

void
proto_reg_handoff_pwru(void)
{
    eth_withoutfcs_handle = find_dissector_add_dependency("eth_withoutfcs", proto_pwru);
    ip_handle = find_dissector_add_dependency("ip", proto_pwru);
    ipv6_handle = find_dissector_add_dependency("ipv6", proto_pwru);
    pwru_handoff_journey();
}
