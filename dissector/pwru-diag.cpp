// pwrudump's diagnosis of a drop (--diagnose; DIAG_KIND, DIAG_TEXT): a subtree with the kind and
// the finding in words, and an expert info of the kind's own, so each can be filtered and
// coloured (pwru_diag.h names the kinds).
#include "packet-pwru.h"

#include <array>

#include "pwru_diag.h"

int hf_pwru_diag_kind = -1;
int hf_pwru_diag_text = -1;
static int hf_pwru_diag = -1;

static gint ett_pwru_diag = -1;

static expert_field ei_pwru_diag_no_listener = EI_INIT;
static expert_field ei_pwru_diag_no_route = EI_INIT;
static expert_field ei_pwru_diag_rp_filter = EI_INIT;
static expert_field ei_pwru_diag_forwarding_off = EI_INIT;
static expert_field ei_pwru_diag_too_big = EI_INIT;
static expert_field ei_pwru_diag_neigh_failed = EI_INIT;
static expert_field ei_pwru_diag_ct_invalid = EI_INIT;
static expert_field ei_pwru_diag_other = EI_INIT;

static constexpr auto pwru_diag_kind_vals = [] {
    std::array<value_string, std::size(pwru::diag::kDiagKinds) + 1> vals{};
    for (size_t i = 0; i < std::size(pwru::diag::kDiagKinds); i++)
        vals[i] = { pwru::diag::kDiagKinds[i].kind, pwru::diag::kDiagKinds[i].name.data() };
    return vals;  // ends with { 0, NULL }
}();

// Each kind's expert info; one this dissector does not know (a newer writer's) gets "other".
static expert_field *
pwru_diag_expert(guint32 kind)
{
    switch (kind) {
    case PWRU_DIAG_NO_LISTENER: return &ei_pwru_diag_no_listener;
    case PWRU_DIAG_NO_ROUTE: return &ei_pwru_diag_no_route;
    case PWRU_DIAG_RP_FILTER: return &ei_pwru_diag_rp_filter;
    case PWRU_DIAG_FORWARDING_OFF: return &ei_pwru_diag_forwarding_off;
    case PWRU_DIAG_TOO_BIG: return &ei_pwru_diag_too_big;
    case PWRU_DIAG_NEIGH_FAILED: return &ei_pwru_diag_neigh_failed;
    case PWRU_DIAG_CT_INVALID: return &ei_pwru_diag_ct_invalid;
    default: return &ei_pwru_diag_other;
    }
}

int
dissect_pwru_diag_field(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                        int length, guint type, pwru_summary *summary)
{
    const char *text;
    proto_item *ti;

    if (summary->diag_tree == NULL) {
        summary->diag_item = proto_tree_add_item(tree, hf_pwru_diag, tvb, offset, length, ENC_NA);
        summary->diag_tree = proto_item_add_subtree(summary->diag_item, ett_pwru_diag);
    }
    proto_item_set_end(summary->diag_item, tvb, offset + length);
    if (type == PWRU_TLV_DIAG_KIND) {
        proto_tree_add_item_ret_uint(summary->diag_tree, hf_pwru_diag_kind, tvb, offset, length,
                                     ENC_NA, &summary->diag_kind);
        return offset + length;
    }
    // The writer puts the kind first: the text's expert info knows which it is.
    ti = proto_tree_add_item_ret_string(summary->diag_tree, hf_pwru_diag_text, tvb, offset,
                                        length, ENC_UTF_8, pinfo->pool, (const guint8 **)&text);
    proto_item_append_text(summary->diag_item, ": %s", text);
    const pwru::diag::DiagKindInfo *info = pwru::diag::diag_kind_info(summary->diag_kind);
    expert_add_info_format(pinfo, ti, pwru_diag_expert(summary->diag_kind), "%s: %s",
                           info != NULL ? info->title : "Diagnosis", text);
    return offset + length;
}

void
pwru_register_diag(int proto, expert_module_t *expert)
{
    static hf_register_info hf[] = {
        { &hf_pwru_diag,
          { "Diagnosis", "pwru.diag", FT_NONE, BASE_NONE, NULL, 0x0,
            "What pwrudump found on the system when the packet was dropped (--diagnose)",
            HFILL } },
        { &hf_pwru_diag_kind,
          { "Diagnosis kind", "pwru.diag.kind", FT_UINT8, BASE_DEC,
            VALS(pwru_diag_kind_vals.data()), 0x0, "What the diagnosis looked at", HFILL } },
        { &hf_pwru_diag_text,
          { "Diagnosis text", "pwru.diag.text", FT_STRING, BASE_NONE, NULL, 0x0,
            "The finding in words", HFILL } },
    };

    static gint *ett[] = {
        &ett_pwru_diag,
    };

    static ei_register_info ei[] = {
        { &ei_pwru_diag_no_listener,
          { "pwru.diag.no_listener", PI_SEQUENCE, PI_WARN, "Nothing listens on the destination",
            EXPFILL } },
        { &ei_pwru_diag_no_route,
          { "pwru.diag.no_route", PI_SEQUENCE, PI_WARN, "No route", EXPFILL } },
        { &ei_pwru_diag_rp_filter,
          { "pwru.diag.rp_filter", PI_SEQUENCE, PI_WARN, "Reverse path filter", EXPFILL } },
        { &ei_pwru_diag_forwarding_off,
          { "pwru.diag.forwarding_off", PI_SEQUENCE, PI_WARN, "Forwarding is off", EXPFILL } },
        { &ei_pwru_diag_too_big,
          { "pwru.diag.too_big", PI_SEQUENCE, PI_WARN, "Packet larger than the MTU", EXPFILL } },
        { &ei_pwru_diag_neigh_failed,
          { "pwru.diag.neigh_failed", PI_SEQUENCE, PI_WARN, "Neighbour resolution failed",
            EXPFILL } },
        { &ei_pwru_diag_ct_invalid,
          { "pwru.diag.ct_invalid", PI_SEQUENCE, PI_WARN, "Conntrack found the packet invalid",
            EXPFILL } },
        { &ei_pwru_diag_other,
          { "pwru.diag.other", PI_SEQUENCE, PI_WARN, "Diagnosis of a kind this dissector does "
            "not know", EXPFILL } },
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert, ei, array_length(ei));
}
