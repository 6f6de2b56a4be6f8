// Stats trees on the "pwru" tap (Statistics > PWRU in the GUI, `tshark -z NAME,tree`):
// pwru_funcs (events per function), pwru_drops (drops per reason, function, caller, interface and,
// for drops --nf-trace named, netfilter rule)
// pwru_journeys (how journeys end, their length, the time to a drop) and pwru_drop_journeys (a line
// per journey that ended in a drop, pwrudump --output-summary's words; apart, since each line is
// long and a stats tree pads every row to its longest name), pwru_flights (a line per packet's
// flight: the hosts it crossed and where it ended; the clocks of the hosts measured by them).
#include "packet-pwru.h"

#include <epan/stats_tree.h>

// Node names: what the trees show, and how the packet callbacks find the nodes again.
static const char st_str_events[] = "Events";
static const char st_str_lost[] = "Lost events (isb_ifdrop)";
static const char st_str_drops[] = "Drops";
static const char st_str_by_reason[] = "By reason";
static const char st_str_by_func[] = "By function";
static const char st_str_by_caller[] = "By caller";
static const char st_str_by_iface[] = "By interface";
static const char st_str_by_rule[] = "By netfilter rule (--nf-trace)";
static const char st_str_journeys[] = "Journeys";
static const char st_str_ended_drop[] = "Ended by a drop";
static const char st_str_ended_free[] = "Ended by a free (not a drop)";
static const char st_str_open[] = "Not ended in the capture (known in two passes)";
static const char st_str_hops[] = "Hops per journey";
static const char st_str_time_to_drop[] = "Time to drop (microseconds)";
static const char st_str_dropped_journeys[] = "Journeys that ended in a drop";
static const char st_str_flights[] = "Flights";
static const char st_str_clocks[] = "Clocks (least time from a host's send to another's receive)";
static const char st_str_flights_one_pass[] =
    "Events seen in one pass: flights are known once the whole capture was read (tshark -2)";

static int st_node_events = -1;
static int st_node_drops = -1;
static int st_node_by_reason = -1;
static int st_node_by_func = -1;
static int st_node_by_caller = -1;
static int st_node_by_iface = -1;
static int st_node_journeys = -1;
static int st_node_hops = -1;
static int st_node_time_to_drop = -1;
static int st_node_dropped_journeys = -1;
static int st_node_flights = -1;

// A node name for a string that may be missing or empty.
static const char *
pwru_stats_name(const char *s, const char *missing)
{
    return s != NULL && *s != '\0' ? s : missing;
}

// Counts and times in whole units, for the nodes.
static gint
pwru_stats_clamp(guint64 v)
{
    return v > G_MAXINT ? G_MAXINT : (gint)v;
}

// The lost-event count is the same on every packet once known (the ISB was read): set, not
// added. Created on first use (with a hash, so later calls find it): no line while unknown.
static void
pwru_stats_lost_events(stats_tree *st, const pwru_tap_info *info)
{
    if (info->lost_events >= 0)
        set_stat_node(st, st_str_lost, 0, TRUE, pwru_stats_clamp((guint64)info->lost_events));
}

// A value for a range node: the node counts it and keeps its average, min and max; so does the
// range it falls in.
static void
pwru_stats_range_value(stats_tree *st, const char *name, gint value)
{
    tick_stat_node(st, name, 0, FALSE);
    stats_tree_tick_range(st, name, 0, value);
}

/* pwru_funcs */

static void
pwru_funcs_init(stats_tree *st)
{
    st_node_events = stats_tree_create_node(st, st_str_events, 0, STAT_DT_INT, TRUE);
}

static tap_packet_status
pwru_funcs_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                  const void *data, tap_flags_t flags _U_)
{
    const pwru_tap_info *info = (const pwru_tap_info *)data;

    tick_stat_node(st, st_str_events, 0, TRUE);
    tick_stat_node(st, pwru_stats_name(info->func, "(no function)"), st_node_events, FALSE);
    pwru_stats_lost_events(st, info);
    return TAP_PACKET_REDRAW;
}

/* pwru_drops */

static void
pwru_drops_init(stats_tree *st)
{
    st_node_drops = stats_tree_create_node(st, st_str_drops, 0, STAT_DT_INT, TRUE);
    st_node_by_reason = stats_tree_create_node(st, st_str_by_reason, st_node_drops, STAT_DT_INT,
                                               TRUE);
    st_node_by_func = stats_tree_create_node(st, st_str_by_func, st_node_drops, STAT_DT_INT,
                                             TRUE);
    st_node_by_caller = stats_tree_create_node(st, st_str_by_caller, st_node_drops, STAT_DT_INT,
                                               TRUE);
    st_node_by_iface = stats_tree_create_node(st, st_str_by_iface, st_node_drops, STAT_DT_INT,
                                              TRUE);
}

static tap_packet_status
pwru_drops_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                  const void *data, tap_flags_t flags _U_)
{
    const pwru_tap_info *info = (const pwru_tap_info *)data;

    if (!info->is_drop)
        return TAP_PACKET_DONT_REDRAW;
    tick_stat_node(st, st_str_drops, 0, TRUE);
    tick_stat_node(st, st_str_by_reason, st_node_drops, TRUE);
    tick_stat_node(st, pwru_stats_name(info->drop_reason, "(no reason recorded)"),
                   st_node_by_reason, FALSE);
    tick_stat_node(st, st_str_by_func, st_node_drops, TRUE);
    tick_stat_node(st, pwru_stats_name(info->func, "(no function)"), st_node_by_func, FALSE);
    tick_stat_node(st, st_str_by_caller, st_node_drops, TRUE);
    tick_stat_node(st, pwru_stats_name(info->caller, "(unknown)"), st_node_by_caller, FALSE);
    tick_stat_node(st, st_str_by_iface, st_node_drops, TRUE);
    tick_stat_node(st, pwru_stats_name(info->ifname, "(no interface)"), st_node_by_iface, FALSE);
    // Made by the first named drop (looked up by name after that): captures without
    // --nf-trace show the tree as before. It counts named drops only.
    if (info->nf_rule != NULL) {
        const int by_rule = tick_stat_node(st, st_str_by_rule, st_node_drops, TRUE);
        tick_stat_node(st, info->nf_rule, by_rule, FALSE);
    }
    return TAP_PACKET_REDRAW;
}

/* pwru_journeys */

static void
pwru_journeys_init(stats_tree *st)
{
    st_node_journeys = stats_tree_create_node(st, st_str_journeys, 0, STAT_DT_INT, TRUE);
    st_node_hops = stats_tree_create_range_node(st, st_str_hops, 0, "1-1", "2-2", "3-4", "5-8",
                                                "9-16", "17-32", "33-", NULL);
    st_node_time_to_drop = stats_tree_create_range_node(st, st_str_time_to_drop, 0, "0-9",
                                                        "10-99", "100-999", "1000-9999",
                                                        "10000-99999", "100000-", NULL);
}

static tap_packet_status
pwru_journeys_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                     const void *data, tap_flags_t flags _U_)
{
    const pwru_tap_info *info = (const pwru_tap_info *)data;
    guint64 us;

    pwru_stats_lost_events(st, info);
    if (!info->has_journey)
        return TAP_PACKET_DONT_REDRAW;
    if (info->hop == 1)
        tick_stat_node(st, st_str_journeys, 0, TRUE);
    // A journey is counted once: at the event that frees the skb, or at the last event of one
    // that no free ended (known only in a later pass).
    if (info->journey_ends) {
        tick_stat_node(st, info->journey_dropped ? st_str_ended_drop : st_str_ended_free,
                       st_node_journeys, FALSE);
    } else if (info->journey_open_last) {
        tick_stat_node(st, st_str_open, st_node_journeys, FALSE);
    } else {
        return TAP_PACKET_REDRAW;
    }
    pwru_stats_range_value(st, st_str_hops, pwru_stats_clamp(info->hop));
    if (info->journey_ends && info->journey_dropped) {
        us = (guint64)info->journey_delta.secs * 1000000 +
             (guint64)info->journey_delta.nsecs / 1000;
        pwru_stats_range_value(st, st_str_time_to_drop, pwru_stats_clamp(us));
    }
    return TAP_PACKET_REDRAW;
}

/* pwru_drop_journeys */

static void
pwru_drop_journeys_init(stats_tree *st)
{
    st_node_dropped_journeys = stats_tree_create_node(st, st_str_dropped_journeys, 0, STAT_DT_INT,
                                                      TRUE);
}

static tap_packet_status
pwru_drop_journeys_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                          const void *data, tap_flags_t flags _U_)
{
    const pwru_tap_info *info = (const pwru_tap_info *)data;

    if (info->journey_drop_line == NULL)
        return TAP_PACKET_DONT_REDRAW;
    tick_stat_node(st, st_str_dropped_journeys, 0, TRUE);
    tick_stat_node(st, info->journey_drop_line, st_node_dropped_journeys, FALSE);
    return TAP_PACKET_REDRAW;
}

/* pwru_flights */

static void
pwru_flights_init(stats_tree *st)
{
    st_node_flights = stats_tree_create_node(st, st_str_flights, 0, STAT_DT_INT, TRUE);
}

// A flight's line at its last frame, the clocks at the capture's last flight frame: both known
// only in a later pass, where every frame was placed.
static tap_packet_status
pwru_flights_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                    const void *data, tap_flags_t flags _U_)
{
    const pwru_tap_info *info = (const pwru_tap_info *)data;
    tap_packet_status status = TAP_PACKET_DONT_REDRAW;

    if (info->flight_one_pass) {
        tick_stat_node(st, st_str_flights_one_pass, 0, TRUE);
        return TAP_PACKET_REDRAW;
    }
    if (info->flight_line != NULL) {
        tick_stat_node(st, st_str_flights, 0, TRUE);
        tick_stat_node(st, info->flight_line, st_node_flights, FALSE);
        status = TAP_PACKET_REDRAW;
    }
    if (info->clock_lines != NULL && info->clock_lines[0].text != NULL) {
        const int clocks = tick_stat_node(st, st_str_clocks, 0, TRUE);
        for (const pwru_clock_line *line = info->clock_lines; line->text != NULL; line++)
            increase_stat_node(st, line->text, clocks, FALSE, pwru_stats_clamp(line->flights));
        status = TAP_PACKET_REDRAW;
    }
    return status;
}

void
register_pwru_stat_trees(void)
{
    stats_tree_register_plugin("pwru", "pwru_funcs", "PWRU/Functions", 0, pwru_funcs_packet,
                               pwru_funcs_init, NULL);
    stats_tree_register_plugin("pwru", "pwru_drops", "PWRU/Drops", 0, pwru_drops_packet,
                               pwru_drops_init, NULL);
    stats_tree_register_plugin("pwru", "pwru_journeys", "PWRU/Journeys", 0, pwru_journeys_packet,
                               pwru_journeys_init, NULL);
    // Lines by their text ("journey 3: ..."): journey order up to 10 journeys; by count, all 1,
    // they would be in reverse.
    stats_tree_register_plugin("pwru", "pwru_drop_journeys", "PWRU/Dropped journeys",
                               ST_SORT_COL_NAME << ST_FLG_SRTCOL_SHIFT, pwru_drop_journeys_packet,
                               pwru_drop_journeys_init, NULL);
    stats_tree_register_plugin("pwru", "pwru_flights", "PWRU/Flights",
                               ST_SORT_COL_NAME << ST_FLG_SRTCOL_SHIFT, pwru_flights_packet,
                               pwru_flights_init, NULL);
}
