// Reads the hosts file and turns a host's template into the command line that reaches it.
#include "remote/hosts.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pwru {
namespace {

constexpr size_t kMaxHostName = 64;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string join_quoted(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    out += shell_quote(a);
  }
  return out;
}

// The first word of a command line, without its folder: "ssh" for "/usr/bin/ssh -J b web1".
std::string program_of(const std::string& command) {
  std::string word = command.substr(0, command.find_first_of(" \t"));
  const size_t slash = word.rfind('/');
  return slash == std::string::npos ? word : word.substr(slash + 1);
}


}  // namespace

std::string hosts_file_path(const std::string& option) {
  if (!option.empty()) return option;
  if (auto v = env("PWRUDUMP_HOSTS"); !v.empty()) return v;
  if (auto v = env("XDG_CONFIG_HOME"); !v.empty()) return v + "/pwrudump/hosts";
  if (auto v = env("HOME"); !v.empty()) return v + "/.config/pwrudump/hosts";
  return {};
}

std::string host_name_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.size() > kMaxHostName) {
    return "the name is longer than " + std::to_string(kMaxHostName) + " characters";
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return std::string("the name holds '") + c + "': use letters, digits, '.', '_', '-'";
  }
  if (name.front() == '-') return "the name starts with '-'";
  return {};
}

Result<std::vector<Host>> parse_hosts(std::string_view text, const std::string& path) {
  std::vector<Host> hosts;
  std::istringstream in{std::string(text)};
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const std::string line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    Host h{line.substr(0, space), space == std::string::npos ? "" : trim(line.substr(space)),
           number};
    const std::string where = path + " line " + std::to_string(number);
    if (auto problem = host_name_problem(h.name); !problem.empty()) {
      return Error{ExitCode::Usage, "cannot read the hosts file " + where + ": " + problem,
                   "each line is a host name, then optionally the command that reaches it"};
    }
    for (const auto& other : hosts) {
      if (other.name == h.name) {
        return Error{ExitCode::Usage,
                     "cannot read the hosts file " + where + ": host \"" + h.name +
                         "\" is already on line " + std::to_string(other.line),
                     "keep one line per host"};
      }
    }
    hosts.push_back(std::move(h));
  }
  return hosts;
}

Result<std::vector<Host>> load_hosts(const std::string& path, bool required) {
  if (path.empty()) return std::vector<Host>{};
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    if (err == ENOENT && !required) return std::vector<Host>{};
    return Error{ExitCode::Usage, "cannot read the hosts file " + path + ": " + std::strerror(err),
                 "create it (docs/many-hosts.md) or pass --hosts-file FILE"};
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_hosts(text.str(), path);
}

Host find_host(const std::vector<Host>& hosts, const std::string& name) {
  for (const auto& h : hosts) {
    if (h.name == name) return h;
  }
  return Host{name, "", 0};
}

std::string transport_name(const Host& host) {
  return host.command.empty() ? "ssh" : program_of(host.command);
}

std::string shell_quote(std::string_view word) {
  const bool safe = !word.empty() && word.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789@%+=:,./_-") == std::string_view::npos;
  if (safe) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string transport_command(const Host& host, const std::vector<std::string>& args) {
  std::string command = host.command;
  if (command.empty()) {
    command = std::string(kDefaultSsh) + " " + shell_quote(host.name) + " pwrudump " +
              std::string(kSshArgsPlaceholder);
  }
  if (command.find(kArgsPlaceholder) == std::string::npos &&
      command.find(kSshArgsPlaceholder) == std::string::npos) {
    command += ' ';
    command += program_of(command) == "ssh" ? kSshArgsPlaceholder : kArgsPlaceholder;
  }
  // One pass, so that no argument is read as a placeholder.
  const std::string once = join_quoted(args);
  const std::string twice = shell_quote(once);
  std::string out;
  for (size_t i = 0; i < command.size();) {
    const std::string_view rest = std::string_view(command).substr(i);
    if (rest.starts_with(kSshArgsPlaceholder)) {
      out += twice;
      i += kSshArgsPlaceholder.size();
    } else if (rest.starts_with(kArgsPlaceholder)) {
      out += once;
      i += kArgsPlaceholder.size();
    } else {
      out += command[i++];
    }
  }
  return out;
}

}  // namespace pwru
