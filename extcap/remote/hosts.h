// The hosts file: which remote hosts pwrudump offers as interfaces (pwru@HOST) and the command
// that reaches each (docs/many-hosts.md). Plain data and text: nothing here runs a command.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace pwru {

// A host's interface is this prefix and its name: pwru@web1.
inline constexpr std::string_view kHostInterfacePrefix = "pwru@";
// Where a template puts pwrudump's arguments: quoted for the shell that runs the line (an
// argv-exec transport: kubectl exec, docker exec, sudo), or quoted twice (ssh, which hands its
// command line to a second shell, the remote user's).
inline constexpr std::string_view kArgsPlaceholder = "{}";
inline constexpr std::string_view kSshArgsPlaceholder = "{ssh}";

// The default transport, before the host's name: no prompt (an extcap has no terminal), and a
// host that does not answer (when connecting, or for 3 keep-alives 5 s apart) is a failure.
inline constexpr std::string_view kDefaultSsh =
    "ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 "
    "-o ServerAliveCountMax=3 --";

struct Host {
  std::string name;     // [A-Za-z0-9._-], as in pwru@NAME
  std::string command;  // the template, a /bin/sh command line; empty: the default (ssh NAME)
  int line = 0;         // in the hosts file, 0 when not from one
};

// The hosts file to read: `option` (--hosts-file) if given, else $PWRUDUMP_HOSTS, else
// $XDG_CONFIG_HOME/pwrudump/hosts, else ~/.config/pwrudump/hosts.
std::string hosts_file_path(const std::string& option);

// One host per line: NAME [COMMAND...]; `#` starts a comment line; blank lines are skipped.
// Errors name the file and line. Two lines with one name are an error.
Result<std::vector<Host>> parse_hosts(std::string_view text, const std::string& path);
// The file at `path`; a file that does not exist is an empty list, unless `required`.
Result<std::vector<Host>> load_hosts(const std::string& path, bool required);

// "" when `name` can name a host, else why not.
std::string host_name_problem(std::string_view name);
// The host `name` of `hosts`, or one with the default command.
Host find_host(const std::vector<Host>& hosts, const std::string& name);

// What reaches the host, in a word, for the interface list: "ssh", or the template's program.
std::string transport_name(const Host& host);

// `word` as one word for /bin/sh: itself when it is made of safe characters, else in single
// quotes.
std::string shell_quote(std::string_view word);

// The /bin/sh command line that runs pwrudump on `host` with `args` (pwrudump's own arguments,
// without the program name). The default: kDefaultSsh NAME pwrudump {ssh}. A
// template without a placeholder gets the arguments at its end: {ssh} if its program is ssh,
// else {}.
std::string transport_command(const Host& host, const std::vector<std::string>& args);

}  // namespace pwru
