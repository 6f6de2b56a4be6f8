// Reads `nft -a list table` text (libnftables' output with handles): each rule's chain and text,
// each base chain's hook; puts iptables-nft-save's lines in place of the text; keeps what each
// handle said over the capture (RuleHistory). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#include "record/event.h"

namespace pwru::nf {

struct ListedRule {
  std::string chain;
  std::string text;  // without the trailing "# handle N"
};

struct TableListing {
  std::map<uint64_t, ListedRule> rules;     // by handle: unique within a table
  std::map<std::string, std::string> hooks; // base chain -> hook ("input")
  std::map<std::string, std::vector<uint64_t>> order;  // chain -> its rules' handles, in list
                                                       // order (evaluation order, not handle order)
};

TableListing parse_table_listing(std::string_view text);

// Whether (family, table) may be one iptables-nft made: ip or ip6 and one of its table names.
// iptables-nft-save translates any such table, even a native one it cannot read, so this is only
// the first check; use_iptables_text makes the rest.
bool maybe_iptables_table(uint8_t family, std::string_view table);

// Replaces each rule's text with the `-A CHAIN ...` line of SAVE (iptables-nft-save's output for
// the same table) at the same position of the same chain. Only when the two agree: every chain
// of the listing is declared in SAVE (`:CHAIN` or `-N`), each chain has as many `-A` lines as
// rules, and no rule uses a set (iptables-nft makes none; iptables-nft-save would print such a
// rule without it). Else the listing is left in nft syntax and false is returned.
bool use_iptables_text(TableListing& listing, std::string_view save);

// A rule notification of the ruleset group (NFT_MSG_NEWRULE, NFT_MSG_DELRULE), or a table's
// deletion (NFT_MSG_DELTABLE: no handle), as the listener read it.
struct RuleChange {
  uint8_t family = 0;
  std::string table;
  std::string chain;
  std::optional<uint64_t> handle;  // none: the whole table went
  bool added = false;              // NEWRULE; a replace keeps the handle: DELRULE, then NEWRULE
};

// The text each rule handle had, fed in socket order, so that a trace is named by the rule it
// went through, never by another rule that took its handle later (a replace keeps the handle; a
// table made again counts its handles from 1 again). Keyed (family, table, handle) within one
// namespace: handles are unique within a table.
class RuleHistory {
 public:
  struct Entry {
    std::string chain;
    std::optional<std::string> text;  // none: not listed since the handle got its rule
    bool deleted = false;
  };

  // nullptr: nothing known of the handle.
  const Entry* find(uint8_t family, const std::string& table, uint64_t handle) const;

  // A listing read now, at a later place in the stream than the messages still to be fed: the
  // handles in `later` change after the place being named, so their text here is not theirs yet.
  // Only handles without a text get one: a known text is the one of the handle's present rule.
  void listed(uint8_t family, const std::string& table, const TableListing& listing,
              const std::set<uint64_t>& later);

  // A notification, in stream order. Returns the state to give the rules already traced under
  // the handle (every handle of the table when it went): deleted, or changed when a new rule
  // took a handle (a replace, or a table made again).
  NfRuleState changed(const RuleChange& change);

 private:
  using Key = std::tuple<uint8_t, std::string, uint64_t>;
  std::map<Key, Entry> entries_;
};

}  // namespace pwru::nf
