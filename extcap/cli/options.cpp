// Parses pwrudump's command line with CLI11 and checks every value before anything runs.
#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <vector>

#include "remote/hosts.h"

namespace pwru {
namespace {

Error usage(std::string message, std::string hint = "run `pwrudump --help` for the options") {
  return Error{ExitCode::Usage, std::move(message), std::move(hint)};
}

// Numbers are taken as strings and checked here, so every mistake gets our message format
// instead of CLI11's, and a negative number is not silently wrapped into an unsigned one.
// `binary_suffix` accepts K, M and G (powers of 1024), handy for sizes. Above `max` (what the
// option's field holds) is "too large"; the option's own bounds are check_bounds'.
Result<uint64_t> parse_count(const std::string& flag, const std::string& text,
                             bool binary_suffix = false, uint64_t max = UINT64_MAX) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  auto too_large = [&] {
    return usage("cannot use " + flag + " " + text + ": the number is too large");
  };
  if (ec == std::errc::result_out_of_range) return too_large();
  if (ec != std::errc() || text.empty()) {
    return usage("cannot use " + flag + " \"" + text + "\": not a non-negative integer");
  }
  if (binary_suffix && ptr + 1 == end) {
    unsigned shift = 0;
    switch (*ptr) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: break;
    }
    if (shift != 0 && value <= (UINT64_MAX >> shift)) {
      value <<= shift;
      ++ptr;
    }
  }
  if (ptr != end) {
    return usage("cannot use " + flag + " \"" + text + "\": not a non-negative integer");
  }
  if (value > max) return too_large();
  return value;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// Raw values as CLI11 fills them in; checked and converted by finish().
struct Raw {
  std::vector<std::string> filter_words;
  std::string snaplen = std::to_string(TraceOptions{}.snaplen);
  std::string ringbuf = std::to_string(TraceOptions{}.ringbuf_bytes);
  std::string limit = "0";
  std::string timestamp = "none";
  bool extcap_interfaces = false;
  bool extcap_dlts = false;
  bool extcap_config = false;
  bool capture = false;
  std::string extcap_filter;
  std::string control_in, control_out;
  bool list_funcs = false;
  // Files (--output-file-*, -b) and pwru's flags that pwrudump has no use for (--kmods...).
  std::string max_size = "100", max_backups = "0", max_age = "0", kprobe_batch = "10";
  std::vector<std::string> ring_specs, kmods;
  bool all_kmods = false;
};

void define(CLI::App& app, Raw& raw, Options& o) {
  // pwru's groups, in its order; then what only pwrudump has.
  const std::string kFilters = "Filters";
  const std::string kTracking = "Tracking";
  const std::string kOutput = "Output";
  const std::string kBackend = "Backend";
  const std::string kExtcap = "Wireshark extcap (Wireshark passes these)";
  const std::string kMisc = "Misc";

  app.get_formatter()->label("Positionals", "Arguments");
  app.get_formatter()->label("POSITIONALS", "Arguments");  // CLI11 2.5 and later
  app.get_formatter()->column_width(32);
  app.add_option("pcap-filter", raw.filter_words,
                 "pcap filter on each event's packet (man 7 pcap-filter); words are "
                 "joined as in tcpdump");

  app.add_option("--filter-func", o.trace.filter_func,
                 "Probe only functions (or, with --backend tracepoint, tracepoints) whose whole "
                 "name matches this regular expression")
      ->type_name("REGEX")->group(kFilters);
  app.add_option("--filter-netns", o.trace.filter_netns,
                 "Only skbs in this network namespace: /proc/PID/ns/net, /run/netns/NAME or "
                 "inode:N")
      ->type_name("NETNS")->group(kFilters);
  app.add_option("--filter-mark", o.trace.filter_mark,
                 "Only skbs whose mark matches: VALUE or VALUE/MASK")
      ->type_name("MARK")->group(kFilters);
  app.add_option("--filter-ifname", o.trace.filter_ifname,
                 "Only skbs on this interface (looked up in --filter-netns, else here)")
      ->type_name("NAME")->group(kFilters);
  app.add_option("--filter-tunnel-pcap-l2", o.trace.tunnel_pcap_l2,
                 "pcap filter on the Ethernet frame inside a VXLAN (UDP 4789, 8472) or Geneve "
                 "(6081) packet, in the kernel; other packets pass")
      ->type_name("EXPR")->group(kFilters);
  app.add_option("--filter-tunnel-pcap-l3", o.trace.tunnel_pcap_l3,
                 "pcap filter on the IP packet inside a VXLAN or Geneve packet, in the kernel; "
                 "other packets pass")
      ->type_name("EXPR")->group(kFilters);
  app.add_option("--filter-skb-expr", o.trace.filter_skb_expr,
                 "Only skbs for which this C comparison on the skb holds, in the kernel: FIELD OP "
                 "VALUE or FIELD & MASK OP VALUE, OP one of == != < <= > >=, the field resolved "
                 "through the kernel's BTF, e.g. \"skb->dev->ifindex == 11\", \"skb->len > 1000\"")
      ->type_name("EXPR")->group(kFilters);
  app.add_flag("--filter-trace-tc", o.trace.trace_tc,
               "Trace the tc (sched_cls) BPF programs loaded when the capture starts: fentry and "
               "fexit on each program with BTF, as events named `prog(tc)`, the return with its "
               "verdict (TC_ACT_SHOT, ...). Needs fentry on BPF programs")
      ->group(kFilters);
  app.add_flag("--filter-trace-xdp", o.trace.trace_xdp,
               "Trace the XDP BPF programs loaded when the capture starts, as events named "
               "`prog(xdp)` with the return's verdict (XDP_DROP, ...); an XDP buffer has no skb: "
               "its events' skb is the packet's data address")
      ->group(kFilters);
  app.add_flag("--filter-track-skb", o.trace.track_skb,
               "Keep following an skb that matched once, even when it stops matching (after NAT, "
               "decapsulation), until it is freed")
      ->group(kTracking);
  app.add_flag("--filter-track-skb-by-stackid", o.trace.track_skb_by_stackid,
               "Also trace the other skbs on the kernel stack of a packet that matched (a copy "
               "the kernel made of it, the ARP request it waits for), until the packet is seen "
               "on another stack or freed; every backend")
      ->group(kTracking);
  app.add_option("--filter-non-skb-funcs", o.trace.non_skb_funcs,
                 "Also probe these kernel functions without skb argument (exact names, comma "
                 "separated), shown as events of the packet whose stack they run on; implies "
                 "--filter-track-skb-by-stackid. Function backends (kprobe-multi, kprobe, fentry)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->type_name("FUNC")
      ->group(kTracking);
  app.add_flag("--nf-trace", o.nf_trace,
               "Name the netfilter rule that dropped each packet (table, chain, handle, rule, "
               "verdict), and show the rules each traced packet passed (jump, accept, ...) as "
               "events of their own. Adds the nftables tables ip and ip6 pwrudump_PID, which mark "
               "the capture filter's packets for nftables tracing, to the namespace of "
               "--filter-netns, else to every network namespace, those made while capturing too; "
               "the kernel removes them when pwrudump exits, even when killed. Before Linux 5.12 "
               "(no owned tables) pwrudump removes them itself, a watcher process does when "
               "pwrudump is killed, and a later --nf-trace run removes those left when both were "
               "killed at once (`nft delete table ip pwrudump_PID` by hand). Needs CAP_NET_ADMIN "
               "and CAP_SYS_ADMIN (other namespaces), which a helper process keeps for the capture")
      ->group("Netfilter");
  app.add_flag("--nf-probes", o.trace.nf_probes,
               "With a function backend (kprobe, kprobe-multi, fentry), probe nft_do_chain, "
               "ipt_do_table and ip6t_do_table: every netfilter chain a traced packet goes through "
               "is an event with its table, base chain, hook and verdict, and a drop names them; "
               "iptables-legacy included, with no rule handle. Changes no ruleset; only the "
               "functions of modules loaded when pwrudump starts (default true; =false to leave "
               "them out)")
      ->group("Netfilter");

  // pwru's output flags, with its defaults: meta and tuple are on (--output-meta=false to drop).
  struct OutputFlag {
    const char* name;
    bool OutputOptions::*field;
    const char* help;
  };
  const OutputFlag output_flags[] = {
      {"--output-meta", &OutputOptions::meta,
       "Print skb metadata: NETNS MARK/x IFACE PROTO MTU LEN (default true; =false to leave it "
       "out)"},
      {"--output-tuple", &OutputOptions::tuple,
       "Print the tuple saddr:sport->daddr:dport(proto) (default true; =false to leave it out)"},
      {"--output-caller", &OutputOptions::caller,
       "Print a CALLER column (a drop always shows its caller)"},
      {"--output-tcp-flags", &OutputOptions::tcp_flags, "Print TCP flags in the tuple"},
      {"--output-skb", &OutputOptions::skb,
       "Print the skb after each event: its fields and the captured bytes"},
      {"--output-netns-names", &OutputOptions::netns_names,
       "Print the names `ip netns` gives namespaces (/run/netns)"},
      {"--output-hints", &OutputOptions::hints,
       "After each drop, what its reason means and what to check (default true; =false to leave "
       "it out); JSON: drop_reason_help"},
      {"--output-summary", &OutputOptions::summary,
       "When the capture stops, one line per journey that ended in a drop (the packet, the "
       "interfaces it crossed, where and why it ended, the hint), then the totals: after the "
       "text lines, on stderr with JSON or no text output"},
      {"--output-changes", &OutputOptions::changes,
       "Print a CHANGED column: what changed since the skb's previous event (DNAT, SNAT, "
       "tunnel pushed or popped, netns, interface, mark, protocol, length, TTL); JSON has them "
       "always, as changed"},
      {"--output-tunnel", &OutputOptions::tunnel,
       "Print a TUNNEL column: the tuple inside a VXLAN, Geneve or GRE tunnel, read from the "
       "packet's bytes where the outer header is on them; JSON: tunnel_tuple"},
      {"--output-json", &OutputOptions::json,
       "Print one JSON object per event and line instead of text"},
  };
  for (const OutputFlag& flag : output_flags) {
    app.add_flag(flag.name, o.output.*flag.field, flag.help)->group(kOutput);
  }
  app.add_flag("--diagnose", o.diagnose,
               "For a drop whose cause the system shows, ask the drop's network namespace at once "
               "and record the finding with the drop: nothing listens on the port, no route, "
               "rp_filter, forwarding off, larger than the MTU, neighbour unresolved, conntrack "
               "invalid (text: a diagnosis line after the drop; JSON: diagnosis; Wireshark: "
               "pwru.diag). Other namespaces need CAP_SYS_ADMIN, which a helper process keeps "
               "(default true; =false to leave it out)")
      ->group(kOutput);
  // Tracer options too: the BPF programs read these only when asked.
  app.add_option("--output-skb-metadata", o.trace.skb_metadata,
                 "Print this skb field after FUNC, read through the kernel's BTF: a C expression "
                 "from skb (skb->hash, skb->dev->ifindex, skb->cb[0], skb->dev->name); up to 4, "
                 "repeated or comma-separated, each at most 8 bytes (a string 16); JSON: skb_meta")
      ->type_name("EXPR")->delimiter(',')->allow_extra_args(false)->group(kOutput);
  app.add_flag("--output-skb-shared-info", o.trace.output_shinfo,
               "Print the skb's shared info (gso_size, gso_segs, gso_type, nr_frags, tx_flags, "
               "...) under each event; JSON: skb_shared_info")
      ->group(kOutput);
  app.add_flag("--output-skb-cb", o.trace.output_cb,
               "Print the skb's control buffer (skb->cb, 48 bytes) as 32-bit words; JSON: cb")
      ->group(kOutput);
  // Also a tracer option: the BPF programs record the stack only when asked.
  app.add_flag("--output-stack", o.trace.output_stack,
               "Record and print the kernel stack of every event (pwru.stack in Wireshark)")
      ->group(kOutput);
  app.add_option("--timestamp", raw.timestamp,
                 "Print a timestamp per event: none; current (kernel monotonic ns); relative (ns "
                 "since the skb's previous event); absolute (current, and the wall clock first)")
      ->type_name("WHEN")->default_str("none")->group(kOutput);
  app.add_option("--output-file", o.output_file,
                 "Write the text (or JSON) lines to FILE instead of stdout; a regular file "
                 "rotates as pwru's (--output-file-max-size)")
      ->type_name("FILE")->group(kOutput);
  app.add_option("-c,--output-limit-lines", raw.limit, "Stop after N events (0 = no limit)")
      ->type_name("N")->default_str("0")->group(kOutput);
  app.add_option("-w,--write", o.write_file,
                 "Write pcapng to FILE (- = stdout); text stays on stdout unless -q")
      ->type_name("FILE")->group(kOutput);
  app.add_option("-b,--ring-buffer", raw.ring_specs,
                 "With -w FILE, dumpcap's multiple files: filesize:KB, duration:SECONDS or "
                 "packets:N ends each file, files:N keeps the newest N (a ring); named "
                 "FILE_NNNNN_YYYYmmddHHMMSS.pcapng, a file set for Wireshark. Repeat -b (or join "
                 "with commas); not in extcap mode, where Wireshark's dumpcap does this")
      ->type_name("KEY:VALUE")->allow_extra_args(false)->group(kOutput);
  app.add_option("--output-file-max-size", raw.max_size,
                 "--output-file is renamed FILE-TIME.EXT and started anew before it exceeds N MB "
                 "(2^20 bytes)")
      ->type_name("N")->default_str("100")->group(kOutput);
  app.add_option("--output-file-max-backups", raw.max_backups,
                 "Keep at most N renamed --output-file files (0: no limit)")
      ->type_name("N")->default_str("0")->group(kOutput);
  app.add_option("--output-file-max-age", raw.max_age,
                 "Remove renamed --output-file files older than N days (0: no limit)")
      ->type_name("N")->default_str("0")->group(kOutput);
  app.add_flag("--output-file-compress", o.text_rotation.compress,
               "Compress renamed --output-file files with gzip")
      ->group(kOutput);
  app.add_option("--kmods", raw.kmods,
                 "Accepted as pwru takes it: pwrudump probes the functions of every loaded "
                 "module anyway")
      ->type_name("MODULES")->delimiter(',')->allow_extra_args(false)->group(kFilters);
  app.add_flag("--all-kmods", raw.all_kmods,
               "Accepted as pwru takes it: pwrudump probes every loaded module by default")
      ->group(kFilters);
  app.add_option("--snaplen", raw.snaplen, "Packet bytes kept per event (0 to 4096)")
      ->type_name("N")->default_str(raw.snaplen)->group(kOutput);
  app.add_flag("-q,--quiet", o.quiet,
               "No progress or summary (lost events are still reported)")
      ->group(kOutput);

  app.add_option("--ringbuf-size", raw.ringbuf,
                 "BPF ring buffer size, a power of two (K/M/G suffixes)")
      ->type_name("BYTES")->default_str("16M")->group(kBackend);

  app.add_option("--backend", o.trace.backend,
                 "How to probe: auto picks the best the kernel offers (kprobe-multi, kprobe, "
                 "fentry, tracepoint) and says why it passed over the better ones")
      ->type_name("NAME")->default_str("auto")->group(kBackend);
  app.add_option("--kernel-btf", o.trace.kernel_btf,
                 "Kernel BTF to use instead of /sys/kernel/btf/vmlinux")
      ->type_name("FILE")->group(kBackend);  // checked where it is loaded: exit code 9
  app.add_flag("--list-funcs", raw.list_funcs,
               "Print the functions (tracepoints with --backend tracepoint) that would be probed, "
               "and exit")
      ->group(kBackend);
  app.add_option("--filter-kprobe-batch", raw.kprobe_batch,
                 "Accepted as pwru takes it: pwrudump attaches kprobes on 8 threads and "
                 "detaches them on 64, whatever N")
      ->type_name("N")->default_str("10")->group(kBackend);

  app.add_flag("--extcap-interfaces", raw.extcap_interfaces, "List the extcap interfaces")
      ->group(kExtcap);
  app.add_option("--extcap-version", o.extcap_version, "Wireshark's version")
      ->type_name("VER")->group(kExtcap);
  app.add_option("--extcap-interface", o.extcap_interface, "The interface to act on (pwru)")
      ->type_name("IF")->group(kExtcap);
  app.add_flag("--extcap-dlts", raw.extcap_dlts, "List the link types of the interface")
      ->group(kExtcap);
  app.add_flag("--extcap-config", raw.extcap_config, "List the capture options of the interface")
      ->group(kExtcap);
  app.add_option("--extcap-capture-filter", raw.extcap_filter,
                 "Capture filter; without --capture: check it")
      ->type_name("FILTER")->group(kExtcap);
  app.add_flag("--capture", raw.capture, "Capture into --fifo")->group(kExtcap);
  app.add_option("--fifo", o.fifo, "Where Wireshark reads the capture")
      ->type_name("PATH")->group(kExtcap);
  // We declare no toolbar controls, so Wireshark should not pass these; accepted so that a
  // future Wireshark doing so does not make every capture fail.
  app.add_option("--extcap-control-in", raw.control_in, "Toolbar control pipe (unused)")
      ->type_name("PATH")->group(kExtcap);
  app.add_option("--extcap-control-out", raw.control_out, "Toolbar control pipe (unused)")
      ->type_name("PATH")->group(kExtcap);

  const std::string kRemote = "Remote hosts (docs/many-hosts.md)";
  app.add_option("--remote", o.remote_hosts,
                 "Trace HOST instead of this machine: run pwrudump there through the command of "
                 "its line in the hosts file (default: ssh HOST), with these options, and write "
                 "its events here; repeat for more hosts: one pcapng interface pwru@HOST each, "
                 "events merged in time order, text lines start with the host")
      ->type_name("HOST")->allow_extra_args(false)->group(kRemote);
  app.add_option("--hosts-file", o.hosts_file,
                 "The hosts file: a host per line, then the command that reaches it (default "
                 "$PWRUDUMP_HOSTS, else $XDG_CONFIG_HOME/pwrudump/hosts or "
                 "~/.config/pwrudump/hosts); its hosts are Wireshark interfaces pwru@HOST")
      ->type_name("FILE")->group(kRemote);

  app.set_help_flag("-h,--help", "Print this help and exit")->group(kMisc);
  app.set_version_flag("--version", std::string("pwrudump ") + pwrudump_version(),
                       "Print the version and exit")
      ->group(kMisc);
  app.add_option("--ready-file", o.ready_file, "Create PATH once the probes are attached")
      ->type_name("PATH")->group(kMisc);
  app.add_flag("--debug", o.trace.debug,
               "Print libbpf's messages and verifier logs to stderr (not in extcap mode)")
      ->group(kMisc);
  app.footer(
      "Examples:\n"
      "  pwrudump icmp                                  a line per kernel event of pings\n"
      "  pwrudump --output-caller --output-stack icmp   and who called each function, how\n"
      "  pwrudump --output-json -c 100 tcp port 443     100 events as JSON lines\n"
      "  pwrudump -q -w drops.pcapng host 10.0.0.2      pcapng for Wireshark, no text\n"
      "  pwrudump -w - tcp port 80 | wireshark -k -i -  live in Wireshark without installing\n"
      "Installed in Wireshark's extcap folder, it offers the capture interface \"pwru\".\n\n" +
      std::string(kExitCodeTable));
}

Status check_interface(const Options& o, const char* what) {
  if (o.extcap_interface.empty()) {
    return usage(std::string("cannot ") + what + ": no --extcap-interface given",
                 std::string("pass --extcap-interface ") + kExtcapInterface);
  }
  if (o.extcap_interface.starts_with(kHostInterfacePrefix)) {
    const std::string host = o.extcap_interface.substr(kHostInterfacePrefix.size());
    if (auto problem = host_name_problem(host); !problem.empty()) {
      return usage(std::string("cannot ") + what + ": bad host in extcap interface \"" +
                       o.extcap_interface + "\": " + problem,
                   "name a host of the hosts file (docs/many-hosts.md)");
    }
    return Ok{};
  }
  if (o.extcap_interface != kExtcapInterface && o.extcap_interface != kExtcapDropsInterface) {
    return usage(std::string("cannot ") + what + ": unknown extcap interface \"" +
                     o.extcap_interface + "\"",
                 std::string("pwrudump provides the interfaces \"") + kExtcapInterface +
                     "\", \"" + kExtcapDropsInterface + "\" and pwru@HOST for each host of its "
                     "hosts file");
  }
  return Ok{};
}

// --output-file's rotation and -b's ring. Sizes as pwru: 0 MB is its default, 100.
Status finish_files(Options& o, const Raw& raw) {
  auto mb = parse_count("--output-file-max-size", raw.max_size, false, UINT64_MAX >> 20);
  if (!mb) return mb.error();
  o.text_rotation.max_bytes = (*mb == 0 ? 100 : *mb) << 20;
  auto backups = parse_count("--output-file-max-backups", raw.max_backups, false, UINT32_MAX);
  if (!backups) return backups.error();
  o.text_rotation.max_backups = static_cast<uint32_t>(*backups);
  auto age = parse_count("--output-file-max-age", raw.max_age, false, UINT32_MAX);
  if (!age) return age.error();
  o.text_rotation.max_age_days = static_cast<uint32_t>(*age);
  if (auto batch = parse_count("--filter-kprobe-batch", raw.kprobe_batch); !batch) {
    return batch.error();
  }
  auto ring = parse_ring_spec(raw.ring_specs);
  if (!ring) return ring.error();
  o.ring = *ring;
  if (!o.ring.enabled()) return Ok{};
  if (raw.capture) {
    return usage("cannot start the capture: -b is for -w files",
                 "leave out -b: in extcap mode Wireshark's dumpcap writes (and rotates) the files");
  }
  if (o.write_file.empty() || o.write_file == "-") {
    return usage("cannot use -b: it needs -w FILE, the name its files are made from",
                 "pass -w FILE.pcapng with -b");
  }
  return Ok{};
}

// Turns the raw strings into checked values and picks the action.
Result<Options> finish(Options o, const Raw& raw, bool filter_check_given) {
  auto snaplen = parse_count("--snaplen", raw.snaplen, /*binary_suffix=*/false, UINT32_MAX);
  if (!snaplen) return snaplen.error();
  o.trace.snaplen = static_cast<uint32_t>(*snaplen);

  auto ringbuf = parse_count("--ringbuf-size", raw.ringbuf, /*binary_suffix=*/true, UINT32_MAX);
  if (!ringbuf) return ringbuf.error();
  o.trace.ringbuf_bytes = static_cast<uint32_t>(*ringbuf);

  auto limit = parse_count("--output-limit-lines", raw.limit);
  if (!limit) return limit.error();
  o.output_limit = *limit;

  if (auto st = finish_files(o, raw); !st) return st.error();

  // Snaplen, ring buffer size and backend: checked here, before anything runs.
  if (auto st = check_bounds(o.trace); !st) return st.error();

  auto timestamp = parse_timestamp_mode(raw.timestamp);
  if (!timestamp) {
    return usage("cannot use --timestamp " + raw.timestamp + ": not a timestamp kind",
                 "pass --timestamp none, current, relative or absolute");
  }
  o.output.timestamp = *timestamp;
  // One flag: the tracer records the stack, the text and JSON print it.
  o.output.stack = o.trace.output_stack;

  o.filter = join(raw.filter_words);

  for (const auto& host : o.remote_hosts) {
    if (auto problem = host_name_problem(host); !problem.empty()) {
      return usage("cannot use --remote " + host + ": " + problem,
                   "name a host of the hosts file, or one ssh reaches (docs/many-hosts.md)");
    }
  }
  if (!o.remote_hosts.empty() && (raw.capture || o.ring.enabled())) {
    return usage(std::string("cannot use --remote with ") + (raw.capture ? "--capture" : "-b"),
                 raw.capture ? "in Wireshark, pick the interfaces pwru@HOST instead"
                             : "write one file with -w FILE");
  }
  if (raw.list_funcs) {
    o.action = Action::ListFuncs;
  } else if (raw.extcap_interfaces) {
    o.action = Action::ExtcapInterfaces;
  } else if (raw.extcap_dlts) {
    o.action = Action::ExtcapDlts;
    if (auto st = check_interface(o, "list link types"); !st) return st.error();
  } else if (raw.extcap_config) {
    o.action = Action::ExtcapConfig;
    if (auto st = check_interface(o, "list the configuration"); !st) return st.error();
  } else if (raw.capture) {
    o.action = Action::ExtcapCapture;
    if (auto st = check_interface(o, "start the capture"); !st) return st.error();
    if (o.extcap_interface == kExtcapDropsInterface) {
      // Only the kfree_skb tracepoint, on every kernel: one probe, and only real drops.
      o.trace.backend = "tracepoint";
      o.trace.filter_func = "kfree_skb";
      o.trace.drops_only = true;
    }
    if (o.fifo.empty()) {
      return usage("cannot start the capture: --capture needs --fifo PATH",
                   "Wireshark passes --fifo; to trace by hand, leave out --capture");
    }
    if (!o.write_file.empty()) {
      return usage("cannot start the capture: -w and --fifo both ask for the pcapng output",
                   "leave out -w: in extcap mode the capture goes to the fifo");
    }
    if (filter_check_given) {
      if (!o.filter.empty()) {
        return usage("cannot start the capture: a filter was given both as "
                     "--extcap-capture-filter and as arguments",
                     "give it only once");
      }
      o.filter = raw.extcap_filter;
    }
    o.quiet = true;  // Wireshark shows any stderr output as an error
    o.trace.debug = false;  // likewise; a failed load's verifier log goes with its error
  } else if (filter_check_given) {
    o.action = Action::ExtcapFilterCheck;
    if (auto st = check_interface(o, "check the capture filter"); !st) return st.error();
    o.filter = raw.extcap_filter;
  } else if (!o.fifo.empty()) {
    return usage("cannot use --fifo without --capture", "Wireshark passes both; by hand, use -w");
  }

  // The kernel applies the filter to the whole linear packet, whatever --snaplen keeps.
  o.trace.pcap_filter = o.filter;

  return o;
}

}  // namespace

const char* pwrudump_version() { return PWRU_VERSION; }

bool Options::remote() const {
  return !remote_hosts.empty() ||
         (action == Action::ExtcapCapture && extcap_interface.starts_with(kHostInterfacePrefix));
}

std::string Options::text_destination() const {
  if (!output_file.empty()) return output_file;
  if (action == Action::ExtcapCapture || write_file == "-") return {};
  if (!write_file.empty() && quiet) return {};
  return "-";
}

Result<Options> parse_options(std::span<const std::string> args) {
  Options o;
  Raw raw;
  CLI::App app{"pwrudump: where did my packet go? Traces skbs through the Linux kernel with eBPF\n"
               "like pwru, as text, as pcapng, or live in Wireshark (extcap interface \"pwru\").",
               "pwrudump"};
  define(app, raw, o);

  // CLI11 consumes a vector from its back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(std::move(reversed));
  } catch (const CLI::CallForHelp&) {
    o.action = Action::Help;
    o.print = app.help();
    return o;
  } catch (const CLI::CallForVersion& e) {
    o.action = Action::Version;
    o.print = std::string(e.what()) + "\n";
    return o;
  } catch (const CLI::ParseError& e) {
    return usage(std::string("cannot parse the command line: ") + e.what());
  }
  return finish(std::move(o), raw, app.count("--extcap-capture-filter") > 0);
}

Result<Options> parse_options(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_options(args);
}

}  // namespace pwru
