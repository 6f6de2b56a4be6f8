// What one network namespace's kernel says now, asked over netlink sockets made in it: routes,
// forwarding and rp_filter (netconf), links, neighbours, and the sockets bound to a port.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"

struct nlmsghdr;

namespace pwru::diag {

class Request;

using Address = std::array<uint8_t, 16>;  // network byte order; IPv4 in the first 4 bytes

struct Route {
  int error = 0;     // the lookup's errno (ENETUNREACH, EXDEV, ...); 0: the fields below hold
  uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, ...
  uint32_t oif = 0;
  std::optional<Address> gateway;
  uint32_t mtu = 0;  // the route's MTU metric; 0: the device's
};

struct Netconf {
  std::optional<int32_t> forwarding;
  std::optional<int32_t> rp_filter;  // IPv4 only
};

struct Link {
  std::string name;
  uint32_t mtu = 0;
};

// A TCP socket in LISTEN, or a UDP socket, bound to a port.
struct BoundSocket {
  int family = 0;
  Address addr{};
  bool v6only = false;
};

// Every question waits at most `timeout_ms` for its answer; a question that gets none, or an
// answer it cannot read, gives nullopt: a diagnosis that cannot be made says nothing.
class SystemView {
 public:
  SystemView(UniqueFd route, UniqueFd sock_diag, int timeout_ms)
      : route_(std::move(route)), sock_diag_(std::move(sock_diag)), timeout_ms_(timeout_ms) {}

  // `ip route get DST [from SRC iif IIF]`: an input lookup when iif is not 0.
  std::optional<Route> route(int family, const Address& dst, const Address* src, uint32_t iif);
  // The interface's settings; ifindex -1 (NETCONFA_IFINDEX_ALL): conf.all.
  std::optional<Netconf> netconf(int family, int32_t ifindex);
  std::optional<Link> link(uint32_t ifindex);
  // The neighbour entry's NUD_* state; 0 when there is none.
  std::optional<uint16_t> neighbour(int family, const Address& addr, uint32_t ifindex);
  // The sockets of `family` and `proto` (IPPROTO_TCP: listening only) bound to `port`.
  std::optional<std::vector<BoundSocket>> bound(int family, uint8_t proto, uint16_t port);

 private:
  // One question on `fd` with the next sequence number (exchange() in the .cpp).
  bool ask(int fd, Request& req, bool dump, int& error,
           const std::function<void(const nlmsghdr*)>& each);

  UniqueFd route_;
  UniqueFd sock_diag_;
  int timeout_ms_;
  uint32_t seq_ = 0;
};

// "10.0.0.2", "fd00::2": the address of `family` (AF_INET or AF_INET6) as text.
std::string address_text(int family, const Address& addr);

}  // namespace pwru::diag
