// Formats the extcap sentences (interfaces, link types, configuration, filter check).
#include "cli/extcap_protocol.h"

#include "cli/options.h"
#include "filter/pcap_filter.h"
#include "filter/pcap_program.h"

#include <string>
#include <vector>
#include "pwru_record.h"

namespace pwru {

namespace {

// One `arg` sentence. Texts must not contain "}{": Wireshark would drop the whole line.
struct Arg {
  const char* call;
  const char* display;
  const char* tooltip;
  const char* type;      // integer, string, selector, boolflag
  std::string extra;     // further {key=value} fields: range, default, placeholder
  const char* group;
  std::vector<const char*> values;  // selector values, the first one the default
};

std::string arg_sentences(int number, const Arg& a) {
  std::string n = std::to_string(number);
  std::string out = "arg {number=" + n + "}{call=" + a.call + "}{display=" + a.display +
                    "}{tooltip=" + a.tooltip + "}{type=" + a.type + "}" + a.extra +
                    "{group=" + a.group + "}\n";
  for (size_t i = 0; i < a.values.size(); i++) {
    // 4.0 ignores an arg-level default for selectors: the value carries it.
    out += "value {arg=" + n + "}{value=" + a.values[i] + "}{display=" + a.values[i] + "}" +
           (i == 0 ? "{default=true}" : "") + "\n";
  }
  return out;
}

std::string range(uint64_t min, uint64_t max, uint64_t def) {
  return "{range=" + std::to_string(min) + "," + std::to_string(max) + "}{default=" +
         std::to_string(def) + "}";
}

}  // namespace

std::string extcap_interfaces_sentences(const std::vector<Host>& hosts) {
  std::string out = std::string("extcap {version=") + pwrudump_version() + "}{help=" PWRU_HELP_URL
         "}{display=pwrudump: eBPF skb tracer}\n"
         "interface {value=" + kExtcapInterface +
         "}{display=pwru: packets through the Linux kernel (eBPF)}\n"
         "interface {value=" + kExtcapDropsInterface +
         "}{display=pwru-drops: only packets the kernel drops, and who dropped them}\n";
  // Host names are letters, digits, '.', '_' and '-' (host_name_problem): nothing that would
  // break a sentence.
  for (const auto& h : hosts) {
    out += "interface {value=" + std::string(kHostInterfacePrefix) + h.name + "}{display=pwru on " +
           h.name + ": packets through its kernel, over " + transport_name(h) + "}\n";
  }
  return out;
}

std::string extcap_dlts_sentences() {
  return "dlt {number=" + std::to_string(PWRU_LINKTYPE_UPPER_PDU) +
         "}{name=WIRESHARK_UPPER_PDU}{display=pwru kernel events}\n";
}

std::string extcap_config_sentences() {
  const TraceOptions defaults;
  std::vector<const char*> backends;
  const std::vector<std::string> names = backend_names();  // "auto" first
  for (const auto& n : names) backends.push_back(n.c_str());
  const Arg args[] = {
      {"--snaplen", "Packet bytes per event",
       "How many bytes of the packet to keep with every kernel event (0 to 4096). The capture "
       "filter always sees the whole packet",
       "integer", range(0, kMaxSnaplen, defaults.snaplen), "Capture", {}},
      {"--output-limit-lines", "Stop after this many events",
       "Stop the capture after this many events; 0 means no limit", "integer",
       range(0, INT32_MAX, 0), "Capture", {}},
      {"--filter-func", "Functions (regex)",
       "Probe only functions (tracepoints with the tracepoint backend) whose whole name matches",
       "string", "{placeholder=e.g. ip_rcv.*|kfree_skb.*}", "Filters", {}},
      {"--filter-netns", "Network namespace",
       "Only skbs in this namespace: /proc/PID/ns/net, /run/netns/NAME or inode:N", "string",
       "{placeholder=/run/netns/NAME}", "Filters", {}},
      {"--filter-mark", "Mark", "Only skbs whose mark matches: VALUE or VALUE/MASK", "string",
       "{placeholder=0x2a/0xff}", "Filters", {}},
      {"--filter-ifname", "Interface",
       "Only skbs on this interface, looked up in the namespace above (else in pwrudump's)",
       "string", "{placeholder=eth0}", "Filters", {}},
      {"--filter-track-skb", "Follow matched skbs",
       "Keep following an skb that matched once, even when it stops matching (after NAT or "
       "decapsulation), until it is freed",
       "boolflag", "{default=false}", "Filters", {}},
      {"--backend", "Backend",
       "How to probe: auto picks the best the kernel offers (kprobe-multi, kprobe, fentry, "
       "tracepoint)",
       "selector", "", "Backend", backends},
      {"--ringbuf-size", "Ring buffer size (bytes)",
       "Size of the BPF ring buffer between the kernel and pwrudump, a power of two from 4096 "
       "to 1073741824. Raise it when Wireshark reports dropped events",
       "integer", range(kMinRingbufBytes, kMaxRingbufBytes, defaults.ringbuf_bytes), "Backend", {}},
      {"--nf-trace", "Name the netfilter rule; adds a trace table while capturing",
       "Name the rule that dropped each packet: adds the nftables tables pwrudump_PID (ip, ip6), "
       "which mark the capture filter's packets for tracing, to the namespace above (else to "
       "pwrudump's own); removed when the capture ends",
       "boolflag", "{default=false}", "Netfilter", {}},
      // pwru's tunnel filters: last, so the args' numbers before them stay as they were.
      {"--filter-tunnel-pcap-l2", "Tunnel: inner frame filter",
       "pcap filter on the Ethernet frame inside a VXLAN or Geneve packet; other packets pass",
       "string", "{placeholder=e.g. ether src 02:00:00:00:00:01}", "Filters", {}},
      {"--filter-tunnel-pcap-l3", "Tunnel: inner packet filter",
       "pcap filter on the IP packet inside a VXLAN or Geneve packet; other packets pass",
       "string", "{placeholder=e.g. icmp and host 192.168.0.2}", "Filters", {}},
      // skb fields by expression (pwru's flags), after the args above for the same reason.
      {"--filter-skb-expr", "skb expression filter",
       "Only skbs for which this C comparison on the skb holds, e.g. skb->len > 1000 or "
       "skb->mark & 0xff == 1 (fields resolved through the kernel's BTF)",
       "string", "{placeholder=e.g. skb->dev->ifindex == 11}", "Filters", {}},
      {"--output-skb-metadata", "skb fields to record",
       "Up to 4 skb fields, comma-separated, recorded with every event (pwru.meta), e.g. "
       "skb->hash,skb->dev->ifindex",
       "string", "{placeholder=e.g. skb->hash,skb->queue_mapping}", "Output", {}},
      {"--output-skb-shared-info", "Record the skb's shared info",
       "gso_size, gso_segs, gso_type, nr_frags, ... with every event (pwru.shinfo)",
       "boolflag", "{default=false}", "Output", {}},
      {"--output-skb-cb", "Record the skb's control buffer",
       "skb->cb, 48 bytes, with every event (pwru.cb)", "boolflag", "{default=false}", "Output",
       {}},
      {"--filter-trace-tc", "Trace tc BPF programs",
       "fentry and fexit on every tc BPF program loaded when the capture starts (with BTF): "
       "the program's name, and its verdict on return (needs fentry)",
       "boolflag", "{default=false}", "Filters", {}},
      {"--filter-trace-xdp", "Trace XDP BPF programs",
       "fentry and fexit on every XDP program loaded when the capture starts (with BTF): the "
       "program's name, and its verdict on return (needs fentry)",
       "boolflag", "{default=false}", "Filters", {}},
      {"--filter-track-skb-by-stackid", "Follow by kernel stack",
       "Also trace the other skbs on the kernel stack of a matched packet (a copy the kernel "
       "made, the ARP request it waits for) until the packet leaves that stack or is freed",
       "boolflag", "{default=false}", "Filters", {}},
      {"--filter-non-skb-funcs", "Functions without skb (names)",
       "Also probe these functions without skb argument, comma separated, as events of the "
       "packet on their stack (function backends: kprobe-multi, kprobe, fentry)",
       "string", "{placeholder=e.g. fib_table_lookup}", "Filters", {}},
  };
  std::string out;
  int number = 0;
  for (const auto& a : args) out += arg_sentences(number++, a);
  return out;
}

// The same path as the capture: libpcap's message when it does not compile, ours when it
// compiles but cannot run in the kernel (protochain).
std::string extcap_filter_check(const std::string& filter) {
  if (auto problem = pcap_filter_problem(filter)) return *problem + "\n";
  auto program = pcap_filter_program(filter);
  return program ? std::string() : program.error().message + "\n";
}

}  // namespace pwru
