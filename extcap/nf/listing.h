// Reads `nft -a list table` text (libnftables' output with handles): each rule's chain and text,
// each base chain's hook; puts iptables-nft-save's lines in place of the text. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace pwru::nf
