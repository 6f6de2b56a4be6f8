// pwru-style text lines: one line per event, columns as pwru prints them with --output-meta
// --output-tuple, so what users grep for keeps working.
#pragma once

#include <string>

#include "core/event.h"

namespace pwru {

// The column titles, aligned with text_line(). No trailing newline.
std::string text_header();

// `SKB CPU PROCESS NETNS MARK/x IFACE PROTO MTU LEN TUPLE FUNC`, then for a drop
// ` reason=<NAME> caller=<sym+off>`. Pure: the same event always gives the same line, no
// trailing newline.
std::string text_line(const Event& ev);

// `saddr:sport->daddr:dport(proto)`, IPv6 addresses in brackets; empty without a tuple.
std::string text_tuple(const Event& ev);

}  // namespace pwru
