# The drop scenario traced by user nobody with file capabilities instead of root, as the Debian
# package sets pwrudump up (docs/privileges.md), and what CAP_DAC_READ_SEARCH is for: without it
# pwrudump cannot read ftrace's available_filter_functions (tracefs is mode 0700) and takes every
# function in /proc/kallsyms. Sourced by /init, which provides report, send, uptime_s
# and wait_ready.
# From /scenario.env: PWRU_ARGS (--backend ...), PINGS, READY_TIMEOUT, PWRU_CAPS (the package's
# capabilities), PWRU_CAPS_NODAC (the same without cap_dac_read_search).
# Reports "PWRU-VM caps-<set> setcap=RC listed=N list_rc=RC ready=yes|no attach_rc=RC" for each
# set, with pwrudump's stderr of both runs as "list-<set>" and "attach-<set>", and how the two
# function lists differ; then runs the drop scenario with the full set, as nobody, for the host's
# usual checks.
# shellcheck shell=dash
SETPRIV=/usr/bin/setpriv SETCAP=/usr/sbin/setcap
echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin" >>/etc/passwd
echo "nogroup:x:65534:" >>/etc/group
report "tracefs mode=$(stat -c %a /sys/kernel/tracing) paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)"

# A copy per capability set (file capabilities belong to the file; tmpfs keeps the xattr), each
# with a script that runs it as nobody; setpriv execs, so a SIGINT to the script's PID reaches
# pwrudump.
for set in full nodac; do
  caps=$PWRU_CAPS
  [ "$set" = nodac ] && caps=$PWRU_CAPS_NODAC
  mkdir -p "/tmp/caps/$set"
  cp /usr/bin/pwrudump "/tmp/caps/$set/pwrudump"
  "$SETCAP" "$caps" "/tmp/caps/$set/pwrudump"
  setcap_rc=$?
  printf '#!/bb/sh\nexec %s --reuid=nobody --regid=nogroup --clear-groups %s "$@"\n' \
    "$SETPRIV" "/tmp/caps/$set/pwrudump" >"/tmp/caps/$set/run"
  chmod 755 "/tmp/caps/$set/run"
  eval "set -- $PWRU_ARGS"
  # What --list-funcs finds, then a trace that must get ready (or fail) without traffic.
  "/tmp/caps/$set/run" --list-funcs "$@" >"/tmp/funcs-$set" 2>"/tmp/list-$set"
  list_rc=$?
  rm -f /tmp/ready
  "/tmp/caps/$set/run" -w "/tmp/$set.pcapng" --ready-file /tmp/ready "$@" "host 192.0.2.1" \
    >/dev/null 2>"/tmp/attach-$set" &
  pid=$!
  wait_ready /tmp/ready "$pid" "$READY_TIMEOUT"
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
  attach_rc=$?
  report "caps-$set setcap=$setcap_rc listed=$(grep -c . "/tmp/funcs-$set") list_rc=$list_rc" \
    "ready=$([ -e /tmp/ready ] && echo yes || echo no) attach_rc=$attach_rc"
  send "list-$set" "/tmp/list-$set"
  send "attach-$set" "/tmp/attach-$set"
done
rm -f /tmp/ready  # the drop scenario waits for its own
# The functions only /proc/kallsyms offers (ftrace cannot attach to them), and any that only
# ftrace's list has (none: kallsyms holds every function).
grep -vxFf /tmp/funcs-full /tmp/funcs-nodac >/tmp/kallsyms-only
report "funcs kallsyms_only=$(grep -c . /tmp/kallsyms-only)" \
  "ftrace_only=$(grep -vxFf /tmp/funcs-nodac /tmp/funcs-full | grep -c .)"
send kallsyms-only /tmp/kallsyms-only

# The drop scenario with the package's set, as nobody.
PWRUDUMP=/tmp/caps/full/run
# shellcheck source=scenario-drop.sh
. /scenario/scenario-drop.sh
