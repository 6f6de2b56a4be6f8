// Diagnoser: which drops get a diagnosis, the questions each asks its namespace, and the words.
#include "diag/diagnoser.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "pwru_record.h"

namespace pwru::diag {

namespace {

using std::chrono::seconds;

int family_of(const Event& ev) { return ev.ip_version == 4 ? AF_INET : AF_INET6; }

Address addr(const Event& ev, const std::array<uint8_t, 16>& a) {
  Address out{};
  std::copy_n(a.begin(), ev.ip_version == 4 ? 4 : 16, out.begin());
  return out;
}

std::string proto_name(uint8_t proto) {
  return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : std::to_string(proto);
}

// "10.0.0.2:4444", "[fd00::2]:4444".
std::string endpoint(int family, const Address& a, uint16_t port) {
  const std::string text = address_text(family, a);
  return (family == AF_INET6 ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

bool is_any(int family, const Address& a) {
  const size_t n = family == AF_INET ? 4 : 16;
  return std::all_of(a.begin(), a.begin() + static_cast<long>(n), [](uint8_t b) { return b == 0; });
}

// ::ffff:a.b.c.d, which an IPv6 socket is bound to for one IPv4 address.
Address v4_mapped(const Address& v4) {
  Address out{};
  out[10] = out[11] = 0xff;
  std::copy_n(v4.begin(), 4, out.begin() + 12);
  return out;
}

bool same(int family, const Address& a, const Address& b) {
  return std::equal(a.begin(), a.begin() + (family == AF_INET ? 4 : 16), b.begin());
}

std::string ip_version_name(int family) { return family == AF_INET ? "ipv4" : "ipv6"; }

std::string errno_text(int err) { return std::strerror(err); }

std::string nud_name(uint16_t state) {
  switch (state) {
    case 0: return "none";
    case NUD_INCOMPLETE: return "INCOMPLETE";
    case NUD_REACHABLE: return "REACHABLE";
    case NUD_STALE: return "STALE";
    case NUD_DELAY: return "DELAY";
    case NUD_PROBE: return "PROBE";
    case NUD_FAILED: return "FAILED";
    case NUD_NOARP: return "NOARP";
    case NUD_PERMANENT: return "PERMANENT";
    default: return std::to_string(state);
  }
}

bool contains_nocase(std::string_view text, std::string_view word) {
  return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         }) != text.end();
}

// What decides the finding besides the namespace: the headers, the interface, the reason.
std::string cache_key(uint8_t kind, const Event& ev) {
  std::string key(reinterpret_cast<const char*>(&ev.netns), sizeof ev.netns);
  key += static_cast<char>(kind);
  key += static_cast<char>(ev.ip_version);
  key += static_cast<char>(ev.l4proto);
  key.append(reinterpret_cast<const char*>(ev.daddr.data()), ev.daddr.size());
  key.append(reinterpret_cast<const char*>(ev.saddr.data()), ev.saddr.size());
  key.append(reinterpret_cast<const char*>(&ev.dport), sizeof ev.dport);
  key.append(reinterpret_cast<const char*>(&ev.ifindex), sizeof ev.ifindex);
  return key + ev.drop_reason_name;
}

// The words of each diagnosis, about namespace `where` ("netns demo-b").
class Examiner {
 public:
  Examiner(const Event& ev, SystemView& view, std::string where)
      : ev_(ev), view_(view), where_(std::move(where)), family_(family_of(ev)),
        dst_(addr(ev, ev.daddr)), src_(addr(ev, ev.saddr)) {}

  std::optional<std::string> no_listener() {
    const uint8_t proto = ev_.l4proto;
    auto found = view_.bound(family_, proto, ev_.dport);
    if (!found) return std::nullopt;
    if (family_ == AF_INET) {
      // An IPv6 socket on :: takes IPv4 too, unless it is v6only.
      if (auto v6 = view_.bound(AF_INET6, proto, ev_.dport)) {
        found->insert(found->end(), v6->begin(), v6->end());
      }
    }
    const std::string what = endpoint(family_, dst_, ev_.dport) + "/" + proto_name(proto);
    std::vector<std::string> elsewhere;
    for (const BoundSocket& s : *found) {
      const bool takes = s.family == family_
                             ? is_any(family_, s.addr) || same(family_, s.addr, dst_)
                             : !s.v6only && (is_any(AF_INET6, s.addr) ||
                                             same(AF_INET6, s.addr, v4_mapped(dst_)));
      if (takes) {
        return "a socket listens on " + what + " in " + where_ +
               " now: it was not there yet, or the packet belongs to no connection it has";
      }
      elsewhere.push_back(address_text(s.family, s.addr));
    }
    std::string text = "nothing listens on " + what + " in " + where_;
    if (!elsewhere.empty()) {
      std::sort(elsewhere.begin(), elsewhere.end());
      elsewhere.erase(std::unique(elsewhere.begin(), elsewhere.end()), elsewhere.end());
      text += " (port " + std::to_string(ev_.dport) + " is bound to ";
      for (size_t i = 0; i < elsewhere.size(); ++i) text += (i > 0 ? ", " : "") + elsewhere[i];
      text += " only)";
    }
    return text;
  }

  // Inbound (IP_INNOROUTES): the input lookup, from the source on the interface it came in by.
  // A failed input lookup of a packet to forward may be forwarding switched off (IPv6 drops it
  // as no route): that is the finding then.
  std::optional<Diagnosis> no_route(bool inbound) {
    const std::string dst = address_text(family_, dst_);
    std::string cmd = "ip route get " + dst;
    const bool input = inbound && ev_.ifindex != 0 && !is_any(family_, src_);
    if (input) cmd += " from " + address_text(family_, src_) + " iif " + ifname(ev_.ifindex);
    auto r = view_.route(family_, dst_, input ? &src_ : nullptr, input ? ev_.ifindex : 0);
    if (!r) return std::nullopt;
    std::string text;
    if (r->error != 0) {
      if (input) {
        if (auto off = forwarding_off()) return Diagnosis{PWRU_DIAG_FORWARDING_OFF, *off};
      }
      text = "no route to " + dst + " in " + where_ + ": `" + cmd + "` fails: " +
             errno_text(r->error);
    } else if (r->type == RTN_UNICAST || r->type == RTN_LOCAL) {
      text = "a route to " + dst + " exists in " + where_ + " now (`" + cmd + "`: " +
             route_words(*r) + "): it came after the drop";
    } else {
      text = "the route to " + dst + " in " + where_ + " is of type " + route_type(r->type) +
             " (`" + cmd + "`)";
    }
    return Diagnosis{PWRU_DIAG_NO_ROUTE, std::move(text)};
  }

  std::optional<std::string> rp_filter() {
    if (family_ != AF_INET || ev_.ifindex == 0) return std::nullopt;
    auto dev = view_.netconf(AF_INET, static_cast<int32_t>(ev_.ifindex));
    auto all = view_.netconf(AF_INET, -1);
    if (!dev || !all || !dev->rp_filter || !all->rp_filter) return std::nullopt;
    const std::string in = ifname(ev_.ifindex);
    const int32_t mode = std::max(*dev->rp_filter, *all->rp_filter);
    std::string text = "rp_filter is " + std::to_string(mode) +
                       (mode == 1 ? " (strict)" : mode == 2 ? " (loose)" : "") + " for " + in +
                       " in " + where_ + " (net.ipv4.conf." + in +
                       ".rp_filter=" + std::to_string(*dev->rp_filter) +
                       ", net.ipv4.conf.all.rp_filter=" + std::to_string(*all->rp_filter) +
                       ": the higher counts)";
    const std::string src = address_text(AF_INET, src_);
    auto back = view_.route(AF_INET, src_, nullptr, 0);
    if (!back) return text;
    if (back->error != 0) return text + ", and there is no route back to " + src;
    if (back->oif != 0 && back->oif != ev_.ifindex) {
      return text + ", and the route back to " + src + " goes out " + ifname(back->oif) +
             ", not " + in;
    }
    return text;
  }

  // Says something only when the destination is not local and forwarding is off.
  std::optional<std::string> forwarding_off() {
    if (ev_.ifindex == 0) return std::nullopt;
    auto r = view_.route(family_, dst_, nullptr, 0);
    if (!r || (r->error == 0 && r->type != RTN_UNICAST)) return std::nullopt;
    auto dev = view_.netconf(family_, static_cast<int32_t>(ev_.ifindex));
    auto all = view_.netconf(family_, -1);
    if (!dev || !all || !dev->forwarding || !all->forwarding) return std::nullopt;
    // IPv4 asks the interface (conf.all sets them all), IPv6 conf.all.
    const bool off = family_ == AF_INET ? *dev->forwarding == 0 : *all->forwarding == 0;
    if (!off) return std::nullopt;
    const std::string in = ifname(ev_.ifindex);
    const std::string v = ip_version_name(family_);
    return address_text(family_, dst_) + " is not an address of " + where_ +
           ", so the packet needed forwarding, but forwarding is off for " + in + " (net." + v +
           ".conf." + in + ".forwarding=" + std::to_string(*dev->forwarding) + ", net." + v +
           ".conf.all.forwarding=" + std::to_string(*all->forwarding) + ")";
  }

  std::optional<std::string> too_big() {
    auto r = view_.route(family_, dst_, nullptr, 0);
    if (!r || r->error != 0 || r->oif == 0) return std::nullopt;
    auto out = view_.link(r->oif);
    if (!out) return std::nullopt;
    const uint32_t mtu = r->mtu != 0 ? r->mtu : out->mtu;
    return "the packet is " + std::to_string(ev_.len) + " bytes, and the MTU towards " +
           address_text(family_, dst_) + " is " + std::to_string(mtu) + " (" +
           (r->mtu != 0 ? "the route's" : "dev " + out->name + "'s") + ") in " + where_;
  }

  std::optional<std::string> neigh_failed() {
    auto r = view_.route(family_, dst_, nullptr, 0);
    Address hop = dst_;
    uint32_t oif = ev_.ifindex;
    if (r && r->error == 0) {
      if (r->gateway) hop = *r->gateway;
      if (r->oif != 0) oif = r->oif;
    }
    if (oif == 0) return std::nullopt;
    auto state = view_.neighbour(family_, hop, oif);
    if (!state) return std::nullopt;
    const std::string nh = address_text(family_, hop);
    const std::string dev = ifname(oif);
    std::string who = nh + " on " + dev;
    if (!same(family_, hop, dst_)) who += " (the gateway to " + address_text(family_, dst_) + ")";
    const std::string asked = family_ == AF_INET ? "ARP" : "neighbour solicitation";
    std::string text;
    if (*state == NUD_FAILED || *state == NUD_INCOMPLETE) {
      text = who + " is " + nud_name(*state) + " in " + where_ + ": nothing answered " + asked;
    } else if (*state == 0) {
      text = who + " has no neighbour entry in " + where_ + " now";
    } else {
      text = who + " is " + nud_name(*state) + " in " + where_ + " now: it answered after the drop";
    }
    return text + " (ip neigh show " + nh + " dev " + dev + ")";
  }

 private:
  std::string ifname(uint32_t ifindex) {
    if (ifindex == ev_.ifindex && !ev_.ifname.empty()) return ev_.ifname;
    if (auto l = view_.link(ifindex)) return l->name;
    return "if" + std::to_string(ifindex);
  }

  static std::string route_type(uint8_t type) {
    switch (type) {
      case RTN_UNICAST: return "unicast";
      case RTN_LOCAL: return "local";
      case RTN_BLACKHOLE: return "blackhole";
      case RTN_UNREACHABLE: return "unreachable";
      case RTN_PROHIBIT: return "prohibit";
      case RTN_THROW: return "throw";
      default: return std::to_string(type);
    }
  }

  std::string route_words(const Route& r) {
    std::string w = route_type(r.type);
    if (r.gateway) w += " via " + address_text(family_, *r.gateway);
    if (r.oif != 0) w += " dev " + ifname(r.oif);
    return w;
  }

  const Event& ev_;
  SystemView& view_;
  const std::string where_;
  const int family_;
  const Address dst_;
  const Address src_;
};

}  // namespace

std::optional<uint8_t> diagnosis_kind(const Event& ev) {
  if (!ev.drop_reason || (ev.ip_version != 4 && ev.ip_version != 6)) return std::nullopt;
  const std::string_view reason = ev.drop_reason_name;
  if (reason == "NO_SOCKET") {
    const bool l4 = ev.l4proto == IPPROTO_TCP || ev.l4proto == IPPROTO_UDP;
    if (l4 && ev.has_ports) return PWRU_DIAG_NO_LISTENER;
    return std::nullopt;
  }
  if (reason == "IP_INNOROUTES" || reason == "IP_OUTNOROUTES") return PWRU_DIAG_NO_ROUTE;
  if (reason == "IP_RPFILTER" && ev.ip_version == 4) return PWRU_DIAG_RP_FILTER;
  if (reason == "PKT_TOO_BIG") return PWRU_DIAG_TOO_BIG;
  if (reason == "NEIGH_FAILED") return PWRU_DIAG_NEIGH_FAILED;
  // Forwarding switched off: IPv4 drops the packet as a bad destination (ip_error; older
  // kernels name no reason there), IPv6 as no route (above) or in ip6_forward.
  if (reason == "IP_INADDRERRORS" ||
      (reason == "NOT_SPECIFIED" && (ev.func == "ip_error" || ev.func == "ip6_forward"))) {
    return PWRU_DIAG_FORWARDING_OFF;
  }
  if (reason == "NETFILTER_DROP" && ev.nf && ev.nf->verdict == 0 &&
      contains_nocase(ev.nf->rule, "invalid")) {
    return PWRU_DIAG_CT_INVALID;
  }
  return std::nullopt;
}

Diagnoser::Diagnoser(NamespaceAccess access, Clock clock)
    : access_(std::move(access)), clock_(std::move(clock)) {}

std::string Diagnoser::netns_label(uint32_t inode) {
  std::string name = access_.name ? access_.name(inode) : std::string();
  return "netns " + (name.empty() ? "inode:" + std::to_string(inode) : name);
}

SystemView* Diagnoser::view(uint32_t inode) {
  const auto now = clock_();
  auto [it, added] = namespaces_.try_emplace(inode);
  Namespace& ns = it->second;
  if (ns.view) return ns.view.get();
  if (!added && now < ns.retry) return nullptr;
  auto sockets = access_.netlink(inode);
  if (!sockets) {
    // A namespace gone, or a broker that failed: asked again later. No privilege: never.
    const bool denied = sockets.error().code == ExitCode::Permission;
    ns.retry = denied ? std::chrono::steady_clock::time_point::max() : now + seconds(10);
    if (denied && !denied_noted_) {
      denied_noted_ = true;
      notes_.push_back("--diagnose: drops in network namespaces other than pwrudump's are not "
                       "diagnosed: " + sockets.error().message +
                       (sockets.error().hint.empty() ? "" : "\nhint: " + sockets.error().hint));
    }
    return nullptr;
  }
  ns.view = std::make_unique<SystemView>(std::move(sockets->first), std::move(sockets->second),
                                         kQueryMs);
  return ns.view.get();
}

std::optional<Diagnosis> Diagnoser::diagnose(const Event& ev) {
  const auto kind = diagnosis_kind(ev);
  if (!kind) return std::nullopt;
  const auto now = clock_();
  const std::string key = cache_key(*kind, ev);
  if (auto it = cache_.find(key); it != cache_.end() && now - it->second.at < seconds(1)) {
    return it->second.finding;
  }
  if (now - window_ >= seconds(1)) {
    window_ = now;
    fresh_in_window_ = 0;
  }
  if (fresh_in_window_ >= kPerSecond) return std::nullopt;  // a flood: the events come first
  ++fresh_in_window_;
  if (cache_.size() > 4096) cache_.clear();

  // Conntrack's sysctls come through the broker; the rest asks the namespace's sockets.
  std::optional<Diagnosis> finding;
  if (*kind == PWRU_DIAG_CT_INVALID) {
    finding = conntrack(ev);
  } else if (SystemView* v = view(ev.netns)) {
    finding = examine(*kind, ev, *v);
  }
  cache_[key] = Cached{finding, now};
  return finding;
}

std::optional<Diagnosis> Diagnoser::examine(uint8_t kind, const Event& ev, SystemView& view) {
  const std::string where = netns_label(ev.netns);
  std::optional<std::string> text;
  Examiner x(ev, view, where);
  switch (kind) {
    case PWRU_DIAG_NO_LISTENER: text = x.no_listener(); break;
    case PWRU_DIAG_NO_ROUTE: return x.no_route(ev.drop_reason_name == "IP_INNOROUTES");
    case PWRU_DIAG_RP_FILTER: text = x.rp_filter(); break;
    case PWRU_DIAG_FORWARDING_OFF: text = x.forwarding_off(); break;
    case PWRU_DIAG_TOO_BIG: text = x.too_big(); break;
    case PWRU_DIAG_NEIGH_FAILED: text = x.neigh_failed(); break;
    default: break;
  }
  if (!text) return std::nullopt;
  return Diagnosis{kind, std::move(*text)};
}

std::optional<Diagnosis> Diagnoser::conntrack(const Event& ev) {
  if (!access_.sysctl) return std::nullopt;
  std::string values;
  for (const char* name :
       {"nf_conntrack_tcp_be_liberal", "nf_conntrack_tcp_loose", "nf_conntrack_checksum"}) {
    auto v = access_.sysctl(ev.netns, std::string("net/netfilter/") + name);
    if (!v) continue;
    values += (values.empty() ? "net.netfilter." : ", ") + std::string(name) + "=" + *v;
  }
  if (values.empty()) return std::nullopt;
  return Diagnosis{PWRU_DIAG_CT_INVALID,
                   "the rule drops what conntrack finds invalid; " + netns_label(ev.netns) +
                       " has " + values +
                       " (be_liberal=0: TCP outside the window is invalid; loose=0: so is the "
                       "middle of a connection conntrack never saw; checksum=1: so is a bad "
                       "checksum)"};
}

}  // namespace pwru::diag
