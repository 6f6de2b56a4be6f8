// udp-flood: UDP datagrams to one address as fast as asked, for bench/pipeline.sh. iperf3's UDP
// client sends one datagram per system call and tops out far below what the event pipeline
// takes; this one sends batches with sendmmsg from several threads, paced per batch.
//
// usage: udp-flood ADDR PORT SECONDS THREADS RATE   (RATE: datagrams/s in all, 0 = unpaced)
// Prints the number of datagrams sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kBatch = 32;
constexpr size_t kLen = 64;

struct Socket {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

// One thread: its share of the rate until `end`; returns datagrams sent.
long flood(const sockaddr_in& dst, std::chrono::steady_clock::time_point end, double rate) {
  Socket s;
  if (s.fd < 0 || connect(s.fd, reinterpret_cast<const sockaddr*>(&dst), sizeof(dst)) != 0) {
    std::perror("udp-flood: socket");
    return -1;
  }
  char payload[kLen] = {};
  iovec iov[kBatch];
  mmsghdr msgs[kBatch] = {};
  for (int i = 0; i < kBatch; i++) {
    iov[i] = {payload, kLen};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  long sent = 0;
  for (auto now = start; now < end; now = clock::now()) {
    if (rate > 0) {
      double due = rate * std::chrono::duration<double>(now - start).count();
      if (static_cast<double>(sent) >= due) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
    }
    int n = sendmmsg(s.fd, msgs, kBatch, 0);
    if (n > 0) sent += n;  // ECONNREFUSED from an earlier datagram's ICMP: go on
  }
  return sent;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: udp-flood ADDR PORT SECONDS THREADS RATE\n");
    return 2;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
    std::fprintf(stderr, "udp-flood: not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  const double seconds = std::atof(argv[3]);
  const int threads = std::max(1, std::atoi(argv[4]));
  const double rate = std::atof(argv[5]);
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(seconds));
  std::vector<long> sent(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++)
    pool.emplace_back([&, t] { sent[static_cast<size_t>(t)] = flood(dst, end, rate / threads); });
  long total = 0;
  for (int t = 0; t < threads; t++) {
    pool[static_cast<size_t>(t)].join();
    if (sent[static_cast<size_t>(t)] < 0) return 1;
    total += sent[static_cast<size_t>(t)];
  }
  std::printf("%ld\n", total);
  return 0;
}
