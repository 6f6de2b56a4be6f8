// SystemView: one netlink request at a time, answers read with a deadline and matched by sequence
// number, so a late answer to an earlier question is never taken for the current one's.
#include "diag/system_view.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "base/clock.h"

namespace pwru::diag {

namespace {

constexpr int kTcpListen = 10;  // TCP_LISTEN of the kernel's TCP states

size_t address_len(int family) { return family == AF_INET ? 4 : 16; }

}  // namespace

// A request: the netlink header, the family header, then attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags, const void* head, size_t head_len) {
    buf_.resize(NLMSG_LENGTH(head_len));
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    std::memcpy(buf_.data() + NLMSG_HDRLEN, head, head_len);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    const size_t at = NLMSG_ALIGN(buf_.size());
    buf_.resize(at + RTA_SPACE(len));
    auto* a = reinterpret_cast<rtattr*>(buf_.data() + at);
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
  }
  std::string& finish(uint32_t seq) {
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_len = static_cast<uint32_t>(buf_.size());
    h->nlmsg_seq = seq;
    return buf_;
  }

 private:
  std::string buf_;
};

namespace {

// Sends `req` and hands each answer of its sequence number to `each` until the last one (one for
// a plain request, NLMSG_DONE for a dump). An NLMSG_ERROR answer sets `error` (its errno; 0 for
// an ack). False: no complete answer before the deadline.
bool exchange(int fd, uint32_t seq, std::string& req, bool dump, int timeout_ms, int& error,
              const std::function<void(const nlmsghdr*)>& each) {
  error = 0;
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return false;
  }
  const uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + uint64_t(timeout_ms) * 1'000'000;
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    const uint64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>((deadline - now + 999'999) / 1'000'000));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    const ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return false;
    int len = static_cast<int>(got);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;  // an answer to a question that timed out
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return false;
        error = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
        return true;
      }
      each(h);
      if (!dump) return true;
    }
  }
}

// Calls `fn(type, data, len)` for each attribute after the family header of `head_len` bytes.
void for_attrs(const nlmsghdr* h, size_t head_len,
               const std::function<void(uint16_t, const void*, size_t)>& fn) {
  if (h->nlmsg_len < NLMSG_LENGTH(head_len)) return;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(head_len));
  const auto* a = reinterpret_cast<const rtattr*>(static_cast<const char*>(NLMSG_DATA(h)) +
                                                  NLMSG_ALIGN(head_len));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    fn(static_cast<uint16_t>(a->rta_type & NLA_TYPE_MASK), RTA_DATA(a), RTA_PAYLOAD(a));
  }
}

uint32_t u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

bool SystemView::ask(int fd, Request& req, bool dump, int& error,
                     const std::function<void(const nlmsghdr*)>& each) {
  const uint32_t seq = ++seq_;
  return exchange(fd, seq, req.finish(seq), dump, timeout_ms_, error, each);
}

std::string address_text(int family, const Address& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, addr.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

std::optional<Route> SystemView::route(int family, const Address& dst, const Address* src,
                                       uint32_t iif) {
  rtmsg head{};
  head.rtm_family = static_cast<uint8_t>(family);
  const size_t alen = address_len(family);
  head.rtm_dst_len = static_cast<uint8_t>(alen * 8);
  if (src != nullptr) head.rtm_src_len = static_cast<uint8_t>(alen * 8);
  Request req(RTM_GETROUTE, 0, &head, sizeof head);
  req.attr(RTA_DST, dst.data(), alen);
  if (src != nullptr) req.attr(RTA_SRC, src->data(), alen);
  if (iif != 0) req.attr(RTA_IIF, &iif, sizeof iif);
  Route out;
  int error = 0;
  bool got = false;
  if (!ask(route_.get(), req, false, error,
                [&](const nlmsghdr* h) {
                  if (h->nlmsg_type != RTM_NEWROUTE) return;
                  got = true;
                  out.type = static_cast<const rtmsg*>(NLMSG_DATA(h))->rtm_type;
                  for_attrs(h, sizeof(rtmsg), [&](uint16_t type, const void* p, size_t n) {
                    if (type == RTA_OIF && n >= 4) out.oif = u32(p);
                    if (type == RTA_GATEWAY && n == alen) {
                      out.gateway.emplace();
                      std::memcpy(out.gateway->data(), p, n);
                    }
                    if (type == RTA_METRICS) {
                      const auto* m = static_cast<const rtattr*>(p);
                      for (int left = static_cast<int>(n); RTA_OK(m, left); m = RTA_NEXT(m, left)) {
                        if (m->rta_type == RTAX_MTU && RTA_PAYLOAD(m) >= 4) {
                          out.mtu = u32(RTA_DATA(m));
                        }
                      }
                    }
                  });
                })) {
    return std::nullopt;
  }
  if (error != 0) {
    out.error = error;
    return out;
  }
  if (!got) return std::nullopt;
  return out;
}

std::optional<Netconf> SystemView::netconf(int family, int32_t ifindex) {
  netconfmsg head{};
  head.ncm_family = static_cast<uint8_t>(family);
  Request req(RTM_GETNETCONF, 0, &head, sizeof head);
  req.attr(NETCONFA_IFINDEX, &ifindex, sizeof ifindex);
  Netconf out;
  int error = 0;
  if (!ask(route_.get(), req, false, error,
                [&](const nlmsghdr* h) {
                  if (h->nlmsg_type != RTM_NEWNETCONF) return;
                  for_attrs(h, sizeof(netconfmsg), [&](uint16_t type, const void* p, size_t n) {
                    if (n < 4) return;
                    if (type == NETCONFA_FORWARDING) out.forwarding = static_cast<int32_t>(u32(p));
                    if (type == NETCONFA_RP_FILTER) out.rp_filter = static_cast<int32_t>(u32(p));
                  });
                }) ||
      error != 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<Link> SystemView::link(uint32_t ifindex) {
  ifinfomsg head{};
  head.ifi_index = static_cast<int>(ifindex);
  Request req(RTM_GETLINK, 0, &head, sizeof head);
  Link out;
  int error = 0;
  if (!ask(route_.get(), req, false, error,
                [&](const nlmsghdr* h) {
                  if (h->nlmsg_type != RTM_NEWLINK) return;
                  for_attrs(h, sizeof(ifinfomsg), [&](uint16_t type, const void* p, size_t n) {
                    const auto* text = static_cast<const char*>(p);
                    if (type == IFLA_IFNAME) out.name.assign(text, strnlen(text, n));
                    if (type == IFLA_MTU && n >= 4) out.mtu = u32(p);
                  });
                }) ||
      error != 0 || out.name.empty()) {
    return std::nullopt;
  }
  return out;
}

std::optional<uint16_t> SystemView::neighbour(int family, const Address& addr, uint32_t ifindex) {
  ndmsg head{};
  head.ndm_family = static_cast<uint8_t>(family);
  head.ndm_ifindex = static_cast<int>(ifindex);
  Request req(RTM_GETNEIGH, 0, &head, sizeof head);
  req.attr(NDA_DST, addr.data(), address_len(family));
  std::optional<uint16_t> state;
  int error = 0;
  if (!ask(route_.get(), req, false, error,
                [&](const nlmsghdr* h) {
                  if (h->nlmsg_type == RTM_NEWNEIGH &&
                      h->nlmsg_len >= NLMSG_LENGTH(sizeof(ndmsg))) {
                    state = static_cast<const ndmsg*>(NLMSG_DATA(h))->ndm_state;
                  }
                })) {
    return std::nullopt;
  }
  if (error == ENOENT) return uint16_t{0};
  if (error != 0) return std::nullopt;
  return state;
}

std::optional<std::vector<BoundSocket>> SystemView::bound(int family, uint8_t proto,
                                                          uint16_t port) {
  inet_diag_req_v2 head{};
  head.sdiag_family = static_cast<uint8_t>(family);
  head.sdiag_protocol = proto;
  head.idiag_states = proto == IPPROTO_TCP ? (1u << kTcpListen) : ~0u;
  Request req(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &head, sizeof head);
  std::vector<BoundSocket> out;
  int error = 0;
  if (!ask(sock_diag_.get(), req, true, error,
                [&](const nlmsghdr* h) {
                  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
                      h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                    return;
                  }
                  const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
                  if (ntohs(m->id.idiag_sport) != port) return;
                  BoundSocket s;
                  s.family = m->idiag_family;
                  std::memcpy(s.addr.data(), m->id.idiag_src, address_len(s.family));
                  for_attrs(h, sizeof(inet_diag_msg), [&](uint16_t type, const void* p, size_t n) {
                    if (type == INET_DIAG_SKV6ONLY && n >= 1) {
                      s.v6only = *static_cast<const uint8_t*>(p) != 0;
                    }
                  });
                  out.push_back(s);
                }) ||
      error != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace pwru::diag
