// Names for the event model's enums, shared by every sink (text, JSON, the record tools).
#include "record/event.h"

#include "pwru_rules.h"

namespace pwru {

const char* probe_kind_name(ProbeKind kind) {
  // A record from a newer pwrudump may carry a kind this build does not know.
  const char* name = rules::probe_kind_name(static_cast<unsigned>(kind));
  return name != nullptr ? name : "unknown";
}

const char* stack_kept_name(uint8_t kept) {
  const char* name = rules::stack_kept_name(kept);
  return name != nullptr ? name : "unknown";
}

const char* nf_tie_name(NfTie tie) {
  const char* name = rules::nf_name(rules::kNfTies, static_cast<int32_t>(tie));
  return name != nullptr ? name : "unknown";
}

const char* nf_rule_state_name(NfRuleState state) {
  if (state == NfRuleState::Current) return "current";
  const char* name = rules::nf_name(rules::kNfRuleStates, static_cast<int32_t>(state));
  return name != nullptr ? name : "unknown";
}

const char* nf_trace_type_name(NfTraceType type) {
  const char* name = rules::nf_name(rules::kNfTraceTypes, static_cast<int32_t>(type));
  return name != nullptr ? name : "unknown";
}

std::string nf_family_name(uint8_t family) {
  const char* name = rules::nf_name(rules::kNfFamilies, family);
  return name != nullptr ? name : std::to_string(family);
}

std::string nf_verdict_name(int32_t verdict) {
  const char* name = rules::nf_name(rules::kNfVerdicts, verdict);
  return name != nullptr ? name : std::to_string(verdict);
}

}  // namespace pwru
