// Diagnoses (extcap/diag): which drops ask for one, the words of a missing listener asked of this
// test's own namespace (netlink needs no privilege there), and the limits that keep a flood of
// drops from stalling the capture: the cache, the rate, one note for no privilege.
#include "diag/diagnoser.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "pwru_record.h"

namespace pwru::diag {
namespace {

using Clock = std::chrono::steady_clock;

// A drop of `reason` from 10.0.0.1 to 127.0.0.2:4444/tcp on ifindex 2.
Event drop(const std::string& reason, uint8_t l4proto = IPPROTO_TCP) {
  Event ev;
  ev.func = "kfree_skb";
  ev.drop_reason = 2;
  ev.drop_reason_name = reason;
  ev.netns = 4026531840;
  ev.ifindex = 2;
  ev.ifname = "eth0";
  ev.ip_version = 4;
  ev.saddr = {10, 0, 0, 1};
  ev.daddr = {127, 0, 0, 2};
  ev.l4proto = l4proto;
  ev.has_ports = l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP;
  ev.sport = 40000;
  ev.dport = 4444;
  return ev;
}

TEST(DiagnosisKind, ByReasonAndWhere) {
  const struct {
    Event ev;
    std::optional<uint8_t> kind;
    const char* what;
  } cases[] = {
      {drop("NO_SOCKET"), PWRU_DIAG_NO_LISTENER, "NO_SOCKET tcp"},
      {drop("NO_SOCKET", IPPROTO_UDP), PWRU_DIAG_NO_LISTENER, "NO_SOCKET udp"},
      {drop("NO_SOCKET", IPPROTO_ICMP), std::nullopt, "NO_SOCKET icmp: no port to listen on"},
      {drop("IP_INNOROUTES"), PWRU_DIAG_NO_ROUTE, "IP_INNOROUTES"},
      {drop("IP_OUTNOROUTES"), PWRU_DIAG_NO_ROUTE, "IP_OUTNOROUTES"},
      {drop("IP_RPFILTER"), PWRU_DIAG_RP_FILTER, "IP_RPFILTER"},
      {drop("IP_INADDRERRORS"), PWRU_DIAG_FORWARDING_OFF, "IP_INADDRERRORS"},
      {drop("PKT_TOO_BIG"), PWRU_DIAG_TOO_BIG, "PKT_TOO_BIG"},
      {drop("NEIGH_FAILED"), PWRU_DIAG_NEIGH_FAILED, "NEIGH_FAILED"},
      {drop("NETFILTER_DROP"), std::nullopt, "NETFILTER_DROP without a rule"},
      {drop("TCP_CSUM"), std::nullopt, "a reason the system cannot explain"},
  };
  for (const auto& c : cases) EXPECT_EQ(diagnosis_kind(c.ev), c.kind) << c.what;

  Event v6 = drop("IP_RPFILTER");
  v6.ip_version = 6;
  EXPECT_EQ(diagnosis_kind(v6), std::nullopt) << "rp_filter is IPv4's";
  Event no_tuple = drop("NO_SOCKET");
  no_tuple.ip_version = 0;
  EXPECT_EQ(diagnosis_kind(no_tuple), std::nullopt);
  Event no_reason = drop("NO_SOCKET");
  no_reason.drop_reason.reset();
  EXPECT_EQ(diagnosis_kind(no_reason), std::nullopt);
  // Forwarding where a kernel names no reason: by the function that dropped it.
  Event unnamed = drop("NOT_SPECIFIED");
  EXPECT_EQ(diagnosis_kind(unnamed), std::nullopt);
  unnamed.func = "ip_error";
  EXPECT_EQ(diagnosis_kind(unnamed), PWRU_DIAG_FORWARDING_OFF);
  // Conntrack: only a drop --nf-trace tied to a rule about invalid packets.
  Event ct = drop("NETFILTER_DROP");
  ct.nf.emplace();
  ct.nf->rule = "ct state invalid drop";
  EXPECT_EQ(diagnosis_kind(ct), PWRU_DIAG_CT_INVALID);
  ct.nf->rule = "-m conntrack --ctstate INVALID -j DROP";
  EXPECT_EQ(diagnosis_kind(ct), PWRU_DIAG_CT_INVALID);
  ct.nf->rule = "tcp dport 22 drop";
  EXPECT_EQ(diagnosis_kind(ct), std::nullopt);
}

// Sockets of the test's own namespace, whatever inode is asked for; counts the asks.
struct OwnNamespace {
  int asked = 0;
  NamespaceAccess access() {
    NamespaceAccess a;
    a.netlink = [this](uint32_t) -> Result<std::pair<UniqueFd, UniqueFd>> {
      ++asked;
      UniqueFd route(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
      UniqueFd diag(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
      if (!route.valid() || !diag.valid()) return Error{ExitCode::Failure, "no netlink", ""};
      return std::make_pair(std::move(route), std::move(diag));
    };
    a.name = [](uint32_t) { return std::string("demo-b"); };
    return a;
  }
};

// A TCP socket listening on 127.0.0.1, on a port the kernel picked.
struct Listener {
  UniqueFd fd{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  uint16_t port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        listen(fd.get(), 1) == 0 &&
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
  }
};

TEST(Diagnoser, NothingListens) {
  Listener l;
  ASSERT_NE(l.port, 0) << "cannot listen on 127.0.0.1";
  OwnNamespace ns;
  Diagnoser d(ns.access());
  const std::string port = std::to_string(l.port);

  Event elsewhere = drop("NO_SOCKET");
  elsewhere.dport = l.port;
  auto got = d.diagnose(elsewhere);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, PWRU_DIAG_NO_LISTENER);
  EXPECT_EQ(got->text, "nothing listens on 127.0.0.2:" + port + "/tcp in netns demo-b (port " +
                           port + " is bound to 127.0.0.1 only)");

  Event there = elsewhere;
  there.daddr = {127, 0, 0, 1};
  got = d.diagnose(there);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->text, "a socket listens on 127.0.0.1:" + port +
                           "/tcp in netns demo-b now: it was not there yet, or the packet "
                           "belongs to no connection it has");

  Event udp = elsewhere;
  udp.l4proto = IPPROTO_UDP;
  got = d.diagnose(udp);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->text, "nothing listens on 127.0.0.2:" + port + "/udp in netns demo-b");
  EXPECT_EQ(ns.asked, 1) << "a namespace's sockets are made once";
  EXPECT_TRUE(d.take_notes().empty());
}

// A flood of drops: the same one is answered from the cache for a second; at most kPerSecond
// fresh findings a second, the rest get none.
TEST(Diagnoser, CachesAndLimitsTheRate) {
  OwnNamespace ns;
  Clock::time_point now{};
  Diagnoser d(ns.access(), [&now] { return now; });
  Event ev = drop("NO_SOCKET");
  const auto first = d.diagnose(ev);
  ASSERT_TRUE(first.has_value());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(d.diagnose(ev), first);

  int found = 1;  // `ev` was the first fresh one of this second
  for (uint16_t port = 1; port <= 2 * Diagnoser::kPerSecond; ++port) {
    Event other = ev;
    other.dport = static_cast<uint16_t>(50000 + port);
    if (d.diagnose(other)) ++found;
  }
  EXPECT_EQ(found, Diagnoser::kPerSecond);
  now += std::chrono::seconds(1);
  Event later = ev;
  later.dport = 60000;
  EXPECT_TRUE(d.diagnose(later).has_value()) << "a new second, a new allowance";
}

// No privilege to enter a namespace: one note, and the namespace is not asked again.
TEST(Diagnoser, NoPrivilegeIsOneNote) {
  int asked = 0;
  NamespaceAccess a;
  a.netlink = [&asked](uint32_t inode) -> Result<std::pair<UniqueFd, UniqueFd>> {
    ++asked;
    return Error{ExitCode::Permission,
                 "cannot enter network namespace inode:" + std::to_string(inode) +
                     ": Operation not permitted",
                 "run pwrudump as root, or grant it CAP_SYS_ADMIN"};
  };
  Clock::time_point now{};
  Diagnoser d(std::move(a), [&now] { return now; });
  Event ev = drop("NO_SOCKET");
  EXPECT_FALSE(d.diagnose(ev).has_value());
  const auto notes = d.take_notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "--diagnose: drops in network namespaces other than pwrudump's are not "
                      "diagnosed: cannot enter network namespace inode:4026531840: Operation not "
                      "permitted\nhint: run pwrudump as root, or grant it CAP_SYS_ADMIN");
  Event other_ns = ev;
  other_ns.netns = 4026532000;
  for (int i = 0; i < 3; ++i) {
    now += std::chrono::seconds(20);
    ev.dport = other_ns.dport = static_cast<uint16_t>(5000 + i);
    EXPECT_FALSE(d.diagnose(ev).has_value());
    EXPECT_FALSE(d.diagnose(other_ns).has_value());
  }
  EXPECT_TRUE(d.take_notes().empty());
  EXPECT_EQ(asked, 2) << "each namespace asked once";
}

}  // namespace
}  // namespace pwru::diag
