#!/usr/bin/env bash
# Installs the Debian 12 packages only the benchmarks need (as root), from the archive the
# machine's apt already uses: iperf3 (the TCP flows), bpftrace (the peer compared with),
# GNU time (tshark's peak memory), editcap (cutting captures; comes with tshark).
set -euo pipefail

packages=(iperf3 bpftrace time tshark python3)

if [ "$(id -u)" -ne 0 ]; then
  echo "bench/install-deps.sh: cannot install packages: not root; run it with sudo" >&2
  exit 4
fi
export DEBIAN_FRONTEND=noninteractive
# iperf3 asks whether to start its server at boot; the benchmarks start their own.
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}"
