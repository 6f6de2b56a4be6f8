// Encodes an Event as a pwru record and decodes one back, checking every length against the input.
#include "record.h"

#include "pwru_rules.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace pwru {
namespace {

// A TLV length is a u16: longer strings and packets are cut, never wrapped.
constexpr size_t kMaxValueLen = UINT16_MAX;

using rules::TlvSpec;

// Encoder and decoder both size fixed fields from the format's one table (pwru_rules.h), so they
// cannot disagree with each other or with the dissector.
const TlvSpec* find_field(uint16_t type) { return rules::tlv_spec(type); }

// The exact size of a field this build writes.
constexpr uint16_t field_size(uint16_t type) { return rules::tlv_spec(type)->size; }

// Byte by byte into `b`, so the output is little-endian whatever the host is. Returns b + n.
uint8_t* store_le(uint8_t* b, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b + n;
}

// The most a record takes besides its strings, packet and stack frames: the header and every
// field once (variable-length ones counted by their TLV header).
constexpr size_t kRecordBound = [] {
  size_t n = PWRU_RECORD_HEADER_LEN;
  for (const TlvSpec& f : rules::kTlvSpecs) n += PWRU_TLV_HEADER_LEN + f.size;
  return n;
}();

uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// Writes TLVs through a cursor into space the caller reserved (kRecordBound plus the
// variable-length values): the encoder runs for every event of a capture, and appending byte by
// byte to a vector costs more than all the rest of it (docs/performance.md).
class TlvWriter {
 public:
  explicit TlvWriter(uint8_t* p) : p_(p) {}

  void fixed(uint16_t type, uint64_t v) {
    const uint16_t size = field_size(type);
    p_ = store_le(store_le(store_le(p_, type, 2), size, 2), v, size);
  }
  // Addresses are already in network byte order: copied, not converted.
  void address(uint16_t type, const std::array<uint8_t, 16>& addr) {
    bytes(type, addr.data(), field_size(type));
  }
  void bytes(uint16_t type, const uint8_t* p, size_t n) {
    n = std::min(n, kMaxValueLen);
    p_ = store_le(store_le(p_, type, 2), n, 2);
    if (n != 0) std::memcpy(p_, p, n);  // p may be null when n is 0
    p_ += n;
  }
  void str(uint16_t type, std::string_view s) {
    bytes(type, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  uint8_t* cursor() const { return p_; }

 private:
  uint8_t* p_;
};

std::string tlv_desc(uint16_t type) {
  std::string d = "TLV " + std::to_string(type);
  if (const TlvSpec* spec = find_field(type)) d += std::string(" (") + spec->name + ")";
  return d;
}

Error malformed(std::string cause,
                std::string hint = "the capture is damaged, or was not written by pwrudump") {
  return Error{ExitCode::Failure, "cannot decode pwru record: " + std::move(cause),
               std::move(hint)};
}

Error truncated(size_t offset, const std::string& what) {
  return malformed("record truncated at offset " + std::to_string(offset) + ": " + what);
}

std::string as_string(std::span<const uint8_t> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

// SHINFO's value, PWRU_SHINFO_LEN bytes.
SharedInfo decode_shinfo(const uint8_t* p) {
  SharedInfo s;
  s.gso_type = static_cast<uint32_t>(load_le(p + PWRU_SHINFO_GSO_TYPE, 4));
  s.tskey = static_cast<uint32_t>(load_le(p + PWRU_SHINFO_TSKEY, 4));
  s.dataref = static_cast<uint32_t>(load_le(p + PWRU_SHINFO_DATAREF, 4));
  s.gso_size = static_cast<uint16_t>(load_le(p + PWRU_SHINFO_GSO_SIZE, 2));
  s.gso_segs = static_cast<uint16_t>(load_le(p + PWRU_SHINFO_GSO_SEGS, 2));
  s.nr_frags = p[PWRU_SHINFO_NR_FRAGS];
  s.tx_flags = p[PWRU_SHINFO_TX_FLAGS];
  s.flags = p[PWRU_SHINFO_FLAGS];
  s.meta_len = p[PWRU_SHINFO_META_LEN];
  s.frag_list = load_le(p + PWRU_SHINFO_FRAG_LIST, 8);
  return s;
}

void encode_shinfo(const SharedInfo& s, uint8_t* p) {
  store_le(p + PWRU_SHINFO_GSO_TYPE, s.gso_type, 4);
  store_le(p + PWRU_SHINFO_TSKEY, s.tskey, 4);
  store_le(p + PWRU_SHINFO_DATAREF, s.dataref, 4);
  store_le(p + PWRU_SHINFO_GSO_SIZE, s.gso_size, 2);
  store_le(p + PWRU_SHINFO_GSO_SEGS, s.gso_segs, 2);
  p[PWRU_SHINFO_NR_FRAGS] = s.nr_frags;
  p[PWRU_SHINFO_TX_FLAGS] = s.tx_flags;
  p[PWRU_SHINFO_FLAGS] = s.flags;
  p[PWRU_SHINFO_META_LEN] = s.meta_len;
  store_le(p + PWRU_SHINFO_FRAG_LIST, s.frag_list, 8);
}

// The event's netfilter rule, made by its first NF_ field.
NfRule& nf(Event& ev) {
  if (!ev.nf) ev.nf.emplace();
  return *ev.nf;
}

// The event's diagnosis, made by its first DIAG_ field.
Diagnosis& diagnosis(Event& ev) {
  if (!ev.diagnosis) ev.diagnosis.emplace();
  return *ev.diagnosis;
}

// The event's tc or XDP program, made by its first BPF_ field.
BpfProg& bpf(Event& ev) {
  if (!ev.bpf) ev.bpf.emplace();
  return *ev.bpf;
}

// Stores one known, correctly sized field into `ev`. Returns the address family it implies
// (4 or 6), 0 for other fields.
int store_field(Event& ev, uint16_t type, std::span<const uint8_t> v) {
  // Every fixed field is at most 8 bytes except the IPv6 addresses, SHINFO and CB, which are
  // copied below.
  const uint64_t n = v.size() <= 8 ? load_le(v.data(), v.size()) : 0;
  switch (type) {
    case PWRU_TLV_SKB: ev.skb = n; break;
    case PWRU_TLV_FUNC: ev.func = as_string(v); break;
    case PWRU_TLV_PROBE: ev.probe = static_cast<ProbeKind>(n); break;
    case PWRU_TLV_CPU: ev.cpu = static_cast<uint32_t>(n); break;
    case PWRU_TLV_PID: ev.pid = static_cast<uint32_t>(n); break;
    case PWRU_TLV_COMM: ev.comm = as_string(v); break;
    case PWRU_TLV_NETNS: ev.netns = static_cast<uint32_t>(n); break;
    case PWRU_TLV_MARK: ev.mark = static_cast<uint32_t>(n); break;
    case PWRU_TLV_IFINDEX: ev.ifindex = static_cast<uint32_t>(n); break;
    case PWRU_TLV_IFNAME: ev.ifname = as_string(v); break;
    case PWRU_TLV_PROTO: ev.protocol = static_cast<uint16_t>(n); break;
    case PWRU_TLV_MTU: ev.mtu = static_cast<uint32_t>(n); break;
    case PWRU_TLV_LEN: ev.len = static_cast<uint32_t>(n); break;
    case PWRU_TLV_IPV4_SRC:
    case PWRU_TLV_IPV6_SRC:
      std::copy(v.begin(), v.end(), ev.saddr.begin());
      return type == PWRU_TLV_IPV4_SRC ? 4 : 6;
    case PWRU_TLV_IPV4_DST:
    case PWRU_TLV_IPV6_DST:
      std::copy(v.begin(), v.end(), ev.daddr.begin());
      return type == PWRU_TLV_IPV4_DST ? 4 : 6;
    case PWRU_TLV_SPORT:
      ev.has_ports = true;
      ev.sport = static_cast<uint16_t>(n);
      break;
    case PWRU_TLV_DPORT:
      ev.has_ports = true;
      ev.dport = static_cast<uint16_t>(n);
      break;
    case PWRU_TLV_L4PROTO: ev.l4proto = static_cast<uint8_t>(n); break;
    case PWRU_TLV_TCP_FLAGS: ev.tcp_flags = static_cast<uint8_t>(n); break;
    case PWRU_TLV_DROP_REASON: ev.drop_reason = static_cast<uint32_t>(n); break;
    case PWRU_TLV_DROP_REASON_NAME: ev.drop_reason_name = as_string(v); break;
    case PWRU_TLV_CALLER: ev.caller = as_string(v); break;
    case PWRU_TLV_CALLER_ADDR: ev.caller_addr = n; break;
    case PWRU_TLV_STACK_FRAME: ev.stack.push_back(as_string(v)); break;
    case PWRU_TLV_KTIME: ev.ktime_ns = n; break;
    case PWRU_TLV_PACKET_LAYER: ev.layer = static_cast<PacketLayer>(n); break;
    case PWRU_TLV_PACKET: ev.packet.assign(v.begin(), v.end()); break;
    case PWRU_TLV_NF_FAMILY: nf(ev).family = static_cast<uint8_t>(n); break;
    case PWRU_TLV_NF_HOOK: nf(ev).hook = as_string(v); break;
    case PWRU_TLV_NF_TABLE: nf(ev).table = as_string(v); break;
    case PWRU_TLV_NF_CHAIN: nf(ev).chain = as_string(v); break;
    case PWRU_TLV_NF_HANDLE: nf(ev).handle = n; break;
    case PWRU_TLV_NF_RULE: nf(ev).rule = as_string(v); break;
    case PWRU_TLV_NF_VERDICT: nf(ev).verdict = static_cast<int32_t>(static_cast<uint32_t>(n)); break;
    case PWRU_TLV_NF_TIE: nf(ev).tie = static_cast<NfTie>(n); break;
    case PWRU_TLV_NF_RULE_STATE: nf(ev).state = static_cast<NfRuleState>(n); break;
    case PWRU_TLV_NF_JUMP_TARGET: nf(ev).jump_target = as_string(v); break;
    case PWRU_TLV_NF_TRACE_TYPE: nf(ev).type = static_cast<NfTraceType>(n); break;
    case PWRU_TLV_NF_TRACE_LOST: ev.nf_trace_lost = static_cast<uint32_t>(n); break;
    case PWRU_TLV_NF_TRACE_ID: nf(ev).trace_id = static_cast<uint32_t>(n); break;
    case PWRU_TLV_DIAG_KIND: diagnosis(ev).kind = static_cast<uint8_t>(n); break;
    case PWRU_TLV_DIAG_TEXT: diagnosis(ev).text = as_string(v); break;
    case PWRU_TLV_META_NAME: ev.meta.push_back(SkbMeta{as_string(v), std::nullopt}); break;
    case PWRU_TLV_META_VALUE:
      // A value belongs to the name before it; one without is skipped as unknown would be.
      if (!ev.meta.empty()) ev.meta.back().value = as_string(v);
      break;
    case PWRU_TLV_SHINFO: ev.shinfo = decode_shinfo(v.data()); break;
    case PWRU_TLV_CB: ev.cb.assign(v.begin(), v.end()); break;
    case PWRU_TLV_BPF_PROG: bpf(ev).name = as_string(v); break;
    case PWRU_TLV_BPF_PROG_ID: bpf(ev).id = static_cast<uint32_t>(n); break;
    case PWRU_TLV_BPF_VERDICT: bpf(ev).verdict = static_cast<int32_t>(static_cast<uint32_t>(n)); break;
    case PWRU_TLV_BPF_HOOK: bpf(ev).hook = static_cast<uint8_t>(n); break;
    case PWRU_TLV_STACK_ID: ev.stack_id = n; break;
    case PWRU_TLV_STACK_KEPT: ev.stack_kept = static_cast<uint8_t>(n); break;
    default: break;  // unreachable: the caller only passes types find_field() knows
  }
  return 0;
}

}  // namespace

void encode_record(const Event& ev, std::vector<uint8_t>& out) {
  auto cut = [](size_t n) { return std::min(n, kMaxValueLen); };
  size_t bound = kRecordBound + cut(ev.func.size()) + cut(ev.comm.size()) +
                 cut(ev.ifname.size()) + cut(ev.drop_reason_name.size()) + cut(ev.caller.size()) +
                 cut(ev.packet.size());
  for (const std::string& frame : ev.stack) bound += PWRU_TLV_HEADER_LEN + cut(frame.size());
  if (ev.nf) {
    bound += cut(ev.nf->hook.size()) + cut(ev.nf->table.size()) + cut(ev.nf->chain.size()) +
             cut(ev.nf->rule.size()) + cut(ev.nf->jump_target.size());
  }
  if (ev.diagnosis) bound += cut(ev.diagnosis->text.size());
  for (const SkbMeta& m : ev.meta) {
    bound += 2 * PWRU_TLV_HEADER_LEN + cut(m.name.size()) + (m.value ? cut(m.value->size()) : 0);
  }
  if (ev.bpf) bound += cut(ev.bpf->name.size());
  const size_t at = out.size();
  out.resize(at + bound);
  uint8_t* start = out.data() + at;

  store_le(store_le(start, PWRU_RECORD_VERSION, 2), PWRU_RECORD_HEADER_LEN, 2);
  TlvWriter w(start + PWRU_RECORD_HEADER_LEN);
  w.fixed(PWRU_TLV_SKB, ev.skb);
  w.str(PWRU_TLV_FUNC, ev.func);
  w.fixed(PWRU_TLV_PROBE, static_cast<uint8_t>(ev.probe));
  w.fixed(PWRU_TLV_CPU, ev.cpu);
  w.fixed(PWRU_TLV_PID, ev.pid);
  w.str(PWRU_TLV_COMM, ev.comm);
  w.fixed(PWRU_TLV_NETNS, ev.netns);
  w.fixed(PWRU_TLV_MARK, ev.mark);
  if (ev.ifindex != 0) {
    w.fixed(PWRU_TLV_IFINDEX, ev.ifindex);
    w.str(PWRU_TLV_IFNAME, ev.ifname);
    w.fixed(PWRU_TLV_MTU, ev.mtu);
  }
  w.fixed(PWRU_TLV_PROTO, ev.protocol);
  w.fixed(PWRU_TLV_LEN, ev.len);
  if (ev.ip_version == 4 || ev.ip_version == 6) {
    const bool v4 = ev.ip_version == 4;
    w.address(v4 ? PWRU_TLV_IPV4_SRC : PWRU_TLV_IPV6_SRC, ev.saddr);
    w.address(v4 ? PWRU_TLV_IPV4_DST : PWRU_TLV_IPV6_DST, ev.daddr);
    w.fixed(PWRU_TLV_L4PROTO, ev.l4proto);
  }
  if (ev.has_ports) {
    w.fixed(PWRU_TLV_SPORT, ev.sport);
    w.fixed(PWRU_TLV_DPORT, ev.dport);
  }
  if (ev.tcp_flags) w.fixed(PWRU_TLV_TCP_FLAGS, *ev.tcp_flags);
  if (ev.drop_reason) {
    w.fixed(PWRU_TLV_DROP_REASON, *ev.drop_reason);
    if (!ev.drop_reason_name.empty()) w.str(PWRU_TLV_DROP_REASON_NAME, ev.drop_reason_name);
  }
  if (ev.caller_addr != 0) w.fixed(PWRU_TLV_CALLER_ADDR, ev.caller_addr);
  if (!ev.caller.empty()) w.str(PWRU_TLV_CALLER, ev.caller);
  for (const std::string& frame : ev.stack) w.str(PWRU_TLV_STACK_FRAME, frame);
  w.fixed(PWRU_TLV_KTIME, ev.ktime_ns);
  if (ev.layer != PacketLayer::None) {
    w.fixed(PWRU_TLV_PACKET_LAYER, static_cast<uint8_t>(ev.layer));
    w.bytes(PWRU_TLV_PACKET, ev.packet.data(), ev.packet.size());
  }
  if (ev.nf) {
    const NfRule& nf = *ev.nf;
    w.fixed(PWRU_TLV_NF_FAMILY, nf.family);
    if (!nf.hook.empty()) w.str(PWRU_TLV_NF_HOOK, nf.hook);
    w.str(PWRU_TLV_NF_TABLE, nf.table);
    w.str(PWRU_TLV_NF_CHAIN, nf.chain);
    if (nf.handle) w.fixed(PWRU_TLV_NF_HANDLE, *nf.handle);
    if (!nf.rule.empty()) w.str(PWRU_TLV_NF_RULE, nf.rule);
    w.fixed(PWRU_TLV_NF_VERDICT, static_cast<uint32_t>(nf.verdict));
    w.fixed(PWRU_TLV_NF_TIE, static_cast<uint8_t>(nf.tie));
    if (nf.state != NfRuleState::Current) {
      w.fixed(PWRU_TLV_NF_RULE_STATE, static_cast<uint8_t>(nf.state));
    }
    if (!nf.jump_target.empty()) w.str(PWRU_TLV_NF_JUMP_TARGET, nf.jump_target);
    if (nf.type != NfTraceType::Unknown) {
      w.fixed(PWRU_TLV_NF_TRACE_TYPE, static_cast<uint8_t>(nf.type));
    }
    if (nf.trace_id) w.fixed(PWRU_TLV_NF_TRACE_ID, *nf.trace_id);
  }
  if (ev.nf_trace_lost) w.fixed(PWRU_TLV_NF_TRACE_LOST, *ev.nf_trace_lost);
  if (ev.diagnosis) {
    w.fixed(PWRU_TLV_DIAG_KIND, ev.diagnosis->kind);
    w.str(PWRU_TLV_DIAG_TEXT, ev.diagnosis->text);
  }
  for (const SkbMeta& m : ev.meta) {
    w.str(PWRU_TLV_META_NAME, m.name);
    if (m.value) w.str(PWRU_TLV_META_VALUE, *m.value);
  }
  if (ev.shinfo) {
    uint8_t shinfo[PWRU_SHINFO_LEN];
    encode_shinfo(*ev.shinfo, shinfo);
    w.bytes(PWRU_TLV_SHINFO, shinfo, sizeof shinfo);
  }
  // Exactly CB's size, as the format wants it: an Event's cb is skb->cb or empty.
  if (ev.cb.size() == PWRU_CB_LEN) w.bytes(PWRU_TLV_CB, ev.cb.data(), ev.cb.size());
  if (ev.bpf) {
    w.str(PWRU_TLV_BPF_PROG, ev.bpf->name);
    w.fixed(PWRU_TLV_BPF_PROG_ID, ev.bpf->id);
    // The hook before the verdict: a reader names the verdict by it.
    w.fixed(PWRU_TLV_BPF_HOOK, ev.bpf->hook);
    if (ev.bpf->verdict) w.fixed(PWRU_TLV_BPF_VERDICT, static_cast<uint32_t>(*ev.bpf->verdict));
  }
  if (ev.stack_id) {
    w.fixed(PWRU_TLV_STACK_ID, *ev.stack_id);
    if (ev.stack_kept != 0) w.fixed(PWRU_TLV_STACK_KEPT, ev.stack_kept);
  }
  out.resize(at + static_cast<size_t>(w.cursor() - start));
}

Result<Event> decode_record(std::span<const uint8_t> data, size_t* unknown_fields) {
  size_t unknown = 0;
  if (unknown_fields != nullptr) *unknown_fields = 0;

  if (data.size() < PWRU_RECORD_HEADER_LEN) {
    return truncated(0, "the header needs " + std::to_string(PWRU_RECORD_HEADER_LEN) + " bytes, " +
                            std::to_string(data.size()) + " remain");
  }
  const auto version = static_cast<uint16_t>(load_le(data.data(), 2));
  const auto header_len = static_cast<uint16_t>(load_le(data.data() + 2, 2));
  if (version != PWRU_RECORD_VERSION) {
    return malformed("unsupported record version " + std::to_string(version) +
                         " (this build reads version " + std::to_string(PWRU_RECORD_VERSION) + ")",
                     "the capture was written by another pwrudump release: read it with the "
                     "matching pwrudump and pwru dissector");
  }
  if (header_len < PWRU_RECORD_HEADER_LEN) {
    return malformed("header_len " + std::to_string(header_len) + " is shorter than the " +
                     std::to_string(PWRU_RECORD_HEADER_LEN) + "-byte header");
  }
  if (header_len > data.size()) {
    return truncated(2, "header_len declares " + std::to_string(header_len) + " bytes, " +
                            std::to_string(data.size()) + " in the record");
  }

  Event ev;
  int family = 0;
  // A newer writer may grow the header: what lies past the 4 bytes we know is skipped.
  size_t off = header_len;
  while (off < data.size()) {
    const size_t remain = data.size() - off;
    if (remain < PWRU_TLV_HEADER_LEN) {
      return truncated(off, "a TLV header needs " + std::to_string(PWRU_TLV_HEADER_LEN) +
                                " bytes, " + std::to_string(remain) + " remain");
    }
    const auto type = static_cast<uint16_t>(load_le(data.data() + off, 2));
    const auto len = static_cast<uint16_t>(load_le(data.data() + off + 2, 2));
    if (len > remain - PWRU_TLV_HEADER_LEN) {
      return truncated(off, tlv_desc(type) + " declares " + std::to_string(len) + " bytes, " +
                                std::to_string(remain - PWRU_TLV_HEADER_LEN) + " remain");
    }
    const std::span<const uint8_t> value = data.subspan(off + PWRU_TLV_HEADER_LEN, len);
    const TlvSpec* spec = find_field(type);
    if (spec == nullptr) {
      ++unknown;
    } else {
      if (spec->size != 0 && len != spec->size) {
        return malformed(tlv_desc(type) + " at offset " + std::to_string(off) + " has " +
                         std::to_string(len) + " bytes, expected " + std::to_string(spec->size));
      }
      if (const int f = store_field(ev, type, value); f != 0) {
        if (family != 0 && family != f) {
          return malformed(tlv_desc(type) + " at offset " + std::to_string(off) +
                           " mixes IPv4 and IPv6 addresses in one record");
        }
        family = f;
      }
    }
    off += PWRU_TLV_HEADER_LEN + len;
  }
  ev.ip_version = static_cast<uint8_t>(family);
  if (unknown_fields != nullptr) *unknown_fields = unknown;
  return ev;
}

}  // namespace pwru
