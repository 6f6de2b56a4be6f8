// Renders events as pwru's text lines.
#include "output/text.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace pwru {

namespace {

constexpr size_t kIfaceWidth = 16;       // pwru: centerAlignString(iface, 16)
constexpr size_t kNetnsNameWidth = 16;   // pwru's --netns-names-max-length default

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

void append_padded(std::string& out, const std::string& s, size_t width) {
  out += s;
  if (s.size() < width) out.append(width - s.size(), ' ');
}

// pwru's centerAlignString: the odd space goes right; a string as wide as the column is kept.
std::string centered(const std::string& s, size_t width) {
  if (s.size() >= width) return s;
  const size_t left = (width - s.size()) / 2;
  return std::string(left, ' ') + s + std::string(width - s.size() - left, ' ');
}

}  // namespace

TextFormatter::TextFormatter(OutputOptions options)
    : options_(std::move(options)), netns_names_(options_.netns_dir) {}

std::string TextFormatter::header() {
  std::string h;
  if (options_.timestamp == TimestampMode::Absolute) h += printf_string("%-23s ", "TIME");
  h += printf_string("%-18s %-3s %-16s", "SKB", "CPU", "PROCESS");
  if (options_.timestamp != TimestampMode::None) h += printf_string(" %-16s", "TIMESTAMP");
  if (options_.meta) {
    h += printf_string(" %-10s %-8s %16s %-6s %-5s %-5s", "NETNS", "MARK/x",
                       centered("IFACE", kIfaceWidth).c_str(), "PROTO", "MTU", "LEN");
  }
  // pwru writes this column without a space before it; one keeps a 5-digit LEN apart.
  if (options_.netns_names) h += " " + centered("NETNS NAME", kNetnsNameWidth);
  if (options_.tuple) h += " TUPLE";
  h += " FUNC";
  if (options_.caller) h += " CALLER";
  if (options_.tunnel) h += " TUNNEL";
  if (options_.changes) h += " CHANGED";
  return h;
}

std::string TextFormatter::format(const Event& ev) {
  std::string line;
  line.reserve(192);
  if (options_.timestamp == TimestampMode::Absolute) {
    line += printf_string("%-23s ", absolute_time_field(ev.time_ns).c_str());
  }
  line += printf_string("%-18s %-3s %-16s", printf_string("0x%" PRIx64, ev.skb).c_str(),
                        std::to_string(ev.cpu).c_str(), process_field(ev).c_str());
  if (options_.timestamp != TimestampMode::None) {
    line += printf_string(" %-16" PRIu64, timestamp_value(options_.timestamp, ev, clock_));
  }
  if (options_.meta) {
    line += printf_string(" %-10s %-8s %16s 0x%04x %-5s %-5s", std::to_string(ev.netns).c_str(),
                          printf_string("%x", ev.mark).c_str(),
                          centered(iface_field(ev), kIfaceWidth).c_str(), ev.protocol,
                          std::to_string(ev.mtu).c_str(), std::to_string(ev.len).c_str());
  }
  if (options_.netns_names) {
    std::string name = netns_names_.name(ev.netns);
    if (name.size() > kNetnsNameWidth) name.resize(kNetnsNameWidth);
    line += " " + centered(name, kNetnsNameWidth);
  }
  if (options_.tuple) {
    const std::string tuple = tuple_field(ev, options_.tcp_flags);
    tuple_width_ = std::max(tuple_width_, tuple.size());
    line += ' ';
    append_padded(line, tuple, tuple_width_);
  }
  const std::string func = func_field(ev);
  const std::string caller = caller_field(ev);
  std::string changed;
  if (options_.changes) {
    changes::Changes c;
    journeys_.step(ev, &c);
    changed = changes_field(c);
  }
  // pwru's TUNNEL column follows FUNC and CALLER.
  const std::string tunnel = options_.tunnel ? tunnel_tuple_field(ev, options_.tcp_flags) : std::string();
  const bool more = !changed.empty() || !tunnel.empty();
  line += ' ';
  if (options_.caller) {
    func_width_ = std::max(func_width_, func.size());
    if (caller.empty() && !more) {
      line += func;  // nothing follows: no trailing spaces
    } else {
      append_padded(line, func, func_width_);
      if (!caller.empty()) line += ' ' + caller;
    }
  } else {
    const bool drop_caller = is_drop(ev) && !caller.empty();
    if (more && !drop_caller && !ev.nf) {
      // CHANGED or TUNNEL follows FUNC: aligned like CALLER would be.
      func_width_ = std::max(func_width_, func.size());
      append_padded(line, func, func_width_);
    } else {
      line += func;
    }
    if (drop_caller) line += " caller=" + caller;
  }
  // A tc or XDP program's return: its verdict, as --nf-trace's rules have theirs.
  if (ev.bpf && ev.bpf->verdict) line += " verdict=" + bpf_verdict_field(*ev.bpf);
  if (ev.nf) line += ' ' + nf_rule_field(*ev.nf);
  if (ev.nf_trace_lost) line += " nf_trace_lost=" + std::to_string(*ev.nf_trace_lost);
  line += skb_meta_field(ev);  // pwru's place: after FUNC and CALLER
  if (!ev.cb.empty()) line += " cb=" + cb_field(ev.cb);
  if (!tunnel.empty()) {
    tunnel_width_ = std::max(tunnel_width_, tunnel.size());
    line += ' ';
    if (changed.empty()) {
      line += tunnel;  // nothing follows: no trailing spaces
    } else {
      append_padded(line, tunnel, tunnel_width_);
    }
  }
  if (!changed.empty()) line += ' ' + changed;
  // The reason is named on the line above; grep for it finds the drop, not its hint.
  if (options_.hints && ev.drop_reason && is_drop(ev)) line += "\n  hint: " + drop_reason_help(ev);
  // What pwrudump found on the system then (--diagnose), under the reason's hint.
  if (ev.diagnosis) line += "\n  diagnosis: " + ev.diagnosis->text;
  if (ev.shinfo) line += "\n  skb_shared_info: " + shinfo_field(*ev.shinfo);
  if (options_.stack) {
    for (const auto& frame : ev.stack) line += "\n" + frame;
  }
  if (options_.skb) line += "\n" + skb_dump(ev);
  return line;
}

}  // namespace pwru
