// Writes a deterministic sample capture for the dissector tests, through the real record encoder
// and pcapng writer (what pwrudump itself uses), so the tests read what pwrudump would write.
//
// usage: pwru-mkcapture OUT.pcapng
//          [sample|old-kernel|malformed|fuzz|nftrace|nfpassed|nfprobes|reasons|changes|diag]
//   sample (default), one record per packet, in this order:
//     1-5   a ping from veth0 (netns A) to veth1 (netns B), Ethernet + IPv4 + ICMP echo request,
//           seen at net_dev_queue, net_dev_start_xmit, netif_rx, netif_receive_skb and dropped at
//           kfree_skb (NETFILTER_DROP = 12, caller nf_hook_slow+0x9b, with a stack)
//     6-8   one IPv6 TCP SYN, raw IPv6 bytes (layer NETWORK), seen at three functions
//     9     a record with an unknown TLV (type 999) before its known fields
//     10-13 `nc -z 10.0.0.2 8080` from netns A, nothing listens in netns B: the IPv4 TCP SYN is
//           queued on veth0, received on veth1, answered by tcp_send_reset and dropped at
//           kfree_skb (NO_SOCKET = 3, caller tcp_v4_rcv+0x1a5)
//     14-17 the RST going back, in the ping's skb address (freed at frame 5, reused): queued on
//           veth1, received on veth0, freed at consume_skb (tracepoint) and kfree_skbmem
//           (fentry, the same free seen by a function probe)
//     The Interface Statistics Block counts 3 events lost in the kernel.
//   old-kernel: a kernel before 5.17, whose kfree_skb tracepoint has no drop reason:
//     1-2   an IPv4 UDP packet received on veth1 and freed at kfree_skb without a reason
//   malformed:
//     1     a good record (the ping at kfree_skb)
//     2     truncated: the last TLV declares more bytes than the record has
//     3     the SKB TLV has 7 bytes instead of 8
//     4     record version 2
//     5     a record of 2 bytes (shorter than the header)
//     6     header_len larger than the record
//     7     2 stray bytes after the last TLV (a truncated TLV header)
//     8     an IPv6 destination in an IPv4 record
//     9     a good record again: parsing goes on after broken ones
//   reasons: the ping dropped at kfree_skb with reasons pwru_reasons.h does not know:
//     1     named SOME_FUTURE_REASON (value 250), as a kernel newer than the table would
//     2     value 0x30002 without a name: a subsystem's reason, which BTF's enum does not name
//     3     value 200 without a name
//     4     SKB_CONSUMED (value 1): not a drop
//   nftrace: drops named by --nf-trace in netns B, each packet seen at netif_receive_skb then
//   dropped at kfree_skb (NETFILTER_DROP, caller nft_do_chain+0x46f), one skb per packet:
//     1-6   three pings dropped by iptables-nft's `-A INPUT -p icmp -j DROP`: family ip, hook
//           input, table filter, chain INPUT, handle 4, rule "meta l4proto icmp counter drop" (as
//           pwrudump lists it: stateless), verdict drop, tied by headers
//     7-10  two TCP SYNs 10.0.0.1:41000 -> 10.0.0.2:4444 dropped by native nftables: family inet,
//           hook input, table t, chain c2 (jumped to from the base chain), handle 7, rule
//           "tcp dport 4444 drop", verdict drop; the second tied by order (same headers)
//     11-12 a third ping dropped by netfilter with no rule named (no NF_ fields)
//     13-14 a TCP SYN 10.0.0.1:41001 -> 10.0.0.2:5555 dropped by the policy of the base chain
//           `input` of inet table t: no handle, no rule text
//   nfpassed: rules passed (--nf-trace, probe kind nftrace, FUNC nft_trace_packet) in netns B,
//   with the skb of the packet's events, inet table t:
//     1-6   a ping: netif_receive_skb; input's counter (handle 4, continue), its jump to c3
//           (handle 6, target c3), c3's end (trace type return, continue, no handle), input's
//           policy accept (trace type policy); consume_skb
//     7-9   a TCP SYN to 4444: netif_receive_skb; input's jump to c2 (handle 5, target c2, rule
//           changed since); kfree_skb dropped by c2's handle 7, rule deleted since
//   nfprobes: a function backend's netfilter probes (kprobe, tie kernel) on the ping in netns B:
//     1-3   nft_do_chain's return (inet pwruvm input, accept), ipt_do_table's return (ip filter
//           INPUT, drop), kfree_skb (NETFILTER_DROP from nf_hook_slow) named filter INPUT
//   changes: what changed from hop to hop (pwru.changed), tracepoint events with whole packets:
//     1-4   a TCP SYN 10.0.0.1:41000 -> 10.0.9.99:80 from netns A (veth0:4) through router R
//           (veth1:5 in, veth2:6 out), which DNATs it to 10.0.1.2:8080, SNATs it to
//           10.0.1.254:41000, marks it 0x2a and routes it (TTL 64 -> 63), to netns B (veth3:7),
//           whose namespace crossing clears the mark
//     5-8   a ping 192.168.0.1 -> 192.168.0.2 in netns A through a VXLAN tunnel (VNI 42): queued
//           on vxlan0:8, encapsulated on eth0:9 (172.16.0.1:41000 -> 172.16.0.2:4789), received
//           in netns B on eth1:10, decapsulated on vxlan1:11
//   diag: drops with pwrudump's diagnosis (--diagnose), in netns B on veth1:
//     1     a TCP SYN 10.0.0.1:41000 -> 10.0.0.2:8080 dropped with NO_SOCKET, kind no_listener
//     2-7   the ping dropped with IP_INNOROUTES, IP_RPFILTER, IP_INADDRERRORS, PKT_TOO_BIG,
//           NEIGH_FAILED and NETFILTER_DROP, kinds no_route, rp_filter, forwarding_off, too_big,
//           neigh_failed and ct_invalid
//     8     the ping's drop with a kind no dissector knows (200)
//     9     the ping's drop without a diagnosis
//   stackid: --filter-track-skb-by-stackid and --filter-non-skb-funcs (kprobe-multi), one stack:
//     1     the ping at ip_rcv in netns B, kept by the filters
//     2     fib_table_lookup (no skb argument) on its stack: the ping's skb and bytes, kept non-skb
//     3     another skb on that stack (an ARP request's, no packet bytes), kept by stack id
//     4     the ping's drop at kfree_skb, kept by the filters
//   fuzz:
//     2000 records of the sample, each damaged at random (fixed seed): bytes flipped, cut short,
//     a TLV length rewritten, random bytes inserted. Only for "no dissector bug" checks.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "output/pcapng_writer.h"
#include "record/event.h"
#include "pwru_record.h"
#include "record.h"

namespace {

constexpr uint64_t kBaseTimeNs = 1700000000ull * 1000000000ull;  // 2023-11-14T22:13:20Z
constexpr uint64_t kBaseKtimeNs = 5000000000ull;
constexpr uint64_t kPingSkb = 0xffff888004a1b200ull;
constexpr uint64_t kSynSkb = 0xffff888006c3d400ull;
constexpr uint64_t kSyn4Skb = 0xffff888004a1c000ull;
constexpr uint64_t kUdpSkb = 0xffff888005e2f100ull;
constexpr uint32_t kNetnsA = 4026532000u;
constexpr uint32_t kNetnsB = 4026532100u;

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {  // network byte order
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void put_bytes(Bytes& b, std::initializer_list<uint8_t> v) { b.insert(b.end(), v); }

// RFC 1071 sum over `data`, added to `sum` (so pseudo-headers can be summed first).
uint32_t sum16(const uint8_t* data, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{data[i]} << 8 | data[i + 1];
  if (n % 2 != 0) sum += uint32_t{data[n - 1]} << 8;
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

const std::array<uint8_t, 16> kIpA{10, 0, 0, 1};
const std::array<uint8_t, 16> kIpB{10, 0, 0, 2};
const std::array<uint8_t, 16> kIp6A{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const std::array<uint8_t, 16> kIp6B{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// Ethernet and IPv4 headers between veth0 (02:00:00:00:00:01, 10.0.0.1) and veth1
// (02:00:00:00:00:02, 10.0.0.2), DF, TTL 64; `a_to_b` goes from veth0 to veth1.
void put_eth_ipv4(Bytes& f, bool a_to_b, uint8_t l4proto, uint16_t l4_len, uint16_t id) {
  const uint8_t a = 0x01, b = 0x02;
  put_bytes(f, {0x02, 0x00, 0x00, 0x00, 0x00, a_to_b ? b : a});  // dst MAC
  put_bytes(f, {0x02, 0x00, 0x00, 0x00, 0x00, a_to_b ? a : b});  // src MAC
  put16(f, 0x0800);
  const size_t ip = f.size();
  put_bytes(f, {0x45, 0x00});
  put16(f, static_cast<uint16_t>(20 + l4_len));  // total length
  put16(f, id);
  put16(f, 0x4000);             // DF
  put_bytes(f, {64, l4proto});  // TTL
  put16(f, 0);                  // checksum, below
  const std::array<uint8_t, 16>& src = a_to_b ? kIpA : kIpB;
  const std::array<uint8_t, 16>& dst = a_to_b ? kIpB : kIpA;
  f.insert(f.end(), src.begin(), src.begin() + 4);
  f.insert(f.end(), dst.begin(), dst.begin() + 4);
  set16(f, ip + 10, fold(sum16(&f[ip], 20)));
}

// Ethernet (veth0 -> veth1) + IPv4 10.0.0.1 -> 10.0.0.2 + ICMP echo request id 0x1234 seq 1
// with 56 bytes of data, as `ping` sends it: 98 bytes.
Bytes ping_frame() {
  Bytes f;
  put_eth_ipv4(f, true, 1, 64, 0x4d2e);
  const size_t icmp = f.size();
  put_bytes(f, {8, 0});  // echo request
  put16(f, 0);           // checksum, below
  put16(f, 0x1234);      // identifier
  put16(f, 1);           // sequence
  for (uint8_t i = 0; i < 56; ++i) f.push_back(i);
  set16(f, icmp + 2, fold(sum16(&f[icmp], f.size() - icmp)));
  return f;
}

// Ethernet + IPv4 + TCP without options or data: 54 bytes.
Bytes tcp4_frame(bool a_to_b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                 uint32_t ack) {
  Bytes f;
  put_eth_ipv4(f, a_to_b, 6, 20, 0x1c46);
  const size_t tcp = f.size();
  put16(f, sport);
  put16(f, dport);
  put16(f, static_cast<uint16_t>(seq >> 16));
  put16(f, static_cast<uint16_t>(seq));
  put16(f, static_cast<uint16_t>(ack >> 16));
  put16(f, static_cast<uint16_t>(ack));
  put_bytes(f, {0x50, flags});         // data offset 5 words
  put16(f, flags & 0x04 ? 0 : 64240);  // window
  put16(f, 0);                         // checksum, below
  put16(f, 0);                         // urgent pointer
  // Pseudo-header: addresses (in the IPv4 header just written), protocol, TCP length.
  uint32_t sum = sum16(&f[tcp - 8], 8);
  sum += 6u + static_cast<uint32_t>(f.size() - tcp);
  set16(f, tcp + 16, fold(sum16(&f[tcp], f.size() - tcp, sum)));
  return f;
}

// Ethernet + IPv4 + UDP 10.0.0.1:5353 -> 10.0.0.2:9 with 4 bytes of data, checksum 0: 46 bytes.
Bytes udp4_frame() {
  Bytes f;
  put_eth_ipv4(f, true, 17, 12, 0x0a0b);
  put16(f, 5353);
  put16(f, 9);
  put16(f, 12);
  put16(f, 0);  // no checksum (allowed over IPv4)
  put_bytes(f, {'p', 'w', 'r', 'u'});
  return f;
}

// IPv6 fd00::1 -> fd00::2, TCP 40000 -> 80 SYN with an MSS option: 64 bytes.
Bytes syn_packet() {
  Bytes p;
  put_bytes(p, {0x60, 0x00, 0x00, 0x00});
  put16(p, 24);            // payload length
  put_bytes(p, {6, 64});   // next header TCP, hop limit
  p.insert(p.end(), kIp6A.begin(), kIp6A.end());
  p.insert(p.end(), kIp6B.begin(), kIp6B.end());
  const size_t tcp = p.size();
  put16(p, 40000);
  put16(p, 80);
  put_bytes(p, {0x11, 0x22, 0x33, 0x44});  // seq
  put_bytes(p, {0, 0, 0, 0});              // ack
  put_bytes(p, {0x60, 0x02});              // data offset 6 words, SYN
  put16(p, 64800);                         // window
  put16(p, 0);                             // checksum, below
  put16(p, 0);                             // urgent pointer
  put_bytes(p, {2, 4, 0x05, 0xa0});        // MSS 1440
  // Pseudo-header: addresses, upper-layer length, next header.
  uint32_t sum = sum16(kIp6A.data(), 16);
  sum = sum16(kIp6B.data(), 16, sum);
  sum += static_cast<uint32_t>(p.size() - tcp) + 6;
  set16(p, tcp + 16, fold(sum16(&p[tcp], p.size() - tcp, sum)));
  return p;
}

struct Hop {
  const char* func;
  uint32_t netns;
  uint32_t ifindex;
  const char* ifname;
};

// The `seq`th event of the capture, 1 us after the previous one.
pwru::Event base_event(uint64_t skb, const char* func, pwru::ProbeKind probe, int seq) {
  pwru::Event ev;
  ev.time_ns = kBaseTimeNs + static_cast<uint64_t>(seq) * 1000;
  ev.ktime_ns = kBaseKtimeNs + static_cast<uint64_t>(seq) * 1000;
  ev.skb = skb;
  ev.func = func;
  ev.probe = probe;
  return ev;
}

// An event on the veth pair whose packet is an Ethernet frame with IPv4 inside; `a_to_b` goes
// from veth0 (10.0.0.1) to veth1 (10.0.0.2).
pwru::Event eth_ipv4_event(uint64_t skb, const Hop& hop, pwru::ProbeKind probe, int seq,
                           bool a_to_b, uint8_t l4proto, Bytes frame) {
  pwru::Event ev = base_event(skb, hop.func, probe, seq);
  ev.netns = hop.netns;
  ev.ifindex = hop.ifindex;
  ev.ifname = hop.ifname;
  ev.protocol = 0x0800;
  ev.mtu = 1500;
  ev.packet = std::move(frame);
  ev.len = static_cast<uint32_t>(ev.packet.size());
  ev.ip_version = 4;
  ev.saddr = a_to_b ? kIpA : kIpB;
  ev.daddr = a_to_b ? kIpB : kIpA;
  ev.l4proto = l4proto;
  ev.layer = pwru::PacketLayer::Ethernet;
  return ev;
}

pwru::Event ping_event(const Hop& hop, int seq) {
  pwru::Event ev =
      eth_ipv4_event(kPingSkb, hop, pwru::ProbeKind::Tracepoint, seq, true, 1, ping_frame());
  ev.cpu = 1;
  ev.pid = 4242;
  ev.comm = "ping";
  return ev;
}

pwru::Event ping_drop_event(int seq) {
  pwru::Event ev = ping_event({"kfree_skb", kNetnsB, 5, "veth1"}, seq);
  ev.drop_reason = 12;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.caller = "nf_hook_slow+0x9b";
  ev.caller_addr = 0xffffffff81c4a2ebull;
  ev.stack = {"kfree_skb_reason+0x8e", "nf_hook_slow+0x9b", "ip_rcv+0x7c",
              "__netif_receive_skb_one_core+0x91", "process_backlog+0x84"};
  return ev;
}

pwru::Event syn_event(const char* func, pwru::ProbeKind probe, int seq) {
  pwru::Event ev = base_event(kSynSkb, func, probe, seq);
  ev.cpu = 0;
  ev.pid = 777;
  ev.comm = "curl";
  ev.netns = kNetnsA;
  ev.mark = 0x2a;
  ev.protocol = 0x86dd;
  ev.packet = syn_packet();
  ev.len = static_cast<uint32_t>(ev.packet.size());
  ev.ip_version = 6;
  ev.saddr = kIp6A;
  ev.daddr = kIp6B;
  ev.l4proto = 6;
  ev.has_ports = true;
  ev.sport = 40000;
  ev.dport = 80;
  ev.tcp_flags = 0x02;
  ev.layer = pwru::PacketLayer::Network;
  return ev;
}

// The TCP connection attempt of frames 10-17: `nc` in netns A, its SYN (a_to_b) and the RST.
pwru::Event tcp4_event(uint64_t skb, const Hop& hop, pwru::ProbeKind probe, bool a_to_b, int seq) {
  pwru::Event ev = eth_ipv4_event(skb, hop, probe, seq, a_to_b, 6,
                                  a_to_b ? tcp4_frame(true, 41000, 8080, 0x02, 0x0badcafe, 0)
                                         : tcp4_frame(false, 8080, 41000, 0x14, 0, 0x0badcaff));
  ev.cpu = 1;
  ev.pid = 5151;
  ev.comm = "nc";
  ev.has_ports = true;
  ev.sport = a_to_b ? 41000 : 8080;
  ev.dport = a_to_b ? 8080 : 41000;
  ev.tcp_flags = a_to_b ? 0x02 : 0x14;  // SYN; RST+ACK
  return ev;
}

Bytes encode(const pwru::Event& ev) {
  Bytes r;
  pwru::encode_record(ev, r);
  return r;
}

void put_le16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

uint16_t get_le16(const Bytes& b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

// Offset of the first TLV of `type` in a record the encoder wrote.
size_t find_tlv(const Bytes& r, uint16_t type) {
  for (size_t off = PWRU_RECORD_HEADER_LEN; off + PWRU_TLV_HEADER_LEN <= r.size();
       off += PWRU_TLV_HEADER_LEN + get_le16(r, off + 2)) {
    if (get_le16(r, off) == type) return off;
  }
  std::fprintf(stderr, "pwru-mkcapture: the encoder wrote no TLV of type %u\n", type);
  std::exit(1);
}

struct Packet {
  uint64_t time_ns;
  Bytes record;
};

std::vector<Packet> sample() {
  std::vector<Packet> out;
  const Hop hops[] = {
      {"net_dev_queue", kNetnsA, 4, "veth0"},
      {"net_dev_start_xmit", kNetnsA, 4, "veth0"},
      {"netif_rx", kNetnsB, 5, "veth1"},
      {"netif_receive_skb", kNetnsB, 5, "veth1"},
  };
  int seq = 0;
  for (const Hop& hop : hops) {
    const pwru::Event ev = ping_event(hop, seq++);
    out.push_back({ev.time_ns, encode(ev)});
  }
  const pwru::Event drop = ping_drop_event(seq++);
  out.push_back({drop.time_ns, encode(drop)});

  const std::pair<const char*, pwru::ProbeKind> syn_hops[] = {
      {"ip6_output", pwru::ProbeKind::Kprobe},
      {"ip6_finish_output", pwru::ProbeKind::KprobeMulti},
      {"ip6_finish_output2", pwru::ProbeKind::Fentry},
  };
  for (const auto& [func, probe] : syn_hops) {
    const pwru::Event ev = syn_event(func, probe, seq++);
    out.push_back({ev.time_ns, encode(ev)});
  }

  // A field from a newer writer, placed first: the known fields after it must still be read.
  pwru::Event ev = syn_event("ip6_rcv_core", pwru::ProbeKind::Kprobe, seq++);
  ev.layer = pwru::PacketLayer::None;
  ev.packet.clear();
  Bytes r = encode(ev);
  const Bytes unknown = {0xe7, 0x03, 4, 0, 0xde, 0xad, 0xbe, 0xef};  // type 999, 4 bytes
  r.insert(r.begin() + PWRU_RECORD_HEADER_LEN, unknown.begin(), unknown.end());
  out.push_back({ev.time_ns, r});

  // A SYN to a closed port: reset, then dropped with NO_SOCKET.
  const Hop syn4_hops[] = {
      {"net_dev_queue", kNetnsA, 4, "veth0"},
      {"netif_receive_skb", kNetnsB, 5, "veth1"},
      {"tcp_send_reset", kNetnsB, 5, "veth1"},
  };
  for (const Hop& hop : syn4_hops) {
    const pwru::Event e = tcp4_event(kSyn4Skb, hop, pwru::ProbeKind::Tracepoint, true, seq++);
    out.push_back({e.time_ns, encode(e)});
  }
  pwru::Event no_socket = tcp4_event(kSyn4Skb, {"kfree_skb", kNetnsB, 5, "veth1"},
                                     pwru::ProbeKind::Tracepoint, true, seq++);
  no_socket.drop_reason = 3;
  no_socket.drop_reason_name = "NO_SOCKET";
  no_socket.caller = "tcp_v4_rcv+0x1a5";
  no_socket.caller_addr = 0xffffffff81d3e7a5ull;
  out.push_back({no_socket.time_ns, encode(no_socket)});

  // The RST, in the address the ping's skb had: a new journey. Freed once, seen twice.
  const std::pair<Hop, pwru::ProbeKind> rst_hops[] = {
      {{"net_dev_queue", kNetnsB, 5, "veth1"}, pwru::ProbeKind::Tracepoint},
      {{"netif_receive_skb", kNetnsA, 4, "veth0"}, pwru::ProbeKind::Tracepoint},
      {{"consume_skb", kNetnsA, 4, "veth0"}, pwru::ProbeKind::Tracepoint},
      {{"kfree_skbmem", kNetnsA, 4, "veth0"}, pwru::ProbeKind::Fentry},
  };
  for (const auto& [hop, probe] : rst_hops) {
    const pwru::Event e = tcp4_event(kPingSkb, hop, probe, false, seq++);
    out.push_back({e.time_ns, encode(e)});
  }
  return out;
}

std::vector<Packet> old_kernel() {
  std::vector<Packet> out;
  int seq = 0;
  for (const char* func : {"netif_receive_skb", "kfree_skb"}) {
    pwru::Event ev = eth_ipv4_event(kUdpSkb, {func, kNetnsB, 5, "veth1"},
                                    pwru::ProbeKind::Tracepoint, seq++, true, 17, udp4_frame());
    ev.has_ports = true;
    ev.sport = 5353;
    ev.dport = 9;
    if (std::string(func) == "kfree_skb") ev.caller = "udp_queue_rcv_one_skb+0x21c";
    out.push_back({ev.time_ns, encode(ev)});
  }
  return out;
}

std::vector<Packet> reasons() {
  const std::pair<uint32_t, const char*> reasons[] = {
      {250, "SOME_FUTURE_REASON"}, {0x30002, ""}, {200, ""}, {1, "SKB_CONSUMED"}};
  std::vector<Packet> out;
  int seq = 0;
  for (const auto& [value, name] : reasons) {
    pwru::Event ev = ping_drop_event(seq++);
    ev.drop_reason = value;
    ev.drop_reason_name = name;
    out.push_back({ev.time_ns, encode(ev)});
  }
  return out;
}

std::vector<Packet> stackid() {
  constexpr uint64_t kStack = 0xffffc90000a4c000ull;
  std::vector<Packet> out;
  int seq = 0;
  auto add = [&](pwru::Event ev, uint8_t kept) {
    ev.probe = pwru::ProbeKind::KprobeMulti;
    ev.stack_id = kStack;
    ev.stack_kept = kept;
    out.push_back({ev.time_ns, encode(ev)});
  };
  add(ping_event({"ip_rcv", kNetnsB, 5, "veth1"}, seq++), 0);
  add(ping_event({"fib_table_lookup", kNetnsB, 5, "veth1"}, seq++), PWRU_STACK_KEPT_NON_SKB);
  pwru::Event arp = base_event(kPingSkb + 0x1000, "arp_xmit", pwru::ProbeKind::KprobeMulti, seq++);
  arp.netns = kNetnsB;
  arp.protocol = 0x0806;
  add(arp, PWRU_STACK_KEPT_BY_STACKID);
  add(ping_drop_event(seq++), 0);
  return out;
}

std::vector<Packet> diag() {
  std::vector<Packet> out;
  int seq = 0;
  pwru::Event syn = tcp4_event(kSyn4Skb, {"kfree_skb", kNetnsB, 5, "veth1"},
                               pwru::ProbeKind::Tracepoint, true, seq++);
  syn.drop_reason = 3;
  syn.drop_reason_name = "NO_SOCKET";
  syn.diagnosis = pwru::Diagnosis{PWRU_DIAG_NO_LISTENER,
                                  "nothing listens on 10.0.0.2:8080/tcp in netns demo-b"};
  out.push_back({syn.time_ns, encode(syn)});
  const struct {
    const char* reason;
    uint8_t kind;
    const char* text;
  } drops[] = {
      {"IP_INNOROUTES", PWRU_DIAG_NO_ROUTE,
       "no route to 10.0.0.2 in netns demo-b: `ip route get 10.0.0.2` fails: Network is "
       "unreachable"},
      {"IP_RPFILTER", PWRU_DIAG_RP_FILTER,
       "rp_filter is 1 (strict) for veth1 in netns demo-b (net.ipv4.conf.veth1.rp_filter=1, "
       "net.ipv4.conf.all.rp_filter=0: the higher counts)"},
      {"IP_INADDRERRORS", PWRU_DIAG_FORWARDING_OFF,
       "10.0.0.2 is not an address of netns demo-b, so the packet needed forwarding, but "
       "forwarding is off for veth1"},
      {"PKT_TOO_BIG", PWRU_DIAG_TOO_BIG,
       "the packet is 1428 bytes, and the MTU towards 10.0.0.2 is 1280 (dev veth1's) in netns "
       "demo-b"},
      {"NEIGH_FAILED", PWRU_DIAG_NEIGH_FAILED,
       "10.0.0.2 on veth1 is FAILED in netns demo-b: nothing answered ARP"},
      {"NETFILTER_DROP", PWRU_DIAG_CT_INVALID,
       "the rule drops what conntrack finds invalid; netns demo-b has "
       "net.netfilter.nf_conntrack_tcp_loose=0"},
      {"NETFILTER_DROP", 200, "a finding of a kind from the future"},
  };
  for (const auto& d : drops) {
    pwru::Event ev = ping_drop_event(seq++);
    ev.drop_reason_name = d.reason;
    ev.diagnosis = pwru::Diagnosis{d.kind, d.text};
    out.push_back({ev.time_ns, encode(ev)});
  }
  const pwru::Event plain = ping_drop_event(seq++);
  out.push_back({plain.time_ns, encode(plain)});
  return out;
}

std::vector<Packet> malformed() {
  std::vector<Packet> out;
  int seq = 0;
  auto good = [&seq] { return ping_drop_event(seq++); };

  pwru::Event ev = good();
  out.push_back({ev.time_ns, encode(ev)});

  ev = good();
  Bytes r = encode(ev);
  r.resize(find_tlv(r, PWRU_TLV_PACKET) + PWRU_TLV_HEADER_LEN + 10);  // PACKET says 98 bytes
  out.push_back({ev.time_ns, r});

  ev = good();
  r = encode(ev);
  const size_t skb = find_tlv(r, PWRU_TLV_SKB);
  put_le16(r, skb + 2, 7);
  r.erase(r.begin() + static_cast<std::ptrdiff_t>(skb + PWRU_TLV_HEADER_LEN + 7));
  out.push_back({ev.time_ns, r});

  ev = good();
  r = encode(ev);
  put_le16(r, 0, 2);
  out.push_back({ev.time_ns, r});

  ev = good();
  out.push_back({ev.time_ns, Bytes{PWRU_RECORD_VERSION, 0}});

  ev = good();
  r = encode(ev);
  put_le16(r, 2, static_cast<uint16_t>(r.size() + 1));
  out.push_back({ev.time_ns, r});

  ev = good();
  r = encode(ev);
  put_bytes(r, {0x01, 0x00});
  out.push_back({ev.time_ns, r});

  ev = good();
  r = encode(ev);
  const size_t dst = find_tlv(r, PWRU_TLV_IPV4_DST);
  put_le16(r, dst, PWRU_TLV_IPV6_DST);
  put_le16(r, dst + 2, 16);
  r.insert(r.begin() + static_cast<std::ptrdiff_t>(dst + PWRU_TLV_HEADER_LEN), kIp6B.begin(),
           kIp6B.begin() + 12);
  out.push_back({ev.time_ns, r});

  ev = good();
  out.push_back({ev.time_ns, encode(ev)});
  return out;
}

// A drop named by --nf-trace in netns B, `n`th of the nftrace scenario (skb address per packet).
std::vector<Packet> nf_drop(pwru::Event ev, int n, std::optional<pwru::NfRule> rule, int& seq) {
  ev.skb = kPingSkb + static_cast<uint64_t>(n) * 0x100;
  ev.cpu = 0;
  ev.netns = kNetnsB;
  ev.ifindex = 5;
  ev.ifname = "veth1";
  ev.func = "netif_receive_skb";
  ev.time_ns = kBaseTimeNs + static_cast<uint64_t>(seq) * 1000;
  ev.ktime_ns = kBaseKtimeNs + static_cast<uint64_t>(seq++) * 1000;
  std::vector<Packet> out{{ev.time_ns, encode(ev)}};
  ev.func = "kfree_skb";
  ev.time_ns = kBaseTimeNs + static_cast<uint64_t>(seq) * 1000;
  ev.ktime_ns = kBaseKtimeNs + static_cast<uint64_t>(seq++) * 1000;
  ev.drop_reason = 12;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.caller = "nft_do_chain+0x46f";
  ev.caller_addr = 0xffffffff81c5b06full;
  ev.nf = std::move(rule);
  out.push_back({ev.time_ns, encode(ev)});
  return out;
}

std::vector<Packet> nftrace() {
  pwru::NfRule icmp;
  icmp.family = 2;  // NFPROTO_IPV4
  icmp.hook = "input";
  icmp.table = "filter";
  icmp.chain = "INPUT";
  icmp.handle = 4;
  icmp.rule = "meta l4proto icmp counter drop";
  icmp.verdict = 0;  // NF_DROP
  pwru::NfRule tcp;
  tcp.family = 1;  // NFPROTO_INET
  tcp.hook = "input";
  tcp.table = "t";
  tcp.chain = "c2";
  tcp.handle = 7;
  tcp.rule = "tcp dport 4444 drop";
  tcp.verdict = 0;

  std::vector<Packet> out;
  auto add = [&out](std::vector<Packet> p) { out.insert(out.end(), p.begin(), p.end()); };
  int seq = 0;
  const pwru::Event ping = ping_event({"netif_receive_skb", kNetnsB, 5, "veth1"}, 0);
  for (int n = 0; n < 3; ++n) add(nf_drop(ping, n, icmp, seq));
  pwru::Event syn = tcp4_event(kSyn4Skb, {"netif_receive_skb", kNetnsB, 5, "veth1"},
                               pwru::ProbeKind::Tracepoint, true, 0);
  syn.packet = tcp4_frame(true, 41000, 4444, 0x02, 0x0badcafe, 0);
  syn.dport = 4444;
  add(nf_drop(syn, 3, tcp, seq));
  tcp.tie = pwru::NfTie::Order;
  add(nf_drop(syn, 4, tcp, seq));
  add(nf_drop(ping, 5, std::nullopt, seq));
  pwru::NfRule policy = tcp;
  policy.chain = "input";
  policy.handle.reset();
  policy.rule.clear();
  policy.tie = pwru::NfTie::Headers;
  policy.trace_id = 0x0df8692e;
  syn.packet = tcp4_frame(true, 41001, 5555, 0x02, 0x0badcafe, 0);
  syn.sport = 41001;
  syn.dport = 5555;
  add(nf_drop(syn, 6, policy, seq));
  return out;
}

// A rule the packet of `ev` passed, as --nf-trace records it: `ev`'s skb, time and packet.
pwru::Event passed(pwru::Event ev, pwru::NfRule rule) {
  ev.func = "nft_trace_packet";
  ev.probe = pwru::ProbeKind::NfTrace;
  ev.cpu = 0;
  ev.pid = 0;
  ev.comm.clear();
  ev.stack.clear();
  ev.nf = std::move(rule);
  return ev;
}

std::vector<Packet> nfpassed() {
  auto rule = [](const char* chain, std::optional<uint64_t> handle, const char* text,
                 int32_t verdict, pwru::NfTraceType type) {
    pwru::NfRule r;
    r.family = 1;  // NFPROTO_INET
    r.hook = "input";
    r.table = "t";
    r.chain = chain;
    r.handle = handle;
    r.rule = text;
    r.verdict = verdict;
    r.type = type;
    return r;
  };
  using pwru::NfTraceType;
  std::vector<Packet> out;
  int seq = 0;
  auto add = [&out, &seq](pwru::Event ev) {
    ev.time_ns = kBaseTimeNs + static_cast<uint64_t>(seq) * 1000;
    ev.ktime_ns = kBaseKtimeNs + static_cast<uint64_t>(seq++) * 1000;
    out.push_back({ev.time_ns, encode(ev)});
  };
  pwru::Event ping = ping_event({"netif_receive_skb", kNetnsB, 5, "veth1"}, 0);
  add(ping);
  add(passed(ping, rule("input", 4, "counter", -1, NfTraceType::Rule)));
  pwru::NfRule jump3 = rule("input", 6, "ip protocol icmp jump c3", -3, NfTraceType::Rule);
  jump3.jump_target = "c3";
  add(passed(ping, jump3));
  add(passed(ping, rule("c3", std::nullopt, "", -1, NfTraceType::Return)));
  add(passed(ping, rule("input", std::nullopt, "policy accept", 1, NfTraceType::Policy)));
  ping.func = "consume_skb";
  add(ping);

  pwru::Event syn = tcp4_event(kSyn4Skb, {"netif_receive_skb", kNetnsB, 5, "veth1"},
                               pwru::ProbeKind::Tracepoint, true, 0);
  syn.packet = tcp4_frame(true, 41000, 4444, 0x02, 0x0badcafe, 0);
  syn.dport = 4444;
  add(syn);
  pwru::NfRule jump2 = rule("input", 5, "ip protocol tcp jump c2", -3, NfTraceType::Rule);
  jump2.jump_target = "c2";
  jump2.state = pwru::NfRuleState::Changed;
  add(passed(syn, jump2));
  syn.func = "kfree_skb";
  syn.drop_reason = 12;
  syn.drop_reason_name = "NETFILTER_DROP";
  syn.caller = "nft_do_chain+0x46f";
  syn.caller_addr = 0xffffffff81c5b06full;
  syn.nf = rule("c2", 7, "tcp dport 4444 drop", 0, NfTraceType::Rule);
  syn.nf->state = pwru::NfRuleState::Deleted;
  add(syn);
  return out;
}

// A function backend's netfilter probes (tie kernel): the returns of nft_do_chain (accept) and
// ipt_do_table (drop), then the drop at kfree_skb named by the probe.
std::vector<Packet> nfprobes() {
  auto rule = [](uint8_t family, const char* table, const char* chain, int32_t verdict) {
    pwru::NfRule r;
    r.family = family;
    r.hook = "input";
    r.table = table;
    r.chain = chain;
    r.verdict = verdict;
    r.tie = pwru::NfTie::Kernel;
    return r;
  };
  std::vector<Packet> out;
  int seq = 0;
  auto add = [&out, &seq](pwru::Event ev, const char* func, pwru::NfRule r) {
    ev.func = func;
    ev.probe = pwru::ProbeKind::Kprobe;
    ev.nf = std::move(r);
    ev.time_ns = kBaseTimeNs + static_cast<uint64_t>(seq) * 1000;
    ev.ktime_ns = kBaseKtimeNs + static_cast<uint64_t>(seq++) * 1000;
    out.push_back({ev.time_ns, encode(ev)});
  };
  const pwru::Event ping = ping_event({"nft_do_chain", kNetnsB, 5, "veth1"}, 0);
  add(ping, "nft_do_chain", rule(1, "pwruvm", "input", 1));   // NFPROTO_INET, NF_ACCEPT
  add(ping, "ipt_do_table", rule(2, "filter", "INPUT", 0));   // NFPROTO_IPV4, NF_DROP
  add(ping_drop_event(0), "kfree_skb", rule(2, "filter", "INPUT", 0));
  return out;
}

// Ethernet + IPv4 (TTL `ttl`, no checksum: Wireshark does not check it by default) + `l4`.
Bytes eth_ip4(const char* src, const char* dst, uint8_t proto, uint8_t ttl, const Bytes& l4) {
  Bytes f;
  put_bytes(f, {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
  put16(f, 0x0800);
  put_bytes(f, {0x45, 0});
  put16(f, static_cast<uint16_t>(20 + l4.size()));
  put_bytes(f, {0x12, 0x34, 0x40, 0, ttl, proto, 0, 0});
  for (const char* a : {src, dst}) {
    std::array<uint8_t, 4> b{};
    inet_pton(AF_INET, a, b.data());
    f.insert(f.end(), b.begin(), b.end());
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

std::vector<Packet> changes() {
  std::vector<Packet> out;
  int seq = 0;
  constexpr uint32_t kNetnsR = 4026532050u;
  auto add = [&out, &seq](uint64_t skb, const Hop& hop, uint32_t mark, Bytes frame) {
    pwru::Event ev = base_event(skb, hop.func, pwru::ProbeKind::Tracepoint, seq++);
    ev.netns = hop.netns;
    ev.ifindex = hop.ifindex;
    ev.ifname = hop.ifname;
    ev.mark = mark;
    ev.protocol = 0x0800;
    ev.mtu = 1500;
    ev.len = static_cast<uint32_t>(frame.size());
    // The tuple is the outer header's, as the BPF side reads it from the network header.
    ev.ip_version = 4;
    std::copy(frame.begin() + 26, frame.begin() + 30, ev.saddr.begin());
    std::copy(frame.begin() + 30, frame.begin() + 34, ev.daddr.begin());
    ev.l4proto = frame[23];
    if (ev.l4proto == 6 || ev.l4proto == 17) {
      ev.has_ports = true;
      ev.sport = static_cast<uint16_t>(frame[34] << 8 | frame[35]);
      ev.dport = static_cast<uint16_t>(frame[36] << 8 | frame[37]);
    }
    ev.packet = std::move(frame);
    ev.layer = pwru::PacketLayer::Ethernet;
    out.push_back({ev.time_ns, encode(ev)});
  };
  auto syn = [](uint16_t sport, uint16_t dport) {
    Bytes t;
    put16(t, sport);
    put16(t, dport);
    put_bytes(t, {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0});
    return t;
  };
  const Bytes before = eth_ip4("10.0.0.1", "10.0.9.99", 6, 64, syn(41000, 80));
  const Bytes after = eth_ip4("10.0.1.254", "10.0.1.2", 6, 63, syn(41000, 8080));
  add(kSyn4Skb, {"net_dev_queue", kNetnsA, 4, "veth0"}, 0, before);
  add(kSyn4Skb, {"netif_receive_skb", kNetnsR, 5, "veth1"}, 0, before);
  add(kSyn4Skb, {"net_dev_queue", kNetnsR, 6, "veth2"}, 0x2a, after);
  add(kSyn4Skb, {"netif_receive_skb", kNetnsB, 7, "veth3"}, 0, after);

  Bytes echo = {8, 0, 0, 0, 0x12, 0x34, 0, 1};
  const Bytes inner = eth_ip4("192.168.0.1", "192.168.0.2", 1, 64, echo);
  Bytes udp;
  put16(udp, 41000);
  put16(udp, 4789);
  put16(udp, static_cast<uint16_t>(16 + inner.size()));
  put_bytes(udp, {0, 0, 0x08, 0, 0, 0, 0, 0, 42, 0});  // checksum 0; VXLAN flags I, VNI 42
  udp.insert(udp.end(), inner.begin(), inner.end());
  const Bytes outer = eth_ip4("172.16.0.1", "172.16.0.2", 17, 64, udp);
  add(kPingSkb, {"net_dev_queue", kNetnsA, 8, "vxlan0"}, 0, inner);
  add(kPingSkb, {"net_dev_queue", kNetnsA, 9, "eth0"}, 0, outer);
  add(kPingSkb, {"netif_receive_skb", kNetnsB, 10, "eth1"}, 0, outer);
  add(kPingSkb, {"netif_receive_skb", kNetnsB, 11, "vxlan1"}, 0, inner);
  return out;
}

std::vector<Packet> fuzz() {
  const std::vector<Packet> seeds = sample();
  std::mt19937 rng(20231114);  // mt19937's output is fixed by the standard: same file everywhere
  auto below = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::vector<Packet> out;
  for (int i = 0; i < 2000; ++i) {
    Packet p = seeds[below(seeds.size())];
    p.time_ns = kBaseTimeNs + static_cast<uint64_t>(i) * 1000;
    Bytes& r = p.record;
    switch (below(4)) {
      case 0:  // flip a few bytes anywhere, header included
        for (size_t n = 1 + below(4); n > 0; --n) r[below(r.size())] ^= static_cast<uint8_t>(rng());
        break;
      case 1:  // cut short
        r.resize(below(r.size()));
        break;
      case 2: {  // rewrite one TLV length, found by walking the intact record
        std::vector<size_t> tlvs;
        for (size_t off = PWRU_RECORD_HEADER_LEN; off + PWRU_TLV_HEADER_LEN <= r.size();
             off += PWRU_TLV_HEADER_LEN + get_le16(r, off + 2)) {
          tlvs.push_back(off);
        }
        put_le16(r, tlvs[below(tlvs.size())] + 2, static_cast<uint16_t>(rng()));
        break;
      }
      default: {  // insert random bytes
        Bytes junk(1 + below(16));
        for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
        r.insert(r.begin() + static_cast<std::ptrdiff_t>(below(r.size() + 1)), junk.begin(),
                 junk.end());
        break;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

int fail(const std::string& what, const pwru::Error& err) {
  std::fprintf(stderr, "pwru-mkcapture: cannot write %s: %s\n", what.c_str(), err.text().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr,
                 "usage: pwru-mkcapture OUT.pcapng [sample|old-kernel|malformed|fuzz|nftrace|"
                 "nfpassed|nfprobes|reasons|changes|diag|stackid]\n");
    return 2;
  }
  const std::string scenario = argc == 3 ? argv[2] : "sample";
  std::vector<Packet> packets;
  if (scenario == "sample") {
    packets = sample();
  } else if (scenario == "old-kernel") {
    packets = old_kernel();
  } else if (scenario == "malformed") {
    packets = malformed();
  } else if (scenario == "fuzz") {
    packets = fuzz();
  } else if (scenario == "nftrace") {
    packets = nftrace();
  } else if (scenario == "nfpassed") {
    packets = nfpassed();
  } else if (scenario == "nfprobes") {
    packets = nfprobes();
  } else if (scenario == "reasons") {
    packets = reasons();
  } else if (scenario == "changes") {
    packets = changes();
  } else if (scenario == "diag") {
    packets = diag();
  } else if (scenario == "stackid") {
    packets = stackid();
  } else {
    std::fprintf(stderr,
                 "pwru-mkcapture: unknown scenario '%s' (sample, old-kernel, malformed, fuzz, "
                 "nftrace, nfpassed, nfprobes, reasons, changes, diag, stackid)\n",
                 scenario.c_str());
    return 2;
  }

  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "pwru-mkcapture: cannot create %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  pwru::StdioSink sink(out);
  pwru::PcapngWriter writer(sink);
  if (auto s = writer.write_header("pwru", "pwru-mkcapture " + scenario, "Linux", "pwru-mkcapture");
      !s) {
    return fail(argv[1], s.error());
  }
  for (const Packet& p : packets) {
    if (auto s = writer.write_record(p.time_ns, p.record); !s) return fail(argv[1], s.error());
  }
  pwru::CaptureStats stats;
  stats.start_ns = kBaseTimeNs;
  stats.end_ns = packets.back().time_ns;
  // The sample shows how lost events reach the reader: 3 events the ring buffer had no room for.
  const uint64_t lost = scenario == "sample" ? 3 : 0;
  stats.lost = lost;
  stats.delivered = packets.size();
  stats.received = stats.delivered + lost;
  if (auto s = writer.write_stats(stats); !s) return fail(argv[1], s.error());
  if (auto s = writer.flush(); !s) return fail(argv[1], s.error());
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "pwru-mkcapture: cannot close %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  return 0;
}
