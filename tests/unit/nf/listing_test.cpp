// parse_table_listing on listings as nft 1.0.6 prints them with -a -s.
#include "nf/listing.h"

#include <gtest/gtest.h>

namespace pwru::nf {
namespace {

void expect_rule(const TableListing& l, uint64_t handle, const std::string& chain,
                 const std::string& text) {
  ASSERT_TRUE(l.rules.contains(handle)) << handle;
  EXPECT_EQ(l.rules.at(handle).chain, chain) << handle;
  EXPECT_EQ(l.rules.at(handle).text, text) << handle;
}

TEST(Listing, NativeTableWithJump) {
  const TableListing l = parse_table_listing(
      "table inet demo { # handle 5\n"
      "\tset ports { # handle 3\n"
      "\t\ttype inet_service\n"
      "\t\telements = { 22, 80 }\n"
      "\t}\n"
      "\n"
      "\tchain input { # handle 1\n"
      "\t\ttype filter hook input priority filter; policy accept;\n"
      "\t\tip protocol tcp jump c2 # handle 4\n"
      "\t}\n"
      "\n"
      "\tchain c2 { # handle 2\n"
      "\t\ttcp dport 4444 drop # handle 6\n"
      "\t\ttcp dport { 1, 2 } counter comment \"two # handle 9\" # handle 7\n"
      "\t}\n"
      "}\n");
  ASSERT_EQ(l.rules.size(), 3u);
  expect_rule(l, 4, "input", "ip protocol tcp jump c2");
  expect_rule(l, 6, "c2", "tcp dport 4444 drop");
  // Only the last "# handle" is nft's; a comment may hold the same words.
  expect_rule(l, 7, "c2", "tcp dport { 1, 2 } counter comment \"two # handle 9\"");
  // The set's handle (3) is no rule, and the chains' own handles are none either.
  EXPECT_FALSE(l.rules.contains(3));
  EXPECT_FALSE(l.rules.contains(1));
  ASSERT_EQ(l.hooks.size(), 1u);
  EXPECT_EQ(l.hooks.at("input"), "input");
}

TEST(Listing, IptablesNftTable) {
  const TableListing l = parse_table_listing(
      "table ip filter { # handle 1\n"
      "\tchain INPUT { # handle 1\n"
      "\t\ttype filter hook input priority filter; policy accept;\n"
      "\t\tmeta l4proto icmp counter drop # handle 2\n"
      "\t}\n"
      "\tchain FORWARD { # handle 3\n"
      "\t\ttype filter hook forward priority filter; policy drop;\n"
      "\t}\n"
      "}\n");
  ASSERT_EQ(l.rules.size(), 1u);
  expect_rule(l, 2, "INPUT", "meta l4proto icmp counter drop");
  EXPECT_EQ(l.hooks.at("INPUT"), "input");
  EXPECT_EQ(l.hooks.at("FORWARD"), "forward");
}

TEST(Listing, EmptyOrGarbage) {
  EXPECT_TRUE(parse_table_listing("").rules.empty());
  EXPECT_TRUE(parse_table_listing("Error: No such file or directory\n").rules.empty());
  // A rule line outside any chain is not taken.
  EXPECT_TRUE(parse_table_listing("drop # handle 3\n").rules.empty());
}

}  // namespace
}  // namespace pwru::nf
