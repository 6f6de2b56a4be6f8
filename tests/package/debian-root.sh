#!/usr/bin/env bash
# Makes (once) and keeps up to date a clean Debian root of this machine's release, for installing
# the package into: debootstrap (minbase) from the archive this machine's apt uses, then the
# packages named on the command line, installed with apt inside the root. Prints the root's path.
#
# usage: debian-root.sh PACKAGE...
#
# The root is cached in $PWRU_PACKAGE_CACHE (default /var/cache/pwrudump-package) and reused:
# only packages it lacks are fetched, so a cached run needs no network. Tests never change it:
# they mount an overlay on it (install_test.sh). PWRU_PACKAGE_REFRESH=1 makes it anew.
# The archive's address is read from /etc/apt at run time (apt-get indextargets): every deb source
# of this machine's release and its -updates and -security suites, as the machine has them.
# Exit codes: 0 ready, 1 failed (the reason is on stderr).
set -euo pipefail

die() {
  echo "debian-root.sh: $*" >&2
  exit 1
}

[ $# -ge 1 ] || die "usage: debian-root.sh PACKAGE..."
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
cache=${PWRU_PACKAGE_CACHE:-/var/cache/pwrudump-package}
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "cannot tell this machine's release (VERSION_CODENAME in /etc/os-release)"
root="$cache/$codename"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # one writer; the tests read the root only after this script is done

# "URI SUITE COMPONENT" for each deb source of this release, from apt's own view of its config.
sources() {
  # shellcheck disable=SC2016  # apt's own $(FIELD) syntax, not the shell's
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' \
    'Target-Of: deb' | awk -v c="$codename" \
      '$2 == c || $2 == c "-updates" || $2 == c "-security" { print }' | sort -u
}

in_root() {
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    LC_ALL=C.UTF-8 "$@"
}

# apt-get inside the root, with /proc and /dev from a private mount namespace (gone on exit).
apt_in_root() {
  # shellcheck disable=SC2016  # the inner shell expands them
  unshare --mount --propagation private sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
      chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        LC_ALL=C.UTF-8 apt-get "$@"' sh "$root" "$@"
}

if [ "${PWRU_PACKAGE_REFRESH:-}" = 1 ] || [ ! -f "$root/.pwrudump-ready" ]; then
  list=$(sources) || die "cannot read the apt sources (apt-get indextargets)"
  mirror=$(awk -v c="$codename" '$2 == c { print $1; exit }' <<<"$list")
  [ -n "$mirror" ] || die "this machine's apt has no deb source for $codename (/etc/apt)"
  command -v debootstrap >/dev/null || die "needs debootstrap (run packaging/install-deps.sh)"
  rm -rf "$root" "$root.new"
  echo "debian-root.sh: debootstrap $codename from $mirror into $root (once)" >&2
  start=$SECONDS
  unshare --mount --propagation private \
    debootstrap --variant=minbase "$codename" "$root.new" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed: $(tail -n 5 "$cache/debootstrap.log")"
  awk '{ print "deb " $1 " " $2 " " $3 }' <<<"$list" >"$root.new/etc/apt/sources.list"
  # The tshark package asks whether non-root users may capture: no, as on a default install.
  echo "wireshark-common wireshark-common/install-setuid boolean false" |
    chroot "$root.new" debconf-set-selections
  mv "$root.new" "$root"
  touch "$root/.pwrudump-ready"
  echo "debian-root.sh: made $root in $((SECONDS - start)) s" >&2
fi

missing=()
for p in "$@"; do
  # shellcheck disable=SC2016  # dpkg-query's ${Field}, not the shell's
  in_root dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "debian-root.sh: installing into $root: ${missing[*]}" >&2
  start=$SECONDS
  apt_in_root update -qq >"$cache/apt.log" 2>&1 || die "apt-get update failed: $(tail -n 5 "$cache/apt.log")"
  apt_in_root install -y -qq --no-install-recommends "${missing[@]}" >>"$cache/apt.log" 2>&1 ||
    die "apt-get install ${missing[*]} failed: $(tail -n 5 "$cache/apt.log")"
  apt_in_root clean >/dev/null 2>&1 || true
  echo "debian-root.sh: installed in $((SECONDS - start)) s" >&2
fi
echo "$root"
