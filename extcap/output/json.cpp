// Renders events as JSON lines with a small writer: the values are strings, numbers, null and
// one level of nesting, which needs no library.
#include "output/json.h"

#include <cinttypes>
#include <cstdio>

namespace pwru {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when it is not one (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// Builds one object: `{"a":1,"b":"x"}`, commas placed by the writer.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_ += '{'; }

  JsonObject& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
    return *this;
  }
  void string(std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out_, value);
  }
  void number(std::string_view name, uint64_t value) {
    key(name);
    out_ += std::to_string(value);
  }
  void null(std::string_view name) { key(name).out_ += "null"; }
  void close() { out_ += '}'; }
  std::string& out() { return out_; }

 private:
  std::string& out_;
  bool first_ = true;
};

// `value`, or null when empty.
void optional_string(JsonObject& o, std::string_view name, const std::string& value) {
  if (value.empty()) {
    o.null(name);
  } else {
    o.string(name, value);
  }
}

// --output-skb-metadata: "skb_meta":{"skb->dev->ifindex":11,"skb->dev->name":"veth0"}, numbers
// as numbers, null where the value was not readable (a null pointer on the way).
void skb_meta_json(JsonObject& o, const Event& ev) {
  o.key("skb_meta");
  JsonObject m(o.out());
  for (const SkbMeta& item : ev.meta) {
    if (!item.value) {
      m.null(item.name);
      continue;
    }
    const std::string& v = *item.value;
    const size_t digits = v.find_first_not_of("0123456789", v.starts_with('-') ? 1 : 0);
    const bool integer = digits == std::string::npos && !v.empty() && v != "-" &&
                         (v.size() == 1 || v[v.starts_with('-') ? 1 : 0] != '0');
    if (integer) {
      m.key(item.name).out() += v;
    } else {
      m.string(item.name, v);
    }
  }
  m.close();
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    if (const size_t n = utf8_sequence(s, i); n != 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

JsonFormatter::JsonFormatter(OutputOptions options)
    : options_(std::move(options)), netns_names_(options_.netns_dir) {}

std::string JsonFormatter::format(const Event& ev) {
  std::string line;
  line.reserve(384);
  JsonObject o(line);
  char skb[24];
  std::snprintf(skb, sizeof skb, "0x%" PRIx64, ev.skb);
  o.string("skb", skb);
  o.number("cpu", ev.cpu);
  o.string("process", process_field(ev));
  o.string("func", ev.func);
  if (options_.caller || is_drop(ev)) {
    if (const std::string caller = caller_field(ev); !caller.empty()) {
      o.string("caller_func", caller);
    } else {
      o.null("caller_func");
    }
  }
  switch (options_.timestamp) {
    case TimestampMode::None: break;
    case TimestampMode::Absolute: o.string("time", absolute_time_field(ev.time_ns)); break;
    case TimestampMode::Current:
    case TimestampMode::Relative:
      o.number("time", timestamp_value(options_.timestamp, ev, clock_));
      break;
  }
  if (options_.meta) {
    o.number("netns", ev.netns);
    if (options_.netns_names) o.string("netns_name", netns_names_.name(ev.netns));
    o.number("mark", ev.mark);
    o.string("iface", iface_field(ev));
    o.number("proto", ev.protocol);
    o.number("mtu", ev.mtu);
    o.number("len", ev.len);
  } else if (options_.netns_names) {
    o.string("netns_name", netns_names_.name(ev.netns));
  }
  if (options_.tuple) {
    if (ev.ip_version == 4 || ev.ip_version == 6) {
      o.key("tuple");
      JsonObject t(o.out());
      t.string("saddr", address_field(ev, ev.saddr));
      t.string("daddr", address_field(ev, ev.daddr));
      t.number("sport", ev.has_ports ? ev.sport : 0);
      t.number("dport", ev.has_ports ? ev.dport : 0);
      t.number("proto", ev.l4proto);
      if (options_.tcp_flags) t.string("flags", ev.tcp_flags ? tcp_flags_field(*ev.tcp_flags) : "");
      t.close();
    } else {
      o.null("tuple");
    }
  }
  if (options_.tunnel) {
    // pwru's tunnel_tuple, null without a tunnel as tuple is without an IP header.
    const changes::IpHeader inner = tunnel_inner(ev);
    if (inner.version == 4 || inner.version == 6) {
      o.key("tunnel_tuple");
      JsonObject t(o.out());
      t.string("saddr", ip_address_field(inner, true));
      t.string("daddr", ip_address_field(inner, false));
      t.number("sport", inner.has_ports ? inner.sport : 0);
      t.number("dport", inner.has_ports ? inner.dport : 0);
      t.number("proto", inner.l4proto);
      if (options_.tcp_flags) t.string("flags", inner.has_tcp_flags ? tcp_flags_field(inner.tcp_flags) : "");
      t.close();
    } else {
      o.null("tunnel_tuple");
    }
  }
  if (options_.stack) {
    o.key("stack");
    line += '[';
    for (size_t i = 0; i < ev.stack.size(); ++i) {
      if (i > 0) line += ',';
      append_json_string(line, ev.stack[i]);
    }
    line += ']';
  }
  if (options_.skb) o.string("skb_metadata", skb_dump(ev));
  if (!ev.meta.empty()) skb_meta_json(o, ev);
  if (ev.shinfo) {
    // pwru's key; its value there is the kernel's dump of the struct, here its fields.
    const SharedInfo& s = *ev.shinfo;
    o.key("skb_shared_info");
    JsonObject j(o.out());
    j.number("nr_frags", s.nr_frags);
    j.number("gso_size", s.gso_size);
    j.number("gso_segs", s.gso_segs);
    j.number("gso_type", s.gso_type);
    j.number("tx_flags", s.tx_flags);
    j.number("flags", s.flags);
    j.number("meta_len", s.meta_len);
    j.number("dataref", s.dataref);
    j.number("tskey", s.tskey);
    char frag[24];
    std::snprintf(frag, sizeof frag, "0x%" PRIx64, s.frag_list);
    j.string("frag_list", frag);
    j.close();
  }
  if (!ev.cb.empty()) {
    // pwru's key: the control buffer's 32-bit words.
    o.key("cb");
    line += '[';
    const std::vector<uint32_t> words = cb_words(ev.cb);
    for (size_t i = 0; i < words.size(); ++i) {
      if (i > 0) line += ',';
      line += std::to_string(words[i]);
    }
    line += ']';
  }
  if (!ev.drop_reason) {
    o.null("drop_reason");
  } else {
    o.string("drop_reason", ev.drop_reason_name.empty() ? std::to_string(*ev.drop_reason)
                                                        : ev.drop_reason_name);
  }
  if (options_.hints) {
    if (ev.drop_reason) {
      o.string("drop_reason_help", drop_reason_help(ev));
    } else {
      o.null("drop_reason_help");
    }
  }
  if (ev.nf) {
    // --nf-trace's rule; names as nft writes them, the verdict as its keyword. Unknown: null.
    const NfRule& nf = *ev.nf;
    o.string("nf_family", nf_family_name(nf.family));
    optional_string(o, "nf_hook", nf.hook);
    o.string("nf_table", nf.table);
    o.string("nf_chain", nf.chain);
    if (nf.handle) {
      o.number("nf_handle", *nf.handle);
    } else {
      o.null("nf_handle");
    }
    optional_string(o, "nf_rule", nf.rule);
    o.string("nf_verdict", nf_verdict_name(nf.verdict));
    o.string("nf_tie", nf_tie_name(nf.tie));
    o.string("nf_rule_state", nf_rule_state_name(nf.state));
    optional_string(o, "nf_jump_target", nf.jump_target);
    if (nf.type == NfTraceType::Unknown) {
      o.null("nf_trace_type");
    } else {
      o.string("nf_trace_type", nf_trace_type_name(nf.type));
    }
    if (nf.trace_id) {
      o.string("nf_trace_id", nf_trace_id_text(*nf.trace_id));
    } else {
      o.null("nf_trace_id");
    }
  }
  if (ev.nf_trace_lost) o.number("nf_trace_lost", *ev.nf_trace_lost);
  if (ev.bpf) {
    // A tc or XDP program's entry or return (func is pwru's "name(tc)"): its id, and on the
    // return its verdict; null on the entry.
    o.number("bpf_prog_id", ev.bpf->id);
    if (ev.bpf->verdict) {
      o.string("verdict", bpf_verdict_field(*ev.bpf));
    } else {
      o.null("verdict");
    }
  }
  if (ev.diagnosis) {
    // --diagnose's finding, on the drops that have one.
    o.key("diagnosis");
    JsonObject d(o.out());
    d.string("kind", diagnosis_kind_name(*ev.diagnosis));
    d.string("text", ev.diagnosis->text);
    d.close();
  }
  if (ev.stack_id) {
    // --filter-track-skb-by-stackid: the stack, and why the event was kept.
    char id[24];
    std::snprintf(id, sizeof id, "0x%" PRIx64, *ev.stack_id);
    o.string("stack_id", id);
    o.string("kept_by", stack_kept_name(ev.stack_kept));
  }
  o.string("probe", probe_kind_name(ev.probe));
  changes::Changes changed;
  o.number("journey", journeys_.step(ev, &changed));
  if (changed.count != 0) {
    o.key("changed");
    JsonObject c(o.out());
    for (uint8_t i = 0; i < changed.count; ++i)
      c.string(changes::kind_name(changed.list[i].kind), change_value(changed.list[i]));
    c.close();
  }
  o.close();
  return line;
}

}  // namespace pwru
