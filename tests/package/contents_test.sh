#!/usr/bin/env bash
# What the Debian package holds, read with dpkg-deb on the system it was built for (this machine,
# or a suite's root: tests/distro/package_test.sh): files where that system's tshark looks for
# them, a link on PATH, docs, man page and copyright; control fields, a version that names the
# release, and Depends on that system's packages of every library pwrudump and the plugin link,
# with Wireshark pinned to its major.minor; a postinst that grants exactly CAPS to group
# wireshark; and a man page that documents every option of `pwrudump --help`.
# usage: contents_test.sh BUILD_DIR DEB CAPS     (CAPS as in packaging/capabilities.cmake)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 3 ] || fail "usage: contents_test.sh BUILD_DIR DEB CAPS"
BUILD=$1 deb=$2 CAPS=$3
require_cmd dpkg-deb dpkg-query tshark man readelf
[ -f "$deb" ] || fail "no package $deb"
WORK=$(mktemp -d /tmp/pwru-pkg-contents.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$deb" "$WORK/root" || fail "dpkg-deb -x failed"
folders=$(tshark -G folders 2>/dev/null)
folder() { printf '%s\n' "$folders" | sed -nE "s/^$1:[[:space:]]*//p" | head -1; }
extcap_dir=$(folder '(Global )?Extcap path')  # "Global" from Wireshark 4.2
plugin_dir=$(folder 'Global Plugins')
data_dir=$(folder 'Global configuration')
{ [ -n "$extcap_dir" ] && [ -n "$plugin_dir" ] && [ -n "$data_dir" ]; } || fail "tshark -G folders: $folders"
PWRUDUMP="$BUILD/extcap/pwrudump"
packaged="$WORK/root$extcap_dir/pwrudump"
[ -x "$packaged" ] || fail "the package has no $extcap_dir/pwrudump"
version=$("$PWRUDUMP" --version | awk '{ print $2 }')

# --- control fields ---
arch=$(dpkg --print-architecture)
field() { dpkg-deb -f "$deb" "$1"; }
# The release built for, as packaging/package.cmake names it: deb12 on Debian 12, debforky on sid.
# shellcheck disable=SC1091 # the system's own
read -r release codename < <(. /etc/os-release && id=$ID && { [ "$id" != debian ] || id=deb; } &&
                             echo "$id${VERSION_ID:-$VERSION_CODENAME} $VERSION_CODENAME")
assert_eq Package pwrudump "$(field Package)"
assert_eq Version "$version+$release" "$(field Version)"
assert_eq "file name" "pwrudump_${version}+${release}_$arch.deb" "$(basename "$deb")"
assert_eq Architecture "$arch" "$(field Architecture)"
assert_eq Section net "$(field Section)"
[[ $(field Maintainer) == *'<'*@*'>' ]] || fail "Maintainer has no address: $(field Maintainer)"
top=$(zcat "$WORK/root/usr/share/doc/pwrudump/changelog.gz" | head -n 1)
assert_eq "the changelog's top entry" "pwrudump ($version+$release) $codename; urgency=medium" \
  "$top"
depends=$(field Depends)
ws=$(dpkg-query -W -f='${Version}' wireshark-common | sed -E 's/^[0-9]+://; s/^([0-9]+)\.([0-9]+)\..*/\1 \2/')
read -r major minor <<<"$ws"
for dep in "wireshark-common (>= $major.$minor)" "wireshark-common (<< $major.$((minor + 1)))" \
           libcap2-bin adduser; do
  [[ ", $depends," == *", $dep"[,\ ]* ]] || fail "Depends lacks '$dep': $depends"
done
[[ $plugin_dir == */$major.$minor ]] || fail "tshark's plugin folder $plugin_dir is not for $major.$minor"
# The library the plugin needs ships the plugin folder (libwireshark16 for 4.0).
libws=$(dpkg-query -S "$plugin_dir/epan" | sed 's/[:,].*//')
[[ $depends == *"$libws (>= $major.$minor), $libws (<< $major.$((minor + 1)))"* ]] ||
  fail "Depends does not pin $libws to $major.$minor: $depends"
# Every library the two link, by the name of this system's package that ships it (libpcap0.8 in
# Debian 12, libpcap0.8t64 in 13).
needed=$(readelf -d "$packaged" "$WORK/root$plugin_dir/epan/pwru.so" |
           sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u)
for soname in libbpf.so.1 libpcap.so.0.8 libwireshark.so libwsutil.so; do
  grep -q "^${soname//./\\.}" <<<"$needed" ||
    fail "pwrudump and pwru.so do not link $soname: $needed"
done
libs=()
for soname in $needed; do
  path=$(ldconfig -p | awk -v s="$soname" '$1 == s { print $NF; exit }')
  [ -n "$path" ] || fail "cannot find $soname, which the package links (ldconfig -p)"
  # The folder as dpkg knows it: /lib and /usr/lib are one since Debian 12 (merged /usr).
  pkg=$({ dpkg-query -S "$path" || dpkg-query -S "${path#/usr}" || dpkg-query -S "/usr$path"; } \
          2>/dev/null | sed 's/[:,].*//' | head -n 1)
  [ -n "$pkg" ] || fail "no package ships $path ($soname)"
  [[ ", $depends," == *", $pkg"[,\ ]* ]] || fail "Depends lacks $pkg, which ships $soname: $depends"
  libs+=("$pkg")
done
# --- files: where this system's tshark looks, nothing outside /usr ---
dpkg-deb -c "$deb" >"$WORK/list" || fail "dpkg-deb -c failed"
# "mode owner/group size date time ./path [-> target]" -> "mode owner path [-> target]"
awk '{ $3 = $4 = $5 = ""; sub(/^\.\//, "/", $6); print $1, $2, $6, $7, $8 }' "$WORK/list" |
  sed 's/ *$//' >"$WORK/files"
has() { grep -qxF -- "$1" "$WORK/files" || fail "package lacks '$1'; it has: $(cat "$WORK/files")"; }
has "-rwxr-xr-x root/root $extcap_dir/pwrudump"
has "-rw-r--r-- root/root $plugin_dir/epan/pwru.so"
for f in colorfilters preferences; do has "-rw-r--r-- root/root $data_dir/profiles/pwru/$f"; done
has "-rw-r--r-- root/root /usr/share/man/man1/pwrudump.1.gz"
for f in README.md copyright changelog.gz docs/privileges.md docs/wireshark.md docs/tshark.md; do
  has "-rw-r--r-- root/root /usr/share/doc/pwrudump/$f"
done
link=$(awk '$3 == "/usr/bin/pwrudump" && $1 ~ /^l/ { print $5 }' "$WORK/files")
[ -n "$link" ] || fail "/usr/bin/pwrudump is not a link"
[[ $link != /* ]] || fail "/usr/bin/pwrudump -> $link: links inside /usr must be relative (Debian policy 10.5)"
assert_eq "/usr/bin/pwrudump resolves to" "$extcap_dir/pwrudump" \
  "$(realpath -m --no-symlinks "/usr/bin/$link")"
outside=$(awk '$3 !~ /^\/usr\// && $3 != "/usr/" || $3 ~ /^\/usr\/local\// { print $3 }' "$WORK/files")
[ -z "$outside" ] || fail "files outside /usr or in /usr/local: $outside"

# --- the installed binary is this build's, stripped ---
assert_eq "packaged pwrudump --version" "pwrudump $version" "$("$packaged" --version)"
"$packaged" --extcap-interfaces | grep -q '^interface {value=pwru}' ||
  fail "packaged pwrudump does not list the interface pwru"
help_url=$("$packaged" --extcap-interfaces | sed -n 's/.*{help=file:\/\/\([^}]*\)}.*/\1/p')
[ -z "$help_url" ] || [ -f "$WORK/root$help_url" ] ||
  fail "the extcap's help link $help_url is not in the package (configure with the default prefix /usr)"

# --- maintainer scripts ---
dpkg-deb -e "$deb" "$WORK/control" || fail "dpkg-deb -e failed"
postinst="$WORK/control/postinst"
[ -x "$postinst" ] || fail "no executable postinst"
sh -n "$postinst" || fail "postinst is not valid sh"
grep -qx "CAPS=$CAPS" "$postinst" || fail "postinst does not grant CAPS=$CAPS: $(grep CAPS= "$postinst")"
grep -qx "PROGRAM=$extcap_dir/pwrudump" "$postinst" || fail "postinst names another program"
grep -qx "GROUP=wireshark" "$postinst" || fail "postinst does not use group wireshark"
# The postinst's own commands, word for word: the mode, dpkg-statoverride, the capabilities.
# shellcheck disable=SC2016  # its variables, not ours
for line in 'chmod 0754 "$PROGRAM"' 'dpkg-statoverride --list "$PROGRAM"' 'setcap "$CAPS=ep" "$PROGRAM"'; do
  grep -qF "$line" "$postinst" || fail "postinst lacks the command: $line"
done

# --- man page: every option of --help, and the capabilities ---
MANWIDTH=1000 man --no-hyphenation --no-justification -l "$WORK/root/usr/share/man/man1/pwrudump.1.gz" \
  2>"$WORK/man.err" >"$WORK/man.txt" || fail "man cannot render pwrudump.1: $(cat "$WORK/man.err")"
[ ! -s "$WORK/man.err" ] || fail "man warns about pwrudump.1: $(cat "$WORK/man.err")"
options=$("$PWRUDUMP" --help | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[ ,]*//' | sort -u)
[ "$(count_lines "$options")" -ge 20 ] || fail "--help lists too few options: $options"
for o in $options; do
  grep -qE -- "(^|[^a-zA-Z0-9-])$o([^a-zA-Z0-9-]|$)" "$WORK/man.txt" ||
    fail "the man page does not document $o"
done
for c in ${CAPS//,/ }; do
  c=${c^^}
  grep -q "$c" "$WORK/man.txt" || fail "the man page does not name $c"
  grep -q "$c" "$WORK/root/usr/share/doc/pwrudump/docs/privileges.md" ||
    fail "docs/privileges.md does not name $c"
done
grep -q "pwrudump $version" "$WORK/man.txt" || fail "the man page is not for version $version"
pass "$(basename "$deb"): $(grep -c . "$WORK/files") entries, Depends pinned to Wireshark $major.$minor and on ${libs[*]}, postinst grants $CAPS, man page documents all $(count_lines "$options") options"
