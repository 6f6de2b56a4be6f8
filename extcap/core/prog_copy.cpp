// load_prog_copy: a template program's instructions loaded again with their own settings map.
#include "core/prog_copy.h"

#include <cerrno>

#include "core/load_error.h"

namespace pwru {

Result<std::vector<struct bpf_insn>> splice_subprog(std::span<const struct bpf_insn> insns,
                                                    std::span<const struct bpf_insn> body) {
  size_t start = insns.size();
  for (size_t i = 0; i < insns.size(); i++) {
    const struct bpf_insn& in = insns[i];
    if (in.code == (BPF_LD | BPF_DW | BPF_IMM)) {
      i++;
      continue;
    }
    if (in.code != (BPF_JMP | BPF_CALL) || in.src_reg != BPF_PSEUDO_CALL) continue;
    size_t target = i + 1 + static_cast<size_t>(static_cast<long>(in.imm));
    if (start == insns.size()) {
      start = target;
    } else if (target != start) {
      return Error{ExitCode::Failure,
                   "cannot place the pcap filter: the program has more than one subprogram",
                   "this is a bug in pwrudump (bpf/common.bpf.h must inline everything else)"};
    }
  }
  if (start >= insns.size()) {
    return Error{ExitCode::Failure, "cannot place the pcap filter: no pcap_filter subprogram",
                 "this is a bug in pwrudump"};
  }
  std::vector<struct bpf_insn> out(insns.begin(), insns.begin() + static_cast<long>(start));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Result<ProgCopy> load_prog_copy(struct bpf_program* tmpl, int template_cfg_fd,
                                const struct probe_cfg& cfg, const CopyTarget& target,
                                const KernelFilter& filter, const std::string& what) {
  ProgCopy c;
  LIBBPF_OPTS(bpf_map_create_opts, map_opts, .map_flags = BPF_F_RDONLY_PROG);
  c.cfg_map.reset(
      bpf_map_create(BPF_MAP_TYPE_ARRAY, "pwru_probe", sizeof(__u32), sizeof(cfg), 1, &map_opts));
  if (!c.cfg_map.valid()) return load_error("probe settings for " + what, errno);
  __u32 zero = 0;
  // Frozen and read-only for programs: the verifier then treats the settings as constants.
  if (bpf_map_update_elem(c.cfg_map.get(), &zero, &cfg, BPF_ANY) ||
      bpf_map_freeze(c.cfg_map.get())) {
    return load_error("probe settings for " + what, errno);
  }

  std::span<const struct bpf_insn> tmpl_insns(bpf_program__insns(tmpl),
                                              bpf_program__insn_cnt(tmpl));
  // The template with `body` as its pcap_filter and this copy's settings map.
  auto build = [&](std::span<const struct bpf_insn> body) -> Result<std::vector<struct bpf_insn>> {
    std::vector<struct bpf_insn> code(tmpl_insns.begin(), tmpl_insns.end());
    if (!body.empty()) {
      auto spliced = splice_subprog(tmpl_insns, body);
      if (!spliced) return spliced.error();
      code = std::move(spliced.value());
    }
    size_t patched = 0;
    for (size_t i = 0; i + 1 < code.size(); i++) {
      struct bpf_insn& in = code[i];
      if (in.code != (BPF_LD | BPF_DW | BPF_IMM)) continue;
      if ((in.src_reg == BPF_PSEUDO_MAP_VALUE || in.src_reg == BPF_PSEUDO_MAP_FD) &&
          in.imm == template_cfg_fd) {
        in.imm = c.cfg_map.get();
        patched++;
      }
      i++;  // the second half of the 16-byte instruction
    }
    if (patched == 0) {
      return Error{ExitCode::Failure,
                   "cannot copy the program for " + what + ": it never reads its probe settings",
                   "this is a bug in pwrudump"};
    }
    return code;
  };

  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = target.expected_attach_type,
              .attach_btf_id = target.attach_btf_id,
              .attach_prog_fd = static_cast<__u32>(target.attach_prog_fd),
              .attach_btf_obj_fd = static_cast<__u32>(target.attach_btf_obj_fd));
  // Where the kernel has bpf_rdonly_cast, the filter reads the packet by plain loads. Should a
  // kernel refuse that body, the helper's one does the same work.
  if (!filter.pcap_body_btf.empty()) {
    auto code = build(filter.pcap_body_btf);
    if (!code) return code.error();
    c.prog.reset(bpf_prog_load(target.type, "pwru", "GPL", code->data(), code->size(), &opts));
    if (c.prog.valid()) return c;
    if (errno == EPERM) return load_error("the program for " + what, errno);
    c.filter_fallback = true;
  }
  auto code = build(filter.pcap_body);
  if (!code) return code.error();
  c.prog.reset(bpf_prog_load(target.type, "pwru", "GPL", code->data(), code->size(), &opts));
  if (!c.prog.valid()) {
    int err = errno;
    // Load again with a log only on failure: logging slows every successful load.
    char log[8192] = {};
    opts.log_buf = log;
    opts.log_size = sizeof(log);
    opts.log_level = 1;
    UniqueFd retry(bpf_prog_load(target.type, "pwru", "GPL", code->data(), code->size(), &opts));
    std::string text(log);
    if (text.size() > 1500) text = text.substr(text.size() - 1500);
    return load_error("the program for " + what, err, text);
  }
  return c;
}

}  // namespace pwru
