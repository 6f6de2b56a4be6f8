// Renders an Event as a pwru-like text line.
#include "output/text.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace pwru {

namespace {

// Fixed widths instead of pwru's "widest seen so far" so a line depends on its event only.
// The tuple column fits an IPv4 TCP tuple with 5-digit ports; longer ones push FUNC right.
constexpr int kTupleWidth = 45;

// snprintf into a std::string; the attribute lets the compiler check every format.
__attribute__((format(printf, 1, 2))) std::string printf_string(const char* fmt, ...) {
  char buf[256];
  std::va_list args;
  va_start(args, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, n);
  std::string out(n, '\0');
  va_start(args, fmt);
  std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

std::string pad_right(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// Go's %#x, which pwru uses: "0x0" for zero, no zero padding.
std::string hex_address(uint64_t v) { return printf_string("0x%" PRIx64, v); }

std::string process(const Event& ev) {
  return (ev.comm.empty() ? std::string("<empty>") : ev.comm) + ":" + std::to_string(ev.pid);
}

// name:ifindex as pwru prints it. No device gets a visible placeholder rather than pwru's bare
// "0", so the column keeps its name:index shape for scripts that split on ':'.
std::string iface(const Event& ev) {
  if (ev.ifindex == 0 && ev.ifname.empty()) return "<none>:0";
  return (ev.ifname.empty() ? std::string("<unknown>") : ev.ifname) + ":" +
         std::to_string(ev.ifindex);
}

std::string address(const Event& ev, const std::array<uint8_t, 16>& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ev.ip_version == 4) {
    inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
    return buf;
  }
  inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  return std::string("[") + buf + "]";
}

std::string l4_name(uint8_t proto) {
  switch (proto) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 47: return "gre";
    case 58: return "icmp6";
    case 132: return "sctp";
    default: return std::to_string(proto);  // pwru prints "" here; a number says more
  }
}

}  // namespace

std::string text_header() {
  return printf_string("%-18s %-3s %-16s %-10s %-8s %-16s %-6s %-5s %-5s %-*s %s", "SKB", "CPU",
                       "PROCESS", "NETNS", "MARK/x", "IFACE", "PROTO", "MTU", "LEN", kTupleWidth,
                       "TUPLE", "FUNC");
}

std::string text_tuple(const Event& ev) {
  if (ev.ip_version != 4 && ev.ip_version != 6) return {};
  // Like pwru, protocols without ports show port 0.
  uint16_t sport = ev.has_ports ? ev.sport : 0;
  uint16_t dport = ev.has_ports ? ev.dport : 0;
  return address(ev, ev.saddr) + ":" + std::to_string(sport) + "->" + address(ev, ev.daddr) +
         ":" + std::to_string(dport) + "(" + l4_name(ev.l4proto) + ")";
}

std::string text_line(const Event& ev) {
  std::string line = printf_string(
      "%-18s %-3s %-16s %-10s %-8s %-16s 0x%04x %-5s %-5s ", hex_address(ev.skb).c_str(),
      std::to_string(ev.cpu).c_str(), process(ev).c_str(), std::to_string(ev.netns).c_str(),
      printf_string("%x", ev.mark).c_str(), iface(ev).c_str(), ev.protocol,
      std::to_string(ev.mtu).c_str(), std::to_string(ev.len).c_str());
  line += pad_right(text_tuple(ev), kTupleWidth);
  line += ' ';
  line += ev.func;
  if (ev.drop_reason) {
    line += " reason=";
    line += ev.drop_reason_name.empty() ? std::to_string(*ev.drop_reason) : ev.drop_reason_name;
    if (!ev.caller.empty()) {
      line += " caller=" + ev.caller;
    } else if (ev.caller_addr != 0) {
      line += " caller=" + hex_address(ev.caller_addr);
    }
  }
  return line;
}

}  // namespace pwru
