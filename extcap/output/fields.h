// The pieces of one event as pwru prints them, and the flags that choose them: shared by the text
// and JSON sinks so both say the same thing the same way.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pwru_changes.h"
#include "record/event.h"

namespace pwru {

// pwru's --timestamp: none; current (the kernel's monotonic ns, bpf_ktime_get_ns); relative (ns
// since the previous event of the same skb, 0 for its first); absolute (current, plus a TIME
// column first with the wall clock, local time).
enum class TimestampMode { None, Current, Relative, Absolute };

std::optional<TimestampMode> parse_timestamp_mode(std::string_view name);
const char* timestamp_mode_name(TimestampMode mode);

// What --output-* and --timestamp ask for. The defaults are pwru's: meta and tuple have been on
// by default since cilium/pwru#423 (flags in internal/pwru/types.go), so a bare `pwrudump`
// prints `SKB CPU PROCESS NETNS MARK/x IFACE PROTO MTU LEN TUPLE FUNC` as a bare `pwru` does.
struct OutputOptions {
  bool json = false;         // --output-json: one JSON object per line instead of text
  bool meta = true;          // --output-meta: NETNS MARK/x IFACE PROTO MTU LEN
  bool tuple = true;         // --output-tuple: saddr:sport->daddr:dport(proto)
  bool caller = false;       // --output-caller: a CALLER column (drops show theirs regardless)
  bool stack = false;        // --output-stack: the stack, one frame a line, after the event
  bool tcp_flags = false;    // --output-tcp-flags: (tcp:SYN|ACK) in the tuple
  bool skb = false;          // --output-skb: the skb's fields and bytes after the event
  bool netns_names = false;  // --output-netns-names: names from `ip netns` (/run/netns)
  bool hints = true;         // --output-hints: what a drop reason means (pwru_reasons.h)
  bool summary = false;      // --output-summary: a line per dropped journey when it stops
  bool changes = false;      // --output-changes: what changed since the previous hop
  bool tunnel = false;       // --output-tunnel: the tuple inside a tunnel (pwru's tunnel_tuple)
  TimestampMode timestamp = TimestampMode::None;
  std::string netns_dir = "/run/netns";  // where --output-netns-names looks; tests change it
};

// `comm:pid`, `<empty>:pid` without a comm; longer than 16, pwru keeps the last 16 with '~' first.
std::string process_field(const Event& ev);

// `name:ifindex`; pwru's bare ifindex when the name is unknown (`0`: no device). Cut like PROCESS.
std::string iface_field(const Event& ev);

// Dotted IPv4, bracketed IPv6 (`[fd00::1]`), empty without an IP tuple.
std::string address_field(const Event& ev, const std::array<uint8_t, 16>& addr);

// pwru's names (tcp udp icmp icmp6), a few more, else the number.
std::string l4_proto_name(uint8_t proto);

// The TCP flag names set in `flags`, FIN first, joined by '|' (pwru's order): "SYN|ACK".
std::string tcp_flags_field(uint8_t flags);

// `saddr:sport->daddr:dport(proto)`, `(tcp:SYN|ACK)` with `tcp_flags` when the packet has any.
// Without an IP tuple pwru's empty form `:0->:0()`.
std::string tuple_field(const Event& ev, bool tcp_flags);

// The packet inside the tunnel (VXLAN, Geneve, GRE) whose outer header starts the event's packet
// bytes; version 0 when they hold none. pwru reads its tunnel_tuple from the skb's inner network
// header, which only the sender's side of a tunnel sets; the bytes show it on the receiver too.
changes::IpHeader tunnel_inner(const Event& ev);

// --output-tunnel: pwru's tunnel_tuple in tuple_field's form (TCP flags with `tcp_flags`),
// `:0->:0()` without a tunnel.
std::string tunnel_tuple_field(const Event& ev, bool tcp_flags);

// One address of an IP header as address_field writes it.
std::string ip_address_field(const changes::IpHeader& ip, bool source);

// A drop, by the rule the dissector's `pwru.drop` uses (rules::is_drop in pwru_rules.h).
bool is_drop(const Event& ev);

// The kernel's enum name of the drop reason as pwru prints it (`SKB_DROP_REASON_NETFILTER_DROP`),
// the number when BTF did not name it; empty without a reason.
std::string drop_reason_enum_name(const Event& ev);

// What the drop reason means and what to check (pwru_reasons.h), derived from its name when
// shown, so old captures get it too: "MEANING; check: CHECK", "no explanation is known yet" for
// a reason newer than the table; empty without a reason.
std::string drop_reason_help(const Event& ev);

// A diagnosis's kind as text and JSON name it ("no_listener", pwru_diag.h); "kind_N" for a kind
// this build does not know.
std::string diagnosis_kind_name(const Diagnosis& d);

// A tc or XDP program's verdict as pwru_bpf.h names it (TC_ACT_SHOT, XDP_DROP), the number when
// it has no name; empty on an entry.
std::string bpf_verdict_field(const BpfProg& prog);

// The FUNC column: the function, and for an event with a drop reason pwru's
// `kfree_skb_reason(SKB_DROP_REASON_...)` form.
std::string func_field(const Event& ev);

// `sym+0xoff`, the bare address when it has no symbol, empty when unknown.
std::string caller_field(const Event& ev);

// A trace id as `nft monitor trace` prints it: 8 hex digits.
std::string nf_trace_id_text(uint32_t id);

// --nf-trace's rule on a drop line or a rule-passed line: `trace_id=edf8692e family=inet
// hook=input table=t chain=c2 handle=4 verdict=drop rule="tcp dport 4444 drop"` (a jump adds
// `target=c2`, a rule deleted or replaced since `state=deleted|changed`), the rule last; unknown
// parts are left out.
std::string nf_rule_field(const NfRule& nf);

// The wall-clock time of the event in local time, pwru's `2006-01-02T15:04:05.000`.
std::string absolute_time_field(uint64_t time_ns);

// --output-skb: what the event knows of the skb, one `  field: value` a line, then the captured
// bytes as a hex dump. No trailing newline.
std::string skb_dump(const Event& ev);

// --output-skb-metadata as pwru prints it after FUNC: ` hash=3423 ifindex=11`, each field by the
// last member of its expression (with its index: `cb[0]`); `(none)` where it was not readable (a
// null pointer on the way). Empty without values.
std::string skb_meta_field(const Event& ev);
// The label of an expression in skb_meta_field: `ifindex` of skb->dev->ifindex.
std::string skb_meta_label(const std::string& expr);

// --output-skb-shared-info: `nr_frags=1 gso_size=1448 gso_segs=3 gso_type=0x1 tx_flags=0x0
// flags=0x0 meta_len=0 dataref=1 tskey=0 frag_list=0x0`.
std::string shinfo_field(const SharedInfo& s);

// --output-skb-cb: skb->cb as pwru prints a control buffer, native-endian 32-bit words in hex:
// `[0x00000000,0x0000002A,...]`.
std::string cb_field(const std::vector<uint8_t>& cb);
// skb->cb's 32-bit words, native byte order as the kernel stored them.
std::vector<uint32_t> cb_words(const std::vector<uint8_t>& cb);

// pwru's --timestamp relative: ns since the previous event of the same skb address, 0 for the
// first. An event stamped before the previous one (another CPU) gives 0, never a wrapped value.
class SkbClock {
 public:
  uint64_t relative_ns(const Event& ev);

 private:
  std::unordered_map<uint64_t, uint64_t> last_seen_;  // skb address -> ktime of its last event
};

// The number --timestamp puts in the TIMESTAMP column (and JSON "time" unless absolute).
uint64_t timestamp_value(TimestampMode mode, const Event& ev, SkbClock& clock);

}  // namespace pwru
