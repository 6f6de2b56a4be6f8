// empty-probes: one BPF program that does nothing (r0 = 0; exit), attached as a raw tracepoint
// to each tracepoint named, for bench/overhead.sh. Traffic through those tracepoints then costs
// what the kernel spends calling a BPF program there, and nothing of pwrudump's: the floor under
// overhead case (a).
//
// usage: empty-probes READY_FILE TRACEPOINT...   (as root)
// Creates READY_FILE once every tracepoint has the program, detaches on SIGINT or SIGTERM.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include "base/unique_fd.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: empty-probes READY_FILE TRACEPOINT...\n");
    return 2;
  }
  // Blocked before anything is attached: the signal waits for sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                   // exit
  };
  pwru::UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "empty", "GPL", insns,
                                     sizeof(insns) / sizeof(insns[0]), nullptr));
  if (!prog.valid()) {
    std::fprintf(stderr, "empty-probes: cannot load the program: %s (run as root)\n",
                 std::strerror(errno));
    return 1;
  }
  std::vector<pwru::UniqueFd> links;
  for (int i = 2; i < argc; i++) {
    pwru::UniqueFd link(bpf_raw_tracepoint_open(argv[i], prog.get()));
    if (!link.valid()) {
      std::fprintf(stderr, "empty-probes: cannot attach to tracepoint %s: %s\n", argv[i],
                   std::strerror(errno));
      return 1;
    }
    links.push_back(std::move(link));
  }
  if (!std::ofstream(argv[1])) {
    std::fprintf(stderr, "empty-probes: cannot create %s\n", argv[1]);
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
