// The pwrudump binary answering Wireshark's metadata calls as Wireshark runs them: exit 0,
// the exact sentences on stdout, nothing on stderr, fast. Needs no root and no BPF.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/extcap_protocol.h"

extern char** environ;

namespace pwru {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Outcome run_pwrudump(std::vector<std::string> args) {
  char dir_tmpl[] = "/tmp/pwrudump_extcap_test.XXXXXX";
  EXPECT_NE(mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl, out_path = dir + "/out", err_path = dir + "/err";

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  args.insert(args.begin(), PWRUDUMP_BIN);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  Outcome r;
  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, PWRUDUMP_BIN, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << PWRUDUMP_BIN;
  int status = 0;
  if (rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.out = read_all(out_path);
  r.err = read_all(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  rmdir(dir.c_str());
  return r;
}

// What Wireshark needs from every metadata call.
void expect_clean(const Outcome& r) {
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  // Wireshark runs these at every start: a metadata call must not load anything heavy.
  EXPECT_LT(r.seconds, 2.0);
}

TEST(PwrudumpExtcap, Interfaces) {
  // The user's hosts file (docs/many-hosts.md) would add interfaces: none here.
  setenv("PWRUDUMP_HOSTS", "/nonexistent/pwrudump/hosts", 1);
  for (auto args : {std::vector<std::string>{"--extcap-interfaces", "--extcap-version=4.0"},
                    std::vector<std::string>{"--extcap-interfaces"}}) {
    Outcome r = run_pwrudump(args);
    expect_clean(r);
    EXPECT_EQ(r.out, extcap_interfaces_sentences());
    EXPECT_NE(r.out.find("\ninterface {value=pwru}{display=pwru: packets through the Linux kernel "
                         "(eBPF)}\n"),
              std::string::npos)
        << r.out;
  }
}

// A host per line of the hosts file; a file with a bad line still lists pwrudump's own, and says
// what is wrong on stderr.
TEST(PwrudumpExtcap, InterfacesOfTheHostsFile) {
  const std::string path = "/tmp/pwrudump_extcap_test_hosts." + std::to_string(getpid());
  std::ofstream(path) << "# lab\nweb1\ndb1 ssh -J b db1 pwrudump {ssh}\n";
  setenv("PWRUDUMP_HOSTS", path.c_str(), 1);
  Outcome r = run_pwrudump({"--extcap-interfaces"});
  expect_clean(r);
  EXPECT_EQ(r.out, extcap_interfaces_sentences({Host{"web1", "", 2},
                                                Host{"db1", "ssh -J b db1 pwrudump {ssh}", 3}}));
  std::ofstream(path) << "web1\nweb1\n";
  r = run_pwrudump({"--extcap-interfaces"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, extcap_interfaces_sentences());
  EXPECT_NE(r.err.find(path + " line 2: host \"web1\" is already on line 1"), std::string::npos)
      << r.err;
  std::remove(path.c_str());
  setenv("PWRUDUMP_HOSTS", "/nonexistent/pwrudump/hosts", 1);
}

TEST(PwrudumpExtcap, Dlts) {
  Outcome r = run_pwrudump({"--extcap-dlts", "--extcap-interface", "pwru"});
  expect_clean(r);
  EXPECT_EQ(r.out, "dlt {number=252}{name=WIRESHARK_UPPER_PDU}{display=pwru kernel events}\n");
}

TEST(PwrudumpExtcap, Config) {
  Outcome r = run_pwrudump({"--extcap-config", "--extcap-interface", "pwru"});
  expect_clean(r);
  EXPECT_EQ(r.out, extcap_config_sentences());
  EXPECT_NE(r.out.find("arg {number=0}{call=--snaplen}"), std::string::npos);
}

TEST(PwrudumpExtcap, FilterCheck) {
  Outcome good = run_pwrudump({"--extcap-capture-filter", "icmp", "--extcap-interface", "pwru"});
  expect_clean(good);
  EXPECT_EQ(good.out, "");

  Outcome bad = run_pwrudump({"--extcap-capture-filter", "tcp port", "--extcap-interface", "pwru"});
  expect_clean(bad);  // invalid is an answer, not a failure
  EXPECT_NE(bad.out.find("syntax error"), std::string::npos) << bad.out;
}

TEST(PwrudumpExtcap, UnknownInterfaceFailsClearly) {
  Outcome r = run_pwrudump({"--extcap-config", "--extcap-interface", "eth0"});
  EXPECT_EQ(r.exit_code, static_cast<int>(ExitCode::Usage));
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("unknown extcap interface \"eth0\""), std::string::npos) << r.err;
}

TEST(PwrudumpExtcap, VersionAndHelp) {
  Outcome v = run_pwrudump({"--version"});
  expect_clean(v);
  EXPECT_EQ(v.out.rfind("pwrudump ", 0), 0u);
  Outcome h = run_pwrudump({"--help"});
  expect_clean(h);
  EXPECT_NE(h.out.find("Filters:"), std::string::npos);
}

TEST(PwrudumpExtcap, BadSnaplenIsAUsageError) {
  Outcome r = run_pwrudump({"--snaplen", "5000", "icmp"});
  EXPECT_EQ(r.exit_code, static_cast<int>(ExitCode::Usage));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("pwrudump: cannot use --snaplen 5000", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("\nhint: "), std::string::npos);
}

}  // namespace
}  // namespace pwru
