#!/usr/bin/env bash
# From a fresh Debian 12 machine to a first trace: install the packages, build, install pwrudump
# and the Wireshark plugin, then trace a few pings on loopback (traffic of our own) and exit.
set -euo pipefail
cd "$(dirname "$0")/.."

packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
cmake --install build

echo
echo "== pwrudump: the kernel's view of two pings to 127.0.0.1 =="
ready=$(mktemp -u /tmp/pwrudump-ready.XXXXXX)
build/extcap/pwrudump --ready-file "$ready" --output-limit-lines 24 icmp &
pid=$!
for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.1; done
[ -e "$ready" ] || { echo "pwrudump did not start" >&2; kill "$pid" 2>/dev/null; exit 1; }
ping -c 2 -i 0.2 127.0.0.1 >/dev/null
# The limit ends the trace; should fewer events come, stop it the way a user would (Ctrl-C).
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -INT "$pid" 2>/dev/null || true
wait "$pid"
rm -f "$ready"
echo
echo "Installed: 'tshark -D' lists pwru; in Wireshark pick the 'pwru' interface."
