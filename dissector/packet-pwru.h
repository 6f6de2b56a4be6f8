// The `pwru` dissector's interface to the plugin glue (plugin.cpp) and to its stats trees
// (pwru-stats.cpp): registration entry points and what the "pwru" tap hands to its listeners.
#pragma once

#include <wireshark.h>
#include <wsutil/nstime.h>

void proto_register_pwru(void);
void proto_reg_handoff_pwru(void);
void register_pwru_stat_trees(void);

// Queued on the "pwru" tap for every record, in pinfo->pool: strings live as long as the packet.
struct pwru_tap_info {
    const char *func;         // NULL: the record names none
    const char *ifname;       // NULL: no device
    gboolean is_drop;         // see pwru_is_drop() in packet-pwru.cpp
    const char *drop_reason;  // with is_drop: its name, "reason N" or "no reason recorded"
    const char *caller;       // with is_drop: the caller's symbol without offset, or NULL
    gboolean has_journey;     // a complete record with an skb address
    guint32 journey;          // pwru.journey
    guint32 hop;              // pwru.journey.hop
    gboolean journey_ends;    // this event frees the skb (pwru.journey.end)
    gboolean journey_dropped; // the journey ends in a drop, as far as known at this frame
    // The last event of a journey that no free ended; known only once the whole capture was
    // read (a later pass: tshark -2, the GUI).
    gboolean journey_open_last;
    nstime_t journey_delta;   // pwru.journey.delta
    gint64 lost_events;       // the capture's isb_ifdrop; -1 while unknown (see packet-pwru.cpp)
};
