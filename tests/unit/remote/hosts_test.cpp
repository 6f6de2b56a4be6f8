// The hosts file and the command lines of the transports (extcap/remote/hosts.cpp).
#include "remote/hosts.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace pwru {
namespace {

TEST(HostsFile, OneHostPerLineWithOptionalCommandAndComments) {
  auto hosts = parse_hosts(
      "# the lab\n"
      "web1\n"
      "\n"
      "  db1   ssh -J bastion root@db1 pwrudump {ssh}  \n"
      "node-a kubectl exec -n pwru ds/pwrudump -- pwrudump\n",
      "hosts");
  ASSERT_TRUE(hosts.ok()) << hosts.error().text();
  ASSERT_EQ(hosts->size(), 3u);
  EXPECT_EQ((*hosts)[0].name, "web1");
  EXPECT_EQ((*hosts)[0].command, "");
  EXPECT_EQ((*hosts)[0].line, 2);
  EXPECT_EQ((*hosts)[1].name, "db1");
  EXPECT_EQ((*hosts)[1].command, "ssh -J bastion root@db1 pwrudump {ssh}");
  EXPECT_EQ((*hosts)[2].command, "kubectl exec -n pwru ds/pwrudump -- pwrudump");
  EXPECT_EQ(transport_name((*hosts)[0]), "ssh");
  EXPECT_EQ(transport_name((*hosts)[2]), "kubectl");
}

TEST(HostsFile, BadNamesAndDuplicatesNameTheLine) {
  auto bad = parse_hosts("web1\nroot@web2 ssh web2\n", "/etc/h");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ExitCode::Usage);
  EXPECT_NE(bad.error().message.find("/etc/h line 2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("'@'"), std::string::npos) << bad.error().message;
  auto twice = parse_hosts("web1\n#\nweb1 ssh x\n", "h");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("line 3: host \"web1\" is already on line 1"),
            std::string::npos)
      << twice.error().message;
  EXPECT_FALSE(host_name_problem("-o").empty());
  EXPECT_FALSE(host_name_problem(std::string(65, 'a')).empty());
}

TEST(HostsFile, MissingFileIsEmptyUnlessNamed) {
  auto none = load_hosts("/nonexistent/pwrudump/hosts", false);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto named = load_hosts("/nonexistent/pwrudump/hosts", true);
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message.find("cannot read the hosts file /nonexistent/pwrudump/hosts"),
            std::string::npos);
}

TEST(HostsFile, PathFromOptionThenEnvironment) {
  EXPECT_EQ(hosts_file_path("/x/hosts"), "/x/hosts");
  setenv("PWRUDUMP_HOSTS", "/env/hosts", 1);
  EXPECT_EQ(hosts_file_path(""), "/env/hosts");
  unsetenv("PWRUDUMP_HOSTS");
  setenv("XDG_CONFIG_HOME", "/xdg", 1);
  EXPECT_EQ(hosts_file_path(""), "/xdg/pwrudump/hosts");
  unsetenv("XDG_CONFIG_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(hosts_file_path(""), "/home/u/.config/pwrudump/hosts");
}

TEST(Transport, DefaultIsSshWithArgumentsQuotedForTheRemoteShell) {
  const std::vector<std::string> args = {"-q", "-w", "-", "--", "icmp and (host 10.0.0.2)"};
  EXPECT_EQ(transport_command(Host{"web1", "", 0}, args),
            std::string(kDefaultSsh) + " web1 pwrudump "
            "'-q -w - -- '\\''icmp and (host 10.0.0.2)'\\'''");
}

TEST(Transport, PlaceholdersAndDefaults) {
  const std::vector<std::string> args = {"-w", "-", "it's {}"};
  EXPECT_EQ(transport_command(Host{"n", "kubectl exec ds/p -- pwrudump", 0}, args),
            "kubectl exec ds/p -- pwrudump -w - 'it'\\''s {}'");
  EXPECT_EQ(transport_command(Host{"n", "docker exec c pwrudump {} --extra", 0}, args),
            "docker exec c pwrudump -w - 'it'\\''s {}' --extra");
  // Without a placeholder, ssh's line gets the arguments quoted twice.
  EXPECT_EQ(transport_command(Host{"n", "/usr/bin/ssh -J b n pwrudump", 0}, {"a b"}),
            "/usr/bin/ssh -J b n pwrudump ''\\''a b'\\'''");
}

// What the shell and then a second shell (ssh's remote one) make of the line: the same words.
TEST(Transport, WordsSurviveOneAndTwoShells) {
  const std::vector<std::string> args = {"-w", "-", "--", "a 'b' \"c\" $(d) `e` \\f !g *"};
  const std::string one = transport_command(Host{"n", "printf '%s\\n' {}", 0}, args);
  auto run = [](const std::string& line) {
    std::string out;
    FILE* p = popen(line.c_str(), "r");
    char buf[256];
    while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    if (p != nullptr) pclose(p);
    return out;
  };
  const std::string expected = "-w\n-\n--\na 'b' \"c\" $(d) `e` \\f !g *\n";
  EXPECT_EQ(run(one), expected);
  // ssh joins its words and hands them to the remote shell: `sh -c` stands in for it.
  const std::string twice =
      transport_command(Host{"n", "sh -c \"printf '%s\\\\n' \"{ssh}", 0}, args);
  EXPECT_EQ(run(twice), expected) << twice;
}

}  // namespace
}  // namespace pwru
