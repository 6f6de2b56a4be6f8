# Debian roots made with debootstrap from the archive this machine's apt uses: made once, packages
# installed into them with apt, commands run inside with /proc and /dev. Sourced by the scripts
# that cache a root (tests/distro/root.sh); they call `die` on error.
#
# The archive's address is read from /etc/apt at run time (apt-get indextargets), never written
# down: a root of another suite uses the same sources as this machine's release, with the suite
# renamed.
# shellcheck shell=bash

# This machine's release ("bookworm"), from /etc/os-release.
debootstrap_host_codename() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] ||
    die "cannot tell this machine's release: /etc/os-release has no VERSION_CODENAME"
  echo "$codename"
}

# debootstrap_sources SUITE: "URI SUITE COMPONENT" lines for a root of SUITE, from apt's own view
# of this machine's deb sources of its release and their -updates and -security suites, renamed
# to SUITE. sid (unstable) has neither -updates nor -security.
debootstrap_sources() {
  local suite=$1 host
  host=$(debootstrap_host_codename)
  # shellcheck disable=SC2016 # apt's format, not the shell's
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' \
    'Target-Of: deb' | awk -v c="$host" -v s="$suite" '
      $2 == c { print $1, s, $3 }
      s != "sid" && ($2 == c "-updates" || $2 == c "-security") { sub(c, s, $2); print }' |
    sort -u
}

# debootstrap_chroot ROOT COMMAND...: COMMAND inside ROOT with a clean environment, no /proc.
debootstrap_chroot() {
  local root=$1
  shift
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    LC_ALL=C.UTF-8 HOME=/root "$@"
}

# debootstrap_run ROOT [--sys] [--bind|--ro HOSTDIR NAME]... COMMAND...: COMMAND inside ROOT with
# /proc, /dev, a fresh /tmp, and each HOSTDIR at /mnt/NAME (--ro: read-only), all mounted in a
# private mount namespace: the mounts are gone when it ends, whatever happens, and the root itself
# is left as it was. --sys: this machine's /sys too, with what is mounted under it (BTF, tracefs,
# bpffs), for tracing the kernel from inside the root.
debootstrap_run() {
  # shellcheck disable=SC2016 # the inner shell expands them
  unshare --mount --propagation private sh -c '
    set -e
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"  # with /dev/pts, where apt and dpkg log
    mount -t tmpfs tmpfs "$root/tmp"
    if [ "$1" = --sys ]; then
      mount --rbind /sys "$root/sys"
      shift
    fi
    case $1 in --bind | --ro) mount -t tmpfs tmpfs "$root/mnt" ;; esac
    while [ "$1" = --bind ] || [ "$1" = --ro ]; do
      mkdir "$root/mnt/$3"
      mount --bind "$2" "$root/mnt/$3"
      [ "$1" = --bind ] || mount -o remount,bind,ro "$root/mnt/$3"
      shift 3
    done
    set +e
    exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      LC_ALL=C.UTF-8 HOME=/root "$@"' sh "$@"
}

# debootstrap_make ROOT SUITE LOG: makes a minbase root of SUITE at ROOT (replacing any), with
# this machine's sources for SUITE. The root is built beside ROOT and renamed when complete, so
# an interrupted run leaves no half root at ROOT.
debootstrap_make() {
  local root=$1 suite=$2 log=$3 list mirror start
  list=$(debootstrap_sources "$suite") || die "cannot read the apt sources (apt-get indextargets)"
  mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$list")
  [ -n "$mirror" ] ||
    die "cannot find a Debian archive: this machine's apt has no deb source of its release (/etc/apt)"
  command -v debootstrap >/dev/null ||
    die "cannot make a $suite root: no debootstrap (run packaging/install-deps.sh)"
  rm -rf "$root" "$root.new"
  echo "${0##*/}: debootstrap $suite from $mirror into $root (once)" >&2
  start=$SECONDS
  unshare --mount --propagation private \
    debootstrap --variant=minbase "$suite" "$root.new" "$mirror" >"$log" 2>&1 ||
    die "cannot debootstrap $suite: $(tail -n 5 "$log")"
  awk '{ print "deb " $1 " " $2 " " $3 }' <<<"$list" >"$root.new/etc/apt/sources.list"
  # The archive these machines reach can be a copy that lags behind: sid's and the -security
  # suites' Release files carry a Valid-Until that such a copy outlives, and apt would then refuse
  # the whole suite. The signatures are still checked.
  echo 'Acquire::Check-Valid-Until "false";' >"$root.new/etc/apt/apt.conf.d/90no-valid-until"
  # The tshark package asks whether non-root users may capture: no, as on a default install.
  echo "wireshark-common wireshark-common/install-setuid boolean false" |
    chroot "$root.new" debconf-set-selections
  mv "$root.new" "$root"
  touch "$root/.pwrudump-ready"
  echo "${0##*/}: made $root in $((SECONDS - start)) s" >&2
}

# debootstrap_install ROOT LOG PACKAGE...: installs the PACKAGEs ROOT lacks; nothing (and no
# network) when it has them all.
debootstrap_install() {
  local root=$1 log=$2 missing=() p start
  shift 2
  for p in "$@"; do
    # shellcheck disable=SC2016 # dpkg-query's format
    debootstrap_chroot "$root" dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
      grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "${0##*/}: installing into $root: ${missing[*]}" >&2
  start=$SECONDS
  debootstrap_run "$root" apt-get update -qq >"$log" 2>&1 ||
    die "cannot update the package lists in $root: $(tail -n 5 "$log")"
  debootstrap_run "$root" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >>"$log" 2>&1 || die "cannot install ${missing[*]} into $root: $(tail -n 5 "$log")"
  debootstrap_run "$root" apt-get clean >/dev/null 2>&1 || true
  echo "${0##*/}: installed in $((SECONDS - start)) s" >&2
}
