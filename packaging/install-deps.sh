#!/usr/bin/env bash
# Installs the Debian packages pwrudump needs to build, test and run (as root), on Debian 12, 13
# or sid: the names that differ between suites are asked of apt.
#
# usage: install-deps.sh [--print] [GROUP...]
#   GROUP: build fuzz run package vm gui lint remote (default: all of them)
#   --print: print the package names, one a line, and install nothing (needs no root)
set -euo pipefail

die() {
  echo "install-deps.sh: $*" >&2
  exit 4
}

# clang's sanitizer runtimes and libFuzzer come in a package named after clang's major version
# (libclang-rt-14-dev on Debian 12, -19- on 13): the version the suite's `clang` depends on.
clang_rt() {
  local version
  version=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9]*\)$/\1/p' |
              head -n 1)
  [ -n "$version" ] || die "cannot tell which clang this suite has: apt-cache knows no 'clang'
hint: run apt-get update first"
  echo "libclang-rt-$version-dev"
}

group() {
  case $1 in
    build) echo cmake make g++ pkg-config clang llvm libbpf-dev bpftool libpcap-dev \
                libglib2.0-dev wireshark-dev libcli11-dev libgtest-dev \
                libnftables-dev libnftnl-dev libmnl-dev zlib1g-dev ;;
    # fuzz tests (tests/fuzz): libFuzzer and clang's sanitizer runtimes, only recommended by clang
    fuzz) clang_rt ;;
    # run and test: tshark reads what we write; the network tests build hosts with ip netns;
    # the --nf-trace tests write rules with nft
    run) echo tshark iproute2 iptables nftables iputils-ping util-linux procps ;;
    # Debian package (packaging/package.cmake, tests/package): the man page from --help, Debian's
    # package checker, and clean Debian roots to build and install the package in
    package) echo help2man lintian debootstrap ;;
    # kernel-matrix tests (tests/vm): Debian kernels booted under QEMU with a busybox initramfs;
    # the kernel packages come from the archive through apt, their modules are xz/zstd compressed
    vm) echo qemu-system-x86 busybox-static cpio xz-utils zstd kmod debian-archive-keyring ;;
    # GUI tests (tests/gui): Wireshark (Qt; `wireshark` names it in every suite) on a virtual X
    # server, driven with xdotool, screenshots checked with ImageMagick, a dialog's text read with
    # tesseract (OCR); setcap comes with libcap2-bin, a dependency of iputils-ping
    gui) echo wireshark xvfb xdotool imagemagick tesseract-ocr tesseract-ocr-eng ;;
    # lint (tests/lint): every shell script through shellcheck; the Kubernetes manifests parsed
    lint) echo shellcheck python3-yaml ;;
    # remote tests (tests/remote): an sshd of the test's own in a network namespace as the server
    # (only its binary is used; where systemd runs, the package also starts the system's ssh
    # service), and the ssh client that reaches it
    remote) echo openssh-server openssh-client ;;
    *) die "no package group '$1'
hint: name some of: build fuzz run package vm gui lint remote" ;;
  esac
}

print=false
if [ "${1:-}" = --print ]; then
  print=true
  shift
fi
[ $# -gt 0 ] || set -- build fuzz run package vm gui lint remote
for g in "$@"; do group "$g" >/dev/null; done  # a bad name fails before apt runs

# names GROUP...: the packages of the GROUPs, from apt's current lists.
names() {
  local g
  for g in "$@"; do
    group "$g" | tr ' ' '\n'
  done
}

if $print; then
  names "$@"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  die "cannot install packages: not root; run it with sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no (pwrudump needs its own privileges).
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
list=$(names "$@")
mapfile -t packages <<<"$list"
apt-get install -y -qq --no-install-recommends "${packages[@]}"
