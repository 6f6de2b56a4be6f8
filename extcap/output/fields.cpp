// Renders the fields of an Event the way pwru prints them (internal/pwru/output.go).
#include "output/fields.h"
#include "pwru_bpf.h"

#include "pwru_changes.h"
#include "pwru_diag.h"
#include "pwru_names.h"
#include "pwru_reasons.h"
#include "pwru_record.h"
#include "pwru_rules.h"
#include "pwru_summary_line.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace pwru {

namespace {

constexpr size_t kCutWidth = 16;  // pwru's PROCESS and IFACE width

// pwru keeps the end of a long name (the pid, the ifindex) and marks the cut with '~'.
std::string cut_left(std::string s) {
  if (s.size() <= kCutWidth) return s;
  s.erase(0, s.size() - kCutWidth);
  s[0] = '~';
  return s;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

const char* ethertype_name(uint16_t type) {
  switch (type) {
    case 0x0800: return "IPv4";
    case 0x0806: return "ARP";
    case 0x86dd: return "IPv6";
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1ad";
    case 0x8847: return "MPLS";
    default: return nullptr;
  }
}

const char* layer_name(PacketLayer layer) {
  switch (layer) {
    case PacketLayer::Ethernet: return "the Ethernet header";
    case PacketLayer::Network: return "the network header";
    case PacketLayer::None: break;
  }
  return "an unknown header";
}

// `0000  45 00 00 54 ...  E..T...`, 16 bytes a line, as hexdump -C.
void append_hex_dump(std::string& out, const std::vector<uint8_t>& bytes) {
  for (size_t off = 0; off < bytes.size(); off += 16) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04zx", off);
    out += "\n    ";
    out += buf;
    out += ' ';
    std::string ascii;
    for (size_t i = off; i < off + 16; ++i) {
      if (i == off + 8) out += ' ';
      if (i < bytes.size()) {
        std::snprintf(buf, sizeof buf, " %02x", bytes[i]);
        out += buf;
        ascii += (bytes[i] >= 0x20 && bytes[i] < 0x7f) ? static_cast<char>(bytes[i]) : '.';
      } else {
        out += "   ";
      }
    }
    out += "  ";
    out += ascii;
  }
}

}  // namespace

std::optional<TimestampMode> parse_timestamp_mode(std::string_view name) {
  if (name == "none") return TimestampMode::None;
  if (name == "current") return TimestampMode::Current;
  if (name == "relative") return TimestampMode::Relative;
  if (name == "absolute") return TimestampMode::Absolute;
  return std::nullopt;
}

const char* timestamp_mode_name(TimestampMode mode) {
  switch (mode) {
    case TimestampMode::None: return "none";
    case TimestampMode::Current: return "current";
    case TimestampMode::Relative: return "relative";
    case TimestampMode::Absolute: return "absolute";
  }
  return "none";
}

std::string process_field(const Event& ev) {
  return cut_left((ev.comm.empty() ? std::string("<empty>") : ev.comm) + ":" +
                  std::to_string(ev.pid));
}

std::string iface_field(const Event& ev) {
  if (ev.ifname.empty()) return std::to_string(ev.ifindex);
  return cut_left(ev.ifname + ":" + std::to_string(ev.ifindex));
}

namespace {

std::string address_text(uint8_t ip_version, const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ip_version == 4) {
    inet_ntop(AF_INET, addr, buf, sizeof buf);
    return buf;
  }
  if (ip_version == 6) {
    inet_ntop(AF_INET6, addr, buf, sizeof buf);
    return std::string("[") + buf + "]";
  }
  return {};
}

// pwru's getTuple: protocols without ports show port 0.
std::string tuple_text(uint8_t ip_version, const uint8_t* saddr, const uint8_t* daddr,
                       uint16_t sport, uint16_t dport, const std::string& l4) {
  return address_text(ip_version, saddr) + ":" + std::to_string(sport) + "->" +
         address_text(ip_version, daddr) + ":" + std::to_string(dport) + "(" + l4 + ")";
}

}  // namespace

std::string address_field(const Event& ev, const std::array<uint8_t, 16>& addr) {
  return address_text(ev.ip_version, addr.data());
}

std::string l4_proto_name(uint8_t proto) {
  // pwru prints "" for a protocol it has no name for; a number says more.
  const char* name = names::l4_proto_name(proto);
  return name != nullptr ? name : std::to_string(proto);
}

std::string tcp_flags_field(uint8_t flags) {
  static const char* const kNames[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
  std::string out;
  for (int bit = 0; bit < 8; ++bit) {
    if ((flags & (1u << bit)) == 0) continue;
    if (!out.empty()) out += '|';
    out += kNames[bit];
  }
  return out;
}

std::string tuple_field(const Event& ev, bool tcp_flags) {
  if (ev.ip_version != 4 && ev.ip_version != 6) return ":0->:0()";
  // Like pwru, protocols without ports show port 0.
  const uint16_t sport = ev.has_ports ? ev.sport : 0;
  const uint16_t dport = ev.has_ports ? ev.dport : 0;
  std::string l4 = l4_proto_name(ev.l4proto);
  if (tcp_flags && ev.l4proto == 6 && ev.tcp_flags && *ev.tcp_flags != 0) {
    l4 += ":" + tcp_flags_field(*ev.tcp_flags);
  }
  return tuple_text(ev.ip_version, ev.saddr.data(), ev.daddr.data(), sport, dport, l4);
}

changes::IpHeader tunnel_inner(const Event& ev) {
  const changes::Headers h =
      changes::parse_packet(ev.packet.data(), ev.packet.size(), static_cast<unsigned>(ev.layer));
  return h.encap != changes::Encap::None ? h.inner : changes::IpHeader{};
}

std::string tunnel_tuple_field(const Event& ev, bool tcp_flags) {
  const changes::IpHeader inner = tunnel_inner(ev);
  if (inner.version != 4 && inner.version != 6) return ":0->:0()";
  std::string l4 = l4_proto_name(inner.l4proto);
  if (tcp_flags && inner.has_tcp_flags && inner.tcp_flags != 0) {
    l4 += ":" + tcp_flags_field(inner.tcp_flags);
  }
  return tuple_text(inner.version, inner.saddr, inner.daddr, inner.has_ports ? inner.sport : 0,
                    inner.has_ports ? inner.dport : 0, l4);
}

std::string ip_address_field(const changes::IpHeader& ip, bool source) {
  return address_text(ip.version, source ? ip.saddr : ip.daddr);
}

bool is_drop(const Event& ev) {
  const bool verdict = ev.bpf && ev.bpf->verdict;
  return rules::is_drop(ev.drop_reason.has_value(), ev.drop_reason_name, ev.func, true,
                        verdict ? ev.bpf->hook : 0, verdict ? *ev.bpf->verdict : 0);
}

std::string bpf_verdict_field(const BpfProg& prog) {
  if (!prog.verdict) return {};
  const char* name = bpf::verdict_name(prog.hook, *prog.verdict);
  return name ? name : std::to_string(*prog.verdict);
}

std::string drop_reason_enum_name(const Event& ev) {
  if (!ev.drop_reason) return {};
  if (ev.drop_reason_name.empty()) return std::to_string(*ev.drop_reason);
  // The BTF names lost their SKB_DROP_REASON_ prefix (btf.cpp); SKB_CONSUMED and
  // SKB_NOT_DROPPED_YET never had it.
  if (ev.drop_reason_name.starts_with("SKB_")) return ev.drop_reason_name;
  return "SKB_DROP_REASON_" + ev.drop_reason_name;
}

std::string diagnosis_kind_name(const Diagnosis& d) {
  const diag::DiagKindInfo* info = diag::diag_kind_info(d.kind);
  return info != nullptr ? std::string(info->name) : "kind_" + std::to_string(d.kind);
}

std::string drop_reason_help(const Event& ev) {
  if (!ev.drop_reason) return {};
  // A value BTF did not name is recorded as its number alone, or as pwrudump's `reason_N`.
  const std::string name = ev.drop_reason_name.empty()
                               ? "reason_" + std::to_string(*ev.drop_reason)
                               : ev.drop_reason_name;
  const reasons::ReasonHelp* help = reasons::reason_help(name);
  if (help == nullptr) return reasons::kUnknownReasonMeaning;
  std::string out = help->meaning;
  if (help->check != nullptr) out += std::string(reasons::kCheckSeparator) + help->check;
  return out;
}

std::string func_field(const Event& ev) {
  if (!ev.drop_reason) return ev.func;
  // pwru writes an unnamed reason as "func (N)"; without the space the column stays one word.
  return ev.func + "(" + drop_reason_enum_name(ev) + ")";
}

std::string caller_field(const Event& ev) {
  if (!ev.caller.empty()) return ev.caller;
  if (ev.caller_addr != 0) return hex(ev.caller_addr);
  return {};
}

std::string nf_trace_id_text(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

std::string nf_rule_field(const NfRule& nf) {
  std::string out;
  if (nf.trace_id) out = "trace_id=" + nf_trace_id_text(*nf.trace_id) + " ";
  out += "family=" + nf_family_name(nf.family);
  if (!nf.hook.empty()) out += " hook=" + nf.hook;
  out += " table=" + nf.table + " chain=" + nf.chain;
  if (nf.handle) out += " handle=" + std::to_string(*nf.handle);
  out += " verdict=" + nf_verdict_name(nf.verdict);
  if (!nf.jump_target.empty()) out += " target=" + nf.jump_target;
  // The text below is the one the rule had when traced.
  if (nf.state != NfRuleState::Current) out += std::string(" state=") + nf_rule_state_name(nf.state);
  if (!nf.rule.empty()) {
    // Quoted as a whole: a rule has spaces, and may hold quotes of its own (comment "...").
    out += " rule=\"";
    for (char c : nf.rule) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::string absolute_time_field(uint64_t time_ns) {
  const time_t secs = static_cast<time_t>(time_ns / 1'000'000'000u);
  const unsigned millis = static_cast<unsigned>((time_ns / 1'000'000u) % 1000u);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03u", millis);
  return buf;
}

std::string skb_dump(const Event& ev) {
  std::string out = "  skb:      " + hex(ev.skb);
  out += "\n  probe:    " + std::string(probe_kind_name(ev.probe)) + " " + ev.func;
  out += "\n  len:      " + std::to_string(ev.len);
  char proto[16];
  std::snprintf(proto, sizeof proto, "0x%04x", ev.protocol);
  out += "\n  protocol: " + std::string(proto);
  if (const char* name = ethertype_name(ev.protocol)) out += std::string(" (") + name + ")";
  out += "\n  mark:     " + hex(ev.mark);
  if (ev.ifindex == 0 && ev.ifname.empty()) {
    out += "\n  dev:      none";
  } else {
    out += "\n  dev:      " + (ev.ifname.empty() ? std::string("?") : ev.ifname) +
           " (ifindex " + std::to_string(ev.ifindex) + ", mtu " + std::to_string(ev.mtu) + ")";
  }
  out += "\n  netns:    " + std::to_string(ev.netns);
  if (ev.ip_version == 4 || ev.ip_version == 6) {
    out += "\n  ip:       " + address_field(ev, ev.saddr) + " -> " + address_field(ev, ev.daddr) +
           " " + l4_proto_name(ev.l4proto);
    if (ev.has_ports) {
      out += " ports " + std::to_string(ev.sport) + " -> " + std::to_string(ev.dport);
    }
    if (ev.tcp_flags) out += " flags " + tcp_flags_field(*ev.tcp_flags);
  }
  if (ev.drop_reason) out += "\n  reason:   " + drop_reason_enum_name(ev);
  if (const std::string caller = caller_field(ev); !caller.empty()) {
    out += "\n  caller:   " + caller;
  }
  out += "\n  data:     " + std::to_string(ev.packet.size()) + " bytes captured";
  if (!ev.packet.empty()) {
    out += std::string(" from ") + layer_name(ev.layer);
    append_hex_dump(out, ev.packet);
  }
  return out;
}

uint64_t SkbClock::relative_ns(const Event& ev) {
  auto [it, first] = last_seen_.try_emplace(ev.skb, ev.ktime_ns);
  if (first) return 0;
  const uint64_t last = it->second;
  it->second = ev.ktime_ns;
  return ev.ktime_ns >= last ? ev.ktime_ns - last : 0;
}

uint64_t timestamp_value(TimestampMode mode, const Event& ev, SkbClock& clock) {
  switch (mode) {
    case TimestampMode::None: return 0;
    case TimestampMode::Relative: return clock.relative_ns(ev);
    case TimestampMode::Current:
    case TimestampMode::Absolute: return ev.ktime_ns;
  }
  return 0;
}

std::string skb_meta_label(const std::string& expr) {
  const size_t arrow = expr.rfind("->");
  const size_t dot = expr.rfind('.');
  size_t from = 0;
  if (arrow != std::string::npos) from = arrow + 2;
  if (dot != std::string::npos && (arrow == std::string::npos || dot > arrow)) from = dot + 1;
  return expr.substr(from);
}

std::string skb_meta_field(const Event& ev) {
  std::string out;
  for (const SkbMeta& m : ev.meta) {
    out += ' ' + skb_meta_label(m.name) + '=' + (m.value ? *m.value : std::string("(none)"));
  }
  return out;
}

std::string shinfo_field(const SharedInfo& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "nr_frags=%u gso_size=%u gso_segs=%u gso_type=0x%x tx_flags=0x%x flags=0x%x "
                "meta_len=%u dataref=%u tskey=%u frag_list=0x%" PRIx64,
                s.nr_frags, s.gso_size, s.gso_segs, s.gso_type, s.tx_flags, s.flags, s.meta_len,
                s.dataref, s.tskey, s.frag_list);
  return buf;
}

std::vector<uint32_t> cb_words(const std::vector<uint8_t>& cb) {
  std::vector<uint32_t> words(cb.size() / 4);
  if (!words.empty()) std::memcpy(words.data(), cb.data(), words.size() * 4);
  return words;
}

std::string cb_field(const std::vector<uint8_t>& cb) {
  std::string out = "[";
  for (uint32_t w : cb_words(cb)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", w);
    out += (out.size() > 1 ? "," : "") + std::string(buf);
  }
  return out + "]";
}

}  // namespace pwru
