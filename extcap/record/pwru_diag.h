// The kinds of diagnosis pwrudump records with a drop (PWRU_TLV_DIAG_KIND): each one's name, as
// text, JSON and the dissector's pwru.diag.kind show it, and its title, for the dissector's expert
// info. Header-only plain C++ like pwru_reasons.h, so the dissector may call it anywhere.
#pragma once

#include <stdint.h>

#include <string_view>

#include "pwru_record.h"

namespace pwru::diag {

struct DiagKindInfo {
  uint8_t kind;             // enum pwru_diag_kind
  std::string_view name;    // lower case, one word: what JSON and the filters use
  const char* title;        // the expert info's summary, before the finding's words
};

inline constexpr DiagKindInfo kDiagKinds[] = {
    {PWRU_DIAG_NO_LISTENER, "no_listener", "Nothing listens on the destination"},
    {PWRU_DIAG_NO_ROUTE, "no_route", "No route"},
    {PWRU_DIAG_RP_FILTER, "rp_filter", "Reverse path filter"},
    {PWRU_DIAG_FORWARDING_OFF, "forwarding_off", "Forwarding is off"},
    {PWRU_DIAG_TOO_BIG, "too_big", "Packet larger than the MTU"},
    {PWRU_DIAG_NEIGH_FAILED, "neigh_failed", "Neighbour resolution failed"},
    {PWRU_DIAG_CT_INVALID, "ct_invalid", "Conntrack found the packet invalid"},
};

// nullptr: a kind this build does not know (a newer writer's).
constexpr const DiagKindInfo* diag_kind_info(unsigned kind) {
  for (const DiagKindInfo& k : kDiagKinds) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

}  // namespace pwru::diag
