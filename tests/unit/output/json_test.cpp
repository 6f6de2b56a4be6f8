// JsonFormatter: every line parsed back by a strict RFC 8259 parser written here, pwru's keys and
// ours checked with their types, each flag adding its keys, and strings that need escaping.
#include "output/json.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "sample_events.h"

namespace pwru {
namespace {

// --- a strict JSON parser: anything it accepts, any JSON parser accepts ---

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  std::optional<uint64_t> integer;  // set for a non-negative integer without fraction/exponent
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* get(const std::string& key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& m : members) out.push_back(m.first);
    return out;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  // The whole text must be one value, surrounded by nothing but JSON whitespace.
  std::optional<Json> parse_document() {
    Json v;
    if (!value(v)) return std::nullopt;
    ws();
    if (i_ != s_.size()) return fail("trailing characters");
    return v;
  }
  std::string error;

 private:
  std::nullopt_t fail(const std::string& why) {
    if (error.empty()) error = why + " at " + std::to_string(i_);
    return std::nullopt;
  }
  bool failb(const std::string& why) {
    fail(why);
    return false;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return failb("bad literal");
    i_ += word.size();
    return true;
  }
  bool value(Json& v) {
    ws();
    if (i_ >= s_.size()) return failb("value expected");
    switch (s_[i_]) {
      case '{': return object(v);
      case '[': return array(v);
      case '"': v.kind = Json::String; return string(v.str);
      case 't': v.kind = Json::Bool; v.boolean = true; return literal("true");
      case 'f': v.kind = Json::Bool; return literal("false");
      case 'n': v.kind = Json::Null; return literal("null");
      default: return number(v);
    }
  }
  bool object(Json& v) {
    v.kind = Json::Object;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
    std::set<std::string> seen;
    for (;;) {
      ws();
      std::string key;
      if (i_ >= s_.size() || s_[i_] != '"' || !string(key)) return failb("key expected");
      if (!seen.insert(key).second) return failb("duplicate key " + key);
      ws();
      if (i_ >= s_.size() || s_[i_] != ':') return failb("':' expected");
      ++i_;
      Json member;
      if (!value(member)) return false;
      v.members.emplace_back(key, std::move(member));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      return failb("',' or '}' expected");
    }
  }
  bool array(Json& v) {
    v.kind = Json::Array;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
    for (;;) {
      Json item;
      if (!value(item)) return false;
      v.items.push_back(std::move(item));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      return failb("',' or ']' expected");
    }
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool hex4(uint32_t& cp) {
    if (i_ + 4 > s_.size()) return failb("short \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= c - '0';
      else if (c >= 'a' && c <= 'f') cp |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') cp |= c - 'A' + 10;
      else return failb("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return failb("raw control character in a string");
      if (c == '\\') {
        if (++i_ >= s_.size()) return failb("dangling backslash");
        const char e = s_[i_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t cp;
            if (!hex4(cp)) return false;
            if (cp >= 0xd800 && cp <= 0xdfff) return failb("surrogates are not expected");
            put_utf8(out, cp);
            break;
          }
          default: return failb("bad escape");
        }
        continue;
      }
      if (c >= 0x80) {  // must be valid UTF-8
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (n == 0 || c > 0xf4 || i_ + n > s_.size()) return failb("invalid UTF-8");
        for (size_t k = 1; k < n; ++k)
          if ((static_cast<unsigned char>(s_[i_ + k]) & 0xc0) != 0x80) return failb("invalid UTF-8");
        out.append(s_.substr(i_, n));
        i_ += n;
        continue;
      }
      out += static_cast<char>(c);
      ++i_;
    }
    return failb("unterminated string");
  }
  bool number(Json& v) {
    v.kind = Json::Number;
    const size_t start = i_;
    bool plain = true;
    if (s_[i_] == '-') { ++i_; plain = false; }
    if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return failb("bad value");
    if (s_[i_] == '0' && i_ + 1 < s_.size() && isdigit(static_cast<unsigned char>(s_[i_ + 1])))
      return failb("leading zero");
    while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      plain = false;
      if (++i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return failb("bad fraction");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      plain = false;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return failb("bad exponent");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    if (plain) v.integer = std::stoull(std::string(s_.substr(start, i_ - start)));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

Json parse(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a JSON line spans lines: " << line;
  Parser p(line);
  auto v = p.parse_document();
  EXPECT_TRUE(v.has_value()) << p.error << ": " << line;
  EXPECT_TRUE(v && v->kind == Json::Object) << line;
  return v.value_or(Json{});
}

using sample::icmp_event;
using sample::netfilter_drop;
using sample::named_netfilter_drop;

std::string str(const Json& o, const std::string& key) {
  const Json* v = o.get(key);
  EXPECT_TRUE(v && v->kind == Json::String) << key;
  return v && v->kind == Json::String ? v->str : "<not a string>";
}
uint64_t num(const Json& o, const std::string& key) {
  const Json* v = o.get(key);
  EXPECT_TRUE(v && v->integer) << key;
  return v && v->integer ? *v->integer : ~0ull;
}
bool is_null(const Json& o, const std::string& key) {
  const Json* v = o.get(key);
  return v && v->kind == Json::Null;
}

TEST(JsonOutput, NoHeader) { EXPECT_EQ(JsonFormatter(OutputOptions{}).header(), ""); }

// The default flags: pwru's keys for meta and tuple, in pwru's order, then ours; zero values kept.
TEST(JsonOutput, DefaultKeysAndValues) {
  JsonFormatter f(OutputOptions{});
  Event ev = icmp_event();
  ev.cpu = 0;  // pwru would leave out a zero; a key that comes and goes breaks scripts
  const Json o = parse(f.format(ev));
  EXPECT_EQ(o.keys(), (std::vector<std::string>{"skb", "cpu", "process", "func", "netns", "mark",
                                                "iface", "proto", "mtu", "len", "tuple",
                                                "drop_reason", "drop_reason_help", "probe",
                                                "journey"}));
  EXPECT_EQ(str(o, "skb"), "0xffff99cf11aa4100");
  EXPECT_EQ(num(o, "cpu"), 0u);
  EXPECT_EQ(str(o, "process"), "ping:1234");
  EXPECT_EQ(str(o, "func"), "net_dev_queue");
  EXPECT_EQ(num(o, "netns"), 4026531840u);
  EXPECT_EQ(num(o, "mark"), 0u);
  EXPECT_EQ(str(o, "iface"), "veth1:5");
  EXPECT_EQ(num(o, "proto"), 0x0800u);
  EXPECT_EQ(num(o, "mtu"), 1500u);
  EXPECT_EQ(num(o, "len"), 84u);
  const Json* t = o.get("tuple");
  ASSERT_TRUE(t && t->kind == Json::Object);
  EXPECT_EQ(t->keys(), (std::vector<std::string>{"saddr", "daddr", "sport", "dport", "proto"}));
  EXPECT_EQ(str(*t, "saddr"), "10.0.0.1");
  EXPECT_EQ(str(*t, "daddr"), "10.0.0.2");
  EXPECT_EQ(num(*t, "sport"), 0u);
  EXPECT_EQ(num(*t, "dport"), 0u);
  EXPECT_EQ(num(*t, "proto"), 1u);
  EXPECT_TRUE(is_null(o, "drop_reason"));
  EXPECT_TRUE(is_null(o, "drop_reason_help"));
  EXPECT_EQ(str(o, "probe"), "tracepoint");
  EXPECT_EQ(num(o, "journey"), 0u);
}

TEST(JsonOutput, DropCarriesReasonAndCaller) {
  JsonFormatter f(OutputOptions{});
  const Json o = parse(f.format(netfilter_drop()));
  EXPECT_EQ(str(o, "func"), "kfree_skb");  // plain, so jq 'select(.func == "kfree_skb")' works
  EXPECT_EQ(str(o, "drop_reason"), "NETFILTER_DROP");
  EXPECT_EQ(str(o, "caller_func"), "nf_hook_slow+0x9b");
  Event unnamed = netfilter_drop();
  unnamed.drop_reason_name.clear();
  unnamed.caller.clear();
  unnamed.caller_addr = 0;
  const Json u = parse(f.format(unnamed));
  EXPECT_EQ(str(u, "drop_reason"), "6");
  EXPECT_TRUE(is_null(u, "caller_func"));
}

// --output-hints (on by default): drop_reason_help beside drop_reason, by its name
// (pwru_reasons.h); a name the table does not know says so; no key with --output-hints=false.
TEST(JsonOutput, DropReasonHelp) {
  JsonFormatter f(OutputOptions{});
  const Json o = parse(f.format(netfilter_drop()));
  EXPECT_TRUE(str(o, "drop_reason_help").starts_with("a netfilter rule or chain policy dropped "
                                                     "it; check: nft list ruleset"))
      << str(o, "drop_reason_help");
  Event future = netfilter_drop();
  future.drop_reason_name = "SOME_FUTURE_REASON";
  EXPECT_EQ(str(parse(f.format(future)), "drop_reason_help"), "no explanation is known yet");
  OutputOptions off;
  off.hints = false;
  EXPECT_EQ(parse(JsonFormatter(off).format(netfilter_drop())).get("drop_reason_help"), nullptr);
}

// --diagnose: {"kind": name, "text": words} on a drop that has one; no key otherwise.
TEST(JsonOutput, Diagnosis) {
  JsonFormatter f(OutputOptions{});
  Event ev = netfilter_drop();
  ev.diagnosis = Diagnosis{PWRU_DIAG_FORWARDING_OFF, "forwarding is \"off\""};
  const Json o = parse(f.format(ev));
  const Json* d = o.get("diagnosis");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->keys(), (std::vector<std::string>{"kind", "text"}));
  EXPECT_EQ(str(*d, "kind"), "forwarding_off");
  EXPECT_EQ(str(*d, "text"), "forwarding is \"off\"");
  ev.diagnosis->kind = 200;  // a newer writer's
  EXPECT_EQ(str(*parse(f.format(ev)).get("diagnosis"), "kind"), "kind_200");
  EXPECT_EQ(parse(f.format(netfilter_drop())).get("diagnosis"), nullptr);
}

// --output-skb-metadata, --output-skb-shared-info, --output-skb-cb: skb_meta keyed by the
// expression (numbers as numbers, null where unread), skb_shared_info and cb as pwru names them.
TEST(JsonOutput, SkbFields) {
  JsonFormatter f(OutputOptions{});
  Event ev = netfilter_drop();
  EXPECT_EQ(parse(f.format(ev)).get("skb_meta"), nullptr);
  ev.meta = {{"skb->dev->ifindex", "7"}, {"skb->sk->sk_protocol", std::nullopt},
             {"skb->dev->name", "veth-b"}, {"skb->dev", "0xffff888012340000"},
             {"skb->cb[0]", "0"}, {"skb->priority", "007"}};
  ev.shinfo = SharedInfo{0x11, 0, 1, 1448, 3, 1, 0, 0, 0, 0};
  ev.cb.assign(PWRU_CB_LEN, 0);
  ev.cb[4] = 0x2a;
  const Json o = parse(f.format(ev));
  const Json* m = o.get("skb_meta");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->keys(), (std::vector<std::string>{"skb->dev->ifindex", "skb->sk->sk_protocol",
                                                 "skb->dev->name", "skb->dev", "skb->cb[0]",
                                                 "skb->priority"}));
  EXPECT_EQ(num(*m, "skb->dev->ifindex"), 7u);
  EXPECT_TRUE(is_null(*m, "skb->sk->sk_protocol"));
  EXPECT_EQ(str(*m, "skb->dev->name"), "veth-b");
  EXPECT_EQ(str(*m, "skb->dev"), "0xffff888012340000");
  EXPECT_EQ(num(*m, "skb->cb[0]"), 0u);
  EXPECT_EQ(str(*m, "skb->priority"), "007");  // not a JSON number: kept as text
  const Json* s = o.get("skb_shared_info");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(num(*s, "gso_size"), 1448u);
  EXPECT_EQ(num(*s, "gso_segs"), 3u);
  EXPECT_EQ(num(*s, "gso_type"), 0x11u);
  EXPECT_EQ(num(*s, "nr_frags"), 1u);
  EXPECT_EQ(str(*s, "frag_list"), "0x0");
  const Json* cb = o.get("cb");
  ASSERT_NE(cb, nullptr);
  ASSERT_EQ(cb->items.size(), 12u);
  EXPECT_EQ(cb->items[1].integer, 0x2au);
}

// A tc or XDP program's event: pwru's func, the program's id, and the verdict (null at entry); a
// drop verdict carries caller_func like every drop.
TEST(JsonOutput, BpfProgramEvents) {
  JsonFormatter f(OutputOptions{});
  Event ev = netfilter_drop();
  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  ev.func = "cil_from_container(tc)";
  ev.bpf = BpfProg{"cil_from_container", 7, PWRU_BPF_HOOK_TC, std::nullopt};
  Json o = parse(f.format(ev));
  EXPECT_EQ(str(o, "func"), "cil_from_container(tc)");
  EXPECT_EQ(num(o, "bpf_prog_id"), 7u);
  EXPECT_TRUE(is_null(o, "verdict"));
  EXPECT_EQ(o.get("caller_func"), nullptr);  // no drop, no --output-caller
  ev.bpf->verdict = 2;
  o = parse(f.format(ev));
  EXPECT_EQ(str(o, "verdict"), "TC_ACT_SHOT");
  EXPECT_NE(o.get("caller_func"), nullptr);
  ev.bpf->hook = PWRU_BPF_HOOK_XDP;
  ev.bpf->verdict = 9;  // no name: the number
  EXPECT_EQ(str(parse(f.format(ev)), "verdict"), "9");
  EXPECT_EQ(parse(f.format(netfilter_drop())).get("bpf_prog_id"), nullptr);
}

// --filter-track-skb-by-stackid: the stack id in hex and why the event was kept; no keys without.
TEST(JsonOutput, StackId) {
  JsonFormatter f(OutputOptions{});
  Event ev = netfilter_drop();
  ev.stack_id = 0xffffc90000a4c000ull;
  ev.stack_kept = PWRU_STACK_KEPT_BY_STACKID;
  Json o = parse(f.format(ev));
  EXPECT_EQ(str(o, "stack_id"), "0xffffc90000a4c000");
  EXPECT_EQ(str(o, "kept_by"), "stackid");
  ev.stack_kept = 0;
  EXPECT_EQ(str(parse(f.format(ev)), "kept_by"), "filter");
  EXPECT_EQ(parse(f.format(netfilter_drop())).get("stack_id"), nullptr);
}

// --nf-trace's keys, only on a drop that was named.
TEST(JsonOutput, NamedDropCarriesTheRule) {
  JsonFormatter f(OutputOptions{});
  const Json o = parse(f.format(named_netfilter_drop()));
  EXPECT_EQ(str(o, "nf_family"), "inet");
  EXPECT_EQ(str(o, "nf_hook"), "input");
  EXPECT_EQ(str(o, "nf_table"), "demo");
  EXPECT_EQ(str(o, "nf_chain"), "c2");
  EXPECT_EQ(num(o, "nf_handle"), 4u);
  EXPECT_EQ(str(o, "nf_rule"), named_netfilter_drop().nf->rule);
  EXPECT_EQ(str(o, "nf_verdict"), "drop");
  EXPECT_EQ(str(o, "nf_tie"), "headers");
  EXPECT_EQ(str(o, "nf_rule_state"), "current");
  EXPECT_TRUE(is_null(o, "nf_jump_target"));
  EXPECT_TRUE(is_null(o, "nf_trace_type"));
  EXPECT_TRUE(is_null(o, "nf_trace_id"));
  Event policy = named_netfilter_drop();
  policy.nf->handle.reset();
  policy.nf->rule.clear();
  policy.nf->tie = NfTie::Exact;
  policy.nf->trace_id = 0x0df8692e;
  const Json p = parse(f.format(policy));
  EXPECT_TRUE(is_null(p, "nf_handle"));
  EXPECT_TRUE(is_null(p, "nf_rule"));
  EXPECT_EQ(str(p, "nf_tie"), "exact");
  EXPECT_EQ(str(p, "nf_trace_id"), "0df8692e");
  EXPECT_EQ(parse(f.format(netfilter_drop())).get("nf_table"), nullptr);
}

// --nf-trace's record of lost trace messages: its count, and no nf_ key of a rule.
TEST(JsonOutput, NfTraceLostRecord) {
  JsonFormatter f(OutputOptions{});
  Event ev;
  ev.func = "nf_trace_lost";
  ev.netns = 4026532239;
  ev.nf_trace_lost = 3;
  const Json o = parse(f.format(ev));
  EXPECT_EQ(str(o, "func"), "nf_trace_lost");
  EXPECT_EQ(num(o, "nf_trace_lost"), 3u);
  EXPECT_EQ(o.get("nf_table"), nullptr);
  EXPECT_EQ(parse(f.format(named_netfilter_drop())).get("nf_trace_lost"), nullptr);
}

// A rule passed: its own line, probe nftrace, the jump's target and the trace type; a rule
// replaced since says so.
TEST(JsonOutput, RulePassedCarriesItsVerdict) {
  JsonFormatter f(OutputOptions{});
  Event ev = sample::passed_jump();
  ev.nf->state = NfRuleState::Changed;
  const Json o = parse(f.format(ev));
  EXPECT_EQ(str(o, "probe"), "nftrace");
  EXPECT_EQ(str(o, "nf_chain"), "input");
  EXPECT_EQ(num(o, "nf_handle"), 3u);
  EXPECT_EQ(str(o, "nf_verdict"), "jump");
  EXPECT_EQ(str(o, "nf_jump_target"), "c2");
  EXPECT_EQ(str(o, "nf_trace_type"), "rule");
  EXPECT_EQ(str(o, "nf_rule_state"), "changed");
  EXPECT_EQ(str(o, "nf_rule"), "ip protocol icmp jump c2");
  EXPECT_TRUE(is_null(o, "drop_reason"));
}

TEST(JsonOutput, Ipv6TupleAndNoTuple) {
  JsonFormatter f(OutputOptions{});
  Event ev = icmp_event();
  ev.ip_version = 6;
  inet_pton(AF_INET6, "fd00::1", ev.saddr.data());
  inet_pton(AF_INET6, "fd00::2", ev.daddr.data());
  ev.l4proto = 6;
  ev.has_ports = true;
  ev.sport = 443;
  ev.dport = 55000;
  const Json o = parse(f.format(ev));
  const Json* t = o.get("tuple");
  ASSERT_TRUE(t && t->kind == Json::Object);
  EXPECT_EQ(str(*t, "saddr"), "[fd00::1]");  // as pwru: brackets, here too
  EXPECT_EQ(num(*t, "sport"), 443u);
  EXPECT_EQ(num(*t, "dport"), 55000u);
  EXPECT_EQ(num(*t, "proto"), 6u);
  ev.ip_version = 0;
  EXPECT_TRUE(is_null(parse(f.format(ev)), "tuple"));
}

// --output-tunnel: pwru's tunnel_tuple, the tuple inside the tunnel; null without one.
TEST(JsonOutput, TunnelTuple) {
  OutputOptions options;
  options.tunnel = true;
  JsonFormatter f(options);
  const Json o = parse(f.format(sample::vxlan_event()));
  EXPECT_EQ(str(*o.get("tuple"), "daddr"), "172.16.0.2");
  const Json* t = o.get("tunnel_tuple");
  ASSERT_TRUE(t && t->kind == Json::Object);
  EXPECT_EQ(t->keys(), (std::vector<std::string>{"saddr", "daddr", "sport", "dport", "proto"}));
  EXPECT_EQ(str(*t, "saddr"), "10.0.0.1");
  EXPECT_EQ(str(*t, "daddr"), "10.0.0.2");
  EXPECT_EQ(num(*t, "sport"), 0u);
  EXPECT_EQ(num(*t, "proto"), 1u);
  EXPECT_TRUE(is_null(parse(f.format(icmp_event())), "tunnel_tuple"));
  EXPECT_EQ(parse(JsonFormatter({}).format(sample::vxlan_event())).get("tunnel_tuple"), nullptr);
  // With --output-tcp-flags, flags as in tuple: empty for ICMP.
  options.tcp_flags = true;
  const Json with_flags = parse(JsonFormatter(options).format(sample::vxlan_event()));
  EXPECT_EQ(str(*with_flags.get("tunnel_tuple"), "flags"), "");
}

// Each flag adds (or removes) exactly its keys.
TEST(JsonOutput, EachFlagChangesItsKeys) {
  setenv("TZ", "UTC", 1);
  tzset();
  const std::vector<std::string> base_keys = parse(JsonFormatter({}).format(icmp_event())).keys();
  struct Case {
    const char* name;
    void (*set)(OutputOptions&);
    std::set<std::string> added, removed;
  };
  const Case cases[] = {
      {"meta", [](OutputOptions& o) { o.meta = false; }, {},
       {"netns", "mark", "iface", "proto", "mtu", "len"}},
      {"tuple", [](OutputOptions& o) { o.tuple = false; }, {}, {"tuple"}},
      {"caller", [](OutputOptions& o) { o.caller = true; }, {"caller_func"}, {}},
      {"stack", [](OutputOptions& o) { o.stack = true; }, {"stack"}, {}},
      {"skb", [](OutputOptions& o) { o.skb = true; }, {"skb_metadata"}, {}},
      {"netns_names", [](OutputOptions& o) { o.netns_names = true; o.netns_dir = "/nonexistent"; },
       {"netns_name"}, {}},
      {"timestamp", [](OutputOptions& o) { o.timestamp = TimestampMode::Current; }, {"time"}, {}},
      {"tcp_flags", [](OutputOptions& o) { o.tcp_flags = true; }, {}, {}},  // inside the tuple
      {"tunnel", [](OutputOptions& o) { o.tunnel = true; }, {"tunnel_tuple"}, {}},
  };
  for (const Case& c : cases) {
    OutputOptions options;
    c.set(options);
    const std::vector<std::string> keys = parse(JsonFormatter(options).format(icmp_event())).keys();
    std::set<std::string> before(base_keys.begin(), base_keys.end()), after(keys.begin(), keys.end());
    std::set<std::string> added, removed;
    for (const auto& k : after)
      if (!before.count(k)) added.insert(k);
    for (const auto& k : before)
      if (!after.count(k)) removed.insert(k);
    EXPECT_EQ(added, c.added) << c.name;
    EXPECT_EQ(removed, c.removed) << c.name;
  }
}

TEST(JsonOutput, FlagValues) {
  setenv("TZ", "UTC", 1);
  tzset();
  OutputOptions o;
  o.stack = o.caller = o.tcp_flags = o.skb = true;
  o.timestamp = TimestampMode::Absolute;
  Event ev = icmp_event();
  ev.l4proto = 6;
  ev.tcp_flags = 0x02;
  const Json j = parse(JsonFormatter(o).format(ev));
  EXPECT_EQ(str(j, "time"), "2023-11-14T22:13:20.123");
  EXPECT_EQ(str(j, "caller_func"), "ip_finish_output2+0x1a3");
  const Json* stack = j.get("stack");
  ASSERT_TRUE(stack && stack->kind == Json::Array);
  ASSERT_EQ(stack->items.size(), 3u);
  EXPECT_EQ(stack->items[0].str, "__dev_queue_xmit+0x5e2");
  EXPECT_EQ(str(*j.get("tuple"), "flags"), "SYN");
  EXPECT_NE(str(j, "skb_metadata").find("len:      84"), std::string::npos);

  o.timestamp = TimestampMode::Relative;
  JsonFormatter rel(o);
  EXPECT_EQ(num(parse(rel.format(ev)), "time"), 0u);
  ev.ktime_ns += 2500;
  EXPECT_EQ(num(parse(rel.format(ev)), "time"), 2500u);
  o.timestamp = TimestampMode::Current;
  EXPECT_EQ(num(parse(JsonFormatter(o).format(ev)), "time"), 5'000'002'500u);
}

// "changed", last, only where something changed since the journey's previous event: an object
// of kind -> "old -> new" (pwru_changes.h), whatever the flags.
TEST(JsonOutput, ChangedSinceThePreviousHop) {
  JsonFormatter f(OutputOptions{});
  Event ev = icmp_event();
  EXPECT_EQ(parse(f.format(ev)).get("changed"), nullptr);
  ev.netns = 4026532100;
  ev.ifindex = 6;
  ev.ifname = "veth2";
  inet_pton(AF_INET, "10.0.0.9", ev.saddr.data());
  const Json o = parse(f.format(ev));
  EXPECT_EQ(o.keys().back(), "changed");
  const Json* c = o.get("changed");
  ASSERT_TRUE(c && c->kind == Json::Object);
  EXPECT_EQ(c->keys(), (std::vector<std::string>{"snat", "netns", "iface"}));
  EXPECT_EQ(str(*c, "snat"), "10.0.0.1 -> 10.0.0.9");
  EXPECT_EQ(str(*c, "netns"), "4026531840 -> 4026532100");
  EXPECT_EQ(str(*c, "iface"), "veth1:5 -> veth2:6");
  EXPECT_EQ(parse(f.format(ev)).get("changed"), nullptr);  // the same again
}

TEST(JsonOutput, JourneysNumberSkbsFromFirstEventToFree) {
  JsonFormatter f(OutputOptions{});
  Event a = icmp_event(), b = icmp_event();
  b.skb = 0xffff888100000000;
  EXPECT_EQ(num(parse(f.format(a)), "journey"), 0u);
  EXPECT_EQ(num(parse(f.format(b)), "journey"), 1u);
  EXPECT_EQ(num(parse(f.format(netfilter_drop())), "journey"), 0u);  // a's end
  EXPECT_EQ(num(parse(f.format(a)), "journey"), 2u);  // the address again: a new skb
  EXPECT_EQ(num(parse(f.format(b)), "journey"), 1u);
}

TEST(JsonOutput, StringsAreEscapedAndAlwaysUtf8) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\t\x01\x1f/\x7f\0", 12));  // NUL included
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/\x7f\\u0000\"");
  out.clear();
  append_json_string(out, "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6");  // é € 📦 pass through
  EXPECT_EQ(out, "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6\"");
  // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', a surrogate,
  // beyond U+10FFFF.
  for (const std::string& bad : {std::string("\x80"), std::string("\xe2\x82"), std::string("\xc0\xaf"),
                                std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"),
                                std::string("\xff")}) {
    out.clear();
    append_json_string(out, "x" + bad + "y");
    EXPECT_EQ(out.front(), '"');
    EXPECT_NE(out.find("\\ufffd"), std::string::npos) << out;
    Parser p(out);
    auto v = p.parse_document();
    ASSERT_TRUE(v) << p.error << ": " << out;
    EXPECT_EQ(v->str.front(), 'x');
    EXPECT_EQ(v->str.back(), 'y');
  }

  // Whole events with hostile names still parse and say what they hold.
  Event ev = icmp_event();
  ev.comm = "w\"d\\n\xff" "e";
  ev.ifname = "tab\there";
  ev.stack = {"sym\n+0x1"};
  OutputOptions o;
  o.stack = true;
  const Json j = parse(JsonFormatter(o).format(ev));
  EXPECT_EQ(str(j, "process"), "w\"d\\n\xef\xbf\xbd" "e:1234");
  EXPECT_EQ(str(j, "iface"), "tab\there:5");
  EXPECT_EQ(j.get("stack")->items.at(0).str, "sym\n+0x1");
}

// The parser itself refuses what is not JSON, or the tests above prove nothing.
TEST(JsonOutput, TestParserIsStrict) {
  for (const char* bad : {"{\"a\":1,}", "{\"a\":01}", "{\"a\":\"x\ny\"}", "{'a':1}", "{\"a\":1}x",
                          "{\"a\":1,\"a\":2}", "{\"a\":\"\\x\"}", "{\"a\":tru}", "{\"a\" 1}"}) {
    Parser p(bad);
    EXPECT_FALSE(p.parse_document().has_value()) << bad;
  }
}

}  // namespace
}  // namespace pwru
