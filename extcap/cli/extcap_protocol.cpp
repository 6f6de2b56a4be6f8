// Formats the extcap sentences (interfaces, link types, configuration, filter check).
#include "cli/extcap_protocol.h"

#include "cli/options.h"
#include "filter/pcap_filter.h"
#include "pwru_record.h"

namespace pwru {

namespace {

struct IntegerArg {
  const char* call;
  const char* display;
  const char* tooltip;  // must not contain "}{": Wireshark would drop the whole line
  uint64_t min, max, def;
  const char* group;
};

std::string arg_sentence(int number, const IntegerArg& a) {
  return "arg {number=" + std::to_string(number) + "}{call=" + a.call + "}{display=" + a.display +
         "}{tooltip=" + a.tooltip + "}{type=integer}{range=" + std::to_string(a.min) + "," +
         std::to_string(a.max) + "}{default=" + std::to_string(a.def) + "}{group=" + a.group +
         "}\n";
}

}  // namespace

std::string extcap_interfaces_sentences() {
  return std::string("extcap {version=") + pwrudump_version() + "}{help=" PWRU_HELP_URL
         "}{display=pwrudump: eBPF skb tracer}\n"
         "interface {value=" + kExtcapInterface +
         "}{display=pwru: packets through the Linux kernel (eBPF)}\n";
}

std::string extcap_dlts_sentences() {
  return "dlt {number=" + std::to_string(PWRU_LINKTYPE_UPPER_PDU) +
         "}{name=WIRESHARK_UPPER_PDU}{display=pwru kernel events}\n";
}

std::string extcap_config_sentences() {
  const TraceOptions defaults;
  const IntegerArg args[] = {
      {"--snaplen", "Packet bytes per event",
       "How many bytes of the packet to capture with every kernel event (0 to 4096). More "
       "bytes let the filter and the dissectors see deeper into the packet",
       0, kMaxSnaplen, defaults.snaplen, "Capture"},
      {"--output-limit-lines", "Stop after this many events",
       "Stop the capture after this many events; 0 means no limit", 0, INT32_MAX, 0, "Capture"},
      {"--ringbuf-size", "Ring buffer size (bytes)",
       "Size of the BPF ring buffer between the kernel and pwrudump, a power of two from 4096 "
       "to 1073741824. Raise it when Wireshark reports dropped events",
       kMinRingbufBytes, kMaxRingbufBytes, defaults.ringbuf_bytes, "Backend"},
  };
  std::string out;
  int number = 0;
  for (const auto& a : args) out += arg_sentence(number++, a);
  return out;
}

std::string extcap_filter_check(const std::string& filter) {
  auto problem = pcap_filter_problem(filter);
  return problem ? *problem + "\n" : std::string();
}

}  // namespace pwru
