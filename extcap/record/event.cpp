// Names for the event model's enums, shared by every sink (text, JSON, the record tools).
#include "record/event.h"

#include "pwru_rules.h"

namespace pwru {

const char* probe_kind_name(ProbeKind kind) {
  // A record from a newer pwrudump may carry a kind this build does not know.
  const char* name = rules::probe_kind_name(static_cast<unsigned>(kind));
  return name != nullptr ? name : "unknown";
}

const char* nf_tie_name(NfTie tie) {
  switch (tie) {
    case NfTie::Headers: return "headers";
    case NfTie::Order: return "order";
  }
  return "unknown";
}

std::string nf_family_name(uint8_t family) {
  switch (family) {
    case 1: return "inet";
    case 2: return "ip";
    case 3: return "arp";
    case 5: return "netdev";
    case 7: return "bridge";
    case 10: return "ip6";
    default: return std::to_string(family);
  }
}

std::string nf_verdict_name(int32_t verdict) {
  // include/uapi/linux/netfilter.h (NF_*) and netfilter/nf_tables.h (NFT_*, negative).
  switch (verdict) {
    case 0: return "drop";
    case 1: return "accept";
    case 2: return "stolen";
    case 3: return "queue";
    case 4: return "repeat";
    case -1: return "continue";
    case -2: return "break";
    case -3: return "jump";
    case -4: return "goto";
    case -5: return "return";
    default: return std::to_string(verdict);
  }
}

}  // namespace pwru
