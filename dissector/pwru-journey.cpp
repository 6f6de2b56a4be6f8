// Journeys: each event's place in its skb's journey (first event to free, by the rule shared with
// pwrudump in pwru_rules.h), the pwru.journey fields, and the "pwru skb" conversation filter.
//
// A file-scope map from skb address to the address's latest journey makes each event O(1); each
// event's place is kept with its frame (p_add_proto_data), so later passes, taps and the
// conversation filter read it back. Frames are placed once, in the first pass and in capture
// order: a "next" link and a drop seen later reach a frame's tree only when it is dissected again
// (tshark -2, the GUI).
#include "packet-pwru.h"

#include <epan/proto_data.h>

#include "pwru-compat.h"
#include "pwru_summary_line.h"

static int hf_pwru_journey = -1;
static int hf_pwru_journey_hop = -1;
static int hf_pwru_journey_prev = -1;
static int hf_pwru_journey_next = -1;
static int hf_pwru_journey_delta = -1;
static int hf_pwru_journey_end = -1;
static int hf_pwru_journey_dropped = -1;

static gint ett_pwru_journey = -1;

// One event's place in its journey.
struct pwru_hop {
    struct pwru_journey *journey;
    guint32 frame;
    guint32 hop;       // 1, 2, ...
    guint32 prev;      // frame of the previous event, 0 for the first
    guint32 next;      // frame of the next event, 0 until one is seen
    nstime_t delta;    // since the journey's first event
    gboolean ends;     // this event frees the skb
    const char *drop_line;  // the journey's first drop: its summary line (pwru_summary_line.h)
};

// What the journey's summary line needs, gathered event by event until its first drop.
struct pwru_journey_path {
    const char *saddr;  // the packet as its first event with an IP tuple saw it; NULL: none yet
    const char *daddr;
    guint16 sport;
    guint16 dport;
    guint8 l4proto;
    pwru::summary::Crossing crossings[pwru::summary::kMaxCrossings];
    size_t n_crossings;
    guint32 crossings_left_out;
};

struct pwru_journey {
    guint32 index;     // pwru.journey: 0, 1, ... in order of first events
    const pwru_host *host;  // the host whose kernel the skb lives in
    guint32 hops;
    pwru_hop *last;
    nstime_t first_ts;
    gboolean first_has_ktime;
    guint64 first_ktime;
    gboolean dropped;
    pwru_journey_path path;
    pwru::rules::Journey rule;  // whether it ended, and the teardown that may still follow
};

// An skb address on a host: a capture of several hosts (pwru-flight.cpp) may see the same
// address in two kernels.
struct pwru_journey_key {
    guint64 skb;
    guint32 host;
};

static guint
pwru_journey_key_hash(gconstpointer k)
{
    const pwru_journey_key *key = (const pwru_journey_key *)k;
    return g_int64_hash(&key->skb) ^ (key->host * 0x9e3779b9u);
}

static gboolean
pwru_journey_key_equal(gconstpointer a, gconstpointer b)
{
    const pwru_journey_key *x = (const pwru_journey_key *)a, *y = (const pwru_journey_key *)b;
    return x->skb == y->skb && x->host == y->host;
}

// The journeys of the capture being read; reset with the file scope (pwru_journey_init).
static struct {
    wmem_map_t *journeys;  // pwru_journey_key -> the address's latest pwru_journey *
    guint32 journey_count;
} pwru_capture;

static void
pwru_journey_init(void)
{
    pwru_capture.journeys =
        wmem_map_new(wmem_file_scope(), pwru_journey_key_hash, pwru_journey_key_equal);
    pwru_capture.journey_count = 0;
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
    ev.xdp_return = summary->bpf_hook == PWRU_BPF_HOOK_XDP && summary->has_bpf_verdict;
    return ev;
}

static pwru_journey *
pwru_journey_new(packet_info *pinfo, const pwru_summary *summary, const pwru_host *host,
                 const pwru_journey_key *lookup)
{
    pwru_journey *journey = wmem_new0(wmem_file_scope(), pwru_journey);
    pwru_journey_key *key = wmem_new(wmem_file_scope(), pwru_journey_key);

    journey->index = pwru_capture.journey_count++;
    journey->host = host;
    journey->first_ts = pinfo->abs_ts;
    journey->first_has_ktime = summary->has_ktime;
    journey->first_ktime = summary->ktime;
    *key = *lookup;
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

// Adds the event's packet and interface to the journey's path.
static void
pwru_journey_walk(const pwru_summary *summary, pwru_journey_path *path)
{
    if (path->saddr == NULL && summary->saddr != NULL && summary->daddr != NULL) {
        path->saddr = wmem_strdup(wmem_file_scope(), summary->saddr);
        path->daddr = wmem_strdup(wmem_file_scope(), summary->daddr);
        path->sport = (guint16)summary->sport;
        path->dport = (guint16)summary->dport;
        path->l4proto = (guint8)summary->l4proto;
    }
    const pwru::summary::Crossing *last =
        path->n_crossings > 0 ? &path->crossings[path->n_crossings - 1] : NULL;
    if (!pwru::summary::adds_crossing(last, summary->ifindex, summary->netns))
        return;
    if (path->n_crossings == pwru::summary::kMaxCrossings) {
        path->crossings_left_out++;
        return;
    }
    pwru::summary::Crossing *c = &path->crossings[path->n_crossings++];
    c->ifname = summary->ifname != NULL ? wmem_strdup(wmem_file_scope(), summary->ifname) : "";
    c->ifindex = summary->ifindex;
    c->netns = summary->netns;
}

// The summary line of a journey that ends in a drop at this event, as pwrudump's
// --output-summary writes it.
static const char *
pwru_journey_drop_line(const pwru_summary *summary, const pwru_journey *journey)
{
    const pwru_journey_path *path = &journey->path;
    pwru::summary::DropLine line = {};
    char caller_addr[24];
    char *out;
    size_t len;

    line.journey = journey->index;
    line.saddr = path->saddr != NULL ? path->saddr : "";
    line.daddr = path->daddr != NULL ? path->daddr : "";
    line.sport = path->sport;
    line.dport = path->dport;
    line.l4proto = path->l4proto;
    line.crossings = path->crossings;
    line.n_crossings = path->n_crossings;
    line.crossings_left_out = path->crossings_left_out;
    line.func = pwru_func(summary);
    // pwrudump shows the bare address of a caller with no symbol.
    line.caller = summary->caller != NULL ? summary->caller : "";
    if (summary->caller == NULL && summary->caller_addr != 0) {
        snprintf(caller_addr, sizeof caller_addr, "0x%" PRIx64, summary->caller_addr);
        line.caller = caller_addr;
    }
    line.reason = summary->drop_reason != NULL ? summary->drop_reason : "";
    line.has_reason_code = summary->has_drop_reason;
    line.reason_code = summary->drop_reason_code;
    len = pwru::summary::format_drop_line(line, NULL, 0);
    out = (char *)wmem_alloc(wmem_file_scope(), len + 1);
    pwru::summary::format_drop_line(line, out, len + 1);
    return out;
}

const pwru_hop *
pwru_journey_step(packet_info *pinfo, const pwru_summary *summary, gboolean malformed)
{
    pwru_journey *journey;
    pwru_hop *hop;

    if (PINFO_FD_VISITED(pinfo))
        return pwru_get_hop(pinfo);
    // A record of lost trace messages (NF_TRACE_LOST) is pwrudump's, no skb's.
    if (malformed || !summary->has_skb || summary->has_nf_trace_lost)
        return NULL;

    const pwru::rules::JourneyEvent ev = pwru_journey_event(summary);
    const pwru_host *host = pwru_frame_host(pinfo);
    pwru_journey_key key;
    memset(&key, 0, sizeof key);
    key.skb = summary->skb;
    key.host = pwru_host_index(host);
    journey = (pwru_journey *)wmem_map_lookup(pwru_capture.journeys, &key);
    if (pwru::rules::begins_journey(journey != NULL ? &journey->rule : NULL, ev))
        journey = pwru_journey_new(pinfo, summary, host, &key);

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
    if (!journey->dropped)
        pwru_journey_walk(summary, &journey->path);
    if (pwru_is_drop(summary, malformed) && !journey->dropped) {
        hop->drop_line = pwru_journey_drop_line(summary, journey);
        journey->dropped = TRUE;
    }
    journey->last = hop;

    p_add_proto_data(wmem_file_scope(), pinfo, proto_pwru, PWRU_PROTO_DATA_HOP, hop);
    return hop;
}

// The journey's fields, all generated: they come from the other events, not from this record.
void
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

void
pwru_journey_tap_info(packet_info *pinfo, const pwru_hop *hop, pwru_tap_info *info)
{
    if (hop == NULL)
        return;
    info->has_journey = TRUE;
    info->journey = hop->journey->index;
    info->hop = hop->hop;
    info->journey_ends = hop->ends;
    info->journey_dropped = hop->journey->dropped;
    info->journey_open_last = PINFO_FD_VISITED(pinfo) && hop->next == 0 &&
                              !hop->journey->rule.ended;
    info->journey_delta = hop->delta;
    info->journey_drop_line = hop->drop_line;
}

guint32
pwru_hop_prev(const pwru_hop *hop)
{
    return hop->prev;
}

guint32
pwru_hop_journey(const pwru_hop *hop)
{
    return hop->journey->index;
}

const pwru_host *
pwru_hop_host(const pwru_hop *hop)
{
    return hop->journey->host;
}

gboolean
pwru_hop_ends(const pwru_hop *hop)
{
    return hop->ends;
}

void
pwru_register_journey(int proto)
{
    static hf_register_info hf[] = {
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
        &ett_pwru_journey,
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    register_init_routine(pwru_journey_init);
}

void
pwru_handoff_journey(void)
{
    // Plugin handoffs run after epan listed TCP, UDP, IP and Ethernet: pwru goes first in the
    // list View > Colorize Conversation tries.
    pwru_register_conversation_filter<pwru_journey_filter_valid, pwru_journey_filter_build>(
        "pwru", "pwru skb");
    add_conversation_filter_protocol("pwru");
}
