// What changed since the previous event of the same journey, by the rule pwrudump's JSON
// "changed" and CHANGED column use (pwru_changes.h): pwru.changed with a field per kind, and the
// Info column's part.
//
// Computed once, in the first pass, where frames are placed in their journeys in capture order
// (pwru-journey.cpp), so the previous event's facts are always known by then. Each frame's facts
// (with what it did not know carried from the events before: changes::carry) wait in a
// file-scope map until the next event of its journey reads them: only the open journeys' latest
// facts are kept. Each frame's result is kept with the frame
// (p_add_proto_data) for later passes.
#include "packet-pwru.h"

#include <epan/proto_data.h>

#include <string_view>

#include "pwru_changes.h"

namespace changes = pwru::changes;

static int hf_pwru_changed = -1;
static int hf_pwru_changed_kind[changes::kKinds];

static gint ett_pwru_changed = -1;

// Each kind's field and its label in the Info column, in the order of changes::Kind.
struct pwru_changed_field {
    const char *abbrev;
    const char *name;
    const char *label;
    const char *blurb;
};

static constexpr pwru_changed_field pwru_changed_fields[] = {
    { "pwru.changed.dnat", "DNAT", "DNAT",
      "The destination address or port changed (old -> new)" },
    { "pwru.changed.snat", "SNAT", "SNAT", "The source address or port changed (old -> new)" },
    { "pwru.changed.encap", "Tunnel header pushed", "ENCAP",
      "A VXLAN or GRE header was pushed: the tunnel, its outer addresses and VNI or key" },
    { "pwru.changed.decap", "Tunnel header popped", "DECAP",
      "A VXLAN or GRE header was popped: the tunnel, its outer addresses and VNI or key" },
    { "pwru.changed.netns", "Network namespace", "NETNS",
      "The network namespace changed (old -> new)" },
    { "pwru.changed.iface", "Interface", "IFACE", "The interface changed (old -> new)" },
    { "pwru.changed.mark", "Mark", "MARK", "The skb's mark changed (old -> new)" },
    { "pwru.changed.proto", "Protocol", "PROTO",
      "The EtherType or the transport protocol changed (old -> new)" },
    { "pwru.changed.len", "IP length", "LEN",
      "The IP datagram's length changed, as its header says (old -> new)" },
    { "pwru.changed.ttl", "TTL", "TTL", "The TTL or hop limit changed (old -> new)" },
};
static_assert(G_N_ELEMENTS(pwru_changed_fields) == changes::kKinds,
              "a field for every kind of change");
static_assert([] {
    for (size_t i = 0; i < changes::kKinds; i++) {
        const std::string_view abbrev = pwru_changed_fields[i].abbrev;
        if (!abbrev.starts_with("pwru.changed.") ||
            abbrev.substr(sizeof "pwru.changed." - 1) != changes::kKindNames[i])
            return false;
    }
    return true;
}(), "the fields are named after the shared rule's kinds");

// One frame's changes, texts in the file scope.
struct pwru_change_text {
    changes::Kind kind;
    const char *text;  // "old -> new" (changes::change_text)
};

struct pwru_changed {
    guint count;
    const char *names;  // pwru.changed: "dnat,mark"
    pwru_change_text list[changes::kKinds];
};

// The facts of each frame whose journey's next event is not seen yet.
static struct {
    wmem_map_t *facts;  // guint32 frame -> changes::Hop *
} pwru_changes_capture;

static void
pwru_changes_init(void)
{
    pwru_changes_capture.facts = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
}

// Key of the per-frame data (p_add_proto_data); pwru-journey.cpp's is 0.
#define PWRU_PROTO_DATA_CHANGED 0x6368

// The facts the shared rule compares, from the record's fields and its packet bytes.
static void
pwru_change_facts(tvbuff_t *tvb, const pwru_summary *summary, changes::Hop *hop)
{
    memset(hop, 0, sizeof *hop);
    hop->has_netns = summary->has_netns;
    hop->netns = summary->netns;
    hop->ifindex = summary->has_ifindex ? summary->ifindex : 0;
    if (summary->ifname != NULL)
        changes::set_ifname(*hop, summary->ifname);
    hop->has_mark = summary->has_mark;
    hop->mark = summary->mark;
    hop->protocol = (guint16)summary->proto;
    if (summary->has_packet && summary->has_packet_layer && summary->packet_len > 0) {
        const guint8 *bytes = tvb_get_ptr(tvb, summary->packet_offset, summary->packet_len);
        hop->headers = changes::parse_packet(bytes, (size_t)summary->packet_len,
                                             summary->packet_layer);
    }
    if (hop->headers.from_packet || summary->src.type == AT_NONE ||
        summary->src.type != summary->dst.type)
        return;
    changes::IpHeader tuple;
    memset(&tuple, 0, sizeof tuple);
    tuple.version = summary->src.type == AT_IPv4 ? 4 : 6;
    memcpy(tuple.saddr, summary->src.data, MIN((size_t)summary->src.len, sizeof tuple.saddr));
    memcpy(tuple.daddr, summary->dst.data, MIN((size_t)summary->dst.len, sizeof tuple.daddr));
    tuple.l4proto = (guint8)summary->l4proto;
    tuple.has_ports = summary->has_ports;
    tuple.sport = (guint16)summary->sport;
    tuple.dport = (guint16)summary->dport;
    hop->headers = changes::tuple_headers(tuple);
}

// Keeps the facts of this frame for the next event of its journey.
static void
pwru_keep_facts(guint32 frame, changes::Hop *facts)
{
    if (facts != NULL)
        wmem_map_insert(pwru_changes_capture.facts, GUINT_TO_POINTER(frame), facts);
}

static const pwru_changed *
pwru_changed_new(const changes::Changes *c)
{
    pwru_changed *changed = wmem_new0(wmem_file_scope(), pwru_changed);
    wmem_strbuf_t *names = wmem_strbuf_new(wmem_file_scope(), "");

    for (guint i = 0; i < c->count; i++) {
        char text[2 * sizeof c->list[i].to + 8];

        changes::change_text(c->list[i], text, sizeof text);
        changed->list[i].kind = c->list[i].kind;
        changed->list[i].text = wmem_strdup(wmem_file_scope(), text);
        if (i > 0)
            wmem_strbuf_append_c(names, ',');
        wmem_strbuf_append(names, changes::kind_name(c->list[i].kind));
    }
    changed->count = c->count;
    changed->names = wmem_strbuf_finalize(names);
    return changed;
}

const pwru_changed *
pwru_changes_step(tvbuff_t *tvb, packet_info *pinfo, const pwru_summary *summary,
                  const pwru_hop *hop)
{
    if (PINFO_FD_VISITED(pinfo))
        return (const pwru_changed *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pwru,
                                                      PWRU_PROTO_DATA_CHANGED);
    if (hop == NULL)
        return NULL;

    const guint32 prev = pwru_hop_prev(hop);
    changes::Hop *prev_facts =
        prev != 0 ? (changes::Hop *)wmem_map_remove(pwru_changes_capture.facts,
                                                    GUINT_TO_POINTER(prev))
                  : NULL;
    // A rule passed (--nf-trace) is not the skb seen again: the next event compares with the
    // one before it.
    if (!changes::compared(summary->has_probe ? summary->probe : 0)) {
        pwru_keep_facts(pinfo->num, prev_facts);
        return NULL;
    }
    changes::Hop *facts = wmem_new(wmem_file_scope(), changes::Hop);
    pwru_change_facts(tvb, summary, facts);
    if (prev_facts == NULL) {
        pwru_keep_facts(pinfo->num, facts);
        return NULL;
    }
    const changes::Changes c = changes::compare(*prev_facts, *facts);
    *facts = changes::carry(*prev_facts, *facts);
    pwru_keep_facts(pinfo->num, facts);
    wmem_free(wmem_file_scope(), prev_facts);
    if (c.count == 0)
        return NULL;
    const pwru_changed *changed = pwru_changed_new(&c);
    p_add_proto_data(wmem_file_scope(), pinfo, proto_pwru, PWRU_PROTO_DATA_CHANGED,
                     (void *)changed);
    return changed;
}

// Generated fields: they compare this record with another one.
void
dissect_pwru_changes(tvbuff_t *tvb, proto_tree *tree, const pwru_changed *changed)
{
    proto_item *changed_item, *ti;
    proto_tree *changed_tree;

    if (changed == NULL)
        return;
    changed_item = proto_tree_add_string(tree, hf_pwru_changed, tvb, 0, 0, changed->names);
    proto_item_set_generated(changed_item);
    changed_tree = proto_item_add_subtree(changed_item, ett_pwru_changed);
    for (guint i = 0; i < changed->count; i++) {
        const size_t kind = (size_t)changed->list[i].kind;

        ti = proto_tree_add_string(changed_tree, hf_pwru_changed_kind[kind], tvb, 0, 0,
                                   changed->list[i].text);
        proto_item_set_generated(ti);
    }
}

void
pwru_changes_col_info(packet_info *pinfo, const pwru_changed *changed)
{
    const char *sep = " ";

    if (changed == NULL)
        return;
    for (guint i = 0; i < changed->count; i++) {
        if (!changes::in_summary(changed->list[i].kind))
            continue;
        col_append_fstr(pinfo->cinfo, COL_INFO, "%s%s %s", sep,
                        pwru_changed_fields[(size_t)changed->list[i].kind].label,
                        changed->list[i].text);
        sep = ", ";
    }
}

void
pwru_register_changes(int proto)
{
    static hf_register_info hf[1 + changes::kKinds] = {
        { &hf_pwru_changed,
          { "Changed", "pwru.changed", FT_STRING, BASE_NONE, NULL, 0x0,
            "What changed since the previous event of the skb's journey: dnat, snat, encap, "
            "decap, netns, iface, mark, proto, len, ttl", HFILL } },
    };
    static gint *ett[] = {
        &ett_pwru_changed,
    };

    for (size_t i = 0; i < changes::kKinds; i++) {
        hf_pwru_changed_kind[i] = -1;
        hf[1 + i] = { &hf_pwru_changed_kind[i],
                      { pwru_changed_fields[i].name, pwru_changed_fields[i].abbrev, FT_STRING,
                        BASE_NONE, NULL, 0x0, pwru_changed_fields[i].blurb, HFILL } };
    }
    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    register_init_routine(pwru_changes_init);
}
