// Flights: one packet across hosts and skbs. A capture may hold several hosts' events, each
// host's pwrudump in its own pcapng interface (`pwru@HOST`); a journey (pwru-journey.cpp) is one
// skb on one host, and a flight is the journeys that carried the same packet: on the sender, the
// routers and the receiver, and on one host the copies, clones and the tunnel's outer and inner
// packet. The packet's identity comes from its headers (pwru_flight.h, shared with pwrudump).
//
// First pass, in capture order: each journey becomes a member of a flight at its first event
// whose bytes identify the packet, the flight of an earlier journey whose identity matches
// within the time window (preference pwru.flight_window; hosts' clocks differ), else a new one.
// The order of a flight's members is not the capture's (another host's clock may be ahead): the
// sender first, the receiver last (pwru::flight::rank), by each host's own times in between and
// on one host. It is worked out when a frame is shown, from what was placed so far: in one pass
// (tshark without -2) the links reach only back, and the measured clock offsets need the whole
// capture (tshark -2, the GUI).
#include "packet-pwru.h"

#include <epan/proto_data.h>

#include <algorithm>
#include <string_view>

#include "pwru-compat.h"
#include "pwru_flight.h"

namespace flight = pwru::flight;

static int hf_pwru_flight = -1;
static int hf_pwru_flight_host = -1;
static int hf_pwru_flight_hop = -1;
static int hf_pwru_flight_hosts = -1;
static int hf_pwru_flight_prev = -1;
static int hf_pwru_flight_next = -1;
static int hf_pwru_flight_dropped = -1;
static int hf_pwru_flight_drop_frame = -1;
static int hf_pwru_flight_clock_offset = -1;

static gint ett_pwru_flight = -1;

// Preference: how far apart (ms, in the frames' times) two events of one packet may be.
static guint pwru_flight_window_ms = 2000;

// Key of the per-frame data (p_add_proto_data); pwru-journey.cpp's is 0, pwru-changes.cpp's
// 0x6368.
#define PWRU_PROTO_DATA_FLIGHT 0x666c

struct pwru_host {
    guint32 index;     // 0, 1, ... in order of first events
    const char *name;  // "h1" of pwru@h1; "pwru#0" of a local interface
    gboolean remote;   // named by its interface (pwru@HOST)
};

struct pwru_flight;
struct pwru_flight_id;

// One journey's part in its flight.
struct pwru_flight_member {
    pwru_flight *flight;        // NULL until an event of the journey identified its packet
    pwru_flight_member *next;   // the flight's members, in the order they joined
    const pwru_host *host;
    guint32 journey;
    guint32 first_frame;
    guint32 last_frame;
    nstime_t first_ts;
    guint paths;                // flight::Path bits its events showed
    gboolean has_send_ts;       // the time its last send-path event left the host
    nstime_t last_send_ts;
    gboolean has_recv_ts;       // the time its first receive-path event came in
    nstime_t first_recv_ts;
    const char *end_func;       // the free that ended its journey, or NULL
    guint32 drop_frame;         // its journey's drop, 0: none
    const char *drop_func;
    const char *drop_reason;
    const char *tuple;          // "10.0.0.1:0->10.0.0.2:0(icmp)" of its first event with one
    const char *last_tuple;     // and of its last
    pwru_flight_id *ids;        // the identities its events showed
};

// An identity a member showed, from its first to its last event that did.
struct pwru_flight_id {
    flight::Identity id;
    pwru_flight_member *member;
    nstime_t first_ts;
    nstime_t last_ts;
    pwru_flight_id *next_in_member;
    pwru_flight_id *next_with_key;  // the other identities with the same key, newest first
};

struct pwru_flight {
    guint32 index;                 // pwru.flight: 0, 1, ... in order of first events
    pwru_flight_member *members;
    pwru_flight_member **tail;
    guint32 n_members;
    guint32 last_frame;            // its last frame in the capture
    guint32 generation;            // changes with what orders its members
    // The members in flight order, the hop of each, as of `ordered_generation`.
    guint32 ordered_generation;
    guint32 capacity;
    pwru_flight_member **order;
    guint32 *hops;
    guint32 n_hops;
};

// The least time from a host's send to another host's receive of one packet: an upper bound of
// the receiver's clock offset from the sender's plus the latency.
struct pwru_clock_pair {
    const pwru_host *from;
    const pwru_host *to;
    gint64 min_ns;
    guint32 flights;
};

// The flights of the capture being read; reset with the file scope (pwru_flight_init).
static struct {
    wmem_map_t *hosts_by_if;    // guint64 section << 32 | interface id -> pwru_host *
    wmem_map_t *hosts_by_name;  // name -> pwru_host *
    guint32 n_hosts;
    wmem_map_t *members;        // journey index + 1 -> pwru_flight_member *
    wmem_map_t *ids;            // guint64 identity key -> newest pwru_flight_id * with it
    wmem_array_t *flights;      // pwru_flight *, by index
    guint32 placed;             // frames placed in the first pass
    guint32 last_frame;         // the capture's last frame of a flight
    // The clock pairs, as of `clocks_placed` (placed + 1; 0: never worked out).
    guint32 clocks_placed;
    wmem_map_t *clocks;         // guint from << 16 | to -> pwru_clock_pair *
    wmem_array_t *clock_pairs;  // pwru_clock_pair *, in the order they were first measured
} pwru_flights;

static void
pwru_flight_init(void)
{
    pwru_flights.hosts_by_if = wmem_map_new(wmem_file_scope(), g_int64_hash, g_int64_equal);
    pwru_flights.hosts_by_name = wmem_map_new(wmem_file_scope(), g_str_hash, g_str_equal);
    pwru_flights.n_hosts = 0;
    pwru_flights.members = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    pwru_flights.ids = wmem_map_new(wmem_file_scope(), g_int64_hash, g_int64_equal);
    pwru_flights.flights = wmem_array_new(wmem_file_scope(), sizeof(pwru_flight *));
    pwru_flights.placed = 0;
    pwru_flights.last_frame = 0;
    pwru_flights.clocks_placed = 0;
    pwru_flights.clocks = NULL;
    pwru_flights.clock_pairs = NULL;
}

/* --- Hosts --- */

const pwru_host *
pwru_frame_host(packet_info *pinfo)
{
    guint32 if_id = 0, section = 0;
    const char *ifname = NULL;

    if (pinfo->rec != NULL && (pinfo->rec->presence_flags & WTAP_HAS_INTERFACE_ID)) {
        if_id = pinfo->rec->rec_header.packet_header.interface_id;
        section = pinfo->rec->section_number;
        if (pinfo->epan != NULL)
            ifname = pwru_session_interface_name(pinfo->epan, pinfo->rec);
    }
    guint64 key = (guint64)section << 32 | if_id;
    pwru_host *host = (pwru_host *)wmem_map_lookup(pwru_flights.hosts_by_if, &key);
    if (host != NULL)
        return host;

    char name[256];
    const std::string_view ifname_view = ifname != NULL ? ifname : "unknown";
    flight::host_name(ifname_view, if_id, name, sizeof name);
    host = (pwru_host *)wmem_map_lookup(pwru_flights.hosts_by_name, name);
    if (host == NULL) {
        host = wmem_new0(wmem_file_scope(), pwru_host);
        host->index = pwru_flights.n_hosts++;
        host->name = wmem_strdup(wmem_file_scope(), name);
        host->remote = ifname_view.find('@') != std::string_view::npos;
        wmem_map_insert(pwru_flights.hosts_by_name, (gpointer)host->name, host);
    }
    guint64 *stored = wmem_new(wmem_file_scope(), guint64);
    *stored = key;
    wmem_map_insert(pwru_flights.hosts_by_if, stored, host);
    return host;
}

guint32
pwru_host_index(const pwru_host *host)
{
    return host->index;
}

const char *
pwru_host_label(const pwru_host *host)
{
    return host != NULL && (host->remote || pwru_flights.n_hosts > 1) ? host->name : NULL;
}

/* --- Placing events (first pass) --- */

static gint64
pwru_ts_ns(const nstime_t *ts)
{
    return (gint64)ts->secs * 1000000000 + ts->nsecs;
}

static gboolean
pwru_within_window(const nstime_t *ts, const pwru_flight_id *fid)
{
    const gint64 window = (gint64)pwru_flight_window_ms * 1000000;
    const gint64 t = pwru_ts_ns(ts);
    return t >= pwru_ts_ns(&fid->first_ts) - window && t <= pwru_ts_ns(&fid->last_ts) + window;
}

// The flight an identity of `member` belongs to: an earlier member's within the window, the
// same packet unchanged before one NAT rewrote, the nearest in time first.
static pwru_flight *
pwru_flight_find(const pwru_flight_member *member, const flight::Identity *id,
                 const nstime_t *ts, flight::Match *best_match, gint64 *best_distance)
{
    guint64 key = flight::key(*id);
    pwru_flight *best = NULL;
    int scanned = 0;

    for (const pwru_flight_id *fid = (const pwru_flight_id *)wmem_map_lookup(pwru_flights.ids,
                                                                             &key);
         fid != NULL && scanned < 64; fid = fid->next_with_key, scanned++) {
        if (fid->member == member || fid->member->flight == NULL || !pwru_within_window(ts, fid))
            continue;
        const flight::Match m = flight::match(fid->id, *id);
        if (m == flight::Match::None)
            continue;
        gint64 distance = pwru_ts_ns(ts) - pwru_ts_ns(&fid->last_ts);
        if (distance < 0)
            distance = -distance;
        const gboolean better =
            *best_match == flight::Match::None ||
            (m == flight::Match::Same && *best_match == flight::Match::Nat) ||
            (m == *best_match && distance < *best_distance);
        if (better) {
            best = fid->member->flight;
            *best_match = m;
            *best_distance = distance;
        }
    }
    return best;
}

static pwru_flight *
pwru_flight_new(void)
{
    pwru_flight *f = wmem_new0(wmem_file_scope(), pwru_flight);
    f->index = wmem_array_get_count(pwru_flights.flights);
    f->tail = &f->members;
    wmem_array_append_one(pwru_flights.flights, f);
    return f;
}

static void
pwru_flight_join(pwru_flight *f, pwru_flight_member *member)
{
    member->flight = f;
    *f->tail = member;
    f->tail = &member->next;
    f->n_members++;
    f->generation++;
}

// Keeps the identity with the member, for later journeys to find: once per identity.
static void
pwru_flight_keep_id(pwru_flight_member *member, const flight::Identity *id, const nstime_t *ts)
{
    for (pwru_flight_id *fid = member->ids; fid != NULL; fid = fid->next_in_member) {
        if (flight::match(fid->id, *id) == flight::Match::Same &&
            fid->id.payload_len == id->payload_len) {
            fid->last_ts = *ts;
            return;
        }
    }
    pwru_flight_id *fid = wmem_new0(wmem_file_scope(), pwru_flight_id);
    fid->id = *id;
    fid->member = member;
    fid->first_ts = *ts;
    fid->last_ts = *ts;
    fid->next_in_member = member->ids;
    member->ids = fid;

    guint64 key = flight::key(*id);
    fid->next_with_key = (pwru_flight_id *)wmem_map_lookup(pwru_flights.ids, &key);
    guint64 *stored = wmem_new(wmem_file_scope(), guint64);
    *stored = key;
    wmem_map_insert(pwru_flights.ids, stored, fid);
}

// Whether one of the event's identities is the packet the member showed before.
static gboolean
pwru_member_shows(const pwru_flight_member *member, const flight::Identity *ids, size_t n_ids)
{
    for (const pwru_flight_id *fid = member->ids; fid != NULL; fid = fid->next_in_member)
        for (size_t i = 0; i < n_ids; i++)
            if (flight::match(fid->id, ids[i]) != flight::Match::None)
                return TRUE;
    return FALSE;
}

static pwru_flight_member *
pwru_flight_member_new(packet_info *pinfo, const pwru_hop *hop)
{
    pwru_flight_member *member = wmem_new0(wmem_file_scope(), pwru_flight_member);
    member->host = pwru_hop_host(hop);
    member->journey = pwru_hop_journey(hop);
    member->first_frame = pinfo->num;
    member->first_ts = pinfo->abs_ts;
    wmem_map_insert(pwru_flights.members, GUINT_TO_POINTER(member->journey + 1), member);
    return member;
}

// What the event tells about its member: the way it went, how it ended, its tuple.
static void
pwru_flight_member_add(packet_info *pinfo, pwru_flight_member *member,
                       const pwru_summary *summary, const pwru_hop *hop, gboolean malformed)
{
    const unsigned path = flight::path_of(pwru_func(summary));

    member->last_frame = pinfo->num;
    if ((member->paths | path) != member->paths) {
        member->paths |= path;
        if (member->flight != NULL)
            member->flight->generation++;
    }
    if (path == flight::kPathSend) {
        member->has_send_ts = TRUE;
        member->last_send_ts = pinfo->abs_ts;
    } else if (path == flight::kPathReceive && !member->has_recv_ts) {
        member->has_recv_ts = TRUE;
        member->first_recv_ts = pinfo->abs_ts;
    }
    if (summary->saddr != NULL && summary->daddr != NULL) {
        const char *l4 = summary->has_l4proto
                             ? pwru::names::l4_proto_name((uint8_t)summary->l4proto)
                             : NULL;
        const char *tuple = wmem_strdup_printf(pinfo->pool, "%s:%u->%s:%u(%s)", summary->saddr,
                                               summary->sport, summary->daddr, summary->dport,
                                               l4 != NULL ? l4 : "?");
        if (member->last_tuple == NULL || strcmp(member->last_tuple, tuple) != 0)
            member->last_tuple = wmem_strdup(wmem_file_scope(), tuple);
        if (member->tuple == NULL)
            member->tuple = member->last_tuple;
    }
    if (pwru_hop_ends(hop) && member->end_func == NULL)
        member->end_func = wmem_strdup(wmem_file_scope(),
                                       summary->func != NULL ? summary->func : "(no function)");
    if (pwru_is_drop(summary, malformed) && member->drop_frame == 0) {
        member->drop_frame = pinfo->num;
        member->drop_func = wmem_strdup(wmem_file_scope(),
                                        summary->func != NULL ? summary->func : "(no function)");
        member->drop_reason =
            summary->drop_reason != NULL
                ? wmem_strdup(wmem_file_scope(), summary->drop_reason)
                : summary->has_drop_reason
                      ? wmem_strdup_printf(wmem_file_scope(), "reason %u",
                                           summary->drop_reason_code)
                      : "no reason recorded";
    }
}

const pwru_flight_member *
pwru_flight_step(tvbuff_t *tvb, packet_info *pinfo, const pwru_summary *summary,
                 const pwru_hop *hop, gboolean malformed)
{
    if (PINFO_FD_VISITED(pinfo))
        return (const pwru_flight_member *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pwru,
                                                            PWRU_PROTO_DATA_FLIGHT);
    if (hop == NULL)
        return NULL;

    flight::Identity ids[2];
    size_t n_ids = 0;
    if (summary->has_packet && summary->has_packet_layer && summary->packet_len > 0 &&
        pwru::changes::compared(summary->has_probe ? summary->probe : 0)) {
        const guint8 *bytes = tvb_get_ptr(tvb, summary->packet_offset, summary->packet_len);
        n_ids = flight::identify(bytes, (size_t)summary->packet_len, summary->packet_layer, ids);
    }

    pwru_flight_member *member = (pwru_flight_member *)wmem_map_lookup(
        pwru_flights.members, GUINT_TO_POINTER(pwru_hop_journey(hop) + 1));
    // An skb that carries another packet now (its free was not seen: a capture of one
    // namespace does not see the peer of its veth free it) is another member from here on.
    if (member == NULL ||
        (member->ids != NULL && n_ids > 0 && !pwru_member_shows(member, ids, n_ids)))
        member = pwru_flight_member_new(pinfo, hop);
    pwru_flight_member_add(pinfo, member, summary, hop, malformed);
    if (member->flight == NULL && n_ids > 0) {
        flight::Match best_match = flight::Match::None;
        gint64 best_distance = 0;
        pwru_flight *f = NULL;
        for (size_t i = 0; i < n_ids; i++) {
            pwru_flight *found = pwru_flight_find(member, &ids[i], &pinfo->abs_ts, &best_match,
                                                  &best_distance);
            if (found != NULL)
                f = found;
        }
        pwru_flight_join(f != NULL ? f : pwru_flight_new(), member);
    }
    for (size_t i = 0; member->flight != NULL && i < n_ids; i++)
        pwru_flight_keep_id(member, &ids[i], &pinfo->abs_ts);
    if (member->flight != NULL)
        member->flight->last_frame = pinfo->num;
    pwru_flights.placed++;
    pwru_flights.last_frame = pinfo->num;

    p_add_proto_data(wmem_file_scope(), pinfo, proto_pwru, PWRU_PROTO_DATA_FLIGHT, member);
    return member;
}

/* --- The order of a flight (any pass) --- */

// What orders a host's members in a flight: its paths and its first time, over its members.
struct pwru_host_place {
    const pwru_host *host;
    unsigned paths;
    nstime_t first_ts;
};

static const pwru_host_place *
pwru_host_place_of(const pwru_host_place *places, guint32 n, const pwru_host *host)
{
    for (guint32 i = 0; i < n; i++)
        if (places[i].host == host)
            return &places[i];
    return NULL;
}

static void
pwru_flight_order(pwru_flight *f)
{
    if (f->order != NULL && f->ordered_generation == f->generation)
        return;
    const guint32 n = f->n_members;
    if (n > f->capacity) {
        f->order = wmem_alloc_array(wmem_file_scope(), pwru_flight_member *, n);
        f->hops = wmem_alloc_array(wmem_file_scope(), guint32, n);
        f->capacity = n;
    }
    pwru_host_place *places = wmem_alloc_array(wmem_file_scope(), pwru_host_place, n);
    guint32 n_places = 0, i = 0;
    for (pwru_flight_member *m = f->members; m != NULL; m = m->next) {
        f->order[i++] = m;
        pwru_host_place *place = (pwru_host_place *)pwru_host_place_of(places, n_places, m->host);
        if (place == NULL) {
            place = &places[n_places++];
            place->host = m->host;
            place->paths = 0;
            place->first_ts = m->first_ts;
        }
        place->paths |= m->paths;
        if (nstime_cmp(&m->first_ts, &place->first_ts) < 0)
            place->first_ts = m->first_ts;
    }
    // Plain pointers and a lambda without captures that own anything: nothing here throws.
    std::sort(f->order, f->order + n,
              [places, n_places](const pwru_flight_member *a, const pwru_flight_member *b) {
                  const pwru_host_place *pa = pwru_host_place_of(places, n_places, a->host);
                  const pwru_host_place *pb = pwru_host_place_of(places, n_places, b->host);
                  if (pa != pb) {
                      const unsigned ra = flight::rank(pa->paths), rb = flight::rank(pb->paths);
                      if (ra != rb)
                          return ra < rb;
                      const int c = nstime_cmp(&pa->first_ts, &pb->first_ts);
                      if (c != 0)
                          return c < 0;
                      return pa->host->index < pb->host->index;
                  }
                  const int c = nstime_cmp(&a->first_ts, &b->first_ts);
                  return c != 0 ? c < 0 : a->first_frame < b->first_frame;
              });
    guint32 hop = 0;
    for (i = 0; i < n; i++) {
        if (i == 0 || f->order[i]->host != f->order[i - 1]->host)
            hop++;
        f->hops[i] = hop;
    }
    f->n_hops = hop;
    wmem_free(wmem_file_scope(), places);
    f->ordered_generation = f->generation;
}

static guint32
pwru_flight_position(pwru_flight *f, const pwru_flight_member *member)
{
    pwru_flight_order(f);
    for (guint32 i = 0; i < f->n_members; i++)
        if (f->order[i] == member)
            return i;
    return 0;
}

// The drop the flight ended in: one on its last host. NULL: it did not end in a drop.
static const pwru_flight_member *
pwru_flight_drop(pwru_flight *f)
{
    pwru_flight_order(f);
    const pwru_host *last = f->order[f->n_members - 1]->host;
    for (guint32 i = f->n_members; i-- > 0 && f->order[i]->host == last;)
        if (f->order[i]->drop_frame != 0)
            return f->order[i];
    return NULL;
}

// "h1 > r > h2"
static const char *
pwru_flight_hosts(wmem_allocator_t *scope, pwru_flight *f)
{
    wmem_strbuf_t *text = wmem_strbuf_new(scope, "");
    pwru_flight_order(f);
    for (guint32 i = 0; i < f->n_members; i++) {
        if (i > 0 && f->order[i]->host == f->order[i - 1]->host)
            continue;
        if (i > 0)
            wmem_strbuf_append(text, " > ");
        wmem_strbuf_append(text, f->order[i]->host->name);
    }
    return wmem_strbuf_get_str(text);
}

// The members before and after order[pos] along the flight (NULL: none). On one host, the one
// before and after it; from host to host, the packet leaves a host by its last member that
// showed the send path (else its last) and arrives at the next by its first member that showed
// the receive path (else its first): those two link to each other.
static void
pwru_flight_links(pwru_flight *f, guint32 pos, const pwru_flight_member **prev,
                  const pwru_flight_member **next)
{
    const pwru_flight_member *m = f->order[pos];
    guint32 first = pos, end = pos + 1;  // this host's members: order[first..end)
    while (first > 0 && f->order[first - 1]->host == m->host)
        first--;
    while (end < f->n_members && f->order[end]->host == m->host)
        end++;
    *prev = pos > first ? f->order[pos - 1] : NULL;
    *next = pos + 1 < end ? f->order[pos + 1] : NULL;

    // Arriving here: the first member with the receive path, from the host before's leaving one.
    guint32 arriving = first;
    for (guint32 i = first; i < end; i++)
        if (f->order[i]->paths & flight::kPathReceive) {
            arriving = i;
            break;
        }
    if (first > 0 && pos == arriving) {
        guint32 before = first - 1, leaving = first - 1;
        while (before > 0 && f->order[before - 1]->host == f->order[first - 1]->host)
            before--;
        for (guint32 i = first; i-- > before;)
            if (f->order[i]->paths & flight::kPathSend) {
                leaving = i;
                break;
            }
        *prev = f->order[leaving];
    }
    // Leaving here: the last member with the send path, to the next host's arriving one.
    guint32 leaving = end - 1;
    for (guint32 i = end; i-- > first;)
        if (f->order[i]->paths & flight::kPathSend) {
            leaving = i;
            break;
        }
    if (end < f->n_members && pos == leaving) {
        guint32 after = end + 1, arrive = end;
        while (after < f->n_members && f->order[after]->host == f->order[end]->host)
            after++;
        for (guint32 i = end; i < after; i++)
            if (f->order[i]->paths & flight::kPathReceive) {
                arrive = i;
                break;
            }
        *next = f->order[arrive];
    }
}

/* --- Clocks: known once every frame was placed --- */

static pwru_clock_pair *
pwru_clock_pair_of(const pwru_host *from, const pwru_host *to)
{
    return (pwru_clock_pair *)wmem_map_lookup(
        pwru_flights.clocks, GUINT_TO_POINTER((from->index & 0xffff) << 16 | (to->index & 0xffff)));
}

// For each flight, each step from one host to the next: the first receive on the next host
// minus the last send on the one before.
static void
pwru_flight_clocks(void)
{
    if (pwru_flights.clocks_placed == pwru_flights.placed + 1)
        return;
    pwru_flights.clocks = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    pwru_flights.clock_pairs = wmem_array_new(wmem_file_scope(), sizeof(pwru_clock_pair *));
    const guint n_flights = wmem_array_get_count(pwru_flights.flights);
    for (guint fi = 0; fi < n_flights; fi++) {
        pwru_flight *f = *(pwru_flight **)wmem_array_index(pwru_flights.flights, fi);
        pwru_flight_order(f);
        guint32 start = 0;
        while (start < f->n_members) {
            guint32 end = start;
            while (end < f->n_members && f->order[end]->host == f->order[start]->host)
                end++;
            if (end == f->n_members)
                break;
            // Hosts order[start..end) and order[end..next).
            guint32 next = end;
            while (next < f->n_members && f->order[next]->host == f->order[end]->host)
                next++;
            gboolean has_send = FALSE, has_recv = FALSE;
            nstime_t send = {0, 0}, recv = {0, 0};
            for (guint32 i = start; i < end; i++) {
                const pwru_flight_member *m = f->order[i];
                if (m->has_send_ts && (!has_send || nstime_cmp(&m->last_send_ts, &send) > 0)) {
                    send = m->last_send_ts;
                    has_send = TRUE;
                }
            }
            for (guint32 i = end; i < next; i++) {
                const pwru_flight_member *m = f->order[i];
                if (m->has_recv_ts && (!has_recv || nstime_cmp(&m->first_recv_ts, &recv) < 0)) {
                    recv = m->first_recv_ts;
                    has_recv = TRUE;
                }
            }
            if (has_send && has_recv) {
                const pwru_host *from = f->order[start]->host, *to = f->order[end]->host;
                const gint64 delta = pwru_ts_ns(&recv) - pwru_ts_ns(&send);
                pwru_clock_pair *pair = pwru_clock_pair_of(from, to);
                if (pair == NULL) {
                    pair = wmem_new0(wmem_file_scope(), pwru_clock_pair);
                    pair->from = from;
                    pair->to = to;
                    pair->min_ns = delta;
                    wmem_map_insert(pwru_flights.clocks,
                                    GUINT_TO_POINTER((from->index & 0xffff) << 16 |
                                                     (to->index & 0xffff)),
                                    pair);
                    wmem_array_append_one(pwru_flights.clock_pairs, pair);
                }
                if (delta < pair->min_ns)
                    pair->min_ns = delta;
                pair->flights++;
            }
            start = end;
        }
    }
    pwru_flights.clocks_placed = pwru_flights.placed + 1;
}

// The offset of `to`'s clock from `from`'s, when packets were measured both ways: half the
// difference of the two least send-to-receive times, +/- half their sum (the latencies are
// unknown, taken alike both ways, as NTP does).
static gboolean
pwru_clock_offset(const pwru_host *from, const pwru_host *to, gint64 *offset_ns,
                  gint64 *error_ns)
{
    pwru_flight_clocks();
    const pwru_clock_pair *there = pwru_clock_pair_of(from, to);
    const pwru_clock_pair *back = pwru_clock_pair_of(to, from);
    if (there == NULL || back == NULL)
        return FALSE;
    *offset_ns = (there->min_ns - back->min_ns) / 2;
    *error_ns = (there->min_ns + back->min_ns) / 2;
    return TRUE;
}

static void
pwru_ns_to_nstime(gint64 ns, nstime_t *t)
{
    t->secs = (time_t)(ns / 1000000000);
    t->nsecs = (int)(ns % 1000000000);
}

/* --- The fields --- */

void
dissect_pwru_flight(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                    const pwru_flight_member *member)
{
    proto_item *flight_item, *ti;
    proto_tree *flight_tree;

    if (member == NULL || member->flight == NULL)
        return;
    pwru_flight *f = member->flight;
    const guint32 pos = pwru_flight_position(f, member);
    const guint32 hop = f->hops[pos];
    const pwru_flight_member *drop = pwru_flight_drop(f);

    flight_item = proto_tree_add_uint(tree, hf_pwru_flight, tvb, 0, 0, f->index);
    proto_item_set_generated(flight_item);
    proto_item_append_text(flight_item, ", hop %u of %u (%s)", hop, f->n_hops, member->host->name);
    if (drop != NULL)
        proto_item_append_text(flight_item, ", ends in a drop on %s", drop->host->name);
    flight_tree = proto_item_add_subtree(flight_item, ett_pwru_flight);

    ti = proto_tree_add_string(flight_tree, hf_pwru_flight_host, tvb, 0, 0, member->host->name);
    proto_item_set_generated(ti);
    ti = proto_tree_add_uint(flight_tree, hf_pwru_flight_hop, tvb, 0, 0, hop);
    proto_item_set_generated(ti);
    ti = proto_tree_add_string(flight_tree, hf_pwru_flight_hosts, tvb, 0, 0,
                               pwru_flight_hosts(pinfo->pool, f));
    proto_item_set_generated(ti);
    // Links only where the packet moves on: from a journey's first event back, from its last on.
    const pwru_flight_member *prev, *next;
    pwru_flight_links(f, pos, &prev, &next);
    if (pinfo->num == member->first_frame && prev != NULL) {
        ti = proto_tree_add_uint(flight_tree, hf_pwru_flight_prev, tvb, 0, 0, prev->last_frame);
        proto_item_append_text(ti, " (%s, journey %u)", prev->host->name, prev->journey);
        proto_item_set_generated(ti);
        gint64 offset, error;
        if (prev->host != member->host && PINFO_FD_VISITED(pinfo) &&
            pwru_clock_offset(prev->host, member->host, &offset, &error)) {
            nstime_t t;
            pwru_ns_to_nstime(offset, &t);
            ti = proto_tree_add_time(flight_tree, hf_pwru_flight_clock_offset, tvb, 0, 0, &t);
            proto_item_append_text(ti, " (%s's clock from %s's, +/- %" PRId64 " us)",
                                   member->host->name, prev->host->name, error / 1000);
            proto_item_set_generated(ti);
        }
    }
    if (pinfo->num == member->last_frame && next != NULL) {
        ti = proto_tree_add_uint(flight_tree, hf_pwru_flight_next, tvb, 0, 0, next->first_frame);
        proto_item_append_text(ti, " (%s, journey %u)", next->host->name, next->journey);
        proto_item_set_generated(ti);
    }
    if (drop != NULL) {
        ti = proto_tree_add_string(flight_tree, hf_pwru_flight_dropped, tvb, 0, 0,
                                   drop->host->name);
        proto_item_append_text(ti, " at %s: %s", drop->drop_func, drop->drop_reason);
        proto_item_set_generated(ti);
        ti = proto_tree_add_uint(flight_tree, hf_pwru_flight_drop_frame, tvb, 0, 0,
                                 drop->drop_frame);
        proto_item_set_generated(ti);
    }
}

/* --- The tap: -z pwru_flights,tree and the flow graph --- */

// "flight 3: 10.0.0.1:0->10.0.0.2:0(icmp): h1 > h2, dropped on h2 at kfree_skb: NETFILTER_DROP"
static const char *
pwru_flight_line(wmem_allocator_t *scope, pwru_flight *f)
{
    wmem_strbuf_t *line = wmem_strbuf_new(scope, "");
    pwru_flight_order(f);
    const pwru_flight_member *first = f->order[0];
    const pwru_flight_member *last = f->order[f->n_members - 1];
    const char *tuple = NULL, *last_tuple = NULL;
    for (guint32 i = 0; i < f->n_members && tuple == NULL; i++)
        tuple = f->order[i]->tuple;
    for (guint32 i = f->n_members; i-- > 0 && f->order[i]->host == last->host && !last_tuple;)
        last_tuple = f->order[i]->last_tuple;

    wmem_strbuf_append_printf(line, "flight %u: %s: %s", f->index,
                              tuple != NULL ? tuple : "(no addresses)",
                              pwru_flight_hosts(scope, f));
    // Rewritten on the way (NAT): as the last host saw it last.
    if (last_tuple != NULL && tuple != NULL && strcmp(tuple, last_tuple) != 0 &&
        last->host != first->host)
        wmem_strbuf_append_printf(line, " (on %s: %s)", last->host->name, last_tuple);
    const pwru_flight_member *drop = pwru_flight_drop(f);
    const pwru_flight_member *ended = NULL;
    for (guint32 i = f->n_members; i-- > 0 && f->order[i]->host == last->host;)
        if (f->order[i]->end_func != NULL && ended == NULL)
            ended = f->order[i];
    if (drop != NULL)
        wmem_strbuf_append_printf(line, ", dropped on %s at %s: %s", drop->host->name,
                                  drop->drop_func, drop->drop_reason);
    else if (ended != NULL)
        wmem_strbuf_append_printf(line, ", delivered on %s (%s)", ended->host->name,
                                  ended->end_func);
    else
        wmem_strbuf_append_printf(line, ", not ended in the capture (last seen on %s)",
                                  last->host->name);
    return wmem_strbuf_get_str(line);
}

// The clocks' lines, NULL-terminated: "h1 -> h2: least send to receive 0.000045 s" per pair,
// "offset of h2's clock from h1's: -1.500000 s +/- 0.000045 s" per pair measured both ways.
static const pwru_clock_line *
pwru_clock_lines(wmem_allocator_t *scope)
{
    pwru_flight_clocks();
    const guint n = wmem_array_get_count(pwru_flights.clock_pairs);
    pwru_clock_line *lines = wmem_alloc0_array(scope, pwru_clock_line, 2 * n + 1);
    guint k = 0;
    for (guint i = 0; i < n; i++) {
        const pwru_clock_pair *p =
            *(const pwru_clock_pair **)wmem_array_index(pwru_flights.clock_pairs, i);
        lines[k].text = wmem_strdup_printf(scope, "%s -> %s: least send to receive %.6f s",
                                           p->from->name, p->to->name, p->min_ns / 1e9);
        lines[k].flights = p->flights;
        k++;
        const pwru_clock_pair *back = pwru_clock_pair_of(p->to, p->from);
        if (back != NULL && p->from->index < p->to->index) {
            // In whole microseconds: no "-0.000000".
            const gint64 offset_us = (p->min_ns - back->min_ns) / 2000;
            lines[k].text = wmem_strdup_printf(
                scope, "offset of %s's clock from %s's: %.6f s +/- %.6f s", p->to->name,
                p->from->name, offset_us / 1e6, (p->min_ns + back->min_ns) / 2e9);
            lines[k].flights = p->flights + back->flights;
            k++;
        }
    }
    return lines;
}

void
pwru_flight_tap_info(packet_info *pinfo, const pwru_flight_member *member, pwru_tap_info *info)
{
    info->flight_one_pass = !PINFO_FD_VISITED(pinfo);
    if (PINFO_FD_VISITED(pinfo) && pinfo->num == pwru_flights.last_frame)
        info->clock_lines = pwru_clock_lines(pinfo->pool);
    if (member == NULL || member->flight == NULL)
        return;
    pwru_flight *f = member->flight;
    const guint32 pos = pwru_flight_position(f, member);
    info->has_flight = TRUE;
    info->flight = f->index;
    info->flight_hop = f->hops[pos];
    info->flight_host = pwru_host_label(member->host);
    const pwru_flight_member *prev, *next;
    pwru_flight_links(f, pos, &prev, &next);
    if (pinfo->num == member->first_frame && prev != NULL)
        info->flight_prev = prev->last_frame;
    if (PINFO_FD_VISITED(pinfo) && pinfo->num == f->last_frame)
        info->flight_line = pwru_flight_line(pinfo->pool, f);
}

void
pwru_register_flights(int proto, module_t *prefs)
{
    static hf_register_info hf[] = {
        { &hf_pwru_flight,
          { "Flight", "pwru.flight", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Index of the packet's flight in this capture: its journeys on every host and in "
            "every skb", HFILL } },
        { &hf_pwru_flight_host,
          { "Host", "pwru.flight.host", FT_STRING, BASE_NONE, NULL, 0x0,
            "The host of this event: HOST of the interface pwru@HOST, else the interface's "
            "name and index (pwru#0)", HFILL } },
        { &hf_pwru_flight_hop,
          { "Hop", "pwru.flight.hop", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Which host along the packet's way this is, from 1 (the sender)", HFILL } },
        { &hf_pwru_flight_hosts,
          { "Hosts", "pwru.flight.hosts", FT_STRING, BASE_NONE, NULL, 0x0,
            "The hosts the packet crossed, in order: h1 > r > h2", HFILL } },
        { &hf_pwru_flight_prev,
          { "Previous event", "pwru.flight.prev", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0,
            "The flight's event before this journey: on the host before, or in the skb before",
            HFILL } },
        { &hf_pwru_flight_next,
          { "Next event", "pwru.flight.next", FT_FRAMENUM, BASE_NONE,
            FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_NEXT), 0x0,
            "The flight's event after this journey: on the next host, or in the next skb",
            HFILL } },
        { &hf_pwru_flight_dropped,
          { "Dropped on", "pwru.flight.dropped", FT_STRING, BASE_NONE, NULL, 0x0,
            "The flight ended in a drop on this host", HFILL } },
        { &hf_pwru_flight_drop_frame,
          { "Drop", "pwru.flight.drop_frame", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "The frame of the flight's drop", HFILL } },
        { &hf_pwru_flight_clock_offset,
          { "Clock offset", "pwru.flight.clock_offset", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "This host's clock minus the previous host's, from the least send-to-receive times "
            "of the capture's packets both ways (known once the whole capture was read)",
            HFILL } },
    };
    static gint *ett[] = {
        &ett_pwru_flight,
    };

    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    prefs_register_uint_preference(
        prefs, "flight_window", "Flight time window (ms)",
        "How far apart in time (milliseconds, by the frames' times) two events may be and "
        "still be linked as one packet's flight; covers the differences of hosts' clocks",
        10, &pwru_flight_window_ms);
    register_init_routine(pwru_flight_init);
}
