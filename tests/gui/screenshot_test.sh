#!/usr/bin/env bash
# Opens the sample capture in the real Wireshark (Qt) with the "pwru" profile and the build
# tree's plugin, on a virtual X server, saves a screenshot and checks that it shows the profile's
# colours: the drop row red, the reset yellow, the dropped journey pink, the free grey.
#
# usage: screenshot_test.sh BUILD_DIR OUT.png
#   Needs wireshark (wireshark-qt), Xvfb (xvfb), xdotool and ImageMagick's import and convert
#   (imagemagick). The screenshot in docs/images/ is made with OUT = docs/images/wireshark-pwru.png.
#
# As root Wireshark ignores WIRESHARK_PLUGIN_DIR and WIRESHARK_DATA_DIR, so it runs as
# nobody:nogroup from copies of the plugin, the profile and the capture (see tshark-plugin.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
[ $# -eq 2 ] || fail "usage: screenshot_test.sh BUILD_DIR OUT.png"
BUILD=$(cd "$1" && pwd) || fail "cannot open the build folder $1"
OUT=$2
require_cmd wireshark Xvfb xdotool import convert
[ "$(id -u)" -ne 0 ] || require_cmd setpriv

WORK=$(mktemp -d /tmp/pwru-gui.XXXXXX) || fail "cannot create a temporary folder"
XVFB_PID= WS_PID=
cleanup() {
  [ -n "$WS_PID" ] && kill "$WS_PID" 2>/dev/null && wait "$WS_PID" 2>/dev/null
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
chmod 0755 "$WORK"

# What Wireshark reads: the sample, the plugin, a data folder with the profile as installed.
"$BUILD/tests/dissector/pwru-mkcapture" "$WORK/sample.pcapng" sample ||
  fail "pwru-mkcapture failed (build the pwru-mkcapture target)"
cp -r "$BUILD/dissector/plugins" "$WORK/plugins" ||
  fail "cannot copy $BUILD/dissector/plugins (build the pwru target)"
global=$(tshark -G folders 2>/dev/null | sed -n 's/^Global configuration:[[:space:]]*//p')
[ -n "$global" ] || fail "tshark -G folders names no global configuration folder"
DESTDIR="$WORK/stage" cmake --install "$BUILD" --component profile >"$WORK/install.log" 2>&1 ||
  fail "cannot install the profile: $(cat "$WORK/install.log")"
mkdir -p "$WORK/share/profiles" "$WORK/home"
for f in "$global"/*; do
  [ "$(basename "$f")" = profiles ] || ln -s "$f" "$WORK/share/"
done
cp -r "$WORK/stage$global/profiles/pwru" "$WORK/share/profiles/"
chmod -R a+rX "$WORK"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$WORK/home"
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi

# A display of our own: the first free number from 90.
display=90
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do
  display=$((display + 1))
done
Xvfb ":$display" -screen 0 1920x1080x24 -ac -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
export DISPLAY=":$display"
# The socket appears before the server answers: wait for an answer.
for _ in $(seq 100); do
  xdotool getdisplaygeometry >/dev/null 2>&1 && break
  sleep 0.1
done
xdotool getdisplaygeometry >/dev/null 2>&1 || fail "Xvfb did not start: $(cat "$WORK/xvfb.log")"

# Frame 5 (the drop) selected; the window as large as the screen, the packet list as tall as
# the sample, no bytes pane: room for the drop's details.
"${as_user[@]}" env -u XDG_CONFIG_HOME HOME="$WORK/home" WIRESHARK_PLUGIN_DIR="$WORK/plugins" \
  WIRESHARK_DATA_DIR="$WORK/share" QT_QPA_PLATFORM=xcb \
  wireshark -C pwru -r "$WORK/sample.pcapng" -g 5 \
  -o gui.geometry_main_x:0 -o gui.geometry_main_y:0 \
  -o gui.geometry_main_width:1920 -o gui.geometry_main_height:1080 \
  -o gui.layout_content_3:NONE \
  >"$WORK/wireshark.log" 2>&1 &
WS_PID=$!

# Wait for the main window to show the file, then let it draw.
win=
for _ in $(seq 300); do
  win=$(xdotool search --onlyvisible --name 'sample.pcapng' 2>/dev/null | head -1)
  [ -n "$win" ] && break
  kill -0 "$WS_PID" 2>/dev/null || fail "wireshark exited: $(cat "$WORK/wireshark.log")"
  sleep 0.2
done
[ -n "$win" ] || fail "no Wireshark window showing sample.pcapng: $(cat "$WORK/wireshark.log")"
xdotool windowmove "$win" 0 0 windowsize "$win" 1920 1080
sleep 3
# In the details: open pwru (the third tree: Frame, EXPORTED_PDU, pwru; clicked where this
# layout puts it on Xvfb's 1920x1080 screen) and its journey (the last of its 27 items), and
# select the journey's last field (the 5th: frame 5 has no next event).
xdotool windowfocus --sync "$win" mousemove --window "$win" 80 619 click 1
sleep 0.5
xdotool mousemove 1900 1070
xdotool key --delay 30 Right $(printf 'Down %.0s' $(seq 27)) Right $(printf 'Down %.0s' $(seq 5))
sleep 2
mkdir -p "$(dirname "$OUT")"
import -window root "$OUT" || fail "cannot take the screenshot"

# The profile's row colours must be on screen (backgrounds from packaging/profiles/pwru).
colors=$(convert "$OUT" -format %c histogram:info:- | tr 'A-F' 'a-f')
for c in 'ff9e9e drop' 'fffc9c reset' 'ffdfdf dropped journey' 'dcdcdc free' \
         'd8e9ff transmit' 'dffada receive'; do
  grep -q "#${c%% *}" <<<"$colors" || fail "no ${c#* } colour #${c%% *} in $OUT"
done
pass "Wireshark with -C pwru shows the sample in the profile's colours: $OUT"
