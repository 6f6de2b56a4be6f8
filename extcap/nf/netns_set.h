// Which network namespaces are alive: those a process is in or a bind mount holds, by inode.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/unique_fd.h"

namespace pwru::nf {

// Every network namespace a process is in (/proc/PID/ns/net) or an nsfs mount of our mount table
// holds (/run/netns/NAME, a container runtime's), by inode, with a path that named it. A
// namespace only a file descriptor holds (ours included) is not listed: nobody can reach it any
// more, so it is as good as gone. Opening another process's /proc/PID/ns/net needs
// CAP_SYS_PTRACE when it has capabilities we lack: such namespaces are missed without it.
std::map<uint32_t, std::string> live_namespaces();

// The network namespace a line of /proc/PID/mountinfo mounts: its inode and mount point
// (`36 35 0:4 net:[4026532560] /run/netns/a rw shared:1 - nsfs nsfs rw`). Pure.
std::optional<std::pair<uint32_t, std::string>> parse_netns_mount(std::string_view line);

// Opens the namespace of inode `inode`: `hint` first if it still names it, else whatever
// live_namespaces() finds. Invalid if it is gone.
UniqueFd open_netns(uint32_t inode, const std::string& hint);

// The inode of the network namespace of the calling thread (0 if unreadable).
uint32_t current_netns_inode();

}  // namespace pwru::nf
