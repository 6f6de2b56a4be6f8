// parse_table_listing: the line shapes of nft's listing (src/rule.c, chain_print and rule_print);
// use_iptables_text: iptables-nft-save's (`:CHAIN`, `-N`, `-A`); RuleHistory: texts per handle.
#include "nf/listing.h"

#include <cstdlib>
#include <optional>
#include <set>

namespace pwru::nf {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "... # handle 12" -> 12, and the line without it.
std::optional<uint64_t> split_handle(std::string_view& line) {
  constexpr std::string_view kMark = " # handle ";
  const size_t at = line.rfind(kMark);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string digits(line.substr(at + kMark.size()));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  line = trim(line.substr(0, at));
  return std::strtoull(digits.c_str(), nullptr, 10);
}

std::string_view word_after(std::string_view line, std::string_view key) {
  const size_t at = line.find(key);
  if (at == std::string_view::npos) return {};
  std::string_view rest = line.substr(at + key.size());
  return rest.substr(0, rest.find_first_of(" ;\t"));
}

}  // namespace

TableListing parse_table_listing(std::string_view text) {
  TableListing out;
  std::string chain;  // empty outside a chain (in a set, a map, a flowtable, ...)
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    const auto handle = split_handle(line);
    if (line.ends_with("{")) {
      // A block opens: "chain NAME {" holds rules; sets, maps and the table hold none.
      chain = line.starts_with("chain ") ? std::string(word_after(line, "chain ")) : std::string();
      continue;
    }
    if (line == "}") {
      chain.clear();
      continue;
    }
    if (chain.empty()) continue;
    if (!handle) {
      // "type filter hook input priority filter; policy accept;" names a base chain's hook.
      if (line.starts_with("type ")) {
        if (auto hook = word_after(line, " hook "); !hook.empty()) out.hooks[chain] = hook;
      }
      continue;
    }
    out.rules[*handle] = ListedRule{chain, std::string(line)};
    out.order[chain].push_back(*handle);
  }
  return out;
}

bool maybe_iptables_table(uint8_t family, std::string_view table) {
  constexpr uint8_t kIp = 2, kIp6 = 10;
  if (family != kIp && family != kIp6) return false;
  for (std::string_view name : {"filter", "nat", "mangle", "raw", "security"}) {
    if (table == name) return true;
  }
  return false;
}

bool use_iptables_text(TableListing& listing, std::string_view save) {
  std::set<std::string> declared;
  std::map<std::string, std::vector<std::string>> lines;  // chain -> its -A lines, in order
  while (!save.empty()) {
    const size_t nl = save.find('\n');
    const std::string_view line = trim(save.substr(0, nl));
    save = nl == std::string_view::npos ? std::string_view{} : save.substr(nl + 1);
    if (line.starts_with(":")) {
      declared.emplace(line.substr(1, line.find(' ') - 1));
    } else if (line.starts_with("-N ")) {
      declared.emplace(line.substr(3, line.find(' ', 3) - 3));
    } else if (line.starts_with("-A ")) {
      lines[std::string(line.substr(3, line.find(' ', 3) - 3))].emplace_back(line);
    }
  }
  for (const auto& [chain, rules] : lines) {
    const auto it = listing.order.find(chain);
    if (it == listing.order.end() || it->second.size() != rules.size()) return false;
  }
  std::set<std::string> chains;
  for (const auto& [handle, rule] : listing.rules) chains.insert(rule.chain);
  for (const auto& [chain, hook] : listing.hooks) chains.insert(chain);
  for (const auto& chain : chains) {
    if (!declared.contains(chain)) return false;
  }
  for (const auto& [chain, handles] : listing.order) {
    const auto it = lines.find(chain);
    if (it == lines.end() || it->second.size() != handles.size()) return false;
  }
  for (const auto& [handle, rule] : listing.rules) {
    if (rule.text.find('{') != std::string::npos || rule.text.find('@') != std::string::npos) {
      return false;
    }
  }
  for (const auto& [chain, handles] : listing.order) {
    for (size_t i = 0; i < handles.size(); ++i) listing.rules[handles[i]].text = lines[chain][i];
  }
  return true;
}

const RuleHistory::Entry* RuleHistory::find(uint8_t family, const std::string& table,
                                            uint64_t handle) const {
  const auto it = entries_.find(Key{family, table, handle});
  return it == entries_.end() ? nullptr : &it->second;
}

void RuleHistory::listed(uint8_t family, const std::string& table, const TableListing& listing,
                         const std::set<uint64_t>& later) {
  for (const auto& [handle, rule] : listing.rules) {
    if (later.contains(handle)) continue;
    Entry& e = entries_[Key{family, table, handle}];
    // A deleted handle listed again is a new rule under an old handle: not the deleted one's.
    if (e.text || e.deleted) continue;
    e.chain = rule.chain;
    e.text = rule.text;
  }
}

NfRuleState RuleHistory::changed(const RuleChange& change) {
  if (!change.handle) {
    for (auto& [key, e] : entries_) {
      if (std::get<0>(key) == change.family && std::get<1>(key) == change.table) e.deleted = true;
    }
    return NfRuleState::Deleted;
  }
  const Key key{change.family, change.table, *change.handle};
  if (!change.added) {
    entries_[key].deleted = true;  // the text stays: traces read before this named it
    return NfRuleState::Deleted;
  }
  // A new rule: its text is read when a trace names it.
  entries_.insert_or_assign(key, Entry{change.chain, std::nullopt, false});
  return NfRuleState::Changed;
}

}  // namespace pwru::nf
