// Reads `nft -a list table` text (libnftables' output with handles): each rule's chain and text,
// each base chain's hook. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace pwru::nf {

struct ListedRule {
  std::string chain;
  std::string text;  // without the trailing "# handle N"
};

struct TableListing {
  std::map<uint64_t, ListedRule> rules;     // by handle: unique within a table
  std::map<std::string, std::string> hooks; // base chain -> hook ("input")
};

TableListing parse_table_listing(std::string_view text);

}  // namespace pwru::nf
