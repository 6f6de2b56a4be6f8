// The decoded event model: one kernel event as every sink (text, JSON, pcapng record) sees it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pwru_record.h"

namespace pwru {

enum class ProbeKind : uint8_t {
  Unknown = 0,  // a probe id user space never gave out; no pwru_probe_kind uses 0
  Tracepoint = PWRU_PROBE_TRACEPOINT,
  Kprobe = PWRU_PROBE_KPROBE,
  KprobeMulti = PWRU_PROBE_KPROBE_MULTI,
  Fentry = PWRU_PROBE_FENTRY,
};

const char* probe_kind_name(ProbeKind kind);

enum class PacketLayer : uint8_t {
  None = 0,
  Ethernet = PWRU_PACKET_ETHERNET,
  Network = PWRU_PACKET_NETWORK,
};

struct Event {
  uint64_t time_ns = 0;   // wall clock, ns since the Unix epoch
  uint64_t ktime_ns = 0;  // CLOCK_MONOTONIC ns, as the kernel stamped it
  uint64_t skb = 0;
  std::string func;       // function or tracepoint name
  ProbeKind probe = ProbeKind::Tracepoint;
  uint32_t cpu = 0;
  uint32_t pid = 0;
  std::string comm;
  uint32_t netns = 0;
  uint32_t mark = 0;
  uint32_t ifindex = 0;   // 0: the skb had no device
  std::string ifname;
  uint16_t protocol = 0;  // EtherType
  uint32_t mtu = 0;
  uint32_t len = 0;

  uint8_t ip_version = 0;  // 0: no tuple, else 4 or 6
  std::array<uint8_t, 16> saddr{};  // network byte order; IPv4 in the first 4 bytes
  std::array<uint8_t, 16> daddr{};
  uint8_t l4proto = 0;
  bool has_ports = false;
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::optional<uint8_t> tcp_flags;

  std::optional<uint32_t> drop_reason;
  std::string drop_reason_name;  // without the SKB_DROP_REASON_ prefix
  uint64_t caller_addr = 0;      // 0: unknown
  std::string caller;            // symbolized, "sym+0xoff"
  std::vector<std::string> stack;  // innermost frame first

  PacketLayer layer = PacketLayer::None;
  std::vector<uint8_t> packet;

  bool operator==(const Event&) const = default;
};

}  // namespace pwru
