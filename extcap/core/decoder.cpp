// EventDecoder: a ring buffer record to an Event, with names from the probe table, BTF and kallsyms.
#include "core/decoder.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "pwru_event.h"

static_assert(PWRU_CB_BYTES == PWRU_CB_LEN, "the record keeps skb->cb whole");

namespace pwru {
namespace {

std::string hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr uint8_t kNfprotoInet = 1, kNfprotoIpv4 = 2, kNfprotoArp = 3, kNfprotoNetdev = 5,
                  kNfprotoBridge = 7, kNfprotoIpv6 = 10;

// A hook number as nft names it for a table of `family`; the number when it has no name.
std::string nf_hook_name(uint8_t family, uint8_t hook) {
  static const char* const kInet[] = {"prerouting", "input", "forward", "output", "postrouting",
                                      "ingress"};
  static const char* const kArp[] = {"input", "output", "forward"};
  static const char* const kNetdev[] = {"ingress", "egress"};
  auto pick = [hook](const auto& names) -> std::string {
    return hook < std::size(names) ? names[hook] : std::to_string(hook);
  };
  switch (family) {
    case kNfprotoArp: return pick(kArp);
    case kNfprotoNetdev: return pick(kNetdev);
    case kNfprotoInet: case kNfprotoIpv4: case kNfprotoIpv6: case kNfprotoBridge:
      return pick(kInet);
    default: return std::to_string(hook);
  }
}

// iptables' built-in chain of a hook: ipt_do_table sees no other.
std::string ipt_chain_name(uint8_t hook) {
  static const char* const kChains[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  return hook < std::size(kChains) ? kChains[hook] : std::to_string(hook);
}

std::string name_field(const char (&name)[PWRU_NF_NAME_LEN]) {
  return std::string(name, strnlen(name, sizeof(name)));
}

// What a netfilter probe saw (bpf/nf.bpf.h), as the rule --nf-trace would name, without a handle
// or rule text: the chain's probes see neither.
NfRule nf_from_probe(const pwru_nf& raw) {
  NfRule nf;
  nf.family = raw.family;
  nf.hook = nf_hook_name(raw.family, raw.hook);
  nf.table = name_field(raw.table);
  nf.chain = raw.source == PWRU_NF_IPT ? ipt_chain_name(raw.hook) : name_field(raw.chain);
  nf.verdict = raw.verdict;
  nf.tie = NfTie::Kernel;
  return nf;
}

}  // namespace

bool EventDecoder::decode(const void* data, size_t size, Event& ev) {
  if (size < sizeof(pwru_event)) {
    malformed_++;
    return false;
  }
  const auto& raw = *static_cast<const pwru_event*>(data);
  const size_t nf_bytes = (raw.flags & PWRU_EV_HAS_NF) ? sizeof(pwru_nf) : 0;
  // The sections of flags2, in the order of their bits.
  const size_t meta_bytes = (raw.flags2 & PWRU_EV2_HAS_META) ? sizeof(pwru_meta) : 0;
  const size_t shinfo_bytes = (raw.flags2 & PWRU_EV2_HAS_SHINFO) ? sizeof(pwru_shinfo) : 0;
  const size_t cb_bytes = (raw.flags2 & PWRU_EV2_HAS_CB) ? PWRU_CB_BYTES : 0;
  const size_t bpf_bytes = (raw.flags2 & PWRU_EV2_HAS_BPF) ? sizeof(pwru_bpf) : 0;
  const size_t sid_bytes = (raw.flags2 & PWRU_EV2_HAS_STACKID) ? sizeof(pwru_stackid) : 0;
  const size_t skb_sections = meta_bytes + shinfo_bytes + cb_bytes;
  const size_t sections = nf_bytes + skb_sections + bpf_bytes + sid_bytes;
  if (sizeof(pwru_event) + stack_bytes_ + sections + raw.cap_len > size) {
    malformed_++;
    return false;
  }
  ev.ktime_ns = raw.ktime_ns;
  ev.time_ns = raw.ktime_ns + mono_to_real_;
  ev.skb = raw.skb;
  if (raw.probe_id < probes_.size()) {
    ev.func = probes_[raw.probe_id].name;
    ev.probe = probes_[raw.probe_id].kind;
  } else {
    // Never from the programs we load: every one gets an id from the table. Named and counted
    // rather than shown with the previous event's kind.
    ev.func = "probe#" + std::to_string(raw.probe_id);
    ev.probe = ProbeKind::Unknown;
    unknown_probes_++;
  }
  // One kprobe program serves many functions: the address inside it names it.
  if ((raw.flags & PWRU_EV_HAS_FUNC_IP) && ksyms_) {
    const std::string& fn = ksyms_->function_at(raw.func_ip);
    if (!fn.empty()) ev.func = fn;
  }
  if (ev.func.empty()) ev.func = "0x" + hex(raw.func_ip);
  ev.cpu = raw.cpu;
  ev.pid = raw.pid;
  ev.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
  ev.netns = raw.netns;
  ev.mark = raw.mark;
  bool dev = raw.flags & PWRU_EV_HAS_DEV;
  ev.ifindex = dev ? raw.ifindex : 0;
  ev.ifname.assign(raw.ifname, dev ? strnlen(raw.ifname, sizeof(raw.ifname)) : 0);
  ev.mtu = dev ? raw.mtu : 0;
  ev.protocol = raw.protocol;
  ev.len = raw.len;
  ev.skb_hash = raw.skb_hash;
  ev.skb_iif = raw.skb_iif;

  ev.ip_version = (raw.flags & PWRU_EV_HAS_TUPLE) ? raw.ip_version : 0;
  std::memcpy(ev.saddr.data(), raw.saddr, sizeof(raw.saddr));
  std::memcpy(ev.daddr.data(), raw.daddr, sizeof(raw.daddr));
  if (ev.ip_version == 4) {
    std::fill(ev.saddr.begin() + 4, ev.saddr.end(), 0);
    std::fill(ev.daddr.begin() + 4, ev.daddr.end(), 0);
  }
  ev.l4proto = ev.ip_version ? raw.l4proto : 0;
  ev.has_ports = raw.flags & PWRU_EV_HAS_PORTS;
  ev.sport = ev.has_ports ? raw.sport : 0;
  ev.dport = ev.has_ports ? raw.dport : 0;
  ev.tcp_flags.reset();
  if (raw.flags & PWRU_EV_HAS_TCP_FLAGS) ev.tcp_flags = raw.tcp_flags;

  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  if (raw.flags & PWRU_EV_HAS_DROP_REASON) {
    ev.drop_reason = raw.drop_reason;
    auto it = reasons_.find(raw.drop_reason);
    ev.drop_reason_name =
        it != reasons_.end() ? it->second : "reason_" + std::to_string(raw.drop_reason);
  }
  ev.caller_addr = (raw.flags & PWRU_EV_HAS_LOCATION) ? raw.location : 0;
  ev.caller.clear();
  if (ev.caller_addr) {
    if (ksyms_) {
      ev.caller = ksyms_->symbolize(ev.caller_addr);
    } else {
      ev.caller = "0x" + hex(ev.caller_addr);
    }
  }
  ev.stack.clear();
  const auto* frames = reinterpret_cast<const uint64_t*>(raw.data);
  size_t depth = std::min<size_t>(raw.stack_depth, stack_bytes_ / 8);
  size_t first = 0;
  while (first < depth && is_tracing_glue(frames[first])) first++;
  for (size_t i = first; i < depth; i++) {
    ev.stack.push_back(ksyms_ ? ksyms_->symbolize(frames[i]) : "0x" + hex(frames[i]));
  }

  switch (raw.layer) {
    case PWRU_LAYER_ETHERNET: ev.layer = PacketLayer::Ethernet; break;
    case PWRU_LAYER_NETWORK: ev.layer = PacketLayer::Network; break;
    default: ev.layer = PacketLayer::None; break;
  }
  ev.nf.reset();
  if (nf_bytes) {
    pwru_nf nf;
    std::memcpy(&nf, raw.data + stack_bytes_, sizeof(nf));
    ev.nf = nf_from_probe(nf);
  }
  const uint8_t* section = raw.data + stack_bytes_ + nf_bytes;
  decode_skb_sections(raw.flags2, section, ev);
  ev.bpf.reset();
  if (bpf_bytes && raw.probe_id < probes_.size() && probes_[raw.probe_id].bpf) {
    pwru_bpf b;
    std::memcpy(&b, section + skb_sections, sizeof(b));
    ev.bpf = probes_[raw.probe_id].bpf;
    if (b.has_verdict) ev.bpf->verdict = b.verdict;
  }
  ev.stack_id.reset();
  ev.stack_kept = 0;
  if (sid_bytes) {
    static_assert(int{PWRU_KEPT_BY_STACKID} == int{PWRU_STACK_KEPT_BY_STACKID} &&
                      int{PWRU_KEPT_NON_SKB} == int{PWRU_STACK_KEPT_NON_SKB},
                  "the record's STACK_KEPT is the BPF side's value");
    pwru_stackid sid;
    std::memcpy(&sid, section + skb_sections + bpf_bytes, sizeof(sid));
    ev.stack_id = sid.stack_id;
    ev.stack_kept = sid.kept;
  }
  size_t cap = ev.layer == PacketLayer::None ? 0 : raw.cap_len;
  const uint8_t* packet = raw.data + stack_bytes_ + sections;
  ev.packet.assign(packet, packet + cap);
  return true;
}

// The sections of --output-skb-metadata, --output-skb-shared-info and --output-skb-cb, which
// start at `at` (bpf/skb_expr.bpf.h writes them in this order).
void EventDecoder::decode_skb_sections(uint8_t flags2, const uint8_t* at, Event& ev) const {
  ev.meta.clear();
  ev.shinfo.reset();
  ev.cb.clear();
  if (flags2 & PWRU_EV2_HAS_META) {
    pwru_meta m;
    std::memcpy(&m, at, sizeof(m));
    at += sizeof(m);
    const size_t n = meta_ ? std::min<size_t>(meta_->size(), PWRU_META_MAX) : 0;
    for (size_t i = 0; i < n; i++) {
      SkbMeta item{(*meta_)[i].text, std::nullopt};
      if (m.valid & (1u << i)) item.value = format_skb_expr_value((*meta_)[i], m.value[i]);
      ev.meta.push_back(std::move(item));
    }
  }
  if (flags2 & PWRU_EV2_HAS_SHINFO) {
    pwru_shinfo s;
    std::memcpy(&s, at, sizeof(s));
    at += sizeof(s);
    ev.shinfo = SharedInfo{s.gso_type, s.tskey, s.dataref, s.gso_size, s.gso_segs, s.nr_frags,
                           s.tx_flags, s.flags, s.meta_len, s.frag_list};
  }
  if (flags2 & PWRU_EV2_HAS_CB) ev.cb.assign(at, at + PWRU_CB_BYTES);
}

// The innermost frames of a stack taken in a BPF program are the program (loaded after
// kallsyms was read, so it falls past the last known symbol) and the tracing code that ran it.
bool EventDecoder::is_tracing_glue(uint64_t addr) const {
  if (!ksyms_) return false;
  const std::string& fn = ksyms_->function_at(addr);
  return fn.empty() || fn == "_einittext" || fn.starts_with("bpf_trace_run") ||
         fn.starts_with("__bpf_trace_") || fn.starts_with("bpf_prog_") ||
         fn.starts_with("__bpf_prog_") || fn.starts_with("kprobe_") ||
         fn.starts_with("kprobe_multi_link") || fn.starts_with("fprobe_") ||
         fn.starts_with("__kprobe") || fn.starts_with("bpf_trampoline");
}

}  // namespace pwru
