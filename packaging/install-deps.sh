#!/usr/bin/env bash
# Installs the Debian 12 packages pwrudump needs to build, test and run (as root).
set -euo pipefail

packages=(
  # build
  cmake make g++ pkg-config clang llvm libbpf-dev bpftool libpcap-dev libglib2.0-dev
  wireshark-dev libcli11-dev libgtest-dev
  # fuzz tests (tests/fuzz): libFuzzer and clang's sanitizer runtimes, only recommended by clang
  libclang-rt-14-dev
  # run and test: tshark reads what we write; the network tests build hosts with ip netns
  tshark iproute2 iptables iputils-ping util-linux procps
  # Debian package (packaging/package.cmake, tests/package): the man page from --help, Debian's
  # package checker, and a clean Debian root to install the package into
  help2man lintian debootstrap
  # kernel-matrix tests (tests/vm): Debian kernels booted under QEMU with a busybox initramfs;
  # the kernel packages come from the archive through apt, their modules are xz/zstd compressed
  qemu-system-x86 busybox-static cpio xz-utils zstd kmod debian-archive-keyring
  # GUI tests (tests/gui): Wireshark (Qt) on a virtual X server, driven with xdotool, screenshots
  # checked with ImageMagick, a dialog's text read with tesseract (OCR); setcap comes with
  # libcap2-bin, a dependency of iputils-ping
  wireshark-qt xvfb xdotool imagemagick tesseract-ocr tesseract-ocr-eng
  # lint (tests/lint): every shell script through shellcheck
  shellcheck
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: cannot install packages: not root; run it with sudo" >&2
  exit 4
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no (pwrudump needs its own privileges).
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}"
