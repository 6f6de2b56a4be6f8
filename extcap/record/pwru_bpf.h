// tc and XDP programs (--filter-trace-tc, --filter-trace-xdp): the hooks' names, each hook's
// verdicts as text, JSON and the dissector's pwru.bpf.verdict show them, and which verdicts drop
// the packet. Header-only plain C++ (no allocation), so the dissector may call it anywhere.
#pragma once

#include <stdint.h>

#include "pwru_record.h"

namespace pwru::bpf {

struct VerdictName {
  int32_t value;
  const char* name;
};

// TC_ACT_* (include/uapi/linux/pkt_cls.h).
inline constexpr int32_t kTcActShot = 2;
inline constexpr VerdictName kTcVerdicts[] = {
    {-1, "TC_ACT_UNSPEC"},  {0, "TC_ACT_OK"},     {1, "TC_ACT_RECLASSIFY"},
    {kTcActShot, "TC_ACT_SHOT"}, {3, "TC_ACT_PIPE"}, {4, "TC_ACT_STOLEN"},
    {5, "TC_ACT_QUEUED"},   {6, "TC_ACT_REPEAT"}, {7, "TC_ACT_REDIRECT"},
    {8, "TC_ACT_TRAP"},
};

// enum xdp_action (include/uapi/linux/bpf.h).
inline constexpr int32_t kXdpAborted = 0, kXdpDrop = 1;
inline constexpr VerdictName kXdpVerdicts[] = {
    {kXdpAborted, "XDP_ABORTED"}, {kXdpDrop, "XDP_DROP"}, {2, "XDP_PASS"},
    {3, "XDP_TX"},                {4, "XDP_REDIRECT"},
};

// "tc", "xdp" as pwru writes them after the program's name; nullptr: a hook this build does not
// know.
constexpr const char* hook_name(unsigned hook) {
  switch (hook) {
    case PWRU_BPF_HOOK_TC: return "tc";
    case PWRU_BPF_HOOK_XDP: return "xdp";
    default: return nullptr;
  }
}

// nullptr: a value with no name (print the number).
constexpr const char* verdict_name(unsigned hook, int32_t verdict) {
  if (hook == PWRU_BPF_HOOK_TC) {
    for (const VerdictName& v : kTcVerdicts)
      if (v.value == verdict) return v.name;
  } else if (hook == PWRU_BPF_HOOK_XDP) {
    for (const VerdictName& v : kXdpVerdicts)
      if (v.value == verdict) return v.name;
  }
  return nullptr;
}

// Whether a program's verdict drops the packet: TC_ACT_SHOT, XDP_DROP, XDP_ABORTED.
constexpr bool verdict_drops(unsigned hook, int32_t verdict) {
  if (hook == PWRU_BPF_HOOK_TC) return verdict == kTcActShot;
  if (hook == PWRU_BPF_HOOK_XDP) return verdict == kXdpAborted || verdict == kXdpDrop;
  return false;
}

}  // namespace pwru::bpf
