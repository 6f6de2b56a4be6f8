// TraceKeyReader: the kallsyms lookup and the one-shot BPF read of nf_tables' trace_key.
#include "nf/trace_key.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "nf_trace_key.skel.h"

namespace pwru::nf {

std::optional<uint64_t> find_trace_key(std::istream& kallsyms) {
  std::optional<uint64_t> found;
  int count = 0;
  std::string line;
  while (std::getline(kallsyms, line)) {
    if (line.find(" trace_key.") == std::string::npos) continue;  // most of 200000 lines
    // "ffffffffc0b8e2a0 d trace_key.4\t[nf_tables]"; built in: no module column.
    std::istringstream in(line);
    std::string addr, type, name, module;
    if (!(in >> addr >> type >> name)) continue;
    in >> module;
    if (!name.starts_with("trace_key.")) continue;
    if (!module.empty() && module != "[nf_tables]") continue;
    if (type != "d" && type != "b" && type != "D" && type != "B") continue;
    uint64_t value = 0;
    if (std::from_chars(addr.data(), addr.data() + addr.size(), value, 16).ec != std::errc()) {
      continue;
    }
    ++count;
    found = value;
  }
  // Two candidates: one is some other subsystem's trace_key, and which is unknown.
  if (count != 1 || found == 0) return std::nullopt;
  return found;
}

namespace {

struct SkelDestroy {
  void operator()(nf_trace_key_bpf* s) const { nf_trace_key_bpf__destroy(s); }
};

}  // namespace

struct TraceKeyReader::Impl {
  std::unique_ptr<nf_trace_key_bpf, SkelDestroy> skel;
  std::optional<SipKey> key;
};

TraceKeyReader::TraceKeyReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceKeyReader::~TraceKeyReader() = default;

std::unique_ptr<TraceKeyReader> TraceKeyReader::open() {
  std::ifstream kallsyms("/proc/kallsyms");
  const auto addr = find_trace_key(kallsyms);
  if (!addr) return nullptr;
  auto impl = std::make_unique<Impl>();
  // libbpf would print why a load fails to stderr, which Wireshark reads as an error: the
  // exact tie is optional, a failure only leaves the tie by headers.
  const libbpf_print_fn_t print = libbpf_set_print(nullptr);
  impl->skel.reset(nf_trace_key_bpf__open());
  if (impl->skel) {
    impl->skel->rodata->key_addr = *addr;
    if (nf_trace_key_bpf__load(impl->skel.get()) != 0) impl->skel.reset();
  }
  libbpf_set_print(print);
  if (!impl->skel) return nullptr;
  std::unique_ptr<TraceKeyReader> reader(new TraceKeyReader(std::move(impl)));
  (void)reader->read();  // now, while privileged, if the kernel made the key already
  return reader;
}

std::optional<SipKey> TraceKeyReader::read() {
  if (impl_->key) return impl_->key;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  if (bpf_prog_test_run_opts(bpf_program__fd(impl_->skel->progs.read_trace_key), &opts) != 0) {
    return std::nullopt;
  }
  const auto* bss = impl_->skel->bss;
  if (bss->read_error != 0) return std::nullopt;
  // All zero: net_get_random_once has not run yet.
  if (std::all_of(std::begin(bss->key), std::end(bss->key), [](uint8_t b) { return b == 0; })) {
    return std::nullopt;
  }
  SipKey key;
  std::memcpy(key.data(), bss->key, sizeof key);  // the kernel's u64 pair, in its byte order
  impl_->key = key;
  return key;
}

}  // namespace pwru::nf
