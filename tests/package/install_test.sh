#!/usr/bin/env bash
# Installs the Debian package with apt into a clean Debian root of the release it was built for
# (tests/distro/root.sh SUITE clean: debootstrap, cached), then, as an unprivileged member of
# group wireshark: tshark -D lists pwru, tshark decodes the kept sample capture, pwrudump traces
# loopback pings with the postinst's capabilities alone (callers named: CAP_SYSLOG) and not
# without each of them, and tshark captures live from pwru.
# A user outside the group sees no pwru interface. Purging removes every file.
#
# usage: install_test.sh DEB SUITE SAMPLE_PCAPNG CAPS     (SUITE: bookworm, trixie or sid)
# The cached root is never changed: an overlay on it takes the writes, in a private mount
# namespace that takes every mount with it on exit.
set -uo pipefail
[ -n "${PWRU_XTRACE:-}" ] && exec 7>>"$PWRU_XTRACE" && BASH_XTRACEFD=7 && PS4='+ $(date +%T) ' && set -x
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 4 ] || fail "usage: install_test.sh DEB SUITE SAMPLE_PCAPNG CAPS"
deb=$1 SUITE=$2 SAMPLE=$3 CAPS=$4

if [ -z "${PWRU_PKG_NS:-}" ]; then
  require_root
  require_cmd unshare chroot debootstrap dpkg-deb flock
  [ -r /sys/kernel/btf/vmlinux ] || skip_or_fail "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
  [ -f "$deb" ] || fail "no package $deb"
  # What the package needs (first of each alternative), and what the test runs in the root.
  mapfile -t needs < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
                        sed -E 's/\|.*//; s/\(.*//; s/[[:space:]]//g' | grep . | sort -u)
  start=$SECONDS
  ROOT=$("$here/../distro/root.sh" "$SUITE" clean "${needs[@]}" tshark iputils-ping) ||
    fail "cannot make a clean $SUITE root (above)"
  echo "Debian root ready in $((SECONDS - start)) s: $ROOT"
  # The work folder is removed out here, once the namespace and its mounts (/dev!) are gone.
  WORK=$(mktemp -d /tmp/pwru-pkg-install.XXXXXX)
  unshare --mount --propagation private env PWRU_PKG_NS=1 ROOT="$ROOT" DEB="$deb" WORK="$WORK" \
    "$0" "$@"
  rc=$?
  rm -rf --one-file-system "$WORK"
  exit $rc
fi

# --- in a private mount namespace from here on ---
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root"
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$WORK/upper,workdir=$WORK/work" "$WORK/root" ||
  fail "cannot mount an overlay on $ROOT"
R="$WORK/root"
{ mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys"; } ||
  fail "cannot mount /proc, /dev and /sys in the root"

# in_root [setpriv args --] CMD...: a command in the root, as root or (setpriv) as a user.
in_root() {
  chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root "$@"
}
as_user() {
  local user=$1
  shift
  chroot "$R" setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 HOME="/home/$user" "$@"
}
# The same as a plain command, so that `$!` of a background job is the process itself.
as_tracer=(chroot "$R" setpriv --reuid=tracer --regid=tracer --init-groups
           env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 HOME=/home/tracer)

{ cp "$DEB" "$R/tmp/pwrudump.deb" && cp "$SAMPLE" "$R/tmp/sample.pcapng" &&
  chmod 644 "$R/tmp/sample.pcapng"; } ||
  fail "cannot copy the package and the sample into the root"

# --- install with apt, as a user does: the dependencies come from the cached root, never from
# the network, and the package's version ranges must accept that release's Wireshark ---
chmod 644 "$R/tmp/pwrudump.deb"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  /tmp/pwrudump.deb >"$WORK/apt.log" 2>&1 || fail "apt-get install failed: $(cat "$WORK/apt.log")"
grep '^Get:' "$WORK/apt.log" | grep -qv ' /tmp/pwrudump.deb ' &&
  fail "apt fetched what the cached root lacks: $(cat "$WORK/apt.log")"
grep -qi 'warning\|cannot' "$WORK/apt.log" && fail "apt-get install printed warnings: $(cat "$WORK/apt.log")"
grep -q '^Setting up pwrudump ' "$WORK/apt.log" || fail "apt did not install pwrudump: $(cat "$WORK/apt.log")"
program=$(in_root sh -c 'readlink -f /usr/bin/pwrudump')
assert_eq "owner, group and mode of $program" "root wireshark 754" "$(in_root stat -c '%U %G %a' "$program")"
# getcap lists them in the kernel's order: compare as sets.
caps=$(in_root getcap "$program" | awk '{ print $2 }')
sorted() { tr ',' '\n' <<<"$1" | sort | paste -sd,; }
assert_eq "capabilities of $program" "$(sorted "$CAPS")=ep" "$(sorted "${caps%=*}")=${caps##*=}"
in_root man -w pwrudump >/dev/null 2>&1 || in_root test -f /usr/share/man/man1/pwrudump.1.gz ||
  fail "no man page pwrudump(1) in the root"

{ in_root useradd -m -G wireshark tracer && in_root useradd -m outsider; } || fail "cannot add the users"

# --- Wireshark's view, as a member of the group and as anyone else ---
as_user tracer tshark -D >"$WORK/D.tracer" 2>&1 || fail "tshark -D as tracer: $(cat "$WORK/D.tracer")"
grep -q '^[0-9]*\. pwru ' "$WORK/D.tracer" || fail "tshark -D as tracer does not list pwru: $(cat "$WORK/D.tracer")"
as_user outsider tshark -D >"$WORK/D.outsider" 2>&1 ||
  fail "tshark -D as outsider: $(cat "$WORK/D.outsider")"
grep -q '^[0-9]*\. pwru ' "$WORK/D.outsider" &&
  fail "tshark -D lists pwru to a user outside group wireshark, who cannot run pwrudump"
as_user tracer tshark -r /tmp/sample.pcapng -T fields -e pwru.func -e pwru.drop_reason \
  >"$WORK/sample.txt" 2>"$WORK/sample.err" || fail "tshark -r as tracer: $(cat "$WORK/sample.err")"
[ ! -s "$WORK/sample.err" ] || fail "tshark -r printed errors: $(cat "$WORK/sample.err")"
grep -q $'^kfree_skb\tNETFILTER_DROP$' "$WORK/sample.txt" ||
  fail "the installed plugin did not decode pwru.func/pwru.drop_reason: $(cat "$WORK/sample.txt")"
[ "$(grep -c . "$WORK/sample.txt")" -eq "$(grep -c '^[a-z]' "$WORK/sample.txt")" ] ||
  fail "a frame has no pwru.func: $(cat "$WORK/sample.txt")"

# ping_loopback: pings from the root (traffic of our own, to 127.0.0.1 only).
ping_loopback() { in_root ping -c "${1:-3}" -i 0.2 -W 1 127.0.0.1 >/dev/null 2>&1; }

# trace_as_tracer NAME: pwrudump as tracer (tracepoint backend, callers shown) during three
# loopback pings; output in $WORK/NAME.txt and .err, its exit code in $trace_rc.
trace_as_tracer() {
  rm -f "$R/tmp/ready"
  "${as_tracer[@]}" pwrudump --backend tracepoint --output-caller --ready-file /tmp/ready \
    icmp and host 127.0.0.1 >"$WORK/$1.txt" 2>"$WORK/$1.err" &
  local pid=$!
  for _ in $(seq 300); do [ -e "$R/tmp/ready" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if [ -e "$R/tmp/ready" ]; then
    ping_loopback 3
    sleep 0.5
    kill -INT $pid
  fi
  wait $pid
  trace_rc=$?
}
named_callers() { grep -qE ' [a-z_0-9.]+\+0x[0-9a-f]+$' "$WORK/$1.txt"; }

# --- a trace on the command line, with the capabilities alone ---
trace_as_tracer trace
assert_eq "pwrudump exit code as tracer (stderr: $(cat "$WORK/trace.err"))" 0 "$trace_rc"
events=$(grep -c '^0x' "$WORK/trace.txt")
[ "$events" -gt 0 ] || fail "pwrudump as tracer saw no event: $(cat "$WORK/trace.txt" "$WORK/trace.err")"
named_callers trace || fail "callers are not named (no CAP_SYSLOG?): $(head -n 5 "$WORK/trace.txt")"
probes=$(sed -n 's/^attached \([0-9]*\) probes (tracepoint)$/\1/p' "$WORK/trace.err")
[ -n "$probes" ] || fail "no 'attached N probes (tracepoint)' on pwrudump's stderr: $(cat "$WORK/trace.err")"

# --- each capability this host can show is needed (docs/privileges.md) ---
# CAP_BPF, CAP_PERFMON: no trace at all (exit 4); CAP_SYSLOG: callers only as addresses, as
# kptr_restrict and perf_event_paranoid > 1 hide kallsyms. (CAP_DAC_READ_SEARCH matters for the
# function backends only, which this host refuses; it is measured in the VMs.)
# Where kallsyms shows addresses to everyone (kptr_restrict 0 with perf_event_paranoid <= 1), no
# capability is needed for them, and there is nothing to show for CAP_SYSLOG.
first=$(in_root setpriv --reuid=nobody --regid=nogroup --clear-groups head -n 1 /proc/kallsyms)
kallsyms_open=0
[[ ${first%% *} =~ [1-9a-f] ]] && kallsyms_open=1
for cap in ${CAPS//,/ }; do
  [ "$cap" = cap_dac_read_search ] && continue
  if [ "$cap" = cap_syslog ] && [ $kallsyms_open = 1 ]; then
    echo "NOTE: /proc/kallsyms shows addresses to every user here: CAP_SYSLOG not checked"
    continue
  fi
  in_root setcap "$(tr ',' '\n' <<<"$CAPS" | grep -vx "$cap" | paste -sd,)=ep" "$program" ||
    fail "cannot set the capabilities of $program"
  trace_as_tracer "no-$cap"
  if [ "$cap" = cap_syslog ]; then
    assert_eq "exit code without $cap (stderr: $(cat "$WORK/no-$cap.err"))" 0 "$trace_rc"
    grep -qE ' 0x[0-9a-f]+$' "$WORK/no-$cap.txt" ||
      fail "no caller as an address without CAP_SYSLOG: $(head -n 5 "$WORK/no-$cap.txt")"
    named_callers "no-$cap" &&
      fail "callers are named without CAP_SYSLOG: $(grep -m 3 '+0x' "$WORK/no-$cap.txt")"
  else
    assert_eq "exit code without $cap (4: permission; stderr: $(cat "$WORK/no-$cap.err"))" 4 "$trace_rc"
  fi
done
# Without any, dpkg-reconfigure grants them again.
in_root setcap -r "$program" || fail "cannot drop the capabilities of $program"
trace_as_tracer nocaps
assert_eq "exit code as tracer without capabilities (4: permission)" 4 "$trace_rc"
in_root dpkg-reconfigure pwrudump >"$WORK/reconfigure.log" 2>&1 ||
  fail "dpkg-reconfigure pwrudump failed: $(cat "$WORK/reconfigure.log")"
caps=$(in_root getcap "$program" | awk '{ print $2 }')
assert_eq "capabilities after dpkg-reconfigure" "$(sorted "$CAPS")=ep" "$(sorted "${caps%=*}")=${caps##*=}"

# --- a live capture in tshark: the extcap as Wireshark runs it ---
# pwrudump_links PARENT: the BPF links that the pwrudump under PARENT holds (attached probes).
pwrudump_links() {
  local p
  for p in $(descendants "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = pwrudump ] || continue
    grep -l '^link_id:' "/proc/$p/fdinfo/"* 2>/dev/null | grep -c .
    return
  done
  echo 0
}
PINGS=5
"${as_tracer[@]}" tshark -i pwru -o extcap.pwru.backend:tracepoint -f 'icmp and host 127.0.0.1' \
  -a duration:10 -w /tmp/live.pcapng >"$WORK/live.out" 2>&1 &
pid=$!
# The installed extcap is the one under test, so no --ready-file: its links tell when it is
# attached, as many as on the command line above.
for _ in $(seq 300); do
  [ "$(pwrudump_links $pid)" -ge "$probes" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
links=$(pwrudump_links $pid)
[ "$links" -ge "$probes" ] ||
  fail "pwrudump under tshark holds $links of its $probes probes' links: $(cat "$WORK/live.out")"
ping_loopback $PINGS
wait $pid || fail "tshark -i pwru as tracer failed: $(cat "$WORK/live.out")"
as_user tracer tshark -r /tmp/live.pcapng -T fields -Y 'icmp.type == 8' -e icmp.seq \
  >"$WORK/live.txt" 2>"$WORK/live.err" || fail "tshark -r of the live capture: $(cat "$WORK/live.err")"
[ ! -s "$WORK/live.err" ] || fail "tshark -r of the live capture printed errors: $(cat "$WORK/live.err")"
live=$(sort -u "$WORK/live.txt")
assert_eq "echo requests in the live capture as tracer (tshark: $(cat "$WORK/live.out"))" \
  "$PINGS" "$(count_lines "$live")"

# --- purge: nothing of the package stays ---
in_root dpkg --purge pwrudump >"$WORK/purge.log" 2>&1 || fail "dpkg --purge failed: $(cat "$WORK/purge.log")"
left=$(find "$R/usr" "$R/etc" -name '*pwru*' 2>/dev/null)
[ -z "$left" ] || fail "left after purge: $left"
release=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/etc/os-release")
pass "installed in a clean $release root: tracer (group wireshark) lists pwru, decodes the sample, traced $events events and captured all $PINGS pings live with $CAPS; outsider has no pwru; purge leaves nothing"
