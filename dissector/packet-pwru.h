// The `pwru` dissector's parts and what they share. packet-pwru.cpp dissects a record and
// registers the protocol; the parts, one file per concern:
//   pwru-fields.cpp       the record's header and fields (TLVs) into the tree and a pwru_summary
//   pwru-journey.cpp      each event's place in its skb's journey, the "pwru skb" filter
//   pwru-flight.cpp       one packet across hosts and skbs (pwru.flight), the capture's hosts
//   pwru-changes.cpp      what changed since the journey's previous event (pwru.changed)
//   pwru-lost-events.cpp  the capture's lost-event count (reads a private epan layout)
//   pwru-stats.cpp        the stats trees on the "pwru" tap
//   pwru-flow.cpp         the journeys as a flow graph (Statistics > Flow Graph, -z flow,pwru)
//   pwru-diag.cpp         pwrudump's diagnosis of a drop (--diagnose) and its expert infos
//   pwru-skb.cpp          skb fields chosen on the command line: metadata, shared info, cb
// The rules they apply about skbs (what is a drop, where a journey ends) are pwrudump's too:
// pwru_rules.h.
//
// The one rule of this C++: Wireshark exceptions are setjmp/longjmp, so no object with a
// non-trivial destructor may be alive in a frame that calls anything able to throw (tvb_*,
// proto_tree_add_*, expert_*, call_dissector, ...): a longjmp would skip the destructor. Keep
// to plain structs, pointers and std::string_view there; allocate from pinfo->pool (the packet)
// or wmem_file_scope() (the capture).
#pragma once

#include <wireshark.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <wsutil/nstime.h>

#include <string_view>

#include "pwru_rules.h"

void proto_register_pwru(void);
void proto_reg_handoff_pwru(void);
void register_pwru_stat_trees(void);

// The protocol's id (registration table: set once by proto_register_pwru).
extern int proto_pwru;

// Queued on the "pwru" tap for every record, in pinfo->pool: strings live as long as the packet.
struct pwru_tap_info {
    const char *func;         // NULL: the record names none
    const char *ifname;       // NULL: no device
    gboolean is_drop;         // pwru_is_drop()
    const char *drop_reason;  // with is_drop: its name, "reason N" or "no reason recorded"
    const char *caller;       // with is_drop: the caller's symbol without offset, or NULL
    // With is_drop, the netfilter rule that dropped it (--nf-trace), or NULL: "inet t c2
    // handle 4 \"tcp dport 4444 drop\"", "inet t c2 policy" for a chain's policy.
    const char *nf_rule;
    gboolean has_journey;     // a complete record with an skb address
    guint32 journey;          // pwru.journey
    guint32 hop;              // pwru.journey.hop
    gboolean journey_ends;    // this event frees the skb (pwru.journey.end)
    gboolean journey_dropped; // the journey ends in a drop, as far as known at this frame
    // The last event of a journey that no free ended; known only once the whole capture was
    // read (a later pass: tshark -2, the GUI).
    gboolean journey_open_last;
    nstime_t journey_delta;   // pwru.journey.delta
    // On a journey's first drop: its summary line (pwru_summary_line.h), else NULL.
    const char *journey_drop_line;
    gint64 lost_events;       // the capture's isb_ifdrop; -1 while unknown
    const char *drop_reason_help;       // with is_drop: pwru.drop_reason.help, or NULL
    const struct pwru_flow_step *flow;  // with has_journey: where it happened (pwru-flow.cpp)
    gboolean has_flight;      // pwru.flight
    guint32 flight;
    guint32 flight_hop;       // pwru.flight.hop
    const char *flight_host;  // the host to name in the flow graph (pwru_host_label), or NULL
    guint32 flight_prev;      // pwru.flight.prev of this frame, 0: none
    // On a flight's last frame, in a later pass: its line in -z pwru_flights, else NULL.
    const char *flight_line;
    // On the capture's last flight frame, in a later pass: the clocks' lines, else NULL.
    const struct pwru_clock_line *clock_lines;
    gboolean flight_one_pass;  // the frame is seen in the first pass: flights are not complete
};

// A line of the clocks in -z pwru_flights; the list ends with a NULL text.
struct pwru_clock_line {
    const char *text;
    guint32 flights;  // flights measured
};

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
    gboolean has_netns;
    guint32 netns;
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
    const char *drop_reason_help;  // pwru.drop_reason.help, with has_drop_reason
    proto_item *drop_help_item;
    const char *caller;
    guint64 caller_addr;  // 0: none recorded
    proto_tree *stack_tree;
    proto_item *stack_item;
    gboolean has_packet_layer;
    guint32 packet_layer;
    gboolean has_packet;
    int packet_offset;
    int packet_len;
    gboolean has_nf_family;  // the netfilter rule that dropped it (--nf-trace), when named
    guint32 nf_family;
    const char *nf_table;
    const char *nf_chain;
    const char *nf_rule;
    gboolean has_nf_handle;
    guint64 nf_handle;
    gboolean has_nf_verdict;
    gint32 nf_verdict;
    guint32 nf_rule_state;    // 0: as traced (no field)
    const char *nf_jump_target;
    guint32 nf_trace_type;    // 0: no field
    guint32 nf_tie;           // enum pwru_nf_tie; 0: none recorded
    gboolean has_nf_trace_lost;  // a record of its own: the trace listener overflowed
    guint32 nf_trace_lost;
    // What pwru-changes.cpp compares with the journey's previous event, besides the above.
    gboolean has_mark;
    guint32 mark;
    guint32 proto;      // skb->protocol; 0: unknown
    gboolean has_ports;
    guint32 diag_kind;        // enum pwru_diag_kind; 0: no DIAG_KIND field
    proto_item *diag_item;    // the Diagnosis subtree, made by its first DIAG_ field
    proto_tree *diag_tree;
    proto_item *meta_item;    // the pwru.meta item of the META_NAME waiting for its value
    proto_tree *meta_tree;
    // A tc or XDP program's entry or return (--filter-trace-tc, --filter-trace-xdp).
    const char *bpf_prog;
    guint32 bpf_hook;         // enum pwru_bpf_hook; 0: no BPF_HOOK field
    gboolean has_bpf_verdict; // a return: its verdict (pwru_bpf.h names it)
    gint32 bpf_verdict;
};

// The record's function name for the shared rules: NULL (no FUNC field) is the empty name,
// which no rule lists.
static inline std::string_view
pwru_func(const pwru_summary *summary)
{
    return summary->func != NULL ? std::string_view(summary->func) : std::string_view();
}

// pwru::rules::is_drop; a malformed record's function alone does not make a drop.
static inline gboolean
pwru_is_drop(const pwru_summary *summary, gboolean malformed)
{
    return pwru::rules::is_drop(summary->has_drop_reason,
                                summary->drop_reason != NULL ? summary->drop_reason : "",
                                pwru_func(summary), !malformed,
                                summary->has_bpf_verdict ? summary->bpf_hook : 0,
                                summary->bpf_verdict);
}

// --- pwru-fields.cpp ---
void pwru_register_fields(int proto, expert_module_t *expert);
// Adds the record's header and fields to `tree` and fills `summary`. Returns FALSE when the
// record is malformed (an expert info says where); the fields before that are still added.
gboolean dissect_pwru_record(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                             pwru_summary *summary);
// What the drop reason `name` means and what to check (pwru_reasons.h), "MEANING; check: CHECK";
// "no explanation is known yet" for a name the table does not know.
const char *pwru_drop_reason_help(wmem_allocator_t *scope, const char *name);
// "nf_hook_slow+0x9b" -> "nf_hook_slow": what users filter on, without the offset or module.
const char *pwru_frame_symbol(wmem_allocator_t *scope, const char *frame);

// --- pwru-diag.cpp ---
extern int hf_pwru_diag_kind;  // the fields of DIAG_KIND and DIAG_TEXT, for pwru-fields.cpp
extern int hf_pwru_diag_text;
void pwru_register_diag(int proto, expert_module_t *expert);
// A DIAG_KIND or DIAG_TEXT field (`type`) into the Diagnosis subtree. Returns the next offset.
int dissect_pwru_diag_field(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                            int length, guint type, pwru_summary *summary);

// --- pwru-skb.cpp ---
extern int hf_pwru_meta_name;  // the fields of META_NAME, META_VALUE, SHINFO, CB
extern int hf_pwru_meta_value;
extern int hf_pwru_shinfo;
extern int hf_pwru_cb;
void pwru_register_skb(int proto);
// A META_NAME, META_VALUE, SHINFO or CB field (`type`). Returns the next offset.
int dissect_pwru_skb_field(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, int offset,
                           int length, guint type, pwru_summary *summary);
// After the last field: a META_NAME still waiting for its value says it had none.
void pwru_meta_done(pwru_summary *summary);

// --- pwru-journey.cpp ---
struct pwru_hop;
void pwru_register_journey(int proto);
void pwru_handoff_journey(void);
// Places the event in its skb's journey (first pass) or finds where it was placed (later ones).
// NULL: no journey (no skb address, or a malformed record whose fields cannot be trusted).
const pwru_hop *pwru_journey_step(packet_info *pinfo, const pwru_summary *summary,
                                  gboolean malformed);
// The journey's fields under `tree`; nothing for a NULL hop.
void dissect_pwru_journey(tvbuff_t *tvb, proto_tree *tree, const pwru_hop *hop);
// The journey members of the tap info.
void pwru_journey_tap_info(packet_info *pinfo, const pwru_hop *hop, pwru_tap_info *info);
// The frame of the journey's previous event, 0 for its first.
guint32 pwru_hop_prev(const pwru_hop *hop);
// The journey's index (pwru.journey), its host, and whether this event ended it.
guint32 pwru_hop_journey(const pwru_hop *hop);
const struct pwru_host *pwru_hop_host(const pwru_hop *hop);
gboolean pwru_hop_ends(const pwru_hop *hop);

// --- pwru-flight.cpp ---
struct pwru_host;
struct pwru_flight_member;
void pwru_register_flights(int proto, module_t *prefs);
// The host of the frame's interface (pwru@HOST: HOST; a local interface: pwru#0). First pass.
const pwru_host *pwru_frame_host(packet_info *pinfo);
guint32 pwru_host_index(const pwru_host *host);
// The host's name where a picture should name it: a remote host's always, any host's once the
// capture has several; else NULL.
const char *pwru_host_label(const pwru_host *host);
// Places the event in its packet's flight (first pass) or finds where it was placed. NULL: no
// journey.
const pwru_flight_member *pwru_flight_step(tvbuff_t *tvb, packet_info *pinfo,
                                           const pwru_summary *summary, const pwru_hop *hop,
                                           gboolean malformed);
// The flight's fields under `tree`; nothing while the journey has no flight.
void dissect_pwru_flight(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                         const pwru_flight_member *member);
// The flight members of the tap info.
void pwru_flight_tap_info(packet_info *pinfo, const pwru_flight_member *member,
                          pwru_tap_info *info);

// --- pwru-changes.cpp ---
struct pwru_changed;
void pwru_register_changes(int proto);
// What changed since the previous event of the hop's journey: computed in the first pass, found
// in later ones. NULL: nothing changed, or no journey.
const pwru_changed *pwru_changes_step(tvbuff_t *tvb, packet_info *pinfo,
                                      const pwru_summary *summary, const pwru_hop *hop);
// pwru.changed and a field per change under `tree`; nothing for NULL.
void dissect_pwru_changes(tvbuff_t *tvb, proto_tree *tree, const pwru_changed *changed);
// Appends the changes of the packet itself to the Info column: "DNAT 10.0.0.99:80 ->
// 10.0.0.2:8080, MARK 0x0 -> 0x2a".
void pwru_changes_col_info(packet_info *pinfo, const pwru_changed *changed);

// --- pwru-flow.cpp ---
// Registers the "pwru" flow (sequence analysis); after the "pwru" tap.
void pwru_register_flow(int proto);
// The flow member of the tap info: the event's place, kept by frame in the first pass.
void pwru_flow_tap_info(packet_info *pinfo, const pwru_summary *summary, pwru_tap_info *info);

// --- pwru-lost-events.cpp ---
void pwru_register_lost_events(expert_module_t *expert, module_t *prefs);
// The capture's count of events lost in the kernel; -1 while unknown (until the whole file was
// read, or where it cannot be read).
gint64 pwru_lost_events(packet_info *pinfo);
// The expert warning, on the capture's first pwru frame. Call for every pwru frame.
void pwru_add_lost_events_expert(packet_info *pinfo, proto_item *root, gint64 lost);
