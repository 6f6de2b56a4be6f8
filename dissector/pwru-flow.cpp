// The journey as a picture: the "PWRU journeys" flow of Statistics > Flow Graph and of
// `tshark -z flow,pwru,standard`. A node is a place where events happen (network namespace and
// interface), an arrow is an skb moving from its previous event's place to the next one,
// labelled with the function that saw it arrive, and a journey that ends in a drop ends in an
// arrow into a node named after the drop's reason, with the netfilter rule that dropped it
// (--nf-trace) and what the reason means as its comment.
//
// A capture of several hosts (pwru@HOST interfaces, pwru-flight.cpp) names the host in each
// node, "h1: netns 4026532000/veth0", and the first event of a journey that continues a packet's
// flight (on another host, or in another skb) draws the move from the flight's previous event.
//
// An event at the same place as its journey's previous one draws nothing: Wireshark draws an
// arrow to self as a bare arrowhead without its label (4.0) or splits its node into two columns
// of the same name (4.4 and later). A journey that never moves draws only its drop.
//
// Each event's place and its journey's previous place are kept by frame number in the first
// pass (in capture order, as journeys are), so every later pass (the dialog retaps) and a display
// filter that hides the events in between still draw the move between the two places.
#include "packet-pwru.h"

#include <epan/column-info.h>
#include <epan/column-utils.h>

#include "pwru-compat.h"

// Where an event happened and where its journey's previous event did.
struct pwru_flow_step {
    const pwru_host *host;   // its host (journeys stay on one)
    const char *place;       // interned: equal places are equal pointers
    const char *prev_place;  // NULL for the journey's first event
};

// The places of the capture being read; reset with the file scope (pwru_flow_init).
static struct {
    wmem_map_t *places;    // place text -> the same text, each place allocated once
    wmem_map_t *frames;    // frame number -> pwru_flow_step *
    wmem_map_t *journeys;  // journey index + 1 -> its latest event's place
} pwru_flow_capture;

static void
pwru_flow_init(void)
{
    pwru_flow_capture.places = wmem_map_new(wmem_file_scope(), g_str_hash, g_str_equal);
    pwru_flow_capture.frames = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    pwru_flow_capture.journeys = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
}

// "netns 4026532100/veth1"; the namespace or the device alone when only one is recorded (the
// stack before routing has no device yet).
static const char *
pwru_flow_place(packet_info *pinfo, const pwru_summary *summary)
{
    wmem_strbuf_t *text = wmem_strbuf_new(pinfo->pool, "");

    if (summary->has_netns)
        wmem_strbuf_append_printf(text, "netns %u", summary->netns);
    const gboolean has_ifname = summary->ifname != NULL && summary->ifname[0] != '\0';
    if (has_ifname || (summary->has_ifindex && summary->ifindex != 0)) {
        if (wmem_strbuf_get_len(text) > 0)
            wmem_strbuf_append_c(text, '/');
        if (has_ifname)
            wmem_strbuf_append(text, summary->ifname);
        else
            wmem_strbuf_append_printf(text, "ifindex %u", summary->ifindex);
    }
    if (wmem_strbuf_get_len(text) == 0)
        return "no place recorded";

    const char *place = (const char *)wmem_map_lookup(pwru_flow_capture.places,
                                                      wmem_strbuf_get_str(text));
    if (place == NULL) {
        char *copy = wmem_strdup(wmem_file_scope(), wmem_strbuf_get_str(text));
        wmem_map_insert(pwru_flow_capture.places, copy, copy);
        place = copy;
    }
    return place;
}

void
pwru_flow_tap_info(packet_info *pinfo, const pwru_summary *summary, pwru_tap_info *info)
{
    if (!info->has_journey)
        return;
    if (PINFO_FD_VISITED(pinfo)) {
        info->flow = (const pwru_flow_step *)wmem_map_lookup(pwru_flow_capture.frames,
                                                             GUINT_TO_POINTER(pinfo->num));
        return;
    }
    pwru_flow_step *step = wmem_new(wmem_file_scope(), pwru_flow_step);
    gpointer journey = GUINT_TO_POINTER(info->journey + 1);

    step->host = pwru_frame_host(pinfo);
    step->place = pwru_flow_place(pinfo, summary);
    step->prev_place = (const char *)wmem_map_lookup(pwru_flow_capture.journeys, journey);
    wmem_map_insert(pwru_flow_capture.journeys, journey, (gpointer)step->place);
    wmem_map_insert(pwru_flow_capture.frames, GUINT_TO_POINTER(pinfo->num), step);
    info->flow = step;
}

#if PWRU_HAS_FLOW_GRAPH

static void
pwru_flow_set_node(address *node, const char *name)
{
    address text;

    set_address(&text, AT_STRINGZ, (int)strlen(name) + 1, name);
    copy_address(node, &text);  // g_malloc'ed: Wireshark frees it with the item
}

// A node's name: the place, after its host's name when the picture names hosts. In the
// packet's scope.
static const char *
pwru_flow_node(packet_info *pinfo, const pwru_host *host, const char *place)
{
    const char *label = pwru_host_label(host);
    return label != NULL ? wmem_strdup_printf(pinfo->pool, "%s: %s", label, place) : place;
}

// One arrow from `src` to `dst` for the event of this frame; the ends show hop numbers.
static void
pwru_flow_add(seq_analysis_info_t *sainfo, packet_info *pinfo, const pwru_tap_info *info,
              const char *src, guint32 src_hop, const char *dst, gchar *comment)
{
    seq_analysis_item_t *sai = g_new0(seq_analysis_item_t, 1);
    char time_str[COL_MAX_LEN];

    sai->frame_number = pinfo->num;
    pwru_flow_set_node(&sai->src_addr, src);
    pwru_flow_set_node(&sai->dst_addr, dst);
    sai->port_src = (guint16)src_hop;
    sai->port_dst = (guint16)info->hop;
    sai->frame_label = g_strdup(info->func != NULL ? info->func : "(no function)");
    set_fd_time(pinfo->epan, pinfo->fd, time_str);
    sai->time_str = g_strdup(time_str);
    sai->comment = comment;
    sai->conv_num = (guint16)info->journey;  // a colour and, in text, a column per journey
    sai->line_style = 1;
    sai->display = TRUE;
    sequence_analysis_use_color_filter(pinfo, sai);
    g_queue_push_tail(sainfo->items, sai);
}

static tap_packet_status
pwru_flow_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
                 tap_flags_t flags _U_)
{
    seq_analysis_info_t *sainfo = (seq_analysis_info_t *)tapdata;
    const pwru_tap_info *info = (const pwru_tap_info *)data;
    const pwru_flow_step *step = info->flow;
    const char *func = info->func != NULL ? info->func : "(no function)";
    tap_packet_status status = TAP_PACKET_DONT_REDRAW;

    if (step == NULL)
        return status;
    const char *place = pwru_flow_node(pinfo, step->host, step->place);
    if (step->prev_place != NULL && step->prev_place != step->place) {
        pwru_flow_add(sainfo, pinfo, info, pwru_flow_node(pinfo, step->host, step->prev_place),
                      info->hop - 1, place,
                      g_strdup_printf("journey %u hop %u: %s", info->journey, info->hop, func));
        status = TAP_PACKET_REDRAW;
    }
    // The packet's flight goes on in this journey: from the flight's previous event.
    const pwru_flow_step *from =
        step->prev_place == NULL && info->flight_prev != 0
            ? (const pwru_flow_step *)wmem_map_lookup(pwru_flow_capture.frames,
                                                      GUINT_TO_POINTER(info->flight_prev))
            : NULL;
    if (from != NULL) {
        const char *from_place = pwru_flow_node(pinfo, from->host, from->place);
        if (strcmp(from_place, place) != 0) {
            pwru_flow_add(sainfo, pinfo, info, from_place, 0, place,
                          g_strdup_printf("flight %u hop %u: %s (journey %u)", info->flight,
                                          info->flight_hop, func, info->journey));
            status = TAP_PACKET_REDRAW;
        }
    }
    if (info->is_drop) {
        const char *label = pwru_host_label(step->host);
        gchar *drop = label != NULL ? g_strdup_printf("%s: dropped: %s", label, info->drop_reason)
                                    : g_strdup_printf("dropped: %s", info->drop_reason);
        // The rule --nf-trace named, then what the reason means.
        gchar *comment = g_strdup_printf(
            "journey %u hop %u: %s dropped it: %s%s%s%s%s", info->journey, info->hop, func,
            info->drop_reason, info->nf_rule != NULL ? " by " : "",
            info->nf_rule != NULL ? info->nf_rule : "", info->drop_reason_help != NULL ? ": " : "",
            info->drop_reason_help != NULL ? info->drop_reason_help : "");
        pwru_flow_add(sainfo, pinfo, info, place, info->hop, drop, comment);
        g_free(drop);
        status = TAP_PACKET_REDRAW;
    }
    return status;
}

#endif

void
pwru_register_flow(int proto)
{
    register_init_routine(pwru_flow_init);
#if PWRU_HAS_FLOW_GRAPH
    register_seq_analysis("pwru", "PWRU journeys", proto, "pwru", TL_REQUIRES_NOTHING,
                          pwru_flow_packet);
#else
    (void)proto;
#endif
}
